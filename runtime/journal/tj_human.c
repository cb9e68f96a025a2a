/*
 * tj_human.c - human requests in the journal: recorded when a run asks a
 * person, answered (bound to the exact request) by `tactus approve`, listed
 * for people. Every query is scoped by tenant. See journal.h.
 */
#include <stdio.h>
#include <string.h>

#include "tj_internal.h"

void tj_human_free(tj_human *h)
{
    tx_free(h->message);
    cJSON_Delete(h->request);
    cJSON_Delete(h->default_value);
    cJSON_Delete(h->answer);
    memset(h, 0, sizeof *h);
}

tx_status tj_human_put(tj_journal *j, const tj_human *h)
{
    tx_status s = tj_seal_begin(j, h->tenant, h->run_id, false);
    if (s != TX_OK) return s;
    tj_stmt *st;
    if (!(st = db_prepare(j, "INSERT INTO human_requests (id, run_id, tenant, position, kind, message, "
                           "request, deadline_ms, default_value, status, request_hash, created_ms) "
                           "VALUES (?,?,?,?,?,?,?,?,?,'pending',?,?)")))
        return tj_seal_abort(j, tj_fail_db(j, "record human request"));
    db_bind_text(st, 1, h->id);
    db_bind_text(st, 2, h->run_id);
    db_bind_text(st, 3, h->tenant);
    db_bind_int(st, 4, h->position);
    db_bind_text(st, 5, h->kind);
    db_bind_text(st, 6, h->message ? h->message : "");
    tj_bind_json(st, 7, h->request);
    db_bind_int(st, 8, h->deadline_ms);
    tj_bind_json(st, 9, h->default_value);
    db_bind_text(st, 10, h->request_hash);
    db_bind_int(st, 11, tj_now_ms());
    s = tj_step_done(j, st, "record human request");
    if (s != TX_OK) return tj_seal_abort(j, s);
    return tj_seal_commit(j, h->run_id, false);
}

static const char human_columns[] =
    "SELECT id, run_id, tenant, position, kind, message, request, deadline_ms, default_value, "
    "status, answer, answered_by, answered_ms, request_hash, created_ms FROM human_requests ";

static void human_row(tj_stmt *st, tj_human *h)
{
    tj_column_copy(st, 0, h->id, sizeof h->id);
    tj_column_copy(st, 1, h->run_id, sizeof h->run_id);
    tj_column_copy(st, 2, h->tenant, sizeof h->tenant);
    h->position = (long)db_column_int(st, 3);
    tj_column_copy(st, 4, h->kind, sizeof h->kind);
    h->message = tj_column_dup(st, 5);
    h->request = tj_column_json(st, 6);
    h->deadline_ms = db_column_int(st, 7);
    h->default_value = tj_column_json(st, 8);
    tj_column_copy(st, 9, h->status, sizeof h->status);
    h->answer = tj_column_json(st, 10);
    tj_column_copy(st, 11, h->answered_by, sizeof h->answered_by);
    h->answered_ms = db_column_int(st, 12);
    tj_column_copy(st, 13, h->request_hash, sizeof h->request_hash);
    h->created_ms = db_column_int(st, 14);
}

static tx_status human_query(tj_journal *j, const char *where, const char *a, const char *b,
                             long long n, const char *c, tj_human *out)
{
    memset(out, 0, sizeof *out);
    char sql[1024];
    snprintf(sql, sizeof sql, "%s%s", human_columns, where);
    tj_stmt *st;
    if (!(st = db_prepare(j, sql)))
        return tj_fail_db(j, "read human request");
    db_bind_text(st, 1, a);
    if (b)
        db_bind_text(st, 2, b);
    else
        db_bind_int(st, 2, n);
    if (c) db_bind_text(st, 3, c);
    int rc = db_step(st);
    tx_status s = TX_OK;
    if (rc == TJ_ROW)
        human_row(st, out);
    else
        s = rc == TJ_DONE ? TX_ENOENT : tj_fail_db(j, "read human request");
    db_finalize(st);
    return s;
}

