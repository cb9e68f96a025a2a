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
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "th_http.h"

#define MAX_TOOL_CALLS 64

struct th_openai {
    const cJSON *config;
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

/* ---- request body ------------------------------------------------------------------------------
 */

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

/* ---- the stream
 * ---------------------------------------------------------------------------------- */

/* What the stream has said so far (reset before each attempt). */
typedef struct {
    tx_buf content; /* assistant text so far */
    struct {
        char id[128];
        tx_buf name;
        tx_buf args;
        bool used;
    } calls[MAX_TOOL_CALLS];
    cJSON *usage;
    char finish[32];
    bool done_seen;
} answer;

static void answer_begin(void *ud)
{
    answer *a = ud;
    a->content.len = 0;
    if (a->content.data) a->content.data[0] = '\0';
    for (int i = 0; i < MAX_TOOL_CALLS; i++) {
        a->calls[i].id[0] = '\0';
        a->calls[i].used = false;
        a->calls[i].name.len = a->calls[i].args.len = 0;
        if (a->calls[i].name.data) a->calls[i].name.data[0] = '\0';
        if (a->calls[i].args.data) a->calls[i].args.data[0] = '\0';
    }
    cJSON_Delete(a->usage);
    a->usage = NULL;
    a->finish[0] = '\0';
    a->done_seen = false;
}

static void answer_init(answer *a)
{
    memset(a, 0, sizeof *a);
    tx_buf_init(&a->content, TH_HTTP_BODY_CAP);
    for (int i = 0; i < MAX_TOOL_CALLS; i++) {
        tx_buf_init(&a->calls[i].name, 1024);
        tx_buf_init(&a->calls[i].args, TH_HTTP_BODY_CAP);
    }
}

static void answer_free(answer *a)
{
    tx_buf_free(&a->content);
    for (int i = 0; i < MAX_TOOL_CALLS; i++) {
        tx_buf_free(&a->calls[i].name);
        tx_buf_free(&a->calls[i].args);
    }
    cJSON_Delete(a->usage);
}

static void on_chunk(th_http_stream *s, answer *a, const char *json, size_t n)
{
    cJSON *chunk = cJSON_ParseWithLength(json, n);
    if (!chunk) {
        th_http_malformed(s, "a stream chunk is not JSON: %.80s", json);
        return;
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(chunk, "error");
    if (err)
        th_http_malformed(s, "the stream reported an error: %.120s",
                          th_json_str(err, "message") ? th_json_str(err, "message") : "unknown");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(chunk, "usage");
    if (cJSON_IsObject(usage)) {
        cJSON_Delete(a->usage);
        a->usage = cJSON_Duplicate(usage, 1);
    }
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(chunk, "choices"), 0);
    const cJSON *delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");
    const char *text = th_json_str(delta, "content");
    if (text && *text) {
        tx_buf_puts(&a->content, text);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "text", text);
        th_http_emit(s, d);
    }
    const cJSON *tc;
    cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(delta, "tool_calls"))
    {
        const cJSON *index = cJSON_GetObjectItemCaseSensitive(tc, "index");
        int i = cJSON_IsNumber(index) ? index->valueint : 0;
        if (i < 0 || i >= MAX_TOOL_CALLS) {
            th_http_malformed(s, "tool call index %d out of range", i);
            continue;
        }
        a->calls[i].used = true;
        const char *id = th_json_str(tc, "id");
        if (id) snprintf(a->calls[i].id, sizeof a->calls[i].id, "%s", id);
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
        const char *name = th_json_str(fn, "name");
        const char *args = th_json_str(fn, "arguments");
        if (name) tx_buf_puts(&a->calls[i].name, name);
        if (args) tx_buf_puts(&a->calls[i].args, args);
        cJSON *d = cJSON_CreateObject();
        cJSON *t = cJSON_AddObjectToObject(d, "tool_call");
        cJSON_AddNumberToObject(t, "index", i);
        if (id) cJSON_AddStringToObject(t, "id", id);
        if (name) cJSON_AddStringToObject(t, "name", name);
        cJSON_AddStringToObject(t, "arguments_delta", args ? args : "");
        th_http_emit(s, d);
    }
    const char *finish = th_json_str(choice, "finish_reason");
    if (finish) snprintf(a->finish, sizeof a->finish, "%s", finish);
    cJSON_Delete(chunk);
}

