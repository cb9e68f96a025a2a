/*
 * br_audit.c - budgets and the audit log: what each model call costs, the
 * budget a call would exceed, and one JSON line per brokered call.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "br_internal.h"

void br_audit_default_path(const char *store, char *out, size_t cap)
{
    const char *slash = strrchr(store, '/');
    if (slash)
        snprintf(out, cap, "%.*s/audit.jsonl", (int)(slash - store), store);
    else
        snprintf(out, cap, "audit.jsonl");
}

void br_set_audit(br_broker *b, const char *path, const char *tenant)
{
    snprintf(b->audit_path, sizeof b->audit_path, "%s", path ? path : "");
    snprintf(b->tenant, sizeof b->tenant, "%s", tenant ? tenant : "default");
}

/* The built-in price table: US dollars per million tokens (input, output),
 * the providers' published list prices for standard (not batch, not cached)
 * tokens. docs/broker.md shows the same table; `prices` in the host's
 * configuration overrides and extends it. A model not here and not
 * configured has no price: its cost is unknown and said so, never 0 (a 0
 * would let it through budgets.cost and make an evaluation look free). */
static const struct {
    const char *model;
    double in, out;
} builtin_prices[] = {
    {"openai/gpt-5", 1.25, 10.00},
    {"openai/gpt-5-mini", 0.25, 2.00},
    {"openai/gpt-5-nano", 0.05, 0.40},
    {"openai/gpt-4.1", 2.00, 8.00},
    {"openai/gpt-4.1-mini", 0.40, 1.60},
    {"openai/gpt-4.1-nano", 0.10, 0.40},
    {"openai/gpt-4o", 2.50, 10.00},
    {"openai/gpt-4o-mini", 0.15, 0.60},
    {"openai/o1", 15.00, 60.00},
    {"openai/o1-mini", 1.10, 4.40},
    {"openai/o3", 2.00, 8.00},
    {"openai/o3-mini", 1.10, 4.40},
    {"openai/o4-mini", 1.10, 4.40},
    {"openai/gpt-4-turbo", 10.00, 30.00},
    {"openai/gpt-4", 30.00, 60.00},
    {"openai/gpt-3.5-turbo", 0.50, 1.50},
    {"anthropic/claude-opus-4-1", 15.00, 75.00},
    {"anthropic/claude-opus-4", 15.00, 75.00},
    {"anthropic/claude-sonnet-4-5", 3.00, 15.00},
    {"anthropic/claude-sonnet-4", 3.00, 15.00},
    {"anthropic/claude-haiku-4-5", 1.00, 5.00},
    {"anthropic/claude-3-7-sonnet", 3.00, 15.00},
    {"anthropic/claude-3-5-sonnet", 3.00, 15.00},
    {"anthropic/claude-3-5-haiku", 0.80, 4.00},
    {"anthropic/claude-3-opus", 15.00, 75.00},
    {"anthropic/claude-3-haiku", 0.25, 1.25},
};

size_t br_price_table(const char **models, double *in, double *out, size_t cap)
{
    size_t n = sizeof builtin_prices / sizeof builtin_prices[0];
    for (size_t i = 0; i < n && i < cap; i++) {
        if (models) models[i] = builtin_prices[i].model;
        if (in) in[i] = builtin_prices[i].in;
        if (out) out[i] = builtin_prices[i].out;
    }
    return n;
}

/* Whether `suffix` is what providers append to name a snapshot of a model:
 * "-latest", "-YYYYMMDD" or "-YYYY-MM-DD". Nothing else, so that a model
 * the table does not know ("claude-opus-4-5") never takes the price of one
 * it does ("claude-opus-4"). */
static bool snapshot_suffix(const char *suffix)
{
    if (strcmp(suffix, "-latest") == 0) return true;
    if (suffix[0] != '-') return false;
    const char *d = suffix + 1;
    size_t n = strlen(d);
    if (n == 8) return strspn(d, "0123456789") == 8;
    return n == 10 && strspn(d, "0123456789") == 4 && d[4] == '-' &&
           strspn(d + 5, "0123456789") == 2 && d[7] == '-' && strspn(d + 8, "0123456789") == 2;
}

