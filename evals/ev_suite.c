/*
 * ev_suite.c - loading evaluations, running their cases, scoring, reports.
 *
 * Loading is static, like the checker: the Evaluation's table must be
 * literal (a dataset computed at run time would make the score depend on
 * the code under evaluation). Evaluators written as field.contains{...}
 * calls or as {type = "contains", ...} tables are the same thing here.
 * dataset_file (relative to the procedure's file) is read by the host:
 * .jsonl, .json (an array) or .csv (name, inputs, expected_output, metadata).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ev_internal.h"
#include "proto.h"

typedef struct {
    bool done, passed;
    double ms, tokens;
    char *failure;  /* the first failing evaluator's reason */
    bool *verdicts; /* per evaluator */
} ev_run;

typedef struct {
    char *name;
    cJSON *inputs, *expected;
    ev_run *runs;
} ev_case;

typedef struct {
    const fe_file *f;
    const cJSON *config;
    char *workspace;
    tx_line_col at;
    int runs;
    cJSON *evaluators; /* array of {type, ...} */
    size_t n_evaluators;
    cJSON *thresholds;
    ev_case *cases;
    size_t n_cases;
} ev_eval;

struct ev_suite {
    ev_eval *evals;
    size_t n;
};

ev_suite *ev_suite_new(void)
{
    return tx_calloc(1, sizeof(ev_suite));
}

size_t ev_suite_count(const ev_suite *s)
{
    return s->n;
}

/* ---- loading -----------------------------------------------------------------------------------
 */

static tx_status fail_at(const fe_file *f, tx_span span, char *err, size_t cap, const char *what)
{
    tx_line_col lc = tx_span_columns(f->src, f->len, span);
    snprintf(err, cap, "%s:%u:%u: %s", f->path, lc.line, lc.column, what);
    return TX_EINVAL;
}

/* field.contains{...} -> {"type": "contains", ...}; tables as they are. */
static cJSON *evaluator_json(const fe_value *v)
{
    if (v->kind == FE_CALL && v->str && strncmp(v->str, "field.", 6) == 0) {
        const fe_value *arg = fe_value_at(v, 0);
        cJSON *o = arg ? fe_value_to_json(arg) : cJSON_CreateObject();
        if (cJSON_IsArray(o) && cJSON_GetArraySize(o) == 0) {
            cJSON_Delete(o);
            o = cJSON_CreateObject();
        }
        if (!cJSON_IsObject(o)) {
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(o, "type");
        cJSON_AddStringToObject(o, "type", v->str + 6);
        return o;
    }
    if (v->kind == FE_TABLE) return fe_value_to_json(v);
    return NULL;
}

static bool has_dynamic(const fe_value *v, int depth)
{
    if (!v || depth > FE_MAX_DEPTH) return false;
    if (v->kind == FE_NAME || v->kind == FE_CALL || v->kind == FE_FUNCTION || v->kind == FE_OTHER)
        return true;
    for (const fe_entry *e = v->kind == FE_TABLE ? v->entries : NULL; e; e = e->next)
        if (has_dynamic(e->value, depth + 1)) return true;
    return false;
}

static bool add_case(ev_eval *ev, const cJSON *c, const char *where, char *err, size_t cap)
{
    const char *name = hl_json_str(c, "name");
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(c, "inputs");
    if (!cJSON_IsObject(c) || (inputs && !cJSON_IsObject(inputs) && !cJSON_IsArray(inputs))) {
        snprintf(err, cap, "%s: a case is {name = ..., inputs = {...}, expected_output = ...}",
                 where);
        return false;
    }
    ev_case *nc = tx_realloc(ev->cases, (ev->n_cases + 1) * sizeof *nc);
    if (!nc) return false;
    ev->cases = nc;
    ev_case *k = &ev->cases[ev->n_cases++];
    memset(k, 0, sizeof *k);
    char dflt[32];
    snprintf(dflt, sizeof dflt, "case_%zu", ev->n_cases);
    k->name = tx_strdup(name ? name : dflt);
    k->inputs =
        inputs && cJSON_IsObject(inputs) ? cJSON_Duplicate(inputs, 1) : cJSON_CreateObject();
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "expected_output");
    k->expected = exp ? cJSON_Duplicate(exp, 1) : NULL;
    return k->name && k->inputs;
}

