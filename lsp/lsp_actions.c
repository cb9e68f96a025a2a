/*
 * lsp_actions.c - code actions: a quick fix for every finding whose message
 * suggests one, and "add a Specifications skeleton".
 *
 * The findings are the checker's (the current analysis); a fix is built
 * from the finding's range, the model, and the suggestion the message
 * itself makes ("did you mean 'x'?", "the nearest built-in step is '...'",
 * "add summary = <string>"), so the fix and the message never disagree.
 *   every "did you mean" (TAC101 TAC102 TAC301 TAC402 TAC403 TAC404 TAC602
 *   TAC705 TAC801 TAC802 TAC805 TAC806): the suggested name
 *   TAC301: declare the tool (or bind done), or remove it from the grants
 *   TAC302: remove it from this call, or grant it to the agent
 *   TAC303: remove the unused tool
 *   TAC105: drop the default, or drop required
 *   TAC201: add a function to the procedure
 *   TAC601: add the missing output key to the returned table
 *   TAC703: the nearest built-in step, or declare a custom Step
 *   TAC704: the nearest declared agent
 *   TAC004: a minimal procedure
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lsp_internal.h"

typedef struct {
    lsp_server *s;
    lsp_doc *d;
    lsp_analysis *a;
    lsp_view v;
    cJSON *out;
    const cJSON *only; /* context.only: kinds asked for, or NULL */
} actions;

static bool wanted(actions *x, const char *kind)
{
    if (!cJSON_IsArray(x->only)) return true;
    const cJSON *k;
    cJSON_ArrayForEach(k, x->only)
    {
        if (!cJSON_IsString(k)) continue;
        size_t n = strlen(k->valuestring);
        if (!strncmp(kind, k->valuestring, n) && (kind[n] == '\0' || kind[n] == '.')) return true;
    }
    return false;
}

/* A code action with one workspace edit of this document; edits are added
 * with add_edit. */
static cJSON *action(actions *x, const char *title, const char *kind, const tx_diag *diag,
                     bool preferred)
{
    if (!wanted(x, kind)) return NULL;
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "title", title);
    cJSON_AddStringToObject(a, "kind", kind);
    if (diag) {
        cJSON *ds = cJSON_AddArrayToObject(a, "diagnostics");
        lsp_push(ds, lsp_diag_json(x->s, x->a, x->d->uri, diag));
    }
    if (preferred) cJSON_AddBoolToObject(a, "isPreferred", true);
    cJSON *changes = cJSON_AddObjectToObject(cJSON_AddObjectToObject(a, "edit"), "changes");
    cJSON_AddArrayToObject(changes, x->d->uri);
    lsp_push(x->out, a);
    return a;
}

static void add_edit(actions *x, cJSON *a, size_t start, size_t end, const char *text)
{
    if (!a) return;
    cJSON *edits = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "edit"), "changes"),
        x->d->uri);
    cJSON *e = cJSON_CreateObject();
    lsp_add(e, "range", lsp_json_range(&x->v, start, end));
    cJSON_AddStringToObject(e, "newText", text);
    lsp_push(edits, e);
}

/* The text quoted after `marker` up to the closing `close` in a message. */
static bool quoted_after(const char *msg, const char *marker, char close, char *buf, size_t cap)
{
    const char *p = strstr(msg, marker);
    if (!p) return false;
    p += strlen(marker);
    const char *q = strchr(p, close);
    if (!q || (size_t)(q - p) + 1 > cap) return false;
    memcpy(buf, p, (size_t)(q - p));
    buf[q - p] = '\0';
    return true;
}

/* Start of the line holding byte pos, and the whole statement around it
 * at the top level (from the model's declaration spans). */
static size_t line_start(const actions *x, size_t pos)
{
    return x->d->lines.starts[lsp_line_of(&x->v, pos)];
}

/* Replaces the name in [s, e) (a finding's range, or the part of it that
 * holds the misspelt name) with the suggested one. */
