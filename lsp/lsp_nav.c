/*
 * lsp_nav.c - symbols and their occurrences: definition, references,
 * rename and document highlights.
 *
 * Two sources, each for what it knows best:
 *   - the declaration model (fe_file of the latest parseable analysis):
 *     procedures, agents, tools, toolsets, models, fields and custom steps,
 *     and the places a name is written as text: Agent "x" {...}, granted
 *     tool names in strings, Mocks keys, Gherkin steps ("the agent \"x\"
 *     responds ...", "the x tool should be called", "the input k is ..."),
 *     evaluation inputs and expected outputs, keys of returned tables. Its
 *     positions are mapped through the edits made since it was built;
 *   - the current tree-sitter tree: Lua scopes (locals, parameters, for
 *     variables, `local function`), every identifier use, and field uses
 *     through a procedure's or tool's parameter (input.x, args.x) and state.x.
 * An identifier that names a model declaration is bound to it by name (the
 * DSL's declarations are globals); a local declared exactly where the model
 * declares something (local done = require(...), local x = Agent {...}) is
 * that declaration.
 */
#include <stdlib.h>
#include <string.h>

#include "lsp_internal.h"

#define NAV_MAX_DEPTH 1500

lsp_ts_ids *lsp_ts_ids_new(void)
{
    lsp_ts_ids *x = tx_calloc(1, sizeof *x);
    if (!x) return NULL;
    const TSLanguage *l = tree_sitter_tactus();
#define SYM(f, n) x->f = ts_language_symbol_for_name(l, n, (uint32_t)strlen(n), true)
#define FLD(f, n) x->f = ts_language_field_id_for_name(l, n, (uint32_t)strlen(n))
    SYM(identifier, "identifier");
    SYM(chunk, "chunk");
    SYM(block, "block");
    SYM(function_declaration, "function_declaration");
    SYM(function_definition, "function_definition");
    SYM(parameters, "parameters");
    SYM(variable_declaration, "variable_declaration");
    SYM(variable_list, "variable_list");
    SYM(expression_list, "expression_list");
    SYM(assignment_statement, "assignment_statement");
    SYM(for_statement, "for_statement");
    SYM(for_numeric_clause, "for_numeric_clause");
    SYM(for_generic_clause, "for_generic_clause");
    SYM(repeat_statement, "repeat_statement");
    SYM(dot_index_expression, "dot_index_expression");
    SYM(method_index_expression, "method_index_expression");
    SYM(bracket_index_expression, "bracket_index_expression");
    SYM(function_call, "function_call");
    SYM(arguments, "arguments");
    SYM(field, "field");
    SYM(table_constructor, "table_constructor");
    SYM(string, "string");
    SYM(string_content, "string_content");
    SYM(label_statement, "label_statement");
    SYM(goto_statement, "goto_statement");
    SYM(attribute, "attribute");
    SYM(comment, "comment");
    SYM(do_statement, "do_statement");
    SYM(while_statement, "while_statement");
    SYM(if_statement, "if_statement");
    SYM(return_statement, "return_statement");
    x->error = (TSSymbol)-1;
    FLD(f_name, "name");
    FLD(f_table, "table");
    FLD(f_field, "field");
    FLD(f_method, "method");
    FLD(f_body, "body");
    FLD(f_parameters, "parameters");
    FLD(f_clause, "clause");
    FLD(f_value, "value");
    FLD(f_key, "key");
    FLD(f_arguments, "arguments");
    FLD(f_content, "content");
    FLD(f_condition, "condition");
#undef SYM
#undef FLD
    return x;
}

void lsp_nav_free(lsp_nav *n)
{
    if (!n) return;
    tx_free(n->syms);
    tx_free(n->occs);
    tx_arena_free(&n->arena);
    tx_free(n);
}

/* ---- building -----------------------------------------------------------------------------------
 */

typedef struct {
    lsp_server *s;
    lsp_doc *d;
    lsp_nav *n;
    const lsp_analysis *a; /* model source, or NULL */
    const lsp_ts_ids *id;
    tx_map by_name; /* model declaration name -> sym index + 1 */
    tx_map globals; /* assigned globals -> sym index + 1 */
    bool oom;
    /* Lua scopes of the syntax walk: visible locals, innermost last. */
    struct {
        const char *name;
        uint32_t len;
        int sym;
    } * locals;
    size_t n_locals, cap_locals;
} nav_build;

static int add_sym(nav_build *b, lsp_sym_kind kind, const char *name, size_t len)
{
    lsp_nav *n = b->n;
    if (n->n_syms == n->cap_syms) {
        size_t cap = n->cap_syms ? n->cap_syms * 2 : 64;
        lsp_symbol *p = tx_realloc(n->syms, cap * sizeof *p);
        if (!p) {
            b->oom = true;
            return -1;
        }
        n->syms = p;
        n->cap_syms = cap;
    }
    char *nm = tx_arena_strndup(&n->arena, name, len);
    if (!nm) {
        b->oom = true;
        return -1;
    }
    lsp_symbol *y = &n->syms[n->n_syms];
    memset(y, 0, sizeof *y);
    y->kind = kind;
    y->name = nm;
    y->owner = -1;
    y->fields_of = -1;
    return (int)n->n_syms++;
}

static void add_occ(nav_build *b, uint32_t start, uint32_t end, int sym, lsp_occ_role role)
{
    lsp_nav *n = b->n;
    if (sym < 0 || end <= start) return;
    if (n->n_occs == n->cap_occs) {
        size_t cap = n->cap_occs ? n->cap_occs * 2 : 256;
        lsp_occurrence *p = tx_realloc(n->occs, cap * sizeof *p);
        if (!p) {
            b->oom = true;
            return;
        }
        n->occs = p;
        n->cap_occs = cap;
    }
    n->occs[n->n_occs++] = (lsp_occurrence){start, end, sym, role};
}

/* Where the name is written inside a span of the analysed text: the span
 * itself for an identifier, the content for "x", 'x', [[x]] and ["x"]. */
