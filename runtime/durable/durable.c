/*
 * du_durable.c - checkpoint and replay: every effect the runtime asks for is
 * journaled by position and fingerprint before its result reaches the
 * runtime; a resumed run re-executes the procedure from the start and gets
 * recorded effects back from the journal without performing them again.
 *
 * Positions are the host's own count of the run's requests (the runtime's
 * request ids restart with every process). A checkpoint whose function has
 * run is answered `cached`, and the positions its function used are skipped,
 * so the effects after it line up with the journal again.
 *
 * Fail closed: when a replayed request differs from the recorded one at the
 * same position (the procedure or its inputs changed), the run stops with a
 * message naming the position, the .tac line and what changed.
 *
 * What is not in the journal is performed through the du_effects the caller
 * gives (the broker, for the supervisor): replay knows nothing of how an
 * effect is carried out.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "du_internal.h"

#define MAX_CHECKPOINTS 4096

struct du_durable {
    tj_journal *journal;
    const char *run_id;
    const char *tenant;
    long position; /* next journal position */
    /* A position found unrecorded: this process holds the run (its lock or
     * lease), so nothing after it is recorded either and later effects
     * need no look-up (one round trip less each on PostgreSQL). */
    bool past_end;
    long long bytes_used, bytes_cap; /* what the run's effects hold; 0: no cap */
    long checkpoint_pos[MAX_CHECKPOINTS]; /* runtime checkpoint index -> journal position */
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

du_durable *du_durable_new(tj_journal *j, const char *run_id, const char *tenant)
{
    du_durable *d = tx_calloc(1, sizeof *d);
    if (!d) return NULL;
    d->journal = j;
    d->run_id = run_id;
    d->tenant = tenant;
    for (size_t i = 0; i < MAX_CHECKPOINTS; i++) d->checkpoint_pos[i] = -1;
    return d;
}

tx_status du_set_byte_cap(du_durable *d, long long cap)
{
    d->bytes_cap = cap;
    if (cap <= 0) return TX_OK;
    long long used = tj_effect_bytes(d->journal, d->tenant, d->run_id);
    if (used < 0) return TX_EIO;
    d->bytes_used = used;
    return TX_OK;
}

void du_durable_free(du_durable *d)
{
    tx_free(d);
}

static const char *kind_of(const char *method)
{
    if (strcmp(method, "llm.chat") == 0) return "llm";
    if (strcmp(method, "tool.call") == 0) return "tool";
    if (strcmp(method, "human.request") == 0) return "human";
    if (strcmp(method, "clock.now") == 0) return "clock";
    if (strcmp(method, "random.seed") == 0) return "random";
    if (strcmp(method, "checkpoint") == 0) return "checkpoint";
    if (strcmp(method, "timer.sleep") == 0) return "timer";
    return "other";
}

static cJSON *with_id(const cJSON *event, long id)
{
    cJSON *e = cJSON_Duplicate(event, 1);
    if (!e) return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(e, "id");
    cJSON_AddNumberToObject(e, "id", (double)id);
    return e;
}

static cJSON *done_event(long id, cJSON *data)
{
    return tp_event(id, "done", data);
}

static cJSON *error_event(long id, const char *type, const char *message)
{
    return tp_error(id, type, message);
}

/* A journal failure ends the run: the reply, its message in fail_msg.
 * `what` completes "the journal could not ...". */
static cJSON *journal_error(du_durable *d, long id, const char *what, char *fail_msg, size_t cap,
                            bool *fatal)
{
    *fatal = true;
    snprintf(fail_msg, cap, "the journal could not %s: %s", what, tj_last_error(d->journal));
    return error_event(id, "JournalError", fail_msg);
}

/* " (line N)" when the request says where it was made, else "". */
static void line_note(const cJSON *params, char *out, size_t cap)
{
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(params, "line");
    out[0] = '\0';
    if (cJSON_IsNumber(line)) snprintf(out, cap, " (line %d)", line->valueint);
}

