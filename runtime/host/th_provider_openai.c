/*
 * th_provider_openai.c - OpenAI chat completions, and any OpenAI-compatible
 * server, over libcurl: streaming (server-sent events), tool calls with
 * streamed argument deltas, usage, typed errors, retries before the first
 * byte, and a stall timeout.
 *
 * Wire format (Chat Completions): POST {base}/chat/completions with
 * {"model", "messages", "tools": [{"type": "function", "function": {name,
 * description, parameters}}], "stream": true, "stream_options":
 * {"include_usage": true}}. The answer is a stream of lines
 * "data: {chunk}" separated by blank lines and ended by "data: [DONE]"; each
 * chunk has choices[0].delta.content and/or delta.tool_calls[{index, id,
 * function: {name, arguments}}] (arguments arrive in pieces), then
 * finish_reason, then a chunk with "usage". Errors are non-200 answers with
 * {"error": {"message", "type", "code"}}.
 *
 * The API key is read here, from the host's environment (never the
 * runtime's, which has none), and goes only into the Authorization header.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "th_curl.h"

#define BODY_CAP (16u * 1024u * 1024u)
#define LINE_CAP (8u * 1024u * 1024u)
#define MAX_TOOL_CALLS 64

struct th_openai {
    const cJSON *config;
    bool curl_ready;
};

th_openai *th_openai_new(const cJSON *config)
{
    th_openai *p = tx_calloc(1, sizeof *p);
    if (p) p->config = config;
    return p;
}

void th_openai_free(th_openai *p)
{
    tx_free(p); /* libcurl stays loaded for the life of the process */
}

/* ---- settings ------------------------------------------------------------------------------------ */

typedef struct {
    char base_url[1024];
    char api_key[4096];
    long stall_ms;   /* no byte for this long: the answer is abandoned */
    long timeout_ms; /* the whole answer */
    char key_env[160]; /* the variable the key came from, for messages */
    int max_retries;
    double retry_delay;
} settings;

