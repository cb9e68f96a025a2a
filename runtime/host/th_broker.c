/*
 * th_broker.c - answers the runtime's requests on the host.
 *
 * Deny by default: a method or host tool not listed here is refused with a
 * typed error. Model calls go to the provider named by the model string
 * ("openai/gpt-4o-mini", "anthropic/claude-...", "mock/x", or any name
 * configured with providers.<name>.base_url, which is spoken to as
 * OpenAI-compatible).
 * Keys live here and in the providers, never in anything sent back.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <errno.h>
#include <time.h>

#include "host.h"
#include "th_http.h"
#include "proto.h"

#define TP_REDACT_CAP (64u * 1024u * 1024u)

#define MAX_SECRETS 256
#define MAX_HELD 16

extern char **environ;

struct th_broker {
    const cJSON *config;
    bool mock_all;
    /* Values of the host's secret-named variables: redacted from everything
     * sent back to the runtime, as a second line behind "keys never leave
     * the providers" (a provider may quote a rejected key in its error). */
    char *secrets[MAX_SECRETS];
    size_t n_secrets;
    th_delta_fn user_delta;
    void *user_ud;
    char run_id[48];
    long position; /* of the effect being handled, for idempotency keys */
    char tenant[128];
    char audit_path[4096]; /* "" = no audit log */
    /* Budgets of the run (0 = none) and what it has used. */
    double budget_tokens, budget_cost, budget_calls;
    double used_tokens, used_cost, used_calls;
    th_mock *mock;
    /* `tactus test` (th_broker_set_test): HITL answered at once, a fixed
     * clock, and the agents whose turns are mocked even without --mock. */
    const cJSON *test;
    long long fixed_now_ms, clock_calls;
    th_openai *openai;
    th_anthropic *anthropic;
    long long deadline_ms; /* th_broker_set_deadline; 0: none */
    /* Streamed pieces not yet passed on, per stream (the text, each tool
     * call's arguments): a secret split over several deltas is only caught
     * if the last (longest secret - 1) bytes wait for the next piece. */
    struct held_stream {
        bool used;
        int index; /* -1 = text, else the tool call's index */
        tx_buf tail;
    } held[MAX_HELD];
};

static void remember_secret(th_broker *b, const char *value);
static void remember_config_secrets(th_broker *b, const cJSON *v, int depth);

th_broker *th_broker_new(const cJSON *config, const cJSON *mocks, bool mock_all)
{
    th_broker *b = tx_calloc(1, sizeof *b);
    if (!b) return NULL;
    b->config = config;
    b->mock_all = mock_all;
    const cJSON *bud = cJSON_GetObjectItemCaseSensitive(config, "budgets");
    const cJSON *v;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(bud, "tokens"))) b->budget_tokens = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(bud, "cost"))) b->budget_cost = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(bud, "llm_calls"))) b->budget_calls = v->valuedouble;
    /* Every key the broker may hold is a secret whatever its variable is
     * called: providers.X.api_key_env, ${secret:NAME} in host tools, models
     * and MCP servers. Known now, not at first use, so a model echoing a
     * tool's token before that tool ran is still caught. First, so that
     * a crowded environment cannot push them out of the table. */
    remember_config_secrets(b, config, 0);
    for (char **e = environ; e && *e && b->n_secrets < MAX_SECRETS; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || strlen(eq + 1) < 6) continue; /* too short to redact without noise */
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - *e), *e);
        if (!tx_env_name_is_secret(name)) continue;
        remember_secret(b, eq + 1);
    }
    b->mock = th_mock_new(mocks);
    b->openai = th_openai_new(config);
    b->anthropic = th_anthropic_new(config);
    if (!b->mock || !b->openai || !b->anthropic) {
        th_broker_free(b);
        return NULL;
    }
    return b;
}

void th_broker_free(th_broker *b)
{
    if (!b) return;
    th_mock_free(b->mock);
    th_openai_free(b->openai);
    th_anthropic_free(b->anthropic);
    for (size_t i = 0; i < b->n_secrets; i++) {
        memset(b->secrets[i], 0, strlen(b->secrets[i]));
        tx_free(b->secrets[i]);
    }
    for (size_t i = 0; i < MAX_HELD; i++) tx_buf_free(&b->held[i].tail);
    tx_free(b);
}

static long request_id(const cJSON *req)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
    return cJSON_IsNumber(id) ? (long)id->valuedouble : 0;
}

/* ---- host tools: the allow-list ------------------------------------------------------------ */

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

static cJSON *result_done(long id, const char *key, cJSON *value)
{
    cJSON *data = cJSON_CreateObject();
    cJSON_AddItemToObject(data, key, value);
    return tp_event(id, "done", data);
}