/* `key` names `model` itself or a snapshot of it. */
static bool price_key_matches(const char *key, const char *model)
{
    size_t k = strlen(key);
    return strncmp(key, model, k) == 0 && (model[k] == '\0' || snapshot_suffix(model + k));
}

/* A configured price: {input: N, output: N}, both numbers >= 0. */
static bool configured_price(const cJSON *p, double *in, double *out)
{
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(p, "input");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(p, "output");
    if (!cJSON_IsNumber(i) || !cJSON_IsNumber(o) || i->valuedouble < 0 || o->valuedouble < 0)
        return false;
    *in = i->valuedouble;
    *out = o->valuedouble;
    return true;
}

/* Configuration first (exact name, then a snapshot of a configured name),
 * then the built-in table; the longest matching name wins, so
 * "gpt-4o-mini-2024-07-18" is priced as gpt-4o-mini, not gpt-4o. */
bool br_price_of(const br_broker *b, const char *model, double *in, double *out)
{
    *in = *out = 0;
    const cJSON *prices = cJSON_GetObjectItemCaseSensitive(b->config, "prices");
    const cJSON *best = NULL, *p;
    cJSON_ArrayForEach(p, prices)
    {
        if (p->string && price_key_matches(p->string, model) &&
            (!best || strlen(p->string) > strlen(best->string)))
            best = p;
    }
    if (best) return configured_price(best, in, out);
    size_t n = sizeof builtin_prices / sizeof builtin_prices[0], best_len = 0;
    bool found = false;
    for (size_t k = 0; k < n; k++) {
        size_t len = strlen(builtin_prices[k].model);
        if (len > best_len && price_key_matches(builtin_prices[k].model, model)) {
            *in = builtin_prices[k].in;
            *out = builtin_prices[k].out;
            best_len = len;
            found = true;
        }
    }
    return found;
}

/* The budget an llm.chat would exceed, or NULL. */
const char *br_budget_exceeded(const br_broker *b, char *msg, size_t cap)
{
    if (b->budget_calls > 0 && b->usage.calls >= b->budget_calls) {
        snprintf(msg, cap, "LLM call budget exceeded (limit %.0f calls, budgets.llm_calls)", b->budget_calls);
        return msg;
    }
    double used_tokens = b->usage.prompt_tokens + b->usage.completion_tokens;
    if (b->budget_tokens > 0 && used_tokens >= b->budget_tokens) {
        snprintf(msg, cap, "token budget exceeded (limit %.0f tokens, budgets.tokens; used %.0f)",
                 b->budget_tokens, used_tokens);
        return msg;
    }
    if (b->budget_cost > 0 && b->usage.cost_usd >= b->budget_cost) {
        snprintf(msg, cap, "cost budget exceeded (limit $%.4f, budgets.cost; used $%.4f)",
                 b->budget_cost, b->usage.cost_usd);
        return msg;
    }
    return NULL;
}

/* The record's time, UTC to the millisecond: 2026-01-02T03:04:05.678Z. */
static void audit_stamp(cJSON *rec)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[40];
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    char stamp[64];
    snprintf(stamp, sizeof stamp, "%s.%03ldZ", when, ts.tv_nsec / 1000000);
    cJSON_AddStringToObject(rec, "time", stamp);
}

/* One line, appended: O_APPEND, so concurrent runs interleave whole lines,
 * never parts. */
static void audit_append_line(const char *path, const cJSON *rec)
{
    char *line = cJSON_PrintUnformatted(rec);
    if (!line) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
        size_t n = strlen(line);
        line[n] = '\n';
        ssize_t w = write(fd, line, n + 1);
        (void)w;
        close(fd);
        line[n] = '\0';
    }
    cJSON_free(line);
}

void br_set_audit_sink(br_broker *b, br_audit_sink sink, void *ud)
{
    b->audit_sink = sink;
    b->audit_sink_ud = ud;
}

void br_audit_answer(const char *path, const char *tenant, const char *run_id,
                     const char *request_id, const char *kind, const char *who, const char *status,
                     bool yes)
{
    cJSON *rec = br_audit_answer_record(tenant, run_id, request_id, kind, who, status, yes);
    audit_append_line(path, rec);
    cJSON_Delete(rec);
}