static void name_range(const lsp_analysis *a, tx_span sp, uint32_t *s, uint32_t *e)
{
    const char *src = a->src;
    uint32_t i = sp.start_byte, j = sp.end_byte;
    if (j > a->len) j = (uint32_t)a->len;
    if (i >= j) {
        *s = *e = i;
        return;
    }
    if (src[i] == '[') {
        uint32_t k = i + 1;
        while (k < j && src[k] == '=')
            k++;
        if (k < j && src[k] == '[') { /* long string [==[x]==] */
            uint32_t level = k - i - 1;
            i = k + 1;
            if (j >= i + level + 2) j -= level + 2;
        } else { /* ["x"] key */
            k = i + 1;
            while (k < j && (src[k] == ' ' || src[k] == '\t'))
                k++;
            if (k < j && (src[k] == '"' || src[k] == '\'')) {
                char q = src[k];
                const char *close = memchr(src + k + 1, q, j - k - 1);
                i = k + 1;
                j = close ? (uint32_t)(close - src) : i;
            }
        }
    } else if ((src[i] == '"' || src[i] == '\'') && j - i >= 2 && src[j - 1] == src[i]) {
        i++;
        j--;
    }
    *s = i;
    *e = j;
}

/* Maps a range of the model's text to the current text. */
static bool mapped(nav_build *b, uint32_t *s, uint32_t *e)
{
    return lsp_doc_map(b->d, s, e);
}

static int model_decl(nav_build *b, lsp_sym_kind kind, const char *name, tx_span name_span,
                      tx_span span, const void *decl, bool renamable)
{
    if (!name || !name[0]) return -1;
    int k = add_sym(b, kind, name, strlen(name));
    if (k < 0) return -1;
    lsp_symbol *y = &b->n->syms[k];
    y->decl = decl;
    y->renamable = renamable;
    uint32_t s, e;
    name_range(b->a, name_span, &s, &e);
    /* The name must be written there (not the whole call of an unnamed main). */
    bool written = e > s && e - s == strlen(name) && memcmp(b->a->src + s, name, e - s) == 0;
    uint32_t fs = span.start_byte, fe = span.end_byte;
    if (written && mapped(b, &s, &e)) {
        y->name_start = s;
        y->name_end = e;
        y->has_decl = true;
        add_occ(b, s, e, k, LSP_OCC_DECL);
    }
    if (mapped(b, &fs, &fe)) {
        y->start = fs;
        y->end = fe;
    } else {
        y->start = y->name_start;
        y->end = y->name_end;
    }
    if (kind != LSP_SYM_FIELD && kind != LSP_SYM_STEP &&
        !tx_map_get(&b->by_name, y->name, strlen(y->name)))
        if (tx_map_put(&b->by_name, y->name, strlen(y->name), (void *)(intptr_t)(k + 1)) != TX_OK)
            b->oom = true;
    return k;
}

static int by_name(nav_build *b, const char *name, size_t len)
{
    void *v = tx_map_get(&b->by_name, name, len);
    return v ? (int)(intptr_t)v - 1 : -1;
}

/* The field symbol `name` of owner's schema, or -1. */
static int field_of(nav_build *b, int owner, const char *schema, const char *name, size_t len)
{
    for (size_t i = 0; i < b->n->n_syms; i++) {
        const lsp_symbol *y = &b->n->syms[i];
        if (y->kind == LSP_SYM_FIELD && y->owner == owner && strcmp(y->schema, schema) == 0 &&
            strlen(y->name) == len && memcmp(y->name, name, len) == 0)
            return (int)i;
    }
    return -1;
}

static void schema_fields(nav_build *b, int owner, const char *schema, const fe_schema *sc)
{
    for (const fe_field *f = sc->fields; f; f = f->next) {
        int k = model_decl(b, LSP_SYM_FIELD, f->name, f->name_span,
                           f->decl ? f->decl->span : f->name_span, f, true);
        if (k < 0) continue;
        b->n->syms[k].owner = owner;
        b->n->syms[k].schema = schema;
        if (f->decl) { /* the whole `name = field.x{...}` */
            uint32_t s = f->name_span.start_byte, e = f->decl->span.end_byte;
            if (mapped(b, &s, &e)) b->n->syms[k].start = s, b->n->syms[k].end = e;
        }
    }
}

/* A mention of symbol k written at span of the model's text (a string or key). */
static void mention(nav_build *b, int k, tx_span sp, lsp_occ_role role)
{
    if (k < 0) return;
    uint32_t s, e;
    name_range(b->a, sp, &s, &e);
    const char *nm = b->n->syms[k].name;
    if (e - s != strlen(nm) || memcmp(b->a->src + s, nm, e - s) != 0) return;
    if (mapped(b, &s, &e)) add_occ(b, s, e, k, role);
}

/* A mention at a byte range of the model's text (a Gherkin group). */
static void mention_at(nav_build *b, int k, uint32_t s, uint32_t e)
{
    if (k < 0 || !mapped(b, &s, &e)) return;
    add_occ(b, s, e, k, LSP_OCC_TEXT);
}

static const fe_procedure *main_procedure(const fe_file *f)
{
    for (const fe_procedure *p = f->procedures; p; p = p->next)
        if (!p->named) return p;
    return NULL;
}

static int sym_of_decl(nav_build *b, const void *decl)
{
    for (size_t i = 0; i < b->n->n_syms; i++)
        if (b->n->syms[i].decl == decl) return (int)i;
    return -1;
}