tx_status tj_human_at(tj_journal *j, const char *tenant, const char *run_id, long position,
                      tj_human *out)
{
    return human_query(j, "WHERE run_id = ? AND position = ? AND tenant = ?", run_id, NULL, position,
                       tenant, out);
}

tx_status tj_human_get(tj_journal *j, const char *tenant, const char *request_id, tj_human *out)
{
    return human_query(j, "WHERE tenant = ? AND id = ?", tenant, request_id, 0, NULL, out);
}

/* An answer in the same transaction hands a run parked for a person back
 * to the workers (tactus submit / worker), and wakes them at commit. */
static tx_status wake_parked(tj_journal *j, const char *tenant, const char *run_id)
{
    tj_stmt *st = db_prepare(j, "UPDATE run_queue SET state = 'ready', wake_ms = NULL, updated_ms = ? "
                                "WHERE run_id = ? AND tenant = ? AND state = 'parked'");
    if (!st) return tj_fail_db(j, "wake the run");
    db_bind_int(st, 1, tj_now_ms());
    db_bind_text(st, 2, run_id);
    db_bind_text(st, 3, tenant);
    tx_status s = tj_step_done(j, st, "wake the run");
    if (s == TX_OK && j->be->changes(j->db) > 0 && j->be->notify &&
        j->be->notify(j->db, TJ_QUEUE_CHANNEL, tenant) != TX_OK)
        s = tj_fail_db(j, "wake the workers");
    return s;
}

bool tj_human_late(const tj_human *h)
{
    return h->deadline_ms > 0 && tj_now_ms() >= h->deadline_ms;
}

/* The run's status only (tj_run_get would read its whole source too). */
static bool run_finished(tj_journal *j, const char *tenant, const char *run_id)
{
    tj_stmt *st = db_prepare(j, "SELECT status FROM runs WHERE id = ? AND tenant = ?");
    if (!st) return false;
    db_bind_text(st, 1, run_id);
    db_bind_text(st, 2, tenant);
    char status[16] = "";
    if (db_step(st) == TJ_ROW) tj_column_copy(st, 0, status, sizeof status);
    db_finalize(st);
    return !strcmp(status, "completed") || !strcmp(status, "failed");
}

bool tj_human_run_over(tj_journal *j, const tj_human *h)
{
    return run_finished(j, h->tenant, h->run_id);
}

tx_status tj_human_answer(tj_journal *j, const char *tenant, const char *request_id,
                          const char *request_hash, const cJSON *answer, const char *who,
                          const char *status)
{
    /* The answer joins the request's run chain: check it, then re-seal. */
    tj_human cur;
    tx_status s = tj_human_get(j, tenant, request_id, &cur);
    if (s != TX_OK) {
        snprintf(j->err, sizeof j->err, "no request %s for this tenant", request_id);
        return s == TX_ENOENT ? TX_EINVAL : s;
    }
    char run_id[40];
    snprintf(run_id, sizeof run_id, "%s", cur.run_id);
    /* A person's answer after the deadline would override the default the
     * procedure declared for exactly that case. */
    bool by_person = !strcmp(status, "answered");
    bool late = by_person && tj_human_late(&cur);
    tj_human_free(&cur);
    if (late) {
        snprintf(j->err, sizeof j->err,
                 "request %s timed out: its default applies when the run resumes, and it can no "
                 "longer be answered",
                 request_id);
        return TX_EINVAL;
    }
    s = tj_seal_begin(j, tenant, run_id, true);
    if (s != TX_OK) return s;
    /* Under the run's lock: a cancel (or the run's end) and an answer do
     * not cross. */
    if (by_person && run_finished(j, tenant, run_id)) {
        snprintf(j->err, sizeof j->err,
                 "run %s is finished (completed, failed or cancelled): its request %s can no "
                 "longer be answered",
                 run_id, request_id);
        return tj_seal_abort(j, TX_EINVAL);
    }
    tj_stmt *st;
    if (!(st = db_prepare(j, "UPDATE human_requests SET status = ?, answer = ?, answered_by = ?, "
                           "answered_ms = ? WHERE tenant = ? AND id = ? AND request_hash = ? AND "
                           "status = 'pending'")))
        return tj_seal_abort(j, tj_fail_db(j, "answer human request"));
    db_bind_text(st, 1, status);
    tj_bind_json(st, 2, answer);
    db_bind_text(st, 3, who);
    db_bind_int(st, 4, tj_now_ms());
    db_bind_text(st, 5, tenant);
    db_bind_text(st, 6, request_id);
    db_bind_text(st, 7, request_hash);
    s = tj_step_done(j, st, "answer human request");
    if (s == TX_OK && j->be->changes(j->db) == 0) {
        snprintf(j->err, sizeof j->err,
                 "request %s is not pending for this tenant, or it changed since it was shown",
                 request_id);
        s = TX_EINVAL;
    }
    if (s == TX_OK) s = wake_parked(j, tenant, run_id);
    if (s != TX_OK) return tj_seal_abort(j, s);
    return tj_seal_commit(j, run_id, true);
}

