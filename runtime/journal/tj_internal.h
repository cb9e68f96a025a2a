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
    char err[1024];
};

/* mkdir -p of the folder holding `path`, private to the user (0700). */
void tj_make_parent(const char *path);
/* TX_EIO with "what: the backend's error" in j->err. */
tx_status tj_fail_db(tj_journal *j, const char *what);
/* The backend's write transaction, with tj_fail_db's message on failure. */
tx_status tj_begin_write(tj_journal *j);
tx_status tj_commit(tj_journal *j);
/* Steps a statement that returns no row, finalizes it. */
tx_status tj_step_done(tj_journal *j, tj_stmt *st, const char *what);
/* Column i as text into out ("" for NULL). */
void tj_column_copy(tj_stmt *st, int i, char *out, size_t cap);

/* ---- seals (tj_seal.c) --------------------------------------------------------------- */

/* The host key (tj_key_path), made on first use; refused when others can
 * read it or it is not the user's. */
tx_status tj_key_load(unsigned char key[32], char *err, size_t errlen);
/* Opens the write transaction of a change to a run, after checking its
 * seals (all of them when `full`, else the head). */
tx_status tj_seal_begin(tj_journal *j, const char *run_id, bool full);
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
