/*
 * ck_legacy.c - the v0.10 DSL: one TAC901 warning per legacy form, naming
 * the current one, and the edits `tactus check --fix` (and the language
 * server's code action) apply to rewrite a file to the current DSL.
 *
 * The forms (inventory H.2, A.1): agent("x", {...}), procedure(...) in its
 * four shapes, tool("x", {...}, fn), toolset("x", {...}), model("x", {...}),
 * stages/step/specification(s)/evaluation(s)/hitl/human/prompt, the
 * capitalised globals v0.10 gave agents and models (Greeter.turn(),
 * Sentiment(...)), schemas written {type = "string", ...}, and the
 * params/outputs keys. Every finding is made by one walk (legacy_walk), so
 * the warnings and the rewrite never disagree.
 *
 * The rewrite keeps what the file does: the runtime runs v0.10 forms with
 * v0.10's defaults (stdlib/dsl/compat.lua), so the rewrite writes them out:
 * model = "gpt-4o" for an agent without a model (and no default_model), the
 * tools a v0.10 agent got without naming any (every tool and toolset of the
 * file, and "done"), "provider/model" for v0.10's "provider:model". Names
 * in grants stay strings: the current runtime resolves them at the agent's
 * first call, as v0.10 did, so declaration order does not matter. Edits
 * only replace the declarations' own syntax; comments and code inside
 * configurations and functions are kept byte for byte.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ck_internal.h"

#define LEGACY_HINT "tactus check --fix rewrites it"

/* ---- edits ------------------------------------------------------------------------------- */

void ck_edits_init(ck_edits *e)
{
    memset(e, 0, sizeof *e);
}

void ck_edits_free(ck_edits *e)
{
    for (size_t i = 0; i < e->len; i++)
        tx_free(e->items[i].text);
    tx_free(e->items);
    memset(e, 0, sizeof *e);
}

static void edits_add(ck_edits *e, uint32_t start, uint32_t end, const char *text)
{
    if (e->oom) return;
    if (e->len == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 32;
        ck_edit *n = tx_realloc(e->items, cap * sizeof *n);
        if (!n) {
            e->oom = true;
            return;
        }
        e->items = n;
        e->cap = cap;
    }
    char *t = tx_strdup(text);
    if (!t) {
        e->oom = true;
        return;
    }
    e->items[e->len] = (ck_edit){start, end, t, (uint32_t)e->len};
    e->len++;
}

