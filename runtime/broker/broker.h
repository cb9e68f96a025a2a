/*
 * broker.h - answers a run's requests on the host: model calls (with the
 * keys, which never leave this zone), allow-listed host tools, time,
 * sleep, people's answers under test, and for each call the policy
 * (allow-lists, budgets, the run's deadline), redaction of every secret it
 * holds from everything it returns, and an audit record.
 *
 * Deny by default: a method or host tool not listed is refused with a typed
 * error. The broker knows nothing of the process it serves: deltas go to
 * the callback of each request, and an interrupt is asked of the callback
 * given to br_set_interrupt.
 *
 * Errors: every request gets exactly one final event ({id, event: "done",
 * data} or {id, event: "error", error: {type, message}}); NULL only when out
 * of memory.
 */
#ifndef TACTUS_BROKER_H
#define TACTUS_BROKER_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "base.h"

typedef struct br_broker br_broker;

/* Streaming output of a request (token deltas, tool-call deltas) as it
 * happens: forwarded to the runtime and shown to the user. */
typedef void (*br_delta_fn)(void *ud, const cJSON *delta);

/* `config` is borrowed and must outlive the broker; `mocks` (the file's
 * Mocks table as JSON, may be NULL) is borrowed too. With `mock_all`, every
 * model call goes to the mock provider, whatever the model string says. */
br_broker *br_broker_new(const cJSON *config, const cJSON *mocks, bool mock_all);
void br_broker_free(br_broker *b);
/* Handles one request {id, method, params} and returns its final event,
 * {id, event: "done", data} or {id, event: "error", error}. Never NULL
 * unless out of memory. */
cJSON *br_handle(br_broker *b, const cJSON *request, br_delta_fn on_delta, void *ud);
/* `tactus test`: `test` (borrowed; the start frame's test object) answers
 * human requests at once (its `human` answers, else the mock defaults) and
 * mocks the agents in its `mocked_agents`; with fixed_now_ms the clock and
 * the random seed are fixed, so every run of a scenario is the same. */
void br_set_test(br_broker *b, const cJSON *test, long long fixed_now_ms);
/* Whether host tool `name` is configured with requires_approval: true, or
 * MCP tool "mcp.SERVER.TOOL" is named by mcp_servers.SERVER.requires_approval. */
bool br_tool_needs_approval(const br_broker *b, const char *name);
/* Where the audit log goes (one JSON line per brokered call; "" for none)
 * and the tenant its records name. */
void br_set_audit(br_broker *b, const char *path, const char *tenant);
/* Where audit records go instead of the file (the audit log of a shared
 * store, runtime/journal): `sink` gets each record, borrowed, after
 * redaction. NULL: the file of br_set_audit. */
typedef void (*br_audit_sink)(void *ud, const cJSON *record);
void br_set_audit_sink(br_broker *b, br_audit_sink sink, void *ud);
/* The record br_audit_answer appends (owned by the caller), for a sink. */
cJSON *br_audit_answer_record(const char *tenant, const char *run_id, const char *request_id,
                              const char *kind, const char *who, const char *status, bool yes);
/* audit.jsonl in the folder of the journal at `store`. */
void br_audit_default_path(const char *store, char *out, size_t cap);
/* Appends the record of a person's answer to a request (`tactus approve`):
 * {time, run, tenant, method: "human.answer", request, kind, decision:
 * status, outcome: approved|denied|answered, by}. */
void br_audit_answer(const char *path, const char *tenant, const char *run_id,
                     const char *request_id, const char *kind, const char *who, const char *status,
                     bool yes);
/* The run and journal position of the effect about to be handled (for the
 * idempotency keys of host command tools). */
void br_set_effect(br_broker *b, const char *run_id, long position);
/* The end of the run's time limit (CLOCK_MONOTONIC ms; 0: none): every
 * wait the broker starts (a model's answer and its retries, a host command,
 * an HTTP tool or model, Sleep) is cut there, so no request outlives the
 * run's --timeout. */
void br_set_deadline(br_broker *b, long long deadline_ms);
/* Counts an llm.chat answered from the journal on replay against the budgets
 * (`result` is the journaled final event), so a run that suspends and
 * resumes spends one budget over its whole life, not one per process. */
void br_count_replayed(br_broker *b, const cJSON *result);
/* What a run's brokered calls used, for its closing line, its records and
 * evaluations: figures of the host, never of the runtime (which could say
 * anything). A cost or a token count that is not known is counted apart
 * and said so, never taken as 0: a 0 would let a call through
 * budgets.cost and make a run or an evaluation look free. */
typedef struct {
    double calls;                           /* model calls answered (live or replayed) */
    double tool_calls;                      /* tool.call requests (counted by the supervisor) */
    double prompt_tokens, completion_tokens; /* of the calls that reported usage */
    double cost_usd;                        /* of the calls whose cost is known */
    double unknown_calls;     /* calls whose provider reported no usage: tokens and cost unknown */
    double unpriced_calls;    /* calls with tokens whose model has no price: cost unknown */
    char unpriced_model[128]; /* the first such model: "cost unknown (MODEL)" */
    double infra_errors;      /* real provider calls that failed after retries */
    char infra_error[512];    /* the last such failure, "Type: message" */
} br_usage;

void br_get_usage(const br_broker *b, br_usage *out);
/* Whether every call's tokens (and then every call's cost) are known. */
bool br_usage_tokens_known(const br_usage *u);
bool br_usage_cost_known(const br_usage *u);
/* Adds the usage of an llm.chat's final event (as the journal records it:
 * {event: "done", data: {usage: {prompt_tokens, completion_tokens,
 * cost_usd, model} or {unknown: true}}}); other events add nothing. */
void br_usage_add(br_usage *u, const cJSON *result);
/* Adds `more` into `into` (an evaluation's runs, a run and its judge). */
void br_usage_sum(br_usage *into, const br_usage *more);
/* {model_calls, tool_calls, tokens, prompt_tokens, completion_tokens,
 * cost_usd}: cost_usd null with `cost_unknown` saying why when a call had
 * no price or no usage; tokens null with `calls_without_usage` and
 * `tokens_known` when a provider reported none (docs/run.md). */
cJSON *br_usage_json(const br_usage *u);
/* "3 model calls, 1234 tokens (1000 in, 234 out), $0.001234; 2 tool calls",
 * with "cost unknown (...)" or "tokens unknown (...)" where not known. */
void br_usage_text(const br_usage *u, char *out, size_t cap);
/* The built-in price table (docs/broker.md): fills up to cap entries of
 * the arrays (any may be NULL) and returns the table's length. */
size_t br_price_table(const char **models, double *in, double *out, size_t cap);

/* How the broker learns that the run is stopping (Ctrl-C, a worker's drain
 * whose grace period ran out, a lost lease): asked at least every 50 ms
 * while a call is in flight. A Sleep ends early; a host command is cut (its
 * whole process group killed and reaped), a model call or an HTTP tool
 * aborted (retries too), an MCP call cancelled, and the call's final event
 * is the error BR_INTERRUPTED, which the journal never records
 * (runtime/durable): the call runs again when the run resumes. NULL (the
 * default) never interrupts. */
void br_set_interrupt(br_broker *b, bool (*interrupted)(void *ud), void *ud);
/* The error type of a call cut by the interrupt. */
#define BR_INTERRUPTED "Interrupted"

#endif
