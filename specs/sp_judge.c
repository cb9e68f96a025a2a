/*
 * sp_judge.c - what each built-in step does (inventory C.2): setup steps
 * shape the scenario's run, assertions judge its result.
 *
 * Steps are bound to handlers by the checker's step templates, so the
 * pattern library stays in one place (checker/ck_steps.c) and a pattern
 * without a handler is caught by a unit test, not by a user.
 * Failure messages say what was expected and what the run gave.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_internal.h"

typedef bool (*setup_fn)(const sp_step *st, sp_setup *s, tx_buf *why);
typedef bool (*judge_fn)(const sp_step *st, const sp_facts *f, tx_buf *why);

struct sp_handler {
    const char *template;
    sp_role role;
    setup_fn setup;
    judge_fn judge;
};

/* ---- helpers --------------------------------------------------------------------------------- */

static const cJSON *report_get(const sp_facts *f, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(f->report, key);
}

static const cJSON *output_get(const sp_facts *f, const char *key)
{
    return cJSON_IsObject(f->res->output) ? cJSON_GetObjectItemCaseSensitive(f->res->output, key)
                                          : NULL;
}

/* A quoted argument's content, or the text itself (owned). */
static char *text_arg(const char *s)
{
    char *q = sp_unquote(s);
    return q ? q : tx_strdup(s);
}

static void show(tx_buf *why, const cJSON *v)
{
    sp_render_value(v, why);
}

static long arg_long(const sp_step *st, const char *name)
{
    return strtol(sp_arg(st, name), NULL, 10);
}

/* Whether the pattern matches somewhere in text; false with a message on a
 * bad pattern. */
static bool regex_search(const char *pattern, const char *text, bool *bad, tx_buf *why)
{
    int err;
    PCRE2_SIZE off;
    *bad = false;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        tx_buf_printf(why, "the pattern \"%s\" is not a valid regular expression: %s at offset %zu",
                      pattern, (const char *)msg, (size_t)off);
        *bad = true;
        return false;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = md ? pcre2_match(re, (PCRE2_SPTR)text, strlen(text), 0, 0, md, NULL) : -1;
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc >= 0;
}

static char *as_text(const cJSON *v)
{
    tx_buf b;
    tx_buf_init(&b, SP_TEXT_MAX);
    sp_render_py(v, &b);
    char *s = tx_buf_steal(&b);
    return s ? s : tx_strdup("");
}

/* ---- setup ----------------------------------------------------------------------------------- */

static void replace_item(cJSON *obj, const char *key, cJSON *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddItemToObject(obj, key, v);
}

static void set_input(sp_setup *s, const char *key, cJSON *v)
{
    replace_item(s->inputs, key, v);
}

static bool input_string(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)why;
    set_input(s, sp_arg(st, "key"), cJSON_CreateString(sp_arg(st, "value")));
    return true;
}

/* A whole number from 2^53 on would reach the procedure as another number
 * (9007199254740993 as ...992): refused, as `tactus run --input` refuses
 * it, never passed on changed. True if v holds one (at any depth). */
static bool inexact_number(const cJSON *v, tx_buf *why, const char *key)
{
    if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
        fabs(v->valuedouble) >= 9007199254740992.0) {
        tx_buf_printf(why,
                      "the input %s: a whole number beyond +-9007199254740991 (2^53 - 1), which "
                      "would arrive as another number; write it as a string, in quotes",
                      key);
        return true;
    }
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next)
        if (inexact_number(c, why, key)) return true;
    return false;
}

static bool input_number(const sp_step *st, sp_setup *s, tx_buf *why)
{
    cJSON *n = cJSON_CreateNumber(strtod(sp_arg(st, "value"), NULL));
    if (inexact_number(n, why, sp_arg(st, "key"))) {
        cJSON_Delete(n);
        return false;
    }
    set_input(s, sp_arg(st, "key"), n);
    return true;
}

/* [a, b] as a literal list, else split at commas with numbers coerced. */
static bool input_list(const sp_step *st, sp_setup *s, tx_buf *why)
{
    const char *values = sp_arg(st, "values");
    tx_buf b;
    tx_buf_init(&b, SP_TEXT_MAX);
    tx_buf_printf(&b, "[%s]", values);
    cJSON *list = b.data ? sp_literal_parse(b.data) : NULL;
    tx_buf_free(&b);
    if (!list) {
        list = cJSON_CreateArray();
        const char *p = values;
        while (*p) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            while (n && (*p == ' ' || *p == '\t'))
                p++, n--;
            while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
            char *item = tx_strndup(p, n);
            char *end;
            double d = item ? strtod(item, &end) : 0;
            if (item && *item && !*end)
                cJSON_AddItemToArray(list, cJSON_CreateNumber(d));
            else if (item)
                cJSON_AddItemToArray(list, cJSON_CreateString(item));
            tx_free(item);
            if (!comma) break;
            p = comma + 1;
        }
    }
    if (inexact_number(list, why, sp_arg(st, "key"))) {
        cJSON_Delete(list);
        return false;
    }
    set_input(s, sp_arg(st, "key"), list);
    return true;
}

