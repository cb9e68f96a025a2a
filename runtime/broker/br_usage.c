/*
 * br_usage.c - what a run's brokered calls used (br_usage in broker.h):
 * counted as the broker answers each model call and as the journal replays
 * one, summed over runs, and said as JSON and as one line of text.
 *
 * Two things may be unknown, and each is counted apart and said so, never
 * taken as 0: a call's tokens (its provider reported no usage: tokens and
 * cost unknown) and a call's cost (its model has no price). The run's
 * closing line, its --json, `tactus show` and evaluations all read these
 * same figures.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "br_internal.h"

void br_usage_count(br_usage *u, double in, double out, double cost, const char *model,
                    bool unknown)
{
    u->calls += 1;
    if (unknown) {
        u->unknown_calls += 1;
        return;
    }
    u->prompt_tokens += in;
    u->completion_tokens += out;
    if (!isnan(cost)) {
        u->cost_usd += cost;
    } else if (in + out > 0) {
        if (u->unpriced_calls == 0)
            snprintf(u->unpriced_model, sizeof u->unpriced_model, "%s", model ? model : "?");
        u->unpriced_calls += 1;
    }
}

void br_usage_add(br_usage *u, const cJSON *result)
{
    const char *event = hl_json_str(result, "event");
    if (!event || strcmp(event, "done") != 0) return;
    const cJSON *usage =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(result, "data"), "usage");
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");
    const cJSON *cost = cJSON_GetObjectItemCaseSensitive(usage, "cost_usd");
    br_usage_count(u, cJSON_IsNumber(pt) ? pt->valuedouble : 0,
                   cJSON_IsNumber(ct) ? ct->valuedouble : 0,
                   cJSON_IsNumber(cost) ? cost->valuedouble : NAN, hl_json_str(usage, "model"),
                   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(usage, "unknown")));
}

void br_count_replayed(br_broker *b, const cJSON *result)
{
    br_usage_add(&b->usage, result);
}

void br_get_usage(const br_broker *b, br_usage *out)
{
    *out = b->usage;
}

bool br_usage_tokens_known(const br_usage *u)
{
    return u->unknown_calls == 0;
}

bool br_usage_cost_known(const br_usage *u)
{
    return u->unknown_calls == 0 && u->unpriced_calls == 0;
}

void br_usage_sum(br_usage *into, const br_usage *more)
{
    into->calls += more->calls;
    into->tool_calls += more->tool_calls;
    into->prompt_tokens += more->prompt_tokens;
    into->completion_tokens += more->completion_tokens;
    into->cost_usd += more->cost_usd;
    into->unknown_calls += more->unknown_calls;
    if (more->unpriced_calls > 0 && into->unpriced_calls == 0)
        snprintf(into->unpriced_model, sizeof into->unpriced_model, "%s", more->unpriced_model);
    into->unpriced_calls += more->unpriced_calls;
    if (more->infra_errors > 0)
        snprintf(into->infra_error, sizeof into->infra_error, "%s", more->infra_error);
    into->infra_errors += more->infra_errors;
}

/* Why the cost is unknown, or "" when it is known. */
static void cost_unknown_why(const br_usage *u, char *out, size_t cap)
{
    if (u->unknown_calls > 0)
        snprintf(out, cap, "%.0f call%s reported no usage", u->unknown_calls,
                 u->unknown_calls == 1 ? "" : "s");
    else if (u->unpriced_calls > 0)
        snprintf(out, cap, "%.0f call%s to %.150s, which has no price", u->unpriced_calls,
                 u->unpriced_calls == 1 ? "" : "s", u->unpriced_model);
    else
        out[0] = '\0';
}

cJSON *br_usage_json(const br_usage *u)
{
    cJSON *o = cJSON_CreateObject();
    double known = u->prompt_tokens + u->completion_tokens;
    cJSON_AddNumberToObject(o, "model_calls", u->calls);
    cJSON_AddNumberToObject(o, "tool_calls", u->tool_calls);
    if (u->unknown_calls > 0) {
        cJSON_AddNullToObject(o, "tokens");
        cJSON_AddNumberToObject(o, "calls_without_usage", u->unknown_calls);
        cJSON_AddNumberToObject(o, "tokens_known", known);
    } else {
        cJSON_AddNumberToObject(o, "tokens", known);
        cJSON_AddNumberToObject(o, "prompt_tokens", u->prompt_tokens);
        cJSON_AddNumberToObject(o, "completion_tokens", u->completion_tokens);
    }
    char why[300];
    cost_unknown_why(u, why, sizeof why);
    if (why[0]) {
        cJSON_AddNullToObject(o, "cost_usd");
        cJSON_AddStringToObject(o, "cost_unknown", why);
    } else {
        cJSON_AddNumberToObject(o, "cost_usd", u->cost_usd);
    }
    return o;
}

void br_usage_text(const br_usage *u, char *out, size_t cap)
{
    char why[300];
    cost_unknown_why(u, why, sizeof why);
    double known = u->prompt_tokens + u->completion_tokens;
    int n = snprintf(out, cap, "%.0f model call%s", u->calls, u->calls == 1 ? "" : "s");
    if (n < 0 || (size_t)n >= cap) return;
    if (u->unknown_calls > 0)
        n += snprintf(out + n, cap - (size_t)n,
                      ", tokens unknown (%s; %.0f from the others), cost unknown", why, known);
    else if (u->calls > 0 && u->unpriced_calls > 0)
        n += snprintf(out + n, cap - (size_t)n,
                      ", %.0f tokens (%.0f in, %.0f out), cost unknown (%s)", known,
                      u->prompt_tokens, u->completion_tokens, why);
    else if (u->calls > 0)
        n += snprintf(out + n, cap - (size_t)n, ", %.0f tokens (%.0f in, %.0f out), $%.6f", known,
                      u->prompt_tokens, u->completion_tokens, u->cost_usd);
    if (n < 0 || (size_t)n >= cap) return;
    snprintf(out + n, cap - (size_t)n, "; %.0f tool call%s", u->tool_calls,
             u->tool_calls == 1 ? "" : "s");
}
