/*
 * config.c - configuration: YAML files (cf_yaml.c) merged in a cascade,
 * trusted or not (cf_trust.c), and .env files for the host (inventory G).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cf_internal.h"
#include "hostlib.h"

/* ---- merging ----------------------------------------------------------------------------------------- */

/* Records `file` as the origin of every leaf under `v` (dotted paths below
 * `path`): a mapping copied whole sets each of its keys. */
static void origin_set_all(cJSON *origins, const char *path, const cJSON *v, const char *file)
{
    if (cJSON_IsObject(v) && v->child) {
        const cJSON *c;
        cJSON_ArrayForEach(c, v)
        {
            char sub[512];
            if (snprintf(sub, sizeof sub, "%s.%s", path, c->string) >= (int)sizeof sub) continue;
            origin_set_all(origins, sub, c, file);
        }
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(origins, path);
    cJSON_AddStringToObject(origins, path, file);
}

/* Forgets the origins of `path` and of every key below it (a value of
 * another shape replaced them). */
static void origin_drop(cJSON *origins, const char *path)
{
    size_t n = strlen(path);
    for (cJSON *o = origins->child, *next; o; o = next) {
        next = o->next;
        if (strncmp(o->string, path, n) == 0 && (o->string[n] == '\0' || o->string[n] == '.'))
            cJSON_DeleteItemFromObjectCaseSensitive(origins, o->string);
    }
}

/* Whether the origin list `was` ("a.yml, b.yml") names `file` already (a
 * list extended twice by one file, or two keys whose dotted names meet,
 * "a.b" and a: {b:}, name it once). */
static bool names_file(const char *was, const char *file)
{
    size_t n = strlen(file);
    for (const char *p = was; (p = strstr(p, file)); p += n)
        if ((p == was || (p >= was + 2 && p[-2] == ',' && p[-1] == ' ')) && (p[n] == '\0' || p[n] == ','))
            return true;
    return false;
}

/* cf_merge, and with `origins` the file that set each leaf (a list
 * extended by several files names each of them). */
static void merge_traced(cJSON *base, const cJSON *over, cJSON *origins, const char *prefix,
                         const char *file)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, over)
    {
        char path[512] = "";
        bool traced = origins && snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "",
                                          item->string) < (int)sizeof path;
        cJSON *existing = cJSON_GetObjectItemCaseSensitive(base, item->string);
        if (existing && cJSON_IsObject(existing) && cJSON_IsObject(item)) {
            merge_traced(existing, item, traced ? origins : NULL, path, file);
        } else if (existing && cJSON_IsArray(existing) && cJSON_IsArray(item)) {
            const cJSON *e;
            cJSON_ArrayForEach(e, item) cJSON_AddItemToArray(existing, cJSON_Duplicate(e, 1));
            const char *was = traced ? hl_json_str(origins, path) : NULL;
            if (traced && was && !names_file(was, file) && cJSON_GetArraySize(item) > 0) {
                char both[2 * PATH_MAX + 8];
                snprintf(both, sizeof both, "%s, %s", was, file);
                origin_set_all(origins, path, item, both);
            } else if (traced && !was) {
                origin_set_all(origins, path, item, file);
            }
        } else {
            cJSON *copy = cJSON_Duplicate(item, 1);
            if (existing)
                cJSON_ReplaceItemInObjectCaseSensitive(base, item->string, copy);
            else
                cJSON_AddItemToObject(base, item->string, copy);
            if (traced) {
                origin_drop(origins, path);
                origin_set_all(origins, path, item, file);
            }
        }
    }
}

void cf_merge(cJSON *base, const cJSON *over)
{
    merge_traced(base, over, NULL, "", "");
}

void cf_merge_traced(cJSON *base, const cJSON *over, cJSON *origins, const char *file)
{
    merge_traced(base, over, origins, "", file);
}

const cJSON *cf_get(const cJSON *config, const char *dotted)
{
    const cJSON *cur = config;
    char key[256];
    while (cur && *dotted) {
        size_t n = strcspn(dotted, ".");
        if (n >= sizeof key) return NULL;
        memcpy(key, dotted, n);
        key[n] = '\0';
        cur = cJSON_GetObjectItemCaseSensitive(cur, key);
        dotted += n;
        if (*dotted == '.') dotted++;
    }
    return cur;
}

/* ---- trusted and untrusted sources ------------------------------------------------------------------- */

