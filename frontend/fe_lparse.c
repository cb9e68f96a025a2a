/*
 * fe_lparse.c - Lua 5.4 lexer and recursive-descent parser building the
 * `tactus` grammar's tree (see fe_lparse.h for the contract).
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
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- tokens -------------------------------------------------------------------- */

enum {
    T_EOF = 0,
    T_NAME,
    T_NUMBER,
    T_STRING,     /* "..." or '...' */
    T_LONGSTRING, /* [==[ ... ]==] */
    T_HASHBANG,   /* #! line, only as the first token of the file */
    /* keywords */
    T_AND,
    T_BREAK,
    T_DO,
    T_ELSE,
    T_ELSEIF,
    T_END,
    T_FALSE,
    T_FOR,
    T_FUNCTION,
    T_GOTO,
    T_IF,
    T_IN,
    T_LOCAL,
    T_NIL,
    T_NOT,
    T_OR,
    T_REPEAT,
    T_RETURN,
    T_THEN,
    T_TRUE,
    T_UNTIL,
    T_WHILE,
    /* punctuation */
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_DSLASH,
    T_PERCENT,
    T_CARET,
    T_HASH,
    T_AMP,
    T_TILDE,
    T_PIPE,
    T_SHL,
    T_SHR,
    T_EQ,
    T_NE,
    T_LE,
    T_GE,
    T_LT,
    T_GT,
    T_ASSIGN,
    T_LPAREN,
    T_RPAREN,
    T_LBRACE,
    T_RBRACE,
    T_LBRACKET,
    T_RBRACKET,
    T_DCOLON,
    T_SEMI,
    T_COLON,
    T_COMMA,
    T_DOT,
    T_CONCAT,
    T_DOTS,
    T__COUNT
};

typedef struct {
    int type;
    uint32_t dlen; /* strings: length of each delimiter (1, or level + 2) */
    uint32_t start, end;
    tx_point sp, ep;
} lp_token;

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

/* ---- parser state --------------------------------------------------------------- */

/* Nodes are carved from arena allocations of about 16 KB (the arena's block
 * size), not one arena call per node. */
#define LP_BATCH (16384 / sizeof(fe_node))

typedef struct {
    const unsigned char *s;
    uint32_t n;
    /* lexer cursor and the row / line start of that byte */
    uint32_t pos, row, line_start;
    bool lexed_any; /* a token was produced: `#!` is no longer a hash-bang line */
    lp_token t;     /* current token */
    lp_token ahead; /* one token of lookahead (table fields `name =`) */
    bool has_ahead;
    /* end of the token before t: where a node being finished ends */
    uint32_t prev_end;
    tx_point prev_ep;
    /* first token or comment of the file: tree-sitter starts the chunk there */
    bool have_first;
    uint32_t first_byte;
    tx_point first_point;
    tx_arena *arena;
    fe_node *pool;
    size_t pool_left;
    uint32_t depth;
    fe_ast *out;
    tx_status status;
    jmp_buf jb;
} lp_parser;

/* ---- errors ------------------------------------------------------------------------- */

static _Noreturn void fail_status(lp_parser *p, tx_status st)
{
    p->status = st;
    longjmp(p->jb, 1);
}

static _Noreturn void fail_at(lp_parser *p, uint32_t byte, tx_point pt, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static _Noreturn void fail_at(lp_parser *p, uint32_t byte, tx_point pt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->out->err_msg, sizeof p->out->err_msg, fmt, ap);
    va_end(ap);
    p->out->err_byte = byte;
    p->out->err_point = pt;
    fail_status(p, TX_OK);
}

/* Printable text of a token for "near '...'" (Lua's wording), truncated. */
static void token_text(const lp_parser *p, const lp_token *t, char *buf, size_t size)
{
    if (t->type == T_EOF) {
        snprintf(buf, size, "<eof>");
        return;
    }
    size_t n = t->end - t->start, i;
    if (n > 40) n = 40;
    for (i = 0; i < n && i + 1 < size; i++) {
        unsigned char c = p->s[t->start + i];
        buf[i] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
    }
    buf[i] = '\0';
}

