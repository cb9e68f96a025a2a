/*
 * sp_report.c - what `tactus test` prints: pretty (inventory C.4), JSON (one
 * document, schema in docs/testing.md) and JUnit XML (what CI systems read).
 *
 * Output is deterministic: cases in file and scenario order, no wall-clock
 * times unless --timings. Failing steps are named by file:line:column.
 */
#include <math.h>
#include <string.h>

#include "sp_internal.h"

static const char *status_name(sp_status s)
{
    return s == SP_PASSED ? "passed" : s == SP_FAILED ? "failed" : "skipped";
}

int sp_case_passed_runs(const sp_case *c)
{
    int n = 0;
    for (int r = 0; r < c->runs; r++)
        n += c->outcomes[r].status == SP_PASSED;
    return n;
}

/* A run's outcome signature: its status and each step's (the original's
 * (keyword, text, status) per step; keyword and text are the case's own). */
static uint64_t signature_of(const sp_case *c, const sp_outcome *o)
{
    unsigned char st = (unsigned char)o->status;
    uint64_t h = es_signature(ES_SIGNATURE_START, &st, 1);
    for (size_t i = 0; o->steps && i < c->n_steps; i++) {
        st = (unsigned char)o->steps[i].status;
        h = es_signature(h, &st, 1);
    }
    return h;
}

double sp_case_consistency(const sp_case *c)
{
    uint64_t *sigs = tx_malloc(((size_t)c->runs + 1) * sizeof *sigs);
    if (!sigs) return NAN;
    for (int i = 0; i < c->runs; i++)
        sigs[i] = signature_of(c, &c->outcomes[i]);
    double v = es_consistency(sigs, (size_t)c->runs);
    tx_free(sigs);
    return v;
}

es_interval sp_case_interval(const sp_case *c)
{
    return es_wilson(sp_case_passed_runs(c), c->runs, SP_CONFIDENCE);
}

const sp_outcome *sp_case_shown(const sp_case *c)
{
    for (int r = 0; r < c->runs; r++)
        if (c->outcomes[r].status != SP_PASSED) return &c->outcomes[r];
    return &c->outcomes[0];
}

static sp_status case_status(const sp_case *c)
{
    int passed = sp_case_passed_runs(c);
    if (passed == c->runs) return SP_PASSED;
    for (int r = 0; r < c->runs; r++)
        if (c->outcomes[r].status == SP_FAILED) return SP_FAILED;
    return SP_SKIPPED;
}

static tx_line_col where(const sp_case *c, tx_span span)
{
    return tx_span_columns(c->file->f->src, c->file->f->len, span);
}

