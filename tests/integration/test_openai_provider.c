/* Integration tests of the OpenAI provider (runtime/broker/providers/br_openai.c)
 * and of llm.chat through the broker, against fake_openai.py: a loopback
 * server speaking the real Chat Completions wire format (server-sent events,
 * tool-call argument pieces, usage chunk, OpenAI error bodies).
 *
 * The regression tests at the end guard bugs found by this suite and fixed:
 * each fails if its bug comes back;
 * once it is fixed they pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "fake_server.h"
#include "providers.h"
#include "provider_test.h"

#ifndef FAKE_OPENAI_PY
#define FAKE_OPENAI_PY "fake_openai.py"
#endif

#define TEST_KEY "test-key"
#define STALL_TIMEOUT 1 /* seconds, providers.*.stall_timeout */
#define SERVER_STALL "15" /* seconds the server keeps silent in stall tests */
/* The provider detects a stall with libcurl's low-speed check, whose speed is
 * a moving average over the last ~5 s: a stall is noticed stall_timeout + up
 * to ~6 s after the last byte (measured: 7.2 s for stall_timeout 1). */
#define STALL_BOUND_MS ((STALL_TIMEOUT + 7) * 1000 + 1500)

static fake_server server;
static cJSON *config; /* providers.openai on the fake server */

/* ---- helpers ---------------------------------------------------------------------------------- */

/* The base configuration plus `extra` (JSON text, may be NULL) merged in. */
static cJSON *make_config(const char *extra)
{
    return pt_config("openai", server.base_url, STALL_TIMEOUT, extra);
}

typedef struct {
    cJSON *deltas; /* copies of every delta, in order */
    double t0;
    double first_ms; /* time of the first delta after t0, -1 when none */
} collector;

static void collector_init(collector *c)
{
    c->deltas = cJSON_CreateArray();
    c->t0 = fake_now_ms();
    c->first_ms = -1;
}

static void on_delta(void *ud, const cJSON *delta)
{
    collector *c = ud;
    if (c->first_ms < 0) c->first_ms = fake_now_ms() - c->t0;
    cJSON_AddItemToArray(c->deltas, cJSON_Duplicate(delta, 1));
}

/* The text deltas joined. Caller frees with tx_free. */
static char *joined_text(const collector *c)
{
    tx_buf b;
    tx_buf_init(&b, 64u * 1024u * 1024u);
    tx_buf_puts(&b, "");
    const cJSON *d;
    cJSON_ArrayForEach(d, c->deltas)
    {
        const char *t = hl_json_str(d, "text");
        if (t) tx_buf_puts(&b, t);
    }
    return tx_buf_steal(&b);
}

/* br_openai_chat on a fresh provider. */
static cJSON *provider_chat(const cJSON *cfg, const cJSON *params, collector *c, br_error *err)
{
    br_openai *p = br_openai_new(cfg);
    assert_non_null(p);
    br_sink sink = {on_delta, c, 0, NULL, NULL};
    memset(err, 0, sizeof *err);
    collector_init(c);
    cJSON *done = br_openai_chat(p, params, hl_json_str(params, "model"), &sink, err);
    br_openai_free(p);
    return done;
}

/* llm.chat through br_handle; the final event. `params` is copied. */
static cJSON *broker_chat(const cJSON *cfg, const cJSON *params, collector *c)
{
    br_broker *b = br_broker_new(cfg, NULL, false);
    assert_non_null(b);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddNumberToObject(req, "id", 7);
    cJSON_AddStringToObject(req, "method", "llm.chat");
    cJSON_AddItemToObject(req, "params", cJSON_Duplicate(params, 1));
    collector_init(c);
    cJSON *ev = br_handle(b, req, on_delta, c);
    cJSON_Delete(req);
    br_broker_free(b);
    assert_non_null(ev);
    return ev;
}

/* Asserts `ev` is an error event of `type` and returns its message. */
static const char *expect_error(const cJSON *ev, const char *type)
{
    const char *event = hl_json_str(ev, "event");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(ev, "error");
    if (!event || strcmp(event, "error") != 0) {
        char *t = cJSON_PrintUnformatted(ev);
        fail_msg("expected an error event of type %s, got %s", type, t);
    }
    assert_string_equal(hl_json_str(e, "type"), type);
    const char *msg = hl_json_str(e, "message");
    assert_non_null(msg);
    return msg;
}

static const cJSON *expect_done(const cJSON *ev)
{
    const char *event = hl_json_str(ev, "event");
    if (!event || strcmp(event, "done") != 0) {
        char *t = cJSON_PrintUnformatted(ev);
        fail_msg("expected a done event, got %s", t);
    }
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(ev, "id")->valueint, 7);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(ev, "data");
    assert_true(cJSON_IsObject(data));
    return data;
}

/* The chat requests the server received since the last reset. */
static cJSON *chat_requests(void)
{
    cJSON *r = fake_server_requests_to(&server, "/v1/chat/completions");
    assert_non_null(r);
    return r;
}

static int chat_request_count(void)
{
    cJSON *r = chat_requests();
    int n = cJSON_GetArraySize(r);
    cJSON_Delete(r);
    return n;
}

static const cJSON *get(const cJSON *obj, const char *dotted)
{
    return cf_get(obj, dotted);
}

