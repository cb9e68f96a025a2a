/*
 * frontend.c - parse a .tac file and build its declaration model.
 *
 * Declarations are recognised at the top level of the chunk only, in all the
 * forms the DSL has had:
 *   Procedure {...}            name = Procedure {...}       Procedure "name" {...}
 *   procedure("name", {...}, function() end)               function main() end
 *   x = Agent {...}            Agent "x" {...}              agent("x", {...})
 *   x = Tool {...}             Tool "x" {...}               tool("x", {...}, fn)
 *   x = Toolset {...}          Model "x" {...}              x = Classify {...}
 *   local done = require("tactus.tools.done")
 *   Mocks {...}  Step("text", fn)  Specification(s)([[...]])  Evaluation(s)({...})
 *   input {...} / output {...} (script mode)
 * A file with no procedure but top-level code is a script: its chunk is the
 * implicit main procedure.
 */
#include <ctype.h>
#include <lauxlib.h>
#include <string.h>

#include "fe_internal.h"

/* Primitives whose call arguments the checker looks into (TAC411). */
static const char *const checked_primitives[] = {
    "Sleep", "System.alert", "Iterations.exceeded", "Stage.set", "Stage.is", "Stage.advance",
    "MessageHistory.append", "Session.append", "MessageHistory.inject_system",
    "Session.inject_system", "filters.last_n", "filters.first_n", "filters.token_budget",
    "filters.head_tokens", "filters.tail_tokens", "Stages", "stages",
};

bool fe_is_checked_primitive(const char *name)
{
    for (size_t i = 0; i < sizeof checked_primitives / sizeof checked_primitives[0]; i++)
        if (strcmp(name, checked_primitives[i]) == 0) return true;
    return false;
}

/* Calls whose arguments the checker reads wherever they are: declarations
 * (a Classify { name = ... } inside a function is a Mocks target), lookups
 * by name (Toolset.get("x") uses x), and the v0.10 forms TAC901 names and
 * `tactus check --fix` rewrites. */
static const char *const named_calls[] = {
    "Agent", "Classify", "Model", "Tool", "Toolset", "Procedure", "Toolset.get", "Tool.get",
    "agent", "procedure", "tool", "toolset", "model", "stages", "step", "specification",
    "specifications", "evaluation", "evaluations", "hitl", "human", "prompt", "default_model",
};

static bool keeps_arguments(const char *name)
{
    if (strcmp(name, "require") == 0 || strncmp(name, "Human.", 6) == 0 ||
        strncmp(name, "State.", 6) == 0 || strncmp(name, "mcp.", 4) == 0 ||
        fe_is_checked_primitive(name))
        return true;
    for (size_t i = 0; i < sizeof named_calls / sizeof named_calls[0]; i++)
        if (strcmp(name, named_calls[i]) == 0) return true;
    return false;
}

const char *const fe_stdlib_modules[] = {
    "tactus.tools.done", "tactus.io.file", "tactus.io.json", "tactus.io.csv",
    "tactus.io.tsv",     "tactus.io.fs",   "tactus.io.parquet", "tactus.io.hdf5", "tactus.io.excel", NULL,
};

bool fe_is_stdlib_module(const char *name)
{
    for (size_t i = 0; fe_stdlib_modules[i]; i++)
        if (strcmp(name, fe_stdlib_modules[i]) == 0) return true;
    return false;
}

void fe_capitalize(const char *name, tx_buf *out)
{
    for (size_t i = 0; name[i]; i++) {
        char c = name[i];
        c = i == 0 ? (char)toupper((unsigned char)c) : (char)tolower((unsigned char)c);
        tx_buf_append(out, &c, 1);
    }
}

const char *fe_type_name(fe_type t)
{
    switch (t) {
    case FE_TYPE_STRING: return "string";
    case FE_TYPE_NUMBER: return "number";
    case FE_TYPE_INTEGER: return "integer";
    case FE_TYPE_BOOLEAN: return "boolean";
    case FE_TYPE_ARRAY: return "array";
    case FE_TYPE_OBJECT: return "object";
    case FE_TYPE_ANY: return "any";
    case FE_TYPE_UNKNOWN: break;
    }
    return "unknown";
}

const fe_field *fe_schema_find(const fe_schema *s, const char *name)
{
    for (const fe_field *f = s->fields; f; f = f->next)
        if (strcmp(f->name, name) == 0) return f;
    return NULL;
}

/* ---- context -------------------------------------------------------------------- */

/* The state compiles only; its allocator goes through tx_* so tests can fail it. */
static void *lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        tx_free(ptr);
        return NULL;
    }
    return tx_realloc(ptr, nsize);
}

/* Node kinds and fields of the parse tree (fe_lparse.h), under the names the
 * code reads; the tree has the tactus grammar's shape, so the names match. */