static void replace_name(actions *x, const tx_diag *dg, size_t s, size_t e, const char *name)
{
    size_t s0 = s;
    const char *t = x->a->src;
    /* Inside quotes ("x", ["x"]), replace the text only. */
    while (s < e && (t[s] == '[' || t[s] == ' '))
        s++;
    if (s < e && (t[s] == '"' || t[s] == '\'')) {
        char q = t[s];
        const char *close = memchr(t + s + 1, q, e - s - 1);
        if (close) {
            s++;
            e = (size_t)(close - t);
        }
    } else {
        s = s0;
    }
    char title[300];
    snprintf(title, sizeof title, "Change to '%s'", name);
    add_edit(x, action(x, title, "quickfix", dg, true), s, e, name);
}

/* Deletes a list entry [s, e) with the comma that separates it. */
static void delete_entry(actions *x, cJSON *a, size_t s, size_t e)
{
    const char *t = x->a->src;
    size_t n = x->a->len;
    size_t j = e;
    while (j < n && (t[j] == ' ' || t[j] == '\t'))
        j++;
    if (j < n && t[j] == ',') {
        j++;
        while (j < n && (t[j] == ' ' || t[j] == '\t'))
            j++;
        add_edit(x, a, s, j, "");
        return;
    }
    size_t i = s;
    while (i > 0 && (t[i - 1] == ' ' || t[i - 1] == '\t'))
        i--;
    if (i > 0 && t[i - 1] == ',') i--;
    add_edit(x, a, i, e, "");
}

static const fe_agent *agent_around(const actions *x, size_t pos)
{
    for (const fe_agent *ag = x->a->file ? x->a->file->agents : NULL; ag; ag = ag->next)
        if (pos >= ag->span.start_byte && pos <= ag->span.end_byte) return ag;
    return NULL;
}

static void fix_tool_not_declared(actions *x, const tx_diag *dg)
{
    char name[128];
    if (!quoted_after(dg->message, "is granted '", '\'', name, sizeof name)) return;
    const fe_agent *ag = agent_around(x, dg->span.start_byte);
    size_t at = ag ? line_start(x, ag->span.start_byte) : 0;
    if (!strcmp(name, "done")) {
        add_edit(x,
                 action(x, "Bind the stdlib tool: local done = require(\"tactus.tools.done\")",
                        "quickfix", dg, true),
                 at, at, "local done = require(\"tactus.tools.done\")\n\n");
    } else if (lsp_is_identifier(name, strlen(name))) {
        char title[256], text[1024];
        snprintf(title, sizeof title, "Declare the tool '%s'", name);
        snprintf(
            text, sizeof text,
            "%s = Tool {\n  description = \"What %s does\",\n  input = {},\n  function(args)\n    "
            "return {}\n  end,\n}\n\n",
            name, name);
        add_edit(x, action(x, title, "quickfix", dg, false), at, at, text);
    }
    char title[256];
    snprintf(title, sizeof title, "Remove '%s' from the agent's tools", name);
    cJSON *a = action(x, title, "quickfix", dg, false);
    if (a) delete_entry(x, a, dg->span.start_byte, dg->span.end_byte);
}

static void fix_tool_not_granted(actions *x, const tx_diag *dg)
{
    char name[128], agent[128];
    if (!quoted_after(dg->message, "the tool '", '\'', name, sizeof name) ||
        !quoted_after(dg->message, "gives agent '", '\'', agent, sizeof agent))
        return;
    char title[300];
    snprintf(title, sizeof title, "Remove '%s' from this call's tools", name);
    cJSON *a = action(x, title, "quickfix", dg, true);
    if (a) delete_entry(x, a, dg->span.start_byte, dg->span.end_byte);
    if (!dg->has_related) return;
    /* the agent's tools table {...}: add the name before its closing brace */
    size_t e = dg->related.end_byte;
    const char *t = x->a->src;
    if (e == 0 || e > x->a->len || t[e - 1] != '}') return;
    size_t k = e - 1;
    while (k > dg->related.start_byte && (t[k - 1] == ' ' || t[k - 1] == '\t' || t[k - 1] == '\n'))
        k--;
    bool empty = k > 0 && t[k - 1] == '{';
    bool comma = k > 0 && t[k - 1] == ',';
    char text[160];
    snprintf(text, sizeof text, "%s%s", empty || comma ? (comma ? " " : "") : ", ", name);
    snprintf(title, sizeof title, "Grant '%s' to agent '%s'", name, agent);
    add_edit(x, action(x, title, "quickfix", dg, false), k, k, text);
}

