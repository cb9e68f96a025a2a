/*
 * mcp_client.c - the client side of MCP (mcp.h): the initialize handshake
 * and version negotiation, requests and their answers, what the server
 * sends on its own (progress, list_changed, ping), cancellation, and the
 * tools. The transports (mcp_stdio.c, mcp_http.c) only move messages.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_internal.h"

const char *const mcp_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", NULL};

/* Pages of tools/list followed before giving up on a server that never
 * stops handing out cursors, and tools kept in all. */
#define MAX_PAGES 100
#define MAX_TOOLS 10000

const char *mcp_status_type(mcp_status s)
{
    switch (s) {
    case MCP_OK: return "Ok";
    case MCP_ENOMEM: return "OutOfMemory";
    case MCP_ESTART: return "McpStartError";
    case MCP_EGONE: return "McpServerExited";
    case MCP_ETIMEOUT: return "Timeout";
    case MCP_EPROTOCOL: return "McpProtocolError";
    case MCP_EVERSION: return "McpVersionError";
    case MCP_ELIMIT: return "McpResultTooLarge";
    case MCP_ERPC: return "McpError";
    case MCP_EINTR: return "Interrupted";
    case MCP_EHTTP: return "McpHttpError";
    }
    return "McpError";
}

mcp_status mcp_fail(mcp_error *err, mcp_status s, const char *fmt, ...)
{
    if (err && err->status == MCP_OK) {
        err->status = s;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return s;
}

/* ---- life ------------------------------------------------------------------------------- */

static char **copy_list(char *const *list)
{
    size_t n = 0;
    while (list && list[n]) n++;
    char **out = tx_calloc(n + 1, sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!(out[i] = tx_strdup(list[i]))) {
            for (size_t k = 0; k < i; k++) tx_free(out[k]);
            tx_free(out);
            return NULL;
        }
    }
    return out;
}

static void free_list(char **list)
{
    for (size_t i = 0; list && list[i]; i++) {
        memset(list[i], 0, strlen(list[i])); /* environments hold secrets */
        tx_free(list[i]);
    }
    tx_free(list);
}

mcp_client *mcp_client_new(const mcp_server_config *cfg)
{
    mcp_client *c = tx_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->child = (hl_child){-1, -1, -1, -1};
    c->name = tx_strdup(cfg->name ? cfg->name : "mcp");
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 60000;
    c->max_message = cfg->max_message > 0 ? cfg->max_message : 16u * 1024u * 1024u;
    c->next_id = 1;
    bool ok = c->name != NULL;
    if (cfg->url) {
        c->url = tx_strdup(cfg->url);
        c->headers = copy_list((char *const *)cfg->headers);
        if (cfg->http) c->http = *cfg->http;
        ok = ok && c->url && c->headers;
    } else {
        c->argv = copy_list(cfg->argv);
        c->envp = copy_list(cfg->envp);
        if (cfg->cwd) c->cwd = tx_strdup(cfg->cwd);
        c->before_start = cfg->before_start;
        c->after_stop = cfg->after_stop;
        c->hook_ud = cfg->hook_ud;
        ok = ok && c->argv && c->argv[0] && c->envp && (!cfg->cwd || c->cwd);
    }
    if (cfg->limits) {
        c->limits = *cfg->limits;
        c->has_limits = true;
    }
    tx_buf_init(&c->line, c->max_message + 1);
    tx_buf_init(&c->rest, 2 * (c->max_message + 1));
    tx_buf_init(&c->errtext, MCP_STDERR_KEEP);
    if (!ok) {
        mcp_client_free(c);
        return NULL;
    }
    return c;
}

static void stop(mcp_client *c)
{
    if (c->url)
        mcp_http_stop(c);
    else
        mcp_stdio_stop(c);
    c->started = false;
    c->version[0] = '\0';
    cJSON_Delete(c->server_info);
    cJSON_Delete(c->capabilities);
    c->server_info = c->capabilities = NULL;
}

