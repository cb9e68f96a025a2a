/*
 * ck_evals.c - an Evaluation's own settings (TAC805-TAC809): its thresholds
 * (known names, values of the right type and range), runs and the bounds
 * on them, pass_k and confidence, and inline cases with inputs. What
 * `tactus eval` would otherwise find only after loading (or never: a
 * misspelt threshold would be silently ignored), `tactus check` and the
 * editor find here, at the value's position.
 *
 * Dataset files and --runs are outside the file: evals/ checks them when it
 * loads, with the same bounds (CK_EVAL_MAX_RUNS_*).
 */
#include <math.h>
#include <string.h>

#include "ck_internal.h"

/* The thresholds an Evaluation may set (docs/evaluations.md). */
static const char *const threshold_names[] = {
    "min_success_rate", "min_success_rate_lower", "min_pass_k",       "max_flaky_cases",
    "max_cost_per_run", "max_duration",           "max_p95_duration", "max_tokens_per_run",
};
#define N_THRESHOLDS (sizeof threshold_names / sizeof threshold_names[0])

/* The known threshold nearest to `word`: a close misspelling, else one it
 * begins (max_cost -> max_cost_per_run), else the least edit distance:
 * there are few, so one is always named. */
static const char *nearest_threshold(const char *word)
{
    const char *near = ck_nearest_name(word, threshold_names, N_THRESHOLDS);
    if (near) return near;
    size_t wl = strlen(word), best = (size_t)-1;
    for (size_t i = 0; i < N_THRESHOLDS; i++)
        if (wl >= 4 && strncmp(threshold_names[i], word, wl) == 0) return threshold_names[i];
    for (size_t i = 0; i < N_THRESHOLDS; i++) {
        size_t d = tx_edit_distance(word, wl, threshold_names[i], strlen(threshold_names[i]),
                                    (size_t)-1 / 2);
        if (d < best) {
            best = d;
            near = threshold_names[i];
        }
    }
    return near;
}

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
        ck_report(r, "TAC806", v->span,
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

static void check_thresholds(ck_run *r, const fe_value *th, double runs)
{
    char buf[96];
    if (th->kind != FE_TABLE) {
        ck_report(r, "TAC806", th->span,
                  "thresholds is a table, e.g. thresholds = {min_success_rate = 0.9}, not %s",
                  fe_value_kind_name(th));
        return;
    }
    for (const fe_entry *e = th->entries; e; e = e->next) {
        if (!e->key) {
            ck_report(r, "TAC806", e->value->span,
                      "each threshold is name = value, e.g. min_success_rate = 0.9");
            continue;
        }
        size_t i = 0;
        while (i < N_THRESHOLDS && strcmp(threshold_names[i], e->key) != 0)
            i++;
        if (i == N_THRESHOLDS) {
            ck_report(r, "TAC805", e->key_span,
                      "unknown threshold '%s' (did you mean '%s'?); known: min_success_rate, "
                      "min_success_rate_lower, min_pass_k, max_flaky_cases, max_cost_per_run, "
                      "max_duration, max_p95_duration, max_tokens_per_run",
                      e->key, nearest_threshold(e->key));
            continue;
        }
        const fe_value *v = e->value;
        const char *name = threshold_names[i];
        if (!strcmp(name, "min_pass_k")) {
            check_pass_k_threshold(r, v, runs);
        } else if (!strncmp(name, "min_success_rate", 16)) {
            if (!share(v))
                ck_report(r, "TAC806", v->span,
                          "%s is a share of runs from 0 to 1 (0.9 for 90%%), not %s", name,
                          ck_value_repr(v, buf, sizeof buf));
        } else if (!strcmp(name, "max_flaky_cases")) {
            if (!whole(v) || v->number < 0)
                ck_report(r, "TAC806", v->span,
                          "max_flaky_cases is a whole number of cases (0 or more), not %s",
                          ck_value_repr(v, buf, sizeof buf));
        } else if (v->kind != FE_NUMBER || v->number < 0 ||
                   (strstr(name, "duration") && v->number == 0)) {
            const char *unit = !strcmp(name, "max_cost_per_run")     ? "US dollars per run"
                               : !strcmp(name, "max_tokens_per_run") ? "tokens per run"
                                                                     : "seconds per run";
            ck_report(r, "TAC806", v->span, "%s is a number of %s (%s), not %s", name, unit,
                      strstr(name, "duration") ? "above 0" : "0 or more",
                      ck_value_repr(v, buf, sizeof buf));
        }
    }
}

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
