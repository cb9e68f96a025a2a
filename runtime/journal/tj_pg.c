/*
 * tj_pg.c - the journal on PostgreSQL through libpq (tj_backend.h): a store
 * many machines share (`--store postgres://...`). Never a hand-written
 * protocol: every byte on the wire is libpq's.
 *
 * Statements are the journal's SQL with `?`/`?N` turned into `$N`, sent
 * with PQexecParams and typed parameters (text, int8), results in text
 * format. Transactions run at READ COMMITTED; the journal locks the rows a
 * change depends on (SELECT ... FOR UPDATE), so two writers of one run
 * queue and writers of different runs do not wait for each other.
 *
 * A connection that broke (the server restarted) is reset at the next
 * statement outside a transaction; inside one, the statement fails and the
 * transaction is lost, as it must be.
 *
 * Messages name the store by its URL with the password masked
 * (tj_store_display): libpq's own messages never include it.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tj_internal.h"

#define PG_MAX_PARAMS 32
#define PG_TEXTOID 25
#define PG_INT8OID 20

#define PG_MAX_DEFERRED 8

struct tj_db {
    PGconn *conn;
    bool in_tx;
    /* BEGIN not sent yet: it goes with the transaction's first statement,
     * in one round trip (libpq's pipeline mode). */
    bool begin_pending;
    /* Statements whose results nobody reads, sent with the COMMIT. */
    struct pg_stmt *deferred[PG_MAX_DEFERRED];
    int n_deferred;
    long changes;
    char err[1024];
};

typedef struct pg_stmt {
    tj_stmt base;
    tj_db *db;
    char *sql;
    int nparams;
    char *vals[PG_MAX_PARAMS];
    Oid types[PG_MAX_PARAMS];
    PGresult *res;
    int row, nrows;
    bool executed;
} pg_stmt;

static void set_err(tj_db *d, const char *what, const char *msg)
{
    snprintf(d->err, sizeof d->err, "%s%s%s", what, *what ? ": " : "", msg ? msg : "?");
    size_t n = strlen(d->err);
    while (n && (d->err[n - 1] == '\n' || d->err[n - 1] == ' ')) d->err[--n] = '\0';
    for (char *p = d->err; *p; p++)
        if (*p == '\n' || *p == '\t') *p = ' ';
}

/* libpq's notices (CREATE ... IF NOT EXISTS, and the like) are not ours to print. */
static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* The connection, reset if it broke while no transaction was open (the
 * server restarted: a worker carries on once it is back). */
static bool usable(tj_db *d)
{
    if (PQstatus(d->conn) == CONNECTION_OK) return true;
    if (d->in_tx) {
        set_err(d, "the connection to the store was lost in a transaction", PQerrorMessage(d->conn));
        return false;
    }
    PQreset(d->conn);
    if (PQstatus(d->conn) == CONNECTION_OK) return true;
    set_err(d, "the connection to the store was lost", PQerrorMessage(d->conn));
    return false;
}

static tx_status pg_open(const char *url, tj_db **out, char *err, size_t errlen)
{
    *out = NULL;
    char shown[1024];
    tj_store_display(url, shown, sizeof shown);
    tj_db *d = tx_calloc(1, sizeof *d);
    if (!d) return TX_ENOMEM;
    /* The URL's own settings win (keywords after it would override it). */
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {"10", "tactus", url, NULL};
    d->conn = PQconnectdbParams(keys, vals, 1);
    if (!d->conn || PQstatus(d->conn) != CONNECTION_OK) {
        set_err(d, "", d->conn ? PQerrorMessage(d->conn) : "out of memory");
        const char *msg = d->err;
        snprintf(err, errlen,
                 "%s: cannot connect to the store: %s (expected a reachable PostgreSQL server "
                 "and valid credentials: check the host, port, database, user and password of "
                 "--store, $TACTUS_STORE or journal.url; a password left out of the URL is "
                 "taken from ~/.pgpass, the file $PGPASSFILE names, or $PGPASSWORD)",
                 shown, msg);
        PQfinish(d->conn);
        tx_free(d);
        return TX_EIO;
    }
    PQsetNoticeProcessor(d->conn, quiet_notice, NULL);
    *out = d;
    return TX_OK;
}

static void pg_close(tj_db *d)
{
    if (!d) return;
    PQfinish(d->conn);
    tx_free(d);
}

