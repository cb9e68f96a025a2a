/*
 * th_config.c - configuration: YAML files merged in a cascade, and .env
 * files for the host (inventory G).
 *
 * YAML is read with libyaml's event parser into cJSON. Plain scalars are
 * typed as YAML 1.2's core schema does (null, booleans, integers, floats);
 * quoted scalars stay strings. Anchors and aliases are refused: they are a
 * known way to blow up memory ("billion laughs") and configuration does not
 * need them.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "host.h"

#define CONFIG_MAX_FILE (4u * 1024u * 1024u)
#define CONFIG_MAX_DEPTH 64

/* ---- YAML -> JSON ---------------------------------------------------------------------------------- */

static cJSON *plain_scalar(const char *s, size_t n)
{
    char buf[64];
    if (n == 0 || (n == 1 && s[0] == '~') || (n == 4 && (strncmp(s, "null", 4) == 0 ||
                                                          strncmp(s, "Null", 4) == 0 ||
                                                          strncmp(s, "NULL", 4) == 0)))
        return cJSON_CreateNull();
    if ((n == 4 && (!strncmp(s, "true", 4) || !strncmp(s, "True", 4) || !strncmp(s, "TRUE", 4))))
        return cJSON_CreateTrue();
    if ((n == 5 && (!strncmp(s, "false", 5) || !strncmp(s, "False", 5) || !strncmp(s, "FALSE", 5))))
        return cJSON_CreateFalse();
    if (n < sizeof buf) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        char *end;
        errno = 0;
        if (buf[0] == '-' || buf[0] == '+' || isdigit((unsigned char)buf[0]) || buf[0] == '.') {
            long long iv = strtoll(buf, &end, 10);
            if (*end == '\0' && errno == 0) return cJSON_CreateNumber((double)iv);
            double dv = strtod(buf, &end);
            if (*end == '\0' && errno == 0 && isfinite(dv)) return cJSON_CreateNumber(dv);
        }
    }
    char *str = tx_strndup(s, n);
    cJSON *v = str ? cJSON_CreateString(str) : NULL;
    tx_free(str);
    return v;
}

typedef struct {
    yaml_parser_t parser;
    const char *name;
    char *err;
    size_t errlen;
    bool failed;
} yaml_reader;

static void yaml_fail(yaml_reader *r, const yaml_mark_t *mark, const char *what)
{
    if (r->failed) return;
    r->failed = true;
    snprintf(r->err, r->errlen, "%s:%zu:%zu: %s", r->name, mark->line + 1, mark->column + 1, what);
}

static cJSON *read_node(yaml_reader *r, yaml_event_t *ev, int depth);

static cJSON *read_collection(yaml_reader *r, bool mapping, int depth)
{
    cJSON *out = mapping ? cJSON_CreateObject() : cJSON_CreateArray();
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&r->parser, &ev)) {
            yaml_fail(r, &r->parser.problem_mark, r->parser.problem ? r->parser.problem : "invalid YAML");
            cJSON_Delete(out);
            return NULL;
        }
        if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return out;
        }
        if (mapping) {
            if (ev.type != YAML_SCALAR_EVENT) {
                yaml_fail(r, &ev.start_mark, "a mapping key must be a plain string");
                yaml_event_delete(&ev);
                cJSON_Delete(out);
                return NULL;
            }
            char *key = tx_strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
            yaml_event_delete(&ev);
            yaml_event_t vev;
            if (!key || !yaml_parser_parse(&r->parser, &vev)) {
                if (key) yaml_fail(r, &r->parser.problem_mark, r->parser.problem ? r->parser.problem : "invalid YAML");
                tx_free(key);
                cJSON_Delete(out);
                return NULL;
            }
            cJSON *v = read_node(r, &vev, depth + 1);
            if (!v) {
                tx_free(key);
                cJSON_Delete(out);
                return NULL;
            }
            cJSON_DeleteItemFromObjectCaseSensitive(out, key); /* the last duplicate wins */
            cJSON_AddItemToObject(out, key, v);
            tx_free(key);
        } else {
            cJSON *v = read_node(r, &ev, depth + 1);
            if (!v) {
                cJSON_Delete(out);
                return NULL;
            }
            cJSON_AddItemToArray(out, v);
        }
    }
}

