/*
 * fe_llex.h - the Lua 5.4 lexer under fe_lparse.c (fe_llex.c), as llex.h is
 * to Lua's lparser.c: the tokens, the parser's state whose cursor the lexer
 * moves, and the error exits both use. Private to the frontend.
 *
 * Errors unwind with longjmp to fe_lparse (p->jb): every lp_fail_* records
 * the message and place in p->out (or the status in p->status) and never
 * returns.
 */
#ifndef FE_LLEX_H
#define FE_LLEX_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "fe_lparse.h"

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

/* ---- the parser's state (its cursor is the lexer's) --------------------------------------------------------------- */

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

/* Unwinds with `st` (TX_ENOMEM, TX_ELIMIT) and no syntax error. */
_Noreturn void lp_fail_status(lp_parser *p, tx_status st);
/* A syntax error at `byte` / `pt`. */
_Noreturn void lp_fail_at(lp_parser *p, uint32_t byte, tx_point pt, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "WHAT near 'TOKEN'" at the current token, in Lua's words. */
_Noreturn void lp_fail_near(lp_parser *p, const char *what);
/* "'TOKEN' expected near ..." */
_Noreturn void lp_fail_expected(lp_parser *p, int type);

/* Each token type as Lua's messages spell it. */
extern const char *const lp_token_names[T__COUNT];

/* ---- lexer -------------------------------------------------------------------------- */

/* Reads the token at p->pos into *t (skipping spaces and comments, which it
 * remembers as the file's first item for the chunk's range). */
void lp_lex(lp_parser *p, lp_token *t);

#endif
