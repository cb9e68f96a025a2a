/*
 * ck_mcp.c - MCP tools (TAC305-TAC307): what `tactus check` knows of the
 * host's MCP servers is what `tactus mcp refresh` cached in
 * .tactus/mcp-tools.json (the nearest, from the file's folder up): each
 * server's tools and their input schemas. With it, a Toolset { use =
 * "mcp.S" } naming a server it does not list, mcp.S.T naming a tool S does
 * not list (or include/exclude naming one), and a literal table of
 * arguments that does not fit T's schema are errors; without it, one note
 * per server that its tools are unchecked. The cache is read once per
 * checker and file (checked against its size and time, as the modules
 * cache is).
 */
#include <string.h>
#include <sys/stat.h>

#include "ck_internal.h"
#include <cjson/cJSON.h>

struct ck_mcp_cache {
    char path[4200];
    long long mtime, size;
    cJSON *doc; /* NULL: none or unreadable */
};

void ck_mcp_cache_free(struct ck_mcp_cache *c)
{
    if (!c) return;
    cJSON_Delete(c->doc);
    tx_free(c);
}

/* The nearest .tactus/mcp-tools.json above the file, parsed (cached). */
static const cJSON *cache_of(ck_run *r, char *where, size_t cap)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", r->f->path ? r->f->path : "");
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    for (int up = 0; up < 64; up++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/.tactus/mcp-tools.json", dir);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            snprintf(where, cap, "%s", path);
            struct ck_mcp_cache *c = r->ck->mcp;
            if (!c && !(c = r->ck->mcp = tx_calloc(1, sizeof *c))) return NULL;
            if (strcmp(c->path, path) != 0 || c->mtime != (long long)st.st_mtime || c->size != (long long)st.st_size) {
                cJSON_Delete(c->doc);
                c->doc = NULL;
                snprintf(c->path, sizeof c->path, "%s", path);
                c->mtime = (long long)st.st_mtime;
                c->size = (long long)st.st_size;
                char *text = NULL;
                size_t n = 0;
                int e;
                if (tx_read_file(path, 64u << 20, &text, &n, &e) == TX_OK) c->doc = cJSON_ParseWithLength(text, n);
                tx_free(text);
            }
            return c->doc;
        }
        char *s = strrchr(dir, '/');
        if (!s || s == dir) {
            if (strcmp(dir, ".") == 0 || s == dir) break;
            snprintf(dir, sizeof dir, ".");
            continue;
        }
        *s = '\0';
    }
    return NULL;
}

static const cJSON *server_entry(const cJSON *doc, const char *server)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "servers"), server);
}

static const cJSON *tool_entry(const cJSON *srv, const char *tool)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(srv, "tools"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(t, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, tool) == 0) return t;
    }
    return NULL;
}

static const char *nearest_tool(const cJSON *srv, const char *tool)
{
    const char *names[256];
    size_t n = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(srv, "tools"))
    {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(t, "name");
        if (cJSON_IsString(nm) && n < 256) names[n++] = nm->valuestring;
    }
    return ck_nearest_name(tool, names, n);
}

/* The JSON Schema type of a property, as the checker's. */
static fe_type json_type(const cJSON *prop)
{
    const char *t = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(prop, "type"))
                        ? cJSON_GetObjectItemCaseSensitive(prop, "type")->valuestring
                        : "";
    if (!strcmp(t, "string")) return FE_TYPE_STRING;
    if (!strcmp(t, "number")) return FE_TYPE_NUMBER;
    if (!strcmp(t, "integer")) return FE_TYPE_INTEGER;
    if (!strcmp(t, "boolean")) return FE_TYPE_BOOLEAN;
    if (!strcmp(t, "array")) return FE_TYPE_ARRAY;
    if (!strcmp(t, "object")) return FE_TYPE_OBJECT;
    return FE_TYPE_ANY;
}

/* A literal table of arguments against the tool's input schema: required
 * properties, unknown ones when additionalProperties is false, and the
 * type of each literal value. */
static void check_args(ck_run *r, const char *server, const char *tool, const cJSON *schema,
                       const fe_value *args, tx_span at)
{
    if (!cJSON_IsObject(schema)) return;
    /* The cache is a project file (a clone can bring any): every shape is
     * checked before use, never assumed. */
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    if (!cJSON_IsObject(props)) props = NULL;
    const cJSON *required = cJSON_GetObjectItemCaseSensitive(schema, "required");
    if (!cJSON_IsArray(required)) required = NULL;
    if (!args) {
        const cJSON *first = cJSON_GetArrayItem(required, 0);
        if (cJSON_IsString(first))
            ck_report(r, "TAC306", at, "MCP tool %s.%s is called without arguments; it requires '%s'",
                      server, tool, first->valuestring);
        return;
    }
    if (args->kind != FE_TABLE) return; /* dynamic: unknown */
    const cJSON *req;
    cJSON_ArrayForEach(req, required)
    {
        if (cJSON_IsString(req) && !fe_value_get(args, req->valuestring))
            ck_report(r, "TAC306", args->span,
                      "MCP tool %s.%s requires the argument '%s' (per .tactus/mcp-tools.json); add "
                      "%s = ...",
                      server, tool, req->valuestring, req->valuestring);
    }
    bool closed = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties"));
    for (const fe_entry *e = args->entries; e; e = e->next) {
        if (!e->key) continue;
        const cJSON *p = props ? cJSON_GetObjectItemCaseSensitive(props, e->key) : NULL;
        if (!p) {
            if (!closed) continue;
            const char *names[128];
            size_t n = 0;
            const cJSON *q;
            cJSON_ArrayForEach(q, props) if (n < 128) names[n++] = q->string;
            const char *near = ck_nearest_name(e->key, names, n);
            ck_report(r, "TAC306", e->key_span,
                      "MCP tool %s.%s takes no argument '%s'%s%s%s; its arguments are given by "
                      "its input schema (tactus mcp list)",
                      server, tool, e->key, near ? " (did you mean '" : "", near ? near : "",
                      near ? "'?)" : "");
            continue;
        }
        fe_type t = json_type(p);
        if (t != FE_TYPE_ANY && !ck_value_fits(e->value, t)) {
            char buf[64];
            ck_report(r, "TAC306", e->value->span,
                      "argument '%s' of MCP tool %s.%s is %s, but its schema says %s", e->key,
                      server, tool, ck_value_repr(e->value, buf, sizeof buf), fe_type_name(t));
        }
    }
}