/* A .csv line into cells (RFC 4180 quoting). */
static cJSON *csv_row(const char **p)
{
    cJSON *row = cJSON_CreateArray();
    tx_buf cell;
    tx_buf_init(&cell, EV_TEXT_MAX);
    tx_buf_puts(&cell, "");
    bool quoted = false;
    for (;; (*p)++) {
        char c = **p;
        if (quoted) {
            if (c == '"' && (*p)[1] == '"') {
                tx_buf_append(&cell, "\"", 1);
                (*p)++;
            } else if (c == '"') {
                quoted = false;
            } else if (c) {
                tx_buf_append(&cell, p[0], 1);
            } else {
                break;
            }
            continue;
        }
        if (c == '"') {
            quoted = true;
        } else if (c == ',' || c == '\n' || c == '\0') {
            cJSON_AddItemToArray(row, cJSON_CreateString(cell.data ? cell.data : ""));
            tx_buf_clear(&cell);
            if (c != ',') {
                if (c) (*p)++;
                break;
            }
        } else if (c != '\r') {
            tx_buf_append(&cell, p[0], 1);
        }
    }
    tx_buf_free(&cell);
    return row;
}

static bool load_dataset_file(ev_eval *ev, const char *rel, const char *where, char *err,
                              size_t cap)
{
    char path[8192], dir[PATH_MAX], real_dir[PATH_MAX], real[PATH_MAX];
    const char *slash = strrchr(ev->f->path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - ev->f->path), ev->f->path);
    else
        snprintf(dir, sizeof dir, ".");
    /* The file comes from the .tac, which nobody has to trust: it names a
     * file of the procedure's folder, never one elsewhere on the host
     * (its rows would reach the report and the sandbox). */
    if (rel[0] == '/') {
        snprintf(err, cap,
                 "%s: dataset_file '%s' is an absolute path; name a file in the procedure's "
                 "folder, relative to it",
                 where, rel);
        return false;
    }
    if (slash)
        snprintf(path, sizeof path, "%s/%s", dir, rel);
    else
        snprintf(path, sizeof path, "%s", rel);
    size_t dn = realpath(dir, real_dir) ? strlen(real_dir) : 0;
    if (!realpath(path, real)) {
        snprintf(err, cap, "%s: cannot read dataset_file %s: %s", where, path, strerror(errno));
        return false;
    }
    if (!dn || strncmp(real, real_dir, dn) != 0 || (real[dn] != '/' && strcmp(real_dir, "/") != 0)) {
        snprintf(err, cap,
                 "%s: dataset_file '%s' is outside the procedure's folder (it is %s); keep "
                 "datasets beside the procedure",
                 where, rel, real);
        return false;
    }
    char *text = NULL;
    size_t len = 0;
    int err_no = 0;
    tx_status rs = tx_read_file(real, 64u << 20, &text, &len, &err_no);
    if (rs != TX_OK) {
        snprintf(err, cap, "%s: cannot read dataset_file %s: %s", where, path,
                 err_no ? strerror(err_no) : rs == TX_ELIMIT ? "larger than 64 MiB" : tx_status_str(rs));
        return false;
    }
    bool ok = true;
    if (tx_has_suffix(path, ".jsonl")) {
        int line = 0;
        for (char *p = text; ok && *p;) {
            char *nl = strchr(p, '\n');
            if (nl) *nl = '\0';
            line++;
            const char *q = p;
            while (*q == ' ' || *q == '\t' || *q == '\r')
                q++;
            if (*q) {
                char why[400];
                cJSON *c = tp_json_parse_strict(p, strlen(p), TP_JSON_MAX_DEPTH, why, sizeof why);
                char w[8300];
                snprintf(w, sizeof w, "%s:%d", path, line);
                if (!c) {
                    /* why starts "line 1, column C": the line is the file's;
                     * a key given twice has no column ("FILE:LINE: the key ...") */
                    const char *col = strstr(why, "column ");
                    snprintf(err, cap, col ? "%s:%s" : "%s: %s", w, col ? col + 7 : why);
                    ok = false;
                } else {
                    ok = add_case(ev, c, w, err, cap);
                }
                cJSON_Delete(c);
            }
            p = nl ? nl + 1 : p + strlen(p);
        }
    } else if (tx_has_suffix(path, ".json")) {
        char why[400];
        cJSON *all = tp_json_parse_strict(text, len, TP_JSON_MAX_DEPTH, why, sizeof why);
        if (!all) {
            snprintf(err, cap, "%s: %s", path, why);
            ok = false;
        } else if (!cJSON_IsArray(all)) {
            snprintf(err, cap, "%s: expected a JSON array of cases", path);
            ok = false;
        }
        const cJSON *c;
        cJSON_ArrayForEach(c, all)
        {
            if (ok) ok = add_case(ev, c, path, err, cap);
        }
        cJSON_Delete(all);
    } else if (tx_has_suffix(path, ".csv")) {
        const char *p = text;
        cJSON *header = csv_row(&p);
        int line = 1;
        while (ok && *p) {
            cJSON *row = csv_row(&p);
            line++;
            cJSON *c = cJSON_CreateObject();
            for (int i = 0; i < cJSON_GetArraySize(header); i++) {
                const char *col = cJSON_GetArrayItem(header, i)->valuestring;
                const cJSON *cell = cJSON_GetArrayItem(row, i);
                const char *v = cell ? cell->valuestring : "";
                bool json_col = !strcmp(col, "inputs") || !strcmp(col, "expected_output") ||
                                !strcmp(col, "metadata");
                char why[400];
                cJSON *j = json_col && *v ? tp_json_parse_strict(v, strlen(v), TP_JSON_MAX_DEPTH,
                                                                 why, sizeof why)
                                          : NULL;
                if (json_col && *v && !j && strcmp(col, "expected_output") != 0) {
                    snprintf(err, cap, "%s:%d: column %s is not JSON (%s): %.200s", path, line,
                             col, why, v);
                    ok = false;
                }
                cJSON_AddItemToObject(c, col, j ? j : cJSON_CreateString(v));
            }
            char w[8300];
            snprintf(w, sizeof w, "%s:%d", path, line);
            if (ok && cJSON_GetArraySize(row) > 1) ok = add_case(ev, c, w, err, cap);
            cJSON_Delete(c);
            cJSON_Delete(row);
        }
        cJSON_Delete(header);
    } else {
        snprintf(err, cap, "%s: dataset_file must end in .jsonl, .json or .csv: %s", where, rel);
        ok = false;
    }
    tx_free(text);
    return ok;
}

