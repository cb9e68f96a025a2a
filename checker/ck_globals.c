/*
 * ck_globals.c - what the runtime defines, and reads of what it does not
 * (TAC403 undefined-global, TAC404 unknown-member).
 *
 * runtime_names is the sandbox's global surface, in one screen: every
 * global tactus-runtime publishes (the allow-listed Lua stdlib of
 * vm_sandbox.c, Json and File, and dsl.exports of stdlib/dsl) and the
 * members of each of its tables. It is the runtime's, not a wish list: the
 * test cli_globals_parity runs tactus-runtime, lists what its globals
 * really hold, and compares with `tactus check --list-globals` both ways,
 * so a name added to (or dropped from) the runtime fails until this table
 * follows it.
 *
 * A read of a global is fine when the runtime defines it, the file
 * assigns it anywhere (`name = ...`, `function name()`, as luacheck
 * allows by default), the runtime publishes it for a declaration of the
 * file (v0.10's capitalised agent and model globals, Greeter for greeter),
 * or the user declared it (--globals, check.globals).
 * A member of a DSL namespace (Human.aprove, State.incremnt, File.wirte)
 * is checked against the namespace's members unless the file assigns that
 * member or the namespace itself. os.* and field.* have rules of their own
 * (TAC401, TAC101); names the sandbox refuses (io, load, debug...) are
 * TAC401's.
 *
 * A .tac module the file requires runs in the same globals (vm_require.c):
 * what it assigns is defined too. Modules are parsed with the frontend
 * (their requires followed, resolved from the procedure's folder as the
 * runtime does) and their definitions kept per file in a small cache,
 * checked against the file's size and time, so the language server does
 * not parse them again at every keystroke.
 */
#include <string.h>
#include <sys/stat.h>

#include "ck_internal.h"

