/*
 * sp_values.c - the values written in steps, and how they compare.
 *
 * Steps carry values the way the original Tactus read them (inventory C.1):
 * a quoted string ("..." or '...', with Python escapes), true/false, a
 * number, or a literal list/dict written either as JSON or as Python
 * ({'a': True, 'b': None}); anything else is a bare string. Comparisons are
 * forgiving where the original was (a number matches 2 and 2.0, a boolean
 * matches True and true) and exact where it was (quoted text).
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_internal.h"

/* ---- literals ------------------------------------------------------------------------------ */

typedef struct {
    const char *p;
    int depth;
} lit;

static void skip_ws(lit *l)
{
    while (isspace((unsigned char)*l->p))
        l->p++;
}

/* A quoted string at l->p (either quote), decoded; NULL if malformed. */
static char *quoted(lit *l)
{
    char q = *l->p;
    tx_buf b;
    tx_buf_init(&b, SP_TEXT_MAX);
    tx_buf_puts(&b, "");
    const char *p = l->p + 1;
    while (*p && *p != q) {
        if (*p == '\\' && p[1]) {
            p++;
            char c = *p;
            const char *esc = c == 'n' ? "\n" : c == 't' ? "\t" : c == 'r' ? "\r" : NULL;
            if (esc)
                tx_buf_puts(&b, esc);
            else
                tx_buf_append(&b, p, 1); /* \\ \' \" and anything else: the character */
            p++;
            continue;
        }
        tx_buf_append(&b, p, 1);
        p++;
    }
    if (*p != q) {
        tx_buf_free(&b);
        return NULL;
    }
    l->p = p + 1;
    return tx_buf_steal(&b);
}

static cJSON *value(lit *l);

static cJSON *sequence(lit *l, char close, bool dict)
{
    cJSON *out = dict ? cJSON_CreateObject() : cJSON_CreateArray();
    l->p++;
    skip_ws(l);
    if (*l->p == close) {
        l->p++;
        return out;
    }
    for (;;) {
        skip_ws(l);
        char *key = NULL;
        if (dict) {
            if (*l->p != '"' && *l->p != '\'') goto bad;
            key = quoted(l);
            if (!key) goto bad;
            skip_ws(l);
            if (*l->p != ':') {
                tx_free(key);
                goto bad;
            }
            l->p++;
        }
        cJSON *v = value(l);
        if (!v) {
            tx_free(key);
            goto bad;
        }
        if (dict)
            cJSON_AddItemToObject(out, key, v);
        else
            cJSON_AddItemToArray(out, v);
        tx_free(key);
        skip_ws(l);
        if (*l->p == ',') {
            l->p++;
            skip_ws(l);
            if (*l->p == close) { /* trailing comma, as Python allows */
                l->p++;
                return out;
            }
            continue;
        }
        if (*l->p == close) {
            l->p++;
            return out;
        }
        goto bad;
    }
bad:
    cJSON_Delete(out);
    return NULL;
}

static bool word(lit *l, const char *w)
{
    size_t n = strlen(w);
    if (strncmp(l->p, w, n) != 0 || isalnum((unsigned char)l->p[n]) || l->p[n] == '_') return false;
    l->p += n;
    return true;
}

static cJSON *value(lit *l)
{
    skip_ws(l);
    if (++l->depth > 64) return NULL;
    cJSON *v = NULL;
    char c = *l->p;
    if (c == '{')
        v = sequence(l, '}', true);
    else if (c == '[')
        v = sequence(l, ']', false);
    else if (c == '"' || c == '\'') {
        char *s = quoted(l);
        if (s) v = cJSON_CreateString(s);
        tx_free(s);
    } else if (word(l, "True") || word(l, "true"))
        v = cJSON_CreateTrue();
    else if (word(l, "False") || word(l, "false"))
        v = cJSON_CreateFalse();
    else if (word(l, "None") || word(l, "null") || word(l, "nil"))
        v = cJSON_CreateNull();
    else if (c == '-' || c == '+' || c == '.' || isdigit((unsigned char)c)) {
        char *end;
        double d = strtod(l->p, &end);
        if (end != l->p && isfinite(d)) {
            v = cJSON_CreateNumber(d);
            l->p = end;
        }
    }
    l->depth--;
    return v;
}