static int edit_cmp(const void *a, const void *b)
{
    const ck_edit *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1; /* an insert first */
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts, and drops an edit that overlaps the one before it (a form inside
 * another's replaced text; the outer one wins). */
static void edits_settle(ck_edits *e)
{
    if (!e->len) return;
    qsort(e->items, e->len, sizeof *e->items, edit_cmp);
    size_t k = 1;
    for (size_t i = 1; i < e->len; i++) {
        const ck_edit *prev = &e->items[k - 1];
        if (e->items[i].start < prev->end) {
            tx_free(e->items[i].text);
            continue;
        }
        e->items[k++] = e->items[i];
    }
    e->len = k;
}

char *ck_edits_apply(const char *src, size_t len, const ck_edits *e, size_t *out_len)
{
    tx_buf b;
    tx_buf_init(&b, (size_t)1 << 30);
    size_t at = 0;
    bool ok = true;
    for (size_t i = 0; i < e->len; i++) {
        const ck_edit *x = &e->items[i];
        if (x->start < at || x->end > len || x->start > x->end) continue;
        ok = ok && tx_buf_append(&b, src + at, x->start - at) == TX_OK;
        ok = ok && tx_buf_puts(&b, x->text) == TX_OK;
        at = x->end;
    }
    ok = ok && tx_buf_append(&b, src + at, len - at) == TX_OK;
    ok = ok && tx_buf_puts(&b, "") == TX_OK;
    if (!ok) {
        tx_buf_free(&b);
        return NULL;
    }
    if (out_len) *out_len = b.len;
    return tx_buf_steal(&b);
}

/* ---- the walk ------------------------------------------------------------------------------ */

typedef struct {
    const fe_file *f;
    ck_run *run;     /* reporting TAC901, or NULL */
    ck_edits *edits; /* collecting the rewrite, or NULL */
    bool has_default_model;
    ck_capitals capitals; /* v0.10's capitalised globals: "Greeter" -> the agent (or model) */
} legacy;

static void found(legacy *L, tx_span at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void found(legacy *L, tx_span at, const char *fmt, ...)
{
    if (!L->run) return;
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ck_report(L->run, "TAC901", at, "%s; " LEGACY_HINT, msg);
}

static void edit(legacy *L, uint32_t start, uint32_t end, const char *text)
{
    if (L->edits) edits_add(L->edits, start, end, text);
}

static bool is_identifier(const char *s)
{
    static const char *const keywords[] = {
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
        "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    };
    if (!s || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_') return false;
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strcmp(s, keywords[i]) == 0) return false;
    return true;
}

/* The source text of [start, end), into a fresh buffer. */
static void text_of(const legacy *L, uint32_t start, uint32_t end, tx_buf *out)
{
    if (end > L->f->len || start > end) return;
    tx_buf_append(out, L->f->src + start, end - start);
}

/* The whitespace before position `at` on its line (the entry's indent). */
static void indent_at(const legacy *L, uint32_t at, tx_buf *out)
{
    uint32_t s = at;
    while (s > 0 && L->f->src[s - 1] != '\n') s--;
    uint32_t e = s;
    while (e < at && (L->f->src[e] == ' ' || L->f->src[e] == '\t')) e++;
    if (e == at) text_of(L, s, e, out);
    else tx_buf_puts(out, "  ");
}

static uint32_t entry_start(const fe_entry *e)
{
    return e->key ? e->key_span.start_byte : e->value->span.start_byte;
}

/* Adds `text` as the first entry of table t ("text,\n<indent>"), or as its
 * only one when t is empty. */
static void insert_entry(legacy *L, const fe_value *t, const char *text)
{
    tx_buf b;
    tx_buf_init(&b, 1 << 16);
    if (t->entries) {
        uint32_t at = entry_start(t->entries);
        bool same_line = memchr(L->f->src + t->span.start_byte, '\n', at - t->span.start_byte) == NULL;
        tx_buf_printf(&b, "%s,", text);
        if (same_line) {
            tx_buf_puts(&b, " ");
        } else {
            tx_buf_puts(&b, "\n");
            indent_at(L, at, &b);
        }
        if (b.data) edit(L, at, at, b.data);
    } else {
        tx_buf_printf(&b, "{ %s }", text);
        if (b.data) edit(L, t->span.start_byte, t->span.end_byte, b.data);
    }
    tx_buf_free(&b);
}

/* ---- schemas: {type = "string", ...} -> field.string{...} ----------------------------------- */

static const char *builder_of(const char *type)
{
    static const struct {
        const char *type, *builder;
    } map[] = {
        {"string", "string"},   {"str", "string"},     {"number", "number"},  {"float", "number"},
        {"integer", "integer"}, {"int", "integer"},    {"boolean", "boolean"}, {"bool", "boolean"},
        {"array", "array"},     {"list", "array"},     {"object", "object"},  {"dict", "object"},
        {"table", "object"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(type, map[i].type) == 0) return map[i].builder;
    return NULL;
}

/* One field written as a plain table with a literal type. */
static void legacy_field(legacy *L, const char *what, const fe_entry *fe)
{
    const fe_value *v = fe->value;
    if (!v || v->kind != FE_TABLE) return;
    const fe_value *type = fe_value_get(v, "type");
    if (!type || type->kind != FE_STRING) return;
    const char *builder = builder_of(type->str);
    if (!builder) return;
    found(L, v->span, "%s '%s' is written {type = \"%s\", ...}, the v0.10 form of a field; the "
                      "current form is field.%s{...}",
          what, fe->key ? fe->key : "?", type->str, builder);
    tx_buf b;
    tx_buf_init(&b, 1 << 20);
    tx_buf_printf(&b, "field.%s{", builder);
    bool first = true;
    for (const fe_entry *e = v->entries; e; e = e->next) {
        if (e->key && strcmp(e->key, "type") == 0) continue;
        if (!first) tx_buf_puts(&b, ", ");
        text_of(L, entry_start(e), e->value->span.end_byte, &b);
        first = false;
    }
    tx_buf_puts(&b, "}");
    if (b.data) edit(L, v->span.start_byte, v->span.end_byte, b.data);
    tx_buf_free(&b);
}

static void legacy_schema(legacy *L, const char *what, const fe_value *schema)
{
    if (!schema || schema->kind != FE_TABLE) return;
    for (const fe_entry *e = schema->entries; e; e = e->next)
        if (e->key) legacy_field(L, what, e);
}

/* key `old` renamed `current` in table t (params -> input, ...) */
static void rename_key(legacy *L, const fe_value *t, const char *old, const char *current,
                       const char *what)
{
    const fe_entry *e = fe_value_entry(t, old);
    if (!e || fe_value_get(t, current)) return;
    found(L, e->key_span, "%s: '%s' is the v0.10 name of '%s'; the current form is %s = {...}",
          what, old, current, current);
    edit(L, e->key_span.start_byte, e->key_span.end_byte, current);
}

/* A procedure's or script's configuration: input/output/state schemas. */
static void legacy_procedure_config(legacy *L, const fe_value *cfg)
{
    if (!cfg || cfg->kind != FE_TABLE) return;
    rename_key(L, cfg, "params", "input", "the procedure's configuration");
    rename_key(L, cfg, "outputs", "output", "the procedure's configuration");
    static const char *const keys[] = {"input", "params", "output", "outputs", "state"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        legacy_schema(L, i < 2 ? "input" : i < 4 ? "output" : "state field",
                      fe_value_get(cfg, keys[i]));
}

/* A tool's configuration: parameters -> input, and its fields. */
static void legacy_tool_config(legacy *L, const fe_value *cfg)
{
    if (!cfg || cfg->kind != FE_TABLE) return;
    rename_key(L, cfg, "parameters", "input", "the tool's configuration");
    legacy_schema(L, "tool parameter", fe_value_get(cfg, "parameters"));
    legacy_schema(L, "tool parameter", fe_value_get(cfg, "input"));
}

/* ---- declarations -------------------------------------------------------------------------- */

/* The top-level statement a declaring call is the whole of (or the right
 * side of), from the model: its span, or false when the call is elsewhere. */
static bool statement_of(const legacy *L, const fe_value *call, const fe_value *cfg, tx_span *out)
{
    const fe_file *f = L->f;
    uint32_t cs = call->span.start_byte, ce = call->span.end_byte;
#define MATCH(s)                                                                                   \
    if ((s).start_byte <= cs && (s).end_byte == ce) {                                             \
        *out = (s);                                                                                \
        return true;                                                                               \
    }
    (void)cfg;
    for (const fe_agent *a = f->agents; a; a = a->next) MATCH(a->span)
    for (const fe_procedure *p = f->procedures; p; p = p->next)
        if (!p->script_mode) MATCH(p->span)
    for (const fe_tool *t = f->tools; t; t = t->next) MATCH(t->span)
    for (const fe_model *m = f->models; m; m = m->next) MATCH(m->span)
#undef MATCH
    return false;
}

/* What precedes the call in its statement ("", "main = ", "local x = "). */
static void prefix_of(const legacy *L, const fe_value *call, tx_buf *out, bool *top, tx_span *stmt)
{
    *top = statement_of(L, call, NULL, stmt);
    if (*top) text_of(L, stmt->start_byte, call->span.start_byte, out);
}

/* The name of the variable in a prefix "x = " or "local x = ", or "". */
static void var_of(const char *prefix, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = prefix;
    while (*p == ' ' || *p == '\t') p++;
    if (strncmp(p, "local ", 6) == 0) p += 6;
    while (*p == ' ') p++;
    size_t n = 0;
    while (p[n] && (isalnum((unsigned char)p[n]) || p[n] == '_')) n++;
    if (n && n < cap) {
        memcpy(out, p, n);
        out[n] = '\0';
    }
}

/* Starts the rewrite of kind("name", cfg...) at the statement: `name = Kind `
 * (or `Kind "name" `) in place of everything before cfg. False when the
 * statement cannot be rewritten faithfully (x = agent("y", ...)). */
static bool declaration_head(legacy *L, const fe_value *call, const char *kind, const char *name,
                             const fe_value *next)
{
    tx_buf pre, head;
    tx_buf_init(&pre, 4096);
    tx_buf_init(&head, 4096);
    bool top;
    tx_span stmt;
    prefix_of(L, call, &pre, &top, &stmt);
    char var[128];
    var_of(pre.data ? pre.data : "", var, sizeof var);
    bool ok = true;
    uint32_t from = call->span.start_byte;
    bool is_main = strcmp(kind, "Procedure") == 0 && name && strcmp(name, "main") == 0;
    if (is_main && top) {
        /* main = procedure("main", ...) and procedure("main", ...): the main procedure */
        tx_buf_puts(&head, "Procedure ");
        from = stmt.start_byte;
    } else if (!name) {
        tx_buf_printf(&head, "%s ", kind);
    } else if (top && (!var[0] || strcmp(var, name) == 0) && is_identifier(name) &&
               !(pre.data && strncmp(pre.data, "local", 5) == 0)) {
        tx_buf_printf(&head, "%s = %s ", name, kind);
        from = stmt.start_byte;
    } else if (var[0] && strcmp(var, name) != 0 &&
               (strcmp(kind, "Agent") == 0 || strcmp(kind, "Tool") == 0)) {
        ok = false; /* x = agent("y"): the current DSL refuses a variable that differs */
    } else {
        tx_buf_printf(&head, "%s \"%s\" ", kind, name);
    }
    if (ok && head.data) edit(L, from, next->span.start_byte, head.data);
    tx_buf_free(&pre);
    tx_buf_free(&head);
    return ok;
}

/* Ends a rewritten declaration whose last argument is `last`: drops the
 * call's closing parenthesis. */
static void declaration_tail(legacy *L, const fe_value *call, const fe_value *last)
{
    edit(L, last->span.end_byte, call->span.end_byte, "");
}

/* Moves `fn` into table cfg as its last entry: kind("x", {a = 1}, function() end)
 * becomes Kind {a = 1, function() end}. */
static void function_into(legacy *L, const fe_value *call, const fe_value *cfg, const fe_value *fn)
{
    const char *src = L->f->src;
    if (!cfg->entries) {
        /* {} : the function is the only entry */
        edit(L, cfg->span.start_byte, fn->span.start_byte, "{ ");
        edit(L, fn->span.end_byte, call->span.end_byte, " }");
        return;
    }
    uint32_t close = cfg->span.end_byte - 1; /* the '}' */
    uint32_t q = close;
    while (q > cfg->span.start_byte && isspace((unsigned char)src[q - 1])) q--;
    tx_buf b;
    tx_buf_init(&b, 4096);
    if (src[q - 1] != ',' && src[q - 1] != ';') tx_buf_puts(&b, ",");
    tx_buf_puts(&b, "\n");
    indent_at(L, entry_start(cfg->entries), &b);
    if (b.data) edit(L, q, fn->span.start_byte, b.data);
    tx_buf_free(&b);
    edit(L, fn->span.end_byte, call->span.end_byte, ",\n}");
}

/* The names a v0.10 agent that names no tools was given: every tool and
 * toolset declared at the top level, and done. */
static void all_tools(const legacy *L, tx_buf *out)
{
    tx_buf_puts(out, "tools = {");
    bool first = true;
    bool done = false;
    for (const fe_tool *t = L->f->tools; t; t = t->next) {
        if (!t->name[0]) continue;
        if (strcmp(t->name, "done") == 0) done = true;
        tx_buf_printf(out, "%s\"%s\"", first ? "" : ", ", t->name);
        first = false;
    }
    if (!done) tx_buf_printf(out, "%s\"done\"", first ? "" : ", ");
    tx_buf_puts(out, "}");
}

static void legacy_agent(legacy *L, const fe_ref *ref)
{
    const fe_value *call = ref->call, *name = fe_value_at(call, 0), *cfg = fe_value_at(call, 1);
    if (!name || name->kind != FE_STRING || !cfg || cfg->kind != FE_TABLE) return;
    bool ident = is_identifier(name->str);
    found(L, ref->span,
          "agent(\"%s\", {...}) is the v0.10 DSL; the current form is %s%s%s Agent {...} (v0.10's "
          "defaults written out: model = \"gpt-4o\" when none is set, and every tool of the file "
          "for an agent that names none)",
          name->str, ident ? name->str : "", ident ? " =" : "", ident ? "" : " \"name\"");
    if (!declaration_head(L, call, "Agent", name->str, cfg)) return;
    declaration_tail(L, call, cfg);
    const fe_value *model = fe_value_get(cfg, "model");
    if (!model && !L->has_default_model) insert_entry(L, cfg, "model = \"gpt-4o\"");
    if (model && model->kind == FE_STRING && !strchr(model->str, '/') && strchr(model->str, ':') &&
        !fe_value_get(cfg, "provider")) {
        tx_buf b;
        tx_buf_init(&b, 1024);
        const char *colon = strchr(model->str, ':');
        tx_buf_printf(&b, "\"%.*s/%s\"", (int)(colon - model->str), model->str, colon + 1);
        if (b.data) edit(L, model->span.start_byte, model->span.end_byte, b.data);
        tx_buf_free(&b);
    }
    if (!fe_value_get(cfg, "tools") && !fe_value_get(cfg, "toolsets")) {
        tx_buf b;
        tx_buf_init(&b, 1 << 16);
        all_tools(L, &b);
        if (b.data) insert_entry(L, cfg, b.data);
        tx_buf_free(&b);
    }
    legacy_schema(L, "agent output", fe_value_get(cfg, "output"));
    legacy_schema(L, "agent output", fe_value_get(cfg, "output_type"));
}

static void legacy_procedure(legacy *L, const fe_ref *ref)
{
    const fe_value *call = ref->call, *a0 = fe_value_at(call, 0), *a1 = fe_value_at(call, 1),
                   *a2 = fe_value_at(call, 2);
    const char *name = NULL;
    const fe_value *cfg = NULL, *fn = NULL;
    if (a0 && a0->kind == FE_STRING) {
        name = a0->str;
        if (a1 && a1->kind == FE_FUNCTION) fn = a1;
        else cfg = a1, fn = a2;
    } else if (a0 && a0->kind == FE_TABLE) {
        cfg = a0, fn = a1;
    } else if (a0 && a0->kind == FE_FUNCTION) {
        fn = a0;
    }
    if (!fn || fn->kind != FE_FUNCTION || (cfg && cfg->kind != FE_TABLE)) return;
    bool helper = name && strcmp(name, "main") != 0;
    found(L, ref->span,
          "procedure(...) is the v0.10 DSL; the current form is %s%sProcedure { ..., "
          "function(input) ... end }",
          helper && is_identifier(name) ? name : "", helper && is_identifier(name) ? " = " : "");
    if (!cfg) {
        /* procedure(fn), procedure("name", fn): Procedure { fn } */
        if (!declaration_head(L, call, "Procedure", name, fn)) return;
        edit(L, fn->span.start_byte, fn->span.start_byte, "{ ");
        edit(L, fn->span.end_byte, call->span.end_byte, " }");
        return;
    }
    if (!declaration_head(L, call, "Procedure", name, cfg)) return;
    function_into(L, call, cfg, fn);
    legacy_procedure_config(L, cfg);
}

static void legacy_tool(legacy *L, const fe_ref *ref)
{
    const fe_value *call = ref->call, *name = fe_value_at(call, 0), *cfg = fe_value_at(call, 1),
                   *fn = fe_value_at(call, 2);
    if (!name || name->kind != FE_STRING || !cfg || cfg->kind != FE_TABLE) return;
    found(L, ref->span,
          "tool(\"%s\", {...}, function(args) ... end) is the v0.10 DSL; the current form is "
          "%s%s Tool { ..., function(args) ... end }",
          name->str, is_identifier(name->str) ? name->str : "Tool \"name\"",
          is_identifier(name->str) ? " =" : "");
    if (!declaration_head(L, call, "Tool", name->str, cfg)) return;
    if (fn && fn->kind == FE_FUNCTION)
        function_into(L, call, cfg, fn);
    else
        declaration_tail(L, call, cfg);
    legacy_tool_config(L, cfg);
}

static void legacy_toolset(legacy *L, const fe_ref *ref)
{
    const fe_value *call = ref->call, *name = fe_value_at(call, 0), *cfg = fe_value_at(call, 1);
    if (!name || name->kind != FE_STRING || !cfg || cfg->kind != FE_TABLE) return;
    found(L, ref->span,
          "toolset(\"%s\", {...}) is the v0.10 DSL; the current form is %s = Toolset { tools = "
          "{...} } (its tools are then named %s_<tool>, as the current original names them; "
          "their short names still find them)",
          name->str, name->str, name->str);
    if (!declaration_head(L, call, "Toolset", name->str, cfg)) return;
    declaration_tail(L, call, cfg);
    const fe_value *type = fe_value_get(cfg, "type");
    if (type && type->kind == FE_STRING && strcmp(type->str, "combined") == 0)
        rename_key(L, cfg, "sources", "tools", "a combined toolset");
    const fe_value *tools = fe_value_get(cfg, "tools");
    if (tools && tools->kind == FE_TABLE)
        for (const fe_entry *e = tools->entries; e; e = e->next)
            if (!e->key) legacy_tool_config(L, e->value);
}

static void legacy_model(legacy *L, const fe_ref *ref)
{
    const fe_value *call = ref->call, *name = fe_value_at(call, 0), *cfg = fe_value_at(call, 1);
    if (!name || name->kind != FE_STRING || !cfg || cfg->kind != FE_TABLE) return;
    found(L, ref->span, "model(\"%s\", {...}) is the v0.10 DSL; the current form is Model \"%s\" {...}",
          name->str, name->str);
    tx_buf b;
    tx_buf_init(&b, 1024);
    tx_buf_printf(&b, "Model \"%s\" ", name->str);
    if (b.data) edit(L, call->span.start_byte, cfg->span.start_byte, b.data);
    tx_buf_free(&b);
    declaration_tail(L, call, cfg);
}

/* stages/step/specification(s)/evaluation(s)/hitl/human/prompt: the call's
 * name is all that changed. */
static const struct {
    const char *old, *current;
} renamed_calls[] = {
    {"stages", "Stages"},           {"step", "Step"},
    {"specifications", "Specifications"}, {"specification", "Specification"},
    {"evaluation", "Evaluation"},   {"evaluations", "Evaluations"},
    {"hitl", "Hitl"},               {"human", "Hitl"},
    {"prompt", "Prompt"},
};

static void legacy_renamed(legacy *L, const fe_ref *ref, const char *current)
{
    const fe_value *a0 = ref->call ? fe_value_at(ref->call, 0) : NULL;
    if (strcmp(ref->name, "specification") == 0 && fe_value_at(ref->call, 1)) {
        /* v0.10's structured specification("name", {scenarios}): not run */
        found(L, ref->span,
              "specification(\"name\", {...}) is v0.10's structured form of scenarios, which "
              "tactus test does not run; write them in Gherkin: Specifications([[ Feature: ... ]])");
        return;
    }
    found(L, ref->span, "%s(...) is the v0.10 DSL; the current form is %s(...)", ref->name, current);
    edit(L, ref->span.start_byte, ref->span.end_byte, current);
    /* stages("a", "b") -> Stages({"a", "b"}) */
    if (strcmp(ref->name, "stages") == 0 && a0 && a0->kind != FE_TABLE) {
        const fe_value *last = a0;
        for (size_t i = 1; fe_value_at(ref->call, i); i++) last = fe_value_at(ref->call, i);
        edit(L, a0->span.start_byte, a0->span.start_byte, "{");
        edit(L, last->span.end_byte, last->span.end_byte, "}");
    }
}

/* ---- v0.10's capitalised globals ------------------------------------------------------------- */

static const fe_agent *agent_capitalized(const legacy *L, const char *root, size_t n)
{
    return tx_map_get(&L->capitals.agents, root, n);
}

static const fe_model *model_capitalized(const legacy *L, const char *root, size_t n)
{
    return tx_map_get(&L->capitals.models, root, n);
}

/* The DSL's own capitalised globals: an agent named "state" never had a
 * global State (the runtime keeps its own), so State.get stays as it is. */
static bool dsl_global(const char *root, size_t n)
{
    static const char *const names[] = {
        "Agent", "Tool", "Toolset", "Procedure", "Model", "Classify", "State", "Stage", "Stages",
        "Log", "Human", "Host", "Json", "File", "Step", "Retry", "Sleep", "System", "Iterations",
        "Stop", "MessageHistory", "Session", "Specifications", "Specification", "Mocks",
        "Evaluation", "Evaluations", "Prompt", "Hitl",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && memcmp(names[i], root, n) == 0) return true;
    return false;
}

static void legacy_global(legacy *L, const fe_ref *ref)
{
    size_t n = strcspn(ref->name, ".");
    if (dsl_global(ref->name, n)) return;
    const fe_agent *a = agent_capitalized(L, ref->name, n);
    const fe_model *m = a ? NULL : model_capitalized(L, ref->name, n);
    if (!a && !m) return;
    tx_buf b;
    tx_buf_init(&b, 1024);
    if (a && ref->is_call && strcmp(ref->name + n, ".turn") == 0) {
        found(L, ref->span,
              "%.*s.turn() is the v0.10 way to call the agent '%s'; the current form is %s(...)",
              (int)n, ref->name, a->name, a->name);
        edit(L, ref->span.start_byte, ref->span.end_byte, a->name);
        /* Greeter.turn({inject = "..."}): the message */
        const fe_value *opts = ref->call ? fe_value_at(ref->call, 0) : NULL;
        const fe_entry *inject = opts ? fe_value_entry(opts, "inject") : NULL;
        if (inject && !fe_value_get(opts, "message"))
            edit(L, inject->key_span.start_byte, inject->key_span.end_byte, "message");
    } else if (a) {
        found(L, ref->span, "%.*s is v0.10's global for the agent '%s'; the current form is %s",
              (int)n, ref->name, a->name, a->name);
        edit(L, ref->span.start_byte, ref->span.start_byte + (uint32_t)n, a->name);
    } else {
        tx_buf_printf(&b, "Model(\"%s\")", m->name);
        found(L, ref->span, "%.*s is v0.10's global for the model '%s'; the current form is %s",
              (int)n, ref->name, m->name, b.data ? b.data : "");
        if (b.data) edit(L, ref->span.start_byte, ref->span.start_byte + (uint32_t)n, b.data);
    }
    tx_buf_free(&b);
}

/* Agent("scribe").turn(...): v0.10's lookup by name; the current form is
 * scribe(...) when the agent is a global of that name. Agent "x" {...}
 * shares the inner call Agent("x"): what follows it tells them apart. */
static void legacy_lookup(legacy *L, const fe_ref *ref)
{
    const fe_value *call = ref->call, *name = fe_value_at(call, 0);
    if (!name || name->kind != FE_STRING || fe_value_at(call, 1)) return;
    const char *src = L->f->src;
    uint32_t at = call->span.end_byte, end = (uint32_t)L->f->len;
    while (at < end && isspace((unsigned char)src[at])) at++;
    if (end - at < 5 || memcmp(src + at, ".turn", 5) != 0) return;
    if (at + 5 < end && (isalnum((unsigned char)src[at + 5]) || src[at + 5] == '_')) return;
    found(L, ref->span, "Agent(\"%s\").turn() is v0.10's lookup of an agent by name; the current "
                        "form is %s(...)",
          name->str, is_identifier(name->str) ? name->str : "the agent's variable");
    for (const fe_agent *a = L->f->agents; a; a = a->next)
        if (strcmp(a->name, name->str) == 0 && is_identifier(a->name)) {
            edit(L, call->span.start_byte, at + 5, a->name);
            break;
        }
}

/* ---- the walk over the file's calls and references ------------------------------------------ */

/* A sorted set of byte offsets (where the v0.10 declaring calls end), so a
 * file of 100,000 procedures is not searched once per procedure. */
typedef struct {
    uint32_t *v;
    size_t len, cap;
} offsets;

static void ends_add(offsets *e, uint32_t x)
{
    if (e->len == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        uint32_t *n = tx_realloc(e->v, cap * sizeof *n);
        if (!n) return; /* a missing entry only means a second finding */
        e->v = n;
        e->cap = cap;
    }
    e->v[e->len++] = x;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void ends_sort(offsets *e)
{
    if (e->len) qsort(e->v, e->len, sizeof *e->v, u32_cmp);
}

static bool ends_has(const offsets *e, uint32_t x)
{
    return e->len && bsearch(&x, e->v, e->len, sizeof *e->v, u32_cmp) != NULL;
}

static void legacy_walk(legacy *L)
{
    const fe_file *f = L->f;
    ck_capitals_index(f, &L->capitals);
    if (L->capitals.oom && L->run) L->run->out->oom = true;
    if (L->capitals.oom && L->edits) L->edits->oom = true;
    for (const fe_ref *r = f->refs; r; r = r->next)
        if (r->is_call && strcmp(r->name, "default_model") == 0) L->has_default_model = true;
    for (const fe_ref *r = f->refs; r; r = r->next) {
        if (r->is_call && r->call && !r->is_method) {
            static const struct {
                const char *name;
                void (*walk)(legacy *, const fe_ref *);
            } declarations[] = {
                {"agent", legacy_agent}, {"procedure", legacy_procedure}, {"tool", legacy_tool},
                {"toolset", legacy_toolset}, {"model", legacy_model}, {"Agent", legacy_lookup},
            };
            bool done = false;
            for (size_t i = 0; i < sizeof declarations / sizeof declarations[0] && !done; i++)
                if (strcmp(r->name, declarations[i].name) == 0) {
                    declarations[i].walk(L, r);
                    done = true;
                }
            for (size_t i = 0; i < sizeof renamed_calls / sizeof renamed_calls[0]; i++)
                if (strcmp(r->name, renamed_calls[i].old) == 0) {
                    legacy_renamed(L, r, renamed_calls[i].current);
                    done = true;
                }
            if (done) continue;
        }
        if (isupper((unsigned char)r->name[0])) legacy_global(L, r);
    }
    /* Current declarations written with v0.10 schemas or key names (the
     * v0.10 declarations were handled above: their calls end where their
     * statements end). */
    offsets ends = {0};
    for (const fe_ref *r = f->refs; r; r = r->next)
        if (r->is_call && r->call &&
            (strcmp(r->name, "procedure") == 0 || strcmp(r->name, "tool") == 0 ||
             strcmp(r->name, "toolset") == 0))
            ends_add(&ends, r->call->span.end_byte);
    ends_sort(&ends);
    for (const fe_procedure *p = f->procedures; p; p = p->next) {
        if (p->script_mode || p->plain_main || !p->config) continue;
        if (!ends_has(&ends, p->span.end_byte)) legacy_procedure_config(L, p->config);
    }
    for (const fe_tool *t = f->tools; t; t = t->next) {
        if (t->kind == FE_TOOL_STDLIB || !t->config) continue;
        if (ends_has(&ends, t->span.end_byte)) continue;
        if (t->kind == FE_TOOL_TOOLSET) {
            const fe_value *tools = fe_value_get(t->config, "tools");
            if (tools && tools->kind == FE_TABLE)
                for (const fe_entry *e = tools->entries; e; e = e->next)
                    if (!e->key) legacy_schema(L, "tool parameter", fe_value_get(e->value, "parameters"));
        } else {
            legacy_schema(L, "tool parameter", fe_value_get(t->config, "parameters"));
        }
    }
    legacy_schema(L, "input", f->script_input.value);
    legacy_schema(L, "output", f->script_output.value);
    tx_free(ends.v);
    ck_capitals_free(&L->capitals);
}

void ck_rule_legacy(ck_run *r)
{
    legacy L = {.f = r->f, .run = r};
    legacy_walk(&L);
}

tx_status ck_fix_legacy(const fe_file *f, ck_edits *out)
{
    if (!f->root) return TX_OK;
    legacy L = {.f = f, .edits = out};
    legacy_walk(&L);
    edits_settle(out);
    return out->oom ? TX_ENOMEM : TX_OK;
}
