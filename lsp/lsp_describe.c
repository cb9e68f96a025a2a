/*
 * lsp_describe.c - the markdown that describes a declaration of the file
 * (an agent, tool, procedure, model, field, step, local or global: what the
 * model knows of it) or a DSL entry (its signature, doc and keys), for hover.
 */
#include <stdio.h>
#include <string.h>

#include "lsp_internal.h"

/* ---- rendering values
 * ----------------------------------------------------------------------------- */

static void value_md(tx_buf *b, const fe_value *v, int depth)
{
    if (!v) {
        tx_buf_puts(b, "nil");
        return;
    }
    switch (v->kind) {
    case FE_STRING:
        tx_buf_printf(b, "\"%.*s%s\"", v->str_len > 80 ? 80 : (int)v->str_len, v->str,
                      v->str_len > 80 ? "..." : "");
        break;
    case FE_NUMBER:
        if (v->is_integer)
            tx_buf_printf(b, "%.0f", v->number);
        else
            tx_buf_printf(b, "%g", v->number);
        break;
    case FE_BOOL:
        tx_buf_puts(b, v->boolean ? "true" : "false");
        break;
    case FE_NIL:
        tx_buf_puts(b, "nil");
        break;
    case FE_NAME:
        tx_buf_puts(b, v->str ? v->str : "?");
        break;
    case FE_CALL:
        tx_buf_printf(b, "%s(...)", v->str ? v->str : "?");
        break;
    case FE_FUNCTION:
        tx_buf_puts(b, "function");
        break;
    case FE_TABLE:
        if (depth > 1) {
            tx_buf_puts(b, "{...}");
            break;
        }
        tx_buf_puts(b, "{");
        size_t i = 0;
        for (const fe_entry *e = v->entries; e; e = e->next, i++) {
            if (i == 6) {
                tx_buf_puts(b, ", ...");
                break;
            }
            if (i) tx_buf_puts(b, ", ");
            if (e->key) tx_buf_printf(b, "%s = ", e->key);
            value_md(b, e->value, depth + 1);
        }
        tx_buf_puts(b, "}");
        break;
    case FE_OTHER:
        tx_buf_puts(b, "(computed)");
        break;
    }
}

static void field_line(tx_buf *b, const fe_field *f)
{
    tx_buf_printf(b, "- `%s`: %s", f->name, f->builder ? f->builder : fe_type_name(f->type));
    if (f->required) tx_buf_puts(b, ", required");
    if (f->default_value) {
        tx_buf_puts(b, ", default `");
        value_md(b, f->default_value, 0);
        tx_buf_puts(b, "`");
    }
    if (f->enum_values) {
        tx_buf_puts(b, ", one of `");
        value_md(b, f->enum_values, 0);
        tx_buf_puts(b, "`");
    }
    const fe_value *desc = f->options ? fe_value_get(f->options, "description") : NULL;
    if (desc && desc->kind == FE_STRING) tx_buf_printf(b, " — %s", desc->str);
    tx_buf_puts(b, "\n");
}

static void schema_md(tx_buf *b, const char *title, const fe_schema *sc)
{
    if (!sc->present) return;
    tx_buf_printf(b, "\n%s:\n", title);
    if (!sc->fields) tx_buf_puts(b, "- (none)\n");
    for (const fe_field *f = sc->fields; f; f = f->next)
        field_line(b, f);
}

static void description_md(tx_buf *b, const fe_value *cfg)
{
    const fe_value *desc = cfg ? fe_value_get(cfg, "description") : NULL;
    if (desc && desc->kind == FE_STRING) tx_buf_printf(b, "\n%s\n", desc->str);
}

static uint32_t line_of(const lsp_server *s, const lsp_doc *d, uint32_t byte)
{
    lsp_view v = lsp_doc_view(s, d);
    return lsp_line_of(&v, byte) + 1;
}

