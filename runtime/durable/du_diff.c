/*
 * du_diff.c - what changed between a recorded request and the one a
 * resumed run asks now, said for people: the first differing JSON path and
 * its old and new values, long values shown around the difference.
 */
#include <stdio.h>
#include <string.h>

#include "du_internal.h"

/* The first place where a recorded value `a` and a new one `b` differ, as a
 * JSON path ("messages[0].content", "args.channel"): true, with *oa and *ob the
 * values there (NULL: absent). `top` skips the source line. */
static bool first_diff(const cJSON *a, const cJSON *b, bool top, char *path, size_t cap,
                       const cJSON **oa, const cJSON **ob, int depth)
{
    size_t len = strlen(path);
    if (depth < 64 && cJSON_IsObject(a) && cJSON_IsObject(b)) {
        const cJSON *o;
        cJSON_ArrayForEach(o, b)
        {
            if (top && strcmp(o->string, "line") == 0) continue;
            snprintf(path + len, cap - len, "%s%s", len ? "." : "", o->string);
            const cJSON *was = cJSON_GetObjectItemCaseSensitive(a, o->string);
            if (!was) {
                *oa = NULL;
                *ob = o;
                return true;
            }
            if (first_diff(was, o, false, path, cap, oa, ob, depth + 1)) return true;
        }
        cJSON_ArrayForEach(o, a)
        {
            if ((top && strcmp(o->string, "line") == 0) || cJSON_HasObjectItem(b, o->string)) continue;
            snprintf(path + len, cap - len, "%s%s", len ? "." : "", o->string);
            *oa = o;
            *ob = NULL;
            return true;
        }
        path[len] = '\0';
        return false;
    }
    if (depth < 64 && cJSON_IsArray(a) && cJSON_IsArray(b)) {
        int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
        for (int i = 0; i < na || i < nb; i++) {
            snprintf(path + len, cap - len, "[%d]", i);
            const cJSON *x = cJSON_GetArrayItem(a, i), *y = cJSON_GetArrayItem(b, i);
            if (!x || !y) {
                *oa = x;
                *ob = y;
                return true;
            }
            if (first_diff(x, y, false, path, cap, oa, ob, depth + 1)) return true;
        }
        path[len] = '\0';
        return false;
    }
    char *ta = tj_canonical_json(a), *tb = tj_canonical_json(b);
    bool differ = !ta || !tb || strcmp(ta, tb) != 0;
    tx_free(ta);
    tx_free(tb);
    if (differ) {
        *oa = a;
        *ob = b;
    }
    return differ;
}

#define SHOWN_BYTES 160

/* A value for a message: its JSON from byte `from` (a little before where
 * two long values first differ, so the difference shows), at most
 * SHOWN_BYTES, cut on UTF-8 boundaries with "…"; *cut is set when it was. */
static void shown_value(const char *t, size_t from, char *out, size_t cap, bool *cut)
{
    size_t len = strlen(t);
    if (len <= SHOWN_BYTES) {
        snprintf(out, cap, "%s", t);
        return;
    }
    *cut = true;
    while (from > 0 && ((unsigned char)t[from] & 0xC0) == 0x80) from--;
    size_t n = len - from > SHOWN_BYTES ? SHOWN_BYTES : len - from;
    while (from + n < len && n > 0 && ((unsigned char)t[from + n] & 0xC0) == 0x80) n--;
    snprintf(out, cap, "%s%.*s%s", from ? "\u2026" : "", (int)n, t + from,
             from + n < len ? "\u2026" : "");
}

/* Where two texts first differ, less some context: the `from` of both. */
static size_t shown_from(const char *a, const char *b)
{
    size_t d = 0;
    while (a[d] && a[d] == b[d]) d++;
    return d > 40 ? d - 40 : 0;
}

/* What differs between a recorded request and a new one, for people: the
 * first differing JSON path and its old and new values. */
void du_describe_change(const cJSON *old_params, const cJSON *new_params, char *out, size_t cap)
{
    char path[256] = "";
    const cJSON *oa = NULL, *ob = NULL;
    if (!first_diff(old_params, new_params, true, path, sizeof path, &oa, &ob, 0)) {
        snprintf(out, cap, "the method changed");
        return;
    }
    char was[SHOWN_BYTES + 16], now[SHOWN_BYTES + 16];
    bool cut = false;
    if (!ob) {
        snprintf(out, cap, "'%s' is no longer given", path);
        return;
    }
    char *tb = tj_canonical_json(ob), *ta = oa ? tj_canonical_json(oa) : NULL;
    if (!tb || (oa && !ta)) {
        snprintf(out, cap, "'%s' changed", path);
    } else if (!oa) {
        shown_value(tb, 0, now, sizeof now, &cut);
        snprintf(out, cap, "'%s' was absent, now %s%s", path, now,
                 cut ? " (cut at 160 bytes; tactus show RUN --json has the whole request)" : "");
    } else {
        size_t from = shown_from(ta, tb);
        shown_value(ta, from, was, sizeof was, &cut);
        shown_value(tb, from, now, sizeof now, &cut);
        snprintf(out, cap, "'%s' was %s, now %s%s", path, was, now,
                 cut ? " (values cut at 160 bytes around the first difference; tactus show RUN "
                       "--json has the whole request)"
                     : "");
    }
    tx_free(ta);
    tx_free(tb);
}
