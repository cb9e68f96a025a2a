/*
 * sandbox.h - how a run's runtime is started, isolated and checked: a
 * launch plan made from the (trusted) configuration, validated before
 * anything touches the system (bubblewrap's discipline), with two backends
 * behind it: a plain child process (--no-sandbox) and a Docker container
 * (optionally under gVisor); the FROM-scratch image; the seccomp profile;
 * the files of the procedure's folder closed to it; `sandbox doctor`.
 *
 * Policy (what is mounted, which limits) comes from the caller's
 * configuration; this module only refuses what is unsafe, and on any doubt
 * fails closed.
 *
 * Errors: tx_status, TX_EINVAL with a message for a configuration that
 * cannot be run safely.
 */
#ifndef TACTUS_SANDBOX_H
#define TACTUS_SANDBOX_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "base.h"
#include "hostlib.h"

/* ---- launch plans (sb_launch.c, sb_docker.c, sb_remote.c) ------------------------------------------------------------------ */

/* A container's name: "tactus-", the run id, "-" and 8 random hex digits.
 * Run ids repeat (tactus test derives them from the file and scenario), so
 * without the suffix two invocations at once would take each other's names
 * and kill each other's containers. */
#define SB_NAME_CAP 128

/* How the runtime process is started: a plan, validated before anything
 * runs (bubblewrap's discipline). */
typedef struct {
    char **argv;          /* NULL-terminated; argv[0] is looked up in PATH */
    size_t argc, cap;
    char **envp;          /* NULL-terminated; empty for the plain backend */
    char cwd[4096];       /* working directory of the process, "" to keep */
    char workspace[4096]; /* the workspace as the runtime sees it */
    char container[SB_NAME_CAP]; /* Docker container name, "" for the plain backend */
    char memory[32];      /* the container's memory limit, for messages */
    char scratch[64];     /* where a pooled run writes (start.scratch), "" for the workspace */
} sb_launch;

/* A remote broker (sandbox.broker_transport: tcp|tls): where tactus-connect
 * connects, how it checks the broker, and where runs are registered. */
typedef struct {
    char endpoint[600];   /* tcp://HOST:PORT or tls://HOST:PORT */
    char ca[4096];        /* CA file (tls) */
    char server_name[256]; /* name the certificate must carry; "" = the host */
    char control[4096];   /* control socket of `tactus broker serve` */
    char connect_exe[4096]; /* tactus-connect on this machine */
} sb_remote;

/* Reads sandbox.broker_transport, broker_host (default 127.0.0.1, or
 * host.docker.internal in Docker), broker_port, broker_ca_file,
 * broker_server_name and broker_control. *remote is false for stdio (the
 * default). TX_EINVAL with the message of inventory F.1 or what is missing. */
tx_status sb_remote_config(const cJSON *config, bool docker, sb_remote *r, bool *remote, char *err,
                           size_t errlen);
/* --no-sandbox with a remote broker: tactus-connect in front of the runtime. */
tx_status sb_launch_plain_remote(const sb_remote *r, const char *runtime_exe, const char *workspace,
                                 sb_launch *l);
/* --no-sandbox: tactus-runtime as a child with an empty environment. */
tx_status sb_launch_plain(const char *runtime_exe, const char *workspace, sb_launch *l);
/* Docker: `docker run` of the sandbox image with the sandbox.* configuration
 * (inventory F.1): network none, read-only root, tmpfs /tmp, no
 * capabilities, no-new-privileges, pids/memory/cpu limits, a non-root user,
 * the procedure's folder at /workspace, volumes, env without secrets (a
 * refused name is reported on `warn`). TX_EINVAL with a message on a bad
 * configuration. */
tx_status sb_launch_docker(const cJSON *config, const char *image, const char *proc_dir,
                           const char *run_id, sb_launch *l, FILE *warn, char *err, size_t errlen);
/* The container's seccomp allow-list (JSON; free with cJSON_free): sockets
 * only when `network` (tactus-connect, remote broker). NULL on ENOMEM. */
char *sb_seccomp_profile(bool network);
/* sandbox.workspace_quota in bytes (a number, or a size like 256m), 0 when
 * unset or unreadable (the runtime's default, 256 MiB, then applies). */
double sb_workspace_quota(const cJSON *config);
/* The same with a remote broker: tactus-connect (static) and the CA file are
 * mounted read-only and run in front of the runtime. */
tx_status sb_launch_docker_remote(const cJSON *config, const char *image, const char *proc_dir,
                                  const char *run_id, const sb_remote *r, sb_launch *l, FILE *warn,
                                  char *err, size_t errlen);
/* The same container configuration, running tactus-probe (mounted read-only
 * at /probe) with `args` instead of the runtime: for sandbox doctor and the
 * OS-level escape tests, which must see exactly what a run sees. */
