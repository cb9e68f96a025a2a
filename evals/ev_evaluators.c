/*
 * ev_evaluators.c - the evaluators of inventory D, each a pure function of
 * one run: its output, the case's expected output and the runtime's facts
 * (tool calls, state, agent turns, iterations, tokens).
 *
 * Each says pass or fail; the ones that may be unable to tell (llm_judge: a
 * malformed verdict; max_cost, max_tokens: a cost or tokens that are
 * unknown) say error instead, never pass. Cost and tokens are the host's
 * broker's figures, not the runtime's. llm_judge lives in ev_judge.c, the JSON Schema validator in
 * ev_schema.c.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <string.h>
#include <strings.h>

#include "ev_internal.h"

/* A check that can only pass or fail. */
typedef bool (*check_fn)(const cJSON *cfg, const ev_facts *f, tx_buf *why);
/* One that may also be unable to tell. */
typedef ev_verdict (*verdict_fn)(const cJSON *cfg, const ev_facts *f, tx_buf *why,
                                 double *agreement);

static const char *str(const cJSON *cfg, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *item(const cJSON *o, const char *k)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

/* The output (or its `field`) a check looks at. */
static const cJSON *target(const cJSON *cfg, const cJSON *output)
{
    const char *field = str(cfg, "field");
    return field ? item(output, field) : output;
}

static char *text_of(const cJSON *v)
{
    if (cJSON_IsString(v)) return tx_strdup(v->valuestring);
    if (!v || cJSON_IsNull(v)) return tx_strdup("");
    char *s = cJSON_PrintUnformatted(v);
    char *out = tx_strdup(s ? s : "");
    cJSON_free(s);
    return out;
}

static void show(tx_buf *why, const cJSON *v)
{
    char *s = v ? cJSON_PrintUnformatted(v) : NULL;
    tx_buf_puts(why, s ? s : "nil");
    cJSON_free(s);
}

/* JSON equality where 2 equals 2.0 and an expected object may name only
 * some of the actual object's keys. */
static bool matches_expected(const cJSON *want, const cJSON *got)
{
    if (cJSON_IsNumber(want) && cJSON_IsNumber(got))
        return fabs(want->valuedouble - got->valuedouble) <=
               1e-9 * fmax(1, fabs(want->valuedouble));
    if (cJSON_IsObject(want) && cJSON_IsObject(got)) {
        const cJSON *w;
        cJSON_ArrayForEach(w, want)
        {
            if (!matches_expected(w, cJSON_GetObjectItemCaseSensitive(got, w->string)))
                return false;
        }
        return true;
    }
    if (cJSON_IsArray(want) && cJSON_IsArray(got)) {
        if (cJSON_GetArraySize(want) != cJSON_GetArraySize(got)) return false;
        for (int i = 0; i < cJSON_GetArraySize(want); i++)
            if (!matches_expected(cJSON_GetArrayItem(want, i), cJSON_GetArrayItem(got, i)))
                return false;
        return true;
    }
    return want && got && cJSON_Compare(want, got, true);
}

static bool equals_expected(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *output = f->output, *expected = f->expected, *report = f->report;
    (void)report;
    if (!expected || cJSON_IsNull(expected)) return true; /* nothing to compare with */
    const char *field = str(cfg, "field");
    const cJSON *want = field ? item(expected, field) : expected;
    const cJSON *got = field ? item(output, field) : output;
    if (field && !want) return true;
    if (matches_expected(want, got)) return true;
    tx_buf_printf(why, "expected %s%s", field ? field : "the output", field ? " " : " ");
    show(why, want);
    tx_buf_puts(why, ", got ");
    show(why, got);
    return false;
}

static bool exact_match(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *output = f->output, *expected = f->expected, *report = f->report;
    (void)report;
    const cJSON *want = item(cfg, "value") ? item(cfg, "value") : expected;
    const cJSON *got = target(cfg, output);
    if (!want) return true;
    if (got && cJSON_Compare(want, got, true)) return true;
    tx_buf_puts(why, "expected exactly ");
    show(why, want);
    tx_buf_puts(why, ", got ");
    show(why, got);
    return false;
}

static bool has_text(const char *hay, const char *needle, bool fold)
{
    if (!fold) return strstr(hay, needle) != NULL;
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return true;
    return n == 0;
}

static bool contains(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *output = f->output, *expected = f->expected, *report = f->report;
    (void)expected, (void)report;
    const char *want = str(cfg, "value");
    if (!want) want = str(cfg, "expected");
    const cJSON *cs = item(cfg, "case_sensitive");
    char *got = text_of(target(cfg, output));
    bool ok = got && want && has_text(got, want, cJSON_IsFalse(cs));
    if (!ok) tx_buf_printf(why, "\"%s\" does not contain \"%s\"", got ? got : "", want ? want : "");
    tx_free(got);
    return ok;
}

static bool contains_any(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *output = f->output, *expected = f->expected, *report = f->report;
    (void)report;
    const cJSON *list = item(cfg, "value");
    const char *key = str(cfg, "check_expected");
    if (key) list = item(expected, key);
    char *got = text_of(target(cfg, output));
    bool ok = false;
    const cJSON *c;
    cJSON_ArrayForEach(c, list)
    {
        if (cJSON_IsString(c) && got && has_text(got, c->valuestring, true)) ok = true;
    }
    if (!ok) {
        tx_buf_printf(why, "\"%s\" contains none of ", got ? got : "");
        show(why, list);
    }
    tx_free(got);
    return ok;
}

static double size_of(const cJSON *v)
{
    if (cJSON_IsString(v)) return (double)tx_utf8_count(v->valuestring, strlen(v->valuestring));
    if (cJSON_IsArray(v) || cJSON_IsObject(v)) return cJSON_GetArraySize(v);
    return -1;
}

static bool length(const cJSON *cfg, const cJSON *output, const cJSON *expected, bool min,
                   tx_buf *why)
{
    const cJSON *v = item(cfg, "value");
    const char *key = str(cfg, "check_expected");
    double limit = cJSON_IsNumber(v) ? v->valuedouble : 0;
    if (key) limit = size_of(item(expected, key));
    double n = size_of(target(cfg, output));
    if (n < 0) {
        tx_buf_puts(why, "the value has no length (not a string, list or table): ");
        show(why, target(cfg, output));
        return false;
    }
    if (min ? n >= limit : n <= limit) return true;
    tx_buf_printf(why, "length %g is %s than %g", n, min ? "less" : "more", limit);
    return false;
}

static bool min_length(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *output = f->output, *expected = f->expected, *report = f->report;
    (void)report;
    return length(cfg, output, expected, true, why);
}

static bool max_length(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *output = f->output, *expected = f->expected, *report = f->report;
    (void)report;
    return length(cfg, output, expected, false, why);
}

static bool is_instance(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *output = f->output, *expected = f->expected, *report = f->report;
    (void)expected, (void)report;
    const char *t = str(cfg, "value");
    const cJSON *v = target(cfg, output);
    bool ok = false;
    if (!t) t = "";
    if (!strcmp(t, "str") || !strcmp(t, "string"))
        ok = cJSON_IsString(v);
    else if (!strcmp(t, "int") || !strcmp(t, "integer"))
        ok = cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble);
    else if (!strcmp(t, "float") || !strcmp(t, "number"))
        ok = cJSON_IsNumber(v);
    else if (!strcmp(t, "bool") || !strcmp(t, "boolean"))
        ok = cJSON_IsBool(v);
    else if (!strcmp(t, "list") || !strcmp(t, "array"))
        ok = cJSON_IsArray(v);
    else if (!strcmp(t, "dict") || !strcmp(t, "object") || !strcmp(t, "table"))
        ok = cJSON_IsObject(v);
    if (!ok) {
        tx_buf_printf(why, "expected a value of type %s, got ", t);
        show(why, v);
    }
    return ok;
}