static double median_ms(const sp_case *c)
{
    double v[c->runs > 0 ? c->runs : 1];
    for (int i = 0; i < c->runs; i++)
        v[i] = c->outcomes[i].ms;
    for (int i = 1; i < c->runs; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return c->runs ? v[c->runs / 2] : 0;
}

/* ---- the procedure's own error ---------------------------------------------------------------- */

static const char *error_text(const cJSON *error, const char *key)
{
    const char *v = hl_json_str(error, key);
    return v ? v : "";
}

/* "file:line: " of the error (the .tac code line), or "file: " without a line. */
static void error_location(const cJSON *error, tx_buf *out)
{
    const char *file = hl_json_str(error, "file");
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(error, "line");
    if (!file) return;
    if (cJSON_IsNumber(line))
        tx_buf_printf(out, "%s:%d: ", file, line->valueint);
    else
        tx_buf_printf(out, "%s: ", file);
}

/* ---- pretty --------------------------------------------------------------------------------- */

void sp_write_pretty(const sp_case *cases, size_t n, const sp_options *o, FILE *out, bool color)
{
    const char *green = color ? "\033[32m" : "", *red = color ? "\033[31m" : "",
               *dim = color ? "\033[2m" : "", *yellow = color ? "\033[33m" : "",
               *off = color ? "\033[0m" : "";
    if (o->runs > 1)
        fprintf(out, "Running consistency check (%d runs, %s mode)\n", o->runs,
                o->mock ? "mocked" : "real");
    else
        fprintf(out, "Running BDD tests (%s mode)\n", o->mock ? "mocked" : "real");
    const fe_spec *spec = NULL;
    size_t passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        const sp_case *c = &cases[i];
        if (c->spec != spec) {
            spec = c->spec;
            /* The name and the path are the procedure's: made inert. */
            char *tf = tx_term_text(spec->feature_name ? spec->feature_name : "");
            char *tp = tx_term_text(c->file->f->path);
            fprintf(out, "\nFeature: %s  %s(%s)%s\n", tf ? tf : "", dim, tp ? tp : "", off);
            tx_free(tf);
            tx_free(tp);
        }
        sp_status st = case_status(c);
        passed += st == SP_PASSED;
        failed += st == SP_FAILED;
        skipped += st == SP_SKIPPED;
        const sp_outcome *shown = sp_case_shown(c);
        fprintf(out, "  %s%s%s Scenario: %s",
                st == SP_PASSED   ? green
                : st == SP_FAILED ? red
                                  : yellow,
                st == SP_PASSED   ? "\u2713"
                : st == SP_FAILED ? "\u2717"
                                  : "-",
                off, "");
        tx_fputs_term(c->name, out); /* names and errors are the file's text: made inert */
        fprintf(out, "  %s(", dim);
        if (o->timings) fprintf(out, "%.2fs, ", median_ms(c) / 1000.0);
        fprintf(out, "%d LLM call%s, %d iteration%s, %d tool%s)%s\n", shown->llm_calls,
                shown->llm_calls == 1 ? "" : "s", shown->iterations,
                shown->iterations == 1 ? "" : "s", shown->tools_used,
                shown->tools_used == 1 ? "" : "s", off);
        if (o->runs > 1) {
            int p = sp_case_passed_runs(c);
            es_interval iv = sp_case_interval(c);
            fprintf(out,
                    "      Success rate: %.1f%% (%d/%d; %.0f%% interval %.1f%%-%.1f%%)  "
                    "Consistency: %.1f%%\n",
                    100.0 * p / c->runs, p, c->runs, 100 * SP_CONFIDENCE, 100 * iv.low,
                    100 * iv.high, 100.0 * sp_case_consistency(c));
            if (es_flaky((unsigned)p, (unsigned)c->runs))
                fprintf(out, "      %s! FLAKY - Inconsistent results detected%s\n", yellow, off);
        }
        if (st == SP_PASSED || !shown->steps) continue;
        if (shown->error) {
            fprintf(out, "      %sError:%s ", red, off);
            tx_buf where_buf;
            tx_buf_init(&where_buf, SP_TEXT_MAX);
            error_location(shown->error, &where_buf);
            tx_fputs_term(where_buf.data ? where_buf.data : "", out);
            tx_buf_free(&where_buf);
            tx_fputs_term(error_text(shown->error, "message"), out);
            fputc('\n', out);
            const char *tb = error_text(shown->error, "traceback");
            if (*tb) {
                fprintf(out, "        %straceback:%s\n", dim, off);
                for (const char *p = tb; *p;) {
                    const char *nl = strchr(p, '\n');
                    size_t len = nl ? (size_t)(nl - p) : strlen(p);
                    char *line = tx_strndup(p, len);
                    fputs("          ", out);
                    tx_fputs_term(line ? line : "", out);
                    fputc('\n', out);
                    tx_free(line);
                    p += len + (nl ? 1 : 0);
                }
            }
        }
        for (size_t k = 0; k < c->n_steps; k++) {
            if (shown->steps[k].status != SP_FAILED) continue;
            const sp_step *stp = &c->steps[k];
            tx_line_col lc = where(c, stp->step->span);
            fprintf(out, "      %sFailed:%s %s ", red, off, stp->step->keyword);
            tx_fputs_term(stp->text, out);
            fputs("\n        ", out);
            tx_fputs_term(c->file->f->path, out);
            fprintf(out, ":%u:%u: ", lc.line, lc.column);
            tx_fputs_term(shown->steps[k].error ? shown->steps[k].error : "failed", out);
            fputc('\n', out);
            break;
        }
    }
    size_t total = passed + failed + skipped;
    fprintf(out, "\n%zu scenario%s (%s%zu passed%s, %s%zu failed%s", total, total == 1 ? "" : "s",
            passed ? green : "", passed, off, failed ? red : "", failed, off);
    if (skipped) fprintf(out, ", %zu skipped", skipped);
    fprintf(out, ")\n");
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static cJSON *outcome_json(const sp_case *c, const sp_outcome *oc, const sp_options *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "status", status_name(oc->status));
    if (o->timings) cJSON_AddNumberToObject(j, "duration_ms", round(oc->ms * 1000) / 1000);
    cJSON_AddNumberToObject(j, "llm_calls", oc->llm_calls);
    cJSON_AddNumberToObject(j, "iterations", oc->iterations);
    cJSON_AddNumberToObject(j, "tools_used", oc->tools_used);
    cJSON *steps = cJSON_AddArrayToObject(j, "steps");
    for (size_t k = 0; k < c->n_steps; k++) {
        const sp_step *st = &c->steps[k];
        tx_line_col lc = where(c, st->step->span);
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "keyword", st->step->keyword);
        cJSON_AddStringToObject(s, "text", st->text);
        cJSON_AddStringToObject(s, "step",
                                st->role == SP_ROLE_CUSTOM ? "custom"
                                : st->template             ? st->template
                                                           : "undefined");
        cJSON_AddNumberToObject(s, "line", lc.line);
        cJSON_AddNumberToObject(s, "column", lc.column);
        sp_status ss = oc->steps ? oc->steps[k].status : SP_SKIPPED;
        cJSON_AddStringToObject(s, "status", status_name(ss));
        if (oc->steps && oc->steps[k].error)
            cJSON_AddStringToObject(s, "error", oc->steps[k].error);
        cJSON_AddItemToArray(steps, s);
    }
    if (oc->error) {
        /* the procedure's error: message, its .tac line, the traceback */
        cJSON *e = cJSON_AddObjectToObject(j, "error");
        cJSON_AddStringToObject(e, "message", error_text(oc->error, "message"));
        if (hl_json_str(oc->error, "file"))
            cJSON_AddStringToObject(e, "file", hl_json_str(oc->error, "file"));
        const cJSON *line = cJSON_GetObjectItemCaseSensitive(oc->error, "line");
        if (cJSON_IsNumber(line)) cJSON_AddNumberToObject(e, "line", line->valuedouble);
        cJSON_AddStringToObject(e, "traceback", error_text(oc->error, "traceback"));
    }
    return j;
}

