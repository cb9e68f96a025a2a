/*
 * ev_score.c - from runs to the results document: every figure of every
 * case and evaluation, the thresholds' verdicts, the comparison with a
 * baseline. The schema is docs/evaluations.md's ("The results document");
 * every report renders this document and nothing else.
 *
 * Counting: a run passed or failed (an interrupted run that never ran
 * counts as failed), or it is an error (infrastructure, or an evaluator
 * that could not tell), which is reported apart and not counted: rates,
 * intervals and pass^k are over the counted runs.
 */
#include <math.h>
#include <string.h>

#include "ev_internal.h"

cJSON *ev_number(double v)
{
    return isnan(v) || isinf(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

cJSON *ev_interval_json(es_interval iv, double confidence, const char *method)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "low", iv.low);
    cJSON_AddNumberToObject(j, "high", iv.high);
    cJSON_AddNumberToObject(j, "confidence", confidence);
    cJSON_AddStringToObject(j, "method", method);
    return j;
}

/* {mean, p50, p95, max} of the known values; with `unknown_note`, the
 * number of known and unknown ones and why some are unknown. */
static cJSON *summary_json(const double *v, size_t n, const char *unknown_note)
{
    es_summary s;
    if (es_summarize(v, n, &s) != TX_OK) return NULL;
    cJSON *j = cJSON_CreateObject();
    bool none = s.n == 0 && s.unknown > 0;
    cJSON_AddItemToObject(j, "mean", none ? cJSON_CreateNull() : cJSON_CreateNumber(s.mean));
    cJSON_AddItemToObject(j, "p50", none ? cJSON_CreateNull() : cJSON_CreateNumber(s.p50));
    cJSON_AddItemToObject(j, "p95", none ? cJSON_CreateNull() : cJSON_CreateNumber(s.p95));
    cJSON_AddItemToObject(j, "max", none ? cJSON_CreateNull() : cJSON_CreateNumber(s.max));
    if (unknown_note) {
        cJSON_AddNumberToObject(j, "known_runs", (double)s.n);
        cJSON_AddNumberToObject(j, "unknown_runs", (double)s.unknown);
        if (s.unknown) cJSON_AddStringToObject(j, "unknown", unknown_note);
    }
    return j;
}

/* {"1": ..., "3": ...}: one figure per k. */
static cJSON *by_k(const ev_eval *ev, const double *values)
{
    cJSON *j = cJSON_CreateObject();
    for (size_t i = 0; i < ev->n_pass_k; i++) {
        char k[16];
        snprintf(k, sizeof k, "%u", ev->pass_k[i]);
        cJSON_AddItemToObject(j, k, ev_number(values[i]));
    }
    return j;
}

/* A run's cost and tokens: NAN when not known (a model with no price, a
 * provider that reported no usage), never 0. */
static double run_cost(const ev_run *r)
{
    return br_usage_cost_known(&r->usage) ? r->usage.cost_usd : NAN;
}

static double run_tokens(const ev_run *r)
{
    return br_usage_tokens_known(&r->usage) ? r->usage.prompt_tokens + r->usage.completion_tokens
                                            : NAN;
}

/* Why some runs' cost is unknown, for the document's notes. */
static void unknown_cost_note(const br_usage *u, char *out, size_t cap)
{
    if (u->unpriced_calls > 0 || u->unknown_calls == 0)
        snprintf(out, cap, "no price for %s (add it to prices in the host's configuration)",
                 u->unpriced_calls ? u->unpriced_model : "a model");
    else
        snprintf(out, cap, "%.0f call%s reported no usage", u->unknown_calls,
                 u->unknown_calls == 1 ? "" : "s");
}

static const char outcome_letter[] = {'-', 'P', 'F', 'E'};

/* The reason of a run, cut for the document. */
static cJSON *run_note(int run, const char *reason)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "run", run + 1);
    char cut[1100];
    snprintf(cut, sizeof cut, "%.1000s%s", reason ? reason : "not run",
             reason && strlen(reason) > 1000 ? "..." : "");
    cJSON_AddStringToObject(j, "reason", cut);
    return j;
}

typedef struct {
    size_t counted, passed, errors;
} tally;

static tally tally_case(const ev_case *c, int runs)
{
    tally t = {0, 0, 0};
    for (int r = 0; r < runs; r++) {
        ev_outcome o = c->runs[r].outcome;
        t.errors += o == EV_RUN_ERROR;
        t.counted += o != EV_RUN_ERROR;
        t.passed += o == EV_RUN_PASSED;
    }
    return t;
}

