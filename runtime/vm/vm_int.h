/*
 * vm_int.h - what the files of runtime/vm/ share (not a public header).
 *
 * One run = one process = one vm_ctx. The context is reached from Lua
 * through the state's extra space (every coroutine gets a copy of it), so C
 * functions never need a global. Two things do use a process-wide pointer,
 * because their callbacks take no user data: cJSON's allocation hooks and
 * the SIGALRM watchdog (see vm_budget.c).
 *
 * Error model on the Lua side: C functions raise with luaL_error only after
 * every resource they hold is anchored in a userdata box (vm_box_*), so a
 * raise never leaks; helpers returning tx_status never raise.
 */
#ifndef TACTUS_VM_INT_H
#define TACTUS_VM_INT_H

#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <lua.h>
#include <signal.h>
#include <sys/types.h>
#include <stdbool.h>
#include <time.h>

#include "base.h"
#include "vm.h"

/* ---- the run ---------------------------------------------------------------------- */

/* Sticky reasons to stop: once set, every hook tick raises again, so no
 * pcall, xpcall or coroutine can swallow them (vm_budget.c). */
typedef enum {
    VM_ABORT_NONE = 0,
    VM_ABORT_INSTRUCTIONS,
    VM_ABORT_MEMORY,
    VM_ABORT_WALL,
    VM_ABORT_SUSPENDED, /* a human.request got `Suspended`: the run waits */
    VM_ABORT_PROTOCOL,  /* the host broke the protocol: fail closed */
    VM_ABORT_CLOSING,   /* run.finish is out: nothing may run any more */
} vm_abort_kind;

#define VM_MAX_USER_CHUNKS 64
#define VM_PATH_MAX        1024

typedef struct {
    /* limits, fixed at start */
    long long instr_limit;
    size_t mem_limit;
    long long wall_ms;
    /* usage */
    long long instr_used;
    size_t mem_used, mem_peak;
    struct timespec started; /* CLOCK_MONOTONIC */
    bool grace;              /* error handling and run.finish may use VM_MEM_GRACE more */
    bool refused_any;        /* an allocation was refused: "not enough memory" is the budget */
    int hook_count;          /* instructions between hook ticks */
} vm_budget;

#define VM_MEM_GRACE (8u * 1024 * 1024)

typedef struct vm_ctx {
    lua_State *L; /* main thread */
    vm_budget budget;
    volatile sig_atomic_t abort_kind; /* vm_abort_kind */
    char abort_msg[256];
    cJSON *pending; /* VM_ABORT_SUSPENDED: array of the waiting requests */
    cJSON *error;   /* {message, file, line, traceback} of the final error */

    int in_fd, out_fd;
    long next_id;
    bool finished; /* run.finish sent: no more effects */

    int ws_fd;                     /* the workspace folder, O_PATH|O_DIRECTORY */
    int scratch_fd;                /* start.scratch (pooled runs): writes go here, reads look
                                      here first; -1 when writes go to the workspace */
    unsigned long long ws_written; /* bytes File.write wrote in this run */
    unsigned long long ws_quota;   /* cap on ws_written (sandbox.workspace_quota) */
    char procdir[VM_PATH_MAX];     /* procedure folder, relative to the workspace root */
    char proc_path[VM_PATH_MAX];   /* procedure.path as the host gave it (for messages) */
    char display_dir[VM_PATH_MAX]; /* dirname of proc_path, "" when none */
    long long seed;

    /* user chunks loaded so far ("@path" chunk names minus '@'), for error locations */
    char *user_chunks[VM_MAX_USER_CHUNKS];
    int n_user_chunks;

    /* last user location seen by the hook: a fallback when an error carries none */
    char sample_file[VM_PATH_MAX];
    int sample_line;
    const void *sample_src;               /* the source string the sample was copied from */
    volatile sig_atomic_t sample_writing; /* the sample is being updated */

    /* The long-running C call in progress (a pattern match), or NULL: the
     * watchdog names it. A static string, set and read whole. */
    const char *volatile c_call;
} vm_ctx;

static inline vm_ctx *vm_ctx_of(lua_State *L)
{
    return *(vm_ctx **)lua_getextraspace(L);
}

/* Registry keys (light userdata addresses would do too; strings read better in a debugger). */
#define VM_REG_GLOBALS "tactus.G" /* the user's globals */
#define VM_REG_PRIVATE "tactus.P" /* the DSL's private environment */
#define VM_REG_LOADED  "tactus.loaded"
#define VM_REG_ARRAYS  "tactus.arrays" /* weak-keyed set of tables that encode as JSON arrays */

