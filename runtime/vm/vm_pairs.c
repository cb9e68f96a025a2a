/*
 * vm_pairs.c - `pairs` in a stable order.
 *
 * Why: Lua's table order depends on string hashes, which Lua seeds from the
 * clock and from addresses (luai_makeseed), so `for k, v in pairs(t)` visits
 * keys in a different order from run to run. A procedure that sends one
 * request per key would then send its requests in a different order when a
 * durable run is replayed, and the journal would refuse the replay. Here
 * pairs visits numbers first (ascending), then strings (byte order), then
 * false and true; keys of other types (tables, functions) come last in
 * Lua's order, which no one can make stable.
 * __pairs metamethods are honoured as in Lua 5.4. `next` keeps Lua's order.
 * Cost: one sort per loop, O(n log n); fine for the tables a procedure holds.
 */
#include <stdlib.h>
#include <string.h>

#include "vm_int.h"

typedef struct {
    int rank; /* 0 number, 1 string, 2 boolean, 3 anything else */
    bool is_int;
    lua_Integer i;
    lua_Number n;
    const char *s;
    size_t len;
    int pos; /* position in the key list (Lua's order) */
} pairs_key;

static int key_cmp(const void *pa, const void *pb)
{
    const pairs_key *a = pa, *b = pb;
    if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
    switch (a->rank) {
    case 0:
        if (a->is_int && b->is_int) return (a->i > b->i) - (a->i < b->i);
        if (a->n != b->n) return a->n < b->n ? -1 : 1;
        return (b->is_int) - (a->is_int); /* 1 before 1.0 cannot happen: same key */
    case 1: {
        size_t n = a->len < b->len ? a->len : b->len;
        int c = memcmp(a->s, b->s, n);
        if (c) return c;
        return (a->len > b->len) - (a->len < b->len);
    }
    case 2:
        return (int)a->i - (int)b->i;
    default:
        return a->pos - b->pos;
    }
}

/* iterator(t, _) -> next key in the sorted list whose value is not nil */
static int pairs_next(lua_State *L)
{
    lua_Integer at = lua_tointeger(L, lua_upvalueindex(2));
    for (;;) {
        at++;
        if (lua_rawgeti(L, lua_upvalueindex(1), at) == LUA_TNIL) return 0;
        lua_pushvalue(L, -1);
        if (lua_rawget(L, 1) != LUA_TNIL) { /* keys removed during the loop are skipped */
            lua_pushinteger(L, at);
            lua_replace(L, lua_upvalueindex(2));
            return 2;
        }
        lua_pop(L, 2);
    }
}

int vm_pairs_l(lua_State *L)
{
    luaL_checkany(L, 1);
    if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {
        lua_pushvalue(L, 1);
        lua_call(L, 1, 3);
        return 3;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_newtable(L); /* 2: keys in Lua's order */
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, 2, ++n);
    }
    pairs_key *keys = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *keys, 0); /* 3 */
    for (int k = 0; k < n; k++) {
        pairs_key *e = &keys[k];
        memset(e, 0, sizeof *e);
        e->pos = k + 1;
        switch (lua_rawgeti(L, 2, k + 1)) {
        case LUA_TNUMBER:
            e->rank = 0;
            e->is_int = lua_isinteger(L, -1);
            e->i = lua_tointeger(L, -1);
            e->n = lua_tonumber(L, -1);
            break;
        case LUA_TSTRING:
            e->rank = 1;
            e->s = lua_tolstring(L, -1, &e->len); /* anchored in the key list */
            break;
        case LUA_TBOOLEAN:
            e->rank = 2;
            e->i = lua_toboolean(L, -1);
            break;
        default:
            e->rank = 3;
            break;
        }
        lua_pop(L, 1);
    }
    qsort(keys, (size_t)n, sizeof *keys, key_cmp);
    lua_createtable(L, n, 0); /* 4: keys in the stable order */
    for (int k = 0; k < n; k++) {
        lua_rawgeti(L, 2, keys[k].pos);
        lua_rawseti(L, 4, k + 1);
    }
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, pairs_next, 2);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}