static double num(const cJSON *obj, const char *dotted)
{
    const cJSON *v = get(obj, dotted);
    if (!cJSON_IsNumber(v)) fail_msg("%s is not a number", dotted);
    return v->valuedouble;
}

static const char *str(const cJSON *obj, const char *dotted)
{
    const cJSON *v = get(obj, dotted);
    if (!cJSON_IsString(v)) fail_msg("%s is not a string", dotted);
    return v->valuestring;
}

/* ---- fixtures ----------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    const char *args[] = {"--timeout", "900", "--stall-seconds", SERVER_STALL, "--slow-delay", "0.2",
                          NULL};
    if (!fake_server_start(&server, FAKE_OPENAI_PY, args)) return -1;
    /* Nothing from the outside may redirect or proxy the provider. */
    unsetenv("OPENAI_BASE_URL");
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    config = make_config(NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cJSON_Delete(config);
    fake_server_stop(&server);
    return 0;
}

static int test_setup(void **state)
{
    (void)state;
    setenv("OPENAI_API_KEY", TEST_KEY, 1);
    unsetenv("OPENAI_BASE_URL");
    unsetenv("LOCAL_API_KEY");
    unsetenv("MY_LOCAL_KEY");
    return fake_server_reset(&server) ? 0 : -1;
}

/* ---- streaming text -------------------------------------------------------------------------- */

