/*
 * broker.c - the broker's life and its dispatch (broker.h): one request in,
 * one final event out, every call budgeted, redacted and audited.
 *
 * Model calls go to the provider named by the model string
 * ("openai/gpt-4o-mini", "anthropic/claude-...", "mock/x", or any name
 * configured with providers.<name>.base_url, which is spoken to as
 * OpenAI-compatible). Keys live here and in the providers, never in
 * anything sent back.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "br_internal.h"

br_broker *br_broker_new(const cJSON *config, const cJSON *mocks, bool mock_all)
{
    br_broker *b = tx_calloc(1, sizeof *b);
    if (!b) return NULL;
    b->config = config;
    b->mock_all = mock_all;
    const cJSON *bud = cJSON_GetObjectItemCaseSensitive(config, "budgets");
    const cJSON *v;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(bud, "tokens"))) b->budget_tokens = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(bud, "cost"))) b->budget_cost = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(bud, "llm_calls"))) b->budget_calls = v->valuedouble;
    br_remember_secrets(b);
    b->mock = br_mock_new(mocks);
    b->openai = br_openai_new(config);
    b->anthropic = br_anthropic_new(config);
    b->mcp = br_mcp_new();
    if (!b->mock || !b->openai || !b->anthropic || !b->mcp) {
        br_broker_free(b);
        return NULL;
    }
    return b;
}

void br_broker_free(br_broker *b)
{
    if (!b) return;
    br_mcp_free(b->mcp);
    br_mock_free(b->mock);
    br_openai_free(b->openai);
    br_anthropic_free(b->anthropic);
    for (size_t i = 0; i < b->n_secrets; i++) {
        memset(b->secrets[i], 0, strlen(b->secrets[i]));
        tx_free(b->secrets[i]);
    }
    for (size_t i = 0; i < BR_MAX_HELD; i++) tx_buf_free(&b->held[i].tail);
    tx_free(b);
}

static long request_id(const cJSON *req)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
    return cJSON_IsNumber(id) ? (long)id->valuedouble : 0;
}

cJSON *br_done_event(long id, const char *key, cJSON *value)
{
    cJSON *data = cJSON_CreateObject();
    cJSON_AddItemToObject(data, key, value);
    return tp_event(id, "done", data);
}

cJSON *br_error_event(long id, const char *type, const char *message)
{
    return tp_error(id, type, message);
}

void br_set_effect(br_broker *b, const char *run_id, long position)
{
    snprintf(b->run_id, sizeof b->run_id, "%s", run_id ? run_id : "");
    b->position = position;
}

void br_set_deadline(br_broker *b, long long deadline_ms)
{
    b->deadline_ms = deadline_ms;
}

void br_set_interrupt(br_broker *b, bool (*interrupted)(void *ud), void *ud)
{
    b->interrupted = interrupted;
    b->interrupted_ud = ud;
}

cJSON *br_interrupted_event(long id, const char *what, const char *name)
{
    char m[400];
    snprintf(m, sizeof m,
             "%s%s%.150s was interrupted (the run is stopping): it was cut before it finished, "
             "nothing of it is recorded, and it runs again, with the same idempotency key, when "
             "the run resumes",
             what, *name ? " " : "", name);
    return br_error_event(id, BR_INTERRUPTED, m);
}

bool br_is_interrupted(const br_broker *b)
{
    return b->interrupted && b->interrupted(b->interrupted_ud);
}

/* A wait of `ms`, cut at the run's deadline (at least 1 ms: a wait the
 * deadline already passed ends at once, and the supervisor ends the run). */
long long br_wait_ms(const br_broker *b, long long ms)
{
    if (!b->deadline_ms) return ms;
    long long left = b->deadline_ms - hl_now_ms();
    if (left < 1) left = 1;
    return ms < left ? ms : left;
}

/* ---- llm.chat ------------------------------------------------------------------------------------ */

/* Under `tactus test`, an agent with turns given by its scenario is served by
 * the mock provider even in real mode. */
static bool test_mocks_agent(const br_broker *b, const cJSON *params)
{
    const char *agent = hl_json_str(params, "agent");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(b->test, "mocked_agents");
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        if (agent && cJSON_IsString(n) && strcmp(n->valuestring, agent) == 0) return true;
    }
    return false;
}

