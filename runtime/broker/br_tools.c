/*
 * br_tools.c - host tools and host-called models: the built-in tools,
 * commands and HTTP endpoints declared in the host's (trusted)
 * configuration, and Model { type = "http" } predictions. Nothing here runs
 * unless the configuration says so.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "br_internal.h"

/* ---- built-in tools ------------------------------------------------------------------------ */

typedef cJSON *(*host_tool_fn)(const cJSON *args);

static cJSON *tool_ping(const cJSON *args)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "ok", 1);
    cJSON_AddItemToObject(r, "echo", args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject());
    return r;
}

static cJSON *tool_echo(const cJSON *args)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "echo", args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject());
    return r;
}

static cJSON *tool_capabilities(const cJSON *args);

static cJSON *tool_version(const cJSON *args)
{
    (void)args;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "version", TACTUS_VERSION);
    cJSON_AddNumberToObject(r, "protocol", 1);
    return r;
}

static const struct {
    const char *name;
    host_tool_fn fn;
    const char *description;
} host_tools[] = {
    {"host.ping", tool_ping, "answers {ok = true, echo = args}"},
    {"host.echo", tool_echo, "answers {echo = args}"},
    {"host.capabilities", tool_capabilities, "lists the allow-listed host tools"},
    {"host.version", tool_version, "the host's version and protocol"},
};

static cJSON *tool_capabilities(const cJSON *args)
{
    (void)args;
    cJSON *r = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(r, "tools");
    for (size_t i = 0; i < sizeof host_tools / sizeof host_tools[0]; i++)
        cJSON_AddItemToArray(list, cJSON_CreateString(host_tools[i].name));
    return r;
}

bool br_tool_needs_approval(const br_broker *b, const char *name)
{
    if (name && strncmp(name, "mcp.", 4) == 0) return br_mcp_needs_approval(b, name);
    if (!name || strncmp(name, "host.", 5) != 0) return false;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(b->config, "host_tools"), name + 5);
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "requires_approval"));
}

/* ---- host commands -------------------------------------------------------------------------- */

/* A host command declared in the host's configuration (trusted):
 *   host_tools: { NAME: { command: [argv...], timeout: 10, max_output: 65536 } }
 * It runs with a fixed argv (no shell), a minimal environment (never the
 * host's secrets), its JSON input on stdin:
 *   {"args": {...}, "run_id": "...", "position": N, "idempotency_key": "RUN.N"}
 * and its stdout (JSON if it parses, else text) as the result. The
 * idempotency key lets a tool make itself exactly-once across crashes: the
 * journal may ask again for an effect the host died before recording. */
static cJSON *command_tool(br_broker *b, long id, const char *name, const cJSON *spec,
                           const cJSON *args)
{
    const cJSON *command = cJSON_GetObjectItemCaseSensitive(spec, "command");
    int argc = cJSON_GetArraySize(command);
    if (!cJSON_IsArray(command) || argc == 0 || argc > 64) {
        char m[300];
        snprintf(m, sizeof m, "host_tools.%.100s.command must be a list of strings (the argv)", name + 5);
        return br_error_event(id, "ToolError", m);
    }
    char *argv[66];
    int k = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, command)
    {
        if (!cJSON_IsString(a)) return br_error_event(id, "ToolError", "host tool argv must be strings");
        argv[k++] = a->valuestring;
    }
    argv[k] = NULL;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(spec, "timeout");
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(spec, "max_output");
    int timeout_ms = cJSON_IsNumber(t) ? (int)(t->valuedouble * 1000) : 30000;
    size_t max_out = cJSON_IsNumber(mo) && mo->valuedouble > 0 ? (size_t)mo->valuedouble : 1u << 20;
    cJSON *input = cJSON_CreateObject();
    cJSON_AddItemToObject(input, "args", args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject());
    cJSON_AddStringToObject(input, "run_id", b->run_id);
    cJSON_AddNumberToObject(input, "position", (double)b->position);
    char key[80];
    snprintf(key, sizeof key, "%s.%ld", b->run_id, b->position);
    cJSON_AddStringToObject(input, "idempotency_key", key);
    char *stdin_text = cJSON_PrintUnformatted(input);
    cJSON_Delete(input);
    tx_buf out, err;
    tx_buf_init(&out, max_out);
    tx_buf_init(&err, 4096);
    int rc = hl_run_command_until(argv, stdin_text, &out, &err, (int)br_wait_ms(b, timeout_ms),
                                  b->interrupted, b->interrupted_ud);
    cJSON_free(stdin_text);
    cJSON *reply;
    if (rc == -3) {
        reply = br_interrupted_event(id, "host tool", name);
    } else if (rc != 0) {
        char m[700];
        if (rc == -1)
            snprintf(m, sizeof m, "host tool %.100s timed out after %d ms", name, timeout_ms);
        else
            snprintf(m, sizeof m, "host tool %.100s failed (exit %d): %.400s", name, rc,
                     err.data ? err.data : "");
        reply = br_error_event(id, "ToolError", m);
    } else {
        cJSON *result = out.data ? cJSON_Parse(out.data) : NULL;
        if (!result) result = cJSON_CreateString(out.data ? out.data : "");
        reply = br_done_event(id, "result", result);
    }
    tx_buf_free(&out);
    tx_buf_free(&err);
    return reply;
}

