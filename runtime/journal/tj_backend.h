/*
 * tj_backend.h - what a storage backend gives the journal (not a public
 * header): a connection, write transactions, and prepared statements with
 * `?`/`?N` placeholders, text and integer parameters and columns. The
 * journal's logic (the schema's use, seals, queries, tenancy, the run
 * queue) is written once over this; a backend is one file (tj_sqlite.c,
 * tj_pg.c).
 *
 * The schema and its migrations are the journal's (tj_schema.c): the same
 * tables, columns and types (text, 64-bit integers) on every backend, since
 * the seals hash what the columns hold. A backend gives the few SQL words
 * that differ (row locks, the store's clock).
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
    /* SQL words that differ. `now_ms`: the store's clock in milliseconds
     * (PostgreSQL's, so that leases do not depend on a worker's clock);
     * `lock_rows` / `share_rows` / `claim_rows`: appended to a SELECT whose
     * rows must stay as read until commit ("" where the write transaction
     * already excludes every other writer, as SQLite's does). */
    const char *now_ms;
    const char *lock_rows;
    const char *share_rows;
    const char *claim_rows;
    /* A statement that lets the open transaction commit without waiting
     * for the disk (PostgreSQL's asynchronous commit: a server crash may
     * lose the last moments of it, never make it half-written), for
     * records that are not the journal of record (the audit log); NULL:
     * none. */
    const char *relaxed_commit;
    /* Opens the store at `where` (a file, or a connection URL). TX_EIO with
     * a message on failure (a URL's password never in it). */
    tx_status (*open)(const char *where, tj_db **db, char *err, size_t cap);
    void (*close)(tj_db *db);
    /* Runs statements with no parameters and no rows (the schema's DDL). */
    tx_status (*exec)(tj_db *db, const char *sql);
    /* A write transaction; a committed write is durable. SQLite's excludes
     * every other writer; PostgreSQL's takes row locks as it goes. */
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
    /* Tells listeners of `channel` (PostgreSQL NOTIFY, sent at commit);
     * NULL where nobody can listen (SQLite: workers poll). */
    tx_status (*notify)(tj_db *db, const char *channel, const char *payload);
    /* Listens on `channel` from now on (NULL: cannot). */
    tx_status (*listen)(tj_db *db, const char *channel);
    /* Waits at most timeout_ms for a notification: 1 one came, 0 none, -1
     * the connection failed. NULL: cannot (the caller sleeps). */
    int (*wait)(tj_db *db, long timeout_ms);
    /* A session lock on `key` held until released or the connection ends
     * (PostgreSQL advisory lock): TX_OK held, TX_ELIMIT held by another
     * session. NULL: none (SQLite uses a lock file instead). */
    tx_status (*try_lock)(tj_db *db, const char *key);
    /* Takes a statement of the open write transaction whose result nobody
     * reads, to be sent with the commit (PostgreSQL: one round trip for
     * both); its failure fails the commit. NULL: step it now. */
    tx_status (*defer)(tj_stmt *st);
};

extern const tj_backend tj_sqlite_backend;
extern const tj_backend tj_pg_backend;

#endif