/* A request that will never be answered the same way: stop the run. */
static cJSON *diverged(du_durable *d, long id, long position, const char *method,
                       const cJSON *params, const tj_effect *e, char *fail_msg, size_t cap)
{
    char change[1024];
    const cJSON *old_params = cJSON_GetObjectItemCaseSensitive(e->request, "params");
    const char *old_method = hl_json_str(e->request, "method");
    if (old_method && strcmp(old_method, method) != 0)
        snprintf(change, sizeof change, "it was %s, now %s", old_method, method);
    else
        du_describe_change(old_params, params, change, sizeof change);
    char where[64];
    line_note(params, where, sizeof where);
    snprintf(fail_msg, cap,
             "replay diverged at effect %ld%s: the %s request is not the one recorded in run %s: "
             "%s; the procedure or its inputs changed since the run started, so it cannot be "
             "resumed safely (start a new run)",
             position, where, kind_of(method), d->run_id, change);
    return error_event(id, "ReplayMismatch", fail_msg);
}

static cJSON *record_and_return(du_durable *d, long position, const char *method,
                                const cJSON *params, const char *fp, cJSON *reply,
                                long long started, char *fail_msg, size_t cap)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "method", method);
    cJSON_AddItemToObject(req, "params", params ? cJSON_Duplicate(params, 1) : cJSON_CreateObject());
    cJSON *stored = cJSON_Duplicate(reply, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(stored, "id");
    if (d->bytes_cap > 0) {
        /* A procedure that makes the host journal without end fills its
         * disk: the run's effects have a budget of their own. */
        char *rt = cJSON_PrintUnformatted(req), *st_text = cJSON_PrintUnformatted(stored);
        long long add = (long long)(rt ? strlen(rt) : 0) + (long long)(st_text ? strlen(st_text) : 0);
        cJSON_free(rt);
        cJSON_free(st_text);
        if (d->bytes_used + add > d->bytes_cap) {
            snprintf(fail_msg, cap,
                     "the run's journal budget is spent: recording effect %ld (%.1f MiB) would "
                     "pass %.0f MiB (budgets.journal_bytes, set in trusted configuration); the "
                     "run stops here",
                     position, (double)add / 1048576.0, (double)d->bytes_cap / 1048576.0);
            cJSON_Delete(req);
            cJSON_Delete(stored);
            long id = (long)cJSON_GetObjectItemCaseSensitive(reply, "id")->valuedouble;
            cJSON_Delete(reply);
            return error_event(id, "JournalError", fail_msg);
        }
        d->bytes_used += add;
    }
    tx_status st = tj_effect_put(d->journal, d->tenant, d->run_id, position, kind_of(method), fp, req, stored,
                                 now_ms() - started);
    cJSON_Delete(req);
    cJSON_Delete(stored);
    if (st != TX_OK) {
        /* Never hand the runtime a result the journal does not hold. */
        snprintf(fail_msg, cap, "the journal could not record effect %ld: %s", position,
                 tj_last_error(d->journal));
        long id = (long)cJSON_GetObjectItemCaseSensitive(reply, "id")->valuedouble;
        cJSON_Delete(reply);
        return error_event(id, "JournalError", fail_msg);
    }
    return reply;
}

/* A new human request at `position` of this run, bound to the request's
 * fingerprint; the caller adds what its kind needs and puts it. */
static void human_new(const du_durable *d, long position, const char *kind, const cJSON *params,
                      const char *fp, tj_human *h)
{
    memset(h, 0, sizeof *h);
    snprintf(h->id, sizeof h->id, "%s.%ld", d->run_id, position);
    snprintf(h->run_id, sizeof h->run_id, "%s", d->run_id);
    snprintf(h->tenant, sizeof h->tenant, "%s", d->tenant);
    h->position = position;
    snprintf(h->kind, sizeof h->kind, "%s", kind);
    h->request = (cJSON *)params;
    snprintf(h->request_hash, sizeof h->request_hash, "%s", fp);
}

