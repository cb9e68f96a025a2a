/*
 * tj_internal.h - what the files of runtime/journal/ share (not a public
 * header): the journal's state, the backend it runs on, and short names
 * for the backend's statement calls.
 */
#ifndef TACTUS_TJ_INTERNAL_H
#define TACTUS_TJ_INTERNAL_H

#include <stdbool.h>

#include "hostlib.h"
#include "journal.h"
#include "tj_backend.h"

struct tj_journal {
    const tj_backend *be;
    tj_db *db;
    unsigned char key[32]; /* the host's journal key: seals every run's rows */
    char where[1024];      /* the store as it may be shown (no password) */
    char path[4096];       /* a SQLite store's file ("" for a URL) */
    char fence_run[40];    /* tj_fence: writes to this run need its lease's epoch */
    long long fence_epoch;
    int hold_fd;           /* tj_run_hold on SQLite: the lock file, -1 none */
    long failures;         /* statements the store failed (tj_store_failures) */
    /* An append's seal (tj_seal_begin without full): what the chain ended
     * with when it was checked, so the new row is sealed after it. */
    char tail_mac[132];
    long tail_rows;
    long tail_position;
    char append_mac[132];  /* the effect tj_seal_effect sealed ("" none) */
    char err[1024];
};

/* The queue's channel (PostgreSQL LISTEN/NOTIFY). */
#define TJ_QUEUE_CHANNEL "tactus_queue"

/* Brings the schema to the current version (migrate) or checks it is
 * there; *before is the version found. tj_schema.c. */
tx_status tj_schema_ensure(tj_journal *j, bool migrate, int *before);
/* In a write transaction on run_id: the run's row locked, its tenant
 * checked, and the fence (tj_fence) checked. TX_ENOENT / TX_EINVAL with
 * j->err. tj_seal.c. */
tx_status tj_run_lock(tj_journal *j, const char *tenant, const char *run_id);
/* After tj_seal_begin without full: the seal of an effect about to be
 * appended at the end (its columns as they will be inserted), for the
 * INSERT; tj_seal_commit then only moves the head. false: not a plain
 * append, insert it without a seal (tj_seal_commit seals it). tj_seal.c. */
bool tj_seal_effect(tj_journal *j, const char *run_id, long position, const char *kind,
                    const char *fingerprint, const char *request, const char *result,
                    long long duration_ms, char mac[132]);
/* A new run's seal and chain head (its chain is its own row), from the
 * columns it is inserted with (inputs: their JSON text, or NULL). tj_seal.c. */
void tj_seal_run_row(tj_journal *j, const char *id, const char *tenant, const char *path,
                     const char *sha256, const char *source, const char *inputs, long long created_ms,
                     char mac[132], char head[65]);
/* Inserts run `r`, sealed (tj_seal_run_row), inside the caller's write transaction. */
tx_status tj_run_insert(tj_journal *j, const tj_run *r);
/* The store's clock, in ms (PostgreSQL's own: leases never depend on a
 * worker's clock). */
long long tj_store_now(tj_journal *j);

/* mkdir -p of the folder holding `path`, private to the user (0700). */
void tj_make_parent(const char *path);
/* TX_EIO with "what: the backend's error" in j->err. */
tx_status tj_fail_db(tj_journal *j, const char *what);
/* The backend's write transaction, with tj_fail_db's message on failure. */
tx_status tj_begin_write(tj_journal *j);
tx_status tj_commit(tj_journal *j);
/* tj_begin_write for records that are not the journal of record (the
 * audit log, live deltas): the commit does not wait for the disk where the
 * backend allows it (tj_backend.relaxed_commit). Rolled back on failure. */
tx_status tj_begin_relaxed_write(tj_journal *j, const char *what);
/* A statement that returns no row and whose changes nobody counts, in the
 * open write transaction: sent with the commit where the backend can
 * (tj_backend.defer), else stepped now; its failure fails the commit. */
tx_status tj_step_later(tj_journal *j, tj_stmt *st, const char *what);
/* Steps a statement that returns no row, finalizes it. */
tx_status tj_step_done(tj_journal *j, tj_stmt *st, const char *what);
/* Column i as text into out ("" for NULL). */
void tj_column_copy(tj_stmt *st, int i, char *out, size_t cap);
/* Column i: a copy of its text ("" for NULL), or its JSON (NULL for NULL). */
char *tj_column_dup(tj_stmt *st, int i);
cJSON *tj_column_json(tj_stmt *st, int i);
/* Binds a JSON value as its text (NULL: SQL NULL). */
void tj_bind_json(tj_stmt *st, int i, const cJSON *v);
/* The wall clock in ms (the journal's timestamps). */
long long tj_now_ms(void);

/* How a listed column becomes a JSON field (tj_rows_to_json). */
typedef enum { TJ_COL_TEXT, TJ_COL_INT, TJ_COL_JSON } tj_col_kind;
typedef struct {
    const char *name;
    tj_col_kind kind;
} tj_col;
/* Steps `st` to its end: one object per row, the columns named by `cols`
 * in the SELECT's order, appended to `out`; finalizes. */
tx_status tj_rows_to_json(tj_journal *j, tj_stmt *st, const tj_col *cols, size_t n, cJSON *out,
                          const char *what);
/* The SQL condition "run_id belongs to tenant ?N" (N: the parameter). */
#define TJ_RUN_OF_TENANT(n) " run_id IN (SELECT id FROM runs WHERE tenant = ?" #n ") "

/* ---- seals (tj_seal.c) --------------------------------------------------------------- */

/* The host key (tj_key_path), made on first use; refused when others can
 * read it or it is not the user's. */
tx_status tj_key_load(unsigned char key[32], char *err, size_t errlen);
/* Opens the write transaction of a change to a run, after checking its
 * seals (all of them when `full`, else the head). */
tx_status tj_seal_begin(tj_journal *j, const char *tenant, const char *run_id, bool full);
/* Seals the changed rows (all when `full`, else those without a seal) and
 * the head, and commits. */
tx_status tj_seal_commit(tj_journal *j, const char *run_id, bool full);
/* A write between tj_seal_begin and tj_seal_commit that failed: undone. */
tx_status tj_seal_abort(tj_journal *j, tx_status s);

static inline tj_stmt *db_prepare(tj_journal *j, const char *sql)
{
    return j->be->prepare(j->db, sql);
}
static inline void db_bind_text(tj_stmt *st, int i, const char *text)
{
    st->be->bind_text(st, i, text);
}
static inline void db_bind_int(tj_stmt *st, int i, long long v)
{
    st->be->bind_int(st, i, v);
}
static inline tj_step db_step(tj_stmt *st)
{
    return st->be->step(st);
}
static inline tj_kind db_column_kind(tj_stmt *st, int i)
{
    return st->be->column_kind(st, i);
}
static inline const char *db_column_text(tj_stmt *st, int i)
{
    return st->be->column_text(st, i);
}
static inline long long db_column_int(tj_stmt *st, int i)
{
    return st->be->column_int(st, i);
}
static inline void db_finalize(tj_stmt *st)
{
    if (st) st->be->finalize(st);
}

#endif