/* THE classification of every configuration key the host reads (docs/run.md,
 * "Trusted and untrusted configuration", has the same table). A project's
 * own files (.tactus/config.yml of a project folder, FILE.tac.yml) travel
 * with the procedure and sit where the sandbox writes, so unless `tactus
 * trust` recorded their exact content they may set only the keys marked
 * TH_KEY_FREE or TH_KEY_LOWER here. Any key not in this table is privileged:
 * an allow-list, so a key added to the host later is safe until classified.
 * A pattern's "*" matches one key (a provider's name). */
typedef enum {
    TH_KEY_PRIVILEGED, /* trusted sources only (the whole subtree) */
    TH_KEY_MAP,        /* a mapping whose keys are classified one by one */
    TH_KEY_FREE,       /* any plain value (not a mapping or list), from any source */
    TH_KEY_LOWER,      /* a number that may only lower the trusted value (or the default) */
    TH_KEY_NAMES,      /* a list of plain strings, from any source */
} th_key_class;

static const struct {
    const char *pattern;
    th_key_class cls;
    double def; /* TH_KEY_LOWER: the built-in value; < 0 for "no limit" */
    bool zero_ok; /* TH_KEY_LOWER: whether 0 is a value (for budgets, 0 means "no limit") */
} config_keys[] = {
    {"providers", TH_KEY_MAP, 0, false},
    {"providers.*", TH_KEY_MAP, 0, false},
    {"providers.*.timeout", TH_KEY_LOWER, 600, false},
    {"providers.*.stall_timeout", TH_KEY_LOWER, 60, false},
    {"providers.*.max_retries", TH_KEY_LOWER, 2, true},
    {"providers.*.retry_delay", TH_KEY_FREE, 0, false},
    {"providers.*.max_tokens", TH_KEY_FREE, 0, false},
    {"providers.*.base_url", TH_KEY_PRIVILEGED, 0, false}, /* the broker sends the API key there */
    {"providers.*.api_key_env", TH_KEY_PRIVILEGED, 0, false},
    {"budgets", TH_KEY_MAP, 0, false},
    {"budgets.tokens", TH_KEY_LOWER, -1, false},
    {"budgets.cost", TH_KEY_LOWER, -1, false},
    {"budgets.llm_calls", TH_KEY_LOWER, -1, false},
    {"budgets.journal_bytes", TH_KEY_LOWER, 268435456, false},
    {"host_tools", TH_KEY_PRIVILEGED, 0, false},  /* commands and HTTP calls on the host */
    {"mcp_servers", TH_KEY_PRIVILEGED, 0, false}, /* processes and URLs the broker starts/calls */
    {"sandbox", TH_KEY_PRIVILEGED, 0, false},     /* mounts, network, env, image, limits, transport */
    {"models", TH_KEY_PRIVILEGED, 0, false},      /* model endpoints, headers, allow_hosts */
    {"prices", TH_KEY_PRIVILEGED, 0, false},      /* a price of 0 would loosen budgets.cost */
    {"audit", TH_KEY_PRIVILEGED, 0, false},       /* audit.path: where the host writes */
    {"journal", TH_KEY_PRIVILEGED, 0, false},     /* store location */
    {"check", TH_KEY_MAP, 0, false},
    {"check.globals", TH_KEY_NAMES, 0, false}, /* names `tactus check` treats as defined */
};

static bool key_pattern_matches(const char *pattern, const char *path)
{
    while (*pattern && *path) {
        size_t pn = strcspn(pattern, "."), kn = strcspn(path, ".");
        if (!(pn == 1 && pattern[0] == '*') && (pn != kn || strncmp(pattern, path, pn) != 0))
            return false;
        pattern += pn;
        path += kn;
        if (*pattern != *path) return false;
        if (*pattern) pattern++, path++;
    }
    return !*pattern && !*path;
}

static int key_class_of(const char *path)
{
    for (size_t i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++)
        if (key_pattern_matches(config_keys[i].pattern, path)) return (int)i;
    return -1;
}

/* The folder a project file belongs to, for the fix in the message:
 * DIR/.tactus/config.yml -> DIR, DIR/FILE.tac.yml -> DIR. */
static void trust_dir_of(const char *file, char *out, size_t cap)
{
    snprintf(out, cap, "%s", file);
    char *slash = strrchr(out, '/');
    if (!slash) {
        snprintf(out, cap, ".");
        return;
    }
    *slash = '\0';
    size_t n = strlen(out);
    if (n >= 7 && strcmp(out + n - 7, ".tactus") == 0 && (n == 7 || out[n - 8] == '/')) {
        if (n == 7) snprintf(out, cap, ".");
        else out[n - 8] = '\0';
    }
    if (!*out) snprintf(out, cap, "/");
}

/* Checks every key of an untrusted document against config_keys; `config`
 * is what trusted sources (and earlier checked files) have set so far. */