static cJSON *tool_mock(sp_setup *s, const char *tool)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(s->tool_mocks, tool);
    if (!m) m = cJSON_AddObjectToObject(s->tool_mocks, tool);
    return m;
}

static bool tool_returns(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)why;
    replace_item(tool_mock(s, sp_arg(st, "tool")), "returns", sp_value_parse(sp_arg(st, "value")));
    return true;
}

static cJSON *dependency_response(const sp_step *st)
{
    const char *r = sp_arg(st, "response");
    cJSON *v = sp_literal_parse(r);
    return v ? v : cJSON_CreateString(r);
}

static bool dep_returns(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)why;
    replace_item(tool_mock(s, sp_arg(st, "dep")), "returns", dependency_response(st));
    return true;
}

static bool dep_returns_for(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)why;
    cJSON *m = tool_mock(s, sp_arg(st, "dep"));
    cJSON *cond = cJSON_GetObjectItemCaseSensitive(m, "conditional");
    if (!cond) cond = cJSON_AddArrayToObject(m, "conditional");
    cJSON *rule = cJSON_CreateObject();
    cJSON_AddStringToObject(cJSON_AddObjectToObject(rule, "when"), "path", sp_arg(st, "path"));
    cJSON_AddItemToObject(rule, "returns", dependency_response(st));
    cJSON_AddItemToArray(cond, rule);
    return true;
}

static bool dep_returns_status(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)why;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "status", (double)arg_long(st, "status"));
    cJSON_AddItemToObject(r, "body", dependency_response(st));
    replace_item(tool_mock(s, sp_arg(st, "dep")), "returns", r);
    return true;
}

/* The turn list of an agent; `fresh` starts a new turn. */
static cJSON *agent_turn(sp_setup *s, const char *agent, bool fresh)
{
    cJSON *turns = cJSON_GetObjectItemCaseSensitive(s->agent_turns, agent);
    if (!turns) turns = cJSON_AddArrayToObject(s->agent_turns, agent);
    int n = cJSON_GetArraySize(turns);
    if (!fresh && n > 0) return cJSON_GetArrayItem(turns, n - 1);
    cJSON *t = cJSON_CreateObject();
    if (s->when_message) cJSON_AddStringToObject(t, "when_message", s->when_message);
    cJSON_AddItemToArray(turns, t);
    return t;
}

/* Each "responds with" is one more turn; "calls tool" and "returns data"
 * add to the last turn (inventory C.3). */
static bool agent_responds(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)why;
    cJSON *turn = agent_turn(s, sp_arg(st, "agent"), true);
    char *m = text_arg(sp_arg(st, "message"));
    cJSON_AddStringToObject(turn, "message", m ? m : "");
    tx_free(m);
    return true;
}

static bool agent_calls(const sp_step *st, sp_setup *s, tx_buf *why)
{
    cJSON *args = sp_literal_parse(sp_arg(st, "args"));
    if (!cJSON_IsObject(args)) {
        cJSON_Delete(args);
        tx_buf_printf(why,
                      "the tool arguments %s are not a dict; write them as {\"key\": \"value\"}",
                      sp_arg(st, "args"));
        return false;
    }
    cJSON *turn = agent_turn(s, sp_arg(st, "agent"), false);
    cJSON *calls = cJSON_GetObjectItemCaseSensitive(turn, "tool_calls");
    if (!calls) calls = cJSON_AddArrayToObject(turn, "tool_calls");
    cJSON *call = cJSON_CreateObject();
    cJSON_AddStringToObject(call, "tool", sp_arg(st, "tool"));
    cJSON_AddItemToObject(call, "args", args);
    cJSON_AddItemToArray(calls, call);
    return true;
}

static bool agent_data(const sp_step *st, sp_setup *s, tx_buf *why)
{
    cJSON *data = sp_literal_parse(sp_arg(st, "data"));
    if (!data) {
        tx_buf_printf(why, "%s is not a literal value; write JSON such as {\"score\": 3}",
                      sp_arg(st, "data"));
        return false;
    }
    replace_item(agent_turn(s, sp_arg(st, "agent"), false), "data", data);
    return true;
}

static bool message_is(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)why;
    tx_free(s->when_message);
    s->when_message = text_arg(sp_arg(st, "message"));
    return true;
}

