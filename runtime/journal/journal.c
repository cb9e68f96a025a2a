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
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

long long tj_now_ms(void)
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
    j->failures++;
    snprintf(j->err, sizeof j->err, "%s: %s", what, j->be->error(j->db));
    return TX_EIO;
}

tx_status tj_begin_write(tj_journal *j)
{
    return j->be->begin_write(j->db) == TX_OK ? TX_OK : tj_fail_db(j, "begin a write");
}

tx_status tj_begin_relaxed_write(tj_journal *j, const char *what)
{
    if (tj_begin_write(j) != TX_OK) return TX_EIO;
    if (!j->be->relaxed_commit) return TX_OK;
    tj_stmt *st = db_prepare(j, j->be->relaxed_commit);
    tx_status s = st ? tj_step_later(j, st, what) : tj_fail_db(j, what);
    if (s != TX_OK) j->be->rollback(j->db);
    return s;
}

tx_status tj_step_later(tj_journal *j, tj_stmt *st, const char *what)
{
    if (!j->be->defer) return tj_step_done(j, st, what);
    return j->be->defer(st) == TX_OK ? TX_OK : tj_fail_db(j, what);
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
    hl_make_dirs(buf); /* the store's open says what is wrong */
}

bool tj_store_is_url(const char *where)
{
    return strncmp(where, "postgres://", 11) == 0 || strncmp(where, "postgresql://", 13) == 0;
}

void tj_store_display(const char *where, char *out, size_t cap)
{
    if (!cap) return;
    out[0] = '\0';
    if (!where) return;
    if (!tj_store_is_url(where)) {
        snprintf(out, cap, "%s", where);
        return;
    }
    /* postgres://user:PASSWORD@host/db?password=PASSWORD&... */
    tx_buf b;
    tx_buf_init(&b, 8192);
    const char *scheme_end = strstr(where, "://") + 3;
    const char *auth_end = scheme_end + strcspn(scheme_end, "/?#");
    const char *at = NULL;
    for (const char *p = scheme_end; p < auth_end; p++)
        if (*p == '@') at = p; /* the last @ of the authority ends the user info */
    tx_buf_append(&b, where, (size_t)(scheme_end - where));
    const char *p = scheme_end;
    if (at) {
        const char *colon = memchr(scheme_end, ':', (size_t)(at - scheme_end));
        if (colon) {
            tx_buf_append(&b, scheme_end, (size_t)(colon - scheme_end));
            tx_buf_puts(&b, ":***");
            p = at;
        }
    }
    /* The rest, with the value of every password= parameter masked. */
    const char *query = strchr(p, '?');
    if (!query) {
        tx_buf_puts(&b, p);
    } else {
        tx_buf_append(&b, p, (size_t)(query - p) + 1);
        for (const char *q = query + 1; *q;) {
            size_t n = strcspn(q, "&");
            if (n >= 9 && strncmp(q, "password=", 9) == 0)
                tx_buf_puts(&b, "password=***");
            else
                tx_buf_append(&b, q, n);
            q += n;
            if (*q == '&') {
                tx_buf_puts(&b, "&");
                q++;
            }
        }
    }
    snprintf(out, cap, "%s", b.data ? b.data : "");
    tx_buf_free(&b);
}

const char *tj_backend_name(const tj_journal *j)
{
    return j->be->name;
}

long tj_store_failures(const tj_journal *j)
{
    return j->failures;
}

static tx_status journal_open(const char *where, bool migrate, int *from, tj_journal **out,
                              char *err, size_t errlen)
{
    *out = NULL;
    tj_journal *j = tx_calloc(1, sizeof *j);
    if (!j) return TX_ENOMEM;
    j->hold_fd = -1;
    bool url = tj_store_is_url(where);
    j->be = url ? &tj_pg_backend : &tj_sqlite_backend;
    tj_store_display(where, j->where, sizeof j->where);
    if (!url) {
        snprintf(j->path, sizeof j->path, "%s", where);
        tj_make_parent(where);
    }
    tx_status s = tj_key_load(j->key, err, errlen);
    if (s == TX_OK) s = j->be->open(where, &j->db, err, errlen);
    if (s == TX_OK) {
        /* SQLite files migrate as they open (one user); a shared store only
         * by `tactus store migrate`. */
        s = tj_schema_ensure(j, migrate || !url, from);
        if (s != TX_OK) snprintf(err, errlen, "%s", j->err);
    }
    if (s != TX_OK) {
        if (j->db) j->be->close(j->db);
        OPENSSL_cleanse(j->key, sizeof j->key);
        tx_free(j);
        return s;
    }
    *out = j;
    return TX_OK;
}

