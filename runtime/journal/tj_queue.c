/*
 * tj_queue.c - the run queue in the journal (tactus submit / worker): a
 * table claimed with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL (a
 * write transaction, which excludes other writers, on SQLite), under leases
 * that expire on the store's clock. Every claim bumps the run's epoch, the
 * fencing token every later write of the worker is checked against
 * (tj_fence, tj_run_lock), so a worker whose lease was taken over writes
 * nothing more. No consensus of our own: the database's row locks and
 * transactions carry it (DESIGN.md, "DBOS on PostgreSQL").
 *
 * Lock order, everywhere: a run's row in `runs` before its row in
 * `run_queue`; the claim and the heartbeat touch `run_queue` only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tj_internal.h"

void tj_claim_free(tj_claim *c)
{
    cJSON_Delete(c->options);
    memset(c, 0, sizeof *c);
}

tx_status tj_queue_submit(tj_journal *j, const tj_run *r, const cJSON *options)
{
    if (tj_begin_write(j) != TX_OK) return TX_EIO;
    tx_status s = tj_run_insert(j, r);
    tj_stmt *st = NULL;
    if (s == TX_OK &&
        !(st = db_prepare(j, "INSERT INTO run_queue (run_id, tenant, state, options, enqueued_ms, "
                             "updated_ms) VALUES (?, ?, 'ready', ?, ?, ?)")))
        s = tj_fail_db(j, "queue the run");
    if (s == TX_OK) {
        long long t = tj_now_ms();
        db_bind_text(st, 1, r->id);
        db_bind_text(st, 2, r->tenant);
        tj_bind_json(st, 3, options);
        db_bind_int(st, 4, t);
        db_bind_int(st, 5, t);
        s = tj_step_done(j, st, "queue the run");
    }
    if (s == TX_OK && j->be->notify && j->be->notify(j->db, TJ_QUEUE_CHANNEL, r->tenant) != TX_OK)
        s = tj_fail_db(j, "wake the workers");
    if (s == TX_OK) s = tj_commit(j); /* the run's row was inserted sealed */
    if (s != TX_OK) j->be->rollback(j->db);
    return s;
}

tx_status tj_queue_claim(tj_journal *j, const char *tenant, const char *worker, long long lease_ms,
                         tj_claim *out)
{
    memset(out, 0, sizeof *out);
    if (tj_begin_write(j) != TX_OK) return TX_EIO;
    char sql[1024];
    const char *now = j->be->now_ms;
    /* Ready; parked past its first timeout (the default applies at the
     * resume); leased by a worker whose lease ran out on the store's clock. */
    snprintf(sql, sizeof sql,
             "SELECT run_id, state, epoch, attempts, options FROM run_queue WHERE tenant = ? AND "
             "(state = 'ready' OR (state = 'parked' AND wake_ms IS NOT NULL AND wake_ms <= %s) OR "
             "(state = 'leased' AND lease_until_ms < %s)) ORDER BY enqueued_ms, run_id LIMIT 1%s",
             now, now, j->be->claim_rows);
    tj_stmt *st = db_prepare(j, sql);
    if (!st) {
        j->be->rollback(j->db);
        return tj_fail_db(j, "claim a run");
    }
    db_bind_text(st, 1, tenant);
    tj_step rc = db_step(st);
    if (rc == TJ_ROW) {
        tj_column_copy(st, 0, out->run_id, sizeof out->run_id);
        tj_column_copy(st, 1, out->state, sizeof out->state);
        out->epoch = db_column_int(st, 2) + 1;
        out->attempts = db_column_int(st, 3) + 1;
        out->options = tj_column_json(st, 4);
        snprintf(out->tenant, sizeof out->tenant, "%s", tenant);
    }
    db_finalize(st);
    if (rc != TJ_ROW) {
        tx_status s = rc == TJ_DONE ? TX_ENOENT : tj_fail_db(j, "claim a run");
        j->be->rollback(j->db);
        return s;
    }
    snprintf(sql, sizeof sql,
             "UPDATE run_queue SET resumed = resumed + CASE WHEN state = 'leased' THEN 1 ELSE 0 END, "
             "state = 'leased', worker = ?, epoch = ?, attempts = ?, "
             "lease_until_ms = %s + ?, wake_ms = NULL, updated_ms = ? WHERE run_id = ?",
             now);
    tx_status s = TX_OK;
    if (!(st = db_prepare(j, sql))) s = tj_fail_db(j, "claim a run");
    if (s == TX_OK) {
        db_bind_text(st, 1, worker);
        db_bind_int(st, 2, out->epoch);
        db_bind_int(st, 3, out->attempts);
        db_bind_int(st, 4, lease_ms);
        db_bind_int(st, 5, tj_now_ms());
        db_bind_text(st, 6, out->run_id);
        s = tj_step_done(j, st, "claim a run");
    }
    if (s == TX_OK) s = tj_commit(j);
    if (s != TX_OK) {
        j->be->rollback(j->db);
        tj_claim_free(out);
    }
    return s;
}

