/*
 * ck_tools.c - tool grants, default deny (TAC301-TAC304).
 *
 * An agent may call only what it was granted, and may be granted only what
 * the file declares (Tool, Toolset, a stdlib tool bound by require). A
 * per-call `tools = {...}` narrows the grant; it can never widen it.
 */
#include <string.h>

#include "ck_internal.h"

static const fe_tool *find_tool(const fe_file *f, const char *name)
{
    for (const fe_tool *t = f->tools; t; t = t->next)
        if (strcmp(t->name, name) == 0) return t;
    return NULL;
}

/* Name under which a grant entry refers to a tool, or NULL if dynamic. */
static const char *grant_name(const fe_value *v)
{
    if (!v) return NULL;
    if (v->kind == FE_NAME || v->kind == FE_STRING) return v->str;
    if (v->kind == FE_CALL && v->str && strcmp(v->str, "require") == 0) {
        const fe_value *m = fe_value_at(v, 0);
        if (m && m->kind == FE_STRING) return m->str;
    }
    return NULL;
}

static bool is_stdlib_tool(const char *name)
{
    return strcmp(name, "tactus.done") == 0 ||
           (strncmp(name, "tactus.tools.", 13) == 0 && fe_is_stdlib_module(name));
}

static void collect_tool_names(const fe_file *f, const char **names, size_t cap, size_t *n)
{
    *n = 0;
    for (const fe_tool *t = f->tools; t && *n < cap; t = t->next) names[(*n)++] = t->name;
}

/* A name a grant may use: a tool or toolset declared anywhere in the file,
 * a toolset's tool by its full or short name (ck_names.c). */
static bool grantable(ck_run *r, const char *name)
{
    const ck_name *n = ck_names_get(&r->names, name);
    return n && (n->kind == CK_NAME_TOOL || n->kind == CK_NAME_TOOLSET);
}

static void check_grant_list(ck_run *r, const fe_agent *a, const fe_value *tools)
{
    if (!tools || tools->kind != FE_TABLE) return;
    const char *names[128];
    size_t n;
    collect_tool_names(r->f, names, 128, &n);
    for (const fe_entry *e = tools->entries; e; e = e->next) {
        const char *name = grant_name(e->value);
        if (!name || find_tool(r->f, name) || is_stdlib_tool(name) || grantable(r, name)) continue;
        if (e->value->kind == FE_STRING && strcmp(name, "done") == 0) continue;
        const char *near = ck_nearest_name(name, names, n);
        if (strcmp(name, "done") == 0) {
            ck_report(r, "TAC301", e->value->span,
                      "agent '%s' is granted 'done', which is not declared in this file; add "
                      "local done = require(\"tactus.tools.done\") above the agent",
                      a->name);
        } else {
            const fe_tool *near_tool = near ? find_tool(r->f, near) : NULL;
            ck_report(r, "TAC301", e->value->span,
                      "agent '%s' is granted '%s', which is not a declared Tool or Toolset "
                      "(tools are denied unless declared)%s%s%s; declare it with %s = Tool {...} "
                      "or remove it from tools",
                      a->name, name, near ? " (did you mean '" : "", near ? near : "",
                      near ? "'?)" : "", name);
            if (near_tool) ck_relate(r, near_tool->name_span, "'%s' is declared here", near);
        }
    }
}

static void check_grants(ck_run *r, const fe_agent *a)
{
    check_grant_list(r, a, a->tools);
    check_grant_list(r, a, a->toolsets);
}

static bool granted(const fe_agent *a, const char *name)
{
    if (!a->tools || a->tools->kind != FE_TABLE) return false;
    for (const fe_entry *e = a->tools->entries; e; e = e->next) {
        const char *g = grant_name(e->value);
        if (g && strcmp(g, name) == 0) return true;
    }
    return false;
}

static void check_call_subset(ck_run *r, const fe_agent *a, const fe_ref *ref)
{
    const fe_value *arg = fe_value_at(ref->call, 0);
    const fe_value *tools = fe_value_get(arg, "tools");
    if (!tools || tools->kind != FE_TABLE) return;
    /* The agent's grants are unknown when they are not a literal table. */
    if (a->tools && a->tools->kind != FE_TABLE) return;
    for (const fe_entry *e = tools->entries; e; e = e->next) {
        const char *name = grant_name(e->value);
        if (!name || granted(a, name)) continue;
        tx_buf b;
        tx_buf_init(&b, 1024);
        if (a->tools)
            for (const fe_entry *g = a->tools->entries; g; g = g->next) {
                const char *gn = grant_name(g->value);
                if (gn) tx_buf_printf(&b, "%s%s", b.len ? ", " : "", gn);
            }
        ck_report(r, "TAC302", e->value->span,
                  "this call gives agent '%s' the tool '%s', which the agent was not granted "
                  "(granted: %s); per-call tools may only narrow the agent's tools: add it to "
                  "the agent's declaration or remove it here",
                  a->name, name, b.len ? b.data : "none");
        ck_relate(r, a->tools ? a->tools->span : a->name_span, "the tools agent '%s' was granted",
                  a->name);
        tx_buf_free(&b);
    }
}

/* Names granted or fetched as strings anywhere: tools = {"x"} and
 * toolsets = {"x"} of any agent (inside functions too), Toolset.get("x"),
 * Tool.get("x"). A v0.10 agent that names no tools gets every tool of the
 * file: then all are used (*all). */
