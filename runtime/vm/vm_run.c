/*
 * vm_run.c - one run, from the start frame to run.finish (docs/protocol.md).
 *
 *   start frame -> checks (fail closed on anything malformed)
 *               -> budgets, workspace, Lua state with the sandbox and the DSL
 *               -> dsl.run() under the budget hook, the watchdog and the
 *                  message handler
 *               -> run.finish {status, output, error, pending} -> exit 0
 *
 * Every failure of the procedure is a *result* (status "failed" with an
 * error naming the .tac file and line). Only a broken protocol or a Lua
 * panic makes the process exit with another status.
 */
#define _GNU_SOURCE /* O_PATH */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto.h"
#include "vm_int.h"

/* ---- the start frame ----------------------------------------------------------------------- */

static const char *json_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long long json_ll(const cJSON *o, const char *k, long long dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || v->valuedouble <= 0 || v->valuedouble > 9e18) return dflt;
    return (long long)v->valuedouble;
}

/* The procedure's folder, relative to the workspace root: where File paths
 * and require() start. The host may give the path relative to the
 * workspace, absolute inside it, or relative to its own working directory
 * (then the folder is the workspace root itself). */
static void locate_procedure(vm_ctx *ctx, const char *path, const char *workspace)
{
    ctx->procdir[0] = '\0';
    const char *rel = path;
    if (path[0] == '/') {
        size_t wl = strlen(workspace);
        while (wl > 1 && workspace[wl - 1] == '/')
            wl--;
        if (strncmp(path, workspace, wl) != 0 || path[wl] != '/') return;
        rel = path + wl + 1;
    }
    char norm[VM_PATH_MAX];
    const char *why;
    if (vm_path_join("", rel, strlen(rel), norm, sizeof norm, &why) != TX_OK) return;
    if (path[0] != '/') {
        int fd = vm_file_openat(ctx, norm, O_PATH, 0);
        if (fd < 0) return;
        close(fd);
    }
    char *slash = strrchr(norm, '/');
    if (!slash) return;
    *slash = '\0';
    snprintf(ctx->procdir, sizeof ctx->procdir, "%s", norm);
}

/* Fills ctx from the start frame; returns a reason when it is unusable. */
static const char *read_start(vm_ctx *ctx, const cJSON *start)
{
    const char *type = json_str(start, "type");
    if (!type || strcmp(type, "start") != 0) return "the first frame is not a start frame";
    const cJSON *proto = cJSON_GetObjectItemCaseSensitive(start, "protocol");
    if (proto && (!cJSON_IsNumber(proto) || proto->valueint != TP_PROTOCOL_VERSION))
        return "unsupported protocol version (this runtime speaks protocol 1)";
    const cJSON *proc = cJSON_GetObjectItemCaseSensitive(start, "procedure");
    const char *path = json_str(proc, "path");
    if (!path || !*path) return "start.procedure.path is missing";
    if (!json_str(proc, "source")) return "start.procedure.source is missing";
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(proc, "name");
    if (name && !cJSON_IsString(name) && !cJSON_IsNull(name))
        return "start.procedure.name must be a string";
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(start, "inputs");
    if (inputs && !cJSON_IsObject(inputs) && !cJSON_IsNull(inputs))
        return "start.inputs must be an object";
    if (!json_str(start, "workspace")) return "start.workspace is missing";
    if (strlen(path) >= sizeof ctx->proc_path) return "start.procedure.path is too long";

    snprintf(ctx->proc_path, sizeof ctx->proc_path, "%s", path);
    snprintf(ctx->display_dir, sizeof ctx->display_dir, "%s", path);
    char *slash = strrchr(ctx->display_dir, '/');
    if (slash)
        *slash = '\0';
    else
        ctx->display_dir[0] = '\0';
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(start, "seed");
    ctx->seed = cJSON_IsNumber(seed) ? (long long)seed->valuedouble : 0;
    const cJSON *limits = cJSON_GetObjectItemCaseSensitive(start, "limits");
    vm_budget_init(ctx, json_ll(limits, "instructions", VM_DEFAULT_INSTRUCTIONS),
                   json_ll(limits, "memory_bytes", VM_DEFAULT_MEMORY_BYTES),
                   json_ll(limits, "wall_ms", VM_DEFAULT_WALL_MS));
    ctx->ws_written = 0;
    ctx->ws_quota =
        (unsigned long long)json_ll(limits, "workspace_bytes", (long long)VM_DEFAULT_WORKSPACE_QUOTA);
    return NULL;
}