static cJSON *error_event(long id, const char *type, const char *message)
{
    return tp_error(id, type, message);
}

/* A host command declared in the host's configuration (trusted):
 *   host_tools: { NAME: { command: [argv...], timeout: 10, max_output: 65536 } }
 * It runs with a fixed argv (no shell), a minimal environment (never the
 * host's secrets), its JSON input on stdin:
 *   {"args": {...}, "run_id": "...", "position": N, "idempotency_key": "RUN.N"}
 * and its stdout (JSON if it parses, else text) as the result. The
 * idempotency key lets a tool make itself exactly-once across crashes: the
 * journal may ask again for an effect the host died before recording. */
static cJSON *command_tool(th_broker *b, long id, const char *name, const cJSON *spec,
                           const cJSON *args);

static cJSON *http_tool(th_broker *b, long id, const char *name, const cJSON *spec,
                        const cJSON *args);

static cJSON *handle_tool_call(th_broker *b, long id, const cJSON *params)
{
    const char *name = hl_json_str(params, "name");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "args");
    if (!name) return error_event(id, "BadRequest", "params.name must be a string");
    if (args && !cJSON_IsObject(args) && !cJSON_IsArray(args))
        return error_event(id, "BadRequest", "params.args must be an object");
    for (size_t i = 0; i < sizeof host_tools / sizeof host_tools[0]; i++)
        if (strcmp(host_tools[i].name, name) == 0)
            return result_done(id, "result", host_tools[i].fn(args));
    if (th_broker_tool_needs_approval(b, name) && b->position < 0) {
        /* Approval needs the journal (th_durable.c gates such calls first). */
        char m[300];
        snprintf(m, sizeof m, "host tool %.100s requires approval, which only a journaled run can ask for",
                 name);
        return error_event(id, "ToolNotAllowed", m);
    }
    if (strncmp(name, "host.", 5) == 0) {
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(b->config, "host_tools"), name + 5);
        if (cJSON_IsObject(spec) && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(spec, "http")))
            return http_tool(b, id, name, spec, args);
        if (cJSON_IsObject(spec)) return command_tool(b, id, name, spec, args);
    }
    char m[300];
    snprintf(m, sizeof m, "Tool not allowlisted: %.200s (host tools are denied unless allow-listed)", name);
    return error_event(id, "ToolNotAllowed", m);
}

/* ---- llm.chat ------------------------------------------------------------------------------------ */

/* Under `tactus test`, an agent with turns given by its scenario is served by
 * the mock provider even in real mode. */
static bool test_mocks_agent(const th_broker *b, const cJSON *params)
{
    const char *agent = hl_json_str(params, "agent");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(b->test, "mocked_agents");
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        if (agent && cJSON_IsString(n) && strcmp(n->valuestring, agent) == 0) return true;
    }
    return false;
}

static cJSON *handle_chat(th_broker *b, long id, const cJSON *params, th_delta_fn on_delta, void *ud)
{
    const char *model = hl_json_str(params, "model");
    if (!model || !*model)
        return error_event(id, "BadRequest", "params.model must be a \"provider/model\" string");
    const char *slash = strchr(model, '/');
    char provider[64];
    size_t pn = slash ? (size_t)(slash - model) : strlen(model);
    if (!slash || pn == 0 || pn >= sizeof provider) {
        char m[300];
        snprintf(m, sizeof m,
                 "model \"%.200s\" names no provider; write \"provider/model\", e.g. "
                 "\"openai/gpt-4o-mini\"",
                 model);
        return error_event(id, "BadRequest", m);
    }
    memcpy(provider, model, pn);
    provider[pn] = '\0';
    th_sink sink = {on_delta, ud, b->deadline_ms};
    th_error err = {"ProviderError", ""};
    cJSON *done = NULL;
    if (b->mock_all || strcmp(provider, "mock") == 0 || test_mocks_agent(b, params)) {
        done = th_mock_chat(b->mock, params, slash + 1, &sink, &err);
    } else if (strcmp(provider, "openai") == 0) {
        done = th_openai_chat(b->openai, params, model, &sink, &err);
    } else if (strcmp(provider, "anthropic") == 0) {
        done = th_anthropic_chat(b->anthropic, params, model, &sink, &err);
    } else {
        char key[128];
        snprintf(key, sizeof key, "providers.%s.base_url", provider);
        if (cf_get(b->config, key)) {
            done = th_openai_chat(b->openai, params, model, &sink, &err);
        } else {
            snprintf(err.message, sizeof err.message,
                     "Unsupported provider: %s (supported: openai, anthropic, mock, or any "
                     "OpenAI-compatible "
                     "server configured as providers.%s.base_url)",
                     provider, provider);
            strcpy(err.type, "UnsupportedProvider");
        }
    }
    if (!done) return error_event(id, err.type, err.message[0] ? err.message : "provider failed");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "event", "done");
    cJSON_AddItemToObject(o, "data", done);
    return o;
}

