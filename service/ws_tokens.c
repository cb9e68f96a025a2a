/*
 * ws_tokens.c - API tokens: made, listed, revoked (`tactus tokens`) and
 * checked by the server.
 *
 * A token is "tct_" ID "_" SECRET: ID (16 hex) names its record, SECRET is
 * 32 random bytes (64 hex). The file keeps each record with the SHA-256 of
 * the whole token, never the token; a check finds the record by ID and
 * compares hashes with CRYPTO_memcmp, so the time it takes says nothing
 * about how much of a guess was right. The file is the user's own
 * configuration (0600, refused when others may read or write it): a
 * procedure cannot reach it, so it cannot mint itself a token.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hostlib.h"
#include "ws_internal.h"

#define TOKENS_FILE_CAP (8u << 20)

static const char *const role_names[] = {"viewer", "submitter", "approver", "admin"};

const char *ws_role_name(ws_role r)
{
    return (unsigned)r < 4 ? role_names[r] : NULL;
}

bool ws_role_parse(const char *name, ws_role *out)
{
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, role_names[i])) {
            *out = (ws_role)i;
            return true;
        }
    return false;
}

void ws_tokens_default_path(char *out, size_t cap)
{
    const char *env = getenv("TACTUS_TOKENS");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    if (!hl_xdg_path("XDG_CONFIG_HOME", ".config", "/etc", "tokens.json", out, cap))
        snprintf(out, cap, "tokens.json");
}

/* Refuses a file others may read or write, or that is not the user's. */
static tx_status check_private(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) return errno == ENOENT ? TX_ENOENT : TX_EIO;
    if ((st.st_mode & 077) || st.st_uid != geteuid()) {
        snprintf(err, errlen,
                 "%s: the tokens file must be the user's own and private (mode 0600): others could "
                 "read the token hashes or add a token; fix with chmod 600 %s",
                 path, path);
        return TX_EINVAL;
    }
    return TX_OK;
}

/* The records of the file (an empty array when it does not exist). */
static tx_status load_records(const char *path, cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    tx_status s = check_private(path, err, errlen);
    if (s == TX_ENOENT) {
        *out = cJSON_CreateArray();
        return *out ? TX_OK : TX_ENOMEM;
    }
    if (s != TX_OK) {
        if (s == TX_EIO) snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return s;
    }
    char *text = NULL;
    size_t len = 0;
    int e = 0;
    s = tx_read_file(path, TOKENS_FILE_CAP, &text, &len, &e);
    if (s != TX_OK) {
        snprintf(err, errlen, "%s: cannot read: %s", path, e ? strerror(e) : tx_status_str(s));
        return s;
    }
    cJSON *doc = cJSON_ParseWithLength(text, len);
    tx_free(text);
    if (!cJSON_IsArray(doc)) {
        cJSON_Delete(doc);
        snprintf(err, errlen, "%s: not a tokens file (a JSON array written by tactus tokens)", path);
        return TX_EINVAL;
    }
    *out = doc;
    return TX_OK;
}

/* Writes the records whole: a temporary file (0600), fsync, rename. */
static tx_status save_records(const char *path, const cJSON *records, char *err, size_t errlen)
{
    char tmp[4200], dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        hl_make_dirs(dir); /* the open below says what is wrong */
    }
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    char *text = cJSON_Print(records);
    if (!text) return TX_ENOMEM;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    size_t n = strlen(text);
    bool ok = fd >= 0 && write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    int e = errno;
    if (fd >= 0) close(fd);
    cJSON_free(text);
    if (!ok || rename(tmp, path) != 0) {
        if (ok) e = errno;
        unlink(tmp);
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e));
        return TX_EIO;
    }
    return TX_OK;
}