static void text_deltas_arrive_in_order_and_join_to_content(void **state)
{
    (void)state;
    const char *text = "The quick  brown fox jumps over the lazy dog";
    cJSON *params = pt_user_params("openai/echo", text);
    collector c;
    br_error err;
    cJSON *done = provider_chat(config, params, &c, &err);
    if (!done) fail_msg("%s: %s", err.type, err.message);
    /* one delta per word, in order, nothing else */
    const char *words[] = {"The ", "quick  ", "brown ", "fox ", "jumps ", "over ", "the ", "lazy ", "dog"};
    assert_int_equal(cJSON_GetArraySize(c.deltas), 9);
    for (int i = 0; i < 9; i++) {
        const cJSON *d = cJSON_GetArrayItem(c.deltas, i);
        assert_int_equal(cJSON_GetArraySize(d), 1);
        assert_string_equal(hl_json_str(d, "text"), words[i]);
    }
    char *joined = joined_text(&c);
    assert_string_equal(joined, text);
    assert_string_equal(str(done, "message.content"), text);
    assert_string_equal(str(done, "message.role"), "assistant");
    assert_int_equal(cJSON_GetArraySize(get(done, "message.tool_calls")), 0);
    assert_string_equal(str(done, "finish_reason"), "stop");
    tx_free(joined);
    cJSON_Delete(done);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void usage_numbers_come_from_the_usage_chunk(void **state)
{
    (void)state;
    cJSON *params = pt_parse("{\"model\": \"openai/echo\", \"messages\": ["
                          "{\"role\": \"system\", \"content\": \"be brief\"},"
                          "{\"role\": \"user\", \"content\": \"one two three four five\"}]}");
    collector c;
    br_error err;
    cJSON *done = provider_chat(config, params, &c, &err);
    if (!done) fail_msg("%s: %s", err.type, err.message);
    /* the fake counts words: 2 + 5 in, 5 out */
    assert_int_equal((int)num(done, "usage.prompt_tokens"), 7);
    assert_int_equal((int)num(done, "usage.completion_tokens"), 5);
    assert_int_equal((int)num(done, "usage.total_tokens"), 12);
    cJSON_Delete(done);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void broker_done_event_carries_the_answer(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/echo", "hello from the broker");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const cJSON *data = expect_done(ev);
    assert_string_equal(str(data, "message.content"), "hello from the broker");
    assert_string_equal(str(data, "finish_reason"), "stop");
    assert_int_equal((int)num(data, "usage.completion_tokens"), 4);
    assert_int_equal(cJSON_GetArraySize(c.deltas), 4);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void utf8_and_escapes_survive_the_round_trip(void **state)
{
    (void)state;
    /* The fake sends JSON with \u escapes (emoji as surrogate pairs). */
    const char *text = "h\xc3\xa9llo w\xc3\xb6rld \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89 "
                       "\"quoted\" back\\slash tab\there";
    cJSON *params = pt_user_params("openai/echo", text);
    collector c;
    br_error err;
    cJSON *done = provider_chat(config, params, &c, &err);
    if (!done) fail_msg("%s: %s", err.type, err.message);
    assert_string_equal(str(done, "message.content"), text);
    char *joined = joined_text(&c);
    assert_string_equal(joined, text);
    tx_free(joined);
    cJSON_Delete(done);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void crlf_line_endings_are_accepted(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/crlf", "lines end with carriage returns");
    collector c;
    br_error err;
    cJSON *done = provider_chat(config, params, &c, &err);
    if (!done) fail_msg("%s: %s", err.type, err.message);
    assert_string_equal(str(done, "message.content"), "lines end with carriage returns");
    assert_int_equal(cJSON_GetArraySize(c.deltas), 5);
    assert_int_equal((int)num(done, "usage.completion_tokens"), 5);
    cJSON_Delete(done);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void events_split_across_reads_are_reassembled(void **state)
{
    (void)state;
    /* The fake writes the stream three bytes at a time. */
    cJSON *params = pt_user_params("openai/fragmented", "split into tiny pieces");
    collector c;
    br_error err;
    cJSON *done = provider_chat(config, params, &c, &err);
    if (!done) fail_msg("%s: %s", err.type, err.message);
    assert_string_equal(str(done, "message.content"), "split into tiny pieces");
    assert_int_equal(cJSON_GetArraySize(c.deltas), 4);
    assert_int_equal((int)num(done, "usage.total_tokens"), 8);
    cJSON_Delete(done);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void deltas_are_forwarded_while_the_stream_runs(void **state)
{
    (void)state;
    /* five words, 0.2 s apart: the first delta must not wait for the end */
    cJSON *params = pt_user_params("openai/slow", "one two three four five");
    collector c;
    br_error err;
    cJSON *done = provider_chat(config, params, &c, &err);
    double total = fake_now_ms() - c.t0;
    if (!done) fail_msg("%s: %s", err.type, err.message);
    assert_int_equal(cJSON_GetArraySize(c.deltas), 5);
    assert_true(total >= 900);
    if (c.first_ms > total - 600) fail_msg("first delta after %.0f ms of %.0f ms", c.first_ms, total);
    cJSON_Delete(done);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void a_long_answer_is_assembled(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/big", "x");
    collector c;
    br_error err;
    cJSON *done = provider_chat(config, params, &c, &err);
    if (!done) fail_msg("%s: %s", err.type, err.message);
    const char *content = str(done, "message.content");
    assert_int_equal(strlen(content), 256u * 1024u);
    char *joined = joined_text(&c);
    assert_string_equal(joined, content);
    tx_free(joined);
    cJSON_Delete(done);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

/* ---- tool calls ------------------------------------------------------------------------------ */

static void tool_call_argument_deltas_merge(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/tools", "What is the weather in Paris?");
    pt_add_tool(params, "get_weather");
    pt_add_tool(params, "other_tool");
    collector c;
    br_error err;
    cJSON *done = provider_chat(config, params, &c, &err);
    if (!done) fail_msg("%s: %s", err.type, err.message);
    /* deltas: the header (id, name, empty arguments), then four pieces */
    assert_int_equal(cJSON_GetArraySize(c.deltas), 5);
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(c.deltas, 0), "tool_call");
    assert_int_equal((int)num(first, "index"), 0);
    assert_string_equal(str(first, "id"), "call_fake_1");
    assert_string_equal(str(first, "name"), "get_weather");
    tx_buf args;
    tx_buf_init(&args, 4096);
    tx_buf_puts(&args, "");
    const cJSON *d;
    cJSON_ArrayForEach(d, c.deltas)
    {
        const cJSON *tc = cJSON_GetObjectItemCaseSensitive(d, "tool_call");
        assert_non_null(tc);
        assert_int_equal((int)num(tc, "index"), 0);
        tx_buf_puts(&args, str(tc, "arguments_delta"));
    }
    assert_string_equal(args.data, "{\"city\": \"Paris\", \"units\": \"metric\"}");
    tx_buf_free(&args);

    const cJSON *calls = get(done, "message.tool_calls");
    assert_int_equal(cJSON_GetArraySize(calls), 1);
    const cJSON *call = cJSON_GetArrayItem(calls, 0);
    assert_string_equal(str(call, "id"), "call_fake_1");
    assert_string_equal(str(call, "name"), "get_weather");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(call, "arguments");
    assert_true(cJSON_IsObject(a));
    assert_string_equal(str(a, "city"), "Paris");
    assert_string_equal(str(a, "units"), "metric");
    assert_string_equal(str(done, "finish_reason"), "tool_calls");
    assert_string_equal(str(done, "message.content"), "");
    cJSON_Delete(done);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void two_parallel_tool_calls(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/multi-tools", "Paris and Tokyo?");
    pt_add_tool(params, "get_weather");
    pt_add_tool(params, "get_forecast");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const cJSON *data = expect_done(ev);
    const cJSON *calls = get(data, "message.tool_calls");
    assert_int_equal(cJSON_GetArraySize(calls), 2);
    const cJSON *a = cJSON_GetArrayItem(calls, 0), *b = cJSON_GetArrayItem(calls, 1);
    assert_string_equal(str(a, "id"), "call_fake_a");
    assert_string_equal(str(a, "name"), "get_weather");
    assert_string_equal(str(a, "arguments.city"), "Paris");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "arguments")), 1);
    assert_string_equal(str(b, "id"), "call_fake_b");
    assert_string_equal(str(b, "name"), "get_forecast");
    assert_string_equal(str(b, "arguments.city"), "Tokyo");
    assert_int_equal((int)num(b, "arguments.days"), 3);
    assert_string_equal(str(data, "finish_reason"), "tool_calls");
    /* Deltas keep their index: both calls appear, interleaved. The broker
     * holds the last strlen(TEST_KEY) - 1 bytes of each stream back (a key
     * may go on in the next piece) and passes them in one delta at the end,
     * so each call has its header, one delta per piece, and that flush; the
     * pieces of each index join to exactly what the server sent. */
    int seen[2] = {0, 0};
    tx_buf args[2];
    const cJSON *d;
    for (int i = 0; i < 2; i++) {
        tx_buf_init(&args[i], 4096);
        tx_buf_puts(&args[i], "");
    }
    cJSON_ArrayForEach(d, c.deltas)
    {
        const cJSON *tc = cJSON_GetObjectItemCaseSensitive(d, "tool_call");
        int i = (int)num(tc, "index");
        assert_true(i == 0 || i == 1);
        seen[i]++;
        const char *piece = hl_json_str(tc, "arguments_delta");
        if (piece) tx_buf_puts(&args[i], piece);
    }
    assert_int_equal(seen[0], 1 + 3 + 1); /* header + 3 pieces + the held tail */
    assert_int_equal(seen[1], 1 + 4 + 1); /* header + 4 pieces + the held tail */
    assert_string_equal(args[0].data, "{\"city\": \"Paris\"}");
    assert_string_equal(args[1].data, "{\"city\": \"Tokyo\", \"days\": 3}");
    for (int i = 0; i < 2; i++) tx_buf_free(&args[i]);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

/* A full turn: system, user, assistant tool call, tool result -> the
 * request body must be in OpenAI's shape, and the answer quotes the result. */
static void request_body_has_the_openai_shape(void **state)
{
    (void)state;
    cJSON *params = pt_parse(
        "{\"agent\": \"helper\", \"model\": \"openai/tools\", \"messages\": ["
        "{\"role\": \"system\", \"content\": \"You are terse.\"},"
        "{\"role\": \"user\", \"content\": \"Weather in Paris?\"},"
        "{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"call_1\", "
        "  \"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}]},"
        "{\"role\": \"tool\", \"tool_call_id\": \"call_1\", \"content\": \"sunny, 21 C\"}],"
        "\"tools\": [{\"name\": \"get_weather\", \"description\": \"Weather for a city\","
        "  \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}},"
        "  \"required\": [\"city\"]}}, {\"name\": \"noop\"}],"
        "\"temperature\": 0.25, \"max_tokens\": 64,"
        "\"output_schema\": {\"type\": \"object\", \"properties\": {\"answer\": {\"type\": \"string\"}}}}");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const cJSON *data = expect_done(ev);
    assert_string_equal(str(data, "message.content"), "The tool said: sunny, 21 C");

    cJSON *reqs = chat_requests();
    assert_int_equal(cJSON_GetArraySize(reqs), 1);
    const cJSON *r = cJSON_GetArrayItem(reqs, 0);
    assert_string_equal(str(r, "method"), "POST");
    assert_string_equal(str(r, "path"), "/v1/chat/completions");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(r, "headers");
    assert_string_equal(str(h, "authorization"), "Bearer " TEST_KEY);
    assert_contains(str(h, "content-type"), "application/json");
    assert_contains(str(h, "accept"), "text/event-stream");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(r, "body");
    assert_true(cJSON_IsObject(body));

    /* top level: only what OpenAI knows, model without the provider prefix */
    const char *allowed[] = {"model", "messages", "tools", "temperature", "max_tokens",
                             "response_format", "stream", "stream_options"};
    const cJSON *k;
    cJSON_ArrayForEach(k, body)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
            if (strcmp(k->string, allowed[i]) == 0) ok = true;
        if (!ok) fail_msg("unexpected top-level key \"%s\" in the request body", k->string);
    }
    assert_string_equal(str(body, "model"), "tools");
    assert_true(cJSON_IsTrue(get(body, "stream")));
    assert_true(cJSON_IsTrue(get(body, "stream_options.include_usage")));
    assert_true(num(body, "temperature") == 0.25);
    assert_int_equal((int)num(body, "max_tokens"), 64);
    assert_string_equal(str(body, "response_format.type"), "json_schema");
    assert_string_equal(str(body, "response_format.json_schema.name"), "output");
    assert_string_equal(str(body, "response_format.json_schema.schema.properties.answer.type"),
                        "string");

    /* tools: {"type": "function", "function": {name, description, parameters}} */
    const cJSON *tools = get(body, "tools");
    assert_int_equal(cJSON_GetArraySize(tools), 2);
    const cJSON *t0 = cJSON_GetArrayItem(tools, 0), *t1 = cJSON_GetArrayItem(tools, 1);
    assert_int_equal(cJSON_GetArraySize(t0), 2);
    assert_string_equal(str(t0, "type"), "function");
    assert_string_equal(str(t0, "function.name"), "get_weather");
    assert_string_equal(str(t0, "function.description"), "Weather for a city");
    assert_string_equal(str(t0, "function.parameters.type"), "object");
    assert_string_equal(str(t0, "function.parameters.properties.city.type"), "string");
    assert_string_equal(str(t1, "type"), "function");
    assert_string_equal(str(t1, "function.name"), "noop");
    assert_string_equal(str(t1, "function.parameters.type"), "object"); /* a default schema */

    /* messages */
    const cJSON *msgs = get(body, "messages");
    assert_int_equal(cJSON_GetArraySize(msgs), 4);
    const cJSON *m0 = cJSON_GetArrayItem(msgs, 0), *m1 = cJSON_GetArrayItem(msgs, 1);
    const cJSON *m2 = cJSON_GetArrayItem(msgs, 2), *m3 = cJSON_GetArrayItem(msgs, 3);
    assert_string_equal(str(m0, "role"), "system");
    assert_string_equal(str(m0, "content"), "You are terse.");
    assert_string_equal(str(m1, "role"), "user");
    assert_string_equal(str(m1, "content"), "Weather in Paris?");
    assert_string_equal(str(m2, "role"), "assistant");
    assert_true(cJSON_IsNull(get(m2, "content")));
    const cJSON *tc = cJSON_GetArrayItem(get(m2, "tool_calls"), 0);
    assert_non_null(tc);
    assert_string_equal(str(tc, "id"), "call_1");
    assert_string_equal(str(tc, "type"), "function");
    assert_string_equal(str(tc, "function.name"), "get_weather");
    /* arguments travel as a JSON *string* */
    cJSON *args = cJSON_Parse(str(tc, "function.arguments"));
    assert_non_null(args);
    assert_string_equal(str(args, "city"), "Paris");
    assert_int_equal((int)num(args, "days"), 2);
    cJSON_Delete(args);
    assert_string_equal(str(m3, "role"), "tool");
    assert_string_equal(str(m3, "tool_call_id"), "call_1");
    assert_string_equal(str(m3, "content"), "sunny, 21 C");

    cJSON_Delete(reqs);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void minimal_request_has_no_optional_fields(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/echo", "hi");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    expect_done(ev);
    cJSON *reqs = chat_requests();
    const cJSON *body = get(cJSON_GetArrayItem(reqs, 0), "body");
    assert_string_equal(str(body, "model"), "echo");
    assert_null(get(body, "tools")); /* OpenAI rejects an empty tools array */
    assert_null(get(body, "temperature"));
    assert_null(get(body, "max_tokens"));
    assert_null(get(body, "response_format"));
    cJSON_Delete(reqs);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

/* ---- errors and retries ---------------------------------------------------------------------------- */

static void rate_limit_gives_RateLimited_after_retries(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/rate-limit", "hi");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const char *msg = expect_error(ev, "RateLimited");
    assert_contains(msg, "429");
    assert_contains(msg, "Rate limit reached");
    assert_int_equal(chat_request_count(), 3); /* 1 + max_retries */
    assert_int_equal(cJSON_GetArraySize(c.deltas), 0);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void rate_limit_once_succeeds_on_retry(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/rate-limit-once", "second time lucky");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const cJSON *data = expect_done(ev);
    assert_string_equal(str(data, "message.content"), "second time lucky");
    assert_int_equal(chat_request_count(), 2);
    /* the failed attempt left nothing behind in the answer */
    char *joined = joined_text(&c);
    assert_string_equal(joined, "second time lucky");
    tx_free(joined);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

/* An Agent's retry settings (inventory A.4) travel in llm.chat params and
 * override the provider's: attempts = 1 means no retry, enabled = false too,
 * attempts = 5 allows more than the provider's default of 2. */
static void agent_retry_settings_override_the_provider(void **state)
{
    (void)state;
    const char *cases[] = {"{\"attempts\": 1}", "{\"enabled\": false}",
                           "{\"attempts\": 5, \"delay_seconds\": 0.01, \"backoff\": \"constant\"}"};
    const int requests[] = {1, 1, 5};
    for (int i = 0; i < 3; i++) {
        assert_true(fake_server_reset(&server));
        cJSON *params = pt_user_params("openai/rate-limit", "hi");
        cJSON_AddItemToObject(params, "retry", cJSON_Parse(cases[i]));
        collector c;
        cJSON *ev = broker_chat(config, params, &c);
        expect_error(ev, "RateLimited");
        assert_int_equal(chat_request_count(), requests[i]);
        cJSON_Delete(ev);
        cJSON_Delete(c.deltas);
        cJSON_Delete(params);
    }
}

static void retries_stop_at_max_retries(void **state)
{
    (void)state;
    cJSON *cfg = make_config("{\"providers\": {\"openai\": {\"max_retries\": 0}}}");
    cJSON *params = pt_user_params("openai/rate-limit-once", "hi");
    collector c;
    cJSON *ev = broker_chat(cfg, params, &c);
    expect_error(ev, "RateLimited");
    assert_int_equal(chat_request_count(), 1);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
    cJSON_Delete(cfg);
}

static void server_error_gives_ProviderError(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/server-error", "hi");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const char *msg = expect_error(ev, "ProviderError");
    assert_contains(msg, "500");
    assert_contains(msg, "The server had an error");
    assert_int_equal(chat_request_count(), 3); /* 5xx is retried */
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void server_error_once_succeeds_on_retry(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/server-error-once", "after a hiccup");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const cJSON *data = expect_done(ev);
    assert_string_equal(str(data, "message.content"), "after a hiccup");
    assert_int_equal(chat_request_count(), 2);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void wrong_key_gives_AuthError_naming_the_variable(void **state)
{
    (void)state;
    setenv("OPENAI_API_KEY", "wrong-key-123456", 1);
    cJSON *params = pt_user_params("openai/auth", "hi");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const char *msg = expect_error(ev, "AuthError");
    assert_contains(msg, "OPENAI_API_KEY");
    assert_contains(msg, "401");
    assert_int_equal(chat_request_count(), 1); /* not retried */
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);

    /* the right key goes through */
    setenv("OPENAI_API_KEY", TEST_KEY, 1);
    ev = broker_chat(config, params, &c);
    const cJSON *data = expect_done(ev);
    assert_string_equal(str(data, "message.content"), "hi");
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void missing_key_sends_no_authorization(void **state)
{
    (void)state;
    unsetenv("OPENAI_API_KEY");
    cJSON *params = pt_user_params("openai/auth", "hi");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const char *msg = expect_error(ev, "AuthError");
    assert_contains(msg, "OPENAI_API_KEY");
    cJSON *reqs = chat_requests();
    assert_int_equal(cJSON_GetArraySize(reqs), 1);
    assert_null(get(cJSON_GetArrayItem(reqs, 0), "headers.authorization"));
    cJSON_Delete(reqs);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void unknown_model_gives_a_clear_error(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/not-found", "hi");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const char *msg = expect_error(ev, "ProviderError");
    assert_contains(msg, "unknown model \"not-found\"");
    assert_contains(msg, "404");
    assert_int_equal(chat_request_count(), 1);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void malformed_chunk_gives_ProviderError(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/bad-json", "hi");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const char *msg = expect_error(ev, "ProviderError");
    assert_contains(msg, "malformed");
    assert_contains(msg, "not JSON");
    assert_int_equal(chat_request_count(), 1); /* bytes were streamed: no retry */
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void error_object_in_the_stream_gives_ProviderError(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/error-chunk", "hi");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const char *msg = expect_error(ev, "ProviderError");
    assert_contains(msg, "overloaded mid-answer");
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void bad_tool_arguments_give_ProviderError(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/bad-args", "hi");
    pt_add_tool(params, "lookup");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const char *msg = expect_error(ev, "ProviderError");
    assert_contains(msg, "malformed");
    assert_contains(msg, "lookup");
    assert_contains(msg, "not JSON");
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void non_stream_answer_gives_ProviderError(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/no-stream", "hi");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const char *msg = expect_error(ev, "ProviderError");
    assert_contains(msg, "event stream");
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void stall_gives_Timeout_in_bounded_time(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("openai/stall", "hi");
    collector c;
    double t0 = fake_now_ms();
    cJSON *ev = broker_chat(config, params, &c);
    double elapsed = fake_now_ms() - t0;
    const char *msg = expect_error(ev, "Timeout");
    assert_contains(msg, "stall");
    /* The first chunk arrived, and nothing after it; see STALL_BOUND_MS for
     * the bound. The broker passes "T" at once and holds the last
     * strlen(TEST_KEY) - 1 bytes until the call ends (a key may go on in
     * the next piece), so the chunk comes in two deltas. */
    assert_int_equal(cJSON_GetArraySize(c.deltas), 2);
    char *text = joined_text(&c);
    assert_string_equal(text, "Thinking");
    tx_free(text);
    assert_int_equal(chat_request_count(), 1); /* bytes were streamed: no retry */
    print_message("stall detected after %.0f ms (stall_timeout %d s)\n", elapsed, STALL_TIMEOUT);
    assert_true(elapsed >= STALL_TIMEOUT * 1000 - 50);
    assert_true(elapsed < STALL_BOUND_MS);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void stall_before_any_byte_is_retried_then_Timeout(void **state)
{
    (void)state;
    cJSON *cfg = make_config("{\"providers\": {\"openai\": {\"max_retries\": 1}}}");
    cJSON *params = pt_user_params("openai/stall-headers", "hi");
    collector c;
    double t0 = fake_now_ms();
    cJSON *ev = broker_chat(cfg, params, &c);
    double elapsed = fake_now_ms() - t0;
    expect_error(ev, "Timeout");
    assert_int_equal(chat_request_count(), 2);
    assert_int_equal(cJSON_GetArraySize(c.deltas), 0);
    print_message("two stalled attempts took %.0f ms\n", elapsed);
    assert_true(elapsed >= 2 * STALL_TIMEOUT * 1000 - 100);
    assert_true(elapsed < 2 * STALL_BOUND_MS + 1000);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
    cJSON_Delete(cfg);
}

static void unreachable_provider_gives_ProviderError(void **state)
{
    (void)state;
    /* port 1 on loopback: nothing listens there */
    cJSON *cfg = make_config("{\"providers\": {\"openai\": {\"base_url\": \"http://127.0.0.1:1/v1\"}}}");
    cJSON *params = pt_user_params("openai/echo", "hi");
    collector c;
    double t0 = fake_now_ms();
    cJSON *ev = broker_chat(cfg, params, &c);
    const char *msg = expect_error(ev, "ProviderError");
    assert_contains(msg, "cannot reach");
    assert_contains(msg, "127.0.0.1:1");
    assert_true(fake_now_ms() - t0 < 5000);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
    cJSON_Delete(cfg);
}

/* ---- providers and routing ------------------------------------------------------------------------ */

static void openai_base_url_variable_overrides_the_config(void **state)
{
    (void)state;
    cJSON *cfg = make_config("{\"providers\": {\"openai\": {\"base_url\": \"http://127.0.0.1:1/v1\"}}}");
    setenv("OPENAI_BASE_URL", server.base_url, 1);
    cJSON *params = pt_user_params("openai/echo", "via the variable");
    collector c;
    cJSON *ev = broker_chat(cfg, params, &c);
    const cJSON *data = expect_done(ev);
    assert_string_equal(str(data, "message.content"), "via the variable");
    unsetenv("OPENAI_BASE_URL");
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
    cJSON_Delete(cfg);
}

static void compatible_provider_is_reachable_through_the_broker(void **state)
{
    (void)state;
    char extra[512];
    snprintf(extra, sizeof extra,
             "{\"providers\": {\"local\": {\"base_url\": \"%s/\", \"stall_timeout\": 1, "
             "\"retry_delay\": 0.05}}}",
             server.base_url); /* a trailing slash is tolerated */
    cJSON *cfg = make_config(extra);
    setenv("LOCAL_API_KEY", "local-key", 1);
    cJSON *params = pt_user_params("local/echo", "hello local model");
    collector c;
    cJSON *ev = broker_chat(cfg, params, &c);
    const cJSON *data = expect_done(ev);
    assert_string_equal(str(data, "message.content"), "hello local model");
    assert_int_equal(cJSON_GetArraySize(c.deltas), 3);
    cJSON *reqs = chat_requests();
    assert_int_equal(cJSON_GetArraySize(reqs), 1);
    const cJSON *r = cJSON_GetArrayItem(reqs, 0);
    assert_string_equal(str(r, "path"), "/v1/chat/completions");
    assert_string_equal(str(r, "body.model"), "echo");
    /* its own key, never OpenAI's */
    assert_string_equal(str(r, "headers.authorization"), "Bearer local-key");
    cJSON_Delete(reqs);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
    cJSON_Delete(cfg);
}

static void compatible_provider_key_variable_is_configurable(void **state)
{
    (void)state;
    char extra[512];
    snprintf(extra, sizeof extra,
             "{\"providers\": {\"local\": {\"base_url\": \"%s\", \"api_key_env\": \"MY_LOCAL_KEY\"}}}",
             server.base_url);
    cJSON *cfg = make_config(extra);
    setenv("MY_LOCAL_KEY", "my-local-key", 1);
    setenv("LOCAL_API_KEY", "not-this-one", 1);
    cJSON *params = pt_user_params("local/echo", "hi");
    collector c;
    cJSON *ev = broker_chat(cfg, params, &c);
    expect_done(ev);
    cJSON *reqs = chat_requests();
    assert_string_equal(str(cJSON_GetArrayItem(reqs, 0), "headers.authorization"), "Bearer my-local-key");
    cJSON_Delete(reqs);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
    cJSON_Delete(cfg);
}

static void compatible_provider_without_key_sends_no_authorization(void **state)
{
    (void)state;
    char extra[512];
    snprintf(extra, sizeof extra, "{\"providers\": {\"local\": {\"base_url\": \"%s\"}}}", server.base_url);
    cJSON *cfg = make_config(extra);
    cJSON *params = pt_user_params("local/echo", "hi");
    collector c;
    cJSON *ev = broker_chat(cfg, params, &c);
    expect_done(ev);
    cJSON *reqs = chat_requests();
    assert_null(get(cJSON_GetArrayItem(reqs, 0), "headers.authorization"));
    cJSON_Delete(reqs);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
    cJSON_Delete(cfg);
}

static void unknown_provider_is_UnsupportedProvider(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("gemini/x", "hi");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const char *msg = expect_error(ev, "UnsupportedProvider");
    assert_contains(msg, "gemini");
    assert_contains(msg, "providers.gemini.base_url");
    assert_int_equal(chat_request_count(), 0);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void model_without_provider_is_BadRequest(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("gpt-4o-mini", "hi");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    assert_contains(expect_error(ev, "BadRequest"), "provider/model");
    assert_int_equal(chat_request_count(), 0);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

/* ---- the key stays on the host ---------------------------------------------------------------------- */

/* Runs `model` through the broker and fails if `key` appears in any delta or
 * in the final event. Returns the final event's text (caller frees). */
static char *run_and_check_for_key(const cJSON *cfg, const char *model, bool tools, const char *key,
                                   bool *leaked)
{
    cJSON *params = pt_user_params(model, "please repeat your API key");
    if (tools) pt_add_tool(params, "lookup");
    collector c;
    cJSON *ev = broker_chat(cfg, params, &c);
    char *deltas = cJSON_PrintUnformatted(c.deltas);
    char *final = cJSON_PrintUnformatted(ev);
    *leaked = strstr(deltas, key) || strstr(final, key);
    cJSON_free(deltas);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
    return final;
}

static void api_key_never_appears_in_deltas_or_results(void **state)
{
    (void)state;
    const char *models[] = {"openai/echo", "openai/tools", "openai/multi-tools", "openai/auth",
                            "openai/rate-limit", "openai/server-error", "openai/not-found",
                            "openai/bad-json", "openai/bad-args", "openai/error-chunk",
                            "openai/no-stream", "openai/crlf"};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        bool leaked;
        char *final = run_and_check_for_key(config, models[i], i == 1 || i == 2 || i == 8, TEST_KEY,
                                            &leaked);
        if (leaked) fail_msg("the API key leaked with %s: %s", models[i], final);
        cJSON_free(final);
    }
    /* a wrong key must not be echoed back either (the fake masks it, as OpenAI does) */
    setenv("OPENAI_API_KEY", "sk-wrong-secret-0123456789", 1);
    bool leaked;
    char *final = run_and_check_for_key(config, "openai/auth", false, "sk-wrong-secret-0123456789",
                                        &leaked);
    if (leaked) fail_msg("the API key leaked: %s", final);
    cJSON_free(final);
}

/* ---- regressions of fixed bugs ------------------------------------------------------------------------- */

static void key_echoed_by_the_server_never_reaches_the_runtime(void **state)
{
    (void)state;
    /* Some OpenAI-compatible servers quote the rejected key in full in their
     * 401 body; the host copies the body's message into the error it sends
     * back to the (untrusted) runtime. */
    bool leaked;
    char *final = run_and_check_for_key(config, "openai/auth-echo", false, TEST_KEY, &leaked);
    if (leaked) print_message("the API key reaches the runtime in the error message: %s\n", final);
    cJSON_free(final);
    assert_false(leaked);
}

static void auth_error_names_the_variable_actually_read(void **state)
{
    (void)state;
    /* providers.local reads LOCAL_API_KEY: the hint should name it */
    char extra[512];
    snprintf(extra, sizeof extra, "{\"providers\": {\"local\": {\"base_url\": \"%s\"}}}", server.base_url);
    cJSON *cfg = make_config(extra);
    setenv("LOCAL_API_KEY", "wrong-local-key", 1);
    cJSON *params = pt_user_params("local/auth", "hi");
    collector c;
    cJSON *ev = broker_chat(cfg, params, &c);
    const char *msg = expect_error(ev, "AuthError");
    bool bug = !strstr(msg, "LOCAL_API_KEY");
    if (bug) print_message("the AuthError of providers.local does not name LOCAL_API_KEY: %s\n", msg);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
    cJSON_Delete(cfg);
    assert_false(bug);
}

static void cut_stream_is_an_error(void **state)
{
    (void)state;
    /* The connection is cut in the middle of the chunked body (no finish
     * reason, no [DONE]); libcurl reports CURLE_PARTIAL_FILE. */
    cJSON *params = pt_user_params("openai/truncated", "hi");
    collector c;
    cJSON *ev = broker_chat(config, params, &c);
    const char *event = hl_json_str(ev, "event");
    assert_false(event && strcmp(event, "done") == 0); /* a cut stream is never a complete answer */
    expect_error(ev, "ProviderError");
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
}

static void fractional_stall_timeout_still_applies(void **state)
{
    (void)state;
    /* stall_timeout: 0.5 must not disable stall detection */
    cJSON *cfg = make_config("{\"providers\": {\"openai\": {\"stall_timeout\": 0.5, \"timeout\": 10}}}");
    cJSON *params = pt_user_params("openai/stall", "hi");
    collector c;
    double t0 = fake_now_ms();
    cJSON *ev = broker_chat(cfg, params, &c);
    double elapsed = fake_now_ms() - t0;
    bool bug = elapsed > STALL_BOUND_MS;
    char *t = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    cJSON_Delete(c.deltas);
    cJSON_Delete(params);
    cJSON_Delete(cfg);
    if (bug)
        print_message("with stall_timeout 0.5 a stalled stream was abandoned only after %.0f ms: %s\n",
                      elapsed, t);
    cJSON_free(t);
    assert_false(bug);
}

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, test_setup)
        T(text_deltas_arrive_in_order_and_join_to_content),
        T(usage_numbers_come_from_the_usage_chunk),
        T(broker_done_event_carries_the_answer),
        T(utf8_and_escapes_survive_the_round_trip),
        T(crlf_line_endings_are_accepted),
        T(events_split_across_reads_are_reassembled),
        T(deltas_are_forwarded_while_the_stream_runs),
        T(a_long_answer_is_assembled),
        T(tool_call_argument_deltas_merge),
        T(two_parallel_tool_calls),
        T(request_body_has_the_openai_shape),
        T(minimal_request_has_no_optional_fields),
        T(rate_limit_gives_RateLimited_after_retries),
        T(rate_limit_once_succeeds_on_retry),
        T(agent_retry_settings_override_the_provider),
        T(retries_stop_at_max_retries),
        T(server_error_gives_ProviderError),
        T(server_error_once_succeeds_on_retry),
        T(wrong_key_gives_AuthError_naming_the_variable),
        T(missing_key_sends_no_authorization),
        T(unknown_model_gives_a_clear_error),
        T(malformed_chunk_gives_ProviderError),
        T(error_object_in_the_stream_gives_ProviderError),
        T(bad_tool_arguments_give_ProviderError),
        T(non_stream_answer_gives_ProviderError),
        T(stall_gives_Timeout_in_bounded_time),
        T(stall_before_any_byte_is_retried_then_Timeout),
        T(unreachable_provider_gives_ProviderError),
        T(openai_base_url_variable_overrides_the_config),
        T(compatible_provider_is_reachable_through_the_broker),
        T(compatible_provider_key_variable_is_configurable),
        T(compatible_provider_without_key_sends_no_authorization),
        T(unknown_provider_is_UnsupportedProvider),
        T(model_without_provider_is_BadRequest),
        T(api_key_never_appears_in_deltas_or_results),
        T(key_echoed_by_the_server_never_reaches_the_runtime),
        T(auth_error_names_the_variable_actually_read),
        T(cut_stream_is_an_error),
        T(fractional_stall_timeout_still_applies),
#undef T
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    curl_global_cleanup();
    return failed;
}