cJSON *sp_literal_parse(const char *text)
{
    lit l = {text, 0};
    cJSON *v = value(&l);
    if (!v) return NULL;
    skip_ws(&l);
    if (*l.p) {
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

/* The original read step arguments with Python's literal_eval, and its
 * examples quote dicts: with args "{'message': 'x'}". A quoted text whose
 * content is itself a dict or a list is that dict or list. */
cJSON *sp_literal_parse_unquoted(const char *text)
{
    cJSON *v = sp_literal_parse(text);
    if (!cJSON_IsString(v)) return v;
    const char *in = v->valuestring;
    while (isspace((unsigned char)*in))
        in++;
    if (*in != '{' && *in != '[') return v;
    cJSON *inner = sp_literal_parse(in);
    if (!cJSON_IsObject(inner) && !cJSON_IsArray(inner)) {
        cJSON_Delete(inner);
        return v;
    }
    cJSON_Delete(v);
    return inner;
}

char *sp_unquote(const char *text)
{
    size_t n = strlen(text);
    if (n < 2 || (text[0] != '"' && text[0] != '\'') || text[n - 1] != text[0]) return NULL;
    lit l = {text, 0};
    char *s = quoted(&l);
    if (s && *l.p) { /* "a" and "b": two strings, not one */
        tx_free(s);
        return NULL;
    }
    return s;
}

cJSON *sp_value_parse(const char *text)
{
    cJSON *v = sp_literal_parse(text);
    return v ? v : cJSON_CreateString(text);
}

/* ---- rendering ----------------------------------------------------------------------------- */

void sp_format_number(double d, char *buf, size_t cap)
{
    if (d == floor(d) && fabs(d) < 1e15) {
        snprintf(buf, cap, "%.0f", d);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) return;
    }
}

void sp_render_py(const cJSON *v, tx_buf *out)
{
    char num[40];
    if (!v || cJSON_IsNull(v)) {
        tx_buf_puts(out, "None");
    } else if (cJSON_IsBool(v)) {
        tx_buf_puts(out, cJSON_IsTrue(v) ? "True" : "False");
    } else if (cJSON_IsNumber(v)) {
        sp_format_number(v->valuedouble, num, sizeof num);
        tx_buf_puts(out, num);
    } else if (cJSON_IsString(v)) {
        tx_buf_puts(out, v->valuestring);
    } else {
        char *s = cJSON_PrintUnformatted(v);
        tx_buf_puts(out, s ? s : "?");
        cJSON_free(s);
    }
}

void sp_render_value(const cJSON *v, tx_buf *out)
{
    if (!v || cJSON_IsNull(v)) {
        tx_buf_puts(out, "nil");
    } else if (cJSON_IsString(v)) {
        tx_buf_json_string(out, v->valuestring, strlen(v->valuestring));
    } else if (cJSON_IsBool(v)) {
        tx_buf_puts(out, cJSON_IsTrue(v) ? "true" : "false");
    } else {
        sp_render_py(v, out);
    }
}

/* ---- comparison ---------------------------------------------------------------------------- */

static bool is_number_text(const char *s, double *d)
{
    char *end;
    if (!*s || isspace((unsigned char)*s)) return false;
    *d = strtod(s, &end);
    return *end == '\0' && isfinite(*d);
}

static bool numbers_equal(double a, double b)
{
    return a == b || fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

bool sp_value_equals(const cJSON *actual, const char *expected)
{
    char *q = sp_unquote(expected);
    if (q) {
        bool eq;
        if (cJSON_IsString(actual)) {
            eq = strcmp(actual->valuestring, q) == 0;
        } else {
            tx_buf b;
            tx_buf_init(&b, SP_TEXT_MAX);
            sp_render_py(actual, &b);
            eq = b.data && strcmp(b.data, q) == 0;
            tx_buf_free(&b);
        }
        tx_free(q);
        return eq;
    }
    if (tx_str_ieq(expected, "true") || tx_str_ieq(expected, "false")) {
        bool want = tx_str_ieq(expected, "true");
        if (cJSON_IsBool(actual)) return cJSON_IsTrue(actual) == want;
        if (cJSON_IsString(actual)) return tx_str_ieq(actual->valuestring, expected);
        return false;
    }
    if (tx_str_ieq(expected, "nil") || strcmp(expected, "None") == 0 ||
        strcmp(expected, "null") == 0)
        return !actual || cJSON_IsNull(actual);
    double want;
    if (is_number_text(expected, &want)) {
        double got;
        if (cJSON_IsNumber(actual)) return numbers_equal(actual->valuedouble, want);
        if (cJSON_IsString(actual) && is_number_text(actual->valuestring, &got))
            return numbers_equal(got, want);
        return false;
    }
    if (cJSON_IsArray(actual) || cJSON_IsObject(actual)) {
        cJSON *parsed = sp_literal_parse(expected);
        bool eq = parsed && cJSON_Compare(actual, parsed, true);
        cJSON_Delete(parsed);
        if (eq) return true;
    }
    tx_buf b;
    tx_buf_init(&b, SP_TEXT_MAX);
    sp_render_py(actual, &b);
    bool eq = b.data && strcmp(b.data, expected) == 0;
    tx_buf_free(&b);
    return eq;
}