/* One case's figures; adds its samples to the evaluation's arrays. */
static cJSON *case_json(const ev_eval *ev, const ev_case *c, double *pass_at, double *pass_hat,
                        double *durations, double *tokens, double *costs, size_t *n_samples,
                        br_usage *judge_total, uint64_t *sigs)
{
    tally t = tally_case(c, ev->runs);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", c->name);
    cJSON_AddStringToObject(j, "inputs_sha256", c->inputs_sha256);
    cJSON_AddNumberToObject(j, "runs", ev->runs);
    cJSON_AddNumberToObject(j, "counted_runs", (double)t.counted);
    cJSON_AddNumberToObject(j, "passed", (double)t.passed);
    cJSON_AddNumberToObject(j, "failed", (double)(t.counted - t.passed));
    cJSON_AddNumberToObject(j, "errors", (double)t.errors);
    double rate = t.counted ? (double)t.passed / (double)t.counted : NAN;
    cJSON_AddItemToObject(j, "success_rate", ev_number(rate));
    cJSON_AddItemToObject(
        j, "interval",
        ev_interval_json(es_wilson((double)t.passed, (double)t.counted, ev->confidence),
                         ev->confidence, "wilson"));
    for (size_t i = 0; i < ev->n_pass_k; i++) {
        unsigned k = ev->pass_k[i];
        pass_at[i] = es_pass_at_k((unsigned)t.counted, (unsigned)t.passed, k);
        pass_hat[i] = es_pass_hat_k((unsigned)t.counted, (unsigned)t.passed, k);
    }
    cJSON_AddItemToObject(j, "pass_at_k", by_k(ev, pass_at));
    cJSON_AddItemToObject(j, "pass_hat_k", by_k(ev, pass_hat));
    cJSON_AddBoolToObject(j, "flaky", es_flaky((unsigned)t.passed, (unsigned)t.counted));
    size_t first = *n_samples, ran = 0;
    br_usage judge = {0}, used = {0};
    char outcomes[EV_MAX_RUNS_PER_CASE + 1];
    cJSON *failures = cJSON_CreateArray(), *errors = cJSON_CreateArray();
    /* Each run's duration and cost, in run order (null: not run, or a cost
     * that is unknown): the distributions of the HTML report. */
    cJSON *secs = cJSON_CreateArray(), *run_costs = cJSON_CreateArray();
    for (int r = 0; r < ev->runs; r++) {
        const ev_run *run = &c->runs[r];
        outcomes[r] = outcome_letter[run->outcome];
        if (run->outcome == EV_RUN_FAILED || run->outcome == EV_RUN_NOT_RUN)
            cJSON_AddItemToArray(failures, run_note(r, run->reason));
        else if (run->outcome == EV_RUN_ERROR)
            cJSON_AddItemToArray(errors, run_note(r, run->reason));
        cJSON_AddItemToArray(secs, run->outcome == EV_RUN_NOT_RUN
                                       ? cJSON_CreateNull()
                                       : cJSON_CreateNumber(round(run->ms * 1000) / 1e6));
        cJSON_AddItemToArray(run_costs, run->outcome == EV_RUN_NOT_RUN ? cJSON_CreateNull()
                                                                       : ev_number(run_cost(run)));
        if (run->outcome == EV_RUN_NOT_RUN) continue;
        sigs[ran++] = run->signature;
        durations[*n_samples] = run->ms / 1000.0;
        tokens[*n_samples] = run_tokens(run);
        costs[*n_samples] = run_cost(run);
        (*n_samples)++;
        br_usage_sum(&judge, &run->judge);
        br_usage_sum(&used, &run->usage);
    }
    outcomes[ev->runs] = '\0';
    cJSON_AddNumberToObject(j, "consistency", es_consistency(sigs, ran));
    size_t n = *n_samples - first;
    char note[300];
    unknown_cost_note(&used, note, sizeof note);
    cJSON_AddItemToObject(j, "duration", summary_json(durations + first, n, NULL));
    cJSON_AddItemToObject(j, "tokens", summary_json(tokens + first, n, "reported no usage"));
    cJSON_AddItemToObject(j, "cost_usd", summary_json(costs + first, n, note));
    cJSON *jj = br_usage_json(&judge);
    cJSON_AddItemToObject(j, "judge", jj);
    br_usage_sum(judge_total, &judge);
    cJSON_AddStringToObject(j, "outcomes", outcomes);
    cJSON_AddItemToObject(j, "run_seconds", secs);
    cJSON_AddItemToObject(j, "run_cost_usd", run_costs);
    cJSON_AddItemToObject(j, "failures", failures);
    cJSON_AddItemToObject(j, "error_runs", errors);
    return j;
}

