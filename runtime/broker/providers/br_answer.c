/*
 * br_answer.c - the answer of a streamed model call in our terms, built
 * the same way for every HTTP provider (declared in br_http.h): the
 * providers differ in how the wire says things, not in what they say.
 */
#include <stdio.h>
#include <string.h>

#include "providers.h"

br_answer *br_answer_new(void)
{
    br_answer *a = tx_calloc(1, sizeof *a);
    if (!a) return NULL;
    tx_buf_init(&a->content, BR_HTTP_BODY_CAP);
    for (int i = 0; i < BR_ANSWER_MAX_CALLS; i++) {
        tx_buf_init(&a->calls[i].name, 1024);
        tx_buf_init(&a->calls[i].args, BR_HTTP_BODY_CAP);
    }
    br_answer_reset(a);
    return a;
}

void br_answer_free(br_answer *a)
{
    if (!a) return;
    tx_buf_free(&a->content);
    for (int i = 0; i < BR_ANSWER_MAX_CALLS; i++) {
        tx_buf_free(&a->calls[i].name);
        tx_buf_free(&a->calls[i].args);
    }
    tx_free(a);
}

void br_answer_reset(br_answer *a)
{
    tx_buf_clear(&a->content);
    for (int i = 0; i < BR_ANSWER_MAX_CALLS; i++) {
        a->calls[i].id[0] = '\0';
        a->calls[i].used = false;
        tx_buf_clear(&a->calls[i].name);
        tx_buf_clear(&a->calls[i].args);
    }
    a->prompt_tokens = a->completion_tokens = 0;
    a->total_tokens = -1;
    a->usage_seen = false;
    a->finish[0] = '\0';
}

void br_answer_text(br_http_stream *s, br_answer *a, const char *text)
{
    if (!text || !*text) return;
    tx_buf_puts(&a->content, text);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "text", text);
    br_http_emit(s, d);
}

void br_answer_call(br_http_stream *s, br_answer *a, int i, const char *id, const char *name,
                    const char *args)
{
    a->calls[i].used = true;
    if (id) snprintf(a->calls[i].id, sizeof a->calls[i].id, "%s", id);
    if (name) tx_buf_puts(&a->calls[i].name, name);
    if (args) tx_buf_puts(&a->calls[i].args, args);
    cJSON *d = cJSON_CreateObject();
    cJSON *t = cJSON_AddObjectToObject(d, "tool_call");
    cJSON_AddNumberToObject(t, "index", i);
    if (id) cJSON_AddStringToObject(t, "id", id);
    if (name) cJSON_AddStringToObject(t, "name", name);
    cJSON_AddStringToObject(t, "arguments_delta", args ? args : "");
    br_http_emit(s, d);
}

cJSON *br_answer_done(const br_answer *a, br_error *err)
{
    cJSON *done = cJSON_CreateObject();
    cJSON *msg = cJSON_AddObjectToObject(done, "message");
    cJSON_AddStringToObject(msg, "role", "assistant");
    cJSON_AddStringToObject(msg, "content", a->content.data ? a->content.data : "");
    cJSON *calls = cJSON_AddArrayToObject(msg, "tool_calls");
    for (int i = 0; i < BR_ANSWER_MAX_CALLS; i++) {
        if (!a->calls[i].used) continue;
        const char *name = a->calls[i].name.data ? a->calls[i].name.data : "";
        /* a tool without parameters may stream no arguments at all */
        const char *text = a->calls[i].args.len ? a->calls[i].args.data : "{}";
        cJSON *args = cJSON_Parse(text);
        if (!args) {
            strcpy(err->type, "ProviderError");
            snprintf(err->message, sizeof err->message,
                     "malformed answer: the arguments of tool call %s are not JSON: %.100s",
                     *name ? name : "?", text);
            cJSON_Delete(done);
            return NULL;
        }
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "id", a->calls[i].id);
        cJSON_AddStringToObject(c, "name", name);
        cJSON_AddItemToObject(c, "arguments", args);
        cJSON_AddItemToArray(calls, c);
    }
    cJSON *usage = cJSON_AddObjectToObject(done, "usage");
    if (!a->usage_seen) {
        /* Some OpenAI-compatible servers ignore stream_options.include_usage:
         * what the call cost is not known, which is not the same as 0. */
        cJSON_AddTrueToObject(usage, "unknown");
    } else {
        cJSON_AddNumberToObject(usage, "prompt_tokens", a->prompt_tokens);
        cJSON_AddNumberToObject(usage, "completion_tokens", a->completion_tokens);
        cJSON_AddNumberToObject(usage, "total_tokens",
                                a->total_tokens >= 0 ? a->total_tokens
                                                     : a->prompt_tokens + a->completion_tokens);
    }
    cJSON_AddStringToObject(done, "finish_reason", a->finish[0] ? a->finish : "stop");
    return done;
}
