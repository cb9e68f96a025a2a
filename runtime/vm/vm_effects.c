/*
 * vm_effects.c - the protocol client: every effect of a procedure leaves the
 * sandbox here, as a request or a notification on the runtime's output
 * (docs/protocol.md), and every answer comes back here.
 *
 * Threats and rules:
 *   - the host's frames are checked: an answer must carry the id of the one
 *     request in flight and a known event; anything else, a read error or end
 *     of file is a protocol failure, which stops the run for good (fail
 *     closed: a sticky abort, no retry, no guessing);
 *   - after a sticky abort (budget, suspension) no effect is sent: a script
 *     that catches the error cannot keep talking to the world;
 *   - after run.finish nothing is sent at all;
 *   - Lua's own print would write on stdout and corrupt the frame stream: it
 *     is replaced by a log.emit notification.
 */
#include <string.h>

#include "proto.h"
#include "vm_int.h"

tx_status vm_effect_write(vm_ctx *ctx, const cJSON *frame)
{
    vm_watchdog_enter_write();
    tx_status st = tp_write_frame(ctx->out_fd, frame);
    vm_watchdog_leave_write();
    return st;
}

static int protocol_failure(lua_State *L, vm_ctx *ctx, const char *what, const char *method,
                            long id)
{
    vm_abort(ctx, VM_ABORT_PROTOCOL, "protocol error: %s (%s, request %ld)", what, method, id);
    vm_abort_check(L);
    return 0;
}

static void send_checks(lua_State *L, vm_ctx *ctx, const char *method)
{
    vm_abort_check(L);
    if (ctx->finished) luaL_error(L, "%s: the run has finished; no more effects", method);
}

int vm_effect_request(lua_State *L, const char *method, int box_idx, long *id_out)
{
    vm_ctx *ctx = vm_ctx_of(L);
    box_idx = lua_absindex(L, box_idx);
    cJSON **box = lua_touserdata(L, box_idx);
    send_checks(L, ctx, method);
    long id = ctx->next_id++;
    if (id_out) *id_out = id;
    cJSON *frame = tp_request(id, method, *box);
    *box = frame; /* tp_request took the params (and freed them on failure) */
    if (!frame) return luaL_error(L, "%s: not enough memory", method);
    tx_status st = vm_effect_write(ctx, frame);
    cJSON_Delete(*box);
    *box = NULL;
    if (st == TX_ELIMIT)
        return luaL_error(L, "%s: the request is larger than the %u MiB frame limit", method,
                          TP_MAX_FRAME >> 20);
    if (st == TX_ENOMEM) return luaL_error(L, "%s: not enough memory", method);
    if (st != TX_OK) return protocol_failure(L, ctx, "cannot write to the host", method, id);

    for (;;) {
        cJSON *msg = NULL;
        st = tp_read_frame(ctx->in_fd, TP_MAX_FRAME, &msg);
        if (st != TX_OK) {
            const char *why = st == TX_ENOENT   ? "the host closed the connection"
                              : st == TX_ELIMIT ? "an answer larger than the frame limit"
                              : st == TX_EINVAL ? "a malformed frame"
                              : st == TX_ENOMEM ? "not enough memory for an answer"
                                                : "cannot read from the host";
            return protocol_failure(L, ctx, why, method, id);
        }
        *box = msg;
        const cJSON *jid = cJSON_GetObjectItemCaseSensitive(msg, "id");
        const cJSON *event = cJSON_GetObjectItemCaseSensitive(msg, "event");
        if (!cJSON_IsNumber(jid) || (long)jid->valuedouble != id)
            return protocol_failure(L, ctx, "an answer for another request", method, id);
        if (!cJSON_IsString(event))
            return protocol_failure(L, ctx, "an answer without an event", method, id);
        if (strcmp(event->valuestring, "delta") == 0) {
            /* Streaming text is for the host's display; the runtime waits for done. */
            cJSON_Delete(msg);
            *box = NULL;
            continue;
        }
        int ok;
        if (strcmp(event->valuestring, "done") == 0) {
            vm_json_push(L, cJSON_GetObjectItemCaseSensitive(msg, "data"));
            ok = 1;
        } else if (strcmp(event->valuestring, "error") == 0) {
            const cJSON *err = cJSON_GetObjectItemCaseSensitive(msg, "error");
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(err, "type");
            const cJSON *text = cJSON_GetObjectItemCaseSensitive(err, "message");
            lua_createtable(L, 0, 2);
            lua_pushstring(L, cJSON_IsString(type) ? type->valuestring : "Error");
            lua_setfield(L, -2, "type");
            lua_pushstring(L, cJSON_IsString(text) ? text->valuestring : "the host gave no reason");
            lua_setfield(L, -2, "message");
            ok = 0;
        } else {
            return protocol_failure(L, ctx, "an unknown event", method, id);
        }
        cJSON_Delete(*box);
        *box = NULL;
        lua_remove(L, box_idx);
        return ok;
    }
}

