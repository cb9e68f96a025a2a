/*
 * lsp_hover.c - hover and signature help, and the cursor's table context
 * that completion shares.
 *
 * Hover explains what is under the cursor from what the server already
 * knows: a declaration of the file (from the model: an agent's model and
 * granted tools, a tool's description and input schema, a procedure's
 * schemas, a field's type and options), a DSL global or builder (lsp_dsl.c),
 * the key of a DSL table, a required module, or a Gherkin step: the
 * built-in step it matches with its pattern, the custom Step it names, or
 * "no step matches" with the nearest built-in step (the same nearest step
 * TAC703 names).
 */
#include <stdio.h>
#include <string.h>

#include "lsp_internal.h"

/* ---- rendering values
 * ----------------------------------------------------------------------------- */

static void value_md(tx_buf *b, const fe_value *v, int depth)
{
    if (!v) {
        tx_buf_puts(b, "nil");
        return;
    }
    switch (v->kind) {
    case FE_STRING:
        tx_buf_printf(b, "\"%.*s%s\"", v->str_len > 80 ? 80 : (int)v->str_len, v->str,
                      v->str_len > 80 ? "..." : "");
        break;
    case FE_NUMBER:
        if (v->is_integer)
            tx_buf_printf(b, "%.0f", v->number);
        else
            tx_buf_printf(b, "%g", v->number);
        break;
    case FE_BOOL:
        tx_buf_puts(b, v->boolean ? "true" : "false");
        break;
    case FE_NIL:
        tx_buf_puts(b, "nil");
        break;
    case FE_NAME:
        tx_buf_puts(b, v->str ? v->str : "?");
        break;
    case FE_CALL:
        tx_buf_printf(b, "%s(...)", v->str ? v->str : "?");
        break;
    case FE_FUNCTION:
        tx_buf_puts(b, "function");
        break;
    case FE_TABLE:
        if (depth > 1) {
            tx_buf_puts(b, "{...}");
            break;
        }
        tx_buf_puts(b, "{");
        size_t i = 0;
        for (const fe_entry *e = v->entries; e; e = e->next, i++) {
            if (i == 6) {
                tx_buf_puts(b, ", ...");
                break;
            }
            if (i) tx_buf_puts(b, ", ");
            if (e->key) tx_buf_printf(b, "%s = ", e->key);
            value_md(b, e->value, depth + 1);
        }
        tx_buf_puts(b, "}");
        break;
    case FE_OTHER:
        tx_buf_puts(b, "(computed)");
        break;
    }
}

static void field_line(tx_buf *b, const fe_field *f)
{
    tx_buf_printf(b, "- `%s`: %s", f->name, f->builder ? f->builder : fe_type_name(f->type));
    if (f->required) tx_buf_puts(b, ", required");
    if (f->default_value) {
        tx_buf_puts(b, ", default `");
        value_md(b, f->default_value, 0);
        tx_buf_puts(b, "`");
    }
    if (f->enum_values) {
        tx_buf_puts(b, ", one of `");
        value_md(b, f->enum_values, 0);
        tx_buf_puts(b, "`");
    }
    const fe_value *desc = f->options ? fe_value_get(f->options, "description") : NULL;
    if (desc && desc->kind == FE_STRING) tx_buf_printf(b, " — %s", desc->str);
    tx_buf_puts(b, "\n");
}

static void schema_md(tx_buf *b, const char *title, const fe_schema *sc)
{
    if (!sc->present) return;
    tx_buf_printf(b, "\n%s:\n", title);
    if (!sc->fields) tx_buf_puts(b, "- (none)\n");
    for (const fe_field *f = sc->fields; f; f = f->next)
        field_line(b, f);
}

static void description_md(tx_buf *b, const fe_value *cfg)
{
    const fe_value *desc = cfg ? fe_value_get(cfg, "description") : NULL;
    if (desc && desc->kind == FE_STRING) tx_buf_printf(b, "\n%s\n", desc->str);
}

static uint32_t line_of(const lsp_server *s, const lsp_doc *d, uint32_t byte)
{
    lsp_view v = lsp_doc_view(s, d);
    return lsp_line_of(&v, byte) + 1;
}

