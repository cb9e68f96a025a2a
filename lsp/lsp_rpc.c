/*
 * lsp_rpc.c - the base protocol: Content-Length framing in, framed JSON out.
 *
 * Input is untrusted bytes. Caps (lsp.h): a header section over
 * LSP_MAX_HEADER bytes is dropped as it arrives and the reader resynchronises
 * on the next blank line; a body over LSP_MAX_BODY is skipped byte by byte,
 * never stored. Either becomes an error item, answered in its turn with
 * id null (the id is inside what was refused). A header section without a
 * valid Content-Length is answered the same way. JSON is parsed by cJSON
 * (nesting limited to CJSON_NESTING_LIMIT, so a deep body cannot exhaust
 * the stack).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "lsp_internal.h"

cJSON *lsp_fail(lsp_error *err, int code, const char *fmt, ...)
{
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return NULL;
}

int64_t lsp_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- reader ------------------------------------------------------------------------------- */

void lsp_reader_init(lsp_reader *r)
{
    memset(r, 0, sizeof *r);
    tx_buf_init(&r->buf, LSP_MAX_BODY);
}

void lsp_reader_free(lsp_reader *r)
{
    for (size_t i = r->first_item; i < r->n_items; i++) {
        cJSON_Delete(r->items[i].json);
        tx_free(r->items[i].error_text);
    }
    tx_free(r->items);
    tx_buf_free(&r->buf);
    memset(r, 0, sizeof *r);
}

static tx_status push_item(lsp_reader *r, cJSON *json, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static tx_status push_item(lsp_reader *r, cJSON *json, int code, const char *fmt, ...)
{
    if (r->first_item == r->n_items) r->first_item = r->n_items = 0;
    if (r->n_items == r->cap_items) {
        size_t cap = r->cap_items ? r->cap_items * 2 : 16;
        lsp_inbound *items = tx_realloc(r->items, cap * sizeof *items);
        if (!items) {
            cJSON_Delete(json);
            return TX_ENOMEM;
        }
        r->items = items;
        r->cap_items = cap;
    }
    lsp_inbound *it = &r->items[r->n_items++];
    memset(it, 0, sizeof *it);
    it->json = json;
    it->error_code = code;
    if (fmt) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        it->error_text = tx_strdup(msg);
    }
    return TX_OK;
}

/* Content-Length of a complete header section (without the final blank
 * line), or -1 with why in `why`. */
static long long header_length(const char *h, size_t n, char *why, size_t cap)
{
    long long len = -1;
    size_t i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && !(h[e] == '\r' && e + 1 < n && h[e + 1] == '\n'))
            e++;
        const char *line = h + i;
        size_t ln = e - i;
        const char *colon = memchr(line, ':', ln);
        if (!colon) {
            snprintf(
                why, cap,
                "malformed header line (no ':'); each header is 'Name: value' ending in \\r\\n, "
                "and the headers end with an empty line");
            return -1;
        }
        size_t kn = (size_t)(colon - line);
        if (kn == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
            const char *v = colon + 1;
            const char *ve = line + ln;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (v == ve || ve - v > 18) {
                snprintf(why, cap, "Content-Length must be a decimal byte count");
                return -1;
            }
            long long val = 0;
            for (const char *p = v; p < ve; p++) {
                if (!isdigit((unsigned char)*p)) {
                    snprintf(why, cap, "Content-Length must be a decimal byte count, not '%.*s'",
                             (int)(ve - v > 40 ? 40 : ve - v), v);
                    return -1;
                }
                val = val * 10 + (*p - '0');
            }
            len = val;
        }
        i = e + 2;
    }
    if (len < 0)
        snprintf(why, cap, "the header section has no Content-Length; send 'Content-Length: N'");
    return len;
}

static tx_status finish_body(lsp_reader *r)
{
    const char *body = r->buf.data ? r->buf.data : "";
    size_t n = r->buf.len;
    cJSON *json = cJSON_ParseWithLength(body, n);
    tx_status st;
    if (!json) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= body && at <= body + n ? (size_t)(at - body) : n;
        st = push_item(r, NULL, LSP_PARSE_ERROR,
                       "the body is not valid JSON (error at byte %zu of %zu); send one JSON-RPC "
                       "object per message",
                       off, n);
    } else {
        st = push_item(r, json, 0, NULL);
    }
    tx_buf_clear(&r->buf);
    r->state = LSP_RD_HEADER;
    return st;
}

/* Finds \r\n\r\n in the header buffer, searching from `from`. */
static const char *find_blank(const tx_buf *b, size_t from)
{
    for (size_t i = from; i + 4 <= b->len; i++)
        if (memcmp(b->data + i, "\r\n\r\n", 4) == 0) return b->data + i;
    return NULL;
}