static bool check_untrusted(const cJSON *doc, const cJSON *config, const cJSON *marks,
                            const char *file, const char *prefix, char *err, size_t errlen)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, doc)
    {
        char path[512];
        if (snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", item->string) >= (int)sizeof path)
            path[sizeof path - 1] = '\0'; /* a key that long is in no table: privileged */
        int k = key_class_of(path);
        th_key_class cls = k < 0 ? TH_KEY_PRIVILEGED : config_keys[k].cls;
        /* A free key takes a plain value: a mapping or list under it would be
         * a subtree nobody checked (providers.x.max_tokens.base_url). */
        if (cls == TH_KEY_FREE && !cJSON_IsObject(item) && !cJSON_IsArray(item)) continue;
        if (cls == TH_KEY_FREE) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(marks, path);
            char dir[PATH_MAX];
            trust_dir_of(file, dir, sizeof dir);
            snprintf(err, errlen,
                     "%s:%s: '%s' takes a plain value (a number or a string), not a %s, in an "
                     "untrusted project file; nothing was run. If you wrote this file, run "
                     "`tactus trust %s`",
                     file, cJSON_IsString(m) ? m->valuestring : "1:1", path,
                     cJSON_IsObject(item) ? "mapping" : "list", dir);
            return false;
        }
        if (cls == TH_KEY_NAMES) {
            bool names = cJSON_IsArray(item);
            const cJSON *e;
            cJSON_ArrayForEach(e, item) names = names && cJSON_IsString(e);
            if (names) continue;
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(marks, path);
            snprintf(err, errlen,
                     "%s:%s: '%s' takes a list of names, like [\"helper\", \"CONFIG\"]; "
                     "nothing was run",
                     file, cJSON_IsString(m) ? m->valuestring : "1:1", path);
            return false;
        }
        if (cls == TH_KEY_MAP && cJSON_IsObject(item)) {
            if (!check_untrusted(item, config, marks, file, path, err, errlen)) return false;
            continue;
        }
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(marks, path);
        const char *lc = cJSON_IsString(m) ? m->valuestring : "1:1";
        char dir[PATH_MAX];
        trust_dir_of(file, dir, sizeof dir);
        if (cls == TH_KEY_LOWER) {
            const cJSON *cur = cf_get(config, path);
            double limit = cJSON_IsNumber(cur) ? cur->valuedouble : config_keys[k].def;
            double low = config_keys[k].zero_ok ? 0 : 1e-9;
            if (cJSON_IsNumber(item) && item->valuedouble >= low &&
                (limit < 0 || item->valuedouble <= limit))
                continue;
            char lim[64];
            if (limit < 0) snprintf(lim, sizeof lim, "no limit");
            else snprintf(lim, sizeof lim, "%g", limit);
            snprintf(err, errlen,
                     "%s:%s: '%s' in an untrusted project file may only lower the limit "
                     "(a number from %s to %s, the value set by trusted configuration); "
                     "nothing was run. Lower it, move it to ~/.config/tactus/config.yml, or "
                     "if you wrote this file run `tactus trust %s`",
                     file, lc, path, config_keys[k].zero_ok ? "0" : "above 0", lim, dir);
            return false;
        }
        snprintf(err, errlen,
                 "%s:%s: '%s' is a privileged key (it changes what the host does), and this "
                 "project file is not trusted; nothing was run. A project's own configuration "
                 "may set only model defaults and lower limits (docs/run.md). If you wrote this "
                 "file, run `tactus trust %s` to trust its current content, or move the key to "
                 "~/.config/tactus/config.yml",
                 file, lc, path, dir);
        return false;
    }
    return true;
}

/* ---- the cascade ------------------------------------------------------------------------------------- */

typedef struct {
    char seen[16][PATH_MAX]; /* realpaths already merged: a file counts once */
    size_t n_seen;
    cf_trace *trace;         /* cf_load_traced: where each key came from; NULL otherwise */
} cascade;

/* Merges one file. `project` files are checked against config_keys unless
 * `tactus trust` recorded the exact bytes read here (hashed from the same
 * buffer that is parsed, so the file cannot change in between). `source`
 * says what kind of file it is, for `tactus config`. */
