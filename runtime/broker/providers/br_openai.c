/*
 * br_openai.c - OpenAI chat completions, and any OpenAI-compatible
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

#include "providers.h"

struct br_openai {
    const cJSON *config;
    char idempotency_key[96]; /* RUN.POSITION of the call being made, "" none */
};

void br_openai_set_idempotency_key(br_openai *p, const char *key)
{
    snprintf(p->idempotency_key, sizeof p->idempotency_key, "%s", key ? key : "");
}

br_openai *br_openai_new(const cJSON *config)
{
    br_openai *p = tx_calloc(1, sizeof *p);
    if (p) p->config = config;
    return p;
}

void br_openai_free(br_openai *p)
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
        const char *role = hl_json_str(m, "role");
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
        const char *tcid = hl_json_str(m, "tool_call_id");
        if (tcid) cJSON_AddStringToObject(o, "tool_call_id", tcid);
        const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
        if (cJSON_GetArraySize(calls) > 0) {
            cJSON *arr = cJSON_AddArrayToObject(o, "tool_calls");
            const cJSON *c;
            cJSON_ArrayForEach(c, calls)
            {
                cJSON *tc = cJSON_CreateObject();
                const char *id = hl_json_str(c, "id");
                cJSON_AddStringToObject(tc, "id", id ? id : "");
                cJSON_AddStringToObject(tc, "type", "function");
                cJSON *fn = cJSON_AddObjectToObject(tc, "function");
                const char *name = hl_json_str(c, "name");
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
            const char *name = hl_json_str(t, "name");
            const char *desc = hl_json_str(t, "description");
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
    br_answer *answer;
    bool done_seen; /* data: [DONE] */
} stream_state;

static void stream_begin(void *ud)
{
    stream_state *st = ud;
    br_answer_reset(st->answer);
    st->done_seen = false;
}

static double usage_count(const cJSON *usage, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(usage, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void on_chunk(br_http_stream *s, br_answer *a, const char *json, size_t n)
{
    cJSON *chunk = cJSON_ParseWithLength(json, n);
    if (!chunk) {
        br_http_malformed(s, "a stream chunk is not JSON: %.80s", json);
        return;
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(chunk, "error");
    if (err)
        br_http_malformed(s, "the stream reported an error: %.120s",
                          hl_json_str(err, "message") ? hl_json_str(err, "message") : "unknown");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(chunk, "usage");
    if (cJSON_IsObject(usage)) {
        a->usage_seen = true;
        a->prompt_tokens = usage_count(usage, "prompt_tokens");
        a->completion_tokens = usage_count(usage, "completion_tokens");
        a->total_tokens = usage_count(usage, "total_tokens");
    }
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(chunk, "choices"), 0);
    const cJSON *delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");
    br_answer_text(s, a, hl_json_str(delta, "content"));
    const cJSON *tc;
    cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(delta, "tool_calls"))
    {
        const cJSON *index = cJSON_GetObjectItemCaseSensitive(tc, "index");
        int i = cJSON_IsNumber(index) ? index->valueint : 0;
        if (i < 0 || i >= BR_ANSWER_MAX_CALLS) {
            br_http_malformed(s, "tool call index %d out of range", i);
            continue;
        }
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
        br_answer_call(s, a, i, hl_json_str(tc, "id"), hl_json_str(fn, "name"),
                       hl_json_str(fn, "arguments"));
    }
    const char *finish = hl_json_str(choice, "finish_reason");
    if (finish) snprintf(a->finish, sizeof a->finish, "%s", finish);
    cJSON_Delete(chunk);
}

static void on_data(br_http_stream *s, void *ud, const char *data, size_t n)
{
    stream_state *st = ud;
    if (n == 6 && strncmp(data, "[DONE]", 6) == 0)
        st->done_seen = true;
    else
        on_chunk(s, st->answer, data, n);
}

static cJSON *stream_finish(void *ud, const char *base, br_error *err)
{
    stream_state *st = ud;
    if (!st->done_seen && !st->answer->finish[0]) {
        strcpy(err->type, "ProviderError");
        snprintf(err->message, sizeof err->message,
                 "the answer from %.300s ended without finishing (no finish_reason and no [DONE])",
                 base);
        return NULL;
    }
    return br_answer_done(st->answer, err);
}

/* ---- one call ----------------------------------------------------------------------------------
 */

static const br_http_parser openai_parser = {stream_begin, on_data, stream_finish};

cJSON *br_openai_chat(void *p, const cJSON *params, const char *model, const br_sink *sink,
                      br_error *err)
{
    br_openai *o = p;
    const char *slash = strchr(model, '/');
    char provider[64];
    size_t pn = slash ? (size_t)(slash - model) : 0;
    snprintf(provider, sizeof provider, "%.*s", (int)(pn < sizeof provider ? pn : 0), model);
    const char *bare = slash ? slash + 1 : model;
    /* Only the openai provider reads OPENAI_*; a configured compatible
     * server has its own providers.NAME settings and NAME_API_KEY. */
    bool is_openai = strcmp(provider, "openai") == 0;
    br_http_settings st;
    br_http_settings_load(o->config, provider, is_openai ? "OPENAI_BASE_URL" : NULL,
                          is_openai ? "OPENAI_API_KEY" : NULL, "https://api.openai.com/v1", NULL,
                          &st);
    br_http_apply_agent_retry(&st, params);
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
    /* The journal position of the call: a provider (or a proxy in front of
     * it) that honours the header bills a call sent again after a worker
     * died before journaling its answer once (docs/durability.md). */
    char idem[140] = "";
    if (o->idempotency_key[0]) snprintf(idem, sizeof idem, "Idempotency-Key: %s", o->idempotency_key);
    const char *headers[] = {"Content-Type: application/json", "Accept: text/event-stream",
                             idem[0] ? idem : NULL, auth[0] ? auth : NULL, NULL};
    if (!idem[0]) {
        headers[2] = auth[0] ? auth : NULL;
        headers[3] = NULL;
    }
    stream_state state = {.answer = br_answer_new()};
    cJSON *result = NULL;
    if (state.answer)
        result =
            br_http_stream_post(&st, url, headers, body, bare, &openai_parser, &state, sink, err);
    else {
        strcpy(err->type, "ProviderError");
        strcpy(err->message, "out of memory");
    }
    br_answer_free(state.answer);
    memset(auth, 0, sizeof auth);
    memset(st.api_key, 0, sizeof st.api_key);
    cJSON_free(body);
    return result;
}
