/*
 * ck_evals.c - the catalogue of evaluator kinds and thresholds, and the
 * rule that holds Evaluation blocks to it and to their own settings
 * (TAC805-TAC810).
 *
 * ONE table of each, read by the checker and by `tactus eval`
 * (evals/ev_suite.c, ev_evaluators.c validate with it; the evals module
 * pairs each kind marked implemented with its judge, and its unit test
 * fails when a kind here has no judge or a judge no kind here). So a kind
 * or threshold the runner does not implement is a check error, the same one
 * the editor shows, never a refusal that only `tactus eval` makes. It lives
 * in the checker, like the step library (ck_steps.c), because the checker is
 * the inner module both sides reach.
 *
 * The rule also finds at the value's position what `tactus eval` would
 * otherwise find only after loading (or never: a misspelt threshold would
 * be silently ignored): a threshold's value of the wrong type or range,
 * runs and the bounds on them, pass_k and confidence, inline cases without
 * inputs. Dataset files and --runs are outside the file: evals/ checks them
 * when it loads, with the same bounds (CK_EVAL_MAX_RUNS_*).
 *
 * To add a kind: a row here (unavailable NULL once it runs), its judge in
 * evals/ev_evaluators.c, its builder field.KIND in the runtime
 * (stdlib/dsl/core.lua) and ck_globals.c, and docs/evaluations.md. To add
 * a threshold: a row here with the kind of its limit, its figure in
 * evals/ev_score.c, and docs/evaluations.md.
 */
#include <math.h>
#include <string.h>

#include "ck_internal.h"

/* `needs`: an option the kind cannot do without; "a|b" when either will do. */
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
    {"max_cost", NULL, NULL},
    {"json_schema", "json_schema|value", NULL},
    {"llm_judge", "rubric", NULL},
};

/* clang-format off */
static const ck_eval_threshold eval_thresholds[] = {
    {"min_success_rate", CK_LIMIT_SHARE, NULL},
    {"min_success_rate_lower", CK_LIMIT_SHARE, NULL},
    {"min_pass_k", CK_LIMIT_PASS_K, NULL},
    {"max_flaky_cases", CK_LIMIT_CASES, NULL},
    {"max_cost_per_run", CK_LIMIT_DOLLARS, NULL},
    {"max_duration", CK_LIMIT_SECONDS, NULL},
    {"max_p95_duration", CK_LIMIT_SECONDS, NULL},
    {"max_tokens_per_run", CK_LIMIT_TOKENS, NULL},
};
/* clang-format on */

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

/* The runnable kinds (or thresholds): their names, up to 64. */
static size_t runnable_names(bool thresholds, const char **names)
{
    size_t n = 0;
    for (size_t i = 0; i < (thresholds ? N_THRESHOLDS : N_KINDS) && n < 64; i++) {
        if (thresholds && !eval_thresholds[i].unavailable) names[n++] = eval_thresholds[i].name;
        if (!thresholds && !evaluator_kinds[i].unavailable) names[n++] = evaluator_kinds[i].kind;
    }
    return n;
}

/* The runnable kind nearest to a misspelt one: a close misspelling only. */
static const char *nearest_kind(const char *word)
{
    const char *names[64];
    return ck_nearest_name(word, names, runnable_names(false, names));
}

/* The runnable threshold nearest to `word`: a close misspelling, else one
 * it begins (max_cost -> max_cost_per_run), else the least edit distance:
 * there are few, so one is always named. */
static const char *nearest_threshold(const char *word)
{
    const char *names[64];
    size_t n = runnable_names(true, names), wl = strlen(word), best = (size_t)-1;
    const char *near = ck_nearest_name(word, names, n);
    if (near) return near;
    for (size_t i = 0; i < n; i++)
        if (wl >= 4 && strncmp(names[i], word, wl) == 0) return names[i];
    for (size_t i = 0; i < n; i++) {
        size_t d = tx_edit_distance(word, wl, names[i], strlen(names[i]), (size_t)-1 / 2);
        if (d < best) {
            best = d;
            near = names[i];
        }
    }
    return near;
}

