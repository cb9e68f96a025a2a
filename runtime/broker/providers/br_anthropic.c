/*
 * br_anthropic.c - Anthropic Messages API over the shared HTTP
 * machinery (br_http.c): streaming text, tool use with streamed input JSON,
 * usage, and the same typed errors and retries as the OpenAI provider.
 *
 * Wire format: POST {base}/v1/messages with headers x-api-key and
 * anthropic-version, body {model, max_tokens (required), system, messages,
 * tools: [{name, description, input_schema}], temperature, stream: true}.
 * Messages alternate user/assistant; an assistant's tool calls are
 * {type: "tool_use", id, name, input} content blocks and their results go
 * back in a *user* message as {type: "tool_result", tool_use_id, content}
 * blocks. The answer is server-sent events "event: NAME" + "data: {type...}":
 * message_start, content_block_start/delta/stop (text_delta or
 * input_json_delta pieces), message_delta (stop_reason, output usage),
 * message_stop, ping and error.
 *
 * The key is read here from the host's environment and goes only into the
 * x-api-key header.
 */
#include <stdlib.h>
#include <string.h>

#include "providers.h"

#define MAX_BLOCKS         256
#define DEFAULT_MAX_TOKENS 4096

struct br_anthropic {
    const cJSON *config;
};

br_anthropic *br_anthropic_new(const cJSON *config)
{
    br_anthropic *p = tx_calloc(1, sizeof *p);
    if (p) p->config = config;
    return p;
}

void br_anthropic_free(br_anthropic *p)
{
    tx_free(p);
}

/* ---- request body ------------------------------------------------------------------------------
 */

/* A message's content as text: tool results and odd contents are JSON. */
static char *content_text(const cJSON *m)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
    if (cJSON_IsString(c)) return tx_strdup(c->valuestring);
    if (!c || cJSON_IsNull(c)) return tx_strdup("");
    char *json = cJSON_PrintUnformatted(c);
    char *copy = json ? tx_strdup(json) : NULL;
    cJSON_free(json);
    return copy;
}

/* Our tool call -> a tool_use block; arguments may be an object or (from
 * older journals) a JSON string. */
static cJSON *tool_use_block(const cJSON *call)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "tool_use");
    const char *id = hl_json_str(call, "id");
    const char *name = hl_json_str(call, "name");
    cJSON_AddStringToObject(b, "id", id ? id : "");
    cJSON_AddStringToObject(b, "name", name ? name : "");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(call, "arguments");
    cJSON *input = NULL;
    if (cJSON_IsObject(args))
        input = cJSON_Duplicate(args, 1);
    else if (cJSON_IsString(args))
        input = cJSON_Parse(args->valuestring);
    if (!cJSON_IsObject(input)) {
        cJSON_Delete(input);
        input = cJSON_CreateObject(); /* the API wants an object */
    }
    cJSON_AddItemToObject(b, "input", input);
    return b;
}

/* Our messages -> Anthropic's; system messages are joined into `system`. */
static cJSON *anthropic_messages(const cJSON *messages, tx_buf *system)
{
    cJSON *out = cJSON_CreateArray();
    cJSON *results = NULL; /* content of the user message collecting tool results */
    const cJSON *m;
    cJSON_ArrayForEach(m, messages)
    {
        const char *role = hl_json_str(m, "role");
        if (!role) role = "user";
        char *text = content_text(m);
        if (!text) continue;
        if (strcmp(role, "system") == 0) {
            if (system->len) tx_buf_puts(system, "\n\n");
            tx_buf_puts(system, text);
        } else if (strcmp(role, "tool") == 0) {
            if (!results) {
                cJSON *u = cJSON_CreateObject();
                cJSON_AddStringToObject(u, "role", "user");
                results = cJSON_AddArrayToObject(u, "content");
                cJSON_AddItemToArray(out, u);
            }
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "type", "tool_result");
            const char *id = hl_json_str(m, "tool_call_id");
            cJSON_AddStringToObject(b, "tool_use_id", id ? id : "");
            cJSON_AddStringToObject(b, "content", text);
            cJSON_AddItemToArray(results, b);
        } else {
            cJSON *o = cJSON_CreateObject();
            bool assistant = strcmp(role, "assistant") == 0;
            cJSON_AddStringToObject(o, "role", assistant ? "assistant" : "user");
            const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
            if (assistant && cJSON_GetArraySize(calls) > 0) {
                cJSON *blocks = cJSON_AddArrayToObject(o, "content");
                if (*text) { /* the API rejects empty text blocks */
                    cJSON *t = cJSON_CreateObject();
                    cJSON_AddStringToObject(t, "type", "text");
                    cJSON_AddStringToObject(t, "text", text);
                    cJSON_AddItemToArray(blocks, t);
                }
                const cJSON *c;
                cJSON_ArrayForEach(c, calls) cJSON_AddItemToArray(blocks, tool_use_block(c));
            } else {
                cJSON_AddStringToObject(o, "content", text);
            }
            cJSON_AddItemToArray(out, o);
            results = NULL;
        }
        tx_free(text);
    }
    return out;
}

