/*
 * ck_evals.c - the catalogue of evaluator kinds and thresholds, and the
 * rule that holds Evaluation blocks to it (TAC805, TAC806).
 *
 * ONE table, read by the checker and by `tactus eval` (evals/ev_suite.c,
 * ev_evaluators.c validate with it; the evals module pairs each kind
 * marked implemented with its judge, and its unit test fails when a kind
 * here has no judge or a judge no kind here). So a kind or threshold the
 * runner does not implement is a check error, the same one the editor
 * shows, never a refusal that only `tactus eval` makes. It lives in the
 * checker, like the step library (ck_steps.c), because the checker is the
 * inner module both sides reach.
 *
 * To add a kind: a row here (unavailable NULL once it runs), its judge in
 * evals/ev_evaluators.c, its builder field.KIND in the runtime
 * (runtime/vm/lua/core.lua) and ck_globals.c, and docs/evaluations.md.
 */
#include <string.h>

#include "ck_internal.h"

static const ck_evaluator_kind evaluator_kinds[] = {
    {"equals_expected", NULL, NULL},
    {"equals", NULL, NULL},
    {"exact_match", NULL, NULL},
    {"contains", "value", NULL},
    {"contains_any", NULL, NULL},
    {"is_instance", "value", NULL},
    {"min_length", NULL, NULL},
    {"max_length", NULL, NULL},
    {"regex", "value", NULL},
    {"range", NULL, NULL},
    {"tool_called", "value", NULL},
    {"state_check", "field", NULL},
    {"agent_turns", "field", NULL},
    {"max_iterations", NULL, NULL},
    {"max_tokens", NULL, NULL},
    {"llm_judge", NULL, "it needs a judge model, which tactus eval does not call yet"},
    {"max_cost", NULL, "costs are priced by the broker and not reported to evaluations yet"},
    {"json_schema", NULL, "JSON Schema validation is not built yet"},
};

static const ck_eval_threshold eval_thresholds[] = {
    {"min_success_rate", NULL},
    {"max_duration", NULL},
    {"max_tokens_per_run", NULL},
    {"max_cost_per_run", "costs are not reported to evaluations yet"},
};

#define N_KINDS      (sizeof evaluator_kinds / sizeof evaluator_kinds[0])
#define N_THRESHOLDS (sizeof eval_thresholds / sizeof eval_thresholds[0])

const ck_evaluator_kind *ck_evaluator_kinds(size_t *count)
{
    *count = N_KINDS;
    return evaluator_kinds;
}

const ck_evaluator_kind *ck_evaluator_find(const char *kind)
{
    for (size_t i = 0; kind && i < N_KINDS; i++)
        if (strcmp(evaluator_kinds[i].kind, kind) == 0) return &evaluator_kinds[i];
    return NULL;
}

const ck_eval_threshold *ck_eval_thresholds(size_t *count)
{
    *count = N_THRESHOLDS;
    return eval_thresholds;
}

const ck_eval_threshold *ck_eval_threshold_find(const char *name)
{
    for (size_t i = 0; name && i < N_THRESHOLDS; i++)
        if (strcmp(eval_thresholds[i].name, name) == 0) return &eval_thresholds[i];
    return NULL;
}

/* The nearest runnable kind (or threshold) to a misspelt one. */
static const char *nearest_runnable(const char *word, bool thresholds)
{
    const char *names[64];
    size_t n = 0;
    if (thresholds) {
        for (size_t i = 0; i < N_THRESHOLDS && n < 64; i++)
            if (!eval_thresholds[i].unavailable) names[n++] = eval_thresholds[i].name;
    } else {
        for (size_t i = 0; i < N_KINDS && n < 64; i++)
            if (!evaluator_kinds[i].unavailable) names[n++] = evaluator_kinds[i].kind;
    }
    return ck_nearest_name(word, names, n);
}

static void runnable_list(bool thresholds, tx_buf *b)
{
    for (size_t i = 0; i < (thresholds ? N_THRESHOLDS : N_KINDS); i++) {
        const char *name = thresholds ? eval_thresholds[i].name : evaluator_kinds[i].kind;
        bool ok = thresholds ? !eval_thresholds[i].unavailable : !evaluator_kinds[i].unavailable;
        if (ok) tx_buf_printf(b, "%s%s", b->len ? ", " : "", name);
    }
}