static const char *cfg_str(const cJSON *config, const char *provider, const char *key)
{
    char path[256];
    snprintf(path, sizeof path, "providers.%s.%s", provider, key);
    const cJSON *v = th_config_get(config, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double cfg_num(const cJSON *config, const char *provider, const char *key, double def)
{
    char path[256];
    snprintf(path, sizeof path, "providers.%s.%s", provider, key);
    const cJSON *v = th_config_get(config, path);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static void load_settings(const cJSON *config, const char *provider, settings *s)
{
    const char *base = NULL, *key = NULL;
    snprintf(s->key_env, sizeof s->key_env, "OPENAI_API_KEY");
    if (strcmp(provider, "openai") == 0) {
        base = getenv("OPENAI_BASE_URL");
        key = getenv("OPENAI_API_KEY");
    }
    if (!base || !*base) base = cfg_str(config, provider, "base_url");
    if (!base) base = "https://api.openai.com/v1";
    if (!key || !*key) {
        const char *env_name = cfg_str(config, provider, "api_key_env");
        char def[160];
        if (!env_name) {
            size_t i = 0;
            for (; provider[i] && i < 100; i++) def[i] = (char)toupper((unsigned char)provider[i]);
            strcpy(def + i, "_API_KEY");
            env_name = def;
        }
        key = getenv(env_name);
        snprintf(s->key_env, sizeof s->key_env, "%s", env_name);
    }
    snprintf(s->base_url, sizeof s->base_url, "%s", base);
    size_t bl = strlen(s->base_url);
    while (bl > 0 && s->base_url[bl - 1] == '/') s->base_url[--bl] = '\0';
    snprintf(s->api_key, sizeof s->api_key, "%s", key ? key : "");
    s->stall_ms = (long)(cfg_num(config, provider, "stall_timeout", 60) * 1000);
    s->timeout_ms = (long)(cfg_num(config, provider, "timeout", 600) * 1000);
    if (s->stall_ms < 1) s->stall_ms = 1;
    if (s->timeout_ms < 1) s->timeout_ms = 1;
    s->max_retries = (int)cfg_num(config, provider, "max_retries", 2);
    s->retry_delay = cfg_num(config, provider, "retry_delay", 0.5);
}

/* ---- request body ------------------------------------------------------------------------------ */

/* Our messages -> OpenAI's: tool calls carry arguments as a JSON string. */
static cJSON *openai_messages(const cJSON *messages)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *m;
    cJSON_ArrayForEach(m, messages)
    {
        cJSON *o = cJSON_CreateObject();
        const char *role = th_json_str(m, "role");
        cJSON_AddStringToObject(o, "role", role ? role : "user");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (cJSON_IsString(content))
            cJSON_AddStringToObject(o, "content", content->valuestring);
        else if (content && !cJSON_IsNull(content)) {
            char *text = cJSON_PrintUnformatted(content);
            cJSON_AddStringToObject(o, "content", text ? text : "");
            cJSON_free(text);
        } else {
            cJSON_AddNullToObject(o, "content");
        }
        const char *tcid = th_json_str(m, "tool_call_id");
        if (tcid) cJSON_AddStringToObject(o, "tool_call_id", tcid);
        const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
        if (cJSON_GetArraySize(calls) > 0) {
            cJSON *arr = cJSON_AddArrayToObject(o, "tool_calls");
            const cJSON *c;
            cJSON_ArrayForEach(c, calls)
            {
                cJSON *tc = cJSON_CreateObject();
                const char *id = th_json_str(c, "id");
                cJSON_AddStringToObject(tc, "id", id ? id : "");
                cJSON_AddStringToObject(tc, "type", "function");
                cJSON *fn = cJSON_AddObjectToObject(tc, "function");
                const char *name = th_json_str(c, "name");
                cJSON_AddStringToObject(fn, "name", name ? name : "");
                const cJSON *args = cJSON_GetObjectItemCaseSensitive(c, "arguments");
                char *text = args ? cJSON_PrintUnformatted(args) : NULL;
                cJSON_AddStringToObject(fn, "arguments", text ? text : "{}");
                cJSON_free(text);
                cJSON_AddItemToArray(arr, tc);
            }
        }
        cJSON_AddItemToArray(out, o);
    }
    return out;
}

static char *request_body(const cJSON *params, const char *model)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "model", model);
    cJSON_AddItemToObject(body, "messages",
                          openai_messages(cJSON_GetObjectItemCaseSensitive(params, "messages")));
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(params, "tools");
    if (cJSON_GetArraySize(tools) > 0) {
        cJSON *arr = cJSON_AddArrayToObject(body, "tools");
        const cJSON *t;
        cJSON_ArrayForEach(t, tools)
        {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "type", "function");
            cJSON *fn = cJSON_AddObjectToObject(o, "function");
            const char *name = th_json_str(t, "name");
            const char *desc = th_json_str(t, "description");
            cJSON_AddStringToObject(fn, "name", name ? name : "");
            if (desc) cJSON_AddStringToObject(fn, "description", desc);
            const cJSON *ps = cJSON_GetObjectItemCaseSensitive(t, "parameters");
            cJSON_AddItemToObject(fn, "parameters",
                                  ps ? cJSON_Duplicate(ps, 1)
                                     : cJSON_Parse("{\"type\":\"object\",\"properties\":{}}"));
            cJSON_AddItemToArray(arr, o);
        }
    }
    const cJSON *temp = cJSON_GetObjectItemCaseSensitive(params, "temperature");
    if (cJSON_IsNumber(temp)) cJSON_AddNumberToObject(body, "temperature", temp->valuedouble);
    const cJSON *maxt = cJSON_GetObjectItemCaseSensitive(params, "max_tokens");
    if (cJSON_IsNumber(maxt)) cJSON_AddNumberToObject(body, "max_tokens", maxt->valuedouble);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(params, "output_schema");
    if (cJSON_IsObject(schema)) {
        cJSON *rf = cJSON_AddObjectToObject(body, "response_format");
        cJSON_AddStringToObject(rf, "type", "json_schema");
        cJSON *js = cJSON_AddObjectToObject(rf, "json_schema");
        cJSON_AddStringToObject(js, "name", "output");
        cJSON_AddItemToObject(js, "schema", cJSON_Duplicate(schema, 1));
    }
    cJSON_AddBoolToObject(body, "stream", 1);
    cJSON *so = cJSON_AddObjectToObject(body, "stream_options");
    cJSON_AddBoolToObject(so, "include_usage", 1);
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    return text;
}