void mcp_client_free(mcp_client *c)
{
    if (!c) return;
    stop(c);
    tx_free(c->name);
    free_list(c->argv);
    free_list(c->envp);
    free_list(c->headers);
    tx_free(c->cwd);
    tx_free(c->url);
    tx_buf_free(&c->line);
    tx_buf_free(&c->rest);
    tx_buf_free(&c->errtext);
    tx_free(c);
}

bool mcp_running(const mcp_client *c)
{
    return c->started;
}

const char *mcp_version(const mcp_client *c)
{
    return c->version;
}

const cJSON *mcp_server_info(const mcp_client *c)
{
    return c->server_info;
}

long mcp_pid(const mcp_client *c)
{
    return c->child.pid > 0 ? (long)c->child.pid : 0;
}

bool mcp_take_tools_changed(mcp_client *c)
{
    if (c->started && !c->url) mcp_stdio_drain(c);
    bool v = c->tools_changed;
    c->tools_changed = false;
    return v;
}

/* ---- messages ----------------------------------------------------------------------------- */

static cJSON *message(long id, const char *method, cJSON *params)
{
    cJSON *m = cJSON_CreateObject();
    if (!m) {
        cJSON_Delete(params);
        return NULL;
    }
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    if (id >= 0) cJSON_AddNumberToObject(m, "id", (double)id);
    if (method) cJSON_AddStringToObject(m, "method", method);
    if (params) cJSON_AddItemToObject(m, "params", params);
    return m;
}

/* Sends a message (taken) that expects no answer. */
static mcp_status send_only(mcp_client *c, cJSON *msg, long long deadline_ms, mcp_error *err)
{
    char *text = msg ? cJSON_PrintUnformatted(msg) : NULL;
    cJSON_Delete(msg);
    if (!text) return mcp_fail(err, MCP_ENOMEM, "out of memory");
    mcp_status st = c->url ? mcp_http_post(c, text, NULL, deadline_ms, err)
                           : mcp_stdio_send(c, text, deadline_ms, err);
    cJSON_free(text);
    return st;
}

/* Answers a request of the server's: ping gets {}, anything else "method
 * not found" (we declare no capabilities: no sampling, roots or
 * elicitation, so a server has nothing else to ask). */
static void answer_server_request(mcp_wait *w, const cJSON *id, const char *method)
{
    cJSON *m = cJSON_CreateObject();
    if (!m) return;
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddItemToObject(m, "id", cJSON_Duplicate(id, 1));
    if (strcmp(method, "ping") == 0) {
        cJSON_AddItemToObject(m, "result", cJSON_CreateObject());
    } else {
        cJSON *e = cJSON_AddObjectToObject(m, "error");
        cJSON_AddNumberToObject(e, "code", -32601);
        cJSON_AddStringToObject(e, "message", "Method not found: the tactus broker offers no client features");
    }
    mcp_error ignored = {0};
    send_only(w->c, m, w->deadline_ms, &ignored);
}

static bool same_id(const cJSON *id, long want)
{
    return cJSON_IsNumber(id) && id->valuedouble == (double)want;
}

