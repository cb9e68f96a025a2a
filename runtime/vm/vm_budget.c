/*
 * vm_budget.c - the three budgets of a run (memory, instructions, wall-clock
 * time) and the sticky stop that enforces them.
 *
 * Threats: a procedure that loops forever, allocates without end, or tries
 * to outlive a budget by catching its error (pcall, xpcall, a coroutine, an
 * error handler that loops). Defences:
 *   - memory: every Lua allocation goes through vm_lua_alloc, which refuses
 *     past the cap; cJSON's allocations are counted in the same budget;
 *   - instructions and wall-clock: a count hook (copied by Lua 5.4 into every
 *     coroutine a script creates) adds up instructions and reads the clock;
 *   - stickiness: once a budget is exceeded (or the run must suspend), the
 *     hook runs on every instruction and raises again each time, and every
 *     effect refuses to run, so catching the error buys one instruction;
 *   - long C calls (a pathological string pattern runs in C, where no hook
 *     fires): the watchdog of vm_watchdog.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vm_int.h"

/* Process-wide on purpose: cJSON's hooks carry no user data, and one
 * process runs exactly one procedure. */
static vm_ctx *active;

/* The last refused Lua allocation: Lua retries a refused allocation once
 * after an emergency full collection; only a second refusal of the same
 * request means the live data truly exceeds the cap. */
static struct {
    void *ptr;
    size_t osize, nsize;
    bool set;
} last_refusal;

static bool hook_on;

static void budget_hook(lua_State *L, lua_Debug *ar);

void vm_budget_init(vm_ctx *ctx, long long instructions, long long memory, long long wall_ms)
{
    vm_budget *b = &ctx->budget;
    b->instr_limit = instructions > 0 ? instructions : VM_DEFAULT_INSTRUCTIONS;
    b->mem_limit = memory > 0 ? (size_t)memory : (size_t)VM_DEFAULT_MEMORY_BYTES;
    b->wall_ms = wall_ms > 0 ? wall_ms : VM_DEFAULT_WALL_MS;
    /* A tick every 1000 instructions costs well under 1% and stops a loop
     * within microseconds; tiny budgets get exact counting. */
    b->hook_count = b->instr_limit < 1000 ? (int)b->instr_limit : 1000;
    b->instr_used = 0;
    clock_gettime(CLOCK_MONOTONIC, &b->started);
    active = ctx;
}

void vm_budget_detach(void)
{
    active = NULL;
}

static long long elapsed_ms(const vm_budget *b)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - b->started.tv_sec) * 1000 +
           (now.tv_nsec - b->started.tv_nsec) / 1000000;
}

static bool mem_allowed(const vm_budget *b, size_t old, size_t new_size)
{
    if (new_size <= old) return true;
    size_t limit = b->mem_limit + (b->grace ? VM_MEM_GRACE : 0);
    size_t extra = new_size - old;
    return b->mem_used <= limit && extra <= limit - b->mem_used;
}

static void sample_location(vm_ctx *ctx, lua_State *L);

static void memory_exceeded(vm_ctx *ctx)
{
    /* Lua raises memory errors without calling the message handler, so the
     * stack is gone by the time the run learns of it: note the user line
     * now. Reading the call chain (lua_getstack/lua_getinfo "Sl") only reads
     * frames and allocates nothing, so it is safe even from the allocator. */
    if (ctx->abort_kind == VM_ABORT_NONE && hook_on && ctx->L) sample_location(ctx, ctx->L);
    vm_abort(ctx, VM_ABORT_MEMORY, "memory budget exceeded (limit %zu bytes)",
             ctx->budget.mem_limit);
}

void *vm_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    vm_ctx *ctx = ud;
    vm_budget *b = &ctx->budget;
    size_t old = ptr ? osize : 0; /* with ptr == NULL, osize is a type tag */
    if (nsize == 0) {
        tx_free(ptr);
        b->mem_used -= old;
        return NULL;
    }
    if (!mem_allowed(b, old, nsize)) {
        b->refused_any = true;
        /* A single request larger than the whole budget can never succeed:
         * no collection will help (string.rep("x", 2^40) asks exactly once). */
        if (nsize > b->mem_limit) memory_exceeded(ctx);
        if (last_refusal.set && last_refusal.ptr == ptr && last_refusal.osize == osize &&
            last_refusal.nsize == nsize)
            memory_exceeded(ctx);
        last_refusal.ptr = ptr;
        last_refusal.osize = osize;
        last_refusal.nsize = nsize;
        last_refusal.set = true;
        return NULL;
    }
    void *p = tx_realloc(ptr, nsize);
    if (!p) return NULL;
    last_refusal.set = false;
    b->mem_used = b->mem_used - old + nsize;
    if (b->mem_used > b->mem_peak) b->mem_peak = b->mem_used;
    return p;
}

/* ---- cJSON's allocations -------------------------------------------------------------
 * A header remembers the size (cJSON's free hook gets none) and whether the
 * block was counted (the start frame is parsed before the budget exists). */
typedef union {
    max_align_t align;
    struct {
        size_t size;
        bool counted;
    } h;
} json_hdr;

void *vm_cjson_malloc(size_t n)
{
    if (n > SIZE_MAX - sizeof(json_hdr)) return NULL;
    size_t total = n + sizeof(json_hdr);
    bool count = active != NULL;
    if (count && !mem_allowed(&active->budget, 0, total)) {
        memory_exceeded(active);
        return NULL;
    }
    json_hdr *h = tx_malloc(total);
    if (!h) return NULL;
    h->h.size = total;
    h->h.counted = count;
    if (count) {
        active->budget.mem_used += total;
        if (active->budget.mem_used > active->budget.mem_peak)
            active->budget.mem_peak = active->budget.mem_used;
    }
    return h + 1;
}

