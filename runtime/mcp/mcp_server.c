/*
 * mcp_server.c - the server side of MCP (mcp.h): tactus's own tools over
 * MCP. The JSON-RPC dispatch (initialize and version negotiation, ping,
 * tools/list, tools/call with progress) is shared by the two transports:
 * stdio here, Streamable HTTP in mcp_httpd.c. What a tool is and does is
 * the caller's (mcp_server_ops).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcp_internal.h"

/* The largest message a client may send us. */
#define SERVE_MAX_MESSAGE (16u * 1024u * 1024u)

struct mcp_call {
    const cJSON *token; /* the client's progressToken, or NULL */
    mcp_send_fn send;
    void *send_ud;
};

void mcp_call_progress(mcp_call *call, double progress, double total, const char *message)
{
    if (!call || !call->token || !call->send) return;
    cJSON *m = cJSON_CreateObject();
    if (!m) return;
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddStringToObject(m, "method", "notifications/progress");
    cJSON *p = cJSON_AddObjectToObject(m, "params");
    cJSON_AddItemToObject(p, "progressToken", cJSON_Duplicate(call->token, 1));
    cJSON_AddNumberToObject(p, "progress", progress);
    if (total > 0) cJSON_AddNumberToObject(p, "total", total);
    if (message) cJSON_AddStringToObject(p, "message", message);
    call->send(call->send_ud, m);
    cJSON_Delete(m);
}

static cJSON *reply(const cJSON *id, cJSON *result)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddItemToObject(m, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(m, "result", result ? result : cJSON_CreateObject());
    return m;
}

static cJSON *reply_error(const cJSON *id, int code, const char *message)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddItemToObject(m, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    cJSON *e = cJSON_AddObjectToObject(m, "error");
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    return m;
}

/* initialize: the client's version when we speak it, else our newest
 * (spec: lifecycle, version negotiation). */
static cJSON *serve_initialize(const mcp_server_ops *ops, char session[16], const cJSON *id,
                               const cJSON *params)
{
    const char *want = hl_json_str(params, "protocolVersion");
    const char *v = mcp_versions[0];
    for (int i = 0; want && mcp_versions[i]; i++)
        if (strcmp(want, mcp_versions[i]) == 0) v = mcp_versions[i];
    snprintf(session, 16, "%s", v);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "protocolVersion", v);
    cJSON *caps = cJSON_AddObjectToObject(r, "capabilities");
    cJSON *tools = cJSON_AddObjectToObject(caps, "tools");
    cJSON_AddFalseToObject(tools, "listChanged");
    cJSON *info = cJSON_AddObjectToObject(r, "serverInfo");
    cJSON_AddStringToObject(info, "name", ops->name ? ops->name : "tactus");
    cJSON_AddStringToObject(info, "version", ops->version ? ops->version : TACTUS_VERSION);
    if (ops->instructions) cJSON_AddStringToObject(r, "instructions", ops->instructions);
    return reply(id, r);
}

cJSON *mcp_serve_message(const mcp_server_ops *ops, char session[16], const cJSON *msg,
                         mcp_send_fn send, void *send_ud)
{
    const char *rpc = hl_json_str(msg, "jsonrpc");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    const char *method = hl_json_str(msg, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
    if (!cJSON_IsObject(msg) || !rpc || strcmp(rpc, "2.0") != 0)
        return reply_error(NULL, -32600, "Invalid Request: not a JSON-RPC 2.0 message");
    if (id && !cJSON_IsNumber(id) && !cJSON_IsString(id))
        return reply_error(NULL, -32600, "Invalid Request: an id is a number or a string");
    if (!method) return NULL; /* a response to us: we send no requests */
    if (!id) return NULL;     /* notifications (initialized, cancelled) need no answer */
    if (params && !cJSON_IsObject(params))
        return reply_error(id, -32602, "Invalid params: params must be an object");
    if (strcmp(method, "initialize") == 0) return serve_initialize(ops, session, id, params);
    if (strcmp(method, "ping") == 0) return reply(id, NULL);
    if (strcmp(method, "tools/list") == 0) {
        cJSON *r = cJSON_CreateObject();
        cJSON *tools = ops->list_tools(ops->ud);
        cJSON_AddItemToObject(r, "tools", tools ? tools : cJSON_CreateArray());
        return reply(id, r);
    }
    if (strcmp(method, "tools/call") == 0) {
        const char *name = hl_json_str(params, "name");
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
        if (!name) return reply_error(id, -32602, "Invalid params: tools/call needs a tool name");
        if (args && !cJSON_IsObject(args))
            return reply_error(id, -32602, "Invalid params: arguments must be an object");
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
        mcp_call call = {cJSON_GetObjectItemCaseSensitive(meta, "progressToken"), send, send_ud};
        cJSON *r = ops->call_tool(ops->ud, name, args, &call);
        if (!r) {
            char m[300];
            snprintf(m, sizeof m, "Unknown tool: %.200s", name);
            return reply_error(id, -32602, m);
        }
        return reply(id, r);
    }
    char m[300];
    snprintf(m, sizeof m, "Method not found: %.200s", method);
    return reply_error(id, -32601, m);
}

/* ---- stdio -------------------------------------------------------------------------------- */

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w, n -= (size_t)w;
    }
    return true;
}

static void send_line(void *ud, const cJSON *msg)
{
    int fd = *(int *)ud;
    char *text = cJSON_PrintUnformatted(msg);
    if (!text) return;
    write_all(fd, text, strlen(text));
    write_all(fd, "\n", 1);
    cJSON_free(text);
}

static void serve_line(const mcp_server_ops *ops, char session[16], int *out, const char *line,
                       size_t n)
{
    while (n && (line[n - 1] == '\r' || line[n - 1] == ' ')) n--;
    if (n == 0) return;
    char why[200];
    cJSON *msg = tp_json_parse_strict(line, n, MCP_MAX_DEPTH, why, sizeof why);
    cJSON *r;
    if (!msg) {
        char m[300];
        snprintf(m, sizeof m, "Parse error: %s", why);
        r = reply_error(NULL, -32700, m);
    } else {
        r = mcp_serve_message(ops, session, msg, send_line, out);
    }
    cJSON_Delete(msg);
    if (r) send_line(out, r);
    cJSON_Delete(r);
}

int mcp_serve_stdio(const mcp_server_ops *ops, int in, int out)
{
    char session[16] = "";
    tx_buf line;
    tx_buf_init(&line, SERVE_MAX_MESSAGE);
    char buf[65536];
    bool skipping = false; /* the rest of a line over the cap */
    int rc = 0;
    for (;;) {
        ssize_t k = read(in, buf, sizeof buf);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            rc = k < 0 ? -1 : 0;
            break;
        }
        const char *p = buf;
        size_t n = (size_t)k;
        while (n) {
            const char *nl = memchr(p, '\n', n);
            size_t run = nl ? (size_t)(nl - p) : n;
            if (!skipping && tx_buf_append(&line, p, run) != TX_OK) {
                cJSON *e = reply_error(NULL, -32600, "Invalid Request: message over 16 MiB");
                send_line(&out, e);
                cJSON_Delete(e);
                skipping = true;
                tx_buf_clear(&line);
            }
            if (!nl) break;
            if (!skipping) serve_line(ops, session, &out, line.data ? line.data : "", line.len);
            skipping = false;
            tx_buf_clear(&line);
            p += run + 1, n -= run + 1;
        }
    }
    if (line.len && !skipping) serve_line(ops, session, &out, line.data, line.len);
    tx_buf_free(&line);
    return rc;
}