/* Steps of the Specifications: names inside them refer to declarations. */
static void spec_mentions(nav_build *b)
{
    const fe_file *f = b->a->file;
    const fe_procedure *mainp = main_procedure(f);
    int main_k = mainp ? sym_of_decl(b, mainp) : -1;
    size_t n_steps;
    const ck_step_info *steps = ck_steps(&n_steps);
    for (const fe_spec *sp = f->specs; sp; sp = sp->next)
        for (const fe_scenario *sc = sp->scenarios; sc; sc = sc->next)
            for (const fe_step *st = sc->steps; st; st = st->next) {
                size_t len = strlen(st->text);
                if (len != st->span.end_byte - st->span.start_byte) continue;
                bool custom = false;
                for (const fe_custom_step *cs = f->custom_steps; cs && !custom; cs = cs->next)
                    if (strcmp(cs->text, st->text) == 0) {
                        custom = true;
                        mention_at(b, sym_of_decl(b, cs), st->span.start_byte, st->span.end_byte);
                    }
                ck_step_match_result m;
                if (custom || !ck_step_match(b->s->ck, st->text, len, &m)) continue;
                const char *tpl = steps[m.index].template;
                int tool_k = -1;
                for (size_t g = 0; g < m.n_groups; g++) {
                    const char *gn = m.groups[g].name;
                    const char *gt = st->text + m.groups[g].start;
                    size_t gl = m.groups[g].len;
                    uint32_t gs = st->span.start_byte + (uint32_t)m.groups[g].start;
                    int k = -1;
                    if (!strcmp(gn, "agent") || !strcmp(gn, "tool") || !strcmp(gn, "model") ||
                        !strcmp(gn, "dep")) {
                        k = by_name(b, gt, gl);
                        if (!strcmp(gn, "tool")) tool_k = k;
                    } else if (!strcmp(gn, "key")) {
                        const char *schema = !strncmp(tpl, "the input", 9)     ? "input"
                                             : !strncmp(tpl, "the output", 10) ? "output"
                                             : !strncmp(tpl, "the state", 9)   ? "state"
                                                                               : NULL;
                        if (schema && main_k >= 0) k = field_of(b, main_k, schema, gt, gl);
                    } else if (!strcmp(gn, "param")) {
                        if (strstr(tpl, "{tool} tool should be called with") && tool_k >= 0)
                            k = field_of(b, tool_k, "input", gt, gl);
                        else if (main_k >= 0 && !strstr(tpl, "{tool}"))
                            k = field_of(b, main_k, "input", gt, gl);
                    }
                    if (k >= 0) mention_at(b, k, gs, gs + (uint32_t)gl);
                }
            }
}

static void table_key_mentions(nav_build *b, const fe_value *table, int owner, const char *schema)
{
    if (!table || table->kind != FE_TABLE || owner < 0) return;
    for (const fe_entry *e = table->entries; e; e = e->next)
        if (e->key)
            mention(b, field_of(b, owner, schema, e->key, strlen(e->key)), e->key_span,
                    LSP_OCC_TEXT);
}

static void model_part(nav_build *b)
{
    const fe_file *f = b->a->file;
    for (const fe_procedure *p = f->procedures; p; p = p->next) {
        int k = model_decl(b, LSP_SYM_PROCEDURE, p->name, p->name_span, p->span, p, p->named);
        if (k < 0) continue;
        schema_fields(b, k, "input", &p->input);
        schema_fields(b, k, "output", &p->output);
        schema_fields(b, k, "state", &p->state);
        if (p->script_mode) {
            schema_fields(b, k, "input", &f->script_input);
            schema_fields(b, k, "output", &f->script_output);
        }
        /* Keys of literal returns are output fields. */
        for (const fe_return *r = p->returns; r; r = r->next)
            table_key_mentions(b, r->value, k, "output");
    }
    for (const fe_agent *a = f->agents; a; a = a->next)
        model_decl(b, LSP_SYM_AGENT, a->name, a->name_span, a->span, a, true);
    for (const fe_tool *t = f->tools; t; t = t->next) {
        lsp_sym_kind kind = t->kind == FE_TOOL_TOOLSET  ? LSP_SYM_TOOLSET
                            : t->kind == FE_TOOL_STDLIB ? LSP_SYM_STDLIB_TOOL
                                                        : LSP_SYM_TOOL;
        int k = model_decl(b, kind, t->name, t->name_span, t->span, t, true);
        if (k >= 0) schema_fields(b, k, "input", &t->input);
    }
    for (const fe_model *m = f->models; m; m = m->next)
        model_decl(b, LSP_SYM_MODEL, m->name, m->name_span, m->span, m, true);
    for (const fe_custom_step *cs = f->custom_steps; cs; cs = cs->next)
        model_decl(b, LSP_SYM_STEP, cs->text, cs->span, cs->span, cs, false);

    /* Granted tools written as strings: tools = {"search"}. */
    for (const fe_agent *a = f->agents; a; a = a->next)
        if (a->tools && a->tools->kind == FE_TABLE)
            for (const fe_entry *e = a->tools->entries; e; e = e->next)
                if (e->value->kind == FE_STRING)
                    mention(b, by_name(b, e->value->str, e->value->str_len), e->value->span,
                            LSP_OCC_TEXT);
    for (const fe_mocks *mk = f->mocks; mk; mk = mk->next)
        if (mk->table && mk->table->kind == FE_TABLE)
            for (const fe_entry *e = mk->table->entries; e; e = e->next)
                if (e->key)
                    mention(b, by_name(b, e->key, strlen(e->key)), e->key_span, LSP_OCC_TEXT);
    const fe_procedure *mainp = main_procedure(f);
    int main_k = mainp ? sym_of_decl(b, mainp) : -1;
    for (const fe_evaluation *ev = f->evaluations; ev; ev = ev->next) {
        const fe_value *ds = fe_value_get(ev->config, "dataset");
        if (!ds || ds->kind != FE_TABLE) continue;
        for (const fe_entry *e = ds->entries; e; e = e->next) {
            if (e->key || e->value->kind != FE_TABLE) continue;
            table_key_mentions(b, fe_value_get(e->value, "inputs"), main_k, "input");
            table_key_mentions(b, fe_value_get(e->value, "expected_output"), main_k, "output");
        }
    }
    spec_mentions(b);
}

/* ---- the syntax walk (current tree) ------------------------------------------------------------
 */

static const char *text_of(nav_build *b, TSNode n, uint32_t *len)
{
    uint32_t s = ts_node_start_byte(n), e = ts_node_end_byte(n);
    if (e > b->d->len) e = (uint32_t)b->d->len;
    if (s > e) s = e;
    *len = e - s;
    return b->d->text + s;
}