static _Noreturn void fail_near(lp_parser *p, const char *what)
{
    char near[48];
    token_text(p, &p->t, near, sizeof near);
    if (p->t.type == T_EOF) fail_at(p, p->t.start, p->t.sp, "%s near %s", what, near);
    fail_at(p, p->t.start, p->t.sp, "%s near '%s'", what, near);
}

/* ---- lexer -------------------------------------------------------------------------- */

static inline bool is_digit(unsigned c)
{
    return c - '0' < 10u;
}

static inline bool is_xdigit(unsigned c)
{
    return c - '0' < 10u || (c | 32u) - 'a' < 6u;
}

static inline bool is_alpha(unsigned c)
{
    return (c | 32u) - 'a' < 26u || c == '_';
}

static inline bool is_alnum(unsigned c)
{
    return is_alpha(c) || is_digit(c);
}

/* Lua's lisspace: the C locale's isspace. */
static inline bool is_space(unsigned c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline unsigned char at(const lp_parser *p, uint32_t i)
{
    return i < p->n ? p->s[i] : 0;
}

static inline tx_point point_at(const lp_parser *p, uint32_t pos)
{
    return (tx_point){p->row, pos - p->line_start};
}

static inline void newline_at(lp_parser *p, uint32_t pos)
{
    p->row++;
    p->line_start = pos + 1;
}

static int keyword(const unsigned char *w, uint32_t len)
{
#define KW(s, t)                                                                                   \
    if (memcmp(w, s, len) == 0) return t
    switch (len) {
    case 2:
        KW("do", T_DO);
        KW("if", T_IF);
        KW("in", T_IN);
        KW("or", T_OR);
        break;
    case 3:
        KW("and", T_AND);
        KW("end", T_END);
        KW("for", T_FOR);
        KW("nil", T_NIL);
        KW("not", T_NOT);
        break;
    case 4:
        KW("else", T_ELSE);
        KW("goto", T_GOTO);
        KW("then", T_THEN);
        KW("true", T_TRUE);
        break;
    case 5:
        KW("break", T_BREAK);
        KW("false", T_FALSE);
        KW("local", T_LOCAL);
        KW("until", T_UNTIL);
        KW("while", T_WHILE);
        break;
    case 6:
        KW("elseif", T_ELSEIF);
        KW("repeat", T_REPEAT);
        KW("return", T_RETURN);
        break;
    case 8:
        KW("function", T_FUNCTION);
        break;
    default:
        break;
    }
#undef KW
    return T_NAME;
}

/* With the cursor on a `[`: the level of a long bracket `[`, `=`*n, `[`
 * (n), or -1 when `[` is not followed by one, or -2 for `[=...` without the
 * second `[` (Lua: "invalid long string delimiter"). Does not move. */
static int64_t long_bracket_level(const lp_parser *p, uint32_t pos)
{
    uint32_t i = pos + 1;
    while (i < p->n && p->s[i] == '=')
        i++;
    if (i < p->n && p->s[i] == '[') return (int64_t)(i - pos - 1);
    return i == pos + 1 ? -1 : -2;
}

/* Skips the body of a long bracket opened at `open` (string or comment) up
 * to and including its `]`, `=`*level, `]`, counting rows. */
static void skip_long_body(lp_parser *p, uint32_t level, uint32_t open, tx_point open_pt,
                           const char *what)
{
    const unsigned char *s = p->s;
    uint32_t pos = p->pos, n = p->n;
    for (;;) {
        /* scan to the next byte that matters */
        while (pos < n && s[pos] != ']' && s[pos] != '\n')
            pos++;
        if (pos >= n) break;
        if (s[pos] == '\n') {
            newline_at(p, pos);
            pos++;
            continue;
        }
        uint32_t i = pos + 1;
        while (i < n && s[i] == '=')
            i++;
        if (i < n && s[i] == ']' && i - pos - 1 == level) {
            p->pos = i + 1;
            return;
        }
        pos = i; /* the byte at i may start the real closing bracket */
    }
    p->pos = n;
    fail_at(p, open, open_pt, "unfinished long %s (starting at line %u) near '<eof>'", what,
            open_pt.row + 1);
}

/* Skips whitespace and comments; on return p->pos is at a token or EOF. */
static void skip_space(lp_parser *p)
{
    const unsigned char *s = p->s;
    for (;;) {
        uint32_t pos = p->pos;
        while (pos < p->n) {
            unsigned char c = s[pos];
            if (c == '\n') {
                newline_at(p, pos);
            } else if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v') {
                break;
            }
            pos++;
        }
        p->pos = pos;
        if (pos >= p->n) return;
        if (!p->have_first) {
            p->have_first = true;
            p->first_byte = pos;
            p->first_point = point_at(p, pos);
        }
        if (s[pos] != '-' || at(p, pos + 1) != '-') return;
        /* a comment */
        tx_point open_pt = point_at(p, pos);
        pos += 2;
        if (at(p, pos) == '[') {
            int64_t level = long_bracket_level(p, pos);
            if (level >= 0) {
                p->pos = pos + (uint32_t)level + 2;
                skip_long_body(p, (uint32_t)level, pos - 2, open_pt, "comment");
                continue;
            }
        }
        while (pos < p->n && s[pos] != '\n' && s[pos] != '\r')
            pos++;
        p->pos = pos;
    }
}

