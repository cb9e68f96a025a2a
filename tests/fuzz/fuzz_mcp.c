/* Fuzz target: MCP messages, both ways (runtime/mcp). Input surfaces: what
 * a server sends the broker's client (stdio lines, and HTTP answers as
 * JSON or an event stream with its headers), and what a client sends
 * `tactus mcp serve`. The first byte picks the surface; the rest is the
 * peer's bytes.
 *
 * Properties: a wait ends with either the response to our request (its id
 * is ours) or a typed error with a message; a server's answer to every
 * request is one JSON-RPC 2.0 response with the request's id (or null when
 * it was unreadable) and exactly one of result and error. */
#include <string.h>

#include "fuzz.h"
#include "mcp_internal.h"

/* ---- the client: lines from a server ---- */

static void check_wait(const mcp_wait *w, const mcp_error *err)
{
    if (w->response) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(w->response, "id");
        FUZZ_REQUIRE(cJSON_IsNumber(id) && id->valuedouble == (double)w->id, "a response taken is ours");
        FUZZ_REQUIRE(cJSON_GetObjectItemCaseSensitive(w->response, "result") ||
                         cJSON_GetObjectItemCaseSensitive(w->response, "error"),
                     "a response holds a result or an error");
    } else if (w->done) {
        FUZZ_REQUIRE(w->status != MCP_OK && err->status != MCP_OK && err->message[0],
                     "a wait ended without a response has a typed error with a message");
    }
}

static void client_lines(const uint8_t *data, size_t size)
{
    char *argv[] = {"/nonexistent-server", NULL};
    mcp_server_config cfg = {.name = "fuzz", .argv = argv, .max_message = 4096};
    mcp_client *c = mcp_client_new(&cfg);
    if (!c) return;
    mcp_error err = {0};
    mcp_wait w = {.c = c, .id = 7, .err = &err};
    const char *p = (const char *)data;
    size_t n = size;
    while (n && !w.done) {
        const char *nl = memchr(p, '\n', n);
        size_t len = nl ? (size_t)(nl - p) : n;
        mcp_incoming_text(&w, p, len);
        if (!nl) break;
        p += len + 1, n -= len + 1;
    }
    check_wait(&w, &err);
    cJSON_Delete(w.response);
    mcp_client_free(c);
}

/* ---- the client: an HTTP answer ---- */

typedef struct {
    const uint8_t *data;
    size_t size;
    bool sse;
} fake_http;

static long fake_request(void *ud, const char *method, const char *url, const char *const *headers,
                         const char *body, long timeout_ms, const mcp_http_sink *sink, char *err,
                         size_t cap)
{
    (void)method, (void)url, (void)headers, (void)body, (void)timeout_ms, (void)err, (void)cap;
    const fake_http *f = ud;
    const char *ct = f->sse ? "Content-Type: text/event-stream\r\n" : "content-type: application/json\r\n";
    sink->on_header(sink->ud, ct, strlen(ct));
    /* The first line of the input is a header line too (a session id, say). */
    const char *p = (const char *)f->data, *nl = memchr(p, '\n', f->size);
    size_t hl = nl ? (size_t)(nl - p) + 1 : 0;
    if (hl) sink->on_header(sink->ud, p, hl);
    /* The body in pieces of 1..64 bytes, as a network would cut it. */
    size_t off = hl;
    while (off < f->size) {
        size_t piece = 1 + (f->data[off] % 64);
        if (piece > f->size - off) piece = f->size - off;
        if (!sink->on_body(sink->ud, p + off, piece)) break;
        off += piece;
    }
    return 200;
}

