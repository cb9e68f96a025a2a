/*
 * providers.h - the model providers behind the broker (openai, anthropic,
 * mock) and what the HTTP ones share (br_http.c): settings from the
 * environment and configuration, one streamed POST with retries before the
 * first byte, a stall timeout, the run's deadline, server-sent-event line
 * splitting, the mapping of HTTP statuses to typed errors, and the answer
 * accumulator. Each provider brings only its wire format.
 * Internal to runtime/broker (its tests include it too).
 */
#ifndef TACTUS_PROVIDERS_H
#define TACTUS_PROVIDERS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "broker.h"
#include "config.h"
#include "hostlib.h"
#include "mcp.h"

/* ---- the provider interface ------------------------------------------------------------ */

typedef struct {
    br_delta_fn on_delta;
    void *ud;
    /* The end of the run's time limit (CLOCK_MONOTONIC ms; 0: none): the
     * answer, its retries and their waits stop there. */
    long long deadline_ms;
    /* The run is stopping (the broker's interrupt; NULL: never): the
     * answer and its retries are abandoned with type "Interrupted". */
    bool (*interrupted)(void *ud);
    void *interrupted_ud;
} br_sink;

typedef struct {
    char type[32];     /* ProviderError, RateLimited, Timeout, BadRequest, AuthError */
    char message[1024];
} br_error;

/* llm.chat params -> done data {message, usage, finish_reason}, or NULL with err. */
typedef cJSON *(*br_chat_fn)(void *provider, const cJSON *params, const char *model,
                             const br_sink *sink, br_error *err);

typedef struct br_openai br_openai;
br_openai *br_openai_new(const cJSON *config);
void br_openai_free(br_openai *p);
/* The Idempotency-Key header of the next calls (the run's id and the
 * effect's journal position); NULL or "": none. */
void br_openai_set_idempotency_key(br_openai *p, const char *key);
cJSON *br_openai_chat(void *p, const cJSON *params, const char *model, const br_sink *sink,
                      br_error *err);

/* anthropic/MODEL: the Anthropic Messages API (br_anthropic.c). */
typedef struct br_anthropic br_anthropic;
br_anthropic *br_anthropic_new(const cJSON *config);
void br_anthropic_free(br_anthropic *p);
cJSON *br_anthropic_chat(void *p, const cJSON *params, const char *model, const br_sink *sink,
                         br_error *err);

typedef struct br_mock br_mock;
br_mock *br_mock_new(const cJSON *mocks);
void br_mock_free(br_mock *p);
cJSON *br_mock_chat(void *p, const cJSON *params, const char *model, const br_sink *sink,
                    br_error *err);

#define BR_HTTP_BODY_CAP (16u * 1024u * 1024u)
/* The longest wait before a retry, whatever an Agent's retry settings or a
 * configuration say (seconds). */
#define BR_HTTP_MAX_RETRY_DELAY 300.0

typedef struct {
    char base_url[1024]; /* without trailing slashes */
    char api_key[4096];
    char key_env[160]; /* the variable the key came from, for messages */
    /* The provider's own public endpoint (no base URL configured), which
     * takes no request without a key; a custom base_url may need none. */
    bool public_endpoint;
    long stall_ms;     /* no byte for this long: the answer is abandoned */
    long timeout_ms;   /* the whole answer */
    int max_retries;
    double retry_delay;    /* seconds before the first retry */
    bool constant_backoff; /* else doubling */
    double max_delay;      /* seconds; 0: no cap */
} br_http_settings;

/* An Agent's `retry = {enabled, attempts, delay_seconds, backoff, max_delay_seconds, on}`
 * (inventory A.4), sent in llm.chat params, over the provider's settings.
 * Only infrastructure failures are retried here ("validation" retries are
 * the runtime's). */
void br_http_apply_agent_retry(br_http_settings *s, const cJSON *params);

/* providers.<provider>.{base_url, api_key_env, stall_timeout, timeout,
 * max_retries, retry_delay}. env_base/env_key (may be NULL) are read first;
 * without api_key_env the key variable is `default_key_env`, or
 * <PROVIDER>_API_KEY when that is NULL. With neither env_base nor base_url
 * set, the URL is default_base and public_endpoint is true: then
 * br_http_stream_post refuses to send without a key. */