static void syms_init(fe_syms *s)
{
    s->identifier = FE_K_IDENTIFIER;
    s->string = FE_K_STRING;
    s->string_content = FE_K_STRING_CONTENT;
    s->number = FE_K_NUMBER;
    s->nil = FE_K_NIL;
    s->true_ = FE_K_TRUE;
    s->false_ = FE_K_FALSE;
    s->table_constructor = FE_K_TABLE_CONSTRUCTOR;
    s->field = FE_K_FIELD;
    s->function_call = FE_K_FUNCTION_CALL;
    s->arguments = FE_K_ARGUMENTS;
    s->function_definition = FE_K_FUNCTION_DEFINITION;
    s->dot_index_expression = FE_K_DOT_INDEX_EXPRESSION;
    s->bracket_index_expression = FE_K_BRACKET_INDEX_EXPRESSION;
    s->method_index_expression = FE_K_METHOD_INDEX_EXPRESSION;
    s->parenthesized_expression = FE_K_PARENTHESIZED_EXPRESSION;
    s->variable_declaration = FE_K_VARIABLE_DECLARATION;
    s->assignment_statement = FE_K_ASSIGNMENT_STATEMENT;
    s->variable_list = FE_K_VARIABLE_LIST;
    s->expression_list = FE_K_EXPRESSION_LIST;
    s->function_declaration = FE_K_FUNCTION_DECLARATION;
    s->return_statement = FE_K_RETURN_STATEMENT;
    s->parameters = FE_K_PARAMETERS;
    s->for_statement = FE_K_FOR_STATEMENT;
    s->for_numeric_clause = FE_K_FOR_NUMERIC_CLAUSE;
    s->for_generic_clause = FE_K_FOR_GENERIC_CLAUSE;
    s->block = FE_K_BLOCK;
    s->chunk = FE_K_CHUNK;
    s->vararg_expression = FE_K_VARARG_EXPRESSION;
    s->binary_expression = FE_K_BINARY_EXPRESSION;
    s->unary_expression = FE_K_UNARY_EXPRESSION;
    s->repeat_statement = FE_K_REPEAT_STATEMENT;
    s->label_statement = FE_K_LABEL_STATEMENT;
    s->goto_statement = FE_K_GOTO_STATEMENT;
    s->attribute = FE_K_ATTRIBUTE;
    s->empty_statement = FE_K_EMPTY_STATEMENT;
    s->hash_bang_line = FE_K_HASH_BANG_LINE;
    /* The tree has no comments and no escape nodes: these match nothing. */
    s->comment = FE_K__COUNT;
    s->escape_sequence = FE_K__COUNT;
    s->f_name = FE_F_NAME;
    s->f_value = FE_F_VALUE;
    s->f_key = FE_F_KEY;
    s->f_table = FE_F_TABLE;
    s->f_field = FE_F_FIELD;
    s->f_method = FE_F_METHOD;
    s->f_arguments = FE_F_ARGUMENTS;
    s->f_parameters = FE_F_PARAMETERS;
    s->f_body = FE_F_BODY;
    s->f_content = FE_F_CONTENT;
    s->f_start = FE_F_START;
    s->f_end = FE_F_END;
    s->f_clause = FE_F_CLAUSE;
    s->f_condition = FE_F_CONDITION;
    s->f_operand = FE_F_OPERAND;
}

fe_context *fe_context_new(void)
{
    fe_context *ctx = tx_calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    ctx->gherkin_parser = ts_parser_new();
    ctx->L = lua_newstate(lua_alloc, NULL);
    if (!ctx->gherkin_parser || !ctx->L ||
        !ts_parser_set_language(ctx->gherkin_parser, tree_sitter_gherkin())) {
        fe_context_free(ctx);
        return NULL;
    }
    syms_init(&ctx->sym);
    return ctx;
}

void fe_context_free(fe_context *ctx)
{
    if (!ctx) return;
    if (ctx->gherkin_parser) ts_parser_delete(ctx->gherkin_parser);
    if (ctx->L) lua_close(ctx->L);
    tx_free(ctx);
}

/* ---- schemas ------------------------------------------------------------------------ */

static fe_type type_from_name(const char *n)
{
    static const struct {
        const char *name;
        fe_type type;
    } map[] = {
        {"string", FE_TYPE_STRING},   {"str", FE_TYPE_STRING},       {"number", FE_TYPE_NUMBER},
        {"float", FE_TYPE_NUMBER},    {"integer", FE_TYPE_INTEGER},  {"int", FE_TYPE_INTEGER},
        {"boolean", FE_TYPE_BOOLEAN}, {"bool", FE_TYPE_BOOLEAN},     {"array", FE_TYPE_ARRAY},
        {"list", FE_TYPE_ARRAY},      {"object", FE_TYPE_OBJECT},    {"dict", FE_TYPE_OBJECT},
        {"table", FE_TYPE_OBJECT},    {"any", FE_TYPE_ANY},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, n) == 0) return map[i].type;
    return FE_TYPE_UNKNOWN;
}

/* One schema entry: field.string{...}, {type = "string", ...} (v0.10) or "string". */
static void schema_field(fe_parser *p, fe_field *fd, const fe_value *v)
{
    fd->decl = v;
    if (v->kind == FE_CALL && v->str && strncmp(v->str, "field.", 6) == 0) {
        fd->builder = v->str + 6;
        const fe_node *callee = fe_node_child_by_field(v->node, p->sym->f_name);
        fd->builder_span = !(callee) ? v->span : fe_node_span(callee);
        fd->type = type_from_name(fd->builder);
        const fe_value *opts = fe_value_at(v, 0);
        if (opts && opts->kind == FE_TABLE) fd->options = opts;
    } else if (v->kind == FE_TABLE) {
        fd->options = v;
        const fe_value *t = fe_value_get(v, "type");
        if (t && t->kind == FE_STRING) fd->type = type_from_name(t->str);
    } else if (v->kind == FE_STRING) {
        fd->type = type_from_name(v->str);
    }
    if (fd->options) {
        const fe_value *r = fe_value_get(fd->options, "required");
        fd->required = r && r->kind == FE_BOOL && r->boolean;
        fd->default_value = fe_value_get(fd->options, "default");
        fd->enum_values = fe_value_get(fd->options, "enum");
    }
}

