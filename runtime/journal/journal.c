/*
 * journal.c - durable runs on SQLite. See journal.h.
 *
 * Every write is one transaction; with WAL and synchronous=FULL, COMMIT
 * returns only when the record is on disk. Statements are prepared per call:
 * the journal writes a few records per effect, and clarity beats a cache here.
 */
#include "journal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct tj_journal {
    sqlite3 *db;
    char err[512];
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA foreign_keys=ON;"
    "CREATE TABLE IF NOT EXISTS runs ("
    "  id TEXT PRIMARY KEY, tenant TEXT NOT NULL, procedure_path TEXT NOT NULL,"
    "  source_sha256 TEXT NOT NULL, source TEXT NOT NULL, inputs TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('running','waiting','completed','failed')),"
    "  output TEXT, error TEXT, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS runs_by_tenant ON runs (tenant, created_ms);"
    "CREATE TABLE IF NOT EXISTS effects ("
    "  run_id TEXT NOT NULL REFERENCES runs(id), position INTEGER NOT NULL,"
    "  kind TEXT NOT NULL, fingerprint TEXT NOT NULL, request TEXT NOT NULL,"
    "  result TEXT NOT NULL, duration_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (run_id, position));"
    "CREATE TABLE IF NOT EXISTS human_requests ("
    "  id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id), tenant TEXT NOT NULL,"
    "  position INTEGER NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL,"
    "  request TEXT NOT NULL, deadline_ms INTEGER NOT NULL, default_value TEXT,"
    "  status TEXT NOT NULL CHECK (status IN ('pending','answered','timed_out')),"
    "  answer TEXT, answered_by TEXT, answered_ms INTEGER, request_hash TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL, UNIQUE (run_id, position));"
    "CREATE INDEX IF NOT EXISTS pending_by_tenant ON human_requests (tenant, status, created_ms);";

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

static tx_status fail_db(tj_journal *j, const char *what)
{
    snprintf(j->err, sizeof j->err, "%s: %s", what, sqlite3_errmsg(j->db));
    return TX_EIO;
}

void tj_default_path(char *out, size_t cap)
{
    const char *store = getenv("TACTUS_STORE");
    if (store && *store) {
        snprintf(out, cap, "%s", store);
        return;
    }
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(out, cap, "%s/tactus/journal.db", xdg);
    else
        snprintf(out, cap, "%s/.local/share/tactus/journal.db", home && *home ? home : ".");
}

/* mkdir -p of the folder holding `path`, private to the user. */
static void make_parent(const char *path)
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
    make_parent(path);
    int rc = sqlite3_open_v2(path, &j->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(j->db, 5000); /* several tactus processes may share one store */
        /* Commits are durable in the WAL already; folding the WAL into the
         * database at every close was one more fsync per command. SQLite
         * still checkpoints as the WAL grows. */
        sqlite3_db_config(j->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
        char *msg = NULL;
        rc = sqlite3_exec(j->db, schema, NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "%s: cannot set up the journal: %s", path, msg ? msg : "?");
            sqlite3_free(msg);
        }
    } else {
        snprintf(err, errlen, "%s: cannot open the journal: %s", path,
                 j->db ? sqlite3_errmsg(j->db) : "out of memory");
    }
    if (rc != SQLITE_OK) {
        sqlite3_close(j->db);
        tx_free(j);
        return TX_EIO;
    }
    chmod(path, 0600); /* prompts, answers and outputs are private */
    *out = j;
    return TX_OK;
}

void tj_close(tj_journal *j)
{
    if (!j) return;
    sqlite3_close(j->db);
    tx_free(j);
}

/* ---- helpers ---------------------------------------------------------------------------------- */

static char *json_text(const cJSON *v)
{
    return v ? cJSON_PrintUnformatted(v) : NULL;
}

static void bind_json(sqlite3_stmt *st, int i, const cJSON *v)
{
    char *t = json_text(v);
    if (t)
        sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
    cJSON_free(t);
}

static cJSON *column_json(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? cJSON_Parse((const char *)t) : NULL;
}

static void column_copy(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static char *column_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return tx_strdup(t ? (const char *)t : "");
}

static tx_status step_done(tj_journal *j, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    tx_status s = rc == SQLITE_DONE ? TX_OK : fail_db(j, what);
    sqlite3_finalize(st);
    return s;
}

/* ---- canonical JSON and fingerprints -------------------------------------------------------------- */