/* Consumes `ev` (and the events of its children). */
static cJSON *read_node(yaml_reader *r, yaml_event_t *ev, int depth)
{
    cJSON *v = NULL;
    if (depth > CONFIG_MAX_DEPTH) {
        yaml_fail(r, &ev->start_mark, "nested too deeply");
    } else if (ev->type == YAML_ALIAS_EVENT ||
               (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.anchor) ||
               (ev->type == YAML_MAPPING_START_EVENT && ev->data.mapping_start.anchor) ||
               (ev->type == YAML_SEQUENCE_START_EVENT && ev->data.sequence_start.anchor)) {
        yaml_fail(r, &ev->start_mark, "anchors and aliases are not supported in configuration");
    } else if (ev->type == YAML_SCALAR_EVENT) {
        const char *s = (const char *)ev->data.scalar.value;
        size_t n = ev->data.scalar.length;
        if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
            v = plain_scalar(s, n);
        } else {
            char *str = tx_strndup(s, n);
            v = str ? cJSON_CreateString(str) : NULL;
            tx_free(str);
        }
    } else if (ev->type == YAML_MAPPING_START_EVENT) {
        yaml_event_delete(ev);
        return read_collection(r, true, depth);
    } else if (ev->type == YAML_SEQUENCE_START_EVENT) {
        yaml_event_delete(ev);
        return read_collection(r, false, depth);
    } else {
        yaml_fail(r, &ev->start_mark, "unexpected YAML structure");
    }
    yaml_event_delete(ev);
    return v;
}

tx_status th_yaml_parse(const char *text, size_t len, const char *name, cJSON **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    yaml_reader r = {.name = name, .err = err, .errlen = errlen};
    if (!yaml_parser_initialize(&r.parser)) return TX_ENOMEM;
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
    cJSON *doc = NULL;
    bool in_doc = false;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&r.parser, &ev)) {
            yaml_fail(&r, &r.parser.problem_mark, r.parser.problem ? r.parser.problem : "invalid YAML");
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT) {
            if (doc) {
                yaml_fail(&r, &ev.start_mark, "only one YAML document is allowed");
                yaml_event_delete(&ev);
                break;
            }
            in_doc = true;
            yaml_event_delete(&ev);
            continue;
        }
        if (t == YAML_DOCUMENT_END_EVENT || t == YAML_STREAM_START_EVENT) {
            in_doc = t == YAML_DOCUMENT_END_EVENT ? false : in_doc;
            yaml_event_delete(&ev);
            continue;
        }
        doc = read_node(&r, &ev, 0);
        if (!doc) break;
    }
    yaml_parser_delete(&r.parser);
    (void)in_doc;
    if (r.failed) {
        cJSON_Delete(doc);
        return TX_EINVAL;
    }
    if (!doc || cJSON_IsNull(doc)) {
        cJSON_Delete(doc);
        doc = cJSON_CreateObject(); /* an empty file is an empty configuration */
    }
    if (!cJSON_IsObject(doc)) {
        snprintf(err, errlen, "%s:1:1: the configuration must be a mapping (key: value lines)", name);
        cJSON_Delete(doc);
        return TX_EINVAL;
    }
    *out = doc;
    return TX_OK;
}

/* ---- merging ----------------------------------------------------------------------------------------- */

void th_config_merge(cJSON *base, const cJSON *over)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, over)
    {
        cJSON *existing = cJSON_GetObjectItemCaseSensitive(base, item->string);
        if (existing && cJSON_IsObject(existing) && cJSON_IsObject(item)) {
            th_config_merge(existing, item);
        } else if (existing && cJSON_IsArray(existing) && cJSON_IsArray(item)) {
            const cJSON *e;
            cJSON_ArrayForEach(e, item) cJSON_AddItemToArray(existing, cJSON_Duplicate(e, 1));
        } else {
            cJSON *copy = cJSON_Duplicate(item, 1);
            if (existing)
                cJSON_ReplaceItemInObjectCaseSensitive(base, item->string, copy);
            else
                cJSON_AddItemToObject(base, item->string, copy);
        }
    }
}

