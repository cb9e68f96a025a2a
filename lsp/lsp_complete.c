/*
 * lsp_complete.c - completion.
 *
 * The context decides the list, from cheapest to most general:
 *   - in require("..."): the stdlib modules and the .tac modules beside the file;
 *   - in Specifications([[...]]): step keywords, the built-in step texts as
 *     snippets with their placeholders, and inside a step's quotes the
 *     declared agents / tools / models;
 *   - after `x.`: the fields of input/output/state (or of the parameter
 *     that holds a procedure's or tool's input), the members of a DSL
 *     namespace (Human., State., field. ...), a tool handle's methods;
 *   - at a key of a DSL table: Agent{}, Procedure{}, Tool{}, Toolset{},
 *     Human.*{}, Evaluation{}, field.*{} ... (keys already written are
 *     left out), declared tools inside an agent's tools = {...}, declared
 *     names as Mocks keys, a sub-procedure's inputs;
 *   - anywhere else: the DSL's globals, Lua's, the file's declarations and
 *     the locals in scope.
 * Declarations come from the latest parseable analysis, the context from
 * the current tree-sitter tree (which recovers from the half-typed line).
 */
#include <ctype.h>
#include <string.h>

#include "lsp_internal.h"

enum {
    CK_FUNCTION = 3,
    CK_FIELD = 5,
    CK_VARIABLE = 6,
    CK_CLASS = 7,
    CK_MODULE = 9,
    CK_PROPERTY = 10,
    CK_KEYWORD = 14,
    CK_SNIPPET = 15,
    CK_STRUCT = 22,
    CK_EVENT = 23,
};

typedef struct {
    lsp_server *s;
    lsp_doc *d;
    lsp_analysis *good;
    cJSON *items;
    tx_map seen;        /* labels already offered */
    const tx_map *skip; /* names not to offer (keys already written) */
    size_t pos;
} comp;

static cJSON *item(comp *c, const char *label, int kind, const char *detail, const char *doc)
{
    if (tx_map_get(&c->seen, label, strlen(label))) return NULL;
    if (c->skip && tx_map_get(c->skip, label, strlen(label))) return NULL;
    cJSON *it = cJSON_CreateObject();
    cJSON_AddStringToObject(it, "label", label);
    cJSON_AddNumberToObject(it, "kind", kind);
    if (detail) cJSON_AddStringToObject(it, "detail", detail);
    if (doc) lsp_add(it, "documentation", lsp_markup(c->s, doc));
    lsp_push(c->items, it);
    /* The key lives in the item: it stays valid as long as the map. */
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(it, "label");
    if (cJSON_IsString(l)) tx_map_put(&c->seen, l->valuestring, strlen(l->valuestring), it);
    return it;
}

static const fe_procedure *main_procedure(const fe_file *f)
{
    for (const fe_procedure *p = f->procedures; p; p = p->next)
        if (!p->named) return p;
    return f->procedures;
}

/* The procedure whose (mapped) span holds pos, else the main one. */
static const fe_procedure *procedure_at(comp *c)
{
    if (!c->good || !c->good->file) return NULL;
    const fe_procedure *best = NULL;
    for (const fe_procedure *p = c->good->file->procedures; p; p = p->next) {
        uint32_t s = p->span.start_byte, e = p->span.end_byte;
        if (lsp_doc_map(c->d, &s, &e) && c->pos >= s && c->pos <= e) best = p;
    }
    return best ? best : main_procedure(c->good->file);
}

static void fields(comp *c, const fe_schema *sc, const char *what)
{
    for (const fe_field *f = sc ? sc->fields : NULL; f; f = f->next) {
        char detail[96];
        snprintf(detail, sizeof detail, "%s %s%s", what,
                 f->builder ? f->builder : fe_type_name(f->type), f->required ? ", required" : "");
        const fe_value *desc = f->options ? fe_value_get(f->options, "description") : NULL;
        item(c, f->name, CK_FIELD, detail, desc && desc->kind == FE_STRING ? desc->str : NULL);
    }
}