/* ---- the stream ---------------------------------------------------------------------------------- */

typedef struct {
    CURL *curl;
    const th_sink *sink;
    long status;       /* HTTP status, known once headers are in */
    bool sse;          /* the answer is an event stream */
    tx_buf line;       /* the current line */
    tx_buf body;       /* a non-stream (error) body */
    tx_buf content;    /* assistant text so far */
    struct {
        char id[128];
        tx_buf name;
        tx_buf args;
        bool used;
    } calls[MAX_TOOL_CALLS];
    cJSON *usage;
    char finish[32];
    bool done_seen;
    bool malformed;
    char malformed_what[160];
    bool got_bytes; /* streamed anything to the sink: no retry after this */
    long long last_byte_ms, started_ms;
    long stall_ms;
    bool stalled;
} stream;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* curl calls this about once a second and on every chunk: a stream that
 * stops moving for stall_ms is abandoned (curl's own low-speed check works
 * in whole seconds averaged over a window, too coarse for this). */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    stream *s = ud;
    if (mono_ms() - s->last_byte_ms > s->stall_ms) {
        s->stalled = true;
        return 1; /* abort the transfer */
    }
    return 0;
}

static void emit(stream *s, cJSON *delta)
{
    if (delta && s->sink && s->sink->on_delta) s->sink->on_delta(s->sink->ud, delta);
    cJSON_Delete(delta);
    s->got_bytes = true;
}

static void on_chunk(stream *s, const char *json, size_t n)
{
    cJSON *chunk = cJSON_ParseWithLength(json, n);
    if (!chunk) {
        s->malformed = true;
        snprintf(s->malformed_what, sizeof s->malformed_what, "a stream chunk is not JSON: %.80s", json);
        return;
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(chunk, "error");
    if (err) {
        s->malformed = true;
        snprintf(s->malformed_what, sizeof s->malformed_what, "the stream reported an error: %.120s",
                 th_json_str(err, "message") ? th_json_str(err, "message") : "unknown");
    }
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(chunk, "usage");
    if (cJSON_IsObject(usage)) {
        cJSON_Delete(s->usage);
        s->usage = cJSON_Duplicate(usage, 1);
    }
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(chunk, "choices"), 0);
    const cJSON *delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");
    const char *text = th_json_str(delta, "content");
    if (text && *text) {
        tx_buf_puts(&s->content, text);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "text", text);
        emit(s, d);
    }
    const cJSON *tc;
    cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(delta, "tool_calls"))
    {
        const cJSON *index = cJSON_GetObjectItemCaseSensitive(tc, "index");
        int i = cJSON_IsNumber(index) ? index->valueint : 0;
        if (i < 0 || i >= MAX_TOOL_CALLS) {
            s->malformed = true;
            snprintf(s->malformed_what, sizeof s->malformed_what, "tool call index %d out of range", i);
            continue;
        }
        s->calls[i].used = true;
        const char *id = th_json_str(tc, "id");
        if (id) snprintf(s->calls[i].id, sizeof s->calls[i].id, "%s", id);
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
        const char *name = th_json_str(fn, "name");
        const char *args = th_json_str(fn, "arguments");
        if (name) tx_buf_puts(&s->calls[i].name, name);
        if (args) tx_buf_puts(&s->calls[i].args, args);
        cJSON *d = cJSON_CreateObject();
        cJSON *t = cJSON_AddObjectToObject(d, "tool_call");
        cJSON_AddNumberToObject(t, "index", i);
        if (id) cJSON_AddStringToObject(t, "id", id);
        if (name) cJSON_AddStringToObject(t, "name", name);
        cJSON_AddStringToObject(t, "arguments_delta", args ? args : "");
        emit(s, d);
    }
    const char *finish = th_json_str(choice, "finish_reason");
    if (finish) snprintf(s->finish, sizeof s->finish, "%s", finish);
    cJSON_Delete(chunk);
}

