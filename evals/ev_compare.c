/*
 * ev_compare.c - an evaluation against its baseline (a document written by
 * `tactus eval --save`): case by case, the difference in success rate with
 * Newcombe's interval; as a whole, the paired bootstrap over the cases both
 * have (evstats.h). Cases are matched by name; a case missing on one side
 * whose inputs (their SHA-256) match a new case on the other is reported
 * renamed and compared under its new name; the rest are added or removed.
 * A baseline of another file version is compared as far as it matches:
 * nothing in it is trusted to be well formed beyond what ev_baseline_load
 * checked, and a field that is not what it should be counts as missing.
 *
 * Significance (docs/evaluations.md): intervals are two-sided at 1 - alpha.
 * A case regressed (improved) when its interval lies below (above) 0. The
 * evaluation regressed when the whole interval lies below 0, or a case's
 * interval at 1 - alpha/m (Bonferroni over the m compared cases) does:
 * with many cases, some would cross the line at alpha by chance alone.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ev_internal.h"
#include "proto.h"

typedef struct {
    const char *name;
    const char *sha;
    double passed, runs;
    bool used;
} side_case;

/* The cases of a document's evaluation, as far as they are well formed. */
static side_case *read_cases(const cJSON *ev, size_t *n)
{
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(ev, "cases");
    int size = cJSON_GetArraySize(cases);
    side_case *out = tx_calloc((size_t)size + 1, sizeof *out);
    *n = 0;
    if (!out) return NULL;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const char *name = hl_json_str(c, "name");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "passed");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(c, "counted_runs");
        if (!name || !cJSON_IsNumber(p) || !cJSON_IsNumber(r) || p->valuedouble < 0 ||
            r->valuedouble < p->valuedouble)
            continue;
        out[*n] = (side_case){name, hl_json_str(c, "inputs_sha256"), p->valuedouble, r->valuedouble,
                              false};
        (*n)++;
    }
    return out;
}

static side_case *find_name(side_case *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!list[i].used && strcmp(list[i].name, name) == 0) return &list[i];
    return NULL;
}

static side_case *find_sha(side_case *list, size_t n, const char *sha)
{
    for (size_t i = 0; sha && *sha && i < n; i++)
        if (!list[i].used && list[i].sha && strcmp(list[i].sha, sha) == 0) return &list[i];
    return NULL;
}

