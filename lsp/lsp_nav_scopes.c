/*
 * lsp_nav_scopes.c - the navigation index's part from the current
 * tree-sitter tree: Lua scopes (locals, parameters, for variables, `local
 * function`), every identifier use, assigned globals, and field uses
 * through a procedure's or tool's parameter (input.x, args.x) and state.x.
 * An identifier that names a model declaration is bound to it by name (the
 * DSL's declarations are globals); a local declared exactly where the model
 * declares something (local done = require(...), local x = Agent {...}) is
 * that declaration.
 */
#include <stdlib.h>
#include <string.h>

#include "lsp_internal.h"

#define NAV_MAX_DEPTH 1500

static const char *text_of(lsp_nav_build *b, TSNode n, uint32_t *len)
{
    uint32_t s = ts_node_start_byte(n), e = ts_node_end_byte(n);
    if (e > b->d->len) e = (uint32_t)b->d->len;
    if (s > e) s = e;
    *len = e - s;
    return b->d->text + s;
}

static void push_local(lsp_nav_build *b, const char *name, uint32_t len, int sym)
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

static int find_local(lsp_nav_build *b, const char *name, uint32_t len)
{
    for (size_t i = b->n_locals; i-- > 0;)
        if (b->locals[i].len == len && memcmp(b->locals[i].name, name, len) == 0)
            return b->locals[i].sym;
    return -1;
}

/* Declares a local at identifier node n: the model's declaration when the
 * model declares something exactly there, else a new LOCAL. */
static int declare(lsp_nav_build *b, TSNode n)
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
        k = lsp_nav_add_sym(b, LSP_SYM_LOCAL, name, len);
        if (k < 0) return -1;
        lsp_symbol *y = &b->n->syms[k];
        y->name_start = y->start = s;
        y->name_end = y->end = e;
        y->has_decl = true;
        y->renamable = true;
        lsp_nav_add_occ(b, s, e, k, LSP_OCC_DECL);
    }
    push_local(b, name, len, k);
    return k;
}

/* The symbol an identifier use refers to: a visible local, a model
 * declaration, or an assigned global. */
static int resolve(lsp_nav_build *b, const char *name, uint32_t len)
{
    int k = find_local(b, name, len);
    if (k >= 0) return k;
    k = lsp_nav_by_name(b, name, len);
    if (k >= 0) return k;
    void *v = tx_map_get(&b->globals, name, len);
    return v ? (int)(intptr_t)v - 1 : -1;
}

static void walk(lsp_nav_build *b, TSNode n, int depth);

static void walk_children(lsp_nav_build *b, TSNode n, int depth)
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
static void declare_list(lsp_nav_build *b, TSNode list, int *first)
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
static int function_owner(lsp_nav_build *b, TSNode fn)
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
        if (lsp_doc_map(b->d, &fs, &fe) && fs == s && fe == e) return (int)i;
    }
    return -1;
}

static void walk_function(lsp_nav_build *b, TSNode n, int depth, bool method)
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
static void field_use(lsp_nav_build *b, TSNode table, TSNode field, int table_sym)
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
    int k = lsp_nav_field_of(b, owner, schema, fn, fl);
    if (k >= 0)
        lsp_nav_add_occ(b, ts_node_start_byte(field), ts_node_end_byte(field), k, LSP_OCC_READ);
}

static void use_identifier(lsp_nav_build *b, TSNode n, lsp_occ_role role)
{
    uint32_t len;
    const char *name = text_of(b, n, &len);
    int k = resolve(b, name, len);
    if (k >= 0) lsp_nav_add_occ(b, ts_node_start_byte(n), ts_node_end_byte(n), k, role);
}

static void walk(lsp_nav_build *b, TSNode n, int depth)
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
static void collect_globals(lsp_nav_build *b, TSNode root)
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
            if (lsp_nav_by_name(b, nm, len) >= 0 || tx_map_get(&b->globals, nm, len)) continue;
            int k = lsp_nav_add_sym(b, LSP_SYM_GLOBAL, nm, len);
            if (k < 0) break;
            lsp_symbol *y = &b->n->syms[k];
            y->name_start = ts_node_start_byte(name);
            y->name_end = ts_node_end_byte(name);
            y->start = ts_node_start_byte(st);
            y->end = ts_node_end_byte(st);
            y->has_decl = true;
            y->renamable = true;
            lsp_nav_add_occ(b, y->name_start, y->name_end, k, LSP_OCC_DECL);
            if (tx_map_put(&b->globals, y->name, len, (void *)(intptr_t)(k + 1)) != TX_OK)
                b->oom = true;
        } while (ts_tree_cursor_goto_next_sibling(&c));
    }
    ts_tree_cursor_delete(&c);
}

void lsp_nav_scopes_part(lsp_nav_build *b, TSNode root)
{
    collect_globals(b, root);
    walk(b, root, 0);
}