void th_broker_set_effect(th_broker *b, const char *run_id, long position)
{
    snprintf(b->run_id, sizeof b->run_id, "%s", run_id ? run_id : "");
    b->position = position;
}

void th_broker_count_replayed(th_broker *b, const cJSON *result)
{
    if (strcmp(hl_json_str(result, "event") ? hl_json_str(result, "event") : "", "done") != 0) return;
    const cJSON *usage =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(result, "data"), "usage");
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");
    const cJSON *cost = cJSON_GetObjectItemCaseSensitive(usage, "cost_usd");
    b->used_calls += 1;
    b->used_tokens += (cJSON_IsNumber(pt) ? pt->valuedouble : 0) + (cJSON_IsNumber(ct) ? ct->valuedouble : 0);
    b->used_cost += cJSON_IsNumber(cost) ? cost->valuedouble : 0;
}

void th_broker_set_deadline(th_broker *b, long long deadline_ms)
{
    b->deadline_ms = deadline_ms;
}

/* A wait of `ms`, cut at the run's deadline (at least 1 ms: a wait the
 * deadline already passed ends at once, and the supervisor ends the run). */
static long long wait_within_deadline(const th_broker *b, long long ms)
{
    if (!b->deadline_ms) return ms;
    long long left = b->deadline_ms - hl_now_ms();
    if (left < 1) left = 1;
    return ms < left ? ms : left;
}

static cJSON *command_tool(th_broker *b, long id, const char *name, const cJSON *spec,
                           const cJSON *args)
{
    const cJSON *command = cJSON_GetObjectItemCaseSensitive(spec, "command");
    int argc = cJSON_GetArraySize(command);
    if (!cJSON_IsArray(command) || argc == 0 || argc > 64) {
        char m[300];
        snprintf(m, sizeof m, "host_tools.%.100s.command must be a list of strings (the argv)", name + 5);
        return error_event(id, "ToolError", m);
    }
    char *argv[66];
    int k = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, command)
    {
        if (!cJSON_IsString(a)) return error_event(id, "ToolError", "host tool argv must be strings");
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
    int rc = hl_run_command(argv, stdin_text, &out, &err,
                            (int)wait_within_deadline(b, timeout_ms));
    cJSON_free(stdin_text);
    cJSON *reply;
    if (rc != 0) {
        char m[700];
        if (rc == -1)
            snprintf(m, sizeof m, "host tool %.100s timed out after %d ms", name, timeout_ms);
        else
            snprintf(m, sizeof m, "host tool %.100s failed (exit %d): %.400s", name, rc,
                     err.data ? err.data : "");
        reply = error_event(id, "ToolError", m);
    } else {
        cJSON *result = out.data ? cJSON_Parse(out.data) : NULL;
        if (!result) result = cJSON_CreateString(out.data ? out.data : "");
        reply = result_done(id, "result", result);
    }
    tx_buf_free(&out);
    tx_buf_free(&err);
    return reply;
}

/* ---- host HTTP tools ---------------------------------------------------------------------------- */

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

/* Keeps a secret's value for redaction (it may not have a secret-like name). */
static void remember_secret(th_broker *b, const char *value)
{
    if (strlen(value) < 6 || b->n_secrets >= MAX_SECRETS) return;
    for (size_t i = 0; i < b->n_secrets; i++)
        if (strcmp(b->secrets[i], value) == 0) return;
    b->secrets[b->n_secrets] = tx_strdup(value);
    if (b->secrets[b->n_secrets]) b->n_secrets++;
}

/* Walks the host configuration for key names: every `api_key_env: NAME`
 * (providers.X and any other table that names its key that way) and every
 * ${secret:NAME} in a string; the values set on the host become secrets. */
static void remember_config_secrets(th_broker *b, const cJSON *v, int depth)
{
    if (!v || depth > 32) return;
    if (cJSON_IsString(v) && v->valuestring) {
        if (v->string && strcmp(v->string, "api_key_env") == 0) {
            const char *val = getenv(v->valuestring);
            if (val) remember_secret(b, val);
        }
        for (const char *p = v->valuestring; (p = strstr(p, "${secret:"));) {
            const char *close = strchr(p, '}');
            if (!close) break;
            char var[128];
            snprintf(var, sizeof var, "%.*s", (int)(close - p - 9), p + 9);
            const char *val = getenv(var);
            if (val) remember_secret(b, val);
            p = close + 1;
        }
        return;
    }
    for (const cJSON *c = v->child; c; c = c->next) remember_config_secrets(b, c, depth + 1);
}