/* One line of the event stream (without its newline). */
static void on_line(stream *s, const char *line, size_t n)
{
    if (n && line[n - 1] == '\r') n--;
    if (n < 5 || strncmp(line, "data:", 5) != 0) return; /* comments, event:, id:, blank */
    line += 5, n -= 5;
    if (n && *line == ' ') line++, n--;
    if (n == 6 && strncmp(line, "[DONE]", 6) == 0) {
        s->done_seen = true;
        return;
    }
    on_chunk(s, line, n);
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    stream *s = ud;
    size_t n = size * nmemb;
    s->last_byte_ms = mono_ms();
    if (s->status == 0) {
        th_curl.easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
        char *ct = NULL;
        th_curl.easy_getinfo(s->curl, CURLINFO_CONTENT_TYPE, &ct);
        s->sse = s->status == 200 && (!ct || strstr(ct, "event-stream") || strstr(ct, "json") == NULL);
    }
    if (!s->sse) {
        if (tx_buf_append(&s->body, data, n) != TX_OK) return 0; /* over the cap: abort */
        return n;
    }
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(data + i, '\n', n - i);
        size_t run = nl ? (size_t)(nl - (data + i)) : n - i;
        if (tx_buf_append(&s->line, data + i, run) != TX_OK) return 0; /* over the cap */
        i += run;
        if (!nl) break;
        on_line(s, s->line.data ? s->line.data : "", s->line.len);
        s->line.len = 0;
        if (s->line.data) s->line.data[0] = '\0';
        i++;
    }
    return n;
}

static void stream_init(stream *s)
{
    memset(s, 0, sizeof *s);
    tx_buf_init(&s->line, LINE_CAP);
    tx_buf_init(&s->body, BODY_CAP);
    tx_buf_init(&s->content, BODY_CAP);
    for (int i = 0; i < MAX_TOOL_CALLS; i++) {
        tx_buf_init(&s->calls[i].name, 1024);
        tx_buf_init(&s->calls[i].args, BODY_CAP);
    }
}

static void stream_free(stream *s)
{
    tx_buf_free(&s->line);
    tx_buf_free(&s->body);
    tx_buf_free(&s->content);
    for (int i = 0; i < MAX_TOOL_CALLS; i++) {
        tx_buf_free(&s->calls[i].name);
        tx_buf_free(&s->calls[i].args);
    }
    cJSON_Delete(s->usage);
}

/* ---- errors ----------------------------------------------------------------------------------- */

static void http_error(const stream *s, const char *model, const char *base, const char *key_env,
                       th_error *err)
{
    const char *msg = NULL;
    cJSON *body = s->body.data ? cJSON_ParseWithLength(s->body.data, s->body.len) : NULL;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
    if (cJSON_IsString(e)) msg = e->valuestring;
    else msg = th_json_str(e, "message");
    char detail[256];
    if (msg)
        snprintf(detail, sizeof detail, "%.200s", msg);
    else if (s->body.len)
        snprintf(detail, sizeof detail, "%.120s", s->body.data);
    else
        snprintf(detail, sizeof detail, "no details");
    long st = s->status;
    if (st == 401 || st == 403) {
        strcpy(err->type, "AuthError");
        snprintf(err->message, sizeof err->message,
                 "the provider at %.300s refused the API key (HTTP %ld: %s); set %s on the host "
                 "(environment or .env)",
                 base, st, detail, key_env);
    } else if (st == 404) {
        strcpy(err->type, "ProviderError");
        snprintf(err->message, sizeof err->message, "unknown model \"%.100s\" at %.300s (HTTP 404: %s)",
                 model, base, detail);
    } else if (st == 429) {
        strcpy(err->type, "RateLimited");
        snprintf(err->message, sizeof err->message, "rate limited by %.300s (HTTP 429: %s)", base, detail);
    } else {
        strcpy(err->type, st >= 500 ? "ProviderError" : "BadRequest");
        snprintf(err->message, sizeof err->message, "the provider at %.300s answered HTTP %ld: %s",
                 base, st, detail);
    }
    cJSON_Delete(body);
}

