/*
 * ck_schema.c - rules on field.* declarations (TAC101-TAC106).
 */
#include <string.h>

#include "ck_internal.h"

/* Builders that declare a typed field. */
static const char *const type_builders[] = {
    "string", "number", "integer", "boolean", "array", "object", "list", "any", NULL,
};

/* Evaluator builders share the field namespace (inventory D): the kinds of
 * the evaluator catalogue (ck_evals.c). */

static const char *const common_options[] = {"required", "default", "description", "enum", NULL};

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0) return true;
    return false;
}

static bool option_allowed(const char *builder, const char *opt)
{
    if (in_list(common_options, opt)) return true;
    if ((strcmp(builder, "array") == 0 || strcmp(builder, "list") == 0) && strcmp(opt, "items") == 0)
        return true;
    if (strcmp(builder, "object") == 0 && strcmp(opt, "properties") == 0) return true;
    return false;
}

static bool literal_equal(const fe_value *a, const fe_value *b)
{
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case FE_STRING: return a->str_len == b->str_len && memcmp(a->str, b->str, a->str_len) == 0;
    case FE_NUMBER: return a->number == b->number;
    case FE_BOOL: return a->boolean == b->boolean;
    default: return false;
    }
}

static bool is_literal(const fe_value *v)
{
    return v->kind == FE_STRING || v->kind == FE_NUMBER || v->kind == FE_BOOL;
}

static void check_field(ck_run *r, const fe_field *fd, const char *where)
{
    char buf[96];
    if (fd->builder && in_list(type_builders, fd->builder) && fd->options) {
        for (const fe_entry *e = fd->options->entries; e; e = e->next) {
            if (!e->key || option_allowed(fd->builder, e->key)) continue;
            static const char *const all_opts[] = {"required", "default", "description", "enum",
                                                   "items", "properties"};
            const char *near = ck_nearest_name(e->key, all_opts, 6);
            ck_report(r, "TAC102", e->key_span,
                      "field.%s does not take option '%s' (in %s field '%s'); the options are "
                      "required, default, description and enum%s%s%s",
                      fd->builder, e->key, where, fd->name,
                      near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        }
    }
    if (!fd->builder && fd->decl && fd->decl->kind == FE_TABLE && fd->type == FE_TYPE_UNKNOWN) {
        const fe_value *t = fe_value_get(fd->decl, "type");
        if (t && t->kind == FE_STRING)
            ck_report(r, "TAC101", t->span,
                      "unknown type \"%s\" for %s field '%s'; use string, number, integer, "
                      "boolean, array or object (or a field.* builder)",
                      t->str, where, fd->name);
    }
    const fe_value *def = fd->default_value;
    if (def && fd->type != FE_TYPE_UNKNOWN && !ck_value_fits(def, fd->type)) {
        ck_report(r, "TAC103", def->span,
                  "the default of %s field '%s' is %s, but the field is declared %s; give a "
                  "default of type %s or change the builder",
                  where, fd->name, ck_value_repr(def, buf, sizeof buf), fe_type_name(fd->type),
                  fe_type_name(fd->type));
    }
    const fe_value *en = fd->enum_values;
    if (en) {
        bool ok = en->kind == FE_TABLE && en->n_entries == en->n_positional;
        for (const fe_entry *e = ok ? en->entries : NULL; e; e = e->next)
            if (!is_literal(e->value)) ok = false;
        if (!ok && en->kind != FE_NAME && en->kind != FE_CALL) {
            ck_report(r, "TAC106", en->span,
                      "the enum of %s field '%s' must be a list of literal values, like "
                      "enum = {\"low\", \"high\"}",
                      where, fd->name);
        } else if (ok && def && is_literal(def)) {
            bool found = false;
            for (const fe_entry *e = en->entries; e && !found; e = e->next)
                found = literal_equal(e->value, def);
            if (!found) {
                tx_buf b;
                tx_buf_init(&b, 512);
                for (const fe_entry *e = en->entries; e; e = e->next)
                    tx_buf_printf(&b, "%s%s", e == en->entries ? "" : ", ",
                                  ck_value_repr(e->value, buf, sizeof buf));
                ck_report(r, "TAC104", def->span,
                          "the default %s of %s field '%s' is not one of its enum values (%s); "
                          "pick one of them as the default",
                          ck_value_repr(def, buf, sizeof buf), where, fd->name,
                          b.data ? b.data : "");
                ck_relate(r, en->span, "the enum values of %s field '%s'", where, fd->name);
                tx_buf_free(&b);
            }
        }
    }
    if (fd->required && def && def->kind != FE_NIL) {
        ck_report(r, "TAC105", def->span,
                  "%s field '%s' is required and has a default; a required field is always "
                  "given, so the default is never used: drop one of them",
                  where, fd->name);
        const fe_value *req = fe_value_get(fd->options, "required");
        if (req) ck_relate(r, req->span, "'%s' is made required here", fd->name);
    }
}

static void check_schema(ck_run *r, const fe_schema *s, const char *where)
{
    for (const fe_field *fd = s->fields; fd; fd = fd->next) check_field(r, fd, where);
}

void ck_rule_fields(ck_run *r)
{
    const fe_file *f = r->f;
    /* Unknown builders anywhere: field.X is a global reference. */
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; type_builders[i]; i++) names[n++] = type_builders[i];
    size_t n_kinds;
    const ck_evaluator_kind *kinds = ck_evaluator_kinds(&n_kinds);
    for (size_t i = 0; i < n_kinds && n < 63; i++) names[n++] = kinds[i].kind;
    for (const fe_ref *ref = f->refs; ref; ref = ref->next) {
        if (strncmp(ref->name, "field.", 6) != 0) continue;
        const char *b = ref->name + 6;
        if (strchr(b, '.') || in_list(type_builders, b) || ck_evaluator_find(b))
            continue;
        const char *near = ck_nearest_name(b, names, n);
        ck_report(r, "TAC101", ref->span,
                  "unknown field builder 'field.%s'%s%s%s; the type builders are field.string, "
                  "number, integer, boolean, array and object",
                  b, near ? " (did you mean 'field." : "", near ? near : "", near ? "'?)" : "");
    }
    if (f->script_input.present && !f->procedures) check_schema(r, &f->script_input, "input");
    for (const fe_procedure *p = f->procedures; p; p = p->next) {
        check_schema(r, &p->input, "input");
        check_schema(r, &p->output, "output");
        check_schema(r, &p->state, "state");
    }
    for (const fe_tool *t = f->tools; t; t = t->next) check_schema(r, &t->input, "tool input");
}