/* A header value with ${secret:NAME} resolved from the host's environment:
 * the credential exists only here, in the broker. */
static bool expand_header(th_broker *b, const char *tmpl, tx_buf *out, char *err, size_t cap)
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
        remember_secret(b, v);
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
static cJSON *http_tool(th_broker *b, long id, const char *name, const cJSON *spec,
                        const cJSON *args)
{
    const cJSON *http = cJSON_GetObjectItemCaseSensitive(spec, "http");
    const char *method = hl_json_str(http, "method");
    const char *url_t = hl_json_str(http, "url");
    char err[600] = "";
    if (!url_t) {
        snprintf(err, sizeof err, "host_tools.%.100s.http.url is missing", name + 5);
        return error_event(id, "ToolError", err);
    }
    tx_buf url;
    tx_buf_init(&url, 8192);
    if (!expand_url(url_t, args, &url, err, sizeof err)) {
        tx_buf_free(&url);
        return error_event(id, "ToolError", err);
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
        return error_event(id, "ToolNotAllowed", err);
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
        reply = error_event(id, "ToolError", err);
    } else {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(spec, "timeout");
        const cJSON *mo = cJSON_GetObjectItemCaseSensitive(spec, "max_output");
        tx_buf out;
        tx_buf_init(&out, cJSON_IsNumber(mo) && mo->valuedouble > 0 ? (size_t)mo->valuedouble : 1u << 20);
        th_error herr = {"ToolError", ""};
        long long timeout_ms = cJSON_IsNumber(t) ? (long long)(t->valuedouble * 1000) : 30000;
        int status = th_http_request(method ? method : "GET", url.data, headers, body,
                                     (long)wait_within_deadline(b, timeout_ms), &out, &herr);
        if (status < 0) {
            reply = error_event(id, herr.type, herr.message);
        } else if (status < 200 || status > 299) {
            snprintf(err, sizeof err, "host tool %.100s: HTTP %d: %.300s", name, status,
                     out.data ? out.data : "");
            reply = error_event(id, "ToolError", err);
        } else {
            cJSON *result = cJSON_CreateObject();
            cJSON_AddNumberToObject(result, "status", status);
            cJSON *parsed = out.data ? cJSON_Parse(out.data) : NULL;
            cJSON_AddItemToObject(result, "body", parsed ? parsed : cJSON_CreateString(out.data ? out.data : ""));
            reply = result_done(id, "result", result);
        }
        tx_buf_free(&out);
    }
    for (size_t i = 0; i < n_bufs; i++) tx_buf_free(&hbufs[i]);
    cJSON_free(body);
    tx_buf_free(&url);
    return reply; /* th_broker_handle redacts every remembered secret from it */
}

/* ---- redaction ------------------------------------------------------------------------------------ */

/* Replaces every occurrence of a known secret in the strings of `v`. */
static void redact(const th_broker *b, cJSON *v, int depth)
{
    if (!v || depth > 64 || b->n_secrets == 0) return;
    if (cJSON_IsString(v) && v->valuestring) {
        for (size_t i = 0; i < b->n_secrets; i++) {
            const char *sec = b->secrets[i];
            if (!strstr(v->valuestring, sec)) continue;
            tx_buf out;
            tx_buf_init(&out, TP_REDACT_CAP);
            const char *p = v->valuestring, *hit;
            size_t sl = strlen(sec);
            while ((hit = strstr(p, sec))) {
                tx_buf_append(&out, p, (size_t)(hit - p));
                tx_buf_puts(&out, "[REDACTED]");
                p = hit + sl;
            }
            tx_buf_puts(&out, p);
            cJSON_SetValuestring(v, out.data ? out.data : "[REDACTED]");
            tx_buf_free(&out);
        }
        return;
    }
    for (cJSON *c = v->child; c; c = c->next) redact(b, c, depth + 1);
}

/* Replaces every known secret in s[0..n) into `out`. */
static void redact_into(const th_broker *b, const char *s, tx_buf *out)
{
    cJSON *tmp = cJSON_CreateString(s);
    redact(b, tmp, 0);
    tx_buf_puts(out, tmp && tmp->valuestring ? tmp->valuestring : "[REDACTED]");
    cJSON_Delete(tmp);
}

