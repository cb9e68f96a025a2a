/*
 * proto.c - frame codec and message helpers. See proto.h.
 */
#include "proto.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tp_decoder_init(tp_decoder *d, size_t max_frame)
{
    /* The buffer holds at most one frame plus its header and a read's worth. */
    tx_buf_init(&d->in, max_frame + 4 + 65536);
    d->max = max_frame;
    d->failed = false;
}

void tp_decoder_free(tp_decoder *d)
{
    tx_buf_free(&d->in);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

tx_status tp_decoder_feed(tp_decoder *d, const void *bytes, size_t n)
{
    if (d->failed) return TX_EINVAL;
    tx_status st = tx_buf_append(&d->in, bytes, n);
    if (st != TX_OK) d->failed = true;
    return st;
}

/* Whether every number under these siblings is finite (depth: cJSON's
 * nesting limit). */
static bool numbers_finite(const cJSON *c)
{
    for (; c; c = c->next) {
        if (cJSON_IsNumber(c) && !isfinite(c->valuedouble)) return false;
        if (c->child && !numbers_finite(c->child)) return false;
    }
    return true;
}

/* Whether a payload is one the protocol carries: a JSON object whose numbers
 * are all finite. A number out of a double's range (1e999) parses as
 * infinity, which cJSON prints as null: refused, so that a frame means the
 * same to both sides and in the journal (tests/fuzz/fuzz_proto.c checks the
 * round trip). Neither side sends one: the runtime's encoder refuses them. */
static bool payload_ok(const cJSON *j)
{
    return j && cJSON_IsObject(j) && numbers_finite(j->child);
}

tx_status tp_decoder_next(tp_decoder *d, cJSON **json)
{
    *json = NULL;
    if (d->failed) return TX_EINVAL;
    if (d->in.len < 4) return TX_OK;
    uint32_t n = be32((const unsigned char *)d->in.data);
    if (n == 0) {
        d->failed = true;
        return TX_EINVAL;
    }
    if (n > d->max) {
        d->failed = true;
        return TX_ELIMIT;
    }
    if (d->in.len - 4 < n) return TX_OK;
    cJSON *j = cJSON_ParseWithLength(d->in.data + 4, n);
    memmove(d->in.data, d->in.data + 4 + n, d->in.len - 4 - n);
    d->in.len -= 4 + (size_t)n;
    d->in.data[d->in.len] = '\0';
    if (!payload_ok(j)) {
        cJSON_Delete(j);
        d->failed = true;
        return TX_EINVAL;
    }
    *json = j;
    return TX_OK;
}

tx_status tp_encode_text(const char *text, size_t n, tx_buf *out)
{
    if (n == 0) return TX_EINVAL;
    if (n > TP_MAX_FRAME) return TX_ELIMIT;
    unsigned char hdr[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                            (unsigned char)(n >> 8), (unsigned char)n};
    tx_status st = tx_buf_append(out, (const char *)hdr, 4);
    if (st == TX_OK) st = tx_buf_append(out, text, n);
    return st;
}

tx_status tp_encode(const cJSON *json, tx_buf *out)
{
    char *text = cJSON_PrintUnformatted(json);
    if (!text) return TX_ENOMEM;
    tx_status st = tp_encode_text(text, strlen(text), out);
    cJSON_free(text);
    return st;
}

static tx_status write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return TX_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return TX_OK;
}

tx_status tp_write_frame(int fd, const cJSON *json)
{
    tx_buf b;
    tx_buf_init(&b, TP_MAX_FRAME + 4);
    tx_status st = tp_encode(json, &b);
    if (st == TX_OK) st = write_all(fd, b.data, b.len);
    tx_buf_free(&b);
    return st;
}

/* Reads exactly n bytes; TX_ENOENT on end of file before the first byte. */
static tx_status read_exact(int fd, char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return TX_EIO;
        }
        if (r == 0) return got == 0 ? TX_ENOENT : TX_EIO;
        got += (size_t)r;
    }
    return TX_OK;
}

