/*
 * ev_schema.c - the json_schema evaluator's validator: the subset of JSON
 * Schema (draft 2020-12 semantics) that an evaluation needs, and nothing
 * that would be silently ignored.
 *
 * Keywords: type (a name or a list of names: string, number, integer,
 * boolean, object, array, null), properties, required, items (one schema
 * for every element), enum, const, minimum, maximum, minLength, maxLength
 * (code points), pattern (PCRE2, unanchored, as JSON Schema says),
 * additionalProperties (true, false or a schema). Annotations ($schema,
 * $id, title, description, default, examples) are accepted and ignored. Any
 * other keyword is refused when the file is loaded: a schema that asks for
 * something this validator would skip must not pass by accident.
 *
 * Schemas are written in Lua, where an empty table is a list: an empty
 * list stands for an empty object wherever an object is expected.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <math.h>
#include <pcre2.h>
#include <string.h>

#include "ev_internal.h"

/* Deeper schemas or values than this are refused (stack). */
#define SCHEMA_MAX_DEPTH 64

static const char *const type_names[] = {"string", "number", "integer", "boolean",
                                         "object", "array",  "null"};

static bool is_type_name(const char *t)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcmp(type_names[i], t) == 0) return true;
    return false;
}

static bool empty_list(const cJSON *v)
{
    return cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0;
}

static bool object_like(const cJSON *v)
{
    return cJSON_IsObject(v) || empty_list(v);
}

static bool non_negative_integer(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble == floor(v->valuedouble);
}

static bool valid_at(const cJSON *schema, const char *path, int depth, char *err, size_t cap)
{
    if (depth > SCHEMA_MAX_DEPTH) {
        snprintf(err, cap, "json_schema: nested more than %d deep at %s", SCHEMA_MAX_DEPTH, path);
        return false;
    }
    if (cJSON_IsBool(schema)) return true; /* true: anything; false: nothing */
    if (!object_like(schema)) {
        snprintf(err, cap, "json_schema: %s is not a schema (a table of keywords)", path);
        return false;
    }
    const cJSON *k;
    cJSON_ArrayForEach(k, schema)
    {
        const char *key = k->string ? k->string : "";
        char sub[512];
        if (!strcmp(key, "type")) {
            bool ok = cJSON_IsString(k) && is_type_name(k->valuestring);
            if (cJSON_IsArray(k)) {
                ok = cJSON_GetArraySize(k) > 0;
                const cJSON *t;
                cJSON_ArrayForEach(t, k) ok &= cJSON_IsString(t) && is_type_name(t->valuestring);
            }
            if (!ok) {
                snprintf(err, cap,
                         "json_schema: %s.type must be one of string, number, integer, boolean, "
                         "object, array, null (or a list of them)",
                         path);
                return false;
            }
        } else if (!strcmp(key, "properties")) {
            if (!object_like(k)) {
                snprintf(err, cap, "json_schema: %s.properties must be a table of schemas", path);
                return false;
            }
            const cJSON *p;
            cJSON_ArrayForEach(p, k)
            {
                snprintf(sub, sizeof sub, "%.300s.properties.%.100s", path,
                         p->string ? p->string : "?");
                if (!valid_at(p, sub, depth + 1, err, cap)) return false;
            }
        } else if (!strcmp(key, "required")) {
            bool ok = cJSON_IsArray(k);
            const cJSON *r;
            cJSON_ArrayForEach(r, k) ok &= cJSON_IsString(r);
            if (!ok) {
                snprintf(err, cap, "json_schema: %s.required must be a list of property names",
                         path);
                return false;
            }
        } else if (!strcmp(key, "items") || !strcmp(key, "additionalProperties")) {
            snprintf(sub, sizeof sub, "%.300s.%s", path, key);
            if (!valid_at(k, sub, depth + 1, err, cap)) return false;
        } else if (!strcmp(key, "enum")) {
            if (!cJSON_IsArray(k)) {
                snprintf(err, cap, "json_schema: %s.enum must be a list of values", path);
                return false;
            }
        } else if (!strcmp(key, "minimum") || !strcmp(key, "maximum")) {
            if (!cJSON_IsNumber(k)) {
                snprintf(err, cap, "json_schema: %s.%s must be a number", path, key);
                return false;
            }
        } else if (!strcmp(key, "minLength") || !strcmp(key, "maxLength")) {
            if (!non_negative_integer(k)) {
                snprintf(err, cap, "json_schema: %s.%s must be a whole number >= 0", path, key);
                return false;
            }
        } else if (!strcmp(key, "pattern")) {
            int code;
            PCRE2_SIZE off;
            pcre2_code *re = cJSON_IsString(k)
                                 ? pcre2_compile((PCRE2_SPTR)k->valuestring, PCRE2_ZERO_TERMINATED,
                                                 PCRE2_UTF, &code, &off, NULL)
                                 : NULL;
            if (!re) {
                snprintf(err, cap, "json_schema: %s.pattern must be a valid regular expression",
                         path);
                return false;
            }
            pcre2_code_free(re);
        } else if (strcmp(key, "const") && strcmp(key, "$schema") && strcmp(key, "$id") &&
                   strcmp(key, "title") && strcmp(key, "description") && strcmp(key, "default") &&
                   strcmp(key, "examples")) {
            snprintf(err, cap,
                     "json_schema: keyword '%.100s' at %s is not supported (supported: type, "
                     "properties, required, items, enum, const, minimum, maximum, minLength, "
                     "maxLength, pattern, additionalProperties); remove it rather than have it "
                     "ignored",
                     key, path);
            return false;
        }
    }
    return true;
}