cJSON *br_audit_answer_record(const char *tenant, const char *run_id, const char *request_id,
                              const char *kind, const char *who, const char *status, bool yes)
{
    cJSON *rec = cJSON_CreateObject();
    audit_stamp(rec);
    cJSON_AddStringToObject(rec, "run", run_id);
    cJSON_AddStringToObject(rec, "tenant", tenant);
    cJSON_AddStringToObject(rec, "method", "human.answer");
    cJSON_AddStringToObject(rec, "request", request_id);
    cJSON_AddStringToObject(rec, "kind", kind);
    cJSON_AddStringToObject(rec, "decision", status);
    if (!strcmp(kind, "approve") || !strcmp(kind, "tool_approval"))
        cJSON_AddStringToObject(rec, "outcome", yes ? "approved" : "denied");
    else
        cJSON_AddStringToObject(rec, "outcome", "answered");
    cJSON_AddStringToObject(rec, "by", who);
    return rec;
}

void br_audit_write(br_broker *b, const cJSON *request, const cJSON *reply, long long ms,
                        double tokens, double cost, bool priced)
{
    if (!b->audit_path[0] && !b->audit_sink) return;
    const char *method = hl_json_str(request, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(request, "params");
    cJSON *rec = cJSON_CreateObject();
    audit_stamp(rec);
    cJSON_AddStringToObject(rec, "run", b->run_id);
    cJSON_AddStringToObject(rec, "tenant", b->tenant);
    cJSON_AddStringToObject(rec, "method", method ? method : "");
    const char *target = hl_json_str(params, "model");
    if (!target) target = hl_json_str(params, "name");
    if (target) cJSON_AddStringToObject(rec, strcmp(method ? method : "", "llm.chat") == 0 ? "model" : "tool", target);
    /* The arguments themselves stay out of the log: their hash identifies them. */
    char *canon = cJSON_PrintUnformatted(params);
    char hex[65] = "";
    if (canon) hl_sha256_hex(canon, strlen(canon), hex);
    cJSON_AddStringToObject(rec, "args_sha256", hex);
    const char *event = hl_json_str(reply, "event");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(reply, "error");
    const char *type = hl_json_str(err, "type");
    bool denied = type && (!strcmp(type, "ToolNotAllowed") || !strcmp(type, "UnsupportedProvider") ||
                           !strcmp(type, "BudgetExceeded") || !strcmp(type, "MethodNotFound"));
    cJSON_AddStringToObject(rec, "decision", denied ? "denied" : "allowed");
    if (event && strcmp(event, "error") == 0) {
        cJSON_AddStringToObject(rec, "outcome", type ? type : "error");
        const char *m = hl_json_str(err, "message");
        if (m) cJSON_AddStringToObject(rec, "reason", m);
    } else {
        cJSON_AddStringToObject(rec, "outcome", "ok");
    }
    char *reply_text = cJSON_PrintUnformatted(reply);
    cJSON_AddNumberToObject(rec, "bytes_in", canon ? (double)strlen(canon) : 0);
    cJSON_AddNumberToObject(rec, "bytes_out", reply_text ? (double)strlen(reply_text) : 0);
    if (tokens < 0) {
        /* the provider reported no usage: unknown, not 0 */
        cJSON_AddNullToObject(rec, "tokens");
        cJSON_AddNullToObject(rec, "cost_usd");
        cJSON_AddTrueToObject(rec, "tokens_unknown");
    } else {
        cJSON_AddNumberToObject(rec, "tokens", tokens);
        /* A cost that is not known (no price) is null and marked, never 0. */
        if (priced)
            cJSON_AddNumberToObject(rec, "cost_usd", cost);
        else
            cJSON_AddNullToObject(rec, "cost_usd");
    }
    if (!priced) cJSON_AddBoolToObject(rec, "unpriced", 1);
    cJSON_AddNumberToObject(rec, "duration_ms", (double)ms);
    cJSON_free(canon);
    cJSON_free(reply_text);
    br_redact(b, rec, 0);
    if (b->audit_sink)
        b->audit_sink(b->audit_sink_ud, rec);
    else
        audit_append_line(b->audit_path, rec);
    cJSON_Delete(rec);
}

