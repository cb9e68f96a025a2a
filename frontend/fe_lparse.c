/*
 * fe_lparse.c - Lua 5.4 recursive-descent parser building the `tactus`
 * grammar's tree (see fe_lparse.h for the contract; the lexer is fe_llex.c,
 * the node names fe_lnames.c).
 *
 * Structure follows Lua's own lparser.c / llex.c (statement, subexpr with the
 * priority table of lparser.c, suffixedexp, ...), so the tree has Lua's
 * precedence and associativity; the node shapes, fields and ranges follow
 * grammar/tactus/grammar.js. Where tree-sitter's ranges are not simply "first
 * token to last token" it is said at the spot (the chunk, string parts).
 *
 * Errors unwind with longjmp to fe_lparse, as Lua's parser does: there is
 * nothing to release (every node is in the caller's arena) and no recovery,
 * so every helper can assume its input is well formed once it returns.
 * Recursion is bounded: every cycle of the grammar passes through
 * parse_statement or parse_expr, which count depth against
 * FE_LPARSE_MAX_DEPTH.
 */
#include "fe_lparse.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "fe_llex.h"

/* Binary operators: Lua 5.4's priority table (lparser.c), left > limit
 * continues the loop in parse_expr; right < left makes an operator right
 * associative (`..`, `^`). */
typedef struct {
    uint8_t left, right;
    uint16_t kind;
} lp_binop;

static const lp_binop binops[T__COUNT] = {
    [T_PLUS] = {10, 10, FE_K_PLUS},     [T_MINUS] = {10, 10, FE_K_MINUS},
    [T_STAR] = {11, 11, FE_K_STAR},     [T_PERCENT] = {11, 11, FE_K_PERCENT},
    [T_CARET] = {14, 13, FE_K_CARET},   [T_SLASH] = {11, 11, FE_K_SLASH},
    [T_DSLASH] = {11, 11, FE_K_DSLASH}, [T_AMP] = {6, 6, FE_K_BAND},
    [T_PIPE] = {4, 4, FE_K_BOR},        [T_TILDE] = {5, 5, FE_K_TILDE},
    [T_SHL] = {7, 7, FE_K_SHL},         [T_SHR] = {7, 7, FE_K_SHR},
    [T_CONCAT] = {9, 8, FE_K_CONCAT},   [T_EQ] = {3, 3, FE_K_EQ},
    [T_LT] = {3, 3, FE_K_LT},           [T_LE] = {3, 3, FE_K_LE},
    [T_NE] = {3, 3, FE_K_NE},           [T_GT] = {3, 3, FE_K_GT},
    [T_GE] = {3, 3, FE_K_GE},           [T_AND] = {2, 2, FE_K_AND},
    [T_OR] = {1, 1, FE_K_OR},
};
#define UNARY_PRIORITY 12 /* above every binary operator but `^` */

/* ---- tokens ------------------------------------------------------------------------- */

static inline void next(lp_parser *p)
{
    p->prev_end = p->t.end;
    p->prev_ep = p->t.ep;
    if (p->has_ahead) {
        p->t = p->ahead;
        p->has_ahead = false;
    } else {
        lp_lex(p, &p->t);
    }
}

static inline int peek(lp_parser *p)
{
    if (!p->has_ahead) {
        lp_lex(p, &p->ahead);
        p->has_ahead = true;
    }
    return p->ahead.type;
}

/* ---- nodes -------------------------------------------------------------------------- */

static fe_node *node_alloc(lp_parser *p, uint16_t kind, bool named)
{
    if (p->pool_left == 0) {
        p->pool = tx_arena_alloc(p->arena, LP_BATCH * sizeof(fe_node));
        if (!p->pool) lp_fail_status(p, TX_ENOMEM);
        p->pool_left = LP_BATCH;
    }
    fe_node *n = p->pool++;
    p->pool_left--;
    n->kind = kind;
    n->named = named;
    return n;
}

/* A node starting at the current token. */
static inline fe_node *node_at_token(lp_parser *p, uint16_t kind)
{
    fe_node *n = node_alloc(p, kind, true);
    n->start_byte = p->t.start;
    n->start = p->t.sp;
    return n;
}