/* clang-format off: grouped as the runtime publishes them */
static const char *const runtime_names[] = {
    /* Lua's base library, as the sandbox keeps it (vm_sandbox.c) */
    "_G",
    "_VERSION",
    "assert",
    "collectgarbage",
    "error",
    "getmetatable",
    "ipairs",
    "next",
    "pairs",
    "pcall",
    "print",
    "rawequal",
    "rawget",
    "rawlen",
    "rawset",
    "require",
    "select",
    "setmetatable",
    "tonumber",
    "tostring",
    "type",
    "xpcall",
    "coroutine",
    "coroutine.close",
    "coroutine.create",
    "coroutine.isyieldable",
    "coroutine.resume",
    "coroutine.running",
    "coroutine.status",
    "coroutine.wrap",
    "coroutine.yield",
    "math",
    "math.abs",
    "math.acos",
    "math.asin",
    "math.atan",
    "math.ceil",
    "math.cos",
    "math.deg",
    "math.exp",
    "math.floor",
    "math.fmod",
    "math.huge",
    "math.log",
    "math.max",
    "math.maxinteger",
    "math.min",
    "math.mininteger",
    "math.modf",
    "math.pi",
    "math.rad",
    "math.random",
    "math.sin",
    "math.sqrt",
    "math.tan",
    "math.tointeger",
    "math.type",
    "math.ult",
    "os",
    "os.clock",
    "os.date",
    "os.difftime",
    "os.time",
    "string",
    "string.byte",
    "string.char",
    "string.find",
    "string.format",
    "string.gmatch",
    "string.gsub",
    "string.len",
    "string.lower",
    "string.match",
    "string.pack",
    "string.packsize",
    "string.rep",
    "string.reverse",
    "string.sub",
    "string.unpack",
    "string.upper",
    "table",
    "table.concat",
    "table.insert",
    "table.move",
    "table.pack",
    "table.remove",
    "table.sort",
    "table.unpack",
    "utf8",
    "utf8.char",
    "utf8.charpattern",
    "utf8.codepoint",
    "utf8.codes",
    "utf8.len",
    "utf8.offset",
    /* Json and File (vm_json.c, vm_file.c) */
    "Json",
    "Json.decode",
    "Json.encode",
    "File",
    "File.exists",
    "File.list",
    "File.read",
    "File.size",
    "File.write",
    /* declarations (dsl.exports) */
    "Agent",
    "Classify",
    "Evaluation",
    "Evaluations",
    "Hitl",
    "Mocks",
    "Model",
    "Procedure",
    "Procedure.run",
    "Prompt",
    "Specification",
    "Specifications",
    "Stages",
    "Step",
    "Step.checkpoint",
    "Tool",
    "Tool.call_count",
    "Tool.called",
    "Tool.get",
    "Tool.last_call",
    "Tool.last_result",
    "Toolset",
    "Toolset.get",
    "mcp", /* mcp.SERVER.TOOL: the host's MCP servers (stdlib/dsl/mcp.lua) */
    "hitl",
    "procedure",
    "prompt",
    /* the v0.10 DSL and the python helpers (compat.lua); TAC901 names each form */
    "agent",
    "evaluation",
    "evaluations",
    "human",
    "model",
    "python",
    "python.enumerate",
    "python.iter",
    "python.len",
    "specification",
    "specifications",
    "stages",
    "step",
    "tool",
    "toolset",
    "field",
    "field.agent_turns",
    "field.array",
    "field.boolean",
    "field.contains",
    "field.contains_any",
    "field.equals",
    "field.equals_expected",
    "field.exact_match",
    "field.integer",
    "field.is_instance",
    "field.json_schema",
    "field.list",
    "field.llm_judge",
    "field.max_cost",
    "field.max_iterations",
    "field.max_length",
    "field.max_tokens",
    "field.min_length",
    "field.number",
    "field.object",
    "field.range",
    "field.regex",
    "field.state_check",
    "field.string",
    "field.tool_called",
    /* settings */
    "async",
    "default_model",
    "default_provider",
    "error_prompt",
    "max_depth",
    "max_turns",
    "return_prompt",
    "status_prompt",
    /* values and primitives */
    "input",
    "output",
    "state",
    "tactus",
    "checkpoint",
    "contains",
    "equals",
    "matches",
    "utf8_clean",
    "Sleep",
    "Host",
    "Host.call",
    "Human",
    "Human.approve",
    "Human.custom",
    "Human.escalate",
    "Human.input",
    "Human.inputs",
    "Human.multiple",
    "Human.notify",
    "Human.review",
    "Human.select",
    "Human.upload",
    "Iterations",
    "Iterations.current",
    "Iterations.exceeded",
    "Iterations.increment",
    "Iterations.reset",
    "Log",
    "Log.debug",
    "Log.error",
    "Log.info",
    "Log.warn",
    "Log.warning",
    "MessageHistory",
    "MessageHistory.append",
    "MessageHistory.clear",
    "MessageHistory.count",
    "MessageHistory.get",
    "MessageHistory.history",
    "MessageHistory.inject_system",
    "Session",
    "Session.append",
    "Session.clear",
    "Session.count",
    "Session.get",
    "Session.history",
    "Session.inject_system",
    "filters",
    "filters.by_role",
    "filters.compose",
    "filters.first_n",
    "filters.head_tokens",
    "filters.last_n",
    "filters.system_prefix",
    "filters.tail_tokens",
    "filters.token_budget",
    "Retry",
    "Retry.with_backoff",
    "Stage",
    "Stage.advance",
    "Stage.clear_history",
    "Stage.count",
    "Stage.current",
    "Stage.history",
    "Stage.is",
    "Stage.is_current",
    "Stage.set",
    "State",
    "State.all",
    "State.append",
    "State.clear",
    "State.get",
    "State.increment",
    "State.set",
    "Stop",
    "Stop.reason",
    "Stop.request",
    "Stop.requested",
    "Stop.reset",
    "Stop.success",
    "System",
    "System.alert",
};
/* clang-format on */

#define N_RUNTIME_NAMES (sizeof runtime_names / sizeof runtime_names[0])

/* Namespaces whose members are not checked here: a rule of their own
 * (os: TAC401, field: TAC101) says more. */
static bool member_checked(const char *ns, size_t n)
{
    return !(n == 2 && strncmp(ns, "os", 2) == 0) && !(n == 5 && strncmp(ns, "field", 5) == 0);
}

