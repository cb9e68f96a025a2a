/*
 * base.h - the few things every module of Tactus in C shares: allocation
 * wrappers that tests can make fail, byte buffers that carry their own cap,
 * a bump arena, file reading with a size limit, UTF-8 checks, and the
 * diagnostic record that the checker, the CLI and the LSP all read.
 *
 * Error model: functions return a tx_status (or NULL for allocators). Nothing
 * here prints or exits; callers decide. Out-of-memory is never fatal here.
 */
#ifndef TACTUS_BASE_H
#define TACTUS_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Append-only: codes are stable across releases (curl's discipline). */
typedef enum {
    TX_OK = 0,
    TX_ENOMEM = 1,  /* an allocation failed */
    TX_ELIMIT = 2,  /* input exceeded a configured cap */
    TX_EIO = 3,     /* read/write failed; errno is kept by the caller */
    TX_EINVAL = 4,  /* malformed input or arguments */
    TX_ENOENT = 5,  /* no such file */
    TX_EISDIR = 6,  /* a directory where a file was expected */
    TX_ENOTREG = 7, /* a FIFO, device or socket where a regular file was expected */
} tx_status;

const char *tx_status_str(tx_status s);

/* ---- allocation ---------------------------------------------------------
 * All project allocations go through these so that a test can fail the Nth
 * allocation (tx_alloc_fail_after) and check that nothing crashes or leaks. */
void *tx_malloc(size_t n);
void *tx_calloc(size_t count, size_t size);
void *tx_realloc(void *p, size_t n);
void tx_free(void *p);
char *tx_strdup(const char *s);
char *tx_strndup(const char *s, size_t n);
/* Fail every allocation after `n` more have succeeded; n < 0 disables. */
void tx_alloc_fail_after(long n);
/* Number of allocations made since start (for the fail-each-in-turn loop). */
unsigned long tx_alloc_count(void);

/* ---- buffers -------------------------------------------------------------
 * A growable byte buffer with a hard cap set once at creation: input can
 * never grow it past `limit`. data is always NUL-terminated when non-NULL. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    size_t limit;
} tx_buf;

void tx_buf_init(tx_buf *b, size_t limit);
tx_status tx_buf_append(tx_buf *b, const char *s, size_t n);
tx_status tx_buf_puts(tx_buf *b, const char *s);
tx_status tx_buf_printf(tx_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
tx_status tx_buf_vprintf(tx_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends `s` as a JSON string literal (quotes included, escapes applied;
 * invalid UTF-8 bytes become U+FFFD so output is always valid JSON). */
tx_status tx_buf_json_string(tx_buf *b, const char *s, size_t n);
/* Gives the data to the caller (who frees it with tx_free); resets b. */
char *tx_buf_steal(tx_buf *b);
/* Empties b and keeps its memory for reuse. */
void tx_buf_clear(tx_buf *b);
void tx_buf_free(tx_buf *b);

/* ---- arena ---------------------------------------------------------------
 * Bump allocator for trees of small objects that die together (the
 * declaration model). tx_arena_alloc returns zeroed memory or NULL. */
typedef struct tx_arena_block tx_arena_block;
typedef struct {
    tx_arena_block *head;
} tx_arena;

void tx_arena_init(tx_arena *a);
void *tx_arena_alloc(tx_arena *a, size_t n);
char *tx_arena_strndup(tx_arena *a, const char *s, size_t n);
void tx_arena_free(tx_arena *a);

/* ---- files ---------------------------------------------------------------- */
/* Reads a whole regular file. On success *out is NUL-terminated (the NUL is
 * not counted in *len) and owned by the caller. Files over `limit` bytes
 * give TX_ELIMIT; a directory TX_EISDIR; a FIFO, device or socket
 * TX_ENOTREG (never opened so that it could block: a FIFO named like a
 * configuration file must not hang the host); *err_no receives errno on
 * TX_EIO/TX_ENOENT. */
tx_status tx_read_file(const char *path, size_t limit, char **out, size_t *len, int *err_no);

/* ---- UTF-8 ---------------------------------------------------------------- */
/* Offset of the first byte that does not start a well-formed UTF-8 sequence
 * (RFC 3629: no overlongs, no surrogates, max U+10FFFF), or n if valid. */
size_t tx_utf8_invalid_at(const char *s, size_t n);
/* Number of code points in s[0..n), counting each invalid byte as one. */
size_t tx_utf8_count(const char *s, size_t n);
/* The length of the longest prefix of s[0..n) of at most max bytes that
 * does not end inside a UTF-8 sequence (n when it all fits). */
size_t tx_utf8_cut(const char *s, size_t n, size_t max);
/* Appends s whole, or its first max bytes (at a character boundary) then a
 * visible "… (N more bytes; WHERE_WHOLE)": a summary never cuts text
 * without saying so and how much was left out. where_whole may be NULL. */
tx_status tx_buf_shorten(tx_buf *b, const char *s, size_t max, const char *where_whole);