static bool regex(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *output = f->output, *expected = f->expected, *report = f->report;
    (void)expected, (void)report;
    const char *pattern = str(cfg, "value");
    if (!pattern) pattern = str(cfg, "pattern");
    int err;
    PCRE2_SIZE off;
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    if (cJSON_IsFalse(item(cfg, "case_sensitive"))) opts |= PCRE2_CASELESS;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)(pattern ? pattern : ""), PCRE2_ZERO_TERMINATED,
                                   opts, &err, &off, NULL);
    if (!re) {
        tx_buf_printf(why, "the pattern \"%s\" is not a valid regular expression",
                      pattern ? pattern : "");
        return false;
    }
    char *got = text_of(target(cfg, output));
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    bool ok = got && md && pcre2_match(re, (PCRE2_SPTR)got, strlen(got), 0, 0, md, NULL) >= 0;
    if (!ok)
        tx_buf_printf(why, "\"%s\" does not match \"%s\"", got ? got : "", pattern ? pattern : "");
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    tx_free(got);
    return ok;
}

/* min_value/max_value, or value = {min = ..., max = ...}. */
static void bounds(const cJSON *cfg, double *lo, double *hi)
{
    const cJSON *v = item(cfg, "value");
    const cJSON *mn = item(cfg, "min_value"), *mx = item(cfg, "max_value");
    if (!mn) mn = item(v, "min");
    if (!mx) mx = item(v, "max");
    if (cJSON_IsNumber(mn)) *lo = mn->valuedouble;
    if (cJSON_IsNumber(mx)) *hi = mx->valuedouble;
}

