/*
 * mcp_httpd.c - tactus's tools over Streamable HTTP (mcp_serve_http): one
 * endpoint, /mcp; POST carries one JSON-RPC message and gets one JSON
 * answer (202 for notifications); initialize opens a session (a random
 * Mcp-Session-Id), later requests must name it (404 once it is gone),
 * DELETE ends it; GET (a server-initiated stream) is not offered: 405.
 *
 * libmicrohttpd owns HTTP (parsing, connections); it is loaded with dlopen
 * when serving starts, since linking it would load it and GnuTLS at every
 * start of tactus (2.8 ms measured), for one command. We own the route,
 * the limits and the checks: the Origin of a browser page must be loopback
 * (spec: DNS rebinding), and with a token every request must carry it.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mcp_internal.h"

#define BODY_CAP (16u * 1024u * 1024u)
#define MAX_SESSIONS 256

static struct {
    struct MHD_Daemon *(*start_daemon)(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                       void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...);
    void (*stop_daemon)(struct MHD_Daemon *d);
    const char *(*lookup)(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key);
    struct MHD_Response *(*from_buffer)(size_t size, void *buffer, enum MHD_ResponseMemoryMode mode);
    enum MHD_Result (*add_header)(struct MHD_Response *r, const char *header, const char *content);
    enum MHD_Result (*queue)(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r);
    void (*destroy)(struct MHD_Response *r);
    const union MHD_DaemonInfo *(*daemon_info)(struct MHD_Daemon *d, enum MHD_DaemonInfoType t, ...);
} mhd;

static bool load_mhd(char *err, size_t cap)
{
    if (mhd.start_daemon) return true;
    void *h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, cap, "libmicrohttpd is not available (%s); install libmicrohttpd12", dlerror());
        return false;
    }
    struct {
        void **slot;
        const char *sym;
    } syms[] = {
        {(void **)&mhd.start_daemon, "MHD_start_daemon"},
        {(void **)&mhd.stop_daemon, "MHD_stop_daemon"},
        {(void **)&mhd.lookup, "MHD_lookup_connection_value"},
        {(void **)&mhd.from_buffer, "MHD_create_response_from_buffer"},
        {(void **)&mhd.add_header, "MHD_add_response_header"},
        {(void **)&mhd.queue, "MHD_queue_response"},
        {(void **)&mhd.destroy, "MHD_destroy_response"},
        {(void **)&mhd.daemon_info, "MHD_get_daemon_info"},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].slot = dlsym(h, syms[i].sym);
        if (!*syms[i].slot) {
            snprintf(err, cap, "libmicrohttpd lacks %s", syms[i].sym);
            memset(&mhd, 0, sizeof mhd);
            dlclose(h);
            return false;
        }
    }
    return true; /* kept for the life of the process */
}

typedef struct {
    char id[33];
    char version[16];
} http_session;

typedef struct {
    const mcp_server_ops *ops;
    const char *token;
    http_session sessions[MAX_SESSIONS];
    size_t n_sessions, next_slot;
} httpd;

typedef struct {
    tx_buf body;
} request_state;

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *type,
                               const char *body, const char *session)
{
    struct MHD_Response *r = mhd.from_buffer(body ? strlen(body) : 0, (void *)(body ? body : ""),
                                             MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    if (type) mhd.add_header(r, "Content-Type", type);
    if (session) mhd.add_header(r, "Mcp-Session-Id", session);
    enum MHD_Result q = mhd.queue(conn, status, r);
    mhd.destroy(r);
    return q;
}

static enum MHD_Result respond_error(struct MHD_Connection *conn, unsigned status, const char *message)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddNullToObject(m, "id");
    cJSON *e = cJSON_AddObjectToObject(m, "error");
    cJSON_AddNumberToObject(e, "code", -32600);
    cJSON_AddStringToObject(e, "message", message);
    char *text = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    enum MHD_Result q = respond(conn, status, "application/json", text, NULL);
    cJSON_free(text);
    return q;
}

/* A browser page's Origin must be a loopback page (spec: transports,
 * security warning). Requests without one (programs) pass. */
static bool origin_ok(const char *origin)
{
    if (!origin) return true;
    const char *p = strstr(origin, "://");
    if (!p) return false;
    p += 3;
    char host[256];
    size_t n = *p == '[' ? strcspn(p, "]") + 1 : strcspn(p, ":/");
    if (n >= sizeof host) return false;
    memcpy(host, p, n);
    host[n] = '\0';
    return hl_host_is_loopback(host);
}

static bool token_ok(const httpd *h, const char *auth)
{
    if (!h->token || !*h->token) return true;
    if (!auth || strncmp(auth, "Bearer ", 7) != 0) return false;
    const char *given = auth + 7;
    size_t n = strlen(h->token), m = strlen(given);
    unsigned diff = (unsigned)(n ^ m);
    for (size_t i = 0; i < n; i++) diff |= (unsigned)(h->token[i] ^ (i < m ? given[i] : 0));
    return diff == 0; /* in constant time for a given token length */
}

static http_session *find_session(httpd *h, const char *id)
{
    for (size_t i = 0; id && i < h->n_sessions; i++)
        if (h->sessions[i].id[0] && strcmp(h->sessions[i].id, id) == 0) return &h->sessions[i];
    return NULL;
}