/* The numeral forms of the grammar's `number` token (which are exactly the
 * ones Lua's luaO_str2num accepts from what read_numeral gathers). */
static bool numeral_ok(const unsigned char *s, uint32_t n)
{
    uint32_t i = 0, digits = 0;
    bool hex = n >= 2 && s[0] == '0' && (s[1] | 32) == 'x';
    unsigned expo = hex ? 'p' : 'e';
    if (hex) i = 2;
    while (i < n && (hex ? is_xdigit(s[i]) : is_digit(s[i])))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && (hex ? is_xdigit(s[i]) : is_digit(s[i])))
            i++, digits++;
    }
    if (digits == 0) return false;
    if (i < n && (s[i] | 32u) == expo) {
        uint32_t e = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        while (i < n && is_digit(s[i]))
            i++, e++;
        if (e == 0) return false;
    }
    return i == n;
}

/* read_numeral of llex.c: gathers greedily, then validates. */
static void lex_number(lp_parser *p, lp_token *t)
{
    const unsigned char *s = p->s;
    uint32_t pos = p->pos;
    unsigned expo = 'e';
    if (s[pos] == '0' && (at(p, pos + 1) | 32) == 'x') {
        expo = 'p';
        pos += 2;
    } else {
        pos++;
    }
    for (;;) {
        unsigned c = at(p, pos);
        if ((c | 32u) == expo) {
            pos++;
            if (at(p, pos) == '+' || at(p, pos) == '-') pos++;
        } else if (is_xdigit(c) || c == '.') {
            pos++;
        } else {
            break;
        }
    }
    if (is_alnum(at(p, pos))) pos++; /* a numeral touching a letter: an error */
    t->type = T_NUMBER;
    p->pos = pos;
    if (!numeral_ok(s + t->start, pos - t->start)) {
        t->end = pos;
        char near[48];
        token_text(p, t, near, sizeof near);
        fail_at(p, t->start, t->sp, "malformed number near '%s'", near);
    }
}

/* A short string's escape at p->pos (on the backslash), as read_string of
 * llex.c accepts them (Lua 5.4 manual §3.1). */