/* ---- inside Lua ------------------------------------------------------------------------------ */

/* setup(start): sandbox, vm.start, the DSL. Runs before the budget hook. */
static int setup_l(lua_State *L)
{
    const cJSON *start = lua_touserdata(L, 1);
    vm_ctx *ctx = vm_ctx_of(L);
    vm_box_register(L);
    vm_sandbox_open(L);
    const cJSON *proc = cJSON_GetObjectItemCaseSensitive(start, "procedure");

    lua_getfield(L, LUA_REGISTRYINDEX, VM_REG_PRIVATE);
    lua_getfield(L, -1, "vm");
    lua_createtable(L, 0, 8);
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(start, "inputs");
    if (cJSON_IsObject(inputs))
        vm_json_push(L, inputs);
    else
        lua_newtable(L);
    lua_setfield(L, -2, "inputs");
    lua_pushstring(L, json_str(proc, "source"));
    lua_setfield(L, -2, "source");
    lua_pushstring(L, ctx->proc_path);
    lua_setfield(L, -2, "path");
    const char *name = json_str(proc, "name");
    lua_pushstring(L, name && *name ? name : "main");
    lua_setfield(L, -2, "procedure");
    const char *run_id = json_str(start, "run_id");
    lua_pushstring(L, run_id ? run_id : "");
    lua_setfield(L, -2, "run_id");
    lua_pushinteger(L, (lua_Integer)ctx->seed);
    lua_setfield(L, -2, "seed");
    lua_pushboolean(L, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(start, "mock")));
    lua_setfield(L, -2, "mock");
    const cJSON *test = cJSON_GetObjectItemCaseSensitive(start, "test");
    if (cJSON_IsObject(test)) {
        vm_json_push(L, test);
        lua_setfield(L, -2, "test");
    }
    lua_setfield(L, -2, "start");
    lua_pop(L, 2);

    vm_load_dsl(L);
    return 0;
}

/* dsl.NAME(), its result as JSON in a box (returned); nothing when the DSL
 * has no such function. Upvalues: NAME, lenient, what (for messages). */
static int dsl_json_l(lua_State *L)
{
    cJSON **box = vm_box_json(L);
    lua_getfield(L, LUA_REGISTRYINDEX, VM_REG_PRIVATE);
    lua_getfield(L, -1, "dsl");
    lua_getfield(L, -1, lua_tostring(L, lua_upvalueindex(1)));
    if (!lua_isfunction(L, -1)) {
        lua_settop(L, 1);
        return 1;
    }
    lua_call(L, 0, 1);
    vm_json_opts o = {lua_toboolean(L, lua_upvalueindex(2)), lua_tostring(L, lua_upvalueindex(3))};
    vm_json_from_lua(L, -1, box, &o);
    lua_settop(L, 1);
    return 1;
}

/* Calls dsl.NAME under the run's budgets, the watchdog and the message
 * handler; on success *out takes its JSON result. Returns the pcall status,
 * with the error (if any) on top of the stack. */
