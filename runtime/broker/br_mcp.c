/*
 * br_mcp.c - MCP servers as brokered tools. The host's (trusted)
 * configuration declares them:
 *
 *   mcp_servers:
 *     files:
 *       command: ["node", "/opt/mcp/fs.js", "/data"]   # or command: "node", args: [...]
 *       env: { LOG_LEVEL: warn, TOKEN: "${secret:FS_TOKEN}" }  # all it gets
 *       isolate: process            # or docker, with image:
 *       network: { allow: ["api.example.com:443"] }   # docker only (br_mcp_net.c)
 *       tools: { include: [read_file] }               # or exclude: [...]
 *       requires_approval: [write_file]               # or true: every tool
 *       timeout: 30                 # seconds per request
 *       max_message: 16777216       # bytes: the largest answer taken
 *       limits: { memory: 4g, cpu: 3600, files: 1024, file_size: 1g }
 *     search:
 *       url: "https://mcp.example.com/mcp"             # Streamable HTTP
 *       headers: { Authorization: "Bearer ${secret:SEARCH_TOKEN}" }
 *       allow_hosts: ["mcp.example.com"]
 *
 * The runtime names a tool "mcp.SERVER.TOOL" in tool.call and asks for a
 * server's tools with mcp.tools: it only ever gets names and schemas.
 * Servers start on first use and stop with the broker (the run). Deny by
 * default: a server not configured, a tool filtered out, or a tool the
 * server does not list is refused before anything reaches the server; a
 * server that changes a tool's schema during the run (a rug pull) is
 * refused too. What a server answers is redacted by br_handle like every
 * reply. The declaration is checked and made into a client in
 * br_mcp_start.c.
 */
#include <string.h>

#include "br_internal.h"

#define MAX_SERVERS 64

typedef struct {
    char name[64];
    mcp_client *client;
    br_egress *egress; /* its network's allow-list (isolate: docker), or NULL */
    cJSON *tools; /* the (filtered) list the run was given; NULL until listed */
} live_server;

struct br_mcp {
    live_server servers[MAX_SERVERS];
    size_t n;
};

br_mcp *br_mcp_new(void)
{
    return tx_calloc(1, sizeof(br_mcp));
}

void br_mcp_free(br_mcp *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) {
        mcp_client_free(m->servers[i].client); /* stopped first: its network goes after it */
        br_egress_free(m->servers[i].egress);
        cJSON_Delete(m->servers[i].tools);
    }
    tx_free(m);
}

static const cJSON *server_spec(const br_broker *b, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b->config, "mcp_servers"), name);
}

bool br_mcp_in_list(const cJSON *list, const char *name)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, list) if (cJSON_IsString(v) && strcmp(v->valuestring, name) == 0) return true;
    return false;
}

/* tools: {include: [...]} keeps those only; {exclude: [...]} drops those. */
static bool tool_permitted(const cJSON *spec, const char *tool)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(spec, "tools");
    const cJSON *inc = cJSON_GetObjectItemCaseSensitive(f, "include");
    const cJSON *exc = cJSON_GetObjectItemCaseSensitive(f, "exclude");
    if (cJSON_IsArray(inc) && !br_mcp_in_list(inc, tool)) return false;
    return !br_mcp_in_list(exc, tool);
}

/* "mcp.SERVER.TOOL" -> server, tool; false when it is not an MCP name. */
static bool split_name(const char *name, char *server, size_t scap, const char **tool)
{
    if (!name || strncmp(name, "mcp.", 4) != 0) return false;
    const char *dot = strchr(name + 4, '.');
    if (!dot || dot == name + 4 || (size_t)(dot - name - 4) >= scap || !dot[1]) return false;
    snprintf(server, scap, "%.*s", (int)(dot - name - 4), name + 4);
    *tool = dot + 1;
    return true;
}

