/*
 * journal.c - durable runs on SQLite. See journal.h.
 *
 * Every write is one transaction; with WAL and synchronous=FULL, COMMIT
 * returns only when the record is on disk. Statements are prepared per call:
 * the journal writes a few records per effect, and clarity beats a cache here.
 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct tj_journal {
    sqlite3 *db;
    unsigned char key[32]; /* the host's journal key: seals every run's rows */
    char err[1024];
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
    "CREATE INDEX IF NOT EXISTS pending_by_tenant ON human_requests (tenant, status, created_ms);"
    "CREATE TABLE IF NOT EXISTS run_notes ("
    "  run_id TEXT NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL, kind TEXT NOT NULL,"
    "  detail TEXT NOT NULL, created_ms INTEGER NOT NULL, mac TEXT, PRIMARY KEY (run_id, seq));";

/* Schema version 1 (PRAGMA user_version): every row of a run carries a seal,
 * mac = HMAC-SHA256(key, previous row's mac || the row's canonical bytes),
 * and the run row a head sealing how many rows there are and the last mac.
 * Rows journaled before version 1 have no mac: such runs are refused on
 * resume, never sealed after the fact (docs/durability.md). */
static const char migration_1[] = "ALTER TABLE runs ADD COLUMN mac TEXT;"
                                  "ALTER TABLE runs ADD COLUMN chain_head TEXT;"
                                  "ALTER TABLE effects ADD COLUMN mac TEXT;"
                                  "ALTER TABLE human_requests ADD COLUMN mac TEXT;"
                                  "PRAGMA user_version = 1;";

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

void tj_key_path(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(out, cap, "%s/tactus/journal.key", xdg);
    else
        snprintf(out, cap, "%s/.local/share/tactus/journal.key", home && *home ? home : ".");
}

/* Reads the existing key at `path`, refusing one that someone else could
 * read or replace: a key others can read lets them forge seals. */
static tx_status key_read(const char *path, unsigned char key[32], char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open the journal key: %s (expected a private file of 32 "
                 "bytes; remove it to have a new one made, which makes existing runs unverifiable)",
                 path, strerror(errno));
        return TX_EIO;
    }
    struct stat sb;
    tx_status s = TX_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s: the journal key is not a regular file", path);
        s = TX_EINVAL;
    } else if (sb.st_uid != geteuid()) {
        snprintf(err, errlen, "%s: the journal key is not owned by you (uid %u, you are %u); refusing "
                 "to trust it: remove it, or fix its owner", path, (unsigned)sb.st_uid, (unsigned)geteuid());
        s = TX_EINVAL;
    } else if (sb.st_mode & 077) {
        snprintf(err, errlen, "%s: the journal key is readable or writable by group or others (mode "
                 "%04o); it must be private to you: chmod 600 %s", path, (unsigned)(sb.st_mode & 07777), path);
        s = TX_EINVAL;
    } else if (read(fd, key, 32) != 32) {
        snprintf(err, errlen, "%s: the journal key is shorter than 32 bytes", path);
        s = TX_EINVAL;
    }
    close(fd);
    return s;
}

/* The host's journal key: read, or made on first use (32 random bytes,
 * written to a private temporary file then linked into place, so a second
 * process either wins the link or reads the complete key). */
static tx_status key_load(unsigned char key[32], char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    tj_key_path(path, sizeof path);
    make_parent(path);
    if (access(path, F_OK) == 0 || errno != ENOENT) return key_read(path, key, err, errlen);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    unsigned char fresh[32];
    if (fd < 0 || RAND_bytes(fresh, sizeof fresh) != 1 || fchmod(fd, 0600) != 0 ||
        write(fd, fresh, sizeof fresh) != (ssize_t)sizeof fresh || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: cannot create the journal key: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        unlink(tmp);
        return TX_EIO;
    }
    close(fd);
    int linked = link(tmp, path);
    int link_errno = errno;
    unlink(tmp);
    OPENSSL_cleanse(fresh, sizeof fresh);
    if (linked != 0 && link_errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create the journal key: %s", path, strerror(link_errno));
        return TX_EIO;
    }
    return key_read(path, key, err, errlen);
}