void mcp_incoming(mcp_wait *w, cJSON *msg)
{
    if (w->done) {
        cJSON_Delete(msg);
        return;
    }
    const char *rpc = hl_json_str(msg, "jsonrpc");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    const char *method = hl_json_str(msg, "method");
    if (!cJSON_IsObject(msg) || !rpc || strcmp(rpc, "2.0") != 0) {
        w->done = true;
        w->status = mcp_fail(w->err, MCP_EPROTOCOL,
                             "MCP server %s sent a message that is not JSON-RPC 2.0 (no \"jsonrpc\": \"2.0\")",
                             w->c->name);
    } else if (method && id) {
        answer_server_request(w, id, method);
    } else if (method) {
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
        if (strcmp(method, "notifications/tools/list_changed") == 0) {
            w->c->tools_changed = true;
        } else if (strcmp(method, "notifications/progress") == 0 && w->o && w->o->on_progress &&
                   w->c->active_token &&
                   same_id(cJSON_GetObjectItemCaseSensitive(params, "progressToken"), w->c->active_token)) {
            w->o->on_progress(w->o->ud, params);
        }
        /* Other notifications (logging, resources) are not ours to act on. */
    } else if (id && (cJSON_GetObjectItemCaseSensitive(msg, "result") ||
                      cJSON_GetObjectItemCaseSensitive(msg, "error"))) {
        if (same_id(id, w->id)) {
            w->done = true;
            w->response = msg;
            return;
        }
        /* The late answer of a call we gave up on: dropped. */
    } else {
        w->done = true;
        w->status = mcp_fail(w->err, MCP_EPROTOCOL,
                             "MCP server %s sent a message that is neither a request, a "
                             "notification nor a response",
                             w->c->name);
    }
    cJSON_Delete(msg);
}

void mcp_incoming_text(mcp_wait *w, const char *text, size_t n)
{
    while (n && (text[n - 1] == '\r' || text[n - 1] == ' ')) n--;
    if (n == 0) return;
    char why[200];
    cJSON *v = tp_json_parse_strict(text, n, MCP_MAX_DEPTH, why, sizeof why);
    if (!v) {
        w->done = true;
        w->status = mcp_fail(w->err, MCP_EPROTOCOL, "MCP server %s sent malformed JSON: %s",
                             w->c->name, why);
        return;
    }
    if (cJSON_IsArray(v)) {
        /* A JSON-RPC batch (2025-03-26): each message in turn. */
        cJSON *m;
        while ((m = cJSON_DetachItemFromArray(v, 0))) mcp_incoming(w, m);
        cJSON_Delete(v);
        return;
    }
    mcp_incoming(w, v);
}

/* One request and its answer: the response's result (new) or an error.
 * A call given up (timeout, interrupt) is cancelled at the server. */
static mcp_status exchange(mcp_client *c, const char *method, cJSON *params, const mcp_call_opts *o,
                           cJSON **result, mcp_error *err)
{
    *result = NULL;
    long id = c->next_id++;
    long long deadline = hl_now_ms() + c->timeout_ms;
    if (o && o->deadline_ms && o->deadline_ms < deadline) deadline = o->deadline_ms;
    cJSON *msg = message(id, method, params);
    char *text = msg ? cJSON_PrintUnformatted(msg) : NULL;
    cJSON_Delete(msg);
    if (!text) return mcp_fail(err, MCP_ENOMEM, "out of memory");
    mcp_wait w = {.c = c, .id = id, .o = o, .deadline_ms = deadline, .err = err};
    mcp_status st;
    if (c->url) {
        st = mcp_http_post(c, text, &w, deadline, err);
    } else {
        mcp_stdio_drain(c);
        st = mcp_stdio_send(c, text, deadline, err);
        if (st == MCP_OK) mcp_stdio_wait(&w);
    }
    cJSON_free(text);
    if (st == MCP_OK && !w.response) st = w.status != MCP_OK ? w.status : MCP_EPROTOCOL;
    if (st == MCP_EPROTOCOL && err->status == MCP_OK)
        mcp_fail(err, st, "MCP server %s ended its answer to %s without a response", c->name, method);
    if ((st == MCP_ETIMEOUT || st == MCP_EINTR) && strcmp(method, "initialize") != 0) {
        /* The server may stop working on it (spec: cancellation). */
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "requestId", (double)id);
        cJSON_AddStringToObject(p, "reason", st == MCP_ETIMEOUT ? "timed out" : "the run was interrupted");
        mcp_error ignored = {0};
        send_only(c, message(-1, "notifications/cancelled", p), hl_now_ms() + 1000, &ignored);
    }
    if (st != MCP_OK) {
        cJSON_Delete(w.response);
        return st;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(w.response, "error");
    if (e) {
        const char *m = hl_json_str(e, "message");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        mcp_fail(err, MCP_ERPC, "MCP server %s answered %s with error %d: %.700s", c->name, method,
                 cJSON_IsNumber(code) ? (int)code->valuedouble : 0, m ? m : "(no message)");
        cJSON_Delete(w.response);
        return MCP_ERPC;
    }
    *result = cJSON_DetachItemFromObjectCaseSensitive(w.response, "result");
    cJSON_Delete(w.response);
    if (!cJSON_IsObject(*result)) {
        cJSON_Delete(*result);
        *result = NULL;
        return mcp_fail(err, MCP_EPROTOCOL, "MCP server %s answered %s with a result that is not an object",
                        c->name, method);
    }
    return MCP_OK;
}