/* Declared names of the file, filtered by kind. */
static void declared(comp *c, bool agents, bool tools, bool procedures, bool models)
{
    const fe_file *f = c->good && c->good->file ? c->good->file : NULL;
    for (const fe_agent *a = f && agents ? f->agents : NULL; a; a = a->next)
        item(c, a->name, CK_CLASS, a->model ? a->model : "agent", NULL);
    for (const fe_tool *t = f && tools ? f->tools : NULL; t; t = t->next)
        item(c, t->name, CK_FUNCTION, t->kind == FE_TOOL_TOOLSET ? "toolset" : "tool", NULL);
    for (const fe_procedure *p = f && procedures ? f->procedures : NULL; p; p = p->next)
        if (p->named) item(c, p->name, CK_FUNCTION, "procedure", NULL);
    for (const fe_model *m = f && models ? f->models : NULL; m; m = m->next)
        item(c, m->name, CK_STRUCT, m->kind == FE_MODEL_CLASSIFY ? "classifier" : "model", NULL);
}

/* ---- Gherkin
 * ------------------------------------------------------------------------------------------ */

static bool starts_word(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    return n >= k && strncmp(s, w, k) == 0 && (n == k || s[k] == ' ' || s[k] == '\t');
}

/* The placeholder `{x}` of a template as a snippet: ${i:default}. */
static void snippet_of(comp *c, const char *tpl, tx_buf *out, bool snippets)
{
    int i = 1;
    const fe_file *f = c->good && c->good->file ? c->good->file : NULL;
    for (const char *p = tpl; *p;) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (close) {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(close - p - 1), p + 1);
                const char *def = name;
                if (f && !strcmp(name, "agent") && f->agents) def = f->agents->name;
                if (f && !strcmp(name, "tool") && f->tools) def = f->tools->name;
                if (snippets)
                    tx_buf_printf(out, "${%d:%s}", i++, def);
                else
                    tx_buf_puts(out, def);
                p = close + 1;
                continue;
            }
        }
        if (snippets && (*p == '$' || *p == '\\')) tx_buf_puts(out, "\\");
        tx_buf_append(out, p, 1);
        p++;
    }
}