static void symbol_md(lsp_server *s, lsp_doc *d, const lsp_nav *n, int k, tx_buf *b)
{
    const lsp_symbol *y = &n->syms[k];
    switch (y->kind) {
    case LSP_SYM_AGENT: {
        const fe_agent *a = y->decl;
        tx_buf_printf(b, "**agent** `%s`\n", y->name);
        if (a->model) tx_buf_printf(b, "\nmodel: `%s`\n", a->model);
        if (a->tools && a->tools->kind == FE_TABLE) {
            tx_buf_puts(b, "\ngranted tools: ");
            size_t i = 0;
            for (const fe_entry *e = a->tools->entries; e; e = e->next, i++) {
                tx_buf_puts(b, i ? ", `" : "`");
                value_md(b, e->value, 1);
                tx_buf_puts(b, "`");
            }
            if (!i) tx_buf_puts(b, "none");
            tx_buf_puts(b, "\n");
        } else {
            tx_buf_puts(b, "\ngranted tools: none (tools are denied unless granted)\n");
        }
        const fe_value *sp = fe_value_get(a->config, "system_prompt");
        if (sp && sp->kind == FE_STRING) {
            size_t n1 = strcspn(sp->str, "\n");
            tx_buf_printf(b, "\nsystem prompt: %.*s%s\n", n1 > 200 ? 200 : (int)n1, sp->str,
                          n1 < sp->str_len ? " ..." : "");
        }
        description_md(b, a->config);
        break;
    }
    case LSP_SYM_TOOL:
    case LSP_SYM_TOOLSET:
    case LSP_SYM_STDLIB_TOOL: {
        const fe_tool *t = y->decl;
        const char *what = t->kind == FE_TOOL_TOOLSET  ? "toolset"
                           : t->kind == FE_TOOL_BROKER ? "brokered host tool"
                           : t->kind == FE_TOOL_STDLIB ? "stdlib tool"
                                                       : "tool";
        tx_buf_printf(b, "**%s** `%s`\n", what, y->name);
        if (t->use)
            tx_buf_printf(b, "\nuse: `%s` (runs on the host, through the broker)\n", t->use);
        if (t->kind == FE_TOOL_STDLIB)
            tx_buf_puts(b, "\nfrom `require(\"tactus.tools.done\")`-style stdlib binding\n");
        description_md(b, t->config);
        schema_md(b, "input", &t->input);
        break;
    }
    case LSP_SYM_PROCEDURE: {
        const fe_procedure *p = y->decl;
        if (p->named)
            tx_buf_printf(b, "**procedure** `%s` (a sub-procedure: call it as `%s({...})`)\n",
                          y->name, y->name);
        else
            tx_buf_printf(b, "**procedure** `%s` (the main procedure)\n", y->name);
        description_md(b, p->config);
        schema_md(b, "input", &p->input);
        schema_md(b, "output", &p->output);
        schema_md(b, "state", &p->state);
        break;
    }
    case LSP_SYM_MODEL: {
        const fe_model *m = y->decl;
        tx_buf_printf(b, "**%s** `%s`\n", m->kind == FE_MODEL_CLASSIFY ? "classifier" : "model",
                      y->name);
        const fe_value *type =
            fe_value_get(m->config, m->kind == FE_MODEL_CLASSIFY ? "method" : "type");
        if (type && type->kind == FE_STRING)
            tx_buf_printf(b, "\n%s: `%s`\n", m->kind == FE_MODEL_CLASSIFY ? "method" : "type",
                          type->str);
        const fe_value *classes = fe_value_get(m->config, "classes");
        if (classes) {
            tx_buf_puts(b, "\nclasses: `");
            value_md(b, classes, 0);
            tx_buf_puts(b, "`\n");
        }
        break;
    }
    case LSP_SYM_FIELD: {
        const fe_field *f = y->decl;
        const char *owner = y->owner >= 0 ? n->syms[y->owner].name : "?";
        bool tool = y->owner >= 0 && n->syms[y->owner].kind != LSP_SYM_PROCEDURE;
        tx_buf_printf(b, "**%s field** `%s` of %s `%s`\n\n", y->schema, y->name,
                      tool ? "tool" : "procedure", owner);
        field_line(b, f);
        break;
    }
    case LSP_SYM_STEP:
        tx_buf_printf(
            b, "**custom step** `%s`\n\ndeclared with Step(...) at line %u; matched exactly\n",
            y->name, line_of(s, d, y->name_start));
        break;
    case LSP_SYM_LOCAL:
        tx_buf_printf(b, "**local** `%s`, declared at line %u\n", y->name,
                      line_of(s, d, y->name_start));
        if (y->fields_of >= 0)
            tx_buf_printf(b, "\nthe %s of %s `%s`: `%s.x` are its fields\n", y->fields_schema,
                          n->syms[y->fields_of].kind == LSP_SYM_PROCEDURE ? "procedure" : "tool",
                          n->syms[y->fields_of].name, y->name);
        break;
    case LSP_SYM_GLOBAL:
        tx_buf_printf(b, "**global** `%s`, assigned at line %u\n", y->name,
                      line_of(s, d, y->name_start));
        break;
    case LSP_SYM_SCENARIO:
        tx_buf_printf(b, "**scenario** `%s`\n", y->name);
        break;
    }
}

