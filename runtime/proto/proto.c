/*
 * proto.c - frame codec and message helpers. See proto.h.
 */
#include "proto.h"

#include <errno.h>
#include <math.h>
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
