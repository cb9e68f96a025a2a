/*
 * vm_json.c - Lua values <-> JSON (cJSON): the Json global, and the
 * conversion every protocol message goes through.
 *
 * Choices, all for determinism and for a host that parses strictly:
 *   - object keys are emitted sorted (Lua's `pairs` order changes from run to
 *     run; a replayed run must send byte-identical requests);
 *   - a table is an array when its keys are exactly 1..n, or when it is empty
 *     and marked as an array (arrays decoded from JSON and schema-typed
 *     arrays are marked), otherwise an object;
 *   - strings are made valid UTF-8 (invalid bytes and NUL become U+FFFD), so
 *     a frame is always valid JSON;
 *   - functions, coroutines, userdata, cycles, NaN and infinities are errors
 *     naming the path of the value (logs use the lenient mode instead);
 *   - JSON null decodes to nil; integral numbers decode to Lua integers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "vm_int.h"

#define BOX_TEXT       "tactus.box.text"

/* ---- helpers ---------------------------------------------------------------------------- */

const char *vm_push_clean_utf8(lua_State *L, const char *s, size_t n, size_t *out_len)
{
    size_t bad = tx_utf8_invalid_at(s, n);
    if (bad == n && memchr(s, '\0', n) == NULL) {
        lua_pushlstring(L, s, n);
        return lua_tolstring(L, -1, out_len);
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t i = 0;
    while (i < n) {
        size_t ok = tx_utf8_invalid_at(s + i, n - i);
        const char *nul = memchr(s + i, '\0', ok);
        if (nul) ok = (size_t)(nul - (s + i));
        luaL_addlstring(&b, s + i, ok);
        i += ok;
        if (i < n) {
            luaL_addstring(&b, "\xEF\xBF\xBD");
            i++;
        }
    }
    luaL_pushresult(&b);
    return lua_tolstring(L, -1, out_len);
}

void vm_json_mark_array(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_getfield(L, LUA_REGISTRYINDEX, VM_REG_ARRAYS);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

int vm_json_l_mark_array(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    vm_json_mark_array(L, 1);
    lua_settop(L, 1);
    return 1;
}

static bool is_marked_array(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_getfield(L, LUA_REGISTRYINDEX, VM_REG_ARRAYS);
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    bool marked = lua_toboolean(L, -1);
    lua_pop(L, 2);
    return marked;
}

/* ---- Lua -> cJSON ------------------------------------------------------------------------- */

typedef struct {
    lua_State *L;
    const vm_json_opts *o;
    int visiting; /* stack index of a table: tables being encoded (cycle check) */
    char path[256];
    size_t path_len;
} encoder;

static int encode_fail(encoder *e, const char *what)
{
    return luaL_error(e->L, "%s: cannot encode %s at %s", e->o->what, what,
                      e->path_len ? e->path : "the top level");
}

static void path_push_key(encoder *e, const char *key, size_t *saved)
{
    *saved = e->path_len;
    int n = snprintf(e->path + e->path_len, sizeof e->path - e->path_len, "%s%s",
                     e->path_len ? "." : "", key);
    if (n > 0) e->path_len = strnlen(e->path, sizeof e->path);
}

static void path_push_index(encoder *e, lua_Integer i, size_t *saved)
{
    *saved = e->path_len;
    snprintf(e->path + e->path_len, sizeof e->path - e->path_len, "[%lld]", (long long)i);
    e->path_len = strnlen(e->path, sizeof e->path);
}

static void path_pop(encoder *e, size_t saved)
{
    e->path_len = saved;
    e->path[saved] = '\0';
}

static cJSON *encode_value(encoder *e, int idx, int depth);
static void encode_into(encoder *e, int idx, cJSON **box, cJSON *parent, const char *key,
                        int depth);

static cJSON *make_string(lua_State *L, int idx)
{
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    if (tx_utf8_invalid_at(s, n) == n && memchr(s, '\0', n) == NULL) return cJSON_CreateString(s);
    size_t m;
    const char *clean = vm_push_clean_utf8(L, s, n, &m);
    cJSON *j = cJSON_CreateString(clean);
    lua_pop(L, 1);
    return j;
}

/* Attaches `child` (may be NULL: out of memory) to `parent`; raises on NULL. */
static void attach(encoder *e, cJSON *parent, const char *key, cJSON *child)
{
    if (!child) luaL_error(e->L, "%s: not enough memory", e->o->what);
    bool ok = key ? cJSON_AddItemToObject(parent, key, child) : cJSON_AddItemToArray(parent, child);
    if (!ok) {
        cJSON_Delete(child);
        luaL_error(e->L, "%s: not enough memory", e->o->what);
    }
}

typedef struct {
    int pos;          /* index in the key table */
    const char *text; /* key as emitted */
    size_t len;
} key_entry;

static int key_cmp(const void *a, const void *b)
{
    const key_entry *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->text, y->text, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Fills `node` (an array or object already attached to the tree) from the
 * table at idx. Every child is attached before it is filled, so a raise at
 * any point leaves the whole partial tree owned by the caller's box. */
static void fill_table(encoder *e, cJSON *node, bool as_array, int idx, int depth)
{
    lua_State *L = e->L;
    if (as_array) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
        for (lua_Integer i = 1; i <= n; i++) {
            size_t saved;
            path_push_index(e, i, &saved);
            lua_rawgeti(L, idx, i);
            encode_into(e, lua_gettop(L), NULL, node, NULL, depth + 1);
            lua_pop(L, 1);
            path_pop(e, saved);
        }
        return;
    }
    /* Object: collect keys, sort them, emit in order. */
    lua_newtable(L); /* keys by position */
    int keys = lua_gettop(L);
    lua_Integer count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        int kt = lua_type(L, -1);
        if (kt == LUA_TSTRING) {
            lua_pushvalue(L, -1);
        } else if (kt == LUA_TNUMBER) {
            char buf[64];
            if (lua_isinteger(L, -1))
                snprintf(buf, sizeof buf, "%lld", (long long)lua_tointeger(L, -1));
            else
                snprintf(buf, sizeof buf, "%.14g", (double)lua_tonumber(L, -1));
            lua_pushstring(L, buf);
        } else if (e->o->lenient) {
            continue;
        } else {
            char what[64];
            snprintf(what, sizeof what, "a table key of type %s", luaL_typename(L, -1));
            encode_fail(e, what);
        }
        /* keys[count+1] = {emitted text, original key} as two slots */
        lua_rawseti(L, keys, 2 * count + 1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, 2 * count + 2);
        count++;
    }
    if (count == 0) return;
    key_entry *entries = lua_newuserdatauv(L, (size_t)count * sizeof *entries, 0);
    for (lua_Integer i = 0; i < count; i++) {
        lua_rawgeti(L, keys, 2 * i + 1);
        entries[i].pos = (int)i;
        entries[i].text = lua_tolstring(L, -1, &entries[i].len); /* anchored in keys */
        lua_pop(L, 1);
    }
    qsort(entries, (size_t)count, sizeof *entries, key_cmp);
    for (lua_Integer i = 0; i < count; i++) {
        if (i > 0 && key_cmp(&entries[i - 1], &entries[i]) == 0) {
            if (e->o->lenient) continue;
            char what[300];
            snprintf(what, sizeof what, "a table with two keys named '%.200s'", entries[i].text);
            encode_fail(e, what);
        }
        size_t saved;
        path_push_key(e, entries[i].text, &saved);
        /* Keys must be valid UTF-8 without NUL, like values: clean them too. */
        size_t m;
        const char *k = vm_push_clean_utf8(L, entries[i].text, entries[i].len, &m);
        lua_rawgeti(L, keys, 2 * entries[i].pos + 2);
        lua_rawget(L, idx);
        encode_into(e, lua_gettop(L), NULL, node, k, depth + 1);
        lua_pop(L, 2);
        path_pop(e, saved);
    }
    lua_pop(L, 2); /* entries, keys */
}

static bool table_is_array(lua_State *L, int idx)
{
    lua_Integer n = 0, max = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1)) {
            lua_pop(L, 1);
            return false;
        }
        lua_Integer k = lua_tointeger(L, -1);
        if (k < 1) {
            lua_pop(L, 1);
            return false;
        }
        if (k > max) max = k;
        n++;
    }
    if (n == 0) return is_marked_array(L, idx);
    return max == n;
}