const cJSON *th_config_get(const cJSON *config, const char *dotted)
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

/* ---- the cascade ------------------------------------------------------------------------------------- */

static tx_status merge_file(cJSON *config, const char *path, char *err, size_t errlen)
{
    char *text;
    size_t len;
    int e;
    tx_status st = tx_read_file(path, CONFIG_MAX_FILE, &text, &len, &e);
    if (st == TX_ENOENT || st == TX_EISDIR) return TX_OK; /* absent files are fine */
    if (st == TX_ELIMIT) {
        snprintf(err, errlen, "%s: configuration file larger than 4 MiB", path);
        return TX_EINVAL;
    }
    if (st != TX_OK) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
        return TX_EIO;
    }
    cJSON *doc = NULL;
    st = th_yaml_parse(text, len, path, &doc, err, errlen);
    tx_free(text);
    if (st != TX_OK) return st;
    th_config_merge(config, doc);
    cJSON_Delete(doc);
    return TX_OK;
}

tx_status th_config_load(const char *procedure_path, cJSON **config, char *err, size_t errlen)
{
    *config = cJSON_CreateObject();
    if (!*config) return TX_ENOMEM;
    char path[PATH_MAX + 64];
    tx_status st = TX_OK;
#define MERGE(p)                                                                                   \
    do {                                                                                           \
        if (st == TX_OK) st = merge_file(*config, (p), err, errlen);                               \
    } while (0)
    MERGE("/etc/tactus/config.yml");
    MERGE("/usr/local/etc/tactus/config.yml");
    const char *home = getenv("HOME");
    if (home && *home) {
        const char *xdg = getenv("XDG_CONFIG_HOME");
        if (xdg && *xdg)
            snprintf(path, sizeof path, "%s/tactus/config.yml", xdg);
        else
            snprintf(path, sizeof path, "%s/.config/tactus/config.yml", home);
        struct stat sb;
        if (stat(path, &sb) != 0) snprintf(path, sizeof path, "%s/.tactus/config.yml", home);
        MERGE(path);
    }
    MERGE(".tactus/config.yml");
    /* From the filesystem root down to the procedure's folder: nearer wins. */
    char dir[PATH_MAX];
    struct stat psb;
    bool is_dir = stat(procedure_path, &psb) == 0 && S_ISDIR(psb.st_mode);
    if (realpath(procedure_path, dir)) {
        char *slash = is_dir ? NULL : strrchr(dir, '/');
        if (slash && slash != dir) *slash = '\0';
        char cwd[PATH_MAX];
        bool have_cwd = getcwd(cwd, sizeof cwd) != NULL;
        size_t len = strlen(dir);
        for (size_t i = 1; i <= len && st == TX_OK; i++) {
            if (i != len && dir[i] != '/') continue;
            char saved = dir[i];
            dir[i] = '\0';
            /* The current folder's file was merged above; don't count it twice. */
            if (!(have_cwd && strcmp(dir, cwd) == 0)) {
                snprintf(path, sizeof path, "%s/.tactus/config.yml", dir);
                MERGE(path);
            }
            dir[i] = saved;
        }
    }
    /* The sidecar: FILE.tac.yml, else FILE.yml. */
    snprintf(path, sizeof path, "%s.yml", procedure_path);
    struct stat sb;
    if (is_dir) {
        /* a folder has no sidecar */
    } else if (stat(path, &sb) == 0) {
        MERGE(path);
    } else if (tx_has_suffix(procedure_path, ".tac")) {
        snprintf(path, sizeof path, "%.*s.yml", (int)(strlen(procedure_path) - 4), procedure_path);
        MERGE(path);
    }
#undef MERGE
    if (st != TX_OK) {
        cJSON_Delete(*config);
        *config = NULL;
    }
    return st;
}

/* ---- .env ------------------------------------------------------------------------------------------------ */

tx_status th_dotenv_load(const char *path)
{
    char *text;
    size_t len;
    int e;
    tx_status st = tx_read_file(path, 1u << 20, &text, &len, &e);
    if (st == TX_ENOENT || st == TX_EISDIR) return TX_OK;
    if (st != TX_OK) return st;
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
    tx_free(text);
    return TX_OK;
}
