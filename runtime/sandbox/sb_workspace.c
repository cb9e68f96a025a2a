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
                              int *count, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) return TX_OK; /* nothing readable to protect */
    tx_status st = TX_OK;
    struct dirent *de;
    while (st == TX_OK && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        char host[PATH_MAX], inside[PATH_MAX];
        snprintf(host, sizeof host, "%s/%s", dir, de->d_name);
        snprintf(inside, sizeof inside, "%s/%s", target, de->d_name);
        struct stat sb;
        if (lstat(host, &sb) != 0 || S_ISLNK(sb.st_mode)) continue;
        bool is_dir = S_ISDIR(sb.st_mode);
        int kind = protected_kind(dir, de->d_name, is_dir);
        if (kind == 0) {
            if (is_dir && depth < SB_PROTECT_DEPTH)
                st = sb_protect_tree(l, host, inside, depth + 1, count, err, errlen);
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

