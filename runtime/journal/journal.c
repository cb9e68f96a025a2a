/*
 * journal.c - durable runs over a storage backend (tj_backend.h; SQLite
 * today, tj_sqlite.c). See journal.h.
 *
 * Every write is one transaction, and a committed write is on disk.
 * Statements are prepared per call: the journal writes a few records per
 * effect, and clarity beats a cache here.
 */
#include "tj_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *tj_last_error(const tj_journal *j)
{
    return j ? j->err : "no journal";
}

tx_status tj_fail_db(tj_journal *j, const char *what)
{
    snprintf(j->err, sizeof j->err, "%s: %s", what, j->be->error(j->db));
    return TX_EIO;
}

tx_status tj_begin_write(tj_journal *j)
{
    return j->be->begin_write(j->db) == TX_OK ? TX_OK : tj_fail_db(j, "begin a write");
}

tx_status tj_commit(tj_journal *j)
{
    return j->be->commit(j->db) == TX_OK ? TX_OK : tj_fail_db(j, "commit");
}

void tj_default_path(char *out, size_t cap)
{
    const char *store = getenv("TACTUS_STORE");
    if (store && *store) {
        snprintf(out, cap, "%s", store);
        return;
    }
    hl_xdg_path("XDG_DATA_HOME", ".local/share", ".", "journal.db", out, cap);
}

/* mkdir -p of the folder holding `path`, private to the user. */
void tj_make_parent(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) return;
    *slash = '\0';
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(buf, 0700);
        *p = '/';
    }
    mkdir(buf, 0700);
}

tx_status tj_open(const char *path, tj_journal **out, char *err, size_t errlen)
{
    *out = NULL;
    tj_journal *j = tx_calloc(1, sizeof *j);
    if (!j) return TX_ENOMEM;
    j->be = &tj_sqlite_backend;
    tj_make_parent(path);
    tx_status s = tj_key_load(j->key, err, errlen);
    if (s == TX_OK) s = j->be->open(path, &j->db, err, errlen);
    if (s != TX_OK) {
        OPENSSL_cleanse(j->key, sizeof j->key);
        tx_free(j);
        return s;
    }
    *out = j;
    return TX_OK;
}

void tj_close(tj_journal *j)
{
    if (!j) return;
    j->be->close(j->db);
    OPENSSL_cleanse(j->key, sizeof j->key);
    tx_free(j);
}

/* ---- helpers ---------------------------------------------------------------------------------- */

static char *json_text(const cJSON *v)
{
    return v ? cJSON_PrintUnformatted(v) : NULL;
}

static void bind_json(tj_stmt *st, int i, const cJSON *v)
{
    char *t = json_text(v);
    if (t)
        db_bind_text(st, i, t);
    else
        db_bind_text(st, i, NULL);
    cJSON_free(t);
}

static cJSON *column_json(tj_stmt *st, int i)
{
    const char *t = db_column_text(st, i);
    return t ? cJSON_Parse((const char *)t) : NULL;
}

void tj_column_copy(tj_stmt *st, int i, char *out, size_t cap)
{
    const char *t = db_column_text(st, i);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static char *column_dup(tj_stmt *st, int i)
{
    const char *t = db_column_text(st, i);
    return tx_strdup(t ? (const char *)t : "");
}

tx_status tj_step_done(tj_journal *j, tj_stmt *st, const char *what)
{
    int rc = db_step(st);
    tx_status s = rc == TJ_DONE ? TX_OK : tj_fail_db(j, what);
    db_finalize(st);
    return s;
}

/* How a listed column becomes a JSON field (rows_to_json). */
typedef enum { COL_TEXT, COL_INT, COL_JSON } col_kind;
typedef struct {
    const char *name;
    col_kind kind;
} col;

/* Steps `st` to its end: one object per row, the columns named by `cols`
 * in the SELECT's order, appended to `out`; finalizes. The listings of
 * `tactus runs` and `tactus show` are all this. */
static tx_status rows_to_json(tj_journal *j, tj_stmt *st, const col *cols, size_t n, cJSON *out,
                              const char *what)
{
    tj_step rc;
    while ((rc = db_step(st)) == TJ_ROW) {
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; i < n; i++) {
            int c = (int)i;
            if (cols[i].kind == COL_INT)
                cJSON_AddNumberToObject(o, cols[i].name, (double)db_column_int(st, c));
            else if (cols[i].kind == COL_JSON)
                cJSON_AddItemToObject(o, cols[i].name, column_json(st, c));
            else
                cJSON_AddStringToObject(o, cols[i].name, db_column_text(st, c) ? db_column_text(st, c) : "");
        }
        cJSON_AddItemToArray(out, o);
    }
    db_finalize(st);
    return rc == TJ_DONE ? TX_OK : tj_fail_db(j, what);
}

