/*
 * External scanner for the Gherkin grammar (see ../grammar.js).
 *
 * Every token of the grammar comes from here.  At the start of a line the
 * scanner classifies the line by its first characters (comment, tag, pipe,
 * doc string delimiter, keyword, step keyword, or other text) and emits the
 * matching token if the parser can accept it.  In the middle of a line it
 * continues whatever the previous token started (title after a keyword, step
 * text after a step keyword, cells after a pipe, more tags after a tag).
 *
 * State (two bytes): the kind of the last token emitted, which tells the
 * start of the input (no token yet) from the middle of a line and gives the
 * context while the parser recovers from an error and accepts anything; and
 * the character of the last opening doc string delimiter, which the body
 * needs in order to find its closing line.
 *
 * Robustness rules followed throughout:
 *  - the end of input is tested with lexer->eof(), never with a NUL lookahead;
 *  - no buffers: every line is streamed, so line length does not matter;
 *  - while recovering from an error the scanner always returns a token when
 *    any text is left, so tree-sitter never retries character by character
 *    (which would make long lines quadratic);
 *  - the only unbounded look-ahead, a doc string body looking for its closing
 *    line, runs outside error recovery only.
 */

#include "tree_sitter/parser.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* Same order as `externals` in grammar.js. */
enum TokenType {
  FEATURE_KEYWORD,
  RULE_KEYWORD,
  BACKGROUND_KEYWORD,
  SCENARIO_KEYWORD,
  OUTLINE_KEYWORD,
  EXAMPLES_KEYWORD,
  STEP_KEYWORD,
  TITLE,
  TEXT_CHUNK,
  PLACEHOLDER,
  DESCRIPTION_LINE,
  TAG,
  PIPE,
  TABLE_CELL,
  QUOTES,
  BACKTICKS,
  MEDIA_TYPE,
  DOC_STRING_CONTENT,
  DOC_STRING_INDENT,
  COMMENT,
  ERROR_SENTINEL,
};

/* What the last emitted token leaves the rest of its line to. */
enum Last {
  LAST_NONE,        /* nothing emitted yet: the input starts a line */
  LAST_LINE_DONE,   /* token ran to the end of its line */
  LAST_KEYWORD,     /* title may follow */
  LAST_STEP_KEYWORD,/* step text follows, possibly empty */
  LAST_STEP,        /* more step text (chunks, placeholders) may follow */
  LAST_PIPE,        /* a cell may follow */
  LAST_CELL,        /* a pipe follows */
  LAST_TAG,         /* more tags or a comment may follow */
  LAST_DS_OPEN,     /* media type may follow; body on the next lines */
  LAST_DS_CONTENT,  /* closing delimiter on the next line */
  LAST_DS_INDENT,   /* closing delimiter right here */
};

typedef struct {
  uint8_t last;      /* enum Last */
  uint8_t delimiter; /* '"' or '`': character of the last opening delimiter */
} Scanner;

/* ------------------------------------------------------------------ */
/* Character helpers                                                   */

static bool at_eol(TSLexer *lexer) {
  return lexer->eof(lexer) || lexer->lookahead == '\n';
}

/* Blanks inside a line (\r counts, so CRLF files need no special case). */
static bool is_blank(int32_t c) {
  switch (c) {
  case ' ':
  case '\t':
  case '\r':
  case '\v':
  case '\f':
  case 0xA0:   /* no-break space */
  case 0x1680:
  case 0x202F:
  case 0x205F:
  case 0x3000:
  case 0xFEFF: /* byte order mark */
    return true;
  default:
    return c >= 0x2000 && c <= 0x200A;
  }
}

static void skip(TSLexer *lexer) { lexer->advance(lexer, true); }

static void consume(TSLexer *lexer) { lexer->advance(lexer, false); }

/* Consumes up to the end of the line; the token ends after its last
 * non-blank character. */
static void consume_rest_of_line(TSLexer *lexer) {
  while (!at_eol(lexer)) {
    int32_t c = lexer->lookahead;
    consume(lexer);
    if (!is_blank(c)) lexer->mark_end(lexer);
  }
}

