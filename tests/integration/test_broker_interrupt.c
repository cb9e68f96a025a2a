/* The broker's interrupt (br_set_interrupt) cuts every call in flight
 * promptly: a worker whose drain ran out must not overstay its grace period
 * by as long as a call takes (issue #21). Against fake_openai.py for model
 * calls and real host commands for tools:
 *   - a model call whose provider sent its headers and then nothing (curl's
 *     own progress callback runs only about once a second then) ends within
 *     CUT_BOUND_MS of the interrupt, typed Interrupted, never retried;
 *   - a model call waiting to retry (a 500, retry_delay 20 s) ends too, and
 *     so does a host HTTP tool whose server went silent;
 *   - a host command and the process it started are killed and reaped: no
 *     zombie of ours, no orphan left running;
 *   - a Sleep ends, typed Interrupted (not "slept": it is waited again on
 *     resume).
 * Each fails on the code before the interrupt reached these calls: the call
 * ran to its end (seconds), or came back as an ordinary error. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "fake_server.h"
#include "providers.h"
#include "provider_test.h"

#ifndef FAKE_OPENAI_PY
#define FAKE_OPENAI_PY "fake_openai.py"
#endif

#define CUT_AFTER_MS 300.0 /* the interrupt is set this long after the call starts */
#define CUT_BOUND_MS 400.0 /* and the call must be over this long after that */

static fake_server server;

/* The interrupt: set once CUT_AFTER_MS passed since *ud (a start time). */
static bool cut_after(void *ud)
{
    return fake_now_ms() - *(const double *)ud >= CUT_AFTER_MS;
}

/* `method` with `params` (taken) through a broker on `cfg` (taken) whose
 * interrupt is set CUT_AFTER_MS after the start; *elapsed_ms: how long it took. */
static cJSON *cut_call(cJSON *cfg, const char *method, cJSON *params, double *elapsed_ms)
{
    br_broker *b = br_broker_new(cfg, NULL, false);
    assert_non_null(b);
    double t0 = fake_now_ms();
    br_set_interrupt(b, cut_after, &t0);
    br_set_effect(b, "run-0123456789abcdef", 3);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddNumberToObject(req, "id", 9);
    cJSON_AddStringToObject(req, "method", method);
    cJSON_AddItemToObject(req, "params", params);
    cJSON *ev = br_handle(b, req, NULL, NULL);
    *elapsed_ms = fake_now_ms() - t0;
    cJSON_Delete(req);
    br_broker_free(b);
    cJSON_Delete(cfg);
    assert_non_null(ev);
    return ev;
}

static void expect_interrupted(const cJSON *ev, double elapsed_ms)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(ev, "error");
    if (!e || strcmp(hl_json_str(e, "type") ? hl_json_str(e, "type") : "", BR_INTERRUPTED) != 0) {
        char *t = cJSON_PrintUnformatted(ev);
        fail_msg("expected an error of type %s after %.0f ms, got %s", BR_INTERRUPTED, elapsed_ms, t);
    }
    assert_contains(hl_json_str(e, "message"), "interrupted");
    if (elapsed_ms > CUT_AFTER_MS + CUT_BOUND_MS)
        fail_msg("the call ended %.0f ms after it started, %.0f ms after the interrupt (bound: %.0f ms)",
                 elapsed_ms, elapsed_ms - CUT_AFTER_MS, CUT_BOUND_MS);
}

/* ---- model calls --------------------------------------------------------------------------- */

static void a_silent_model_call_is_cut_at_once(void **state)
{
    (void)state;
    /* Headers, then 30 s of silence: only the interrupt can end it in time. */
    cJSON *cfg = pt_config("openai", server.base_url, 60, NULL);
    double ms;
    cJSON *ev = cut_call(cfg, "llm.chat", pt_user_params("openai/stall-headers", "hi"), &ms);
    expect_interrupted(ev, ms);
    cJSON_Delete(ev);
    /* Asked once: an interrupted call is not retried. */
    cJSON *reqs = fake_server_requests_to(&server, "/v1/chat/completions");
    assert_int_equal(cJSON_GetArraySize(reqs), 1);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(reqs, 0), "headers");
    assert_string_equal(hl_json_str(h, "idempotency-key"), "run-0123456789abcdef.3");
    cJSON_Delete(reqs);
}

static void a_model_call_waiting_to_retry_is_cut(void **state)
{
    (void)state;
    cJSON *cfg = pt_config("openai", server.base_url, 60,
                           "{\"providers\": {\"openai\": {\"retry_delay\": 20, \"max_retries\": 2}}}");
    double ms;
    cJSON *ev = cut_call(cfg, "llm.chat", pt_user_params("openai/server-error", "hi"), &ms);
    expect_interrupted(ev, ms);
    cJSON_Delete(ev);
}