void sp_write_json(const sp_case *cases, size_t n, const sp_options *o, FILE *out)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "version", 1);
    cJSON_AddStringToObject(doc, "mode", o->mock ? "mock" : "real");
    cJSON_AddNumberToObject(doc, "runs", o->runs);
    cJSON *features = cJSON_AddArrayToObject(doc, "features");
    cJSON *scenarios = NULL;
    const fe_spec *spec = NULL;
    size_t passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        const sp_case *c = &cases[i];
        if (c->spec != spec) {
            spec = c->spec;
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "file", c->file->f->path);
            cJSON_AddStringToObject(f, "name", spec->feature_name ? spec->feature_name : "");
            cJSON_AddNumberToObject(f, "line", where(c, spec->feature_span).line);
            scenarios = cJSON_AddArrayToObject(f, "scenarios");
            cJSON_AddItemToArray(features, f);
        }
        sp_status st = case_status(c);
        passed += st == SP_PASSED;
        failed += st == SP_FAILED;
        skipped += st == SP_SKIPPED;
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", c->name);
        cJSON_AddNumberToObject(s, "line", where(c, c->sc->name_span).line);
        if (c->row) cJSON_AddNumberToObject(s, "example_line", where(c, c->row->span).line);
        cJSON *tags = cJSON_AddArrayToObject(s, "tags");
        for (size_t t = 0; t < c->n_tags; t++)
            cJSON_AddItemToArray(tags, cJSON_CreateString(c->tags[t]));
        cJSON_AddStringToObject(s, "status", status_name(st));
        if (o->runs > 1) {
            int p = sp_case_passed_runs(c);
            cJSON *k = cJSON_AddObjectToObject(s, "consistency");
            cJSON_AddNumberToObject(k, "runs", c->runs);
            cJSON_AddNumberToObject(k, "passed", p);
            cJSON_AddNumberToObject(k, "success_rate", (double)p / c->runs);
            es_interval iv = sp_case_interval(c);
            cJSON *ij = cJSON_AddObjectToObject(k, "interval");
            cJSON_AddNumberToObject(ij, "low", iv.low);
            cJSON_AddNumberToObject(ij, "high", iv.high);
            cJSON_AddNumberToObject(ij, "confidence", SP_CONFIDENCE);
            cJSON_AddStringToObject(ij, "method", "wilson");
            cJSON_AddNumberToObject(k, "consistency", sp_case_consistency(c));
            cJSON_AddBoolToObject(k, "flaky", es_flaky((unsigned)p, (unsigned)c->runs));
            if (o->timings)
                cJSON_AddNumberToObject(k, "median_ms", round(median_ms(c) * 1000) / 1000);
        }
        cJSON *oc = outcome_json(c, sp_case_shown(c), o);
        cJSON *e;
        cJSON_ArrayForEach(e, oc)
        {
            if (strcmp(e->string, "status") != 0)
                cJSON_AddItemToObject(s, e->string, cJSON_Duplicate(e, 1));
        }
        cJSON_Delete(oc);
        cJSON_AddItemToArray(scenarios, s);
    }
    cJSON *sum = cJSON_AddObjectToObject(doc, "summary");
    cJSON_AddNumberToObject(sum, "scenarios", (double)n);
    cJSON_AddNumberToObject(sum, "passed", (double)passed);
    cJSON_AddNumberToObject(sum, "failed", (double)failed);
    cJSON_AddNumberToObject(sum, "skipped", (double)skipped);
    char *text = cJSON_Print(doc);
    if (text) fprintf(out, "%s\n", text);
    cJSON_free(text);
    cJSON_Delete(doc);
}