static void gherkin(comp *c, size_t line_start)
{
    const char *line = c->d->text + line_start;
    size_t n = c->pos - line_start;
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    static const char *const keywords[] = {"Given", "When", "Then", "And", "But", "*"};
    const char *kw = NULL;
    for (size_t k = 0; k < 6; k++)
        if (starts_word(line + i, n - i, keywords[k])) kw = keywords[k];
    lsp_view v = lsp_doc_view(c->s, c->d);
    if (!kw) {
        static const char *const heads[] = {
            "Feature: ", "Background:", "Scenario: ", "Scenario Outline: ",
            "Examples:", "Rule: ",      "Given ",     "When ",
            "Then ",     "And ",        "But "};
        for (size_t k = 0; k < sizeof heads / sizeof heads[0]; k++) {
            char label[32];
            snprintf(label, sizeof label, "%s", heads[k]);
            size_t ll = strlen(label);
            while (ll && label[ll - 1] == ' ')
                label[--ll] = '\0';
            cJSON *it = item(c, label, CK_KEYWORD, "Gherkin", NULL);
            if (!it) continue;
            cJSON *te = cJSON_AddObjectToObject(it, "textEdit");
            lsp_add(te, "range", lsp_json_range(&v, line_start + i, c->pos));
            cJSON_AddStringToObject(te, "newText", heads[k]);
        }
        return;
    }
    size_t text_start = i + strlen(kw);
    while (text_start < n && (line[text_start] == ' ' || line[text_start] == '\t'))
        text_start++;
    const char *typed = line + text_start;
    size_t typed_n = n - text_start;
    /* Inside quotes: the names the step's quotes hold. */
    size_t quotes = 0, last_quote = 0;
    for (size_t k = 0; k < typed_n; k++)
        if (typed[k] == '"') quotes++, last_quote = k;
    if (quotes % 2 == 1) {
        const char *before = typed;
        size_t bl = last_quote;
        bool agent = bl >= 6 && !strncmp(before + bl - 6, "agent ", 6);
        bool tool = bl >= 5 && !strncmp(before + bl - 5, "tool ", 5);
        declared(c, agent || !tool, tool || !agent, false, !agent && !tool);
        return;
    }
    size_t n_steps;
    const ck_step_info *steps = ck_steps(&n_steps);
    for (size_t k = 0; k < n_steps; k++) {
        const char *tpl = steps[k].template;
        /* Offer the templates that continue what is typed (case-insensitive). */
        size_t m = 0;
        while (m < typed_n && tpl[m] &&
               tolower((unsigned char)tpl[m]) == tolower((unsigned char)typed[m]) && tpl[m] != '{')
            m++;
        if (m < typed_n && tpl[m] != '{') continue;
        cJSON *it = item(c, tpl, CK_SNIPPET,
                         steps[k].group == CK_STEP_MOCK ? "mock step" : "built-in step", NULL);
        if (!it) continue;
        tx_buf b;
        tx_buf_init(&b, 4096);
        snippet_of(c, tpl, &b, c->s->caps.snippets);
        cJSON *te = cJSON_AddObjectToObject(it, "textEdit");
        lsp_add(te, "range", lsp_json_range(&v, line_start + text_start, c->pos));
        cJSON_AddStringToObject(te, "newText", b.data ? b.data : tpl);
        if (c->s->caps.snippets) cJSON_AddNumberToObject(it, "insertTextFormat", 2);
        cJSON_AddStringToObject(it, "filterText", tpl);
        tx_buf_free(&b);
    }
    /* Custom steps of the file, matched exactly. */
    for (const fe_custom_step *cs = c->good && c->good->file ? c->good->file->custom_steps : NULL;
         cs; cs = cs->next) {
        cJSON *it = item(c, cs->text, CK_EVENT, "custom step", NULL);
        if (!it) continue;
        cJSON *te = cJSON_AddObjectToObject(it, "textEdit");
        lsp_add(te, "range", lsp_json_range(&v, line_start + text_start, c->pos));
        cJSON_AddStringToObject(te, "newText", cs->text);
    }
}

/* ---- strings
 * ---------------------------------------------------------------------------------------------- */

/* In require("...") or a Specifications string: handled here (true). */
static bool in_string(comp *c, TSTree *tree)
{
    uint32_t at = (uint32_t)c->pos;
    TSNode n = lsp_node_at(tree, at > 0 ? at - 1 : 0, at);
    TSNode str = n;
    while (!ts_node_is_null(str) && !lsp_node_is(str, "string"))
        str = ts_node_parent(str);
    if (ts_node_is_null(str) || c->pos <= ts_node_start_byte(str)) return false;
    TSNode content = ts_node_child_by_field_name(str, "content", 7);
    uint32_t ss = ts_node_start_byte(str), se = ts_node_end_byte(str), cs, ce;
    if (!ts_node_is_null(content)) {
        cs = ts_node_start_byte(content);
        ce = ts_node_end_byte(content);
    } else { /* "" or [[]]: between the delimiters */
        cs = ce = ss + (se - ss) / 2;
    }
    if (c->pos < cs || c->pos > ce) return false;
    TSNode args = ts_node_parent(str);
    TSNode call = ts_node_parent(args);
    char name[64];
    if (!lsp_node_is(args, "arguments") || !lsp_node_is(call, "function_call") ||
        !lsp_call_name(c->d, call, name, sizeof name))
        return true; /* some other string: nothing to offer */
    if (!strcmp(name, "require")) {
        for (size_t i = 0; fe_stdlib_modules[i]; i++)
            item(c, fe_stdlib_modules[i], CK_MODULE, "stdlib module",
                 lsp_dsl_module_doc(fe_stdlib_modules[i]));
        lsp_ws_module_names(c->s, c->d->path, c->items);
        return true;
    }
    if (!strcmp(name, "Specifications") || !strcmp(name, "Specification") ||
        !strcmp(name, "specifications") || !strcmp(name, "specification")) {
        lsp_view v = lsp_doc_view(c->s, c->d);
        uint32_t line = lsp_line_of(&v, c->pos);
        size_t ls = c->d->lines.starts[line];
        if (ls < cs) ls = cs;
        gherkin(c, ls);
        return true;
    }
    return true;
}