/* A node starting where `child` starts. */
static inline fe_node *node_from(lp_parser *p, uint16_t kind, const fe_node *child)
{
    fe_node *n = node_alloc(p, kind, true);
    n->start_byte = child->start_byte;
    n->start = child->start;
    return n;
}

/* Ends n at the last token consumed: every node but the chunk ends with its
 * last token (tree-sitter never counts trailing comments or spaces). */
static inline void finish(const lp_parser *p, fe_node *n)
{
    n->end_byte = p->prev_end;
    n->end = p->prev_ep;
}

/* The current token as a leaf node; consumes it. */
static inline fe_node *leaf(lp_parser *p, uint16_t kind, bool named)
{
    fe_node *n = node_alloc(p, kind, named);
    n->start_byte = p->t.start;
    n->end_byte = p->t.end;
    n->start = p->t.sp;
    n->end = p->t.ep;
    next(p);
    return n;
}

/* Appends child to parent's children; `last` is the parent's last child. */
static inline void add(fe_node *parent, fe_node **last, fe_node *child, uint16_t field)
{
    child->field = field;
    if (*last)
        (*last)->next = child;
    else
        parent->first = child;
    *last = child;
    if (child->named) parent->n_named++;
}

/* ---- parser helpers ------------------------------------------------------------------ */

static inline void expect(lp_parser *p, int type)
{
    if (p->t.type != type) lp_fail_expected(p, type);
    next(p);
}

/* `what` closes the construct opened by `opener` at row `open_row`. */
static void expect_match(lp_parser *p, int what, int opener, uint32_t open_row)
{
    if (p->t.type == what) {
        next(p);
        return;
    }
    if (open_row == p->t.sp.row) lp_fail_expected(p, what);
    char msg[96];
    snprintf(msg, sizeof msg, "'%s' expected (to close '%s' at line %u)", lp_token_names[what],
             lp_token_names[opener], open_row + 1);
    lp_fail_near(p, msg);
}

static inline fe_node *identifier(lp_parser *p)
{
    if (p->t.type != T_NAME) lp_fail_near(p, "<name> expected");
    return leaf(p, FE_K_IDENTIFIER, true);
}

static inline void enter(lp_parser *p)
{
    if (++p->depth > FE_LPARSE_MAX_DEPTH) {
        p->out->err_byte = p->t.start;
        p->out->err_point = p->t.sp;
        snprintf(p->out->err_msg, sizeof p->out->err_msg, "nesting deeper than %d levels",
                 FE_LPARSE_MAX_DEPTH);
        lp_fail_status(p, TX_ELIMIT);
    }
}

static inline void leave(lp_parser *p)
{
    p->depth--;
}

static inline bool block_follow(int type)
{
    return type == T_EOF || type == T_END || type == T_ELSE || type == T_ELSEIF || type == T_UNTIL;
}

/* ---- expressions ------------------------------------------------------------------------ */

static fe_node *parse_expr(lp_parser *p, unsigned limit);
static fe_node *parse_block(lp_parser *p);

/* A string token as `string` with start / content / end children. The
 * delimiters never contain a newline, so their points are the token's start
 * and end points shifted by the delimiter length. */
static fe_node *parse_string(lp_parser *p)
{
    const lp_token *t = &p->t;
    uint32_t d = t->dlen;
    uint16_t open_kind = FE_K_LONG_OPEN, close_kind = FE_K_LONG_CLOSE;
    if (t->type == T_STRING)
        open_kind = close_kind = p->s[t->start] == '"' ? FE_K_DQUOTE : FE_K_SQUOTE;
    fe_node *str = node_alloc(p, FE_K_STRING, true), *last = NULL;
    str->start_byte = t->start;
    str->end_byte = t->end;
    str->start = t->sp;
    str->end = t->ep;

    fe_node *open = node_alloc(p, open_kind, false);
    open->start_byte = t->start;
    open->end_byte = t->start + d;
    open->start = t->sp;
    open->end = (tx_point){t->sp.row, t->sp.column + d};
    add(str, &last, open, FE_F_START);

    if (t->end - t->start > 2 * d) {
        fe_node *content = node_alloc(p, FE_K_STRING_CONTENT, true);
        content->start_byte = t->start + d;
        content->end_byte = t->end - d;
        content->start = open->end;
        content->end = (tx_point){t->ep.row, t->ep.column - d};
        add(str, &last, content, FE_F_CONTENT);
    }

    fe_node *close = node_alloc(p, close_kind, false);
    close->start_byte = t->end - d;
    close->end_byte = t->end;
    close->start = (tx_point){t->ep.row, t->ep.column - d};
    close->end = t->ep;
    add(str, &last, close, FE_F_END);
    next(p);
    return str;
}

