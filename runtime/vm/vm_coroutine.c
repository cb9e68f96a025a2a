/*
 * vm_coroutine.c - the sandbox's `coroutine` library: Lua's, except that
 * every coroutine is watched by the instruction budget.
 *
 * Threat: Lua counts instructions per thread, and a thread's countdown dies
 * with it. A loop that runs many short coroutines, each ending before its
 * first hook tick, would do unbounded work that the instruction budget never
 * sees. So coroutines created here tick every VM_CO_TICK instructions and
 * each resume is charged one tick up front (vm_budget.c): a coroutine can be
 * over-charged a little, never under-charged.
 *
 * create and wrap are re-implemented (they are a few lines: lua_newthread
 * and the resume loop of lcorolib.c); close, isyieldable, running, status
 * and yield are Lua's own.
 */
#include <string.h>

#include "vm_int.h"

static lua_State *new_coroutine(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    vm_budget_watch_thread(co);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    return co;
}

static int co_create(lua_State *L)
{
    new_coroutine(L);
    return 1;
}

/* Resumes co with narg values from L's top; returns the number of results
 * moved to L, or -1 with the error value on L's top. */
static int resume(lua_State *L, lua_State *co, int narg)
{
    if (!lua_checkstack(co, narg)) {
        lua_pushliteral(L, "too many arguments to resume");
        return -1;
    }
    vm_budget_charge_resume(L);
    lua_xmove(L, co, narg);
    int nres;
    int status = lua_resume(co, L, narg, &nres);
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            lua_pushliteral(L, "too many results to resume");
            return -1;
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    lua_xmove(co, L, 1);
    return -1;
}

static int co_resume(lua_State *L)
{
    lua_State *co = lua_tothread(L, 1);
    luaL_argexpected(L, co, 1, "coroutine");
    int r = resume(L, co, lua_gettop(L) - 1);
    if (r < 0) {
        lua_pushboolean(L, 0);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushboolean(L, 1);
    lua_insert(L, -(r + 1));
    return r + 1;
}

static int co_wrap_call(lua_State *L)
{
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int r = resume(L, co, lua_gettop(L));
    if (r >= 0) return r;
    int status = lua_status(co);
    if (status != LUA_OK && status != LUA_YIELD) { /* the coroutine died with the error */
        status = lua_resetthread(co);              /* close its to-be-closed variables */
        lua_xmove(co, L, 1);
    }
    if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

static int co_wrap(lua_State *L)
{
    new_coroutine(L);
    lua_pushcclosure(L, co_wrap_call, 1);
    return 1;
}

void vm_coroutine_open(lua_State *L, int full_idx)
{
    full_idx = lua_absindex(L, full_idx);
    lua_createtable(L, 0, 8);
    static const char *const lua_own[] = {"close",  "isyieldable", "running",
                                          "status", "yield",       NULL};
    for (const char *const *k = lua_own; *k; k++) {
        lua_getfield(L, full_idx, *k);
        if (lua_isnil(L, -1)) luaL_error(L, "sandbox: the Lua library has no coroutine.%s", *k);
        lua_setfield(L, -2, *k);
    }
    lua_pushcfunction(L, co_create);
    lua_setfield(L, -2, "create");
    lua_pushcfunction(L, co_resume);
    lua_setfield(L, -2, "resume");
    lua_pushcfunction(L, co_wrap);
    lua_setfield(L, -2, "wrap");
}