/* ---- runs ------------------------------------------------------------------------------------------- */

void tj_run_free(tj_run *r)
{
    tx_free(r->procedure_path);
    tx_free(r->source);
    cJSON_Delete(r->inputs);
    cJSON_Delete(r->output);
    cJSON_Delete(r->error);
    memset(r, 0, sizeof *r);
}

tx_status tj_run_create(tj_journal *j, const tj_run *r)
{
    tj_stmt *st;
    if (!(st = db_prepare(j, "INSERT INTO runs (id, tenant, procedure_path, source_sha256, source, "
                           "inputs, status, created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,?)")))
        return tj_fail_db(j, "create run");
    if (tj_begin_write(j) != TX_OK) {
        db_finalize(st);
        return TX_EIO;
    }
    long long t = now_ms();
    db_bind_text(st, 1, r->id);
    db_bind_text(st, 2, r->tenant);
    db_bind_text(st, 3, r->procedure_path ? r->procedure_path : "");
    db_bind_text(st, 4, r->source_sha256);
    db_bind_text(st, 5, r->source ? r->source : "");
    bind_json(st, 6, r->inputs);
    db_bind_text(st, 7, r->status[0] ? r->status : "running");
    db_bind_int(st, 8, t);
    db_bind_int(st, 9, t);
    tx_status s = tj_step_done(j, st, "create run");
    if (s != TX_OK) return tj_seal_abort(j, s);
    return tj_seal_commit(j, r->id, true);
}

tx_status tj_run_finish(tj_journal *j, const char *tenant, const char *run_id, const char *status,
                        const cJSON *output, const cJSON *error)
{
    tj_stmt *st;
    if (!(st = db_prepare(j, "UPDATE runs SET status = ?, output = ?, error = ?, updated_ms = ? "
                           "WHERE id = ? AND tenant = ?")))
        return tj_fail_db(j, "update run");
    db_bind_text(st, 1, status);
    bind_json(st, 2, output);
    bind_json(st, 3, error);
    db_bind_int(st, 4, now_ms());
    db_bind_text(st, 5, run_id);
    db_bind_text(st, 6, tenant);
    tx_status s = tj_step_done(j, st, "update run");
    if (s == TX_OK && j->be->changes(j->db) == 0) return TX_ENOENT;
    return s;
}

tx_status tj_run_get(tj_journal *j, const char *tenant, const char *run_id, tj_run *out)
{
    memset(out, 0, sizeof *out);
    tj_stmt *st;
    if (!(st = db_prepare(j, "SELECT id, tenant, procedure_path, source_sha256, source, inputs, status, "
                           "output, error, created_ms, updated_ms FROM runs WHERE id = ? AND tenant = ?")))
        return tj_fail_db(j, "read run");
    db_bind_text(st, 1, run_id);
    db_bind_text(st, 2, tenant);
    int rc = db_step(st);
    tx_status s = TX_OK;
    if (rc == TJ_ROW) {
        tj_column_copy(st, 0, out->id, sizeof out->id);
        tj_column_copy(st, 1, out->tenant, sizeof out->tenant);
        out->procedure_path = column_dup(st, 2);
        tj_column_copy(st, 3, out->source_sha256, sizeof out->source_sha256);
        out->source = column_dup(st, 4);
        out->inputs = column_json(st, 5);
        tj_column_copy(st, 6, out->status, sizeof out->status);
        out->output = column_json(st, 7);
        out->error = column_json(st, 8);
        out->created_ms = db_column_int(st, 9);
        out->updated_ms = db_column_int(st, 10);
    } else {
        s = rc == TJ_DONE ? TX_ENOENT : tj_fail_db(j, "read run");
    }
    db_finalize(st);
    return s;
}

