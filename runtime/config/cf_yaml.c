/*
 * cf_yaml.c - YAML read into cJSON with libyaml's event parser.
 *
 * Plain scalars are typed as YAML 1.2's core schema does (null, booleans,
 * integers, floats); quoted scalars stay strings. Anchors and aliases are
 * refused: they are a known way to blow up memory ("billion laughs") and
 * configuration does not need them.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cf_internal.h"
#include "hostlib.h"

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
    cJSON *marks; /* optional: dotted key path -> "line:column" of the key */
} yaml_reader;

static void yaml_fail(yaml_reader *r, const yaml_mark_t *mark, const char *what)
{
    if (r->failed) return;
    r->failed = true;
    snprintf(r->err, r->errlen, "%s:%zu:%zu: %s", r->name, mark->line + 1, mark->column + 1, what);
}

static cJSON *read_node(yaml_reader *r, yaml_event_t *ev, int depth, const char *path);

/* `path` is the dotted path of this collection's keys' parent ("" at the top,
 * NULL inside sequences, where no mark is kept). */
static cJSON *read_collection(yaml_reader *r, bool mapping, int depth, const char *path)
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
            if (ev.data.scalar.length == 0) {
                /* No setting has an empty name, and its children's dotted
                 * names would read as the parent's own. */
                yaml_fail(r, &ev.start_mark, "an empty key: give the setting its name (e.g. sandbox:)");
                yaml_event_delete(&ev);
                cJSON_Delete(out);
                return NULL;
            }
            char *key = tx_strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
            char sub[512] = "";
            bool keep = path && key &&
                        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key) < (int)sizeof sub;
            if (keep) {
                if (r->marks) {
                    char lc[48];
                    snprintf(lc, sizeof lc, "%zu:%zu", ev.start_mark.line + 1, ev.start_mark.column + 1);
                    cJSON_DeleteItemFromObjectCaseSensitive(r->marks, sub);
                    cJSON_AddStringToObject(r->marks, sub, lc);
                }
            }
            yaml_event_delete(&ev);
            yaml_event_t vev;
            if (!key || !yaml_parser_parse(&r->parser, &vev)) {
                if (key) yaml_fail(r, &r->parser.problem_mark, r->parser.problem ? r->parser.problem : "invalid YAML");
                tx_free(key);
                cJSON_Delete(out);
                return NULL;
            }
            cJSON *v = read_node(r, &vev, depth + 1, keep ? sub : NULL);
            if (!v) {
                tx_free(key);
                cJSON_Delete(out);
                return NULL;
            }
            cJSON_DeleteItemFromObjectCaseSensitive(out, key); /* the last duplicate wins */
            cJSON_AddItemToObject(out, key, v);
            tx_free(key);
        } else {
            cJSON *v = read_node(r, &ev, depth + 1, NULL);
            if (!v) {
                cJSON_Delete(out);
                return NULL;
            }
            cJSON_AddItemToArray(out, v);
        }
    }
}

/* Consumes `ev` (and the events of its children). */
static cJSON *read_node(yaml_reader *r, yaml_event_t *ev, int depth, const char *path)
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
        return read_collection(r, true, depth, path);
    } else if (ev->type == YAML_SEQUENCE_START_EVENT) {
        yaml_event_delete(ev);
        return read_collection(r, false, depth, path);
    } else {
        yaml_fail(r, &ev->start_mark, "unexpected YAML structure");
    }
    yaml_event_delete(ev);
    return v;
}

tx_status cf_yaml_parse_marked(const char *text, size_t len, const char *name, cJSON **out,
                                   cJSON *marks, char *err, size_t errlen)
{
    *out = NULL;
    yaml_reader r = {.name = name, .err = err, .errlen = errlen, .marks = marks};
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
        doc = read_node(&r, &ev, 0, "");
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

tx_status cf_yaml_parse(const char *text, size_t len, const char *name, cJSON **out, char *err,
                        size_t errlen)
{
    return cf_yaml_parse_marked(text, len, name, out, NULL, err, errlen);
}