tx_status sb_launch_docker_probe(const cJSON *config, const char *image, const char *proc_dir,
                                 const char *run_id, const char *probe_exe,
                                 const char *const *args, bool pooled, sb_launch *l, FILE *warn,
                                 char *err, size_t errlen);
/* Runs a launch plan to completion (no protocol): stdout and stderr are
 * captured (capped), the container is stopped after timeout_ms. Returns the
 * exit status, -1 on timeout. */
int sb_launch_capture(const sb_launch *l, tx_buf *out, tx_buf *err, int timeout_ms);
/* Stops the container (if any) of a launch; used on timeout and Ctrl-C. */
void sb_launch_stop(const sb_launch *l);
void sb_launch_free(sb_launch *l);

/* Whether a Docker daemon answers; if not, the reason (inventory F.2). */
bool sb_docker_available(char *reason, size_t cap);

typedef enum { SB_IMAGE_MISSING, SB_IMAGE_STALE, SB_IMAGE_CURRENT } sb_image_status;
#define SB_IMAGE_REPOSITORY "tactus-sandbox"
/* sandbox.image when configured, else tactus-sandbox:<version>-<12 hex of
 * the runtime's SHA-256>: each build has its own image, so builds sharing
 * a dockerd never rebuild each other's (runtime_exe unreadable: the
 * version alone). */
void sb_image_name(const cJSON *config, const char *runtime_exe, char *out, size_t cap);
sb_image_status sb_image_state(const char *image, const char *runtime_exe, char *detail,
                                      size_t cap);
/* Builds the image FROM scratch: tactus-runtime, the shared objects it
 * loads, empty /workspace and /tmp; labels tactus.version,
 * tactus.runtime_sha256 and tactus.runtime_path (the runtime's realpath). */
tx_status sb_build_image(const char *image, const char *runtime_exe, const char *probe_exe,
                                 FILE *log, char *err, size_t errlen);
/* Removes the sandbox images (label tactus.runtime_sha256) no build uses:
 * not `current` (this build's image name, may be NULL), and not one whose
 * recorded runtime still exists with the image's hash; images of an older
 * tactus with a name (no recorded runtime) only with `all`. Never forced:
 * an image a container uses stays (TX_EIO, counted in err). Each decision
 * is a line on `out` (may be NULL); dry_run removes nothing. */
tx_status sb_image_prune(const char *current, bool all, bool dry_run, FILE *out, char *err,
                         size_t errlen);

/* ---- pooled containers (sb_pool.c) ---------------------------------------------------------
 * `tactus test` and `tactus eval` make many short runs of one project: one
 * container per worker serves them all, each run a fresh tactus-runtime
 * process inside it (started by tactus-pool, runtime/pool/pool.c), with
 * the same limits and flags as a run's own container. The project folder
 * is read-only there and each run writes to a scratch tmpfs wiped after
 * it, so no run sees another's files; a run that does not end cleanly
 * retires its container. Files of different projects never share one (a
 * container serves plans equal to the one it was started with). */

#define SB_SCRATCH "/scratch"

/* Before each run the host sends the pool "run <nonce>\n"; the pool's
 * run.exit carries the nonce, which the runtime never sees (a run.exit
 * without it is forged). */
#define SB_POOL_NONCE_HEX  32
#define SB_POOL_HEADER_LEN (4 + SB_POOL_NONCE_HEX + 1)
/* A fresh nonce and its header line; false when no randomness. */
bool sb_pool_header(char nonce[SB_POOL_NONCE_HEX + 1], char header[SB_POOL_HEADER_LEN + 1]);

/* The plan of a pooled container: sb_launch_docker's, with the workspace
 * read-only, a scratch tmpfs (sized by sandbox.workspace_quota) at
 * SB_SCRATCH, and tactus-pool (`pool_exe`, static, mounted read-only at
 * /pool) serving tactus-runtime; named `name`. */
tx_status sb_launch_docker_pooled(const cJSON *config, const char *image, const char *proc_dir,
                                  const char *name, const char *pool_exe, sb_launch *l, FILE *warn,
                                  char *err, size_t errlen);

typedef struct sb_pool sb_pool;

/* A run's way into a pooled container. */
typedef struct {
    hl_child io;         /* the container's stdin, stdout, stderr (not to be closed) */
    char container[SB_NAME_CAP]; /* for sb_launch_stop-like kills */
    void *slot;          /* the pool's */
} sb_pooled;

/* Thread-safe; sb_pool_free stops every container it started. */
sb_pool *sb_pool_new(void);
void sb_pool_free(sb_pool *p);
/* An idle container started from a plan equal to `plan` (names aside), or
 * a new one started now. TX_EIO with a message when docker cannot start it. */