static void push_local(nav_build *b, const char *name, uint32_t len, int sym)
{
    if (b->n_locals == b->cap_locals) {
        size_t cap = b->cap_locals ? b->cap_locals * 2 : 64;
        void *p = tx_realloc(b->locals, cap * sizeof *b->locals);
        if (!p) {
            b->oom = true;
            return;
        }
        b->locals = p;
        b->cap_locals = cap;
    }
    b->locals[b->n_locals].name = name;
    b->locals[b->n_locals].len = len;
    b->locals[b->n_locals].sym = sym;
    b->n_locals++;
}

static int find_local(nav_build *b, const char *name, uint32_t len)
{
    for (size_t i = b->n_locals; i-- > 0;)
        if (b->locals[i].len == len && memcmp(b->locals[i].name, name, len) == 0)
            return b->locals[i].sym;
    return -1;
}

/* Declares a local at identifier node n: the model's declaration when the
 * model declares something exactly there, else a new LOCAL. */
static int declare(nav_build *b, TSNode n)
{
    uint32_t len;
    const char *name = text_of(b, n, &len);
    uint32_t s = ts_node_start_byte(n), e = ts_node_end_byte(n);
    int k = -1;
    for (size_t i = 0; i < b->n->n_syms && k < 0; i++) {
        const lsp_symbol *y = &b->n->syms[i];
        if (y->has_decl && y->name_start == s && y->name_end == e && y->kind != LSP_SYM_FIELD)
            k = (int)i;
    }
    if (k < 0) {
        k = add_sym(b, LSP_SYM_LOCAL, name, len);
        if (k < 0) return -1;
        lsp_symbol *y = &b->n->syms[k];
        y->name_start = y->start = s;
        y->name_end = y->end = e;
        y->has_decl = true;
        y->renamable = true;
        add_occ(b, s, e, k, LSP_OCC_DECL);
    }
    push_local(b, name, len, k);
    return k;
}

/* The symbol an identifier use refers to: a visible local, a model
 * declaration, or an assigned global. */
static int resolve(nav_build *b, const char *name, uint32_t len)
{
    int k = find_local(b, name, len);
    if (k >= 0) return k;
    k = by_name(b, name, len);
    if (k >= 0) return k;
    void *v = tx_map_get(&b->globals, name, len);
    return v ? (int)(intptr_t)v - 1 : -1;
}

static void walk(nav_build *b, TSNode n, int depth);

static void walk_children(nav_build *b, TSNode n, int depth)
{
    TSTreeCursor c = ts_tree_cursor_new(n);
    if (ts_tree_cursor_goto_first_child(&c)) {
        do {
            TSNode ch = ts_tree_cursor_current_node(&c);
            if (ts_node_is_named(ch)) walk(b, ch, depth + 1);
        } while (ts_tree_cursor_goto_next_sibling(&c));
    }
    ts_tree_cursor_delete(&c);
}

/* Declares every identifier child of a list node (parameters, names). */
static void declare_list(nav_build *b, TSNode list, int *first)
{
    TSTreeCursor c = ts_tree_cursor_new(list);
    if (ts_tree_cursor_goto_first_child(&c)) {
        do {
            TSNode ch = ts_tree_cursor_current_node(&c);
            if (ts_node_symbol(ch) == b->id->identifier) {
                int k = declare(b, ch);
                if (first && *first < 0) *first = k;
            }
        } while (ts_tree_cursor_goto_next_sibling(&c));
    }
    ts_tree_cursor_delete(&c);
}

/* The procedure or tool whose function is exactly node fn, or -1. */
static int function_owner(nav_build *b, TSNode fn)
{
    if (!b->a) return -1;
    uint32_t s = ts_node_start_byte(fn), e = ts_node_end_byte(fn);
    for (size_t i = 0; i < b->n->n_syms; i++) {
        const lsp_symbol *y = &b->n->syms[i];
        const fe_value *f = NULL;
        if (y->kind == LSP_SYM_PROCEDURE) {
            f = ((const fe_procedure *)y->decl)->function;
        } else if (y->kind == LSP_SYM_TOOL) {
            const fe_value *cfg = ((const fe_tool *)y->decl)->config;
            for (const fe_entry *en = cfg && cfg->kind == FE_TABLE ? cfg->entries : NULL; en;
                 en = en->next)
                if (!en->key && en->value->kind == FE_FUNCTION) f = en->value;
            if (!f) f = fe_value_get(cfg, "handler");
        }
        if (!f || f->kind != FE_FUNCTION) continue;
        uint32_t fs = f->span.start_byte, fe = f->span.end_byte;
        if (mapped(b, &fs, &fe) && fs == s && fe == e) return (int)i;
    }
    return -1;
}

static void walk_function(nav_build *b, TSNode n, int depth, bool method)
{
    size_t mark = b->n_locals;
    if (method) push_local(b, "self", 4, -1);
    TSNode params = ts_node_child_by_field_id(n, b->id->f_parameters);
    int first = -1;
    if (!ts_node_is_null(params)) declare_list(b, params, &first);
    int owner = function_owner(b, n);
    if (owner >= 0 && first >= 0 && b->n->syms[first].kind == LSP_SYM_LOCAL) {
        b->n->syms[first].fields_of = owner;
        b->n->syms[first].fields_schema = "input";
    }
    TSNode body = ts_node_child_by_field_id(n, b->id->f_body);
    if (!ts_node_is_null(body)) walk(b, body, depth + 1);
    b->n_locals = mark;
}

/* `p.x` where p is a parameter holding fields, `state.x`, `input.x`. */
static void field_use(nav_build *b, TSNode table, TSNode field, int table_sym)
{
    uint32_t tl, fl;
    const char *tn = text_of(b, table, &tl);
    const char *fn = text_of(b, field, &fl);
    int owner = -1;
    const char *schema = NULL;
    if (table_sym >= 0 && b->n->syms[table_sym].fields_of >= 0) {
        owner = b->n->syms[table_sym].fields_of;
        schema = b->n->syms[table_sym].fields_schema;
    } else if (table_sym < 0 &&
               ((tl == 5 && !memcmp(tn, "state", 5)) || (tl == 5 && !memcmp(tn, "input", 5)))) {
        owner = lsp_nav_enclosing(b->n, ts_node_start_byte(table), LSP_SYM_PROCEDURE);
        schema = tn[0] == 's' ? "state" : "input";
    }
    if (owner < 0) return;
    int k = field_of(b, owner, schema, fn, fl);
    if (k >= 0) add_occ(b, ts_node_start_byte(field), ts_node_end_byte(field), k, LSP_OCC_READ);
}

