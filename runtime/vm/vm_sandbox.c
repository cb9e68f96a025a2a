/*
 * vm_sandbox.c - what a procedure can reach: the allow-list, in one screen.
 *
 * Built like Lua's linit.c, the other way round: each standard library is
 * opened into a scratch table, and only the names listed below are copied
 * into the procedure's globals. Nothing is opened and then removed, so a
 * name missing here is simply not there. Not listed, on purpose:
 *   load, loadstring, dofile, loadfile  - run arbitrary text or bytecode
 *                                         (Lua bytecode is not verified: it
 *                                         breaks memory safety);
 *   string.dump                         - makes bytecode;
 *   io, os (all but time/date/clock/difftime), package, debug
 *                                       - files, processes, environment,
 *                                         native libraries, hooks, upvalues;
 *   math.randomseed                     - the seed comes from start.seed;
 *   warn                                - writes to stderr unasked;
 *   collectgarbage (but "count")        - "stop" would disable collection.
 * coroutine keeps its names, but create/resume/wrap are vm_coroutine.c's:
 * every coroutine is counted by the instruction budget.
 * Replaced by our own: print (log.emit), setmetatable (no __gc: finalizers
 * would run at arbitrary points, even after run.finish), xpcall (the handler
 * runs under the budgets, see sb_xpcall), pairs (a stable order, see
 * vm_pairs.c), require (embedded stdlib and the procedure's .tac files only),
 * os (host time, UTC).
 *
 * The string metatable is shared by every string of the state: its __index
 * is the filtered `string` table and its __metatable is false, so
 * getmetatable("") cannot hand it out or let a script re-point it.
 */
#include <lualib.h>
#include <string.h>

#include "vm_int.h"

static const char *const base_names[] = {
    "assert", "error",  "getmetatable", "ipairs",   "next",     "pcall", "rawequal", "rawget",
    "rawlen", "rawset", "select",       "tonumber", "tostring", "type",  "_VERSION", NULL,
};
static const char *const string_names[] = {
    "byte", "char",     "find", "format",  "gmatch", "gsub",   "len",   "lower", "match",
    "pack", "packsize", "rep",  "reverse", "sub",    "unpack", "upper", NULL,
};
static const char *const table_names[] = {
    "concat", "insert", "move", "pack", "remove", "sort", "unpack", NULL,
};
static const char *const math_names[] = {
    "abs",  "acos",   "asin", "atan", "ceil",       "cos",       "deg",        "exp",  "floor",
    "fmod", "huge",   "log",  "max",  "maxinteger", "min",       "mininteger", "modf", "pi",
    "rad",  "random", "sin",  "sqrt", "tan",        "tointeger", "type",       "ult",  NULL,
};
static const char *const utf8_names[] = {
    "char", "charpattern", "codes", "codepoint", "len", "offset", NULL,
};
static const char *const coroutine_names[] = {
    "close", "create", "isyieldable", "resume", "running", "status", "wrap", "yield", NULL,
};

static const struct {
    const char *name;
    lua_CFunction open;
    const char *const *keep;
} std_libs[] = {
    {"string", luaopen_string, string_names},
    {"table", luaopen_table, table_names},
    {"math", luaopen_math, math_names},
    {"utf8", luaopen_utf8, utf8_names},
    {"coroutine", luaopen_coroutine, coroutine_names},
};

/* ---- replacements ------------------------------------------------------------------------- */

static int sb_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "collect");
    if (strcmp(opt, "count") != 0)
        return luaL_error(L,
                          "collectgarbage: option '%s' is not allowed in the sandbox (only "
                          "\"count\")",
                          opt);
    int kb = lua_gc(L, LUA_GCCOUNT);
    int b = lua_gc(L, LUA_GCCOUNTB);
    lua_pushnumber(L, (lua_Number)kb + (lua_Number)b / 1024);
    return 1;
}

/* Lua's setmetatable, minus finalizers. */
static int sb_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc metamethods are not allowed in the sandbox");
        lua_pop(L, 1);
    }
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* Lua's xpcall runs the message handler at the point of the error. When the
 * error was raised by the budget hook, Lua has hooks switched off until the
 * error is caught, so a handler that loops (xpcall(f, function() while true
 * do end end)) would run beyond every budget. Here the handler runs after
 * the error is caught, hooks on. Without the debug library a handler cannot
 * tell the difference: it only ever sees the error value. */