/* ---- thresholds ----------------------------------------------------------------------- */

typedef struct {
    const ev_eval *ev;
    tally all;
    es_interval wilson, bootstrap;
    double mean_cost, mean_tokens, mean_duration, p95_duration;
    size_t unknown_cost_runs, unknown_token_runs, flaky_cases, samples;
    char unknown_cost[300]; /* why some runs' cost is unknown */
    const cJSON *cases; /* the document's */
} scored;

static double limit_of(const cJSON *t)
{
    if (cJSON_IsNumber(t)) return t->valuedouble;
    return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(t, "value"))
               ? cJSON_GetObjectItemCaseSensitive(t, "value")->valuedouble
               : NAN;
}

/* pass^k averaged over the cases with at least k counted runs (tau-bench's
 * pass^k of a task set); NAN when none has. */
static double mean_pass_hat(const scored *sc, unsigned k, size_t *used)
{
    double sum = 0;
    *used = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, sc->cases)
    {
        unsigned n = (unsigned)cJSON_GetObjectItemCaseSensitive(c, "counted_runs")->valuedouble;
        unsigned p = (unsigned)cJSON_GetObjectItemCaseSensitive(c, "passed")->valuedouble;
        if (n < k || k == 0) continue;
        sum += es_pass_hat_k(n, p, k);
        (*used)++;
    }
    return *used ? sum / (double)*used : NAN;
}

/* The note of a per-run threshold some runs' figure of which is unknown
 * (`what`: "cost", "tokens"; `why`: the reason), or NULL when none is. */
static const char *unknown_runs_note(char *buf, size_t cap, const char *what, size_t n,
                                     const char *why)
{
    if (!n) return NULL;
    snprintf(buf, cap,
             "the %s of %zu run%s %s unknown (%s): the threshold cannot be met until %s known",
             what, n, n == 1 ? "" : "s", strcmp(what, "cost") ? "are" : "is", why,
             strcmp(what, "cost") ? "they are" : "it is");
    return buf;
}