static void an_http_tool_is_cut_at_once(void **state)
{
    (void)state;
    /* A host HTTP tool whose server sends its headers and then nothing. */
    char extra[512];
    snprintf(extra, sizeof extra,
             "{\"host_tools\": {\"fetch\": {\"timeout\": 60, \"http\": {\"method\": \"POST\", "
             "\"url\": \"%s/chat/completions\", \"body\": \"args\", \"allow_hosts\": [\"127.0.0.1\"]}}}}",
             server.base_url);
    cJSON *params = pt_parse("{\"name\": \"host.fetch\", \"args\": {\"model\": \"stall-headers\", "
                             "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}}");
    double ms;
    cJSON *ev = cut_call(pt_parse(extra), "tool.call", params, &ms);
    expect_interrupted(ev, ms);
    assert_contains(hl_json_str(cJSON_GetObjectItemCaseSensitive(ev, "error"), "message"), "host.fetch");
    cJSON_Delete(ev);
}

/* ---- host commands ------------------------------------------------------------------------------- */

/* Reads a pid written by the tool; 0 when the file is not there yet. */
static pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = 0;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1) v = 0;
        fclose(f);
    }
    return (pid_t)v;
}

static void a_host_command_and_its_children_are_killed_and_reaped(void **state)
{
    (void)state;
    /* Orphans come to this process, so it can tell whether the tool's own
     * child was killed or left running. */
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    char dir[] = "/tmp/tactus-interrupt.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char script[2048], shell_pid[100], child_pid[100];
    snprintf(shell_pid, sizeof shell_pid, "%s/shell.pid", dir);
    snprintf(child_pid, sizeof child_pid, "%s/child.pid", dir);
    snprintf(script, sizeof script, "echo $$ > %s; sleep 30 & echo $! > %s; wait", shell_pid, child_pid);
    cJSON *cfg = cJSON_CreateObject();
    cJSON *tool = cJSON_AddObjectToObject(cJSON_AddObjectToObject(cfg, "host_tools"), "sleeper");
    cJSON *argv = cJSON_AddArrayToObject(tool, "command");
    cJSON_AddItemToArray(argv, cJSON_CreateString("/bin/sh"));
    cJSON_AddItemToArray(argv, cJSON_CreateString("-c"));
    cJSON_AddItemToArray(argv, cJSON_CreateString(script));
    cJSON_AddNumberToObject(tool, "timeout", 60);
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "name", "host.sleeper");
    cJSON_AddObjectToObject(params, "args");
    double ms;
    cJSON *ev = cut_call(cfg, "tool.call", params, &ms);
    expect_interrupted(ev, ms);
    assert_contains(hl_json_str(cJSON_GetObjectItemCaseSensitive(ev, "error"), "message"), "host.sleeper");
    cJSON_Delete(ev);
    pid_t sh = read_pid(shell_pid), sleeper = read_pid(child_pid);
    assert_true(sh > 0 && sleeper > 0);
    /* The command itself was reaped by the broker: no zombie of ours. */
    errno = 0;
    assert_int_equal(waitpid(sh, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
    /* Its child was killed with the group (SIGKILL), not left to run. */
    int st = 0;
    pid_t w = 0;
    for (int i = 0; i < 100 && (w = waitpid(sleeper, &st, WNOHANG)) == 0; i++) usleep(10000);
    if (w != sleeper) {
        kill(sleeper, SIGKILL);
        fail_msg("the tool's child %ld was still running after the call was cut", (long)sleeper);
    }
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
    unlink(shell_pid);
    unlink(child_pid);
    rmdir(dir);
}

static void a_sleep_is_cut_and_not_reported_slept(void **state)
{
    (void)state;
    cJSON *params = cJSON_CreateObject();
    cJSON_AddNumberToObject(params, "seconds", 30);
    double ms;
    cJSON *ev = cut_call(cJSON_CreateObject(), "timer.sleep", params, &ms);
    expect_interrupted(ev, ms);
    cJSON_Delete(ev);
}

static int group_setup(void **state)
{
    (void)state;
    const char *args[] = {"--timeout", "300", "--stall-seconds", "30", NULL};
    if (!fake_server_start(&server, FAKE_OPENAI_PY, args)) return -1;
    unsetenv("OPENAI_BASE_URL");
    setenv("OPENAI_API_KEY", "test-key", 1);
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    fake_server_stop(&server);
    return 0;
}

static int test_setup(void **state)
{
    (void)state;
    return fake_server_reset(&server) ? 0 : -1;
}

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(a_silent_model_call_is_cut_at_once, test_setup),
        cmocka_unit_test_setup(a_model_call_waiting_to_retry_is_cut, test_setup),
        cmocka_unit_test_setup(an_http_tool_is_cut_at_once, test_setup),
        cmocka_unit_test_setup(a_host_command_and_its_children_are_killed_and_reaped, test_setup),
        cmocka_unit_test_setup(a_sleep_is_cut_and_not_reported_slept, test_setup),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    curl_global_cleanup();
    return failed;
}