static http_session *new_session(httpd *h)
{
    unsigned char raw[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    bool ok = fd >= 0 && read(fd, raw, sizeof raw) == (ssize_t)sizeof raw;
    if (fd >= 0) close(fd);
    if (!ok) return NULL;
    /* The oldest session makes room when the table is full. */
    http_session *s = &h->sessions[h->next_slot];
    h->next_slot = (h->next_slot + 1) % MAX_SESSIONS;
    if (h->n_sessions < MAX_SESSIONS) h->n_sessions++;
    for (int i = 0; i < 16; i++) snprintf(s->id + 2 * i, 3, "%02x", raw[i]);
    s->version[0] = '\0';
    return s;
}

static enum MHD_Result serve_post(httpd *h, struct MHD_Connection *conn, const tx_buf *body)
{
    char why[200];
    cJSON *msg = tp_json_parse_strict(body->data ? body->data : "", body->len, MCP_MAX_DEPTH, why, sizeof why);
    if (!msg) {
        char m[300];
        snprintf(m, sizeof m, "Parse error: %s", why);
        return respond_error(conn, 400, m);
    }
    const char *method = hl_json_str(msg, "method");
    bool init = method && strcmp(method, "initialize") == 0;
    const char *sid = mhd.lookup(conn, MHD_HEADER_KIND, "Mcp-Session-Id");
    http_session *s = NULL;
    enum MHD_Result q;
    if (init) {
        s = new_session(h);
    } else if (!sid) {
        cJSON_Delete(msg);
        return respond_error(conn, 400, "Bad Request: Mcp-Session-Id header is required (initialize first)");
    } else if (!(s = find_session(h, sid))) {
        cJSON_Delete(msg);
        return respond_error(conn, 404, "Session not found: initialize again");
    }
    if (!s) {
        cJSON_Delete(msg);
        return respond_error(conn, 500, "no session could be made");
    }
    /* Progress over HTTP would need a stream: answers are plain JSON here. */
    cJSON *r = mcp_serve_message(h->ops, s->version, msg, NULL, NULL);
    cJSON_Delete(msg);
    if (!r) return respond(conn, 202, NULL, NULL, NULL);
    char *text = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    q = respond(conn, 200, "application/json", text, init ? s->id : NULL);
    cJSON_free(text);
    return q;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
    (void)version;
    httpd *h = cls;
    request_state *rs = *state;
    if (!rs) {
        rs = tx_calloc(1, sizeof *rs);
        if (!rs) return MHD_NO;
        tx_buf_init(&rs->body, BODY_CAP);
        *state = rs;
        return MHD_YES; /* the headers are in; the body follows */
    }
    if (*upload_size) {
        if (tx_buf_append(&rs->body, upload, *upload_size) != TX_OK) rs->body.limit = 0; /* marked */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/mcp") != 0) return respond_error(conn, 404, "Not Found: the endpoint is /mcp");
    if (!origin_ok(mhd.lookup(conn, MHD_HEADER_KIND, "Origin")))
        return respond_error(conn, 403, "Forbidden: requests from a page must come from a loopback origin");
    if (!token_ok(h, mhd.lookup(conn, MHD_HEADER_KIND, "Authorization")))
        return respond_error(conn, 401, "Unauthorized: send Authorization: Bearer TOKEN");
    const char *pv = mhd.lookup(conn, MHD_HEADER_KIND, "MCP-Protocol-Version");
    bool known = !pv;
    for (int i = 0; pv && mcp_versions[i]; i++)
        if (strcmp(pv, mcp_versions[i]) == 0) known = true;
    if (!known) return respond_error(conn, 400, "Bad Request: unsupported MCP-Protocol-Version");
    if (strcmp(method, "DELETE") == 0) {
        http_session *s = find_session(h, mhd.lookup(conn, MHD_HEADER_KIND, "Mcp-Session-Id"));
        if (!s) return respond_error(conn, 404, "Session not found");
        s->id[0] = '\0';
        return respond(conn, 200, NULL, NULL, NULL);
    }
    if (strcmp(method, "POST") != 0) {
        struct MHD_Response *r = mhd.from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        mhd.add_header(r, "Allow", "POST, DELETE");
        enum MHD_Result q = mhd.queue(conn, 405, r);
        mhd.destroy(r);
        return q;
    }
    if (rs->body.limit == 0) return respond_error(conn, 413, "Payload Too Large: a message is at most 16 MiB");
    return serve_post(h, conn, &rs->body);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    request_state *rs = *state;
    if (!rs) return;
    tx_buf_free(&rs->body);
    tx_free(rs);
    *state = NULL;
}

int mcp_serve_http(const mcp_server_ops *ops, const char *host, int port, const char *token,
                   volatile int *stop, void (*listening)(void *ud, int port), void *ud, char *err,
                   size_t cap)
{
    if (!load_mhd(err, cap)) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    const char *h4 = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
    if (inet_pton(AF_INET, h4, &sa.sin_addr) != 1) {
        snprintf(err, cap, "cannot listen on %s: give an IPv4 address (127.0.0.1) or localhost", host);
        return -1;
    }
    httpd h = {.ops = ops, .token = token};
    /* One thread runs every request in turn: a tool call (a sandboxed run)
     * is done before the next begins. */
    struct MHD_Daemon *d = mhd.start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, &h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)600, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
        MHD_OPTION_END);
    if (!d) {
        snprintf(err, cap, "cannot listen on %s:%d (in use, or not an address of this machine)", host, port);
        return -1;
    }
    const union MHD_DaemonInfo *info = mhd.daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (listening) listening(ud, info ? (int)info->port : port);
    while (!*stop) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    mhd.stop_daemon(d);
    return 0;
}