/* One threshold's verdict: {name, limit, value, met, ...}. */
static cJSON *threshold_json(const scored *sc, const cJSON *t, bool *met)
{
    const char *name = t->string ? t->string : "";
    double limit = limit_of(t), value = NAN;
    const char *note = NULL, *interval = NULL;
    char buf[400];
    bool counted = sc->all.counted > 0;
    *met = false;
    if (!strcmp(name, "min_success_rate")) {
        value = counted ? (double)sc->all.passed / (double)sc->all.counted : NAN;
        *met = counted && value + 1e-12 >= limit;
    } else if (!strcmp(name, "min_success_rate_lower")) {
        /* Runs of a case are not independent: the pooled Wilson interval can
         * be too narrow, and the case bootstrap too wide with few cases.
         * The lower of the two lower bounds decides, and is named. */
        bool boot = sc->bootstrap.low < sc->wilson.low;
        value = boot ? sc->bootstrap.low : sc->wilson.low;
        interval = boot ? "case_bootstrap" : "wilson";
        *met = counted && value + 1e-12 >= limit;
    } else if (!strcmp(name, "min_pass_k")) {
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(t, "k");
        unsigned k = cJSON_IsNumber(kv) ? (unsigned)kv->valuedouble : 0;
        size_t used;
        value = mean_pass_hat(sc, k, &used);
        *met = used > 0 && value + 1e-12 >= limit;
        snprintf(buf, sizeof buf, "pass^%u averaged over %zu case%s with at least %u counted runs",
                 k, used, used == 1 ? "" : "s", k);
        note = buf;
    } else if (!strcmp(name, "max_flaky_cases")) {
        value = (double)sc->flaky_cases;
        *met = value <= limit;
    } else if (!strcmp(name, "max_cost_per_run")) {
        value = sc->mean_cost;
        *met = sc->unknown_cost_runs == 0 && sc->samples > 0 && value <= limit + 1e-15;
        note = unknown_runs_note(buf, sizeof buf, "cost", sc->unknown_cost_runs, sc->unknown_cost);
    } else if (!strcmp(name, "max_duration")) {
        value = sc->mean_duration;
        *met = sc->samples > 0 && value <= limit;
    } else if (!strcmp(name, "max_p95_duration")) {
        value = sc->p95_duration;
        *met = sc->samples > 0 && value <= limit;
    } else if (!strcmp(name, "max_tokens_per_run")) {
        value = sc->mean_tokens;
        *met = sc->unknown_token_runs == 0 && sc->samples > 0 && value <= limit;
        note = unknown_runs_note(buf, sizeof buf, "tokens", sc->unknown_token_runs,
                                 "a provider reported no usage");
    } else {
        note = "unknown threshold"; /* the checker refuses these (TAC806) */
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", name);
    if (!strcmp(name, "min_pass_k")) {
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(t, "k");
        cJSON_AddItemToObject(j, "k", ev_number(cJSON_IsNumber(kv) ? kv->valuedouble : NAN));
    }
    cJSON_AddItemToObject(j, "limit", ev_number(limit));
    cJSON_AddItemToObject(j, "value", ev_number(value));
    cJSON_AddBoolToObject(j, "met", *met);
    if (interval) cJSON_AddStringToObject(j, "interval", interval);
    if (note) cJSON_AddStringToObject(j, "note", note);
    return j;
}

/* ---- one evaluation ------------------------------------------------------------------- */

static cJSON *evaluators_json(const ev_eval *ev)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t k = 0; k < ev->n_evaluators; k++) {
        const cJSON *cfg = cJSON_GetArrayItem(ev->evaluators, (int)k);
        char label[200];
        ev_evaluator_label(cfg, label, sizeof label);
        double n[3] = {0, 0, 0}, agree = 0, agreed = 0;
        for (size_t i = 0; i < ev->n_cases; i++)
            for (int r = 0; r < ev->runs; r++) {
                const ev_run *run = &ev->cases[i].runs[r];
                if (run->outcome == EV_RUN_NOT_RUN) continue;
                n[run->verdicts[k]]++;
                if (!isnan(run->agreement[k])) {
                    agree += run->agreement[k];
                    agreed++;
                }
            }
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", label);
        cJSON_AddStringToObject(x, "type", hl_json_str(cfg, "type"));
        cJSON_AddNumberToObject(x, "passed", n[EV_PASS]);
        cJSON_AddNumberToObject(x, "failed", n[EV_FAIL]);
        cJSON_AddNumberToObject(x, "errors", n[EV_ERROR]);
        cJSON_AddNumberToObject(x, "total", n[0] + n[1] + n[2]);
        if (agreed) cJSON_AddNumberToObject(x, "agreement", agree / agreed);
        cJSON_AddItemToArray(list, x);
    }
    return list;
}