static void fix_unused_tool(actions *x, const tx_diag *dg)
{
    for (const fe_tool *t = x->a->file ? x->a->file->tools : NULL; t; t = t->next) {
        if (t->name_span.start_byte != dg->span.start_byte) continue;
        size_t s = line_start(x, t->span.start_byte), e = t->span.end_byte;
        while (e < x->a->len && x->a->src[e] != '\n')
            e++;
        if (e < x->a->len) e++;
        if (e < x->a->len && x->a->src[e] == '\n') e++; /* the blank line after it */
        char title[256];
        snprintf(title, sizeof title, "Remove the unused tool '%s'", t->name);
        add_edit(x, action(x, title, "quickfix", dg, false), s, e, "");
        return;
    }
}

static const fe_field *field_with_default_at(const actions *x, uint32_t at,
                                             const fe_schema **owner_schema)
{
    const fe_file *f = x->a->file;
    for (const fe_procedure *p = f ? f->procedures : NULL; p; p = p->next) {
        const fe_schema *schemas[] = {&p->input, &p->output, &p->state};
        for (int i = 0; i < 3; i++)
            for (const fe_field *fd = schemas[i]->fields; fd; fd = fd->next)
                if (fd->default_value && fd->default_value->span.start_byte == at)
                    return *owner_schema = schemas[i], fd;
    }
    for (const fe_tool *t = f ? f->tools : NULL; t; t = t->next)
        for (const fe_field *fd = t->input.fields; fd; fd = fd->next)
            if (fd->default_value && fd->default_value->span.start_byte == at)
                return *owner_schema = &t->input, fd;
    return NULL;
}

static void fix_required_with_default(actions *x, const tx_diag *dg)
{
    const fe_schema *sc;
    const fe_field *fd = field_with_default_at(x, dg->span.start_byte, &sc);
    if (!fd || !fd->options) return;
    const fe_entry *def = fe_value_entry(fd->options, "default");
    const fe_entry *req = fe_value_entry(fd->options, "required");
    if (def) {
        cJSON *a = action(x, "Remove the default (the field is required)", "quickfix", dg, true);
        if (a) delete_entry(x, a, def->key_span.start_byte, def->value->span.end_byte);
    }
    if (req) {
        cJSON *a = action(x, "Remove required = true (keep the default)", "quickfix", dg, false);
        if (a) delete_entry(x, a, req->key_span.start_byte, req->value->span.end_byte);
    }
}

static void fix_no_function(actions *x, const tx_diag *dg)
{
    for (const fe_procedure *p = x->a->file ? x->a->file->procedures : NULL; p; p = p->next) {
        if (p->name_span.start_byte != dg->span.start_byte || !p->config ||
            p->config->kind != FE_TABLE)
            continue;
        size_t e = p->config->span.end_byte;
        const char *t = x->a->src;
        if (e == 0 || t[e - 1] != '}') return;
        size_t k = e - 1;
        while (k > p->config->span.start_byte && isspace((unsigned char)t[k - 1]))
            k--;
        bool sep = t[k - 1] == ',' || t[k - 1] == '{';
        char text[256];
        snprintf(text, sizeof text, "%s\n  function(input)\n    return {}\n  end,\n",
                 sep ? "" : ",");
        add_edit(x, action(x, "Add the function the procedure runs", "quickfix", dg, true), k,
                 e - 1, text);
        return;
    }
}

static const char *default_literal(const char *type)
{
    if (!strcmp(type, "string")) return "\"\"";
    if (!strcmp(type, "number") || !strcmp(type, "integer")) return "0";
    if (!strcmp(type, "boolean")) return "false";
    if (!strcmp(type, "array") || !strcmp(type, "object")) return "{}";
    return "nil";
}