static void schema_from(fe_parser *p, fe_schema *s, const fe_value *table)
{
    if (!table) return;
    s->present = true;
    s->value = table;
    if (table->kind != FE_TABLE) return;
    fe_field **tail = &s->fields;
    for (const fe_entry *e = table->entries; e && !p->oom; e = e->next) {
        if (!e->key || !e->value) continue;
        fe_field *fd = fe_alloc(p, sizeof *fd);
        if (!fd) return;
        fd->name = e->key;
        fd->name_span = e->key_span;
        schema_field(p, fd, e->value);
        *tail = fd;
        tail = &fd->next;
        s->n_fields++;
    }
}

/* ---- procedure bodies: literal returns -------------------------------------------------- */

/* Collects `return` statements of a function body, not of nested functions.
 * Depth-bounded: Lua accepted the file, so nesting is at most 200 levels. */
static void collect_returns_in(fe_parser *p, fe_procedure *proc, fe_return ***tail,
                               const fe_node *n, int depth)
{
    const fe_syms *s = p->sym;
    if (depth > 6 * FE_MAX_DEPTH || p->oom) return;
    if (n->kind == s->function_definition || n->kind == s->function_declaration ||
        n->kind == s->string)
        return;
    if (n->kind == s->return_statement) {
        fe_return *r = fe_alloc(p, sizeof *r);
        if (!r) return;
        r->span = fe_node_span(n);
        const fe_node *list = fe_node_named_child(n, 0);
        if (list && list->kind == s->expression_list) list = fe_node_named_child(list, 0);
        if (list) r->value = fe_value_from_node(p, list, 0);
        **tail = r;
        *tail = &r->next;
        return;
    }
    for (const fe_node *c = n->first; c; c = c->next)
        if (c->named) collect_returns_in(p, proc, tail, c, depth + 1);
}

static void collect_returns(fe_parser *p, fe_procedure *proc, const fe_node *body)
{
    fe_return **tail = &proc->returns;
    if (body->kind == p->sym->function_declaration || body->kind == p->sym->function_definition) {
        const fe_node *b = fe_node_child_by_field(body, p->sym->f_body);
        if (b) collect_returns_in(p, proc, &tail, b, 0);
        return;
    }
    for (const fe_node *c = body->first; c; c = c->next)
        if (c->named) collect_returns_in(p, proc, &tail, c, 0);
}

/* ---- declarations ------------------------------------------------------------------------- */

static fe_procedure *add_procedure(fe_parser *p, const char *name, tx_span span,
                                   tx_span name_span, const fe_value *config, const fe_value *fn)
{
    fe_procedure *proc = fe_alloc(p, sizeof *proc);
    if (!proc) return NULL;
    proc->named = name != NULL;
    proc->name = name ? name : "main";
    proc->span = span;
    proc->name_span = name_span;
    proc->config = config;
    if (!fn && config && config->kind == FE_TABLE) {
        for (const fe_entry *e = config->entries; e; e = e->next)
            if (!e->key && e->value->kind == FE_FUNCTION) fn = e->value;
        if (!fn) {
            const fe_value *run = fe_value_get(config, "run");
            if (run && run->kind == FE_FUNCTION) fn = run;
        }
    }
    proc->function = fn && fn->kind == FE_FUNCTION ? fn : NULL;
    if (config && config->kind == FE_TABLE) {
        const fe_value *in = fe_value_get(config, "input");
        if (!in) in = fe_value_get(config, "params");
        const fe_value *out = fe_value_get(config, "output");
        if (!out) out = fe_value_get(config, "outputs");
        schema_from(p, &proc->input, in);
        schema_from(p, &proc->output, out);
        schema_from(p, &proc->state, fe_value_get(config, "state"));
    }
    if (proc->function) {
        const fe_node *body = fe_node_child_by_field(proc->function->node, p->sym->f_body);
        if (!!(body)) collect_returns(p, proc, body);
    }
    *p->tail_procedures = proc;
    p->tail_procedures = &proc->next;
    p->file->n_procedures++;
    return proc;
}

static void add_agent(fe_parser *p, const char *name, tx_span span, tx_span name_span,
                      const fe_value *config)
{
    fe_agent *a = fe_alloc(p, sizeof *a);
    if (!a) return;
    a->name = name ? name : "";
    a->span = span;
    a->name_span = name_span;
    a->config = config;
    const fe_value *m = fe_value_get(config, "model");
    if (m && m->kind == FE_TABLE) m = fe_value_get(m, "name");
    if (m && m->kind == FE_STRING) a->model = m->str;
    a->tools = fe_value_get(config, "tools");
    a->toolsets = fe_value_get(config, "toolsets");
    *p->tail_agents = a;
    p->tail_agents = &a->next;
}

static void add_tool(fe_parser *p, const char *name, fe_tool_kind kind, tx_span span,
                     tx_span name_span, const fe_value *config)
{
    fe_tool *t = fe_alloc(p, sizeof *t);
    if (!t) return;
    t->name = name ? name : "";
    t->kind = kind;
    t->span = span;
    t->name_span = name_span;
    t->config = config;
    const fe_value *use = fe_value_get(config, "use");
    if (use && use->kind == FE_STRING) {
        t->use = use->str;
        if (kind == FE_TOOL_LUA) t->kind = FE_TOOL_BROKER;
    }
    const fe_value *in = fe_value_get(config, "input");
    if (!in) in = fe_value_get(config, "parameters");
    schema_from(p, &t->input, in);
    *p->tail_tools = t;
    p->tail_tools = &t->next;
}

static void add_model(fe_parser *p, const char *name, fe_model_kind kind, tx_span span,
                      tx_span name_span, const fe_value *config)
{
    fe_model *m = fe_alloc(p, sizeof *m);
    if (!m) return;
    m->name = name ? name : "";
    m->kind = kind;
    m->span = span;
    m->name_span = name_span;
    m->config = config;
    *p->tail_models = m;
    p->tail_models = &m->next;
}

