/*
 * fe_lparse.h - a hand-written Lua 5.4 parser that builds the same syntax tree
 * as the `tactus` tree-sitter grammar (grammar/tactus), only faster.
 *
 * Why it exists: `tactus check` runs Lua's own compiler first, so the
 * frontend only ever needs a tree of a file Lua has already accepted, and
 * tree-sitter's incremental GLR machinery (about 7 MB/s) was half the time of
 * a check. This is a plain recursive-descent parser with no error recovery:
 * the first syntax error ends the parse. The tree-sitter grammar stays the
 * parser of editors and the language server.
 *
 * The tree: named nodes with the grammar's names, fields, byte ranges and
 * (row, byte column) points, exactly as tree-sitter reports them (a
 * differential test in tests/unit/test_lparse.c holds us to that). Left out:
 * comments and escape_sequence nodes, and every anonymous token except the
 * ones the frontend reads: `local` (first child of a local
 * function_declaration / variable_declaration), the operator of
 * binary_expression / unary_expression (field `operator`), and the delimiters
 * of a string (fields `start` and `end`: `"`, `'`, `[[`, `]]`; a long bracket
 * of any level is named `[[` / `]]` as in the grammar, its range keeps the
 * `=`s).
 *
 * Ownership: every node lives in the caller's arena and dies with it; nodes
 * point into nothing else (the source is not referenced). Thread safety: no
 * global state; parses may run concurrently on different arenas.
 *
 * What it checks: Lua 5.4's lexical and syntactic rules, with llex.c's
 * messages ("'end' expected (to close 'if' at line 3) near <eof>"). Not the
 * checks Lua's code generator adds (goto targets, `break` outside a loop,
 * `...` outside a vararg function, assigning a <const>, register and upvalue
 * limits, 200 C levels): Lua's compiler runs first and is the judge.
 * Two input forms Lua's loadbuffer rejects are parsed as tree-sitter parses
 * them: a leading UTF-8 byte order mark is skipped (columns still count it),
 * and a first token `#!...` is a hash_bang_line.
 *
 * Errors: fe_lparse returns TX_OK with out->ok false and the first error's
 * position and message on a syntax error; TX_ENOMEM when the arena fails;
 * TX_ELIMIT when nesting exceeds FE_LPARSE_MAX_DEPTH (Lua itself stops at
 * 200 levels) or the source exceeds 4 GB. In every case but TX_OK with ok
 * true, out->root is NULL.
 */
#ifndef TACTUS_FE_LPARSE_H
#define TACTUS_FE_LPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"

/* Nesting of statements and expressions the parser follows (bounds its C
 * recursion); Lua 5.4 rejects anything past 200, so nothing valid is lost. */
#define FE_LPARSE_MAX_DEPTH 1000