static tx_status load(ev_eval *ev, const fe_evaluation *decl, char *err, size_t cap)
{
    const fe_file *f = ev->f;
    const fe_value *cfg = decl->config;
    char where[4200];
    ev->at = tx_span_columns(f->src, f->len, decl->span);
    snprintf(where, sizeof where, "%s:%u:%u", f->path, ev->at.line, ev->at.column);
    if (!cfg || cfg->kind != FE_TABLE)
        return fail_at(
            f, decl->span, err, cap,
            "Evaluation expects a table: Evaluation({dataset = {...}, evaluators = {...}})");
    const fe_value *runs = fe_value_get(cfg, "runs");
    ev->runs = runs && runs->kind == FE_NUMBER && runs->number >= 1 ? (int)runs->number : 1;
    const fe_value *file = fe_value_get(cfg, "dataset_file");
    if (file && file->kind == FE_STRING && !load_dataset_file(ev, file->str, where, err, cap))
        return TX_EINVAL;
    const fe_value *ds = fe_value_get(cfg, "dataset");
    if (ds) {
        if (ds->kind != FE_TABLE || has_dynamic(ds, 0))
            return fail_at(f, ds->span, err, cap,
                           "the dataset must be written out literally (no variables or calls), or "
                           "put in a dataset_file");
        cJSON *cases = fe_value_to_json(ds);
        const cJSON *c;
        bool ok = true;
        cJSON_ArrayForEach(c, cases)
        {
            if (ok) ok = add_case(ev, c, where, err, cap);
        }
        cJSON_Delete(cases);
        if (!ok) return TX_EINVAL;
    }
    if (ev->n_cases == 0)
        return fail_at(f, decl->span, err, cap,
                       "the evaluation has no cases: give dataset = {...} or dataset_file");
    ev->evaluators = cJSON_CreateArray();
    const fe_value *evs = fe_value_get(cfg, "evaluators");
    for (const fe_entry *e = evs && evs->kind == FE_TABLE ? evs->entries : NULL; e; e = e->next) {
        cJSON *j = evaluator_json(e->value);
        char why[1024];
        if (!j || has_dynamic(e->value->kind == FE_CALL ? fe_value_at(e->value, 0) : e->value, 0)) {
            cJSON_Delete(j);
            return fail_at(
                f, e->value->span, err, cap,
                "an evaluator is field.KIND{...} or {type = \"KIND\", ...} with literal values");
        }
        if (!ev_evaluator_valid(j, why, sizeof why)) {
            cJSON_Delete(j);
            return fail_at(f, e->value->span, err, cap, why);
        }
        cJSON_AddItemToArray(ev->evaluators, j);
        ev->n_evaluators++;
    }
    if (ev->n_evaluators == 0)
        return fail_at(
            f, decl->span, err, cap,
            "the evaluation has no evaluators: add evaluators = {field.equals_expected{}, ...}");
    const fe_value *th = fe_value_get(cfg, "thresholds");
    if (th) {
        ev->thresholds = fe_value_to_json(th);
        const cJSON *t;
        cJSON_ArrayForEach(t, ev->thresholds)
        {
            char m[1024];
            if (ck_threshold_problem(t->string ? t->string : "", m, sizeof m))
                return fail_at(f, th->span, err, cap, m);
        }
    }
    return TX_OK;
}