/* ---- the handshake ---------------------------------------------------------------------- */

static mcp_status initialize(mcp_client *c, const mcp_call_opts *o, mcp_error *err)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "protocolVersion", mcp_versions[0]);
    cJSON_AddItemToObject(p, "capabilities", cJSON_CreateObject());
    cJSON *info = cJSON_AddObjectToObject(p, "clientInfo");
    cJSON_AddStringToObject(info, "name", "tactus");
    cJSON_AddStringToObject(info, "version", TACTUS_VERSION);
    cJSON *r = NULL;
    mcp_status st = exchange(c, "initialize", p, o, &r, err);
    if (st != MCP_OK) return st;
    const char *v = hl_json_str(r, "protocolVersion");
    bool known = false;
    for (int i = 0; v && mcp_versions[i]; i++)
        if (strcmp(v, mcp_versions[i]) == 0) known = true;
    if (!known) {
        /* Spec (lifecycle): a client that does not support the server's
         * version SHOULD disconnect. */
        mcp_fail(err, MCP_EVERSION,
                 "MCP server %s speaks protocol version %.40s, which tactus does not "
                 "(it speaks 2025-11-25, 2025-06-18, 2025-03-26 and 2024-11-05); update the "
                 "server or pin a version it shares",
                 c->name, v ? v : "(none given)");
        cJSON_Delete(r);
        return MCP_EVERSION;
    }
    snprintf(c->version, sizeof c->version, "%s", v);
    c->server_info = cJSON_DetachItemFromObjectCaseSensitive(r, "serverInfo");
    c->capabilities = cJSON_DetachItemFromObjectCaseSensitive(r, "capabilities");
    cJSON_Delete(r);
    return send_only(c, message(-1, "notifications/initialized", NULL),
                     hl_now_ms() + c->timeout_ms, err);
}

mcp_status mcp_start(mcp_client *c, const mcp_call_opts *o, mcp_error *err)
{
    if (c->started) return MCP_OK;
    c->session[0] = '\0';
    c->session_expired = false;
    mcp_status st = c->url ? MCP_OK : mcp_stdio_start(c, err);
    if (st == MCP_OK) {
        c->started = true;
        st = initialize(c, o, err);
    }
    if (st != MCP_OK) stop(c);
    return st;
}

/* A request, after starting the server if needed; an HTTP session the
 * server has forgotten (404) is initialized again and the request sent once
 * more (spec: session management). */
static mcp_status request(mcp_client *c, const char *method, cJSON *params, const mcp_call_opts *o,
                          cJSON **result, mcp_error *err)
{
    mcp_status st = mcp_start(c, o, err);
    if (st != MCP_OK) {
        cJSON_Delete(params);
        return st;
    }
    cJSON *again = c->url && params ? cJSON_Duplicate(params, 1) : NULL;
    st = exchange(c, method, params, o, result, err);
    if (st != MCP_OK && c->url && c->session_expired) {
        *err = (mcp_error){0};
        stop(c);
        st = mcp_start(c, o, err);
        if (st == MCP_OK) {
            st = exchange(c, method, again, o, result, err);
            again = NULL;
        }
    }
    cJSON_Delete(again);
    /* A server that broke the protocol or hung up is not talked to again:
     * the next use starts a fresh one. */
    if (st == MCP_EGONE || st == MCP_EPROTOCOL || st == MCP_ELIMIT) stop(c);
    return st;
}