/* One use of server (and tool, when named): TAC305, TAC306, or the note. */
static void check_use(ck_run *r, const char *server, const char *tool, const fe_value *call,
                      tx_span at, const cJSON *doc, const char *where, tx_map *noted)
{
    if (!doc) {
        if (tx_map_get(noted, server, strlen(server))) return;
        if (tx_map_put(noted, server, strlen(server), (void *)server) != TX_OK) r->out->oom = true;
        ck_report(r, "TAC307", at,
                  "the tools of MCP server '%s' are unchecked: no .tactus/mcp-tools.json is above "
                  "this file; run `tactus mcp refresh` in the project to cache them",
                  server);
        return;
    }
    const cJSON *srv = server_entry(doc, server);
    if (!srv) {
        ck_report(r, "TAC305", at,
                  "no MCP server '%s' in %s (the servers `tactus mcp refresh` found in the host's "
                  "mcp_servers); declare it there and refresh, or fix the name",
                  server, where);
        return;
    }
    if (!tool) return;
    const cJSON *t = tool_entry(srv, tool);
    if (!t) {
        const char *near = nearest_tool(srv, tool);
        ck_report(r, "TAC305", at,
                  "MCP server '%s' offers no tool '%s' (per %s: the tools the host's "
                  "mcp_servers.%s allows)%s%s%s",
                  server, tool, where, server, near ? "; did you mean '" : "", near ? near : "",
                  near ? "'?" : "");
        return;
    }
    if (call) check_args(r, server, tool, cJSON_GetObjectItemCaseSensitive(t, "input_schema"),
                         fe_value_at(call, 0), at);
}

static bool server_prefix(const char *server, size_t sn, const char *name)
{
    return sn > 0 && strncmp(name, server, sn) == 0 && name[sn] == '_' && name[sn + 1];
}

bool ck_mcp_tool_name(const fe_file *f, const char *name)
{
    for (const fe_tool *t = f->tools; t; t = t->next)
        if (t->kind == FE_TOOL_TOOLSET && t->use && strncmp(t->use, "mcp.", 4) == 0 &&
            server_prefix(t->use + 4, strlen(t->use + 4), name))
            return true;
    for (const fe_ref *ref = f->refs; ref; ref = ref->next)
        if (strncmp(ref->name, "mcp.", 4) == 0 &&
            server_prefix(ref->name + 4, strcspn(ref->name + 4, "."), name))
            return true;
    return false;
}

void ck_rule_mcp(ck_run *r)
{
    char where[4200] = ".tactus/mcp-tools.json";
    const cJSON *doc = NULL;
    bool looked = false;
    tx_map noted;
    tx_map_init(&noted);
    for (const fe_tool *t = r->f->tools; t; t = t->next) {
        if (t->kind != FE_TOOL_TOOLSET || !t->use || strncmp(t->use, "mcp.", 4) != 0) continue;
        if (!looked) doc = cache_of(r, where, sizeof where), looked = true;
        tx_span at = fe_value_get(t->config, "use")->span;
        check_use(r, t->use + 4, NULL, NULL, at, doc, where, &noted);
        const cJSON *srv = doc ? server_entry(doc, t->use + 4) : NULL;
        const char *lists[] = {"include", "exclude"};
        for (int k = 0; k < 2 && srv; k++) {
            const fe_value *l = fe_value_get(t->config, lists[k]);
            for (const fe_entry *e = l && l->kind == FE_TABLE ? l->entries : NULL; e; e = e->next)
                if (e->value->kind == FE_STRING)
                    check_use(r, t->use + 4, e->value->str, NULL, e->value->span, doc, where, &noted);
        }
    }
    for (const fe_ref *ref = r->f->refs; ref; ref = ref->next) {
        if (strncmp(ref->name, "mcp.", 4) != 0 || ref->is_assignment) continue;
        char server[128];
        const char *rest = ref->name + 4;
        size_t sn = strcspn(rest, ".");
        if (sn == 0 || sn >= sizeof server) continue;
        memcpy(server, rest, sn);
        server[sn] = '\0';
        const char *tool = rest[sn] == '.' ? rest + sn + 1 : NULL;
        /* mcp.S.T.called(): the handle's own members, not another tool */
        char tbuf[256];
        if (tool) {
            size_t tn = strcspn(tool, ".");
            if (tn >= sizeof tbuf) continue;
            memcpy(tbuf, tool, tn);
            tbuf[tn] = '\0';
            tool = tbuf;
        }
        /* A bare mcp.S (as in mcp.S["get-sum"]) names only the server; a
         * member read that is not a call is checked as a tool too. */
        if (!looked) doc = cache_of(r, where, sizeof where), looked = true;
        bool direct_call = ref->is_call && tool && !strchr(rest + sn + 1, '.');
        check_use(r, server, tool, direct_call ? ref->call : NULL, ref->span, doc, where, &noted);
    }
    tx_map_free(&noted);
}