static int sb_xpcall_finish(lua_State *L, int status, lua_KContext extra)
{
    if (status != LUA_OK && status != LUA_YIELD) {
        lua_pushvalue(L, 2);  /* the handler */
        lua_pushvalue(L, -2); /* the error */
        lua_pcall(L, 1, 1, 0);
        lua_pushboolean(L, 0);
        lua_insert(L, -2);
        return 2;
    }
    return lua_gettop(L) - (int)extra;
}

static int sb_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushboolean(L, 1); /* first result */
    lua_pushvalue(L, 1);   /* the function */
    lua_rotate(L, 3, 2);   /* below the function's arguments */
    int status = lua_pcallk(L, n - 2, LUA_MULTRET, 0, 2, sb_xpcall_finish);
    return sb_xpcall_finish(L, status, 2);
}

/* ---- building the tables --------------------------------------------------------------------- */

/* Pushes a new table holding only the `keep` names of the table at src. */
static void copy_names(lua_State *L, int src, const char *const *keep)
{
    src = lua_absindex(L, src);
    lua_newtable(L);
    for (const char *const *k = keep; *k; k++) {
        lua_getfield(L, src, *k);
        if (lua_isnil(L, -1)) luaL_error(L, "sandbox: the Lua library has no '%s'", *k);
        lua_setfield(L, -2, *k);
    }
}

/* Pattern matching runs inside C, where the budget hook never fires: a
 * backtracking pattern can run for hours in one call, and only the
 * watchdog (vm_watchdog.c) ends it. These wrappers record which call is
 * running (ctx->c_call) so the watchdog's message can name it. Upvalues:
 * the library function, its name (a static string as light userdata), and
 * whether the first result is an iterator to wrap the same way (gmatch). */
static int sb_named_c_call(lua_State *L)
{
    vm_ctx *ctx = vm_ctx_of(L);
    const char *outer = ctx->c_call;
    int nargs = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    ctx->c_call = lua_touserdata(L, lua_upvalueindex(2));
    /* The caller's line, for the watchdog's message, when the budget hook
     * has not sampled one yet (a short procedure's first lines). Only then:
     * on every call it cost a quarter of a tight string.find loop. */
    lua_Debug ar;
    if (ctx->sample_line <= 0 && lua_getstack(L, 1, &ar)) vm_budget_sample(L, &ar);
    int st = lua_pcall(L, nargs, LUA_MULTRET, 0);
    ctx->c_call = outer;
    if (st != LUA_OK) return lua_error(L); /* the same error value, raised on */
    if (lua_toboolean(L, lua_upvalueindex(3)) && lua_isfunction(L, 1)) {
        lua_pushvalue(L, 1);
        lua_pushvalue(L, lua_upvalueindex(2));
        lua_pushboolean(L, 0);
        lua_pushcclosure(L, sb_named_c_call, 3);
        lua_replace(L, 1);
    }
    return lua_gettop(L);
}

static void name_pattern_calls(lua_State *L, int strlib)
{
    static const struct {
        const char *field, *name;
        bool iterator;
    } calls[] = {
        {"find", "string.find", false},
        {"match", "string.match", false},
        {"gsub", "string.gsub", false},
        {"gmatch", "string.gmatch", true},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        lua_getfield(L, strlib, calls[i].field);
        lua_pushlightuserdata(L, (void *)calls[i].name);
        lua_pushboolean(L, calls[i].iterator);
        lua_pushcclosure(L, sb_named_c_call, 3);
        lua_setfield(L, strlib, calls[i].field);
    }
}

static void set_fn(lua_State *L, int t, const char *name, lua_CFunction f)
{
    lua_pushcfunction(L, f);
    lua_setfield(L, t, name);
}

/* Into table t: the allow-listed base functions (from `scratch`, a full
 * base library) and our replacements of print, setmetatable, xpcall, pairs
 * and require. */
