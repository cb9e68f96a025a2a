/*
 * lsp_hover.c - hover.
 *
 * Hover explains what is under the cursor from what the server already
 * knows: a declaration of the file (from the model: an agent's model and
 * granted tools, a tool's description and input schema, a procedure's
 * schemas, a field's type and options; lsp_describe.c writes them), a DSL
 * global or builder (lsp_dsl.c), the key of a DSL table, a required module,
 * or a Gherkin step: the built-in step it matches with its pattern, the
 * custom Step it names, or "no step matches" with the nearest built-in step
 * (the same nearest step TAC703 names).
 */
#include <stdio.h>
#include <string.h>

#include "lsp_internal.h"

/* ---- hover
 * ---------------------------------------------------------------------------------------------- */

/* The Gherkin step at pos (from the model, mapped), or NULL. */
static const fe_step *step_at(lsp_doc *d, const lsp_analysis *a, size_t pos, uint32_t *s,
                              uint32_t *e)
{
    if (!a || !a->file) return NULL;
    for (const fe_spec *sp = a->file->specs; sp; sp = sp->next)
        for (const fe_scenario *sc = sp->scenarios; sc; sc = sc->next)
            for (const fe_step *st = sc->steps; st; st = st->next) {
                uint32_t ks = st->keyword_span.start_byte, ke = st->span.end_byte;
                if (!lsp_doc_map(d, &ks, &ke) || pos < ks || pos > ke) continue;
                *s = ks;
                *e = ke;
                return st;
            }
    return NULL;
}

static void step_md(lsp_server *s, const lsp_analysis *a, const fe_step *st, tx_buf *b)
{
    for (const fe_custom_step *cs = a->file->custom_steps; cs; cs = cs->next)
        if (strcmp(cs->text, st->text) == 0) {
            lsp_view v = lsp_analysis_view(s, a);
            tx_buf_printf(b,
                          "**custom step**, declared with Step(...) at line %u (matched exactly)\n",
                          lsp_line_of(&v, cs->span.start_byte) + 1);
            return;
        }
    ck_step_match_result m;
    size_t n;
    const ck_step_info *steps = ck_steps(&n);
    if (ck_step_match(s->ck, st->text, strlen(st->text), &m)) {
        const ck_step_info *info = &steps[m.index];
        tx_buf_printf(b, "**built-in step** `%s`\n\npattern: `%s`\n", info->template,
                      info->pattern);
        if (m.n_groups) tx_buf_puts(b, "\n");
        for (size_t i = 0; i < m.n_groups; i++)
            tx_buf_printf(b, "- %s = `%.*s`\n", m.groups[i].name, (int)m.groups[i].len,
                          st->text + m.groups[i].start);
        if (info->group == CK_STEP_MOCK) tx_buf_puts(b, "\n(a mock and dependency step)\n");
        return;
    }
    if (strchr(st->text, '<')) {
        tx_buf_puts(b, "**outline step**: matched once per Examples row, with the row's values\n");
        return;
    }
    const char *near = ck_step_nearest(s->ck, st->text);
    tx_buf_printf(b,
                  "**no step matches** this text (TAC703)\n\nthe nearest built-in step is `%s`; or "
                  "declare `Step(\"...\", function(ctx) ... end)`\n",
                  near ? near : "");
}

/* The dotted name at the cursor up to the segment the cursor is on:
 * hovering `approve` of Human.approve gives "Human.approve", `Human` gives "Human". */
static bool dotted_at(const lsp_doc *d, TSNode n, char *buf, size_t cap, TSNode *range)
{
    if (!lsp_node_is(n, "identifier")) return false;
    TSNode p = ts_node_parent(n);
    TSNode expr = n;
    if ((lsp_node_is(p, "dot_index_expression") || lsp_node_is(p, "method_index_expression")) &&
        !ts_node_eq(ts_node_child_by_field_name(p, "table", 5), n))
        expr = p; /* the cursor is on the field: the whole a.b */
    *range = n;
    return lsp_node_dotted(d, expr, buf, cap);
}

/* ---- hover without the navigation index ------------------------------------------------------ */