bool ev_schema_valid(const cJSON *schema, char *err, size_t cap)
{
    return valid_at(schema, "$", 0, err, cap);
}

static bool has_type(const cJSON *v, const char *t)
{
    if (!strcmp(t, "string")) return cJSON_IsString(v);
    if (!strcmp(t, "number")) return cJSON_IsNumber(v);
    if (!strcmp(t, "integer")) return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble);
    if (!strcmp(t, "boolean")) return cJSON_IsBool(v);
    /* The runtime hands over an empty Lua table as []: it is an empty object too. */
    if (!strcmp(t, "object")) return object_like(v);
    if (!strcmp(t, "array")) return cJSON_IsArray(v);
    if (!strcmp(t, "null")) return !v || cJSON_IsNull(v);
    return false;
}

static void show(tx_buf *why, const cJSON *v)
{
    char *s = v ? cJSON_PrintUnformatted(v) : NULL;
    size_t n = s ? strlen(s) : 0;
    if (n > 200)
        tx_buf_printf(why, "%.200s...", s);
    else
        tx_buf_puts(why, s ? s : "null");
    cJSON_free(s);
}

/* JSON equality where 1 and 1.0 are one number. */
static bool json_equal(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) return a->valuedouble == b->valuedouble;
    return a && b && cJSON_Compare(a, b, true);
}