static bool emit(Scanner *s, TSLexer *lexer, enum TokenType token, enum Last last) {
  lexer->result_symbol = (TSSymbol)token;
  s->last = (uint8_t)last;
  return true;
}

/* ------------------------------------------------------------------ */
/* Line classification                                                 */

typedef struct {
  const char *text;
  enum TokenType token;
} Keyword;

/* No keyword is a prefix of another, so the first complete match wins.
 * Step keywords are listed without their mandatory following blank. */
static const Keyword KEYWORDS[] = {
    {"Feature:", FEATURE_KEYWORD},
    {"Rule:", RULE_KEYWORD},
    {"Background:", BACKGROUND_KEYWORD},
    {"Scenario Outline:", OUTLINE_KEYWORD},
    {"Scenario Template:", OUTLINE_KEYWORD},
    {"Scenario:", SCENARIO_KEYWORD},
    {"Example:", SCENARIO_KEYWORD},
    {"Examples:", EXAMPLES_KEYWORD},
    {"Scenarios:", EXAMPLES_KEYWORD},
    {"Given", STEP_KEYWORD},
    {"When", STEP_KEYWORD},
    {"Then", STEP_KEYWORD},
    {"And", STEP_KEYWORD},
    {"But", STEP_KEYWORD},
    {"*", STEP_KEYWORD},
};

#define KEYWORD_COUNT (sizeof(KEYWORDS) / sizeof(KEYWORDS[0]))

/* Matches a keyword at the lexer's position, consuming what it reads and
 * marking the end after every non-blank character.  Returns the keyword's
 * token, or DESCRIPTION_LINE if the text is not a keyword (the caller then
 * consumes the rest of the line). */
static enum TokenType match_keyword(TSLexer *lexer) {
  uint32_t alive = (1u << KEYWORD_COUNT) - 1u;
  for (unsigned i = 0;; i++) {
    int32_t c = lexer->lookahead;
    if (lexer->eof(lexer)) return DESCRIPTION_LINE;
    uint32_t next = 0;
    for (unsigned k = 0; k < KEYWORD_COUNT; k++) {
      if ((alive & (1u << k)) && (unsigned char)KEYWORDS[k].text[i] == c) next |= 1u << k;
    }
    if (next == 0) return DESCRIPTION_LINE;
    consume(lexer);
    if (!is_blank(c)) lexer->mark_end(lexer);
    alive = next;
    for (unsigned k = 0; k < KEYWORD_COUNT; k++) {
      if ((alive & (1u << k)) && KEYWORDS[k].text[i + 1] == '\0') {
        if (KEYWORDS[k].token != STEP_KEYWORD) return KEYWORDS[k].token;
        /* "Given" counts only when a blank follows, as in Gherkin. */
        if (lexer->lookahead == ' ' || lexer->lookahead == '\t') return STEP_KEYWORD;
        return DESCRIPTION_LINE;
      }
    }
  }
}

/* Consumes `count` copies of `c`; true if they were all there. */
static bool consume_run(TSLexer *lexer, int32_t c, unsigned count) {
  for (unsigned i = 0; i < count; i++) {
    if (lexer->eof(lexer) || lexer->lookahead != c) return false;
    consume(lexer);
    lexer->mark_end(lexer);
  }
  return true;
}