static void runnable_list(bool thresholds, tx_buf *b)
{
    const char *names[64];
    size_t n = runnable_names(thresholds, names);
    for (size_t i = 0; i < n; i++)
        tx_buf_printf(b, "%s%s", b->len ? ", " : "", names[i]);
}

/* Whether one of the alternatives of `needs` ("a|b") is given. */
static bool need_met(const char *needs, bool has_needed(const char *key, void *ud), void *ud)
{
    char key[64];
    for (const char *p = needs; *p;) {
        size_t len = strcspn(p, "|");
        snprintf(key, sizeof key, "%.*s", (int)len, p);
        if (has_needed(key, ud)) return true;
        p += len + (p[len] == '|');
    }
    return false;
}

bool ck_evaluator_problem(const char *kind, bool has_needed(const char *key, void *ud), void *ud,
                          char *why, size_t cap)
{
    const ck_evaluator_kind *k = ck_evaluator_find(kind);
    if (!k) {
        const char *near = kind ? nearest_kind(kind) : NULL;
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
    if (k->needs && !need_met(k->needs, has_needed, ud)) {
        size_t first = strcspn(k->needs, "|");
        if (k->needs[first])
            snprintf(why, cap, "evaluator '%s' needs %.*s = ... (or %s = ...)", k->kind, (int)first,
                     k->needs, k->needs + first + 1);
        else
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
    const char *near = t ? NULL : nearest_threshold(name);
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

/* ---- the rule: evaluators ------------------------------------------------------------------ */

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

/* ---- the rule: thresholds ------------------------------------------------------------------ */

static bool whole(const fe_value *v)
{
    return v && v->kind == FE_NUMBER && v->number == floor(v->number);
}

static bool share(const fe_value *v)
{
    return v && v->kind == FE_NUMBER && v->number >= 0 && v->number <= 1;
}

/* min_pass_k = {k = 3, value = 0.8}: k a whole number from 1 to runs. */
static void check_pass_k_threshold(ck_run *r, const fe_value *v, double runs)
{
    const fe_value *k = fe_value_get(v, "k"), *value = fe_value_get(v, "value");
    if (v->kind != FE_TABLE || !whole(k) || k->number < 1 || !share(value)) {
        ck_report(r, "TAC810", v->span,
                  "min_pass_k is {k = K, value = V}: K a whole number of runs (at least 1) and V "
                  "the share (0 to 1) that pass^K must reach, e.g. min_pass_k = {k = 3, value = "
                  "0.8}");
        return;
    }
    if (k->number > runs)
        ck_report(r, "TAC808", k->span,
                  "min_pass_k asks for pass^%g, but each case runs %g time%s; k must be at most "
                  "runs: raise runs or lower k",
                  k->number, runs, runs == 1 ? "" : "s");
}

/* A threshold's limit against the kind of limit the catalogue gives it. */
static void check_limit(ck_run *r, const ck_eval_threshold *t, const fe_value *v, double runs)
{
    char buf[96];
    switch (t->limit) {
    case CK_LIMIT_PASS_K:
        check_pass_k_threshold(r, v, runs);
        return;
    case CK_LIMIT_SHARE:
        if (!share(v))
            ck_report(r, "TAC810", v->span,
                      "%s is a share of runs from 0 to 1 (0.9 for 90%%), not %s", t->name,
                      ck_value_repr(v, buf, sizeof buf));
        return;
    case CK_LIMIT_CASES:
        if (!whole(v) || v->number < 0)
            ck_report(r, "TAC810", v->span, "%s is a whole number of cases (0 or more), not %s",
                      t->name, ck_value_repr(v, buf, sizeof buf));
        return;
    case CK_LIMIT_DOLLARS:
    case CK_LIMIT_TOKENS:
    case CK_LIMIT_SECONDS: {
        bool seconds = t->limit == CK_LIMIT_SECONDS;
        if (v->kind == FE_NUMBER && v->number >= 0 && !(seconds && v->number == 0)) return;
        const char *unit = t->limit == CK_LIMIT_DOLLARS  ? "US dollars per run"
                           : t->limit == CK_LIMIT_TOKENS ? "tokens per run"
                                                         : "seconds per run";
        ck_report(r, "TAC810", v->span, "%s is a number of %s (%s), not %s", t->name, unit,
                  seconds ? "above 0" : "0 or more", ck_value_repr(v, buf, sizeof buf));
        return;
    }
    }
}

static void check_thresholds(ck_run *r, const fe_value *th, double runs)
{
    if (th->kind != FE_TABLE) {
        ck_report(r, "TAC810", th->span,
                  "thresholds is a table, e.g. thresholds = {min_success_rate = 0.9}, not %s",
                  fe_value_kind_name(th));
        return;
    }
    for (const fe_entry *e = th->entries; e; e = e->next) {
        if (!e->key) {
            ck_report(r, "TAC810", e->value->span,
                      "each threshold is name = value, e.g. min_success_rate = 0.9");
            continue;
        }
        char why[1024];
        if (ck_threshold_problem(e->key, why, sizeof why)) {
            ck_report(r, "TAC806", e->key_span, "%s", why);
            continue;
        }
        check_limit(r, ck_eval_threshold_find(e->key), e->value, runs);
    }
}

/* ---- the rule: runs, options, cases -------------------------------------------------------- */

/* runs: a whole number from 1 to CK_EVAL_MAX_RUNS_PER_CASE, and the cases
 * written here times runs at most CK_EVAL_MAX_RUNS_PER_EVALUATION. */
static double check_runs(ck_run *r, const fe_value *cfg, size_t inline_cases)
{
    char buf[96];
    const fe_value *runs = fe_value_get(cfg, "runs");
    if (!runs) return 1;
    if (!whole(runs) || runs->number < 1) {
        ck_report(r, "TAC807", runs->span,
                  "runs is how many times each case runs: a whole number from 1 to %d, not %s",
                  CK_EVAL_MAX_RUNS_PER_CASE, ck_value_repr(runs, buf, sizeof buf));
        return 1;
    }
    if (runs->number > CK_EVAL_MAX_RUNS_PER_CASE) {
        ck_report(r, "TAC807", runs->span,
                  "runs = %g is more than the %d allowed: each run has its own budgets, so runs "
                  "multiply what an evaluation may spend; use at most %d",
                  runs->number, CK_EVAL_MAX_RUNS_PER_CASE, CK_EVAL_MAX_RUNS_PER_CASE);
        return CK_EVAL_MAX_RUNS_PER_CASE;
    }
    if ((double)inline_cases * runs->number > CK_EVAL_MAX_RUNS_PER_EVALUATION)
        ck_report(r, "TAC807", runs->span,
                  "%zu cases x %g runs is %g runs, more than the %d an evaluation may make (each "
                  "run has its own budgets); use fewer runs or split the dataset",
                  inline_cases, runs->number, (double)inline_cases * runs->number,
                  CK_EVAL_MAX_RUNS_PER_EVALUATION);
    return runs->number;
}

static void check_options(ck_run *r, const fe_value *cfg, double runs)
{
    const fe_value *pk = fe_value_get(cfg, "pass_k");
    if (pk) {
        bool ok = pk->kind == FE_TABLE && pk->n_entries > 0 && pk->n_entries <= 16;
        for (const fe_entry *e = ok ? pk->entries : NULL; e; e = e->next)
            ok &= !e->key && whole(e->value) && e->value->number >= 1;
        if (!ok)
            ck_report(r, "TAC808", pk->span,
                      "pass_k is a list of up to 16 whole numbers of runs, e.g. pass_k = {1, 3, "
                      "5}");
        for (const fe_entry *e = ok ? pk->entries : NULL; e; e = e->next)
            if (e->value->number > runs)
                ck_report(r, "TAC808", e->value->span,
                          "pass_k asks for k = %g, but each case runs %g time%s; k must be at "
                          "most runs: raise runs or drop k = %g",
                          e->value->number, runs, runs == 1 ? "" : "s", e->value->number);
    }
    const fe_value *conf = fe_value_get(cfg, "confidence");
    if (conf && (conf->kind != FE_NUMBER || !(conf->number > 0 && conf->number < 1)))
        ck_report(r, "TAC808", conf->span,
                  "confidence is the level of every interval, a number between 0 and 1 "
                  "(exclusive), e.g. 0.95");
}

/* Each case written in the file has its inputs (an empty table when the
 * procedure takes none): a case without them would run with nothing. */
static size_t check_cases(ck_run *r, const fe_value *ds)
{
    size_t n = 0;
    for (const fe_entry *e = ds && ds->kind == FE_TABLE ? ds->entries : NULL; e; e = e->next) {
        n++;
        if (e->value->kind != FE_TABLE) continue;
        const fe_value *inputs = fe_value_get(e->value, "inputs");
        const fe_value *name = fe_value_get(e->value, "name");
        const char *cname = name && name->kind == FE_STRING ? name->str : "(unnamed)";
        if (!inputs)
            ck_report(r, "TAC809", e->value->span,
                      "evaluation case '%s' has no inputs; add inputs = {...} (inputs = {} when "
                      "the procedure takes none)",
                      cname);
        else if (inputs->kind != FE_TABLE && inputs->kind != FE_NAME && inputs->kind != FE_CALL)
            ck_report(r, "TAC809", inputs->span,
                      "evaluation case '%s' has inputs that are %s; inputs is a table, e.g. "
                      "inputs = {name = \"Ada\"}",
                      cname, fe_value_kind_name(inputs));
    }
    return n;
}

void ck_rule_evaluation_settings(ck_run *r)
{
    for (const fe_evaluation *ev = r->f->evaluations; ev; ev = ev->next) {
        const fe_value *cfg = ev->config;
        if (!cfg || cfg->kind != FE_TABLE) continue;
        const fe_value *evs = fe_value_get(cfg, "evaluators");
        for (const fe_entry *e = evs && evs->kind == FE_TABLE ? evs->entries : NULL; e; e = e->next)
            check_evaluator(r, e->value);
        size_t cases = check_cases(r, fe_value_get(cfg, "dataset"));
        double runs = check_runs(r, cfg, cases);
        check_options(r, cfg, runs);
        const fe_value *th = fe_value_get(cfg, "thresholds");
        if (th) check_thresholds(r, th, runs);
    }
}

/* The Mocks names an llm_judge answers to: its `name`, else "llm_judge". */
bool ck_is_judge_name(const fe_file *f, const char *name)
{
    for (const fe_evaluation *ev = f->evaluations; ev; ev = ev->next) {
        const fe_value *evs = fe_value_get(ev->config, "evaluators");
        for (const fe_entry *e = evs && evs->kind == FE_TABLE ? evs->entries : NULL; e;
             e = e->next) {
            const fe_value *v = e->value, *cfg = v;
            bool judge = false;
            if (v->kind == FE_CALL && v->str && !strcmp(v->str, "field.llm_judge")) {
                judge = true;
                cfg = fe_value_at(v, 0);
            } else if (v->kind == FE_TABLE) {
                const fe_value *t = fe_value_get(v, "type");
                judge = t && t->kind == FE_STRING && !strcmp(t->str, "llm_judge");
            }
            if (!judge) continue;
            const fe_value *n = fe_value_get(cfg, "name");
            const char *mock = n && n->kind == FE_STRING ? n->str : "llm_judge";
            if (!strcmp(mock, name)) return true;
        }
    }
    return false;
}