static bool check_at(const cJSON *schema, const cJSON *v, tx_buf *path, int depth, tx_buf *why)
{
    if (cJSON_IsTrue(schema)) return true;
    if (cJSON_IsFalse(schema)) {
        tx_buf_printf(why, "%s: no value is allowed here", path->data);
        return false;
    }
    if (depth > SCHEMA_MAX_DEPTH) {
        tx_buf_printf(why, "%s: the value is nested too deep to check", path->data);
        return false;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(schema, "type");
    if (type) {
        bool ok = cJSON_IsString(type) && has_type(v, type->valuestring);
        const cJSON *t;
        if (cJSON_IsArray(type)) cJSON_ArrayForEach(t, type) ok |= has_type(v, t->valuestring);
        if (!ok) {
            char *want = cJSON_PrintUnformatted(type);
            tx_buf_printf(why, "%s: expected type %s, got ", path->data, want ? want : "?");
            cJSON_free(want);
            show(why, v);
            return false;
        }
    }
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(schema, "enum");
    if (en) {
        bool ok = false;
        const cJSON *e;
        cJSON_ArrayForEach(e, en) ok |= json_equal(e, v);
        if (!ok) {
            tx_buf_printf(why, "%s: ", path->data);
            show(why, v);
            tx_buf_puts(why, " is not one of ");
            show(why, en);
            return false;
        }
    }
    const cJSON *cn = cJSON_GetObjectItemCaseSensitive(schema, "const");
    if (cn && !json_equal(cn, v)) {
        tx_buf_printf(why, "%s: expected ", path->data);
        show(why, cn);
        tx_buf_puts(why, ", got ");
        show(why, v);
        return false;
    }
    if (cJSON_IsNumber(v)) {
        const cJSON *mn = cJSON_GetObjectItemCaseSensitive(schema, "minimum");
        const cJSON *mx = cJSON_GetObjectItemCaseSensitive(schema, "maximum");
        if (cJSON_IsNumber(mn) && v->valuedouble < mn->valuedouble) {
            tx_buf_printf(why, "%s: %g is less than the minimum %g", path->data, v->valuedouble,
                          mn->valuedouble);
            return false;
        }
        if (cJSON_IsNumber(mx) && v->valuedouble > mx->valuedouble) {
            tx_buf_printf(why, "%s: %g is more than the maximum %g", path->data, v->valuedouble,
                          mx->valuedouble);
            return false;
        }
    }
    if (cJSON_IsString(v)) {
        double n = (double)tx_utf8_count(v->valuestring, strlen(v->valuestring));
        const cJSON *mn = cJSON_GetObjectItemCaseSensitive(schema, "minLength");
        const cJSON *mx = cJSON_GetObjectItemCaseSensitive(schema, "maxLength");
        if (cJSON_IsNumber(mn) && n < mn->valuedouble) {
            tx_buf_printf(why, "%s: %g characters, fewer than minLength %g", path->data, n,
                          mn->valuedouble);
            return false;
        }
        if (cJSON_IsNumber(mx) && n > mx->valuedouble) {
            tx_buf_printf(why, "%s: %g characters, more than maxLength %g", path->data, n,
                          mx->valuedouble);
            return false;
        }
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(schema, "pattern");
        if (cJSON_IsString(pat)) {
            int code;
            PCRE2_SIZE off;
            pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat->valuestring, PCRE2_ZERO_TERMINATED,
                                           PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
            pcre2_match_data *md = re ? pcre2_match_data_create_from_pattern(re, NULL) : NULL;
            bool ok = md && pcre2_match(re, (PCRE2_SPTR)v->valuestring, strlen(v->valuestring), 0,
                                        0, md, NULL) >= 0;
            pcre2_match_data_free(md);
            pcre2_code_free(re);
            if (!ok) {
                tx_buf_printf(why, "%s: ", path->data);
                show(why, v);
                tx_buf_printf(why, " does not match the pattern %s", pat->valuestring);
                return false;
            }
        }
    }
    size_t mark = path->len;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(schema, "items");
    /* An empty list is the empty object Lua gives, unless items says it is a list. */
    if (cJSON_IsObject(v) || (empty_list(v) && !items)) {
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(schema, "required"))
        {
            if (!cJSON_GetObjectItemCaseSensitive(v, r->valuestring)) {
                tx_buf_printf(why, "%s: the required property '%s' is missing", path->data,
                              r->valuestring);
                return false;
            }
        }
        const cJSON *extra = cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties");
        const cJSON *p;
        cJSON_ArrayForEach(p, v)
        {
            const cJSON *ps = cJSON_GetObjectItemCaseSensitive(props, p->string);
            const cJSON *use = ps ? ps : extra;
            if (!use) continue;
            tx_buf_printf(path, ".%s", p->string);
            if (!ps && cJSON_IsFalse(extra)) {
                tx_buf_printf(why,
                              "%s: the property is not allowed (additionalProperties is false)",
                              path->data);
                return false;
            }
            bool ok = check_at(use, p, path, depth + 1, why);
            path->len = mark;
            path->data[mark] = '\0';
            if (!ok) return false;
        }
    }
    if (cJSON_IsArray(v) && items) {
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            tx_buf_printf(path, "[%d]", i++);
            bool ok = check_at(items, e, path, depth + 1, why);
            path->len = mark;
            path->data[mark] = '\0';
            if (!ok) return false;
        }
    }
    return true;
}

bool ev_schema_check(const cJSON *schema, const cJSON *v, tx_buf *why)
{
    tx_buf path;
    tx_buf_init(&path, 64u << 10);
    tx_buf_puts(&path, "$");
    bool ok = path.data && check_at(schema, v, &path, 0, why);
    if (!path.data) tx_buf_puts(why, "out of memory");
    tx_buf_free(&path);
    return ok;
}