/* human.request: answered from the journal, or recorded as pending. */
static cJSON *human(du_durable *d, long id, long position, const cJSON *params, const char *fp,
                    long long started, char *fail_msg, size_t cap, bool *fatal)
{
    tj_human h;
    tx_status st = tj_human_at(d->journal, d->tenant, d->run_id, position, &h);
    if (st == TX_ENOENT) {
        const char *kind = hl_json_str(params, "kind");
        /* The kinds the DSL asks (stdlib/dsl/effects.lua). A tool approval
         * is the host's own (tool_approval below, from the tool's grant):
         * the runtime may not make one up, with a call of its choosing shown
         * to a person as "the exact call that would run". */
        static const char *const kinds[] = {"approve", "input", "review", "select",
                                            "inputs",  "escalate", "upload", "custom"};
        bool known = !kind;
        for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++) known |= !strcmp(kind, kinds[i]);
        if (!known) {
            char m[160];
            snprintf(m, sizeof m, "a human request of kind '%.40s' is not one the DSL asks", kind);
            return error_event(id, "InvalidRequest", m);
        }
        human_new(d, position, kind ? kind : "input", params, fp, &h);
        const char *msg = hl_json_str(params, "message");
        h.message = (char *)(msg ? msg : "");
        const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(params, "timeout");
        if (cJSON_IsNumber(timeout) && timeout->valuedouble > 0)
            h.deadline_ms = now_ms() + (long long)(timeout->valuedouble * 1000);
        h.default_value = cJSON_GetObjectItemCaseSensitive(params, "default");
        if (tj_human_put(d->journal, &h) != TX_OK)
            return journal_error(d, id, "record the request", fail_msg, cap, fatal);
        char m[160];
        snprintf(m, sizeof m, "request %s is waiting for a person", h.id);
        cJSON *e = error_event(id, "Suspended", m);
        cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(e, "error"), "request_id", h.id);
        return e;
    }
    if (st != TX_OK) return journal_error(d, id, "be read", fail_msg, cap, fatal);
    cJSON *reply = NULL;
    if (strcmp(h.request_hash, fp) != 0) {
        /* Bound approvals: an answer is never applied to a different request. */
        *fatal = true;
        char change[1024];
        du_describe_change(h.request, params, change, sizeof change);
        char where[64];
        line_note(params, where, sizeof where);
        snprintf(fail_msg, cap,
                 "replay diverged at effect %ld%s: human request %s changed since it was made: %s; "
                 "its answer cannot be applied to a different request (start a new run)",
                 position, where, h.id, change);
        reply = error_event(id, "ReplayMismatch", fail_msg);
    } else if (strcmp(h.status, "pending") == 0 && h.deadline_ms && now_ms() >= h.deadline_ms) {
        /* Past its deadline: the declared default, journaled as timed out. */
        cJSON *dflt = h.default_value ? cJSON_Duplicate(h.default_value, 1) : cJSON_CreateNull();
        tj_human_answer(d->journal, d->tenant, h.id, h.request_hash, dflt, "timeout", "timed_out");
        cJSON *data = cJSON_CreateObject();
        cJSON_AddItemToObject(data, "value", dflt);
        cJSON_AddBoolToObject(data, "timed_out", 1);
        reply = record_and_return(d, position, "human.request", params, fp, done_event(id, data),
                                  started, fail_msg, cap);
    } else if (strcmp(h.status, "pending") == 0) {
        char m[160];
        snprintf(m, sizeof m, "request %s is still waiting for a person", h.id);
        reply = error_event(id, "Suspended", m);
        cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(reply, "error"), "request_id", h.id);
    } else {
        cJSON *data = cJSON_CreateObject();
        cJSON_AddItemToObject(data, "value", h.answer ? cJSON_Duplicate(h.answer, 1) : cJSON_CreateNull());
        cJSON_AddBoolToObject(data, "timed_out", strcmp(h.status, "timed_out") == 0);
        reply = record_and_return(d, position, "human.request", params, fp, done_event(id, data),
                                  started, fail_msg, cap);
    }
    tj_human_free(&h);
    return reply;
}

/* A host tool with requires_approval: a person approves this exact call
 * (the tool and its arguments, bound by the request's fingerprint) before it
 * runs. NULL when approved; otherwise the reply (Suspended while waiting, a
 * recorded ToolDenied when denied). */
