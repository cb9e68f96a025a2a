/*
 * ck_procedures.c - procedures (TAC201-TAC203) and the literal tables they
 * return against their output schema (TAC601-TAC603).
 */
#include <string.h>

#include "ck_internal.h"

void ck_rule_procedures(ck_run *r)
{
    const fe_procedure *first_main = NULL;
    tx_map named; /* name -> first procedure with it */
    tx_map_init(&named);
    for (const fe_procedure *p = r->f->procedures; p; p = p->next) {
        if (!p->function && !p->script_mode) {
            ck_report(r, "TAC201", p->name_span,
                      "procedure '%s' has no function to run; add one as the last entry: "
                      "Procedure { ..., function(input) ... end }",
                      p->name);
        }
        if (!p->named && !p->script_mode) {
            if (first_main) {
                tx_line_col lc = tx_span_columns(r->f->src, r->f->len, first_main->span);
                ck_report(r, "TAC202", p->name_span,
                          "a second unnamed Procedure; the first is at line %u and only one "
                          "main procedure is allowed: name this one (helper = Procedure {...})",
                          lc.line);
                ck_relate(r, first_main->name_span, "the first unnamed Procedure");
            } else {
                first_main = p;
            }
        }
        if (!p->named) continue;
        const fe_procedure *q = tx_map_get(&named, p->name, strlen(p->name));
        if (q) {
            tx_line_col lc = tx_span_columns(r->f->src, r->f->len, q->name_span);
            ck_report(r, "TAC203", p->name_span,
                      "procedure '%s' is already declared at line %u; rename one of them",
                      p->name, lc.line);
            ck_relate(r, q->name_span, "procedure '%s' is first declared here", p->name);
        } else if (tx_map_put(&named, p->name, strlen(p->name), (void *)p) != TX_OK) {
            r->out->oom = true;
        }
    }
    tx_map_free(&named);
}

static void check_return(ck_run *r, const fe_procedure *p, const fe_return *ret)
{
    const fe_schema *out = &p->output;
    const fe_value *v = ret->value;
    char buf[96];
    if (!v || v->kind != FE_TABLE) return;
    for (const fe_entry *e = v->entries; e; e = e->next) {
        if (!e->key) continue;
        const fe_field *fd = fe_schema_find(out, e->key);
        if (!fd) {
            const char *near = ck_nearest_field(out, e->key);
            tx_buf b;
            tx_buf_init(&b, 1024);
            for (const fe_field *x = out->fields; x; x = x->next)
                tx_buf_printf(&b, "%s%s", x == out->fields ? "" : ", ", x->name);
            ck_report(r, "TAC602", e->key_span,
                      "procedure '%s' returns key '%s', which its output schema does not declare "
                      "(declared: %s)%s%s%s; only declared outputs are returned",
                      p->name, e->key, b.data ? b.data : "none", near ? " (did you mean '" : "",
                      near ? near : "", near ? "'?)" : "");
            ck_relate(r, out->value->span, "the output schema of procedure '%s'", p->name);
            tx_buf_free(&b);
            continue;
        }
        if (fd->type != FE_TYPE_UNKNOWN && !ck_value_fits(e->value, fd->type)) {
            ck_report(r, "TAC603", e->value->span,
                      "output '%s' of procedure '%s' is declared %s but this returns %s",
                      e->key, p->name, fe_type_name(fd->type),
                      ck_value_repr(e->value, buf, sizeof buf));
            ck_relate(r, fd->name_span, "output '%s' is declared %s here", fd->name,
                      fe_type_name(fd->type));
        }
    }
    for (const fe_field *fd = out->fields; fd; fd = fd->next) {
        if (!fd->required) continue;
        const fe_value *got = fe_value_get(v, fd->name);
        if (!got || got->kind == FE_NIL) {
            ck_report(r, "TAC601", got ? got->span : v->span,
                      "procedure '%s' returns a table without the required output '%s'; add "
                      "%s = <%s> to it",
                      p->name, fd->name, fd->name, fe_type_name(fd->type));
            ck_relate(r, fd->name_span, "output '%s' is declared required here", fd->name);
        }
    }
}

void ck_rule_outputs(ck_run *r)
{
    for (const fe_procedure *p = r->f->procedures; p; p = p->next) {
        if (!p->output.present || !p->output.value || p->output.value->kind != FE_TABLE) continue;
        for (const fe_return *ret = p->returns; ret; ret = ret->next) check_return(r, p, ret);
    }
}
