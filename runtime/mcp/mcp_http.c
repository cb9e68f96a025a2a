/*
 * mcp_http.c - an MCP server at a URL (spec: transports, Streamable HTTP):
 * every message is a POST; a request is answered with one JSON message or
 * an event stream whose events are messages (progress, the server's own
 * requests, then the response); notifications and responses get 202.
 * The session id the server gives at initialize goes on every later
 * request, with MCP-Protocol-Version; a 404 for our session means it
 * expired: the client initializes again (mcp_client.c). The HTTP itself is
 * the caller's (mcp_http_ops): no HTTP stack lives here.
 */
#define _GNU_SOURCE /* strcasestr */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mcp_internal.h"

typedef struct {
    mcp_client *c;
    mcp_wait *w;
    bool sse;       /* Content-Type: text/event-stream */
    tx_buf body;    /* a JSON answer, or the current SSE line */
    tx_buf event;   /* the data lines of the current event */
    bool over_cap;
} http_read;

static void on_header(void *ud, const char *line, size_t n)
{
    http_read *r = ud;
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    const char *colon = memchr(line, ':', n);
    if (!colon) return;
    size_t kn = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vn = n - kn - 1;
    while (vn && (*v == ' ' || *v == '\t')) v++, vn--;
    if (kn == 14 && strncasecmp(line, "mcp-session-id", 14) == 0) {
        /* Spec: visible ASCII only; anything else is not a session id. */
        bool ok = vn > 0 && vn < sizeof r->c->session;
        for (size_t i = 0; ok && i < vn; i++) ok = v[i] >= 0x21 && v[i] <= 0x7e;
        if (ok) snprintf(r->c->session, sizeof r->c->session, "%.*s", (int)vn, v);
    } else if (kn == 12 && strncasecmp(line, "content-type", 12) == 0) {
        r->sse = vn >= 17 && strncasecmp(v, "text/event-stream", 17) == 0;
    }
}

/* One line of the event stream (spec: HTML server-sent events): data lines
 * gather; a blank line ends the event, whose data is one message. */
static void sse_line(http_read *r, const char *line, size_t n)
{
    if (n && line[n - 1] == '\r') n--;
    if (n == 0) {
        if (r->event.len && r->w) mcp_incoming_text(r->w, r->event.data, r->event.len);
        tx_buf_clear(&r->event);
        return;
    }
    if (n >= 5 && strncmp(line, "data:", 5) == 0) {
        line += 5, n -= 5;
        if (n && *line == ' ') line++, n--;
        if ((r->event.len && tx_buf_append(&r->event, "\n", 1) != TX_OK) ||
            tx_buf_append(&r->event, line, n) != TX_OK)
            r->over_cap = true;
    }
    /* event:, id:, retry: and comments carry nothing we act on. */
}

static bool on_body(void *ud, const char *data, size_t n)
{
    http_read *r = ud;
    if (r->over_cap || (r->w && r->w->done)) return false;
    if (!r->sse) {
        if (tx_buf_append(&r->body, data, n) != TX_OK) r->over_cap = true;
        return !r->over_cap;
    }
    while (n) {
        const char *nl = memchr(data, '\n', n);
        size_t run = nl ? (size_t)(nl - data) : n;
        if (tx_buf_append(&r->body, data, run) != TX_OK) {
            r->over_cap = true;
            return false;
        }
        if (!nl) break;
        sse_line(r, r->body.data ? r->body.data : "", r->body.len);
        tx_buf_clear(&r->body);
        data += run + 1, n -= run + 1;
        if (r->over_cap || (r->w && r->w->done)) return false; /* the answer is in: stop reading */
    }
    return true;
}

static bool aborted(void *ud)
{
    http_read *r = ud;
    const mcp_call_opts *o = r->w ? r->w->o : NULL;
    return o && o->interrupted && o->interrupted(o->ud);
}

/* Our headers, then the server's configured ones: NULL-terminated, in
 * `bufs` (freed by the caller). */
static const char **request_headers(mcp_client *c, tx_buf *bufs, size_t *nb)
{
    size_t n = 0;
    while (c->headers[n]) n++;
    const char **h = tx_calloc(n + 6, sizeof *h);
    if (!h) return NULL;
    size_t k = 0;
    h[k++] = "Content-Type: application/json";
    h[k++] = "Accept: application/json, text/event-stream";
    *nb = 0;
    if (c->session[0]) {
        tx_buf_init(&bufs[*nb], 400);
        tx_buf_printf(&bufs[*nb], "Mcp-Session-Id: %s", c->session);
        h[k++] = bufs[(*nb)++].data;
    }
    if (c->version[0]) {
        tx_buf_init(&bufs[*nb], 100);
        tx_buf_printf(&bufs[*nb], "MCP-Protocol-Version: %s", c->version);
        h[k++] = bufs[(*nb)++].data;
    }
    for (size_t i = 0; i < n; i++) h[k++] = c->headers[i];
    h[k] = NULL;
    return h;
}

