/*
 * tj_seal.c - what makes a journal trustworthy: the HMAC-SHA256 chain
 * sealing every row of a run (docs/durability.md, "Seals"), checked before
 * any change to a run and renewed with it. The key and the canonical JSON
 * the seals are made over: tj_key.c.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tj_internal.h"

/* ---- seals: the HMAC chain of a run's rows ------------------------------------------------------ */

/* One row of a run's chain, in journal order: the run's record, then by
 * position the human request (if any) before the effect (if any). */
typedef struct {
    int table; /* 0 runs, 1 human_requests, 2 effects, 3 run_notes */
    long position;
    char id[64]; /* runs.id or human_requests.id */
    char kind[32];
    char *bytes; /* canonical JSON of the sealed columns */
    /* "CHAIN:SELF": CHAIN = HMAC(key, previous CHAIN || bytes) orders and
     * links the rows; SELF = HMAC(key, "self" || bytes) tells an edited row
     * from one whose predecessor was deleted or moved. */
    char mac[132];
} chain_row;

typedef struct {
    chain_row *rows;
    size_t n, cap;
    char head[65];
} chain;

static void chain_free(chain *c)
{
    for (size_t i = 0; i < c->n; i++) tx_free(c->rows[i].bytes);
    tx_free(c->rows);
    memset(c, 0, sizeof *c);
}

static void hmac_hex(const unsigned char key[32], const char *prev, const char *bytes, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t len = 0;
    hex[0] = '\0';
    if (ctx && EVP_MAC_init(ctx, key, 32, params) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)prev, strlen(prev)) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)"\n", 1) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)bytes, strlen(bytes)) == 1 &&
        EVP_MAC_final(ctx, md, &len, sizeof md) == 1)
        n = (unsigned int)len;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    for (unsigned int i = 0; i < n && i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The sealed columns 0..ncols-1 of a row as canonical bytes, tagged. */
static char *row_bytes(tj_stmt *st, int ncols, const char *tag)
{
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateString(tag));
    for (int i = 0; i < ncols; i++) {
        switch (db_column_kind(st, i)) {
        case TJ_NULL: cJSON_AddItemToArray(a, cJSON_CreateNull()); break;
        case TJ_INTEGER:
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)db_column_int(st, i)));
            break;
        default: cJSON_AddItemToArray(a, cJSON_CreateString(db_column_text(st, i)));
        }
    }
    char *t = tj_canonical_json(a);
    cJSON_Delete(a);
    return t;
}