/* ---- host HTTP tools ------------------------------------------------------------------------- */

/* Appends `s` percent-encoded (RFC 3986 unreserved characters kept). */
static void url_encode(tx_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p)) {
            tx_buf_append(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            tx_buf_append(b, e, 3);
        }
    }
}

/* The URL template with {arg} replaced by URL-encoded arguments; false with a
 * message when an argument is missing or not a scalar. */
static bool expand_url(const char *tmpl, const cJSON *args, tx_buf *out, char *err, size_t cap)
{
    for (const char *p = tmpl; *p;) {
        if (*p != '{') {
            tx_buf_append(out, p++, 1);
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close) {
            snprintf(err, cap, "unclosed {...} in the url template");
            return false;
        }
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(close - p - 1), p + 1);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, key);
        if (cJSON_IsString(v)) {
            url_encode(out, v->valuestring);
        } else if (cJSON_IsNumber(v) || cJSON_IsBool(v)) {
            char *t = cJSON_PrintUnformatted(v);
            url_encode(out, t ? t : "");
            cJSON_free(t);
        } else {
            snprintf(err, cap, "argument '%s' is missing or not a string, number or boolean", key);
            return false;
        }
        p = close + 1;
    }
    return true;
}

/* The host of an http(s) URL, lower-cased; false when there is none or the
 * URL carries credentials (user@host), which would bypass the allow-list's
 * intent. */
static bool url_host(const char *url, char *host, size_t cap)
{
    const char *p = strstr(url, "://");
    if (!p || !(strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0)) return false;
    p += 3;
    size_t n = strcspn(p, "/:?#");
    if (n == 0 || n >= cap || memchr(p, '@', strcspn(p, "/?#"))) return false;
    for (size_t i = 0; i < n; i++) host[i] = (char)tolower((unsigned char)p[i]);
    host[n] = '\0';
    return true;
}

/* A header value with ${secret:NAME} resolved from the host's environment:
 * the credential exists only here, in the broker. */
static bool expand_header(br_broker *b, const char *tmpl, tx_buf *out, char *err, size_t cap)
{
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "${secret:", 9) != 0) {
            tx_buf_append(out, p++, 1);
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close) {
            snprintf(err, cap, "unclosed ${secret:...} in a header");
            return false;
        }
        char var[128];
        snprintf(var, sizeof var, "%.*s", (int)(close - p - 9), p + 9);
        const char *v = getenv(var);
        if (!v || !*v) {
            snprintf(err, cap, "secret %s is not set on the host (environment or .env)", var);
            return false;
        }
        br_remember_secret(b, v);
        tx_buf_puts(out, v);
        p = close + 1;
    }
    return true;
}

/* A host HTTP tool declared in the host's configuration (trusted):
 *   host_tools: { NAME: { http: { method: GET, url: "https://h/x?q={q}",
 *                                 headers: { Authorization: "Bearer ${secret:TOKEN}" },
 *                                 body: args,            # optional: the args as JSON
 *                                 allow_hosts: [h] },
 *                         timeout: 10, max_output: 65536 } }
 * The credential is resolved only here and redacted from the result; the
 * URL's host must be allow-listed after the arguments are filled in, and
 * redirects are not followed. */