typedef struct {
    const char *kind;     /* "Procedure", "agent", ... as written */
    const char *name;     /* Kind "name" {...} form, else NULL */
    tx_span name_span;
    const fe_value *call; /* the outer call; its entries are the arguments */
} decl_call;

/* Recognises `K(args)` and `K "name" {cfg}` shapes. */
static bool parse_decl_call(fe_parser *p, const fe_value *call, decl_call *d)
{
    memset(d, 0, sizeof *d);
    if (call->kind != FE_CALL) return false;
    d->call = call;
    if (call->str && !strchr(call->str, '.')) {
        d->kind = call->str;
        return true;
    }
    /* Kind "name" {...}: the callee is itself a call with one string argument. */
    const fe_node *callee = fe_node_child_by_field(call->node, p->sym->f_name);
    if (!(callee) || (callee)->kind != p->sym->function_call) return false;
    fe_value *inner = fe_value_from_node(p, callee, 1);
    if (!inner || !inner->str || strchr(inner->str, '.')) return false;
    const fe_value *nm = fe_value_at(inner, 0);
    if (!nm || nm->kind != FE_STRING || inner->n_entries != 1) return false;
    d->kind = inner->str;
    d->name = nm->str;
    d->name_span = nm->span;
    return true;
}

static bool is_kind(const char *k, const char *a, const char *b)
{
    return strcmp(k, a) == 0 || (b && strcmp(k, b) == 0);
}

/* A top-level call, possibly the right-hand side of `var = ...`.
 * Returns true when it declared something. */
static bool declare_from_call(fe_parser *p, const fe_value *call, const char *var,
                              tx_span var_span, tx_span stmt_span)
{
    decl_call d;
    if (!parse_decl_call(p, call, &d)) return false;
    const fe_value *a0 = fe_value_at(call, 0), *a1 = fe_value_at(call, 1),
                   *a2 = fe_value_at(call, 2);
    const char *name = d.name ? d.name : var;
    tx_span name_span = d.name ? d.name_span : (var ? var_span : call->span);
    const fe_value *cfg = a0;
    /* Legacy v0.10: kind("name", {config}, fn) */
    bool legacy = !d.name && a0 && a0->kind == FE_STRING && a1;
    if (legacy) {
        name = a0->str;
        name_span = a0->span;
        cfg = a1;
    }
    const char *k = d.kind;
    if (is_kind(k, "Procedure", "procedure")) {
        if (!cfg || (cfg->kind != FE_TABLE && cfg->kind != FE_FUNCTION)) return false;
        const fe_value *fn = legacy ? a2 : NULL;
        /* v0.10's procedure({config}, function() ... end) */
        if (!legacy && !d.name && cfg->kind == FE_TABLE && a1 && a1->kind == FE_FUNCTION) fn = a1;
        if (cfg->kind == FE_FUNCTION) {
            fn = cfg;
            cfg = NULL;
        }
        /* `Procedure {...}`, `Procedure "main" {...}` and `main = procedure("main",
         * ...)` all declare the main procedure. */
        if (name && strcmp(name, "main") == 0) name = NULL;
        add_procedure(p, name, stmt_span, name_span, cfg, fn);
        return true;
    }
    if (is_kind(k, "Agent", "agent")) {
        if (!cfg || cfg->kind != FE_TABLE) return false;
        add_agent(p, name, stmt_span, name_span, cfg);
        return true;
    }
    if (is_kind(k, "Tool", "tool")) {
        if (!cfg || cfg->kind != FE_TABLE) return false;
        add_tool(p, name, FE_TOOL_LUA, stmt_span, name_span, cfg);
        return true;
    }
    if (is_kind(k, "Toolset", "toolset")) {
        if (!cfg || cfg->kind != FE_TABLE) return false;
        add_tool(p, name, FE_TOOL_TOOLSET, stmt_span, name_span, cfg);
        return true;
    }
    if (is_kind(k, "Model", "model") && cfg && cfg->kind == FE_TABLE) {
        add_model(p, name, FE_MODEL_MODEL, stmt_span, name_span, cfg);
        return true;
    }
    if (strcmp(k, "Classify") == 0 && cfg && cfg->kind == FE_TABLE) {
        const fe_value *n = fe_value_get(cfg, "name");
        if (n && n->kind == FE_STRING) {
            add_model(p, n->str, FE_MODEL_CLASSIFY, stmt_span, n->span, cfg);
            /* The variable is a handle too: Mocks may use either name. */
            if (var && strcmp(var, n->str) != 0)
                add_model(p, var, FE_MODEL_CLASSIFY, stmt_span, var_span, cfg);
        } else {
            add_model(p, name, FE_MODEL_CLASSIFY, stmt_span, name_span, cfg);
        }
        return true;
    }
    if (strcmp(k, "Mocks") == 0 && a0) {
        fe_mocks *m = fe_alloc(p, sizeof *m);
        if (!m) return true;
        m->table = a0;
        m->span = stmt_span;
        m->next = p->file->mocks;
        p->file->mocks = m;
        return true;
    }
    if (is_kind(k, "Specifications", "specifications") ||
        is_kind(k, "Specification", "specification")) {
        fe_parse_spec(p, a0, call->span);
        return true;
    }
    if (strcmp(k, "Step") == 0 || strcmp(k, "step") == 0) {
        if (!a0 || a0->kind != FE_STRING) return false;
        fe_custom_step *s = fe_alloc(p, sizeof *s);
        if (!s) return true;
        s->text = a0->str;
        s->span = a0->span;
        s->next = p->file->custom_steps;
        p->file->custom_steps = s;
        return true;
    }
    if (is_kind(k, "Evaluation", "Evaluations") || is_kind(k, "evaluation", "evaluations")) {
        if (!a0) return false;
        fe_evaluation *e = fe_alloc(p, sizeof *e);
        if (!e) return true;
        e->config = a0;
        e->span = stmt_span;
        *p->tail_evaluations = e;
        p->tail_evaluations = &e->next;
        return true;
    }
    if ((strcmp(k, "input") == 0 || strcmp(k, "output") == 0) && a0 && a0->kind == FE_TABLE &&
        call->n_entries == 1) {
        schema_from(p, k[0] == 'i' ? &p->file->script_input : &p->file->script_output, a0);
        return true;
    }
    if (strcmp(k, "require") == 0 && var && a0 && a0->kind == FE_STRING &&
        strncmp(a0->str, "tactus.tools.", 13) == 0) {
        add_tool(p, var, FE_TOOL_STDLIB, stmt_span, var_span, NULL);
        return true;
    }
    /* Settings and other DSL calls (default_model(...), Stages{...}) declare
     * nothing the model tracks but are not "code" either. */
    static const char *const settings[] = {
        "default_provider", "default_model", "max_turns", "max_depth", "return_prompt",
        "error_prompt", "status_prompt", "async", "Stages", "stages", "Hitl", "hitl",
        "Prompt", "prompt", NULL,
    };
    for (size_t i = 0; settings[i]; i++)
        if (strcmp(k, settings[i]) == 0) return true;
    return false;
}

