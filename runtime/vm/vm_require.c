/*
 * vm_require.c - loading code: the embedded DSL, the embedded standard
 * library, the procedure's own .tac modules, and the procedure itself.
 *
 * Threats: loading Lua bytecode (unverified, it breaks memory safety), a
 * native library, or a file outside the workspace through a crafted module
 * name. Rules:
 *   - every chunk a user wrote (the procedure, its modules) and the stdlib
 *     modules load in text mode ("t"): bytecode is refused; only the
 *     embedded DSL, compiled to bytecode at build time from stdlib/
 *     (embed.cmake), loads as bytecode;
 *   - module names are dotted identifiers only, so they cannot hold "/",
 *     "..", or an absolute path; the file is then read through the confined
 *     File layer (vm_file.c), relative to the procedure's folder;
 *   - there is no package library, no searcher, no C loader: `require`
 *     serves the embedded modules and .tac files, nothing else.
 * Embedded code is named "=[tactus]/..." and user code "@path", which is how
 * error reports tell the DSL's frames from the user's.
 */
#include <stdio.h>
#include <string.h>

#include "vm_int.h"

static const char loading_marker = 0; /* address used as "being loaded" */

static bool valid_module_name(const char *s, size_t n)
{
    if (n == 0 || n > 200) return false;
    bool start = true;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        bool digit = c >= '0' && c <= '9';
        if (c == '.') {
            if (start) return false;
            start = true;
        } else if (alpha || (digit && !start)) {
            start = false;
        } else {
            return false;
        }
    }
    return !start;
}

/* Sets the first upvalue (_ENV) of the function on top to the DSL's private environment. */
static void set_private_env(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, VM_REG_PRIVATE);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
}

/* mode: "t" for stdlib modules; the DSL may be bytecode compiled at build
 * time from stdlib/ (embed.cmake), never anything a user wrote. */
static void load_embedded(lua_State *L, const vm_embedded_file *f, const char *mode)
{
    char chunkname[128];
    snprintf(chunkname, sizeof chunkname, "=[tactus]/%s", f->name);
    if (luaL_loadbufferx(L, f->source, f->len, chunkname, mode) != LUA_OK) lua_error(L);
    set_private_env(L);
}

int vm_load_dsl(lua_State *L)
{
    for (const vm_embedded_file *f = vm_embedded_dsl; f->name; f++) {
        load_embedded(L, f, "bt");
        lua_call(L, 0, 0);
    }
    return 0;
}

int vm_load_user(lua_State *L, const char *src, size_t len, const char *display)
{
    vm_ctx *ctx = vm_ctx_of(L);
    vm_ctx_add_user_chunk(ctx, display);
    lua_pushfstring(L, "@%s", display);
    int st = luaL_loadbufferx(L, src, len, lua_tostring(L, -1), "t");
    lua_remove(L, -2);
    return st;
}

/* vm.load_user(source, display_path) -> function, or raises the syntax error */
int vm_load_user_l(lua_State *L)
{
    size_t len;
    const char *src = luaL_checklstring(L, 1, &len);
    const char *display = luaL_checkstring(L, 2);
    if (vm_load_user(L, src, len, display) != LUA_OK) return lua_error(L);
    return 1;
}

static const char *const denied_modules[] = {
    "os", "io", "debug", "package", "ffi", "jit", "lfs", "socket", "posix", NULL,
};
static const char *const global_modules[] = {
    "string", "table", "math", "utf8", "coroutine", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0) return true;
    return false;
}

/* Runs the chunk on top with the module name, caches its result under name.
 * The cache slot holds a marker while it runs, so a cycle is an error
 * rather than an endless recursion; it is cleared again on failure. */
static int run_module(lua_State *L, const char *name, int loaded)
{
    lua_pushlightuserdata(L, (void *)&loading_marker);
    lua_setfield(L, loaded, name);
    lua_pushstring(L, name);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_pushnil(L);
        lua_setfield(L, loaded, name);
        return lua_error(L);
    }
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, loaded, name);
    return 1;
}

int vm_require_l(lua_State *L)
{
    vm_ctx *ctx = vm_ctx_of(L);
    size_t n;
    const char *name = luaL_checklstring(L, 1, &n);
    lua_settop(L, 1);
    if (!valid_module_name(name, n))
        return luaL_error(L,
                          "require: invalid module name '%s' (use dotted names of letters, digits "
                          "and '_', such as helpers.text)",
                          name);
    lua_getfield(L, LUA_REGISTRYINDEX, VM_REG_LOADED);
    int loaded = lua_gettop(L);
    lua_getfield(L, loaded, name);
    if (lua_touserdata(L, -1) == &loading_marker)
        return luaL_error(L, "require: module '%s' requires itself (a require cycle)", name);
    if (!lua_isnil(L, -1)) return 1;
    lua_pop(L, 1);

    for (const vm_embedded_file *f = vm_embedded_stdlib; f->name; f++) {
        if (strcmp(f->name, name) == 0) {
            load_embedded(L, f, "t");
            return run_module(L, name, loaded);
        }
    }
    if (in_list(denied_modules, name))
        return luaL_error(L, "require: module '%s' is not available in the sandbox", name);
    if (in_list(global_modules, name)) {
        lua_getfield(L, LUA_REGISTRYINDEX, VM_REG_GLOBALS);
        lua_getfield(L, -1, name);
        return 1;
    }
    if (strncmp(name, "tactus.", 7) == 0) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (const vm_embedded_file *f = vm_embedded_stdlib; f->name; f++) {
            if (f != vm_embedded_stdlib) luaL_addstring(&b, ", ");
            luaL_addstring(&b, f->name);
        }
        luaL_pushresult(&b);
        return luaL_error(L, "require: '%s' is not in the embedded standard library (it has: %s)",
                          name, lua_tostring(L, -1));
    }

    /* helpers.text -> helpers/text.tac, then helpers/text/init.tac */
    char rel[2][256];
    snprintf(rel[0], sizeof rel[0], "%.200s", name); /* names are at most 200 bytes */
    for (char *p = rel[0]; *p; p++)
        if (*p == '.') *p = '/';
    snprintf(rel[1], sizeof rel[1], "%.200s/init.tac", rel[0]);
    strncat(rel[0], ".tac", sizeof rel[0] - strlen(rel[0]) - 1);
    for (int i = 0; i < 2; i++) {
        if (!vm_file_push_contents(L, "require", rel[i], strlen(rel[i]), true)) continue;
        size_t len;
        const char *src = lua_tolstring(L, -1, &len);
        char display[VM_PATH_MAX + 272];
        snprintf(display, sizeof display, "%s%s%s", ctx->display_dir, *ctx->display_dir ? "/" : "",
                 rel[i]);
        if (vm_load_user(L, src, len, display) != LUA_OK) return lua_error(L);
        lua_remove(L, -2); /* the source text */
        return run_module(L, name, loaded);
    }
    return luaL_error(L,
                      "require: module '%s' not found (no embedded module, no %s or %s in the "
                      "procedure's folder)",
                      name, rel[0], rel[1]);
}