static tx_status run_simple(tj_db *d, const char *sql)
{
    if (!usable(d)) return TX_EIO;
    if (d->begin_pending) {
        d->begin_pending = false;
        if (run_simple(d, "BEGIN") != TX_OK) return TX_EIO;
    }
    PGresult *r = PQexec(d->conn, sql);
    ExecStatusType s = PQresultStatus(r);
    tx_status st = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? TX_OK : TX_EIO;
    if (st != TX_OK) set_err(d, "", PQresultErrorMessage(r));
    PQclear(r);
    return st;
}

static tx_status pg_exec(tj_db *d, const char *sql)
{
    return run_simple(d, sql);
}

static void pg_finalize(tj_stmt *st);

static void drop_deferred(tj_db *d)
{
    for (int i = 0; i < d->n_deferred; i++) pg_finalize(&d->deferred[i]->base);
    d->n_deferred = 0;
}

/* Sends `before` (a command, or NULL), the statements, then `after` (or
 * NULL) in one round trip (pipeline mode), and reads every result. The
 * result of `keep` (one of the statements, or NULL) stays in it for its
 * rows. On PostgreSQL a statement that fails makes the server skip the rest
 * up to the sync, so the first failure is the one reported. */
static tx_status pipeline(tj_db *d, const char *before, pg_stmt **stmts, int n, const char *after,
                          pg_stmt *keep)
{
    if (!PQenterPipelineMode(d->conn)) {
        set_err(d, "", PQerrorMessage(d->conn));
        return TX_EIO;
    }
    int sent = 0;
    bool ok = true;
    if (before) {
        ok = PQsendQueryParams(d->conn, before, 0, NULL, NULL, NULL, NULL, 0) == 1;
        sent++;
    }
    for (int i = 0; ok && i < n; i++, sent++)
        ok = PQsendQueryParams(d->conn, stmts[i]->sql, stmts[i]->nparams, stmts[i]->types,
                               (const char *const *)stmts[i]->vals, NULL, NULL, 0) == 1;
    if (ok && after) {
        ok = PQsendQueryParams(d->conn, after, 0, NULL, NULL, NULL, NULL, 0) == 1;
        sent++;
    }
    tx_status st = TX_OK;
    if (!ok || PQpipelineSync(d->conn) != 1) {
        set_err(d, "", PQerrorMessage(d->conn));
        st = TX_EIO;
    }
    /* Every query's result, then the sync's; after a failure, "aborted". */
    for (int i = 0; st == TX_OK && i < sent; i++) {
        PGresult *r = PQgetResult(d->conn);
        ExecStatusType rs = PQresultStatus(r);
        pg_stmt *which = before ? (i == 0 ? NULL : i - 1 < n ? stmts[i - 1] : NULL)
                                : (i < n ? stmts[i] : NULL);
        if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
            set_err(d, "", rs == PGRES_PIPELINE_ABORTED ? "a statement before it failed"
                                                        : PQresultErrorMessage(r));
            st = TX_EIO;
        } else {
            d->changes = atol(PQcmdTuples(r));
        }
        if (which && which == keep) {
            PQclear(keep->res);
            keep->res = r;
            keep->nrows = rs == PGRES_TUPLES_OK ? PQntuples(r) : 0;
            keep->row = -1;
        } else {
            PQclear(r);
        }
        PQclear(PQgetResult(d->conn)); /* the NULL that ends a query's results */
    }
    /* Drain whatever is left (after a failure) up to the sync. */
    for (int guard = 0; guard < 4 * (sent + 2); guard++) {
        PGresult *r = PQgetResult(d->conn);
        if (!r) continue;
        ExecStatusType rs = PQresultStatus(r);
        PQclear(r);
        if (rs == PGRES_PIPELINE_SYNC) break;
    }
    if (!PQexitPipelineMode(d->conn) && st == TX_OK) {
        set_err(d, "", PQerrorMessage(d->conn));
        st = TX_EIO;
    }
    return st;
}

static tx_status pg_begin_write(tj_db *d)
{
    drop_deferred(d);
    d->in_tx = false;
    d->begin_pending = false;
    if (!usable(d)) return TX_EIO;
    d->begin_pending = d->in_tx = true;
    return TX_OK;
}

static tx_status pg_commit(tj_db *d)
{
    tx_status s = TX_OK;
    if (d->begin_pending && d->n_deferred) {
        /* The whole transaction in one round trip. */
        s = usable(d) ? pipeline(d, "BEGIN", d->deferred, d->n_deferred, "COMMIT", NULL) : TX_EIO;
        drop_deferred(d);
    } else if (d->begin_pending) {
        /* Nothing was sent: nothing to commit. */
    } else if (d->n_deferred) {
        if (!usable(d)) s = TX_EIO;
        else s = pipeline(d, NULL, d->deferred, d->n_deferred, "COMMIT", NULL);
        drop_deferred(d);
    } else {
        s = run_simple(d, "COMMIT");
    }
    d->begin_pending = false;
    d->in_tx = false;
    return s;
}