/* ---- references, with lexical scopes ---------------------------------------------------------- */

typedef struct {
    fe_parser *p;
    const char **locals; /* stack of visible local names */
    size_t n_locals, cap_locals;
    fe_ref **tail;
    fe_def **defs_tail;
    tx_map agent_names; /* calls of these keep their arguments */
    bool too_deep;
} ref_walk;

static void push_local(ref_walk *w, const char *name)
{
    if (!name) return;
    if (w->n_locals == w->cap_locals) {
        size_t cap = w->cap_locals ? w->cap_locals * 2 : 64;
        const char **l = tx_realloc(w->locals, cap * sizeof *l);
        if (!l) {
            w->p->oom = true;
            return;
        }
        w->locals = l;
        w->cap_locals = cap;
    }
    w->locals[w->n_locals++] = name;
}

static bool is_local(ref_walk *w, const char *name, size_t len)
{
    for (size_t i = w->n_locals; i-- > 0;)
        if (strncmp(w->locals[i], name, len) == 0 && w->locals[i][len] == '\0') return true;
    return false;
}

static void add_ref(ref_walk *w, const char *name, const fe_node *node, bool is_call,
                    const fe_value *call, bool is_method)
{
    size_t root_len = strcspn(name, ".");
    if (is_local(w, name, root_len)) return;
    fe_ref *r = fe_alloc(w->p, sizeof *r);
    if (!r) return;
    r->name = name;
    r->span = fe_node_span(node);
    r->is_call = is_call;
    r->is_method = is_method;
    r->call = call;
    *w->tail = r;
    w->tail = &r->next;
}

/* A global definition (no local of the root's name is visible). */
static void add_def(ref_walk *w, const char *name, const fe_node *node)
{
    if (!name || is_local(w, name, strcspn(name, "."))) return;
    fe_def *d = fe_alloc(w->p, sizeof *d);
    if (!d) return;
    d->name = name;
    d->span = fe_node_span(node);
    *w->defs_tail = d;
    w->defs_tail = &d->next;
}

/* Marks the ref of `name` added since `before` as the target of an
 * assignment (the others there, `a[i].x = v`'s a and i, are reads). */
static void mark_assigned(fe_ref **before, const char *name)
{
    for (fe_ref *r = *before; r && name; r = r->next)
        if (r->name == name || strcmp(r->name, name) == 0) r->is_assignment = true;
}

static void walk(ref_walk *w, const fe_node *node, int depth);

static void walk_children(ref_walk *w, const fe_node *node, int depth)
{
    fe_iter it = fe_iter_start(node);
    const fe_node *c;
    while (!w->p->oom && fe_iter_next(&it, &c)) walk(w, c, depth + 1);
    fe_iter_done(&it);
}

static void declare_names(ref_walk *w, const fe_node *list)
{
    const fe_syms *s = w->p->sym;
    fe_iter it = fe_iter_start(list);
    const fe_node *c;
    while (fe_iter_next(&it, &c))
        if ((c)->kind == s->identifier) push_local(w, fe_node_text(w->p, c));
    fe_iter_done(&it);
}

/* Walks a statement or expression, recording global references. Lua's own
 * limit of 200 nesting levels means deeper trees were already rejected by
 * the syntax check; we stop there rather than risk the C stack. */