tx_status sb_pool_take(sb_pool *p, const sb_launch *plan, sb_pooled *r, char *err, size_t cap);
/* Gives a container back after a run: kept for the next run when
 * `reusable` (the run finished and the server reported its exit), else
 * killed and removed. */
void sb_pool_give(sb_pool *p, sb_pooled *r, bool reusable);

/* ---- warm containers for tactus run (sb_warm.c) ------------------------------------------
 * sandbox.warm: N keeps N containers of a procedure's exact plan started,
 * their runtime waiting, each held by a detached keeper process
 * (`tactus sandbox __keep`) on a private Unix socket; a run claims one and
 * gets the container's stdin, stdout and stderr (SCM_RIGHTS). One container
 * serves one run; an unclaimed one ends after sandbox.warm_idle seconds. */

typedef struct {
    hl_child io;        /* the container's streams (pid -1: the keeper's child) */
    int sock;           /* to the keeper: how the container ended comes here */
    char container[64]; /* its name, for docker kill */
} sb_warm;

/* SHA-256 of a plan's arguments (names aside) and environment. */
void sb_plan_hash(const sb_launch *l, char hex[65]);
/* $XDG_RUNTIME_DIR/tactus/warm (else ~/.local/state/tactus/warm), made
 * 0700, opened: its descriptor, or -1 when it is not the user's own
 * private folder or neither variable is set. Its path goes to `out`. */
int sb_warm_dir(char *out, size_t cap);
/* A warm container started from an equal plan, claimed for this run. */
bool sb_warm_claim(const sb_launch *plan, sb_warm *w);
/* How the claimed container ended (waitpid's encoding), within ms. */
bool sb_warm_wait(sb_warm *w, int *wstatus, int ms);
/* docker kill of the claimed container (a run that did not finish). */
void sb_warm_stop(const sb_warm *w);
void sb_warm_release(sb_warm *w);
/* How many keepers wait with this plan. */
int sb_warm_count(const sb_launch *plan);
/* Starts a detached keeper of one container of `plan` (returns at once). */
void sb_warm_spawn(const sb_launch *plan, const char *tactus_exe, int idle_s);
/* The keeper itself (`tactus sandbox __keep`): returns its exit status. */
int sb_warm_keep(const char *dir, const char *hash, int idle_s, char *const argv[],
                 char *const envp[], const char *container);

/* ---- the workspace (sb_workspace.c) ------------------------------------------------------ */

/* A file or folder of the host's that no procedure may write: what it is
 * ("journal", "API tokens") and where. */
typedef struct {
    const char *what, *path;
} sb_host_place;

/* Refuses a workspace (the procedure's folder, which the procedure may
 * write) that holds what the host reads or keeps: the user's configuration
 * folder, /etc/tactus, the data folder with the journal and its key, the
 * files $TACTUS_TOKENS and $TACTUS_AUDIT name, and each of the `n_also`
 * places of `also` (a journal's folder given with --store, serve's tokens
 * file; a NULL path is skipped). TX_EINVAL with the message. */
tx_status sb_check_workspace(const char *workspace, const sb_host_place *also, size_t n_also, char *err,
                             size_t cap);

/* ---- starting, stopping, finding the runtime (sb_launch.c) ----------------------------------- */

/* Starts a plan's process, its stdin, stdout and stderr on pipes (the
 * protocol runs over them). */
tx_status sb_launch_start(const sb_launch *l, hl_child *c);
/* Where tactus-runtime is: $TACTUS_RUNTIME, else beside the running binary. */
tx_status sb_find_runtime(char *out, size_t cap);

/* ---- doctor (sb_doctor.c) ---------------------------------------------------------------- */

typedef struct {
    cJSON *report;    /* report mode: one {"ok", "detail"} per check, judged; NULL: none came */
    tx_buf output;    /* the probe's standard output (a probe mode's own output) */
    tx_buf errors;    /* its standard error */
    int exit_status;  /* the probe's exit status, -1 when it was stopped on timeout */
    char memory[32];  /* the container's memory limit */
} sb_doctor_result;

/* Runs tactus-probe (`probe_exe`) in the exact container a run of a
 * procedure in `dir` gets under `config`, and judges its report (network,
 * secrets, root_filesystem, scratch_space, host_files, capabilities, user,
 * no_new_privileges, seccomp, pids, memory, kernel) for the configured OCI
 * runtime. With `probe_args`, the probe runs that mode instead (the escape
 * tests). `pooled`: in the container of sb_launch_docker_pooled (the
 * workspace read-only, the scratch tmpfs). TX_EINVAL with a message when
 * the configuration cannot run. */
tx_status sb_doctor(const cJSON *config, const char *image, const char *dir,
                            const char *probe_exe, const char *const *probe_args, bool pooled,
                            sb_doctor_result *r, FILE *warn, char *err, size_t errlen);
void sb_doctor_result_free(sb_doctor_result *r);

#endif