tx_status ev_suite_add(ev_suite *s, const fe_file *f, const cJSON *config, const char *workspace,
                       const ev_options *o, char *err, size_t cap)
{
    for (const fe_evaluation *decl = f->evaluations; decl; decl = decl->next) {
        ev_eval *ne = tx_realloc(s->evals, (s->n + 1) * sizeof *ne);
        if (!ne) return TX_ENOMEM;
        s->evals = ne;
        ev_eval *ev = &s->evals[s->n++];
        memset(ev, 0, sizeof *ev);
        ev->f = f;
        ev->config = config;
        ev->workspace = tx_strdup(workspace);
        tx_status st = load(ev, decl, err, cap);
        if (st != TX_OK) return st;
        if (o->runs > 0) ev->runs = o->runs;
        for (size_t i = 0; i < ev->n_cases; i++) {
            ev->cases[i].runs = tx_calloc((size_t)ev->runs, sizeof(ev_run));
            if (!ev->cases[i].runs) return TX_ENOMEM;
            for (int r = 0; r < ev->runs; r++) {
                ev->cases[i].runs[r].verdicts = tx_calloc(ev->n_evaluators + 1, sizeof(bool));
                if (!ev->cases[i].runs[r].verdicts) return TX_ENOMEM;
            }
        }
    }
    return TX_OK;
}