static void dsl_md(const lsp_dsl_entry *e, tx_buf *b)
{
    tx_buf_printf(b, "```lua\n%s\n```\n%s\n", e->signature, e->doc);
    if (e->keys) {
        tx_buf_puts(b, "\n");
        for (const lsp_dsl_key *k = e->keys; k->key; k++)
            tx_buf_printf(b, "- `%s`: %s\n", k->key, k->doc);
    }
}

/* ---- the cursor's table
 * ------------------------------------------------------------------------------ */

bool lsp_call_name(const lsp_doc *d, TSNode call, char *buf, size_t cap)
{
    TSNode callee = ts_node_child_by_field_name(call, "name", 4);
    if (ts_node_is_null(callee)) return false;
    /* Kind "name" {...}: the callee is itself a call. */
    if (lsp_node_is(callee, "function_call")) return lsp_call_name(d, callee, buf, cap);
    return lsp_node_dotted(d, callee, buf, cap);
}

/* The call a table is passed to: X{...}, X({...}), X "n" {...}. */
static bool table_call(const lsp_doc *d, TSNode table, char *buf, size_t cap, int *arg)
{
    TSNode p = ts_node_parent(table);
    *arg = 0;
    if (!lsp_node_is(p, "arguments")) return false;
    TSNode call = ts_node_parent(p);
    if (!lsp_node_is(call, "function_call")) return false;
    uint32_t n = ts_node_named_child_count(p);
    for (uint32_t i = 0; i < n; i++)
        if (ts_node_eq(ts_node_named_child(p, i), table)) *arg = (int)i;
    return lsp_call_name(d, call, buf, cap);
}

bool lsp_table_context(lsp_server *s, lsp_doc *d, size_t pos, lsp_table_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    TSTree *tree = lsp_doc_tree(s, d);
    if (!tree) return false;
    /* Look just before the cursor: at the end of a word being typed the
     * word is the node, not what follows it. */
    uint32_t at = pos > 0 ? (uint32_t)pos - 1 : 0;
    TSNode n = lsp_node_at(tree, at, at);
    TSNode table = n;
    while (!ts_node_is_null(table) && !lsp_node_is(table, "table_constructor"))
        table = ts_node_parent(table);
    if (ts_node_is_null(table)) return false;
    if (pos <= ts_node_start_byte(table) || pos >= ts_node_end_byte(table)) {
        /* on the braces themselves: not inside */
        if (pos != ts_node_end_byte(table) || d->text[pos - 1] == '}') return false;
    }
    ctx->in_table = true;
    ctx->table_start = ts_node_start_byte(table);
    table_call(d, table, ctx->callee, sizeof ctx->callee, &ctx->arg_index);
    /* key = {...} inside an outer table */
    TSNode f = ts_node_parent(table);
    if (lsp_node_is(f, "field")) {
        TSNode key = ts_node_child_by_field_name(f, "name", 4);
        size_t kl;
        const char *kt = ts_node_is_null(key) ? NULL : lsp_node_text(d, key, &kl);
        if (kt && kl < sizeof ctx->key) {
            memcpy(ctx->key, kt, kl);
            ctx->key[kl] = '\0';
        }
        TSNode outer = ts_node_parent(f);
        int arg;
        if (lsp_node_is(outer, "table_constructor"))
            table_call(d, outer, ctx->outer_callee, sizeof ctx->outer_callee, &arg);
    }
    /* At a key: between fields, or on a bare word that is a positional
     * value or a field's name. */
    if (ts_node_eq(n, table)) {
        ctx->at_key = true;
    } else {
        TSNode w = n;
        if (lsp_node_is(w, "identifier")) {
            TSNode p = ts_node_parent(w);
            if (lsp_node_is(p, "field") && ts_node_eq(ts_node_parent(p), table)) {
                TSNode name = ts_node_child_by_field_name(p, "name", 4);
                TSNode value = ts_node_child_by_field_name(p, "value", 5);
                ctx->at_key = (!ts_node_is_null(name) && ts_node_eq(name, w)) ||
                              (ts_node_is_null(name) && ts_node_eq(value, w));
            }
        } else if (lsp_node_is(w, "field") && ts_node_eq(ts_node_parent(w), table)) {
            ctx->at_key = pos <= ts_node_start_byte(w);
        }
    }
    return true;
}

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
                symbol_md(s, d, &tmp, 0, b);
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
                symbol_md(s, d, &tmp, 0, b);
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
        symbol_md(s, d, &tmp, 0, b);
        tx_free(nm);
        return true;
    }
    if (!model_symbol(f, name, nl, &syms[0])) return false;
    symbol_md(s, d, &tmp, 0, b);
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
        symbol_md(s, d, n, o->sym, &b);
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
                dsl_md(e, &b);
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