static void use_identifier(nav_build *b, TSNode n, lsp_occ_role role)
{
    uint32_t len;
    const char *name = text_of(b, n, &len);
    int k = resolve(b, name, len);
    if (k >= 0) add_occ(b, ts_node_start_byte(n), ts_node_end_byte(n), k, role);
}

static void walk(nav_build *b, TSNode n, int depth)
{
    const lsp_ts_ids *id = b->id;
    if (depth > NAV_MAX_DEPTH || b->oom) return;
    TSSymbol t = ts_node_symbol(n);
    if (t == id->identifier) {
        use_identifier(b, n, LSP_OCC_READ);
        return;
    }
    if (t == id->string || t == id->comment || t == id->label_statement || t == id->goto_statement)
        return;
    if (t == id->dot_index_expression) {
        TSNode table = ts_node_child_by_field_id(n, id->f_table);
        TSNode field = ts_node_child_by_field_id(n, id->f_field);
        if (ts_node_is_null(table)) return;
        walk(b, table, depth + 1);
        if (ts_node_symbol(table) == id->identifier && !ts_node_is_null(field)) {
            uint32_t len;
            const char *name = text_of(b, table, &len);
            field_use(b, table, field, find_local(b, name, len));
        }
        return;
    }
    if (t == id->method_index_expression) {
        TSNode table = ts_node_child_by_field_id(n, id->f_table);
        if (!ts_node_is_null(table)) walk(b, table, depth + 1);
        return;
    }
    if (t == id->field) {
        /* `name = value`: the name is a key, not a variable; `[key] = value`
         * and positional values are expressions. */
        TSNode key = ts_node_child_by_field_id(n, id->f_key);
        TSNode value = ts_node_child_by_field_id(n, id->f_value);
        if (!ts_node_is_null(key)) walk(b, key, depth + 1);
        if (!ts_node_is_null(value)) walk(b, value, depth + 1);
        return;
    }
    if (t == id->function_definition) {
        walk_function(b, n, depth, false);
        return;
    }
    if (t == id->function_declaration) {
        TSNode name = ts_node_child_by_field_id(n, id->f_name);
        TSNode first = ts_node_child(n, 0);
        bool local = !ts_node_is_null(first) && strcmp(ts_node_type(first), "local") == 0;
        bool method = false;
        if (!ts_node_is_null(name)) {
            if (ts_node_symbol(name) == id->identifier) {
                if (local)
                    declare(b, name);
                else
                    use_identifier(b, name, LSP_OCC_WRITE);
            } else {
                method = ts_node_symbol(name) == id->method_index_expression;
                TSNode table = ts_node_child_by_field_id(name, id->f_table);
                if (!ts_node_is_null(table)) walk(b, table, depth + 1);
            }
        }
        walk_function(b, n, depth, method);
        return;
    }
    if (t == id->variable_declaration) {
        /* `local x = x`: the right side sees the outer x. */
        TSNode vars = {0};
        bool have_vars = false;
        TSTreeCursor c = ts_tree_cursor_new(n);
        if (ts_tree_cursor_goto_first_child(&c)) {
            do {
                TSNode ch = ts_tree_cursor_current_node(&c);
                if (ts_node_symbol(ch) == id->variable_list) {
                    vars = ch;
                    have_vars = true;
                } else if (ts_node_is_named(ch)) {
                    walk(b, ch, depth + 1);
                }
            } while (ts_tree_cursor_goto_next_sibling(&c));
        }
        ts_tree_cursor_delete(&c);
        if (have_vars) declare_list(b, vars, NULL);
        return;
    }
    if (t == id->assignment_statement) {
        TSTreeCursor c = ts_tree_cursor_new(n);
        if (ts_tree_cursor_goto_first_child(&c)) {
            do {
                TSNode ch = ts_tree_cursor_current_node(&c);
                if (ts_node_symbol(ch) != id->variable_list) {
                    if (ts_node_is_named(ch)) walk(b, ch, depth + 1);
                    continue;
                }
                TSTreeCursor v = ts_tree_cursor_new(ch);
                if (ts_tree_cursor_goto_first_child(&v)) {
                    do {
                        TSNode var = ts_tree_cursor_current_node(&v);
                        if (ts_node_symbol(var) == id->identifier)
                            use_identifier(b, var, LSP_OCC_WRITE);
                        else if (ts_node_is_named(var))
                            walk(b, var, depth + 1);
                    } while (ts_tree_cursor_goto_next_sibling(&v));
                }
                ts_tree_cursor_delete(&v);
            } while (ts_tree_cursor_goto_next_sibling(&c));
        }
        ts_tree_cursor_delete(&c);
        return;
    }
    if (t == id->for_statement) {
        size_t mark = b->n_locals;
        TSNode clause = ts_node_child_by_field_id(n, id->f_clause);
        if (!ts_node_is_null(clause)) {
            TSNode vars = {0};
            bool have_vars = false;
            TSNode name = ts_node_child_by_field_id(clause, id->f_name);
            TSTreeCursor c = ts_tree_cursor_new(clause);
            if (ts_tree_cursor_goto_first_child(&c)) {
                do {
                    TSNode ch = ts_tree_cursor_current_node(&c);
                    if (!ts_node_is_named(ch)) continue;
                    if (ts_node_symbol(ch) == id->variable_list) {
                        vars = ch;
                        have_vars = true;
                    } else if (!ts_node_eq(ch, name)) {
                        walk(b, ch, depth + 1);
                    }
                } while (ts_tree_cursor_goto_next_sibling(&c));
            }
            ts_tree_cursor_delete(&c);
            if (!ts_node_is_null(name) && ts_node_symbol(name) == id->identifier) declare(b, name);
            if (have_vars) declare_list(b, vars, NULL);
        }
        TSNode body = ts_node_child_by_field_id(n, id->f_body);
        if (!ts_node_is_null(body)) walk(b, body, depth + 1);
        b->n_locals = mark;
        return;
    }
    /* Blocks, repeat (its condition sees the body's locals), if/while/do:
     * locals end with the node. The chunk keeps its top-level locals. */
    size_t mark = b->n_locals;
    walk_children(b, n, depth);
    if (t != id->chunk) b->n_locals = mark;
}

