/*
 * sup_usage.c - what a run's brokered calls used (sup_usage in
 * supervisor.h): counted as each reply comes, shown under -v.
 */
#include <string.h>

#include "sup_internal.h"

/* Counts a brokered call's reply into the run's usage and, with -v, shows
 * the call as it ends: what was called, its tokens and cost, how long. */
void sup_account_call(run_ctx *r, sup_run_result *res, const char *method, const cJSON *params,
                         const cJSON *reply, long long ms)
{
    bool chat = !strcmp(method, "llm.chat"), tool = !strcmp(method, "tool.call");
    if (!chat && !tool && strcmp(method, "model.predict") != 0) return;
    const char *event = hl_json_str(reply, "event");
    bool done = event && !strcmp(event, "done");
    const cJSON *usage =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(reply, "data"), "usage");
    bool unknown = chat && done && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(usage, "unknown"));
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");
    const cJSON *cost = cJSON_GetObjectItemCaseSensitive(usage, "cost_usd");
    if (chat && done) {
        res->usage.model_calls++;
        if (unknown) {
            res->usage.unknown_calls++;
        } else {
            res->usage.prompt_tokens += cJSON_IsNumber(pt) ? pt->valuedouble : 0;
            res->usage.completion_tokens += cJSON_IsNumber(ct) ? ct->valuedouble : 0;
            res->usage.cost_usd += cJSON_IsNumber(cost) ? cost->valuedouble : 0;
        }
    }
    if (tool) res->usage.tool_calls++;
    if (!r->opt->progress.verbose || !r->opt->progress.out) return;
    char what[160], detail[200];
    const char *target = hl_json_str(params, chat ? "model" : "name");
    if (!done) {
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(reply, "error");
        snprintf(detail, sizeof detail, "%s", hl_json_str(err, "type") ? hl_json_str(err, "type") : "error");
    } else if (unknown) {
        snprintf(detail, sizeof detail, "tokens unknown (the provider reported no usage)");
    } else if (chat) {
        snprintf(detail, sizeof detail, "%.0f tokens (%.0f in, %.0f out), $%.6f",
                 (cJSON_IsNumber(pt) ? pt->valuedouble : 0) + (cJSON_IsNumber(ct) ? ct->valuedouble : 0),
                 cJSON_IsNumber(pt) ? pt->valuedouble : 0, cJSON_IsNumber(ct) ? ct->valuedouble : 0,
                 cJSON_IsNumber(cost) ? cost->valuedouble : 0);
    } else {
        snprintf(detail, sizeof detail, "ok");
    }
    snprintf(what, sizeof what, "%s %.100s", chat ? "model" : tool ? "tool" : "model.predict",
             target ? target : "?");
    sup_show_call(r, what, detail, ms);
}
