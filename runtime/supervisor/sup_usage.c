/*
 * sup_usage.c - what a run's brokered calls used (sup_run_result.usage):
 * tool calls counted as each reply comes, each call shown under -v, and the
 * broker's count of the model calls taken when the run ends.
 *
 * The model calls' tokens and cost are the broker's figures (it prices
 * them, counts the ones replayed from the journal, and knows which failures
 * were the provider's), so they are counted in one place only: here they
 * are shown, not added up a second time.
 */
#include <string.h>

#include "sup_internal.h"

/* One call's tokens and cost as -v shows them: unknown is said so, never 0. */
static void call_detail(const cJSON *usage, char *out, size_t cap)
{
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");
    const cJSON *cost = cJSON_GetObjectItemCaseSensitive(usage, "cost_usd");
    double in = cJSON_IsNumber(pt) ? pt->valuedouble : 0;
    double out_tokens = cJSON_IsNumber(ct) ? ct->valuedouble : 0;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(usage, "unknown"))) {
        snprintf(out, cap, "tokens unknown (the provider reported no usage)");
    } else if (cJSON_IsNumber(cost)) {
        snprintf(out, cap, "%.0f tokens (%.0f in, %.0f out), $%.6f", in + out_tokens, in,
                 out_tokens, cost->valuedouble);
    } else {
        const char *model = hl_json_str(usage, "model");
        snprintf(out, cap, "%.0f tokens (%.0f in, %.0f out), cost unknown (no price for %.80s)",
                 in + out_tokens, in, out_tokens, model && *model ? model : "the model");
    }
}

/* Counts a brokered call's reply into the run's usage (tool calls: the
 * model calls are the broker's, see sup_take_usage) and, with -v, shows
 * the call as it ends: what was called, its tokens and cost, how long. */
void sup_account_call(run_ctx *r, sup_run_result *res, const char *method, const cJSON *params,
                      const cJSON *reply, long long ms)
{
    bool chat = !strcmp(method, "llm.chat"), tool = !strcmp(method, "tool.call");
    if (!chat && !tool && strcmp(method, "model.predict") != 0) return;
    if (tool) res->usage.tool_calls++;
    if (!r->opt->progress.verbose || !r->opt->progress.out) return;
    const char *event = hl_json_str(reply, "event");
    bool done = event && !strcmp(event, "done");
    char what[160], detail[200];
    const char *target = hl_json_str(params, chat ? "model" : "name");
    if (!done) {
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(reply, "error");
        snprintf(detail, sizeof detail, "%s",
                 hl_json_str(err, "type") ? hl_json_str(err, "type") : "error");
    } else if (chat) {
        call_detail(cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(reply, "data"), "usage"),
                    detail, sizeof detail);
    } else {
        snprintf(detail, sizeof detail, "ok");
    }
    snprintf(what, sizeof what, "%s %.100s",
             chat   ? "model"
             : tool ? "tool"
                    : "model.predict",
             target ? target : "?");
    sup_show_call(r, what, detail, ms);
}

void sup_take_usage(sup_run_result *res, const br_broker *broker)
{
    double tool_calls = res->usage.tool_calls;
    br_get_usage(broker, &res->usage);
    res->usage.tool_calls = tool_calls;
}