/* At the first non-blank character of a line. */
static bool scan_line_start(Scanner *s, TSLexer *lexer, const bool *valid, bool recovering) {
  int32_t c = lexer->lookahead;
  enum TokenType token;
  enum Last last = LAST_LINE_DONE;

  if (c == '#') {
    consume_rest_of_line(lexer);
    token = COMMENT;
  } else if (c == '@') {
    consume(lexer);
    while (!at_eol(lexer) && !is_blank(lexer->lookahead)) consume(lexer);
    lexer->mark_end(lexer);
    token = TAG;
    last = LAST_TAG;
  } else if (c == '|') {
    consume(lexer);
    lexer->mark_end(lexer);
    token = PIPE;
    last = LAST_PIPE;
  } else if (c == '"' || c == '`') {
    if (consume_run(lexer, c, 3)) {
      token = c == '"' ? QUOTES : BACKTICKS;
      /* After a doc string body this can only be its closing delimiter. */
      bool closing = s->last == LAST_DS_CONTENT || s->last == LAST_DS_INDENT;
      last = closing ? LAST_LINE_DONE : LAST_DS_OPEN;
      if (!closing && valid[token]) s->delimiter = (uint8_t)c;
    } else {
      /* One or two of them, already consumed: plain text. */
      consume_rest_of_line(lexer);
      token = DESCRIPTION_LINE;
    }
  } else {
    token = match_keyword(lexer);
    if (token == DESCRIPTION_LINE) {
      consume_rest_of_line(lexer);
    } else {
      last = token == STEP_KEYWORD ? LAST_STEP_KEYWORD : LAST_KEYWORD;
    }
  }

  if (!valid[token]) return false;
  /* Free text is never what recovery should resume at: as a description it
   * would make the parser re-read earlier lines as errors instead of this
   * one.  Hand it over as unusable, so the ERROR node covers this line. */
  if (recovering && token == DESCRIPTION_LINE) token = ERROR_SENTINEL;
  return emit(s, lexer, token, last);
}

/* ------------------------------------------------------------------ */
/* Mid-line tokens                                                     */

/* Step text after the keyword: chunks of text, split before every `<`, and
 * placeholders `<name>`.  At a non-blank character. */
static bool scan_step_text(Scanner *s, TSLexer *lexer, const bool *valid) {
  if (lexer->lookahead == '<') {
    consume(lexer);
    lexer->mark_end(lexer);
    /* A name is a trimmed header cell, so it cannot start or end blank;
     * this also keeps `a < b > c` plain text. */
    bool trimmed = !at_eol(lexer) && !is_blank(lexer->lookahead) && lexer->lookahead != '>' &&
                   lexer->lookahead != '<';
    bool last_blank = false;
    while (!at_eol(lexer) && lexer->lookahead != '>' && lexer->lookahead != '<') {
      int32_t c = lexer->lookahead;
      consume(lexer);
      last_blank = is_blank(c);
      if (!last_blank) lexer->mark_end(lexer);
    }
    if (!lexer->eof(lexer) && lexer->lookahead == '>') {
      consume(lexer);
      lexer->mark_end(lexer);
      if (trimmed && !last_blank && valid[PLACEHOLDER]) return emit(s, lexer, PLACEHOLDER, LAST_STEP);
    }
    /* Not a placeholder: what was read is plain text. */
  }
  while (!at_eol(lexer) && lexer->lookahead != '<') {
    int32_t c = lexer->lookahead;
    consume(lexer);
    if (!is_blank(c)) lexer->mark_end(lexer);
  }
  if (!valid[TEXT_CHUNK]) return false;
  return emit(s, lexer, TEXT_CHUNK, LAST_STEP);
}

/* A cell after a pipe, up to the next unescaped pipe on the line. */
static bool scan_cell(Scanner *s, TSLexer *lexer, const bool *valid, bool recovering) {
  /* An empty cell is a zero-width token right before its closing pipe. */
  lexer->mark_end(lexer);
  while (!at_eol(lexer) && lexer->lookahead != '|') {
    int32_t c = lexer->lookahead;
    consume(lexer);
    if (c == '\\' && !at_eol(lexer)) {
      consume(lexer); /* `\|`, `\\`, `\n`: the escaped character stays */
      lexer->mark_end(lexer);
    } else if (!is_blank(c)) {
      lexer->mark_end(lexer);
    }
  }
  if (!lexer->eof(lexer) && lexer->lookahead == '|') {
    if (!valid[TABLE_CELL]) return false;
    return emit(s, lexer, TABLE_CELL, LAST_CELL);
  }
  /* Text after the last pipe: an error.  While recovering, hand it over as
   * one unusable token; otherwise refuse, so that recovery starts. */
  if (recovering) return emit(s, lexer, ERROR_SENTINEL, LAST_LINE_DONE);
  return false;
}