static cJSON *tool_approval(du_durable *d, long id, long position, const cJSON *params,
                            const char *fp, long long started, char *fail_msg, size_t cap,
                            bool *fatal)
{
    tj_human h;
    tx_status st = tj_human_at(d->journal, d->tenant, d->run_id, position, &h);
    if (st == TX_ENOENT) {
        human_new(d, position, "tool_approval", params, fp, &h);
        char *args = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(params, "args"));
        /* The whole call: a person approves exactly what runs, never a cut. */
        tx_buf msg;
        tx_buf_init(&msg, (size_t)64 * 1024 * 1024);
        const char *tool = hl_json_str(params, "name") ? hl_json_str(params, "name") : "?";
        /* "mcp.SERVER.TOOL": an MCP server's tool, named as its server has it. */
        bool mcp = strncmp(tool, "mcp.", 4) == 0;
        tx_buf_printf(&msg, "Allow %s %s with %s?", mcp ? "MCP tool" : "host tool", mcp ? tool + 4 : tool,
                      args ? args : "{}");
        cJSON_free(args);
        h.message = msg.data ? msg.data : "Allow this host tool call?";
        tx_status put = tj_human_put(d->journal, &h);
        tx_buf_free(&msg);
        if (put != TX_OK)
            return journal_error(d, id, "record the approval request", fail_msg, cap, fatal);
        char m[160];
        snprintf(m, sizeof m, "request %s is waiting for a person to approve the tool call", h.id);
        return error_event(id, "Suspended", m);
    }
    if (st != TX_OK) return journal_error(d, id, "be read", fail_msg, cap, fatal);
    cJSON *reply = NULL;
    if (strcmp(h.request_hash, fp) != 0) {
        *fatal = true;
        char change[1024];
        du_describe_change(h.request, params, change, sizeof change);
        snprintf(fail_msg, cap,
                 "replay diverged at effect %ld: the tool call approved as %s changed: %s; the "
                 "approval cannot be applied to a different call (start a new run)",
                 position, h.id, change);
        reply = error_event(id, "ReplayMismatch", fail_msg);
    } else if (strcmp(h.status, "pending") == 0) {
        char m[160];
        snprintf(m, sizeof m, "request %s is still waiting for a person", h.id);
        reply = error_event(id, "Suspended", m);
    } else if (!cJSON_IsTrue(h.answer)) {
        char m[300];
        snprintf(m, sizeof m, "%s %.100s was denied by %.100s",
                 strncmp(hl_json_str(params, "name") ? hl_json_str(params, "name") : "", "mcp.", 4) == 0
                     ? "MCP tool"
                     : "host tool",
                 hl_json_str(params, "name"),
                 h.answered_by[0] ? h.answered_by : "a person");
        reply = record_and_return(d, position, "tool.call", params, fp,
                                  error_event(id, "ToolDenied", m), started, fail_msg, cap);
    }
    tj_human_free(&h);
    return reply;
}