static void fix_missing_output(actions *x, const tx_diag *dg)
{
    char name[128], type[32];
    if (!quoted_after(dg->message, "the required output '", '\'', name, sizeof name) ||
        !quoted_after(dg->message, " = <", '>', type, sizeof type))
        return;
    const char *t = x->a->src;
    size_t s = dg->span.start_byte, e = dg->span.end_byte;
    char title[256], text[300];
    snprintf(title, sizeof title, "Add %s = %s to the returned table", name, default_literal(type));
    if (e - s == 3 && !memcmp(t + s, "nil", 3)) { /* `key = nil`: give it a value */
        add_edit(x, action(x, title, "quickfix", dg, true), s, e, default_literal(type));
        return;
    }
    if (t[s] != '{') return;
    size_t k = s + 1;
    while (k < e && isspace((unsigned char)t[k]))
        k++;
    bool empty = k < e && t[k] == '}';
    snprintf(text, sizeof text, "%s = %s%s", name, default_literal(type), empty ? "" : ", ");
    add_edit(x, action(x, title, "quickfix", dg, true), empty ? s + 1 : k, empty ? k : k, text);
}

/* The template with its {placeholders} filled from the step as written
 * when both have the same words ("the output summary should exists" ->
 * "the output summary should exist"); else the template as it is. */
static void fill_template(const char *tpl, const char *text, size_t n, char *out, size_t cap)
{
    const char *words[64];
    size_t lens[64], nw = 0, nt = 1;
    for (const char *p = tpl; *p; p++)
        nt += *p == ' ';
    for (size_t i = 0; i < n && nw < 64;) {
        while (i < n && text[i] == ' ')
            i++;
        size_t j = i;
        while (j < n && text[j] != ' ')
            j++;
        if (j > i) words[nw] = text + i, lens[nw++] = j - i;
        i = j;
    }
    snprintf(out, cap, "%s", tpl);
    if (nw != nt) return;
    size_t o = 0, w = 0;
    for (const char *p = tpl; *p && o + 1 < cap;) {
        const char *sp = strchr(p, ' ');
        size_t tl = sp ? (size_t)(sp - p) : strlen(p);
        bool ph = memchr(p, '{', tl) != NULL;
        const char *src = ph ? words[w] : p;
        size_t sl = ph ? lens[w] : tl;
        if (o + sl + 2 > cap) break;
        memcpy(out + o, src, sl);
        o += sl;
        w++;
        p += tl;
        if (*p == ' ') out[o++] = ' ', p++;
    }
    out[o] = '\0';
}

static void fix_undefined_step(actions *x, const tx_diag *dg)
{
    char near[512];
    if (quoted_after(dg->message, "the nearest built-in step is '", '\'', near, sizeof near) &&
        near[0]) {
        char title[1200], filled[1024];
        fill_template(near, x->a->src + dg->span.start_byte,
                      dg->span.end_byte - dg->span.start_byte, filled, sizeof filled);
        snprintf(title, sizeof title, "Use the nearest built-in step: %.1000s", filled);
        add_edit(x, action(x, title, "quickfix", dg, true), dg->span.start_byte, dg->span.end_byte,
                 filled);
    }
    /* Declare a custom Step above the Specifications that use the text. */
    for (const fe_spec *sp = x->a->file ? x->a->file->specs : NULL; sp; sp = sp->next) {
        if (dg->span.start_byte < sp->span.start_byte || dg->span.start_byte > sp->span.end_byte)
            continue;
        size_t n = dg->span.end_byte - dg->span.start_byte;
        const char *text = x->a->src + dg->span.start_byte;
        bool dq = memchr(text, '"', n) != NULL;
        tx_buf b;
        tx_buf_init(&b, 4096);
        tx_buf_printf(&b,
                      "Step(%s%.*s%s, function(ctx)\n  -- check the run here: ctx.output, "
                      "ctx.state\nend)\n\n",
                      dq ? "[[" : "\"", (int)n, text, dq ? "]]" : "\"");
        size_t at = line_start(x, sp->span.start_byte);
        add_edit(x, action(x, "Declare a custom Step with this text", "quickfix", dg, false), at,
                 at, b.data ? b.data : "");
        tx_buf_free(&b);
        return;
    }
}