static chain_row *chain_push(chain *c)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        chain_row *r = tx_realloc(c->rows, cap * sizeof *r);
        if (!r) return NULL;
        c->rows = r;
        c->cap = cap;
    }
    chain_row *r = &c->rows[c->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Loads rows of one table (sealed columns first, then position, id, kind, mac). */
static tx_status chain_load_table(tj_journal *j, chain *c, int table, const char *sql, int ncols,
                                  const char *run_id)
{
    static const char *const tags[] = {"run", "human", "effect", "note"};
    tj_stmt *st;
    if (!(st = db_prepare(j, sql))) return tj_fail_db(j, "read seals");
    db_bind_text(st, 1, run_id);
    int rc;
    while ((rc = db_step(st)) == TJ_ROW) {
        chain_row *r = chain_push(c);
        if (!r) break;
        r->table = table;
        r->bytes = row_bytes(st, ncols, tags[table]);
        r->position = (long)db_column_int(st, ncols);
        tj_column_copy(st, ncols + 1, r->id, sizeof r->id);
        tj_column_copy(st, ncols + 2, r->kind, sizeof r->kind);
        tj_column_copy(st, ncols + 3, r->mac, sizeof r->mac);
        if (table == 0) tj_column_copy(st, ncols + 4, c->head, sizeof c->head);
    }
    db_finalize(st);
    return rc == TJ_DONE ? TX_OK : tj_fail_db(j, "read seals");
}

/* The run's record, its notes in order, then by position each human
 * request before its effect. */
static int row_rank(const chain_row *r)
{
    return r->table == 0 ? 0 : r->table == 3 ? 1 : 2;
}

static int row_order(const void *a, const void *b)
{
    const chain_row *x = a, *y = b;
    if (row_rank(x) != row_rank(y)) return row_rank(x) - row_rank(y);
    if (x->position != y->position) return x->position < y->position ? -1 : 1;
    return x->table - y->table; /* the human request before its effect */
}

static tx_status chain_load(tj_journal *j, const char *run_id, chain *c)
{
    memset(c, 0, sizeof *c);
    tx_status s = chain_load_table(
        j, c, 0,
        "SELECT id, tenant, procedure_path, source_sha256, source, inputs, created_ms, "
        "-1, id, 'run', mac, chain_head FROM runs WHERE id = ?",
        7, run_id);
    if (s == TX_OK && c->n == 0) {
        snprintf(j->err, sizeof j->err, "no run %s", run_id);
        s = TX_ENOENT;
    }
    if (s == TX_OK)
        s = chain_load_table(j, c, 1,
                             "SELECT id, run_id, tenant, position, kind, message, request, deadline_ms, "
                             "default_value, status, answer, answered_by, answered_ms, request_hash, "
                             "position, id, kind, mac FROM human_requests WHERE run_id = ?",
                             14, run_id);
    if (s == TX_OK)
        s = chain_load_table(j, c, 2,
                             "SELECT run_id, position, kind, fingerprint, request, result, duration_ms, "
                             "position, '', kind, mac FROM effects WHERE run_id = ?",
                             7, run_id);
    if (s == TX_OK)
        s = chain_load_table(j, c, 3,
                             "SELECT run_id, seq, kind, detail, created_ms, seq, '', kind, mac "
                             "FROM run_notes WHERE run_id = ?",
                             5, run_id);
    if (s == TX_OK) qsort(c->rows, c->n, sizeof *c->rows, row_order);
    if (s != TX_OK) chain_free(c);
    return s;
}

/* The CHAIN part of a row's mac, which the next row is sealed after. */
static void chain_prev(char prev[65], const char *mac)
{
    size_t n = strnlen(mac, 64);
    memcpy(prev, mac, n);
    prev[n] = '\0';
}

static void head_of(const tj_journal *j, const char *run_id, size_t n, const char *tip, char hex[65])
{
    char bytes[256];
    snprintf(bytes, sizeof bytes, "head %s %zu", run_id, n);
    hmac_hex(j->key, tip, bytes, hex);
}

static void row_label(const chain_row *r, size_t i, char *out, size_t cap)
{
    if (r->table == 0)
        snprintf(out, cap, "row %zu (the run's record: procedure, source and inputs)", i);
    else if (r->table == 3)
        snprintf(out, cap, "row %zu (the run's note %ld, %s)", i, r->position, r->kind);
    else
        snprintf(out, cap, "row %zu (the %s at position %ld, %s)", i,
                 r->table == 1 ? "human request" : "effect", r->position, r->kind);
}

/* Checks every seal of a run (full) or only the head against the rows'
 * count and last mac (an append, which never re-seals earlier rows).
 * TX_EINVAL with the run, the row and what failed in j->err. */
static tx_status chain_check(tj_journal *j, const char *run_id, const chain *c, bool full)
{
    const char *advice = "it was changed outside tactus, so the run cannot be trusted and is not "
                         "resumed (start a new run; tactus show shows the journal as it is)";
    if (!c->rows[0].mac[0]) {
        snprintf(j->err, sizeof j->err,
                 "run %s was journaled by an older tactus, before journal rows were sealed: it "
                 "cannot be verified, so it is not resumed or answered (start a new run)",
                 run_id);
        return TX_EINVAL;
    }
    char prev[65] = "", label[160];
    for (size_t i = 0; i < c->n; i++) {
        const chain_row *r = &c->rows[i];
        row_label(r, i, label, sizeof label);
        if (!r->mac[0]) {
            snprintf(j->err, sizeof j->err, "run %s: journal %s has no seal: it was inserted outside "
                     "tactus; %s", run_id, label, advice);
            return TX_EINVAL;
        }
        if (full) {
            char m[65], self[65];
            hmac_hex(j->key, prev, r->bytes, m);
            if (strlen(r->mac) != 129 || strncmp(m, r->mac, 64) != 0) {
                /* Its own seal holds: it is the row that was sealed, but not
                 * after the row before it now. */
                hmac_hex(j->key, "self", r->bytes, self);
                bool intact = strlen(r->mac) == 129 && strcmp(self, r->mac + 65) == 0;
                snprintf(j->err, sizeof j->err, "run %s: journal %s does not match its seal: %s; %s",
                         run_id, label,
                         intact ? "a row before it was deleted or inserted, or rows were reordered"
                                : "its contents (or its position) were changed",
                         advice);
                return TX_EINVAL;
            }
        }
        chain_prev(prev, r->mac);
    }
    char head[65];
    head_of(j, run_id, c->n, prev, head);
    if (strcmp(head, c->head) != 0) {
        snprintf(j->err, sizeof j->err, "run %s: the journal holds %zu rows for the run, after %s, "
                 "and they do not match the run's seal: rows were deleted or added at the end; %s",
                 run_id, c->n, label, advice);
        return TX_EINVAL;
    }
    return TX_OK;
}

static tx_status lease_check(tj_journal *j, const char *run_id);

tx_status tj_run_lock(tj_journal *j, const char *tenant, const char *run_id)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT tenant FROM runs WHERE id = ?%s", j->be->lock_rows);
    tj_stmt *st = db_prepare(j, sql);
    if (!st) return tj_fail_db(j, "lock the run");
    db_bind_text(st, 1, run_id);
    tj_step rc = db_step(st);
    bool mine = rc == TJ_ROW && db_column_text(st, 0) && strcmp(db_column_text(st, 0), tenant) == 0;
    db_finalize(st);
    if (rc == TJ_FAIL) return tj_fail_db(j, "lock the run");
    if (!mine) {
        snprintf(j->err, sizeof j->err, "no run %s for tenant '%s'", run_id, tenant);
        return TX_ENOENT;
    }
    return lease_check(j, run_id);
}