static void hex_of(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static void record_to_token(const cJSON *r, ws_token *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "%s", hl_json_str(r, "id") ? hl_json_str(r, "id") : "");
    snprintf(t->tenant, sizeof t->tenant, "%s", hl_json_str(r, "tenant") ? hl_json_str(r, "tenant") : "");
    snprintf(t->name, sizeof t->name, "%s", hl_json_str(r, "name") ? hl_json_str(r, "name") : "");
    if (!ws_role_parse(hl_json_str(r, "role"), &t->role)) t->role = WS_ROLE_VIEWER;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "created_ms");
    t->created_ms = cJSON_IsNumber(c) ? (long long)c->valuedouble : 0;
    /* Anything but an explicit false is revoked: a damaged record grants nothing. */
    t->revoked = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "revoked"));
}

tx_status ws_tokens_create(const char *path, const char *tenant, ws_role role, const char *name,
                           ws_token *rec, char *token, size_t token_cap, char *err, size_t errlen)
{
    unsigned char id_bytes[8], secret[32];
    if (token_cap < 4 + 16 + 1 + 64 + 1 || RAND_bytes(id_bytes, sizeof id_bytes) != 1 ||
        RAND_bytes(secret, sizeof secret) != 1) {
        snprintf(err, errlen, "cannot make a random token");
        return TX_EIO;
    }
    char id[17], sec[65], hash[65];
    hex_of(id_bytes, sizeof id_bytes, id);
    hex_of(secret, sizeof secret, sec);
    snprintf(token, token_cap, "tct_%s_%s", id, sec);
    hl_sha256_hex(token, strlen(token), hash);
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(sec, sizeof sec);
    cJSON *records = NULL;
    tx_status s = load_records(path, &records, err, errlen);
    if (s != TX_OK) return s;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "id", id);
    cJSON_AddStringToObject(r, "tenant", tenant);
    cJSON_AddStringToObject(r, "role", ws_role_name(role));
    cJSON_AddStringToObject(r, "name", name);
    cJSON_AddStringToObject(r, "sha256", hash);
    cJSON_AddNumberToObject(r, "created_ms", (double)hl_wall_ms());
    cJSON_AddFalseToObject(r, "revoked");
    cJSON_AddItemToArray(records, r);
    record_to_token(r, rec);
    s = save_records(path, records, err, errlen);
    cJSON_Delete(records);
    return s;
}

tx_status ws_tokens_list(const char *path, cJSON **out, char *err, size_t errlen)
{
    cJSON *records = NULL;
    tx_status s = load_records(path, &records, err, errlen);
    if (s != TX_OK) return s;
    cJSON *list = cJSON_CreateArray();
    const cJSON *r;
    cJSON_ArrayForEach(r, records)
    {
        ws_token t;
        record_to_token(r, &t);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", t.id);
        cJSON_AddStringToObject(o, "tenant", t.tenant);
        cJSON_AddStringToObject(o, "role", ws_role_name(t.role));
        cJSON_AddStringToObject(o, "name", t.name);
        cJSON_AddNumberToObject(o, "created_ms", (double)t.created_ms);
        cJSON_AddBoolToObject(o, "revoked", t.revoked);
        cJSON_AddItemToArray(list, o);
    }
    cJSON_Delete(records);
    *out = list;
    return TX_OK;
}

tx_status ws_tokens_revoke(const char *path, const char *id, char *err, size_t errlen)
{
    cJSON *records = NULL;
    tx_status s = load_records(path, &records, err, errlen);
    if (s != TX_OK) return s;
    cJSON *r, *found = NULL;
    cJSON_ArrayForEach(r, records)
        if (hl_json_str(r, "id") && !strcmp(hl_json_str(r, "id"), id)) found = r;
    if (!found) {
        snprintf(err, errlen, "no token %s in %s (tactus tokens list shows them)", id, path);
        cJSON_Delete(records);
        return TX_ENOENT;
    }
    cJSON_ReplaceItemInObjectCaseSensitive(found, "revoked", cJSON_CreateTrue());
    s = save_records(path, records, err, errlen);
    cJSON_Delete(records);
    return s;
}