/* The model's declaration (agent, tool, procedure, model) named name[0..n). */
static bool model_symbol(const fe_file *f, const char *name, size_t n, lsp_symbol *y)
{
    memset(y, 0, sizeof *y);
    y->owner = y->fields_of = -1;
#define SAME(x) (strlen(x) == n && memcmp((x), name, n) == 0)
    for (const fe_agent *a = f->agents; a; a = a->next)
        if (SAME(a->name)) return y->kind = LSP_SYM_AGENT, y->name = a->name, y->decl = a, true;
    for (const fe_tool *t = f->tools; t; t = t->next)
        if (SAME(t->name))
            return y->kind = t->kind == FE_TOOL_TOOLSET  ? LSP_SYM_TOOLSET
                             : t->kind == FE_TOOL_STDLIB ? LSP_SYM_STDLIB_TOOL
                                                         : LSP_SYM_TOOL,
                   y->name = t->name, y->decl = t, true;
    for (const fe_procedure *p = f->procedures; p; p = p->next)
        if (p->named && SAME(p->name))
            return y->kind = LSP_SYM_PROCEDURE, y->name = p->name, y->decl = p, true;
    for (const fe_model *m = f->models; m; m = m->next)
        if (SAME(m->name)) return y->kind = LSP_SYM_MODEL, y->name = m->name, y->decl = m, true;
#undef SAME
    return false;
}

/* The procedure or tool whose function is the function_definition fn. */
static bool owner_of_function(lsp_doc *d, const fe_file *f, TSNode fn, lsp_symbol *owner)
{
    uint32_t s = ts_node_start_byte(fn), e = ts_node_end_byte(fn);
    memset(owner, 0, sizeof *owner);
    owner->owner = owner->fields_of = -1;
    for (const fe_procedure *p = f->procedures; p; p = p->next) {
        if (!p->function) continue;
        uint32_t a = p->function->span.start_byte, b = p->function->span.end_byte;
        if (lsp_doc_map(d, &a, &b) && a == s && b == e)
            return owner->kind = LSP_SYM_PROCEDURE, owner->name = p->name, owner->decl = p, true;
    }
    for (const fe_tool *t = f->tools; t; t = t->next) {
        const fe_value *cfg = t->config;
        for (const fe_entry *en = cfg && cfg->kind == FE_TABLE ? cfg->entries : NULL; en;
             en = en->next) {
            if (en->key || en->value->kind != FE_FUNCTION) continue;
            uint32_t a = en->value->span.start_byte, b = en->value->span.end_byte;
            if (lsp_doc_map(d, &a, &b) && a == s && b == e)
                return owner->kind = LSP_SYM_TOOL, owner->name = t->name, owner->decl = t, true;
        }
    }
    return false;
}

typedef struct {
    const lsp_doc *d;
    const char *name;
    size_t len;
    uint32_t at;
    bool found;
    TSNode decl;
    uint32_t index;
} local_search;

static bool same_name(local_search *q, TSNode id)
{
    size_t l;
    const char *t = lsp_node_text(q->d, id, &l);
    return l == q->len && !memcmp(t, q->name, l);
}

static void match_param(void *ud, TSNode id, uint32_t index)
{
    local_search *q = ud;
    if (!q->found && same_name(q, id)) q->decl = id, q->index = index, q->found = true;
}

static void match_local(void *ud, TSNode id, TSNode stmt)
{
    local_search *q = ud;
    /* `local x = x`: the right side sees the outer x */
    if (q->at < ts_node_end_byte(stmt) && q->at >= ts_node_end_byte(id)) return;
    if (same_name(q, id)) q->decl = id, q->found = true; /* the last before the use wins */
}

/* The declaration of the local an identifier use names: the innermost
 * visible one (parameters, for variables, locals of enclosing blocks
 * declared before it). *fn gets the function when it is a parameter. */