static size_t longest_secret(const th_broker *b)
{
    size_t m = 0;
    for (size_t i = 0; i < b->n_secrets; i++)
        if (strlen(b->secrets[i]) > m) m = strlen(b->secrets[i]);
    return m;
}

static struct held_stream *held_stream_for(th_broker *b, int index)
{
    struct held_stream *free_slot = NULL;
    for (size_t i = 0; i < MAX_HELD; i++) {
        if (b->held[i].used && b->held[i].index == index) return &b->held[i];
        if (!b->held[i].used && !free_slot) free_slot = &b->held[i];
    }
    if (!free_slot) return NULL;
    free_slot->used = true;
    free_slot->index = index;
    tx_buf_init(&free_slot->tail, TP_REDACT_CAP);
    return free_slot;
}

/* The text to pass on now for one stream: (held tail + piece) with every
 * whole secret replaced, minus its last (longest - 1) bytes, which are held
 * (a secret starting there may go on in the next piece). The cut is moved
 * back to a UTF-8 boundary so a passed piece is always valid UTF-8.
 * Returns a tx_alloc'd string ("" = nothing to pass yet), NULL on memory. */
static char *release_stream(th_broker *b, struct held_stream *h, const char *piece, bool flush)
{
    tx_buf_puts(&h->tail, piece ? piece : "");
    tx_buf all;
    tx_buf_init(&all, TP_REDACT_CAP);
    redact_into(b, h->tail.data ? h->tail.data : "", &all);
    size_t n = all.len, keep = flush ? 0 : longest_secret(b) - 1;
    size_t cut = n > keep ? n - keep : 0;
    while (cut > 0 && cut < n && ((unsigned char)all.data[cut] & 0xC0) == 0x80) cut--;
    char *now = tx_strndup(all.data ? all.data : "", cut);
    tx_buf_clear(&h->tail);
    if (n > cut) tx_buf_append(&h->tail, all.data + cut, n - cut);
    tx_buf_free(&all);
    return now;
}

/* Streamed deltas: {"text"} and {"tool_call": {index, arguments_delta}} are
 * passed on through release_stream; anything else (and a delta when no
 * secret is known) as a redacted copy. */
static void redacting_delta(void *ud, const cJSON *delta)
{
    th_broker *b = ud;
    if (!b->user_delta) return;
    if (b->n_secrets == 0) {
        b->user_delta(b->user_ud, delta);
        return;
    }
    cJSON *copy = cJSON_Duplicate(delta, 1);
    if (!copy) return;
    cJSON *text = cJSON_GetObjectItemCaseSensitive(copy, "text");
    cJSON *tc = cJSON_GetObjectItemCaseSensitive(copy, "tool_call");
    cJSON *args = cJSON_GetObjectItemCaseSensitive(tc, "arguments_delta");
    const cJSON *index = cJSON_GetObjectItemCaseSensitive(tc, "index");
    cJSON *piece = cJSON_IsString(text) ? text : cJSON_IsString(args) ? args : NULL;
    struct held_stream *h = piece ? held_stream_for(b, piece == text ? -1 : cJSON_IsNumber(index) ? index->valueint : 0) : NULL;
    if (h) {
        char *now = release_stream(b, h, piece->valuestring, false);
        cJSON_SetValuestring(piece, now ? now : "");
        tx_free(now);
        /* Nothing to pass yet: a text delta is dropped, a tool-call delta
         * still goes (it may carry the call's id and name). */
        if (piece == text && !*text->valuestring) {
            cJSON_Delete(copy);
            return;
        }
    }
    redact(b, copy, 0);
    b->user_delta(b->user_ud, copy);
    cJSON_Delete(copy);
}

/* At the end of a streamed call: what each stream still holds, redacted. */
static void flush_streams(th_broker *b)
{
    for (size_t i = 0; i < MAX_HELD; i++) {
        struct held_stream *h = &b->held[i];
        if (!h->used) continue;
        char *rest = release_stream(b, h, "", true);
        if (rest && *rest && b->user_delta) {
            cJSON *d = cJSON_CreateObject();
            if (h->index < 0) {
                cJSON_AddStringToObject(d, "text", rest);
            } else {
                cJSON *t = cJSON_AddObjectToObject(d, "tool_call");
                cJSON_AddNumberToObject(t, "index", h->index);
                cJSON_AddStringToObject(t, "arguments_delta", rest);
            }
            b->user_delta(b->user_ud, d);
            cJSON_Delete(d);
        }
        tx_free(rest);
        tx_buf_free(&h->tail);
        h->used = false;
    }
}

/* ---- dispatch ------------------------------------------------------------------------------------- */