/* ---- JUnit XML --------------------------------------------------------------------------------
 */

void sp_write_junit(const sp_case *cases, size_t n, const sp_options *o, FILE *out)
{
    size_t failures = 0, skipped = 0;
    double total_ms = 0;
    for (size_t i = 0; i < n; i++) {
        sp_status st = case_status(&cases[i]);
        failures += st == SP_FAILED;
        skipped += st == SP_SKIPPED;
        total_ms += median_ms(&cases[i]);
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out,
            "<testsuites name=\"tactus test\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
            "skipped=\"%zu\" time=\"%.3f\">\n",
            n, failures, skipped, o->timings ? total_ms / 1000.0 : 0.0);
    for (size_t i = 0; i < n;) {
        const fe_spec *spec = cases[i].spec;
        size_t j = i, f = 0, sk = 0;
        double ms = 0;
        for (; j < n && cases[j].spec == spec; j++) {
            sp_status st = case_status(&cases[j]);
            f += st == SP_FAILED;
            sk += st == SP_SKIPPED;
            ms += median_ms(&cases[j]);
        }
        fputs("  <testsuite name=\"", out);
        tx_fputs_xml(spec->feature_name ? spec->feature_name : "", out);
        fprintf(
            out,
            "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"%.3f\" file=\"",
            j - i, f, sk, o->timings ? ms / 1000.0 : 0.0);
        tx_fputs_xml(cases[i].file->f->path, out);
        fputs("\">\n", out);
        for (size_t k = i; k < j; k++) {
            const sp_case *c = &cases[k];
            sp_status st = case_status(c);
            fputs("    <testcase classname=\"", out);
            tx_fputs_xml(spec->feature_name ? spec->feature_name : "", out);
            fputs("\" name=\"", out);
            tx_fputs_xml(c->name, out);
            fputs("\" file=\"", out);
            tx_fputs_xml(c->file->f->path, out);
            fprintf(out, "\" line=\"%u\" time=\"%.3f\"", where(c, c->sc->name_span).line,
                    o->timings ? median_ms(c) / 1000.0 : 0.0);
            if (st == SP_PASSED) {
                fputs("/>\n", out);
                continue;
            }
            fputs(">\n", out);
            const sp_outcome *oc = sp_case_shown(c);
            if (st == SP_SKIPPED) {
                fputs("      <skipped/>\n", out);
            } else {
                for (size_t s = 0; oc->steps && s < c->n_steps; s++) {
                    if (oc->steps[s].status != SP_FAILED) continue;
                    const sp_step *stp = &c->steps[s];
                    tx_line_col lc = where(c, stp->step->span);
                    if (oc->error) {
                        /* The procedure raised: its error is the failure, at its code line. */
                        tx_buf loc;
                        tx_buf_init(&loc, SP_TEXT_MAX);
                        error_location(oc->error, &loc);
                        fputs("      <failure type=\"ProcedureError\" message=\"", out);
                        tx_fputs_xml(loc.data ? loc.data : "", out);
                        tx_fputs_xml(error_text(oc->error, "message"), out);
                        fputs("\">", out);
                        tx_fputs_xml(loc.data ? loc.data : "", out);
                        tx_fputs_xml(error_text(oc->error, "message"), out);
                        fputc('\n', out);
                        const char *tb = error_text(oc->error, "traceback");
                        if (*tb) {
                            fputs("traceback:\n", out);
                            tx_fputs_xml(tb, out);
                            fputc('\n', out);
                        }
                        fputs("noticed by ", out);
                        tx_buf_free(&loc);
                    } else {
                        fputs("      <failure type=\"AssertionError\" message=\"", out);
                        tx_fputs_xml(oc->steps[s].error, out);
                        fputs("\">", out);
                    }
                    tx_fputs_xml(c->file->f->path, out);
                    fprintf(out, ":%u:%u: ", lc.line, lc.column);
                    tx_fputs_xml(stp->step->keyword, out);
                    fputc(' ', out);
                    tx_fputs_xml(stp->text, out);
                    fputc('\n', out);
                    tx_fputs_xml(oc->steps[s].error, out);
                    fputs("</failure>\n", out);
                    break;
                }
                if (o->runs > 1) {
                    es_interval iv = sp_case_interval(c);
                    fprintf(out,
                            "      <system-out>passed %d of %d runs (%.0f%% interval "
                            "%.1f%%-%.1f%%); consistency %.1f%%</system-out>\n",
                            sp_case_passed_runs(c), c->runs, 100 * SP_CONFIDENCE, 100 * iv.low,
                            100 * iv.high, 100.0 * sp_case_consistency(c));
                }
            }
            fputs("    </testcase>\n", out);
        }
        fputs("  </testsuite>\n", out);
        i = j;
    }
    fputs("</testsuites>\n", out);
}