tx_status tj_queue_renew(tj_journal *j, const char *tenant, const char *run_id, const char *worker,
                         long long epoch, long long lease_ms)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "UPDATE run_queue SET lease_until_ms = %s + ?, updated_ms = ? WHERE run_id = ? AND "
             "tenant = ? AND worker = ? AND epoch = ? AND state = 'leased'",
             j->be->now_ms);
    tj_stmt *st = db_prepare(j, sql);
    if (!st) return tj_fail_db(j, "renew the lease");
    db_bind_int(st, 1, lease_ms);
    db_bind_int(st, 2, tj_now_ms());
    db_bind_text(st, 3, run_id);
    db_bind_text(st, 4, tenant);
    db_bind_text(st, 5, worker);
    db_bind_int(st, 6, epoch);
    tx_status s = tj_step_done(j, st, "renew the lease");
    if (s == TX_OK && j->be->changes(j->db) == 0) {
        snprintf(j->err, sizeof j->err,
                 "the lease on run %s (epoch %lld) was taken over or the run was cancelled", run_id,
                 epoch);
        s = TX_EINVAL;
    }
    return s;
}

tx_status tj_queue_release(tj_journal *j, const char *tenant, const char *run_id, long long epoch,
                           const char *state, long long wake_ms)
{
    if (tj_begin_write(j) != TX_OK) return TX_EIO;
    /* The run's row first: an answer given meanwhile (tj_human_answer locks
     * it too) is seen here, so a run is never parked with nobody to wake it. */
    long long saved = j->fence_epoch;
    char saved_run[40];
    snprintf(saved_run, sizeof saved_run, "%s", j->fence_run);
    tj_fence(j, run_id, epoch);
    tx_status s = tj_run_lock(j, tenant, run_id);
    tj_fence(j, saved_run, saved);
    tj_stmt *st = NULL;
    if (s == TX_OK &&
        !(st = db_prepare(j, "UPDATE run_queue SET state = CASE WHEN ?1 = 'parked' AND NOT EXISTS "
                             "(SELECT 1 FROM human_requests WHERE run_id = ?2 AND status = 'pending') "
                             "THEN 'ready' ELSE ?1 END, resumed = resumed + CASE WHEN ?1 = 'ready' THEN 1 ELSE 0 "
                             "END, lease_until_ms = NULL, wake_ms = ?3, "
                             "updated_ms = ?4 WHERE run_id = ?2 AND tenant = ?5 AND epoch = ?6 AND "
                             "state = 'leased'")))
        s = tj_fail_db(j, "release the run");
    if (s == TX_OK) {
        db_bind_text(st, 1, state);
        db_bind_text(st, 2, run_id);
        if (wake_ms > 0)
            db_bind_int(st, 3, wake_ms);
        else
            db_bind_text(st, 3, NULL);
        db_bind_int(st, 4, tj_now_ms());
        db_bind_text(st, 5, tenant);
        db_bind_int(st, 6, epoch);
        s = tj_step_done(j, st, "release the run");
        if (s == TX_OK && j->be->changes(j->db) == 0) {
            snprintf(j->err, sizeof j->err, "run %s is no longer leased with epoch %lld", run_id, epoch);
            s = TX_EINVAL;
        }
    }
    if (s == TX_OK && strcmp(state, "done") != 0 && j->be->notify &&
        j->be->notify(j->db, TJ_QUEUE_CHANNEL, tenant) != TX_OK)
        s = tj_fail_db(j, "wake the workers");
    if (s == TX_OK) return tj_commit(j);
    j->be->rollback(j->db);
    return s;
}

