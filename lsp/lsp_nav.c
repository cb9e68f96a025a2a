/*
 * lsp_nav.c - the navigation index: symbols and their occurrences in a
 * document, built on first use per version, and the lookups over it.
 * (lsp_nav_model.c adds the model's part, lsp_nav_scopes.c the syntax
 * walk's; lsp_nav_requests.c answers definition, references, rename and
 * document highlights from it.)
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

int lsp_nav_add_sym(lsp_nav_build *b, lsp_sym_kind kind, const char *name, size_t len)
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

void lsp_nav_add_occ(lsp_nav_build *b, uint32_t start, uint32_t end, int sym, lsp_occ_role role)
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

int lsp_nav_by_name(lsp_nav_build *b, const char *name, size_t len)
{
    void *v = tx_map_get(&b->by_name, name, len);
    return v ? (int)(intptr_t)v - 1 : -1;
}

/* The field symbol `name` of owner's schema, or -1. */
int lsp_nav_field_of(lsp_nav_build *b, int owner, const char *schema, const char *name, size_t len)
{
    for (size_t i = 0; i < b->n->n_syms; i++) {
        const lsp_symbol *y = &b->n->syms[i];
        if (y->kind == LSP_SYM_FIELD && y->owner == owner && strcmp(y->schema, schema) == 0 &&
            strlen(y->name) == len && memcmp(y->name, name, len) == 0)
            return (int)i;
    }
    return -1;
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
    lsp_nav_build b = {.s = s, .d = d, .id = s->ids};
    b.n = tx_calloc(1, sizeof *b.n);
    if (!b.n) return NULL;
    tx_arena_init(&b.n->arena);
    tx_map_init(&b.by_name);
    tx_map_init(&b.globals);
    if (good && good->file && (!d->edits_lost || good->generation == d->generation)) {
        b.a = good;
        b.n->model = good;
        lsp_nav_model_part(&b);
    }
    if (tree) lsp_nav_scopes_part(&b, ts_tree_root_node(tree));
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