/* Returns a new node for a scalar (nothing can raise after it exists), NULL
 * when out of memory, or &table_marker for a table, which encode_into
 * creates, attaches, then fills. */
static cJSON table_marker;

static cJSON *encode_value(encoder *e, int idx, int depth)
{
    lua_State *L = e->L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return cJSON_CreateNull();
    case LUA_TBOOLEAN:
        return cJSON_CreateBool(lua_toboolean(L, idx));
    case LUA_TNUMBER: {
        double d = lua_isinteger(L, idx) ? (double)lua_tointeger(L, idx) : lua_tonumber(L, idx);
        if (!isfinite(d)) {
            if (e->o->lenient) return cJSON_CreateNull();
            encode_fail(e, isnan(d) ? "NaN" : "an infinite number");
        }
        return cJSON_CreateNumber(d);
    }
    case LUA_TSTRING:
        return make_string(L, idx);
    case LUA_TTABLE: {
        if (depth > TP_JSON_MAX_DEPTH) {
            if (e->o->lenient) return cJSON_CreateString("<too deep>");
            encode_fail(e, "a table nested too deeply");
        }
        luaL_checkstack(L, 8, "json nesting");
        lua_pushvalue(L, idx);
        lua_rawget(L, e->visiting);
        bool cycle = lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (cycle) {
            if (e->o->lenient) return cJSON_CreateString("<cycle>");
            encode_fail(e, "a table that contains itself");
        }
        return &table_marker; /* a table: encode_into creates and fills it */
    }
    default:
        if (e->o->lenient) {
            char buf[64];
            snprintf(buf, sizeof buf, "<%s>", luaL_typename(L, idx));
            return cJSON_CreateString(buf);
        }
        {
            char what[64];
            snprintf(what, sizeof what, "a %s value", luaL_typename(L, idx));
            encode_fail(e, what);
        }
        return NULL;
    }
}

