/*
 * fe_unclosed.c - which construct a syntax error left open.
 *
 * Lua's compiler says where it noticed a problem, not always where it
 * began: a missing `)` is "unexpected symbol near 'end'" two lines later,
 * and a missing `end` of an `if` is reported against the enclosing
 * `function` (or as "unexpected symbol near ','") because a later `end`,
 * meant for the function, closed the `if` instead. This scan replays the
 * file's tokens up to the point of the error with a stack of open
 * constructs (`function`, `if`, `while`, `for`, `do`, `repeat`, `(`, `{`,
 * `[`) and names the one left open, so the message can say "'if' at line
 * 37 is never closed by 'end'" and point at it.
 *
 * Which one: the construct Lua names ("to close 'X' at line N"); at the end
 * of the file, or at a token that cannot continue an open bracket (a
 * closer of another kind, a statement keyword), the innermost open one.
 * An `end` that closes a block indented deeper than its own line while an
 * enclosing block still open lines up with it is the classic stolen `end`:
 * the block it closed is the one never closed, and that is reported first.
 * The scan is linear and only runs on a file Lua rejected.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fe_internal.h"

typedef enum {
    OPEN_FUNCTION,
    OPEN_IF,
    OPEN_WHILE,
    OPEN_FOR,
    OPEN_DO,
    OPEN_REPEAT,
    OPEN_PAREN,
    OPEN_BRACE,
    OPEN_BRACKET
} open_kind;

static const char *const open_words[] = {"function", "if", "while", "for", "do",
                                         "repeat",   "(",  "{",     "["};
static const char *const close_words[] = {"end",   "end", "end", "end", "end",
                                          "until", ")",   "}",   "]"};

typedef struct {
    open_kind kind;
    size_t at;          /* byte offset of the opening token */
    unsigned long line; /* 1-based */
    size_t indent;      /* leading blanks of its line */
    bool awaiting_do;   /* while/for before their `do` */
} open_entry;

/* The stack has a fixed cap: Lua itself stops at 200 nesting levels, so a
 * deeper stack means the file was rejected for that, not for an opener. */
#define OPEN_MAX 512

typedef struct {
    open_entry stack[OPEN_MAX];
    size_t n;
    bool overflow;
    /* The stolen `end`: the block it closed, and the open one it lines up with. */
    bool has_suspect;
    open_entry suspect, lined_up;
    size_t suspect_end_at;
    unsigned long suspect_end_line;
} scan;

static size_t indent_of(const char *src, size_t line_start)
{
    size_t i = line_start;
    while (src[i] == ' ' || src[i] == '\t')
        i++;
    return i - line_start;
}

/* Skips a long bracket [==[ ... ]==] starting at src[i] == '['; returns the
 * offset after it, or 0 when src[i] does not open one. */
static size_t long_bracket(const char *src, size_t len, size_t i, unsigned long *line)
{
    size_t j = i + 1, level = 0;
    while (j < len && src[j] == '=')
        level++, j++;
    if (j >= len || src[j] != '[') return 0;
    for (j++; j < len; j++) {
        if (src[j] == '\n') (*line)++;
        if (src[j] != ']') continue;
        size_t k = j + 1, l = 0;
        while (k < len && src[k] == '=')
            l++, k++;
        if (l == level && k < len && src[k] == ']') return k + 1;
    }
    return len;
}

static void push(scan *s, open_kind k, size_t at, unsigned long line, size_t indent)
{
    if (s->n >= OPEN_MAX) {
        s->overflow = true;
        return;
    }
    s->stack[s->n++] = (open_entry){k, at, line, indent, k == OPEN_WHILE || k == OPEN_FOR};
}

static bool is_block(open_kind k)
{
    return k <= OPEN_DO;
}

/* A closer (`end`, `until`, `)`, `}`, `]`) at `at`; false when it closes
 * something it cannot (then the top of the stack is what was left open). */
static bool close(scan *s, const char *word, const char *src, size_t at, size_t line_start,
                  unsigned long line)
{
    if (s->n == 0) return true; /* an extra closer: not an unclosed construct */
    open_entry *top = &s->stack[s->n - 1];
    if (strcmp(close_words[top->kind], word) != 0) return false;
    /* The stolen `end`: it starts its line, sits left of the block it
     * closes, and lines up with an enclosing block still open. */
    bool first_on_line = indent_of(src, line_start) + line_start == at;
    if (!s->has_suspect && is_block(top->kind) && first_on_line) {
        size_t ind = at - line_start;
        if (ind < top->indent) {
            for (size_t i = s->n - 1; i-- > 0;)
                if (is_block(s->stack[i].kind) && s->stack[i].indent == ind) {
                    s->has_suspect = true;
                    s->suspect = *top;
                    s->lined_up = s->stack[i];
                    s->suspect_end_at = at;
                    s->suspect_end_line = line;
                    break;
                }
        }
    }
    s->n--;
    return true;
}

/* Whether an open entry equal to `e` is still on the stack. */
static bool still_open(const scan *s, const open_entry *e)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->stack[i].at == e->at) return true;
    return false;
}

/* Words that start a statement and can never continue an expression. */
static bool statement_word(const char *w, size_t n)
{
    static const char *const words[] = {"local", "return", "if",    "for", "while", "repeat", "do",
                                        "goto",  "break",  "until", "end", "else",  "elseif"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && strncmp(words[i], w, n) == 0) return true;
    return false;
}