/* Whether a model call is answered by the mock provider: --mock, a "mock/"
 * model, or an agent a scenario mocks. Mocked calls cost nothing. */
static bool chat_is_mocked(const br_broker *b, const cJSON *params)
{
    const char *model = hl_json_str(params, "model");
    return b->mock_all || (model && strncmp(model, "mock/", 5) == 0) || test_mocks_agent(b, params);
}

static cJSON *handle_chat(br_broker *b, long id, const cJSON *params, br_delta_fn on_delta, void *ud)
{
    const char *model = hl_json_str(params, "model");
    if (!model || !*model)
        return br_error_event(id, "BadRequest", "params.model must be a \"provider/model\" string");
    const char *slash = strchr(model, '/');
    char provider[64];
    size_t pn = slash ? (size_t)(slash - model) : strlen(model);
    if (!slash || pn == 0 || pn >= sizeof provider) {
        char m[300];
        snprintf(m, sizeof m,
                 "model \"%.200s\" names no provider; write \"provider/model\", e.g. "
                 "\"openai/gpt-4o-mini\"",
                 model);
        return br_error_event(id, "BadRequest", m);
    }
    memcpy(provider, model, pn);
    provider[pn] = '\0';
    /* The name picks a table of the host's configuration: letters, digits,
     * '-' and '_' only, so no name can point into another key's value. */
    if (strspn(provider, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != pn) {
        char m[300];
        snprintf(m, sizeof m,
                 "model \"%.200s\": a provider's name has only letters, digits, '-' and '_'", model);
        return br_error_event(id, "BadRequest", m);
    }
    br_sink sink = {on_delta, ud, b->deadline_ms, b->interrupted, b->interrupted_ud};
    br_error err = {"ProviderError", ""};
    cJSON *done = NULL;
    char idem[96] = "";
    if (b->run_id[0] && b->position >= 0) snprintf(idem, sizeof idem, "%s.%ld", b->run_id, b->position);
    br_openai_set_idempotency_key(b->openai, idem);
    if (chat_is_mocked(b, params)) {
        done = br_mock_chat(b->mock, params, slash + 1, &sink, &err);
    } else if (strcmp(provider, "openai") == 0) {
        done = br_openai_chat(b->openai, params, model, &sink, &err);
    } else if (strcmp(provider, "anthropic") == 0) {
        done = br_anthropic_chat(b->anthropic, params, model, &sink, &err);
    } else {
        if (br_http_cfg_str(b->config, provider, "base_url")) {
            done = br_openai_chat(b->openai, params, model, &sink, &err);
        } else {
            snprintf(err.message, sizeof err.message,
                     "Unsupported provider: %s (supported: openai, anthropic, mock, or any "
                     "OpenAI-compatible "
                     "server configured as providers.%s.base_url)",
                     provider, provider);
            strcpy(err.type, "UnsupportedProvider");
        }
    }
    if (!done) return br_error_event(id, err.type, err.message[0] ? err.message : "provider failed");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "event", "done");
    cJSON_AddItemToObject(o, "data", done);
    return o;
}

/* ---- time and people --------------------------------------------------------------------------- */

/* Sleep(seconds): the host waits, so the runtime never spins; under
 * `tactus test` the fixed clock moves on instead. SIGINT/SIGTERM end the
 * wait early (the supervisor then stops the run). */
static cJSON *sleep_for(br_broker *b, long id, const cJSON *params)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(params, "seconds");
    if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > 86400)
        return br_error_event(id, "BadRequest", "timer.sleep needs seconds from 0 to 86400");
    if (b->fixed_now_ms) {
        b->clock_calls += (long long)(s->valuedouble * 1000);
        return br_done_event(id, "slept", cJSON_CreateNumber(s->valuedouble));
    }
    /* The supervisor refuses a Sleep longer than the time left; this cut
     * is the broker's own line behind it. */
    /* In slices, so the interrupt is seen within 50 ms (a worker's slot
     * thread gets no signal to end a long nanosleep). Cut, the sleep is not
     * recorded as slept: it is waited again on resume. */
    long long until = hl_now_ms() + br_wait_ms(b, (long long)(s->valuedouble * 1000));
    for (long long left; (left = until - hl_now_ms()) > 0;) {
        if (br_is_interrupted(b)) return br_interrupted_event(id, "Sleep", "");
        if (left > 50) left = 50;
        struct timespec ts = {0, (long)left * 1000000L};
        nanosleep(&ts, NULL);
    }
    return br_done_event(id, "slept", cJSON_CreateNumber(s->valuedouble));
}