/* Model { type = "http", endpoint = ... }: the prediction is a POST of
 * {"input": ...} made here, never by the runtime. The host decides where a
 * model may be called (the .tac file is not trusted):
 *   models: { allow_hosts: [h], NAME: { endpoint, headers, timeout, allow_hosts } }
 * a model's own `endpoint` in host configuration wins over the file's. */
static cJSON *model_predict(th_broker *b, long id, const cJSON *params)
{
    const char *name = hl_json_str(params, "name");
    const char *type = hl_json_str(params, "type");
    if (!name || !type || strcmp(type, "http") != 0)
        return error_event(id, "BadRequest", "model.predict needs name and type \"http\"");
    const cJSON *models = cf_get(b->config, "models");
    const cJSON *own = cJSON_GetObjectItemCaseSensitive(models, name);
    const char *endpoint = hl_json_str(own, "endpoint");
    if (!endpoint) endpoint = hl_json_str(params, "endpoint");
    if (!endpoint) return error_event(id, "BadRequest", "the model has no endpoint");
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

/* Sleep(seconds): the host waits, so the runtime never spins; under
 * `tactus test` the fixed clock moves on instead. SIGINT/SIGTERM end the
 * wait early (the supervisor then stops the run). */
static cJSON *sleep_for(th_broker *b, long id, const cJSON *params)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(params, "seconds");
    if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > 86400)
        return error_event(id, "BadRequest", "timer.sleep needs seconds from 0 to 86400");
    if (b->fixed_now_ms) {
        b->clock_calls += (long long)(s->valuedouble * 1000);
        return result_done(id, "slept", cJSON_CreateNumber(s->valuedouble));
    }
    /* The supervisor refuses a Sleep longer than the time left; this cut
     * is the broker's own line behind it. */
    double seconds = (double)wait_within_deadline(b, (long long)(s->valuedouble * 1000)) / 1000.0;
    struct timespec left = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&left, &left) != 0 && errno == EINTR && !th_interrupted()) {
    }
    return result_done(id, "slept", cJSON_CreateNumber(s->valuedouble));
}

/* The answer a test gives a person's request (inventory C.3): a scenario's
 * "when asked" prefix first, then its answer for the kind, then the mock
 * defaults (approve true, input "test input", review Approve, escalate). */
static cJSON *test_human_answer(const cJSON *test, const cJSON *params)
{
    const cJSON *human = cJSON_GetObjectItemCaseSensitive(test, "human");
    const char *kind = hl_json_str(params, "kind");
    const char *message = hl_json_str(params, "message");
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(human, "prefixes"))
    {
        const char *prefix = hl_json_str(p, "prefix");
        if (prefix && message && strncmp(message, prefix, strlen(prefix)) == 0)
            return cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p, "value"), 1);
    }
    const cJSON *by_kind = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(human, "kinds"), kind ? kind : "");
    if (by_kind) return cJSON_Duplicate(by_kind, 1);
    if (!kind) return cJSON_CreateNull();
    if (strcmp(kind, "approve") == 0) return cJSON_CreateTrue();
    if (strcmp(kind, "input") == 0) return cJSON_CreateString("test input");
    if (strcmp(kind, "review") == 0) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "decision", "Approve");
        return r;
    }
    if (strcmp(kind, "escalate") == 0) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddTrueToObject(r, "escalated");
        return r;
    }
    return cJSON_CreateNull();
}

void th_broker_set_test(th_broker *b, const cJSON *test, long long fixed_now_ms)
{
    b->test = test;
    b->fixed_now_ms = fixed_now_ms;
}

static cJSON *dispatch(th_broker *b, const cJSON *request, th_delta_fn on_delta, void *ud);

bool th_broker_tool_needs_approval(const th_broker *b, const char *name)
{
    if (!name || strncmp(name, "host.", 5) != 0) return false;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(b->config, "host_tools"), name + 5);
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "requires_approval"));
}

void th_audit_default_path(const char *store, char *out, size_t cap)
{
    const char *slash = strrchr(store, '/');
    if (slash)
        snprintf(out, cap, "%.*s/audit.jsonl", (int)(slash - store), store);
    else
        snprintf(out, cap, "audit.jsonl");
}

void th_broker_set_audit(th_broker *b, const char *path, const char *tenant)
{
    snprintf(b->audit_path, sizeof b->audit_path, "%s", path ? path : "");
    snprintf(b->tenant, sizeof b->tenant, "%s", tenant ? tenant : "default");
}

/* Prices per million tokens (input, output) in US dollars: config
 * `prices: {"openai/gpt-4o-mini": {input: 0.15, output: 0.6}}` overrides and
 * extends these defaults. Unknown models cost 0 (and say so in the audit). */