/* expression_list: exp {',' exp}, each under `value`. */
static fe_node *parse_expression_list(lp_parser *p)
{
    fe_node *e = parse_expr(p, 0);
    fe_node *list = node_from(p, FE_K_EXPRESSION_LIST, e), *last = NULL;
    add(list, &last, e, FE_F_VALUE);
    while (p->t.type == T_COMMA) {
        next(p);
        add(list, &last, parse_expr(p, 0), FE_F_VALUE);
    }
    finish(p, list);
    return list;
}

/* `{ [k] = v, k = v, v; ... }` with an optional trailing separator. */
static fe_node *parse_table(lp_parser *p)
{
    fe_node *table = node_at_token(p, FE_K_TABLE_CONSTRUCTOR), *last = NULL;
    uint32_t open_row = p->t.sp.row;
    next(p);
    while (p->t.type != T_RBRACE) {
        fe_node *f, *flast = NULL;
        if (p->t.type == T_LBRACKET) {
            f = node_at_token(p, FE_K_FIELD);
            next(p);
            add(f, &flast, parse_expr(p, 0), FE_F_KEY);
            expect(p, T_RBRACKET);
            expect(p, T_ASSIGN);
            add(f, &flast, parse_expr(p, 0), FE_F_VALUE);
        } else if (p->t.type == T_NAME && peek(p) == T_ASSIGN) {
            f = node_at_token(p, FE_K_FIELD);
            add(f, &flast, leaf(p, FE_K_IDENTIFIER, true), FE_F_NAME);
            next(p); /* = */
            add(f, &flast, parse_expr(p, 0), FE_F_VALUE);
        } else {
            fe_node *v = parse_expr(p, 0);
            f = node_from(p, FE_K_FIELD, v);
            add(f, &flast, v, FE_F_VALUE);
        }
        finish(p, f);
        add(table, &last, f, FE_F_NONE);
        if (p->t.type != T_COMMA && p->t.type != T_SEMI) break;
        next(p);
    }
    expect_match(p, T_RBRACE, T_LBRACE, open_row);
    finish(p, table);
    return table;
}

/* `(params) block end` of a function; the children go to `fn`. */
static void parse_function_body(lp_parser *p, fe_node *fn, fe_node **last, uint32_t open_row)
{
    if (p->t.type != T_LPAREN) lp_fail_expected(p, T_LPAREN);
    fe_node *params = node_at_token(p, FE_K_PARAMETERS), *plast = NULL;
    next(p);
    if (p->t.type != T_RPAREN) {
        for (;;) {
            if (p->t.type == T_NAME) {
                add(params, &plast, leaf(p, FE_K_IDENTIFIER, true), FE_F_NAME);
            } else if (p->t.type == T_DOTS) {
                add(params, &plast, leaf(p, FE_K_VARARG_EXPRESSION, true), FE_F_NONE);
                break;
            } else {
                lp_fail_near(p, "<name> expected");
            }
            if (p->t.type != T_COMMA) break;
            next(p);
        }
    }
    expect(p, T_RPAREN);
    finish(p, params);
    add(fn, last, params, FE_F_PARAMETERS);
    fe_node *body = parse_block(p);
    if (body) add(fn, last, body, FE_F_BODY);
    expect_match(p, T_END, T_FUNCTION, open_row);
}