/* ---- running
 * ------------------------------------------------------------------------------------- */

typedef struct {
    ev_suite *s;
    const ev_options *o;
    size_t total;
} ev_job_set;

static void run_one(const ev_options *o, ev_eval *ev, size_t ci, int run)
{
    ev_case *c = &ev->cases[ci];
    ev_run *r = &c->runs[run];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cJSON *test = cJSON_CreateObject();
    cJSON_AddObjectToObject(test, "tool_mocks");
    cJSON_AddBoolToObject(test, "mock_agents", o->mock);
    cJSON_AddArrayToObject(test, "mocked_agents");
    cJSON_AddObjectToObject(test, "human");
    cJSON_AddArrayToObject(test, "steps");
    tx_buf key;
    tx_buf_init(&key, EV_TEXT_MAX);
    tx_buf_printf(&key, "eval\n%s\n%u\n%s\n%d", ev->f->path, ev->at.line, c->name, run);
    char run_id[40];
    sp_stable_run_id(key.data ? key.data : "", key.len, run_id);
    tx_buf_free(&key);
    sp_run_request rq = {
        .f = ev->f,
        .config = ev->config,
        .workspace = ev->workspace,
        .inputs = c->inputs,
        .test = test,
        .run_id = run_id,
        .mock = o->mock,
        .limits = o->limits,
        .launch = o->launch,
        .launch_ud = o->launch_ud,
        .pool = o->pool,
    };
    sup_run_result res;
    sp_run_procedure(&rq, &res);
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(res.report, "tokens");
    r->tokens = cJSON_IsNumber(tokens) ? tokens->valuedouble : 0;
    r->passed = true;
    for (size_t i = 0; i < ev->n_evaluators; i++) {
        tx_buf why;
        tx_buf_init(&why, EV_TEXT_MAX);
        bool ok;
        if (res.status != SUP_COMPLETED) {
            ok = false;
            /* where the procedure failed (FILE:LINE), when the runtime said */
            const char *file = hl_json_str(res.error, "file");
            const cJSON *line = cJSON_GetObjectItemCaseSensitive(res.error, "line");
            char at[300] = "";
            if (file && cJSON_IsNumber(line))
                snprintf(at, sizeof at, " at %.200s:%d", file, line->valueint);
            tx_buf_printf(
                &why, "the run %s%s: %s", res.status == SUP_WAITING ? "is waiting" : "failed", at,
                hl_json_str(res.error, "message") ? hl_json_str(res.error, "message") : "");
        } else {
            ok = ev_evaluate(cJSON_GetArrayItem(ev->evaluators, (int)i), res.output, c->expected,
                             res.report, &why);
        }
        r->verdicts[i] = ok;
        if (!ok && r->passed) {
            char label[200];
            ev_evaluator_label(cJSON_GetArrayItem(ev->evaluators, (int)i), label, sizeof label);
            tx_buf msg;
            tx_buf_init(&msg, EV_TEXT_MAX);
            tx_buf_printf(&msg, "%s: %s", label, why.data ? why.data : "failed");
            r->failure = tx_buf_steal(&msg);
            r->passed = false;
        }
        tx_buf_free(&why);
    }
    sup_run_result_free(&res);
    cJSON_Delete(test);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->ms = (double)(t1.tv_sec - t0.tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    r->done = true;
}

static void job(void *ud, size_t i)
{
    ev_job_set *js = ud;
    for (size_t e = 0; e < js->s->n; e++) {
        ev_eval *ev = &js->s->evals[e];
        size_t n = ev->n_cases * (size_t)ev->runs;
        if (i < n) {
            run_one(js->o, ev, i / (size_t)ev->runs, (int)(i % (size_t)ev->runs));
            return;
        }
        i -= n;
    }
}

tx_status ev_suite_run(ev_suite *s, const ev_options *o)
{
    ev_job_set js = {s, o, 0};
    for (size_t e = 0; e < s->n; e++)
        js.total += s->evals[e].n_cases * (size_t)s->evals[e].runs;
    size_t ran = sp_parallel(js.total, o->jobs, "tactus eval", o->progress, job, &js);
    return ran < js.total ? TX_EIO : TX_OK;
}

/* ---- scoring and reports
 * -------------------------------------------------------------------------- */

typedef struct {
    size_t runs, passed;
    double ms, tokens;
    bool verdict;
} ev_score;

/* How many runs evaluator k passed, of how many. */
static void tally(const ev_eval *ev, size_t k, size_t *ok, size_t *n)
{
    *ok = *n = 0;
    for (size_t i = 0; i < ev->n_cases; i++)
        for (int r = 0; r < ev->runs; r++) {
            (*n)++;
            *ok += ev->cases[i].runs[r].verdicts[k];
        }
}

static ev_score score(const ev_eval *ev)
{
    ev_score sc = {0};
    for (size_t i = 0; i < ev->n_cases; i++)
        for (int r = 0; r < ev->runs; r++) {
            const ev_run *run = &ev->cases[i].runs[r];
            sc.runs++;
            sc.passed += run->done && run->passed;
            sc.ms += run->ms;
            sc.tokens += run->tokens;
        }
    return sc;
}

/* Each threshold: its name, limit, the measured value, met or not. */
static cJSON *thresholds(const ev_eval *ev, const ev_score *sc, bool *all_met)
{
    cJSON *out = cJSON_CreateArray();
    *all_met = true;
    double rate = sc->runs ? (double)sc->passed / (double)sc->runs : 0;
    if (!ev->thresholds) {
        *all_met = sc->passed == sc->runs;
        return out;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, ev->thresholds)
    {
        if (!cJSON_IsNumber(t)) continue;
        double value = 0;
        bool met = true;
        if (!strcmp(t->string, "min_success_rate")) {
            value = rate;
            met = rate + 1e-12 >= t->valuedouble;
        } else if (!strcmp(t->string, "max_duration")) {
            value = sc->runs ? sc->ms / 1000.0 / (double)sc->runs : 0;
            met = value <= t->valuedouble;
        } else if (!strcmp(t->string, "max_tokens_per_run")) {
            value = sc->runs ? sc->tokens / (double)sc->runs : 0;
            met = value <= t->valuedouble;
        }
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", t->string);
        cJSON_AddNumberToObject(j, "limit", t->valuedouble);
        cJSON_AddNumberToObject(j, "value", value);
        cJSON_AddBoolToObject(j, "met", met);
        cJSON_AddItemToArray(out, j);
        if (!met) *all_met = false;
    }
    return out;
}

bool ev_suite_passed(const ev_suite *s)
{
    for (size_t e = 0; e < s->n; e++) {
        ev_score sc = score(&s->evals[e]);
        bool met;
        cJSON_Delete(thresholds(&s->evals[e], &sc, &met));
        if (!met) return false;
    }
    return true;
}

static void write_json(const ev_suite *s, const ev_options *o, FILE *out)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "version", 1);
    cJSON_AddStringToObject(doc, "mode", o->mock ? "mock" : "real");
    cJSON *list = cJSON_AddArrayToObject(doc, "evaluations");
    for (size_t e = 0; e < s->n; e++) {
        const ev_eval *ev = &s->evals[e];
        ev_score sc = score(ev);
        bool met;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "file", ev->f->path);
        cJSON_AddNumberToObject(j, "line", ev->at.line);
        cJSON_AddNumberToObject(j, "runs_per_case", ev->runs);
        cJSON *cases = cJSON_AddArrayToObject(j, "cases");
        for (size_t i = 0; i < ev->n_cases; i++) {
            const ev_case *c = &ev->cases[i];
            cJSON *cj = cJSON_CreateObject();
            int passed = 0;
            cJSON *fails = cJSON_CreateArray();
            for (int r = 0; r < ev->runs; r++) {
                passed += c->runs[r].passed;
                if (!c->runs[r].passed) {
                    cJSON *fj = cJSON_CreateObject();
                    cJSON_AddNumberToObject(fj, "run", r + 1);
                    cJSON_AddStringToObject(fj, "reason",
                                            c->runs[r].failure ? c->runs[r].failure : "not run");
                    cJSON_AddItemToArray(fails, fj);
                }
            }
            cJSON_AddStringToObject(cj, "name", c->name);
            cJSON_AddNumberToObject(cj, "runs", ev->runs);
            cJSON_AddNumberToObject(cj, "passed", passed);
            cJSON_AddNumberToObject(cj, "success_rate", (double)passed / ev->runs);
            cJSON_AddItemToObject(cj, "failures", fails);
            cJSON_AddItemToArray(cases, cj);
        }
        cJSON *evs = cJSON_AddArrayToObject(j, "evaluators");
        for (size_t k = 0; k < ev->n_evaluators; k++) {
            char label[200];
            ev_evaluator_label(cJSON_GetArrayItem(ev->evaluators, (int)k), label, sizeof label);
            size_t n, ok;
            tally(ev, k, &ok, &n);
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "name", label);
            cJSON_AddNumberToObject(x, "passed", (double)ok);
            cJSON_AddNumberToObject(x, "total", (double)n);
            cJSON_AddItemToArray(evs, x);
        }
        cJSON_AddNumberToObject(j, "success_rate",
                                sc.runs ? (double)sc.passed / (double)sc.runs : 0);
        cJSON *th = thresholds(ev, &sc, &met);
        if (!o->timings) {
            /* durations differ run to run: their value only with --timings */
            cJSON *t;
            cJSON_ArrayForEach(t, th)
            {
                if (!strcmp(hl_json_str(t, "name"), "max_duration"))
                    cJSON_DeleteItemFromObjectCaseSensitive(t, "value");
            }
        }
        cJSON_AddItemToObject(j, "thresholds", th);
        cJSON_AddBoolToObject(j, "passed", met);
        cJSON_AddItemToArray(list, j);
    }
    cJSON_AddBoolToObject(doc, "passed", ev_suite_passed(s));
    char *text = cJSON_Print(doc);
    if (text) fprintf(out, "%s\n", text);
    cJSON_free(text);
    cJSON_Delete(doc);
}