tx_status tj_open(const char *where, tj_journal **out, char *err, size_t errlen)
{
    return journal_open(where, false, NULL, out, err, errlen);
}

tx_status tj_migrate(const char *where, int *from, char *err, size_t errlen)
{
    tj_journal *j = NULL;
    tx_status s = journal_open(where, true, from, &j, err, errlen);
    tj_close(j);
    return s;
}

void tj_close(tj_journal *j)
{
    if (!j) return;
    j->be->close(j->db);
    if (j->hold_fd >= 0) close(j->hold_fd);
    OPENSSL_cleanse(j->key, sizeof j->key);
    tx_free(j);
}

tx_status tj_run_hold(tj_journal *j, const char *run_id)
{
    if (j->be->try_lock) {
        char key[64];
        snprintf(key, sizeof key, "tactus run %s", run_id);
        tx_status s = j->be->try_lock(j->db, key);
        if (s == TX_EIO) return tj_fail_db(j, "hold the run");
        if (s == TX_ELIMIT)
            snprintf(j->err, sizeof j->err, "run %s is being run by another process right now", run_id);
        return s;
    }
    /* flock on STORE.locks/RUN: released when the holder dies. */
    char dir[4200], path[4300];
    snprintf(dir, sizeof dir, "%s.locks", j->path);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/%s", dir, run_id);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return TX_OK; /* no lock possible: proceed unlocked rather than refuse */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        snprintf(j->err, sizeof j->err, "run %s is being run by another process right now", run_id);
        return TX_ELIMIT;
    }
    if (j->hold_fd >= 0) close(j->hold_fd);
    j->hold_fd = fd;
    return TX_OK;
}

void tj_fence(tj_journal *j, const char *run_id, long long epoch)
{
    snprintf(j->fence_run, sizeof j->fence_run, "%s", epoch > 0 && run_id ? run_id : "");
    j->fence_epoch = epoch;
}

long long tj_store_now(tj_journal *j)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT %s", j->be->now_ms);
    tj_stmt *st = db_prepare(j, sql);
    long long t = st && db_step(st) == TJ_ROW ? db_column_int(st, 0) : tj_now_ms();
    db_finalize(st);
    return t;
}

/* ---- helpers ---------------------------------------------------------------------------------- */

static char *json_text(const cJSON *v)
{
    return v ? cJSON_PrintUnformatted(v) : NULL;
}

void tj_bind_json(tj_stmt *st, int i, const cJSON *v)
{
    char *t = json_text(v);
    if (t)
        db_bind_text(st, i, t);
    else
        db_bind_text(st, i, NULL);
    cJSON_free(t);
}

cJSON *tj_column_json(tj_stmt *st, int i)
{
    const char *t = db_column_text(st, i);
    return t ? cJSON_Parse((const char *)t) : NULL;
}