static void pg_rollback(tj_db *d)
{
    drop_deferred(d);
    if (!d->begin_pending && PQstatus(d->conn) == CONNECTION_OK) {
        PGresult *r = PQexec(d->conn, "ROLLBACK");
        PQclear(r);
    }
    d->begin_pending = false;
    d->in_tx = false;
}

/* A statement whose result nobody reads: sent with the COMMIT (one round
 * trip for the rest of an append); a failure fails the commit. */
static tx_status pg_defer(tj_stmt *st)
{
    pg_stmt *s = (pg_stmt *)st;
    tj_db *d = s->db;
    if (!d->in_tx || d->n_deferred == PG_MAX_DEFERRED) {
        tj_step r = tj_pg_backend.step(st);
        pg_finalize(st);
        return r == TJ_FAIL ? TX_EIO : TX_OK;
    }
    d->deferred[d->n_deferred++] = s;
    return TX_OK;
}

/* `?` -> `$1, $2, ...` in order, `?N` -> `$N`; quoted text is left alone. */
static char *translate(const char *sql, int *nparams)
{
    size_t n = strlen(sql);
    char *out = tx_malloc(n * 4 + 1);
    if (!out) return NULL;
    size_t o = 0;
    int seq = 0, max = 0;
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        char c = sql[i];
        if (c == '\'') quoted = !quoted;
        if (c != '?' || quoted) {
            out[o++] = c;
            continue;
        }
        int k;
        if (sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            k = 0;
            while (sql[i + 1] >= '0' && sql[i + 1] <= '9') k = k * 10 + (sql[++i] - '0');
        } else {
            k = ++seq;
        }
        if (k > max) max = k;
        o += (size_t)snprintf(out + o, 8, "$%d", k);
    }
    out[o] = '\0';
    *nparams = max;
    return out;
}

static tj_stmt *pg_prepare(tj_db *d, const char *sql)
{
    pg_stmt *s = tx_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->sql = translate(sql, &s->nparams);
    if (!s->sql || s->nparams > PG_MAX_PARAMS) {
        set_err(d, "prepare", "too many parameters");
        tx_free(s->sql);
        tx_free(s);
        return NULL;
    }
    for (int i = 0; i < PG_MAX_PARAMS; i++) s->types[i] = PG_TEXTOID;
    s->base.be = &tj_pg_backend;
    s->db = d;
    return &s->base;
}

static void set_param(pg_stmt *s, int i, const char *text, Oid type)
{
    if (i < 1 || i > s->nparams) return;
    tx_free(s->vals[i - 1]);
    s->vals[i - 1] = text ? tx_strdup(text) : NULL;
    s->types[i - 1] = type;
}

static void pg_bind_text(tj_stmt *st, int i, const char *text)
{
    /* SQL NULL takes the type its place in the statement gives it. */
    set_param((pg_stmt *)st, i, text, text ? PG_TEXTOID : 0);
}

static void pg_bind_int(tj_stmt *st, int i, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    set_param((pg_stmt *)st, i, buf, PG_INT8OID);
}

static tj_step pg_step(tj_stmt *st)
{
    pg_stmt *s = (pg_stmt *)st;
    if (!s->executed && s->db->begin_pending) {
        /* The transaction's first statement: BEGIN goes with it. */
        s->executed = true;
        s->db->begin_pending = false;
        if (!usable(s->db)) return TJ_FAIL;
        if (pipeline(s->db, "BEGIN", &s, 1, NULL, s) != TX_OK) return TJ_FAIL;
    }
    if (!s->executed) {
        s->executed = true;
        if (!usable(s->db)) return TJ_FAIL;
        s->res = PQexecParams(s->db->conn, s->sql, s->nparams, s->types,
                              (const char *const *)s->vals, NULL, NULL, 0);
        ExecStatusType rs = PQresultStatus(s->res);
        if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
            set_err(s->db, "", PQresultErrorMessage(s->res));
            return TJ_FAIL;
        }
        s->db->changes = atol(PQcmdTuples(s->res));
        s->nrows = rs == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
        s->row = -1;
    }
    if (!s->res) return TJ_FAIL;
    if (s->row + 1 < s->nrows) {
        s->row++;
        return TJ_ROW;
    }
    return TJ_DONE;
}