static int cmp_keys(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

static void canonical(tx_buf *b, const cJSON *v, int depth)
{
    if (depth > 128) {
        tx_buf_puts(b, "null");
        return;
    }
    if (cJSON_IsObject(v)) {
        size_t n = (size_t)cJSON_GetArraySize(v), k = 0;
        const cJSON **keys = tx_calloc(n ? n : 1, sizeof *keys);
        if (!keys) return;
        for (const cJSON *c = v->child; c; c = c->next) keys[k++] = c;
        qsort(keys, k, sizeof *keys, cmp_keys);
        tx_buf_puts(b, "{");
        for (size_t i = 0; i < k; i++) {
            if (i) tx_buf_puts(b, ",");
            tx_buf_json_string(b, keys[i]->string, strlen(keys[i]->string));
            tx_buf_puts(b, ":");
            canonical(b, keys[i], depth + 1);
        }
        tx_buf_puts(b, "}");
        tx_free(keys);
    } else if (cJSON_IsArray(v)) {
        tx_buf_puts(b, "[");
        for (const cJSON *c = v->child; c; c = c->next) {
            if (c != v->child) tx_buf_puts(b, ",");
            canonical(b, c, depth + 1);
        }
        tx_buf_puts(b, "]");
    } else if (cJSON_IsString(v)) {
        tx_buf_json_string(b, v->valuestring, strlen(v->valuestring));
    } else {
        char *t = cJSON_PrintUnformatted(v);
        tx_buf_puts(b, t ? t : "null");
        cJSON_free(t);
    }
}

char *tj_canonical_json(const cJSON *v)
{
    tx_buf b;
    tx_buf_init(&b, 256u << 20);
    canonical(&b, v, 0);
    return tx_buf_steal(&b);
}

void tj_fingerprint(const char *method, const cJSON *params, char hex[65])
{
    cJSON *copy = params ? cJSON_Duplicate(params, 1) : cJSON_CreateObject();
    /* Where the call sits in the source is not part of what it asks. */
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "line");
    char *text = tj_canonical_json(copy);
    cJSON_Delete(copy);
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL); /* no openssl.cnf needed */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32];
    unsigned int n = 0;
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, method, strlen(method));
    EVP_DigestUpdate(ctx, "\n", 1);
    if (text) EVP_DigestUpdate(ctx, text, strlen(text));
    EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
    tx_free(text);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
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
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "INSERT INTO runs (id, tenant, procedure_path, source_sha256, source, "
                           "inputs, status, created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(j, "create run");
    long long t = now_ms();
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->procedure_path ? r->procedure_path : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->source_sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->source ? r->source : "", -1, SQLITE_STATIC);
    bind_json(st, 6, r->inputs);
    sqlite3_bind_text(st, 7, r->status[0] ? r->status : "running", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, t);
    sqlite3_bind_int64(st, 9, t);
    return step_done(j, st, "create run");
}

tx_status tj_run_finish(tj_journal *j, const char *tenant, const char *run_id, const char *status,
                        const cJSON *output, const cJSON *error)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "UPDATE runs SET status = ?, output = ?, error = ?, updated_ms = ? "
                           "WHERE id = ? AND tenant = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(j, "update run");
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    bind_json(st, 2, output);
    bind_json(st, 3, error);
    sqlite3_bind_int64(st, 4, now_ms());
    sqlite3_bind_text(st, 5, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, tenant, -1, SQLITE_STATIC);
    tx_status s = step_done(j, st, "update run");
    if (s == TX_OK && sqlite3_changes(j->db) == 0) return TX_ENOENT;
    return s;
}

tx_status tj_run_get(tj_journal *j, const char *tenant, const char *run_id, tj_run *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT id, tenant, procedure_path, source_sha256, source, inputs, status, "
                           "output, error, created_ms, updated_ms FROM runs WHERE id = ? AND tenant = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(j, "read run");
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, tenant, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    tx_status s = TX_OK;
    if (rc == SQLITE_ROW) {
        column_copy(st, 0, out->id, sizeof out->id);
        column_copy(st, 1, out->tenant, sizeof out->tenant);
        out->procedure_path = column_dup(st, 2);
        column_copy(st, 3, out->source_sha256, sizeof out->source_sha256);
        out->source = column_dup(st, 4);
        out->inputs = column_json(st, 5);
        column_copy(st, 6, out->status, sizeof out->status);
        out->output = column_json(st, 7);
        out->error = column_json(st, 8);
        out->created_ms = sqlite3_column_int64(st, 9);
        out->updated_ms = sqlite3_column_int64(st, 10);
    } else {
        s = rc == SQLITE_DONE ? TX_ENOENT : fail_db(j, "read run");
    }
    sqlite3_finalize(st);
    return s;
}