tx_status tj_run_list(tj_journal *j, const char *tenant, const char *status, cJSON **out)
{
    *out = cJSON_CreateArray();
    tj_stmt *st;
    if (!(st = db_prepare(j, "SELECT id, status, procedure_path, created_ms, updated_ms FROM runs "
                           "WHERE tenant = ? AND (? IS NULL OR status = ?) "
                           "ORDER BY created_ms DESC, id")))
        return tj_fail_db(j, "list runs");
    db_bind_text(st, 1, tenant);
    db_bind_text(st, 2, status);
    db_bind_text(st, 3, status);
    static const col cols[] = {{"run_id", COL_TEXT}, {"status", COL_TEXT}, {"procedure", COL_TEXT},
                               {"created_ms", COL_INT}, {"updated_ms", COL_INT}};
    return rows_to_json(j, st, cols, sizeof cols / sizeof cols[0], *out, "list runs");
}

/* ---- effects ---------------------------------------------------------------------------------------- */

void tj_effect_free(tj_effect *e)
{
    cJSON_Delete(e->request);
    cJSON_Delete(e->result);
    memset(e, 0, sizeof *e);
}

tx_status tj_effect_get(tj_journal *j, const char *run_id, long position, tj_effect *out)
{
    memset(out, 0, sizeof *out);
    tj_stmt *st;
    if (!(st = db_prepare(j, "SELECT kind, fingerprint, request, result, duration_ms FROM effects "
                           "WHERE run_id = ? AND position = ?")))
        return tj_fail_db(j, "read effect");
    db_bind_text(st, 1, run_id);
    db_bind_int(st, 2, position);
    int rc = db_step(st);
    tx_status s = TX_OK;
    if (rc == TJ_ROW) {
        out->found = true;
        tj_column_copy(st, 0, out->kind, sizeof out->kind);
        tj_column_copy(st, 1, out->fingerprint, sizeof out->fingerprint);
        out->request = column_json(st, 2);
        out->result = column_json(st, 3);
        out->duration_ms = db_column_int(st, 4);
    } else if (rc != TJ_DONE) {
        s = tj_fail_db(j, "read effect");
    }
    db_finalize(st);
    return s;
}

tx_status tj_effect_put(tj_journal *j, const char *run_id, long position, const char *kind,
                        const char *fingerprint, const cJSON *request, const cJSON *result,
                        long long duration_ms)
{
    tx_status s = tj_seal_begin(j, run_id, false);
    if (s != TX_OK) return s;
    tj_stmt *st;
    if (!(st = db_prepare(j, "INSERT INTO effects (run_id, position, kind, fingerprint, request, "
                           "result, duration_ms, created_ms) VALUES (?,?,?,?,?,?,?,?)")))
        return tj_seal_abort(j, tj_fail_db(j, "record effect"));
    db_bind_text(st, 1, run_id);
    db_bind_int(st, 2, position);
    db_bind_text(st, 3, kind);
    db_bind_text(st, 4, fingerprint);
    bind_json(st, 5, request);
    bind_json(st, 6, result);
    db_bind_int(st, 7, duration_ms);
    db_bind_int(st, 8, now_ms());
    s = tj_step_done(j, st, "record effect");
    if (s != TX_OK) return tj_seal_abort(j, s);
    return tj_seal_commit(j, run_id, false);
}