/* The fence (tj_fence): a write to the fenced run needs its lease's epoch. */
static tx_status lease_check(tj_journal *j, const char *run_id)
{
    if (!j->fence_run[0] || strcmp(j->fence_run, run_id) != 0) return TX_OK;
    char sql[256];
    tj_stmt *st;
    tj_step rc;
    /* The lease: read under a share lock, so a claim by another worker waits
     * for this write to commit, and this write sees a claim that committed. */
    snprintf(sql, sizeof sql, "SELECT state, epoch, COALESCE(worker, '') FROM run_queue WHERE run_id = ?%s",
             j->be->share_rows);
    if (!(st = db_prepare(j, sql))) return tj_fail_db(j, "read the run's lease");
    db_bind_text(st, 1, run_id);
    rc = db_step(st);
    tx_status s = TX_OK;
    if (rc == TJ_FAIL) {
        s = tj_fail_db(j, "read the run's lease");
    } else if (rc != TJ_ROW || strcmp(db_column_text(st, 0), "leased") != 0 ||
               db_column_int(st, 1) != j->fence_epoch) {
        snprintf(j->err, sizeof j->err,
                 "the lease on run %s (epoch %lld) was taken over: the run is now %s%s%s (epoch "
                 "%lld); this worker stopped it without writing (another worker resumes it by "
                 "replay; a stalled process or a clock jump does this)",
                 run_id, j->fence_epoch, rc == TJ_ROW ? db_column_text(st, 0) : "not queued",
                 rc == TJ_ROW && db_column_text(st, 2)[0] ? " by " : "",
                 rc == TJ_ROW ? db_column_text(st, 2) : "", rc == TJ_ROW ? db_column_int(st, 1) : 0);
        s = TX_EINVAL;
    }
    db_finalize(st);
    return s;
}