tx_status tj_run_list(tj_journal *j, const char *tenant, const char *status, cJSON **out)
{
    *out = cJSON_CreateArray();
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT id, status, procedure_path, created_ms, updated_ms FROM runs "
                           "WHERE tenant = ? AND (? IS NULL OR status = ?) "
                           "ORDER BY created_ms DESC, id",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(j, "list runs");
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "run_id", (const char *)sqlite3_column_text(st, 0));
        cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(st, 1));
        cJSON_AddStringToObject(o, "procedure", (const char *)sqlite3_column_text(st, 2));
        cJSON_AddNumberToObject(o, "created_ms", (double)sqlite3_column_int64(st, 3));
        cJSON_AddNumberToObject(o, "updated_ms", (double)sqlite3_column_int64(st, 4));
        cJSON_AddItemToArray(*out, o);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? TX_OK : fail_db(j, "list runs");
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
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT kind, fingerprint, request, result, duration_ms FROM effects "
                           "WHERE run_id = ? AND position = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(j, "read effect");
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, position);
    int rc = sqlite3_step(st);
    tx_status s = TX_OK;
    if (rc == SQLITE_ROW) {
        out->found = true;
        column_copy(st, 0, out->kind, sizeof out->kind);
        column_copy(st, 1, out->fingerprint, sizeof out->fingerprint);
        out->request = column_json(st, 2);
        out->result = column_json(st, 3);
        out->duration_ms = sqlite3_column_int64(st, 4);
    } else if (rc != SQLITE_DONE) {
        s = fail_db(j, "read effect");
    }
    sqlite3_finalize(st);
    return s;
}

tx_status tj_effect_put(tj_journal *j, const char *run_id, long position, const char *kind,
                        const char *fingerprint, const cJSON *request, const cJSON *result,
                        long long duration_ms)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "INSERT INTO effects (run_id, position, kind, fingerprint, request, "
                           "result, duration_ms, created_ms) VALUES (?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(j, "record effect");
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, position);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, fingerprint, -1, SQLITE_STATIC);
    bind_json(st, 5, request);
    bind_json(st, 6, result);
    sqlite3_bind_int64(st, 7, duration_ms);
    sqlite3_bind_int64(st, 8, now_ms());
    return step_done(j, st, "record effect");
}

tx_status tj_effect_set_result(tj_journal *j, const char *run_id, long position,
                               const cJSON *result)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db, "UPDATE effects SET result = ? WHERE run_id = ? AND position = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(j, "update effect");
    bind_json(st, 1, result);
    sqlite3_bind_text(st, 2, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, position);
    tx_status s = step_done(j, st, "update effect");
    if (s == TX_OK && sqlite3_changes(j->db) == 0) return TX_ENOENT;
    return s;
}

long tj_effect_count(tj_journal *j, const char *run_id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db, "SELECT COUNT(*) FROM effects WHERE run_id = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    long n = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

tx_status tj_effect_list(tj_journal *j, const char *run_id, cJSON **out)
{
    *out = cJSON_CreateArray();
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT position, kind, fingerprint, request, result, duration_ms, "
                           "created_ms FROM effects WHERE run_id = ? ORDER BY position",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(j, "list effects");
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "position", (double)sqlite3_column_int64(st, 0));
        cJSON_AddStringToObject(o, "kind", (const char *)sqlite3_column_text(st, 1));
        cJSON_AddStringToObject(o, "fingerprint", (const char *)sqlite3_column_text(st, 2));
        cJSON_AddItemToObject(o, "request", column_json(st, 3));
        cJSON_AddItemToObject(o, "result", column_json(st, 4));
        cJSON_AddNumberToObject(o, "duration_ms", (double)sqlite3_column_int64(st, 5));
        cJSON_AddNumberToObject(o, "created_ms", (double)sqlite3_column_int64(st, 6));
        cJSON_AddItemToArray(*out, o);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? TX_OK : fail_db(j, "list effects");
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
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "INSERT INTO human_requests (id, run_id, tenant, position, kind, message, "
                           "request, deadline_ms, default_value, status, request_hash, created_ms) "
                           "VALUES (?,?,?,?,?,?,?,?,?,'pending',?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(j, "record human request");
    sqlite3_bind_text(st, 1, h->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, h->run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, h->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, h->position);
    sqlite3_bind_text(st, 5, h->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, h->message ? h->message : "", -1, SQLITE_STATIC);
    bind_json(st, 7, h->request);
    sqlite3_bind_int64(st, 8, h->deadline_ms);
    bind_json(st, 9, h->default_value);
    sqlite3_bind_text(st, 10, h->request_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, now_ms());
    return step_done(j, st, "record human request");
}