/* ---- signature help
 * ------------------------------------------------------------------------------------- */

/* label `name(a, b)` or `name{k1, k2, ...}` with parameter offsets. */
static cJSON *signature(const char *name, const char *doc, bool table, const char *const *params,
                        const lsp_dsl_key *keys, const fe_schema *schema, int active)
{
    tx_buf b;
    tx_buf_init(&b, 8192);
    tx_buf_printf(&b, "%s%s", name, table ? "{" : "(");
    cJSON *ps = cJSON_CreateArray();
    size_t i = 0;
#define PARAM(text, pdoc)                                                                          \
    do {                                                                                           \
        if (i++) tx_buf_puts(&b, ", ");                                                            \
        size_t st_ = b.len;                                                                        \
        tx_buf_puts(&b, text);                                                                     \
        cJSON *p_ = cJSON_CreateObject();                                                          \
        cJSON *l_ = cJSON_AddArrayToObject(p_, "label");                                           \
        lsp_push(l_, cJSON_CreateNumber((double)st_));                                             \
        lsp_push(l_, cJSON_CreateNumber((double)b.len));                                           \
        if (pdoc) cJSON_AddStringToObject(p_, "documentation", pdoc);                              \
        lsp_push(ps, p_);                                                                          \
    } while (0)
    for (size_t k = 0; params && params[k]; k++)
        PARAM(params[k], (const char *)NULL);
    for (const lsp_dsl_key *k = keys; k && k->key; k++)
        PARAM(k->key, k->doc);
    for (const fe_field *f = schema ? schema->fields : NULL; f; f = f->next) {
        char text[160];
        snprintf(text, sizeof text, "%s%s: %s", f->name, f->required ? "" : "?",
                 f->builder ? f->builder : fe_type_name(f->type));
        PARAM(text, (const char *)NULL);
    }
#undef PARAM
    tx_buf_puts(&b, table ? "}" : ")");
    cJSON *sig = cJSON_CreateObject();
    /* Offsets are UTF-16 units of the label; the labels here are ASCII
     * names, so bytes are the same. */
    cJSON_AddStringToObject(sig, "label", b.data ? b.data : name);
    if (doc) cJSON_AddStringToObject(sig, "documentation", doc);
    lsp_add(sig, "parameters", ps);
    if (active >= 0) cJSON_AddNumberToObject(sig, "activeParameter", active);
    tx_buf_free(&b);
    return sig;
}

static int key_index(const lsp_dsl_key *keys, const char *key)
{
    for (int i = 0; keys && keys[i].key; i++)
        if (!strcmp(keys[i].key, key)) return i;
    return -1;
}