/* ---- terminal text ---------------------------------------------------------- */
/* Procedure-controlled text bound for a terminal, made inert: C0 controls
 * (ESC, CR, BS, BEL, ...) except \n and \t, and DEL become \xNN; C1
 * controls (U+0080..U+009F, e.g. the one-byte CSI) become \u00NN; the
 * invisible format characters (bidirectional overrides and isolates U+202A-E
 * and U+2066-9, marks U+200E/F and U+061C, zero-width U+200B-D and U+2060-4,
 * the BOM U+FEFF) become \uNNNN; invalid UTF-8 bytes become \xNN. So no
 * escape sequence (OSC 52 clipboard writes,
 * screen clears, cursor moves, a "\r" that overwrites a line) reaches the
 * terminal from a procedure. The one function every terminal writer uses
 * for such text; JSON output is escaped by cJSON instead. */
tx_status tx_buf_term_text(tx_buf *b, const char *s, size_t n);
/* The same as a new NUL-terminated string (tx_free it); NULL on memory. */
char *tx_term_text(const char *s);
/* fputs of tx_term_text(s). */
void tx_fputs_term(const char *s, FILE *out);
/* fputs of s as XML or HTML text or attribute value: & < > " ' escaped,
 * and control characters XML 1.0 does not allow (all of C0 but tab, line
 * feed and carriage return) written as '?'. */
void tx_fputs_xml(const char *s, FILE *out);

/* ---- source positions and diagnostics -------------------------------------
 * Positions are kept as tree-sitter gives them (0-based row, byte column)
 * plus byte offsets; renderers convert to 1-based line and code-point column
 * with tx_span_columns, so every output agrees. */
typedef struct {
    uint32_t row;
    uint32_t column; /* bytes */
} tx_point;

typedef struct {
    uint32_t start_byte, end_byte;
    tx_point start, end;
} tx_span;

typedef enum { TX_SEV_ERROR = 0, TX_SEV_WARNING = 1, TX_SEV_INFO = 2 } tx_severity;

const char *tx_severity_str(tx_severity s);

typedef struct {
    const char *code; /* stable, static storage, e.g. "TAC101" */
    tx_severity severity;
    tx_span span;
    char *message; /* owned */
    /* A second place the finding involves (the agent whose grants a call
     * exceeds, the first of two duplicates), when the rule knows one. The
     * language server shows it as relatedInformation; renderers that show
     * one location per finding ignore it, so it never changes their output. */
    bool has_related;
    tx_span related;
    char *related_message; /* owned; set when has_related */
} tx_diag;

typedef struct {
    tx_diag *items;
    size_t len, cap;
    bool oom; /* sticky: a diagnostic could not be recorded */
    bool last_ok; /* the latest tx_diag_add succeeded (for tx_diag_relate) */
} tx_diag_list;

void tx_diag_list_init(tx_diag_list *l);
void tx_diag_add(tx_diag_list *l, const char *code, tx_severity sev, tx_span span,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Attaches a related place to the diagnostic added last (no-op on an empty
 * list or when that add failed); a failed allocation sets oom. */
void tx_diag_relate(tx_diag_list *l, tx_span span, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Stable order: by start byte, then code; identical records are dropped. */
void tx_diag_sort(tx_diag_list *l);
size_t tx_diag_count(const tx_diag_list *l, tx_severity sev);
void tx_diag_list_free(tx_diag_list *l);

/* 1-based line and code-point column of a byte position in src. */
typedef struct {
    uint32_t line, column, end_line, end_column;
} tx_line_col;
tx_line_col tx_span_columns(const char *src, size_t src_len, tx_span span);
/* Span covering bytes [start, end) of src, computing rows/columns. */
tx_span tx_span_of_bytes(const char *src, size_t src_len, size_t start, size_t end);

/* ---- string map ----------------------------------------------------------------
 * Open-addressing hash map from NUL-terminated keys (borrowed, not copied) to
 * pointers. Used where a linear search would make a large file quadratic. */
typedef struct {
    const char **keys;
    size_t *key_lens;
    void **values;
    size_t len, cap;
} tx_map;

void tx_map_init(tx_map *m);
/* Inserts or replaces key[0..n), which must stay valid while the map lives. */
tx_status tx_map_put(tx_map *m, const char *key, size_t n, void *value);
/* The value for key[0..n), or NULL. */
void *tx_map_get(const tx_map *m, const char *key, size_t n);
void tx_map_free(tx_map *m);

/* ---- strings ---------------------------------------------------------------- */
/* Levenshtein distance, capped: returns cap+1 as soon as it must exceed cap. */
size_t tx_edit_distance(const char *a, size_t alen, const char *b, size_t blen, size_t cap);
bool tx_str_ieq(const char *a, const char *b);
/* Whether an environment variable's name marks a secret: the provider keys of
 * inventory F.5, and any name ending in _API_KEY, _TOKEN, _SECRET or
 * _PASSWORD (case-insensitive). Such names never enter a sandbox. */
bool tx_env_name_is_secret(const char *name);
bool tx_has_suffix(const char *s, const char *suffix);

#endif
