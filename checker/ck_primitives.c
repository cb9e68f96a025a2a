/*
 * ck_primitives.c - arguments of Sleep, System.alert, Classify and Model (TAC411).
 *
 * The runtime refuses these at the call; the checker says so before a run
 * has spent its budget (or a day of a durable run) getting there.
 */
#include <string.h>

#include "ck_internal.h"

/* Whether s is one of the n names of list. */
static bool one_of(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0) return true;
    return false;
}
#define ONE_OF(s, list) one_of((s), (list), sizeof(list) / sizeof(list)[0])

static bool dynamic(const fe_value *v)
{
    return v->kind == FE_NAME || v->kind == FE_CALL || v->kind == FE_OTHER;
}

static void check_sleep(ck_run *r, const fe_ref *ref)
{
    const fe_value *s = fe_value_at(ref->call, 0);
    char buf[96];
    if (!s) {
        ck_report(r, "TAC411", ref->span, "Sleep needs a number of seconds: Sleep(60)");
    } else if (!dynamic(s) && (s->kind != FE_NUMBER || s->number < 0 || s->number > 86400)) {
        ck_report(r, "TAC411", s->span, "Sleep takes a number of seconds from 0 to 86400, not %s",
                  ck_value_repr(s, buf, sizeof buf));
    }
}

static void check_alert(ck_run *r, const fe_ref *ref)
{
    static const char *const levels[] = {"info", "warning", "error", "critical"};
    const fe_value *a = fe_value_at(ref->call, 0);
    char buf[96];
    if (!a || (a->kind != FE_TABLE && a->kind != FE_STRING && !dynamic(a))) {
        ck_report(r, "TAC411", a ? a->span : ref->span,
                  "System.alert takes {message = \"...\", level = \"warning\"}%s%s",
                  a ? ", not " : "", a ? ck_value_repr(a, buf, sizeof buf) : "");
        return;
    }
    if (a->kind != FE_TABLE) return;
    const fe_value *msg = fe_value_get(a, "message");
    if (!msg)
        ck_report(r, "TAC411", a->span, "System.alert needs message = \"what happened\"");
    else if (msg->kind != FE_STRING && !dynamic(msg))
        ck_report(r, "TAC411", msg->span, "the message of System.alert must be a string, not %s",
                  ck_value_repr(msg, buf, sizeof buf));
    const fe_value *level = fe_value_get(a, "level");
    if (level && level->kind == FE_STRING && !ONE_OF(level->str, levels)) {
        ck_report(r, "TAC411", level->span,
                  "System.alert's level must be \"info\", \"warning\", \"error\" or \"critical\", "
                  "not \"%s\"",
                  level->str);
    }
}

static void check_classify(ck_run *r, const fe_model *m)
{
    static const char *const algorithms[] = {"ratio", "partial_ratio", "token_sort_ratio",
                                             "token_set_ratio"};
    const fe_value *cfg = m->config;
    char buf[96];
    const fe_value *method = fe_value_get(cfg, "method");
    bool fuzzy = false;
    if (method && method->kind == FE_STRING) {
        fuzzy = strcmp(method->str, "fuzzy") == 0;
        if (!fuzzy && strcmp(method->str, "llm") != 0)
            ck_report(r, "TAC411", method->span,
                      "Classify's method must be \"llm\" or \"fuzzy\", not \"%s\"", method->str);
    }
    const fe_value *classes = fe_value_get(cfg, "classes");
    if (!classes)
        ck_report(r, "TAC411", m->span, "Classify needs classes = {\"a\", \"b\", ...}");
    else if (classes->kind == FE_TABLE) {
        if (classes->n_entries == 0)
            ck_report(r, "TAC411", classes->span, "Classify's classes are empty");
        for (const fe_entry *e = classes->entries; e; e = e->next)
            if (e->value->kind != FE_STRING && !dynamic(e->value))
                ck_report(r, "TAC411", e->value->span,
                          "a class of Classify must be a string, not %s",
                          ck_value_repr(e->value, buf, sizeof buf));
    }
    const fe_value *th = fe_value_get(cfg, "threshold");
    if (th && !dynamic(th) && (th->kind != FE_NUMBER || th->number < 0 || th->number > 1))
        ck_report(r, "TAC411", th->span, "Classify's threshold is a number from 0 to 1, not %s",
                  ck_value_repr(th, buf, sizeof buf));
    const fe_value *alg = fe_value_get(cfg, "algorithm");
    if (alg && alg->kind == FE_STRING) {
        if (!ONE_OF(alg->str, algorithms))
            ck_report(r, "TAC411", alg->span,
                      "Classify's algorithm \"%s\" is not one of ratio, partial_ratio, "
                      "token_sort_ratio, token_set_ratio",
                      alg->str);
        else if (!fuzzy)
            ck_report(r, "TAC411", alg->span,
                      "an algorithm only applies to method = \"fuzzy\"; add it or remove this");
    }
}

static void check_model(ck_run *r, const fe_model *m)
{
    static const char *const types[] = {"mock", "http", "llm", "registry"};
    const fe_value *type = fe_value_get(m->config, "type");
    if (!type || type->kind != FE_STRING) return;
    if (!ONE_OF(type->str, types))
        ck_report(r, "TAC411", type->span,
                  "Model type \"%s\" is not available in this runtime (mock, http, llm; registry "
                  "under Mocks); serve the model behind an endpoint and use type = \"http\"",
                  type->str);
    else if (strcmp(type->str, "http") == 0 && !fe_value_get(m->config, "endpoint"))
        ck_report(
            r, "TAC411", type->span,
            "a Model of type \"http\" needs endpoint = \"https://...\" (the broker calls it)");
}