tx_status tp_read_frame(int fd, size_t max_frame, cJSON **json)
{
    *json = NULL;
    unsigned char hdr[4];
    tx_status st = read_exact(fd, (char *)hdr, 4);
    if (st != TX_OK) return st;
    uint32_t n = be32(hdr);
    if (n == 0) return TX_EINVAL;
    if (n > max_frame) return TX_ELIMIT;
    char *buf = tx_malloc(n);
    if (!buf) return TX_ENOMEM;
    st = read_exact(fd, buf, n);
    if (st == TX_ENOENT) st = TX_EIO; /* end of file inside a frame */
    if (st == TX_OK) {
        cJSON *j = cJSON_ParseWithLength(buf, n);
        if (!payload_ok(j)) {
            cJSON_Delete(j);
            st = TX_EINVAL;
        } else {
            *json = j;
        }
    }
    tx_free(buf);
    return st;
}

cJSON *tp_request(long id, const char *method, cJSON *params)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        cJSON_Delete(params);
        return NULL;
    }
    if (id >= 0) cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "method", method);
    cJSON_AddItemToObject(o, "params", params ? params : cJSON_CreateObject());
    return o;
}

cJSON *tp_event(long id, const char *event, cJSON *data)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        cJSON_Delete(data);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "event", event);
    cJSON_AddItemToObject(o, "data", data ? data : cJSON_CreateObject());
    return o;
}

cJSON *tp_error(long id, const char *type, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "event", "error");
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    if (e) {
        cJSON_AddStringToObject(e, "type", type);
        cJSON_AddStringToObject(e, "message", message);
    }
    return o;
}

/* ---- JSON text from people and procedures -------------------------------------------------------------- */

static void json_where(const char *s, size_t n, size_t off, int *line, int *col)
{
    *line = 1;
    size_t ls = 0;
    for (size_t i = 0; i < off && i < n; i++)
        if (s[i] == '\n') (*line)++, ls = i + 1;
    *col = (int)tx_utf8_count(s + ls, (off < n ? off : n) - ls) + 1;
}