/* Names the sandbox refuses by design: TAC401 explains each. */
static bool refused_by_sandbox(const char *root, size_t n)
{
    static const char *const refused[] = {"io",       "load",  "loadstring", "dofile",
                                          "loadfile", "debug", "package"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (strlen(refused[i]) == n && strncmp(root, refused[i], n) == 0) return true;
    return false;
}

const char *const *ck_runtime_globals(size_t *count)
{
    *count = N_RUNTIME_NAMES;
    return runtime_names;
}

tx_status ck_globals_index(ck_checker *ck)
{
    tx_map_init(&ck->runtime);
    for (size_t i = 0; i < N_RUNTIME_NAMES; i++) {
        const char *n = runtime_names[i];
        if (tx_map_put(&ck->runtime, n, strlen(n), (void *)n) != TX_OK) return TX_ENOMEM;
        const char *dot = strchr(n, '.');
        /* a namespace with members: its root maps to itself too, flagged by a member */
        if (dot && tx_map_put(&ck->namespaces, n, (size_t)(dot - n), (void *)n) != TX_OK)
            return TX_ENOMEM;
    }
    return TX_OK;
}

void ck_set_known_globals(ck_checker *ck, const char *const *names, size_t n)
{
    ck->extra = names;
    ck->n_extra = n;
}

static bool extra_known(const ck_checker *ck, const char *name, size_t n)
{
    for (size_t i = 0; i < ck->n_extra; i++)
        if (ck->extra[i] && strlen(ck->extra[i]) == n && strncmp(ck->extra[i], name, n) == 0)
            return true;
    return false;
}

/* The candidates for "did you mean" of a global: the file's, the user's,
 * the runtime's globals (members aside). */
static const char *nearest_global(ck_run *r, const char *word, const fe_def **def)
{
    size_t cap = 512, n = 0;
    const char **names = tx_malloc(cap * sizeof *names);
    *def = NULL;
    if (!names) return NULL;
    for (const fe_def *d = r->f->defs; d && n < cap; d = d->next)
        if (!strchr(d->name, '.')) names[n++] = d->name;
    for (size_t i = 0; i < r->ck->n_extra && n < cap; i++)
        names[n++] = r->ck->extra[i];
    for (size_t i = 0; i < N_RUNTIME_NAMES && n < cap; i++)
        if (!strchr(runtime_names[i], '.')) names[n++] = runtime_names[i];
    const char *near = ck_nearest_name(word, names, n);
    tx_free(names);
    *def = NULL;
    for (const fe_def *d = r->f->defs; near && d; d = d->next)
        if (d->name == near) *def = d;
    return near;
}

/* The members of namespace ns (of n bytes) closest to `member`. */
static const char *nearest_member(const char *ns, size_t n, const char *member)
{
    const char *names[128];
    size_t k = 0;
    for (size_t i = 0; i < N_RUNTIME_NAMES && k < 128; i++)
        if (strncmp(runtime_names[i], ns, n) == 0 && runtime_names[i][n] == '.')
            names[k++] = runtime_names[i] + n + 1;
    return ck_nearest_name(member, names, k);
}

/* The members of namespace ns, for the message: "approve, custom, ...". */
static void member_list(const char *ns, size_t n, tx_buf *b)
{
    for (size_t i = 0; i < N_RUNTIME_NAMES; i++)
        if (strncmp(runtime_names[i], ns, n) == 0 && runtime_names[i][n] == '.')
            tx_buf_printf(b, "%s%s", b->len ? ", " : "", runtime_names[i] + n + 1);
}

/* The names the file assigns (dotted or not), by name: a file of 100,000
 * definitions is checked in linear time. */
static void index_defs(ck_run *r, tx_map *defs)
{
    tx_map_init(defs);
    for (const fe_def *d = r->f->defs; d; d = d->next)
        if (tx_map_put(defs, d->name, strlen(d->name), (void *)d) != TX_OK) r->out->oom = true;
}

/* The first n bytes of a reference's span, when the source spells its name
 * there without spaces ("triagr" of triagr.x, "Human.aprove" of
 * Human.aprove.x): the place a fix of the name goes. */
static tx_span name_span(const fe_file *f, const fe_ref *ref, size_t n)
{
    tx_span s = ref->span;
    if (s.start_byte + n <= s.end_byte && s.end_byte <= f->len &&
        memcmp(f->src + s.start_byte, ref->name, n) == 0)
        return tx_span_of_bytes(f->src, f->len, s.start_byte, s.start_byte + n);
    return s;
}

static void check_member(ck_run *r, const tx_map *defs, const fe_ref *ref, size_t root_len)
{
    const char *name = ref->name;
    const char *member = name + root_len + 1;
    size_t member_len = strcspn(member, ".");
    size_t full = root_len + 1 + member_len;
    if (!member_checked(name, root_len) || tx_map_get(&r->ck->runtime, name, full) ||
        tx_map_get(defs, name, full))
        return;
    char word[128];
    snprintf(word, sizeof word, "%.*s", (int)(member_len < 127 ? member_len : 127), member);
    const char *near = nearest_member(name, root_len, word);
    tx_buf list;
    tx_buf_init(&list, 4096);
    member_list(name, root_len, &list);
    tx_span at = name_span(r->f, ref, full);
    if (near)
        ck_report(r, "TAC404", at, "'%.*s' has no member '%s' (did you mean '%.*s.%s'?)",
                  (int)root_len, name, word, (int)root_len, name, near);
    else
        ck_report(r, "TAC404", at, "'%.*s' has no member '%s'; its members are %s", (int)root_len,
                  name, word, list.data ? list.data : "");
    tx_buf_free(&list);
}

/* Whether `ref` is a name in an agent's tools = {...}: TAC301 reports an
 * undeclared grant there, with the fix that fits. */
static bool is_grant(const fe_file *f, const fe_ref *ref)
{
    for (const fe_agent *a = f->agents; a; a = a->next)
        for (const fe_entry *e = a->tools && a->tools->kind == FE_TABLE ? a->tools->entries : NULL;
             e; e = e->next)
            if (e->value->span.start_byte == ref->span.start_byte) return true;
    return false;
}

/* ---- required modules -------------------------------------------------------------------- */

#define MODULE_MAX_SOURCE FE_MAX_RUN_SOURCE /* a run's whole source is capped the same way */
#define MODULE_CACHE_MAX  64
#define MODULE_MAX_DEPTH  8

typedef struct module_entry {
    char *path;
    struct timespec mtime;
    off_t size;
    char **names; /* the globals it assigns */
    size_t n_names;
    char **requires; /* the modules it requires (literal names) */
    size_t n_requires;
    struct module_entry *next;
} module_entry;

struct ck_module_cache {
    fe_context *fe;
    module_entry *entries;
    size_t n;
};

static void entry_free(module_entry *e)
{
    for (size_t i = 0; i < e->n_names; i++)
        tx_free(e->names[i]);
    for (size_t i = 0; i < e->n_requires; i++)
        tx_free(e->requires[i]);
    tx_free(e->names);
    tx_free(e->requires);
    tx_free(e->path);
    tx_free(e);
}

void ck_modules_free(struct ck_module_cache *c)
{
    if (!c) return;
    for (module_entry *e = c->entries, *next; e; e = next) {
        next = e->next;
        entry_free(e);
    }
    fe_context_free(c->fe);
    tx_free(c);
}

static bool push_name(char ***list, size_t *n, const char *name)
{
    char **l = tx_realloc(*list, (*n + 1) * sizeof *l);
    if (!l) return false;
    *list = l;
    l[*n] = tx_strdup(name);
    if (!l[*n]) return false;
    (*n)++;
    return true;
}

/* The module at `path`, parsed now or taken from the cache; NULL when it
 * cannot be read or parsed (then it defines nothing we know of). */
static module_entry *module_load(ck_checker *ck, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return NULL;
    if (!ck->modules && !(ck->modules = tx_calloc(1, sizeof *ck->modules))) return NULL;
    struct ck_module_cache *c = ck->modules;
    for (module_entry *e = c->entries; e; e = e->next)
        if (!strcmp(e->path, path) && e->size == sb.st_size &&
            e->mtime.tv_sec == sb.st_mtim.tv_sec && e->mtime.tv_nsec == sb.st_mtim.tv_nsec)
            return e;
    if (!c->fe && !(c->fe = fe_context_new())) return NULL;
    char *src;
    size_t len;
    int err_no;
    if (tx_read_file(path, MODULE_MAX_SOURCE, &src, &len, &err_no) != TX_OK) return NULL;
    fe_file *f = NULL;
    module_entry *e = tx_calloc(1, sizeof *e);
    bool ok = e && (e->path = tx_strdup(path)) && fe_parse(c->fe, path, src, len, &f) == TX_OK;
    for (const fe_def *d = ok ? f->defs : NULL; d && ok; d = d->next)
        if (!strchr(d->name, '.')) ok = push_name(&e->names, &e->n_names, d->name);
    for (const fe_ref *ref = ok ? f->refs : NULL; ref && ok; ref = ref->next) {
        const fe_value *arg =
            ref->is_call && !strcmp(ref->name, "require") ? fe_value_at(ref->call, 0) : NULL;
        if (arg && arg->kind == FE_STRING) ok = push_name(&e->requires, &e->n_requires, arg->str);
    }
    fe_file_free(f);
    tx_free(src);
    if (!ok) {
        if (e) entry_free(e);
        return NULL;
    }
    e->mtime = sb.st_mtim;
    e->size = sb.st_size;
    e->next = c->entries;
    c->entries = e;
    c->n++;
    return e;
}

/* Adds to `defined` the globals of module `name` and of what it requires,
 * resolved beside `file_path` (the procedure's file). */
static void add_module_globals(ck_checker *ck, const char *file_path, const char *name, int depth,
                               tx_map *defined, tx_map *visited)
{
    char path[4096];
    if (depth > MODULE_MAX_DEPTH || !ck_module_path(file_path, name, path, sizeof path) ||
        tx_map_get(visited, path, strlen(path)))
        return;
    module_entry *e = module_load(ck, path);
    if (!e || tx_map_put(visited, e->path, strlen(e->path), e) != TX_OK) return;
    for (size_t i = 0; i < e->n_names; i++)
        tx_map_put(defined, e->names[i], strlen(e->names[i]), e->names[i]);
    for (size_t i = 0; i < e->n_requires; i++)
        add_module_globals(ck, file_path, e->requires[i], depth + 1, defined, visited);
}

static void required_globals(ck_run *r, tx_map *defined)
{
    /* Bounded: past MODULE_CACHE_MAX modules the cache starts over, here
     * only, never while a check holds names borrowed from it. */
    struct ck_module_cache *c = r->ck->modules;
    if (c && c->n >= MODULE_CACHE_MAX) {
        for (module_entry *x = c->entries, *next; x; x = next) {
            next = x->next;
            entry_free(x);
        }
        c->entries = NULL;
        c->n = 0;
    }
    tx_map visited;
    tx_map_init(&visited);
    for (const fe_ref *ref = r->f->refs; ref; ref = ref->next) {
        const fe_value *arg =
            ref->is_call && !strcmp(ref->name, "require") ? fe_value_at(ref->call, 0) : NULL;
        if (arg && arg->kind == FE_STRING && !fe_is_stdlib_module(arg->str))
            add_module_globals(r->ck, r->f->path, arg->str, 0, defined, &visited);
    }
    tx_map_free(&visited);
}

void ck_rule_globals(ck_run *r)
{
    const fe_file *f = r->f;
    tx_map defs;
    index_defs(r, &defs);
    tx_map from_modules; /* names borrowed from the module cache, valid during this run */
    tx_map_init(&from_modules);
    bool modules_read = false, capitals_read = false;
    ck_capitals capitals;
    for (const fe_ref *ref = f->refs; ref; ref = ref->next) {
        const char *name = ref->name;
        size_t root_len = strcspn(name, ".");
        if (tx_map_get(&r->ck->runtime, name, root_len)) {
            /* A namespace of the runtime: its members, unless the file
             * replaces the namespace or defines this member. */
            if (name[root_len] == '.' && !ref->is_assignment &&
                tx_map_get(&r->ck->namespaces, name, root_len) &&
                !tx_map_get(&defs, name, root_len))
                check_member(r, &defs, ref, root_len);
            continue;
        }
        if (tx_map_get(&defs, name, root_len) || extra_known(r->ck, name, root_len) ||
            refused_by_sandbox(name, root_len) || (root_len == 4 && !strncmp(name, "_ENV", 4)) ||
            is_grant(f, ref))
            continue;
        if (!modules_read) {
            required_globals(r, &from_modules);
            modules_read = true;
        }
        if (tx_map_get(&from_modules, name, root_len)) continue;
        /* Greeter for the agent "greeter": the runtime publishes v0.10's
         * capitalised global of every agent and Model (ck_capitals). */
        if (!capitals_read) {
            ck_capitals_index(f, &capitals);
            if (capitals.oom) r->out->oom = true;
            capitals_read = true;
        }
        if (tx_map_get(&capitals.agents, name, root_len) ||
            tx_map_get(&capitals.models, name, root_len))
            continue;
        char word[128];
        snprintf(word, sizeof word, "%.*s", (int)(root_len < 127 ? root_len : 127), name);
        const fe_def *def = NULL;
        const char *near = nearest_global(r, word, &def);
        ck_report(r, "TAC403", name_span(f, ref, root_len),
                  "'%s' is not defined%s%s%s: the file never assigns it and neither the DSL nor "
                  "the sandbox provides it, so %s it fails when the procedure runs (a global "
                  "defined elsewhere is declared with --globals or check.globals)",
                  word, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "",
                  ref->is_call && root_len == strlen(name) ? "calling" : "reading");
        if (def) ck_relate(r, def->span, "'%s' is assigned here", def->name);
    }
    if (capitals_read) ck_capitals_free(&capitals);
    tx_map_free(&from_modules);
    tx_map_free(&defs);
}