static int call_dsl(vm_ctx *ctx, lua_State *L, const char *name, bool lenient, const char *what,
                    cJSON **out)
{
    ctx->budget.grace = false;
    lua_pushcfunction(L, vm_errors_msgh);
    int handler = lua_gettop(L);
    lua_pushstring(L, name);
    lua_pushboolean(L, lenient);
    lua_pushstring(L, what);
    lua_pushcclosure(L, dsl_json_l, 3);
    vm_watchdog_start(ctx);
    vm_budget_start_hook(L);
    int st = lua_pcall(L, 0, 1, handler);
    vm_budget_stop_hook(L);
    vm_watchdog_stop();
    ctx->budget.grace = true;
    if (st == LUA_OK) {
        cJSON **box = lua_touserdata(L, -1);
        *out = *box;
        *box = NULL;
    }
    return st;
}

/* `tactus test` only: dsl.test_after() runs the custom steps that follow the
 * run and returns the facts the host judges the built-in steps by. NULL
 * outside tests or when the run was stopped (a budget, a protocol error). */
static cJSON *test_report(vm_ctx *ctx, lua_State *L, const cJSON *start)
{
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(start, "test"))) return NULL;
    if (ctx->abort_kind != VM_ABORT_NONE) return NULL;
    cJSON *report = NULL;
    lua_settop(L, 0);
    call_dsl(ctx, L, "test_after", true, "the test report", &report);
    lua_settop(L, 0);
    return report;
}

static int on_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "tactus-runtime: Lua panic: %s\n", msg ? msg : "(no message)");
    _exit(VM_EXIT_INTERNAL);
}

static void on_warning(void *ud, const char *msg, int tocont)
{
    (void)ud;
    fputs(msg, stderr);
    if (!tocont) fputc('\n', stderr);
}

/* ---- run.finish ------------------------------------------------------------------------------ */

static cJSON *error_object(const char *message)
{
    cJSON *e = cJSON_CreateObject();
    if (!e) return NULL;
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddNullToObject(e, "file");
    cJSON_AddNullToObject(e, "line");
    cJSON_AddStringToObject(e, "traceback", "");
    return e;
}

static tx_status send_finish(vm_ctx *ctx, const char *status, cJSON *output, cJSON *error,
                             cJSON *pending, cJSON *report)
{
    cJSON *params = cJSON_CreateObject();
    if (!params) {
        cJSON_Delete(report);
        cJSON_Delete(output);
        cJSON_Delete(error);
        cJSON_Delete(pending);
        return TX_ENOMEM;
    }
    cJSON_AddStringToObject(params, "status", status);
    cJSON_AddItemToObject(params, "output", output ? output : cJSON_CreateNull());
    cJSON_AddItemToObject(params, "error", error ? error : cJSON_CreateNull());
    cJSON_AddItemToObject(params, "pending", pending ? pending : cJSON_CreateArray());
    if (report) cJSON_AddItemToObject(params, "report", report);
    cJSON *frame = tp_request(-1, "run.finish", params);
    if (!frame) return TX_ENOMEM;
    ctx->finished = true;
    tx_status st = vm_effect_write(ctx, frame);
    cJSON_Delete(frame);
    return st;
}

static int finish_failed(vm_ctx *ctx, const char *message)
{
    return send_finish(ctx, "failed", NULL, error_object(message), NULL, NULL) == TX_OK
               ? VM_EXIT_OK
               : VM_EXIT_PROTOCOL;
}

/* ---- the run ------------------------------------------------------------------------------------
 */