/* The answer a test gives a person's request (inventory C.3): a scenario's
 * "when asked" prefix first, then its answer for the kind, then the mock
 * defaults (approve true, input "test input", review Approve, escalate). */
static cJSON *test_human_answer(const cJSON *test, const cJSON *params)
{
    const cJSON *human = cJSON_GetObjectItemCaseSensitive(test, "human");
    const char *kind = hl_json_str(params, "kind");
    const char *message = hl_json_str(params, "message");
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(human, "prefixes"))
    {
        const char *prefix = hl_json_str(p, "prefix");
        if (prefix && message && strncmp(message, prefix, strlen(prefix)) == 0)
            return cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p, "value"), 1);
    }
    const cJSON *by_kind = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(human, "kinds"), kind ? kind : "");
    if (by_kind) return cJSON_Duplicate(by_kind, 1);
    if (!kind) return cJSON_CreateNull();
    if (strcmp(kind, "approve") == 0) return cJSON_CreateTrue();
    if (strcmp(kind, "input") == 0) return cJSON_CreateString("test input");
    if (strcmp(kind, "review") == 0) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "decision", "Approve");
        return r;
    }
    if (strcmp(kind, "escalate") == 0) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddTrueToObject(r, "escalated");
        return r;
    }
    return cJSON_CreateNull();
}

void br_set_test(br_broker *b, const cJSON *test, long long fixed_now_ms)
{
    b->test = test;
    b->fixed_now_ms = fixed_now_ms;
}

/* ---- one request ---------------------------------------------------------------------------------- */

static cJSON *dispatch(br_broker *b, const cJSON *request, br_delta_fn on_delta, void *ud);