static void set_base(lua_State *L, int scratch, int t)
{
    for (const char *const *k = base_names; *k; k++) {
        lua_getfield(L, scratch, *k);
        lua_setfield(L, t, *k);
    }
    set_fn(L, t, "print", vm_effects_l_print);
    set_fn(L, t, "setmetatable", sb_setmetatable);
    set_fn(L, t, "xpcall", sb_xpcall);
    set_fn(L, t, "pairs", vm_pairs_l);
    set_fn(L, t, "require", vm_require_l);
}

static void private_vm_table(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"request", vm_effects_l_request},
        {"notify", vm_effects_l_notify},
        {"suspend", vm_effects_l_suspend},
        {"where", vm_effects_l_where},
        {"function_lines", vm_effects_l_function_lines},
        {"json_array", vm_json_l_mark_array},
        {"load_user", vm_load_user_l},
        {NULL, NULL},
    };
    luaL_newlib(L, fns);
}

int vm_sandbox_open(lua_State *L)
{
    vm_ctx *ctx = vm_ctx_of(L);
    luaL_checkstack(L, 32, "sandbox");

    /* Weak-keyed set of tables that encode as JSON arrays; module cache. */
    lua_newtable(L);
    lua_newtable(L);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, VM_REG_ARRAYS);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, VM_REG_LOADED);

    /* The base library writes into the state's first globals table: that
     * table becomes scratch and is replaced below. */
    luaL_requiref(L, "_G", luaopen_base, 0);
    int scratch = lua_gettop(L);
    lua_newtable(L);
    int G = lua_gettop(L);
    lua_newtable(L);
    int P = lua_gettop(L);

    /* User globals: the allow-listed base functions, our replacements and
     * the guarded collectgarbage. */
    set_base(L, scratch, G);
    set_fn(L, G, "collectgarbage", sb_collectgarbage);

    /* The DSL's private environment: the same functions, its own copies of
     * the library tables (a script that rewrites string.format changes its
     * own table only), plus the private `vm` table and the user globals. */
    set_base(L, scratch, P);

    for (size_t i = 0; i < sizeof std_libs / sizeof std_libs[0]; i++) {
        luaL_requiref(L, std_libs[i].name, std_libs[i].open, 0);
        int full = lua_gettop(L);
        if (strcmp(std_libs[i].name, "math") == 0) {
            /* Seeded once from start.seed: the same run draws the same numbers. */
            lua_getfield(L, full, "randomseed");
            lua_pushinteger(L, (lua_Integer)ctx->seed);
            lua_call(L, 1, 0);
        }
        for (int t = 0; t < 2; t++) {
            if (strcmp(std_libs[i].name, "coroutine") == 0)
                vm_coroutine_open(L, full); /* the same names, budget-aware */
            else
                copy_names(L, full, std_libs[i].keep);
            if (strcmp(std_libs[i].name, "string") == 0) name_pattern_calls(L, lua_gettop(L));
            lua_setfield(L, t == 0 ? G : P, std_libs[i].name);
        }
        lua_pop(L, 1);
    }

    /* Every string shares one metatable: point it at the user's filtered
     * string table and lock it. */
    lua_pushliteral(L, "");
    if (!lua_getmetatable(L, -1)) return luaL_error(L, "sandbox: strings have no metatable");
    lua_getfield(L, G, "string");
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    /* Our libraries: one instance for the user, one for the DSL. */
    for (int t = 0; t < 2; t++) {
        int dst = t == 0 ? G : P;
        vm_os_open(L);
        lua_setfield(L, dst, "os");
        vm_json_open(L);
        lua_setfield(L, dst, "Json");
        vm_file_open(L);
        lua_setfield(L, dst, "File");
    }

    lua_pushvalue(L, G);
    lua_setfield(L, G, "_G");
    private_vm_table(L);
    lua_setfield(L, P, "vm");
    lua_pushvalue(L, G);
    lua_setfield(L, P, "G");

    lua_pushvalue(L, G);
    lua_setfield(L, LUA_REGISTRYINDEX, VM_REG_GLOBALS);
    lua_pushvalue(L, G);
    lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushvalue(L, P);
    lua_setfield(L, LUA_REGISTRYINDEX, VM_REG_PRIVATE);
    lua_settop(L, scratch - 1);
    return 0;
}
