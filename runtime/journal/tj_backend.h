/*
 * tj_backend.h - what a storage backend gives the journal (not a public
 * header): a connection, write transactions, and prepared statements with
 * `?`/`?N` placeholders, text and integer parameters and columns. The
 * journal's logic (the schema's use, seals, queries, tenancy) is written
 * once over this; a backend is one file (tj_sqlite.c today).
 *
 * A backend owns its schema's creation and migrations: the same tables,
 * columns and types (text, 64-bit integers) on every backend, since the
 * seals hash what the columns hold.
 */
#ifndef TACTUS_TJ_BACKEND_H
#define TACTUS_TJ_BACKEND_H

#include "base.h"

typedef enum { TJ_NULL, TJ_INTEGER, TJ_TEXT } tj_kind;
typedef enum { TJ_ROW, TJ_DONE, TJ_FAIL } tj_step;

typedef struct tj_backend tj_backend;
typedef struct tj_db tj_db;

/* Every backend's statement begins with this. */
typedef struct tj_stmt {
    const tj_backend *be;
} tj_stmt;

struct tj_backend {
    const char *name;
    /* Opens (creating if needed) the store at `where` and brings its
     * schema to the current version. TX_EIO with a message on failure. */
    tx_status (*open)(const char *where, tj_db **db, char *err, size_t cap);
    void (*close)(tj_db *db);
    /* A write transaction that excludes other writers until commit or
     * rollback; a committed write is durable. */
    tx_status (*begin_write)(tj_db *db);
    tx_status (*commit)(tj_db *db);
    void (*rollback)(tj_db *db);
    /* NULL on failure (see error). */
    tj_stmt *(*prepare)(tj_db *db, const char *sql);
    /* Parameters count from 1; the text is copied; NULL binds SQL NULL. */
    void (*bind_text)(tj_stmt *st, int i, const char *text);
    void (*bind_int)(tj_stmt *st, int i, long long v);
    tj_step (*step)(tj_stmt *st);
    /* Columns count from 0, valid until the next step or finalize. */
    tj_kind (*column_kind)(tj_stmt *st, int i);
    const char *(*column_text)(tj_stmt *st, int i); /* NULL for SQL NULL */
    long long (*column_int)(tj_stmt *st, int i);
    void (*finalize)(tj_stmt *st);
    /* Rows changed by the last statement that finished. */
    long (*changes)(tj_db *db);
    /* The last error, for messages. */
    const char *(*error)(tj_db *db);
};

extern const tj_backend tj_sqlite_backend;

#endif