/* arguments: `(explist)`, a table constructor or a string. */
static fe_node *parse_arguments(lp_parser *p)
{
    fe_node *args = node_at_token(p, FE_K_ARGUMENTS), *last = NULL;
    switch (p->t.type) {
    case T_LPAREN: {
        uint32_t open_row = p->t.sp.row;
        next(p);
        if (p->t.type != T_RPAREN) {
            add(args, &last, parse_expr(p, 0), FE_F_NONE);
            while (p->t.type == T_COMMA) {
                next(p);
                add(args, &last, parse_expr(p, 0), FE_F_NONE);
            }
        }
        expect_match(p, T_RPAREN, T_LPAREN, open_row);
        break;
    }
    case T_LBRACE:
        add(args, &last, parse_table(p), FE_F_NONE);
        break;
    default: /* T_STRING, T_LONGSTRING */
        add(args, &last, parse_string(p), FE_F_NONE);
        break;
    }
    finish(p, args);
    return args;
}

/* primaryexp: Name | '(' exp ')' */
static fe_node *parse_primary(lp_parser *p)
{
    if (p->t.type == T_NAME) return leaf(p, FE_K_IDENTIFIER, true);
    if (p->t.type != T_LPAREN) lp_fail_near(p, "unexpected symbol");
    fe_node *paren = node_at_token(p, FE_K_PARENTHESIZED_EXPRESSION), *last = NULL;
    uint32_t open_row = p->t.sp.row;
    next(p);
    add(paren, &last, parse_expr(p, 0), FE_F_NONE);
    expect_match(p, T_RPAREN, T_LPAREN, open_row);
    finish(p, paren);
    return paren;
}

/* suffixedexp: primaryexp { '.' Name | '[' exp ']' | ':' Name args | args } */
static fe_node *parse_suffixed(lp_parser *p)
{
    fe_node *e = parse_primary(p);
    for (;;) {
        fe_node *n, *last = NULL;
        switch (p->t.type) {
        case T_DOT:
            n = node_from(p, FE_K_DOT_INDEX_EXPRESSION, e);
            add(n, &last, e, FE_F_TABLE);
            next(p);
            add(n, &last, identifier(p), FE_F_FIELD);
            break;
        case T_LBRACKET:
            n = node_from(p, FE_K_BRACKET_INDEX_EXPRESSION, e);
            add(n, &last, e, FE_F_TABLE);
            next(p);
            add(n, &last, parse_expr(p, 0), FE_F_FIELD);
            expect(p, T_RBRACKET);
            break;
        case T_COLON: {
            fe_node *m = node_from(p, FE_K_METHOD_INDEX_EXPRESSION, e), *mlast = NULL;
            add(m, &mlast, e, FE_F_TABLE);
            next(p);
            add(m, &mlast, identifier(p), FE_F_METHOD);
            finish(p, m);
            if (p->t.type != T_LPAREN && p->t.type != T_STRING && p->t.type != T_LONGSTRING &&
                p->t.type != T_LBRACE)
                lp_fail_near(p, "function arguments expected");
            n = node_from(p, FE_K_FUNCTION_CALL, m);
            add(n, &last, m, FE_F_NAME);
            add(n, &last, parse_arguments(p), FE_F_ARGUMENTS);
            break;
        }
        case T_LPAREN:
        case T_STRING:
        case T_LONGSTRING:
        case T_LBRACE:
            n = node_from(p, FE_K_FUNCTION_CALL, e);
            add(n, &last, e, FE_F_NAME);
            add(n, &last, parse_arguments(p), FE_F_ARGUMENTS);
            break;
        default:
            return e;
        }
        finish(p, n);
        e = n;
    }
}