static bool local_decl(lsp_doc *d, TSNode use, TSNode *decl, TSNode *fn, bool *first_param)
{
    local_search q = {.d = d, .at = ts_node_start_byte(use)};
    q.name = lsp_node_text(d, use, &q.len);
    *first_param = false;
    TSNode child = use;
    for (TSNode n = ts_node_parent(use); !ts_node_is_null(n); child = n, n = ts_node_parent(n)) {
        const char *type = ts_node_type(n);
        if (!strcmp(type, "function_definition") || !strcmp(type, "function_declaration")) {
            lsp_function_params(n, match_param, &q);
            if (q.found) *fn = n, *first_param = q.index == 0;
        } else if (!strcmp(type, "for_statement")) {
            TSNode clause = ts_node_child_by_field_name(n, "clause", 6);
            TSNode body = ts_node_child_by_field_name(n, "body", 4);
            if (!ts_node_is_null(body) && ts_node_eq(child, body) && !ts_node_is_null(clause)) {
                TSNode nm = ts_node_child_by_field_name(clause, "name", 4);
                TSNode list = ts_node_named_child(clause, 0);
                if (!ts_node_is_null(nm) && same_name(&q, nm)) q.decl = nm, q.found = true;
                uint32_t nl =
                    lsp_node_is(list, "variable_list") ? ts_node_named_child_count(list) : 0;
                for (uint32_t i = 0; i < nl && !q.found; i++)
                    if (same_name(&q, ts_node_named_child(list, i)))
                        q.decl = ts_node_named_child(list, i), q.found = true;
            }
        } else if (!strcmp(type, "block") || !strcmp(type, "chunk")) {
            lsp_block_locals(d, n, q.at, match_local, &q);
        }
        if (q.found) {
            *decl = q.decl;
            return true;
        }
    }
    return false;
}

/* Hover on an identifier from the tree and the model alone: what the
 * navigation index would say, without rebuilding it after a keystroke. */