/* ---- after a dot
 * ------------------------------------------------------------------------------------------- */

static bool ident_char(char ch)
{
    return ch == '_' || isalnum((unsigned char)ch);
}

/* The parameter list's first name of the function around pos, and that
 * function's node (to know whose input it is). */
static bool first_param(comp *c, TSTree *tree, char *buf, size_t cap, TSNode *fn)
{
    TSNode n = lsp_node_at(tree, (uint32_t)c->pos, (uint32_t)c->pos);
    while (!ts_node_is_null(n) && !lsp_node_is(n, "function_definition"))
        n = ts_node_parent(n);
    if (ts_node_is_null(n)) return false;
    TSNode params = ts_node_child_by_field_name(n, "parameters", 10);
    TSNode p = ts_node_is_null(params) ? params : ts_node_named_child(params, 0);
    if (!lsp_node_is(p, "identifier")) return false;
    size_t len;
    const char *t = lsp_node_text(c->d, p, &len);
    if (len + 1 > cap) return false;
    memcpy(buf, t, len);
    buf[len] = '\0';
    *fn = n;
    return true;
}

static const fe_tool *tool_of_function(comp *c, TSNode fn)
{
    const fe_file *f = c->good && c->good->file ? c->good->file : NULL;
    for (const fe_tool *t = f ? f->tools : NULL; t; t = t->next) {
        const fe_value *cfg = t->config;
        for (const fe_entry *e = cfg && cfg->kind == FE_TABLE ? cfg->entries : NULL; e;
             e = e->next) {
            if (e->key || e->value->kind != FE_FUNCTION) continue;
            uint32_t s = e->value->span.start_byte, en = e->value->span.end_byte;
            if (lsp_doc_map(c->d, &s, &en) && s == ts_node_start_byte(fn) &&
                en == ts_node_end_byte(fn))
                return t;
        }
    }
    return NULL;
}

static bool after_dot(comp *c, TSTree *tree)
{
    const char *t = c->d->text;
    size_t i = c->pos;
    while (i > 0 && ident_char(t[i - 1]))
        i--;
    if (i == 0 || (t[i - 1] != '.' && t[i - 1] != ':')) return false;
    size_t end = i - 1, start = end;
    while (start > 0 && (ident_char(t[start - 1]) || t[start - 1] == '.'))
        start--;
    if (start == end) return true; /* `).x`: a value we cannot know */
    char base[160];
    snprintf(base, sizeof base, "%.*s", (int)(end - start < 159 ? end - start : 159), t + start);
    const fe_procedure *p = procedure_at(c);
    char param[64];
    TSNode fn;
    if (tree && first_param(c, tree, param, sizeof param, &fn) && !strcmp(base, param)) {
        const fe_tool *tool = tool_of_function(c, fn);
        if (tool) {
            fields(c, &tool->input, "input");
            return true;
        }
        if (p) fields(c, &p->input, "input");
        return true;
    }
    if (!strcmp(base, "input")) {
        if (p)
            fields(c,
                   p->script_mode && !p->input.present ? &c->good->file->script_input : &p->input,
                   "input");
        return true;
    }
    if (!strcmp(base, "state")) {
        if (p) fields(c, &p->state, "state");
        return true;
    }
    if (!strcmp(base, "output")) {
        if (p) fields(c, &p->output, "output");
        return true;
    }
    size_t count, bl = strlen(base);
    const lsp_dsl_entry *all = lsp_dsl_all(&count);
    bool any = false;
    for (size_t k = 0; k < count; k++) {
        const char *nm = all[k].name;
        if (strncmp(nm, base, bl) != 0 || nm[bl] != '.' || strchr(nm + bl + 1, '.')) continue;
        int kind = all[k].kind == LSP_DSL_BUILDER ? CK_CLASS : CK_FUNCTION;
        item(c, nm + bl + 1, kind, all[k].signature, all[k].doc);
        any = true;
    }
    if (any) return true;
    /* A tool handle: t.called() ... */
    const fe_file *f = c->good && c->good->file ? c->good->file : NULL;
    for (const fe_tool *tl = f ? f->tools : NULL; tl; tl = tl->next)
        if (!strcmp(tl->name, base)) {
            static const char *const methods[][2] = {
                {"called", "called() -> boolean: called since the last reset?"},
                {"call_count", "call_count() -> integer"},
                {"last_call", "last_call() -> {name, args, result}"},
                {"last_result", "last_result() -> the latest result"},
                {"reset", "reset(): forget the recorded calls"},
            };
            for (size_t k = 0; k < 5; k++)
                item(c, methods[k][0], CK_FUNCTION, methods[k][1], NULL);
            return true;
        }
    return true;
}

