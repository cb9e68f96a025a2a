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

/* Prices per million tokens (input, output) in US dollars: config
 * `prices: {"openai/gpt-4o-mini": {input: 0.15, output: 0.6}}` overrides and
 * extends these defaults. Unknown models cost 0 (and say so in the audit). */
bool br_price_of(const br_broker *b, const char *model, double *in, double *out)
{
    static const struct {
        const char *model;
        double in, out;
    } defaults[] = {
        {"openai/gpt-4o-mini", 0.15, 0.60}, {"openai/gpt-4o", 2.50, 10.00},
        {"openai/gpt-4.1-mini", 0.40, 1.60}, {"openai/gpt-4.1", 2.00, 8.00},
        {"anthropic/claude-3-5-haiku-latest", 0.80, 4.00},
        {"anthropic/claude-3-7-sonnet-latest", 3.00, 15.00},
    };
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(b->config, "prices"), model);
    if (cJSON_IsObject(p)) {
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(p, "input");
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(p, "output");
        *in = cJSON_IsNumber(i) ? i->valuedouble : 0;
        *out = cJSON_IsNumber(o) ? o->valuedouble : 0;
        return true;
    }
    for (size_t k = 0; k < sizeof defaults / sizeof defaults[0]; k++)
        if (strcmp(defaults[k].model, model) == 0) {
            *in = defaults[k].in;
            *out = defaults[k].out;
            return true;
        }
    *in = *out = 0;
    return false;
}

/* The budget an llm.chat would exceed, or NULL. */
const char *br_budget_exceeded(const br_broker *b, char *msg, size_t cap)
{
    if (b->budget_calls > 0 && b->used_calls >= b->budget_calls) {
        snprintf(msg, cap, "LLM call budget exceeded (limit %.0f calls, budgets.llm_calls)", b->budget_calls);
        return msg;
    }
    if (b->budget_tokens > 0 && b->used_tokens >= b->budget_tokens) {
        snprintf(msg, cap, "token budget exceeded (limit %.0f tokens, budgets.tokens; used %.0f)",
                 b->budget_tokens, b->used_tokens);
        return msg;
    }
    if (b->budget_cost > 0 && b->used_cost >= b->budget_cost) {
        snprintf(msg, cap, "cost budget exceeded (limit $%.4f, budgets.cost; used $%.4f)",
                 b->budget_cost, b->used_cost);
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
        cJSON_AddNumberToObject(rec, "cost_usd", cost);
    }
    if (!priced && tokens > 0) cJSON_AddBoolToObject(rec, "unpriced", 1);
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