static void human_kind(sp_setup *s, const char *kind, cJSON *v)
{
    cJSON *kinds = cJSON_GetObjectItemCaseSensitive(s->human, "kinds");
    if (!kinds) kinds = cJSON_AddObjectToObject(s->human, "kinds");
    replace_item(kinds, kind, v);
}

static bool human_approve(const sp_step *st, sp_setup *s, tx_buf *why)
{
    const char *v = sp_arg(st, "value");
    if (!tx_str_ieq(v, "true") && !tx_str_ieq(v, "false")) {
        tx_buf_printf(why, "Human.approve will return true or false, not %s", v);
        return false;
    }
    human_kind(s, "approve", cJSON_CreateBool(tx_str_ieq(v, "true")));
    return true;
}

static bool human_input(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)why;
    human_kind(s, "input", cJSON_CreateString(sp_arg(st, "value")));
    return true;
}

static bool human_review(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)why;
    human_kind(s, "review", sp_value_parse(sp_arg(st, "value")));
    return true;
}

static void human_prefix(sp_setup *s, const char *prefix, cJSON *v)
{
    cJSON *list = cJSON_GetObjectItemCaseSensitive(s->human, "prefixes");
    if (!list) list = cJSON_AddArrayToObject(s->human, "prefixes");
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "prefix", prefix);
    cJSON_AddItemToObject(p, "value", v);
    cJSON_AddItemToArray(list, p);
}

static bool asked_value(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)why;
    human_prefix(s, sp_arg(st, "prefix"), cJSON_CreateString(sp_arg(st, "value")));
    return true;
}

static bool asked_literal(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)why;
    human_prefix(s, sp_arg(st, "prefix"), sp_value_parse(sp_arg(st, "value")));
    return true;
}

static bool presses_yes(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)st, (void)why;
    human_kind(s, "approve", cJSON_CreateTrue());
    return true;
}

static bool presses_no(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)st, (void)why;
    human_kind(s, "approve", cJSON_CreateFalse());
    return true;
}

static bool user_enters(const sp_step *st, sp_setup *s, tx_buf *why)
{
    (void)why;
    human_kind(s, "input", cJSON_CreateString(sp_arg(st, "value")));
    return true;
}

/* ---- tools ------------------------------------------------------------------------------------
 */

static const cJSON *tool_calls(const sp_facts *f, const char *tool)
{
    return cJSON_GetObjectItemCaseSensitive(report_get(f, "tools"), tool);
}

static void called_names(const sp_facts *f, tx_buf *why)
{
    const cJSON *tools = report_get(f, "tools");
    if (!cJSON_GetArraySize(tools)) {
        tx_buf_puts(why, "no tool was called");
        return;
    }
    tx_buf_puts(why, "tools called: ");
    const cJSON *t;
    bool first = true;
    cJSON_ArrayForEach(t, tools)
    {
        tx_buf_printf(why, "%s%s (%d)", first ? "" : ", ", t->string, cJSON_GetArraySize(t));
        first = false;
    }
}

static bool tool_called(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    if (cJSON_GetArraySize(tool_calls(f, sp_arg(st, "tool"))) > 0) return true;
    tx_buf_printf(why, "expected the %s tool to be called, but it was not; ", sp_arg(st, "tool"));
    called_names(f, why);
    return false;
}

static bool tool_not_called(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    int n = cJSON_GetArraySize(tool_calls(f, sp_arg(st, "tool")));
    if (n == 0) return true;
    tx_buf_printf(why, "expected the %s tool not to be called, but it was called %d time%s",
                  sp_arg(st, "tool"), n, n == 1 ? "" : "s");
    return false;
}

static bool count_check(const char *what, int n, long want, bool exact, tx_buf *why)
{
    if (exact ? n == want : n >= want) return true;
    tx_buf_printf(why, "expected %s to be called %s %ld time%s, but it was called %d time%s", what,
                  exact ? "exactly" : "at least", want, want == 1 ? "" : "s", n, n == 1 ? "" : "s");
    return false;
}

static bool tool_at_least(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    char what[300];
    snprintf(what, sizeof what, "the %s tool", sp_arg(st, "tool"));
    return count_check(what, cJSON_GetArraySize(tool_calls(f, sp_arg(st, "tool"))),
                       arg_long(st, "n"), false, why);
}

static bool tool_exactly(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    char what[300];
    snprintf(what, sizeof what, "the %s tool", sp_arg(st, "tool"));
    return count_check(what, cJSON_GetArraySize(tool_calls(f, sp_arg(st, "tool"))),
                       arg_long(st, "n"), true, why);
}