bool br_mcp_needs_approval(const br_broker *b, const char *name)
{
    char server[64];
    const char *tool;
    if (!split_name(name, server, sizeof server, &tool)) return false;
    const cJSON *ra = cJSON_GetObjectItemCaseSensitive(server_spec(b, server), "requires_approval");
    return cJSON_IsTrue(ra) || br_mcp_in_list(ra, tool);
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* The live server NAME, made (not started) on first use. */
static live_server *server_of(br_broker *b, const char *name, char *err, size_t cap)
{
    for (size_t i = 0; i < b->mcp->n; i++)
        if (strcmp(b->mcp->servers[i].name, name) == 0) return &b->mcp->servers[i];
    const cJSON *spec = server_spec(b, name);
    if (!valid_name(name) || !cJSON_IsObject(spec)) {
        snprintf(err, cap, "no MCP server named \"%.64s\" in mcp_servers (the host's configuration: "
                           "~/.config/tactus/config.yml, or a trusted project file)", name);
        return NULL;
    }
    if (b->mcp->n >= MAX_SERVERS) {
        snprintf(err, cap, "more than %d MCP servers in one run", MAX_SERVERS);
        return NULL;
    }
    br_egress *egress = NULL;
    mcp_client *c = br_mcp_client_new(b, name, spec, &egress, err, cap);
    if (!c) return NULL;
    live_server *s = &b->mcp->servers[b->mcp->n++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->client = c;
    s->egress = egress;
    s->tools = NULL;
    return s;
}

/* ---- calls -------------------------------------------------------------------------------- */

typedef struct {
    br_broker *b;
    const char *server, *tool;
} call_ctx;

static bool interrupted(void *ud)
{
    return br_is_interrupted(((call_ctx *)ud)->b);
}

/* notifications/progress -> a delta {progress: {server, tool, progress,
 * total?, message?}}, redacted, for the run's events. */
static void on_progress(void *ud, const cJSON *params)
{
    call_ctx *x = ud;
    if (!x->b->user_delta) return;
    cJSON *d = cJSON_CreateObject();
    cJSON *p = cJSON_AddObjectToObject(d, "progress");
    cJSON_AddStringToObject(p, "server", x->server);
    cJSON_AddStringToObject(p, "tool", x->tool);
    const char *keys[] = {"progress", "total", "message"};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, keys[i]);
        if (cJSON_IsNumber(v) || cJSON_IsString(v)) cJSON_AddItemToObject(p, keys[i], cJSON_Duplicate(v, 1));
    }
    br_redact(x->b, d, 0);
    x->b->user_delta(x->b->user_ud, d);
    cJSON_Delete(d);
}

static cJSON *mcp_error_event(long id, const mcp_error *e)
{
    return br_error_event(id, mcp_status_type(e->status), e->message);
}

/* The server's tools, filtered by the configuration, listed once per run
 * (and again after list_changed). */
static cJSON *list_filtered(br_broker *b, live_server *s, const mcp_call_opts *o, mcp_error *e)
{
    cJSON *all = NULL;
    if (mcp_list_tools(s->client, o, &all, e) != MCP_OK) return NULL;
    const cJSON *spec = server_spec(b, s->name);
    cJSON *kept = cJSON_CreateArray();
    cJSON *t;
    while ((t = cJSON_DetachItemFromArray(all, 0))) {
        if (tool_permitted(spec, hl_json_str(t, "name")))
            cJSON_AddItemToArray(kept, t);
        else
            cJSON_Delete(t);
    }
    cJSON_Delete(all);
    return kept;
}

static const cJSON *find_tool(const cJSON *tools, const char *name)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, tools)
    {
        const char *n = hl_json_str(t, "name");
        if (n && strcmp(n, name) == 0) return t;
    }
    return NULL;
}

/* mcp.tools {server}: the server's permitted tools as names and schemas:
 * {tools: [{name, description, input_schema, output_schema?}], server:
 * {name, version, info}}. Under --mock no server starts: an empty list
 * marked placeholder (the file's Mocks answer its tools). */