tx_status ev_compare_evaluation(cJSON *now, const cJSON *before, double alpha)
{
    cJSON *cmp = cJSON_AddObjectToObject(now, "comparison");
    if (!cmp) return TX_ENOMEM;
    cJSON_AddNumberToObject(cmp, "alpha", alpha);
    if (!before) {
        cJSON_AddNullToObject(cmp, "baseline");
        cJSON_AddStringToObject(cmp, "note",
                                "the baseline has no evaluation at this place (file and index); "
                                "nothing to compare with");
        cJSON_AddBoolToObject(cmp, "regressed", false);
        return TX_OK;
    }
    cJSON *from = cJSON_AddObjectToObject(cmp, "baseline");
    const char *bfile = hl_json_str(before, "file");
    cJSON_AddStringToObject(from, "file", bfile ? bfile : "");
    const cJSON *bix = cJSON_GetObjectItemCaseSensitive(before, "index");
    cJSON_AddItemToObject(from, "index", ev_number(cJSON_IsNumber(bix) ? bix->valuedouble : NAN));

    size_t nn = 0, nb = 0;
    side_case *a = read_cases(now, &nn), *b = read_cases(before, &nb);
    es_count *ca = tx_calloc(nn + 1, sizeof *ca), *cb = tx_calloc(nn + 1, sizeof *cb);
    side_case **pair = tx_calloc(nn + 1, sizeof *pair);
    bool *renamed = tx_calloc(nn + 1, sizeof *renamed);
    tx_status st = TX_ENOMEM;
    if (!a || !b || !ca || !cb || !pair || !renamed) goto done;
    /* Pairs: by name first, then renamed (same inputs) among the rest. */
    for (size_t i = 0; i < nn; i++)
        if ((pair[i] = find_name(b, nb, a[i].name))) pair[i]->used = true;
    for (size_t i = 0; i < nn; i++)
        if (!pair[i] && (pair[i] = find_sha(b, nb, a[i].sha))) {
            pair[i]->used = true;
            renamed[i] = true;
        }
    size_t m = 0;
    for (size_t i = 0; i < nn; i++)
        if (pair[i] && a[i].runs > 0 && pair[i]->runs > 0) m++;

    double confidence = 1.0 - alpha, strict = 1.0 - alpha / (double)(m ? m : 1);
    cJSON *cases = cJSON_AddArrayToObject(cmp, "cases");
    cJSON *reg = cJSON_AddArrayToObject(cmp, "regressed_cases");
    cJSON *imp = cJSON_AddArrayToObject(cmp, "improved_cases");
    cJSON *added = cJSON_AddArrayToObject(cmp, "added_cases");
    cJSON *removed = cJSON_AddArrayToObject(cmp, "removed_cases");
    cJSON *ren = cJSON_AddArrayToObject(cmp, "renamed_cases");
    bool case_regressed = false;
    size_t k = 0;
    for (size_t i = 0; i < nn; i++) {
        if (!pair[i]) {
            cJSON_AddItemToArray(added, cJSON_CreateString(a[i].name));
            continue;
        }
        if (renamed[i]) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "from", pair[i]->name);
            cJSON_AddStringToObject(r, "to", a[i].name);
            cJSON_AddItemToArray(ren, r);
        }
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "name", a[i].name);
        if (renamed[i]) cJSON_AddStringToObject(c, "baseline_name", pair[i]->name);
        double pn = a[i].runs > 0 ? a[i].passed / a[i].runs : NAN;
        double pb = pair[i]->runs > 0 ? pair[i]->passed / pair[i]->runs : NAN;
        cJSON_AddItemToObject(c, "success_rate", ev_number(pn));
        cJSON_AddItemToObject(c, "baseline_success_rate", ev_number(pb));
        cJSON_AddItemToObject(c, "difference", ev_number(pn - pb));
        es_interval iv =
            es_newcombe(a[i].passed, a[i].runs, pair[i]->passed, pair[i]->runs, confidence);
        es_interval strict_iv =
            es_newcombe(a[i].passed, a[i].runs, pair[i]->passed, pair[i]->runs, strict);
        cJSON_AddItemToObject(c, "interval", ev_interval_json(iv, confidence, "newcombe"));
        const char *status = iv.high < 0 ? "regressed" : iv.low > 0 ? "improved" : "unchanged";
        cJSON_AddStringToObject(c, "status", status);
        bool significant = strict_iv.high < 0;
        cJSON_AddBoolToObject(c, "significant_drop", significant);
        case_regressed |= significant;
        if (iv.high < 0) cJSON_AddItemToArray(reg, cJSON_CreateString(a[i].name));
        if (iv.low > 0) cJSON_AddItemToArray(imp, cJSON_CreateString(a[i].name));
        cJSON_AddItemToArray(cases, c);
        if (a[i].runs > 0 && pair[i]->runs > 0) {
            ca[k] = (es_count){a[i].passed, a[i].runs};
            cb[k] = (es_count){pair[i]->passed, pair[i]->runs};
            k++;
        }
    }
    for (size_t i = 0; i < nb; i++)
        if (!b[i].used) cJSON_AddItemToArray(removed, cJSON_CreateString(b[i].name));

    /* The whole: pooled rates over the compared cases, paired bootstrap. */
    double sn = 0, rn = 0, sb = 0, rb = 0;
    for (size_t i = 0; i < k; i++) {
        sn += ca[i].passed;
        rn += ca[i].runs;
        sb += cb[i].passed;
        rb += cb[i].runs;
    }
    es_interval whole;
    double p_drop;
    st = es_bootstrap_paired(ca, cb, k, confidence, ES_BOOTSTRAP_RESAMPLES, ES_BOOTSTRAP_SEED,
                             &whole, &p_drop);
    cJSON *w = cJSON_AddObjectToObject(cmp, "whole");
    cJSON_AddNumberToObject(w, "compared_cases", (double)k);
    cJSON_AddItemToObject(w, "success_rate", ev_number(rn > 0 ? sn / rn : NAN));
    cJSON_AddItemToObject(w, "baseline_success_rate", ev_number(rb > 0 ? sb / rb : NAN));
    cJSON_AddItemToObject(w, "difference", ev_number(rn > 0 && rb > 0 ? sn / rn - sb / rb : NAN));
    cJSON *wi = ev_interval_json(whole, confidence, "paired_case_bootstrap");
    cJSON_AddNumberToObject(wi, "resamples", ES_BOOTSTRAP_RESAMPLES);
    cJSON_AddItemToObject(w, "interval", wi);
    cJSON_AddNumberToObject(w, "p_drop", p_drop);
    bool whole_regressed = k > 0 && whole.high < 0;
    cJSON_AddBoolToObject(w, "significant_drop", whole_regressed);
    cJSON_AddBoolToObject(cmp, "regressed", whole_regressed || case_regressed);