static void walk(ref_walk *w, const fe_node *node, int depth)
{
    const fe_syms *s = w->p->sym;
    if (depth > 6 * FE_MAX_DEPTH) {
        w->too_deep = true;
        return;
    }
    uint16_t t = (node)->kind;
    if (t == s->comment || t == s->string || t == s->number || t == s->label_statement ||
        t == s->goto_statement)
        return;
    if (t == s->identifier) {
        const char *name = fe_node_text(w->p, node);
        if (name) add_ref(w, name, node, false, NULL, false);
        return;
    }
    if (t == s->dot_index_expression || t == s->method_index_expression) {
        const char *name = fe_static_name(w->p, node, 0);
        if (name) {
            add_ref(w, name, node, false, NULL, t == s->method_index_expression);
            return;
        }
        walk(w, fe_node_child_by_field(node, s->f_table), depth + 1);
        return;
    }
    if (t == s->function_call) {
        const fe_node *callee = fe_node_child_by_field(node, s->f_name);
        const fe_node *args = fe_node_child_by_field(node, s->f_arguments);
        const char *name = !(callee) ? NULL : fe_static_name(w->p, callee, 0);
        if (name) {
            /* Arguments are kept only for the calls rules look into; converting
             * every call's arguments doubled the cost of a check. */
            bool keep = keeps_arguments(name) ||
                        tx_map_get(&w->agent_names, name, strlen(name)) != NULL;
            fe_value *call = keep ? fe_value_from_node(w->p, node, 0) : NULL;
            add_ref(w, name, callee, true, call,
                    (callee)->kind == s->method_index_expression);
        } else if (!!(callee)) {
            walk(w, callee, depth + 1);
        }
        if (!!(args)) walk_children(w, args, depth);
        return;
    }
    if (t == s->function_definition || t == s->function_declaration) {
        size_t mark = w->n_locals;
        if (t == s->function_declaration) {
            const fe_node *name = fe_node_child_by_field(node, s->f_name);
            const fe_node *first = node->first;
            bool is_local_fn = first && first->kind == FE_K_LOCAL;
            if (!!(name)) {
                if ((name)->kind == s->identifier) {
                    if (is_local_fn) {
                        push_local(w, fe_node_text(w->p, name));
                        mark = w->n_locals; /* stays visible after the body */
                    } else {
                        add_def(w, fe_node_text(w->p, name), name);
                    }
                } else {
                    /* function M.f() reads M and defines M.f */
                    add_def(w, fe_static_name(w->p, name, 0), name);
                    walk(w, fe_node_child_by_field(name, s->f_table), depth + 1);
                }
                if ((name)->kind == s->method_index_expression) push_local(w, "self");
            }
        }
        const fe_node *params = fe_node_child_by_field(node, s->f_parameters);
        if (!!(params)) declare_names(w, params);
        const fe_node *body = fe_node_child_by_field(node, s->f_body);
        if (!!(body)) walk(w, body, depth + 1);
        w->n_locals = mark;
        return;
    }
    if (t == s->variable_declaration) {
        /* `local x = x`: the right side sees the outer x. */
        const fe_node *c, *vars = NULL;
        bool have_vars = false;
        fe_iter it = fe_iter_start(node);
        while (fe_iter_next(&it, &c)) {
            if ((c)->kind == s->expression_list) walk_children(w, c, depth);
            if ((c)->kind == s->variable_list) vars = c, have_vars = true;
        }
        fe_iter_done(&it);
        if (have_vars) declare_names(w, vars);
        return;
    }
    if (t == s->assignment_statement) {
        const fe_node *c, *v;
        fe_iter it = fe_iter_start(node);
        while (fe_iter_next(&it, &c)) {
            if ((c)->kind == s->expression_list) {
                walk_children(w, c, depth);
            } else if ((c)->kind == s->variable_list) {
                fe_iter vit = fe_iter_start(c);
                while (fe_iter_next(&vit, &v)) {
                    /* Assigning a global is a definition, not a use; M.x = v
                     * defines M.x and reads M. */
                    if ((v)->kind == s->identifier) {
                        add_def(w, fe_node_text(w->p, v), v);
                        continue;
                    }
                    const char *target = (v)->kind == s->dot_index_expression
                                             ? fe_static_name(w->p, v, 0)
                                             : NULL;
                    add_def(w, target, v);
                    fe_ref **before = w->tail;
                    walk(w, v, depth + 1);
                    mark_assigned(before, target);
                }
                fe_iter_done(&vit);
            }
        }
        fe_iter_done(&it);
        return;
    }
    if (t == s->for_statement) {
        size_t mark = w->n_locals;
        const fe_node *clause = fe_node_child_by_field(node, s->f_clause);
        if (!!(clause)) {
            /* Expressions first (they are evaluated outside the loop scope). */
            const fe_node *c, *vars = NULL;
            bool have_vars = false;
            fe_iter it = fe_iter_start(clause);
            while (fe_iter_next(&it, &c)) {
                uint16_t ct = (c)->kind;
                if (ct == s->expression_list)
                    walk_children(w, c, depth);
                else if (ct == s->variable_list)
                    vars = c, have_vars = true;
                else if (ct != s->identifier)
                    walk(w, c, depth + 1);
            }
            fe_iter_done(&it);
            if ((clause)->kind == s->for_numeric_clause) {
                const fe_node *nm = fe_node_child_by_field(clause, s->f_name);
                if (!!(nm)) push_local(w, fe_node_text(w->p, nm));
            } else if (have_vars) {
                declare_names(w, vars);
            }
        }
        const fe_node *body = fe_node_child_by_field(node, s->f_body);
        if (!!(body)) walk(w, body, depth + 1);
        w->n_locals = mark;
        return;
    }
    if (t == s->table_constructor) {
        const fe_node *f;
        fe_iter it = fe_iter_start(node);
        while (fe_iter_next(&it, &f)) {
            if ((f)->kind != s->field) continue;
            const fe_node *key = fe_node_child_by_field(f, s->f_key);
            const fe_node *value = fe_node_child_by_field(f, s->f_value);
            if (!!(key)) walk(w, key, depth + 1);
            if (!!(value)) walk(w, value, depth + 1);
        }
        fe_iter_done(&it);
        return;
    }
    if (t == s->block || t == s->repeat_statement) {
        /* Locals of a block end with it; repeat's condition sees the body's. */
        size_t mark = w->n_locals;
        walk_children(w, node, depth);
        w->n_locals = mark;
        return;
    }
    /* do/while/if bodies are `block`s; everything else: children in order. */
    size_t mark = w->n_locals;
    walk_children(w, node, depth);
    if (t != s->chunk) w->n_locals = mark;
}

