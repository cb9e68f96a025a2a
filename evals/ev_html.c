/*
 * ev_html.c - the results document as one self-contained HTML page
 * (`tactus eval --html FILE`): per-case success rates with their intervals
 * as bars, the distributions of run durations and costs, the thresholds,
 * and the comparison with a baseline.
 *
 * Self-contained: inline CSS and SVG, one small inline script, no external
 * asset of any kind (a Content-Security-Policy of default-src 'none' says
 * so to the browser too), so the page can be mailed, archived and opened
 * offline. Every figure shown is also in a data-* attribute with the
 * document's exact number, which is how the test compares the page with
 * the JSON report. Every text from the procedure or its dataset (case
 * names, reasons, paths) is escaped (tx_fputs_xml).
 */
#include <math.h>
#include <string.h>

#include "ev_internal.h"

#define BAR_W     220
#define HIST_W    560
#define HIST_H    120
#define HIST_BINS 24

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const cJSON *obj(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static void esc(FILE *out, const char *s)
{
    tx_fputs_xml(s ? s : "", out);
}

/* A data-* attribute with the exact number (or "null"). */
static void data_num(FILE *out, const char *name, double v)
{
    if (isnan(v))
        fprintf(out, " data-%s=\"null\"", name);
    else
        fprintf(out, " data-%s=\"%.17g\"", name, v);
}

static void put_pct(FILE *out, double v)
{
    if (isnan(v))
        fputs("&ndash;", out);
    else
        fprintf(out, "%.1f%%", 100 * v);
}

static const char style[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;"
    "max-width:1180px;padding:0 1em;color:#1d2330;background:#fff}"
    "h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.2em;margin:1.6em 0 .4em;"
    "border-bottom:1px solid #dde2ea;padding-bottom:.2em}h3{font-size:1em;margin:1.2em 0 .4em}"
    ".verdict{display:inline-block;padding:.15em .6em;border-radius:4px;font-weight:600}"
    ".pass{background:#e3f5e8;color:#12672f}.fail{background:#fde8e8;color:#9b1c1c}"
    "table{border-collapse:collapse;width:100%;margin:.3em 0}"
    "th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid #eef1f5;"
    "vertical-align:middle}th{font-weight:600;color:#4a5468;font-size:.92em}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".muted{color:#6b7488}.flaky{color:#a15c00;font-weight:600}"
    ".reason{font-size:.9em;color:#6b7488;max-width:40em;overflow-wrap:anywhere}"
    "svg text{font:11px system-ui,sans-serif;fill:#4a5468}"
    ".summary td:first-child{width:16em;color:#4a5468}";

/* A rate in [0, 1] as a filled bar with its interval as a whisker. */
static void rate_bar(FILE *out, double rate, double low, double high)
{
    fprintf(out,
            "<svg class=\"bar\" width=\"%d\" height=\"16\" role=\"img\" "
            "aria-label=\"success rate with its interval\">",
            BAR_W);
    fprintf(out, "<rect x=\"0\" y=\"3\" width=\"%d\" height=\"10\" fill=\"#eef1f5\"/>", BAR_W);
    if (!isnan(rate)) {
        const char *fill = rate >= 0.8 ? "#3aa35b" : rate >= 0.5 ? "#d9a21b" : "#d64545";
        fprintf(out, "<rect x=\"0\" y=\"3\" width=\"%.2f\" height=\"10\" fill=\"%s\"/>",
                rate * BAR_W, fill);
    }
    if (!isnan(low) && !isnan(high)) {
        double x1 = low * BAR_W, x2 = high * BAR_W;
        fprintf(out,
                "<line x1=\"%.2f\" y1=\"8\" x2=\"%.2f\" y2=\"8\" stroke=\"#1d2330\" "
                "stroke-width=\"1.5\"/><line x1=\"%.2f\" y1=\"2\" x2=\"%.2f\" y2=\"14\" "
                "stroke=\"#1d2330\"/><line x1=\"%.2f\" y1=\"2\" x2=\"%.2f\" y2=\"14\" "
                "stroke=\"#1d2330\"/>",
                x1, x2, x1, x1, x2, x2);
    }
    fputs("</svg>", out);
}

/* A difference in [-1, 1] around a centre line, with its interval. */
static void diff_bar(FILE *out, double d, double low, double high)
{
    double mid = BAR_W / 2.0, s = BAR_W / 2.0;
    fprintf(out,
            "<svg class=\"diff\" width=\"%d\" height=\"16\" role=\"img\" "
            "aria-label=\"difference with its interval\">",
            BAR_W);
    fprintf(out, "<rect x=\"0\" y=\"3\" width=\"%d\" height=\"10\" fill=\"#eef1f5\"/>", BAR_W);
    if (!isnan(d)) {
        double x = d < 0 ? mid + d * s : mid;
        fprintf(out, "<rect x=\"%.2f\" y=\"3\" width=\"%.2f\" height=\"10\" fill=\"%s\"/>", x,
                fabs(d) * s, d < 0 ? "#d64545" : "#3aa35b");
    }
    if (!isnan(low) && !isnan(high))
        fprintf(out,
                "<line x1=\"%.2f\" y1=\"8\" x2=\"%.2f\" y2=\"8\" stroke=\"#1d2330\" "
                "stroke-width=\"1.5\"/>",
                mid + low * s, mid + high * s);
    fprintf(out, "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"16\" stroke=\"#6b7488\"/></svg>", mid,
            mid);
}

/* A histogram of the known values of every case's `key` array. */
static void histogram(FILE *out, const cJSON *cases, const char *key, const char *unit,
                      const char *id)
{
    double lo = INFINITY, hi = -INFINITY;
    size_t n = 0;
    const cJSON *c, *v;
    cJSON_ArrayForEach(c, cases) cJSON_ArrayForEach(v, obj(c, key))
    {
        if (!cJSON_IsNumber(v)) continue;
        lo = fmin(lo, v->valuedouble);
        hi = fmax(hi, v->valuedouble);
        n++;
    }
    if (n == 0) {
        fprintf(out, "<p class=\"muted\" id=\"%s\">No known values.</p>\n", id);
        return;
    }
    size_t bins[HIST_BINS] = {0}, top = 1;
    double width = hi > lo ? (hi - lo) / HIST_BINS : 1;
    cJSON_ArrayForEach(c, cases) cJSON_ArrayForEach(v, obj(c, key))
    {
        if (!cJSON_IsNumber(v)) continue;
        size_t b = hi > lo ? (size_t)((v->valuedouble - lo) / width) : 0;
        if (b >= HIST_BINS) b = HIST_BINS - 1;
        if (++bins[b] > top) top = bins[b];
    }
    fprintf(out,
            "<svg id=\"%s\" class=\"histogram\" width=\"%d\" height=\"%d\" role=\"img\" "
            "aria-label=\"distribution over %zu runs\" data-runs=\"%zu\">",
            id, HIST_W, HIST_H + 20, n, n);
    double bw = (double)HIST_W / HIST_BINS;
    for (size_t b = 0; b < HIST_BINS; b++) {
        double h = (double)bins[b] / (double)top * HIST_H;
        fprintf(out,
                "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#5b7fc7\">"
                "<title>%s%.6g to %s%.6g: %zu run%s</title></rect>",
                b * bw + 1, HIST_H - h, bw - 2, h, unit, lo + b * width, unit, lo + (b + 1) * width,
                bins[b], bins[b] == 1 ? "" : "s");
    }
    fprintf(out, "<text x=\"0\" y=\"%d\">%s%.6g</text>", HIST_H + 15, unit, lo);
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s%.6g</text></svg>\n", HIST_W,
            HIST_H + 15, unit, hi);
}

static void summary_row(FILE *out, const char *label, const char *key, double v, bool percent)
{
    fprintf(out, "<tr><td>%s</td><td class=\"n\" data-key=\"%s\"", label, key);
    data_num(out, "value", v);
    fputs(">", out);
    if (percent)
        put_pct(out, v);
    else if (isnan(v))
        fputs("&ndash;", out);
    else
        fprintf(out, "%.6g", v);
    fputs("</td></tr>\n", out);
}

static void interval_row(FILE *out, const char *label, const char *key, const cJSON *iv)
{
    fprintf(out, "<tr><td>%s</td><td class=\"n\" data-key=\"%s\"", label, key);
    data_num(out, "low", num(iv, "low"));
    data_num(out, "high", num(iv, "high"));
    fputs(">", out);
    put_pct(out, num(iv, "low"));
    fputs(" &ndash; ", out);
    put_pct(out, num(iv, "high"));
    fprintf(out, " <span class=\"muted\">(%.0f%%, %s)</span></td></tr>\n",
            100 * num(iv, "confidence"), hl_json_str(iv, "method"));
}

static void stats_row(FILE *out, const char *label, const char *key, const cJSON *s,
                      const char *unit)
{
    fprintf(out, "<tr><td>%s</td><td class=\"n\" data-key=\"%s\"", label, key);
    data_num(out, "mean", num(s, "mean"));
    data_num(out, "p50", num(s, "p50"));
    data_num(out, "p95", num(s, "p95"));
    data_num(out, "max", num(s, "max"));
    fprintf(out, ">mean %s%.6g, p50 %s%.6g, p95 %s%.6g, max %s%.6g", unit, num(s, "mean"), unit,
            num(s, "p50"), unit, num(s, "p95"), unit, num(s, "max"));
    if (num(s, "unknown_runs") > 0) {
        fprintf(out, " <span class=\"flaky\">unknown for %.0f runs: ", num(s, "unknown_runs"));
        esc(out, hl_json_str(s, "unknown"));
        fputs("</span>", out);
    }
    fputs("</td></tr>\n", out);
}

static void comparison(FILE *out, const cJSON *cmp)
{
    if (!cmp) return;
    fputs("<h3>Baseline comparison</h3>\n", out);
    const cJSON *from = obj(cmp, "baseline");
    if (!cJSON_IsObject(from)) {
        fputs("<p class=\"muted\">", out);
        esc(out, hl_json_str(cmp, "note"));
        fputs("</p>\n", out);
        return;
    }
    const cJSON *w = obj(cmp, "whole"), *iv = obj(w, "interval");
    bool reg = cJSON_IsTrue(obj(cmp, "regressed"));
    fprintf(out, "<p class=\"whole\" data-regressed=\"%s\"", reg ? "true" : "false");
    data_num(out, "difference", num(w, "difference"));
    data_num(out, "low", num(iv, "low"));
    data_num(out, "high", num(iv, "high"));
    fputs(">Baseline <code>", out);
    esc(out, hl_json_str(from, "file"));
    fputs("</code>: success rate ", out);
    put_pct(out, num(w, "baseline_success_rate"));
    fputs(" &rarr; ", out);
    put_pct(out, num(w, "success_rate"));
    fprintf(out,
            " (%+.1f points; %.0f%% interval %+.1f to %+.1f, paired case bootstrap over %.0f "
            "cases) <span class=\"verdict %s\">%s</span></p>\n",
            100 * num(w, "difference"), 100 * num(iv, "confidence"), 100 * num(iv, "low"),
            100 * num(iv, "high"), num(w, "compared_cases"), reg ? "fail" : "pass",
            reg ? "regressed" : "no significant drop");
    fputs("<table class=\"comparison\"><thead><tr><th>case</th><th>baseline</th><th>now</th>"
          "<th>difference</th><th></th><th>interval (Newcombe)</th><th>status</th></tr></thead>"
          "<tbody>\n",
          out);
    const cJSON *c;
    cJSON_ArrayForEach(c, obj(cmp, "cases"))
    {
        const cJSON *ci = obj(c, "interval");
        fputs("<tr class=\"compared\" data-name=\"", out);
        esc(out, hl_json_str(c, "name"));
        fputs("\"", out);
        data_num(out, "difference", num(c, "difference"));
        data_num(out, "low", num(ci, "low"));
        data_num(out, "high", num(ci, "high"));
        fputs("><td>", out);
        esc(out, hl_json_str(c, "name"));
        if (hl_json_str(c, "baseline_name")) {
            fputs(" <span class=\"muted\">(was ", out);
            esc(out, hl_json_str(c, "baseline_name"));
            fputs(")</span>", out);
        }
        fputs("</td><td class=\"n\">", out);
        put_pct(out, num(c, "baseline_success_rate"));
        fputs("</td><td class=\"n\">", out);
        put_pct(out, num(c, "success_rate"));
        fprintf(out, "</td><td class=\"n\">%+.1f</td><td>", 100 * num(c, "difference"));
        diff_bar(out, num(c, "difference"), num(ci, "low"), num(ci, "high"));
        fprintf(out, "</td><td class=\"n\">%+.1f to %+.1f</td><td>", 100 * num(ci, "low"),
                100 * num(ci, "high"));
        esc(out, hl_json_str(c, "status"));
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
    static const char *const lists[][2] = {{"added_cases", "Added (not in the baseline)"},
                                           {"removed_cases", "Removed (only in the baseline)"}};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *l = obj(cmp, lists[i][0]), *x;
        if (!cJSON_GetArraySize(l)) continue;
        fprintf(out, "<p class=\"%s\">%s: ", lists[i][0], lists[i][1]);
        bool first = true;
        cJSON_ArrayForEach(x, l)
        {
            if (!first) fputs(", ", out);
            first = false;
            esc(out, x->valuestring);
        }
        fputs("</p>\n", out);
    }
}

static void evaluation(FILE *out, const cJSON *ev, int index)
{
    bool passed = cJSON_IsTrue(obj(ev, "passed"));
    fputs("<section class=\"evaluation\" data-file=\"", out);
    esc(out, hl_json_str(ev, "file"));
    fprintf(out, "\" data-index=\"%.0f\" data-line=\"%.0f\" data-passed=\"%s\">\n<h2>",
            num(ev, "index"), num(ev, "line"), passed ? "true" : "false");
    esc(out, hl_json_str(ev, "file"));
    fprintf(out, ":%.0f <span class=\"verdict %s\">%s</span></h2>\n", num(ev, "line"),
            passed ? "pass" : "fail", passed ? "thresholds met" : "thresholds missed");
    fprintf(out, "<p class=\"muted\">%d cases &times; %.0f runs; intervals at %.0f%%</p>\n",
            cJSON_GetArraySize(obj(ev, "cases")), num(ev, "runs_per_case"),
            100 * num(ev, "confidence"));
    fputs("<table class=\"summary\"><tbody>\n", out);
    summary_row(out, "Success rate", "success_rate", num(ev, "success_rate"), true);
    interval_row(out, "Interval (pooled)", "interval", obj(ev, "interval"));
    interval_row(out, "Interval (cases resampled)", "bootstrap_interval",
                 obj(ev, "bootstrap_interval"));
    const cJSON *k;
    cJSON_ArrayForEach(k, obj(ev, "pass_hat_k"))
    {
        char label[64], key[64];
        snprintf(label, sizeof label, "pass@%s (mean over cases)", k->string);
        snprintf(key, sizeof key, "pass_at_k.%s", k->string);
        summary_row(out, label, key, num(obj(ev, "pass_at_k"), k->string), true);
        snprintf(label, sizeof label, "pass^%s (mean over cases)", k->string);
        snprintf(key, sizeof key, "pass_hat_k.%s", k->string);
        summary_row(out, label, key, num(obj(ev, "pass_hat_k"), k->string), true);
    }
    summary_row(out, "Flaky cases", "flaky_cases", num(ev, "flaky_cases"), false);
    summary_row(out, "Consistency (mean over cases)", "consistency", num(ev, "consistency"), true);
    summary_row(out, "Runs not counted (errors)", "errors", num(ev, "errors"), false);
    stats_row(out, "Duration per run (s)", "duration", obj(ev, "duration"), "");
    stats_row(out, "Tokens per run", "tokens", obj(ev, "tokens"), "");
    stats_row(out, "Cost per run", "cost_usd", obj(ev, "cost_usd"), "$");
    const cJSON *judge = obj(ev, "judge");
    if (num(judge, "model_calls") > 0) {
        fprintf(out, "<tr><td>Judge (apart)</td><td class=\"n\" data-key=\"judge\"");
        data_num(out, "tokens", num(judge, "tokens"));
        data_num(out, "cost", num(judge, "cost_usd"));
        fprintf(out, ">%.0f calls, %.0f tokens, ", num(judge, "model_calls"), num(judge, "tokens"));
        if (isnan(num(judge, "cost_usd")))
            fputs("cost unknown", out);
        else
            fprintf(out, "$%.6f", num(judge, "cost_usd"));
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table>\n", out);

    fputs("<h3>Cases</h3>\n<table class=\"cases\"><thead><tr><th>case</th><th>passed</th>"
          "<th>rate</th><th>rate and interval</th><th>interval</th>",
          out);
    cJSON_ArrayForEach(k, obj(ev, "pass_hat_k")) fprintf(out, "<th>pass^%s</th>", k->string);
    fputs("<th>flaky</th><th>consistency</th><th>duration p50 / p95</th><th>mean cost</th>"
          "</tr></thead><tbody>\n",
          out);
    const cJSON *c;
    cJSON_ArrayForEach(c, obj(ev, "cases"))
    {
        const cJSON *iv = obj(c, "interval"), *dur = obj(c, "duration"), *cost = obj(c, "cost_usd");
        fputs("<tr class=\"case\" data-name=\"", out);
        esc(out, hl_json_str(c, "name"));
        fputs("\"", out);
        data_num(out, "passed", num(c, "passed"));
        data_num(out, "counted", num(c, "counted_runs"));
        data_num(out, "errors", num(c, "errors"));
        data_num(out, "rate", num(c, "success_rate"));
        data_num(out, "low", num(iv, "low"));
        data_num(out, "high", num(iv, "high"));
        data_num(out, "consistency", num(c, "consistency"));
        fprintf(out, " data-flaky=\"%s\">", cJSON_IsTrue(obj(c, "flaky")) ? "true" : "false");
        fputs("<td class=\"name\">", out);
        esc(out, hl_json_str(c, "name"));
        const cJSON *first = cJSON_GetArrayItem(obj(c, "failures"), 0);
        if (!first) first = cJSON_GetArrayItem(obj(c, "error_runs"), 0);
        if (first) {
            fputs("<div class=\"reason\">", out);
            esc(out, hl_json_str(first, "reason"));
            fputs("</div>", out);
        }
        fprintf(out, "</td><td class=\"n\">%.0f/%.0f%s</td><td class=\"n rate\">", num(c, "passed"),
                num(c, "counted_runs"), num(c, "errors") > 0 ? " +E" : "");
        put_pct(out, num(c, "success_rate"));
        fputs("</td><td>", out);
        rate_bar(out, num(c, "success_rate"), num(iv, "low"), num(iv, "high"));
        fputs("</td><td class=\"n interval\">", out);
        put_pct(out, num(iv, "low"));
        fputs(" &ndash; ", out);
        put_pct(out, num(iv, "high"));
        fputs("</td>", out);
        cJSON_ArrayForEach(k, obj(ev, "pass_hat_k"))
        {
            double v = num(obj(c, "pass_hat_k"), k->string);
            fprintf(out, "<td class=\"n pass-hat\" data-k=\"%s\"", k->string);
            data_num(out, "value", v);
            fputs(">", out);
            put_pct(out, v);
            fputs("</td>", out);
        }
        fprintf(out, "<td>%s</td><td class=\"n\">",
                cJSON_IsTrue(obj(c, "flaky")) ? "<span class=\"flaky\">flaky</span>" : "");
        put_pct(out, num(c, "consistency"));
        fprintf(out, "</td><td class=\"n\">%.3f / %.3f s</td><td class=\"n\">", num(dur, "p50"),
                num(dur, "p95"));
        if (num(cost, "unknown_runs") > 0)
            fputs("unknown", out);
        else
            fprintf(out, "$%.6f", num(cost, "mean"));
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table>\n", out);

    char id[64];
    fputs("<h3>Duration per run</h3>\n", out);
    snprintf(id, sizeof id, "duration-%d", index);
    histogram(out, obj(ev, "cases"), "run_seconds", "", id);
    fputs("<h3>Cost per run</h3>\n", out);
    snprintf(id, sizeof id, "cost-%d", index);
    histogram(out, obj(ev, "cases"), "run_cost_usd", "$", id);

    fputs("<h3>Thresholds</h3>\n", out);
    if (!cJSON_GetArraySize(obj(ev, "thresholds")))
        fputs("<p class=\"muted\">No thresholds: every run must pass.</p>\n", out);
    else
        fputs("<table class=\"thresholds\"><thead><tr><th>threshold</th><th>value</th>"
              "<th>limit</th><th></th></tr></thead><tbody>\n",
              out);
    const cJSON *t;
    cJSON_ArrayForEach(t, obj(ev, "thresholds"))
    {
        bool met = cJSON_IsTrue(obj(t, "met"));
        fputs("<tr class=\"threshold\" data-name=\"", out);
        esc(out, hl_json_str(t, "name"));
        fprintf(out, "\" data-met=\"%s\"", met ? "true" : "false");
        data_num(out, "value", num(t, "value"));
        data_num(out, "limit", num(t, "limit"));
        fputs("><td>", out);
        esc(out, hl_json_str(t, "name"));
        if (hl_json_str(t, "interval")) {
            fputs(" <span class=\"muted\">(", out);
            esc(out, hl_json_str(t, "interval"));
            fputs(" interval)</span>", out);
        }
        fprintf(out,
                "</td><td class=\"n\">%.6g</td><td class=\"n\">%.6g</td>"
                "<td><span class=\"verdict %s\">%s</span>",
                num(t, "value"), num(t, "limit"), met ? "pass" : "fail", met ? "met" : "missed");
        if (hl_json_str(t, "note")) {
            fputs(" <span class=\"muted\">", out);
            esc(out, hl_json_str(t, "note"));
            fputs("</span>", out);
        }
        fputs("</td></tr>\n", out);
    }
    if (cJSON_GetArraySize(obj(ev, "thresholds"))) fputs("</tbody></table>\n", out);
    comparison(out, obj(ev, "comparison"));
    fputs("</section>\n", out);
}

void ev_write_html(const cJSON *doc, FILE *out)
{
    bool passed = ev_results_passed(doc);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
          "<title>tactus eval report</title>\n<style>",
          out);
    fputs(style, out);
    fputs("</style>\n</head>\n", out);
    fprintf(out, "<body data-passed=\"%s\" data-schema-version=\"%.0f\">\n",
            passed ? "true" : "false", num(doc, "schema_version"));
    fputs("<header><h1>tactus eval</h1><p>", out);
    fprintf(out,
            "<span class=\"verdict %s\" id=\"verdict\">%s</span> &middot; %s mode &middot; "
            "tactus ",
            passed ? "pass" : "fail", passed ? "passed" : "failed",
            !strcmp(hl_json_str(doc, "mode") ? hl_json_str(doc, "mode") : "", "mock") ? "mocked"
                                                                                      : "real");
    esc(out, hl_json_str(doc, "tactus_version"));
    fputs("</p></header>\n<main>\n", out);
    const cJSON *ev;
    int i = 0;
    cJSON_ArrayForEach(ev, obj(doc, "evaluations")) evaluation(out, ev, ++i);
    fputs("</main>\n", out);
    /* The one script: marks the page rendered (the test waits for it) and
     * counts what it shows, which a reader of the DOM can check. */
    fputs("<script>\n(function () {\n"
          "  var cases = document.querySelectorAll('tr.case').length;\n"
          "  document.body.setAttribute('data-cases-shown', String(cases));\n"
          "  document.documentElement.setAttribute('data-rendered', 'yes');\n"
          "})();\n</script>\n</body>\n</html>\n",
          out);
}