tx_status tj_effect_set_result(tj_journal *j, const char *run_id, long position,
                               const cJSON *result)
{
    tx_status s = tj_seal_begin(j, run_id, true);
    if (s != TX_OK) return s;
    tj_stmt *st;
    if (!(st = db_prepare(j, "UPDATE effects SET result = ? WHERE run_id = ? AND position = ?")))
        return tj_seal_abort(j, tj_fail_db(j, "update effect"));
    bind_json(st, 1, result);
    db_bind_text(st, 2, run_id);
    db_bind_int(st, 3, position);
    s = tj_step_done(j, st, "update effect");
    if (s == TX_OK && j->be->changes(j->db) == 0) s = TX_ENOENT;
    if (s != TX_OK) return tj_seal_abort(j, s);
    return tj_seal_commit(j, run_id, true);
}

long tj_effect_count(tj_journal *j, const char *run_id)
{
    tj_stmt *st;
    if (!(st = db_prepare(j, "SELECT COUNT(*) FROM effects WHERE run_id = ?")))
        return -1;
    db_bind_text(st, 1, run_id);
    long n = db_step(st) == TJ_ROW ? (long)db_column_int(st, 0) : -1;
    db_finalize(st);
    return n;
}

long long tj_effect_bytes(tj_journal *j, const char *run_id)
{
    tj_stmt *st;
    if (!(st = db_prepare(j, "SELECT request, result FROM effects WHERE run_id = ?"))) return -1;
    db_bind_text(st, 1, run_id);
    long long n = 0;
    tj_step rc;
    while ((rc = db_step(st)) == TJ_ROW) {
        const char *a = db_column_text(st, 0), *b = db_column_text(st, 1);
        n += (long long)(a ? strlen(a) : 0) + (long long)(b ? strlen(b) : 0);
    }
    db_finalize(st);
    return rc == TJ_DONE ? n : -1;
}

tx_status tj_effect_list(tj_journal *j, const char *run_id, cJSON **out)
{
    *out = cJSON_CreateArray();
    tj_stmt *st;
    if (!(st = db_prepare(j, "SELECT position, kind, fingerprint, request, result, duration_ms, "
                           "created_ms FROM effects WHERE run_id = ? ORDER BY position")))
        return tj_fail_db(j, "list effects");
    db_bind_text(st, 1, run_id);
    static const col cols[] = {{"position", COL_INT},  {"kind", COL_TEXT},        {"fingerprint", COL_TEXT},
                               {"request", COL_JSON},  {"result", COL_JSON},      {"duration_ms", COL_INT},
                               {"created_ms", COL_INT}};
    return rows_to_json(j, st, cols, sizeof cols / sizeof cols[0], *out, "list effects");
}

/* ---- human requests ----------------------------------------------------------------------------- */

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
    tx_status s = tj_seal_begin(j, h->run_id, false);
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
    bind_json(st, 7, h->request);
    db_bind_int(st, 8, h->deadline_ms);
    bind_json(st, 9, h->default_value);
    db_bind_text(st, 10, h->request_hash);
    db_bind_int(st, 11, now_ms());
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
    h->message = column_dup(st, 5);
    h->request = column_json(st, 6);
    h->deadline_ms = db_column_int(st, 7);
    h->default_value = column_json(st, 8);
    tj_column_copy(st, 9, h->status, sizeof h->status);
    h->answer = column_json(st, 10);
    tj_column_copy(st, 11, h->answered_by, sizeof h->answered_by);
    h->answered_ms = db_column_int(st, 12);
    tj_column_copy(st, 13, h->request_hash, sizeof h->request_hash);
    h->created_ms = db_column_int(st, 14);
}

static tx_status human_query(tj_journal *j, const char *where, const char *a, const char *b,
                             long long n, tj_human *out)
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
    int rc = db_step(st);
    tx_status s = TX_OK;
    if (rc == TJ_ROW)
        human_row(st, out);
    else
        s = rc == TJ_DONE ? TX_ENOENT : tj_fail_db(j, "read human request");
    db_finalize(st);
    return s;
}