void lsp_describe_symbol(lsp_server *s, lsp_doc *d, const lsp_nav *n, int k, tx_buf *b)
{
    const lsp_symbol *y = &n->syms[k];
    switch (y->kind) {
    case LSP_SYM_AGENT: {
        const fe_agent *a = y->decl;
        tx_buf_printf(b, "**agent** `%s`\n", y->name);
        if (a->model) tx_buf_printf(b, "\nmodel: `%s`\n", a->model);
        if (a->tools && a->tools->kind == FE_TABLE) {
            tx_buf_puts(b, "\ngranted tools: ");
            size_t i = 0;
            for (const fe_entry *e = a->tools->entries; e; e = e->next, i++) {
                tx_buf_puts(b, i ? ", `" : "`");
                value_md(b, e->value, 1);
                tx_buf_puts(b, "`");
            }
            if (!i) tx_buf_puts(b, "none");
            tx_buf_puts(b, "\n");
        } else {
            tx_buf_puts(b, "\ngranted tools: none (tools are denied unless granted)\n");
        }
        const fe_value *sp = fe_value_get(a->config, "system_prompt");
        if (sp && sp->kind == FE_STRING) {
            size_t n1 = strcspn(sp->str, "\n");
            tx_buf_printf(b, "\nsystem prompt: %.*s%s\n", n1 > 200 ? 200 : (int)n1, sp->str,
                          n1 < sp->str_len ? " ..." : "");
        }
        description_md(b, a->config);
        break;
    }
    case LSP_SYM_TOOL:
    case LSP_SYM_TOOLSET:
    case LSP_SYM_STDLIB_TOOL: {
        const fe_tool *t = y->decl;
        const char *what = t->kind == FE_TOOL_TOOLSET  ? "toolset"
                           : t->kind == FE_TOOL_BROKER ? "brokered host tool"
                           : t->kind == FE_TOOL_STDLIB ? "stdlib tool"
                                                       : "tool";
        tx_buf_printf(b, "**%s** `%s`\n", what, y->name);
        if (t->use)
            tx_buf_printf(b, "\nuse: `%s` (runs on the host, through the broker)\n", t->use);
        if (t->kind == FE_TOOL_STDLIB)
            tx_buf_puts(b, "\nfrom `require(\"tactus.tools.done\")`-style stdlib binding\n");
        description_md(b, t->config);
        schema_md(b, "input", &t->input);
        break;
    }
    case LSP_SYM_PROCEDURE: {
        const fe_procedure *p = y->decl;
        if (p->named)
            tx_buf_printf(b, "**procedure** `%s` (a sub-procedure: call it as `%s({...})`)\n",
                          y->name, y->name);
        else
            tx_buf_printf(b, "**procedure** `%s` (the main procedure)\n", y->name);
        description_md(b, p->config);
        schema_md(b, "input", &p->input);
        schema_md(b, "output", &p->output);
        schema_md(b, "state", &p->state);
        break;
    }
    case LSP_SYM_MODEL: {
        const fe_model *m = y->decl;
        tx_buf_printf(b, "**%s** `%s`\n", m->kind == FE_MODEL_CLASSIFY ? "classifier" : "model",
                      y->name);
        const fe_value *type =
            fe_value_get(m->config, m->kind == FE_MODEL_CLASSIFY ? "method" : "type");
        if (type && type->kind == FE_STRING)
            tx_buf_printf(b, "\n%s: `%s`\n", m->kind == FE_MODEL_CLASSIFY ? "method" : "type",
                          type->str);
        const fe_value *classes = fe_value_get(m->config, "classes");
        if (classes) {
            tx_buf_puts(b, "\nclasses: `");
            value_md(b, classes, 0);
            tx_buf_puts(b, "`\n");
        }
        break;
    }
    case LSP_SYM_FIELD: {
        const fe_field *f = y->decl;
        const char *owner = y->owner >= 0 ? n->syms[y->owner].name : "?";
        bool tool = y->owner >= 0 && n->syms[y->owner].kind != LSP_SYM_PROCEDURE;
        tx_buf_printf(b, "**%s field** `%s` of %s `%s`\n\n", y->schema, y->name,
                      tool ? "tool" : "procedure", owner);
        field_line(b, f);
        break;
    }
    case LSP_SYM_STEP:
        tx_buf_printf(
            b, "**custom step** `%s`\n\ndeclared with Step(...) at line %u; matched exactly\n",
            y->name, line_of(s, d, y->name_start));
        break;
    case LSP_SYM_LOCAL:
        tx_buf_printf(b, "**local** `%s`, declared at line %u\n", y->name,
                      line_of(s, d, y->name_start));
        if (y->fields_of >= 0)
            tx_buf_printf(b, "\nthe %s of %s `%s`: `%s.x` are its fields\n", y->fields_schema,
                          n->syms[y->fields_of].kind == LSP_SYM_PROCEDURE ? "procedure" : "tool",
                          n->syms[y->fields_of].name, y->name);
        break;
    case LSP_SYM_GLOBAL:
        tx_buf_printf(b, "**global** `%s`, assigned at line %u\n", y->name,
                      line_of(s, d, y->name_start));
        break;
    case LSP_SYM_SCENARIO:
        tx_buf_printf(b, "**scenario** `%s`\n", y->name);
        break;
    }
}

void lsp_describe_dsl(const lsp_dsl_entry *e, tx_buf *b)
{
    tx_buf_printf(b, "```lua\n%s\n```\n%s\n", e->signature, e->doc);
    if (e->keys) {
        tx_buf_puts(b, "\n");
        for (const lsp_dsl_key *k = e->keys; k->key; k++)
            tx_buf_printf(b, "- `%s`: %s\n", k->key, k->doc);
    }
}
