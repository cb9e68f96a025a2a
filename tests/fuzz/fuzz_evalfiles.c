/* Fuzz target: the files `tactus eval` reads besides the .tac: a dataset
 * file (.jsonl, .json, .csv, named by the .tac, which nobody has to trust)
 * and a --baseline file (a --save document of an earlier evaluation, maybe
 * of another file version, maybe not one at all). The first byte picks
 * which; the rest is the file. Uses the public headers only (evals.h).
 *
 * Properties: a refused file says where (its path, and a line for a
 * dataset); a dataset that loads has cases; a baseline that loads is
 * compared with a small evaluation without breaking: the comparison names
 * the baseline or says it has no match, its lists are lists and its
 * verdict a boolean, and every figure of the results is a number or null. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evals.h"
#include "fuzz.h"

static const char tac_fmt[] =
    "Procedure { input = {n = field.number{}}, function(input) return {ok = true} end }\n"
    "Evaluation({ runs = 3, %s evaluators = {field.equals_expected{}} })\n";

/* Every number in the results is finite: unknown figures are null. */
static void finite_numbers(const cJSON *v, int depth)
{
    if (depth > 64) return;
    if (cJSON_IsNumber(v))
        FUZZ_REQUIRE(v->valuedouble == v->valuedouble && v->valuedouble - v->valuedouble == 0,
                     "a figure is finite (unknown ones are null)");
    const cJSON *c;
    cJSON_ArrayForEach(c, v) finite_numbers(c, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1u << 16) return 0;
    static const char *const names[] = {"cases.jsonl", "cases.json", "cases.csv", "base.json"};
    int kind = data[0] % 4;
    char dir[] = "/tmp/fuzz-evalfiles-XXXXXX";
    if (!mkdtemp(dir)) return 0;
    char file[128], tac_path[128];
    snprintf(file, sizeof file, "%s/%s", dir, names[kind]);
    snprintf(tac_path, sizeof tac_path, "%s/e.tac", dir);
    FILE *f = fopen(file, "wb");
    if (!f) goto out;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);

    char src[1024], ds[96];
    if (kind < 3)
        snprintf(ds, sizeof ds, "dataset_file = \"%s\",", names[kind]);
    else
        snprintf(ds, sizeof ds,
                 "dataset = {{name = \"a\", inputs = {n = 1}}, {name = \"b\", inputs = {}}},");
    snprintf(src, sizeof src, tac_fmt, ds);
    fe_context *fe = fe_context_new();
    fe_file *tac = NULL;
    ev_suite *suite = ev_suite_new();
    cJSON *baseline = NULL, *doc = NULL;
    char err[4096] = "";
    if (!fe || !suite || fe_parse(fe, tac_path, src, strlen(src), &tac) != TX_OK || !tac) goto done;
    ev_options o = {.runs = 0, .jobs = 1, .alpha = 0.05};
    if (kind == 3) {
        tx_status st = ev_baseline_load(file, &baseline, err, sizeof err);
        if (st != TX_OK) {
            FUZZ_REQUIRE(!baseline, "a refused baseline gives no document");
            FUZZ_REQUIRE(strncmp(err, file, strlen(file)) == 0,
                         "a refused baseline names its file");
            goto done;
        }
    }
    tx_status st = ev_suite_add(suite, tac, NULL, dir, &o, err, sizeof err);
    if (st == TX_EINVAL) {
        FUZZ_REQUIRE(kind < 3, "the fixed evaluation loads");
        FUZZ_REQUIRE(strstr(err, dir) != NULL, "a refused dataset says where");
        goto done;
    }
    if (st != TX_OK) goto done;
    FUZZ_REQUIRE(ev_suite_total_runs(suite) >= 3, "a loaded evaluation has cases to run");
    /* Nothing ran: every run counts as failed; the figures and the
     * comparison are computed all the same. */
    doc = ev_suite_results(suite, &o, baseline);
    if (!doc) goto done;
    finite_numbers(doc, 0);
    const cJSON *ev = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "evaluations"), 0);
    FUZZ_REQUIRE(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ev, "passed")),
                 "an evaluation whose runs did not run does not pass");
    if (baseline) {
        const cJSON *cmp = cJSON_GetObjectItemCaseSensitive(ev, "comparison");
        FUZZ_REQUIRE(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(cmp, "regressed")),
                     "a comparison has a verdict");
        const cJSON *base = cJSON_GetObjectItemCaseSensitive(cmp, "baseline");
        FUZZ_REQUIRE(cJSON_IsObject(base) || cJSON_IsNull(base), "the baseline is named or absent");
        static const char *const lists[] = {"cases",       "regressed_cases", "improved_cases",
                                            "added_cases", "removed_cases",   "renamed_cases"};
        for (size_t i = 0; cJSON_IsObject(base) && i < sizeof lists / sizeof lists[0]; i++)
            FUZZ_REQUIRE(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(cmp, lists[i])),
                         "the comparison's lists are lists");
    }
    /* Every renderer takes the document. */
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
        for (int fmt = EV_FORMAT_PRETTY; fmt <= EV_FORMAT_HTML; fmt++)
            ev_results_write(doc, (ev_format)fmt, sink, false, true);
        fclose(sink);
    }
done:
    cJSON_Delete(doc);
    cJSON_Delete(baseline);
    ev_suite_free(suite);
    fe_file_free(tac);
    fe_context_free(fe);
out:
    unlink(file);
    rmdir(dir);
    return 0;
}