tx_status tj_human_at(tj_journal *j, const char *run_id, long position, tj_human *out)
{
    return human_query(j, "WHERE run_id = ? AND position = ?", run_id, NULL, position, out);
}

tx_status tj_human_get(tj_journal *j, const char *tenant, const char *request_id, tj_human *out)
{
    return human_query(j, "WHERE tenant = ? AND id = ?", tenant, request_id, 0, out);
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
    tj_human_free(&cur);
    s = tj_seal_begin(j, run_id, true);
    if (s != TX_OK) return s;
    tj_stmt *st;
    if (!(st = db_prepare(j, "UPDATE human_requests SET status = ?, answer = ?, answered_by = ?, "
                           "answered_ms = ? WHERE tenant = ? AND id = ? AND request_hash = ? AND "
                           "status = 'pending'")))
        return tj_seal_abort(j, tj_fail_db(j, "answer human request"));
    db_bind_text(st, 1, status);
    bind_json(st, 2, answer);
    db_bind_text(st, 3, who);
    db_bind_int(st, 4, now_ms());
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
    if (s != TX_OK) return tj_seal_abort(j, s);
    return tj_seal_commit(j, run_id, true);
}

/* A request as the lists show it. Pending ones say whether their timeout
 * has passed (the default applies at the next resume); answered ones who
 * answered and when. */
static cJSON *human_json(const tj_human *h)
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
        cJSON_AddBoolToObject(o, "timed_out", h->deadline_ms && now_ms() >= h->deadline_ms);
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
        cJSON_AddItemToArray(*out, human_json(&h));
        tj_human_free(&h);
    }
    db_finalize(st);
    return rc == TJ_DONE ? TX_OK : tj_fail_db(j, "list requests");
}

tx_status tj_human_pending(tj_journal *j, const char *tenant, cJSON **out)
{
    return human_list(j, "WHERE tenant = ? AND status = 'pending' ORDER BY created_ms, id", tenant,
                      NULL, out);
}

tx_status tj_human_of_run(tj_journal *j, const char *tenant, const char *run_id, cJSON **out)
{
    return human_list(j, "WHERE tenant = ? AND run_id = ? ORDER BY position, id", tenant, run_id,
                      out);
}

tx_status tj_run_note(tj_journal *j, const char *run_id, const char *kind, const cJSON *detail)
{
    tx_status s = tj_seal_begin(j, run_id, true);
    if (s != TX_OK) return s;
    tj_stmt *st;
    if (!(st = db_prepare(j, "INSERT INTO run_notes (run_id, seq, kind, detail, created_ms) VALUES "
                           "(?1, (SELECT COUNT(*) FROM run_notes WHERE run_id = ?1), ?2, ?3, ?4)")))
        return tj_seal_abort(j, tj_fail_db(j, "record a note"));
    db_bind_text(st, 1, run_id);
    db_bind_text(st, 2, kind);
    bind_json(st, 3, detail);
    db_bind_int(st, 4, now_ms());
    s = tj_step_done(j, st, "record a note");
    if (s != TX_OK) return tj_seal_abort(j, s);
    return tj_seal_commit(j, run_id, true);
}

tx_status tj_run_notes(tj_journal *j, const char *run_id, cJSON **out)
{
    *out = cJSON_CreateArray();
    tj_stmt *st;
    if (!(st = db_prepare(j, "SELECT seq, kind, detail, created_ms FROM run_notes WHERE run_id = ? "
                           "ORDER BY seq")))
        return tj_fail_db(j, "list notes");
    db_bind_text(st, 1, run_id);
    static const col cols[] = {{"seq", COL_INT}, {"kind", COL_TEXT}, {"detail", COL_JSON},
                               {"created_ms", COL_INT}};
    return rows_to_json(j, st, cols, sizeof cols / sizeof cols[0], *out, "list notes");
}
