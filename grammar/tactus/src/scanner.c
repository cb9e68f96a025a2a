/*
 * External scanner for the Tactus (Lua 5.4) tree-sitter grammar.
 *
 * It lexes what a regular-expression lexer cannot:
 *   - long brackets `[==[ ... ]==]` (strings) and `--[==[ ... ]==]` (comments),
 *     whose closing bracket must have the same number of `=` as the opening;
 *   - the text of line comments (`-- ...`);
 *   - the plain-text runs inside short strings, so that a `--` inside a string
 *     is never taken for a comment.
 *
 * A long bracket (string or comment) is emitted as three tokens: start,
 * content, end; a line comment as two: `--` and the rest of the line. After a
 * start token the scanner remembers (in its serialized state) the bracket
 * level and which token must come next, so content and end are produced from
 * the input alone, even while the parser recovers from errors.
 *
 * During error recovery tree-sitter reports every external token as valid;
 * the never-used ERROR_SENTINEL detects that, and the scanner then does not
 * guess that it is inside a short string.
 * A long bracket's start token peeks ahead so that a content token is only
 * promised when there is at least one byte of content; a line comment's
 * content token is always emitted (zero-width for a bare `--`).
 *
 * Everything is iterative and bounded by the input: no recursion, no
 * allocation beyond the fixed state, and every loop stops at end of input.
 */

#include "tree_sitter/parser.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* Must match the order of `externals` in grammar.js. */
enum TokenType {
  LINE_COMMENT_START,
  LINE_COMMENT_CONTENT,
  BLOCK_COMMENT_START,
  BLOCK_COMMENT_CONTENT,
  BLOCK_COMMENT_END,
  LONG_STRING_START,
  LONG_STRING_CONTENT,
  LONG_STRING_END,
  DOUBLE_QUOTE_TEXT,
  SINGLE_QUOTE_TEXT,
  ERROR_SENTINEL,
};

/* What the next external token must be. */
enum Pending {
  PENDING_NONE = 0,
  PENDING_LINE_CONTENT = 1, /* right after a line comment's `--` */
  PENDING_LONG_CONTENT = 2, /* right after a long opening bracket */
  PENDING_LONG_END = 3,     /* right before the matching closing bracket */
};

/* Which construct a pending long bracket belongs to. */
enum LongKind {
  LONG_STRING = 0,
  LONG_COMMENT = 1,
};

typedef struct {
  uint8_t pending;
  uint8_t kind;
  uint32_t level; /* number of `=` in the open long bracket */
} Scanner;

#define SERIALIZED_SIZE 6

/* The entry points tree-sitter looks up by name. */
void *tree_sitter_tactus_external_scanner_create(void);
void tree_sitter_tactus_external_scanner_destroy(void *payload);
unsigned tree_sitter_tactus_external_scanner_serialize(void *payload, char *buffer);
void tree_sitter_tactus_external_scanner_deserialize(void *payload, const char *buffer,
                                                      unsigned length);
bool tree_sitter_tactus_external_scanner_scan(void *payload, TSLexer *lexer,
                                              const bool *valid_symbols);

static void advance(TSLexer *lexer) { lexer->advance(lexer, false); }

static void skip(TSLexer *lexer) { lexer->advance(lexer, true); }

static bool at_eof(const TSLexer *lexer) { return lexer->eof(lexer); }

