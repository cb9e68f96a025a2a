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
                                 const char *const *args, sb_launch *l, FILE *warn, char *err,
                                 size_t errlen);
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

/* ---- the workspace (sb_workspace.c) ------------------------------------------------------ */

/* Refuses a workspace (the procedure's folder, which the procedure may
 * write) that holds what the host reads or keeps: the
 * user's configuration folder, /etc/tactus, the data folder with the
 * journal and its key, and each of `also` (NULL-terminated, may be NULL:
 * a journal's folder given with --store). TX_EINVAL with the message. */
tx_status sb_check_workspace(const char *workspace, const char *const *also, char *err, size_t cap);

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
 * tests). TX_EINVAL with a message when the configuration cannot run. */
tx_status sb_doctor(const cJSON *config, const char *image, const char *dir,
                            const char *probe_exe, const char *const *probe_args,
                            sb_doctor_result *r, FILE *warn, char *err, size_t errlen);
void sb_doctor_result_free(sb_doctor_result *r);

#endif
