/*
 * tj_schema.c - the journal's one schema, on every backend, and its
 * versioned migrations (docs/durability.md, "Storage").
 *
 * The version of a store is the highest row of its `schema_version` table
 * (a SQLite file made before that table existed keeps its version in
 * PRAGMA user_version, 0 or 1). Each migration runs once, in order, in one
 * transaction with the row that records it, so a store is at one version or
 * the next, never between. A store of a newer version than this tactus
 * knows is refused before anything is written: an older tactus could
 * misread what a newer one wrote.
 *
 * SQLite (an embedded file, one user) is migrated when it is opened, as it
 * always was. PostgreSQL is shared by many workers that may run different
 * builds during a rollout, so it is migrated only by `tactus store migrate`,
 * under an advisory lock; opening an older one says so.
 */
#include <stdio.h>
#include <string.h>

#include "tj_internal.h"

typedef struct {
    int version;
    const char *what;
    const char *sqlite; /* NULL: the same as pg */
    const char *pg;
} migration;

/* Version 1: runs, effects, human requests and notes, every row sealed
 * (SQLite files of version 0 had no seals: their rows get empty ones and
 * are refused on resume, never sealed after the fact). */
static const char v1_sqlite[] =
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
    "CREATE INDEX IF NOT EXISTS pending_by_tenant ON human_requests (tenant, status, created_ms);"
    "CREATE TABLE IF NOT EXISTS run_notes ("
    "  run_id TEXT NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL, kind TEXT NOT NULL,"
    "  detail TEXT NOT NULL, created_ms INTEGER NOT NULL, mac TEXT, PRIMARY KEY (run_id, seq));"
    "ALTER TABLE runs ADD COLUMN mac TEXT;"
    "ALTER TABLE runs ADD COLUMN chain_head TEXT;"
    "ALTER TABLE effects ADD COLUMN mac TEXT;"
    "ALTER TABLE human_requests ADD COLUMN mac TEXT;";

static const char v1_pg[] =
    "CREATE TABLE runs ("
    "  id TEXT PRIMARY KEY, tenant TEXT NOT NULL, procedure_path TEXT NOT NULL,"
    "  source_sha256 TEXT NOT NULL, source TEXT NOT NULL, inputs TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('running','waiting','completed','failed')),"
    "  output TEXT, error TEXT, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,"
    "  mac TEXT, chain_head TEXT);"
    "CREATE INDEX runs_by_tenant ON runs (tenant, created_ms);"
    "CREATE TABLE effects ("
    "  run_id TEXT NOT NULL REFERENCES runs(id), position BIGINT NOT NULL,"
    "  kind TEXT NOT NULL, fingerprint TEXT NOT NULL, request TEXT NOT NULL,"
    "  result TEXT NOT NULL, duration_ms BIGINT NOT NULL, created_ms BIGINT NOT NULL,"
    "  mac TEXT, PRIMARY KEY (run_id, position));"
    "CREATE TABLE human_requests ("
    "  id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id), tenant TEXT NOT NULL,"
    "  position BIGINT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL,"
    "  request TEXT NOT NULL, deadline_ms BIGINT NOT NULL, default_value TEXT,"
    "  status TEXT NOT NULL CHECK (status IN ('pending','answered','timed_out')),"
    "  answer TEXT, answered_by TEXT, answered_ms BIGINT, request_hash TEXT NOT NULL,"
    "  created_ms BIGINT NOT NULL, mac TEXT, UNIQUE (run_id, position));"
    "CREATE INDEX pending_by_tenant ON human_requests (tenant, status, created_ms);"
    "CREATE TABLE run_notes ("
    "  run_id TEXT NOT NULL REFERENCES runs(id), seq BIGINT NOT NULL, kind TEXT NOT NULL,"
    "  detail TEXT NOT NULL, created_ms BIGINT NOT NULL, mac TEXT, PRIMARY KEY (run_id, seq));";

/* Version 2: the run queue (tactus submit / worker: a lease per claimed
 * run, with the epoch that fences a worker whose lease was taken over) and
 * the audit log in the store, both with their tenant. */
