/*
 * fe_llex.c - the Lua 5.4 lexer of fe_lparse.c, and the parser's error
 * exits (see fe_llex.h). It follows Lua's llex.c: the same tokens, numerals,
 * escapes and long brackets, and its messages ("unfinished string near
 * '\"abc'").
 */
#include "fe_llex.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- errors ------------------------------------------------------------------------- */

_Noreturn void lp_fail_status(lp_parser *p, tx_status st)
{
    p->status = st;
    longjmp(p->jb, 1);
}

_Noreturn void lp_fail_at(lp_parser *p, uint32_t byte, tx_point pt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->out->err_msg, sizeof p->out->err_msg, fmt, ap);
    va_end(ap);
    p->out->err_byte = byte;
    p->out->err_point = pt;
    lp_fail_status(p, TX_OK);
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

_Noreturn void lp_fail_near(lp_parser *p, const char *what)
{
    char near[48];
    token_text(p, &p->t, near, sizeof near);
    if (p->t.type == T_EOF) lp_fail_at(p, p->t.start, p->t.sp, "%s near %s", what, near);
    lp_fail_at(p, p->t.start, p->t.sp, "%s near '%s'", what, near);
}


const char *const lp_token_names[T__COUNT] = {
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

_Noreturn void lp_fail_expected(lp_parser *p, int type)
{
    char what[32];
    snprintf(what, sizeof what, "'%s' expected", lp_token_names[type]);
    lp_fail_near(p, what);
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
    lp_fail_at(p, open, open_pt, "unfinished long %s (starting at line %u) near '<eof>'", what,
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
        lp_fail_at(p, t->start, t->sp, "malformed number near '%s'", near);
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
        lp_fail_at(p, esc, point_at(p, esc), "hexadecimal digit expected");
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
        if (at(p, i) != '{') lp_fail_at(p, esc, point_at(p, esc), "missing '{' in \\u{xxxx}");
        i++;
        if (!is_xdigit(at(p, i))) lp_fail_at(p, esc, point_at(p, esc), "hexadecimal digit expected");
        while (is_xdigit(at(p, i))) {
            unsigned h = at(p, i);
            v = v * 16 + (is_digit(h) ? h - '0' : (h | 32u) - 'a' + 10);
            if (v > 0x7FFFFFFFu) lp_fail_at(p, esc, point_at(p, esc), "UTF-8 value too large");
            i++;
        }
        if (at(p, i) != '}') lp_fail_at(p, esc, point_at(p, esc), "missing '}' in \\u{xxxx}");
        p->pos = i + 1;
        return;
    }
    default:
        if (is_digit(c)) {
            unsigned v = 0;
            uint32_t i = pos;
            for (int k = 0; k < 3 && is_digit(at(p, i)); k++, i++)
                v = v * 10 + (at(p, i) - '0');
            if (v > 255) lp_fail_at(p, esc, point_at(p, esc), "decimal escape too large");
            p->pos = i;
            return;
        }
        if (pos >= p->n) lp_fail_at(p, esc, point_at(p, esc), "unfinished string near <eof>");
        lp_fail_at(p, esc, point_at(p, esc), "invalid escape sequence '\\%c'",
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
            lp_fail_at(p, t->start, t->sp, "unfinished string");
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
void lp_lex(lp_parser *p, lp_token *t)
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
        if (level == -2) lp_fail_at(p, pos, t->sp, "invalid long string delimiter near '[='");
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
        if (c >= 0x20 && c < 0x7f) lp_fail_at(p, pos, t->sp, "unexpected symbol near '%c'", c);
        lp_fail_at(p, pos, t->sp, "unexpected symbol near '<\\%u>'", c);
    }
    t->type = type;
    p->pos = pos + len;
done:
    p->lexed_any = true;
    t->end = p->pos;
    t->ep = point_at(p, p->pos);
}