/* ---- tables
 * ------------------------------------------------------------------------------------------------
 */

/* Keys already written in the table at table_start. */
static void written_keys(comp *c, TSTree *tree, uint32_t table_start, tx_map *keys)
{
    TSNode table = lsp_node_at(tree, table_start, table_start + 1);
    while (!ts_node_is_null(table) && !lsp_node_is(table, "table_constructor"))
        table = ts_node_parent(table);
    if (ts_node_is_null(table)) return;
    uint32_t n = ts_node_named_child_count(table);
    for (uint32_t i = 0; i < n && i < 512; i++) {
        TSNode f = ts_node_named_child(table, i);
        TSNode name = ts_node_child_by_field_name(f, "name", 4);
        if (ts_node_is_null(name)) continue;
        size_t len;
        const char *t = lsp_node_text(c->d, name, &len);
        if (c->pos >= ts_node_start_byte(name) && c->pos <= ts_node_end_byte(name))
            continue; /* being typed */
        tx_map_put(keys, t, len, (void *)1);
    }
}

static bool table_keys(comp *c, TSTree *tree)
{
    lsp_table_ctx ctx;
    if (!lsp_table_context(c->s, c->d, c->pos, &ctx) || !ctx.at_key) return false;
    const fe_file *f = c->good && c->good->file ? c->good->file : NULL;
    /* Agent { tools = { | } } and a turn's tools = {...}: declared tools. */
    if (!strcmp(ctx.key, "tools") || !strcmp(ctx.key, "toolsets")) {
        declared(c, false, true, false, false);
        return true;
    }
    if (!strcmp(ctx.callee, "Mocks")) {
        tx_map written;
        tx_map_init(&written);
        written_keys(c, tree, ctx.table_start, &written);
        c->skip = &written;
        declared(c, true, true, false, true);
        c->skip = NULL;
        tx_map_free(&written);
        return true;
    }
    if (!strcmp(ctx.key, "inputs") || !strcmp(ctx.key, "expected_output")) {
        const fe_procedure *p = f ? main_procedure(f) : NULL;
        if (p)
            fields(c, ctx.key[0] == 'i' ? &p->input : &p->output,
                   ctx.key[0] == 'i' ? "input" : "output");
        return true;
    }
    const lsp_dsl_entry *e = ctx.callee[0] ? lsp_dsl_find(ctx.callee, strlen(ctx.callee)) : NULL;
    tx_map keys;
    tx_map_init(&keys);
    written_keys(c, tree, ctx.table_start, &keys);
    bool handled = false;
    if (e && e->keys) {
        for (const lsp_dsl_key *k = e->keys; k->key; k++) {
            if (tx_map_get(&keys, k->key, strlen(k->key))) continue;
            cJSON *it = item(c, k->key, CK_PROPERTY, e->name, k->doc);
            if (it) {
                char text[96];
                snprintf(text, sizeof text, "%s = ", k->key);
                cJSON_AddStringToObject(it, "insertText", text);
            }
        }
        handled = true;
    } else if (f && ctx.callee[0]) {
        /* a sub-procedure's inputs, an agent turn's options */
        for (const fe_procedure *p = f->procedures; p; p = p->next)
            if (p->named && !strcmp(p->name, ctx.callee)) {
                for (const fe_field *fd = p->input.fields; fd; fd = fd->next)
                    if (!tx_map_get(&keys, fd->name, strlen(fd->name)))
                        item(c, fd->name, CK_FIELD, fe_type_name(fd->type), NULL);
                handled = true;
            }
        for (const fe_agent *a = f->agents; a && !handled; a = a->next)
            if (!strcmp(a->name, ctx.callee)) {
                static const char *const turn[] = {"message", "tools", "temperature", "max_tokens",
                                                   "system_prompt"};
                for (size_t k = 0; k < 5; k++)
                    if (!tx_map_get(&keys, turn[k], strlen(turn[k])))
                        item(c, turn[k], CK_PROPERTY, "agent turn", NULL);
                handled = true;
            }
    }
    tx_map_free(&keys);
    return handled;
}

