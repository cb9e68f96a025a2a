/*
 * ck_human.c - options of Human.* requests (TAC501-TAC504), inventory E.2.
 *
 * A wrong option type would otherwise surface only when the run reaches the
 * request, possibly days into a durable run; it is cheap to catch here.
 */
#include <string.h>

#include "ck_internal.h"

typedef struct {
    const char *kind;
    fe_type default_type; /* FE_TYPE_UNKNOWN: any */
    bool needs_message;
} human_kind;

static const human_kind kinds[] = {
    {"approve", FE_TYPE_BOOLEAN, true}, {"input", FE_TYPE_STRING, true},
    {"review", FE_TYPE_UNKNOWN, true},  {"select", FE_TYPE_UNKNOWN, true},
    {"escalate", FE_TYPE_UNKNOWN, true}, {"notify", FE_TYPE_UNKNOWN, true},
    {"upload", FE_TYPE_UNKNOWN, true},  {"custom", FE_TYPE_UNKNOWN, false},
    {"inputs", FE_TYPE_UNKNOWN, false}, {"multiple", FE_TYPE_UNKNOWN, false},
};

static bool is_dynamic(const fe_value *v)
{
    return v->kind == FE_NAME || v->kind == FE_CALL || v->kind == FE_OTHER;
}

static void check_request(ck_run *r, const human_kind *k, const fe_ref *ref)
{
    const fe_value *arg = fe_value_at(ref->call, 0);
    char buf[96];
    if (!arg) {
        if (k->needs_message)
            ck_report(r, "TAC504", ref->span,
                      "Human.%s needs a message: Human.%s({message = \"...\"})", k->kind, k->kind);
        return;
    }
    if (arg->kind == FE_STRING || is_dynamic(arg)) return;
    if (arg->kind != FE_TABLE) {
        ck_report(r, "TAC501", arg->span,
                  "Human.%s takes a message string or an options table, not %s", k->kind,
                  fe_value_kind_name(arg));
        return;
    }
    const fe_value *msg = fe_value_get(arg, "message");
    if (msg && msg->kind != FE_STRING && !is_dynamic(msg))
        ck_report(r, "TAC501", msg->span,
                  "the message of Human.%s must be a string, not %s; write message = \"...\"",
                  k->kind, ck_value_repr(msg, buf, sizeof buf));
    if (!msg && k->needs_message && !fe_value_get(arg, "config_key") && arg->n_positional == 0)
        ck_report(r, "TAC504", arg->span,
                  "Human.%s has no message; add message = \"what the person is asked\"", k->kind);
    const fe_value *timeout = fe_value_get(arg, "timeout");
    if (timeout && !is_dynamic(timeout) && timeout->kind != FE_NIL &&
        (timeout->kind != FE_NUMBER || timeout->number <= 0))
        ck_report(r, "TAC502", timeout->span,
                  "the timeout of Human.%s must be a positive number of seconds, not %s", k->kind,
                  ck_value_repr(timeout, buf, sizeof buf));
    const fe_value *def = fe_value_get(arg, "default");
    if (def && k->default_type != FE_TYPE_UNKNOWN && !ck_value_fits(def, k->default_type))
        ck_report(r, "TAC503", def->span,
                  "the default of Human.%s must be a %s (what the request returns), not %s",
                  k->kind, fe_type_name(k->default_type), ck_value_repr(def, buf, sizeof buf));
    if (def && strcmp(k->kind, "select") == 0) {
        const fe_value *opts = fe_value_get(arg, "options");
        if (opts && opts->kind == FE_TABLE && def->kind == FE_STRING) {
            bool found = false;
            for (const fe_entry *e = opts->entries; e; e = e->next) {
                const fe_value *o = e->value;
                if (o->kind == FE_TABLE) o = fe_value_get(o, "value");
                if (!o || is_dynamic(o)) found = true;
                else if (o->kind == FE_STRING && strcmp(o->str, def->str) == 0) found = true;
            }
            if (!found)
                ck_report(r, "TAC503", def->span,
                          "the default of Human.select, \"%s\", is not one of its options", def->str);
        }
    }
}

void ck_rule_human(ck_run *r)
{
    for (const fe_ref *ref = r->f->refs; ref; ref = ref->next) {
        if (!ref->is_call || strncmp(ref->name, "Human.", 6) != 0) continue;
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (strcmp(ref->name + 6, kinds[i].kind) == 0) check_request(r, &kinds[i], ref);
    }
}