void vm_effect_notify(lua_State *L, const char *method, int box_idx)
{
    vm_ctx *ctx = vm_ctx_of(L);
    box_idx = lua_absindex(L, box_idx);
    cJSON **box = lua_touserdata(L, box_idx);
    /* Logs after a stop or after the finish are dropped, not errors: the
     * sticky abort raises at the next instruction anyway. */
    if (ctx->finished || ctx->abort_kind != VM_ABORT_NONE) {
        lua_remove(L, box_idx);
        return;
    }
    cJSON *frame = tp_request(-1, method, *box);
    *box = frame;
    if (!frame) {
        luaL_error(L, "%s: not enough memory", method);
        return;
    }
    tx_status st = vm_effect_write(ctx, frame);
    cJSON_Delete(*box);
    *box = NULL;
    lua_remove(L, box_idx);
    if (st == TX_ELIMIT) {
        luaL_error(L, "%s: the message is larger than the frame limit", method);
    } else if (st == TX_ENOMEM) {
        luaL_error(L, "%s: not enough memory", method);
    } else if (st != TX_OK) {
        protocol_failure(L, ctx, "cannot write to the host", method, -1);
    }
}

/* ---- user locations ------------------------------------------------------------------------- */

bool vm_user_location(lua_State *L, int first_level, const char **file, int *line)
{
    lua_Debug ar;
    for (int level = first_level; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar)) continue;
        /* User chunks are named "@path"; the embedded DSL is named "=[tactus]..." */
        if (ar.source[0] == '@' && ar.currentline > 0) {
            *file = ar.source + 1;
            *line = ar.currentline;
            return true;
        }
    }
    return false;
}

/* vm.where() -> file, line of the innermost .tac frame, or nil */
int vm_effects_l_where(lua_State *L)
{
    const char *file;
    int line;
    if (!vm_user_location(L, 1, &file, &line)) return 0;
    lua_pushstring(L, file);
    lua_pushinteger(L, line);
    return 2;
}

/* vm.function_lines(fn) -> chunk, {line, ...}: the chunk name ("@path")
 * and the sorted lines holding fn's own code (not its nested functions'),
 * or nil for a C function. Messages use it to name a procedure's return
 * lines (procedure.lua). */
int vm_effects_l_function_lines(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_Debug ar;
    lua_pushvalue(L, 1);
    if (!lua_getinfo(L, ">SL", &ar) || !lua_istable(L, -1)) return 0;
    int active = lua_gettop(L);
    /* The main chunk has no lastlinedefined: the last active line bounds it. */
    lua_Integer last = ar.lastlinedefined;
    lua_pushnil(L);
    while (lua_next(L, active)) {
        lua_pop(L, 1);
        if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > last) last = lua_tointeger(L, -1);
    }
    lua_pushstring(L, ar.source ? ar.source : "");
    lua_newtable(L);
    lua_Integer n = 0;
    for (lua_Integer line = ar.linedefined > 0 ? ar.linedefined : 1; line <= last; line++) {
        if (lua_rawgeti(L, active, line) != LUA_TNIL) {
            lua_pushinteger(L, line);
            lua_rawseti(L, -3, ++n);
        }
        lua_pop(L, 1);
    }
    return 2;
}