cJSON *lsp_on_signature_help(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_param_doc(s, params, err);
    size_t pos;
    if (!d || !lsp_param_offset(s, d, params, &pos, err)) return NULL;
    TSTree *tree = lsp_doc_tree(s, d);
    if (!tree) return cJSON_CreateNull();
    /* The innermost call whose arguments hold the cursor. */
    TSNode n = lsp_node_at(tree, pos > 0 ? (uint32_t)pos - 1 : 0, pos > 0 ? (uint32_t)pos - 1 : 0);
    TSNode args = n;
    while (!ts_node_is_null(args)) {
        if (lsp_node_is(args, "arguments") && pos > ts_node_start_byte(args) &&
            (pos < ts_node_end_byte(args) || d->text[ts_node_end_byte(args) - 1] != ')'))
            break;
        args = ts_node_parent(args);
    }
    if (ts_node_is_null(args)) return cJSON_CreateNull();
    TSNode call = ts_node_parent(args);
    char name[128];
    if (!lsp_node_is(call, "function_call") || !lsp_call_name(d, call, name, sizeof name))
        return cJSON_CreateNull();
    /* Which argument, and inside a table argument which key. */
    int active = 0;
    uint32_t count = ts_node_named_child_count(args);
    TSNode arg_node = {0};
    for (uint32_t i = 0; i < count; i++) {
        TSNode a = ts_node_named_child(args, i);
        if (ts_node_start_byte(a) < pos) {
            active = (int)i;
            arg_node = a;
        }
    }
    bool in_table = lsp_node_is(args, "table_constructor") ||
                    lsp_node_is(ts_node_named_child(args, 0), "table_constructor") ||
                    lsp_node_is(arg_node, "table_constructor");
    char key[64] = "";
    lsp_table_ctx ctx;
    if (in_table && lsp_table_context(s, d, pos, &ctx) && ctx.in_table) {
        /* the field holding the cursor */
        TSNode f = lsp_node_at(tree, (uint32_t)pos - 1, (uint32_t)pos - 1);
        while (!ts_node_is_null(f) && !lsp_node_is(f, "field"))
            f = ts_node_parent(f);
        TSNode kn = ts_node_is_null(f) ? f : ts_node_child_by_field_name(f, "name", 4);
        size_t kl;
        const char *kt = ts_node_is_null(kn) ? NULL : lsp_node_text(d, kn, &kl);
        if (kt && kl < sizeof key) {
            memcpy(key, kt, kl);
            key[kl] = '\0';
        }
    }
    cJSON *sig = NULL;
    const lsp_dsl_entry *e = lsp_dsl_find(name, strlen(name));
    if (e && e->keys && (in_table || !e->params)) {
        sig = signature(e->name, e->doc, true, NULL, e->keys, NULL,
                        key[0] ? key_index(e->keys, key) : -1);
    } else if (e && e->params) {
        sig = signature(e->name, e->doc, false, e->params, NULL, NULL, active);
    } else {
        /* A declared procedure or agent: its inputs. */
        lsp_nav *nav = lsp_nav_get(s, d);
        int k = nav ? lsp_nav_find(nav, name, strlen(name)) : -1;
        if (k >= 0 && nav->syms[k].kind == LSP_SYM_PROCEDURE) {
            const fe_procedure *p = nav->syms[k].decl;
            int act = -1, i = 0;
            for (const fe_field *f = p->input.fields; f; f = f->next, i++)
                if (key[0] && !strcmp(f->name, key)) act = i;
            sig = signature(name, "a sub-procedure: its input fields", true, NULL, NULL, &p->input,
                            act);
        } else if (k >= 0 && nav->syms[k].kind == LSP_SYM_TOOL) {
            const fe_tool *t = nav->syms[k].decl;
            int act = -1, i = 0;
            for (const fe_field *f = t->input.fields; f; f = f->next, i++)
                if (key[0] && !strcmp(f->name, key)) act = i;
            sig = signature(name, "a direct tool call (recorded like an agent's): its input fields",
                            true, NULL, NULL, &t->input, act);
        } else if (k >= 0 && nav->syms[k].kind == LSP_SYM_AGENT) {
            static const lsp_dsl_key turn_keys[] = {
                {"message", "the user message of this turn"},
                {"tools", "narrows the agent's tools for this turn (never widens them)"},
                {"temperature", "sampling temperature for this turn"},
                {"max_tokens", "most tokens in the reply"},
                {"system_prompt", "the system prompt template for this turn"},
                {NULL, NULL},
            };
            sig = signature(name, "one agent turn; returns {output, usage, ...}", true, NULL,
                            turn_keys, NULL, key[0] ? key_index(turn_keys, key) : -1);
        }
    }
    if (!sig) return cJSON_CreateNull();
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(sig, "activeParameter");
    double active_param = cJSON_IsNumber(ap) ? ap->valuedouble : 0;
    cJSON *res = cJSON_CreateObject();
    cJSON *sigs = cJSON_AddArrayToObject(res, "signatures");
    lsp_push(sigs, sig);
    cJSON_AddNumberToObject(res, "activeSignature", 0);
    cJSON_AddNumberToObject(res, "activeParameter", active_param);
    return res;
}