/* Node kinds: the named nodes first, then the anonymous tokens kept. */
typedef enum {
    FE_K_CHUNK = 0,
    FE_K_HASH_BANG_LINE,
    FE_K_BLOCK,
    FE_K_EMPTY_STATEMENT,
    FE_K_ASSIGNMENT_STATEMENT,
    FE_K_VARIABLE_LIST,
    FE_K_EXPRESSION_LIST,
    FE_K_VARIABLE_DECLARATION,
    FE_K_ATTRIBUTE,
    FE_K_LABEL_STATEMENT,
    FE_K_BREAK_STATEMENT,
    FE_K_GOTO_STATEMENT,
    FE_K_DO_STATEMENT,
    FE_K_WHILE_STATEMENT,
    FE_K_REPEAT_STATEMENT,
    FE_K_IF_STATEMENT,
    FE_K_ELSEIF_STATEMENT,
    FE_K_ELSE_STATEMENT,
    FE_K_FOR_STATEMENT,
    FE_K_FOR_NUMERIC_CLAUSE,
    FE_K_FOR_GENERIC_CLAUSE,
    FE_K_FUNCTION_DECLARATION,
    FE_K_RETURN_STATEMENT,
    FE_K_NIL,
    FE_K_FALSE,
    FE_K_TRUE,
    FE_K_NUMBER,
    FE_K_STRING,
    FE_K_STRING_CONTENT,
    FE_K_VARARG_EXPRESSION,
    FE_K_FUNCTION_DEFINITION,
    FE_K_PARAMETERS,
    FE_K_IDENTIFIER,
    FE_K_BRACKET_INDEX_EXPRESSION,
    FE_K_DOT_INDEX_EXPRESSION,
    FE_K_METHOD_INDEX_EXPRESSION,
    FE_K_FUNCTION_CALL,
    FE_K_ARGUMENTS,
    FE_K_PARENTHESIZED_EXPRESSION,
    FE_K_TABLE_CONSTRUCTOR,
    FE_K_FIELD,
    FE_K_BINARY_EXPRESSION,
    FE_K_UNARY_EXPRESSION,
    /* ---- anonymous tokens (named == false) ---- */
    FE_K_LOCAL,      /* "local" */
    FE_K_OR,         /* "or" */
    FE_K_AND,        /* "and" */
    FE_K_LT,         /* "<" */
    FE_K_GT,         /* ">" */
    FE_K_LE,         /* "<=" */
    FE_K_GE,         /* ">=" */
    FE_K_NE,         /* "~=" */
    FE_K_EQ,         /* "==" */
    FE_K_BOR,        /* "|" */
    FE_K_TILDE,      /* "~": binary xor and unary bitwise not */
    FE_K_BAND,       /* "&" */
    FE_K_SHL,        /* "<<" */
    FE_K_SHR,        /* ">>" */
    FE_K_CONCAT,     /* ".." */
    FE_K_PLUS,       /* "+" */
    FE_K_MINUS,      /* "-": binary and unary */
    FE_K_STAR,       /* "*" */
    FE_K_SLASH,      /* "/" */
    FE_K_DSLASH,     /* "//" */
    FE_K_PERCENT,    /* "%" */
    FE_K_CARET,      /* "^" */
    FE_K_NOT,        /* "not" */
    FE_K_HASH,       /* "#" */
    FE_K_DQUOTE,     /* "\"" */
    FE_K_SQUOTE,     /* "'" */
    FE_K_LONG_OPEN,  /* "[[" (any level) */
    FE_K_LONG_CLOSE, /* "]]" (any level) */
    FE_K__COUNT
} fe_node_kind;

/* Field names, as in the grammar. */
typedef enum {
    FE_F_NONE = 0,
    FE_F_ALTERNATIVE,
    FE_F_ARGUMENTS,
    FE_F_ATTRIBUTE,
    FE_F_BODY,
    FE_F_CLAUSE,
    FE_F_CONDITION,
    FE_F_CONSEQUENCE,
    FE_F_CONTENT,
    FE_F_END,
    FE_F_FIELD,
    FE_F_KEY,
    FE_F_LEFT,
    FE_F_METHOD,
    FE_F_NAME,
    FE_F_OPERAND,
    FE_F_OPERATOR,
    FE_F_PARAMETERS,
    FE_F_RIGHT,
    FE_F_START,
    FE_F_STEP,
    FE_F_TABLE,
    FE_F_VALUE,
    FE_F__COUNT
} fe_node_field;

typedef struct fe_node fe_node; /* arena-allocated, immutable after parse */
struct fe_node {
    uint16_t kind;  /* fe_node_kind */
    uint16_t field; /* fe_node_field under which it hangs in its parent, FE_F_NONE if none */
    bool named;     /* false for the anonymous tokens listed above */
    uint32_t start_byte, end_byte;
    tx_point start, end;   /* 0-based row, byte column (rows end at '\n' only) */
    fe_node *first, *next; /* children in source order, siblings */
    uint32_t n_named;      /* number of named children */
};

typedef struct {
    fe_node *root; /* chunk; NULL when the parse failed */
    bool ok;
    /* The first syntax error (when ok is false after TX_OK). */
    uint32_t err_byte;
    tx_point err_point;
    char err_msg[160];
} fe_ast;

/* Parses src[0..len) into nodes allocated in `arena`. `src` is only read
 * during the call. TX_OK (ok false on a syntax error), TX_ENOMEM, TX_ELIMIT. */
tx_status fe_lparse(tx_arena *arena, const char *src, size_t len, fe_ast *out);

/* The grammar's name of a kind ("function_call", "local", "[["); "?" if out
 * of range. */
const char *fe_kind_name(uint16_t kind);
/* The grammar's name of a field ("name"); NULL for FE_F_NONE or out of range. */
const char *fe_field_name(uint16_t field);
/* First child of n hanging under `field`, or NULL. */
const fe_node *fe_node_child_by_field(const fe_node *n, uint16_t field);
/* The i-th (0-based) named child of n, or NULL. */
const fe_node *fe_node_named_child(const fe_node *n, uint32_t i);

#endif
