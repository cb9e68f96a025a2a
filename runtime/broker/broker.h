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
/* Whether host tool `name` is configured with requires_approval: true. */
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
/* How the broker learns that a wait should end early (Ctrl-C): asked while
 * a Sleep waits; NULL (the default) never interrupts. */
void br_set_interrupt(br_broker *b, bool (*interrupted)(void *ud), void *ud);

#endif