static void lex_escape(lp_parser *p)
{
    const unsigned char *s = p->s;
    uint32_t esc = p->pos, pos = esc + 1;
    unsigned c = at(p, pos);
    switch (c) {
    case 'a':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
    case 'v':
    case '\\':
    case '"':
    case '\'':
        p->pos = pos + 1;
        return;
    case '\n':
    case '\r': {
        /* "\n", "\r", "\n\r" or "\r\n" is one line break */
        unsigned d = at(p, pos + 1);
        if (c == '\n') newline_at(p, pos);
        pos++;
        if ((d == '\n' || d == '\r') && d != c) {
            if (d == '\n') newline_at(p, pos);
            pos++;
        }
        p->pos = pos;
        return;
    }
    case 'x':
        if (is_xdigit(at(p, pos + 1)) && is_xdigit(at(p, pos + 2))) {
            p->pos = pos + 3;
            return;
        }
        fail_at(p, esc, point_at(p, esc), "hexadecimal digit expected");
    case 'z':
        pos++;
        while (pos < p->n && is_space(s[pos])) {
            if (s[pos] == '\n') newline_at(p, pos);
            pos++;
        }
        p->pos = pos;
        return;
    case 'u': {
        uint64_t v = 0;
        uint32_t i = pos + 1;
        if (at(p, i) != '{') fail_at(p, esc, point_at(p, esc), "missing '{' in \\u{xxxx}");
        i++;
        if (!is_xdigit(at(p, i))) fail_at(p, esc, point_at(p, esc), "hexadecimal digit expected");
        while (is_xdigit(at(p, i))) {
            unsigned h = at(p, i);
            v = v * 16 + (is_digit(h) ? h - '0' : (h | 32u) - 'a' + 10);
            if (v > 0x7FFFFFFFu) fail_at(p, esc, point_at(p, esc), "UTF-8 value too large");
            i++;
        }
        if (at(p, i) != '}') fail_at(p, esc, point_at(p, esc), "missing '}' in \\u{xxxx}");
        p->pos = i + 1;
        return;
    }
    default:
        if (is_digit(c)) {
            unsigned v = 0;
            uint32_t i = pos;
            for (int k = 0; k < 3 && is_digit(at(p, i)); k++, i++)
                v = v * 10 + (at(p, i) - '0');
            if (v > 255) fail_at(p, esc, point_at(p, esc), "decimal escape too large");
            p->pos = i;
            return;
        }
        if (pos >= p->n) fail_at(p, esc, point_at(p, esc), "unfinished string near <eof>");
        fail_at(p, esc, point_at(p, esc), "invalid escape sequence '\\%c'",
                c >= 0x20 && c < 0x7f ? (int)c : '?');
    }
}

static void lex_short_string(lp_parser *p, lp_token *t)
{
    const unsigned char *s = p->s;
    unsigned char quote = s[p->pos];
    uint32_t pos = p->pos + 1;
    for (;;) {
        while (pos < p->n && s[pos] != quote && s[pos] != '\\' && s[pos] != '\n' && s[pos] != '\r')
            pos++;
        if (pos >= p->n || s[pos] == '\n' || s[pos] == '\r') {
            p->pos = pos;
            fail_at(p, t->start, t->sp, "unfinished string");
        }
        if (s[pos] == quote) break;
        p->pos = pos;
        lex_escape(p);
        pos = p->pos;
    }
    p->pos = pos + 1;
    t->type = T_STRING;
    t->dlen = 1;
}

/* Tokens of one byte that never start a longer one. */
static const uint8_t single_char_tokens[256] = {
    ['+'] = T_PLUS,   ['-'] = T_MINUS,    ['*'] = T_STAR,   ['%'] = T_PERCENT, ['^'] = T_CARET,
    ['&'] = T_AMP,    ['|'] = T_PIPE,     ['('] = T_LPAREN, [')'] = T_RPAREN,  ['{'] = T_LBRACE,
    ['}'] = T_RBRACE, [']'] = T_RBRACKET, [';'] = T_SEMI,   [','] = T_COMMA,
};