/* Some call of the tool whose argument `param` satisfies the test. */
static bool tool_with(const sp_step *st, const sp_facts *f, const char *pattern, tx_buf *why)
{
    const char *tool = sp_arg(st, "tool"), *param = sp_arg(st, "param");
    const cJSON *calls = tool_calls(f, tool);
    if (!cJSON_GetArraySize(calls)) {
        tx_buf_printf(why, "expected the %s tool to be called with %s, but it was not called", tool,
                      param);
        return false;
    }
    char *want = pattern ? NULL : text_arg(sp_arg(st, "value"));
    tx_buf seen;
    tx_buf_init(&seen, 2048);
    const cJSON *c;
    bool ok = false, bad = false;
    cJSON_ArrayForEach(c, calls)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, param);
        char *got = as_text(v);
        if (pattern ? regex_search(pattern, got, &bad, why)
                    : (want && (strcmp(got, want) == 0 || sp_value_equals(v, sp_arg(st, "value")))))
            ok = true;
        if (seen.len) tx_buf_puts(&seen, ", ");
        sp_render_value(v, &seen);
        tx_free(got);
        if (ok || bad) break;
    }
    if (!ok && !bad) {
        if (pattern)
            tx_buf_printf(why, "expected a call of the %s tool with %s matching \"%s\"; %s was ",
                          tool, param, pattern, param);
        else
            tx_buf_printf(why, "expected a call of the %s tool with %s=%s; %s was ", tool, param,
                          want ? want : "", param);
        tx_buf_printf(why, "%s", seen.data ? seen.data : "");
    }
    tx_buf_free(&seen);
    tx_free(want);
    return ok;
}

static bool tool_with_value(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    return tool_with(st, f, NULL, why);
}

static bool tool_with_pattern(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    return tool_with(st, f, sp_arg(st, "pattern"), why);
}

/* Dependencies (v0.10 mock steps) are tools here; an agent of that name
 * counts its turns. */
static int dependency_calls(const sp_facts *f, const char *dep)
{
    const cJSON *calls = tool_calls(f, dep);
    if (calls) return cJSON_GetArraySize(calls);
    const cJSON *agent = cJSON_GetObjectItemCaseSensitive(report_get(f, "agents"), dep);
    const cJSON *turns = cJSON_GetObjectItemCaseSensitive(agent, "turns");
    return cJSON_IsNumber(turns) ? turns->valueint : 0;
}

static bool dep_called(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    if (dependency_calls(f, sp_arg(st, "dep")) > 0) return true;
    tx_buf_printf(why, "expected %s to have been called, but it was not; ", sp_arg(st, "dep"));
    called_names(f, why);
    return false;
}

static bool dep_not_called(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    int n = dependency_calls(f, sp_arg(st, "dep"));
    if (n == 0) return true;
    tx_buf_printf(why, "expected %s not to have been called, but it was called %d time%s",
                  sp_arg(st, "dep"), n, n == 1 ? "" : "s");
    return false;
}

static bool dep_called_times(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    return count_check(sp_arg(st, "dep"), dependency_calls(f, sp_arg(st, "dep")),
                       arg_long(st, "count"), true, why);
}

/* ---- state and output -------------------------------------------------------------------------
 */

static bool value_is(const char *what, const char *key, const cJSON *v, const char *expected,
                     bool negate, tx_buf *why)
{
    if (sp_value_equals(v, expected) != negate) return true;
    tx_buf_printf(why, "expected %s%s%s %sto be %s, got ", what, *key ? " " : "", key,
                  negate ? "not " : "", expected);
    show(why, v);
    return false;
}

static bool exists(const char *what, const char *key, const cJSON *v, tx_buf *why)
{
    if (v && !cJSON_IsNull(v)) return true;
    tx_buf_printf(why, "expected %s %s to exist, but it is nil", what, key);
    return false;
}

static bool similar(const char *what, const char *key, const cJSON *v, const char *text,
                    double threshold, tx_buf *why);

/* Steps 42-45 ("the output K should be similar to ...") come after 7 and
 * 14 ("the output K should be V") in registration order, so 7 and 14 see
 * their texts first (as in the original); they recognize the form and judge
 * it as the similarity step it was written as. */
static bool similar_form(const char *what, const char *key, const cJSON *v, const char *value,
                         bool *handled, tx_buf *why)
{
    *handled = false;
    static const char head[] = "similar to \"";
    if (strncmp(value, head, sizeof head - 1) != 0) return false;
    const char *text = value + sizeof head - 1;
    const char *close = strrchr(text, '"');
    if (!close) return false;
    double threshold = 80.0;
    const char *rest = close + 1;
    if (*rest) {
        char pct = 0;
        int used = 0;
        if (sscanf(rest, " with %lf%c similarity%n", &threshold, &pct, &used) != 2 || pct != '%' ||
            rest[used] != '\0')
            return false;
    }
    *handled = true;
    char *t = tx_strndup(text, (size_t)(close - text));
    bool ok = t && similar(what, key, v, t, threshold, why);
    tx_free(t);
    return ok;
}