static const char v2_sqlite[] =
    "CREATE TABLE run_queue ("
    "  run_id TEXT PRIMARY KEY REFERENCES runs(id), tenant TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('ready','leased','parked','done','cancelled')),"
    "  options TEXT NOT NULL, worker TEXT, epoch INTEGER NOT NULL DEFAULT 0,"
    "  lease_until_ms INTEGER, wake_ms INTEGER, attempts INTEGER NOT NULL DEFAULT 0,"
    "  resumed INTEGER NOT NULL DEFAULT 0,"
    "  enqueued_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE INDEX run_queue_claim ON run_queue (tenant, state, enqueued_ms);"
    "CREATE TABLE audit_log ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, run_id TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL, record TEXT NOT NULL);"
    "CREATE INDEX audit_by_run ON audit_log (tenant, run_id, seq);";

static const char v2_pg[] =
    "CREATE TABLE run_queue ("
    "  run_id TEXT PRIMARY KEY REFERENCES runs(id), tenant TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('ready','leased','parked','done','cancelled')),"
    "  options TEXT NOT NULL, worker TEXT, epoch BIGINT NOT NULL DEFAULT 0,"
    "  lease_until_ms BIGINT, wake_ms BIGINT, attempts BIGINT NOT NULL DEFAULT 0,"
    "  resumed BIGINT NOT NULL DEFAULT 0,"
    "  enqueued_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL);"
    "CREATE INDEX run_queue_claim ON run_queue (tenant, state, enqueued_ms);"
    "CREATE TABLE audit_log ("
    "  seq BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, run_id TEXT NOT NULL,"
    "  created_ms BIGINT NOT NULL, record TEXT NOT NULL);"
    "CREATE INDEX audit_by_run ON audit_log (tenant, run_id, seq);";

/* Version 3: a run's streamed model output while it runs (tactus serve's
 * live deltas), already redacted. Not the journal: no seals, never read
 * on replay, capped per run and deleted after the run finished (tj_delta.c). */
static const char v3_sqlite[] =
    "CREATE TABLE run_deltas ("
    "  run_id TEXT NOT NULL, seq INTEGER NOT NULL, position INTEGER NOT NULL,"
    "  text TEXT NOT NULL, created_ms INTEGER NOT NULL, PRIMARY KEY (run_id, seq));";

static const char v3_pg[] =
    "CREATE TABLE run_deltas ("
    "  run_id TEXT NOT NULL, seq BIGINT NOT NULL, position BIGINT NOT NULL,"
    "  text TEXT NOT NULL, created_ms BIGINT NOT NULL, PRIMARY KEY (run_id, seq));";

static const migration migrations[] = {
    {1, "runs, effects, human requests and notes, every row sealed", v1_sqlite, v1_pg},
    {2, "the run queue (leases, epochs) and the audit log, with their tenant", v2_sqlite, v2_pg},
    {3, "runs' live streamed output (deltas), outside the journal", v3_sqlite, v3_pg},
};

#define LATEST ((int)(sizeof migrations / sizeof migrations[0]))

int tj_schema_latest(void)
{
    return LATEST;
}

static bool is_sqlite(const tj_journal *j)
{
    return j->be == &tj_sqlite_backend;
}

/* The store's version: the highest row of schema_version, else (SQLite)
 * PRAGMA user_version; 0 for an empty store; -1 when it cannot be read. */
static int schema_version(tj_journal *j)
{
    const char *sql = is_sqlite(j)
                          ? "SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE name = "
                            "'schema_version') THEN -2 ELSE (SELECT user_version FROM "
                            "pragma_user_version) END"
                          : "SELECT CASE WHEN to_regclass('schema_version') IS NULL THEN 0 "
                            "ELSE -2 END";
    tj_stmt *st = db_prepare(j, sql);
    if (!st) return -1;
    int v = db_step(st) == TJ_ROW ? (int)db_column_int(st, 0) : -1;
    db_finalize(st);
    if (v != -2) return v;
    st = db_prepare(j, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (!st) return -1;
    v = db_step(st) == TJ_ROW ? (int)db_column_int(st, 0) : -1;
    db_finalize(st);
    return v;
}

/* Applies every migration above `from`, recording each. Inside the
 * caller's write transaction. */
static tx_status apply(tj_journal *j, int from)
{
    if (j->be->exec(j->db, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY "
                           "KEY, description TEXT NOT NULL, applied_ms BIGINT NOT NULL)") != TX_OK)
        return tj_fail_db(j, "create schema_version");
    for (int i = 0; i < LATEST; i++) {
        const migration *m = &migrations[i];
        if (m->version <= from) {
            /* A SQLite file of version 1 made before schema_version existed. */
            if (!is_sqlite(j)) continue;
        } else if (j->be->exec(j->db, is_sqlite(j) && m->sqlite ? m->sqlite : m->pg) != TX_OK) {
            char what[96];
            snprintf(what, sizeof what, "migrate the store to schema version %d", m->version);
            return tj_fail_db(j, what);
        }
        char sql[256];
        snprintf(sql, sizeof sql, "INSERT INTO schema_version (version, description, applied_ms) "
                 "VALUES (?, ?, %s) ON CONFLICT (version) DO NOTHING", j->be->now_ms);
        tj_stmt *st = db_prepare(j, sql);
        if (!st) return tj_fail_db(j, "record the schema version");
        db_bind_int(st, 1, m->version);
        db_bind_text(st, 2, m->what);
        if (tj_step_done(j, st, "record the schema version") != TX_OK) return TX_EIO;
    }
    if (is_sqlite(j)) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", LATEST);
        if (j->be->exec(j->db, pragma) != TX_OK) return tj_fail_db(j, "record the schema version");
    }
    return TX_OK;
}