static int run(vm_ctx *ctx, const cJSON *start)
{
    const char *why = NULL;
    if (vm_file_open_workspace(ctx, json_str(start, "workspace"), &why) != TX_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "cannot open the workspace: %s", why);
        return finish_failed(ctx, msg);
    }
    const char *scratch = json_str(start, "scratch");
    if (scratch && vm_file_open_scratch(ctx, scratch, &why) != TX_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "cannot open the scratch folder: %s", why);
        return finish_failed(ctx, msg);
    }
    locate_procedure(ctx, ctx->proc_path, json_str(start, "workspace"));

    lua_State *L = lua_newstate(vm_lua_alloc, ctx);
    if (!L) return finish_failed(ctx, "cannot create the Lua state (memory budget too small?)");
    *(vm_ctx **)lua_getextraspace(L) = ctx;
    ctx->L = L;
    lua_atpanic(L, on_panic);
    lua_setwarnf(L, on_warning, ctx);

    cJSON *output = NULL;
    lua_pushcfunction(L, setup_l);
    lua_pushlightuserdata(L, (void *)start);
    int st = lua_pcall(L, 1, 0, 0);
    if (st != LUA_OK) {
        ctx->budget.grace = true;
        vm_errors_record(L, -1);
    } else {
        st = call_dsl(ctx, L, "run", false, "the procedure's output", &output);
        if (st != LUA_OK && (st == LUA_ERRMEM || !ctx->error)) vm_errors_record(L, -1);
    }

    const char *status;
    cJSON *error = NULL, *pending = NULL;
    if (ctx->abort_kind == VM_ABORT_SUSPENDED) {
        status = "waiting";
        pending = ctx->pending;
        ctx->pending = NULL;
        cJSON_Delete(output);
        output = NULL;
    } else if (st != LUA_OK || ctx->abort_kind != VM_ABORT_NONE) {
        status = "failed";
        error = ctx->error ? ctx->error : error_object("the procedure failed");
        ctx->error = NULL;
        cJSON_Delete(output);
        output = NULL;
    } else {
        status = "completed";
    }
    cJSON *report = test_report(ctx, L, start);
    bool protocol_broken = ctx->abort_kind == VM_ABORT_PROTOCOL;
    tx_status sent = send_finish(ctx, status, output, error, pending, report);
    if (sent == TX_ELIMIT) {
        char msg[160];
        snprintf(msg, sizeof msg, "the run's result is larger than the %u MiB frame limit",
                 TP_MAX_FRAME >> 20);
        sent = send_finish(ctx, "failed", NULL, error_object(msg), NULL, NULL);
    }
    if (ctx->abort_kind == VM_ABORT_NONE) vm_abort(ctx, VM_ABORT_CLOSING, "the run has finished");
    lua_close(L);
    ctx->L = NULL;
    if (protocol_broken || sent != TX_OK) return VM_EXIT_PROTOCOL;
    return VM_EXIT_OK;
}

int vm_main(int in_fd, int out_fd)
{
    signal(SIGPIPE, SIG_IGN); /* a vanished host is a write error, not a kill */
    cJSON_Hooks hooks = {vm_cjson_malloc, vm_cjson_free};
    cJSON_InitHooks(&hooks);

    vm_ctx *ctx = tx_calloc(1, sizeof *ctx);
    if (!ctx) {
        fputs("tactus-runtime: out of memory\n", stderr);
        return VM_EXIT_INTERNAL;
    }
    ctx->in_fd = in_fd;
    ctx->out_fd = out_fd;
    ctx->next_id = 1;
    ctx->ws_fd = -1;
    ctx->scratch_fd = -1;

    cJSON *start = NULL;
    tx_status st = tp_read_frame(in_fd, TP_MAX_FRAME, &start);
    int rc;
    if (st != TX_OK) {
        fprintf(stderr, "tactus-runtime: no start frame on the input (%s)\n", tx_status_str(st));
        rc = VM_EXIT_PROTOCOL;
    } else {
        const char *problem = read_start(ctx, start);
        if (problem) {
            fprintf(stderr, "tactus-runtime: %s\n", problem);
            finish_failed(ctx, problem);
            rc = VM_EXIT_PROTOCOL;
        } else {
            rc = run(ctx, start);
        }
    }
    cJSON_Delete(start);
    cJSON_Delete(ctx->pending);
    cJSON_Delete(ctx->error);
    for (int i = 0; i < ctx->n_user_chunks; i++)
        tx_free(ctx->user_chunks[i]);
    if (ctx->ws_fd >= 0) close(ctx->ws_fd);
    if (ctx->scratch_fd >= 0) close(ctx->scratch_fd);
    vm_budget_detach();
    tx_free(ctx);
    return rc;
}
