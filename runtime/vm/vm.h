/*
 * vm.h - tactus-runtime, the untrusted side of a run (docs/protocol.md).
 *
 * The runtime reads one `start` frame on its input, runs the procedure in a
 * sandboxed Lua 5.4 state (allow-listed libraries, budgets for instructions,
 * memory and wall-clock time, files confined to the workspace), sends every
 * effect to the host as a request, and ends with a `run.finish` notification.
 * It contains no network code, reads no environment and holds no secret.
 *
 * This header is what the process entry point and the tests need; the rest
 * of the module talks through vm_int.h.
 *
 * Error model: vm_main returns a process exit status; a failed *run* is
 * reported in run.finish and still exits VM_EXIT_OK.
 */
#ifndef TACTUS_VM_H
#define TACTUS_VM_H

#include <stddef.h>

#include "base.h"

enum {
    VM_EXIT_OK = 0,       /* run.finish was sent (whatever the run's status) */
    VM_EXIT_USAGE = 1,    /* started by hand, or arguments given */
    VM_EXIT_PROTOCOL = 2, /* the host broke the protocol or went away */
    VM_EXIT_INTERNAL = 3, /* a bug: Lua panicked */
};

/* Defaults when `start.limits` leaves a budget out (docs/protocol.md). */
#define VM_DEFAULT_INSTRUCTIONS 1000000000LL
#define VM_DEFAULT_MEMORY_BYTES (256LL * 1024 * 1024)
#define VM_DEFAULT_WALL_MS      600000LL

/* Runs one procedure: reads `start` from in_fd, writes frames on out_fd. */
int vm_main(int in_fd, int out_fd);

/* Joins a user path (relative, '/'-separated) onto base (a folder relative to
 * the workspace root, "" for the root) and normalises it lexically into out
 * (no leading '/', no "." or ".." components, "" for the root itself).
 * Refuses absolute paths, paths climbing above the workspace root, empty
 * paths and NUL bytes: returns TX_EINVAL and points *why at a reason.
 * TX_ELIMIT when out is too small. Pure: touches no file. */
tx_status vm_path_join(const char *base, const char *user, size_t user_len, char *out, size_t cap,
                       const char **why);

#endif
