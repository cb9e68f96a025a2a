/*
 * tj_key.c - what seals are made with: the host's journal key (0600, the
 * user's, or a shared secret file named by $TACTUS_JOURNAL_KEY), and the
 * canonical JSON that requests are fingerprinted and rows sealed over
 * (tj_seal.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tj_internal.h"

void tj_key_path(char *out, size_t cap)
{
    /* Machines sharing a store share its key (a secret file each mounts). */
    const char *env = getenv("TACTUS_JOURNAL_KEY");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    hl_xdg_path("XDG_DATA_HOME", ".local/share", ".", "journal.key", out, cap);
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
tx_status tj_key_load(unsigned char key[32], char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    tj_key_path(path, sizeof path);
    tj_make_parent(path);
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