static char *request_body(const cJSON *params, const char *model, double max_tokens)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "model", model);
    cJSON_AddNumberToObject(body, "max_tokens", max_tokens);
    tx_buf system;
    tx_buf_init(&system, BR_HTTP_BODY_CAP);
    cJSON *msgs = anthropic_messages(cJSON_GetObjectItemCaseSensitive(params, "messages"), &system);
    if (system.len) cJSON_AddStringToObject(body, "system", system.data);
    tx_buf_free(&system);
    cJSON_AddItemToObject(body, "messages", msgs);
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(params, "tools");
    if (cJSON_GetArraySize(tools) > 0) {
        cJSON *arr = cJSON_AddArrayToObject(body, "tools");
        const cJSON *t;
        cJSON_ArrayForEach(t, tools)
        {
            cJSON *o = cJSON_CreateObject();
            const char *name = hl_json_str(t, "name");
            const char *desc = hl_json_str(t, "description");
            cJSON_AddStringToObject(o, "name", name ? name : "");
            if (desc) cJSON_AddStringToObject(o, "description", desc);
            const cJSON *ps = cJSON_GetObjectItemCaseSensitive(t, "parameters");
            cJSON_AddItemToObject(o, "input_schema",
                                  cJSON_IsObject(ps)
                                      ? cJSON_Duplicate(ps, 1)
                                      : cJSON_Parse("{\"type\":\"object\",\"properties\":{}}"));
            cJSON_AddItemToArray(arr, o);
        }
    }
    const cJSON *temp = cJSON_GetObjectItemCaseSensitive(params, "temperature");
    if (cJSON_IsNumber(temp)) cJSON_AddNumberToObject(body, "temperature", temp->valuedouble);
    cJSON_AddBoolToObject(body, "stream", 1);
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    return text;
}

/* ---- the stream
 * ---------------------------------------------------------------------------------- */

/* What the stream has said so far (reset before each attempt). */
typedef struct {
    br_answer *answer;
    int ncalls;
    int call_of_block[MAX_BLOCKS]; /* content block index -> our call index, or -1 */
    bool stopped;                  /* message_stop seen */
} stream_state;

static void stream_begin(void *ud)
{
    stream_state *st = ud;
    br_answer_reset(st->answer);
    st->ncalls = 0;
    for (int i = 0; i < MAX_BLOCKS; i++)
        st->call_of_block[i] = -1;
    st->stopped = false;
}

static int block_index(br_http_stream *s, const cJSON *ev)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, "index");
    int i = cJSON_IsNumber(v) ? v->valueint : -1;
    if (i < 0 || i >= MAX_BLOCKS) br_http_malformed(s, "content block index %d out of range", i);
    return i < 0 || i >= MAX_BLOCKS ? -1 : i;
}

static void on_block_start(br_http_stream *s, stream_state *st, const cJSON *ev)
{
    int b = block_index(s, ev);
    const cJSON *cb = cJSON_GetObjectItemCaseSensitive(ev, "content_block");
    const char *type = hl_json_str(cb, "type");
    if (b < 0 || !type) return;
    if (strcmp(type, "text") == 0) {
        br_answer_text(s, st->answer, hl_json_str(cb, "text"));
    } else if (strcmp(type, "tool_use") == 0) {
        if (st->ncalls >= BR_ANSWER_MAX_CALLS) {
            br_http_malformed(s, "more than %d tool calls", BR_ANSWER_MAX_CALLS);
            return;
        }
        int i = st->ncalls++;
        st->call_of_block[b] = i;
        const char *id = hl_json_str(cb, "id");
        const char *name = hl_json_str(cb, "name");
        br_answer_call(s, st->answer, i, id ? id : "", name ? name : "", "");
    }
    /* other blocks (thinking, ...) are not part of our answer */
}

static void on_block_delta(br_http_stream *s, stream_state *st, const cJSON *ev)
{
    int b = block_index(s, ev);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(ev, "delta");
    const char *type = hl_json_str(d, "type");
    if (b < 0 || !type) return;
    if (strcmp(type, "text_delta") == 0) {
        br_answer_text(s, st->answer, hl_json_str(d, "text"));
    } else if (strcmp(type, "input_json_delta") == 0) {
        int i = st->call_of_block[b];
        if (i < 0) {
            br_http_malformed(s, "input_json_delta for block %d, which is no tool_use", b);
            return;
        }
        const char *piece = hl_json_str(d, "partial_json");
        if (!piece || !*piece) return;
        br_answer_call(s, st->answer, i, NULL, NULL, piece);
    }
}