/* (Short global names such as contains() are left alone: a file may define
 * its own function of that name.) */
typedef enum { ARG_STRING, ARG_NUMBER, ARG_COUNT, ARG_MESSAGE, ARG_STAGE } arg_rule;

static const struct {
    const char *name;
    arg_rule rule;
    const char *usage;
} simple[] = {
    {"Iterations.exceeded", ARG_NUMBER, "Iterations.exceeded(20)"},
    {"Stage.set", ARG_STAGE, "Stage.set(\"review\")"},
    {"Stage.is", ARG_STAGE, "Stage.is(\"review\")"},
    {"MessageHistory.append", ARG_MESSAGE,
     "MessageHistory.append({role = \"user\", content = \"...\"})"},
    {"Session.append", ARG_MESSAGE, "Session.append({role = \"user\", content = \"...\"})"},
    {"MessageHistory.inject_system", ARG_STRING, "MessageHistory.inject_system(\"...\")"},
    {"Session.inject_system", ARG_STRING, "Session.inject_system(\"...\")"},
    {"filters.last_n", ARG_COUNT, "filters.last_n(10)"},
    {"filters.first_n", ARG_COUNT, "filters.first_n(10)"},
    {"filters.token_budget", ARG_COUNT, "filters.token_budget(2000)"},
    {"filters.head_tokens", ARG_COUNT, "filters.head_tokens(2000)"},
    {"filters.tail_tokens", ARG_COUNT, "filters.tail_tokens(2000)"},
};

/* The stages a file declares with a literal Stages({...}), or NULL. */
static const fe_value *declared_stages(const fe_file *f)
{
    for (const fe_ref *ref = f->refs; ref; ref = ref->next) {
        if (!ref->is_call || !ref->call) continue;
        if (strcmp(ref->name, "Stages") != 0 && strcmp(ref->name, "stages") != 0) continue;
        const fe_value *list = fe_value_at(ref->call, 0);
        if (list && list->kind == FE_TABLE) return list;
    }
    return NULL;
}

static void check_simple(ck_run *r, const fe_ref *ref, size_t k, const fe_value *stages)
{
    static const char *const roles[] = {"system", "user", "assistant", "tool"};
    const fe_value *a = fe_value_at(ref->call, 0);
    char buf[96];
    if (!a) {
        if (simple[k].rule != ARG_STAGE)
            ck_report(r, "TAC411", ref->span, "%s needs an argument: %s", simple[k].name,
                      simple[k].usage);
        return;
    }
    if (dynamic(a)) return;
    switch (simple[k].rule) {
    case ARG_STRING:
        if (a->kind != FE_STRING)
            ck_report(r, "TAC411", a->span, "%s takes a string, not %s: %s", simple[k].name,
                      ck_value_repr(a, buf, sizeof buf), simple[k].usage);
        break;
    case ARG_NUMBER:
        if (a->kind != FE_NUMBER)
            ck_report(r, "TAC411", a->span, "%s takes a number, not %s: %s", simple[k].name,
                      ck_value_repr(a, buf, sizeof buf), simple[k].usage);
        break;
    case ARG_COUNT:
        if (a->kind != FE_NUMBER || !a->is_integer || a->number < 0)
            ck_report(r, "TAC411", a->span, "%s takes a whole number >= 0, not %s: %s",
                      simple[k].name, ck_value_repr(a, buf, sizeof buf), simple[k].usage);
        break;
    case ARG_MESSAGE: {
        const fe_value *role = a->kind == FE_TABLE ? fe_value_get(a, "role") : NULL;
        bool ok = role && (role->kind != FE_STRING || ONE_OF(role->str, roles));
        if (!ok)
            ck_report(r, "TAC411", (role ? role : a)->span,
                      "%s takes a message whose role is system, user, assistant or tool: %s",
                      simple[k].name, simple[k].usage);
        break;
    }
    case ARG_STAGE:
        if (a->kind != FE_STRING) {
            ck_report(r, "TAC411", a->span, "%s takes a stage name, not %s", simple[k].name,
                      ck_value_repr(a, buf, sizeof buf));
        } else if (stages) {
            bool found = false;
            for (const fe_entry *e = stages->entries; e; e = e->next)
                found = found || e->value->kind != FE_STRING || strcmp(e->value->str, a->str) == 0;
            if (!found)
                ck_report(r, "TAC411", a->span,
                          "stage \"%s\" is not declared by Stages({...}); declare it there or use "
                          "a declared stage",
                          a->str);
        }
        break;
    }
}

void ck_rule_primitives(ck_run *r)
{
    const fe_value *stages = declared_stages(r->f);
    for (const fe_ref *ref = r->f->refs; ref; ref = ref->next) {
        if (!ref->is_call || !ref->call) continue;
        if (strcmp(ref->name, "Sleep") == 0) {
            check_sleep(r, ref);
        } else if (strcmp(ref->name, "System.alert") == 0) {
            check_alert(r, ref);
        } else {
            for (size_t k = 0; k < sizeof simple / sizeof simple[0]; k++)
                if (strcmp(ref->name, simple[k].name) == 0) check_simple(r, ref, k, stages);
        }
    }

    /* A Classify declared under two names is checked once. */
    const fe_value *seen = NULL;
    for (const fe_model *m = r->f->models; m; m = m->next)
        if (m->config != seen) {
            seen = m->config;
            if (m->kind == FE_MODEL_CLASSIFY)
                check_classify(r, m);
            else
                check_model(r, m);
        }
}
