/*
 * supervisor.h - the life of a run: start tactus-runtime as a launch plan
 * says (runtime/sandbox), feed it its start frame, pump the framed protocol
 * over its stdio, route each request to durable replay (runtime/durable) or
 * straight to the broker (runtime/broker), show the user what happens, and
 * stop it at its limits.
 *
 * Threat model: the runtime and everything it sends are untrusted. The host
 * never forwards its environment or a secret to the runtime, validates
 * every request, caps every size, and fails the run closed on any protocol
 * error.
 *
 * Errors: tx_status for failures of the host itself; a failed *run* is a
 * result (sup_run_result.status), not an error.
 */
#ifndef TACTUS_SUPERVISOR_H
#define TACTUS_SUPERVISOR_H

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>

#include "base.h"
#include "broker.h"
#include "journal.h"
#include "sandbox.h"

typedef enum { SUP_COMPLETED = 0, SUP_FAILED, SUP_WAITING } sup_status;

typedef struct {
    long long instructions;
    long long memory_bytes;
    long long wall_ms;
} sup_limits;

/* What the user sees while a run goes on (stderr when stdout has the result). */
typedef struct {
    FILE *out;
    bool verbose; /* runtime stderr and debug logs too */
    bool color;
} sup_progress;

typedef struct {
    const char *path;        /* the procedure file, as given (used in messages) */
    const char *source;
    size_t source_len;
    const char *procedure;   /* procedure to run, "main" by default */
    const cJSON *inputs;     /* object */
    const cJSON *config;     /* merged configuration */
    const cJSON *mocks;      /* the file's Mocks as JSON, or NULL */
    const sb_launch *launch; /* how to start the runtime (plain or Docker) */
    const char *run_id;      /* the run's id, or NULL to make one */
    tj_journal *journal;     /* journal effects (durable run), or NULL */
    const char *audit_path;  /* audit log (JSON lines), or NULL */
    const char *tenant;      /* with journal */
    bool mock_all;           /* serve every model call from the mock provider */
    /* `tactus test`: the scenario (sent to the runtime as start.test; see
     * br_set_test) and the fixed clock; NULL/0 for a normal run. */
    const cJSON *test;
    long long fixed_now_ms;
    bool quiet_signals;      /* leave SIGINT/SIGTERM alone (the caller handles them) */
    /* Set (by another thread) when this run must stop now: `tactus worker`
     * lost the run's lease, or its drain's grace period ran out. The run
     * ends failed with "interrupted"; NULL: only SIGINT/SIGTERM stop it. */
    volatile sig_atomic_t *stop;
    /* Remote broker: the run is registered at this control socket of
     * `tactus broker serve`, which answers its effects; `launch` then runs
     * tactus-connect, which gets the run's token on its standard input. */
    const char *remote_control;
    /* A pooled container's server (tactus test/eval workers): the run goes
     * over its streams instead of a process started from `launch` (which
     * still names the container and its scratch folder). */
    const sb_pooled *pooled;
    /* A warm container claimed for this run (sandbox.warm): its streams
     * instead of a process started from `launch`. */
    sb_warm *warm;
    sup_limits limits;
    sup_progress progress;
} sup_run_options;

typedef struct {
    sup_status status;
    char run_id[40];
    /* What the run's brokered calls used (`tactus run`'s closing line, the
     * `usage` of --json, evaluations): model calls, tokens and cost as the
     * host's broker counted and priced them (not the runtime), tool calls as
     * the supervisor saw them, live or replayed from the journal. Tokens and
     * costs that are not known are counted apart, never as 0. Zero for a run
     * whose effects a remote broker answered. */
    br_usage usage;
    cJSON *output;  /* owned; NULL when none */
    cJSON *error;   /* owned; {message, file, line, traceback} or NULL */
    cJSON *pending; /* owned; array of pending human requests, or NULL */
    cJSON *report;  /* owned; under `tactus test`, the runtime's facts of the run */
    bool reusable;  /* pooled: the run ended cleanly, the container may serve another */
} sup_run_result;

/* Runs the procedure in tactus-runtime, started as `opt->launch` says: the
 * same protocol over the child's stdio for both backends. */
tx_status sup_run(const sup_run_options *opt, sup_run_result *res);
void sup_run_result_free(sup_run_result *res);

/* SIGINT/SIGTERM stop the runs being supervised. sup_run installs this
 * itself unless quiet_signals; a caller running many runs on threads (the
 * test runner) installs it once around all of them instead. */
void sup_catch_interrupts(struct sigaction *old_int, struct sigaction *old_term);
void sup_release_interrupts(const struct sigaction *old_int, const struct sigaction *old_term);
bool sup_interrupted(void);

#endif