static cJSON *evaluation_json(const ev_eval *ev, const ev_options *o)
{
    size_t total = ev->n_cases * (size_t)ev->runs;
    double *durations = tx_malloc((total + 1) * sizeof(double));
    double *tokens = tx_malloc((total + 1) * sizeof(double));
    double *costs = tx_malloc((total + 1) * sizeof(double));
    uint64_t *sigs = tx_malloc(((size_t)ev->runs + 1) * sizeof(uint64_t));
    es_count *counts = tx_malloc((ev->n_cases + 1) * sizeof(es_count));
    double *pass_at = tx_calloc(ev->n_pass_k + 1, sizeof(double));
    double *pass_hat = tx_calloc(ev->n_pass_k + 1, sizeof(double));
    double *sum_at = tx_calloc(ev->n_pass_k + 1, sizeof(double));
    double *sum_hat = tx_calloc(ev->n_pass_k + 1, sizeof(double));
    size_t *n_k = tx_calloc(ev->n_pass_k + 1, sizeof(size_t));
    cJSON *j = cJSON_CreateObject();
    if (!durations || !tokens || !costs || !sigs || !counts || !pass_at || !pass_hat || !sum_at ||
        !sum_hat || !n_k || !j) {
        cJSON_Delete(j);
        j = NULL;
        goto done;
    }
    cJSON_AddStringToObject(j, "file", ev->f->path);
    cJSON_AddNumberToObject(j, "line", ev->at.line);
    cJSON_AddNumberToObject(j, "index", ev->index);
    cJSON_AddNumberToObject(j, "runs_per_case", ev->runs);
    cJSON_AddNumberToObject(j, "confidence", ev->confidence);
    cJSON *ks = cJSON_AddArrayToObject(j, "pass_k");
    for (size_t i = 0; i < ev->n_pass_k; i++)
        cJSON_AddItemToArray(ks, cJSON_CreateNumber(ev->pass_k[i]));
    cJSON *cases = cJSON_AddArrayToObject(j, "cases");
    scored sc = {.ev = ev, .cases = cases};
    size_t samples = 0;
    br_usage judge = {0}, usage = {0};
    double consistency = 0;
    for (size_t i = 0; i < ev->n_cases; i++) {
        const ev_case *c = &ev->cases[i];
        cJSON *cj =
            case_json(ev, c, pass_at, pass_hat, durations, tokens, costs, &samples, &judge, sigs);
        cJSON_AddItemToArray(cases, cj);
        tally t = tally_case(c, ev->runs);
        sc.all.counted += t.counted;
        sc.all.passed += t.passed;
        sc.all.errors += t.errors;
        counts[i] = (es_count){(double)t.passed, (double)t.counted};
        sc.flaky_cases += es_flaky((unsigned)t.passed, (unsigned)t.counted);
        consistency += cJSON_GetObjectItemCaseSensitive(cj, "consistency")->valuedouble;
        for (size_t k = 0; k < ev->n_pass_k; k++)
            if (!isnan(pass_hat[k])) {
                sum_at[k] += pass_at[k];
                sum_hat[k] += pass_hat[k];
                n_k[k]++;
            }
        for (int r = 0; r < ev->runs; r++)
            if (c->runs[r].outcome != EV_RUN_NOT_RUN) br_usage_sum(&usage, &c->runs[r].usage);
    }
    cJSON_AddItemToObject(j, "evaluators", evaluators_json(ev));
    double rate = sc.all.counted ? (double)sc.all.passed / (double)sc.all.counted : NAN;
    cJSON_AddNumberToObject(j, "runs", (double)total);
    cJSON_AddNumberToObject(j, "counted_runs", (double)sc.all.counted);
    cJSON_AddNumberToObject(j, "passed_runs", (double)sc.all.passed);
    cJSON_AddNumberToObject(j, "errors", (double)sc.all.errors);
    cJSON_AddItemToObject(j, "success_rate", ev_number(rate));
    sc.wilson = es_wilson((double)sc.all.passed, (double)sc.all.counted, ev->confidence);
    cJSON_AddItemToObject(j, "interval", ev_interval_json(sc.wilson, ev->confidence, "wilson"));
    if (es_bootstrap_clustered(counts, ev->n_cases, ev->confidence, ES_BOOTSTRAP_RESAMPLES,
                               ES_BOOTSTRAP_SEED, &sc.bootstrap) != TX_OK) {
        cJSON_Delete(j);
        j = NULL;
        goto done;
    }
    cJSON *bi = ev_interval_json(sc.bootstrap, ev->confidence, "case_bootstrap");
    cJSON_AddNumberToObject(bi, "resamples", ES_BOOTSTRAP_RESAMPLES);
    cJSON_AddItemToObject(j, "bootstrap_interval", bi);
    for (size_t k = 0; k < ev->n_pass_k; k++) {
        pass_at[k] = n_k[k] ? sum_at[k] / (double)n_k[k] : NAN;
        pass_hat[k] = n_k[k] ? sum_hat[k] / (double)n_k[k] : NAN;
    }
    cJSON_AddItemToObject(j, "pass_at_k", by_k(ev, pass_at));
    cJSON_AddItemToObject(j, "pass_hat_k", by_k(ev, pass_hat));
    cJSON_AddNumberToObject(j, "flaky_cases", (double)sc.flaky_cases);
    cJSON_AddNumberToObject(j, "consistency", ev->n_cases ? consistency / (double)ev->n_cases : 1);
    char note[300];
    unknown_cost_note(&usage, note, sizeof note);
    cJSON_AddItemToObject(j, "duration", summary_json(durations, samples, NULL));
    cJSON_AddItemToObject(j, "tokens", summary_json(tokens, samples, "reported no usage"));
    cJSON *cost = summary_json(costs, samples, note);
    cJSON_AddItemToObject(j, "cost_usd", cost);
    cJSON_AddItemToObject(j, "usage", br_usage_json(&usage));
    cJSON_AddItemToObject(j, "judge", br_usage_json(&judge));

    es_summary s;
    es_summarize(durations, samples, &s);
    sc.mean_duration = s.mean;
    sc.p95_duration = s.p95;
    es_summarize(tokens, samples, &s);
    sc.mean_tokens = s.mean;
    sc.unknown_token_runs = s.unknown;
    es_summarize(costs, samples, &s);
    sc.mean_cost = s.mean;
    sc.unknown_cost_runs = s.unknown;
    sc.samples = samples;
    snprintf(sc.unknown_cost, sizeof sc.unknown_cost, "%s", note);

    cJSON *th = cJSON_AddArrayToObject(j, "thresholds");
    bool all_met = true;
    const cJSON *t;
    cJSON_ArrayForEach(t, ev->thresholds)
    {
        bool met;
        cJSON_AddItemToArray(th, threshold_json(&sc, t, &met));
        all_met &= met;
    }
    /* Without thresholds every run must pass; with none counted, nothing is
     * known and nothing passes. */
    bool passed =
        sc.all.counted > 0 &&
        (ev->thresholds ? all_met : sc.all.passed == sc.all.counted && sc.all.errors == 0);
    cJSON_AddBoolToObject(j, "passed", passed);
    (void)o;
done:
    tx_free(durations);
    tx_free(tokens);
    tx_free(costs);
    tx_free(sigs);
    tx_free(counts);
    tx_free(pass_at);
    tx_free(pass_hat);
    tx_free(sum_at);
    tx_free(sum_hat);
    tx_free(n_k);
    return j;
}