static cJSON *http_tool(br_broker *b, long id, const char *name, const cJSON *spec,
                        const cJSON *args)
{
    const cJSON *http = cJSON_GetObjectItemCaseSensitive(spec, "http");
    const char *method = hl_json_str(http, "method");
    const char *url_t = hl_json_str(http, "url");
    char err[600] = "";
    if (!url_t) {
        snprintf(err, sizeof err, "host_tools.%.100s.http.url is missing", name + 5);
        return br_error_event(id, "ToolError", err);
    }
    tx_buf url;
    tx_buf_init(&url, 8192);
    if (!expand_url(url_t, args, &url, err, sizeof err)) {
        tx_buf_free(&url);
        return br_error_event(id, "ToolError", err);
    }
    char host[256];
    bool allowed = false;
    if (url.data && url_host(url.data, host, sizeof host)) {
        const cJSON *h;
        cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(http, "allow_hosts"))
            if (cJSON_IsString(h) && tx_str_ieq(h->valuestring, host)) allowed = true;
    }
    if (!allowed) {
        snprintf(err, sizeof err,
                 "host tool %.100s may not call %.200s: its host is not in allow_hosts", name,
                 url.data ? url.data : "?");
        tx_buf_free(&url);
        return br_error_event(id, "ToolNotAllowed", err);
    }
    const char *headers[34];
    tx_buf hbufs[32];
    size_t nh = 0;
    bool ok = true;
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(http, "headers"))
    {
        if (nh == 32 || !cJSON_IsString(h)) continue;
        tx_buf_init(&hbufs[nh], 16384);
        tx_buf_printf(&hbufs[nh], "%s: ", h->string);
        if (!expand_header(b, h->valuestring, &hbufs[nh], err, sizeof err)) ok = false;
        headers[nh] = hbufs[nh].data;
        nh++;
    }
    size_t n_bufs = nh; /* the header buffers to free, not the static one below */
    char *body = NULL;
    const char *body_mode = hl_json_str(http, "body");
    if (ok && body_mode && strcmp(body_mode, "args") == 0) {
        body = args ? cJSON_PrintUnformatted(args) : NULL;
        headers[nh++] = "Content-Type: application/json";
    }
    headers[nh] = NULL;
    cJSON *reply;
    if (!ok) {
        reply = br_error_event(id, "ToolError", err);
    } else {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(spec, "timeout");
        const cJSON *mo = cJSON_GetObjectItemCaseSensitive(spec, "max_output");
        tx_buf out;
        tx_buf_init(&out, cJSON_IsNumber(mo) && mo->valuedouble > 0 ? (size_t)mo->valuedouble : 1u << 20);
        br_error herr = {"ToolError", ""};
        long long timeout_ms = cJSON_IsNumber(t) ? (long long)(t->valuedouble * 1000) : 30000;
        int status = br_http_request(method ? method : "GET", url.data, headers, body,
                                     (long)br_wait_ms(b, timeout_ms), b->interrupted,
                                     b->interrupted_ud, &out, &herr);
        if (status < 0 && !strcmp(herr.type, BR_INTERRUPTED)) {
            reply = br_interrupted_event(id, "host tool", name);
        } else if (status < 0) {
            reply = br_error_event(id, herr.type, herr.message);
        } else if (status < 200 || status > 299) {
            snprintf(err, sizeof err, "host tool %.100s: HTTP %d: %.300s", name, status,
                     out.data ? out.data : "");
            reply = br_error_event(id, "ToolError", err);
        } else {
            cJSON *result = cJSON_CreateObject();
            cJSON_AddNumberToObject(result, "status", status);
            cJSON *parsed = out.data ? cJSON_Parse(out.data) : NULL;
            cJSON_AddItemToObject(result, "body", parsed ? parsed : cJSON_CreateString(out.data ? out.data : ""));
            reply = br_done_event(id, "result", result);
        }
        tx_buf_free(&out);
    }
    for (size_t i = 0; i < n_bufs; i++) tx_buf_free(&hbufs[i]);
    cJSON_free(body);
    tx_buf_free(&url);
    return reply; /* br_handle redacts every remembered secret from it */
}

/* ---- tool.call ----------------------------------------------------------------------------- */

