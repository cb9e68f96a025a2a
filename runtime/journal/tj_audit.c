/*
 * tj_audit.c - the audit log in the store: one record per brokered call and
 * per answer, with its tenant, so that workers on many machines write one
 * log and `tactus audit` reads it wherever it runs. (A SQLite store's runs
 * keep their audit.jsonl beside the file, as before: docs/durability.md.)
 */
#include <string.h>

#include "tj_internal.h"

/* A record is committed without waiting for the disk where the store
 * allows it, as audit.jsonl beside a SQLite store is appended without an
 * fsync: it is a log of what the broker did, not the journal a run is
 * resumed from, and a second durable commit per effect would double an
 * effect's cost (bench/pg). The whole append is one round trip. */
tx_status tj_audit_append(tj_journal *j, const char *tenant, const cJSON *record)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(record, "run");
    if (tj_begin_relaxed_write(j, "append to the audit log") != TX_OK) return TX_EIO;
    tx_status s = TX_OK;
    tj_stmt *st;
    if (!(st = db_prepare(j, "INSERT INTO audit_log (tenant, run_id, created_ms, record) VALUES (?, ?, ?, ?)")))
        s = tj_fail_db(j, "append to the audit log");
    if (s == TX_OK) {
        db_bind_text(st, 1, tenant);
        db_bind_text(st, 2, cJSON_IsString(run) ? run->valuestring : "");
        db_bind_int(st, 3, tj_now_ms());
        tj_bind_json(st, 4, record);
        s = tj_step_later(j, st, "append to the audit log");
    }
    if (s == TX_OK) s = tj_commit(j);
    if (s != TX_OK) j->be->rollback(j->db);
    return s;
}

tx_status tj_audit_list(tj_journal *j, const char *tenant, const char *run_id, cJSON **out)
{
    *out = cJSON_CreateArray();
    tj_stmt *st = db_prepare(j, "SELECT record FROM audit_log WHERE tenant = ? AND run_id = ? "
                                "ORDER BY seq");
    if (!st) return tj_fail_db(j, "read the audit log");
    db_bind_text(st, 1, tenant);
    db_bind_text(st, 2, run_id);
    static const tj_col cols[] = {{"record", TJ_COL_JSON}};
    cJSON *rows = cJSON_CreateArray();
    tx_status s = tj_rows_to_json(j, st, cols, 1, rows, "read the audit log");
    cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        cJSON *rec = cJSON_DetachItemFromObjectCaseSensitive(row, "record");
        if (rec) cJSON_AddItemToArray(*out, rec);
    }
    cJSON_Delete(rows);
    return s;
}
