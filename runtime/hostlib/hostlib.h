/*
 * hostlib.h - what every module of the trusted side shares: starting a
 * process without a shell and with nothing inherited, running a command to
 * its end, SHA-256, the clock, run ids, JSON field access, and telling a
 * loopback host from another.
 *
 * Trusted side only: this links OpenSSL and reads the environment, so
 * nothing under runtime/vm/ (tactus-runtime) or runtime/probe/ may use it.
 *
 * Errors: tx_status, or the documented special values of each function.
 */
#ifndef TACTUS_HOSTLIB_H
#define TACTUS_HOSTLIB_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base.h"

/* ---- processes (hl_process.c) ---------------------------------------------------------- */

typedef struct {
    pid_t pid;
    int in, out, err; /* our ends of its stdin, stdout and stderr */
} hl_child;

/* How hl_spawn starts a child. */
typedef enum {
    HL_SPAWN_GROUP = 1 << 0, /* it leads a process group of its own (so
                              * hl_kill_group reaches what it starts) */
    HL_SPAWN_ANY_THREAD = 1 << 1 /* it may outlive the calling thread: no
                                  * parent-death signal, which Linux ties to
                                  * the thread that forked, not the process
                                  * (a pooled container started by one
                                  * `tactus test` worker serves the others) */
} hl_spawn_flags;

/* Starts argv (argv[0] looked up in PATH unless it has a '/') with exactly
 * `envp` (NULL: an empty environment), in `cwd` (NULL or "": ours), its
 * stdin, stdout and stderr on pipes. In the child: every other descriptor
 * closed, no new privileges, no core file, killed when the calling thread
 * ends (unless HL_SPAWN_ANY_THREAD: then it must end by itself when its
 * input closes, as the host's pipes close when the host dies). Our ends
 * are close-on-exec. `flags`: hl_spawn_flags. */
tx_status hl_spawn(char *const argv[], char *const envp[], const char *cwd, unsigned flags,
                   hl_child *c);
/* Resource limits set in the child before exec (0: left as inherited). */
typedef struct {
    long long address_space; /* RLIMIT_AS, bytes */
    long long cpu_seconds;   /* RLIMIT_CPU */
    long long open_files;    /* RLIMIT_NOFILE */
    long long file_size;     /* RLIMIT_FSIZE, bytes */
} hl_limits;
/* hl_spawn with `lim` (NULL: none) applied in the child: what a program
 * the host does not trust to behave (an MCP server) may take of the host. */
tx_status hl_spawn_limited(char *const argv[], char *const envp[], const char *cwd, unsigned flags,
                           const hl_limits *lim, hl_child *c);
/* SIGKILL to the child's process group (HL_SPAWN_GROUP) and reaps it. */
void hl_kill_group(hl_child *c);
/* Runs argv to its end with `envp`: `stdin_text` (may be NULL) on its input,
 * stdout and stderr collected into out/err (capped by their limits; NULL:
 * dropped), read while the input is written so neither side can block the
 * other. Returns the exit status, 128+N for signal N, -1 on timeout (the
 * whole process group is killed), -2 when it could not be started. */
int hl_run_capture(char *const argv[], char *const envp[], const char *stdin_text, tx_buf *out,
                   tx_buf *err, int timeout_ms);
/* hl_run_capture with PATH and HOME only: host tools never see the keys. */
int hl_run_command(char *const argv[], const char *stdin_text, tx_buf *out, tx_buf *err,
                   int timeout_ms);
/* hl_run_command that `interrupted` (may be NULL) can cut: asked every
 * 50 ms, true kills the command's whole process group and reaps it, and
 * -3 is returned (a worker's drain that ran out: the call is abandoned). */
int hl_run_command_until(char *const argv[], const char *stdin_text, tx_buf *out, tx_buf *err,
                         int timeout_ms, bool (*interrupted)(void *ud), void *ud);

/* ---- hashing, time, ids, JSON (hostlib.c) -------------------------------------------------- */

/* SHA-256 of bytes, as 64 hex digits. */
void hl_sha256_hex(const void *data, size_t n, char hex[65]);
/* SHA-256 of a file (at most 512 MiB). */
tx_status hl_sha256_file(const char *path, char hex[65]);
/* Milliseconds on CLOCK_MONOTONIC. */
long long hl_now_ms(void);
/* Milliseconds since the epoch (CLOCK_REALTIME): for dates people read. */
long long hl_wall_ms(void);
/* 2 * bytes hex digits (and a NUL) of the kernel's random source into
 * `hex`; false, `hex` empty, when it cannot be read (then nothing secret may
 * be made of it). */
bool hl_random_hex(char *hex, size_t bytes);
/* A fresh string "run-<16 hex>" from the kernel's random source. */
void hl_new_run_id(char out[40]);
/* obj[key] when it is a string, else NULL. */
const char *hl_json_str(const cJSON *obj, const char *key);
/* A file or folder of tactus in one of the user's XDG places:
 * $VAR/tactus/REL when VAR (XDG_CONFIG_HOME, XDG_DATA_HOME,
 * XDG_RUNTIME_DIR) is set, else $HOME/HOME_DIR/tactus/REL (HOME_DIR like
 * ".config"), else NO_HOME/tactus/REL. REL may be "" for the folder itself.
 * False when neither VAR nor HOME is set. */
bool hl_xdg_path(const char *var, const char *home_dir, const char *no_home, const char *rel,
                 char *out, size_t cap);
/* mkdir -p PATH, each folder made 0700 (private to the user): false when one
 * could not be made (other than because it is there). */
bool hl_make_dirs(const char *path);
/* PATH made (with the folders on the way, 0700 when new) and opened without
 * following a link: its descriptor when it is a folder of this user's that
 * no one else may enter (mode 0700), else -1. */
int hl_private_dir(const char *path);
/* 127/8, ::1 (also bracketed) or "localhost": where plain tcp:// may go. */
bool hl_host_is_loopback(const char *host);

#endif
