/*
 * ck_names.c - every name the file gives an agent, tool, toolset, model or
 * classifier, wherever it is written: the top-level declarations of the
 * model, declarations inside functions (a Classify { name = "triage" } built
 * when the procedure runs), v0.10's lowercase forms, and the tools of
 * toolsets and agents' inline_tools, by their full name (orders_lookup, as
 * the runtime names them) and their short one (lookup). Mocks, grants and
 * mock steps may name any of them (issue #18: no false positives on files
 * the original runs).
 */
#include <string.h>

#include "ck_internal.h"

static void add(ck_names *n, const char *name, size_t len, ck_name_kind kind, tx_span span)
{
    if (!name || !len || tx_map_get(&n->map, name, len)) return;
    ck_name *e = tx_arena_alloc(&n->arena, sizeof *e);
    char *key = e ? tx_arena_strndup(&n->arena, name, len) : NULL;
    if (!key) {
        n->oom = true;
        return;
    }
    e->kind = kind;
    e->span = span;
    e->name = key;
    if (tx_map_put(&n->map, key, len, e) != TX_OK) n->oom = true;
}

static void add_str(ck_names *n, const char *name, ck_name_kind kind, tx_span span)
{
    if (name) add(n, name, strlen(name), kind, span);
}

/* The tools of a toolset's (or an agent's inline_tools') list of tables
 * {name = "x", ...}: owner_x and x. */
static void add_inline(ck_names *n, const char *owner, const fe_value *list)
{
    if (!list || list->kind != FE_TABLE) return;
    tx_buf b;
    tx_buf_init(&b, 1024);
    for (const fe_entry *e = list->entries; e; e = e->next) {
        if (e->key || !e->value || e->value->kind != FE_TABLE) continue;
        const fe_value *nm = fe_value_get(e->value, "name");
        if (!nm || nm->kind != FE_STRING) continue;
        add_str(n, nm->str, CK_NAME_TOOL, nm->span);
        if (!owner || !owner[0]) continue;
        tx_buf_clear(&b);
        tx_buf_printf(&b, "%s_%s", owner, nm->str);
        if (b.data) add(n, b.data, b.len, CK_NAME_TOOL, nm->span);
    }
    tx_buf_free(&b);
}

/* The kind a declaring call gives, or -1 when `callee` declares nothing named. */
static int kind_of(const char *callee)
{
    static const struct {
        const char *name;
        ck_name_kind kind;
    } calls[] = {
        {"Agent", CK_NAME_AGENT},     {"agent", CK_NAME_AGENT},     {"Tool", CK_NAME_TOOL},
        {"tool", CK_NAME_TOOL},       {"Toolset", CK_NAME_TOOLSET}, {"toolset", CK_NAME_TOOLSET},
        {"Model", CK_NAME_MODEL},     {"model", CK_NAME_MODEL},     {"Classify", CK_NAME_MODEL},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (strcmp(callee, calls[i].name) == 0) return (int)calls[i].kind;
    return -1;
}

/* A declaring call anywhere: Kind "name" (the inner call), kind("name", ...)
 * or Kind { name = "name", ... }. */
static void add_call(ck_names *n, const fe_ref *ref)
{
    int kind = kind_of(ref->name);
    if (kind < 0 || !ref->call) return;
    const fe_value *a0 = fe_value_at(ref->call, 0), *cfg = NULL;
    const char *name = NULL;
    tx_span span = ref->span;
    if (a0 && a0->kind == FE_STRING) {
        name = a0->str, span = a0->span;
        cfg = fe_value_at(ref->call, 1);
    } else if (a0 && a0->kind == FE_TABLE) {
        cfg = a0;
        const fe_value *nm = fe_value_get(a0, "name");
        if (nm && nm->kind == FE_STRING) name = nm->str, span = nm->span;
    }
    add_str(n, name, (ck_name_kind)kind, span);
    if (kind == CK_NAME_TOOLSET) add_inline(n, name, fe_value_get(cfg, "tools"));
    if (kind == CK_NAME_AGENT) add_inline(n, name, fe_value_get(cfg, "inline_tools"));
}

void ck_names_collect(const fe_file *f, ck_names *n)
{
    memset(n, 0, sizeof *n);
    tx_map_init(&n->map);
    tx_arena_init(&n->arena);
    for (const fe_agent *a = f->agents; a; a = a->next) {
        add_str(n, a->name, CK_NAME_AGENT, a->name_span);
        add_inline(n, a->name, fe_value_get(a->config, "inline_tools"));
    }
    for (const fe_tool *t = f->tools; t; t = t->next) {
        add_str(n, t->name, t->kind == FE_TOOL_TOOLSET ? CK_NAME_TOOLSET : CK_NAME_TOOL,
                t->name_span);
        if (t->kind == FE_TOOL_TOOLSET) add_inline(n, t->name, fe_value_get(t->config, "tools"));
    }
    for (const fe_model *m = f->models; m; m = m->next)
        add_str(n, m->name, CK_NAME_MODEL, m->name_span);
    for (const fe_ref *r = f->refs; r; r = r->next)
        if (r->is_call) add_call(n, r);
}

const ck_name *ck_names_get(const ck_names *n, const char *name)
{
    return tx_map_get(&n->map, name, strlen(name));
}

void ck_names_free(ck_names *n)
{
    tx_map_free(&n->map);
    tx_arena_free(&n->arena);
}

bool ck_capitalized_as(const char *name, const char *written, size_t len)
{
    tx_buf b;
    tx_buf_init(&b, 4096);
    fe_capitalize(name, &b);
    bool same = b.data && b.len == len && memcmp(b.data, written, len) == 0 &&
                (strlen(name) != len || memcmp(name, written, len) != 0);
    tx_buf_free(&b);
    return same;
}

/* map[capitalize(name)] = value, unless that is the name itself. */
static void put_capital(ck_capitals *c, tx_map *map, const char *name, const void *value, tx_buf *b)
{
    tx_buf_clear(b);
    fe_capitalize(name, b);
    char *k =
        b->data && strcmp(b->data, name) ? tx_arena_strndup(&c->arena, b->data, b->len) : NULL;
    if (b->data && !k && strcmp(b->data, name)) c->oom = true;
    if (k && tx_map_put(map, k, b->len, (void *)value) != TX_OK) c->oom = true;
}

void ck_capitals_index(const fe_file *f, ck_capitals *c)
{
    memset(c, 0, sizeof *c);
    tx_map_init(&c->agents);
    tx_map_init(&c->models);
    tx_arena_init(&c->arena);
    tx_buf b;
    tx_buf_init(&b, 4096);
    for (const fe_agent *a = f->agents; a; a = a->next)
        put_capital(c, &c->agents, a->name, a, &b);
    for (const fe_model *m = f->models; m; m = m->next)
        if (m->kind == FE_MODEL_MODEL && m->name[0]) put_capital(c, &c->models, m->name, m, &b);
    tx_buf_free(&b);
}

void ck_capitals_free(ck_capitals *c)
{
    tx_map_free(&c->agents);
    tx_map_free(&c->models);
    tx_arena_free(&c->arena);
}