static bool in_bounds(const char *what, double n, double lo, double hi, tx_buf *why)
{
    if (n >= lo && n <= hi) return true;
    tx_buf_printf(why, "%s is %g, outside [%g, %g]", what, n, lo, hi);
    return false;
}

static bool range(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *output = f->output, *expected = f->expected, *report = f->report;
    (void)expected, (void)report;
    const cJSON *v = target(cfg, output);
    double lo = -INFINITY, hi = INFINITY;
    bounds(cfg, &lo, &hi);
    if (!cJSON_IsNumber(v)) {
        tx_buf_puts(why, "expected a number, got ");
        show(why, v);
        return false;
    }
    return in_bounds(str(cfg, "field") ? str(cfg, "field") : "the output", v->valuedouble, lo, hi,
                     why);
}

static bool tool_called(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *output = f->output, *expected = f->expected, *report = f->report;
    (void)output, (void)expected;
    const char *tool = str(cfg, "value");
    double lo = 1, hi = INFINITY;
    bounds(cfg, &lo, &hi);
    if (cJSON_IsNumber(item(cfg, "min_value"))) lo = item(cfg, "min_value")->valuedouble;
    int n = cJSON_GetArraySize(item(item(report, "tools"), tool ? tool : ""));
    char what[200];
    snprintf(what, sizeof what, "calls of %s", tool ? tool : "?");
    return in_bounds(what, n, lo, hi, why);
}

static bool state_check(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *output = f->output, *expected = f->expected, *report = f->report;
    (void)output, (void)expected;
    const char *var = str(cfg, "field");
    const cJSON *want = item(cfg, "value");
    const cJSON *got = item(item(report, "state"), var ? var : "");
    if (matches_expected(want, got)) return true;
    tx_buf_printf(why, "state %s is ", var ? var : "?");
    show(why, got);
    tx_buf_puts(why, ", expected ");
    show(why, want);
    return false;
}

static bool agent_turns(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *output = f->output, *expected = f->expected, *report = f->report;
    (void)output, (void)expected;
    const char *agent = str(cfg, "field");
    double lo = 0, hi = INFINITY;
    bounds(cfg, &lo, &hi);
    const cJSON *t = item(item(item(report, "agents"), agent ? agent : ""), "turns");
    char what[200];
    snprintf(what, sizeof what, "turns of %s", agent ? agent : "?");
    return in_bounds(what, cJSON_IsNumber(t) ? t->valuedouble : 0, lo, hi, why);
}