/* Produces the next token into t. */
static void lex(lp_parser *p, lp_token *t)
{
    skip_space(p);
    const unsigned char *s = p->s;
    uint32_t pos = p->pos;
    t->start = pos;
    t->sp = point_at(p, pos);
    if (pos >= p->n) {
        t->type = T_EOF;
        t->end = pos;
        t->ep = t->sp;
        return;
    }
    unsigned char c = s[pos];
    unsigned char c1 = at(p, pos + 1);
    int type;
    uint32_t len = 1;
    if (single_char_tokens[c]) {
        t->type = single_char_tokens[c];
        p->pos = pos + 1;
        goto done;
    }
    switch (c) {
    case '#':
        if (!p->lexed_any && c1 == '!') {
            /* grammar: hash_bang_line, `#!` up to the end of the line */
            uint32_t e = pos;
            while (e < p->n && s[e] != '\n' && s[e] != '\r')
                e++;
            type = T_HASHBANG;
            len = e - pos;
        } else {
            type = T_HASH;
        }
        break;
    case '/':
        if (c1 == '/')
            type = T_DSLASH, len = 2;
        else
            type = T_SLASH;
        break;
    case '~':
        if (c1 == '=')
            type = T_NE, len = 2;
        else
            type = T_TILDE;
        break;
    case '=':
        if (c1 == '=')
            type = T_EQ, len = 2;
        else
            type = T_ASSIGN;
        break;
    case '<':
        if (c1 == '<')
            type = T_SHL, len = 2;
        else if (c1 == '=')
            type = T_LE, len = 2;
        else
            type = T_LT;
        break;
    case '>':
        if (c1 == '>')
            type = T_SHR, len = 2;
        else if (c1 == '=')
            type = T_GE, len = 2;
        else
            type = T_GT;
        break;
    case ':':
        if (c1 == ':')
            type = T_DCOLON, len = 2;
        else
            type = T_COLON;
        break;
    case '.':
        if (c1 == '.') {
            if (at(p, pos + 2) == '.')
                type = T_DOTS, len = 3;
            else
                type = T_CONCAT, len = 2;
        } else if (is_digit(c1)) {
            lex_number(p, t);
            goto done;
        } else {
            type = T_DOT;
        }
        break;
    case '[': {
        int64_t level = long_bracket_level(p, pos);
        if (level == -2) fail_at(p, pos, t->sp, "invalid long string delimiter near '[='");
        if (level < 0) {
            type = T_LBRACKET;
            break;
        }
        p->pos = pos + (uint32_t)level + 2;
        skip_long_body(p, (uint32_t)level, pos, t->sp, "string");
        t->type = T_LONGSTRING;
        t->dlen = (uint32_t)level + 2;
        goto done;
    }
    case '"':
    case '\'':
        lex_short_string(p, t);
        goto done;
    default:
        if (is_alpha(c)) {
            uint32_t e = pos + 1;
            while (e < p->n && is_alnum(s[e]))
                e++;
            p->pos = e;
            t->type = keyword(s + pos, e - pos);
            goto done;
        }
        if (is_digit(c)) {
            lex_number(p, t);
            goto done;
        }
        if (c >= 0x20 && c < 0x7f) fail_at(p, pos, t->sp, "unexpected symbol near '%c'", c);
        fail_at(p, pos, t->sp, "unexpected symbol near '<\\%u>'", c);
    }
    t->type = type;
    p->pos = pos + len;
done:
    p->lexed_any = true;
    t->end = p->pos;
    t->ep = point_at(p, p->pos);
}

static inline void next(lp_parser *p)
{
    p->prev_end = p->t.end;
    p->prev_ep = p->t.ep;
    if (p->has_ahead) {
        p->t = p->ahead;
        p->has_ahead = false;
    } else {
        lex(p, &p->t);
    }
}

static inline int peek(lp_parser *p)
{
    if (!p->has_ahead) {
        lex(p, &p->ahead);
        p->has_ahead = true;
    }
    return p->ahead.type;
}

/* ---- nodes -------------------------------------------------------------------------- */

