/*
 * cf_trust.c - which project files the user trusts (`tactus trust`), and
 * the host's .env files.
 *
 * A project's .tactus/config.yml, FILE.tac.yml and .env travel with the
 * procedure and sit in the folder the sandbox may write, so the host obeys
 * them only when the user recorded their exact content: trusted.json in the
 * user's configuration folder maps each file's realpath to the SHA-256 of
 * its bytes (like direnv's `allow`). A changed file is untrusted again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "hostlib.h"

#define TRUST_MAX_FILE (4u * 1024u * 1024u)

bool cf_user_dir(char *out, size_t cap)
{
    return hl_xdg_path("XDG_CONFIG_HOME", ".config", ".", "", out, cap);
}

static bool trust_file_path(char *out, size_t cap)
{
    char dir[PATH_MAX];
    if (!cf_user_dir(dir, sizeof dir)) return false;
    snprintf(out, cap, "%s/trusted.json", dir);
    return true;
}

/* The store, or an empty one. A store that others may write is ignored:
 * it could trust anything. */
static cJSON *trust_load(void)
{
    char path[PATH_MAX + 32];
    cJSON *doc = NULL;
    if (trust_file_path(path, sizeof path)) {
        struct stat sb;
        if (stat(path, &sb) == 0 && sb.st_uid == geteuid() && !(sb.st_mode & 022)) {
            char *text;
            size_t len;
            int e;
            if (tx_read_file(path, TRUST_MAX_FILE, &text, &len, &e) == TX_OK) {
                doc = cJSON_ParseWithLength(text, len);
                tx_free(text);
            }
        }
    }
    if (!cJSON_IsObject(doc) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "files"))) {
        cJSON_Delete(doc);
        doc = cJSON_CreateObject();
        cJSON_AddNumberToObject(doc, "version", 1);
        cJSON_AddObjectToObject(doc, "files");
    }
    return doc;
}

bool cf_trust_matches(const char *real, const char *text, size_t len)
{
    cJSON *doc = trust_load();
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "files"), real);
    char hex[65];
    hl_sha256_hex(text, len, hex);
    bool ok = cJSON_IsString(h) && strcmp(h->valuestring, hex) == 0;
    cJSON_Delete(doc);
    return ok;
}

cJSON *cf_trust_entries(void)
{
    cJSON *doc = trust_load();
    cJSON *files = cJSON_DetachItemFromObjectCaseSensitive(doc, "files");
    cJSON_Delete(doc);
    return files;
}

tx_status cf_trust_update(const char *const *reals, size_t n, bool revoke, char *err, size_t cap)
{
    char dir[PATH_MAX], path[PATH_MAX + 32], tmp[PATH_MAX + 64];
    if (!cf_user_dir(dir, sizeof dir) || !trust_file_path(path, sizeof path)) {
        snprintf(err, cap, "neither XDG_CONFIG_HOME nor HOME is set: no place for trusted.json");
        return TX_EINVAL;
    }
    cJSON *doc = trust_load();
    cJSON *files = cJSON_GetObjectItemCaseSensitive(doc, "files");
    for (size_t i = 0; i < n; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(files, reals[i]);
        if (revoke) continue;
        char hex[65];
        char *text;
        size_t len;
        int e;
        tx_status rs = tx_read_file(reals[i], TRUST_MAX_FILE, &text, &len, &e);
        if (rs != TX_OK) {
            snprintf(err, cap, "%s: cannot read: %s", reals[i], e ? strerror(e) : tx_status_str(rs));
            cJSON_Delete(doc);
            return TX_EIO;
        }
        hl_sha256_hex(text, len, hex);
        tx_free(text);
        cJSON_AddStringToObject(files, reals[i], hex);
    }
    char *out = cJSON_Print(doc);
    cJSON_Delete(doc);
    if (!out) return TX_ENOMEM;
    /* Atomic: a new file beside the old one, synced, then renamed over it. */
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = -1;
    bool ok = hl_make_dirs(dir);
    if (ok) {
        unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        ok = fd >= 0;
    }
    size_t len = strlen(out);
    if (ok) ok = write(fd, out, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) ok = false;
    if (ok) ok = rename(tmp, path) == 0;
    int e = errno;
    tx_free(out);
    if (!ok) {
        unlink(tmp);
        snprintf(err, cap, "cannot write %s: %s", path, strerror(e));
        return TX_EIO;
    }
    return TX_OK;
}

/* ---- .env ------------------------------------------------------------------------------------------ */

static void env_file(const char *path, bool project, char seen[][PATH_MAX], size_t *n_seen,
                     FILE *warn)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) return;
    for (size_t i = 0; i < *n_seen; i++)
        if (strcmp(seen[i], real) == 0) return;
    snprintf(seen[(*n_seen)++], PATH_MAX, "%s", real);
    char *text;
    size_t len;
    int e;
    if (tx_read_file(real, 1u << 20, &text, &len, &e) != TX_OK) return;
    if (project && !cf_trust_matches(real, text, len)) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", real);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        if (warn)
            fprintf(warn,
                    "tactus: warning: %s is not trusted, its keys were not loaded: put keys in "
                    "~/.config/tactus/.env, or run `tactus trust %s` to trust this file\n",
                    real, *dir ? dir : "/");
        tx_free(text);
        return;
    }
    cf_dotenv_apply(text);
    tx_free(text);
}

void cf_env_files_load(const char *procedure_path, FILE *warn)
{
    char seen[8][PATH_MAX];
    size_t n = 0;
    char dir[PATH_MAX], p[PATH_MAX + 16];
    if (cf_user_dir(dir, sizeof dir)) {
        snprintf(p, sizeof p, "%s/.env.local", dir);
        env_file(p, false, seen, &n, warn);
        snprintf(p, sizeof p, "%s/.env", dir);
        env_file(p, false, seen, &n, warn);
    }
    env_file(".env.local", true, seen, &n, warn);
    env_file(".env", true, seen, &n, warn);
    snprintf(dir, sizeof dir, "%s", procedure_path ? procedure_path : ".");
    char *slash = strrchr(dir, '/');
    if (!slash) return;
    *slash = '\0';
    snprintf(p, sizeof p, "%s/.env.local", dir);
    env_file(p, true, seen, &n, warn);
    snprintf(p, sizeof p, "%s/.env", dir);
    env_file(p, true, seen, &n, warn);
}