/* ---- budgets (vm_budget.c) ------------------------------------------------------------ */

void vm_budget_init(vm_ctx *ctx, long long instructions, long long memory, long long wall_ms);
void vm_budget_detach(void); /* the context is going away */
void *vm_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
void vm_budget_start_hook(lua_State *L);
/* A coroutine the script created: ticks more often (see vm_coroutine.c). */
void vm_budget_watch_thread(lua_State *co);
/* Charges one coroutine tick at a resume; raises when over budget. */
void vm_budget_charge_resume(lua_State *L);
void vm_budget_stop_hook(lua_State *L);
/* First cause wins. Arms a hook tick on every instruction of the main thread. */
void vm_abort(vm_ctx *ctx, vm_abort_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Raises the sticky error when one is set; returns otherwise. */
void vm_abort_check(lua_State *L);
/* cJSON allocation hooks, accounted against the same memory budget. */
void *vm_cjson_malloc(size_t n);
void vm_cjson_free(void *p);
/* ---- the watchdog (vm_watchdog.c) ---------------------------------------------------------- */

/* Last-resort stop for long C calls (pattern matching): at wall_ms + grace
 * the SIGALRM handler writes a prebuilt run.finish and exits. */
void vm_watchdog_start(vm_ctx *ctx);
void vm_watchdog_stop(void);
/* The frame writer brackets its writes with these, so the watchdog never
 * cuts a frame in half. */
void vm_watchdog_enter_write(void);
void vm_watchdog_leave_write(void);
/* Hook-sampled user location: records ar's function when it is user code. */
void vm_budget_sample(lua_State *L, lua_Debug *ar);

/* ---- boxes: resources anchored in userdata so a Lua error cannot leak them -------- */

cJSON **vm_box_json(lua_State *L);  /* pushes a box holding NULL */
int *vm_box_fd(lua_State *L);       /* pushes a box holding -1 */
void vm_box_register(lua_State *L); /* creates the metatables once */

/* ---- JSON (vm_json.c) ------------------------------------------------------------------ */

typedef struct {
    bool lenient;     /* logs: unsupported values become strings instead of errors */
    const char *what; /* for messages: "Json.encode", "output", "llm.chat params" */
} vm_json_opts;

/* Converts the value at idx to cJSON. Raises on values JSON cannot hold
 * (functions, cycles, NaN) unless lenient. The result is owned by the box
 * pushed just before the call (the caller pushes it with vm_box_json). */
void vm_json_from_lua(lua_State *L, int idx, cJSON **box, const vm_json_opts *o);
/* Pushes the Lua value of j (objects and arrays become tables; arrays are
 * remembered so they encode back as arrays; null becomes nil). */
void vm_json_push(lua_State *L, const cJSON *j);
/* Marks the table at idx as a JSON array (even when empty). */
void vm_json_mark_array(lua_State *L, int idx);
int vm_json_open(lua_State *L); /* pushes the Json table {encode, decode} */
int vm_json_l_mark_array(lua_State *L);
/* Replaces invalid UTF-8 and NUL bytes with U+FFFD; pushes the result. */
const char *vm_push_clean_utf8(lua_State *L, const char *s, size_t n, size_t *out_len);

/* ---- effects: the protocol client (vm_effects.c) ------------------------------------ */

/* Sends a request whose params are in the json box at box_idx (the box may
 * hold NULL for {}) and waits for its end. Removes the box; returns 1 with
 * the `done` data pushed, or 0 with an error table {type, message} pushed.
 * Raises on a protocol failure, a sticky abort, or after run.finish. */
int vm_effect_request(lua_State *L, const char *method, int box_idx, long *id_out);
/* Sends a notification whose params are in the box at box_idx; removes it. */
void vm_effect_notify(lua_State *L, const char *method, int box_idx);
/* Writes a frame outside Lua (run.finish). */
tx_status vm_effect_write(vm_ctx *ctx, const cJSON *frame);
/* Lua: vm.request, vm.notify, vm.suspend, vm.where, print */
int vm_effects_l_request(lua_State *L);
int vm_effects_l_notify(lua_State *L);
int vm_effects_l_suspend(lua_State *L);
int vm_effects_l_where(lua_State *L);
int vm_effects_l_function_lines(lua_State *L);
int vm_effects_l_print(lua_State *L);
/* The innermost user (.tac) frame: file without '@' and line, or false. */
bool vm_user_location(lua_State *L, int first_level, const char **file, int *line);

/* ---- files confined to the workspace (vm_file.c) --------------------------------------- */

#define VM_FILE_MAX (16u * 1024 * 1024)

/* ---- opening beneath the roots (vm_fileroot.c) ---- */
tx_status vm_file_open_workspace(vm_ctx *ctx, const char *root, const char **why);
/* A pooled run's scratch folder (start.scratch): the workspace is read-only
 * there, and the run's files are written here (vm_fileroot.c, "two roots"). */
tx_status vm_file_open_scratch(vm_ctx *ctx, const char *root, const char **why);
/* Opens a path relative to the workspace (already joined and normalised)
 * with O_NOFOLLOW semantics on every component: a write in the root written
 * to (the scratch folder of a pooled run), a read in the scratch folder
 * first. Returns an fd or -errno. */
int vm_file_openat(vm_ctx *ctx, const char *rel, int flags, mode_t mode);
/* The same beneath one given root descriptor. */
int vm_file_open_in(int root, const char *rel, int flags, mode_t mode);
/* The errno to report for component `comp` of folder `dir` that failed
 * with `e`: ELOOP for a link that failed as "not a folder", else e. */
int vm_file_component_errno(int dir, const char *comp, int e);
/* Tests: force the component walk (false) or go back to openat2 (true). */
void vm_file_use_openat2(bool on);
/* Reads a user path (relative to the procedure folder) into a pushed string.
 * Raises with "what: reason" on refusal or failure; with missing_ok, returns
 * false (nothing pushed) when the file does not exist. */
bool vm_file_push_contents(lua_State *L, const char *what, const char *user_path, size_t user_len,
                           bool missing_ok);
int vm_file_open(lua_State *L); /* pushes the File table */

#define VM_DEFAULT_WORKSPACE_QUOTA (256ull << 20)

/* Why a workspace-relative path is one the host reads (configuration,
 * sources, secrets) and so closed to procedures, or NULL when it is not.
 * `write` asks about creating or replacing it; reads are refused for .env*
 * only. Rule by name, see docs/sandbox.md "Protected files". */
const char *vm_file_protected(vm_ctx *ctx, const char *rel, bool write);

/* ---- os (vm_os.c) ------------------------------------------------------------------------- */

int vm_os_open(lua_State *L); /* pushes {time, date, clock, difftime} */

/* ---- pairs in a stable order (vm_pairs.c) ------------------------------------------------ */

int vm_pairs_l(lua_State *L);

/* ---- coroutines (vm_coroutine.c) ------------------------------------------------------------ */

/* Pushes the sandbox's coroutine table; full_idx is Lua's own library table. */
void vm_coroutine_open(lua_State *L, int full_idx);

/* ---- the sandbox (vm_sandbox.c) ------------------------------------------------------------ */

/* Builds the user globals and the DSL's private environment, installs them
 * in the registry (VM_REG_GLOBALS is also LUA_RIDX_GLOBALS). */
int vm_sandbox_open(lua_State *L);

/* ---- require and the embedded Lua (vm_require.c, generated vm_embedded.c) ---------------- */

typedef struct {
    const char *name; /* "dsl/core" or a module name "tactus.tools.done" */
    const char *source;
    size_t len;
} vm_embedded_file;

extern const vm_embedded_file vm_embedded_dsl[];    /* loaded in order at start */
extern const vm_embedded_file vm_embedded_stdlib[]; /* served by require */

int vm_require_l(lua_State *L);
/* Loads a user chunk (text only) named "@"..display; records it for error locations. */
int vm_load_user(lua_State *L, const char *src, size_t len, const char *display);
int vm_load_user_l(lua_State *L);
/* Loads the embedded DSL with the private environment and runs each file. */
int vm_load_dsl(lua_State *L);

/* ---- errors (vm_errors.c) -------------------------------------------------------------------- */

/* Message handler for the top-level pcall: records ctx->error. */
int vm_errors_msgh(lua_State *L);
/* Records ctx->error for an error value that reached us without the handler
 * (memory errors, syntax errors). */
void vm_errors_record(lua_State *L, int idx);
/* "path" when s starts with a user chunk's "short_src:line:", with its length. */
bool vm_errors_split_location(vm_ctx *ctx, const char *s, const char **file, size_t *file_len,
                              int *line, const char **rest);
void vm_ctx_add_user_chunk(vm_ctx *ctx, const char *path);

#endif