static bool state_is(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    const char *key = sp_arg(st, "key");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(report_get(f, "state"), key);
    bool handled, ok = similar_form("state", key, v, sp_arg(st, "value"), &handled, why);
    if (handled) return ok;
    return value_is("state", key, v, sp_arg(st, "value"), false, why);
}

static bool state_exists(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    const char *key = sp_arg(st, "key");
    return exists("state", key, cJSON_GetObjectItemCaseSensitive(report_get(f, "state"), key), why);
}

static bool output_exists_scalar(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    (void)st;
    if (f->res->output && !cJSON_IsNull(f->res->output)) return true;
    tx_buf_puts(why, "expected the procedure to return an output, but it returned nil");
    return false;
}

static bool output_is_scalar(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    return value_is("the output", "", f->res->output, sp_arg(st, "value"), false, why);
}

static bool output_is(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    const char *key = sp_arg(st, "key");
    bool handled,
        ok = similar_form("output", key, output_get(f, key), sp_arg(st, "value"), &handled, why);
    if (handled) return ok;
    return value_is("output", key, output_get(f, key), sp_arg(st, "value"), false, why);
}

static bool output_is_not(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    const char *key = sp_arg(st, "key");
    return value_is("output", key, output_get(f, key), sp_arg(st, "value"), true, why);
}

static bool output_exists(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    const char *key = sp_arg(st, "key");
    return exists("output", key, output_get(f, key), why);
}

/* The candidates of a fuzzy match: "any of [a, b]", a quoted string, or text. */
static cJSON *fuzzy_candidates(const char *value)
{
    const char *list = value;
    if (strncmp(value, "any of ", 7) == 0) list = value + 7;
    cJSON *l = list != value ? sp_literal_parse(list) : NULL;
    if (cJSON_IsArray(l)) return l;
    cJSON_Delete(l);
    cJSON *out = cJSON_CreateArray();
    if (list != value) {
        /* any of a, b, c */
        const char *p = list;
        while (*p) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            char *item = tx_strndup(p, n);
            char *t = item;
            while (t && *t == ' ')
                t++;
            char *q = t ? sp_unquote(t) : NULL;
            cJSON_AddItemToArray(out, cJSON_CreateString(q ? q : t ? t : ""));
            tx_free(q);
            tx_free(item);
            if (!comma) break;
            p = comma + 1;
        }
        return out;
    }
    char *t = text_arg(value);
    cJSON_AddItemToArray(out, cJSON_CreateString(t ? t : ""));
    tx_free(t);
    return out;
}

static bool fuzzy(const sp_step *st, const sp_facts *f, double threshold, tx_buf *why)
{
    char *actual = as_text(f->res->output);
    char *na = sp_fuzzy_normalize(actual);
    cJSON *cands = fuzzy_candidates(sp_arg(st, "value"));
    double best = -1;
    const char *best_text = "";
    const cJSON *c;
    cJSON_ArrayForEach(c, cands)
    {
        char *t = as_text(c);
        char *nt = sp_fuzzy_normalize(t);
        double r = 0;
        if (na && nt) r = (strstr(na, nt) || strstr(nt, na)) ? 1.0 : sp_sequence_ratio(na, nt);
        if (r > best) {
            best = r;
            best_text = c->valuestring ? c->valuestring : "";
        }
        tx_free(nt);
        tx_free(t);
    }
    bool ok = best >= threshold;
    if (!ok) {
        char *list = cJSON_PrintUnformatted(cands);
        tx_buf_printf(why,
                      "Output similarity is %.3f (threshold %.3f). Output is '%s', best match was "
                      "'%s'. Expected: %s",
                      best < 0 ? 0 : best, threshold, actual ? actual : "", best_text,
                      list ? list : "");
        cJSON_free(list);
    }
    cJSON_Delete(cands);
    tx_free(na);
    tx_free(actual);
    return ok;
}

static bool fuzzy_default(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    return fuzzy(st, f, 0.8, why);
}

static bool fuzzy_threshold(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    return fuzzy(st, f, strtod(sp_arg(st, "threshold"), NULL), why);
}

static bool contains_key(const char *what, const cJSON *obj, const char *key, tx_buf *why)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key)) return true;
    tx_buf_printf(why, "expected the %s to contain %s; it has: ", what, key);
    const cJSON *e;
    bool first = true;
    cJSON_ArrayForEach(e, obj)
    {
        if (!e->string) continue;
        tx_buf_printf(why, "%s%s", first ? "" : ", ", e->string);
        first = false;
    }
    if (first) tx_buf_puts(why, "nothing");
    return false;
}