/* simpleexp: literals, `...`, tables, `function`, or a suffixed expression. */
static fe_node *parse_simple(lp_parser *p)
{
    switch (p->t.type) {
    case T_NUMBER:
        return leaf(p, FE_K_NUMBER, true);
    case T_STRING:
    case T_LONGSTRING:
        return parse_string(p);
    case T_NIL:
        return leaf(p, FE_K_NIL, true);
    case T_TRUE:
        return leaf(p, FE_K_TRUE, true);
    case T_FALSE:
        return leaf(p, FE_K_FALSE, true);
    case T_DOTS:
        return leaf(p, FE_K_VARARG_EXPRESSION, true);
    case T_LBRACE:
        return parse_table(p);
    case T_FUNCTION: {
        fe_node *fn = node_at_token(p, FE_K_FUNCTION_DEFINITION), *last = NULL;
        uint32_t open_row = p->t.sp.row;
        next(p);
        parse_function_body(p, fn, &last, open_row);
        finish(p, fn);
        return fn;
    }
    default:
        return parse_suffixed(p);
    }
}

static inline int unary_kind(int type)
{
    switch (type) {
    case T_NOT:
        return FE_K_NOT;
    case T_MINUS:
        return FE_K_MINUS;
    case T_TILDE:
        return FE_K_TILDE;
    case T_HASH:
        return FE_K_HASH;
    default:
        return -1;
    }
}

/* subexpr of lparser.c: an expression whose binary operators all bind
 * tighter than `limit`. */
static fe_node *parse_expr(lp_parser *p, unsigned limit)
{
    enter(p);
    fe_node *e;
    int uk = unary_kind(p->t.type);
    if (uk >= 0) {
        fe_node *last = NULL;
        e = node_at_token(p, FE_K_UNARY_EXPRESSION);
        add(e, &last, leaf(p, (uint16_t)uk, false), FE_F_OPERATOR);
        add(e, &last, parse_expr(p, UNARY_PRIORITY), FE_F_OPERAND);
        finish(p, e);
    } else {
        e = parse_simple(p);
    }
    for (;;) {
        const lp_binop *op = &binops[p->t.type];
        if (op->left <= limit) break; /* also every non-operator: left == 0 */
        fe_node *bin = node_from(p, FE_K_BINARY_EXPRESSION, e), *last = NULL;
        add(bin, &last, e, FE_F_LEFT);
        add(bin, &last, leaf(p, op->kind, false), FE_F_OPERATOR);
        add(bin, &last, parse_expr(p, op->right), FE_F_RIGHT);
        finish(p, bin);
        e = bin;
    }
    leave(p);
    return e;
}

/* ---- statements ----------------------------------------------------------------------------- */

static fe_node *parse_statement(lp_parser *p);

/* return [explist] [';'] */
static fe_node *parse_return(lp_parser *p)
{
    fe_node *ret = node_at_token(p, FE_K_RETURN_STATEMENT), *last = NULL;
    next(p);
    if (!block_follow(p->t.type) && p->t.type != T_SEMI)
        add(ret, &last, parse_expression_list(p), FE_F_NONE);
    if (p->t.type == T_SEMI) next(p);
    finish(p, ret);
    return ret;
}

/* Statements up to a block end; NULL when there are none (the grammar has
 * no empty `block`: an empty body has no node). */
static fe_node *parse_block(lp_parser *p)
{
    fe_node *block = NULL, *last = NULL;
    while (!block_follow(p->t.type)) {
        bool is_return = p->t.type == T_RETURN;
        fe_node *st = is_return ? parse_return(p) : parse_statement(p);
        if (!block) block = node_from(p, FE_K_BLOCK, st);
        add(block, &last, st, FE_F_NONE);
        if (is_return) break;
    }
    if (block) finish(p, block);
    return block;
}

static fe_node *parse_if(lp_parser *p)
{
    fe_node *st = node_at_token(p, FE_K_IF_STATEMENT), *last = NULL;
    uint32_t open_row = p->t.sp.row;
    next(p);
    add(st, &last, parse_expr(p, 0), FE_F_CONDITION);
    expect(p, T_THEN);
    fe_node *body = parse_block(p);
    if (body) add(st, &last, body, FE_F_CONSEQUENCE);
    while (p->t.type == T_ELSEIF) {
        fe_node *alt = node_at_token(p, FE_K_ELSEIF_STATEMENT), *alast = NULL;
        next(p);
        add(alt, &alast, parse_expr(p, 0), FE_F_CONDITION);
        expect(p, T_THEN);
        body = parse_block(p);
        if (body) add(alt, &alast, body, FE_F_CONSEQUENCE);
        finish(p, alt);
        add(st, &last, alt, FE_F_ALTERNATIVE);
    }
    if (p->t.type == T_ELSE) {
        fe_node *alt = node_at_token(p, FE_K_ELSE_STATEMENT), *alast = NULL;
        next(p);
        body = parse_block(p);
        if (body) add(alt, &alast, body, FE_F_BODY);
        finish(p, alt);
        add(st, &last, alt, FE_F_ALTERNATIVE);
    }
    expect_match(p, T_END, T_IF, open_row);
    finish(p, st);
    return st;
}