cJSON *br_tool_call(br_broker *b, long id, const cJSON *params)
{
    const char *name = hl_json_str(params, "name");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "args");
    if (!name) return br_error_event(id, "BadRequest", "params.name must be a string");
    if (args && !cJSON_IsObject(args) && !cJSON_IsArray(args))
        return br_error_event(id, "BadRequest", "params.args must be an object");
    for (size_t i = 0; i < sizeof host_tools / sizeof host_tools[0]; i++)
        if (strcmp(host_tools[i].name, name) == 0)
            return br_done_event(id, "result", host_tools[i].fn(args));
    if (br_tool_needs_approval(b, name) && b->position < 0) {
        /* Approval needs the journal (runtime/durable gates such calls first). */
        char m[300];
        snprintf(m, sizeof m, "%s %.100s requires approval, which only a journaled run can ask for",
                 strncmp(name, "mcp.", 4) == 0 ? "MCP tool" : "host tool", name);
        return br_error_event(id, "ToolNotAllowed", m);
    }
    if (strncmp(name, "mcp.", 4) == 0) return br_mcp_call(b, id, name, args);
    if (strncmp(name, "host.", 5) == 0) {
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(b->config, "host_tools"), name + 5);
        if (cJSON_IsObject(spec) && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(spec, "http")))
            return http_tool(b, id, name, spec, args);
        if (cJSON_IsObject(spec)) return command_tool(b, id, name, spec, args);
    }
    char m[300];
    snprintf(m, sizeof m, "Tool not allowlisted: %.200s (host tools are denied unless allow-listed)", name);
    return br_error_event(id, "ToolNotAllowed", m);
}

/* ---- models called by the host ----------------------------------------------------------------- */

/* Model { type = "http", endpoint = ... }: the prediction is a POST of
 * {"input": ...} made here, never by the runtime. The host decides where a
 * model may be called (the .tac file is not trusted):
 *   models: { allow_hosts: [h], NAME: { endpoint, headers, timeout, allow_hosts } }
 * a model's own `endpoint` in host configuration wins over the file's. */
cJSON *br_model_predict(br_broker *b, long id, const cJSON *params)
{
    const char *name = hl_json_str(params, "name");
    const char *type = hl_json_str(params, "type");
    if (!name || !type || strcmp(type, "http") != 0)
        return br_error_event(id, "BadRequest", "model.predict needs name and type \"http\"");
    const cJSON *models = cf_get(b->config, "models");
    const cJSON *own = cJSON_GetObjectItemCaseSensitive(models, name);
    const char *endpoint = hl_json_str(own, "endpoint");
    if (!endpoint) endpoint = hl_json_str(params, "endpoint");
    if (!endpoint) return br_error_event(id, "BadRequest", "the model has no endpoint");
    cJSON *spec = cJSON_CreateObject();
    cJSON *http = cJSON_AddObjectToObject(spec, "http");
    cJSON_AddStringToObject(http, "method", "POST");
    cJSON_AddStringToObject(http, "url", endpoint);
    cJSON_AddStringToObject(http, "body", "args");
    const cJSON *allow = cJSON_GetObjectItemCaseSensitive(own, "allow_hosts");
    if (!allow) allow = cJSON_GetObjectItemCaseSensitive(models, "allow_hosts");
    cJSON_AddItemToObject(http, "allow_hosts", allow ? cJSON_Duplicate(allow, 1) : cJSON_CreateArray());
    const cJSON *headers = cJSON_GetObjectItemCaseSensitive(own, "headers");
    if (headers) cJSON_AddItemToObject(http, "headers", cJSON_Duplicate(headers, 1));
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(own, "timeout");
    if (!t) t = cJSON_GetObjectItemCaseSensitive(params, "timeout");
    if (cJSON_IsNumber(t)) cJSON_AddNumberToObject(spec, "timeout", t->valuedouble);
    cJSON *args = cJSON_CreateObject();
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(params, "input");
    cJSON_AddItemToObject(args, "input", input ? cJSON_Duplicate(input, 1) : cJSON_CreateNull());
    char label[200];
    snprintf(label, sizeof label, "model %.150s", name);
    cJSON *reply = http_tool(b, id, label, spec, args);
    cJSON_Delete(args);
    cJSON_Delete(spec);
    return reply;
}