void tj_column_copy(tj_stmt *st, int i, char *out, size_t cap)
{
    const char *t = db_column_text(st, i);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

char *tj_column_dup(tj_stmt *st, int i)
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

/* Steps `st` to its end: one object per row, the columns named by `cols`
 * in the SELECT's order, appended to `out`; finalizes. The listings of
 * `tactus runs` and `tactus show` are all this. */
tx_status tj_rows_to_json(tj_journal *j, tj_stmt *st, const tj_col *cols, size_t n, cJSON *out,
                         const char *what)
{
    tj_step rc;
    while ((rc = db_step(st)) == TJ_ROW) {
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; i < n; i++) {
            int c = (int)i;
            if (cols[i].kind == TJ_COL_INT)
                cJSON_AddNumberToObject(o, cols[i].name, (double)db_column_int(st, c));
            else if (cols[i].kind == TJ_COL_JSON)
                cJSON_AddItemToObject(o, cols[i].name, tj_column_json(st, c));
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
    if (tj_begin_write(j) != TX_OK) return TX_EIO;
    tx_status s = tj_run_insert(j, r);
    if (s == TX_OK) s = tj_commit(j);
    if (s != TX_OK) j->be->rollback(j->db);
    return s;
}

tx_status tj_run_insert(tj_journal *j, const tj_run *r)
{
    tj_stmt *st;
    if (!(st = db_prepare(j, "INSERT INTO runs (id, tenant, procedure_path, source_sha256, source, "
                           "inputs, status, created_ms, updated_ms, mac, chain_head) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?)")))
        return tj_fail_db(j, "create run");
    long long t = tj_now_ms();
    const char *path = r->procedure_path ? r->procedure_path : "", *source = r->source ? r->source : "";
    char *inputs = json_text(r->inputs), mac[132], head[65];
    /* A new run's chain is its own row: sealed as it is inserted. */
    tj_seal_run_row(j, r->id, r->tenant, path, r->source_sha256, source, inputs, t, mac, head);
    db_bind_text(st, 1, r->id);
    db_bind_text(st, 2, r->tenant);
    db_bind_text(st, 3, path);
    db_bind_text(st, 4, r->source_sha256);
    db_bind_text(st, 5, source);
    db_bind_text(st, 6, inputs);
    db_bind_text(st, 7, r->status[0] ? r->status : "running");
    db_bind_int(st, 8, t);
    db_bind_int(st, 9, t);
    db_bind_text(st, 10, mac);
    db_bind_text(st, 11, head);
    cJSON_free(inputs);
    return tj_step_done(j, st, "create run");
}

tx_status tj_run_finish(tj_journal *j, const char *tenant, const char *run_id, const char *status,
                        const cJSON *output, const cJSON *error)
{
    tj_stmt *st;
    if (!(st = db_prepare(j, "UPDATE runs SET status = ?, output = ?, error = ?, updated_ms = ? "
                           "WHERE id = ? AND tenant = ?")))
        return tj_fail_db(j, "update run");
    db_bind_text(st, 1, status);
    tj_bind_json(st, 2, output);
    tj_bind_json(st, 3, error);
    db_bind_int(st, 4, tj_now_ms());
    db_bind_text(st, 5, run_id);
    db_bind_text(st, 6, tenant);
    /* A worker's write: only while its lease holds (tj_fence). */
    bool fenced = j->fence_run[0] && strcmp(j->fence_run, run_id) == 0;
    tx_status s = fenced ? tj_begin_write(j) : TX_OK;
    if (s == TX_OK && fenced) s = tj_run_lock(j, tenant, run_id);
    if (s == TX_OK) s = tj_step_done(j, st, "update run");
    else db_finalize(st);
    if (s == TX_OK && j->be->changes(j->db) == 0) s = TX_ENOENT;
    if (fenced && s == TX_OK) s = tj_commit(j);
    else if (fenced) j->be->rollback(j->db);
    /* Live deltas of runs finished a while ago go (this one's after the
     * grace period, at a later finish); failing that loses nothing. */
    if (s == TX_OK && (!strcmp(status, "completed") || !strcmp(status, "failed")))
        (void)tj_delta_prune(j, tj_delta_grace_ms());
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
        out->procedure_path = tj_column_dup(st, 2);
        tj_column_copy(st, 3, out->source_sha256, sizeof out->source_sha256);
        out->source = tj_column_dup(st, 4);
        out->inputs = tj_column_json(st, 5);
        tj_column_copy(st, 6, out->status, sizeof out->status);
        out->output = tj_column_json(st, 7);
        out->error = tj_column_json(st, 8);
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
    /* A submitted run no worker has started yet is listed "queued". */
#define LISTED_STATUS "(CASE WHEN q.state = 'ready' AND r.status = 'running' THEN 'queued' ELSE r.status END)"
    if (!(st = db_prepare(j, "SELECT r.id, " LISTED_STATUS ", r.procedure_path, r.created_ms, "
                           "r.updated_ms FROM runs r LEFT JOIN run_queue q ON q.run_id = r.id "
                           "WHERE r.tenant = ?1 AND (CAST(?2 AS TEXT) IS NULL OR " LISTED_STATUS " = ?2) "
                           "ORDER BY r.created_ms DESC, r.id")))
        return tj_fail_db(j, "list runs");
    db_bind_text(st, 1, tenant);
    db_bind_text(st, 2, status);
    static const tj_col cols[] = {{"run_id", TJ_COL_TEXT}, {"status", TJ_COL_TEXT}, {"procedure", TJ_COL_TEXT},
                               {"created_ms", TJ_COL_INT}, {"updated_ms", TJ_COL_INT}};
    return tj_rows_to_json(j, st, cols, sizeof cols / sizeof cols[0], *out, "list runs");
}

/* ---- effects ---------------------------------------------------------------------------------------- */

void tj_effect_free(tj_effect *e)
{
    cJSON_Delete(e->request);
    cJSON_Delete(e->result);
    memset(e, 0, sizeof *e);
}

tx_status tj_effect_get(tj_journal *j, const char *tenant, const char *run_id, long position,
                        tj_effect *out)
{
    memset(out, 0, sizeof *out);
    tj_stmt *st;
    if (!(st = db_prepare(j, "SELECT kind, fingerprint, request, result, duration_ms FROM effects "
                           "WHERE run_id = ?1 AND position = ?2 AND" TJ_RUN_OF_TENANT(3))))
        return tj_fail_db(j, "read effect");
    db_bind_text(st, 1, run_id);
    db_bind_int(st, 2, position);
    db_bind_text(st, 3, tenant);
    int rc = db_step(st);
    tx_status s = TX_OK;
    if (rc == TJ_ROW) {
        out->found = true;
        tj_column_copy(st, 0, out->kind, sizeof out->kind);
        tj_column_copy(st, 1, out->fingerprint, sizeof out->fingerprint);
        out->request = tj_column_json(st, 2);
        out->result = tj_column_json(st, 3);
        out->duration_ms = db_column_int(st, 4);
    } else if (rc != TJ_DONE) {
        s = tj_fail_db(j, "read effect");
    }
    db_finalize(st);
    return s;
}

tx_status tj_effect_put(tj_journal *j, const char *tenant, const char *run_id, long position,
                        const char *kind, const char *fingerprint, const cJSON *request,
                        const cJSON *result, long long duration_ms)
{
    tx_status s = tj_seal_begin(j, tenant, run_id, false);
    if (s != TX_OK) return s;
    tj_stmt *st;
    if (!(st = db_prepare(j, "INSERT INTO effects (run_id, position, kind, fingerprint, request, "
                           "result, duration_ms, created_ms, mac) VALUES (?,?,?,?,?,?,?,?,?)")))
        return tj_seal_abort(j, tj_fail_db(j, "record effect"));
    char *req = json_text(request), *res = json_text(result), mac[132];
    db_bind_text(st, 1, run_id);
    db_bind_int(st, 2, position);
    db_bind_text(st, 3, kind);
    db_bind_text(st, 4, fingerprint);
    db_bind_text(st, 5, req);
    db_bind_text(st, 6, res);
    db_bind_int(st, 7, duration_ms);
    db_bind_int(st, 8, tj_now_ms());
    /* Sealed as it is inserted when it is a plain append (else by the
     * commit); then it needs no answer and goes with the commit. */
    bool sealed = tj_seal_effect(j, run_id, position, kind, fingerprint, req, res, duration_ms, mac);
    db_bind_text(st, 9, sealed ? mac : NULL);
    cJSON_free(req);
    cJSON_free(res);
    s = sealed ? tj_step_later(j, st, "record effect") : tj_step_done(j, st, "record effect");
    if (s != TX_OK) return tj_seal_abort(j, s);
    return tj_seal_commit(j, run_id, false);
}

tx_status tj_effect_set_result(tj_journal *j, const char *tenant, const char *run_id,
                               long position, const cJSON *result)
{
    tx_status s = tj_seal_begin(j, tenant, run_id, true);
    if (s != TX_OK) return s;
    tj_stmt *st;
    if (!(st = db_prepare(j, "UPDATE effects SET result = ? WHERE run_id = ? AND position = ?")))
        return tj_seal_abort(j, tj_fail_db(j, "update effect"));
    tj_bind_json(st, 1, result);
    db_bind_text(st, 2, run_id);
    db_bind_int(st, 3, position);
    s = tj_step_done(j, st, "update effect");
    if (s == TX_OK && j->be->changes(j->db) == 0) s = TX_ENOENT;
    if (s != TX_OK) return tj_seal_abort(j, s);
    return tj_seal_commit(j, run_id, true);
}

long tj_effect_count(tj_journal *j, const char *tenant, const char *run_id)
{
    tj_stmt *st;
    if (!(st = db_prepare(j, "SELECT COUNT(*) FROM effects WHERE run_id = ?1 AND" TJ_RUN_OF_TENANT(2))))
        return -1;
    db_bind_text(st, 1, run_id);
    db_bind_text(st, 2, tenant);
    long n = db_step(st) == TJ_ROW ? (long)db_column_int(st, 0) : -1;
    db_finalize(st);
    return n;
}

long long tj_effect_bytes(tj_journal *j, const char *tenant, const char *run_id)
{
    tj_stmt *st;
    if (!(st = db_prepare(j, "SELECT request, result FROM effects WHERE run_id = ?1 AND"
                             TJ_RUN_OF_TENANT(2))))
        return -1;
    db_bind_text(st, 1, run_id);
    db_bind_text(st, 2, tenant);
    long long n = 0;
    tj_step rc;
    while ((rc = db_step(st)) == TJ_ROW) {
        const char *a = db_column_text(st, 0), *b = db_column_text(st, 1);
        n += (long long)(a ? strlen(a) : 0) + (long long)(b ? strlen(b) : 0);
    }
    db_finalize(st);
    return rc == TJ_DONE ? n : -1;
}

tx_status tj_effect_list(tj_journal *j, const char *tenant, const char *run_id, cJSON **out)
{
    *out = cJSON_CreateArray();
    tj_stmt *st;
    if (!(st = db_prepare(j, "SELECT position, kind, fingerprint, request, result, duration_ms, "
                           "created_ms FROM effects WHERE run_id = ?1 AND" TJ_RUN_OF_TENANT(2)
                           "ORDER BY position")))
        return tj_fail_db(j, "list effects");
    db_bind_text(st, 1, run_id);
    db_bind_text(st, 2, tenant);
    static const tj_col cols[] = {{"position", TJ_COL_INT},  {"kind", TJ_COL_TEXT},        {"fingerprint", TJ_COL_TEXT},
                               {"request", TJ_COL_JSON},  {"result", TJ_COL_JSON},      {"duration_ms", TJ_COL_INT},
                               {"created_ms", TJ_COL_INT}};
    return tj_rows_to_json(j, st, cols, sizeof cols / sizeof cols[0], *out, "list effects");
}

tx_status tj_run_note(tj_journal *j, const char *tenant, const char *run_id, const char *kind,
                      const cJSON *detail)
{
    tx_status s = tj_seal_begin(j, tenant, run_id, true);
    if (s != TX_OK) return s;
    tj_stmt *st;
    if (!(st = db_prepare(j, "INSERT INTO run_notes (run_id, seq, kind, detail, created_ms) VALUES "
                           "(?1, (SELECT COUNT(*) FROM run_notes WHERE run_id = ?1), ?2, ?3, ?4)")))
        return tj_seal_abort(j, tj_fail_db(j, "record a note"));
    db_bind_text(st, 1, run_id);
    db_bind_text(st, 2, kind);
    tj_bind_json(st, 3, detail);
    db_bind_int(st, 4, tj_now_ms());
    s = tj_step_done(j, st, "record a note");
    if (s != TX_OK) return tj_seal_abort(j, s);
    return tj_seal_commit(j, run_id, true);
}

tx_status tj_run_notes(tj_journal *j, const char *tenant, const char *run_id, cJSON **out)
{
    *out = cJSON_CreateArray();
    tj_stmt *st;
    if (!(st = db_prepare(j, "SELECT seq, kind, detail, created_ms FROM run_notes WHERE run_id = ?1 "
                           "AND" TJ_RUN_OF_TENANT(2) "ORDER BY seq")))
        return tj_fail_db(j, "list notes");
    db_bind_text(st, 1, run_id);
    db_bind_text(st, 2, tenant);
    static const tj_col cols[] = {{"seq", TJ_COL_INT}, {"kind", TJ_COL_TEXT}, {"detail", TJ_COL_JSON},
                               {"created_ms", TJ_COL_INT}};
    return tj_rows_to_json(j, st, cols, sizeof cols / sizeof cols[0], *out, "list notes");
}