static bool price_of(const th_broker *b, const char *model, double *in, double *out)
{
    static const struct {
        const char *model;
        double in, out;
    } defaults[] = {
        {"openai/gpt-4o-mini", 0.15, 0.60}, {"openai/gpt-4o", 2.50, 10.00},
        {"openai/gpt-4.1-mini", 0.40, 1.60}, {"openai/gpt-4.1", 2.00, 8.00},
        {"anthropic/claude-3-5-haiku-latest", 0.80, 4.00},
        {"anthropic/claude-3-7-sonnet-latest", 3.00, 15.00},
    };
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(b->config, "prices"), model);
    if (cJSON_IsObject(p)) {
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(p, "input");
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(p, "output");
        *in = cJSON_IsNumber(i) ? i->valuedouble : 0;
        *out = cJSON_IsNumber(o) ? o->valuedouble : 0;
        return true;
    }
    for (size_t k = 0; k < sizeof defaults / sizeof defaults[0]; k++)
        if (strcmp(defaults[k].model, model) == 0) {
            *in = defaults[k].in;
            *out = defaults[k].out;
            return true;
        }
    *in = *out = 0;
    return false;
}

/* The budget an llm.chat would exceed, or NULL. */
static const char *budget_exceeded(const th_broker *b, char *msg, size_t cap)
{
    if (b->budget_calls > 0 && b->used_calls >= b->budget_calls) {
        snprintf(msg, cap, "LLM call budget exceeded (limit %.0f calls, budgets.llm_calls)", b->budget_calls);
        return msg;
    }
    if (b->budget_tokens > 0 && b->used_tokens >= b->budget_tokens) {
        snprintf(msg, cap, "token budget exceeded (limit %.0f tokens, budgets.tokens; used %.0f)",
                 b->budget_tokens, b->used_tokens);
        return msg;
    }
    if (b->budget_cost > 0 && b->used_cost >= b->budget_cost) {
        snprintf(msg, cap, "cost budget exceeded (limit $%.4f, budgets.cost; used $%.4f)",
                 b->budget_cost, b->used_cost);
        return msg;
    }
    return NULL;
}