/* An append checks only the head of the chain: how many rows the run has,
 * that none lacks a seal, and the last row's seal, read in one statement
 * rather than by loading every row (the cost of an effect stays the same
 * however long the run). Journal order: the run's row, its notes, then by
 * position each human request before its effect. */
static tx_status tail_check(tj_journal *j, const char *tenant, const char *run_id)
{
    static const char tail_sql[] =
        "SELECT COALESCE(r.mac, ''), COALESCE(r.chain_head, ''), "
        "1 + (SELECT COUNT(*) FROM run_notes WHERE run_id = ?1) "
        "  + (SELECT COUNT(*) FROM human_requests WHERE run_id = ?1) "
        "  + (SELECT COUNT(*) FROM effects WHERE run_id = ?1), "
        "(SELECT COUNT(*) FROM run_notes WHERE run_id = ?1 AND mac IS NULL) "
        "  + (SELECT COUNT(*) FROM human_requests WHERE run_id = ?1 AND mac IS NULL) "
        "  + (SELECT COUNT(*) FROM effects WHERE run_id = ?1 AND mac IS NULL), "
        "COALESCE((SELECT mac FROM (SELECT position AS p, 1 AS t, mac FROM effects WHERE run_id = ?1 "
        "  UNION ALL SELECT position, 0, mac FROM human_requests WHERE run_id = ?1) x "
        "  ORDER BY p DESC, t DESC LIMIT 1), "
        "  (SELECT mac FROM run_notes WHERE run_id = ?1 ORDER BY seq DESC LIMIT 1), r.mac, ''), "
        "COALESCE((SELECT MAX(p) FROM (SELECT position AS p FROM effects WHERE run_id = ?1 "
        "  UNION ALL SELECT position FROM human_requests WHERE run_id = ?1) y), -1), "
        "r.tenant FROM runs r WHERE r.id = ?1";
    /* The run's row locked as tj_run_lock does, in the same round trip.
     * On PostgreSQL a statement that waited for the lock reads the locked
     * row as it is now but the other tables as they were when it started:
     * when the head does not match, the tail is read again (the row is
     * ours by then, so the second read is consistent) before blaming the
     * journal. */
    char sql[sizeof tail_sql + 32], run_mac[132], head[65];
    long unsealed = 0;
    for (int attempt = 0;; attempt++) {
        snprintf(sql, sizeof sql, "%s%s", tail_sql, attempt ? "" : j->be->lock_rows);
        tj_stmt *st = db_prepare(j, sql);
        if (!st) return tj_fail_db(j, "read seals");
        db_bind_text(st, 1, run_id);
        tj_step rc = db_step(st);
        bool mine = rc == TJ_ROW && db_column_text(st, 6) && strcmp(db_column_text(st, 6), tenant) == 0;
        if (!mine) {
            db_finalize(st);
            if (rc == TJ_FAIL) return tj_fail_db(j, "read seals");
            snprintf(j->err, sizeof j->err, "no run %s for tenant '%s'", run_id, tenant);
            return TX_ENOENT;
        }
        tj_column_copy(st, 0, run_mac, sizeof run_mac);
        tj_column_copy(st, 1, head, sizeof head);
        j->tail_rows = (long)db_column_int(st, 2);
        unsealed = (long)db_column_int(st, 3);
        tj_column_copy(st, 4, j->tail_mac, sizeof j->tail_mac);
        j->tail_position = (long)db_column_int(st, 5);
        db_finalize(st);
        if (attempt == 0) {
            tx_status fenced = lease_check(j, run_id);
            if (fenced != TX_OK) return fenced;
        }
        char tip[65], want[65];
        chain_prev(tip, j->tail_mac);
        head_of(j, run_id, (size_t)j->tail_rows, tip, want);
        if (attempt == 1 || strcmp(want, head) == 0) break;
    }
    const char *advice = "it was changed outside tactus, so the run cannot be trusted and is not "
                         "resumed (start a new run; tactus show shows the journal as it is)";
    if (!run_mac[0]) {
        snprintf(j->err, sizeof j->err,
                 "run %s was journaled by an older tactus, before journal rows were sealed: it "
                 "cannot be verified, so it is not resumed or answered (start a new run)",
                 run_id);
        return TX_EINVAL;
    }
    if (unsealed) {
        snprintf(j->err, sizeof j->err, "run %s: %ld journal row%s %s no seal: inserted outside "
                 "tactus; %s", run_id, unsealed, unsealed == 1 ? "" : "s", unsealed == 1 ? "has" : "have",
                 advice);
        return TX_EINVAL;
    }
    char tip[65], want[65];
    chain_prev(tip, j->tail_mac);
    head_of(j, run_id, (size_t)j->tail_rows, tip, want);
    if (strcmp(want, head) != 0) {
        snprintf(j->err, sizeof j->err, "run %s: the journal holds %ld rows for the run, and they do "
                 "not match the run's seal: rows were deleted or added at the end; %s",
                 run_id, j->tail_rows, advice);
        return TX_EINVAL;
    }
    return TX_OK;
}