static const char human_columns[] =
    "SELECT id, run_id, tenant, position, kind, message, request, deadline_ms, default_value, "
    "status, answer, answered_by, answered_ms, request_hash, created_ms FROM human_requests ";

static void human_row(sqlite3_stmt *st, tj_human *h)
{
    column_copy(st, 0, h->id, sizeof h->id);
    column_copy(st, 1, h->run_id, sizeof h->run_id);
    column_copy(st, 2, h->tenant, sizeof h->tenant);
    h->position = (long)sqlite3_column_int64(st, 3);
    column_copy(st, 4, h->kind, sizeof h->kind);
    h->message = column_dup(st, 5);
    h->request = column_json(st, 6);
    h->deadline_ms = sqlite3_column_int64(st, 7);
    h->default_value = column_json(st, 8);
    column_copy(st, 9, h->status, sizeof h->status);
    h->answer = column_json(st, 10);
    column_copy(st, 11, h->answered_by, sizeof h->answered_by);
    h->answered_ms = sqlite3_column_int64(st, 12);
    column_copy(st, 13, h->request_hash, sizeof h->request_hash);
    h->created_ms = sqlite3_column_int64(st, 14);
}

static tx_status human_query(tj_journal *j, const char *where, const char *a, const char *b,
                             long long n, tj_human *out)
{
    memset(out, 0, sizeof *out);
    char sql[1024];
    snprintf(sql, sizeof sql, "%s%s", human_columns, where);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail_db(j, "read human request");
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 2, n);
    int rc = sqlite3_step(st);
    tx_status s = TX_OK;
    if (rc == SQLITE_ROW)
        human_row(st, out);
    else
        s = rc == SQLITE_DONE ? TX_ENOENT : fail_db(j, "read human request");
    sqlite3_finalize(st);
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
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "UPDATE human_requests SET status = ?, answer = ?, answered_by = ?, "
                           "answered_ms = ? WHERE tenant = ? AND id = ? AND request_hash = ? AND "
                           "status = 'pending'",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(j, "answer human request");
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    bind_json(st, 2, answer);
    sqlite3_bind_text(st, 3, who, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms());
    sqlite3_bind_text(st, 5, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, request_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, request_hash, -1, SQLITE_STATIC);
    tx_status s = step_done(j, st, "answer human request");
    if (s == TX_OK && sqlite3_changes(j->db) == 0) {
        snprintf(j->err, sizeof j->err,
                 "request %s is not pending for this tenant, or it changed since it was shown",
                 request_id);
        return TX_EINVAL;
    }
    return s;
}

tx_status tj_human_pending(tj_journal *j, const char *tenant, cJSON **out)
{
    *out = cJSON_CreateArray();
    char sql[1024];
    snprintf(sql, sizeof sql, "%sWHERE tenant = ? AND status = 'pending' ORDER BY created_ms, id",
             human_columns);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail_db(j, "list pending requests");
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tj_human h;
        memset(&h, 0, sizeof h);
        human_row(st, &h);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "request_id", h.id);
        cJSON_AddStringToObject(o, "run_id", h.run_id);
        cJSON_AddStringToObject(o, "kind", h.kind);
        cJSON_AddStringToObject(o, "message", h.message ? h.message : "");
        if (h.deadline_ms) cJSON_AddNumberToObject(o, "deadline_ms", (double)h.deadline_ms);
        cJSON_AddItemToObject(o, "default", h.default_value ? cJSON_Duplicate(h.default_value, 1)
                                                            : cJSON_CreateNull());
        cJSON_AddStringToObject(o, "request_hash", h.request_hash);
        cJSON_AddItemToArray(*out, o);
        tj_human_free(&h);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? TX_OK : fail_db(j, "list pending requests");
}
