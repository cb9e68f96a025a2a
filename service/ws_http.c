/*
 * ws_http.c - the server: libmicrohttpd owns HTTP (parsing, connections),
 * OpenSSL the TLS in front of it (ws_tls.c); this file owns what comes before a route runs: the body's cap,
 * who is asking (a token or a session), the rate limit per token, the
 * security headers of every reply, the journal connections, and the
 * server's start and stop.
 *
 * Threads: one per connection (MHD_USE_THREAD_PER_CONNECTION, small
 * stacks), so that a stream may wait for news without holding up others
 * and a slow client holds only its own thread, closed when it sends
 * nothing for idle_timeout_s. Connections are capped in number (and per
 * address if asked), so many slow clients cannot take the machine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "hostlib.h"
#include "ws_internal.h"
#include "ws_tls.h"

void ws_options_init(ws_options *o)
{
    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:8420";
    o->max_body = 1L << 20;
    o->rate = 100;
    o->max_connections = 2048;
    o->idle_timeout_s = 15;
    /* One address may not hold every connection (slowloris); behind a
     * proxy that is the proxy's address: raise it there (--per-ip). */
    o->per_ip_connections = 256;
    o->streams_per_token = 32;
}

/* ---- replies ----------------------------------------------------------------------------- */

/* Every reply: no caching, no sniffing, no framing, and a policy under
 * which the page can run only our own script and style (no inline code),
 * so text a procedure wrote can never become code even if escaping failed. */
void ws_security_headers(struct MHD_Response *resp, bool tls)
{
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    /* same-origin, not no-referrer: under no-referrer a browser sends
     * "Origin: null" with the page's own forms, and the origin check of
     * every POST (ws_ui.c) needs the real one. */
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    if (tls) MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

enum MHD_Result ws_reply(ws_req *r, unsigned status, const char *type, const char *body, size_t len,
                         const char *const *headers)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    if (type) MHD_add_response_header(resp, "Content-Type", type);
    ws_security_headers(resp, r->srv->tls);
    for (size_t i = 0; headers && headers[i]; i += 2) MHD_add_response_header(resp, headers[i], headers[i + 1]);
    enum MHD_Result res = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    if (r->srv->opt.log) {
        char url[512];
        ws_log_safe(r->url, url, sizeof url); /* a decoded %0a would forge a line */
        fprintf(r->srv->opt.log, "%s %s %u %s\n", r->method, url, status, r->authed ? r->tok.id : "-");
        fflush(r->srv->opt.log);
    }
    return res;
}

enum MHD_Result ws_reply_json(ws_req *r, unsigned status, const cJSON *doc)
{
    char *text = cJSON_PrintUnformatted(doc);
    if (!text) return ws_problem(r, 500, "out_of_memory", "the reply could not be made");
    enum MHD_Result res = ws_reply(r, status, "application/json", text, strlen(text), NULL);
    cJSON_free(text);
    return res;
}

static const char *reason_of(unsigned status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Error";
    }
}

enum MHD_Result ws_problem(ws_req *r, unsigned status, const char *code, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    cJSON *doc = cJSON_CreateObject();
    char type[160];
    snprintf(type, sizeof type, "https://tactus.invalid/problems/%s", code);
    cJSON_AddStringToObject(doc, "type", type);
    cJSON_AddStringToObject(doc, "title", reason_of(status));
    cJSON_AddNumberToObject(doc, "status", status);
    cJSON_AddStringToObject(doc, "detail", detail);
    cJSON_AddStringToObject(doc, "code", code);
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    static const char *const h401[] = {"WWW-Authenticate", "Bearer realm=\"tactus\"", NULL};
    static const char *const h429[] = {"Retry-After", "1", NULL};
    enum MHD_Result res = ws_reply(r, status, "application/problem+json", text ? text : "{}",
                                   text ? strlen(text) : 2,
                                   status == 401 ? h401 : status == 429 ? h429 : NULL);
    cJSON_free(text);
    return res;
}