tx_status tj_queue_cancel(tj_journal *j, const char *tenant, const char *run_id)
{
    if (tj_begin_write(j) != TX_OK) return TX_EIO;
    tx_status s = tj_run_lock(j, tenant, run_id);
    tj_stmt *st = NULL;
    if (s == TX_OK && !(st = db_prepare(j, "UPDATE run_queue SET state = 'cancelled', "
                                           "lease_until_ms = NULL, updated_ms = ? WHERE run_id = ? "
                                           "AND tenant = ? AND state IN ('ready','parked','leased')")))
        s = tj_fail_db(j, "cancel the run");
    if (s == TX_OK) {
        db_bind_int(st, 1, tj_now_ms());
        db_bind_text(st, 2, run_id);
        db_bind_text(st, 3, tenant);
        s = tj_step_done(j, st, "cancel the run");
        if (s == TX_OK && j->be->changes(j->db) == 0) {
            snprintf(j->err, sizeof j->err,
                     "run %s is not waiting in the queue (it was never submitted, or it is done "
                     "or cancelled already)",
                     run_id);
            s = TX_EINVAL;
        }
    }
    if (s == TX_OK && !(st = db_prepare(j, "UPDATE runs SET status = 'failed', error = ?, "
                                           "updated_ms = ? WHERE id = ? AND tenant = ?")))
        s = tj_fail_db(j, "cancel the run");
    if (s == TX_OK) {
        db_bind_text(st, 1, "{\"message\":\"cancelled (tactus queue cancel)\"}");
        db_bind_int(st, 2, tj_now_ms());
        db_bind_text(st, 3, run_id);
        db_bind_text(st, 4, tenant);
        s = tj_step_done(j, st, "cancel the run");
    }
    if (s == TX_OK) return tj_commit(j);
    j->be->rollback(j->db);
    return s;
}

tx_status tj_queue_list(tj_journal *j, const char *tenant, cJSON **out)
{
    *out = cJSON_CreateArray();
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT q.run_id, q.state, COALESCE(q.worker, ''), q.epoch, q.attempts, q.resumed, "
             "CASE WHEN q.state = 'leased' THEN q.lease_until_ms - %s ELSE 0 END, "
             "COALESCE(q.wake_ms, 0), q.enqueued_ms, r.status FROM run_queue q JOIN runs r ON "
             "r.id = q.run_id WHERE q.tenant = ? AND r.tenant = q.tenant ORDER BY q.enqueued_ms, q.run_id",
             j->be->now_ms);
    tj_stmt *st = db_prepare(j, sql);
    if (!st) return tj_fail_db(j, "list the queue");
    db_bind_text(st, 1, tenant);
    static const tj_col cols[] = {{"run_id", TJ_COL_TEXT},     {"state", TJ_COL_TEXT},
                                  {"worker", TJ_COL_TEXT},     {"epoch", TJ_COL_INT},
                                  {"attempts", TJ_COL_INT},    {"resumed", TJ_COL_INT},
                                  {"lease_left_ms", TJ_COL_INT},
                                  {"wake_ms", TJ_COL_INT},     {"enqueued_ms", TJ_COL_INT},
                                  {"status", TJ_COL_TEXT}};
    return tj_rows_to_json(j, st, cols, sizeof cols / sizeof cols[0], *out, "list the queue");
}

tx_status tj_queue_state(tj_journal *j, const char *tenant, const char *run_id, char *state, size_t cap)
{
    state[0] = '\0';
    tj_stmt *st = db_prepare(j, "SELECT state FROM run_queue WHERE tenant = ? AND run_id = ?");
    if (!st) return tj_fail_db(j, "read the run's queue state");
    db_bind_text(st, 1, tenant);
    db_bind_text(st, 2, run_id);
    int rc = db_step(st);
    if (rc == TJ_ROW) tj_column_copy(st, 0, state, cap);
    db_finalize(st);
    if (rc == TJ_ROW) return TX_OK;
    return rc == TJ_DONE ? TX_ENOENT : tj_fail_db(j, "read the run's queue state");
}

bool tj_queue_listen(tj_journal *j)
{
    return j->be->listen && j->be->listen(j->db, TJ_QUEUE_CHANNEL) == TX_OK;
}

int tj_queue_wait(tj_journal *j, long timeout_ms)
{
    if (!j->be->wait) {
        struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return 0;
    }
    return j->be->wait(j->db, timeout_ms);
}