done:
    tx_free(a);
    tx_free(b);
    tx_free(ca);
    tx_free(cb);
    tx_free(pair);
    tx_free(renamed);
    return st;
}

/* A guess at what wrote a JSON document that is not ours, for the message. */
static const char *looks_like(const cJSON *doc)
{
    if (cJSON_GetObjectItemCaseSensitive(doc, "features"))
        return " (it looks like a tactus test report)";
    if (cJSON_GetObjectItemCaseSensitive(doc, "diagnostics"))
        return " (it looks like a tactus check report)";
    if (cJSON_GetObjectItemCaseSensitive(doc, "runs")) return " (it looks like a SARIF log)";
    if (cJSON_GetObjectItemCaseSensitive(doc, "evaluations"))
        return " (it looks like the JSON report of an older tactus eval, before --save)";
    return "";
}

tx_status ev_baseline_load(const char *path, cJSON **out, char *err, size_t cap)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    int e = 0;
    tx_status st = tx_read_file(path, 256u << 20, &text, &len, &e);
    if (st != TX_OK) {
        snprintf(err, cap, "%s: cannot read the baseline: %s", path,
                 e                 ? strerror(e)
                 : st == TX_ELIMIT ? "larger than 256 MiB"
                                   : tx_status_str(st));
        return st == TX_ENOMEM ? TX_ENOMEM : TX_EINVAL;
    }
    char why[400];
    cJSON *doc = tp_json_parse_strict(text, len, TP_JSON_MAX_DEPTH, why, sizeof why);
    tx_free(text);
    int line = 0, col = 0, used = 0;
    if (!doc) {
        if (sscanf(why, "line %d, column %d: %n", &line, &col, &used) == 2 && used > 0)
            snprintf(err, cap,
                     "%s:%d:%d: the baseline is not JSON: %s; give a file written by tactus eval "
                     "--save",
                     path, line, col, why + used);
        else
            snprintf(err, cap, "%s:1:1: the baseline is not JSON: %s", path, why);
        return TX_EINVAL;
    }
    const char *tool = hl_json_str(doc, "tool");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "schema_version");
    if (!cJSON_IsObject(doc) || !tool || strcmp(tool, "tactus eval") != 0) {
        snprintf(err, cap,
                 "%s:1:1: not a tactus eval result: it has no \"tool\": \"tactus eval\"%s; give a "
                 "file written by tactus eval --save FILE",
                 path, cJSON_IsObject(doc) ? looks_like(doc) : "");
        cJSON_Delete(doc);
        return TX_EINVAL;
    }
    if (!cJSON_IsNumber(ver) || ver->valuedouble < 2 || ver->valuedouble > EV_SCHEMA_VERSION) {
        snprintf(err, cap,
                 "%s:1:1: the baseline's schema_version is %s; this tactus reads versions 2 to %d "
                 "(save the baseline again with this version)",
                 path, cJSON_IsNumber(ver) ? "not one it knows" : "missing", EV_SCHEMA_VERSION);
        cJSON_Delete(doc);
        return TX_EINVAL;
    }
    const cJSON *evs = cJSON_GetObjectItemCaseSensitive(doc, "evaluations"), *ev;
    bool ok = cJSON_IsArray(evs);
    cJSON_ArrayForEach(ev, evs) ok &=
        cJSON_IsObject(ev) && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(ev, "cases"));
    if (!ok) {
        snprintf(err, cap,
                 "%s:1:1: the baseline has no well-formed \"evaluations\" (a list of objects "
                 "with \"cases\"); give a file written by tactus eval --save FILE",
                 path);
        cJSON_Delete(doc);
        return TX_EINVAL;
    }
    *out = doc;
    return TX_OK;
}