/* ---- Lua bindings for the DSL (private: never reachable from user code) -------------------- */

/* vm.request(method, params) -> ok, data_or_error, id */
int vm_effects_l_request(lua_State *L)
{
    const char *method = luaL_checkstring(L, 1);
    lua_settop(L, 2);
    cJSON **box = vm_box_json(L);
    vm_json_opts o = {false, method};
    if (!lua_isnil(L, 2)) vm_json_from_lua(L, 2, box, &o);
    /* The .tac line of the call: the journal names it when a replay finds
     * the request changed. It is not part of the request's fingerprint. */
    const char *file;
    int line;
    if (cJSON_IsObject(*box) && vm_user_location(L, 1, &file, &line) &&
        !cJSON_HasObjectItem(*box, "line"))
        cJSON_AddNumberToObject(*box, "line", line);
    long id = 0;
    int ok = vm_effect_request(L, method, 3, &id);
    lua_pushboolean(L, ok);
    lua_insert(L, -2);
    lua_pushinteger(L, id);
    return 3;
}

/* vm.notify(method, params): logs are lenient (a function in a log context
 * becomes "<function>", never a failed run) */
int vm_effects_l_notify(lua_State *L)
{
    const char *method = luaL_checkstring(L, 1);
    lua_settop(L, 2);
    cJSON **box = vm_box_json(L);
    vm_json_opts o = {true, method};
    if (!lua_isnil(L, 2)) vm_json_from_lua(L, 2, box, &o);
    vm_effect_notify(L, method, 3);
    return 0;
}

/* vm.suspend(params, request_id): the host answered `Suspended`; the run
 * ends with status "waiting" and this request in `pending`. Never returns. */
int vm_effects_l_suspend(lua_State *L)
{
    vm_ctx *ctx = vm_ctx_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer id = luaL_checkinteger(L, 2);
    lua_settop(L, 2);
    cJSON **box = vm_box_json(L);
    vm_json_opts o = {true, "pending request"};
    vm_json_from_lua(L, 1, box, &o);
    cJSON *list = cJSON_CreateArray();
    if (!list || !cJSON_IsObject(*box)) {
        cJSON_Delete(list);
        return luaL_error(L, "vm.suspend: not enough memory");
    }
    cJSON_AddNumberToObject(*box, "request_id", (double)id);
    cJSON_AddItemToArray(list, *box);
    *box = NULL;
    cJSON_Delete(ctx->pending);
    ctx->pending = list;
    vm_abort(ctx, VM_ABORT_SUSPENDED, "the run is waiting for a human answer (request %lld)",
             (long long)id);
    vm_abort_check(L);
    return 0;
}

/* print(...) -> log.emit {level = "print", message, line} */
int vm_effects_l_print(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *s = luaL_tolstring(L, i, &len);
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_addvalue(&b);
        (void)s;
        (void)len;
    }
    luaL_pushresult(&b);
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    const char *file;
    int line = 0;
    bool has_line = vm_user_location(L, 1, &file, &line);
    cJSON **box = vm_box_json(L);
    *box = cJSON_CreateObject();
    if (!*box) return luaL_error(L, "print: not enough memory");
    cJSON_AddStringToObject(*box, "level", "print");
    size_t m;
    const char *clean = vm_push_clean_utf8(L, msg, len, &m);
    cJSON_AddStringToObject(*box, "message", clean);
    lua_pop(L, 1);
    if (has_line) cJSON_AddNumberToObject(*box, "line", line);
    vm_effect_notify(L, "log.emit", -1);
    return 0;
}