static void client_http(const uint8_t *data, size_t size, bool sse)
{
    fake_http f = {data, size, sse};
    mcp_http_ops ops = {fake_request, &f};
    mcp_server_config cfg = {.name = "fuzz", .url = "http://127.0.0.1:1/mcp", .http = &ops, .max_message = 4096};
    mcp_client *c = mcp_client_new(&cfg);
    if (!c) return;
    mcp_error err = {0};
    mcp_wait w = {.c = c, .id = 7, .err = &err, .deadline_ms = hl_now_ms() + 10000};
    mcp_status st = mcp_http_post(c, "{}", &w, w.deadline_ms, &err);
    FUZZ_REQUIRE(st == MCP_OK ? w.response != NULL : err.message[0] != '\0',
                 "an HTTP answer gives our response or a typed error");
    check_wait(&w, &err);
    FUZZ_REQUIRE(strlen(c->session) < sizeof c->session, "a session id stays in its buffer");
    for (size_t i = 0; c->session[i]; i++)
        FUZZ_REQUIRE(c->session[i] >= 0x21 && c->session[i] <= 0x7e, "a session id is visible ASCII");
    cJSON_Delete(w.response);
    mcp_client_free(c);
}

/* ---- the server: a client's messages ---- */

static cJSON *list_tools(void *ud)
{
    (void)ud;
    return cJSON_Parse("[{\"name\":\"t\",\"inputSchema\":{\"type\":\"object\"}}]");
}

static cJSON *call_tool(void *ud, const char *name, const cJSON *args, mcp_call *call)
{
    (void)ud, (void)args;
    mcp_call_progress(call, 0.5, 1, "half");
    if (strcmp(name, "t") != 0) return NULL;
    return cJSON_Parse("{\"content\":[{\"type\":\"text\",\"text\":\"ok\"}]}");
}

static void sent(void *ud, const cJSON *msg)
{
    (void)ud;
    FUZZ_REQUIRE(cJSON_IsObject(msg) && hl_json_str(msg, "method"), "a notification during a call");
}

static void server_messages(const uint8_t *data, size_t size)
{
    mcp_server_ops ops = {"fuzz", "1", NULL, list_tools, call_tool, NULL};
    char session[16] = "";
    char why[200];
    cJSON *msg = tp_json_parse_strict((const char *)data, size, 64, why, sizeof why);
    if (!msg) return;
    cJSON *r = mcp_serve_message(&ops, session, msg, sent, NULL);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    bool request = cJSON_IsObject(msg) && hl_json_str(msg, "method") && id;
    if (r) {
        const char *v = hl_json_str(r, "jsonrpc");
        FUZZ_REQUIRE(v && strcmp(v, "2.0") == 0, "an answer is JSON-RPC 2.0");
        bool has_result = cJSON_GetObjectItemCaseSensitive(r, "result") != NULL;
        bool has_error = cJSON_GetObjectItemCaseSensitive(r, "error") != NULL;
        FUZZ_REQUIRE(has_result != has_error, "an answer has exactly one of result and error");
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(r, "id");
        if (request && (cJSON_IsNumber(id) || cJSON_IsString(id)) && hl_json_str(msg, "jsonrpc") &&
            strcmp(hl_json_str(msg, "jsonrpc"), "2.0") == 0)
            FUZZ_REQUIRE(cJSON_Compare(id, rid, 1), "an answer carries its request's id");
    } else {
        FUZZ_REQUIRE(!(request && cJSON_IsObject(msg) && hl_json_str(msg, "jsonrpc") &&
                       strcmp(hl_json_str(msg, "jsonrpc"), "2.0") == 0),
                     "every well-formed request is answered");
    }
    FUZZ_REQUIRE(strlen(session) < 16, "the session's version stays in its buffer");
    cJSON_Delete(r);
    cJSON_Delete(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool hooked;
    if (!hooked) {
        cJSON_Hooks hooks = {tx_malloc, tx_free};
        cJSON_InitHooks(&hooks);
        hooked = true;
    }
    if (size == 0 || size > (1u << 16)) return 0;
    switch (data[0] % 4) {
    case 0: client_lines(data + 1, size - 1); break;
    case 1: client_http(data + 1, size - 1, false); break;
    case 2: client_http(data + 1, size - 1, true); break;
    default: server_messages(data + 1, size - 1); break;
    }
    return 0;
}