/* Seals the one row an append added, after the tail tail_check read. */
static tx_status tail_commit(tj_journal *j, const char *run_id)
{
    chain c;
    memset(&c, 0, sizeof c);
    tx_status s = chain_load_table(j, &c, 1,
                                   "SELECT id, run_id, tenant, position, kind, message, request, "
                                   "deadline_ms, default_value, status, answer, answered_by, "
                                   "answered_ms, request_hash, position, id, kind, mac FROM "
                                   "human_requests WHERE run_id = ? AND mac IS NULL",
                                   14, run_id);
    if (s == TX_OK)
        s = chain_load_table(j, &c, 2,
                             "SELECT run_id, position, kind, fingerprint, request, result, "
                             "duration_ms, position, '', kind, mac FROM effects WHERE run_id = ? "
                             "AND mac IS NULL",
                             7, run_id);
    if (s == TX_OK && (c.n != 1 || c.rows[0].position < j->tail_position ||
                       (c.rows[0].position == j->tail_position && c.rows[0].table == 1))) {
        /* Not a plain append at the end (an effect may follow the human
         * request at its position, never the reverse): seal the chain. */
        chain_free(&c);
        return TX_ELIMIT;
    }
    if (s == TX_OK) {
        chain_row *r = &c.rows[0];
        char prev[65], self[65], head[65];
        chain_prev(prev, j->tail_mac);
        hmac_hex(j->key, prev, r->bytes, r->mac);
        hmac_hex(j->key, "self", r->bytes, self);
        r->mac[64] = ':';
        memcpy(r->mac + 65, self, 65);
        tj_stmt *st = db_prepare(j, r->table == 1 ? "UPDATE human_requests SET mac = ?1 WHERE id = ?2"
                                                  : "UPDATE effects SET mac = ?1 WHERE run_id = ?3 AND position = ?4");
        if (!st) {
            s = tj_fail_db(j, "seal");
        } else {
            db_bind_text(st, 1, r->mac);
            if (r->table == 1) db_bind_text(st, 2, r->id);
            else {
                db_bind_text(st, 3, run_id);
                db_bind_int(st, 4, r->position);
            }
            s = tj_step_done(j, st, "seal");
        }
        chain_prev(prev, r->mac);
        head_of(j, run_id, (size_t)j->tail_rows + 1, prev, head);
        if (s == TX_OK && !(st = db_prepare(j, "UPDATE runs SET chain_head = ? WHERE id = ?")))
            s = tj_fail_db(j, "seal");
        else if (s == TX_OK) {
            db_bind_text(st, 1, head);
            db_bind_text(st, 2, run_id);
            s = tj_step_done(j, st, "seal");
        }
    }
    chain_free(&c);
    if (s == TX_OK) s = tj_commit(j);
    if (s != TX_OK) j->be->rollback(j->db);
    return s;
}

