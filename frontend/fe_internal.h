/*
 * fe_internal.h - shared between the frontend's own files; not public.
 */
#ifndef TACTUS_FE_INTERNAL_H
#define TACTUS_FE_INTERNAL_H

#include <lua.h>
#include <string.h>

#include "fe_lparse.h"
#include "frontend.h"

/* Symbol and field ids of the tactus grammar, looked up once per context so
 * that hot walks compare integers, not strings. */
typedef struct {
    uint16_t identifier, string, string_content, escape_sequence, number, nil, true_, false_,
        table_constructor, field, function_call, arguments, function_definition,
        dot_index_expression, bracket_index_expression, method_index_expression,
        parenthesized_expression, variable_declaration, assignment_statement, variable_list,
        expression_list, function_declaration, return_statement, parameters, for_statement,
        for_numeric_clause, for_generic_clause, block, comment, chunk, vararg_expression,
        binary_expression, unary_expression, repeat_statement, label_statement,
        goto_statement, attribute, empty_statement, hash_bang_line;
    uint16_t f_name, f_value, f_key, f_table, f_field, f_method, f_arguments, f_parameters,
        f_body, f_content, f_start, f_end, f_clause, f_condition, f_operand;
} fe_syms;

struct fe_context {
    TSParser *gherkin_parser;
    lua_State *L; /* no libraries opened: used only to compile and convert numbers */
    fe_syms sym;
};

/* State of one parse. */
typedef struct {
    fe_context *ctx;
    fe_file *file;
    const fe_syms *sym;
    bool oom;
    const char *lua_error; /* Lua's message when the file does not compile */
    const fe_ast *ast;     /* our parser's result, for the column of a syntax error */
    fe_reuse *reuse;       /* fe_parse_again: what the last parse of this document kept */
    /* Append points of the model's lists (appending stays O(1)). */
    fe_procedure **tail_procedures;
    fe_agent **tail_agents;
    fe_tool **tail_tools;
    fe_model **tail_models;
    fe_evaluation **tail_evaluations;
    fe_spec **tail_specs;
} fe_parser;

/* tree-sitter 0.20 has no ts_node_is_error; ERROR nodes carry the builtin
 * symbol (TSSymbol)-1 (ts_builtin_sym_error in parser.h). */
static inline bool fe_node_is_error(TSNode n)
{
    return ts_node_symbol(n) == (TSSymbol)-1;
}

/* Iterates the named children of a tree-sitter node (the Gherkin trees).
 * ts_node_named_child(n, i) walks from the first child every time, so large
 * nodes use a cursor. Always end with fe_ts_iter_done. */
#define FE_ITER_CURSOR_FROM 16

typedef struct {
    TSNode parent;
    uint32_t index, count;
    bool use_cursor;
    TSTreeCursor cursor;
    int state; /* cursor: 0 before the first child, 1 walking, 2 done */
} fe_ts_iter;

static inline fe_ts_iter fe_ts_iter_start(TSNode parent)
{
    fe_ts_iter it;
    memset(&it, 0, sizeof it);
    it.parent = parent;
    it.count = ts_node_named_child_count(parent);
    it.use_cursor = it.count >= FE_ITER_CURSOR_FROM;
    if (it.use_cursor) it.cursor = ts_tree_cursor_new(parent);
    return it;
}

static inline bool fe_ts_iter_next(fe_ts_iter *it, TSNode *out)
{
    if (!it->use_cursor) {
        if (it->index >= it->count) return false;
        *out = ts_node_named_child(it->parent, it->index++);
        return true;
    }
    while (it->state != 2) {
        bool moved = it->state == 0 ? ts_tree_cursor_goto_first_child(&it->cursor)
                                    : ts_tree_cursor_goto_next_sibling(&it->cursor);
        it->state = moved ? 1 : 2;
        if (!moved) break;
        TSNode n = ts_tree_cursor_current_node(&it->cursor);
        if (ts_node_is_named(n)) {
            *out = n;
            return true;
        }
    }
    return false;
}

static inline void fe_ts_iter_done(fe_ts_iter *it)
{
    if (it->use_cursor) ts_tree_cursor_delete(&it->cursor);
}

/* Iterates the named children of a node of our own tree (fe_lparse.h). */
typedef struct {
    const fe_node *next;
} fe_iter;

static inline fe_iter fe_iter_start(const fe_node *parent)
{
    fe_iter it = {parent->first};
    return it;
}

static inline bool fe_iter_next(fe_iter *it, const fe_node **out)
{
    while (it->next && !it->next->named) it->next = it->next->next;
    if (!it->next) return false;
    *out = it->next;
    it->next = it->next->next;
    return true;
}

static inline void fe_iter_done(fe_iter *it)
{
    (void)it;
}

/* Spans and text of tree-sitter nodes (the Gherkin trees). */
tx_span fe_ts_span(TSNode node);
char *fe_ts_text(fe_parser *p, TSNode node);

/* fe_values.c */
fe_value *fe_value_from_node(fe_parser *p, const fe_node *node, int depth);
const char *fe_static_name(fe_parser *p, const fe_node *node, int depth);
tx_span fe_node_span(const fe_node *node);
char *fe_node_text(fe_parser *p, const fe_node *node);
void *fe_alloc(fe_parser *p, size_t n);
char *fe_strndup(fe_parser *p, const char *s, size_t n);

/* fe_specs.c */
void fe_parse_spec(fe_parser *p, const fe_value *arg, tx_span call_span);

/* fe_reuse.c: see there. */
bool fe_reuse_lua_ok(fe_parser *p, fe_reuse *r, const fe_ast *ast);
TSTree *fe_reuse_take_gherkin(fe_reuse *r, const char *src, tx_span content);
void fe_reuse_keep_gherkin(fe_reuse *r, const char *src, tx_span content, TSTree *tree);
void fe_reuse_remember(fe_reuse *r, const fe_file *f, const fe_ast *ast);
void fe_reuse_forget(fe_reuse *r);

/* fe_syntax.c: compile with Lua (sets lua_ok, keeps the error), then report
 * it once the tree exists, using the tree to find the column. */
void fe_lua_compile(fe_parser *p);
void fe_report_lua_error(fe_parser *p);

/* The construct a syntax error left open (fe_unclosed.c). */
typedef struct {
    size_t at, len;     /* the opening token */
    unsigned long line; /* 1-based */
    char opener[16];    /* "if", "function", "(", ... */
    char closer[8];     /* what closes it: "end", "until", ")", ... */
    /* An `end` meant for an enclosing block closed this one instead. */
    bool stolen;
    unsigned long end_line, lined_up_line;
    char lined_up[16];
} fe_unclosed;

/* Finds it, scanning the tokens of src up to byte `stop` (where Lua's
 * compiler stopped; len at the end of the file); lua_msg is its message.
 * False when the error is not one of a construct left open. */
bool fe_find_unclosed(const char *src, size_t len, size_t stop, const char *lua_msg,
                      fe_unclosed *out);

#endif