static tx_status too_new(tj_journal *j, int v)
{
    snprintf(j->err, sizeof j->err,
             "%.600s: the store has schema version %d, and this tactus knows versions up to %d: it "
             "was migrated by a newer tactus; use that version (or newer) here, since a store is "
             "never migrated back",
             j->where, v, LATEST);
    return TX_EINVAL;
}

tx_status tj_schema_ensure(tj_journal *j, bool migrate, int *before)
{
    int v = schema_version(j);
    if (before) *before = v;
    if (v < 0) return tj_fail_db(j, "read the schema version");
    if (v > LATEST) return too_new(j, v);
    if (v == LATEST) return TX_OK;
    if (!migrate) {
        snprintf(j->err, sizeof j->err,
                 "%.600s: the store is at schema version %d and this tactus needs version %d%s: run "
                 "`tactus store migrate --store URL` once (it is safe while other workers run)",
                 j->where, v, LATEST, v == 0 ? " (an empty database)" : "");
        return TX_EINVAL;
    }
    /* WAL stays with the file; it cannot be set inside a transaction. */
    if (is_sqlite(j) && j->be->exec(j->db, "PRAGMA journal_mode=WAL") != TX_OK)
        return tj_fail_db(j, "set up the journal");
    if (tj_begin_write(j) != TX_OK) return TX_EIO;
    /* Two migrations at once: the second waits here, then finds the work
     * done (PostgreSQL: an advisory lock of the transaction; SQLite's write
     * transaction already excludes the other). */
    if (!is_sqlite(j) && j->be->exec(j->db, "SELECT pg_advisory_xact_lock(7346215)") != TX_OK) {
        j->be->rollback(j->db);
        return tj_fail_db(j, "lock the schema");
    }
    v = schema_version(j);
    tx_status s = v < 0 ? tj_fail_db(j, "read the schema version") : v > LATEST ? too_new(j, v) : TX_OK;
    if (s == TX_OK && v < LATEST) s = apply(j, v);
    if (s == TX_OK) return tj_commit(j);
    j->be->rollback(j->db);
    return s;
}

tx_status tj_schema_list(tj_journal *j, cJSON **out)
{
    *out = cJSON_CreateArray();
    int v = schema_version(j);
    if (v < 0) return tj_fail_db(j, "read the schema version");
    if (v == 0) return TX_OK;
    tj_stmt *st = db_prepare(j, "SELECT version, description, applied_ms FROM schema_version "
                                "ORDER BY version");
    if (!st) {
        /* A SQLite file of version 1 from before schema_version. */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "version", v);
        cJSON_AddStringToObject(o, "description", migrations[0].what);
        cJSON_AddItemToArray(*out, o);
        return TX_OK;
    }
    tj_step rc;
    while ((rc = db_step(st)) == TJ_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "version", (double)db_column_int(st, 0));
        cJSON_AddStringToObject(o, "description", db_column_text(st, 1) ? db_column_text(st, 1) : "");
        cJSON_AddNumberToObject(o, "applied_ms", (double)db_column_int(st, 2));
        cJSON_AddItemToArray(*out, o);
    }
    db_finalize(st);
    return rc == TJ_DONE ? TX_OK : tj_fail_db(j, "read the schema versions");
}