mcp_status mcp_http_post(mcp_client *c, const char *text, mcp_wait *w, long long deadline_ms,
                         mcp_error *err)
{
    if (!c->http.request)
        return mcp_fail(err, MCP_ESTART, "MCP server %s: no HTTP client is available", c->name);
    tx_buf bufs[2];
    size_t nb = 0;
    const char **headers = request_headers(c, bufs, &nb);
    if (!headers) return mcp_fail(err, MCP_ENOMEM, "out of memory");
    http_read r = {.c = c, .w = w};
    tx_buf_init(&r.body, c->max_message + 1);
    tx_buf_init(&r.event, c->max_message + 1);
    mcp_http_sink sink = {on_header, on_body, aborted, &r};
    long left = (long)(deadline_ms - hl_now_ms());
    char herr[512] = "";
    bool had_session = c->session[0] != '\0';
    long status = left > 0 ? c->http.request(c->http.ud, "POST", c->url, headers, text, left, &sink,
                                             herr, sizeof herr)
                           : -1;
    mcp_status st = MCP_OK;
    if (r.over_cap) {
        st = mcp_fail(err, MCP_ELIMIT, "MCP server %s sent a message over %zu bytes (the cap, "
                      "mcp_servers.%s.max_message)", c->name, c->max_message, c->name);
    } else if (w && w->done) {
        st = w->status; /* the answer came (the rest of the stream is not needed) */
    } else if (status < 0) {
        if (hl_now_ms() >= deadline_ms || left <= 0)
            st = mcp_fail(err, MCP_ETIMEOUT,
                          "MCP server %s did not answer within %.1f s (mcp_servers.%s.timeout, or "
                          "the run's time limit); the call was cancelled",
                          c->name, (double)c->timeout_ms / 1000.0, c->name);
        else if (aborted(&r))
            st = mcp_fail(err, MCP_EINTR, "the call to MCP server %s was interrupted", c->name);
        else
            st = mcp_fail(err, MCP_ESTART, "MCP server %s at %s: %s", c->name, c->url, herr);
    } else if (had_session && (status == 404 || (status == 400 && r.body.data &&
                                                  strcasestr(r.body.data, "session")))) {
        /* Spec: 404 for a session the server ended. Some servers (the
         * reference one among them) say 400 "No valid session ID": the same
         * news when we sent one. */
        c->session_expired = true;
        c->session[0] = '\0';
        st = mcp_fail(err, MCP_EHTTP, "MCP server %s ended our session (HTTP %ld)", c->name, status);
    } else if (status == 202 || status == 204) {
        if (w) st = mcp_fail(err, MCP_EPROTOCOL, "MCP server %s accepted a request without answering it (HTTP %ld)",
                             c->name, status);
    } else if (status < 200 || status > 299) {
        const char *b = r.body.data ? r.body.data : "";
        st = mcp_fail(err, MCP_EHTTP, "MCP server %s at %s answered HTTP %ld%s%s%.300s", c->name,
                      c->url, status,
                      status == 401 || status == 403 ? " (check its headers: mcp_servers.NAME.headers)" : "",
                      *b ? ": " : "", b);
    } else if (w) {
        if (r.sse) {
            if (r.body.len) sse_line(&r, r.body.data, r.body.len); /* a last line without newline */
            sse_line(&r, "", 0);
        } else if (r.body.len) {
            mcp_incoming_text(w, r.body.data, r.body.len);
        }
        if (!w->done)
            st = mcp_fail(err, MCP_EPROTOCOL, "MCP server %s's HTTP answer held no response", c->name);
        else
            st = w->status;
    }
    for (size_t i = 0; i < nb; i++) tx_buf_free(&bufs[i]);
    tx_free(headers);
    tx_buf_free(&r.body);
    tx_buf_free(&r.event);
    return st;
}

/* Spec: a client that no longer needs a session SHOULD end it with DELETE
 * (a server may answer 405: it does not let clients end sessions). */
void mcp_http_stop(mcp_client *c)
{
    if (!c->session[0] || !c->http.request) return;
    tx_buf bufs[2];
    size_t nb = 0;
    const char **headers = request_headers(c, bufs, &nb);
    if (headers) {
        http_read r = {.c = c};
        tx_buf_init(&r.body, 4096);
        tx_buf_init(&r.event, 4096);
        mcp_http_sink sink = {on_header, on_body, aborted, &r};
        char herr[256];
        c->http.request(c->http.ud, "DELETE", c->url, headers, NULL, 2000, &sink, herr, sizeof herr);
        tx_buf_free(&r.body);
        tx_buf_free(&r.event);
    }
    for (size_t i = 0; i < nb; i++) tx_buf_free(&bufs[i]);
    tx_free(headers);
    c->session[0] = '\0';
}