static fe_node *node_alloc(lp_parser *p, uint16_t kind, bool named)
{
    if (p->pool_left == 0) {
        p->pool = tx_arena_alloc(p->arena, LP_BATCH * sizeof(fe_node));
        if (!p->pool) fail_status(p, TX_ENOMEM);
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

static const char *const token_names[T__COUNT] = {
    [T_EOF] = "<eof>",
    [T_NAME] = "<name>",
    [T_NUMBER] = "<number>",
    [T_STRING] = "<string>",
    [T_LONGSTRING] = "<string>",
    [T_HASHBANG] = "#!",
    [T_AND] = "and",
    [T_BREAK] = "break",
    [T_DO] = "do",
    [T_ELSE] = "else",
    [T_ELSEIF] = "elseif",
    [T_END] = "end",
    [T_FALSE] = "false",
    [T_FOR] = "for",
    [T_FUNCTION] = "function",
    [T_GOTO] = "goto",
    [T_IF] = "if",
    [T_IN] = "in",
    [T_LOCAL] = "local",
    [T_NIL] = "nil",
    [T_NOT] = "not",
    [T_OR] = "or",
    [T_REPEAT] = "repeat",
    [T_RETURN] = "return",
    [T_THEN] = "then",
    [T_TRUE] = "true",
    [T_UNTIL] = "until",
    [T_WHILE] = "while",
    [T_PLUS] = "+",
    [T_MINUS] = "-",
    [T_STAR] = "*",
    [T_SLASH] = "/",
    [T_DSLASH] = "//",
    [T_PERCENT] = "%",
    [T_CARET] = "^",
    [T_HASH] = "#",
    [T_AMP] = "&",
    [T_TILDE] = "~",
    [T_PIPE] = "|",
    [T_SHL] = "<<",
    [T_SHR] = ">>",
    [T_EQ] = "==",
    [T_NE] = "~=",
    [T_LE] = "<=",
    [T_GE] = ">=",
    [T_LT] = "<",
    [T_GT] = ">",
    [T_ASSIGN] = "=",
    [T_LPAREN] = "(",
    [T_RPAREN] = ")",
    [T_LBRACE] = "{",
    [T_RBRACE] = "}",
    [T_LBRACKET] = "[",
    [T_RBRACKET] = "]",
    [T_DCOLON] = "::",
    [T_SEMI] = ";",
    [T_COLON] = ":",
    [T_COMMA] = ",",
    [T_DOT] = ".",
    [T_CONCAT] = "..",
    [T_DOTS] = "...",
};

static _Noreturn void fail_expected(lp_parser *p, int type)
{
    char what[32];
    snprintf(what, sizeof what, "'%s' expected", token_names[type]);
    fail_near(p, what);
}

static inline void expect(lp_parser *p, int type)
{
    if (p->t.type != type) fail_expected(p, type);
    next(p);
}

/* `what` closes the construct opened by `opener` at row `open_row`. */
static void expect_match(lp_parser *p, int what, int opener, uint32_t open_row)
{
    if (p->t.type == what) {
        next(p);
        return;
    }
    if (open_row == p->t.sp.row) fail_expected(p, what);
    char msg[96];
    snprintf(msg, sizeof msg, "'%s' expected (to close '%s' at line %u)", token_names[what],
             token_names[opener], open_row + 1);
    fail_near(p, msg);
}

static inline fe_node *identifier(lp_parser *p)
{
    if (p->t.type != T_NAME) fail_near(p, "<name> expected");
    return leaf(p, FE_K_IDENTIFIER, true);
}

static inline void enter(lp_parser *p)
{
    if (++p->depth > FE_LPARSE_MAX_DEPTH) {
        p->out->err_byte = p->t.start;
        p->out->err_point = p->t.sp;
        snprintf(p->out->err_msg, sizeof p->out->err_msg, "nesting deeper than %d levels",
                 FE_LPARSE_MAX_DEPTH);
        fail_status(p, TX_ELIMIT);
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
    if (p->t.type != T_LPAREN) fail_expected(p, T_LPAREN);
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
                fail_near(p, "<name> expected");
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
    if (p->t.type != T_LPAREN) fail_near(p, "unexpected symbol");
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
                fail_near(p, "function arguments expected");
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
        fail_near(p, "'=' or 'in' expected");
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
                fail_at(p, at_name.start, at_name.sp, "unknown attribute '%.*s'",
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
        if (e->kind != FE_K_FUNCTION_CALL) fail_near(p, "syntax error");
        return e;
    }
    if (!is_assignable(e)) fail_at(p, first.start, first.sp, "syntax error: cannot assign to this");
    fe_node *vars = node_from(p, FE_K_VARIABLE_LIST, e), *vlast = NULL;
    add(vars, &vlast, e, FE_F_NAME);
    while (p->t.type == T_COMMA) {
        next(p);
        const lp_token at_var = p->t;
        fe_node *v = parse_suffixed(p);
        if (!is_assignable(v))
            fail_at(p, at_var.start, at_var.sp, "syntax error: cannot assign to this");
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
    lex(p, &p->t);
    if (p->t.type == T_HASHBANG) add(chunk, &last, leaf(p, FE_K_HASH_BANG_LINE, true), FE_F_NONE);
    while (p->t.type != T_EOF) {
        bool is_return = p->t.type == T_RETURN;
        add(chunk, &last, is_return ? parse_return(p) : parse_statement(p), FE_F_NONE);
        if (is_return) {
            if (p->t.type != T_EOF) fail_expected(p, T_EOF);
            break;
        }
        if (block_follow(p->t.type) && p->t.type != T_EOF) fail_expected(p, T_EOF);
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

/* ---- names and accessors ----------------------------------------------------------------------
 */

static const char *const kind_names[FE_K__COUNT] = {
    [FE_K_CHUNK] = "chunk",
    [FE_K_HASH_BANG_LINE] = "hash_bang_line",
    [FE_K_BLOCK] = "block",
    [FE_K_EMPTY_STATEMENT] = "empty_statement",
    [FE_K_ASSIGNMENT_STATEMENT] = "assignment_statement",
    [FE_K_VARIABLE_LIST] = "variable_list",
    [FE_K_EXPRESSION_LIST] = "expression_list",
    [FE_K_VARIABLE_DECLARATION] = "variable_declaration",
    [FE_K_ATTRIBUTE] = "attribute",
    [FE_K_LABEL_STATEMENT] = "label_statement",
    [FE_K_BREAK_STATEMENT] = "break_statement",
    [FE_K_GOTO_STATEMENT] = "goto_statement",
    [FE_K_DO_STATEMENT] = "do_statement",
    [FE_K_WHILE_STATEMENT] = "while_statement",
    [FE_K_REPEAT_STATEMENT] = "repeat_statement",
    [FE_K_IF_STATEMENT] = "if_statement",
    [FE_K_ELSEIF_STATEMENT] = "elseif_statement",
    [FE_K_ELSE_STATEMENT] = "else_statement",
    [FE_K_FOR_STATEMENT] = "for_statement",
    [FE_K_FOR_NUMERIC_CLAUSE] = "for_numeric_clause",
    [FE_K_FOR_GENERIC_CLAUSE] = "for_generic_clause",
    [FE_K_FUNCTION_DECLARATION] = "function_declaration",
    [FE_K_RETURN_STATEMENT] = "return_statement",
    [FE_K_NIL] = "nil",
    [FE_K_FALSE] = "false",
    [FE_K_TRUE] = "true",
    [FE_K_NUMBER] = "number",
    [FE_K_STRING] = "string",
    [FE_K_STRING_CONTENT] = "string_content",
    [FE_K_VARARG_EXPRESSION] = "vararg_expression",
    [FE_K_FUNCTION_DEFINITION] = "function_definition",
    [FE_K_PARAMETERS] = "parameters",
    [FE_K_IDENTIFIER] = "identifier",
    [FE_K_BRACKET_INDEX_EXPRESSION] = "bracket_index_expression",
    [FE_K_DOT_INDEX_EXPRESSION] = "dot_index_expression",
    [FE_K_METHOD_INDEX_EXPRESSION] = "method_index_expression",
    [FE_K_FUNCTION_CALL] = "function_call",
    [FE_K_ARGUMENTS] = "arguments",
    [FE_K_PARENTHESIZED_EXPRESSION] = "parenthesized_expression",
    [FE_K_TABLE_CONSTRUCTOR] = "table_constructor",
    [FE_K_FIELD] = "field",
    [FE_K_BINARY_EXPRESSION] = "binary_expression",
    [FE_K_UNARY_EXPRESSION] = "unary_expression",
    [FE_K_LOCAL] = "local",
    [FE_K_OR] = "or",
    [FE_K_AND] = "and",
    [FE_K_LT] = "<",
    [FE_K_GT] = ">",
    [FE_K_LE] = "<=",
    [FE_K_GE] = ">=",
    [FE_K_NE] = "~=",
    [FE_K_EQ] = "==",
    [FE_K_BOR] = "|",
    [FE_K_TILDE] = "~",
    [FE_K_BAND] = "&",
    [FE_K_SHL] = "<<",
    [FE_K_SHR] = ">>",
    [FE_K_CONCAT] = "..",
    [FE_K_PLUS] = "+",
    [FE_K_MINUS] = "-",
    [FE_K_STAR] = "*",
    [FE_K_SLASH] = "/",
    [FE_K_DSLASH] = "//",
    [FE_K_PERCENT] = "%",
    [FE_K_CARET] = "^",
    [FE_K_NOT] = "not",
    [FE_K_HASH] = "#",
    [FE_K_DQUOTE] = "\"",
    [FE_K_SQUOTE] = "'",
    [FE_K_LONG_OPEN] = "[[",
    [FE_K_LONG_CLOSE] = "]]",
};

static const char *const field_names[FE_F__COUNT] = {
    [FE_F_NONE] = NULL,
    [FE_F_ALTERNATIVE] = "alternative",
    [FE_F_ARGUMENTS] = "arguments",
    [FE_F_ATTRIBUTE] = "attribute",
    [FE_F_BODY] = "body",
    [FE_F_CLAUSE] = "clause",
    [FE_F_CONDITION] = "condition",
    [FE_F_CONSEQUENCE] = "consequence",
    [FE_F_CONTENT] = "content",
    [FE_F_END] = "end",
    [FE_F_FIELD] = "field",
    [FE_F_KEY] = "key",
    [FE_F_LEFT] = "left",
    [FE_F_METHOD] = "method",
    [FE_F_NAME] = "name",
    [FE_F_OPERAND] = "operand",
    [FE_F_OPERATOR] = "operator",
    [FE_F_PARAMETERS] = "parameters",
    [FE_F_RIGHT] = "right",
    [FE_F_START] = "start",
    [FE_F_STEP] = "step",
    [FE_F_TABLE] = "table",
    [FE_F_VALUE] = "value",
};

const char *fe_kind_name(uint16_t kind)
{
    return kind < FE_K__COUNT ? kind_names[kind] : "?";
}

const char *fe_field_name(uint16_t field)
{
    return field < FE_F__COUNT ? field_names[field] : NULL;
}

const fe_node *fe_node_child_by_field(const fe_node *n, uint16_t field)
{
    for (const fe_node *c = n ? n->first : NULL; c; c = c->next)
        if (c->field == field) return c;
    return NULL;
}

const fe_node *fe_node_named_child(const fe_node *n, uint32_t i)
{
    if (!n || i >= n->n_named) return NULL;
    for (const fe_node *c = n->first; c; c = c->next)
        if (c->named && i-- == 0) return c;
    return NULL;
}