void tj_seal_run_row(tj_journal *j, const char *id, const char *tenant, const char *path,
                     const char *sha256, const char *source, const char *inputs, long long created_ms,
                     char mac[132], char head[65])
{
    /* The columns chain_load reads for a run's row, as the store returns them. */
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateString("run"));
    const char *text[] = {id, tenant, path, sha256, source};
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        cJSON_AddItemToArray(a, text[i] ? cJSON_CreateString(text[i]) : cJSON_CreateNull());
    cJSON_AddItemToArray(a, inputs ? cJSON_CreateString(inputs) : cJSON_CreateNull());
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)created_ms));
    char *bytes = tj_canonical_json(a);
    cJSON_Delete(a);
    char self[65], prev[65];
    hmac_hex(j->key, "", bytes ? bytes : "", mac);
    hmac_hex(j->key, "self", bytes ? bytes : "", self);
    tx_free(bytes);
    mac[64] = ':';
    memcpy(mac + 65, self, 65);
    chain_prev(prev, mac);
    head_of(j, id, 1, prev, head);
}

/* An effect appended at the end of the run whose head tail_check read: its
 * seal, made over the bytes chain_load reads back (the same columns, typed
 * as the store returns them), so the row is inserted sealed and the commit
 * only moves the head: two statements fewer per effect, which is most of
 * an effect's cost on PostgreSQL (a round trip each). */
bool tj_seal_effect(tj_journal *j, const char *run_id, long position, const char *kind,
                    const char *fingerprint, const char *request, const char *result,
                    long long duration_ms, char mac[132])
{
    mac[0] = '\0';
    /* An effect follows the human request at its own position. */
    if (j->tail_rows <= 0 || position < j->tail_position || !request || !result) return false;
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateString("effect"));
    cJSON_AddItemToArray(a, cJSON_CreateString(run_id));
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)position));
    cJSON_AddItemToArray(a, cJSON_CreateString(kind));
    cJSON_AddItemToArray(a, cJSON_CreateString(fingerprint));
    cJSON_AddItemToArray(a, cJSON_CreateString(request));
    cJSON_AddItemToArray(a, cJSON_CreateString(result));
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)duration_ms));
    char *bytes = tj_canonical_json(a);
    cJSON_Delete(a);
    if (!bytes) return false;
    char prev[65], self[65];
    chain_prev(prev, j->tail_mac);
    hmac_hex(j->key, prev, bytes, mac);
    hmac_hex(j->key, "self", bytes, self);
    tx_free(bytes);
    mac[64] = ':';
    memcpy(mac + 65, self, 65);
    memcpy(j->append_mac, mac, 130);
    return true;
}

/* Opens the write transaction of a change to a run: the run locked, its
 * tenant and lease checked, then its seals (all of them when the change
 * re-seals rows, else the head). */
tx_status tj_seal_begin(tj_journal *j, const char *tenant, const char *run_id, bool full)
{
    tx_status s = tj_begin_write(j);
    if (s != TX_OK) return s;
    j->tail_rows = -1;
    j->append_mac[0] = '\0';
    if (!full) {
        s = tail_check(j, tenant, run_id);
        if (s != TX_OK) j->be->rollback(j->db);
        return s;
    }
    s = tj_run_lock(j, tenant, run_id);
    if (s != TX_OK) {
        j->be->rollback(j->db);
        return s;
    }
    chain c;
    s = chain_load(j, run_id, &c);
    if (s == TX_OK) {
        s = chain_check(j, run_id, &c, full);
        chain_free(&c);
    }
    if (s != TX_OK) j->be->rollback(j->db);
    return s;
}