static bool state_contains(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    return contains_key("state", report_get(f, "state"), sp_arg(st, "key"), why);
}

static bool output_contains(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    return contains_key("output", f->res->output, sp_arg(st, "key"), why);
}

static bool matches(const char *what, const char *key, const cJSON *v, const char *pattern,
                    tx_buf *why)
{
    char *text = as_text(v);
    bool bad = false;
    bool ok = regex_search(pattern, text, &bad, why);
    if (!ok && !bad) {
        tx_buf_printf(why, "expected %s%s%s to match \"%s\", got ", what, *key ? " " : "", key,
                      pattern);
        show(why, v);
    }
    tx_free(text);
    return ok;
}

static bool output_matches(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    const char *key = sp_arg(st, "key");
    return matches("output", key, output_get(f, key), sp_arg(st, "pattern"), why);
}

static bool state_matches(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    const char *key = sp_arg(st, "key");
    return matches("state", key, cJSON_GetObjectItemCaseSensitive(report_get(f, "state"), key),
                   sp_arg(st, "pattern"), why);
}

static bool similar(const char *what, const char *key, const cJSON *v, const char *want,
                    double threshold, tx_buf *why)
{
    char *text = as_text(v);
    double r = sp_indel_ratio(text, want);
    bool ok = r >= threshold;
    if (!ok)
        tx_buf_printf(
            why,
            "expected %s %s to be at least %.0f%% similar to \"%s\"; it is %.1f%% similar: \"%s\"",
            what, key, threshold, want, r, text);
    tx_free(text);
    return ok;
}

static double threshold_arg(const sp_step *st)
{
    const char *t = sp_arg(st, "threshold");
    return *t ? strtod(t, NULL) : 80.0;
}

static bool output_similar(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    return similar("output", sp_arg(st, "key"), output_get(f, sp_arg(st, "key")),
                   sp_arg(st, "text"), threshold_arg(st), why);
}

static bool state_similar(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    const char *key = sp_arg(st, "key");
    return similar("state", key, cJSON_GetObjectItemCaseSensitive(report_get(f, "state"), key),
                   sp_arg(st, "text"), threshold_arg(st), why);
}

/* ---- completion, stop, iterations, agents --------------------------------------------------- */

static const char *error_message(const sp_facts *f)
{
    const char *m = hl_json_str(f->res->error, "message");
    return m ? m : "the procedure failed";
}

static bool completes(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    (void)st;
    if (f->res->status == SUP_COMPLETED) return true;
    if (f->res->status == SUP_WAITING)
        tx_buf_puts(why, "expected the procedure to complete, but it is waiting for a person");
    else
        tx_buf_printf(why, "expected the procedure to complete successfully, but it failed: %s",
                      error_message(f));
    return false;
}

static bool fails(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    (void)st;
    if (f->res->status == SUP_FAILED) return true;
    tx_buf_puts(why, "expected the procedure to fail, but it completed");
    return false;
}

/* Why the run stopped: Stop.request's reason, else the error of a failure. */
static char *stop_reason(const sp_facts *f)
{
    const cJSON *stop = report_get(f, "stop");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(stop, "requested"))) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(stop, "reason");
        return as_text(r);
    }
    if (f->res->status == SUP_FAILED) return tx_strdup(error_message(f));
    return NULL;
}

static bool stop_is(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    char *r = stop_reason(f), *want = text_arg(sp_arg(st, "reason"));
    bool ok = r && want && strcmp(r, want) == 0;
    if (!ok)
        tx_buf_printf(why, "expected the stop reason to be \"%s\", got %s%s%s", want ? want : "",
                      r ? "\"" : "", r ? r : "none (the procedure was not stopped)", r ? "\"" : "");
    tx_free(r);
    tx_free(want);
    return ok;
}

static bool stop_contains(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    char *r = stop_reason(f), *want = text_arg(sp_arg(st, "text"));
    bool ok = r && want && strstr(r, want);
    if (!ok)
        tx_buf_printf(why, "expected the stop reason to contain \"%s\", got %s%s%s",
                      want ? want : "", r ? "\"" : "",
                      r ? r : "none (the procedure was not stopped)", r ? "\"" : "");
    tx_free(r);
    tx_free(want);
    return ok;
}

static bool stop_matches(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    char *r = stop_reason(f);
    cJSON *v = r ? cJSON_CreateString(r) : NULL;
    bool ok = matches("the stop reason", "", v, sp_arg(st, "pattern"), why);
    cJSON_Delete(v);
    tx_free(r);
    return ok;
}