static fe_node *parse_for(lp_parser *p)
{
    fe_node *st = node_at_token(p, FE_K_FOR_STATEMENT), *last = NULL;
    uint32_t open_row = p->t.sp.row;
    next(p);
    fe_node *name = identifier(p);
    fe_node *clause, *clast = NULL;
    if (p->t.type == T_ASSIGN) {
        clause = node_from(p, FE_K_FOR_NUMERIC_CLAUSE, name);
        add(clause, &clast, name, FE_F_NAME);
        next(p);
        add(clause, &clast, parse_expr(p, 0), FE_F_START);
        expect(p, T_COMMA);
        add(clause, &clast, parse_expr(p, 0), FE_F_END);
        if (p->t.type == T_COMMA) {
            next(p);
            add(clause, &clast, parse_expr(p, 0), FE_F_STEP);
        }
    } else if (p->t.type == T_COMMA || p->t.type == T_IN) {
        clause = node_from(p, FE_K_FOR_GENERIC_CLAUSE, name);
        fe_node *names = node_from(p, FE_K_VARIABLE_LIST, name), *nlast = NULL;
        add(names, &nlast, name, FE_F_NAME);
        while (p->t.type == T_COMMA) {
            next(p);
            add(names, &nlast, identifier(p), FE_F_NAME);
        }
        finish(p, names);
        add(clause, &clast, names, FE_F_NONE);
        expect(p, T_IN);
        add(clause, &clast, parse_expression_list(p), FE_F_NONE);
    } else {
        lp_fail_near(p, "'=' or 'in' expected");
    }
    finish(p, clause);
    add(st, &last, clause, FE_F_CLAUSE);
    expect(p, T_DO);
    fe_node *body = parse_block(p);
    if (body) add(st, &last, body, FE_F_BODY);
    expect_match(p, T_END, T_FOR, open_row);
    finish(p, st);
    return st;
}

/* funcname: Name {'.' Name} [':' Name] */
static fe_node *parse_function_name(lp_parser *p)
{
    fe_node *e = identifier(p);
    while (p->t.type == T_DOT) {
        fe_node *d = node_from(p, FE_K_DOT_INDEX_EXPRESSION, e), *last = NULL;
        add(d, &last, e, FE_F_TABLE);
        next(p);
        add(d, &last, identifier(p), FE_F_FIELD);
        finish(p, d);
        e = d;
    }
    if (p->t.type == T_COLON) {
        fe_node *m = node_from(p, FE_K_METHOD_INDEX_EXPRESSION, e), *last = NULL;
        add(m, &last, e, FE_F_TABLE);
        next(p);
        add(m, &last, identifier(p), FE_F_METHOD);
        finish(p, m);
        e = m;
    }
    return e;
}