static void audit_write(th_broker *b, const cJSON *request, const cJSON *reply, long long ms,
                        double tokens, double cost, bool priced)
{
    if (!b->audit_path[0]) return;
    const char *method = hl_json_str(request, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(request, "params");
    cJSON *rec = cJSON_CreateObject();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[40];
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    char stamp[64];
    snprintf(stamp, sizeof stamp, "%s.%03ldZ", when, ts.tv_nsec / 1000000);
    cJSON_AddStringToObject(rec, "time", stamp);
    cJSON_AddStringToObject(rec, "run", b->run_id);
    cJSON_AddStringToObject(rec, "tenant", b->tenant);
    cJSON_AddStringToObject(rec, "method", method ? method : "");
    const char *target = hl_json_str(params, "model");
    if (!target) target = hl_json_str(params, "name");
    if (target) cJSON_AddStringToObject(rec, strcmp(method ? method : "", "llm.chat") == 0 ? "model" : "tool", target);
    /* The arguments themselves stay out of the log: their hash identifies them. */
    char *canon = cJSON_PrintUnformatted(params);
    char hex[65] = "";
    if (canon) hl_sha256_hex(canon, strlen(canon), hex);
    cJSON_AddStringToObject(rec, "args_sha256", hex);
    const char *event = hl_json_str(reply, "event");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(reply, "error");
    const char *type = hl_json_str(err, "type");
    bool denied = type && (!strcmp(type, "ToolNotAllowed") || !strcmp(type, "UnsupportedProvider") ||
                           !strcmp(type, "BudgetExceeded") || !strcmp(type, "MethodNotFound"));
    cJSON_AddStringToObject(rec, "decision", denied ? "denied" : "allowed");
    if (event && strcmp(event, "error") == 0) {
        cJSON_AddStringToObject(rec, "outcome", type ? type : "error");
        const char *m = hl_json_str(err, "message");
        if (m) cJSON_AddStringToObject(rec, "reason", m);
    } else {
        cJSON_AddStringToObject(rec, "outcome", "ok");
    }
    char *reply_text = cJSON_PrintUnformatted(reply);
    cJSON_AddNumberToObject(rec, "bytes_in", canon ? (double)strlen(canon) : 0);
    cJSON_AddNumberToObject(rec, "bytes_out", reply_text ? (double)strlen(reply_text) : 0);
    cJSON_AddNumberToObject(rec, "tokens", tokens);
    cJSON_AddNumberToObject(rec, "cost_usd", cost);
    if (!priced && tokens > 0) cJSON_AddBoolToObject(rec, "unpriced", 1);
    cJSON_AddNumberToObject(rec, "duration_ms", (double)ms);
    cJSON_free(canon);
    cJSON_free(reply_text);
    redact(b, rec, 0);
    char *line = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    if (!line) return;
    /* O_APPEND: concurrent runs interleave whole lines, never parts. */
    int fd = open(b->audit_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
        size_t n = strlen(line);
        line[n] = '\n';
        ssize_t w = write(fd, line, n + 1);
        (void)w;
        close(fd);
        line[n] = '\0';
    }
    cJSON_free(line);
}

cJSON *th_broker_handle(th_broker *b, const cJSON *request, th_delta_fn on_delta, void *ud)
{
    b->user_delta = on_delta;
    b->user_ud = ud;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *method = hl_json_str(request, "method");
    bool chat = method && strcmp(method, "llm.chat") == 0;
    char msg[256];
    cJSON *reply;
    if (chat && budget_exceeded(b, msg, sizeof msg))
        reply = error_event(request_id(request), "BudgetExceeded", msg);
    else
        reply = dispatch(b, request, redacting_delta, b);
    flush_streams(b);
    redact(b, reply, 0);
    double tokens = 0, cost = 0;
    bool priced = true;
    if (chat && reply) {
        const cJSON *usage = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(reply, "data"), "usage");
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");
        double in = cJSON_IsNumber(pt) ? pt->valuedouble : 0, out = cJSON_IsNumber(ct) ? ct->valuedouble : 0;
        double pin, pout;
        const char *model = hl_json_str(cJSON_GetObjectItemCaseSensitive(request, "params"), "model");
        priced = price_of(b, model ? model : "", &pin, &pout);
        tokens = in + out;
        cost = (in * pin + out * pout) / 1e6;
        if (usage) {
            cJSON *u = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(reply, "data"), "usage");
            cJSON_AddNumberToObject(u, "cost_usd", cost);
        }
        if (strcmp(hl_json_str(reply, "event") ? hl_json_str(reply, "event") : "", "done") == 0) {
            b->used_calls += 1;
            b->used_tokens += tokens;
            b->used_cost += cost;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (reply)
        audit_write(b, request, reply,
                    (t1.tv_sec - t0.tv_sec) * 1000LL + (t1.tv_nsec - t0.tv_nsec) / 1000000, tokens,
                    cost, priced);
    return reply;
}

static cJSON *dispatch(th_broker *b, const cJSON *request, th_delta_fn on_delta, void *ud)
{
    long id = request_id(request);
    const char *method = hl_json_str(request, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(request, "params");
    if (!method) return error_event(id, "BadRequest", "Missing method");
    if (strcmp(method, "llm.chat") == 0) return handle_chat(b, id, params, on_delta, ud);
    if (strcmp(method, "tool.call") == 0) return handle_tool_call(b, id, params);
    if (strcmp(method, "timer.sleep") == 0) return sleep_for(b, id, params);
    if (strcmp(method, "model.predict") == 0) return model_predict(b, id, params);
    if (strcmp(method, "clock.now") == 0 && b->fixed_now_ms)
        /* Tests: time moves one millisecond per reading, the same every run. */
        return result_done(id, "epoch_ms", cJSON_CreateNumber((double)(b->fixed_now_ms + b->clock_calls++)));
    if (strcmp(method, "random.seed") == 0 && b->fixed_now_ms)
        return result_done(id, "seed", cJSON_CreateNumber((double)(b->fixed_now_ms % 2147483647)));
    if (strcmp(method, "clock.now") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return result_done(id, "epoch_ms",
                           cJSON_CreateNumber((double)ts.tv_sec * 1000.0 + ts.tv_nsec / 1000000));
    }
    if (strcmp(method, "random.seed") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return result_done(id, "seed", cJSON_CreateNumber((double)((ts.tv_nsec ^ ts.tv_sec) & 0x7fffffff)));
    }
    if (strcmp(method, "checkpoint") == 0) return result_done(id, "cached", cJSON_CreateFalse());
    if (strcmp(method, "checkpoint.commit") == 0) return result_done(id, "ok", cJSON_CreateTrue());
    if (strcmp(method, "human.request") == 0 && b->test)
        return result_done(id, "value", test_human_answer(b->test, params));
    if (strcmp(method, "human.request") == 0)
        return error_event(id, "Suspended",
                           "no answer is recorded for this request: the run waits for a person");
    char m[200];
    snprintf(m, sizeof m, "Unknown method: %.100s", method);
    return error_event(id, "MethodNotFound", m);
}