static int iterations(const sp_facts *f)
{
    const cJSON *it = report_get(f, "iterations");
    return cJSON_IsNumber(it) ? it->valueint : 0;
}

static bool iterations_below(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    long n = arg_long(st, "n");
    if (iterations(f) < n) return true;
    tx_buf_printf(why, "expected fewer than %ld iterations, got %d", n, iterations(f));
    return false;
}

static bool iterations_between(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    long lo = arg_long(st, "min"), hi = arg_long(st, "max");
    int n = iterations(f);
    if (n >= lo && n <= hi) return true;
    tx_buf_printf(why, "expected between %ld and %ld iterations, got %d", lo, hi, n);
    return false;
}

static int agent_turns(const sp_facts *f)
{
    int n = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, report_get(f, "agents"))
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "turns");
        if (cJSON_IsNumber(t)) n += t->valueint;
    }
    return n;
}

static bool agent_turns_at_least(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    long n = arg_long(st, "n");
    if (agent_turns(f) >= n) return true;
    tx_buf_printf(why, "expected the agents to take at least %ld turn%s, they took %d", n,
                  n == 1 ? "" : "s", agent_turns(f));
    return false;
}

static bool agent_context(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    char *want = text_arg(sp_arg(st, "text"));
    bool ok = false;
    const cJSON *a;
    cJSON_ArrayForEach(a, report_get(f, "agents"))
    {
        const char *ctx = hl_json_str(a, "context");
        if (ctx && want && strstr(ctx, want)) ok = true;
    }
    if (!ok) {
        if (!cJSON_GetArraySize(report_get(f, "agents")))
            tx_buf_printf(why,
                          "expected an agent's context to include \"%s\", but no agent was called",
                          want ? want : "");
        else
            tx_buf_printf(
                why,
                "expected an agent's context (its system prompt and messages) to include \"%s\"",
                want ? want : "");
    }
    tx_free(want);
    return ok;
}

static bool parameter_is(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    const char *key = sp_arg(st, "param");
    return value_is("parameter", key,
                    cJSON_GetObjectItemCaseSensitive(report_get(f, "inputs"), key),
                    sp_arg(st, "value"), false, why);
}

/* "When the procedure runs": the run must succeed, unless the scenario
 * itself expects a failure later on (judged by sp_judge's caller). */
static bool procedure_runs(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    (void)st;
    if (f->res->status == SUP_COMPLETED) return true;
    if (f->res->status == SUP_WAITING)
        tx_buf_puts(why, "Procedure execution failed: it is waiting for a person");
    else
        tx_buf_printf(why, "Procedure execution failed: %s", error_message(f));
    return false;
}

static bool ran(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    (void)st, (void)f, (void)why;
    return true;
}

/* ---- stages ------------------------------------------------------------------------------------
 */

static bool stage_is(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    const char *want = sp_arg(st, "stage");
    const char *cur = hl_json_str(f->report, "stage");
    if (cur && strcmp(cur, want) == 0) return true;
    tx_buf_printf(why, "expected the stage to be %s, got %s", want, cur ? cur : "none");
    return false;
}

static bool stage_transition(const sp_step *st, const sp_facts *f, tx_buf *why)
{
    const char *from = sp_arg(st, "from"), *to = sp_arg(st, "to");
    const cJSON *h = report_get(f, "stages");
    const char *prev = NULL;
    const cJSON *s;
    tx_buf seen;
    tx_buf_init(&seen, 2048);
    cJSON_ArrayForEach(s, h)
    {
        if (!cJSON_IsString(s)) continue;
        if (prev && strcmp(prev, from) == 0 && strcmp(s->valuestring, to) == 0) {
            tx_buf_free(&seen);
            return true;
        }
        tx_buf_printf(&seen, "%s%s", seen.len ? " -> " : "", s->valuestring);
        prev = s->valuestring;
    }
    tx_buf_printf(why, "expected the stage to go from %s to %s; the stages were: %s", from, to,
                  seen.len ? seen.data : "none");
    tx_buf_free(&seen);
    return false;
}

/* ---- the table
 * ----------------------------------------------------------------------------------- */

#define SETUP(t, fn)                                                                               \
    {                                                                                              \
        t, SP_ROLE_SETUP, fn, NULL                                                                 \
    }
#define CHECK(t, fn)                                                                               \
    {                                                                                              \
        t, SP_ROLE_ASSERT, NULL, fn                                                                \
    }