static bool hover_identifier(lsp_server *s, lsp_doc *d, const lsp_analysis *good, TSNode node,
                             tx_buf *b)
{
    if (!good || !good->file || !lsp_node_is(node, "identifier")) return false;
    const fe_file *f = good->file;
    lsp_symbol syms[2];
    lsp_nav tmp = {.syms = syms, .n_syms = 1};
    TSNode parent = ts_node_parent(node);
    size_t nl;
    const char *name = lsp_node_text(d, node, &nl);
    /* x.field where x holds a procedure's input or is state/input */
    if (lsp_node_is(parent, "dot_index_expression") &&
        ts_node_eq(ts_node_child_by_field_name(parent, "field", 5), node)) {
        TSNode base = ts_node_child_by_field_name(parent, "table", 5);
        if (!lsp_node_is(base, "identifier")) return false;
        size_t bl;
        const char *bt = lsp_node_text(d, base, &bl);
        TSNode decl, fn;
        bool first = false;
        lsp_symbol owner;
        const char *schema = NULL;
        if (local_decl(d, base, &decl, &fn, &first)) {
            if (!first || !owner_of_function(d, f, fn, &owner)) return false;
            schema = "input";
        } else if ((bl == 5 && !memcmp(bt, "input", 5)) || (bl == 5 && !memcmp(bt, "state", 5))) {
            const fe_procedure *best = NULL;
            for (const fe_procedure *p = f->procedures; p; p = p->next) {
                uint32_t a = p->span.start_byte, e = p->span.end_byte;
                if (lsp_doc_map(d, &a, &e) && ts_node_start_byte(base) >= a &&
                    ts_node_start_byte(base) <= e)
                    best = p;
            }
            if (!best) return false;
            memset(&owner, 0, sizeof owner);
            owner.kind = LSP_SYM_PROCEDURE, owner.name = best->name, owner.decl = best;
            schema = bt[0] == 's' ? "state" : "input";
        } else {
            return false;
        }
        const fe_schema *sc = owner.kind == LSP_SYM_TOOL ? &((const fe_tool *)owner.decl)->input
                              : !strcmp(schema, "state")
                                  ? &((const fe_procedure *)owner.decl)->state
                                  : &((const fe_procedure *)owner.decl)->input;
        for (const fe_field *fd = sc->fields; fd; fd = fd->next)
            if (strlen(fd->name) == nl && !memcmp(fd->name, name, nl)) {
                memset(&syms[0], 0, sizeof syms[0]);
                syms[0].kind = LSP_SYM_FIELD, syms[0].name = fd->name, syms[0].decl = fd;
                syms[0].owner = 1, syms[0].schema = schema, syms[0].fields_of = -1;
                syms[1] = owner;
                tmp.n_syms = 2;
                lsp_describe_symbol(s, d, &tmp, 0, b);
                return true;
            }
        return false;
    }
    if (lsp_node_is(parent, "field") &&
        ts_node_eq(ts_node_child_by_field_name(parent, "name", 4), node)) {
        /* a table key: only Mocks keys name declarations */
        lsp_table_ctx ctx;
        if (!lsp_table_context(s, d, ts_node_start_byte(node) + 1, &ctx) ||
            strcmp(ctx.callee, "Mocks") != 0)
            return false;
    } else if (lsp_node_is(parent, "dot_index_expression") ||
               lsp_node_is(parent, "method_index_expression")) {
        if (!ts_node_eq(ts_node_child_by_field_name(parent, "table", 5), node)) return false;
    }
    TSNode decl, fn;
    bool first = false;
    if (local_decl(d, node, &decl, &fn, &first)) {
        /* a local the model declares (local done = require(...)) */
        for (const fe_tool *t = f->tools; t; t = t->next) {
            uint32_t a = t->name_span.start_byte, e = t->name_span.end_byte;
            if (lsp_doc_map(d, &a, &e) && a == ts_node_start_byte(decl) &&
                model_symbol(f, name, nl, &syms[0])) {
                lsp_describe_symbol(s, d, &tmp, 0, b);
                return true;
            }
        }
        memset(&syms[0], 0, sizeof syms[0]);
        char *nm = tx_strndup(name, nl);
        if (!nm) return false;
        syms[0].kind = LSP_SYM_LOCAL, syms[0].name = nm, syms[0].owner = -1, syms[0].fields_of = -1;
        syms[0].name_start = ts_node_start_byte(decl);
        if (first && owner_of_function(d, f, fn, &syms[1])) {
            syms[0].fields_of = 1, syms[0].fields_schema = "input";
            tmp.n_syms = 2;
        }
        lsp_describe_symbol(s, d, &tmp, 0, b);
        tx_free(nm);
        return true;
    }
    if (!model_symbol(f, name, nl, &syms[0])) return false;
    lsp_describe_symbol(s, d, &tmp, 0, b);
    return true;
}