void br_http_settings_load(const cJSON *config, const char *provider, const char *env_base,
                           const char *env_key, const char *default_base,
                           const char *default_key_env, br_http_settings *s);
/* providers.<provider>.<key> as a string or number, or NULL / def. */
const char *br_http_cfg_str(const cJSON *config, const char *provider, const char *key);
double br_http_cfg_num(const cJSON *config, const char *provider, const char *key, double def);

/* The state of one attempt, seen by the provider's parser. */
typedef struct br_http_stream br_http_stream;

typedef struct {
    /* Before every attempt: forget what an earlier attempt parsed. */
    void (*begin)(void *parser);
    /* The payload of one "data:" line of the event stream (without the
     * prefix, its optional space and the line ending). */
    void (*data)(br_http_stream *s, void *parser, const char *data, size_t n);
    /* After a clean end of the stream: the done data, or NULL with err set
     * (for instance when the stream never said it was complete). */
    cJSON *(*finish)(void *parser, const char *base_url, br_error *err);
} br_http_parser;

/* Passes a delta to the sink (and frees it); from then on no retry. */
void br_http_emit(br_http_stream *s, cJSON *delta);
/* Marks the answer malformed (the first reason wins). */
void br_http_malformed(br_http_stream *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- the answer in our terms ----------------------------------------------
 * What a streamed answer has said so far, whatever the provider's wire
 * format: text, tool calls by index, usage and finish reason. A provider's
 * parser feeds it piece by piece (each piece also goes to the sink as a
 * delta) and its `finish` builds the done data from it. */
#define BR_ANSWER_MAX_CALLS 64

typedef struct {
    tx_buf content;
    struct {
        char id[128];
        tx_buf name;
        tx_buf args; /* JSON text, in pieces */
        bool used;
    } calls[BR_ANSWER_MAX_CALLS];
    double prompt_tokens, completion_tokens;
    double total_tokens; /* < 0: their sum */
    bool usage_seen;     /* the stream said how many tokens it used; false: unknown */
    char finish[32];     /* our finish_reason; empty: "stop" */
} br_answer;

/* NULL when out of memory. The struct is large: it lives on the heap. */
br_answer *br_answer_new(void);
void br_answer_free(br_answer *a);
/* Before every attempt. */
void br_answer_reset(br_answer *a);
/* Appends text (NULL or empty: nothing) and emits {text}. */
void br_answer_text(br_http_stream *s, br_answer *a, const char *text);
/* Tool call i (0 <= i < BR_ANSWER_MAX_CALLS, checked by the caller): its id
 * when known (replaces), a piece of its name and of its JSON arguments
 * (appended; NULL: none); emits {tool_call: {index, id?, name?,
 * arguments_delta}}. */
void br_answer_call(br_http_stream *s, br_answer *a, int i, const char *id, const char *name,
                    const char *args);
/* The done data: {message: {role, content, tool_calls}, usage, finish_reason};
 * usage is {prompt_tokens, completion_tokens, total_tokens}, or {unknown:
 * true} when the stream never said (counts absent, never a guessed 0;
 * docs/protocol.md),
 * or NULL with err when a call's arguments are not JSON. */
cJSON *br_answer_done(const br_answer *a, br_error *err);

/* POSTs `body` to `url` with `headers` (NULL-terminated) and streams the
 * answer through `parser`; retries 429, 5xx, connection failures and
 * timeouts while nothing was emitted. `model` is for messages. Done data,
 * or NULL with err. Loads libcurl on first use. */
cJSON *br_http_stream_post(const br_http_settings *st, const char *url, const char *const *headers,
                           const char *body, const char *model, const br_http_parser *parser,
                           void *parser_state, const br_sink *sink, br_error *err);

/* One plain request (no stream, no retry, no redirect): the answer's body
 * into `out` (capped by out's limit), cut when `interrupted` (may be NULL)
 * says so. The HTTP status, or -1 with err (type "Interrupted" when cut). */
int br_http_request(const char *method, const char *url, const char *const *headers,
                    const char *body, long timeout_ms, bool (*interrupted)(void *ud), void *ud,
                    tx_buf *out, br_error *err);

/* mcp_http_ops.request on libcurl (br_mcp_http.c). */
long br_mcp_http_request(void *ud, const char *method, const char *url, const char *const *headers,
                         const char *body, long timeout_ms, const mcp_http_sink *sink, char *err,
                         size_t cap);

#endif