/* One line of the event stream: only "data:" lines matter here. */
static void on_line(th_http_stream *s, void *ud, const char *line, size_t n)
{
    answer *a = ud;
    if (n < 5 || strncmp(line, "data:", 5) != 0) return; /* comments, event:, id:, blank */
    line += 5, n -= 5;
    if (n && *line == ' ') line++, n--;
    if (n == 6 && strncmp(line, "[DONE]", 6) == 0) {
        a->done_seen = true;
        return;
    }
    on_chunk(s, a, line, n);
}

static cJSON *assemble(void *ud, const char *base, th_error *err)
{
    answer *a = ud;
    if (!a->done_seen && !a->finish[0]) {
        strcpy(err->type, "ProviderError");
        snprintf(err->message, sizeof err->message,
                 "the answer from %.300s ended without finishing (no finish_reason and no [DONE])",
                 base);
        return NULL;
    }
    cJSON *done = cJSON_CreateObject();
    cJSON *msg = cJSON_AddObjectToObject(done, "message");
    cJSON_AddStringToObject(msg, "role", "assistant");
    cJSON_AddStringToObject(msg, "content", a->content.data ? a->content.data : "");
    cJSON *calls = cJSON_AddArrayToObject(msg, "tool_calls");
    for (int i = 0; i < MAX_TOOL_CALLS; i++) {
        if (!a->calls[i].used) continue;
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "id", a->calls[i].id);
        cJSON_AddStringToObject(c, "name", a->calls[i].name.data ? a->calls[i].name.data : "");
        const char *text = a->calls[i].args.len ? a->calls[i].args.data : "{}";
        cJSON *args = cJSON_Parse(text);
        if (!args) {
            strcpy(err->type, "ProviderError");
            snprintf(err->message, sizeof err->message,
                     "malformed answer: the arguments of tool call %s are not JSON: %.100s",
                     a->calls[i].name.data ? a->calls[i].name.data : "?", text);
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
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(a->usage, keys[i]);
        cJSON_AddNumberToObject(usage, keys[i], cJSON_IsNumber(v) ? v->valuedouble : 0);
    }
    cJSON_AddStringToObject(done, "finish_reason", a->finish[0] ? a->finish : "stop");
    return done;
}

/* ---- one call ----------------------------------------------------------------------------------
 */

static const th_http_parser openai_parser = {answer_begin, on_line, assemble};

cJSON *th_openai_chat(void *p, const cJSON *params, const char *model, const th_sink *sink,
                      th_error *err)
{
    th_openai *o = p;
    const char *slash = strchr(model, '/');
    char provider[64];
    size_t pn = slash ? (size_t)(slash - model) : 0;
    snprintf(provider, sizeof provider, "%.*s", (int)(pn < sizeof provider ? pn : 0), model);
    const char *bare = slash ? slash + 1 : model;
    /* Only the openai provider reads OPENAI_*; a configured compatible
     * server has its own providers.NAME settings and NAME_API_KEY. */
    bool is_openai = strcmp(provider, "openai") == 0;
    th_http_settings st;
    th_http_settings_load(o->config, provider, is_openai ? "OPENAI_BASE_URL" : NULL,
                          is_openai ? "OPENAI_API_KEY" : NULL, "https://api.openai.com/v1", NULL,
                          &st);
    th_http_apply_agent_retry(&st, params);
    char url[1200];
    snprintf(url, sizeof url, "%s/chat/completions", st.base_url);
    char *body = request_body(params, bare);
    if (!body) {
        strcpy(err->type, "ProviderError");
        strcpy(err->message, "out of memory building the request");
        return NULL;
    }
    char auth[4200] = "";
    if (st.api_key[0]) snprintf(auth, sizeof auth, "Authorization: Bearer %s", st.api_key);
    const char *headers[] = {"Content-Type: application/json", "Accept: text/event-stream",
                             auth[0] ? auth : NULL, NULL};
    answer a;
    answer_init(&a);
    cJSON *result =
        th_http_stream_post(&st, url, headers, body, bare, &openai_parser, &a, sink, err);
    answer_free(&a);
    memset(auth, 0, sizeof auth);
    memset(st.api_key, 0, sizeof st.api_key);
    cJSON_free(body);
    return result;
}