static cJSON *assemble(stream *s, th_error *err)
{
    cJSON *done = cJSON_CreateObject();
    cJSON *msg = cJSON_AddObjectToObject(done, "message");
    cJSON_AddStringToObject(msg, "role", "assistant");
    cJSON_AddStringToObject(msg, "content", s->content.data ? s->content.data : "");
    cJSON *calls = cJSON_AddArrayToObject(msg, "tool_calls");
    for (int i = 0; i < MAX_TOOL_CALLS; i++) {
        if (!s->calls[i].used) continue;
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "id", s->calls[i].id);
        cJSON_AddStringToObject(c, "name", s->calls[i].name.data ? s->calls[i].name.data : "");
        const char *a = s->calls[i].args.len ? s->calls[i].args.data : "{}";
        cJSON *args = cJSON_Parse(a);
        if (!args) {
            strcpy(err->type, "ProviderError");
            snprintf(err->message, sizeof err->message,
                     "malformed answer: the arguments of tool call %s are not JSON: %.100s",
                     s->calls[i].name.data ? s->calls[i].name.data : "?", a);
            cJSON_Delete(c);
            cJSON_Delete(done);
            return NULL;
        }
        cJSON_AddItemToObject(c, "arguments", args);
        cJSON_AddItemToArray(calls, c);
    }
    cJSON *usage = cJSON_AddObjectToObject(done, "usage");
    const char *keys[] = {"prompt_tokens", "completion_tokens", "total_tokens"};
    for (int i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->usage, keys[i]);
        cJSON_AddNumberToObject(usage, keys[i], cJSON_IsNumber(v) ? v->valuedouble : 0);
    }
    cJSON_AddStringToObject(done, "finish_reason", s->finish[0] ? s->finish : "stop");
    return done;
}

/* ---- one call, with retries ------------------------------------------------------------------- */