static tj_kind pg_column_kind(tj_stmt *st, int i)
{
    pg_stmt *s = (pg_stmt *)st;
    if (s->row < 0 || s->row >= s->nrows || PQgetisnull(s->res, s->row, i)) return TJ_NULL;
    Oid t = PQftype(s->res, i);
    return t == 20 || t == 21 || t == 23 ? TJ_INTEGER : TJ_TEXT;
}

static const char *pg_column_text(tj_stmt *st, int i)
{
    pg_stmt *s = (pg_stmt *)st;
    if (s->row < 0 || s->row >= s->nrows || i >= PQnfields(s->res) || PQgetisnull(s->res, s->row, i))
        return NULL;
    return PQgetvalue(s->res, s->row, i);
}

static long long pg_column_int(tj_stmt *st, int i)
{
    const char *t = pg_column_text(st, i);
    return t ? strtoll(t, NULL, 10) : 0;
}

static void pg_finalize(tj_stmt *st)
{
    if (!st) return;
    pg_stmt *s = (pg_stmt *)st;
    PQclear(s->res);
    for (int i = 0; i < PG_MAX_PARAMS; i++) tx_free(s->vals[i]);
    tx_free(s->sql);
    tx_free(s);
}

static long pg_changes(tj_db *d)
{
    return d->changes;
}

static const char *pg_error(tj_db *d)
{
    return d->err[0] ? d->err : PQerrorMessage(d->conn);
}

static tx_status pg_notify(tj_db *d, const char *channel, const char *payload)
{
    tj_stmt *st = pg_prepare(d, "SELECT pg_notify(?, ?)");
    if (!st) return TX_EIO;
    pg_bind_text(st, 1, channel);
    pg_bind_text(st, 2, payload);
    tx_status s = pg_step(st) == TJ_ROW ? TX_OK : TX_EIO;
    pg_finalize(st);
    return s;
}

static tx_status pg_listen(tj_db *d, const char *channel)
{
    char *q = PQescapeIdentifier(d->conn, channel, strlen(channel));
    if (!q) {
        set_err(d, "listen", PQerrorMessage(d->conn));
        return TX_EIO;
    }
    char sql[256];
    snprintf(sql, sizeof sql, "LISTEN %s", q);
    PQfreemem(q);
    return run_simple(d, sql);
}

/* Whether a notification is queued on the connection (consumed). */
static bool take_notifications(tj_db *d)
{
    bool any = false;
    PGnotify *n;
    while ((n = PQnotifies(d->conn)) != NULL) {
        any = true;
        PQfreemem(n);
    }
    return any;
}

static int pg_wait(tj_db *d, long timeout_ms)
{
    if (PQstatus(d->conn) != CONNECTION_OK) return -1;
    if (!PQconsumeInput(d->conn)) return -1;
    if (take_notifications(d)) return 1;
    struct pollfd p = {PQsocket(d->conn), POLLIN, 0};
    int n = poll(&p, 1, timeout_ms > 0x7fffffffL ? 0x7fffffff : (int)timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -1;
    if (n == 0) return 0;
    if (!PQconsumeInput(d->conn)) return -1;
    return take_notifications(d) ? 1 : 0;
}

static tx_status pg_try_lock(tj_db *d, const char *key)
{
    tj_stmt *st = pg_prepare(d, "SELECT pg_try_advisory_lock(hashtextextended(?, 0))");
    if (!st) return TX_EIO;
    pg_bind_text(st, 1, key);
    tx_status s = TX_EIO;
    if (pg_step(st) == TJ_ROW) s = strcmp(pg_column_text(st, 0), "t") == 0 ? TX_OK : TX_ELIMIT;
    pg_finalize(st);
    return s;
}

const tj_backend tj_pg_backend = {
    .name = "postgresql",
    .now_ms = "(extract(epoch from clock_timestamp()) * 1000)::bigint",
    .lock_rows = " FOR UPDATE",
    .share_rows = " FOR SHARE",
    .claim_rows = " FOR UPDATE SKIP LOCKED",
    .relaxed_commit = "SELECT set_config('synchronous_commit', 'off', true)",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .begin_write = pg_begin_write,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .prepare = pg_prepare,
    .bind_text = pg_bind_text,
    .bind_int = pg_bind_int,
    .step = pg_step,
    .column_kind = pg_column_kind,
    .column_text = pg_column_text,
    .column_int = pg_column_int,
    .finalize = pg_finalize,
    .changes = pg_changes,
    .error = pg_error,
    .notify = pg_notify,
    .listen = pg_listen,
    .wait = pg_wait,
    .try_lock = pg_try_lock,
    .defer = pg_defer,
};