/* Globals assigned anywhere (function helper() end, helper = ...): symbols
 * to bind uses to, unless the model declares the name. */
static void collect_globals(nav_build *b, TSNode root)
{
    const lsp_ts_ids *id = b->id;
    TSTreeCursor c = ts_tree_cursor_new(root);
    if (ts_tree_cursor_goto_first_child(&c)) {
        do {
            TSNode st = ts_tree_cursor_current_node(&c);
            TSNode name = {0};
            bool have = false;
            if (ts_node_symbol(st) == id->function_declaration) {
                TSNode first = ts_node_child(st, 0);
                name = ts_node_child_by_field_id(st, id->f_name);
                have = !ts_node_is_null(name) && ts_node_symbol(name) == id->identifier &&
                       !(!ts_node_is_null(first) && strcmp(ts_node_type(first), "local") == 0);
            } else if (ts_node_symbol(st) == id->assignment_statement) {
                TSNode vars = ts_node_named_child(st, 0);
                if (!ts_node_is_null(vars) && ts_node_symbol(vars) == id->variable_list &&
                    ts_node_named_child_count(vars) == 1) {
                    name = ts_node_named_child(vars, 0);
                    have = ts_node_symbol(name) == id->identifier;
                }
            }
            if (!have) continue;
            uint32_t len;
            const char *nm = text_of(b, name, &len);
            if (by_name(b, nm, len) >= 0 || tx_map_get(&b->globals, nm, len)) continue;
            int k = add_sym(b, LSP_SYM_GLOBAL, nm, len);
            if (k < 0) break;
            lsp_symbol *y = &b->n->syms[k];
            y->name_start = ts_node_start_byte(name);
            y->name_end = ts_node_end_byte(name);
            y->start = ts_node_start_byte(st);
            y->end = ts_node_end_byte(st);
            y->has_decl = true;
            y->renamable = true;
            add_occ(b, y->name_start, y->name_end, k, LSP_OCC_DECL);
            if (tx_map_put(&b->globals, y->name, len, (void *)(intptr_t)(k + 1)) != TX_OK)
                b->oom = true;
        } while (ts_tree_cursor_goto_next_sibling(&c));
    }
    ts_tree_cursor_delete(&c);
}

static int occ_cmp(const void *pa, const void *pb)
{
    const lsp_occurrence *a = pa, *b = pb;
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    if (a->end != b->end) return a->end < b->end ? -1 : 1;
    return (int)a->role - (int)b->role; /* DECL first */
}

lsp_nav *lsp_nav_get(lsp_server *s, lsp_doc *d)
{
    if (d->nav && d->nav_generation == d->generation) return d->nav;
    lsp_nav_free(d->nav);
    d->nav = NULL;
    if (!s->ids && !(s->ids = lsp_ts_ids_new())) return NULL;
    lsp_analysis *good = lsp_doc_good(s, d);
    TSTree *tree = lsp_doc_tree(s, d);
    nav_build b = {.s = s, .d = d, .id = s->ids};
    b.n = tx_calloc(1, sizeof *b.n);
    if (!b.n) return NULL;
    tx_arena_init(&b.n->arena);
    tx_map_init(&b.by_name);
    tx_map_init(&b.globals);
    if (good && good->file && (!d->edits_lost || good->generation == d->generation)) {
        b.a = good;
        b.n->model = good;
        model_part(&b);
    }
    if (tree) {
        collect_globals(&b, ts_tree_root_node(tree));
        walk(&b, ts_tree_root_node(tree), 0);
    }
    tx_free(b.locals);
    tx_map_free(&b.by_name);
    tx_map_free(&b.globals);
    if (b.oom) {
        lsp_nav_free(b.n);
        return NULL;
    }
    lsp_nav *n = b.n;
    if (n->n_occs > 1) qsort(n->occs, n->n_occs, sizeof *n->occs, occ_cmp);
    /* The same range seen by both sources is one occurrence (DECL wins). */
    size_t w = 0;
    for (size_t r = 0; r < n->n_occs; r++) {
        if (w && n->occs[w - 1].start == n->occs[r].start && n->occs[w - 1].end == n->occs[r].end)
            continue;
        n->occs[w++] = n->occs[r];
    }
    n->n_occs = w;
    d->nav = n;
    d->nav_generation = d->generation;
    return n;
}

const lsp_occurrence *lsp_nav_at(const lsp_nav *n, uint32_t pos)
{
    /* The last occurrence starting at or before pos that contains it (its
     * end counts: a cursor just after a name is on it). */
    size_t lo = 0, hi = n->n_occs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n->occs[mid].start <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0;) {
        const lsp_occurrence *o = &n->occs[i];
        if (pos >= o->start && pos <= o->end) return o;
        if (o->end + 4096 < pos) break; /* occurrences are short: stop looking back */
    }
    return NULL;
}

int lsp_nav_find(const lsp_nav *n, const char *name, size_t len)
{
    for (size_t i = 0; i < n->n_syms; i++) {
        const lsp_symbol *y = &n->syms[i];
        if (y->kind == LSP_SYM_FIELD || y->kind == LSP_SYM_LOCAL || y->kind == LSP_SYM_STEP)
            continue;
        if (strlen(y->name) == len && memcmp(y->name, name, len) == 0) return (int)i;
    }
    return -1;
}

int lsp_nav_enclosing(const lsp_nav *n, uint32_t pos, lsp_sym_kind kind)
{
    int best = -1;
    for (size_t i = 0; i < n->n_syms; i++) {
        const lsp_symbol *y = &n->syms[i];
        if (y->kind != kind || pos < y->start || pos > y->end) continue;
        if (best < 0 || y->end - y->start < n->syms[best].end - n->syms[best].start) best = (int)i;
    }
    return best;
}