/* ---- everything else
 * ---------------------------------------------------------------------------------------- */

static void offer_variable(comp *c, TSNode id, const char *what)
{
    size_t len;
    const char *t = lsp_node_text(c->d, id, &len);
    char nm[128];
    snprintf(nm, sizeof nm, "%.*s", (int)(len < 127 ? len : 127), t);
    item(c, nm, CK_VARIABLE, what, NULL);
}

static void offer_param(void *ud, TSNode id, uint32_t index)
{
    (void)index;
    offer_variable(ud, id, "parameter");
}

static void offer_local(void *ud, TSNode id, TSNode stmt)
{
    (void)stmt;
    offer_variable(ud, id, "local");
}

/* Locals declared before pos in the blocks around it. */
static void locals_in_scope(comp *c, TSTree *tree)
{
    TSNode n = lsp_node_at(tree, (uint32_t)c->pos, (uint32_t)c->pos);
    for (int depth = 0; !ts_node_is_null(n) && depth < 400; n = ts_node_parent(n), depth++) {
        const char *type = ts_node_type(n);
        if (!strcmp(type, "function_definition") || !strcmp(type, "function_declaration"))
            lsp_function_params(n, offer_param, c);
        else if (!strcmp(type, "block") || !strcmp(type, "chunk"))
            lsp_block_locals(c->d, n, (uint32_t)c->pos, offer_local, c);
    }
}

static void globals(comp *c, TSTree *tree)
{
    if (tree) locals_in_scope(c, tree);
    declared(c, true, true, true, true);
    size_t count;
    const lsp_dsl_entry *all = lsp_dsl_all(&count);
    for (size_t k = 0; k < count; k++) {
        if (strchr(all[k].name, '.')) continue;
        int kind = all[k].kind == LSP_DSL_DECLARATION ? CK_CLASS
                   : all[k].kind == LSP_DSL_NAMESPACE ? CK_MODULE
                   : all[k].kind == LSP_DSL_VALUE     ? CK_VARIABLE
                                                      : CK_FUNCTION;
        item(c, all[k].name, kind, all[k].signature, all[k].doc);
    }
    for (size_t k = 0; lsp_lua_globals[k]; k++)
        item(c, lsp_lua_globals[k], CK_FUNCTION, "Lua", NULL);
}

cJSON *lsp_on_completion(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_param_doc(s, params, err);
    size_t pos;
    if (!d || !lsp_param_offset(s, d, params, &pos, err)) return NULL;
    comp c = {.s = s, .d = d, .pos = pos};
    c.good = d->too_large ? NULL : lsp_doc_good(s, d);
    c.items = cJSON_CreateArray();
    tx_map_init(&c.seen);
    TSTree *tree = lsp_doc_tree(s, d);
    bool done = tree && in_string(&c, tree);
    if (!done) done = after_dot(&c, tree);
    if (!done && tree) done = table_keys(&c, tree);
    if (!done) globals(&c, tree);
    tx_map_free(&c.seen);
    cJSON *res = cJSON_CreateObject();
    cJSON_AddBoolToObject(res, "isIncomplete", false);
    lsp_add(res, "items", c.items);
    return res;
}