cJSON *br_handle(br_broker *b, const cJSON *request, br_delta_fn on_delta, void *ud)
{
    b->user_delta = on_delta;
    b->user_ud = ud;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *method = hl_json_str(request, "method");
    bool chat = method && strcmp(method, "llm.chat") == 0;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(request, "params");
    const char *model = chat ? hl_json_str(params, "model") : NULL;
    bool mocked = chat && chat_is_mocked(b, params);
    /* The price is known before the call: a mocked call costs nothing, a
     * model with no price costs "unknown". */
    double pin = 0, pout = 0;
    bool priced = !chat || mocked || br_price_of(b, model ? model : "", &pin, &pout);
    char msg[512];
    cJSON *reply;
    if (chat && br_budget_exceeded(b, msg, sizeof msg)) {
        reply = br_error_event(request_id(request), "BudgetExceeded", msg);
    } else if (chat && !priced && b->budget_cost > 0) {
        /* A budget in dollars cannot hold a call whose cost is unknown:
         * refused before anything is spent. */
        snprintf(msg, sizeof msg,
                 "budgets.cost is set, but model \"%.150s\" has no price, so its cost cannot be "
                 "counted: add it to the host's configuration, prices: {\"%.150s\": {input: USD, "
                 "output: USD}} (per million tokens)",
                 model ? model : "", model ? model : "");
        reply = br_error_event(request_id(request), "BudgetExceeded", msg);
    } else {
        reply = dispatch(b, request, br_redacting_delta, b);
    }
    br_flush_streams(b);
    br_redact(b, reply, 0);
    double tokens = 0, cost = 0;
    bool unknown = false;
    const char *event = hl_json_str(reply, "event") ? hl_json_str(reply, "event") : "";
    if (chat && reply && strcmp(event, "done") == 0) {
        cJSON *u = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(reply, "data"),
                                                    "usage");
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens");
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(u, "completion_tokens");
        double in = cJSON_IsNumber(pt) ? pt->valuedouble : 0,
               out = cJSON_IsNumber(ct) ? ct->valuedouble : 0;
        /* usage {unknown: true}: the provider did not say; its tokens and
         * cost are unknown (null), and the budgets count no tokens for it. */
        unknown = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "unknown"));
        tokens = in + out;
        cost = priced && !unknown ? (in * pin + out * pout) / 1e6 : NAN;
        if (u) {
            /* Unknown is said so (null and why), never 0. */
            if (unknown) {
                cJSON_AddNullToObject(u, "cost_usd");
                cJSON_AddStringToObject(u, "cost_unknown", "the provider reported no usage");
            } else if (isnan(cost) && tokens > 0) {
                cJSON_AddNullToObject(u, "cost_usd");
                char why[400];
                snprintf(why, sizeof why,
                         "no price for model %.150s (add it to prices in the host's configuration: "
                         "\"%.100s\": {input: USD, output: USD})",
                         model ? model : "?", model ? model : "?");
                cJSON_AddStringToObject(u, "cost_unknown", why);
            } else {
                cJSON_AddNumberToObject(u, "cost_usd", isnan(cost) ? 0 : cost);
            }
            cJSON_AddStringToObject(u, "model", model ? model : "");
        }
        br_usage_count(&b->usage, in, out, cost, model, unknown);
    } else if (chat && reply && !mocked) {
        /* The provider failed after its retries: infrastructure, not the
         * procedure (evaluations count such runs apart). */
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(reply, "error");
        const char *type = hl_json_str(err, "type");
        if (type && (!strcmp(type, "ProviderError") || !strcmp(type, "RateLimited") ||
                     !strcmp(type, "Timeout") || !strcmp(type, "AuthError"))) {
            b->usage.infra_errors += 1;
            snprintf(b->usage.infra_error, sizeof b->usage.infra_error, "%s: %.480s", type,
                     hl_json_str(err, "message") ? hl_json_str(err, "message") : "");
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (reply)
        br_audit_write(b, request, reply,
                       (t1.tv_sec - t0.tv_sec) * 1000LL + (t1.tv_nsec - t0.tv_nsec) / 1000000,
                       unknown ? -1 : tokens, isnan(cost) ? 0 : cost,
                       unknown || !isnan(cost) || tokens == 0);
    return reply;
}

static cJSON *dispatch(br_broker *b, const cJSON *request, br_delta_fn on_delta, void *ud)
{
    long id = request_id(request);
    const char *method = hl_json_str(request, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(request, "params");
    if (!method) return br_error_event(id, "BadRequest", "Missing method");
    if (strcmp(method, "llm.chat") == 0) return handle_chat(b, id, params, on_delta, ud);
    if (strcmp(method, "tool.call") == 0) return br_tool_call(b, id, params);
    if (strcmp(method, "timer.sleep") == 0) return sleep_for(b, id, params);
    if (strcmp(method, "model.predict") == 0) return br_model_predict(b, id, params);
    if (strcmp(method, "mcp.tools") == 0) return br_mcp_tools(b, id, params);
    if (strcmp(method, "clock.now") == 0 && b->fixed_now_ms)
        /* Tests: time moves one millisecond per reading, the same every run. */
        return br_done_event(id, "epoch_ms", cJSON_CreateNumber((double)(b->fixed_now_ms + b->clock_calls++)));
    if (strcmp(method, "random.seed") == 0 && b->fixed_now_ms)
        return br_done_event(id, "seed", cJSON_CreateNumber((double)(b->fixed_now_ms % 2147483647)));
    if (strcmp(method, "clock.now") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return br_done_event(id, "epoch_ms",
                           cJSON_CreateNumber((double)ts.tv_sec * 1000.0 + ts.tv_nsec / 1000000));
    }
    if (strcmp(method, "random.seed") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return br_done_event(id, "seed", cJSON_CreateNumber((double)((ts.tv_nsec ^ ts.tv_sec) & 0x7fffffff)));
    }
    if (strcmp(method, "checkpoint") == 0) return br_done_event(id, "cached", cJSON_CreateFalse());
    if (strcmp(method, "checkpoint.commit") == 0) return br_done_event(id, "ok", cJSON_CreateTrue());
    if (strcmp(method, "human.request") == 0 && b->test)
        return br_done_event(id, "value", test_human_answer(b->test, params));
    if (strcmp(method, "human.request") == 0)
        return br_error_event(id, "Suspended",
                           "no answer is recorded for this request: the run waits for a person");
    char m[200];
    snprintf(m, sizeof m, "Unknown method: %.100s", method);
    return br_error_event(id, "MethodNotFound", m);
}

