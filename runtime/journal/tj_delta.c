/*
 * tj_delta.c - a run's live streamed output (the model's text as it
 * comes, redacted by the broker) in the store, for those who follow the
 * run from elsewhere (tactus serve's GET /v1/runs/{id}/events).
 *
 * Deltas are not the journal: they carry no seals, replay never reads
 * them (a resumed run is answered from its effects), and losing one loses
 * nothing but a moment of progress. So they are committed without waiting
 * for the disk where the store allows it, capped per run by the writer,
 * and deleted once their run has finished and its followers had time to
 * read the last ones (tj_delta_prune, called when a run finishes).
 */
#include <stdlib.h>

#include "tj_internal.h"

tx_status tj_delta_append(tj_journal *j, const char *tenant, const char *run_id, long long seq, long position,
                          const char *text)
{
    if (tj_begin_relaxed_write(j, "record a delta") != TX_OK) return TX_EIO;
    tx_status s = TX_OK;
    tj_stmt *st;
    /* Only for a run of this tenant. */
    if (!(st = db_prepare(j, "INSERT INTO run_deltas (run_id, seq, position, text, created_ms) "
                             "SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM runs "
                             "WHERE id = ?1 AND tenant = ?6)")))
        s = tj_fail_db(j, "record a delta");
    if (s == TX_OK) {
        db_bind_text(st, 1, run_id);
        db_bind_int(st, 2, seq);
        db_bind_int(st, 3, position);
        db_bind_text(st, 4, text);
        db_bind_int(st, 5, tj_now_ms());
        db_bind_text(st, 6, tenant);
        s = tj_step_later(j, st, "record a delta");
    }
    if (s == TX_OK && j->be->notify && j->be->notify(j->db, TJ_DELTA_CHANNEL, run_id) != TX_OK)
        s = tj_fail_db(j, "wake the run's followers");
    if (s == TX_OK) s = tj_commit(j);
    if (s != TX_OK) j->be->rollback(j->db);
    return s;
}

tx_status tj_delta_tail(tj_journal *j, const char *tenant, const char *run_id, long long *last_seq,
                        long long *chars)
{
    *last_seq = *chars = 0;
    tj_stmt *st = db_prepare(j, "SELECT COALESCE(MAX(seq), 0), COALESCE(SUM(LENGTH(text)), 0) FROM run_deltas "
                                "WHERE run_id = ?1 AND" TJ_RUN_OF_TENANT(2));
    if (!st) return tj_fail_db(j, "read the run's deltas");
    db_bind_text(st, 1, run_id);
    db_bind_text(st, 2, tenant);
    tx_status s = TX_OK;
    if (db_step(st) == TJ_ROW) {
        *last_seq = db_column_int(st, 0);
        *chars = db_column_int(st, 1);
    } else {
        s = tj_fail_db(j, "read the run's deltas");
    }
    db_finalize(st);
    return s;
}

tx_status tj_delta_list(tj_journal *j, const char *tenant, const char *run_id, long long after, int limit,
                        cJSON **out)
{
    *out = cJSON_CreateArray();
    tj_stmt *st = db_prepare(j, "SELECT seq, position, text FROM run_deltas WHERE run_id = ?1 AND seq > ?2 AND"
                                TJ_RUN_OF_TENANT(3) "ORDER BY seq LIMIT ?4");
    if (!st) return tj_fail_db(j, "read the run's deltas");
    db_bind_text(st, 1, run_id);
    db_bind_int(st, 2, after);
    db_bind_text(st, 3, tenant);
    db_bind_int(st, 4, limit);
    static const tj_col cols[] = {{"seq", TJ_COL_INT}, {"position", TJ_COL_INT}, {"text", TJ_COL_TEXT}};
    return tj_rows_to_json(j, st, cols, 3, *out, "read the run's deltas");
}

long long tj_delta_grace_ms(void)
{
    const char *e = getenv("TACTUS_DELTA_GRACE_MS");
    char *end;
    long long v = e && *e ? strtoll(e, &end, 10) : -1;
    return e && *e && !*end && v >= 0 ? v : TJ_DELTA_GRACE_MS;
}

tx_status tj_delta_prune(tj_journal *j, long long grace_ms)
{
    /* Only runs that have deltas are looked at: the live ones and those
     * finished within the grace period, a handful. */
    tj_stmt *st = db_prepare(j, "DELETE FROM run_deltas WHERE run_id IN (SELECT id FROM runs WHERE id IN "
                                "(SELECT DISTINCT run_id FROM run_deltas) AND status IN ('completed', "
                                "'failed') AND updated_ms <= ?1)");
    if (!st) return tj_fail_db(j, "delete finished runs' deltas");
    db_bind_int(st, 1, tj_now_ms() - grace_ms);
    return tj_step_done(j, st, "delete finished runs' deltas");
}

bool tj_delta_listen(tj_journal *j)
{
    return j->be->listen && j->be->listen(j->db, TJ_DELTA_CHANNEL) == TX_OK;
}