/* Creates the node for the value at idx, attaches it (or stores it as the
 * root in *box), then fills it when it is a table. */
static void encode_into(encoder *e, int idx, cJSON **box, cJSON *parent, const char *key, int depth)
{
    lua_State *L = e->L;
    cJSON *node = encode_value(e, idx, depth);
    if (!node) luaL_error(L, "%s: not enough memory", e->o->what);
    bool table = node == &table_marker;
    bool as_array = false;
    if (table) {
        as_array = table_is_array(L, idx);
        node = as_array ? cJSON_CreateArray() : cJSON_CreateObject();
        if (!node) luaL_error(L, "%s: not enough memory", e->o->what);
    }
    if (parent)
        attach(e, parent, key, node);
    else
        *box = node;
    if (!table) return;
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, e->visiting);
    fill_table(e, node, as_array, idx, depth);
    lua_pushvalue(L, idx);
    lua_pushnil(L);
    lua_rawset(L, e->visiting);
}

void vm_json_from_lua(lua_State *L, int idx, cJSON **box, const vm_json_opts *o)
{
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 16, "json");
    encoder e = {L, o, 0, "", 0};
    lua_newtable(L);
    e.visiting = lua_gettop(L);
    encode_into(&e, idx, box, NULL, NULL, 0);
    lua_pop(L, 1);
}

/* ---- cJSON -> Lua ------------------------------------------------------------------------------
 */

static void push_number(lua_State *L, double d)
{
    if (d == floor(d) && fabs(d) < 9.2e18)
        lua_pushinteger(L, (lua_Integer)d);
    else
        lua_pushnumber(L, d);
}

void vm_json_push(lua_State *L, const cJSON *j)
{
    luaL_checkstack(L, 4, "json nesting");
    if (!j || cJSON_IsNull(j) || cJSON_IsInvalid(j)) {
        lua_pushnil(L);
    } else if (cJSON_IsBool(j)) {
        lua_pushboolean(L, cJSON_IsTrue(j));
    } else if (cJSON_IsNumber(j)) {
        push_number(L, j->valuedouble);
    } else if (cJSON_IsString(j) || cJSON_IsRaw(j)) {
        lua_pushstring(L, j->valuestring ? j->valuestring : "");
    } else if (cJSON_IsArray(j)) {
        lua_createtable(L, cJSON_GetArraySize(j), 0);
        vm_json_mark_array(L, -1);
        lua_Integer i = 1;
        const cJSON *c;
        cJSON_ArrayForEach(c, j)
        {
            vm_json_push(L, c);
            lua_rawseti(L, -2, i++);
        }
    } else {
        lua_createtable(L, 0, cJSON_GetArraySize(j));
        const cJSON *c;
        cJSON_ArrayForEach(c, j)
        {
            if (!c->string) continue;
            vm_json_push(L, c);
            lua_setfield(L, -2, c->string);
        }
    }
}

/* ---- the Json global ---------------------------------------------------------------------------
 */

static int box_text_gc(lua_State *L)
{
    char **box = luaL_checkudata(L, 1, BOX_TEXT);
    cJSON_free(*box);
    *box = NULL;
    return 0;
}

static int json_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    vm_json_opts o = {false, "Json.encode"};
    cJSON **tree = vm_box_json(L);
    vm_json_from_lua(L, 1, tree, &o);
    char **text = lua_newuserdatauv(L, sizeof *text, 0);
    *text = NULL;
    luaL_setmetatable(L, BOX_TEXT);
    *text = cJSON_PrintUnformatted(*tree);
    if (!*text) return luaL_error(L, "Json.encode: not enough memory");
    cJSON_Delete(*tree);
    *tree = NULL;
    lua_pushstring(L, *text);
    cJSON_free(*text);
    *text = NULL;
    return 1;
}

static int json_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    cJSON **tree = vm_box_json(L);
    char err[400];
    *tree = tp_json_parse_strict(s, n, TP_JSON_MAX_DEPTH, err, sizeof err);
    if (!*tree) return luaL_error(L, "Json.decode: %s", err);
    vm_json_push(L, *tree);
    cJSON_Delete(*tree);
    *tree = NULL;
    return 1;
}

int vm_json_open(lua_State *L)
{
    if (luaL_newmetatable(L, BOX_TEXT)) {
        lua_pushcfunction(L, box_text_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, json_encode);
    lua_setfield(L, -2, "encode");
    lua_pushcfunction(L, json_decode);
    lua_setfield(L, -2, "decode");
    return 1;
}