static const sp_handler handlers[] = {
    CHECK("the {tool} tool should be called", tool_called),
    CHECK("the {tool} tool should not be called", tool_not_called),
    CHECK("the {tool} tool should be called at least {n} times", tool_at_least),
    CHECK("the {tool} tool should be called exactly {n} times", tool_exactly),
    CHECK("the {tool} tool should be called with {param}={value}", tool_with_value),
    SETUP("the tool \"{tool}\" returns {value}", tool_returns),
    CHECK("the state {key} should be {value}", state_is),
    CHECK("the state {key} should exist", state_exists),
    CHECK("the state should contain {key}", state_contains),
    CHECK("the output should exist", output_exists_scalar),
    CHECK("the output should be {value}", output_is_scalar),
    CHECK("the output should fuzzy match {value} with threshold {threshold}", fuzzy_threshold),
    CHECK("the output should fuzzy match {value}", fuzzy_default),
    CHECK("the output {key} should be {value}", output_is),
    CHECK("the output {key} should not be {value}", output_is_not),
    CHECK("the output {key} should exist", output_exists),
    CHECK("the output should contain {key}", output_contains),
    {"the procedure has started", SP_ROLE_NOOP, NULL, NULL},
    CHECK("the procedure should complete successfully", completes),
    CHECK("the procedure should fail", fails),
    CHECK("the stop reason should be {reason}", stop_is),
    CHECK("the stop reason should contain {text}", stop_contains),
    CHECK("the total iterations should be less than {n}", iterations_below),
    CHECK("the total iterations should be between {min} and {max}", iterations_between),
    CHECK("the agent should take at least {n} turns", agent_turns_at_least),
    CHECK("the {param} parameter is {value}", parameter_is),
    CHECK("the agent's context should include {text}", agent_context),
    SETUP("the input {key} is \"{value}\"", input_string),
    SETUP("the input {key} is [{values}]", input_list),
    SETUP("the input {key} is {number}", input_number),
    {"the {agent} agent takes turn", SP_ROLE_TRIGGER, NULL, ran},
    SETUP("the agent \"{agent}\" responds with {message}", agent_responds),
    SETUP("the agent \"{agent}\" calls tool \"{tool}\" with args {args}", agent_calls),
    SETUP("the agent \"{agent}\" returns data {data}", agent_data),
    SETUP("the message is {message}", message_is),
    {"the procedure runs", SP_ROLE_TRIGGER, NULL, procedure_runs},
    CHECK("the output {key} should match pattern \"{regex}\"", output_matches),
    CHECK("the state {key} should match pattern \"{regex}\"", state_matches),
    CHECK("the stop reason should match pattern \"{regex}\"", stop_matches),
    CHECK("the {tool} tool should be called with {param} matching pattern \"{regex}\"",
          tool_with_pattern),
    {"the {model} model predicts", SP_ROLE_TRIGGER, NULL, ran},
    CHECK("the output {key} should be similar to \"{text}\"", output_similar),
    CHECK("the output {key} should be similar to \"{text}\" with {n}% similarity", output_similar),
    CHECK("the state {key} should be similar to \"{text}\"", state_similar),
    CHECK("the state {key} should be similar to \"{text}\" with {n}% similarity", state_similar),
    SETUP("the {dependency} returns '{response}'", dep_returns),
    SETUP("the {dependency} returns '{response}' for {path}", dep_returns_for),
    SETUP("the {dependency} returns '{response}' with status {code}", dep_returns_status),
    SETUP("Human.approve will return {true|false}", human_approve),
    SETUP("Human.input will return '{text}'", human_input),
    SETUP("Human.review will return {value}", human_review),
    SETUP("when asked \"{message prefix}\" return the value '{text}'", asked_value),
    SETUP("when asked \"{message prefix}\" return {value}", asked_literal),
    SETUP("the user presses no", presses_no),
    SETUP("the user presses yes", presses_yes),
    SETUP("the user enters '{text}'", user_enters),
    CHECK("the {dependency} should have been called", dep_called),
    CHECK("the {dependency} should not have been called", dep_not_called),
    CHECK("the {dependency} should have been called {n} times", dep_called_times),
    CHECK("the stage is {stage}", stage_is),
    CHECK("the stage should be {stage}", stage_is),
    CHECK("the stage should transition from {stage} to {stage}", stage_transition),
    CHECK("we are in stage {stage}", stage_is),
};

const sp_handler *sp_handler_for(const char *template, sp_role *role)
{
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (strcmp(handlers[i].template, template) == 0) {
            *role = handlers[i].role;
            return &handlers[i];
        }
    return NULL;
}

bool sp_apply_setup(const sp_step *st, sp_setup *s, tx_buf *why)
{
    return st->handler && st->handler->setup ? st->handler->setup(st, s, why) : true;
}

bool sp_judge(const sp_step *st, const sp_facts *f, bool expects_failure, tx_buf *why)
{
    if (!st->handler || !st->handler->judge) return true;
    if (st->handler->judge == procedure_runs && expects_failure) return true;
    return st->handler->judge(st, f, why);
}
