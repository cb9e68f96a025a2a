/* Integration tests of the Anthropic provider (runtime/broker/providers/
 * br_anthropic.c) and of anthropic/... through the broker, against
 * fake_anthropic.py: a loopback server speaking the Messages API's wire
 * format (named server-sent events, input_json_delta pieces, Anthropic
 * error bodies, 529 overloaded). */
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

#ifndef FAKE_ANTHROPIC_PY
#define FAKE_ANTHROPIC_PY "fake_anthropic.py"
#endif

#define TEST_KEY      "test-key"
#define LONG_KEY      "sk-ant-test-0123456789abcdef" /* long enough to be redacted too */
#define STALL_TIMEOUT 1    /* seconds, providers.anthropic.stall_timeout */
#define SERVER_STALL  "15" /* seconds the server keeps silent */

static fake_server server;
static char base_url[64]; /* http://127.0.0.1:PORT, no /v1: the provider adds it */
static cJSON *config;

/* ---- helpers ----------------------------------------------------------------------------------
 */

static cJSON *make_config(const char *extra)
{
    return pt_config("anthropic", base_url, STALL_TIMEOUT, extra);
}

static cJSON *deltas; /* copies of every delta of the last call */

static void on_delta(void *ud, const cJSON *delta)
{
    (void)ud;
    cJSON_AddItemToArray(deltas, cJSON_Duplicate(delta, 1));
}

/* br_anthropic_chat on a fresh provider; deltas are collected. */
static cJSON *chat(const cJSON *cfg, const cJSON *params, br_error *err)
{
    br_anthropic *p = br_anthropic_new(cfg);
    assert_non_null(p);
    br_sink sink = {on_delta, NULL, 0, NULL, NULL};
    memset(err, 0, sizeof *err);
    cJSON *done = br_anthropic_chat(p, params, hl_json_str(params, "model"), &sink, err);
    br_anthropic_free(p);
    return done;
}

static void expect_fail(cJSON *done, const br_error *err, const char *type)
{
    if (done) {
        char *t = cJSON_PrintUnformatted(done);
        fail_msg("expected %s, got done %s", type, t);
    }
    assert_string_equal(err->type, type);
}

static char *joined_text(void)
{
    static char buf[4096];
    buf[0] = '\0';
    const cJSON *d;
    cJSON_ArrayForEach(d, deltas)
    {
        const char *t = hl_json_str(d, "text");
        if (t) strncat(buf, t, sizeof buf - strlen(buf) - 1);
    }
    return buf;
}

/* The /v1/messages requests received since the last reset (caller frees). */
static cJSON *message_requests(void)
{
    cJSON *r = fake_server_requests_to(&server, "/v1/messages");
    assert_non_null(r);
    return r;
}

static int request_count(void)
{
    cJSON *r = message_requests();
    int n = cJSON_GetArraySize(r);
    cJSON_Delete(r);
    return n;
}

