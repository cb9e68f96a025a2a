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

/* TAC602 and TAC603, for one literal returned table. */
static void check_return_keys(ck_run *r, const fe_procedure *p, const fe_return *ret)
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
                      "(declared: %s)%s%s%s; it is dropped from the result at run time, with a "
                      "logged warning: declare it in output = {...} to keep it",
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
}

/* What a return gives for a required output: the key, no key (a literal
 * table without it), or unknown (an expression, which may hold it). A
 * bare return or a literal that is not a table gives no table at all and
 * fails at run time for another reason. */
typedef enum { RET_HAS, RET_LACKS, RET_UNKNOWN, RET_NOT_TABLE } ret_gives;

static ret_gives gives(const fe_return *ret, const char *field)
{
    const fe_value *v = ret->value;
    if (!v) return RET_NOT_TABLE;
    switch (v->kind) {
    case FE_TABLE: {
        const fe_value *got = fe_value_get(v, field);
        return got && got->kind != FE_NIL ? RET_HAS : RET_LACKS;
    }
    case FE_NAME:
    case FE_CALL:
    case FE_OTHER:
        return RET_UNKNOWN;
    default:
        return RET_NOT_TABLE;
    }
}

/* TAC601: a required output missing from every return is an error; from
 * some returns while others have it (or may), a warning on each that lacks
 * it: the original reports it only when that path runs. */
static void check_required(ck_run *r, const fe_procedure *p, const fe_field *fd)
{
    size_t lacks = 0, others = 0;
    for (const fe_return *ret = p->returns; ret; ret = ret->next) {
        ret_gives g = gives(ret, fd->name);
        lacks += g == RET_LACKS;
        others += g == RET_HAS || g == RET_UNKNOWN;
    }
    if (!lacks) return;
    for (const fe_return *ret = p->returns; ret; ret = ret->next) {
        if (gives(ret, fd->name) != RET_LACKS) continue;
        if (!others)
            ck_report(r, "TAC601", ret->value->span,
                      "procedure '%s' returns a table without the required output '%s'; add "
                      "%s = <%s> to it",
                      p->name, fd->name, fd->name, fe_type_name(fd->type));
        else
            ck_report_as(r, "TAC601", TX_SEV_WARNING, ret->value->span,
                         "procedure '%s' returns a table without the required output '%s' here, "
                         "while its other returns have it or may; when this return runs the "
                         "procedure fails: add %s = <%s> to it, or make the output optional",
                         p->name, fd->name, fd->name, fe_type_name(fd->type));
        ck_relate(r, fd->name_span, "output '%s' is declared required here", fd->name);
    }
}

void ck_rule_outputs(ck_run *r)
{
    for (const fe_procedure *p = r->f->procedures; p; p = p->next) {
        if (!p->output.present || !p->output.value || p->output.value->kind != FE_TABLE) continue;
        for (const fe_return *ret = p->returns; ret; ret = ret->next) check_return_keys(r, p, ret);
        for (const fe_field *fd = p->output.fields; fd; fd = fd->next)
            if (fd->required && !(fd->default_value && fd->default_value->kind != FE_NIL))
                check_required(r, p, fd);
    }
}