static const char *rate_color(double rate, bool color)
{
    if (!color) return "";
    return rate >= 0.8 ? "\033[32m" : rate >= 0.5 ? "\033[33m" : "\033[31m";
}

static void write_pretty(const ev_suite *s, const ev_options *o, FILE *out, bool color)
{
    const char *off = color ? "\033[0m" : "", *dim = color ? "\033[2m" : "";
    for (size_t e = 0; e < s->n; e++) {
        const ev_eval *ev = &s->evals[e];
        ev_score sc = score(ev);
        char *tpath = tx_term_text(ev->f->path); /* the procedure's file name: made inert */
        fprintf(out, "%sEvaluation%s %s:%u  (%zu case%s x %d run%s, %s mode)\n", e ? "\n" : "", "",
                tpath ? tpath : "", ev->at.line, ev->n_cases, ev->n_cases == 1 ? "" : "s", ev->runs,
                ev->runs == 1 ? "" : "s", o->mock ? "mocked" : "real");
        tx_free(tpath);
        for (size_t i = 0; i < ev->n_cases; i++) {
            const ev_case *c = &ev->cases[i];
            int passed = 0;
            const char *first = NULL;
            for (int r = 0; r < ev->runs; r++) {
                passed += c->runs[r].passed;
                if (!c->runs[r].passed && !first)
                    first = c->runs[r].failure ? c->runs[r].failure : "not run";
            }
            double rate = (double)passed / ev->runs;
            /* The case's name and failure are the file's text: made inert. */
            char *tn = tx_term_text(c->name), *tfirst = first ? tx_term_text(first) : NULL;
            fprintf(out, "  %s%s%s %-32s %s%d/%d  %5.1f%%%s\n", rate_color(rate, color),
                    passed == ev->runs ? "\u2713" : "\u2717", off, tn ? tn : "?", rate_color(rate, color),
                    passed, ev->runs, 100.0 * rate, off);
            if (first) fprintf(out, "      %s%s%s\n", dim, tfirst ? tfirst : "", off);
            tx_free(tn);
            tx_free(tfirst);
        }
        fputs("  Evaluators:", out);
        for (size_t k = 0; k < ev->n_evaluators; k++) {
            char label[200];
            ev_evaluator_label(cJSON_GetArrayItem(ev->evaluators, (int)k), label, sizeof label);
            size_t n, ok;
            tally(ev, k, &ok, &n);
            fprintf(out, "%s %s %zu/%zu", k ? "," : "", label, ok, n);
        }
        double rate = sc.runs ? (double)sc.passed / (double)sc.runs : 0;
        fprintf(out, "\n  Success rate: %s%.1f%%%s (%zu/%zu runs)", rate_color(rate, color),
                100.0 * rate, off, sc.passed, sc.runs);
        if (o->timings)
            fprintf(out, ", %.2f s per run", sc.runs ? sc.ms / 1000.0 / (double)sc.runs : 0);
        fputc('\n', out);
        bool met;
        cJSON *th = thresholds(ev, &sc, &met);
        const cJSON *t;
        cJSON_ArrayForEach(t, th)
        {
            const char *name = hl_json_str(t, "name");
            double limit = cJSON_GetObjectItem(t, "limit")->valuedouble;
            double value = cJSON_GetObjectItem(t, "value")->valuedouble;
            bool ok = cJSON_IsTrue(cJSON_GetObjectItem(t, "met"));
            if (!strcmp(name, "min_success_rate"))
                fprintf(out, "  %s %s: %.1f%% (threshold %.1f%%)\n", ok ? "\u2713" : "\u2717", name,
                        100.0 * value, 100.0 * limit);
            else if (!ok || o->timings)
                fprintf(out, "  %s %s: %.3g (threshold %.3g)\n", ok ? "\u2713" : "\u2717", name,
                        value, limit);
            else
                fprintf(out, "  %s %s: within %.3g\n", "\u2713", name, limit);
        }
        if (!cJSON_GetArraySize(th))
            fprintf(out, "  %s no thresholds: every run must pass\n", met ? "\u2713" : "\u2717");
        cJSON_Delete(th);
    }
    fprintf(out, "\n%s\n",
            ev_suite_passed(s) ? "All thresholds met" : "Evaluation failed threshold checks");
}

void ev_suite_write(const ev_suite *s, const ev_options *o, bool json, FILE *out, bool color)
{
    if (json)
        write_json(s, o, out);
    else
        write_pretty(s, o, out, color);
}

void ev_suite_free(ev_suite *s)
{
    if (!s) return;
    for (size_t e = 0; e < s->n; e++) {
        ev_eval *ev = &s->evals[e];
        for (size_t i = 0; i < ev->n_cases; i++) {
            ev_case *c = &ev->cases[i];
            for (int r = 0; c->runs && r < ev->runs; r++) {
                tx_free(c->runs[r].failure);
                tx_free(c->runs[r].verdicts);
            }
            tx_free(c->runs);
            tx_free(c->name);
            cJSON_Delete(c->inputs);
            cJSON_Delete(c->expected);
        }
        tx_free(ev->cases);
        cJSON_Delete(ev->evaluators);
        cJSON_Delete(ev->thresholds);
        tx_free(ev->workspace);
    }
    tx_free(s->evals);
    tx_free(s);
}
