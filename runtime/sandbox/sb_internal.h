/*
 * sb_internal.h - what the files of runtime/sandbox/ share (not a public
 * header).
 */
#ifndef TACTUS_SB_INTERNAL_H
#define TACTUS_SB_INTERNAL_H

#include "config.h"
#include "hostlib.h"
#include "sandbox.h"

#define SB_PROTECT_MAX   512 /* mounts; more fails closed */
/* Folders below the procedure's folder walked for protected files; a deeper
 * one fails the run (its files could not be mounted read-only). */
#define SB_PROTECT_DEPTH 32
/* sandbox.limits.pids when unset; under gVisor the host's cgroup allows
 * gVisor's own kernel SB_PIDS_GVISOR_KERNEL tasks plus SB_PIDS_GVISOR_EACH
 * per process inside (sb_docker.c). */
#define SB_PIDS_DEFAULT       128
#define SB_PIDS_GVISOR_KERNEL 128
#define SB_PIDS_GVISOR_EACH   8

/* Appends one argument (a copy) to the plan's argv, kept NULL-terminated. */
tx_status sb_argv_push(sb_launch *l, const char *s);
/* Appends fmt with up to two %s arguments. */
tx_status sb_argv_pushf(sb_launch *l, const char *fmt, const char *a, const char *b);
/* The docker CLI's environment: only what it needs to find the daemon. */
tx_status sb_docker_env(sb_launch *l);
/* Runs a docker command with that environment (hl_run_capture's results). */
int sb_docker_run(char *const argv[], const char *stdin_text, tx_buf *out, tx_buf *err,
                  int timeout_ms);
/* GET on the Engine API over its unix socket: the HTTP status, 0 when the
 * socket cannot be used (*err_no says why), -1 on other errors. */
int sb_docker_api_get(const char *path, tx_buf *body, int *err_no);
/* A size like 512m, 2g, 1024k or a plain number of bytes. */
bool sb_valid_size(const char *s);
/* The seccomp profile written to a private file; its path in out. */
tx_status sb_seccomp_file(bool network, char *out, size_t cap, char *err, size_t errlen);
/* Read-only mounts over every protected entry under dir (docs/sandbox.md);
 * "DEV:INO\n" of each such entry appended to ids. */
tx_status sb_protect_tree(sb_launch *l, const char *dir, const char *target, int depth, int *count,
                          tx_buf *ids, char *err, size_t errlen);

#endif