void vm_cjson_free(void *p)
{
    if (!p) return;
    json_hdr *h = (json_hdr *)p - 1;
    if (h->h.counted && active) active->budget.mem_used -= h->h.size;
    tx_free(h);
}

/* ---- the sticky stop ------------------------------------------------------------------------ */

void vm_abort(vm_ctx *ctx, vm_abort_kind kind, const char *fmt, ...)
{
    if (ctx->abort_kind != VM_ABORT_NONE) return; /* the first cause is the one reported */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->abort_msg, sizeof ctx->abort_msg, fmt, ap);
    va_end(ap);
    ctx->abort_kind = kind;
    /* Error handling, tracebacks and run.finish need a little memory even
     * when the cap is reached; every instruction raises from now on, so the
     * script itself cannot use the grace. */
    ctx->budget.grace = true;
    /* lua_sethook is safe from anywhere (even a signal handler): the main
     * thread now stops at its next instruction. Coroutines switch to a tick
     * per instruction at their own next tick. */
    if (hook_on && ctx->L) lua_sethook(ctx->L, budget_hook, LUA_MASKCOUNT, 1);
}

static int raise_abort(lua_State *L, vm_ctx *ctx)
{
    lua_pushstring(L, ctx->abort_msg);
    return lua_error(L);
}

void vm_abort_check(lua_State *L)
{
    vm_ctx *ctx = vm_ctx_of(L);
    if (ctx->abort_kind == VM_ABORT_NONE) return;
    /* This thread (perhaps a coroutine) stops at every instruction from now on. */
    if (hook_on && lua_gethookcount(L) != 1) lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    raise_abort(L, ctx);
}

/* Keeps a copy of the user location being executed: errors that carry no
 * position (memory errors skip the message handler) fall back to it, and so
 * does the watchdog (which skips it while ctx->sample_writing is set). */

void vm_budget_sample(lua_State *L, lua_Debug *ar)
{
    vm_ctx *ctx = vm_ctx_of(L);
    if (!lua_getinfo(L, "Sl", ar) || ar->source[0] != '@' || ar->currentline <= 0) return;
    ctx->sample_writing = 1;
    if (ar->source != ctx->sample_src) {
        snprintf(ctx->sample_file, sizeof ctx->sample_file, "%s", ar->source + 1);
        ctx->sample_src = ar->source;
    }
    ctx->sample_line = ar->currentline;
    ctx->sample_writing = 0;
}

static void sample_location(vm_ctx *ctx, lua_State *L)
{
    lua_Debug ar;
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar)) continue;
        if (ar.source[0] == '@' && ar.currentline > 0) {
            ctx->sample_writing = 1;
            snprintf(ctx->sample_file, sizeof ctx->sample_file, "%s", ar.source + 1);
            ctx->sample_src = ar.source;
            ctx->sample_line = ar.currentline;
            ctx->sample_writing = 0;
            return;
        }
    }
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    vm_ctx *ctx = vm_ctx_of(L);
    vm_budget *b = &ctx->budget;
    if (ctx->abort_kind == VM_ABORT_NONE) {
        b->instr_used += lua_gethookcount(L);
        vm_budget_sample(L, ar);
        if (b->instr_used > b->instr_limit)
            vm_abort(ctx, VM_ABORT_INSTRUCTIONS,
                     "instruction budget exceeded (limit %lld instructions)", b->instr_limit);
        else if (elapsed_ms(b) > b->wall_ms)
            vm_abort(ctx, VM_ABORT_WALL, "timed out after %g s (the run's time limit; raise it with --timeout)",
                     (double)b->wall_ms / 1000.0);
        if (ctx->abort_kind == VM_ABORT_NONE) return;
    }
    /* This thread (perhaps a coroutine) now ticks on every instruction too. */
    if (lua_gethookcount(L) != 1) lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    raise_abort(L, ctx);
}

/* Coroutines tick more often than the main thread and are charged a full
 * tick at every resume: Lua keeps each thread's countdown to itself, so the
 * instructions of a coroutine that ends before its first tick would
 * otherwise never be counted (a loop of short coroutines would run free). */
#define VM_CO_TICK 100

void vm_budget_watch_thread(lua_State *co)
{
    vm_ctx *ctx = vm_ctx_of(co);
    if (!hook_on) return;
    int count = ctx->abort_kind != VM_ABORT_NONE ? 1 : VM_CO_TICK;
    if (count > ctx->budget.hook_count) count = ctx->budget.hook_count;
    lua_sethook(co, budget_hook, LUA_MASKCOUNT, count);
}

void vm_budget_charge_resume(lua_State *L)
{
    vm_ctx *ctx = vm_ctx_of(L);
    if (!hook_on) return;
    vm_budget *b = &ctx->budget;
    b->instr_used += VM_CO_TICK;
    if (ctx->abort_kind == VM_ABORT_NONE && b->instr_used > b->instr_limit)
        vm_abort(ctx, VM_ABORT_INSTRUCTIONS,
                 "instruction budget exceeded (limit %lld instructions)", b->instr_limit);
    vm_abort_check(L);
}

void vm_budget_start_hook(lua_State *L)
{
    vm_ctx *ctx = vm_ctx_of(L);
    clock_gettime(CLOCK_MONOTONIC, &ctx->budget.started);
    hook_on = true;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT,
                ctx->abort_kind != VM_ABORT_NONE ? 1 : ctx->budget.hook_count);
}

void vm_budget_stop_hook(lua_State *L)
{
    hook_on = false;
    lua_sethook(L, NULL, 0, 0);
}