static void fix_unknown_agent(actions *x, const tx_diag *dg)
{
    char name[128];
    if (!quoted_after(dg->message, "names agent '", '\'', name, sizeof name)) return;
    const char *best = NULL;
    size_t best_d = 4;
    for (const fe_agent *ag = x->a->file ? x->a->file->agents : NULL; ag; ag = ag->next) {
        size_t dist = tx_edit_distance(name, strlen(name), ag->name, strlen(ag->name), 3);
        if (dist < best_d) best_d = dist, best = ag->name;
    }
    if (!best) return;
    /* the name inside the step's quotes */
    const char *t = x->a->src;
    for (size_t i = dg->span.start_byte; i + strlen(name) + 2 <= dg->span.end_byte; i++)
        if (t[i] == '"' && !strncmp(t + i + 1, name, strlen(name)) &&
            t[i + 1 + strlen(name)] == '"') {
            char title[256];
            snprintf(title, sizeof title, "Change to the declared agent '%s'", best);
            add_edit(x, action(x, title, "quickfix", dg, true), i + 1, i + 1 + strlen(name), best);
            return;
        }
}

/* TAC805's range is the evaluator's whole table ({type = "...", ...}): the
 * misspelt name is its type's string, found in the model by that range. */
static bool evaluator_type_span(const actions *x, const tx_diag *dg, size_t *s, size_t *e)
{
    for (const fe_evaluation *ev = x->a->file ? x->a->file->evaluations : NULL; ev; ev = ev->next) {
        const fe_value *evs = fe_value_get(ev->config, "evaluators");
        for (const fe_entry *en = evs && evs->kind == FE_TABLE ? evs->entries : NULL; en;
             en = en->next) {
            const fe_value *v = en->value;
            if (v->span.start_byte != dg->span.start_byte || v->span.end_byte != dg->span.end_byte)
                continue;
            const fe_value *type = v->kind == FE_TABLE ? fe_value_get(v, "type") : NULL;
            if (!type || type->kind != FE_STRING) return false;
            *s = type->span.start_byte, *e = type->span.end_byte;
            return true;
        }
    }
    return false;
}

/* The suggestion of a message's "did you mean 'x'" (or "x"), into name. */
static bool did_you_mean(const char *msg, char *name, size_t cap)
{
    const char *p = strstr(msg, "did you mean ");
    if (!p) return false;
    p += strlen("did you mean ");
    if (*p != '\'' && *p != '"') return false;
    char quote[2] = {*p, '\0'};
    return quoted_after(p, quote, *p, name, cap) && name[0];
}

/* Every "did you mean" finding gets its replacement (the finding's range is
 * the misspelt name, but for TAC805); TAC704's is fix_unknown_agent's, which
 * replaces only the name inside the step's quotes. */
static void fix_did_you_mean(actions *x, const tx_diag *dg)
{
    char name[256];
    if (!strcmp(dg->code, "TAC704") || !did_you_mean(dg->message, name, sizeof name)) return;
    size_t s = dg->span.start_byte, e = dg->span.end_byte;
    if (!strcmp(dg->code, "TAC805") && !evaluator_type_span(x, dg, &s, &e)) return;
    replace_name(x, dg, s, e, name);
}

static void fix(actions *x, const tx_diag *dg)
{
    const char *c = dg->code;
    fix_did_you_mean(x, dg);
    if (!strcmp(c, "TAC301")) fix_tool_not_declared(x, dg);
    if (!strcmp(c, "TAC302")) fix_tool_not_granted(x, dg);
    if (!strcmp(c, "TAC303")) fix_unused_tool(x, dg);
    if (!strcmp(c, "TAC105")) fix_required_with_default(x, dg);
    if (!strcmp(c, "TAC201")) fix_no_function(x, dg);
    if (!strcmp(c, "TAC601")) fix_missing_output(x, dg);
    if (!strcmp(c, "TAC703")) fix_undefined_step(x, dg);
    if (!strcmp(c, "TAC704")) fix_unknown_agent(x, dg);
    if (!strcmp(c, "TAC004"))
        add_edit(x, action(x, "Add a minimal procedure", "quickfix", dg, true), 0, 0,
                 "Procedure {\n  input = {name = field.string{required = true}},\n  output = "
                 "{greeting = "
                 "field.string{required = true}},\n  function(input)\n    return {greeting = "
                 "\"Hello, \" "
                 ".. input.name}\n  end,\n}\n");
}