static const cJSON *at(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static double num(const cJSON *obj, const char *key)
{
    const cJSON *v = at(obj, key);
    if (!cJSON_IsNumber(v)) fail_msg("%s is not a number", key);
    return v->valuedouble;
}

/* ---- fixtures
 * ------------------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    const char *args[] = {"--timeout", "900", "--stall-seconds", SERVER_STALL, NULL};
    if (!fake_server_start(&server, FAKE_ANTHROPIC_PY, args)) return -1;
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d", server.port);
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
    setenv("ANTHROPIC_API_KEY", TEST_KEY, 1);
    unsetenv("ANTHROPIC_BASE_URL");
    unsetenv("MY_CLAUDE_KEY");
    cJSON_Delete(deltas);
    deltas = cJSON_CreateArray();
    return fake_server_reset(&server) ? 0 : -1;
}

static int test_teardown(void **state)
{
    (void)state;
    cJSON_Delete(deltas);
    deltas = NULL;
    return 0;
}

/* ---- answers
 * ------------------------------------------------------------------------------------- */

static void streams_text_and_usage(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("anthropic/echo", "the quick brown fox");
    br_error err;
    cJSON *done = chat(config, params, &err);
    assert_non_null(done);
    assert_true(cJSON_GetArraySize(deltas) >= 4); /* one per word */
    assert_string_equal(joined_text(), "the quick brown fox");
    const cJSON *msg = at(done, "message");
    assert_string_equal(hl_json_str(msg, "role"), "assistant");
    assert_string_equal(hl_json_str(msg, "content"), "the quick brown fox");
    assert_int_equal(cJSON_GetArraySize(at(msg, "tool_calls")), 0);
    assert_string_equal(hl_json_str(done, "finish_reason"), "stop");
    const cJSON *u = at(done, "usage");
    assert_int_equal((int)num(u, "prompt_tokens"), 11);
    assert_int_equal((int)num(u, "completion_tokens"), 4);
    assert_int_equal((int)num(u, "total_tokens"), 15);
    cJSON_Delete(done);
    cJSON_Delete(params);
}

static void tool_call_argument_pieces_merge(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("anthropic/tools", "weather?");
    pt_add_tool(params, "get_weather");
    br_error err;
    cJSON *done = chat(config, params, &err);
    assert_non_null(done);
    /* the first delta names the call; the pieces of its input follow */
    const cJSON *first = at(cJSON_GetArrayItem(deltas, 0), "tool_call");
    assert_non_null(first);
    assert_int_equal((int)num(first, "index"), 0);
    assert_string_equal(hl_json_str(first, "id"), "toolu_01");
    assert_string_equal(hl_json_str(first, "name"), "get_weather");
    char args[256] = "";
    int pieces = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, deltas)
    {
        const char *piece = hl_json_str(at(d, "tool_call"), "arguments_delta");
        if (piece && *piece) strncat(args, piece, sizeof args - strlen(args) - 1), pieces++;
    }
    assert_true(pieces > 1);
    assert_string_equal(args, "{\"city\":\"Paris\",\"units\":\"c\"}");
    const cJSON *call = cJSON_GetArrayItem(at(at(done, "message"), "tool_calls"), 0);
    assert_string_equal(hl_json_str(call, "id"), "toolu_01");
    assert_string_equal(hl_json_str(call, "name"), "get_weather");
    assert_true(cJSON_IsObject(at(call, "arguments")));
    assert_string_equal(hl_json_str(at(call, "arguments"), "city"), "Paris");
    assert_string_equal(hl_json_str(done, "finish_reason"), "tool_calls");
    cJSON_Delete(done);
    cJSON_Delete(params);
}

static void two_tool_calls_after_text(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("anthropic/multi-tools", "weather in two places");
    pt_add_tool(params, "get_weather");
    pt_add_tool(params, "get_time");
    br_error err;
    cJSON *done = chat(config, params, &err);
    assert_non_null(done);
    const cJSON *msg = at(done, "message");
    assert_string_equal(hl_json_str(msg, "content"), "Looking up both.");
    const cJSON *calls = at(msg, "tool_calls");
    assert_int_equal(cJSON_GetArraySize(calls), 2);
    assert_string_equal(hl_json_str(cJSON_GetArrayItem(calls, 0), "name"), "get_weather");
    assert_string_equal(hl_json_str(cJSON_GetArrayItem(calls, 1), "id"), "toolu_02");
    assert_string_equal(hl_json_str(cJSON_GetArrayItem(calls, 1), "name"), "get_time");
    assert_string_equal(hl_json_str(at(cJSON_GetArrayItem(calls, 1), "arguments"), "city"), "Oslo");
    /* our call indices count tool calls, not Anthropic's content blocks */
    bool saw_index1 = false;
    const cJSON *d;
    cJSON_ArrayForEach(d, deltas)
    {
        const cJSON *tc = at(d, "tool_call");
        if (tc) assert_true(num(tc, "index") <= 1);
        if (tc && num(tc, "index") == 1) saw_index1 = true;
    }
    assert_true(saw_index1);
    cJSON_Delete(done);
    cJSON_Delete(params);
}

/* ---- the request
 * --------------------------------------------------------------------------------- */