static tx_status merge_file(cascade *c, cJSON *config, const char *path, bool project,
                            const char *source, char *err, size_t errlen)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) return TX_OK; /* absent files are fine */
    for (size_t i = 0; i < c->n_seen; i++)
        if (strcmp(c->seen[i], real) == 0) return TX_OK;
    if (c->n_seen < sizeof c->seen / sizeof c->seen[0]) snprintf(c->seen[c->n_seen++], PATH_MAX, "%s", real);
    char *text;
    size_t len;
    int e;
    tx_status st = tx_read_file(path, CONFIG_MAX_FILE, &text, &len, &e);
    if (st == TX_ENOENT || st == TX_EISDIR) return TX_OK;
    if (st == TX_ELIMIT) {
        snprintf(err, errlen, "%s: configuration file larger than 4 MiB", path);
        return TX_EINVAL;
    }
    if (st != TX_OK) {
        snprintf(err, errlen, "%s: cannot read: %s", path, e ? strerror(e) : tx_status_str(st));
        return TX_EIO;
    }
    bool trusted_project = project && cf_trust_matches(real, text, len);
    if (trusted_project) project = false;
    cJSON *doc = NULL;
    cJSON *marks = project ? cJSON_CreateObject() : NULL;
    st = cf_yaml_parse_marked(text, len, path, &doc, marks, err, errlen);
    tx_free(text);
    if (st == TX_OK && project && !check_untrusted(doc, config, marks, path, "", err, errlen))
        st = TX_EINVAL;
    cJSON_Delete(marks);
    if (st != TX_OK) {
        cJSON_Delete(doc);
        return st;
    }
    if (c->trace) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "path", real);
        cJSON_AddStringToObject(f, "source", source);
        cJSON_AddBoolToObject(f, "trusted", !project);
        if (trusted_project) cJSON_AddTrueToObject(f, "trusted_by_tactus_trust");
        cJSON_AddItemToArray(c->trace->files, f);
    }
    merge_traced(config, doc, c->trace ? c->trace->origins : NULL, "", real);
    cJSON_Delete(doc);
    return TX_OK;
}

/* The folders from the filesystem root down to the procedure's folder
 * (realpaths, the nearest last): each one's .tactus/config.yml is merged in
 * this order. `dir` holds them as one path, a NUL after each folder. */
typedef struct {
    char dir[PATH_MAX];
    size_t ends[PATH_MAX / 2]; /* dir[0..ends[i]) is folder i */
    size_t n;
} cascade_walk;

static void walk_folders(const char *procedure_path, bool is_dir, cascade_walk *w)
{
    w->n = 0;
    if (!realpath(procedure_path, w->dir)) return;
    char *slash = is_dir ? NULL : strrchr(w->dir, '/');
    if (slash && slash != w->dir) *slash = '\0';
    size_t len = strlen(w->dir);
    if (len > 1) w->ends[w->n++] = 0; /* the root's own: "/.tactus/config.yml" */
    for (size_t i = 1; i <= len && w->n < sizeof w->ends / sizeof w->ends[0]; i++)
        if (i == len || w->dir[i] == '/') w->ends[w->n++] = i;
}

/* The .tactus/config.yml of folder i of the walk (the root's is "/.tactus/..."). */
static void walk_file(const cascade_walk *w, size_t i, char *out, size_t cap)
{
    snprintf(out, cap, "%.*s/.tactus/config.yml", (int)w->ends[i], w->dir);
}

/* Whether the current folder's .tactus/config.yml is one of the walk's:
 * then it is merged at its place in the walk, never ahead of it (run from
 * the procedure's own folder, its file was once merged first and then
 * skipped as seen, so every parent folder's file overrode it). Compared by
 * realpath, so a symbolic link to a folder of the walk counts as that folder. */
static bool cwd_file_in_walk(const cascade_walk *w)
{
    char cwd_file[PATH_MAX];
    if (!realpath(".tactus/config.yml", cwd_file)) return false;
    for (size_t i = 0; i < w->n; i++) {
        char p[PATH_MAX + 32], real[PATH_MAX];
        walk_file(w, i, p, sizeof p);
        if (realpath(p, real) && strcmp(real, cwd_file) == 0) return true;
    }
    return false;
}