tx_status lsp_reader_feed(lsp_reader *r, const char *data, size_t n)
{
    size_t i = 0;
    while (i < n) {
        switch (r->state) {
        case LSP_RD_SKIP: {
            size_t k = n - i < r->skip_left ? n - i : r->skip_left;
            r->skip_left -= k;
            i += k;
            if (r->skip_left == 0) r->state = LSP_RD_HEADER;
            break;
        }
        case LSP_RD_RESYNC:
            /* Drop bytes until a blank line ends the oversized header section. */
            while (i < n) {
                r->tail = (r->tail << 8) | (unsigned char)data[i++];
                if (r->tail == 0x0d0a0d0au) {
                    r->state = LSP_RD_HEADER;
                    r->tail = 0;
                    break;
                }
            }
            break;
        case LSP_RD_HEADER: {
            size_t from = r->buf.len > 3 ? r->buf.len - 3 : 0;
            size_t room = LSP_MAX_HEADER + 4 - r->buf.len;
            size_t k = n - i < room ? n - i : room;
            if (tx_buf_append(&r->buf, data + i, k) != TX_OK) return TX_ENOMEM;
            const char *blank = find_blank(&r->buf, from);
            if (!blank) {
                i += k;
                if (r->buf.len > LSP_MAX_HEADER) {
                    /* Over the cap: keep nothing more of it. */
                    r->tail = 0;
                    for (size_t j = r->buf.len - 3; j < r->buf.len; j++)
                        r->tail = (r->tail << 8) | (unsigned char)r->buf.data[j];
                    tx_buf_clear(&r->buf);
                    r->state = LSP_RD_RESYNC;
                    if (push_item(r, NULL, LSP_INVALID_REQUEST,
                                  "header section over %u bytes, refused unread; headers are "
                                  "'Content-Length: N' and at most a Content-Type",
                                  LSP_MAX_HEADER) != TX_OK)
                        return TX_ENOMEM;
                }
                break;
            }
            size_t hlen = (size_t)(blank - r->buf.data);
            /* Bytes of this chunk past the blank line belong to the body. */
            size_t used = hlen + 4 - (r->buf.len - k);
            i += used;
            char why[256];
            long long len = header_length(r->buf.data, hlen, why, sizeof why);
            tx_buf_clear(&r->buf);
            if (len < 0) {
                if (push_item(r, NULL, LSP_PARSE_ERROR, "%s", why) != TX_OK) return TX_ENOMEM;
            } else if ((unsigned long long)len > LSP_MAX_BODY) {
                r->state = LSP_RD_SKIP;
                r->skip_left = (size_t)len;
                if (push_item(r, NULL, LSP_INVALID_REQUEST,
                              "message body of %lld bytes is over the %u MiB limit; it was "
                              "skipped unread (split the document or send smaller messages)",
                              len, LSP_MAX_BODY >> 20) != TX_OK)
                    return TX_ENOMEM;
            } else {
                r->state = LSP_RD_BODY;
                r->body_len = (size_t)len;
                if (len == 0 && finish_body(r) != TX_OK) return TX_ENOMEM;
            }
            break;
        }
        case LSP_RD_BODY: {
            size_t k = r->body_len - r->buf.len;
            if (k > n - i) k = n - i;
            if (tx_buf_append(&r->buf, data + i, k) != TX_OK) return TX_ENOMEM;
            i += k;
            if (r->buf.len == r->body_len && finish_body(r) != TX_OK) return TX_ENOMEM;
            break;
        }
        }
    }
    return TX_OK;
}

/* ---- writer ------------------------------------------------------------------------------- */

/* cJSON copies string bytes as they are; the protocol is UTF-8, so any
 * invalid byte (from a damaged document quoted in a message) becomes
 * U+FFFD. Bytes >= 0x80 only occur inside strings, so this is safe.
 * Returns a new buffer (tx_free it), or NULL when s is already valid. */
static char *sanitized(const char *s, size_t n, size_t *out_n)
{
    if (tx_utf8_invalid_at(s, n) == n) return NULL;
    tx_buf b;
    tx_buf_init(&b, (size_t)-1);
    size_t i = 0;
    while (i < n) {
        size_t ok = tx_utf8_invalid_at(s + i, n - i);
        tx_buf_append(&b, s + i, ok);
        i += ok;
        if (i < n) {
            tx_buf_append(&b, "\xEF\xBF\xBD", 3);
            i++;
        }
    }
    *out_n = b.len;
    return tx_buf_steal(&b);
}

void lsp_log_message(lsp_writer *w, const char *dir, const char *body, size_t n)
{
    if (!w->log) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    fprintf(w->log, "[%02d:%02d:%02d.%03ld] %s %zu bytes\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
            (long)(tv.tv_usec / 1000), dir, n);
    size_t shown = n > 65536 ? 65536 : n;
    fwrite(body, 1, shown, w->log);
    if (shown < n) fprintf(w->log, "... (%zu more bytes)", n - shown);
    fputc('\n', w->log);
    fflush(w->log);
}

void lsp_log(lsp_writer *w, const char *fmt, ...)
{
    if (!w->log) return;
    pthread_mutex_lock(&w->mu);
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", w->log);
    vfprintf(w->log, fmt, ap);
    fputc('\n', w->log);
    va_end(ap);
    fflush(w->log);
    pthread_mutex_unlock(&w->mu);
}

void lsp_notify(lsp_writer *w, const char *method, cJSON *params)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddStringToObject(m, "method", method);
    lsp_add(m, "params", params);
    lsp_send(w, m);
    cJSON_Delete(m);
}

void lsp_send(lsp_writer *w, const cJSON *msg)
{
    char *printed = cJSON_PrintUnformatted(msg);
    if (!printed) return; /* out of memory: nothing sensible to send */
    size_t n = strlen(printed);
    char *clean = sanitized(printed, n, &n);
    const char *body = clean ? clean : printed;
    char head[64];
    int hn = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", n);
    pthread_mutex_lock(&w->mu);
    if (!w->broken) {
        if (!w->write(w->ud, head, (size_t)hn) || !w->write(w->ud, body, n)) w->broken = true;
    }
    lsp_log_message(w, "-->", body, n);
    pthread_mutex_unlock(&w->mu);
    tx_free(clean);
    cJSON_free(printed);
}