static void request_has_the_messages_api_shape(void **state)
{
    (void)state;
    cJSON *params =
        pt_parse("{\"model\": \"anthropic/tools\", \"max_tokens\": 123, \"temperature\": 0.5,"
              " \"messages\": ["
              "  {\"role\": \"system\", \"content\": \"Be brief.\"},"
              "  {\"role\": \"user\", \"content\": \"weather in Paris and Oslo?\"},"
              "  {\"role\": \"system\", \"content\": \"Use tools.\"},"
              "  {\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": ["
              "    {\"id\": \"toolu_a\", \"name\": \"get_weather\", \"arguments\": {\"city\": "
              "\"Paris\"}},"
              "    {\"id\": \"toolu_b\", \"name\": \"get_weather\", \"arguments\": {\"city\": "
              "\"Oslo\"}}]},"
              "  {\"role\": \"tool\", \"tool_call_id\": \"toolu_a\", \"content\": \"sunny\"},"
              "  {\"role\": \"tool\", \"tool_call_id\": \"toolu_b\", \"content\": \"snow\"}]}");
    pt_add_tool(params, "get_weather");
    br_error err;
    cJSON *done = chat(config, params, &err);
    assert_non_null(done);
    assert_string_equal(hl_json_str(at(done, "message"), "content"), "The tool said: sunny; snow");
    cJSON *reqs = message_requests();
    assert_int_equal(cJSON_GetArraySize(reqs), 1);
    const cJSON *r = cJSON_GetArrayItem(reqs, 0);
    const cJSON *h = at(r, "headers");
    assert_string_equal(hl_json_str(h, "x-api-key"), TEST_KEY);
    assert_string_equal(hl_json_str(h, "anthropic-version"), "2023-06-01");
    assert_string_equal(hl_json_str(h, "content-type"), "application/json");
    assert_null(at(h, "authorization"));
    const cJSON *b = at(r, "body");
    assert_string_equal(hl_json_str(b, "model"), "tools");
    assert_int_equal((int)num(b, "max_tokens"), 123);
    assert_true(num(b, "temperature") == 0.5);
    assert_true(cJSON_IsTrue(at(b, "stream")));
    assert_string_equal(hl_json_str(b, "system"), "Be brief.\n\nUse tools.");
    const cJSON *msgs = at(b, "messages");
    assert_int_equal(cJSON_GetArraySize(msgs), 3); /* user, assistant, merged tool results */
    assert_string_equal(hl_json_str(cJSON_GetArrayItem(msgs, 0), "role"), "user");
    const cJSON *asst = cJSON_GetArrayItem(msgs, 1);
    assert_string_equal(hl_json_str(asst, "role"), "assistant");
    const cJSON *use = cJSON_GetArrayItem(at(asst, "content"), 0);
    assert_int_equal(cJSON_GetArraySize(at(asst, "content")), 2); /* no empty text block */
    assert_string_equal(hl_json_str(use, "type"), "tool_use");
    assert_string_equal(hl_json_str(use, "id"), "toolu_a");
    assert_string_equal(hl_json_str(use, "name"), "get_weather");
    assert_string_equal(hl_json_str(at(use, "input"), "city"), "Paris");
    const cJSON *res = cJSON_GetArrayItem(msgs, 2);
    assert_string_equal(hl_json_str(res, "role"), "user");
    assert_int_equal(cJSON_GetArraySize(at(res, "content")), 2);
    const cJSON *r0 = cJSON_GetArrayItem(at(res, "content"), 0);
    assert_string_equal(hl_json_str(r0, "type"), "tool_result");
    assert_string_equal(hl_json_str(r0, "tool_use_id"), "toolu_a");
    assert_string_equal(hl_json_str(r0, "content"), "sunny");
    assert_string_equal(hl_json_str(cJSON_GetArrayItem(at(res, "content"), 1), "tool_use_id"),
                        "toolu_b");
    const cJSON *tool = cJSON_GetArrayItem(at(b, "tools"), 0);
    assert_string_equal(hl_json_str(tool, "name"), "get_weather");
    assert_string_equal(hl_json_str(tool, "description"), "a test tool");
    assert_string_equal(hl_json_str(at(tool, "input_schema"), "type"), "object");
    assert_null(at(tool, "parameters"));
    cJSON_Delete(reqs);
    cJSON_Delete(done);
    cJSON_Delete(params);
}

static int sent_max_tokens(const cJSON *cfg)
{
    cJSON *params = pt_user_params("anthropic/echo", "hi");
    br_error err;
    cJSON *done = chat(cfg, params, &err);
    assert_non_null(done);
    cJSON *reqs = message_requests();
    int n =
        (int)num(at(cJSON_GetArrayItem(reqs, cJSON_GetArraySize(reqs) - 1), "body"), "max_tokens");
    cJSON_Delete(reqs);
    cJSON_Delete(done);
    cJSON_Delete(params);
    return n;
}

static void max_tokens_defaults_and_configures(void **state)
{
    (void)state;
    assert_int_equal(sent_max_tokens(config), 4096);
    cJSON *cfg = make_config("{\"providers\": {\"anthropic\": {\"max_tokens\": 777}}}");
    assert_int_equal(sent_max_tokens(cfg), 777);
    cJSON_Delete(cfg);
}

static void base_url_from_the_environment_wins(void **state)
{
    (void)state;
    cJSON *cfg = pt_parse("{\"providers\": {\"anthropic\": {\"base_url\": \"http://127.0.0.1:1\","
                       " \"max_retries\": 0}}}");
    setenv("ANTHROPIC_BASE_URL", base_url, 1);
    cJSON *params = pt_user_params("anthropic/echo", "via env");
    br_error err;
    cJSON *done = chat(cfg, params, &err);
    assert_non_null(done);
    assert_int_equal(request_count(), 1);
    cJSON_Delete(done);
    cJSON_Delete(params);
    cJSON_Delete(cfg);
}

/* ---- retries and errors
 * --------------------------------------------------------------------------- */

static void retries_429_and_529_before_any_byte(void **state)
{
    (void)state;
    const char *models[] = {"anthropic/rate-limit-once", "anthropic/overloaded-once"};
    for (int i = 0; i < 2; i++) {
        fake_server_reset(&server);
        cJSON *params = pt_user_params(models[i], "second time lucky");
        br_error err;
        cJSON *done = chat(config, params, &err);
        assert_non_null(done);
        assert_string_equal(hl_json_str(at(done, "message"), "content"), "second time lucky");
        assert_int_equal(request_count(), 2);
        cJSON_Delete(done);
        cJSON_Delete(params);
    }
}

static void persistent_429_is_RateLimited(void **state)
{
    (void)state;
    cJSON *params = pt_user_params("anthropic/rate-limit", "hi");
    br_error err;
    cJSON *done = chat(config, params, &err);
    expect_fail(done, &err, "RateLimited");
    assert_contains(err.message, "rate limit"); /* the Anthropic error message */
    assert_int_equal(request_count(), 3);       /* max_retries 2 */
    cJSON_Delete(params);
}

static void errors_are_typed(void **state)
{
    (void)state;
    struct {
        const char *model, *type, *says;
        int requests;
    } cases[] = {
        {"anthropic/server-error", "ProviderError", "HTTP 500", 3},
        {"anthropic/overloaded", "ProviderError", "HTTP 529", 3},
        {"anthropic/bad-json", "ProviderError", "not a JSON", 1},
        {"anthropic/error-event", "ProviderError", "overloaded_error", 1},
        {"anthropic/truncated", "ProviderError", "ended early", 1},
        {"anthropic/no-stop", "ProviderError", "no message_stop", 1},
        {"anthropic/no-such-model", "ProviderError", "no-such-model", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_server_reset(&server);
        cJSON *params = pt_user_params(cases[i].model, "hi");
        br_error err;
        cJSON *done = chat(config, params, &err);
        expect_fail(done, &err, cases[i].type);
        assert_contains(err.message, cases[i].says);
        assert_int_equal(request_count(), cases[i].requests);
        cJSON_Delete(params);
    }
}

static void auth_error_names_the_key_variable(void **state)
{
    (void)state;
    unsetenv("ANTHROPIC_API_KEY");
    cJSON *params = pt_user_params("anthropic/auth", "hi");
    br_error err;
    cJSON *done = chat(config, params, &err);
    expect_fail(done, &err, "AuthError");
    assert_contains(err.message, "ANTHROPIC_API_KEY");
    assert_int_equal(request_count(), 1); /* never retried */
    /* a configured variable is the one named */
    cJSON *cfg =
        make_config("{\"providers\": {\"anthropic\": {\"api_key_env\": \"MY_CLAUDE_KEY\"}}}");
    done = chat(cfg, params, &err);
    expect_fail(done, &err, "AuthError");
    assert_contains(err.message, "MY_CLAUDE_KEY");
    setenv("MY_CLAUDE_KEY", TEST_KEY, 1);
    done = chat(cfg, params, &err);
    assert_non_null(done);
    cJSON_Delete(done);
    cJSON_Delete(cfg);
    cJSON_Delete(params);
}

static void stall_is_a_Timeout(void **state)
{
    (void)state;
    cJSON *cfg = make_config("{\"providers\": {\"anthropic\": {\"max_retries\": 0}}}");
    cJSON *params = pt_user_params("anthropic/stall", "hi");
    br_error err;
    double t0 = fake_now_ms();
    cJSON *done = chat(cfg, params, &err);
    double took = fake_now_ms() - t0;
    expect_fail(done, &err, "Timeout");
    assert_contains(err.message, "stall_timeout");
    assert_true(took < 8000); /* well before the server's 15 s */
    assert_string_equal(joined_text(), "Thinking");
    cJSON_Delete(params);
    cJSON_Delete(cfg);
}

/* ---- through the broker
 * ---------------------------------------------------------------------------- */

static void broker_dispatches_anthropic_and_the_key_never_leaks(void **state)
{
    (void)state;
    setenv("ANTHROPIC_API_KEY", LONG_KEY, 1);
    br_broker *b = br_broker_new(config, NULL, false);
    assert_non_null(b);
    cJSON *req = pt_parse("{\"id\": 7, \"method\": \"llm.chat\", \"params\": {\"model\": "
                       "\"anthropic/tools\", \"messages\": [{\"role\": \"user\", \"content\": "
                       "\"hi\"}]}}");
    pt_add_tool(cJSON_GetObjectItemCaseSensitive(req, "params"), "get_weather");
    cJSON *ev = br_handle(b, req, on_delta, NULL);
    assert_non_null(ev);
    assert_string_equal(hl_json_str(ev, "event"), "done");
    assert_int_equal(cJSON_GetArraySize(at(at(at(ev, "data"), "message"), "tool_calls")), 1);
    char *all = cJSON_PrintUnformatted(ev);
    char *ds = cJSON_PrintUnformatted(deltas);
    assert_null(strstr(all, LONG_KEY));
    assert_null(strstr(ds, LONG_KEY));
    assert_true(cJSON_GetArraySize(deltas) > 1);
    cJSON_free(all);
    cJSON_free(ds);
    cJSON *reqs = message_requests();
    assert_string_equal(hl_json_str(at(cJSON_GetArrayItem(reqs, 0), "headers"), "x-api-key"),
                        LONG_KEY);
    cJSON_Delete(reqs);
    cJSON_Delete(ev);
    cJSON_Delete(req);
    br_broker_free(b);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)
    const struct CMUnitTest tests[] = {
        T(streams_text_and_usage),
        T(tool_call_argument_pieces_merge),
        T(two_tool_calls_after_text),
        T(request_has_the_messages_api_shape),
        T(max_tokens_defaults_and_configures),
        T(base_url_from_the_environment_wins),
        T(retries_429_and_529_before_any_byte),
        T(persistent_429_is_RateLimited),
        T(errors_are_typed),
        T(auth_error_names_the_key_variable),
        T(stall_is_a_Timeout),
        T(broker_dispatches_anthropic_and_the_key_never_leaks),
    };
#undef T
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    curl_global_cleanup();
    return failed;
}