mcp_status mcp_ping(mcp_client *c, const mcp_call_opts *o, mcp_error *err)
{
    cJSON *r = NULL;
    mcp_status st = request(c, "ping", NULL, o, &r, err);
    cJSON_Delete(r);
    return st;
}

mcp_status mcp_list_tools(mcp_client *c, const mcp_call_opts *o, cJSON **tools, mcp_error *err)
{
    *tools = cJSON_CreateArray();
    if (!*tools) return mcp_fail(err, MCP_ENOMEM, "out of memory");
    char cursor[1024] = "";
    for (int page = 0; page < MAX_PAGES; page++) {
        cJSON *p = NULL;
        if (cursor[0]) {
            p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "cursor", cursor);
        }
        cJSON *r = NULL;
        mcp_status st = request(c, "tools/list", p, o, &r, err);
        if (st != MCP_OK) {
            cJSON_Delete(*tools);
            *tools = NULL;
            return st;
        }
        cJSON *list = cJSON_GetObjectItemCaseSensitive(r, "tools");
        if (!cJSON_IsArray(list)) {
            cJSON_Delete(r);
            cJSON_Delete(*tools);
            *tools = NULL;
            return mcp_fail(err, MCP_EPROTOCOL, "MCP server %s answered tools/list without a tools list",
                            c->name);
        }
        cJSON *t;
        while ((t = cJSON_DetachItemFromArray(list, 0))) {
            const char *name = hl_json_str(t, "name");
            if (!cJSON_IsObject(t) || !name || !*name || cJSON_GetArraySize(*tools) >= MAX_TOOLS) {
                cJSON_Delete(t);
                continue; /* a nameless tool cannot be called: left out */
            }
            cJSON_AddItemToArray(*tools, t);
        }
        const char *next = hl_json_str(r, "nextCursor");
        bool more = next && *next && strlen(next) < sizeof cursor && strcmp(next, cursor) != 0;
        if (more) snprintf(cursor, sizeof cursor, "%s", next);
        cJSON_Delete(r);
        if (!more) return MCP_OK;
    }
    cJSON_Delete(*tools);
    *tools = NULL;
    return mcp_fail(err, MCP_EPROTOCOL, "MCP server %s handed out more than %d pages of tools",
                    c->name, MAX_PAGES);
}

mcp_status mcp_call_tool(mcp_client *c, const char *tool, const cJSON *args, const mcp_call_opts *o,
                         cJSON **result, mcp_error *err)
{
    cJSON *p = cJSON_CreateObject();
    if (!p) return mcp_fail(err, MCP_ENOMEM, "out of memory");
    cJSON_AddStringToObject(p, "name", tool);
    cJSON_AddItemToObject(p, "arguments", args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject());
    if (o && o->on_progress) {
        cJSON *meta = cJSON_AddObjectToObject(p, "_meta");
        c->active_token = ++c->next_token;
        cJSON_AddNumberToObject(meta, "progressToken", (double)c->active_token);
    }
    mcp_status st = request(c, "tools/call", p, o, result, err);
    c->active_token = 0;
    if (st == MCP_OK && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(*result, "content")) &&
        !cJSON_GetObjectItemCaseSensitive(*result, "structuredContent")) {
        cJSON_Delete(*result);
        *result = NULL;
        return mcp_fail(err, MCP_EPROTOCOL,
                        "MCP server %s answered tools/call of %.100s without content", c->name, tool);
    }
    return st;
}
