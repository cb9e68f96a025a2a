/*
 * br_mock.c - the `mock` provider: scripted model turns.
 *
 * Turns come from the procedure's Mocks block (inventory C.3), keyed by the
 * agent's name: `{message = ..., tool_calls = {{tool = ..., args = {...}}},
 * data = {...}}`, or `temporal = {turn, turn, ...}` (call N gets turn N, the
 * last one repeats). One agent call consumes one turn: the turn's message
 * comes with its tool calls; the follow-up request (whose last message is a
 * tool result) gets the message again and no tool call, which ends the loop.
 * With no mock for an agent, its first turn calls `done` (when granted) with
 * "Mock greeting from <agent>", as the original does.
 *
 * Mocked turns go through the same broker path as real ones: the runtime
 * cannot tell them apart.
 */
#include <stdio.h>
#include <string.h>

#include "providers.h"

#define MAX_AGENTS 256

struct br_mock {
    const cJSON *mocks;
    struct {
        char name[128];
        int turns; /* turns consumed */
    } agents[MAX_AGENTS];
    int n_agents;
    int call_ids;
};

br_mock *br_mock_new(const cJSON *mocks)
{
    br_mock *m = tx_calloc(1, sizeof *m);
    if (m) m->mocks = mocks;
    return m;
}

void br_mock_free(br_mock *m)
{
    tx_free(m);
}

static int *turn_counter(br_mock *m, const char *agent)
{
    for (int i = 0; i < m->n_agents; i++)
        if (strcmp(m->agents[i].name, agent) == 0) return &m->agents[i].turns;
    if (m->n_agents == MAX_AGENTS) return &m->agents[MAX_AGENTS - 1].turns;
    snprintf(m->agents[m->n_agents].name, sizeof m->agents[0].name, "%s", agent);
    return &m->agents[m->n_agents++].turns;
}

static bool last_is_tool_result(const cJSON *params)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(params, "messages");
    int n = cJSON_GetArraySize(msgs);
    if (n == 0) return false;
    const char *role = hl_json_str(cJSON_GetArrayItem(msgs, n - 1), "role");
    return role && strcmp(role, "tool") == 0;
}

static bool tool_offered(const cJSON *params, const char *name)
{
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(params, "tools");
    const cJSON *t;
    cJSON_ArrayForEach(t, tools)
    {
        const char *n = hl_json_str(t, "name");
        if (n && strcmp(n, name) == 0) return true;
    }
    return false;
}

/* Streams `text` to the sink a word at a time, as a real provider would. */
static void stream_text(const br_sink *sink, const char *text)
{
    if (!sink || !sink->on_delta || !text) return;
    const char *p = text;
    while (*p) {
        const char *q = p;
        while (*q && *q != ' ') q++;
        while (*q == ' ') q++;
        char *piece = tx_strndup(p, (size_t)(q - p));
        cJSON *d = cJSON_CreateObject();
        if (piece && d) {
            cJSON_AddStringToObject(d, "text", piece);
            sink->on_delta(sink->ud, d);
        }
        cJSON_Delete(d);
        tx_free(piece);
        p = q;
    }
}

static cJSON *completion(br_mock *m, const char *content, const cJSON *tool_calls, const char *reason)
{
    cJSON *done = cJSON_CreateObject();
    cJSON *msg = cJSON_AddObjectToObject(done, "message");
    cJSON_AddStringToObject(msg, "role", "assistant");
    cJSON_AddStringToObject(msg, "content", content ? content : "");
    cJSON *calls = cJSON_AddArrayToObject(msg, "tool_calls");
    const cJSON *tc;
    cJSON_ArrayForEach(tc, tool_calls)
    {
        const char *tool = hl_json_str(tc, "tool");
        if (!tool) tool = hl_json_str(tc, "name");
        if (!tool) continue;
        cJSON *c = cJSON_CreateObject();
        char id[32];
        snprintf(id, sizeof id, "call_mock_%d", ++m->call_ids);
        cJSON_AddStringToObject(c, "id", id);
        cJSON_AddStringToObject(c, "name", tool);
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(tc, "args");
        cJSON_AddItemToObject(c, "arguments", args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject());
        cJSON_AddItemToArray(calls, c);
    }
    cJSON *usage = cJSON_AddObjectToObject(done, "usage");
    cJSON_AddNumberToObject(usage, "prompt_tokens", 0);
    cJSON_AddNumberToObject(usage, "completion_tokens", 0);
    cJSON_AddNumberToObject(usage, "total_tokens", 0);
    cJSON_AddStringToObject(done, "finish_reason",
                            reason ? reason : cJSON_GetArraySize(calls) ? "tool_calls" : "stop");
    return done;
}