/* ---- the server's keyring ------------------------------------------------------------------ */

struct ws_keyring {
    char path[4096];
    pthread_mutex_t lock;
    cJSON *records;
    struct timespec mtime;
    off_t size;
    ino_t ino;
};

/* Reloads the file when it changed since the last look (a revoke takes
 * effect at the next request). Keeps the old records when the new file
 * cannot be read, but a file made public or removed revokes everything. */
static void keyring_refresh(ws_keyring *k)
{
    struct stat st;
    if (stat(k->path, &st) != 0) {
        cJSON_Delete(k->records);
        k->records = cJSON_CreateArray();
        return;
    }
    if (st.st_mtim.tv_sec == k->mtime.tv_sec && st.st_mtim.tv_nsec == k->mtime.tv_nsec &&
        st.st_size == k->size && st.st_ino == k->ino)
        return;
    char err[512];
    cJSON *records = NULL;
    tx_status s = load_records(k->path, &records, err, sizeof err);
    if (s == TX_EINVAL) {
        cJSON_Delete(k->records);
        k->records = cJSON_CreateArray();
    } else if (s == TX_OK) {
        cJSON_Delete(k->records);
        k->records = records;
    }
    k->mtime = st.st_mtim;
    k->size = st.st_size;
    k->ino = st.st_ino;
}

tx_status ws_keyring_open(const char *path, ws_keyring **out, char *err, size_t errlen)
{
    cJSON *records = NULL;
    tx_status s = load_records(path, &records, err, errlen);
    if (s != TX_OK) return s;
    ws_keyring *k = tx_calloc(1, sizeof *k);
    if (!k) {
        cJSON_Delete(records);
        return TX_ENOMEM;
    }
    snprintf(k->path, sizeof k->path, "%s", path);
    pthread_mutex_init(&k->lock, NULL);
    k->records = records;
    struct stat st;
    if (stat(path, &st) == 0) {
        k->mtime = st.st_mtim;
        k->size = st.st_size;
        k->ino = st.st_ino;
    }
    *out = k;
    return TX_OK;
}

void ws_keyring_free(ws_keyring *k)
{
    if (!k) return;
    cJSON_Delete(k->records);
    pthread_mutex_destroy(&k->lock);
    tx_free(k);
}

/* The live record with id `id` (the lock held). */
static const cJSON *find_live(ws_keyring *k, const char *id, ws_token *out)
{
    keyring_refresh(k);
    const cJSON *r;
    cJSON_ArrayForEach(r, k->records)
    {
        const char *rid = hl_json_str(r, "id");
        if (!rid || strcmp(rid, id) != 0) continue;
        ws_token t;
        record_to_token(r, &t);
        if (t.revoked || !t.tenant[0]) return NULL;
        if (out) *out = t;
        return r;
    }
    return NULL;
}

bool ws_keyring_check(ws_keyring *k, const char *token, ws_token *out)
{
    /* tct_ + 16 hex + _ + 64 hex */
    if (!token || strlen(token) != 85 || strncmp(token, "tct_", 4) != 0 || token[20] != '_') return false;
    char id[17], hash[65];
    memcpy(id, token + 4, 16);
    id[16] = '\0';
    hl_sha256_hex(token, strlen(token), hash);
    pthread_mutex_lock(&k->lock);
    ws_token t;
    const cJSON *r = find_live(k, id, &t);
    const char *want = r ? hl_json_str(r, "sha256") : NULL;
    bool ok = want && strlen(want) == 64 && CRYPTO_memcmp(want, hash, 64) == 0;
    pthread_mutex_unlock(&k->lock);
    if (ok && out) *out = t;
    return ok;
}

bool ws_keyring_live(ws_keyring *k, const char *id, ws_token *out)
{
    pthread_mutex_lock(&k->lock);
    bool ok = find_live(k, id, out) != NULL;
    pthread_mutex_unlock(&k->lock);
    return ok;
}