cJSON *du_handle(du_durable *d, const du_effects *fx, const cJSON *request, du_delta_fn on_delta,
                 void *ud, char *fail_msg, size_t cap, bool *fatal)
{
    *fatal = false;
    long id = (long)cJSON_GetObjectItemCaseSensitive(request, "id")->valuedouble;
    const char *method = hl_json_str(request, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(request, "params");
    long long started = now_ms();

    if (strcmp(method, "checkpoint.commit") == 0) {
        /* Attach the function's result to its checkpoint, and where it ended. */
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(params, "position");
        long cp = cJSON_IsNumber(p) ? (long)p->valuedouble : -1;
        if (cp < 0 || cp >= MAX_CHECKPOINTS || d->checkpoint_pos[cp] < 0)
            return error_event(id, "BadRequest", "checkpoint.commit of an unknown checkpoint");
        cJSON *result = cJSON_CreateObject();
        cJSON_AddBoolToObject(result, "cached", 1);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(params, "result");
        cJSON_AddItemToObject(result, "result", r ? cJSON_Duplicate(r, 1) : cJSON_CreateNull());
        cJSON_AddNumberToObject(result, "end_position", (double)d->position);
        cJSON *stored = cJSON_CreateObject();
        cJSON_AddStringToObject(stored, "event", "done");
        cJSON_AddItemToObject(stored, "data", result);
        tx_status st = tj_effect_set_result(d->journal, d->tenant, d->run_id, d->checkpoint_pos[cp], stored);
        cJSON_Delete(stored);
        if (st != TX_OK) return journal_error(d, id, "record a checkpoint", fail_msg, cap, fatal);
        cJSON *data = cJSON_CreateObject();
        cJSON_AddBoolToObject(data, "ok", 1);
        return done_event(id, data);
    }

    long position = d->position++;
    char fp[65];
    tj_fingerprint(method, params, fp);
    if (strcmp(method, "checkpoint") == 0) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(params, "position");
        long cp = cJSON_IsNumber(p) ? (long)p->valuedouble : -1;
        if (cp >= 0 && cp < MAX_CHECKPOINTS) d->checkpoint_pos[cp] = position;
    }

    tj_effect e = {0};
    if (!d->past_end && tj_effect_get(d->journal, d->tenant, d->run_id, position, &e) != TX_OK)
        return journal_error(d, id, "be read", fail_msg, cap, fatal);
    if (!e.found) d->past_end = true;
    if (e.found) {
        cJSON *reply;
        if (strcmp(e.fingerprint, fp) != 0) {
            *fatal = true;
            reply = diverged(d, id, position, method, params, &e, fail_msg, cap);
        } else {
            reply = with_id(e.result, id);
            /* Budgets count the whole run: what replay answers was spent. */
            if (strcmp(method, "llm.chat") == 0 && fx->replayed) fx->replayed(fx->ud, e.result);
            /* A checkpoint answered from the journal: skip what its function used. */
            const cJSON *data = cJSON_GetObjectItemCaseSensitive(e.result, "data");
            const cJSON *end = cJSON_GetObjectItemCaseSensitive(data, "end_position");
            if (strcmp(method, "checkpoint") == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "cached")) &&
                cJSON_IsNumber(end)) {
                d->position = (long)end->valuedouble;
                cJSON *rd = cJSON_GetObjectItemCaseSensitive(reply, "data");
                cJSON_DeleteItemFromObjectCaseSensitive(rd, "end_position");
            }
        }
        tj_effect_free(&e);
        return reply;
    }
    tj_effect_free(&e);

    if (strcmp(method, "human.request") == 0)
        return human(d, id, position, params, fp, started, fail_msg, cap, fatal);
    if (strcmp(method, "tool.call") == 0 &&
        fx->needs_approval(fx->ud, hl_json_str(params, "name"))) {
        cJSON *gate = tool_approval(d, id, position, params, fp, started, fail_msg, cap, fatal);
        if (gate) return gate; /* waiting, denied, or failed; NULL: approved, go on */
    }

    cJSON *reply;
    if (strcmp(method, "checkpoint") == 0) {
        cJSON *data = cJSON_CreateObject();
        cJSON_AddBoolToObject(data, "cached", 0);
        reply = done_event(id, data);
    } else {
        reply = fx->perform(fx->ud, d->run_id, position, request, on_delta, ud);
        if (!reply) return NULL;
        const char *type = hl_json_str(cJSON_GetObjectItemCaseSensitive(reply, "error"), "type");
        if (type && strcmp(type, DU_INTERRUPTED) == 0) {
            /* Cut before it finished (the run is stopping): not a result.
             * Nothing is recorded, so the run stays exactly at this effect
             * and its resume performs it again, with the same idempotency
             * key (RUN.POSITION); the run stops here. */
            d->position = position;
            *fatal = true;
            char where[64];
            line_note(params, where, sizeof where);
            snprintf(fail_msg, cap,
                     "interrupted: the %s call at effect %ld%s was cut before it finished; it is "
                     "not recorded, and runs again when the run resumes",
                     kind_of(method), position, where);
            return reply;
        }
    }
    reply = record_and_return(d, position, method, params, fp, reply, started, fail_msg, cap);
    const char *type = hl_json_str(cJSON_GetObjectItemCaseSensitive(reply, "error"), "type");
    if (type && strcmp(type, "JournalError") == 0) *fatal = true;
    return reply;
}
