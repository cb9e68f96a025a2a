/*
 * vm_errors.c - turning a Lua error into run.finish's
 * error = {message, file, line, traceback}, pointing at the .tac file.
 *
 * The location comes, in order of trust, from:
 *   1. the message's own "path:line:" prefix when it names a user chunk
 *      (Lua writes it for runtime errors; the DSL writes it for validation
 *      errors, naming the user's call site);
 *   2. the innermost user frame on the stack when the error was raised
 *      (budget stops, errors raised with level 0);
 *   3. the last user line the budget hook saw (memory errors, which Lua
 *      raises without calling the message handler);
 *   4. the procedure's file without a line (a tail call left no frame).
 * The traceback lists user frames only: the embedded DSL ("=[tactus]/...")
 * and C functions are implementation detail, not something a procedure
 * author can act on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_int.h"

#define TRACEBACK_MAX_FRAMES 16

void vm_ctx_add_user_chunk(vm_ctx *ctx, const char *path)
{
    for (int i = 0; i < ctx->n_user_chunks; i++)
        if (strcmp(ctx->user_chunks[i], path) == 0) return;
    if (ctx->n_user_chunks >= VM_MAX_USER_CHUNKS) return;
    char *copy = tx_strdup(path);
    if (copy) ctx->user_chunks[ctx->n_user_chunks++] = copy;
}

/* Lua's short form of "@path" in messages (luaO_chunkid): the path, or
 * "..." and its last LUA_IDSIZE - 4 bytes when it is long. */
static void short_src(const char *path, char *out, size_t cap)
{
    size_t n = strlen(path);
    if (n + 1 <= LUA_IDSIZE)
        snprintf(out, cap, "%s", path);
    else
        snprintf(out, cap, "...%s", path + n - (LUA_IDSIZE - 4));
}

bool vm_errors_split_location(vm_ctx *ctx, const char *s, const char **file, size_t *file_len,
                              int *line, const char **rest)
{
    for (int i = 0; i < ctx->n_user_chunks; i++) {
        char sh[LUA_IDSIZE + 8];
        short_src(ctx->user_chunks[i], sh, sizeof sh);
        size_t n = strlen(sh);
        if (strncmp(s, sh, n) != 0 || s[n] != ':') continue;
        const char *p = s + n + 1;
        if (*p < '0' || *p > '9') continue;
        long v = strtol(p, (char **)&p, 10);
        if (*p != ':') continue;
        p++;
        if (*p == ' ') p++;
        *file = ctx->user_chunks[i];
        *file_len = strlen(*file);
        *line = (int)v;
        *rest = p;
        return true;
    }
    return false;
}

/* by_dsl: the function was called by the embedded DSL (a procedure's or a
 * tool's function), whose local names mean nothing to the author. */
static void add_frame(luaL_Buffer *b, lua_Debug *ar, bool by_dsl)
{
    char line[VM_PATH_MAX + 160];
    const char *where;
    char fn[140];
    if (*ar->what == 'm') {
        where = "in main chunk";
    } else if (ar->name && *ar->namewhat && !by_dsl) {
        bool plain = strcmp(ar->namewhat, "local") == 0 || strcmp(ar->namewhat, "upvalue") == 0;
        snprintf(fn, sizeof fn, "in %s '%.100s'", plain ? ar->namewhat : "function", ar->name);
        where = fn;
    } else {
        snprintf(fn, sizeof fn, "in function <line %d>", ar->linedefined);
        where = fn;
    }
    snprintf(line, sizeof line, "%s:%d: %s", ar->source + 1, ar->currentline, where);
    if (luaL_bufflen(b) > 0) luaL_addchar(b, '\n');
    luaL_addstring(b, line);
}

/* Pushes the traceback of user frames from `level` up. */
static void push_traceback(lua_State *L, int level)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_Debug ar;
    int frames = 0;
    for (; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Slnt", &ar)) continue;
        if (ar.source[0] != '@' || ar.currentline <= 0) continue;
        if (frames++ == TRACEBACK_MAX_FRAMES) {
            luaL_addstring(&b, "\n...");
            break;
        }
        lua_Debug caller;
        bool by_dsl = lua_getstack(L, level + 1, &caller) && lua_getinfo(L, "S", &caller) &&
                      strncmp(caller.source, "=[tactus]", 9) == 0;
        add_frame(&b, &ar, by_dsl);
    }
    luaL_pushresult(&b);
}

static void set_error(vm_ctx *ctx, const char *message, const char *file, size_t file_len, int line,
                      const char *traceback)
{
    cJSON *e = cJSON_CreateObject();
    if (!e) return;
    cJSON_AddStringToObject(e, "message", message);
    if (file) {
        char *f = tx_strndup(file, file_len);
        cJSON_AddStringToObject(e, "file", f ? f : "");
        tx_free(f);
        if (line > 0)
            cJSON_AddNumberToObject(e, "line", line);
        else
            cJSON_AddNullToObject(e, "line");
    } else {
        cJSON_AddNullToObject(e, "file");
        cJSON_AddNullToObject(e, "line");
    }
    cJSON_AddStringToObject(e, "traceback", traceback ? traceback : "");
    cJSON_Delete(ctx->error);
    ctx->error = e;
}

/* Pushes the message text of the error value at idx (budget stops win). */
static const char *error_text(lua_State *L, vm_ctx *ctx, int idx)
{
    if (ctx->abort_kind != VM_ABORT_NONE) return lua_pushstring(L, ctx->abort_msg);
    if (lua_type(L, idx) == LUA_TSTRING) {
        const char *s = lua_tostring(L, idx);
        if (strcmp(s, "not enough memory") == 0 && ctx->budget.refused_any) {
            vm_abort(ctx, VM_ABORT_MEMORY, "memory budget exceeded (limit %zu bytes)",
                     ctx->budget.mem_limit);
            return lua_pushstring(L, ctx->abort_msg);
        }
        lua_pushvalue(L, idx);
        return s;
    }
    if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
        lua_pop(L, 1);
        return luaL_tolstring(L, idx, NULL);
    }
    return lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, idx));
}

/* Records ctx->error from the value at idx; with_stack when the stack of the
 * error is still there (inside the message handler). */
static void record(lua_State *L, int idx, bool with_stack)
{
    vm_ctx *ctx = vm_ctx_of(L);
    idx = lua_absindex(L, idx);
    const char *msg = error_text(L, ctx, idx);
    const char *file = NULL, *rest = msg;
    size_t file_len = 0;
    int line = 0;
    if (!vm_errors_split_location(ctx, msg, &file, &file_len, &line, &rest)) {
        rest = msg;
        file = NULL;
        if (with_stack && vm_user_location(L, 1, &file, &line)) {
            file_len = strlen(file);
        } else if (ctx->sample_line > 0) {
            file = ctx->sample_file;
            file_len = strlen(file);
            line = ctx->sample_line;
        } else if (ctx->n_user_chunks > 0) {
            /* No user frame left (a tail call replaced it): name the file at least. */
            file = ctx->user_chunks[0];
            file_len = strlen(file);
            line = 0;
        }
    }
    if (with_stack)
        push_traceback(L, 1);
    else
        lua_pushliteral(L, "");
    set_error(ctx, rest, file, file_len, line, lua_tostring(L, -1));
    lua_pop(L, 2);
}

int vm_errors_msgh(lua_State *L)
{
    record(L, 1, true);
    lua_settop(L, 1);
    return 1;
}

void vm_errors_record(lua_State *L, int idx)
{
    record(L, idx, false);
}