static double num_at(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Counts present in a usage object replace ours. */
static void take_usage(br_answer *a, const cJSON *u)
{
    if (num_at(u, "input_tokens") >= 0) a->prompt_tokens = num_at(u, "input_tokens"), a->usage_seen = true;
    if (num_at(u, "output_tokens") >= 0) a->completion_tokens = num_at(u, "output_tokens"), a->usage_seen = true;
}

static const char *finish_reason(const char *stop)
{
    if (!*stop || strcmp(stop, "end_turn") == 0 || strcmp(stop, "stop_sequence") == 0)
        return "stop";
    if (strcmp(stop, "tool_use") == 0) return "tool_calls";
    if (strcmp(stop, "max_tokens") == 0) return "length";
    return stop;
}

static void on_event(br_http_stream *s, stream_state *st, const cJSON *ev)
{
    const char *type = hl_json_str(ev, "type");
    if (!type) return;
    if (strcmp(type, "message_start") == 0) {
        take_usage(st->answer, cJSON_GetObjectItemCaseSensitive(
                                   cJSON_GetObjectItemCaseSensitive(ev, "message"), "usage"));
    } else if (strcmp(type, "content_block_start") == 0) {
        on_block_start(s, st, ev);
    } else if (strcmp(type, "content_block_delta") == 0) {
        on_block_delta(s, st, ev);
    } else if (strcmp(type, "message_delta") == 0) {
        const char *stop =
            hl_json_str(cJSON_GetObjectItemCaseSensitive(ev, "delta"), "stop_reason");
        if (stop)
            snprintf(st->answer->finish, sizeof st->answer->finish, "%s", finish_reason(stop));
        /* output_tokens here is cumulative for the whole message */
        take_usage(st->answer, cJSON_GetObjectItemCaseSensitive(ev, "usage"));
    } else if (strcmp(type, "message_stop") == 0) {
        st->stopped = true;
    } else if (strcmp(type, "error") == 0) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(ev, "error");
        const char *et = hl_json_str(e, "type"), *msg = hl_json_str(e, "message");
        br_http_malformed(s, "the stream reported an error (%.40s): %.100s", et ? et : "error",
                          msg ? msg : "unknown");
    }
    /* ping and content_block_stop carry nothing we need */
}

static void on_data(br_http_stream *s, void *ud, const char *data, size_t n)
{
    cJSON *ev = cJSON_ParseWithLength(data, n);
    if (!cJSON_IsObject(ev)) {
        br_http_malformed(s, "a stream event is not a JSON object: %.80s", data);
        cJSON_Delete(ev);
        return;
    }
    on_event(s, ud, ev);
    cJSON_Delete(ev);
}

static cJSON *stream_finish(void *ud, const char *base, br_error *err)
{
    stream_state *st = ud;
    if (!st->stopped) {
        strcpy(err->type, "ProviderError");
        snprintf(err->message, sizeof err->message,
                 "the answer from %.300s ended without finishing (no message_stop)", base);
        return NULL;
    }
    return br_answer_done(st->answer, err);
}

/* ---- one call ----------------------------------------------------------------------------------
 */

static const br_http_parser anthropic_parser = {stream_begin, on_data, stream_finish};

cJSON *br_anthropic_chat(void *p, const cJSON *params, const char *model, const br_sink *sink,
                         br_error *err)
{
    br_anthropic *o = p;
    const char *slash = strchr(model, '/');
    const char *bare = slash ? slash + 1 : model;
    br_http_settings st;
    br_http_settings_load(o->config, "anthropic", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY",
                          "https://api.anthropic.com", NULL, &st);
    br_http_apply_agent_retry(&st, params);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(params, "max_tokens");
    double max_tokens = cJSON_IsNumber(mt) ? mt->valuedouble
                                           : br_http_cfg_num(o->config, "anthropic", "max_tokens",
                                                             DEFAULT_MAX_TOKENS);
    char url[1200];
    snprintf(url, sizeof url, "%s/v1/messages", st.base_url);
    char *body = request_body(params, bare, max_tokens);
    if (!body) {
        strcpy(err->type, "ProviderError");
        strcpy(err->message, "out of memory building the request");
        return NULL;
    }
    char key[4200] = "";
    if (st.api_key[0]) snprintf(key, sizeof key, "x-api-key: %s", st.api_key);
    const char *headers[] = {"content-type: application/json", "anthropic-version: 2023-06-01",
                             "accept: text/event-stream", key[0] ? key : NULL, NULL};
    stream_state state = {.answer = br_answer_new()};
    cJSON *result = NULL;
    if (state.answer)
        result = br_http_stream_post(&st, url, headers, body, bare, &anthropic_parser, &state, sink,
                                     err);
    else {
        strcpy(err->type, "ProviderError");
        strcpy(err->message, "out of memory");
    }
    br_answer_free(state.answer);
    memset(key, 0, sizeof key);
    memset(st.api_key, 0, sizeof st.api_key);
    cJSON_free(body);
    return result;
}
