/*
 * tj_sqlite.c - the journal on SQLite (tj_backend.h): one file in WAL mode
 * with synchronous=FULL, so a committed write is on disk; created private
 * (0600) whatever the umask, since SQLite gives its -wal and -shm files the
 * database file's mode.
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tj_internal.h"

struct tj_db {
    sqlite3 *db;
};

typedef struct {
    tj_stmt base;
    sqlite3_stmt *st;
    sqlite3 *db;
} sq_stmt;

/* Per connection: a commit is on disk when it returns; references hold. */
static const char connection_pragmas[] = "PRAGMA synchronous=FULL;"
                                         "PRAGMA foreign_keys=ON;";

static tx_status sq_open(const char *path, tj_db **out, char *err, size_t errlen)
{
    *out = NULL;
    tj_db *d = tx_calloc(1, sizeof *d);
    if (!d) return TX_ENOMEM;
    tj_make_parent(path);
    /* Created private before SQLite sees it, whatever the umask: SQLite
     * gives the -wal and -shm files the database file's mode. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        fchmod(fd, 0600);
        close(fd);
    }
    int rc = sqlite3_open_v2(path, &d->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        /* Several tactus processes may share one store (a hundred runs at
         * once through one broker): a writer waits its turn. */
        sqlite3_busy_timeout(d->db, 30000);
        /* Commits are durable in the WAL already; folding the WAL into the
         * database at every close was one more fsync per command. SQLite
         * still checkpoints as the WAL grows. */
        sqlite3_db_config(d->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
        char *msg = NULL;
        rc = sqlite3_exec(d->db, connection_pragmas, NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "%s: cannot set up the journal: %s", path, msg ? msg : "?");
            sqlite3_free(msg);
        }
    } else {
        snprintf(err, errlen, "%s: cannot open the journal: %s", path,
                 d->db ? sqlite3_errmsg(d->db) : "out of memory");
    }
    if (rc != SQLITE_OK) {
        sqlite3_close(d->db);
        tx_free(d);
        return TX_EIO;
    }
    *out = d;
    return TX_OK;
}

static void sq_close(tj_db *d)
{
    if (!d) return;
    sqlite3_close(d->db);
    tx_free(d);
}

static tx_status sq_exec(tj_db *d, const char *sql)
{
    return sqlite3_exec(d->db, sql, NULL, NULL, NULL) == SQLITE_OK ? TX_OK : TX_EIO;
}

/* IMMEDIATE: the write lock is taken now, so the seals checked inside the
 * transaction cannot change before it commits. */
static tx_status sq_begin_write(tj_db *d)
{
    return sq_exec(d, "BEGIN IMMEDIATE");
}

static tx_status sq_commit(tj_db *d)
{
    return sq_exec(d, "COMMIT");
}

static void sq_rollback(tj_db *d)
{
    sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
}

static tj_stmt *sq_prepare(tj_db *d, const char *sql)
{
    sq_stmt *s = tx_calloc(1, sizeof *s);
    if (!s) return NULL;
    if (sqlite3_prepare_v2(d->db, sql, -1, &s->st, NULL) != SQLITE_OK) {
        tx_free(s);
        return NULL;
    }
    s->base.be = &tj_sqlite_backend;
    s->db = d->db;
    return &s->base;
}

static void sq_bind_text(tj_stmt *st, int i, const char *text)
{
    sq_stmt *s = (sq_stmt *)st;
    if (text)
        sqlite3_bind_text(s->st, i, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s->st, i);
}

static void sq_bind_int(tj_stmt *st, int i, long long v)
{
    sqlite3_bind_int64(((sq_stmt *)st)->st, i, v);
}

static tj_step sq_step(tj_stmt *st)
{
    int rc = sqlite3_step(((sq_stmt *)st)->st);
    return rc == SQLITE_ROW ? TJ_ROW : rc == SQLITE_DONE ? TJ_DONE : TJ_FAIL;
}

static tj_kind sq_column_kind(tj_stmt *st, int i)
{
    switch (sqlite3_column_type(((sq_stmt *)st)->st, i)) {
    case SQLITE_NULL: return TJ_NULL;
    case SQLITE_INTEGER: return TJ_INTEGER;
    default: return TJ_TEXT;
    }
}

static const char *sq_column_text(tj_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(((sq_stmt *)st)->st, i);
}

static long long sq_column_int(tj_stmt *st, int i)
{
    return sqlite3_column_int64(((sq_stmt *)st)->st, i);
}

static void sq_finalize(tj_stmt *st)
{
    if (!st) return;
    sqlite3_finalize(((sq_stmt *)st)->st);
    tx_free(st);
}

static long sq_changes(tj_db *d)
{
    return sqlite3_changes(d->db);
}

static const char *sq_error(tj_db *d)
{
    return sqlite3_errmsg(d->db);
}

const tj_backend tj_sqlite_backend = {
    .name = "sqlite",
    .now_ms = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
    .lock_rows = "",
    .share_rows = "",
    .claim_rows = "",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .begin_write = sq_begin_write,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .prepare = sq_prepare,
    .bind_text = sq_bind_text,
    .bind_int = sq_bind_int,
    .step = sq_step,
    .column_kind = sq_column_kind,
    .column_text = sq_column_text,
    .column_int = sq_column_int,
    .finalize = sq_finalize,
    .changes = sq_changes,
    .error = sq_error,
};