bool ck_evaluator_problem(const char *kind, bool has_needed(const char *key, void *ud), void *ud,
                          char *why, size_t cap)
{
    const ck_evaluator_kind *k = ck_evaluator_find(kind);
    if (!k) {
        const char *near = kind ? nearest_runnable(kind, false) : NULL;
        tx_buf list;
        tx_buf_init(&list, 4096);
        runnable_list(false, &list);
        if (!kind)
            snprintf(why, cap, "an evaluator needs a type; known: %s", list.data ? list.data : "");
        else if (near)
            snprintf(why, cap, "unknown evaluator type '%s'; did you mean '%s'?", kind, near);
        else
            snprintf(why, cap, "unknown evaluator type '%s'; known: %s", kind,
                     list.data ? list.data : "");
        tx_buf_free(&list);
        return true;
    }
    if (k->unavailable) {
        snprintf(why, cap,
                 "evaluator type '%s' is not available: %s; use a deterministic evaluator", k->kind,
                 k->unavailable);
        return true;
    }
    if (k->needs && !has_needed(k->needs, ud)) {
        snprintf(why, cap, "evaluator '%s' needs %s = ...", k->kind, k->needs);
        return true;
    }
    return false;
}

bool ck_threshold_problem(const char *name, char *why, size_t cap)
{
    const ck_eval_threshold *t = ck_eval_threshold_find(name);
    if (t && !t->unavailable) return false;
    tx_buf list;
    tx_buf_init(&list, 1024);
    runnable_list(true, &list);
    const char *near = t ? NULL : nearest_runnable(name, true);
    if (t)
        snprintf(why, cap, "threshold '%s' is not available: %s; known: %s", name, t->unavailable,
                 list.data ? list.data : "");
    else if (near)
        snprintf(why, cap, "unknown threshold '%s' (did you mean '%s'?); known: %s", name, near,
                 list.data ? list.data : "");
    else
        snprintf(why, cap, "unknown threshold '%s'; known: %s", name, list.data ? list.data : "");
    tx_buf_free(&list);
    return true;
}

/* ---- the rule ----------------------------------------------------------------------------- */

/* The option table of an evaluator: field.KIND{...}'s argument, or the table itself. */
static const fe_value *evaluator_options(const fe_value *v)
{
    return v->kind == FE_CALL ? fe_value_at(v, 0) : v;
}

static bool option_present(const char *key, void *ud)
{
    const fe_value *opts = ud;
    return opts && opts->kind == FE_TABLE && fe_value_get(opts, key) != NULL;
}

static bool option_unknown(const char *key, void *ud)
{
    (void)key, (void)ud;
    return true; /* not known statically: not judged here */
}

static void check_evaluator(ck_run *r, const fe_value *v)
{
    const char *kind = NULL;
    if (v->kind == FE_CALL && v->str && strncmp(v->str, "field.", 6) == 0) {
        kind = v->str + 6;
        if (!ck_evaluator_find(kind)) return; /* an unknown builder: TAC101 names it there */
    } else if (v->kind == FE_TABLE) {
        const fe_value *t = fe_value_get(v, "type");
        if (!t) return; /* no type: eval says so (a dynamic one is not judged here) */
        if (t->kind != FE_STRING) return;
        kind = t->str;
    } else {
        return; /* dynamic: `tactus eval` refuses it with its reason */
    }
    const fe_value *opts = evaluator_options(v);
    /* A dynamic option table is eval's to refuse; needs are judged on literal ones. */
    bool dynamic = opts && opts->kind != FE_TABLE;
    char why[1024];
    if (ck_evaluator_problem(kind, dynamic ? option_unknown : option_present, (void *)opts, why,
                             sizeof why))
        ck_report(r, "TAC805", v->span, "%s", why);
}

void ck_rule_eval_catalogue(ck_run *r)
{
    for (const fe_evaluation *ev = r->f->evaluations; ev; ev = ev->next) {
        const fe_value *evs = fe_value_get(ev->config, "evaluators");
        for (const fe_entry *e = evs && evs->kind == FE_TABLE ? evs->entries : NULL; e; e = e->next)
            check_evaluator(r, e->value);
        const fe_value *th = fe_value_get(ev->config, "thresholds");
        for (const fe_entry *e = th && th->kind == FE_TABLE ? th->entries : NULL; e; e = e->next) {
            char why[1024];
            if (e->key && ck_threshold_problem(e->key, why, sizeof why))
                ck_report(r, "TAC806", e->key_span, "%s", why);
        }
    }
}