cJSON *lsp_on_hover(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_param_doc(s, params, err);
    size_t pos;
    if (!d || !lsp_param_offset(s, d, params, &pos, err)) return NULL;
    lsp_view v = lsp_doc_view(s, d);
    tx_buf b;
    tx_buf_init(&b, 1 << 16);
    uint32_t rs = 0, re = 0;
    lsp_analysis *good = lsp_doc_good(s, d);
    /* After a keystroke the navigation index is stale and rebuilding it
     * walks the whole tree: an identifier is answered from its scope and
     * the model instead (the same text either way). */
    TSTree *tree0 = d->nav && d->nav_generation == d->generation ? NULL : lsp_doc_tree(s, d);
    if (tree0) {
        TSNode id = lsp_node_at(tree0, (uint32_t)pos, (uint32_t)pos);
        if (!lsp_node_is(id, "identifier") && pos > 0)
            id = lsp_node_at(tree0, (uint32_t)pos - 1, (uint32_t)pos - 1);
        if (lsp_node_is(id, "identifier") && hover_identifier(s, d, good, id, &b)) {
            cJSON *h = cJSON_CreateObject();
            lsp_add(h, "contents", lsp_markup(s, b.data ? b.data : ""));
            lsp_add(h, "range", lsp_json_range(&v, ts_node_start_byte(id), ts_node_end_byte(id)));
            tx_buf_free(&b);
            return h;
        }
    }
    lsp_nav *n = lsp_nav_get(s, d);
    const lsp_occurrence *o = n ? lsp_nav_at(n, (uint32_t)pos) : NULL;
    const fe_step *st = NULL;
    if (o && n->syms[o->sym].kind != LSP_SYM_STEP) {
        lsp_describe_symbol(s, d, n, o->sym, &b);
        rs = o->start;
        re = o->end;
    } else if ((st = step_at(d, good, pos, &rs, &re))) {
        step_md(s, good, st, &b);
    } else {
        TSTree *tree = lsp_doc_tree(s, d);
        TSNode node = tree ? lsp_node_at(tree, (uint32_t)pos, (uint32_t)pos) : (TSNode){0};
        if (tree && !lsp_node_is(node, "identifier") && pos > 0) {
            TSNode before = lsp_node_at(tree, (uint32_t)pos - 1, (uint32_t)pos - 1);
            if (lsp_node_is(before, "identifier")) node = before;
        }
        char name[160];
        TSNode r;
        TSNode f = tree ? ts_node_parent(node) : node;
        lsp_table_ctx ctx;
        if (tree && lsp_node_is(node, "identifier") && lsp_node_is(f, "field") &&
            ts_node_eq(ts_node_child_by_field_name(f, "name", 4), node)) {
            /* a key of a DSL table: Agent { model = ... } */
            size_t kl;
            const char *kt = lsp_node_text(d, node, &kl);
            if (lsp_table_context(s, d, ts_node_start_byte(node) + 1, &ctx) && ctx.callee[0]) {
                const lsp_dsl_entry *owner = lsp_dsl_find(ctx.callee, strlen(ctx.callee));
                const char *doc = lsp_dsl_key_doc(owner, kt, kl);
                if (doc) {
                    tx_buf_printf(&b, "`%.*s` of `%s`: %s\n", (int)kl, kt, owner->name, doc);
                    rs = ts_node_start_byte(node);
                    re = ts_node_end_byte(node);
                }
            }
        } else if (tree && dotted_at(d, node, name, sizeof name, &r)) {
            const lsp_dsl_entry *e = lsp_dsl_find(name, strlen(name));
            if (e) {
                lsp_describe_dsl(e, &b);
                rs = ts_node_start_byte(r);
                re = ts_node_end_byte(r);
            }
        }
        if (!b.len && tree) {
            /* require("module") */
            TSNode str = node;
            while (!ts_node_is_null(str) && !lsp_node_is(str, "string"))
                str = ts_node_parent(str);
            TSNode call = ts_node_is_null(str) ? str : ts_node_parent(ts_node_parent(str));
            char callee[32];
            if (!ts_node_is_null(str) && lsp_node_is(call, "function_call") &&
                lsp_call_name(d, call, callee, sizeof callee) && !strcmp(callee, "require")) {
                TSNode content = ts_node_child_by_field_name(str, "content", 7);
                size_t len = 0;
                const char *m = ts_node_is_null(content) ? "" : lsp_node_text(d, content, &len);
                char mod[256];
                snprintf(mod, sizeof mod, "%.*s", (int)(len < 255 ? len : 255), m);
                const char *doc = lsp_dsl_module_doc(mod);
                char *path = doc ? NULL : lsp_ws_module_path(d->path, m, len);
                if (doc)
                    tx_buf_printf(&b, "**stdlib module** `%s`\n\n%s\n", mod, doc);
                else if (path)
                    tx_buf_printf(&b, "**module** `%s`\n\n%s\n", mod, path);
                else
                    tx_buf_printf(&b,
                                  "**module** `%s`: no stdlib module and no %s.tac beside this "
                                  "file (TAC402)\n",
                                  mod, mod);
                tx_free(path);
                rs = ts_node_start_byte(str);
                re = ts_node_end_byte(str);
            }
        }
    }
    if (!b.len) {
        tx_buf_free(&b);
        return cJSON_CreateNull();
    }
    cJSON *h = cJSON_CreateObject();
    lsp_add(h, "contents", lsp_markup(s, b.data));
    if (re >= rs && re > 0) lsp_add(h, "range", lsp_json_range(&v, rs, re));
    tx_buf_free(&b);
    return h;
}