/* A request as the lists show it. Pending ones say whether their timeout
 * has passed (the default applies at the next resume); answered ones who
 * answered and when. */
cJSON *tj_human_json(const tj_human *h)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "request_id", h->id);
    cJSON_AddStringToObject(o, "run_id", h->run_id);
    cJSON_AddNumberToObject(o, "position", (double)h->position);
    cJSON_AddStringToObject(o, "kind", h->kind);
    cJSON_AddStringToObject(o, "status", h->status);
    cJSON_AddStringToObject(o, "message", h->message ? h->message : "");
    cJSON_AddNumberToObject(o, "created_ms", (double)h->created_ms);
    if (h->deadline_ms) cJSON_AddNumberToObject(o, "deadline_ms", (double)h->deadline_ms);
    if (!strcmp(h->status, "pending"))
        cJSON_AddBoolToObject(o, "timed_out", h->deadline_ms && tj_now_ms() >= h->deadline_ms);
    cJSON_AddItemToObject(o, "default", h->default_value ? cJSON_Duplicate(h->default_value, 1)
                                                          : cJSON_CreateNull());
    if (strcmp(h->status, "pending") != 0) {
        cJSON_AddItemToObject(o, "answer", h->answer ? cJSON_Duplicate(h->answer, 1) : cJSON_CreateNull());
        cJSON_AddStringToObject(o, "answered_by", h->answered_by);
        cJSON_AddNumberToObject(o, "answered_ms", (double)h->answered_ms);
    }
    cJSON_AddStringToObject(o, "request_hash", h->request_hash);
    return o;
}

static tx_status human_list(tj_journal *j, const char *where, const char *a, const char *b,
                            cJSON **out)
{
    *out = cJSON_CreateArray();
    char sql[1024];
    snprintf(sql, sizeof sql, "%s%s", human_columns, where);
    tj_stmt *st;
    if (!(st = db_prepare(j, sql)))
        return tj_fail_db(j, "list requests");
    db_bind_text(st, 1, a);
    if (b) db_bind_text(st, 2, b);
    int rc;
    while ((rc = db_step(st)) == TJ_ROW) {
        tj_human h;
        memset(&h, 0, sizeof h);
        human_row(st, &h);
        cJSON_AddItemToArray(*out, tj_human_json(&h));
        tj_human_free(&h);
    }
    db_finalize(st);
    return rc == TJ_DONE ? TX_OK : tj_fail_db(j, "list requests");
}

tx_status tj_human_pending(tj_journal *j, const char *tenant, cJSON **out)
{
    /* A finished run's requests are over (a cancel leaves them pending). */
    return human_list(j,
                      "WHERE tenant = ? AND status = 'pending' AND NOT EXISTS (SELECT 1 FROM runs "
                      "WHERE runs.tenant = human_requests.tenant AND runs.id = human_requests.run_id "
                      "AND runs.status IN ('completed','failed')) ORDER BY created_ms, id",
                      tenant, NULL, out);
}

tx_status tj_human_of_run(tj_journal *j, const char *tenant, const char *run_id, cJSON **out)
{
    return human_list(j, "WHERE tenant = ? AND run_id = ? ORDER BY position, id", tenant, run_id,
                      out);
}