enum MHD_Result ws_redirect(ws_req *r, const char *location, const char *set_cookie)
{
    const char *h[] = {"Location", location, set_cookie ? "Set-Cookie" : NULL, set_cookie, NULL};
    return ws_reply(r, 303, "text/plain; charset=utf-8", "", 0, h);
}

const char *ws_header(ws_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *ws_query(ws_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* What each role may do: viewer reads, submitter submits and cancels,
 * approver answers, admin all of it. */
bool ws_role_can(ws_role role, const char *action)
{
    if (!strcmp(action, "view")) return true;
    if (role == WS_ROLE_ADMIN) return true;
    if (!strcmp(action, "submit") || !strcmp(action, "cancel")) return role == WS_ROLE_SUBMITTER;
    if (!strcmp(action, "answer")) return role == WS_ROLE_APPROVER;
    return false;
}

bool ws_allow(ws_req *r, const char *action, enum MHD_Result *res)
{
    if (ws_role_can(r->tok.role, action)) return true;
    *res = ws_problem(r, 403, "forbidden", "a %s token may not %s (ask for a token with the role that may)",
                      ws_role_name(r->tok.role), action);
    return false;
}

/* ---- the journal pool --------------------------------------------------------------------- */

tj_journal *ws_journal_get(ws_server *s, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->pool_lock);
    tj_journal *j = s->n_pool ? s->pool[--s->n_pool] : NULL;
    pthread_mutex_unlock(&s->pool_lock);
    if (j) return j;
    if (tj_open(s->opt.store, &j, err, errlen) != TX_OK) return NULL;
    return j;
}

/* Returned connections are kept for the next request, unless this one
 * failed (a connection the store dropped is not handed on) or the pool is
 * full. */
void ws_journal_put(ws_server *s, tj_journal *j)
{
    if (!j) return;
    pthread_mutex_lock(&s->pool_lock);
    bool keep = s->n_pool < WS_POOL_MAX && tj_store_failures(j) == 0;
    if (keep) s->pool[s->n_pool++] = j;
    pthread_mutex_unlock(&s->pool_lock);
    if (!keep) tj_close(j);
}

/* ---- the pending list's short cache -------------------------------------------------------- */

static ws_list_cache *cache_slot(ws_server *s, const char *tenant, bool take)
{
    ws_list_cache *oldest = &s->list_cache[0];
    for (int i = 0; i < WS_LIST_CACHE; i++) {
        ws_list_cache *c = &s->list_cache[i];
        if (c->text && !strcmp(c->tenant, tenant)) return c;
        if (!c->text || c->at_ms < oldest->at_ms) oldest = c;
    }
    return take ? oldest : NULL;
}

char *ws_list_cached(ws_server *s, const char *tenant)
{
    pthread_mutex_lock(&s->cache_lock);
    ws_list_cache *c = cache_slot(s, tenant, false);
    char *copy = c && hl_now_ms() - c->at_ms < WS_LIST_FRESH_MS ? tx_strdup(c->text) : NULL;
    pthread_mutex_unlock(&s->cache_lock);
    return copy;
}

void ws_list_store(ws_server *s, const char *tenant, const char *text)
{
    char *copy = tx_strdup(text);
    if (!copy) return;
    pthread_mutex_lock(&s->cache_lock);
    ws_list_cache *c = cache_slot(s, tenant, true);
    tx_free(c->text);
    snprintf(c->tenant, sizeof c->tenant, "%s", tenant);
    c->text = copy;
    c->at_ms = hl_now_ms();
    pthread_mutex_unlock(&s->cache_lock);
}

void ws_list_forget(ws_server *s, const char *tenant)
{
    pthread_mutex_lock(&s->cache_lock);
    ws_list_cache *c = cache_slot(s, tenant, false);
    if (c) {
        tx_free(c->text);
        c->text = NULL;
    }
    pthread_mutex_unlock(&s->cache_lock);
}

/* ---- who is asking ----------------------------------------------------------------------- */

/* A token bucket per token: `rate` requests a second, bursts of twice that.
 * A fixed table, so that many tokens cannot grow memory: when it is full
 * the least recently used slot is taken. */
static bool rate_ok(ws_server *s, const char *token_id)
{
    if (s->opt.rate <= 0) return true;
    long long now = hl_now_ms();
    pthread_mutex_lock(&s->rate_lock);
    ws_bucket *b = NULL, *oldest = &s->buckets[0];
    for (int i = 0; i < WS_RATE_SLOTS && !b; i++) {
        ws_bucket *x = &s->buckets[i];
        if (!strcmp(x->token_id, token_id)) b = x;
        else if (x->last_ms < oldest->last_ms) oldest = x;
    }
    if (!b) {
        b = oldest;
        snprintf(b->token_id, sizeof b->token_id, "%s", token_id);
        b->tokens = 2.0 * (double)s->opt.rate;
        b->last_ms = now;
    }
    b->tokens += (double)(now - b->last_ms) * (double)s->opt.rate / 1000.0;
    if (b->tokens > 2.0 * (double)s->opt.rate) b->tokens = 2.0 * (double)s->opt.rate;
    b->last_ms = now;
    bool ok = b->tokens >= 1.0;
    if (ok) b->tokens -= 1.0;
    pthread_mutex_unlock(&s->rate_lock);
    return ok;
}

/* The value of cookie `name` in the Cookie header (MHD parses it). */
static const char *cookie(ws_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

/* Fills r->tok from "Authorization: Bearer TOKEN", else from the session
 * cookie. A session authenticates the inbox page and reads of the API; it
 * never authorises an API write (those need the bearer token, which a
 * forged cross-site request cannot carry). */
static void authenticate(ws_req *r)
{
    const char *auth = ws_header(r, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *t = auth + 7;
        while (*t == ' ') t++;
        r->authed = ws_keyring_check(r->srv->keys, t, &r->tok);
        return;
    }
    const char *sid = cookie(r, "tactus_session");
    ws_session sess;
    if (sid && ws_session_find(r->srv, sid, &sess, &r->tok)) {
        r->authed = true;
        r->via_session = true;
        snprintf(r->csrf, sizeof r->csrf, "%s", sess.csrf);
        snprintf(r->session_id, sizeof r->session_id, "%s", sess.id);
    }
}

static enum MHD_Result dispatch(ws_req *r)
{
    if (!strcmp(r->url, "/healthz")) return ws_reply(r, 200, "text/plain; charset=utf-8", "ok\n", 3, NULL);
    if (!strcmp(r->url, "/favicon.ico")) return ws_reply(r, 204, NULL, "", 0, NULL);
    authenticate(r);
    if (r->authed && !rate_ok(r->srv, r->tok.id))
        return ws_problem(r, 429, "rate_limited", "more than %ld requests a second with this token; retry after a second",
                          r->srv->opt.rate);
    if (!strncmp(r->url, "/v1/", 4) || !strcmp(r->url, "/v1")) {
        if (!strcmp(r->url, "/v1/openapi.json"))
            return ws_reply(r, 200, "application/json", ws_asset_openapi_json, ws_asset_openapi_json_len, NULL);
        if (!r->authed)
            return ws_problem(r, 401, "unauthorized",
                              "send an API token as 'Authorization: Bearer TOKEN' (tactus tokens create makes one)");
        if (r->via_session && strcmp(r->method, "GET") != 0)
            return ws_problem(r, 403, "bearer_required",
                              "API writes take a bearer token; the page's session may only read");
        return ws_api_route(r);
    }
    return ws_ui_route(r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **con_cls)
{
    (void)version;
    ws_server *s = cls;
    ws_req *r = *con_cls;
    if (!r) {
        r = tx_calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        r->srv = s;
        r->conn = c;
        r->url = url;
        r->method = method;
        tx_buf_init(&r->body, (size_t)s->opt.max_body);
        *con_cls = r;
        /* A declared body over the cap is refused before a byte of it is read. */
        const char *cl = ws_header(r, "Content-Length");
        if (cl && strtoll(cl, NULL, 10) > s->opt.max_body) {
            r->too_large = true;
            return ws_problem(r, 413, "body_too_large", "the body may have at most %ld bytes", s->opt.max_body);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->too_large && tx_buf_append(&r->body, upload_data, *upload_size) != TX_OK) {
            /* A chunked body that grew past the cap: the connection is closed. */
            r->too_large = true;
            return MHD_NO;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_large) return MHD_YES; /* replied already */
    return dispatch(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    ws_req *r = *con_cls;
    if (!r) return;
    tx_buf_free(&r->body);
    tx_free(r);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    ws_server *s = cls;
    if (!s->opt.log) return;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    /* Under TLS MHD's sockets are the plaintext ends of socket pairs
     * (ws_tls.c): it cannot set TCP options on them, and need not (there
     * is no Nagle to turn off); ws_tls sets TCP_NODELAY on the client's. */
    if (s->tls && (!strncmp(line, "Setting TCP_", 12) || !strncmp(line, "Failed to push the data", 23))) return;
    fprintf(s->opt.log, "tactus serve: %s", line);
    fflush(s->opt.log);
}

/* ---- start and stop ------------------------------------------------------------------------- */

/* HOST:PORT (HOST may be [v6]) into an address. */
static bool parse_listen(const char *listen, char *host, size_t hcap, struct sockaddr_storage *addr,
                         socklen_t *alen, char *err, size_t errlen)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || !colon[1]) {
        snprintf(err, errlen, "--listen takes HOST:PORT, like 127.0.0.1:8420, not '%s'", listen);
        return false;
    }
    size_t hl = (size_t)(colon - listen);
    const char *h = listen;
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= hcap) hl = hcap - 1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(err, errlen, "--listen: '%s' is not a port (0 to 65535)", colon + 1);
        return false;
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int e = getaddrinfo(host, colon + 1, &hints, &ai);
    if (e || !ai) {
        snprintf(err, errlen, "--listen: cannot resolve '%s': %s", host, gai_strerror(e));
        return false;
    }
    memcpy(addr, ai->ai_addr, ai->ai_addrlen);
    *alen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return true;
}

/* A connection whose TLS handshake ws_tls made: its plaintext end is
 * served as any other, under the client's own address. */
static void tls_handoff(void *cls, int fd, const struct sockaddr *peer, socklen_t peer_len)
{
    ws_server *s = cls;
    /* Refused (a limit, or out of memory): MHD closes fd, and ws_tls the TLS side. */
    (void)MHD_add_connection(s->daemon, fd, peer, peer_len);
}

static void server_free(ws_server *s)
{
    for (int i = 0; i < s->n_pool; i++) tj_close(s->pool[i]);
    ws_keyring_free(s->keys);
    for (int i = 0; i < WS_WATCH_MAX; i++) ws_shared_unref(s->watches[i].snapshot);
    for (int i = 0; i < WS_LIST_CACHE; i++) tx_free(s->list_cache[i].text);
    pthread_mutex_destroy(&s->cache_lock);
    pthread_mutex_destroy(&s->pool_lock);
    pthread_mutex_destroy(&s->sess_lock);
    pthread_mutex_destroy(&s->rate_lock);
    pthread_mutex_destroy(&s->watch_lock);
    pthread_cond_destroy(&s->watch_cond);
    tx_free(s);
}

int ws_serve(const ws_options *o, volatile sig_atomic_t *stop)
{
    char err[1024], host[256];
    struct sockaddr_storage addr;
    socklen_t alen = 0;
    if (!parse_listen(o->listen, host, sizeof host, &addr, &alen, err, sizeof err)) {
        fprintf(stderr, "tactus serve: %s\n", err);
        return 2;
    }
    bool tls = o->tls_cert || o->tls_key;
    if (tls && !(o->tls_cert && o->tls_key)) {
        fprintf(stderr, "tactus serve: TLS takes both --tls-cert FILE and --tls-key FILE\n");
        return 2;
    }
    /* Tokens and session cookies must never cross a network in the clear. */
    if (!tls && !hl_host_is_loopback(host)) {
        fprintf(stderr,
                "tactus serve: --listen %s is not a loopback address: plain HTTP would send tokens in the "
                "clear; give --tls-cert FILE --tls-key FILE, or listen on 127.0.0.1\n",
                o->listen);
        return 2;
    }
    ws_server *s = tx_calloc(1, sizeof *s);
    if (!s) return 1;
    s->opt = *o;
    s->tls = tls;
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_mutex_init(&s->sess_lock, NULL);
    pthread_mutex_init(&s->rate_lock, NULL);
    pthread_mutex_init(&s->watch_lock, NULL);
    pthread_mutex_init(&s->cache_lock, NULL);
    pthread_cond_init(&s->watch_cond, NULL);
    int rc = 1;
    if (ws_keyring_open(o->tokens, &s->keys, err, sizeof err) != TX_OK) {
        fprintf(stderr, "tactus serve: %s\n", err);
        goto out;
    }
    if (o->procedures && !realpath(o->procedures, s->procedures)) {
        fprintf(stderr, "tactus serve: --procedures %s: %s\n", o->procedures, strerror(errno));
        rc = 2;
        goto out;
    }
    /* The store must open now: a typo is reported at start, not per request. */
    tj_journal *first = ws_journal_get(s, err, sizeof err);
    if (!first) {
        fprintf(stderr, "tactus serve: cannot open the store: %s\n", err);
        goto out;
    }
    ws_journal_put(s, first);
    /* Under TLS the HTTP server has no socket of its own: ws_tls listens,
     * makes the handshakes with OpenSSL and hands it each connection's
     * plaintext (ws_tls.h). */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                     MHD_USE_POLL;
    if (addr.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    if (tls) flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    struct MHD_OptionItem listen_opts[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &addr},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    s->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)o->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)o->per_ip_connections,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)32 * 1024, MHD_OPTION_THREAD_STACK_SIZE, (size_t)256 * 1024, MHD_OPTION_ARRAY,
            tls ? &listen_opts[2] : listen_opts, MHD_OPTION_END);
    if (!s->daemon) {
        fprintf(stderr, "tactus serve: cannot listen on %s: %s (is the port in use?)\n", o->listen,
                strerror(errno));
        goto out;
    }
    unsigned port = 0;
    if (tls) {
        ws_tls_options to = {.cert_file = o->tls_cert, .key_file = o->tls_key, .addr = (struct sockaddr *)&addr,
                             .addr_len = alen, .handshake_timeout_s = o->idle_timeout_s,
                             .max_connections = o->max_connections,
                             .per_ip_connections = o->per_ip_connections, .handoff = tls_handoff, .cls = s,
                             .log = o->log};
        tx_status ts = ws_tls_start(&to, &s->tls_front, err, sizeof err);
        if (ts != TX_OK) {
            fprintf(stderr, "tactus serve: %s%s\n", ts == TX_EIO ? "--listen " : "", err);
            if (ts == TX_EINVAL) rc = 2;
            goto stop;
        }
        port = ws_tls_port(s->tls_front);
    } else {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
        port = info ? info->port : 0;
    }
    if (!ws_watch_start(s) || !ws_notify_start(s)) {
        fprintf(stderr, "tactus serve: cannot start a thread\n");
        goto stop;
    }
    FILE *ready = o->ready ? o->ready : stdout;
    bool v6 = strchr(host, ':') != NULL;
    fprintf(ready, "tactus serve: listening on %s://%s%s%s:%u/ (store %s)\n", tls ? "https" : "http", v6 ? "[" : "",
            host, v6 ? "]" : "", port, tj_store_is_url(o->store) ? "postgresql" : "sqlite");
    fflush(ready);
    while (!*stop) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    rc = 0;
stop:
    atomic_store(&s->stopping, 1);
    /* TLS first: its connections close, and the HTTP server's ends with them. */
    ws_tls_stop(s->tls_front);
    pthread_mutex_lock(&s->watch_lock);
    pthread_cond_broadcast(&s->watch_cond);
    pthread_mutex_unlock(&s->watch_lock);
    MHD_stop_daemon(s->daemon);
    ws_watch_stop(s);
    ws_notify_stop(s);
out:
    server_free(s);
    return rc;
}