/* The baseline's evaluation for `now`: the same file and index, else the
 * same index when the file was moved, else the only one. */
static const cJSON *baseline_for(const cJSON *baseline, const cJSON *now)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(baseline, "evaluations");
    const char *file = hl_json_str(now, "file");
    double index = cJSON_GetObjectItemCaseSensitive(now, "index")->valuedouble;
    const cJSON *e, *same_index = NULL;
    int n = 0;
    cJSON_ArrayForEach(e, list)
    {
        n++;
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(e, "index");
        bool ix_same = cJSON_IsNumber(ix) && ix->valuedouble == index;
        const char *f = hl_json_str(e, "file");
        if (ix_same && f && file && strcmp(f, file) == 0) return e;
        if (ix_same && !same_index) same_index = e;
    }
    if (n == 1) return cJSON_GetArrayItem(list, 0);
    return same_index;
}

cJSON *ev_score_suite(const ev_suite *s, const ev_options *o, const cJSON *baseline)
{
    cJSON *doc = cJSON_CreateObject();
    if (!doc) return NULL;
    cJSON_AddNumberToObject(doc, "schema_version", EV_SCHEMA_VERSION);
    cJSON_AddStringToObject(doc, "tool", "tactus eval");
    cJSON_AddStringToObject(doc, "tactus_version", TACTUS_VERSION);
    cJSON_AddStringToObject(doc, "mode", o->mock ? "mock" : "real");
    cJSON_AddNumberToObject(doc, "alpha", o->alpha);
    cJSON *list = cJSON_AddArrayToObject(doc, "evaluations");
    bool passed = true, regressed = false;
    for (size_t e = 0; e < s->n; e++) {
        cJSON *j = evaluation_json(&s->evals[e], o);
        if (!j) {
            cJSON_Delete(doc);
            return NULL;
        }
        cJSON_AddItemToArray(list, j);
        passed &= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "passed"));
        const cJSON *before = baseline ? baseline_for(baseline, j) : NULL;
        if (baseline) {
            if (ev_compare_evaluation(j, before, o->alpha) != TX_OK) {
                cJSON_Delete(doc);
                return NULL;
            }
            regressed |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(j, "comparison"), "regressed"));
        }
    }
    if (baseline) {
        cJSON_AddBoolToObject(doc, "regressed", regressed);
        cJSON_AddBoolToObject(doc, "fail_on_regression", o->fail_on_regression);
    }
    cJSON_AddBoolToObject(doc, "passed", passed && !(o->fail_on_regression && regressed));
    return doc;
}

bool ev_results_passed(const cJSON *doc)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "passed"));
}