/* ---- top level -------------------------------------------------------------------------------- */

static bool single_target(fe_parser *p, const fe_node *stmt, const char **name, tx_span *span,
                          const fe_node **value)
{
    const fe_syms *s = p->sym;
    const fe_node *vars = NULL, *exprs = NULL;
    bool have_vars = false, have_exprs = false;
    const fe_node *c;
    fe_iter it = fe_iter_start(stmt);
    while (fe_iter_next(&it, &c)) {
        if ((c)->kind == s->variable_list) vars = c, have_vars = true;
        if ((c)->kind == s->expression_list) exprs = c, have_exprs = true;
    }
    fe_iter_done(&it);
    if (!have_vars || !have_exprs) return false;
    const fe_node *v = fe_node_named_child(vars, 0);
    const fe_node *e = fe_node_named_child(exprs, 0);
    if (!(v) || !(e) || (v)->kind != s->identifier)
        return false;
    *name = fe_node_text(p, v);
    *span = fe_node_span(v);
    *value = e;
    return *name != NULL;
}

static void scan_top_level(fe_parser *p, const fe_node *root, bool *has_code, bool *has_return)
{
    const fe_syms *s = p->sym;
    const fe_node *st;
    fe_iter it = fe_iter_start(root);
    while (!p->oom && fe_iter_next(&it, &st)) {
        uint16_t t = (st)->kind;

        if (t == s->function_call) {
            fe_value *call = fe_value_from_node(p, st, 0);
            if (call && declare_from_call(p, call, NULL, fe_node_span(st), fe_node_span(st)))
                continue;
            *has_code = true;
        } else if (t == s->assignment_statement || t == s->variable_declaration) {
            const char *name;
            tx_span span;
            const fe_node *value;
            if (single_target(p, st, &name, &span, &value) &&
                (value)->kind == s->function_call) {
                fe_value *call = fe_value_from_node(p, value, 0);
                if (call && declare_from_call(p, call, name, span, fe_node_span(st))) continue;
            }
            /* Plain local definitions (helpers, constants) are not script code. */
            if (t == s->assignment_statement) *has_code = true;
        } else if (t == s->function_declaration) {
            const fe_node *name = fe_node_child_by_field(st, s->f_name);
            const fe_node *first = st->first;
            bool local = first && first->kind == FE_K_LOCAL;
            if (!local && !!(name) && (name)->kind == s->identifier) {
                char *nm = fe_node_text(p, name);
                if (nm && strcmp(nm, "main") == 0) {
                    fe_value *fn = fe_alloc(p, sizeof *fn);
                    if (!fn) break;
                    fn->kind = FE_FUNCTION;
                    fn->node = st;
                    fn->span = fe_node_span(st);
                    fe_procedure *pr =
                        add_procedure(p, NULL, fe_node_span(st), fe_node_span(name), NULL, fn);
                    if (pr) pr->plain_main = true;
                }
            }
        } else if (t == s->return_statement) {
            *has_return = true;
        } else if (t != s->empty_statement && t != s->hash_bang_line) {
            *has_code = true;
        }
    }
    fe_iter_done(&it);
}

static void build_script_main(fe_parser *p, const fe_node *root)
{
    fe_value *fn = fe_alloc(p, sizeof *fn);
    if (!fn) return;
    fn->kind = FE_FUNCTION;
    fn->node = root;
    fn->span = fe_node_span(root);
    fe_procedure *proc = fe_alloc(p, sizeof *proc);
    if (!proc) return;
    proc->name = "main";
    proc->script_mode = true;
    proc->span = fn->span;
    proc->name_span = tx_span_of_bytes(p->file->src, p->file->len, 0, 0);
    proc->function = fn;
    proc->input = p->file->script_input;
    proc->output = p->file->script_output;
    collect_returns(p, proc, root);
    *p->tail_procedures = proc;
    p->tail_procedures = &proc->next;
    p->file->n_procedures++;
}

static tx_status parse(fe_context *ctx, fe_reuse *reuse, const char *path, const char *src, size_t len,
                       fe_file **out);

tx_status fe_parse(fe_context *ctx, const char *path, const char *src, size_t len, fe_file **out)
{
    return parse(ctx, NULL, path, src, len, out);
}

tx_status fe_parse_again(fe_context *ctx, fe_reuse *r, const char *path, const char *src,
                         size_t len, fe_file **out)
{
    return parse(ctx, r, path, src, len, out);
}

