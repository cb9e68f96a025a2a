/*
 * vm_box.c - userdata boxes that own C resources while Lua code (which may
 * raise at any allocation) runs around them.
 *
 * Why: a luaL_error or a memory error longjmps past the C function; a cJSON
 * tree or a file descriptor held in a local would leak. A box is created
 * first (it is the only step that can fail before the resource exists), the
 * resource is stored in it, and its __gc releases whatever is still there.
 * The happy path releases early and clears the box.
 */
#include <unistd.h>

#include "vm_int.h"

#define BOX_JSON "tactus.box.json"
#define BOX_FD   "tactus.box.fd"

static int box_json_gc(lua_State *L)
{
    cJSON **box = luaL_checkudata(L, 1, BOX_JSON);
    cJSON_Delete(*box);
    *box = NULL;
    return 0;
}

static int box_fd_gc(lua_State *L)
{
    int *box = luaL_checkudata(L, 1, BOX_FD);
    if (*box >= 0) close(*box);
    *box = -1;
    return 0;
}

void vm_box_register(lua_State *L)
{
    luaL_newmetatable(L, BOX_JSON);
    lua_pushcfunction(L, box_json_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    luaL_newmetatable(L, BOX_FD);
    lua_pushcfunction(L, box_fd_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

cJSON **vm_box_json(lua_State *L)
{
    cJSON **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    luaL_setmetatable(L, BOX_JSON);
    return box;
}

int *vm_box_fd(lua_State *L)
{
    int *box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = -1;
    luaL_setmetatable(L, BOX_FD);
    return box;
}