/* The content of the last user message of a request, or NULL. */
static const char *last_user_message(const cJSON *params)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(params, "messages");
    for (int i = cJSON_GetArraySize(msgs) - 1; i >= 0; i--) {
        const cJSON *m = cJSON_GetArrayItem(msgs, i);
        const char *role = hl_json_str(m, "role");
        if (role && strcmp(role, "user") == 0) return hl_json_str(m, "content");
    }
    return NULL;
}

/* The turn to serve for this agent call (index n), or NULL for the default.
 * A turn with `when_message` (a scenario's "the message is ...") is served
 * when the agent is called with exactly that message. */
static const cJSON *pick_turn(const cJSON *mock, int n, const char *user_message)
{
    const cJSON *temporal = cJSON_GetObjectItemCaseSensitive(mock, "temporal");
    const cJSON *t;
    cJSON_ArrayForEach(t, temporal)
    {
        const char *when = hl_json_str(t, "when_message");
        if (when && user_message && strcmp(when, user_message) == 0) return t;
    }
    if (cJSON_IsArray(temporal)) {
        int len = cJSON_GetArraySize(temporal);
        if (len == 0) return NULL;
        return cJSON_GetArrayItem(temporal, n < len ? n : len - 1);
    }
    return mock;
}

/* A turn's text: its message, or its structured data as JSON text. */
static char *turn_content(const cJSON *turn)
{
    const char *msg = hl_json_str(turn, "message");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(turn, "data");
    if (data) return cJSON_PrintUnformatted(data);
    if (!msg) msg = hl_json_str(turn, "returns");
    if (!msg) msg = hl_json_str(turn, "value"); /* a Classify mock: {value = "billing"} */
    return msg ? tx_strdup(msg) : tx_strdup("");
}

cJSON *br_mock_chat(void *p, const cJSON *params, const char *model, const br_sink *sink, br_error *err)
{
    br_mock *m = p;
    (void)model;
    const char *agent = hl_json_str(params, "agent");
    if (!agent) agent = "agent";
    const cJSON *mock = cJSON_GetObjectItemCaseSensitive(m->mocks, agent);
    int *turns = turn_counter(m, agent);
    bool follow_up = last_is_tool_result(params);

    const char *error = hl_json_str(mock, "error");
    if (error) {
        strcpy(err->type, "ProviderError");
        snprintf(err->message, sizeof err->message, "%s", error);
        return NULL;
    }
    if (!mock) {
        /* The default mock agent: first turn calls done, later turns are quiet. */
        if (follow_up || *turns > 0 || !tool_offered(params, "done")) {
            if (!follow_up) (*turns)++;
            return completion(m, "", NULL, "stop");
        }
        (*turns)++;
        char reason[200];
        snprintf(reason, sizeof reason, "Mock greeting from %.150s", agent);
        cJSON *calls = cJSON_CreateArray();
        cJSON *call = cJSON_CreateObject();
        cJSON_AddStringToObject(call, "tool", "done");
        cJSON_AddStringToObject(cJSON_AddObjectToObject(call, "args"), "reason", reason);
        cJSON_AddItemToArray(calls, call);
        cJSON *done = completion(m, "", calls, NULL);
        cJSON_Delete(calls);
        return done;
    }
    /* A follow-up after tool results belongs to the turn already served. */
    int n = follow_up && *turns > 0 ? *turns - 1 : (*turns)++;
    const cJSON *turn = pick_turn(mock, n, last_user_message(params));
    char *content = turn ? turn_content(turn) : tx_strdup("");
    const cJSON *calls = follow_up ? NULL : cJSON_GetObjectItemCaseSensitive(turn, "tool_calls");
    /* The message is the turn's answer (result.output), sent with the tool
     * calls, as a real model may: a turn that calls done still answers. The
     * follow-up after the tool results repeats it, without calls. */
    stream_text(sink, content);
    cJSON *done = completion(m, content, calls, NULL);
    tx_free(content);
    return done;
}