/* In the middle of a line, at a non-blank character. */
static bool scan_mid_line(Scanner *s, TSLexer *lexer, const bool *valid, bool recovering) {
  int32_t c = lexer->lookahead;
  switch ((enum Last)s->last) {
  case LAST_KEYWORD:
    if (valid[TITLE]) {
      consume_rest_of_line(lexer);
      return emit(s, lexer, TITLE, LAST_LINE_DONE);
    }
    break;
  case LAST_STEP_KEYWORD:
  case LAST_STEP:
    if (valid[TEXT_CHUNK] || valid[PLACEHOLDER]) return scan_step_text(s, lexer, valid);
    break;
  case LAST_PIPE:
    if (valid[TABLE_CELL]) return scan_cell(s, lexer, valid, recovering);
    break;
  case LAST_CELL:
    if (c == '|' && valid[PIPE]) {
      consume(lexer);
      lexer->mark_end(lexer);
      return emit(s, lexer, PIPE, LAST_PIPE);
    }
    break;
  case LAST_TAG:
    if (c == '@' && valid[TAG]) {
      while (!at_eol(lexer) && !is_blank(lexer->lookahead)) consume(lexer);
      lexer->mark_end(lexer);
      return emit(s, lexer, TAG, LAST_TAG);
    }
    /* Gherkin allows a comment after the tags of a line. */
    if (c == '#' && valid[COMMENT]) {
      consume_rest_of_line(lexer);
      return emit(s, lexer, COMMENT, LAST_LINE_DONE);
    }
    break;
  case LAST_DS_OPEN:
    if (valid[MEDIA_TYPE]) {
      consume_rest_of_line(lexer);
      return emit(s, lexer, MEDIA_TYPE, LAST_LINE_DONE);
    }
    break;
  case LAST_DS_INDENT:
    if ((c == '"' && valid[QUOTES]) || (c == '`' && valid[BACKTICKS])) {
      if (consume_run(lexer, c, 3)) {
        return emit(s, lexer, c == '"' ? QUOTES : BACKTICKS, LAST_LINE_DONE);
      }
    }
    break;
  case LAST_NONE:
  case LAST_LINE_DONE:
  case LAST_DS_CONTENT:
    break;
  }
  if (!recovering) return false;
  /* Unusable text while recovering: one token up to the end of the line
   * (which may already have been partly consumed above). */
  consume_rest_of_line(lexer);
  return emit(s, lexer, ERROR_SENTINEL, LAST_LINE_DONE);
}

/* ------------------------------------------------------------------ */
/* Doc string body                                                     */

/* Right after the opening delimiter (or its media type): the media type,
 * or the body up to the closing line.  Refuses when there is no closing
 * line before the end of input. */
static bool scan_doc_string_body(Scanner *s, TSLexer *lexer, const bool *valid) {
  int32_t delimiter = s->delimiter;
  if (delimiter != '"' && delimiter != '`') return false;

  while (!lexer->eof(lexer) && is_blank(lexer->lookahead)) skip(lexer);
  if (lexer->eof(lexer)) return false;
  if (lexer->lookahead != '\n') {
    if (!valid[MEDIA_TYPE]) return false;
    consume_rest_of_line(lexer);
    return emit(s, lexer, MEDIA_TYPE, LAST_LINE_DONE);
  }
  skip(lexer); /* the body starts at the first column of the next line */

  for (bool first = true;; first = false) {
    while (!lexer->eof(lexer) && (lexer->lookahead == ' ' || lexer->lookahead == '\t')) {
      consume(lexer);
    }
    if (first) lexer->mark_end(lexer);
    unsigned run = 0;
    while (run < 3 && !lexer->eof(lexer) && lexer->lookahead == delimiter) {
      consume(lexer);
      run++;
    }
    if (run == 3) {
      if (!first) {
        /* Ends where the previous line's mark_end left it. */
        if (!valid[DOC_STRING_CONTENT]) return false;
        return emit(s, lexer, DOC_STRING_CONTENT, LAST_DS_CONTENT);
      }
      /* Empty doc string: hand over the indentation (possibly none) as a
       * hidden token; the delimiter comes next, in the middle of a line. */
      if (!valid[DOC_STRING_INDENT]) return false;
      return emit(s, lexer, DOC_STRING_INDENT, LAST_DS_INDENT);
    }
    /* A content line: raw, except for a final \r. */
    lexer->mark_end(lexer);
    while (!at_eol(lexer)) {
      int32_t c = lexer->lookahead;
      consume(lexer);
      if (c != '\r') lexer->mark_end(lexer);
    }
    if (lexer->eof(lexer)) return false; /* unterminated */
    consume(lexer);                      /* '\n' */
  }
}

