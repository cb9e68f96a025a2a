/*
 * host.h - the trusted side of a run: the supervisor that starts and feeds
 * tactus-runtime, the broker that answers its effects (model providers with
 * the keys, allow-listed host tools, time, randomness, people), and the
 * configuration cascade.
 *
 * Threat model: the runtime and everything it sends are untrusted. The host
 * never forwards its environment or a secret to the runtime, validates every
 * request, caps every size, and fails the run closed on any protocol error.
 *
 * Errors: tx_status for failures of the host itself; a failed *run* is a
 * result (th_run_result.status), not an error.
 */
#ifndef TACTUS_HOST_H
#define TACTUS_HOST_H

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>

#include "base.h"
#include "broker.h"
#include "config.h"
#include "durable.h"
#include "hostlib.h"
#include "sandbox.h"

/* ---- the remote broker (th_serve.c) ------------------------------------------------------------ */

typedef struct {
    const cJSON *config;    /* providers, host tools, budgets: the broker's own */
    const char *listen;     /* tcp://HOST:PORT or tls://HOST:PORT (port 0: any) */
    const char *cert, *key; /* PEM files, for tls:// */
    const char *control;    /* the Unix socket where runs are registered */
    const char *audit_path; /* audit log, or NULL */
    FILE *log;              /* one line per event, or NULL */
    void (*ready)(void *ud, const char *port); /* called once listening */
    void *ready_ud;
} th_serve_options;

/* Serves until SIGINT/SIGTERM (see th_serve.c for the protocol). TX_EINVAL
 * with a message for a configuration that cannot serve. */
tx_status th_serve(const th_serve_options *o, char *err, size_t cap);

/* ---- the supervisor (th_supervisor.c) ------------------------------------------------------- */

typedef enum { TH_COMPLETED = 0, TH_FAILED, TH_WAITING } th_status;

typedef struct {
    long long instructions;
    long long memory_bytes;
    long long wall_ms;
} th_limits;

/* What the user sees while a run goes on (stderr when stdout has the result). */
typedef struct {
    FILE *out;
    bool verbose; /* runtime stderr and debug logs too */
    bool color;
} th_progress;

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
    /* Remote broker: the run is registered at this control socket of
     * `tactus broker serve`, which answers its effects; `launch` then runs
     * tactus-connect, which gets the run's token on its standard input. */
    const char *remote_control;
    th_limits limits;
    th_progress progress;
} th_run_options;

typedef struct {
    th_status status;
    char run_id[40];
    cJSON *output;  /* owned; NULL when none */
    cJSON *error;   /* owned; {message, file, line, traceback} or NULL */
    cJSON *pending; /* owned; array of pending human requests, or NULL */
    cJSON *report;  /* owned; under `tactus test`, the runtime's facts of the run */
} th_run_result;

/* Runs the procedure in tactus-runtime, started as `opt->launch` says: the
 * same protocol over the child's stdio for both backends. */
tx_status th_run(const th_run_options *opt, th_run_result *res);
void th_run_result_free(th_run_result *res);

/* SIGINT/SIGTERM stop the runs being supervised. th_run installs this
 * itself unless quiet_signals; a caller running many runs on threads (the
 * test runner) installs it once around all of them instead. */
void th_catch_interrupts(struct sigaction *old_int, struct sigaction *old_term);
void th_release_interrupts(const struct sigaction *old_int, const struct sigaction *old_term);
bool th_interrupted(void);


#endif
