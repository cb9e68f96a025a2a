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
#include "hostlib.h"

/* ---- launching (th_sandbox.c) ------------------------------------------------------------------ */

/* How the runtime process is started: a plan, validated before anything
 * runs (bubblewrap's discipline). */
typedef struct {
    char **argv;          /* NULL-terminated; argv[0] is looked up in PATH */
    size_t argc, cap;
    char **envp;          /* NULL-terminated; empty for the plain backend */
    char cwd[4096];       /* working directory of the process, "" to keep */
    char workspace[4096]; /* the workspace as the runtime sees it */
    char container[64];   /* Docker container name, "" for the plain backend */
    char memory[32];      /* the container's memory limit, for messages */
} th_launch;

/* A remote broker (sandbox.broker_transport: tcp|tls): where tactus-connect
 * connects, how it checks the broker, and where runs are registered. */
typedef struct {
    char endpoint[600];   /* tcp://HOST:PORT or tls://HOST:PORT */
    char ca[4096];        /* CA file (tls) */
    char server_name[256]; /* name the certificate must carry; "" = the host */
    char control[4096];   /* control socket of `tactus broker serve` */
    char connect_exe[4096]; /* tactus-connect on this machine */
} th_remote;

/* Reads sandbox.broker_transport, broker_host (default 127.0.0.1, or
 * host.docker.internal in Docker), broker_port, broker_ca_file,
 * broker_server_name and broker_control. *remote is false for stdio (the
 * default). TX_EINVAL with the message of inventory F.1 or what is missing. */
tx_status th_remote_config(const cJSON *config, bool docker, th_remote *r, bool *remote, char *err,
                           size_t errlen);
/* --no-sandbox with a remote broker: tactus-connect in front of the runtime. */
tx_status th_launch_plain_remote(const th_remote *r, const char *runtime_exe, const char *workspace,
                                 th_launch *l);
/* --no-sandbox: tactus-runtime as a child with an empty environment. */
tx_status th_launch_plain(const char *runtime_exe, const char *workspace, th_launch *l);
/* Docker: `docker run` of the sandbox image with the sandbox.* configuration
 * (inventory F.1): network none, read-only root, tmpfs /tmp, no
 * capabilities, no-new-privileges, pids/memory/cpu limits, a non-root user,
 * the procedure's folder at /workspace, volumes, env without secrets (a
 * refused name is reported on `warn`). TX_EINVAL with a message on a bad
 * configuration. */
tx_status th_launch_docker(const cJSON *config, const char *image, const char *proc_dir,
                           const char *run_id, th_launch *l, FILE *warn, char *err, size_t errlen);
/* The container's seccomp allow-list (JSON; free with cJSON_free): sockets
 * only when `network` (tactus-connect, remote broker). NULL on ENOMEM. */
char *th_seccomp_profile(bool network);
/* sandbox.workspace_quota in bytes (a number, or a size like 256m), 0 when
 * unset or unreadable (the runtime's default, 256 MiB, then applies). */
double th_workspace_quota(const cJSON *config);
/* The same with a remote broker: tactus-connect (static) and the CA file are
 * mounted read-only and run in front of the runtime. */
tx_status th_launch_docker_remote(const cJSON *config, const char *image, const char *proc_dir,
                                  const char *run_id, const th_remote *r, th_launch *l, FILE *warn,
                                  char *err, size_t errlen);
/* The same container configuration, running tactus-probe (mounted read-only
 * at /probe) with `args` instead of the runtime: for sandbox doctor and the
 * OS-level escape tests, which must see exactly what a run sees. */
tx_status th_launch_docker_probe(const cJSON *config, const char *image, const char *proc_dir,
                                 const char *run_id, const char *probe_exe,
                                 const char *const *args, th_launch *l, FILE *warn, char *err,
                                 size_t errlen);
/* Runs a launch plan to completion (no protocol): stdout and stderr are
 * captured (capped), the container is stopped after timeout_ms. Returns the
 * exit status, -1 on timeout. */
int th_launch_capture(const th_launch *l, tx_buf *out, tx_buf *err, int timeout_ms);
/* Stops the container (if any) of a launch; used on timeout and Ctrl-C. */
void th_launch_stop(const th_launch *l);
void th_launch_free(th_launch *l);

/* Whether a Docker daemon answers; if not, the reason (inventory F.2). */
bool th_docker_available(char *reason, size_t cap);

typedef enum { TH_IMAGE_MISSING, TH_IMAGE_STALE, TH_IMAGE_CURRENT } th_image_state;
void th_sandbox_image_name(const cJSON *config, char *out, size_t cap);
th_image_state th_sandbox_image_state(const char *image, const char *runtime_exe, char *detail,
                                      size_t cap);
/* Builds the image FROM scratch: tactus-runtime, the shared objects it
 * loads, empty /workspace and /tmp; labels tactus.version and
 * tactus.runtime_sha256. */
tx_status th_sandbox_build_image(const char *image, const char *runtime_exe, const char *probe_exe,
                                 FILE *log, char *err, size_t errlen);

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

/* ---- durability (th_durable.c) ------------------------------------------------------------------ */

typedef struct tj_journal tj_journal;
typedef struct th_durable th_durable;

/* Journals the effects of run `run_id` (tenant-scoped); all borrowed. */
th_durable *th_durable_new(tj_journal *j, const char *run_id, const char *tenant);
void th_durable_free(th_durable *d);
/* Answers a request from the journal when it is recorded at this position
 * (failing closed if it differs), else performs it through the broker and
 * records it before returning. *fatal is set when the run must stop;
 * fail_msg then says why. */
cJSON *th_durable_handle(th_durable *d, br_broker *broker, const cJSON *request,
                         br_delta_fn on_delta, void *ud, char *fail_msg, size_t cap, bool *fatal);

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
    const th_launch *launch; /* how to start the runtime (plain or Docker) */
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

/* Where tactus-runtime is: $TACTUS_RUNTIME, else beside the running binary. */
tx_status th_find_runtime(char *out, size_t cap);

#endif