static bool is_space(int32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_newline(int32_t c) { return c == '\n' || c == '\r'; }

/* Consumes `=`* and returns how many there were (saturating). */
static uint32_t count_equals(TSLexer *lexer) {
  uint32_t n = 0;
  while (!at_eof(lexer) && lexer->lookahead == '=') {
    if (n < UINT32_MAX) n++;
    advance(lexer);
  }
  return n;
}

/*
 * With the lexer on a `]`, consumes `]` `=`* and, when the `=` count equals
 * `level`, the final `]`. Returns true when that was the closing bracket.
 * On false the lexer stops on the first byte that did not fit, which may
 * itself be a `]` starting another candidate.
 */
static bool consume_closing_bracket(TSLexer *lexer, uint32_t level) {
  advance(lexer); /* `]` */
  uint32_t n = count_equals(lexer);
  if (n == level && !at_eof(lexer) && lexer->lookahead == ']') {
    advance(lexer);
    return true;
  }
  return false;
}

/*
 * Called just after an opening long bracket has been consumed and marked as
 * the token end: peeks (beyond the token) to decide whether content follows.
 */
static void open_long_bracket(Scanner *scanner, TSLexer *lexer, uint8_t kind, uint32_t level) {
  scanner->kind = kind;
  scanner->level = level;
  if (at_eof(lexer)) {
    scanner->pending = PENDING_LONG_END; /* unterminated: the end will be missing */
  } else if (lexer->lookahead == ']' && consume_closing_bracket(lexer, level)) {
    scanner->pending = PENDING_LONG_END; /* empty: `[[]]` */
  } else {
    scanner->pending = PENDING_LONG_CONTENT;
  }
}

/* Scans the content of an open long bracket, up to its closing bracket or EOF. */
static bool scan_long_content(Scanner *scanner, TSLexer *lexer) {
  bool found = false;
  bool any = false;
  while (!at_eof(lexer)) {
    if (lexer->lookahead == ']') {
      lexer->mark_end(lexer); /* content ends here if this bracket closes */
      if (consume_closing_bracket(lexer, scanner->level)) {
        found = true;
        break;
      }
      /* not the closing bracket: re-examine the current byte */
    } else {
      advance(lexer);
    }
    any = true;
  }
  if (!any) {
    /* Nothing before the closing bracket (or EOF): never emit an empty token. */
    if (!found) return false;
    lexer->mark_end(lexer);
    lexer->result_symbol =
        scanner->kind == LONG_COMMENT ? BLOCK_COMMENT_END : LONG_STRING_END;
    scanner->pending = PENDING_NONE;
    scanner->level = 0;
    return true;
  }
  if (!found) lexer->mark_end(lexer); /* unterminated: content runs to EOF */
  lexer->result_symbol =
      scanner->kind == LONG_COMMENT ? BLOCK_COMMENT_CONTENT : LONG_STRING_CONTENT;
  scanner->pending = PENDING_LONG_END;
  return true;
}

static bool scan_long_end(Scanner *scanner, TSLexer *lexer) {
  if (at_eof(lexer) || lexer->lookahead != ']') return false;
  if (!consume_closing_bracket(lexer, scanner->level)) return false;
  lexer->mark_end(lexer);
  lexer->result_symbol =
      scanner->kind == LONG_COMMENT ? BLOCK_COMMENT_END : LONG_STRING_END;
  scanner->pending = PENDING_NONE;
  scanner->level = 0;
  return true;
}

/* The rest of the line after `--`; zero-width when the line ends there. */
static bool scan_line_content(Scanner *scanner, TSLexer *lexer) {
  scanner->pending = PENDING_NONE;
  while (!at_eof(lexer) && !is_newline(lexer->lookahead)) advance(lexer);
  lexer->mark_end(lexer);
  lexer->result_symbol = LINE_COMMENT_CONTENT;
  return true;
}

/* A run of ordinary characters inside a short string delimited by `quote`. */
static bool scan_quoted_text(TSLexer *lexer, int32_t quote, enum TokenType symbol) {
  bool any = false;
  while (!at_eof(lexer)) {
    int32_t c = lexer->lookahead;
    if (c == quote || c == '\\' || is_newline(c)) break;
    advance(lexer);
    any = true;
  }
  lexer->mark_end(lexer);
  lexer->result_symbol = symbol;
  return any;
}

/* `--...` with the lexer on the first `-` (already known to be there). */
static bool scan_comment_start(Scanner *scanner, TSLexer *lexer, bool line_ok, bool block_ok) {
  advance(lexer);
  if (at_eof(lexer) || lexer->lookahead != '-') return false; /* a minus sign */
  advance(lexer);
  lexer->mark_end(lexer); /* the token is `--` unless a long bracket follows */

  if (!at_eof(lexer) && lexer->lookahead == '[') {
    advance(lexer);
    uint32_t level = count_equals(lexer);
    if (!at_eof(lexer) && lexer->lookahead == '[') {
      if (!block_ok) return false;
      advance(lexer);
      lexer->mark_end(lexer);
      open_long_bracket(scanner, lexer, LONG_COMMENT, level);
      lexer->result_symbol = BLOCK_COMMENT_START;
      return true;
    }
    /* `--[` or `--[==` starts an ordinary line comment */
  }

  if (!line_ok) return false;
  scanner->pending = PENDING_LINE_CONTENT;
  lexer->result_symbol = LINE_COMMENT_START;
  return true;
}

/* `[`, `=`*, `[` with the lexer on the `[`. */
static bool scan_long_string_start(Scanner *scanner, TSLexer *lexer) {
  advance(lexer);
  uint32_t level = count_equals(lexer);
  if (at_eof(lexer) || lexer->lookahead != '[') return false; /* an index `[` */
  advance(lexer);
  lexer->mark_end(lexer);
  open_long_bracket(scanner, lexer, LONG_STRING, level);
  lexer->result_symbol = LONG_STRING_START;
  return true;
}

void *tree_sitter_tactus_external_scanner_create(void) {
  Scanner *scanner = calloc(1, sizeof(Scanner));
  return scanner;
}

void tree_sitter_tactus_external_scanner_destroy(void *payload) { free(payload); }

unsigned tree_sitter_tactus_external_scanner_serialize(void *payload, char *buffer) {
  const Scanner *scanner = payload;
  if (scanner == NULL) return 0;
  if (scanner->pending == PENDING_NONE) return 0;
  buffer[0] = (char)scanner->pending;
  buffer[1] = (char)scanner->kind;
  buffer[2] = (char)(scanner->level & 0xFF);
  buffer[3] = (char)((scanner->level >> 8) & 0xFF);
  buffer[4] = (char)((scanner->level >> 16) & 0xFF);
  buffer[5] = (char)((scanner->level >> 24) & 0xFF);
  return SERIALIZED_SIZE;
}

void tree_sitter_tactus_external_scanner_deserialize(void *payload, const char *buffer,
                                                      unsigned length) {
  Scanner *scanner = payload;
  if (scanner == NULL) return;
  scanner->pending = PENDING_NONE;
  scanner->kind = LONG_STRING;
  scanner->level = 0;
  if (length < SERIALIZED_SIZE) return;
  const unsigned char *b = (const unsigned char *)buffer;
  scanner->pending = b[0] <= PENDING_LONG_END ? b[0] : PENDING_NONE;
  scanner->kind = b[1] == LONG_COMMENT ? LONG_COMMENT : LONG_STRING;
  scanner->level = (uint32_t)b[2] | ((uint32_t)b[3] << 8) | ((uint32_t)b[4] << 16) |
                   ((uint32_t)b[5] << 24);
}

bool tree_sitter_tactus_external_scanner_scan(void *payload, TSLexer *lexer,
                                              const bool *valid_symbols) {
  Scanner *scanner = payload;
  if (scanner == NULL) return false;

  /* A token promised by the previous external token comes first, whatever
     the parser state: the input decides what these bytes are. */
  switch (scanner->pending) {
    case PENDING_LINE_CONTENT:
      return scan_line_content(scanner, lexer);
    case PENDING_LONG_CONTENT:
      return scan_long_content(scanner, lexer);
    case PENDING_LONG_END:
      return scan_long_end(scanner, lexer);
    default:
      break;
  }

  bool recovering = valid_symbols[ERROR_SENTINEL];

  /* Inside a short string only its text runs are ours (no comments). */
  if (!recovering) {
    if (valid_symbols[DOUBLE_QUOTE_TEXT]) {
      return scan_quoted_text(lexer, '"', DOUBLE_QUOTE_TEXT);
    }
    if (valid_symbols[SINGLE_QUOTE_TEXT]) {
      return scan_quoted_text(lexer, '\'', SINGLE_QUOTE_TEXT);
    }
  }

  while (!at_eof(lexer) && is_space(lexer->lookahead)) skip(lexer);
  if (at_eof(lexer)) return false;

  if (lexer->lookahead == '-') {
    bool line_ok = valid_symbols[LINE_COMMENT_START];
    bool block_ok = valid_symbols[BLOCK_COMMENT_START];
    if (!line_ok && !block_ok) return false;
    return scan_comment_start(scanner, lexer, line_ok, block_ok);
  }

  if (lexer->lookahead == '[' && valid_symbols[LONG_STRING_START]) {
    return scan_long_string_start(scanner, lexer);
  }

  return false;
}
