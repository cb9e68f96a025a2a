/*
 * ck_data.c - Mocks targets (TAC801) and evaluation cases against the
 * procedure's input schema (TAC802-TAC804).
 */
#include <string.h>

#include "ck_internal.h"

/* Any agent, tool, model or classifier the file names anywhere (ck_names.c),
 * a toolset's tools by either name, the stdlib tools, which may be mocked
 * by their tool name without being bound, and an llm_judge by its name
 * (evaluations' judges answer from Mocks). */
static bool mock_target_declared(ck_run *r, const char *name)
{
    /* An MCP server's tool, named SERVER_TOOL as the runtime names it. */
    return ck_names_get(&r->names, name) != NULL || strcmp(name, "done") == 0 ||
           ck_is_judge_name(r->f, name) || ck_mcp_tool_name(r->f, name);
}

/* Where an agent, tool or model named `name` is declared. */
static bool declaration_of(const fe_file *f, const char *name, tx_span *at)
{
    for (const fe_agent *a = f->agents; a; a = a->next)
        if (strcmp(a->name, name) == 0) return *at = a->name_span, true;
    for (const fe_tool *t = f->tools; t; t = t->next)
        if (strcmp(t->name, name) == 0) return *at = t->name_span, true;
    for (const fe_model *m = f->models; m; m = m->next)
        if (strcmp(m->name, name) == 0) return *at = m->name_span, true;
    return false;
}

void ck_rule_mocks(ck_run *r)
{
    const fe_file *f = r->f;
    const char *names[256];
    size_t n = 0;
    for (const fe_agent *a = f->agents; a && n < 256; a = a->next) names[n++] = a->name;
    for (const fe_tool *t = f->tools; t && n < 256; t = t->next) names[n++] = t->name;
    for (const fe_model *m = f->models; m && n < 256; m = m->next) names[n++] = m->name;
    for (const fe_mocks *mk = f->mocks; mk; mk = mk->next) {
        if (!mk->table || mk->table->kind != FE_TABLE) continue;
        for (const fe_entry *e = mk->table->entries; e; e = e->next) {
            if (!e->key || mock_target_declared(r, e->key)) continue;
            const char *near = ck_nearest_name(e->key, names, n);
            ck_report(r, "TAC801", e->key_span,
                      "Mocks names '%s', which is no agent, tool, model or classifier declared "
                      "in this file%s%s%s; a mock for it would never be used",
                      e->key, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
            tx_span at;
            if (near && declaration_of(f, near, &at)) ck_relate(r, at, "'%s' is declared here", near);
        }
    }
}

static const fe_procedure *main_procedure(const fe_file *f)
{
    for (const fe_procedure *p = f->procedures; p; p = p->next)
        if (!p->named) return p;
    return NULL;
}

static void check_case(ck_run *r, const fe_procedure *main, const fe_value *c)
{
    const fe_value *inputs = fe_value_get(c, "inputs");
    const fe_value *name = fe_value_get(c, "name");
    const char *cname = name && name->kind == FE_STRING ? name->str : "(unnamed)";
    char buf[96];
    if (!inputs || inputs->kind != FE_TABLE) return;
    const fe_schema *in = &main->input;
    for (const fe_entry *e = inputs->entries; e; e = e->next) {
        if (!e->key) continue;
        const fe_field *fd = fe_schema_find(in, e->key);
        if (!fd) {
            const char *near = ck_nearest_field(in, e->key);
            ck_report(r, "TAC802", e->key_span,
                      "evaluation case '%s' passes input '%s', which the procedure does not "
                      "declare%s%s%s",
                      cname, e->key, near ? " (did you mean '" : "", near ? near : "",
                      near ? "'?)" : "");
            if (in->value) ck_relate(r, in->value->span, "the input schema of the main procedure");
        } else if (fd->type != FE_TYPE_UNKNOWN && !ck_value_fits(e->value, fd->type)) {
            ck_report(r, "TAC804", e->value->span,
                      "evaluation case '%s' gives input '%s' %s, but it is declared %s", cname,
                      e->key, ck_value_repr(e->value, buf, sizeof buf), fe_type_name(fd->type));
            ck_relate(r, fd->name_span, "input '%s' is declared %s here", fd->name,
                      fe_type_name(fd->type));
        }
    }
    for (const fe_field *fd = in->fields; fd; fd = fd->next) {
        if (!fd->required || (fd->default_value && fd->default_value->kind != FE_NIL)) continue;
        if (!fe_value_get(inputs, fd->name)) {
            ck_report(r, "TAC803", inputs->span,
                      "evaluation case '%s' omits the required input '%s'; add %s = <%s>", cname,
                      fd->name, fd->name, fe_type_name(fd->type));
            ck_relate(r, fd->name_span, "input '%s' is declared required here", fd->name);
        }
    }
}

void ck_rule_evaluations(ck_run *r)
{
    const fe_procedure *main = main_procedure(r->f);
    if (!main || !main->input.present || !main->input.value ||
        main->input.value->kind != FE_TABLE)
        return;
    for (const fe_evaluation *ev = r->f->evaluations; ev; ev = ev->next) {
        const fe_value *ds = fe_value_get(ev->config, "dataset");
        if (!ds || ds->kind != FE_TABLE) continue;
        for (const fe_entry *e = ds->entries; e; e = e->next)
            if (!e->key && e->value->kind == FE_TABLE) check_case(r, main, e->value);
    }
}