static tx_status load(const char *procedure_path, cJSON **config, cf_trace *trace, char *err,
                      size_t errlen)
{
    *config = cJSON_CreateObject();
    if (!*config) return TX_ENOMEM;
    char path[PATH_MAX + 64];
    tx_status st = TX_OK;
    cascade *c = tx_calloc(1, sizeof *c);
    cascade_walk *w = tx_calloc(1, sizeof *w);
    if (!c || !w) {
        tx_free(c);
        tx_free(w);
        cJSON_Delete(*config);
        *config = NULL;
        return TX_ENOMEM;
    }
    c->trace = trace;
#define MERGE(p, project, source)                                                                  \
    do {                                                                                           \
        if (st == TX_OK) st = merge_file(c, *config, (p), (project), (source), err, errlen);       \
    } while (0)
    /* Trusted: what only the user or their administrator writes. */
    MERGE("/etc/tactus/config.yml", false, "system");
    MERGE("/usr/local/etc/tactus/config.yml", false, "system");
    const char *home = getenv("HOME");
    if (cf_user_dir(path, sizeof path)) {
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, "/config.yml");
        struct stat sb;
        if (stat(path, &sb) != 0 && home && *home)
            snprintf(path, sizeof path, "%s/.tactus/config.yml", home);
        MERGE(path, false, "user");
    }
    struct stat psb;
    bool is_dir = stat(procedure_path, &psb) == 0 && S_ISDIR(psb.st_mode);
    walk_folders(procedure_path, is_dir, w);
    /* Untrusted unless `tactus trust`ed: the project's own files. The
     * current folder's comes before the walk when it is not on it; on it,
     * at its place. It is skipped when it is the user's file above (merged
     * once: realpaths are compared). */
    if (!cwd_file_in_walk(w)) MERGE(".tactus/config.yml", true, "project (current folder)");
    /* From the filesystem root down to the procedure's folder: nearer wins. */
    for (size_t i = 0; i < w->n && st == TX_OK; i++) {
        walk_file(w, i, path, sizeof path);
        MERGE(path, true, "project");
    }
    /* The sidecar: FILE.tac.yml, else FILE.yml. */
    snprintf(path, sizeof path, "%s.yml", procedure_path);
    struct stat sb;
    if (is_dir) {
        /* a folder has no sidecar */
    } else if (stat(path, &sb) == 0) {
        MERGE(path, true, "project (sidecar)");
    } else if (tx_has_suffix(procedure_path, ".tac")) {
        snprintf(path, sizeof path, "%.*s.yml", (int)(strlen(procedure_path) - 4), procedure_path);
        MERGE(path, true, "project (sidecar)");
    }
#undef MERGE
    tx_free(c);
    tx_free(w);
    if (st != TX_OK) {
        cJSON_Delete(*config);
        *config = NULL;
    }
    return st;
}

tx_status cf_load(const char *procedure_path, cJSON **config, char *err, size_t errlen)
{
    return load(procedure_path, config, NULL, err, errlen);
}

tx_status cf_load_traced(const char *procedure_path, cJSON **config, cf_trace *trace, char *err,
                         size_t errlen)
{
    trace->origins = cJSON_CreateObject();
    trace->files = cJSON_CreateArray();
    if (!trace->origins || !trace->files) {
        cf_trace_free(trace);
        *config = NULL;
        return TX_ENOMEM;
    }
    tx_status st = load(procedure_path, config, trace, err, errlen);
    if (st != TX_OK) cf_trace_free(trace);
    return st;
}

void cf_trace_free(cf_trace *trace)
{
    cJSON_Delete(trace->origins);
    cJSON_Delete(trace->files);
    trace->origins = trace->files = NULL;
}

/* ---- .env ------------------------------------------------------------------------------------------------ */

void cf_dotenv_apply(char *text)
{
    char *line = text;
    while (line && *line) {
        char *next = strchr(line, '\n');
        if (next) *next++ = '\0';
        while (*line == ' ' || *line == '\t') line++;
        if (strncmp(line, "export ", 7) == 0) line += 7;
        char *eq = strchr(line, '=');
        if (*line && *line != '#' && eq) {
            *eq = '\0';
            char *key = line, *val = eq + 1;
            size_t kl = strlen(key);
            while (kl && (key[kl - 1] == ' ' || key[kl - 1] == '\t')) key[--kl] = '\0';
            size_t vl = strlen(val);
            while (vl && (val[vl - 1] == '\r' || val[vl - 1] == ' ')) val[--vl] = '\0';
            if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
                val[vl - 1] = '\0';
                val++;
            }
            if (kl) setenv(key, val, 0); /* never override the real environment */
        }
        line = next;
    }
}

tx_status cf_dotenv_load(const char *path)
{
    char *text;
    size_t len;
    int e;
    tx_status st = tx_read_file(path, 1u << 20, &text, &len, &e);
    if (st == TX_ENOENT || st == TX_EISDIR) return TX_OK;
    if (st != TX_OK) return st;
    cf_dotenv_apply(text);
    tx_free(text);
    return TX_OK;
}

/* ---- default places ---------------------------------------------------------------------- */

bool cf_default_broker_control(char *out, size_t cap)
{
    return hl_xdg_path("XDG_RUNTIME_DIR", ".local/state", "/tmp", "broker.sock", out, cap);
}