/* `local function f body` or `local a <attr>, b = explist` */
static fe_node *parse_local(lp_parser *p)
{
    fe_node *st = node_at_token(p, FE_K_VARIABLE_DECLARATION), *last = NULL;
    uint32_t open_row = p->t.sp.row;
    add(st, &last, leaf(p, FE_K_LOCAL, false), FE_F_NONE);
    if (p->t.type == T_FUNCTION) {
        st->kind = FE_K_FUNCTION_DECLARATION;
        next(p);
        add(st, &last, identifier(p), FE_F_NAME);
        parse_function_body(p, st, &last, open_row);
        finish(p, st);
        return st;
    }
    fe_node *name = identifier(p);
    fe_node *names = node_from(p, FE_K_VARIABLE_LIST, name), *nlast = NULL;
    for (;;) {
        add(names, &nlast, name, FE_F_NAME);
        if (p->t.type == T_LT) {
            fe_node *attr = node_at_token(p, FE_K_ATTRIBUTE), *alast = NULL;
            next(p);
            const lp_token at_name = p->t;
            add(attr, &alast, identifier(p), FE_F_NAME);
            uint32_t an = at_name.end - at_name.start;
            const char *a = (const char *)p->s + at_name.start;
            if (!(an == 5 && memcmp(a, "const", 5) == 0) &&
                !(an == 5 && memcmp(a, "close", 5) == 0))
                lp_fail_at(p, at_name.start, at_name.sp, "unknown attribute '%.*s'",
                        (int)(an > 40 ? 40 : an), a);
            expect(p, T_GT);
            finish(p, attr);
            add(names, &nlast, attr, FE_F_ATTRIBUTE);
        }
        if (p->t.type != T_COMMA) break;
        next(p);
        name = identifier(p);
    }
    finish(p, names);
    add(st, &last, names, FE_F_NONE);
    if (p->t.type == T_ASSIGN) {
        next(p);
        add(st, &last, parse_expression_list(p), FE_F_NONE);
    }
    finish(p, st);
    return st;
}

static inline bool is_assignable(const fe_node *e)
{
    return e->kind == FE_K_IDENTIFIER || e->kind == FE_K_DOT_INDEX_EXPRESSION ||
           e->kind == FE_K_BRACKET_INDEX_EXPRESSION;
}

/* exprstat: a call, or `var {, var} = explist`. */
static fe_node *parse_expression_statement(lp_parser *p)
{
    const lp_token first = p->t;
    fe_node *e = parse_suffixed(p);
    if (p->t.type != T_ASSIGN && p->t.type != T_COMMA) {
        if (e->kind != FE_K_FUNCTION_CALL) lp_fail_near(p, "syntax error");
        return e;
    }
    if (!is_assignable(e)) lp_fail_at(p, first.start, first.sp, "syntax error: cannot assign to this");
    fe_node *vars = node_from(p, FE_K_VARIABLE_LIST, e), *vlast = NULL;
    add(vars, &vlast, e, FE_F_NAME);
    while (p->t.type == T_COMMA) {
        next(p);
        const lp_token at_var = p->t;
        fe_node *v = parse_suffixed(p);
        if (!is_assignable(v))
            lp_fail_at(p, at_var.start, at_var.sp, "syntax error: cannot assign to this");
        add(vars, &vlast, v, FE_F_NAME);
    }
    finish(p, vars);
    expect(p, T_ASSIGN);
    fe_node *st = node_from(p, FE_K_ASSIGNMENT_STATEMENT, vars), *last = NULL;
    add(st, &last, vars, FE_F_NONE);
    add(st, &last, parse_expression_list(p), FE_F_NONE);
    finish(p, st);
    return st;
}

