/*
 * ev_report.c - the results document rendered as text for people (pretty)
 * and as JUnit XML for CI systems; JSON is the document itself.
 *
 * Every name, path and reason in the document may come from the procedure
 * or its dataset: on a terminal it goes through tx_term_text, in XML
 * through tx_fputs_xml. Durations differ run to run, so the pretty text
 * shows them only with --timings (the rest is the same every time for the
 * same results: mocked evaluations have golden outputs).
 */
#include <math.h>
#include <string.h>

#include "ev_internal.h"

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const cJSON *obj(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* "71.4%", or "-" for an unknown figure. */
static const char *pct(double v, char *buf, size_t cap)
{
    if (isnan(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.1f%%", 100.0 * v);
    return buf;
}

static const char *rate_color(double rate, bool color)
{
    if (!color || isnan(rate)) return "";
    return rate >= 0.8 ? "\033[32m" : rate >= 0.5 ? "\033[33m" : "\033[31m";
}

static void put_term(FILE *out, const char *s)
{
    tx_fputs_term(s ? s : "", out);
}

/* "pass@1 70.0%  pass^3 29.2%" for the k of an evaluation. */
static void put_pass_k(FILE *out, const cJSON *at, const cJSON *hat, bool both)
{
    const cJSON *k;
    char b[32];
    cJSON_ArrayForEach(k, hat)
    {
        if (both) fprintf(out, "  pass@%s %s", k->string, pct(num(at, k->string), b, sizeof b));
        fprintf(out, "  pass^%s %s", k->string, pct(num(hat, k->string), b, sizeof b));
    }
}

static void put_summary(FILE *out, const char *what, const cJSON *s, const char *unit, int digits)
{
    fprintf(out, "  %s: mean %s%.*f, p50 %s%.*f, p95 %s%.*f, max %s%.*f\n", what, unit, digits,
            num(s, "mean"), unit, digits, num(s, "p50"), unit, digits, num(s, "p95"), unit, digits,
            num(s, "max"));
}

static void put_threshold(FILE *out, const cJSON *t, bool timings, const char *on, const char *off)
{
    const char *name = hl_json_str(t, "name");
    double limit = num(t, "limit"), value = num(t, "value");
    bool met = cJSON_IsTrue(obj(t, "met"));
    const char *mark = met ? "\u2713" : "\u2717";
    char a[32], b[32];
    fprintf(out, "  %s%s%s %s", on, mark, off, name);
    if (!strcmp(name, "min_success_rate"))
        fprintf(out, ": %s (threshold %s)", pct(value, a, sizeof a), pct(limit, b, sizeof b));
    else if (!strcmp(name, "min_success_rate_lower"))
        fprintf(out, ": %s (threshold %s; the lower bound of the %s interval)",
                pct(value, a, sizeof a), pct(limit, b, sizeof b),
                !strcmp(hl_json_str(t, "interval") ? hl_json_str(t, "interval") : "", "wilson")
                    ? "Wilson"
                    : "case bootstrap");
    else if (!strcmp(name, "min_pass_k"))
        fprintf(out, ": pass^%.0f %s (threshold %s)", num(t, "k"), pct(value, a, sizeof a),
                pct(limit, b, sizeof b));
    else if (!strcmp(name, "max_cost_per_run"))
        isnan(value) ? fprintf(out, ": unknown (threshold $%.6f)", limit)
                     : fprintf(out, ": $%.6f (threshold $%.6f)", value, limit);
    else if ((!strcmp(name, "max_duration") || !strcmp(name, "max_p95_duration")) && met &&
             !timings)
        fprintf(out, ": within %.3g s", limit);
    else if (!strcmp(name, "max_duration") || !strcmp(name, "max_p95_duration"))
        fprintf(out, ": %.3g s (threshold %.3g s)", value, limit);
    else
        fprintf(out, ": %.4g (threshold %.4g)", value, limit);
    fputc('\n', out);
    const char *note = hl_json_str(t, "note");
    if (note && !met) {
        fputs("      ", out);
        put_term(out, note);
        fputc('\n', out);
    }
}

static void put_list(FILE *out, const char *label, const cJSON *list)
{
    if (!cJSON_GetArraySize(list)) return;
    fprintf(out, "      %s: ", label);
    const cJSON *x;
    bool first = true;
    cJSON_ArrayForEach(x, list)
    {
        if (!first) fputs(", ", out);
        first = false;
        if (cJSON_IsString(x)) {
            put_term(out, x->valuestring);
        } else {
            put_term(out, hl_json_str(x, "from"));
            fputs(" -> ", out);
            put_term(out, hl_json_str(x, "to"));
        }
    }
    fputc('\n', out);
}

static void put_comparison(FILE *out, const cJSON *cmp, const char *red, const char *off)
{
    if (!cmp) return;
    const cJSON *from = obj(cmp, "baseline");
    if (!cJSON_IsObject(from)) {
        fputs("  Baseline: ", out);
        put_term(out, hl_json_str(cmp, "note"));
        fputc('\n', out);
        return;
    }
    const cJSON *w = obj(cmp, "whole"), *iv = obj(w, "interval");
    char a[32], b[32];
    fprintf(out,
            "  Baseline: success rate %s -> %s (%+.1f points, %.0f%% interval %+.1f to %+.1f, "
            "paired case bootstrap over %.0f cases)%s%s%s\n",
            pct(num(w, "baseline_success_rate"), a, sizeof a),
            pct(num(w, "success_rate"), b, sizeof b), 100 * num(w, "difference"),
            100 * num(iv, "confidence"), 100 * num(iv, "low"), 100 * num(iv, "high"),
            num(w, "compared_cases"), cJSON_IsTrue(obj(cmp, "regressed")) ? red : "",
            cJSON_IsTrue(obj(cmp, "regressed")) ? "; REGRESSED" : "", off);
    put_list(out, "regressed", obj(cmp, "regressed_cases"));
    put_list(out, "improved", obj(cmp, "improved_cases"));
    put_list(out, "renamed", obj(cmp, "renamed_cases"));
    put_list(out, "added (not in the baseline)", obj(cmp, "added_cases"));
    put_list(out, "removed (only in the baseline)", obj(cmp, "removed_cases"));
}

void ev_write_pretty(const cJSON *doc, FILE *out, bool color, bool timings)
{
    const char *off = color ? "\033[0m" : "", *dim = color ? "\033[2m" : "",
               *red = color ? "\033[31m" : "", *green = color ? "\033[32m" : "";
    bool mock = !strcmp(hl_json_str(doc, "mode") ? hl_json_str(doc, "mode") : "", "mock");
    const cJSON *ev;
    int e = 0;
    cJSON_ArrayForEach(ev, obj(doc, "evaluations"))
    {
        const cJSON *cases = obj(ev, "cases");
        int n_cases = cJSON_GetArraySize(cases);
        double runs = num(ev, "runs_per_case"), conf = num(ev, "confidence");
        fprintf(out, "%sEvaluation ", e++ ? "\n" : "");
        put_term(out, hl_json_str(ev, "file")); /* the procedure's file name: made inert */
        fprintf(out, ":%.0f  (%d case%s x %.0f run%s, %s mode, %.0f%% intervals)\n",
                num(ev, "line"), n_cases, n_cases == 1 ? "" : "s", runs, runs == 1 ? "" : "s",
                mock ? "mocked" : "real", 100 * conf);
        const cJSON *c;
        cJSON_ArrayForEach(c, cases)
        {
            double passed = num(c, "passed"), counted = num(c, "counted_runs");
            double errors = num(c, "errors"), rate = num(c, "success_rate");
            const cJSON *iv = obj(c, "interval");
            const char *mark = counted > 0 && passed == counted && errors == 0 ? "\u2713"
                               : passed < counted                              ? "\u2717"
                                                                               : "!";
            char r[32], lo[32], hi[32];
            fprintf(out, "  %s%s%s ", rate_color(rate, color), mark, off);
            char *tn = tx_term_text(hl_json_str(c, "name"));
            fprintf(out, "%-32s %s%3.0f/%-3.0f %6s%s  [%s-%s]", tn ? tn : "?",
                    rate_color(rate, color), passed, counted, pct(rate, r, sizeof r), off,
                    pct(num(iv, "low"), lo, sizeof lo), pct(num(iv, "high"), hi, sizeof hi));
            tx_free(tn);
            put_pass_k(out, NULL, obj(c, "pass_hat_k"), false);
            if (cJSON_IsTrue(obj(c, "flaky"))) fputs("  flaky", out);
            if (errors > 0) fprintf(out, "  %.0f error%s", errors, errors == 1 ? "" : "s");
            fputc('\n', out);
            /* The first failure's reason, else the first error's. */
            const cJSON *first = cJSON_GetArrayItem(obj(c, "failures"), 0);
            if (!first) first = cJSON_GetArrayItem(obj(c, "error_runs"), 0);
            if (first) {
                fprintf(out, "      %s", dim);
                put_term(out, hl_json_str(first, "reason"));
                fprintf(out, "%s\n", off);
            }
        }
        fputs("  Evaluators:", out);
        const cJSON *x;
        bool comma = false;
        cJSON_ArrayForEach(x, obj(ev, "evaluators"))
        {
            fprintf(out, "%s ", comma ? "," : "");
            comma = true;
            put_term(out, hl_json_str(x, "name"));
            fprintf(out, " %.0f/%.0f", num(x, "passed"), num(x, "total"));
            if (num(x, "errors") > 0)
                fprintf(out, " (%.0f error%s)", num(x, "errors"), num(x, "errors") == 1 ? "" : "s");
            if (!isnan(num(x, "agreement")))
                fprintf(out, " (agreement %.1f%%)", 100 * num(x, "agreement"));
        }
        double rate = num(ev, "success_rate");
        const cJSON *wi = obj(ev, "interval"), *bi = obj(ev, "bootstrap_interval");
        char r[32], a[32], b[32], c2[32], d[32];
        fprintf(out,
                "\n  Success rate: %s%s%s (%.0f/%.0f runs); %.0f%% interval %s-%s (Wilson), "
                "%s-%s (case bootstrap)\n",
                rate_color(rate, color), pct(rate, r, sizeof r), off, num(ev, "passed_runs"),
                num(ev, "counted_runs"), 100 * conf, pct(num(wi, "low"), a, sizeof a),
                pct(num(wi, "high"), b, sizeof b), pct(num(bi, "low"), c2, sizeof c2),
                pct(num(bi, "high"), d, sizeof d));
        fputs(" ", out);
        put_pass_k(out, obj(ev, "pass_at_k"), obj(ev, "pass_hat_k"), true);
        fprintf(out, "\n  Flaky cases: %.0f of %d; consistency %s\n", num(ev, "flaky_cases"),
                n_cases, pct(num(ev, "consistency"), a, sizeof a));
        if (num(ev, "errors") > 0)
            fprintf(out,
                    "  %sErrors: %.0f run%s not counted%s (infrastructure or evaluator "
                    "errors; see each case)\n",
                    red, num(ev, "errors"), num(ev, "errors") == 1 ? "" : "s", off);
        put_summary(out, "Tokens per run", obj(ev, "tokens"), "", 0);
        const cJSON *cost = obj(ev, "cost_usd");
        if (num(cost, "unknown_runs") > 0) {
            fprintf(out, "  Cost per run: unknown for %.0f run%s: ", num(cost, "unknown_runs"),
                    num(cost, "unknown_runs") == 1 ? "" : "s");
            put_term(out, hl_json_str(cost, "unknown"));
            fputc('\n', out);
        } else {
            put_summary(out, "Cost per run", cost, "$", 6);
        }
        const cJSON *judge = obj(ev, "judge");
        if (num(judge, "model_calls") > 0) {
            fprintf(out, "  Judge (apart): %.0f model call%s, %.0f tokens, ", num(judge, "model_calls"),
                    num(judge, "model_calls") == 1 ? "" : "s", num(judge, "tokens"));
            if (isnan(num(judge, "cost_usd")))
                put_term(out, hl_json_str(judge, "cost_unknown"));
            else
                fprintf(out, "$%.6f", num(judge, "cost_usd"));
            fputc('\n', out);
        }
        if (timings) put_summary(out, "Duration per run", obj(ev, "duration"), "", 3);
        const cJSON *t;
        bool any = false;
        cJSON_ArrayForEach(t, obj(ev, "thresholds"))
        {
            bool met = cJSON_IsTrue(obj(t, "met"));
            put_threshold(out, t, timings, color ? (met ? green : red) : "", off);
            any = true;
        }
        bool passed = cJSON_IsTrue(obj(ev, "passed"));
        if (!any)
            fprintf(out, "  %s no thresholds: every run must pass\n", passed ? "\u2713" : "\u2717");
        put_comparison(out, obj(ev, "comparison"), red, off);
    }
    bool ok = ev_results_passed(doc);
    if (cJSON_IsTrue(obj(doc, "regressed")) && cJSON_IsTrue(obj(doc, "fail_on_regression")))
        fprintf(out, "\n%sA significant regression from the baseline (--fail-on-regression)%s\n",
                red, off);
    bool thresholds_ok = true;
    cJSON_ArrayForEach(ev, obj(doc, "evaluations")) thresholds_ok &=
        cJSON_IsTrue(obj(ev, "passed"));
    fprintf(out, "\n%s%s%s\n", ok ? green : red,
            thresholds_ok ? "All thresholds met" : "Evaluation failed threshold checks", off);
}

/* ---- JUnit XML ------------------------------------------------------------------------ */

/* One evaluation is a testsuite; each case a testcase, and each threshold
 * one more, named "threshold NAME". With thresholds, the thresholds carry
 * the verdict and the cases their figures (a flaky case within the
 * thresholds is no failure); without, a case fails when a run failed. */
void ev_write_junit(const cJSON *doc, FILE *out, bool timings)
{
    const cJSON *ev;
    double tests = 0, failures = 0, errors = 0;
    cJSON_ArrayForEach(ev, obj(doc, "evaluations"))
    {
        bool has_th = cJSON_GetArraySize(obj(ev, "thresholds")) > 0;
        tests += cJSON_GetArraySize(obj(ev, "cases")) + cJSON_GetArraySize(obj(ev, "thresholds"));
        const cJSON *x;
        cJSON_ArrayForEach(x, obj(ev, "cases"))
        {
            failures += !has_th && num(x, "failed") > 0;
            errors += !has_th && num(x, "failed") == 0 && num(x, "errors") > 0;
        }
        cJSON_ArrayForEach(x, obj(ev, "thresholds")) failures += !cJSON_IsTrue(obj(x, "met"));
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out,
            "<testsuites name=\"tactus eval\" tests=\"%.0f\" failures=\"%.0f\" errors=\"%.0f\">\n",
            tests, failures, errors);
    cJSON_ArrayForEach(ev, obj(doc, "evaluations"))
    {
        const char *file = hl_json_str(ev, "file");
        char suite[64];
        snprintf(suite, sizeof suite, ":%.0f", num(ev, "line"));
        bool has_th = cJSON_GetArraySize(obj(ev, "thresholds")) > 0;
        double dur;
        fputs("  <testsuite name=\"", out);
        tx_fputs_xml(file, out);
        tx_fputs_xml(suite, out);
        fprintf(out, "\" tests=\"%d\" file=\"",
                cJSON_GetArraySize(obj(ev, "cases")) + cJSON_GetArraySize(obj(ev, "thresholds")));
        tx_fputs_xml(file, out);
        fputs("\">\n", out);
        const cJSON *c;
        cJSON_ArrayForEach(c, obj(ev, "cases"))
        {
            const cJSON *iv = obj(c, "interval");
            /* Durations differ run to run: only with --timings, as tactus test. */
            dur = timings ? num(obj(c, "duration"), "mean") * num(c, "counted_runs") : 0;
            fputs("    <testcase classname=\"", out);
            tx_fputs_xml(file, out);
            fputs("\" name=\"", out);
            tx_fputs_xml(hl_json_str(c, "name"), out);
            fprintf(out, "\" time=\"%.3f\">\n", isnan(dur) ? 0.0 : dur);
            char figures[300];
            snprintf(figures, sizeof figures,
                     "passed %.0f of %.0f counted runs (%.1f%%, %.0f%% interval %.1f-%.1f%%), "
                     "%.0f errors, flaky %s, consistency %.1f%%",
                     num(c, "passed"), num(c, "counted_runs"), 100 * num(c, "success_rate"),
                     100 * num(iv, "confidence"), 100 * num(iv, "low"), 100 * num(iv, "high"),
                     num(c, "errors"), cJSON_IsTrue(obj(c, "flaky")) ? "yes" : "no",
                     100 * num(c, "consistency"));
            const cJSON *first = cJSON_GetArrayItem(obj(c, "failures"), 0);
            const cJSON *err = cJSON_GetArrayItem(obj(c, "error_runs"), 0);
            if (!has_th && first) {
                fputs("      <failure type=\"EvaluationFailure\" message=\"", out);
                tx_fputs_xml(figures, out);
                fputs("\">", out);
                tx_fputs_xml(hl_json_str(first, "reason"), out);
                fputs("</failure>\n", out);
            } else if (!has_th && err) {
                fputs("      <error type=\"EvaluationError\" message=\"", out);
                tx_fputs_xml(figures, out);
                fputs("\">", out);
                tx_fputs_xml(hl_json_str(err, "reason"), out);
                fputs("</error>\n", out);
            }
            fputs("      <system-out>", out);
            tx_fputs_xml(figures, out);
            fputs("</system-out>\n    </testcase>\n", out);
        }
        const cJSON *t;
        cJSON_ArrayForEach(t, obj(ev, "thresholds"))
        {
            fputs("    <testcase classname=\"", out);
            tx_fputs_xml(file, out);
            fputs("\" name=\"threshold ", out);
            tx_fputs_xml(hl_json_str(t, "name"), out);
            fputs("\" time=\"0\"", out);
            if (cJSON_IsTrue(obj(t, "met"))) {
                fputs("/>\n", out);
                continue;
            }
            char m[300];
            snprintf(m, sizeof m, "%s: %.6g, threshold %.6g", hl_json_str(t, "name"),
                     num(t, "value"), num(t, "limit"));
            fputs(">\n      <failure type=\"ThresholdMissed\" message=\"", out);
            tx_fputs_xml(m, out);
            fputs("\">", out);
            tx_fputs_xml(hl_json_str(t, "note") ? hl_json_str(t, "note") : m, out);
            fputs("</failure>\n    </testcase>\n", out);
        }
        fputs("  </testsuite>\n", out);
    }
    fputs("</testsuites>\n", out);
}

void ev_results_write(const cJSON *doc, ev_format format, FILE *out, bool color, bool timings)
{
    switch (format) {
    case EV_FORMAT_JSON: {
        char *text = cJSON_Print(doc);
        if (text) fprintf(out, "%s\n", text);
        cJSON_free(text);
        break;
    }
    case EV_FORMAT_JUNIT:
        ev_write_junit(doc, out, timings);
        break;
    case EV_FORMAT_HTML:
        ev_write_html(doc, out);
        break;
    default:
        ev_write_pretty(doc, out, color, timings);
        break;
    }
}