/* "Add a Specifications skeleton": a file with a procedure and no specs. */
static void specifications_skeleton(actions *x)
{
    const fe_file *f = x->a->file;
    if (!f || f->specs || !f->procedures || !wanted(x, "source.addSpecifications")) return;
    const fe_procedure *p = f->procedures;
    for (const fe_procedure *q = f->procedures; q; q = q->next)
        if (!q->named) p = q;
    const fe_schema *in = p->script_mode && !p->input.present ? &f->script_input : &p->input;
    const fe_schema *out = p->script_mode && !p->output.present ? &f->script_output : &p->output;
    tx_buf b;
    tx_buf_init(&b, 1 << 16);
    const char *t = x->a->src;
    size_t n = x->a->len;
    tx_buf_printf(&b, "%sSpecifications([[\nFeature: %s\n\n  Scenario: %s runs to completion\n",
                  n && t[n - 1] != '\n' ? "\n\n" : "\n", p->name, p->name);
    bool first = true;
    for (const fe_field *fd = in->fields; fd; fd = fd->next) {
        if (!fd->required) continue;
        const char *kw = first ? "Given" : "And";
        switch (fd->type) {
        case FE_TYPE_NUMBER:
        case FE_TYPE_INTEGER:
            tx_buf_printf(&b, "    %s the input %s is 1\n", kw, fd->name);
            break;
        case FE_TYPE_ARRAY:
            tx_buf_printf(&b, "    %s the input %s is [\"a\", \"b\"]\n", kw, fd->name);
            break;
        case FE_TYPE_STRING:
        case FE_TYPE_UNKNOWN:
        case FE_TYPE_ANY:
            tx_buf_printf(&b, "    %s the input %s is \"example\"\n", kw, fd->name);
            break;
        default:
            continue;
        }
        first = false;
    }
    tx_buf_puts(
        &b, "    When the procedure runs\n    Then the procedure should complete successfully\n");
    for (const fe_field *fd = out->fields; fd; fd = fd->next)
        tx_buf_printf(&b, "    And the output %s should exist\n", fd->name);
    tx_buf_puts(&b, "]])\n");
    cJSON *a = action(x, "Add a Specifications skeleton (tactus test runs it)",
                      "source.addSpecifications", NULL, false);
    add_edit(x, a, n, n, b.data ? b.data : "");
    tx_buf_free(&b);
}

cJSON *lsp_on_code_action(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_param_doc(s, params, err);
    if (!d) return NULL;
    lsp_pos ps, pe;
    if (!lsp_parse_range(cJSON_GetObjectItemCaseSensitive(params, "range"), &ps, &pe))
        return lsp_fail(err, LSP_INVALID_PARAMS, "params.range must be {start, end} positions");
    lsp_analysis *a = lsp_doc_analysis(s, d);
    if (!a) return NULL;
    actions x = {.s = s, .d = d, .a = a, .v = lsp_doc_view(s, d), .out = cJSON_CreateArray()};
    x.only = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(params, "context"),
                                              "only");
    size_t rs = lsp_byte_of(&x.v, ps), re = lsp_byte_of(&x.v, pe);
    for (size_t i = 0; i < a->diags.len; i++) {
        const tx_diag *dg = &a->diags.items[i];
        /* findings touching the range (an empty range at the cursor counts) */
        if (dg->span.end_byte < rs || dg->span.start_byte > re) continue;
        fix(&x, dg);
    }
    specifications_skeleton(&x);
    return x.out;
}