static void collect_named_uses(const fe_file *f, tx_map *used, bool *all, bool *oom)
{
    for (const fe_ref *ref = f->refs; ref; ref = ref->next) {
        if (!ref->is_call || !ref->call) continue;
        const fe_value *a0 = fe_value_at(ref->call, 0);
        if (strcmp(ref->name, "Toolset.get") == 0 || strcmp(ref->name, "Tool.get") == 0) {
            if (a0 && a0->kind == FE_STRING && tx_map_put(used, a0->str, a0->str_len, (void *)a0) != TX_OK)
                *oom = true;
            continue;
        }
        bool legacy = strcmp(ref->name, "agent") == 0;
        if (!legacy && strcmp(ref->name, "Agent") != 0) continue;
        const fe_value *cfg = a0 && a0->kind == FE_STRING ? fe_value_at(ref->call, 1) : a0;
        if (!cfg || cfg->kind != FE_TABLE) continue;
        const fe_value *lists[2] = {fe_value_get(cfg, "tools"), fe_value_get(cfg, "toolsets")};
        if (legacy && !lists[0] && !lists[1]) *all = true;
        for (int i = 0; i < 2; i++) {
            if (!lists[i] || lists[i]->kind != FE_TABLE) continue;
            for (const fe_entry *e = lists[i]->entries; e; e = e->next)
                if (e->value && e->value->kind == FE_STRING &&
                    tx_map_put(used, e->value->str, e->value->str_len, (void *)e->value) != TX_OK)
                    *oom = true;
        }
    }
}

/* A tool is used when any code names it (a grant, a call, t.called()...). */
static bool tool_used(const tx_map *ref_roots, const tx_map *named, const fe_file *f,
                      const fe_tool *t)
{
    if (tx_map_get(ref_roots, t->name, strlen(t->name))) return true;
    if (tx_map_get(named, t->name, strlen(t->name))) return true;
    /* a toolset whose tool is granted by its name, short or full (ts_add) */
    const fe_value *list = t->kind == FE_TOOL_TOOLSET ? fe_value_get(t->config, "tools") : NULL;
    for (const fe_entry *e = list && list->kind == FE_TABLE ? list->entries : NULL; e; e = e->next) {
        const fe_value *nm = e->value && e->value->kind == FE_TABLE ? fe_value_get(e->value, "name") : NULL;
        if (!nm || nm->kind != FE_STRING) continue;
        if (tx_map_get(named, nm->str, nm->str_len)) return true;
        char full[512];
        int k = snprintf(full, sizeof full, "%s_%s", t->name, nm->str);
        if (k > 0 && (size_t)k < sizeof full && tx_map_get(named, full, (size_t)k)) return true;
    }
    for (const fe_agent *a = f->agents; a; a = a->next)
        if (granted(a, t->name)) return true;
    return false;
}

void ck_rule_tools(ck_run *r)
{
    const fe_file *f = r->f;
    tx_map agents, ref_roots, named;
    tx_map_init(&agents);
    tx_map_init(&ref_roots);
    tx_map_init(&named);
    bool all_used = false;
    collect_named_uses(f, &named, &all_used, &r->out->oom);
    for (const fe_agent *a = f->agents; a; a = a->next) {
        check_grants(r, a);
        if (a->name[0] && tx_map_put(&agents, a->name, strlen(a->name), (void *)a) != TX_OK)
            r->out->oom = true;
    }
    for (const fe_ref *ref = f->refs; ref; ref = ref->next) {
        /* `search` and `search.called` both use the tool `search`. */
        size_t root = strcspn(ref->name, ".");
        if (tx_map_put(&ref_roots, ref->name, root, (void *)ref) != TX_OK) r->out->oom = true;
        if (!ref->is_call || ref->is_method) continue;
        const fe_agent *a = tx_map_get(&agents, ref->name, strlen(ref->name));
        if (a) check_call_subset(r, a, ref);
    }
    for (const fe_tool *t = f->tools; t; t = t->next) {
        if (t->kind == FE_TOOL_STDLIB || !t->name[0]) continue;
        if (!all_used && !tool_used(&ref_roots, &named, f, t))
            ck_report(r, "TAC303", t->name_span,
                      "tool '%s' is declared but no agent is granted it and no code calls it; "
                      "add it to an agent's tools = {...}, call it, or remove it",
                      t->name);
        bool mcp_toolset = t->kind == FE_TOOL_TOOLSET && t->use && strncmp(t->use, "mcp.", 4) == 0 &&
                           t->use[4] && !strchr(t->use + 4, '.');
        if (t->use && strncmp(t->use, "broker.host.", 12) != 0 && !mcp_toolset)
            ck_report(r, "TAC304", fe_value_get(t->config, "use")->span,
                      "%s { use = \"%s\" } names no brokered host tool%s; write "
                      "use = \"broker.host.NAME\" (NAME allow-listed on the host, e.g. "
                      "broker.host.ping)%s",
                      t->kind == FE_TOOL_TOOLSET ? "Toolset" : "Tool", t->use,
                      t->kind == FE_TOOL_TOOLSET ? " or MCP server" : "",
                      t->kind == FE_TOOL_TOOLSET ? ", or use = \"mcp.SERVER\" for an MCP server's tools"
                                                 : "");
    }
    tx_map_free(&agents);
    tx_map_free(&ref_roots);
    tx_map_free(&named);
}