static int hex4(const char *p, const char *end)
{
    if (end - p < 4) return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The first hazard of the text (see tp_json_parse_strict), as a message in
 * err, or false when there is none. Only lexical: strings, escapes and
 * brackets; cJSON judges the grammar afterwards. */
static bool json_hazard(const char *s, size_t n, int max_depth, char *err, size_t cap)
{
    int depth = 0, line, col;
    bool in_string = false;
    const char *what = NULL;
    size_t at = 0;
    size_t bad = tx_utf8_invalid_at(s, n);
    for (size_t i = 0; i < n && !what; i++) {
        char c = s[i];
        if (i == bad) {
            what = "a byte that is not UTF-8; JSON text must be UTF-8";
            at = i;
        } else if (c == '\0') {
            what = "a NUL byte; JSON text cannot hold one";
            at = i;
        } else if (in_string) {
            if (c == '"') {
                in_string = false;
            } else if (c == '\\' && i + 1 < n) {
                if (s[i + 1] == 'u') {
                    int u = hex4(s + i + 2, s + n);
                    if (u == 0) {
                        what = "a NUL character (\\u0000) in a string; Tactus strings cannot "
                               "hold it: remove it or send the bytes another way (base64)";
                        at = i;
                    } else if (u >= 0xD800 && u <= 0xDBFF) {
                        int lo = (i + 7 < n && s[i + 6] == '\\' && s[i + 7] == 'u')
                                     ? hex4(s + i + 8, s + n)
                                     : -1;
                        if (lo < 0xDC00 || lo > 0xDFFF) {
                            what = "a lone UTF-16 surrogate (\\ud800-\\udbff must be followed by "
                                   "\\udc00-\\udfff); write the character itself or its "
                                   "surrogate pair";
                            at = i;
                        } else {
                            i += 6; /* the pair's low half is checked here */
                        }
                    } else if (u >= 0xDC00 && u <= 0xDFFF) {
                        what = "a lone UTF-16 surrogate (\\udc00-\\udfff without a high half "
                               "before it); write the character itself or its surrogate pair";
                        at = i;
                    }
                }
                i++;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            /* A number: the whole token, judged as a double will hold it. */
            size_t j = i + 1;
            bool whole = true;
            while (j < n && strchr("0123456789.eE+-", s[j])) {
                if (s[j] == '.' || s[j] == 'e' || s[j] == 'E') whole = false;
                j++;
            }
            char num[64];
            if (j - i < sizeof num) {
                memcpy(num, s + i, j - i);
                num[j - i] = '\0';
                double d = strtod(num, NULL);
                if (!isfinite(d)) {
                    what = "a number beyond a double's range; send it as a string";
                    at = i;
                } else if (whole && fabs(d) >= TP_JSON_MAX_EXACT) {
                    what = "a whole number beyond +-9007199254740991 (2^53 - 1), which would "
                           "arrive as another number; send it as a string";
                    at = i;
                }
            }
            i = j - 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) {
                at = i;
                json_where(s, n, at, &line, &col);
                snprintf(err, cap,
                         "line %d, column %d: arrays and objects nested more than %d deep; "
                         "flatten the data",
                         line, col, max_depth);
                return true;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    if (!what) return false;
    json_where(s, n, at, &line, &col);
    snprintf(err, cap, "line %d, column %d: %s", line, col, what);
    return true;
}

static int cmp_key_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first key found twice in one object of the tree, or NULL. */
static const char *duplicate_key(const cJSON *v, int depth)
{
    if (!v || depth > TP_JSON_MAX_DEPTH + 2) return NULL;
    if (cJSON_IsObject(v)) {
        size_t n = 0;
        for (const cJSON *c = v->child; c; c = c->next) n++;
        if (n > 1) {
            const char **keys = tx_malloc(n * sizeof *keys);
            if (keys) {
                size_t k = 0;
                for (const cJSON *c = v->child; c; c = c->next) keys[k++] = c->string ? c->string : "";
                qsort(keys, n, sizeof *keys, cmp_key_ptr);
                const char *dup = NULL;
                for (size_t i = 1; i < n && !dup; i++)
                    if (strcmp(keys[i - 1], keys[i]) == 0) dup = keys[i];
                tx_free(keys);
                if (dup) return dup;
            }
        }
    }
    for (const cJSON *c = v->child; c; c = c->next) {
        const char *d = duplicate_key(c, depth + 1);
        if (d) return d;
    }
    return NULL;
}

cJSON *tp_json_parse_strict(const char *s, size_t n, int max_depth, char *err, size_t cap)
{
    if (n == 0) {
        snprintf(err, cap, "empty input is not JSON");
        return NULL;
    }
    if (json_hazard(s, n, max_depth, err, cap)) return NULL;
    const char *end = NULL;
    cJSON *tree = cJSON_ParseWithLengthOpts(s, n, &end, false);
    if (tree) {
        while (end < s + n && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
        if (end == s + n) {
            const char *dup = duplicate_key(tree, 0);
            if (!dup) return tree;
            snprintf(err, cap, "the key \"%.100s\" appears twice in one object; one of its values "
                     "would be lost: keep one", dup);
            cJSON_Delete(tree);
            return NULL;
        }
    }
    size_t off = end && end >= s && end <= s + n ? (size_t)(end - s) : 0;
    int line, col;
    json_where(s, n, off, &line, &col);
    char near[24];
    size_t k = 0;
    for (size_t i = off; i < n && k < 16; i++)
        near[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    near[k] = '\0';
    snprintf(err, cap, "line %d, column %d: %s%s%s%s", line, col,
             tree ? "unexpected text after the JSON value" : "invalid JSON", k ? " (near '" : "",
             near, k ? "')" : "");
    cJSON_Delete(tree);
    return NULL;
}