/* ---- requests
 * ------------------------------------------------------------------------------------ */

static cJSON *location(const lsp_view *v, const char *uri, uint32_t s, uint32_t e)
{
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "uri", uri);
    lsp_add(l, "range", lsp_json_range(v, s, e));
    return l;
}

/* The symbol at the request's position, with its occurrence. */
static const lsp_occurrence *occ_at(lsp_server *s, const cJSON *params, lsp_error *err,
                                    lsp_doc **d_out, lsp_nav **n_out, size_t *pos_out)
{
    lsp_doc *d = lsp_param_doc(s, params, err);
    if (!d) return NULL;
    size_t pos;
    if (!lsp_param_offset(s, d, params, &pos, err)) return NULL;
    *d_out = d;
    *pos_out = pos;
    /* Definition, references and rename act on the current text: analyse
     * it first (hover and completion make do with the last analysis). */
    if (!d->too_large) lsp_doc_analysis(s, d);
    lsp_nav *n = lsp_nav_get(s, d);
    *n_out = n;
    if (!n) return NULL;
    return lsp_nav_at(n, (uint32_t)pos);
}

/* The identifier (or dotted name's root) written at pos, for symbols
 * declared in other files. */
static bool word_char(char c)
{
    return c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

static bool word_at(const lsp_doc *d, size_t pos, char *buf, size_t cap)
{
    if (pos > d->len) return false;
    size_t s = pos, e = pos;
    while (s > 0 && word_char(d->text[s - 1]))
        s--;
    while (e < d->len && word_char(d->text[e]))
        e++;
    if (e == s || e - s + 1 > cap || !lsp_is_identifier(d->text + s, e - s)) return false;
    memcpy(buf, d->text + s, e - s);
    buf[e - s] = '\0';
    return true;
}

/* require("x.y") at pos: the .tac module's path, or NULL. */
static char *required_module_at(lsp_server *s, lsp_doc *d, size_t pos)
{
    TSTree *tree = lsp_doc_tree(s, d);
    if (!tree) return NULL;
    TSNode n = lsp_node_at(tree, (uint32_t)pos, (uint32_t)pos);
    while (!ts_node_is_null(n) && !lsp_node_is(n, "string"))
        n = ts_node_parent(n);
    if (ts_node_is_null(n)) return NULL;
    TSNode args = ts_node_parent(n);
    TSNode call = ts_node_parent(args);
    if (!lsp_node_is(args, "arguments") || !lsp_node_is(call, "function_call")) return NULL;
    char name[64];
    if (!lsp_node_dotted(d, ts_node_child_by_field_name(call, "name", 4), name, sizeof name) ||
        strcmp(name, "require") != 0)
        return NULL;
    TSNode content = ts_node_child_by_field_name(n, "content", 7);
    if (ts_node_is_null(content)) return NULL;
    size_t len;
    const char *m = lsp_node_text(d, content, &len);
    return lsp_ws_module_path(d->path, m, len);
}

cJSON *lsp_on_definition(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = NULL;
    lsp_nav *n = NULL;
    size_t pos = 0;
    const lsp_occurrence *o = occ_at(s, params, err, &d, &n, &pos);
    if (!d || !n) return NULL;
    lsp_view v = lsp_doc_view(s, d);
    if (o) {
        const lsp_symbol *y = &n->syms[o->sym];
        if (y->has_decl) return location(&v, d->uri, y->name_start, y->name_end);
    }
    char *mod = required_module_at(s, d, pos);
    if (mod) {
        cJSON *l = cJSON_CreateObject();
        char *uri = lsp_path_to_uri(mod);
        cJSON_AddStringToObject(l, "uri", uri ? uri : "");
        cJSON *r = cJSON_AddObjectToObject(l, "range");
        cJSON *a = cJSON_AddObjectToObject(r, "start");
        cJSON_AddNumberToObject(a, "line", 0);
        cJSON_AddNumberToObject(a, "character", 0);
        lsp_add(r, "end", cJSON_Duplicate(a, 1));
        tx_free(uri);
        tx_free(mod);
        return l;
    }
    /* A name this file uses but does not declare: another file's (a
     * sub-procedure or tool of a required .tac, a global it sets). */
    char word[256];
    if (!o && word_at(d, pos, word, sizeof word)) {
        cJSON *arr = cJSON_CreateArray();
        lsp_ws_locations(s, word, true, false, d->path, false, arr);
        if (cJSON_GetArraySize(arr) > 0) return arr;
        cJSON_Delete(arr);
    }
    return cJSON_CreateNull();
}

static bool is_global_kind(lsp_sym_kind k)
{
    return k == LSP_SYM_PROCEDURE || k == LSP_SYM_AGENT || k == LSP_SYM_TOOL ||
           k == LSP_SYM_TOOLSET || k == LSP_SYM_MODEL || k == LSP_SYM_GLOBAL;
}

cJSON *lsp_on_references(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = NULL;
    lsp_nav *n = NULL;
    size_t pos = 0;
    const lsp_occurrence *o = occ_at(s, params, err, &d, &n, &pos);
    if (!d || !n) return NULL;
    bool with_decl = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(params, "context"), "includeDeclaration"));
    cJSON *arr = cJSON_CreateArray();
    lsp_view v = lsp_doc_view(s, d);
    char word[256];
    const char *name = NULL;
    bool here = false;
    if (o) {
        const lsp_symbol *y = &n->syms[o->sym];
        for (size_t i = 0; i < n->n_occs; i++) {
            const lsp_occurrence *x = &n->occs[i];
            if (x->sym != o->sym || (x->role == LSP_OCC_DECL && !with_decl)) continue;
            lsp_push(arr, location(&v, d->uri, x->start, x->end));
        }
        if (is_global_kind(y->kind)) name = y->name;
        here = y->has_decl;
    } else if (word_at(d, pos, word, sizeof word)) {
        name = word;
    }
    if (name) lsp_ws_locations(s, name, with_decl, true, d->path, here, arr);
    return arr;
}

