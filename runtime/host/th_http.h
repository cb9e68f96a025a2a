/*
 * th_http.h - what the HTTP model providers share (th_http.c): settings from
 * the environment and configuration, one streamed POST with retries before
 * the first byte, a stall timeout, server-sent-event line splitting, and the
 * mapping of HTTP statuses to typed errors. Each provider brings only its
 * wire format: the request body, the headers and a line parser.
 * Internal to runtime/host (not a public header of the module).
 */
#ifndef TACTUS_TH_HTTP_H
#define TACTUS_TH_HTTP_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "host.h"

#define TH_HTTP_BODY_CAP (16u * 1024u * 1024u)

typedef struct {
    char base_url[1024]; /* without trailing slashes */
    char api_key[4096];
    char key_env[160]; /* the variable the key came from, for messages */
    long stall_ms;     /* no byte for this long: the answer is abandoned */
    long timeout_ms;   /* the whole answer */
    int max_retries;
    double retry_delay;    /* seconds before the first retry */
    bool constant_backoff; /* else doubling */
    double max_delay;      /* seconds; 0: no cap */
} th_http_settings;

/* An Agent's `retry = {enabled, attempts, delay_seconds, backoff, max_delay_seconds, on}`
 * (inventory A.4), sent in llm.chat params, over the provider's settings.
 * Only infrastructure failures are retried here ("validation" retries are
 * the runtime's). */
void th_http_apply_agent_retry(th_http_settings *s, const cJSON *params);

/* providers.<provider>.{base_url, api_key_env, stall_timeout, timeout,
 * max_retries, retry_delay}. env_base/env_key (may be NULL) are read first;
 * without api_key_env the key variable is `default_key_env`, or
 * <PROVIDER>_API_KEY when that is NULL. */
void th_http_settings_load(const cJSON *config, const char *provider, const char *env_base,
                           const char *env_key, const char *default_base,
                           const char *default_key_env, th_http_settings *s);
/* providers.<provider>.<key> as a string or number, or NULL / def. */
const char *th_http_cfg_str(const cJSON *config, const char *provider, const char *key);
double th_http_cfg_num(const cJSON *config, const char *provider, const char *key, double def);

/* The state of one attempt, seen by the provider's parser. */
typedef struct th_http_stream th_http_stream;

typedef struct {
    /* Before every attempt: forget what an earlier attempt parsed. */
    void (*begin)(void *parser);
    /* The payload of one "data:" line of the event stream (without the
     * prefix, its optional space and the line ending). */
    void (*data)(th_http_stream *s, void *parser, const char *data, size_t n);
    /* After a clean end of the stream: the done data, or NULL with err set
     * (for instance when the stream never said it was complete). */
    cJSON *(*finish)(void *parser, const char *base_url, th_error *err);
} th_http_parser;

/* Passes a delta to the sink (and frees it); from then on no retry. */
void th_http_emit(th_http_stream *s, cJSON *delta);
/* Marks the answer malformed (the first reason wins). */
void th_http_malformed(th_http_stream *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- the answer in our terms ----------------------------------------------
 * What a streamed answer has said so far, whatever the provider's wire
 * format: text, tool calls by index, usage and finish reason. A provider's
 * parser feeds it piece by piece (each piece also goes to the sink as a
 * delta) and its `finish` builds the done data from it. */
#define TH_ANSWER_MAX_CALLS 64

typedef struct {
    tx_buf content;
    struct {
        char id[128];
        tx_buf name;
        tx_buf args; /* JSON text, in pieces */
        bool used;
    } calls[TH_ANSWER_MAX_CALLS];
    double prompt_tokens, completion_tokens;
    double total_tokens; /* < 0: their sum */
    char finish[32];     /* our finish_reason; empty: "stop" */
} th_answer;

/* NULL when out of memory. The struct is large: it lives on the heap. */
th_answer *th_answer_new(void);
void th_answer_free(th_answer *a);
/* Before every attempt. */
void th_answer_reset(th_answer *a);
/* Appends text (NULL or empty: nothing) and emits {text}. */
void th_answer_text(th_http_stream *s, th_answer *a, const char *text);
/* Tool call i (0 <= i < TH_ANSWER_MAX_CALLS, checked by the caller): its id
 * when known (replaces), a piece of its name and of its JSON arguments
 * (appended; NULL: none); emits {tool_call: {index, id?, name?,
 * arguments_delta}}. */
void th_answer_call(th_http_stream *s, th_answer *a, int i, const char *id, const char *name,
                    const char *args);
/* The done data: {message: {role, content, tool_calls}, usage, finish_reason},
 * or NULL with err when a call's arguments are not JSON. */
cJSON *th_answer_done(const th_answer *a, th_error *err);

/* POSTs `body` to `url` with `headers` (NULL-terminated) and streams the
 * answer through `parser`; retries 429, 5xx, connection failures and
 * timeouts while nothing was emitted. `model` is for messages. Done data,
 * or NULL with err. Loads libcurl on first use. */
cJSON *th_http_stream_post(const th_http_settings *st, const char *url, const char *const *headers,
                           const char *body, const char *model, const th_http_parser *parser,
                           void *parser_state, const th_sink *sink, th_error *err);

/* One plain request (no stream, no retry, no redirect): the answer's body
 * into `out` (capped by out's limit). The HTTP status, or -1 with err. */
int th_http_request(const char *method, const char *url, const char *const *headers,
                    const char *body, long timeout_ms, tx_buf *out, th_error *err);

#endif