/* Brings the schema to the current version, once, under a write lock. */
static int migrate(sqlite3 *db, char **msg)
{
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, msg);
    if (rc != SQLITE_OK) return rc;
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    if (version < 1) rc = sqlite3_exec(db, migration_1, NULL, NULL, msg);
    sqlite3_exec(db, rc == SQLITE_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

tx_status tj_open(const char *path, tj_journal **out, char *err, size_t errlen)
{
    *out = NULL;
    tj_journal *j = tx_calloc(1, sizeof *j);
    if (!j) return TX_ENOMEM;
    make_parent(path);
    tx_status ks = key_load(j->key, err, errlen);
    if (ks != TX_OK) {
        tx_free(j);
        return ks;
    }
    /* Created private before SQLite sees it, whatever the umask: SQLite
     * gives the -wal and -shm files the database file's mode. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        fchmod(fd, 0600);
        close(fd);
    }
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
        if (rc == SQLITE_OK) rc = migrate(j->db, &msg);
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
    *out = j;
    return TX_OK;
}

void tj_close(tj_journal *j)
{
    if (!j) return;
    sqlite3_close(j->db);
    OPENSSL_cleanse(j->key, sizeof j->key);
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
static char *row_bytes(sqlite3_stmt *st, int ncols, const char *tag)
{
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateString(tag));
    for (int i = 0; i < ncols; i++) {
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_NULL: cJSON_AddItemToArray(a, cJSON_CreateNull()); break;
        case SQLITE_INTEGER:
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)sqlite3_column_int64(st, i)));
            break;
        default: cJSON_AddItemToArray(a, cJSON_CreateString((const char *)sqlite3_column_text(st, i)));
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
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK) return fail_db(j, "read seals");
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        chain_row *r = chain_push(c);
        if (!r) break;
        r->table = table;
        r->bytes = row_bytes(st, ncols, tags[table]);
        r->position = (long)sqlite3_column_int64(st, ncols);
        column_copy(st, ncols + 1, r->id, sizeof r->id);
        column_copy(st, ncols + 2, r->kind, sizeof r->kind);
        column_copy(st, ncols + 3, r->mac, sizeof r->mac);
        if (table == 0) column_copy(st, ncols + 4, c->head, sizeof c->head);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? TX_OK : fail_db(j, "read seals");
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

static tx_status exec_sql(tj_journal *j, const char *sql)
{
    return sqlite3_exec(j->db, sql, NULL, NULL, NULL) == SQLITE_OK ? TX_OK : fail_db(j, sql);
}

/* Opens the write transaction of a change to a run: after checking its
 * seals (all of them when the change re-seals rows, else the head). */
static tx_status seal_begin(tj_journal *j, const char *run_id, bool full)
{
    tx_status s = exec_sql(j, "BEGIN IMMEDIATE");
    if (s != TX_OK) return s;
    chain c;
    s = chain_load(j, run_id, &c);
    if (s == TX_OK) {
        s = chain_check(j, run_id, &c, full);
        chain_free(&c);
    }
    if (s != TX_OK) sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
    return s;
}

/* Seals the changed rows (all of them when `full`, else those without a
 * mac: the appended one) and the head, and commits. */
static tx_status seal_commit(tj_journal *j, const char *run_id, bool full)
{
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
            sqlite3_stmt *st;
            if (sqlite3_prepare_v2(j->db, sql[r->table], -1, &st, NULL) != SQLITE_OK) {
                s = fail_db(j, "seal");
                break;
            }
            sqlite3_bind_text(st, 1, r->mac, -1, SQLITE_STATIC);
            if (r->table < 2) sqlite3_bind_text(st, 2, r->id, -1, SQLITE_STATIC);
            if (r->table >= 2) {
                sqlite3_bind_text(st, 3, run_id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 4, r->position);
            }
            s = step_done(j, st, "seal");
        }
        chain_prev(prev, r->mac);
    }
    if (s == TX_OK) {
        char head[65];
        head_of(j, run_id, c.n, prev, head);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(j->db, "UPDATE runs SET chain_head = ? WHERE id = ?", -1, &st, NULL) !=
            SQLITE_OK)
            s = fail_db(j, "seal");
        else {
            sqlite3_bind_text(st, 1, head, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, run_id, -1, SQLITE_STATIC);
            s = step_done(j, st, "seal");
        }
    }
    if (c.rows) chain_free(&c);
    if (s == TX_OK) s = exec_sql(j, "COMMIT");
    if (s != TX_OK) sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
    return s;
}