static void sleep_seconds(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

cJSON *th_openai_chat(void *p, const cJSON *params, const char *model, const th_sink *sink,
                      th_error *err)
{
    th_openai *o = p;
    /* libcurl (and the TLS library under it) is initialised on the first
     * model call, not at every start: most runs of a mocked or tool-only
     * procedure never need it. Reference-counted by libcurl. */
    if (!o->curl_ready) {
        if (!th_curl_load(err->message, sizeof err->message)) {
            strcpy(err->type, "ProviderError");
            return NULL;
        }
        o->curl_ready = true;
    }
    const char *slash = strchr(model, '/');
    char provider[64];
    size_t pn = slash ? (size_t)(slash - model) : 0;
    snprintf(provider, sizeof provider, "%.*s", (int)(pn < sizeof provider ? pn : 0), model);
    const char *bare = slash ? slash + 1 : model;
    settings st;
    load_settings(o->config, provider, &st);
    char url[1200];
    snprintf(url, sizeof url, "%s/chat/completions", st.base_url);
    char *body = request_body(params, bare);
    if (!body) {
        strcpy(err->type, "ProviderError");
        strcpy(err->message, "out of memory building the request");
        return NULL;
    }
    cJSON *result = NULL;
    for (int attempt = 0;; attempt++) {
        CURL *curl = th_curl.easy_init();
        if (!curl) break;
        stream s;
        stream_init(&s);
        s.curl = curl;
        s.sink = sink;
        struct curl_slist *hdrs = th_curl.slist_append(NULL, "Content-Type: application/json");
        hdrs = th_curl.slist_append(hdrs, "Accept: text/event-stream");
        char auth[4200];
        if (st.api_key[0]) {
            snprintf(auth, sizeof auth, "Authorization: Bearer %s", st.api_key);
            hdrs = th_curl.slist_append(hdrs, auth);
        }
        th_curl.easy_setopt(curl, CURLOPT_URL, url);
        th_curl.easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
        th_curl.easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        th_curl.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
        th_curl.easy_setopt(curl, CURLOPT_WRITEDATA, &s);
        th_curl.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        th_curl.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
        th_curl.easy_setopt(curl, CURLOPT_TIMEOUT_MS, st.timeout_ms);
        /* A stream that stops moving is a failure, not a wait forever. */
        s.stall_ms = st.stall_ms;
        s.started_ms = s.last_byte_ms = mono_ms();
        th_curl.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        th_curl.easy_setopt(curl, CURLOPT_XFERINFODATA, &s);
        th_curl.easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        th_curl.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        th_curl.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        CURLcode rc = th_curl.easy_perform(curl);
        memset(auth, 0, sizeof auth);
        if (s.status == 0) th_curl.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &s.status);
        bool retryable = false;
        if (s.stalled) {
            strcpy(err->type, "Timeout");
            snprintf(err->message, sizeof err->message,
                     "the provider at %.300s sent nothing for %.1f s (stall_timeout); the answer "
                     "was abandoned",
                     st.base_url, (double)st.stall_ms / 1000.0);
            retryable = !s.got_bytes;
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            strcpy(err->type, "Timeout");
            snprintf(err->message, sizeof err->message,
                     "the answer from %.300s took longer than %.1f s (timeout); it was abandoned",
                     st.base_url, (double)st.timeout_ms / 1000.0);
            retryable = !s.got_bytes;
        } else if (rc != CURLE_OK && s.status == 0) {
            strcpy(err->type, "ProviderError");
            snprintf(err->message, sizeof err->message, "cannot reach the provider at %.300s: %s",
                     st.base_url, th_curl.easy_strerror(rc));
            retryable = true;
        } else if (s.status != 200) {
            http_error(&s, bare, st.base_url, st.key_env, err);
            retryable = s.status == 429 || s.status >= 500;
        } else if (rc == CURLE_WRITE_ERROR) {
            strcpy(err->type, "ProviderError");
            snprintf(err->message, sizeof err->message,
                     "the answer from %.300s exceeded the size limit (16 MiB) and was abandoned",
                     st.base_url);
        } else if (rc != CURLE_OK) {
            /* A 200 whose body was cut: never passed off as a complete answer. */
            strcpy(err->type, "ProviderError");
            snprintf(err->message, sizeof err->message,
                     "the answer from %.300s ended early: %s", st.base_url, th_curl.easy_strerror(rc));
            retryable = !s.got_bytes;
        } else if (s.malformed) {
            strcpy(err->type, "ProviderError");
            snprintf(err->message, sizeof err->message, "malformed answer from %.300s: %s",
                     st.base_url, s.malformed_what);
        } else if (!s.sse) {
            strcpy(err->type, "ProviderError");
            snprintf(err->message, sizeof err->message,
                     "malformed answer from %.300s: expected an event stream", st.base_url);
        } else {
            if (s.line.len) on_line(&s, s.line.data, s.line.len);
            if (!s.done_seen && !s.finish[0]) {
                strcpy(err->type, "ProviderError");
                snprintf(err->message, sizeof err->message,
                         "the answer from %.300s ended without finishing (no finish_reason and no "
                         "[DONE])",
                         st.base_url);
            } else {
                result = assemble(&s, err);
            }
        }
        th_curl.slist_free_all(hdrs);
        th_curl.easy_cleanup(curl);
        stream_free(&s);
        if (result || !retryable || attempt >= st.max_retries) break;
        sleep_seconds(st.retry_delay * (double)(1 << attempt));
    }
    memset(st.api_key, 0, sizeof st.api_key);
    cJSON_free(body);
    return result;
}