cJSON *br_mcp_tools(br_broker *b, long id, const cJSON *params)
{
    const char *server = hl_json_str(params, "server");
    if (!server) return br_error_event(id, "BadRequest", "mcp.tools needs params.server");
    char err[700] = "";
    live_server *s = server_of(b, server, err, sizeof err);
    if (!s) return br_error_event(id, "ToolNotAllowed", err);
    cJSON *data = cJSON_CreateObject();
    cJSON *out = cJSON_AddArrayToObject(data, "tools");
    if (b->mock_all) {
        cJSON_AddTrueToObject(data, "placeholder");
        return tp_event(id, "done", data);
    }
    call_ctx x = {b, server, ""};
    mcp_call_opts o = {b->deadline_ms, NULL, interrupted, &x};
    mcp_error e = {0};
    if (!s->tools || mcp_take_tools_changed(s->client)) {
        cJSON *list = list_filtered(b, s, &o, &e);
        if (!list) {
            cJSON_Delete(data);
            return mcp_error_event(id, &e);
        }
        cJSON_Delete(s->tools);
        s->tools = list;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, s->tools)
    {
        cJSON *o2 = cJSON_CreateObject();
        cJSON_AddStringToObject(o2, "name", hl_json_str(t, "name"));
        const char *d = hl_json_str(t, "description");
        cJSON_AddStringToObject(o2, "description", d ? d : "");
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(t, "inputSchema");
        cJSON_AddItemToObject(o2, "input_schema", cJSON_IsObject(in) ? cJSON_Duplicate(in, 1) : cJSON_CreateObject());
        const cJSON *outs = cJSON_GetObjectItemCaseSensitive(t, "outputSchema");
        if (cJSON_IsObject(outs)) cJSON_AddItemToObject(o2, "output_schema", cJSON_Duplicate(outs, 1));
        cJSON_AddItemToArray(out, o2);
    }
    cJSON *srv = cJSON_AddObjectToObject(data, "server");
    cJSON_AddStringToObject(srv, "name", server);
    cJSON_AddStringToObject(srv, "protocol_version", mcp_version(s->client));
    const cJSON *info = mcp_server_info(s->client);
    if (info) cJSON_AddItemToObject(srv, "info", cJSON_Duplicate(info, 1));
    return tp_event(id, "done", data);
}

/* What a procedure gets of a CallToolResult: structuredContent when there
 * is one, else a lone text as a string, else the content list (texts as
 * strings, other items as they are). */
static cJSON *result_value(const cJSON *r)
{
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(r, "structuredContent");
    if (sc && !cJSON_IsNull(sc)) return cJSON_Duplicate(sc, 1);
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(r, "content");
    if (cJSON_GetArraySize(content) == 1 && hl_json_str(cJSON_GetArrayItem(content, 0), "text"))
        return cJSON_CreateString(hl_json_str(cJSON_GetArrayItem(content, 0), "text"));
    cJSON *list = cJSON_CreateArray();
    const cJSON *item;
    cJSON_ArrayForEach(item, content)
    {
        const char *type = hl_json_str(item, "type"), *text = hl_json_str(item, "text");
        if (type && strcmp(type, "text") == 0 && text)
            cJSON_AddItemToArray(list, cJSON_CreateString(text));
        else
            cJSON_AddItemToArray(list, cJSON_Duplicate(item, 1));
    }
    return list;
}

/* The texts of an isError result, for the ToolError's message. */
static void error_text(const cJSON *r, char *out, size_t cap)
{
    tx_buf t;
    tx_buf_init(&t, cap);
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(r, "content"))
    {
        const char *text = hl_json_str(item, "text");
        if (!text) continue;
        if (t.len) tx_buf_puts(&t, "; ");
        tx_buf_append(&t, text, strlen(text) < cap / 2 ? strlen(text) : cap / 2);
    }
    snprintf(out, cap, "%s", t.data ? t.data : "(no text)");
    tx_buf_free(&t);
}

/* Whether a JSON value has a JSON Schema type ("integer": a whole number). */
static bool has_type(const cJSON *v, const char *type)
{
    if (!strcmp(type, "string")) return cJSON_IsString(v);
    if (!strcmp(type, "number")) return cJSON_IsNumber(v);
    if (!strcmp(type, "integer")) return cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble;
    if (!strcmp(type, "boolean")) return cJSON_IsBool(v);
    if (!strcmp(type, "object")) return cJSON_IsObject(v);
    if (!strcmp(type, "array")) return cJSON_IsArray(v);
    if (!strcmp(type, "null")) return cJSON_IsNull(v);
    return true; /* a type we do not know: not ours to refuse */
}

/* A tool that declares an outputSchema must send structuredContent that
 * fits it (the spec: servers MUST, clients SHOULD check). Checked here: an
 * object, its required properties there, and the top-level types of the
 * properties the schema types; false with the reason. (No JSON Schema
 * library is packaged for C; this is the part a procedure relies on.) */