/* Seals the changed rows (all of them when `full`, else those without a
 * mac: the appended one) and the head, and commits. */
tx_status tj_seal_commit(tj_journal *j, const char *run_id, bool full)
{
    /* An append whose tail tj_seal_begin checked: seal just the new row. */
    if (!full && j->tail_rows > 0 && j->append_mac[0]) {
        char prev[65], head[65];
        chain_prev(prev, j->append_mac);
        head_of(j, run_id, (size_t)j->tail_rows + 1, prev, head);
        j->tail_rows = -1;
        j->append_mac[0] = '\0';
        tj_stmt *st = db_prepare(j, "UPDATE runs SET chain_head = ? WHERE id = ?");
        tx_status t = st ? TX_OK : tj_fail_db(j, "seal");
        if (st) {
            db_bind_text(st, 1, head);
            db_bind_text(st, 2, run_id);
            t = tj_step_later(j, st, "seal"); /* with the commit: one round trip */
        }
        if (t == TX_OK) t = tj_commit(j);
        if (t != TX_OK) j->be->rollback(j->db);
        return t;
    }
    if (!full && j->tail_rows > 0) {
        tx_status t = tail_commit(j, run_id);
        j->tail_rows = -1;
        if (t != TX_ELIMIT) return t;
    }
    chain c;
    tx_status s = chain_load(j, run_id, &c);
    char prev[65] = "";
    for (size_t i = 0; s == TX_OK && i < c.n; i++) {
        chain_row *r = &c.rows[i];
        if (full || !r->mac[0]) {
            char self[65];
            hmac_hex(j->key, prev, r->bytes, r->mac);
            hmac_hex(j->key, "self", r->bytes, self);
            r->mac[64] = ':';
            memcpy(r->mac + 65, self, 65);
            static const char *const sql[] = {
                "UPDATE runs SET mac = ?1 WHERE id = ?2",
                "UPDATE human_requests SET mac = ?1 WHERE id = ?2",
                "UPDATE effects SET mac = ?1 WHERE run_id = ?3 AND position = ?4",
                "UPDATE run_notes SET mac = ?1 WHERE run_id = ?3 AND seq = ?4"};
            tj_stmt *st;
            if (!(st = db_prepare(j, sql[r->table]))) {
                s = tj_fail_db(j, "seal");
                break;
            }
            db_bind_text(st, 1, r->mac);
            if (r->table < 2) db_bind_text(st, 2, r->id);
            if (r->table >= 2) {
                db_bind_text(st, 3, run_id);
                db_bind_int(st, 4, r->position);
            }
            s = tj_step_done(j, st, "seal");
        }
        chain_prev(prev, r->mac);
    }
    if (s == TX_OK) {
        char head[65];
        head_of(j, run_id, c.n, prev, head);
        tj_stmt *st;
        if (!(st = db_prepare(j, "UPDATE runs SET chain_head = ? WHERE id = ?")))
            s = tj_fail_db(j, "seal");
        else {
            db_bind_text(st, 1, head);
            db_bind_text(st, 2, run_id);
            s = tj_step_done(j, st, "seal");
        }
    }
    if (c.rows) chain_free(&c);
    if (s == TX_OK) s = tj_commit(j);
    if (s != TX_OK) j->be->rollback(j->db);
    return s;
}

/* A write between seal_begin and seal_commit that failed: undo it. */
tx_status tj_seal_abort(tj_journal *j, tx_status s)
{
    j->be->rollback(j->db);
    return s;
}

tx_status tj_run_verify(tj_journal *j, const char *tenant, const char *run_id)
{
    tj_run r;
    tx_status s = tj_run_get(j, tenant, run_id, &r);
    if (s != TX_OK) return s;
    tj_run_free(&r);
    chain c;
    s = chain_load(j, run_id, &c);
    if (s != TX_OK) return s;
    s = chain_check(j, run_id, &c, true);
    chain_free(&c);
    return s;
}