static bool report_at_most(const char *key, const char *what, double dflt, const cJSON *cfg,
                           const cJSON *report, tx_buf *why)
{
    const cJSON *v = item(cfg, "value");
    double limit = cJSON_IsNumber(v) ? v->valuedouble : dflt;
    const cJSON *n = item(report, key);
    return in_bounds(what, cJSON_IsNumber(n) ? n->valuedouble : 0, 0, limit, why);
}

static bool max_iterations(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *output = f->output, *expected = f->expected, *report = f->report;
    (void)output, (void)expected;
    return report_at_most("iterations", "iterations", 10, cfg, report, why);
}

/* The procedure's model tokens, as the host's broker counted them. Tokens
 * that are unknown (a provider that reported no usage) are an error, not a
 * pass. */
static ev_verdict max_tokens(const cJSON *cfg, const ev_facts *f, tx_buf *why, double *agreement)
{
    (void)agreement;
    const cJSON *v = item(cfg, "value");
    double limit = cJSON_IsNumber(v) ? v->valuedouble : 10000;
    if (f->usage && !br_usage_tokens_known(f->usage)) {
        tx_buf_printf(why, "the run's tokens are unknown: %.0f call%s reported no usage",
                      f->usage->unknown_calls, f->usage->unknown_calls == 1 ? "" : "s");
        return EV_ERROR;
    }
    double used = f->usage ? f->usage->prompt_tokens + f->usage->completion_tokens : 0;
    return in_bounds("tokens", used, 0, limit, why) ? EV_PASS : EV_FAIL;
}

/* The procedure's cost in US dollars (default limit 1.0, as the original),
 * priced by the host's broker. A cost that is unknown (a model with no
 * price, a call that reported no usage) is an error, not a pass. */
static ev_verdict max_cost(const cJSON *cfg, const ev_facts *f, tx_buf *why, double *agreement)
{
    (void)agreement;
    const cJSON *v = item(cfg, "value");
    double limit = cJSON_IsNumber(v) ? v->valuedouble : 1.0;
    if (f->usage && !br_usage_cost_known(f->usage)) {
        if (f->usage->unknown_calls > 0)
            tx_buf_printf(why, "the run's cost is unknown: %.0f call%s reported no usage",
                          f->usage->unknown_calls, f->usage->unknown_calls == 1 ? "" : "s");
        else
            tx_buf_printf(why,
                          "the run's cost is unknown: %.0f call%s to %s, which has no price (add "
                          "it to prices in the host's configuration, docs/broker.md)",
                          f->usage->unpriced_calls, f->usage->unpriced_calls == 1 ? "" : "s",
                          f->usage->unpriced_model);
        return EV_ERROR;
    }
    double cost = f->usage ? f->usage->cost_usd : 0;
    if (cost <= limit) return EV_PASS;
    tx_buf_printf(why, "cost $%.6f is more than $%.6f", cost, limit);
    return EV_FAIL;
}

/* The output (or its `field`) against an inline JSON Schema: `json_schema`
 * or `value`. */
static bool json_schema(const cJSON *cfg, const ev_facts *f, tx_buf *why)
{
    const cJSON *schema = item(cfg, "json_schema") ? item(cfg, "json_schema") : item(cfg, "value");
    return ev_schema_check(schema, target(cfg, f->output), why);
}

static bool schema_given(const cJSON *cfg, char *err, size_t cap)
{
    const cJSON *schema = item(cfg, "json_schema") ? item(cfg, "json_schema") : item(cfg, "value");
    if (!schema) {
        snprintf(err, cap,
                 "evaluator 'json_schema' needs json_schema = {type = \"object\", ...} (or value "
                 "= {...})");
        return false;
    }
    return ev_schema_valid(schema, err, cap);
}

/* The judge of each kind the evaluator catalogue (ck_evals.c, shared with
 * `tactus check`) marks implemented; which kinds exist, what they need and
 * which cannot run yet is the catalogue's alone. test_evals holds the two
 * to each other. */