static bool fits_output_schema(const cJSON *tool, const cJSON *r, char *why, size_t cap)
{
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(tool, "outputSchema");
    if (!cJSON_IsObject(schema)) return true;
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(r, "structuredContent");
    if (!cJSON_IsObject(sc)) {
        snprintf(why, cap, "it declares an outputSchema but sent %s", sc ? "structuredContent that is not an object" : "no structuredContent");
        return false;
    }
    const cJSON *req;
    cJSON_ArrayForEach(req, cJSON_GetObjectItemCaseSensitive(schema, "required"))
    {
        if (cJSON_IsString(req) && !cJSON_GetObjectItemCaseSensitive(sc, req->valuestring)) {
            snprintf(why, cap, "its structuredContent lacks '%.100s', which its outputSchema requires", req->valuestring);
            return false;
        }
    }
    const cJSON *prop;
    cJSON_ArrayForEach(prop, cJSON_GetObjectItemCaseSensitive(schema, "properties"))
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(sc, prop->string);
        const char *type = hl_json_str(prop, "type");
        if (v && type && !has_type(v, type)) {
            snprintf(why, cap, "its structuredContent's '%.100s' is not of type %.20s, as its outputSchema says",
                     prop->string, type);
            return false;
        }
    }
    return true;
}

/* tool.call of "mcp.SERVER.TOOL". */
cJSON *br_mcp_call(br_broker *b, long id, const char *name, const cJSON *args)
{
    char server[64], err[900] = "";
    const char *tool;
    if (!split_name(name, server, sizeof server, &tool))
        return br_error_event(id, "BadRequest", "an MCP tool is named mcp.SERVER.TOOL");
    if (args && !cJSON_IsObject(args))
        return br_error_event(id, "BadRequest", "the arguments of an MCP tool are an object");
    live_server *s = server_of(b, server, err, sizeof err);
    if (!s) return br_error_event(id, "ToolNotAllowed", err);
    if (!tool_permitted(server_spec(b, server), tool)) {
        snprintf(err, sizeof err, "MCP tool %.100s of server %s is not allowed by mcp_servers.%s.tools "
                                  "(include/exclude in the host's configuration); nothing was sent to the server",
                 tool, server, server);
        return br_error_event(id, "ToolNotAllowed", err);
    }
    if (b->mock_all) {
        snprintf(err, sizeof err, "MCP servers are not started under --mock: mock the tool with "
                                  "Mocks { %s_%.100s = {...} }", server, tool);
        return br_error_event(id, "ToolError", err);
    }
    call_ctx x = {b, server, tool};
    mcp_call_opts o = {b->deadline_ms, on_progress, interrupted, &x};
    mcp_error e = {0};
    bool changed = s->tools && mcp_take_tools_changed(s->client);
    if (!s->tools || changed) {
        cJSON *list = list_filtered(b, s, &o, &e);
        if (!list) return mcp_error_event(id, &e);
        if (changed) {
            /* The tools the run was given must stay what they were. */
            const cJSON *was = find_tool(s->tools, tool), *now = find_tool(list, tool);
            const char *why = NULL;
            if (was && !now) why = "is gone";
            else if (was && !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(was, "inputSchema"),
                                           cJSON_GetObjectItemCaseSensitive(now, "inputSchema"), 1))
                why = "has another input schema";
            if (why) {
                cJSON_Delete(list);
                snprintf(err, sizeof err, "MCP server %s changed its tools during the run: %.100s %s "
                                          "now, so the call was not sent (start a new run to use the new tools)",
                         server, tool, why);
                return br_error_event(id, "McpToolsChanged", err);
            }
            cJSON_Delete(list); /* new tools are not the run's: the first list stays */
        } else {
            s->tools = list;
        }
    }
    if (!find_tool(s->tools, tool)) {
        snprintf(err, sizeof err, "MCP server %s has no tool named %.100s (tactus mcp list shows its tools)",
                 server, tool);
        return br_error_event(id, "ToolNotAllowed", err);
    }
    cJSON *r = NULL;
    if (mcp_call_tool(s->client, tool, args, &o, &r, &e) != MCP_OK) return mcp_error_event(id, &e);
    cJSON *reply;
    char why[300];
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "isError"))) {
        char text[800];
        error_text(r, text, sizeof text);
        snprintf(err, sizeof err, "MCP tool %s.%.100s failed: %.700s", server, tool, text);
        reply = br_error_event(id, "ToolError", err);
    } else if (!fits_output_schema(find_tool(s->tools, tool), r, why, sizeof why)) {
        snprintf(err, sizeof err, "MCP tool %s.%.100s answered against its own schema: %s (a fault of the server)",
                 server, tool, why);
        reply = br_error_event(id, "McpProtocolError", err);
    } else {
        reply = br_done_event(id, "result", result_value(r));
    }
    cJSON_Delete(r);
    return reply;
}