/* A write between seal_begin and seal_commit that failed: undo it. */
static tx_status seal_abort(tj_journal *j, tx_status s)
{
    sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
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
    if (exec_sql(j, "BEGIN IMMEDIATE") != TX_OK) {
        sqlite3_finalize(st);
        return TX_EIO;
    }
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
    tx_status s = step_done(j, st, "create run");
    if (s != TX_OK) return seal_abort(j, s);
    return seal_commit(j, r->id, true);
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
    tx_status s = seal_begin(j, run_id, false);
    if (s != TX_OK) return s;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "INSERT INTO effects (run_id, position, kind, fingerprint, request, "
                           "result, duration_ms, created_ms) VALUES (?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return seal_abort(j, fail_db(j, "record effect"));
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, position);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, fingerprint, -1, SQLITE_STATIC);
    bind_json(st, 5, request);
    bind_json(st, 6, result);
    sqlite3_bind_int64(st, 7, duration_ms);
    sqlite3_bind_int64(st, 8, now_ms());
    s = step_done(j, st, "record effect");
    if (s != TX_OK) return seal_abort(j, s);
    return seal_commit(j, run_id, false);
}

tx_status tj_effect_set_result(tj_journal *j, const char *run_id, long position,
                               const cJSON *result)
{
    tx_status s = seal_begin(j, run_id, true);
    if (s != TX_OK) return s;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db, "UPDATE effects SET result = ? WHERE run_id = ? AND position = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return seal_abort(j, fail_db(j, "update effect"));
    bind_json(st, 1, result);
    sqlite3_bind_text(st, 2, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, position);
    s = step_done(j, st, "update effect");
    if (s == TX_OK && sqlite3_changes(j->db) == 0) s = TX_ENOENT;
    if (s != TX_OK) return seal_abort(j, s);
    return seal_commit(j, run_id, true);
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
    tx_status s = seal_begin(j, h->run_id, false);
    if (s != TX_OK) return s;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "INSERT INTO human_requests (id, run_id, tenant, position, kind, message, "
                           "request, deadline_ms, default_value, status, request_hash, created_ms) "
                           "VALUES (?,?,?,?,?,?,?,?,?,'pending',?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return seal_abort(j, fail_db(j, "record human request"));
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
    s = step_done(j, st, "record human request");
    if (s != TX_OK) return seal_abort(j, s);
    return seal_commit(j, h->run_id, false);
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
    s = seal_begin(j, run_id, true);
    if (s != TX_OK) return s;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "UPDATE human_requests SET status = ?, answer = ?, answered_by = ?, "
                           "answered_ms = ? WHERE tenant = ? AND id = ? AND request_hash = ? AND "
                           "status = 'pending'",
                           -1, &st, NULL) != SQLITE_OK)
        return seal_abort(j, fail_db(j, "answer human request"));
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    bind_json(st, 2, answer);
    sqlite3_bind_text(st, 3, who, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms());
    sqlite3_bind_text(st, 5, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, request_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, request_hash, -1, SQLITE_STATIC);
    s = step_done(j, st, "answer human request");
    if (s == TX_OK && sqlite3_changes(j->db) == 0) {
        snprintf(j->err, sizeof j->err,
                 "request %s is not pending for this tenant, or it changed since it was shown",
                 request_id);
        s = TX_EINVAL;
    }
    if (s != TX_OK) return seal_abort(j, s);
    return seal_commit(j, run_id, true);
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

tx_status tj_run_note(tj_journal *j, const char *run_id, const char *kind, const cJSON *detail)
{
    tx_status s = seal_begin(j, run_id, true);
    if (s != TX_OK) return s;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "INSERT INTO run_notes (run_id, seq, kind, detail, created_ms) VALUES "
                           "(?1, (SELECT COUNT(*) FROM run_notes WHERE run_id = ?1), ?2, ?3, ?4)",
                           -1, &st, NULL) != SQLITE_OK)
        return seal_abort(j, fail_db(j, "record a note"));
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    bind_json(st, 3, detail);
    sqlite3_bind_int64(st, 4, now_ms());
    s = step_done(j, st, "record a note");
    if (s != TX_OK) return seal_abort(j, s);
    return seal_commit(j, run_id, true);
}

tx_status tj_run_notes(tj_journal *j, const char *run_id, cJSON **out)
{
    *out = cJSON_CreateArray();
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT seq, kind, detail, created_ms FROM run_notes WHERE run_id = ? "
                           "ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(j, "list notes");
    sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "seq", (double)sqlite3_column_int64(st, 0));
        cJSON_AddStringToObject(o, "kind", (const char *)sqlite3_column_text(st, 1));
        cJSON_AddItemToObject(o, "detail", column_json(st, 2));
        cJSON_AddNumberToObject(o, "created_ms", (double)sqlite3_column_int64(st, 3));
        cJSON_AddItemToArray(*out, o);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? TX_OK : fail_db(j, "list notes");
}