static const char *kind_word(lsp_sym_kind k)
{
    switch (k) {
    case LSP_SYM_PROCEDURE:
        return "procedure";
    case LSP_SYM_AGENT:
        return "agent";
    case LSP_SYM_TOOL:
        return "tool";
    case LSP_SYM_TOOLSET:
        return "toolset";
    case LSP_SYM_STDLIB_TOOL:
        return "stdlib tool";
    case LSP_SYM_MODEL:
        return "model";
    case LSP_SYM_FIELD:
        return "field";
    case LSP_SYM_STEP:
        return "custom step";
    case LSP_SYM_LOCAL:
        return "local";
    case LSP_SYM_GLOBAL:
        return "global";
    case LSP_SYM_SCENARIO:
        return "scenario";
    }
    return "symbol";
}

/* Why the thing at pos cannot be renamed, or NULL when it can. */
static const char *rename_refusal(lsp_server *s, lsp_doc *d, const lsp_nav *n,
                                  const lsp_occurrence *o, size_t pos, char *buf, size_t cap)
{
    if (o) {
        const lsp_symbol *y = &n->syms[o->sym];
        if (y->renamable) return NULL;
        if (y->kind == LSP_SYM_STEP)
            return "a custom step's text is not a name; edit the Step and the steps that use it";
        if (y->kind == LSP_SYM_PROCEDURE)
            return "the main procedure has no name to rename (name it: helper = Procedure {...})";
        snprintf(buf, cap, "this %s cannot be renamed", kind_word(y->kind));
        return buf;
    }
    char word[256];
    if (word_at(d, pos, word, sizeof word)) {
        if (lsp_dsl_find(word, strlen(word))) {
            snprintf(buf, cap, "'%s' is part of the Tactus DSL and cannot be renamed", word);
            return buf;
        }
        for (size_t i = 0; lsp_lua_globals[i]; i++)
            if (strcmp(lsp_lua_globals[i], word) == 0) {
                snprintf(buf, cap, "'%s' is a Lua standard global and cannot be renamed", word);
                return buf;
            }
        snprintf(buf, cap, "'%s' is not declared in this file; rename it where it is declared",
                 word);
        return buf;
    }
    (void)s;
    return "nothing to rename here: put the cursor on an agent, tool, procedure, field or local";
}

cJSON *lsp_on_prepare_rename(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = NULL;
    lsp_nav *n = NULL;
    size_t pos = 0;
    const lsp_occurrence *o = occ_at(s, params, err, &d, &n, &pos);
    if (!d || !n) return NULL;
    char buf[512];
    const char *why = rename_refusal(s, d, n, o, pos, buf, sizeof buf);
    if (why) return lsp_fail(err, LSP_REQUEST_FAILED, "cannot rename: %s", why);
    lsp_view v = lsp_doc_view(s, d);
    cJSON *r = cJSON_CreateObject();
    lsp_add(r, "range", lsp_json_range(&v, o->start, o->end));
    cJSON_AddStringToObject(r, "placeholder", n->syms[o->sym].name);
    return r;
}

cJSON *lsp_on_rename(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = NULL;
    lsp_nav *n = NULL;
    size_t pos = 0;
    const lsp_occurrence *o = occ_at(s, params, err, &d, &n, &pos);
    if (!d || !n) return NULL;
    const cJSON *nn = cJSON_GetObjectItemCaseSensitive(params, "newName");
    if (!cJSON_IsString(nn))
        return lsp_fail(err, LSP_INVALID_PARAMS, "params.newName must be a string");
    char buf[512];
    const char *why = rename_refusal(s, d, n, o, pos, buf, sizeof buf);
    if (why) return lsp_fail(err, LSP_REQUEST_FAILED, "cannot rename: %s", why);
    const char *new_name = nn->valuestring;
    if (!lsp_is_identifier(new_name, strlen(new_name)))
        return lsp_fail(err, LSP_REQUEST_FAILED,
                        "'%.100s' is not a valid name: use letters, digits and _ (not starting "
                        "with a digit) and no Lua keyword",
                        new_name);
    const lsp_symbol *y = &n->syms[o->sym];
    int clash = lsp_nav_find(n, new_name, strlen(new_name));
    if (clash >= 0 && is_global_kind(y->kind) && clash != o->sym)
        return lsp_fail(
            err, LSP_REQUEST_FAILED, "'%s' is already declared in this file (%s at line %u)",
            new_name, kind_word(n->syms[clash].kind),
            lsp_pos_of(&(lsp_view){d->text, d->len, &d->lines, s->enc}, n->syms[clash].name_start)
                    .line +
                1);
    lsp_view v = lsp_doc_view(s, d);
    cJSON *res = cJSON_CreateObject();
    cJSON *changes = cJSON_AddObjectToObject(res, "changes");
    cJSON *edits = cJSON_AddArrayToObject(changes, d->uri);
    for (size_t i = 0; i < n->n_occs; i++) {
        const lsp_occurrence *x = &n->occs[i];
        if (x->sym != o->sym) continue;
        cJSON *e = cJSON_CreateObject();
        lsp_add(e, "range", lsp_json_range(&v, x->start, x->end));
        cJSON_AddStringToObject(e, "newText", new_name);
        lsp_push(edits, e);
    }
    if (is_global_kind(y->kind)) lsp_ws_rename(s, y->name, new_name, d->path, changes);
    return res;
}

cJSON *lsp_on_highlight(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = NULL;
    lsp_nav *n = NULL;
    size_t pos = 0;
    const lsp_occurrence *o = occ_at(s, params, err, &d, &n, &pos);
    if (!d || !n) return NULL;
    cJSON *arr = cJSON_CreateArray();
    if (!o) return arr;
    lsp_view v = lsp_doc_view(s, d);
    for (size_t i = 0; i < n->n_occs; i++) {
        const lsp_occurrence *x = &n->occs[i];
        if (x->sym != o->sym) continue;
        cJSON *h = cJSON_CreateObject();
        lsp_add(h, "range", lsp_json_range(&v, x->start, x->end));
        int kind = x->role == LSP_OCC_READ ? 2 : x->role == LSP_OCC_TEXT ? 1 : 3;
        cJSON_AddNumberToObject(h, "kind", kind);
        lsp_push(arr, h);
    }
    return arr;
}