static const struct {
    const char *type;
    check_fn check;     /* pass or fail */
    verdict_fn verdict; /* or: pass, fail or error */
    bool (*valid)(const cJSON *cfg, char *err, size_t cap); /* more checks, or NULL */
} judges[] = {
    {"equals_expected", equals_expected, NULL, NULL},
    {"equals", equals_expected, NULL, NULL},
    {"exact_match", exact_match, NULL, NULL},
    {"contains", contains, NULL, NULL},
    {"contains_any", contains_any, NULL, NULL},
    {"is_instance", is_instance, NULL, NULL},
    {"min_length", min_length, NULL, NULL},
    {"max_length", max_length, NULL, NULL},
    {"regex", regex, NULL, NULL},
    {"range", range, NULL, NULL},
    {"tool_called", tool_called, NULL, NULL},
    {"state_check", state_check, NULL, NULL},
    {"agent_turns", agent_turns, NULL, NULL},
    {"max_iterations", max_iterations, NULL, NULL},
    {"max_tokens", NULL, max_tokens, NULL},
    {"max_cost", NULL, max_cost, NULL},
    {"json_schema", json_schema, NULL, schema_given},
    {"llm_judge", NULL, ev_judge, ev_judge_valid},
};

#define N_JUDGES (sizeof judges / sizeof judges[0])

static int judge_of(const char *type)
{
    for (size_t i = 0; type && i < N_JUDGES; i++)
        if (strcmp(judges[i].type, type) == 0) return (int)i;
    return -1;
}

bool ev_judges_match_catalogue(char *why, size_t cap)
{
    size_t n;
    const ck_evaluator_kind *kinds = ck_evaluator_kinds(&n);
    for (size_t i = 0; i < n; i++)
        if (!kinds[i].unavailable && judge_of(kinds[i].kind) < 0) {
            snprintf(why, cap, "the catalogue marks '%s' implemented, and evals has no judge for it",
                     kinds[i].kind);
            return false;
        }
    for (size_t i = 0; i < N_JUDGES; i++) {
        const ck_evaluator_kind *k = ck_evaluator_find(judges[i].type);
        if (!k || k->unavailable) {
            snprintf(why, cap, "evals judges '%s', which the catalogue %s", judges[i].type,
                     k ? "marks unavailable" : "does not list");
            return false;
        }
    }
    return true;
}

static bool has_option(const char *key, void *cfg)
{
    return item(cfg, key) != NULL;
}

bool ev_evaluator_valid(const cJSON *cfg, char *err, size_t cap)
{
    const char *type = str(cfg, "type");
    if (ck_evaluator_problem(type, has_option, (void *)cfg, err, cap)) return false;
    int k = judge_of(type);
    if (k < 0) {
        snprintf(err, cap, "evaluator type '%s' has no judge in this build", type);
        return false;
    }
    return !judges[k].valid || judges[k].valid(cfg, err, cap);
}

void ev_evaluator_label(const cJSON *cfg, char *out, size_t cap)
{
    const char *name = str(cfg, "name"), *type = str(cfg, "type"), *field = str(cfg, "field");
    if (name)
        snprintf(out, cap, "%s", name);
    else if (field)
        snprintf(out, cap, "%s(%s)", type ? type : "?", field);
    else if (type && !strcmp(type, "tool_called") && str(cfg, "value"))
        snprintf(out, cap, "%s(%s)", type, str(cfg, "value"));
    else
        snprintf(out, cap, "%s", type ? type : "?");
}

ev_verdict ev_evaluate(const cJSON *cfg, const ev_facts *f, tx_buf *why, double *agreement)
{
    int k = judge_of(str(cfg, "type"));
    if (agreement) *agreement = NAN;
    if (k < 0) {
        tx_buf_puts(why, "evaluator not available");
        return EV_ERROR;
    }
    if (judges[k].verdict) return judges[k].verdict(cfg, f, why, agreement);
    return judges[k].check(cfg, f, why) ? EV_PASS : EV_FAIL;
}
