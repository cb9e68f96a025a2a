/*
 * sb_workspace.c - the procedure's folder as the container sees it: the
 * files the host reads (.tactus/, *.tac, sidecars, .env*) mounted read-only
 * or masked, and the quota on what File.write may write in a run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sb_internal.h"

double sb_workspace_quota(const cJSON *config)
{
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(cf_get(config, "sandbox"),
                                                      "workspace_quota");
    if (cJSON_IsNumber(q) && q->valuedouble > 0) return q->valuedouble;
    if (!cJSON_IsString(q) || !sb_valid_size(q->valuestring)) return 0; /* the runtime's default */
    char *end;
    double v = strtod(q->valuestring, &end);
    switch (*end) {
    case 'k': case 'K': v *= 1024.0; break;
    case 'm': case 'M': v *= 1024.0 * 1024.0; break;
    case 'g': case 'G': v *= 1024.0 * 1024.0 * 1024.0; break;
    default: break;
    }
    return v;
}

static bool name_ends(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

/* Is NAME in folder DIR one the host reads? 1: read-only, 2: masked (.env*). */
static int protected_kind(const char *dir, const char *name, bool is_dir)
{
    if (strncmp(name, ".env", 4) == 0) return 2;
    if (is_dir) return strcmp(name, ".tactus") == 0 ? 1 : 0;
    if (name_ends(name, ".tac") || name_ends(name, ".tac.yml")) return 1;
    if (name_ends(name, ".yml")) {
        char tac[PATH_MAX];
        struct stat sb;
        snprintf(tac, sizeof tac, "%s/%.*s.tac", dir, (int)(strlen(name) - 4), name);
        if (stat(tac, &sb) == 0) return 1;
    }
    return 0;
}

/* Adds a read-only bind (or a /dev/null / empty tmpfs mask) over every
 * protected file under `dir` (the folder mounted at `target`), the same rule
 * by name as the runtime's File layer (vm_file_protected): .tactus folders,
 * *.tac, *.tac.yml, FILE.yml beside FILE.tac, .env*. Symbolic links are left
 * alone (never followed; the runtime refuses them). Fails closed on a name the
 * --mount syntax cannot carry or on more than SB_PROTECT_MAX files. */
tx_status sb_protect_tree(sb_launch *l, const char *dir, const char *target, int depth,
                          int *count, tx_buf *ids, char *err, size_t errlen)
{
    if (depth > SB_PROTECT_DEPTH) {
        snprintf(err, errlen,
                 "%s: folders nested more than %d deep under the procedure's folder cannot be "
                 "checked for files the host reads (.tac, sidecars, .tactus, .env*); run from a "
                 "folder with a shallower tree, or move that folder out",
                 dir, SB_PROTECT_DEPTH);
        return TX_EINVAL;
    }
    DIR *d = opendir(dir);
    if (!d) return TX_OK; /* nothing readable to protect */
    tx_status st = TX_OK;
    struct dirent *de;
    while (st == TX_OK && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        char host[PATH_MAX], inside[PATH_MAX];
        if ((size_t)snprintf(host, sizeof host, "%s/%s", dir, de->d_name) >= sizeof host ||
            (size_t)snprintf(inside, sizeof inside, "%s/%s", target, de->d_name) >= sizeof inside) {
            snprintf(err, errlen,
                     "%.256s...: a path under the procedure's folder is too long to check for "
                     "files the host reads; run from a folder with a shallower tree",
                     dir);
            st = TX_EINVAL;
            break;
        }
        struct stat sb;
        if (lstat(host, &sb) != 0 || S_ISLNK(sb.st_mode)) continue;
        bool is_dir = S_ISDIR(sb.st_mode);
        int kind = protected_kind(dir, de->d_name, is_dir);
        if (kind == 0) {
            if (is_dir) st = sb_protect_tree(l, host, inside, depth + 1, count, ids, err, errlen);
            continue;
        }
        if (strpbrk(host, ",\"\n")) {
            snprintf(err, errlen,
                     "%s: a protected file's name contains ',', '\"' or a newline, which a "
                     "read-only mount cannot name; rename it",
                     host);
            st = TX_EINVAL;
            break;
        }
        if (++*count > SB_PROTECT_MAX) {
            snprintf(err, errlen,
                     "%s: more than %d protected files (.tac, sidecars, .tactus, .env*) under the "
                     "procedure's folder to mount read-only; run from a smaller folder",
                     dir, SB_PROTECT_MAX);
            st = TX_EINVAL;
            break;
        }
        char id[48];
        snprintf(id, sizeof id, "%llx:%llx\n", (unsigned long long)sb.st_dev,
                 (unsigned long long)sb.st_ino);
        tx_buf_puts(ids, id);
        char arg[PATH_MAX * 2 + 64];
        if (kind == 2 && is_dir)
            snprintf(arg, sizeof arg, "--mount=type=tmpfs,target=%s,tmpfs-size=4096,tmpfs-mode=0500",
                     inside);
        else if (kind == 2)
            snprintf(arg, sizeof arg, "--mount=type=bind,source=/dev/null,target=%s,readonly",
                     inside);
        else
            snprintf(arg, sizeof arg, "--mount=type=bind,source=%s,target=%s,readonly", host,
                     inside);
        st = sb_argv_push(l, arg);
    }
    closedir(d);
    return st;
}

/* ---- the workspace and the host's own files ---------------------------------------------------- */

/* Whether folder `outer` is `inner` or holds it (both absolute). A
 * workspace inside one of the host's folders is harmless: the host reads
 * the files at their own level, which the procedure cannot reach. */
static bool folder_holds(const char *outer, const char *inner)
{
    size_t no = strlen(outer), ni = strlen(inner);
    if (no > 1 && outer[no - 1] == '/') no--;
    if (ni > 1 && inner[ni - 1] == '/') ni--;
    if (no > ni || strncmp(outer, inner, no) != 0) return false;
    return no == ni || no == 1 || inner[no] == '/';
}

/* A folder as the host sees it: its realpath when it exists, else the
 * nearest existing parent's realpath with the rest appended (so a folder
 * that a procedure would create is caught too). */
static void resolved(const char *path, char *out, size_t cap)
{
    char buf[PATH_MAX], tail[PATH_MAX] = "";
    snprintf(buf, sizeof buf, "%s", path);
    for (;;) {
        char real[PATH_MAX];
        if (realpath(buf, real)) {
            snprintf(out, cap, "%s%s", strcmp(real, "/") == 0 && tail[0] ? "" : real, tail);
            return;
        }
        char *slash = strrchr(buf, '/');
        if (!slash || slash == buf) break;
        char t[PATH_MAX];
        snprintf(t, sizeof t, "%s%s", slash, tail);
        snprintf(tail, sizeof tail, "%s", t);
        *slash = '\0';
    }
    snprintf(out, cap, "%s", path);
}

tx_status sb_check_workspace(const char *workspace, const sb_host_place *also, size_t n_also, char *err,
                             size_t cap)
{
    enum { MAX_PLACES = 16 };
    char host[MAX_PLACES][PATH_MAX];
    const char *what[MAX_PLACES];
    int n = 0;
    if (cf_user_dir(host[n], sizeof host[n])) what[n++] = "configuration";
    snprintf(host[n], sizeof host[n], "/etc/tactus");
    what[n++] = "system configuration";
    if (hl_xdg_path("XDG_DATA_HOME", ".local/share", ".", "", host[n], sizeof host[n]))
        what[n++] = "journal and its key";
    /* Files the host reads wherever the environment puts them: a procedure
     * that could write the tokens file would mint itself a token. */
    static const char *const env_files[][2] = {{"TACTUS_TOKENS", "API tokens"}, {"TACTUS_AUDIT", "audit log"}};
    for (size_t i = 0; i < sizeof env_files / sizeof env_files[0]; i++) {
        const char *v = getenv(env_files[i][0]);
        if (!v || !*v) continue;
        snprintf(host[n], sizeof host[n], "%s", v);
        what[n++] = env_files[i][1];
    }
    for (size_t i = 0; i < n_also && n < MAX_PLACES; i++) {
        if (!also[i].path || !*also[i].path) continue;
        snprintf(host[n], sizeof host[n], "%s", also[i].path);
        what[n++] = also[i].what;
    }
    char ws[PATH_MAX];
    resolved(workspace, ws, sizeof ws);
    for (int i = 0; i < n; i++) {
        char h[PATH_MAX];
        resolved(host[i], h, sizeof h);
        if (!folder_holds(ws, h)) continue;
        snprintf(err, cap,
                 "the procedure's folder %s holds tactus's own %s (%s): a procedure may write in "
                 "its folder, so it could change what the host obeys or keeps; nothing was run. "
                 "Move the procedure into a folder of its own",
                 ws, what[i], h);
        return TX_EINVAL;
    }
    return TX_OK;
}