static tx_status parse(fe_context *ctx, fe_reuse *reuse, const char *path, const char *src, size_t len,
                       fe_file **out)
{
    *out = NULL;
    if (len > FE_MAX_SOURCE) return TX_ELIMIT;
    fe_file *f = tx_calloc(1, sizeof *f);
    if (!f) return TX_ENOMEM;
    f->path = path;
    f->src = src;
    f->len = len;
    tx_arena_init(&f->arena);
    tx_diag_list_init(&f->diags);
    fe_parser p = {.ctx = ctx, .file = f, .sym = &ctx->sym, .reuse = reuse};
    p.tail_procedures = &f->procedures;
    p.tail_agents = &f->agents;
    p.tail_tools = &f->tools;
    p.tail_models = &f->models;
    p.tail_evaluations = &f->evaluations;
    p.tail_specs = &f->specs;

    if (len == 0) {
        tx_diag_add(&f->diags, "TAC004", TX_SEV_WARNING, tx_span_of_bytes(src, len, 0, 0),
                    "the file is empty; a .tac file declares at least a Procedure "
                    "(see examples/01-hello.tac)");
        f->lua_ok = true;
        if (reuse) fe_reuse_remember(reuse, f, NULL);
        *out = f;
        return f->diags.oom ? (fe_file_free(f), TX_ENOMEM) : TX_OK;
    }
    if (len > FE_MAX_RUN_SOURCE)
        tx_diag_add(&f->diags, "TAC006", TX_SEV_WARNING, tx_span_of_bytes(src, len, 0, 0),
                    "this file is %.1f MiB; a run takes at most %u MiB of source (it travels in the "
                    "run's first message), so `tactus run` and `require` will refuse it: move data "
                    "into files the procedure reads, or split the code into modules",
                    (double)len / (1024.0 * 1024.0), FE_MAX_RUN_SOURCE >> 20);
    const char *nul = memchr(src, '\0', len);
    if (nul) {
        size_t at = (size_t)(nul - src);
        tx_diag_add(&f->diags, "TAC003", TX_SEV_ERROR, tx_span_of_bytes(src, len, at, at + 1),
                    "this is a binary file (NUL byte at offset %zu), not Lua source; check the "
                    "path, or remove the file from the checked folder", at);
        if (reuse) fe_reuse_remember(reuse, f, NULL);
        *out = f;
        return f->diags.oom ? (fe_file_free(f), TX_ENOMEM) : TX_OK;
    }
    size_t bad = tx_utf8_invalid_at(src, len);
    if (bad < len) {
        tx_diag_add(&f->diags, "TAC002", TX_SEV_ERROR, tx_span_of_bytes(src, len, bad, bad + 1),
                    "invalid UTF-8 byte 0x%02X; save the file as UTF-8 (in strings, write "
                    "arbitrary bytes as \\xHH escapes)", (unsigned char)src[bad]);
    }

    /* Lua's own compiler is the judge of syntax: it says what it expected,
     * and knows what no grammar sees (goto targets, assignment to a <const>,
     * 200 levels of nesting). The tree comes from our own parser
     * (fe_lparse.c: linear time, the tactus grammar's shape, ~40x faster
     * than tree-sitter here); its error position, when it agrees with Lua's
     * line, gives the column. */
    fe_ast ast;
    tx_status ps = fe_lparse(&f->arena, src, len, &ast);
    if (ps == TX_ENOMEM) p.oom = true;
    /* The last parse of this document may vouch for Lua's verdict
     * (fe_reuse.c); otherwise Lua compiles the whole text. */
    if (reuse && ps == TX_OK && fe_reuse_lua_ok(&p, reuse, &ast))
        f->lua_ok = true;
    else
        fe_lua_compile(&p);
    p.ast = ps == TX_OK ? &ast : NULL;
    fe_report_lua_error(&p);
    if (ps == TX_OK && ast.ok) {
        f->root = ast.root;
    } else if (f->lua_ok && ps != TX_ENOMEM) {
        /* Lua accepted what our parser did not: a bug of ours, said plainly. */
        tx_diag_add(&f->diags, "TAC001", TX_SEV_ERROR,
                    tx_span_of_bytes(src, len, ps == TX_OK ? ast.err_byte : 0, ps == TX_OK ? ast.err_byte : 0),
                    "internal error: tactus's parser rejected a file that Lua accepts (%s); "
                    "please report it with this file",
                    ps == TX_OK ? ast.err_msg : tx_status_str(ps));
    }
    if (!f->root) {
        if (p.oom || f->diags.oom) {
            if (reuse) fe_reuse_forget(reuse);
            fe_file_free(f);
            return TX_ENOMEM;
        }
        if (reuse) fe_reuse_remember(reuse, f, NULL);
        *out = f;
        return TX_OK;
    }

    const fe_node *root = f->root;
    bool has_code = false, has_return = false;
    scan_top_level(&p, root, &has_code, &has_return);
    if (f->n_procedures == 0 && (has_code || has_return)) build_script_main(&p, root);

    ref_walk w = {.p = &p, .tail = &f->refs, .defs_tail = &f->defs};
    tx_map_init(&w.agent_names);
    /* Calls of agents keep their arguments, and so do v0.10's Greeter.turn(...)
     * for the agent "greeter" (str.capitalize). */
    tx_buf turn;
    tx_buf_init(&turn, 4096);
    for (const fe_agent *a = f->agents; a; a = a->next) {
        if (tx_map_put(&w.agent_names, a->name, strlen(a->name), (void *)a) != TX_OK) p.oom = true;
        tx_buf_clear(&turn);
        fe_capitalize(a->name, &turn);
        tx_buf_puts(&turn, ".turn");
        char *key = turn.data ? fe_strndup(&p, turn.data, turn.len) : NULL;
        if (key && tx_map_put(&w.agent_names, key, strlen(key), (void *)a) != TX_OK) p.oom = true;
    }
    tx_buf_free(&turn);
    walk(&w, root, 0);
    tx_free(w.locals);
    tx_map_free(&w.agent_names);

    if (p.oom || f->diags.oom) {
        if (reuse) fe_reuse_forget(reuse);
        fe_file_free(f);
        return TX_ENOMEM;
    }
    if (reuse) fe_reuse_remember(reuse, f, &ast);
    *out = f;
    return TX_OK;
}

void fe_file_free(fe_file *f)
{
    if (!f) return;
    tx_diag_list_free(&f->diags);
    tx_arena_free(&f->arena);
    tx_free(f);
}