static fe_node *parse_statement(lp_parser *p)
{
    enter(p);
    fe_node *st, *last = NULL;
    uint32_t open_row = p->t.sp.row;
    switch (p->t.type) {
    case T_SEMI:
        st = leaf(p, FE_K_EMPTY_STATEMENT, true);
        break;
    case T_IF:
        st = parse_if(p);
        break;
    case T_WHILE:
        st = node_at_token(p, FE_K_WHILE_STATEMENT);
        next(p);
        add(st, &last, parse_expr(p, 0), FE_F_CONDITION);
        expect(p, T_DO);
        {
            fe_node *body = parse_block(p);
            if (body) add(st, &last, body, FE_F_BODY);
        }
        expect_match(p, T_END, T_WHILE, open_row);
        finish(p, st);
        break;
    case T_DO:
        st = node_at_token(p, FE_K_DO_STATEMENT);
        next(p);
        {
            fe_node *body = parse_block(p);
            if (body) add(st, &last, body, FE_F_BODY);
        }
        expect_match(p, T_END, T_DO, open_row);
        finish(p, st);
        break;
    case T_FOR:
        st = parse_for(p);
        break;
    case T_REPEAT:
        st = node_at_token(p, FE_K_REPEAT_STATEMENT);
        next(p);
        {
            fe_node *body = parse_block(p);
            if (body) add(st, &last, body, FE_F_BODY);
        }
        expect_match(p, T_UNTIL, T_REPEAT, open_row);
        add(st, &last, parse_expr(p, 0), FE_F_CONDITION);
        finish(p, st);
        break;
    case T_FUNCTION:
        st = node_at_token(p, FE_K_FUNCTION_DECLARATION);
        next(p);
        add(st, &last, parse_function_name(p), FE_F_NAME);
        parse_function_body(p, st, &last, open_row);
        finish(p, st);
        break;
    case T_LOCAL:
        st = parse_local(p);
        break;
    case T_DCOLON:
        st = node_at_token(p, FE_K_LABEL_STATEMENT);
        next(p);
        add(st, &last, identifier(p), FE_F_NONE);
        expect(p, T_DCOLON);
        finish(p, st);
        break;
    case T_BREAK:
        st = leaf(p, FE_K_BREAK_STATEMENT, true);
        break;
    case T_GOTO:
        st = node_at_token(p, FE_K_GOTO_STATEMENT);
        next(p);
        add(st, &last, identifier(p), FE_F_NONE);
        finish(p, st);
        break;
    default:
        st = parse_expression_statement(p);
        break;
    }
    leave(p);
    return st;
}

/* chunk: [hash_bang_line] {statement} [return_statement] <eof>. Ranges as
 * tree-sitter gives them for the root: from the first token or comment (the
 * end of the file when there is none) to the end of the file, trailing
 * spaces and comments included. */
static fe_node *parse_chunk(lp_parser *p)
{
    fe_node *chunk = node_alloc(p, FE_K_CHUNK, true), *last = NULL;
    lp_lex(p, &p->t);
    if (p->t.type == T_HASHBANG) add(chunk, &last, leaf(p, FE_K_HASH_BANG_LINE, true), FE_F_NONE);
    while (p->t.type != T_EOF) {
        bool is_return = p->t.type == T_RETURN;
        add(chunk, &last, is_return ? parse_return(p) : parse_statement(p), FE_F_NONE);
        if (is_return) {
            if (p->t.type != T_EOF) lp_fail_expected(p, T_EOF);
            break;
        }
        if (block_follow(p->t.type) && p->t.type != T_EOF) lp_fail_expected(p, T_EOF);
    }
    if (p->have_first) {
        chunk->start_byte = p->first_byte;
        chunk->start = p->first_point;
    } else {
        chunk->start_byte = p->t.start;
        chunk->start = p->t.sp;
    }
    chunk->end_byte = p->t.end;
    chunk->end = p->t.ep;
    return chunk;
}

/* The setjmp lives here, apart from fe_lparse's locals: after a longjmp
 * only *p (not a local of this function) is read. */
static tx_status parse_protected(lp_parser *p)
{
    if (setjmp(p->jb)) {
        p->out->root = NULL;
        p->out->ok = false;
        return p->status;
    }
    p->out->root = parse_chunk(p);
    p->out->ok = true;
    return TX_OK;
}

tx_status fe_lparse(tx_arena *arena, const char *src, size_t len, fe_ast *out)
{
    memset(out, 0, sizeof *out);
    if (len > UINT32_MAX - 1) {
        snprintf(out->err_msg, sizeof out->err_msg, "source larger than 4 GB");
        return TX_ELIMIT;
    }
    lp_parser p;
    memset(&p, 0, sizeof p);
    p.s = (const unsigned char *)src;
    p.n = (uint32_t)len;
    p.arena = arena;
    p.out = out;
    /* tree-sitter skips a UTF-8 byte order mark at the start (columns still
     * count it); Lua's loadbuffer does not, so only Lua rejects such a file */
    if (len >= 3 && memcmp(src, "\xef\xbb\xbf", 3) == 0) p.pos = 3;
    return parse_protected(&p);
}