bool fe_find_unclosed(const char *src, size_t len, size_t stop, const char *lua_msg,
                      fe_unclosed *out)
{
    scan *s = tx_calloc(1, sizeof *s);
    if (!s) return false;
    unsigned long line = 1;
    size_t line_start = 0;
    size_t i = 0;
    bool mismatch = false; /* a closer of the wrong kind before the error point */
    const char *stop_word = NULL;
    size_t stop_word_len = 0;
    while (i < len && !s->overflow) {
        char c = src[i];
        if (c == '\n') {
            line++;
            line_start = ++i;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            i++;
            continue;
        }
        size_t tok = i;
        if (tok >= stop) {
            /* the token where Lua stopped */
            stop_word = src + tok;
            stop_word_len = 1;
            if (isalpha((unsigned char)c) || c == '_')
                while (tok + stop_word_len < len &&
                       (isalnum((unsigned char)src[tok + stop_word_len]) ||
                        src[tok + stop_word_len] == '_'))
                    stop_word_len++;
            break;
        }
        if (c == '-' && i + 1 < len && src[i + 1] == '-') {
            i += 2;
            size_t lb = i < len && src[i] == '[' ? long_bracket(src, len, i, &line) : 0;
            if (lb) {
                i = lb;
                continue;
            }
            while (i < len && src[i] != '\n')
                i++;
            continue;
        }
        if (c == '[') {
            size_t lb = long_bracket(src, len, i, &line);
            if (lb) {
                i = lb;
                continue;
            }
        }
        if (c == '"' || c == '\'') {
            for (i++; i < len && src[i] != c && src[i] != '\n'; i++)
                if (src[i] == '\\' && i + 1 < len) {
                    if (src[i + 1] == '\n') line++;
                    i++;
                }
            if (i < len && src[i] == c) i++;
            continue;
        }
        if (isdigit((unsigned char)c) ||
            (c == '.' && i + 1 < len && isdigit((unsigned char)src[i + 1]))) {
            for (i++; i < len; i++) {
                char d = src[i];
                if (isalnum((unsigned char)d) || d == '.' || d == '_') continue;
                if ((d == '+' || d == '-') && strchr("eEpP", src[i - 1])) continue;
                break;
            }
            continue;
        }
        if (isalpha((unsigned char)c) || c == '_') {
            size_t n = 0;
            while (i + n < len && (isalnum((unsigned char)src[i + n]) || src[i + n] == '_'))
                n++;
            const char *w = src + i;
            size_t ind = indent_of(src, line_start);
#define IS(word) (n == strlen(word) && strncmp(w, word, n) == 0)
            if (IS("function"))
                push(s, OPEN_FUNCTION, i, line, ind);
            else if (IS("if"))
                push(s, OPEN_IF, i, line, ind);
            else if (IS("while"))
                push(s, OPEN_WHILE, i, line, ind);
            else if (IS("for"))
                push(s, OPEN_FOR, i, line, ind);
            else if (IS("repeat"))
                push(s, OPEN_REPEAT, i, line, ind);
            else if (IS("do")) {
                if (s->n && s->stack[s->n - 1].awaiting_do)
                    s->stack[s->n - 1].awaiting_do = false;
                else
                    push(s, OPEN_DO, i, line, ind);
            } else if (IS("end") || IS("until")) {
                if (!close(s, IS("end") ? "end" : "until", src, i, line_start, line)) {
                    mismatch = true;
                    break;
                }
            }
#undef IS
            i += n;
            continue;
        }
        if (c == '(' || c == '{' || c == '[') {
            push(s,
                 c == '('   ? OPEN_PAREN
                 : c == '{' ? OPEN_BRACE
                            : OPEN_BRACKET,
                 i, line, indent_of(src, line_start));
        } else if (c == ')' || c == '}' || c == ']') {
            char w[2] = {c, '\0'};
            if (!close(s, w, src, i, line_start, line)) {
                mismatch = true;
                break;
            }
        }
        i++;
    }
    bool found = false;
    const open_entry *e = NULL;
    const char *to_close = strstr(lua_msg, "(to close '");
    if (s->overflow) {
        /* too deep to follow: Lua's own message says why */
    } else if (s->has_suspect && still_open(s, &s->lined_up)) {
        e = &s->suspect;
        out->stolen = true;
        out->end_line = s->suspect_end_line;
        out->lined_up_line = s->lined_up.line;
        snprintf(out->lined_up, sizeof out->lined_up, "%s", open_words[s->lined_up.kind]);
    } else if (to_close) {
        /* the construct Lua names, found on the stack by its line */
        unsigned long at_line = 0;
        const char *l = strstr(to_close, "' at line ");
        if (l) at_line = strtoul(l + 10, NULL, 10);
        for (size_t k = s->n; k-- > 0 && !e;)
            if (s->stack[k].line == at_line && strncmp(to_close + 11, open_words[s->stack[k].kind],
                                                       strlen(open_words[s->stack[k].kind])) == 0)
                e = &s->stack[k];
    } else if (s->n > 0 && (mismatch || stop >= len || strstr(lua_msg, "near <eof>") ||
                            (stop_word && !is_block(s->stack[s->n - 1].kind) &&
                             (statement_word(stop_word, stop_word_len) ||
                              (stop_word_len == 1 && strchr(")}]", stop_word[0])))) ||
                            (stop_word && is_block(s->stack[s->n - 1].kind) && stop_word_len == 1 &&
                             strchr(")}]", stop_word[0])))) {
        e = &s->stack[s->n - 1];
    }
    if (e) {
        found = true;
        out->at = e->at;
        out->len = strlen(open_words[e->kind]);
        out->line = e->line;
        snprintf(out->opener, sizeof out->opener, "%s", open_words[e->kind]);
        snprintf(out->closer, sizeof out->closer, "%s", close_words[e->kind]);
    }
    tx_free(s);
    return found;
}