/* ------------------------------------------------------------------ */
/* Entry point                                                         */

static bool scan(Scanner *s, TSLexer *lexer, const bool *valid) {
  /* Only while recovering from an error is every token valid at once. */
  bool recovering = valid[ERROR_SENTINEL];

  if (!recovering && valid[DOC_STRING_CONTENT]) return scan_doc_string_body(s, lexer, valid);

  /* "Given " with nothing after it (Gherkin accepts it): a zero-width step
   * text at the end of the line keeps the step's `text` field present. */
  if (s->last == LAST_STEP_KEYWORD && valid[TEXT_CHUNK]) {
    while (!lexer->eof(lexer) && is_blank(lexer->lookahead)) skip(lexer);
    if (at_eol(lexer)) {
      lexer->mark_end(lexer);
      return emit(s, lexer, TEXT_CHUNK, LAST_STEP);
    }
  }

  bool new_line = s->last == LAST_NONE;
  while (!lexer->eof(lexer)) {
    if (lexer->lookahead == '\n') {
      new_line = true;
    } else if (!is_blank(lexer->lookahead)) {
      break;
    }
    skip(lexer);
  }
  if (lexer->eof(lexer)) return false;

  if (new_line) return scan_line_start(s, lexer, valid, recovering);
  return scan_mid_line(s, lexer, valid, recovering);
}

/* ------------------------------------------------------------------ */
/* Tree-sitter interface                                               */

/* Declared here because no header declares them (-Wmissing-prototypes). */
void *tree_sitter_gherkin_external_scanner_create(void);
void tree_sitter_gherkin_external_scanner_destroy(void *payload);
unsigned tree_sitter_gherkin_external_scanner_serialize(void *payload, char *buffer);
void tree_sitter_gherkin_external_scanner_deserialize(void *payload, const char *buffer,
                                                      unsigned length);
bool tree_sitter_gherkin_external_scanner_scan(void *payload, TSLexer *lexer,
                                               const bool *valid_symbols);

void *tree_sitter_gherkin_external_scanner_create(void) {
  static const Scanner initial = {LAST_NONE, 0};
  Scanner *s = malloc(sizeof(Scanner));
  if (s) *s = initial;
  return s;
}

void tree_sitter_gherkin_external_scanner_destroy(void *payload) { free(payload); }

unsigned tree_sitter_gherkin_external_scanner_serialize(void *payload, char *buffer) {
  Scanner *s = payload;
  if (!s) return 0;
  buffer[0] = (char)s->last;
  buffer[1] = (char)s->delimiter;
  return 2;
}

void tree_sitter_gherkin_external_scanner_deserialize(void *payload, const char *buffer,
                                                      unsigned length) {
  Scanner *s = payload;
  if (!s) return;
  s->last = LAST_NONE;
  s->delimiter = 0;
  if (length >= 2) {
    if ((uint8_t)buffer[0] <= LAST_DS_INDENT) s->last = (uint8_t)buffer[0];
    s->delimiter = (uint8_t)buffer[1];
  }
}

bool tree_sitter_gherkin_external_scanner_scan(void *payload, TSLexer *lexer,
                                               const bool *valid_symbols) {
  Scanner *s = payload;
  if (!s) return false;
  return scan(s, lexer, valid_symbols);
}
