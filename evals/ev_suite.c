/*
 * ev_suite.c - loading evaluations and running their cases.
 *
 * Loading is static, like the checker: the Evaluation's table must be
 * literal (a dataset computed at run time would make the score depend on
 * the code under evaluation). Evaluators written as field.contains{...}
 * calls or as {type = "contains", ...} tables are the same thing here.
 * dataset_file (relative to the procedure's file) is read by the host:
 * .jsonl, .json (an array) or .csv (name, inputs, expected_output, metadata).
 * The checker has already refused what it can see in the .tac itself
 * (evaluator kinds and thresholds eval cannot run, wrong types, runs out of
 * bounds, cases without inputs: TAC805-TAC810, from the one catalogue of
 * checker/ck_evals.c); what only appears here (dataset files, --runs) is
 * refused here, with the same file:line:column discipline.
 *
 * Running: each (case, run) is one job on sp_parallel's threads; its
 * results land in a slot fixed before the run, so nothing depends on which
 * thread finished first.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ev_internal.h"
#include "journal.h"
#include "proto.h"

ev_suite *ev_suite_new(void)
{
    return tx_calloc(1, sizeof(ev_suite));
}

size_t ev_suite_count(const ev_suite *s)
{
    return s->n;
}

size_t ev_suite_total_runs(const ev_suite *s)
{
    size_t total = 0;
    for (size_t e = 0; e < s->n; e++)
        total += s->evals[e].n_cases * (size_t)s->evals[e].runs;
    return total;
}

/* ---- loading ----------------------------------------------------------------------------- */

static tx_status fail_at(const fe_file *f, tx_span span, char *err, size_t cap, const char *what)
{
    tx_line_col lc = tx_span_columns(f->src, f->len, span);
    snprintf(err, cap, "%s:%u:%u: %s", f->path, lc.line, lc.column, what);
    return TX_EINVAL;
}

/* tp_json_parse_strict's "line L, column C: what" as "path:L:C: what", the
 * line counted from `first_line` of the file. */
static void json_error_at(const char *path, int first_line, const char *why, char *err, size_t cap)
{
    int line = 0, col = 0, used = 0;
    if (sscanf(why, "line %d, column %d: %n", &line, &col, &used) == 2 && used > 0)
        snprintf(err, cap, "%s:%d:%d: not JSON: %s", path, first_line + line - 1, col, why + used);
    else
        snprintf(err, cap, "%s:%d: not JSON: %s", path, first_line, why);
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

/* A case: {name, inputs (an object; {} for a procedure without inputs),
 * expected_output?, metadata?}. `where` names it in messages. */
static bool add_case(ev_eval *ev, const cJSON *c, const char *where, char *err, size_t cap)
{
    const char *name = hl_json_str(c, "name");
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(c, "inputs");
    if (!cJSON_IsObject(c)) {
        snprintf(err, cap,
                 "%s: a case is an object {\"name\": ..., \"inputs\": {...}, \"expected_output\": "
                 "...}",
                 where);
        return false;
    }
    /* Lua writes an empty table as []: an empty inputs table is {}. */
    bool empty_list = cJSON_IsArray(inputs) && cJSON_GetArraySize(inputs) == 0;
    if (!inputs || (!cJSON_IsObject(inputs) && !empty_list)) {
        snprintf(err, cap,
                 "%s: case '%.200s' %s; give its inputs as an object, e.g. \"inputs\": "
                 "{\"name\": \"Ada\"} (or {} when the procedure takes none)",
                 where, name ? name : "(unnamed)",
                 inputs ? "has inputs that are not an object" : "has no inputs");
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
    k->where = tx_strdup(where);
    k->inputs = empty_list ? cJSON_CreateObject() : cJSON_Duplicate(inputs, 1);
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "expected_output");
    k->expected = exp ? cJSON_Duplicate(exp, 1) : NULL;
    /* The inputs' hash tells a renamed case from a new one (--baseline). */
    char *canon = k->inputs ? tj_canonical_json(k->inputs) : NULL;
    if (canon) hl_sha256_hex(canon, strlen(canon), k->inputs_sha256);
    tx_free(canon);
    return k->name && k->where && k->inputs && canon;
}

/* One CSV record into cells (RFC 4180: quoted fields may hold commas, ""
 * and line breaks). *line counts the lines consumed; false with a message
 * for a quote left open at the end of the file. */
static cJSON *csv_row(const char **p, int *line, bool *unterminated)
{
    cJSON *row = cJSON_CreateArray();
    tx_buf cell;
    tx_buf_init(&cell, EV_TEXT_MAX);
    tx_buf_puts(&cell, "");
    bool quoted = false;
    *unterminated = false;
    for (;; (*p)++) {
        char c = **p;
        if (quoted) {
            if (c == '"' && (*p)[1] == '"') {
                tx_buf_append(&cell, "\"", 1);
                (*p)++;
            } else if (c == '"') {
                quoted = false;
            } else if (c) {
                if (c == '\n') (*line)++;
                tx_buf_append(&cell, p[0], 1);
            } else {
                *unterminated = true;
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
                if (c) {
                    (*p)++;
                    (*line)++;
                }
                break;
            }
        } else if (c != '\r') {
            tx_buf_append(&cell, p[0], 1);
        }
    }
    tx_buf_free(&cell);
    return row;
}

static bool load_jsonl(ev_eval *ev, char *text, const char *path, char *err, size_t cap)
{
    int line = 0;
    bool ok = true;
    for (char *p = text; ok && *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        line++;
        const char *q = p;
        while (*q == ' ' || *q == '\t' || *q == '\r')
            q++;
        if (*q) {
            char why[400], w[8300];
            cJSON *c = tp_json_parse_strict(p, strlen(p), TP_JSON_MAX_DEPTH, why, sizeof why);
            snprintf(w, sizeof w, "%s:%d:1", path, line);
            if (!c) {
                json_error_at(path, line, why, err, cap);
                ok = false;
            } else {
                ok = add_case(ev, c, w, err, cap);
            }
            cJSON_Delete(c);
        }
        p = nl ? nl + 1 : p + strlen(p);
    }
    return ok;
}

/* The line and column of byte `off` of text. */
static void position_of(const char *text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static bool load_json(ev_eval *ev, const char *text, size_t len, const char *path, char *err,
                      size_t cap)
{
    char why[400];
    cJSON *all = tp_json_parse_strict(text, len, TP_JSON_MAX_DEPTH, why, sizeof why);
    if (!all) {
        json_error_at(path, 1, why, err, cap);
        return false;
    }
    bool ok = true;
    if (!cJSON_IsArray(all)) {
        snprintf(
            err, cap,
            "%s:1:1: expected a JSON array of cases, [{\"name\": ..., \"inputs\": {...}}, ...]",
            path);
        ok = false;
    }
    /* Each case is named by where it starts: the n-th '{' at depth 1. */
    const char *p = text;
    int depth = 0;
    bool in_string = false;
    const cJSON *c;
    cJSON_ArrayForEach(c, all)
    {
        if (!ok) break;
        for (; *p; p++) {
            if (in_string) {
                if (*p == '\\' && p[1])
                    p++;
                else if (*p == '"')
                    in_string = false;
                continue;
            }
            if (*p == '"')
                in_string = true;
            else if (*p == '[' || *p == '{') {
                if (depth++ == 1) break;
            } else if (*p == ']' || *p == '}') {
                depth--;
            } else if (depth == 1 && *p != ',' && *p != ' ' && *p != '\n' && *p != '\r' &&
                       *p != '\t') {
                break; /* a scalar element */
            }
        }
        int line, col;
        position_of(text, (size_t)(p - text), &line, &col);
        char w[8300];
        snprintf(w, sizeof w, "%s:%d:%d", path, line, col);
        if (*p) p++;
        ok = add_case(ev, c, w, err, cap);
    }
    cJSON_Delete(all);
    return ok;
}

static bool load_csv(ev_eval *ev, const char *text, const char *path, char *err, size_t cap)
{
    const char *p = text;
    int line = 1, header_line = 1;
    bool open_quote;
    cJSON *header = csv_row(&p, &line, &open_quote);
    bool ok = !open_quote, has_inputs = false;
    const cJSON *h;
    cJSON_ArrayForEach(h, header) has_inputs |= strcmp(h->valuestring, "inputs") == 0;
    if (open_quote) {
        snprintf(err, cap, "%s:%d:1: a quoted field is never closed (a '\"' is missing)", path,
                 header_line);
    } else if (!has_inputs) {
        snprintf(err, cap,
                 "%s:1:1: the header has no 'inputs' column; a CSV dataset's columns are name, "
                 "inputs (JSON), expected_output (JSON or text) and metadata (JSON)",
                 path);
        ok = false;
    }
    while (ok && *p) {
        int row_line = line;
        cJSON *row = csv_row(&p, &line, &open_quote);
        if (open_quote) {
            snprintf(err, cap, "%s:%d:1: a quoted field is never closed (a '\"' is missing)", path,
                     row_line);
            ok = false;
        }
        bool blank = cJSON_GetArraySize(row) == 1 && !*cJSON_GetArrayItem(row, 0)->valuestring;
        cJSON *c = cJSON_CreateObject();
        for (int i = 0; ok && !blank && i < cJSON_GetArraySize(header); i++) {
            const char *col = cJSON_GetArrayItem(header, i)->valuestring;
            const cJSON *cell = cJSON_GetArrayItem(row, i);
            const char *v = cell ? cell->valuestring : "";
            bool json_col = !strcmp(col, "inputs") || !strcmp(col, "expected_output") ||
                            !strcmp(col, "metadata");
            char why[400];
            cJSON *j = json_col && *v
                           ? tp_json_parse_strict(v, strlen(v), TP_JSON_MAX_DEPTH, why, sizeof why)
                           : NULL;
            if (json_col && *v && !j && strcmp(col, "expected_output") != 0) {
                snprintf(err, cap, "%s:%d:%d: column %s is not JSON (%s): %.200s", path, row_line,
                         i + 1, col, why, v);
                ok = false;
            }
            if (!(json_col && !*v)) cJSON_AddItemToObject(c, col, j ? j : cJSON_CreateString(v));
        }
        char w[8300];
        snprintf(w, sizeof w, "%s:%d:1", path, row_line);
        if (ok && !blank) ok = add_case(ev, c, w, err, cap);
        cJSON_Delete(c);
        cJSON_Delete(row);
    }
    cJSON_Delete(header);
    return ok;
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
    if (!tx_has_suffix(rel, ".jsonl") && !tx_has_suffix(rel, ".json") &&
        !tx_has_suffix(rel, ".csv")) {
        snprintf(err, cap,
                 "%s: dataset_file must be .jsonl (a case per line), .json (an array of cases) "
                 "or .csv (columns name, inputs, expected_output, metadata), not '%s'",
                 where, rel);
        return false;
    }
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
    if (!dn || strncmp(real, real_dir, dn) != 0 ||
        (real[dn] != '/' && strcmp(real_dir, "/") != 0)) {
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
                 err_no            ? strerror(err_no)
                 : rs == TX_ELIMIT ? "larger than 64 MiB"
                                   : tx_status_str(rs));
        return false;
    }
    bool ok;
    size_t bad = tx_utf8_invalid_at(text, len);
    if (bad < len || memchr(text, '\0', len)) {
        int line, col;
        position_of(text, bad < len ? bad : (size_t)((char *)memchr(text, '\0', len) - text), &line,
                    &col);
        snprintf(err, cap,
                 "%s:%d:%d: not a text file (bytes that are not UTF-8); a dataset is "
                 "JSON, JSON lines or CSV text",
                 path, line, col);
        ok = false;
    } else if (tx_has_suffix(path, ".jsonl")) {
        ok = load_jsonl(ev, text, path, err, cap);
    } else if (tx_has_suffix(path, ".json")) {
        ok = load_json(ev, text, len, path, err, cap);
    } else {
        ok = load_csv(ev, text, path, err, cap);
    }
    tx_free(text);
    return ok;
}

/* runs, confidence, pass_k and the runs bounds: the checker refused wrong
 * types in the file (TAC807, TAC808); here the file's values meet --runs and
 * the dataset files' cases. */
static tx_status load_options(ev_eval *ev, const fe_value *cfg, const ev_options *o, char *err,
                              size_t cap)
{
    const fe_file *f = ev->f;
    const fe_value *runs = fe_value_get(cfg, "runs");
    ev->runs = runs && runs->kind == FE_NUMBER && runs->number >= 1 ? (int)runs->number : 1;
    if (o->runs > 0) ev->runs = o->runs;
    const fe_value *conf = fe_value_get(cfg, "confidence");
    ev->confidence = conf && conf->kind == FE_NUMBER && conf->number > 0 && conf->number < 1
                         ? conf->number
                         : 0.95;
    char m[600];
    const char *from = o->runs > 0 ? "--runs" : "runs";
    if (ev->runs > EV_MAX_RUNS_PER_CASE) {
        snprintf(m, sizeof m,
                 "%d runs per case (%s) is more than the %d allowed: each run has its own budgets, "
                 "so runs multiply what an evaluation may spend; use at most %d",
                 ev->runs, from, EV_MAX_RUNS_PER_CASE, EV_MAX_RUNS_PER_CASE);
        return fail_at(f, runs && o->runs <= 0 ? runs->span : cfg->span, err, cap, m);
    }
    if ((size_t)ev->runs * ev->n_cases > EV_MAX_RUNS_PER_EVALUATION) {
        snprintf(m, sizeof m,
                 "%zu cases x %d runs is %zu runs, more than the %d an evaluation may make (each "
                 "run has its own budgets); use fewer runs or split the dataset",
                 ev->n_cases, ev->runs, ev->n_cases * (size_t)ev->runs, EV_MAX_RUNS_PER_EVALUATION);
        return fail_at(f, runs && o->runs <= 0 ? runs->span : cfg->span, err, cap, m);
    }
    /* pass_k: the file's list, each k at most runs; by default {1, 3}, the
     * k above runs left out. */
    const fe_value *pk = fe_value_get(cfg, "pass_k");
    if (pk && pk->kind == FE_TABLE) {
        for (const fe_entry *e = pk->entries; e && ev->n_pass_k < EV_MAX_K; e = e->next) {
            if (e->value->kind != FE_NUMBER) continue;
            unsigned k = (unsigned)e->value->number;
            if (k > (unsigned)ev->runs) {
                snprintf(m, sizeof m,
                         "pass_k asks for k = %u, but each case runs %d time%s (%s); k must be at "
                         "most the number of runs: raise %s or drop k = %u",
                         k, ev->runs, ev->runs == 1 ? "" : "s", from, from, k);
                return fail_at(f, e->value->span, err, cap, m);
            }
            ev->pass_k[ev->n_pass_k++] = k;
        }
    } else {
        static const unsigned dflt[] = {1, 3};
        for (size_t i = 0; i < 2; i++)
            if (dflt[i] <= (unsigned)ev->runs) ev->pass_k[ev->n_pass_k++] = dflt[i];
    }
    const fe_value *th = fe_value_get(cfg, "thresholds");
    const fe_value *mk = fe_value_get(fe_value_get(th, "min_pass_k"), "k");
    if (mk && mk->kind == FE_NUMBER && mk->number > ev->runs) {
        snprintf(m, sizeof m,
                 "min_pass_k asks for pass^%g, but each case runs %d time%s (%s); k must be at "
                 "most the number of runs",
                 mk->number, ev->runs, ev->runs == 1 ? "" : "s", from);
        return fail_at(f, mk->span, err, cap, m);
    }
    return TX_OK;
}

static tx_status load(ev_eval *ev, const fe_evaluation *decl, const ev_options *o, char *err,
                      size_t cap)
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
    const fe_value *file = fe_value_get(cfg, "dataset_file");
    if (file && file->kind == FE_STRING) {
        tx_line_col lc = tx_span_columns(f->src, f->len, file->span);
        char at[4200];
        snprintf(at, sizeof at, "%s:%u:%u", f->path, lc.line, lc.column);
        if (!load_dataset_file(ev, file->str, at, err, cap)) return TX_EINVAL;
    }
    const fe_value *ds = fe_value_get(cfg, "dataset");
    if (ds) {
        if (ds->kind != FE_TABLE || has_dynamic(ds, 0))
            return fail_at(f, ds->span, err, cap,
                           "the dataset must be written out literally (no variables or calls), or "
                           "put in a dataset_file");
        for (const fe_entry *e = ds->entries; e; e = e->next) {
            tx_line_col lc = tx_span_columns(f->src, f->len, e->value->span);
            char at[4200];
            snprintf(at, sizeof at, "%s:%u:%u", f->path, lc.line, lc.column);
            cJSON *c = fe_value_to_json(e->value);
            bool ok = c && add_case(ev, c, at, err, cap);
            cJSON_Delete(c);
            if (!ok) return TX_EINVAL;
        }
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
        ev->has_judge |= strcmp(hl_json_str(j, "type"), "llm_judge") == 0;
        cJSON_AddItemToArray(ev->evaluators, j);
        ev->n_evaluators++;
    }
    if (ev->n_evaluators == 0)
        return fail_at(
            f, decl->span, err, cap,
            "the evaluation has no evaluators: add evaluators = {field.equals_expected{}, ...}");
    const fe_value *th = fe_value_get(cfg, "thresholds");
    ev->thresholds = th && th->kind == FE_TABLE ? fe_value_to_json(th) : NULL;
    if (cJSON_IsArray(ev->thresholds) && cJSON_GetArraySize(ev->thresholds) == 0) {
        cJSON_Delete(ev->thresholds);
        ev->thresholds = NULL;
    }
    /* The checker refused these already (TAC806); held to the same
     * catalogue here too, so no threshold is ever silently ignored. */
    const cJSON *t;
    cJSON_ArrayForEach(t, ev->thresholds)
    {
        char m[1024];
        if (ck_threshold_problem(t->string ? t->string : "", m, sizeof m))
            return fail_at(f, th->span, err, cap, m);
    }
    return load_options(ev, cfg, o, err, cap);
}

tx_status ev_suite_add(ev_suite *s, const fe_file *f, const cJSON *config, const char *workspace,
                       const ev_options *o, char *err, size_t cap)
{
    int index = 0;
    for (const fe_evaluation *decl = f->evaluations; decl; decl = decl->next) {
        ev_eval *ne = tx_realloc(s->evals, (s->n + 1) * sizeof *ne);
        if (!ne) return TX_ENOMEM;
        s->evals = ne;
        ev_eval *ev = &s->evals[s->n++];
        memset(ev, 0, sizeof *ev);
        ev->f = f;
        ev->config = config;
        ev->index = ++index;
        ev->workspace = tx_strdup(workspace);
        tx_status st = load(ev, decl, o, err, cap);
        if (st != TX_OK) return st;
        if (ev->has_judge && !(ev->mocks = sp_mocks_json(f, NULL))) return TX_ENOMEM;
        for (size_t i = 0; i < ev->n_cases; i++) {
            ev_case *c = &ev->cases[i];
            c->runs = tx_calloc((size_t)ev->runs, sizeof(ev_run));
            if (!c->runs) return TX_ENOMEM;
            for (int r = 0; r < ev->runs; r++) {
                c->runs[r].verdicts = tx_calloc(ev->n_evaluators + 1, sizeof(ev_verdict));
                c->runs[r].agreement = tx_calloc(ev->n_evaluators + 1, sizeof(double));
                if (!c->runs[r].verdicts || !c->runs[r].agreement) return TX_ENOMEM;
            }
        }
    }
    return TX_OK;
}

/* ---- running ----------------------------------------------------------------------------- */

typedef struct {
    ev_suite *s;
    const ev_options *o;
    size_t total;
    atomic_size_t done, passed, counted;
    long long start_ms, last_shown_ms;
    pthread_mutex_t lock;
} ev_job_set;

/* What the run did, for consistency: which evaluators passed, and the
 * output (canonical JSON: Lua's pairs order differs run to run). */
static uint64_t signature_of(const ev_run *r, size_t n_evaluators, const cJSON *output)
{
    uint64_t h = es_signature(ES_SIGNATURE_START, &r->outcome, sizeof r->outcome);
    for (size_t i = 0; i < n_evaluators; i++) {
        unsigned char v = (unsigned char)r->verdicts[i];
        h = es_signature(h, &v, 1);
    }
    char *canon = output ? tj_canonical_json(output) : NULL;
    if (canon) h = es_signature(h, canon, strlen(canon));
    tx_free(canon);
    return h;
}

static void set_reason(ev_run *r, const char *fmt, const char *a, const char *b)
{
    if (r->reason) return;
    tx_buf m;
    tx_buf_init(&m, EV_TEXT_MAX);
    tx_buf_printf(&m, fmt, a ? a : "", b ? b : "");
    r->reason = tx_buf_steal(&m);
}

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
    bool started = sp_run_procedure(&rq, &res);
    r->usage = res.usage;
    const char *message = hl_json_str(res.error, "message");
    if (!started) {
        /* The machine, not the procedure: an error, not a failed run. */
        r->outcome = EV_RUN_ERROR;
        set_reason(r, "infrastructure: the run could not start: %s%s", message, NULL);
    } else if (res.status == SUP_FAILED && res.usage.infra_errors > 0) {
        r->outcome = EV_RUN_ERROR;
        set_reason(r,
                   "infrastructure: the model provider failed after its retries (%s); the run "
                   "failed: %s",
                   res.usage.infra_error, message);
    } else {
        long long deadline = o->limits.wall_ms > 0 ? hl_now_ms() + o->limits.wall_ms : 0;
        ev_judge_ctx *judge =
            ev->has_judge ? ev_judge_new(ev->config, ev->mocks, o->mock, deadline) : NULL;
        ev_facts facts = {res.output, c->expected, c->inputs, res.report, &res.usage, judge};
        bool failed = false, errored = false;
        for (size_t i = 0; i < ev->n_evaluators; i++) {
            const cJSON *cfg = cJSON_GetArrayItem(ev->evaluators, (int)i);
            tx_buf why;
            tx_buf_init(&why, EV_TEXT_MAX);
            ev_verdict v;
            r->agreement[i] = NAN;
            if (res.status != SUP_COMPLETED) {
                v = EV_FAIL;
                /* where the procedure failed (FILE:LINE), when the runtime said */
                const char *file = hl_json_str(res.error, "file");
                const cJSON *line = cJSON_GetObjectItemCaseSensitive(res.error, "line");
                char at[300] = "";
                if (file && cJSON_IsNumber(line))
                    snprintf(at, sizeof at, " at %.200s:%d", file, line->valueint);
                tx_buf_printf(&why, "the run %s%s: %s",
                              res.status == SUP_WAITING ? "is waiting for a person" : "failed", at,
                              message ? message : "");
            } else {
                v = ev_evaluate(cfg, &facts, &why, &r->agreement[i]);
            }
            r->verdicts[i] = v;
            /* The first failure is the run's reason; an evaluator error is
             * the reason only when nothing failed. */
            if (v == EV_FAIL && !failed) {
                char label[200];
                ev_evaluator_label(cfg, label, sizeof label);
                tx_free(r->reason);
                r->reason = NULL;
                set_reason(r, "%s: %s", label, why.data ? why.data : "failed");
                failed = true;
            } else if (v == EV_ERROR && !failed && !errored) {
                char label[200];
                ev_evaluator_label(cfg, label, sizeof label);
                set_reason(r, "evaluator error: %s: %s", label, why.data ? why.data : "");
                errored = true;
            }
            tx_buf_free(&why);
        }
        if (judge) ev_judge_usage(judge, &r->judge);
        ev_judge_free(judge);
        r->outcome = failed ? EV_RUN_FAILED : errored ? EV_RUN_ERROR : EV_RUN_PASSED;
    }
    r->signature = signature_of(r, ev->n_evaluators, res.output);
    sup_run_result_free(&res);
    cJSON_Delete(test);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->ms = (double)(t1.tv_sec - t0.tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

/* "12.3 s" or "4 min 05 s". */
static void fmt_seconds(double s, char *out, size_t cap)
{
    if (s < 60)
        snprintf(out, cap, "%.1f s", s);
    else
        snprintf(out, cap, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60));
}

/* The progress of the whole suite on stderr: runs done of all, the pass
 * rate of the counted runs so far, the time taken and the time left. A
 * terminal gets one line rewritten at most ten times a second; anything
 * else a plain line every ten seconds (logs stay readable). */
static void show_progress(ev_job_set *js, bool last)
{
    if (js->o->progress == EV_PROGRESS_NONE) return;
    long long now = hl_now_ms();
    bool live = js->o->progress == EV_PROGRESS_LIVE;
    pthread_mutex_lock(&js->lock);
    if (!last && now - js->last_shown_ms < (live ? 100 : 10000)) {
        pthread_mutex_unlock(&js->lock);
        return;
    }
    js->last_shown_ms = now;
    size_t done = atomic_load(&js->done), passed = atomic_load(&js->passed),
           counted = atomic_load(&js->counted);
    double elapsed = (double)(now - js->start_ms) / 1000.0;
    char took[32], left[32] = "?";
    fmt_seconds(elapsed, took, sizeof took);
    if (done > 0)
        fmt_seconds(elapsed / (double)done * (double)(js->total - done), left, sizeof left);
    char rate[32] = "-";
    if (counted) snprintf(rate, sizeof rate, "%.1f%%", 100.0 * (double)passed / (double)counted);
    if (live && last)
        fputs("\r\033[K", stderr);
    else if (live || done < js->total)
        fprintf(stderr, "%stactus eval: %zu/%zu runs, %s passing, %s elapsed, ETA %s%s",
                live ? "\r\033[K" : "", done, js->total, rate, took, left, live ? "" : "\n");
    fflush(stderr);
    pthread_mutex_unlock(&js->lock);
}

static void job(void *ud, size_t i)
{
    ev_job_set *js = ud;
    for (size_t e = 0; e < js->s->n; e++) {
        ev_eval *ev = &js->s->evals[e];
        size_t n = ev->n_cases * (size_t)ev->runs;
        if (i < n) {
            size_t ci = i / (size_t)ev->runs;
            int run = (int)(i % (size_t)ev->runs);
            run_one(js->o, ev, ci, run);
            ev_outcome oc = ev->cases[ci].runs[run].outcome;
            atomic_fetch_add(&js->passed, oc == EV_RUN_PASSED);
            atomic_fetch_add(&js->counted, oc == EV_RUN_PASSED || oc == EV_RUN_FAILED);
            atomic_fetch_add(&js->done, 1);
            show_progress(js, false);
            return;
        }
        i -= n;
    }
}

tx_status ev_suite_run(ev_suite *s, const ev_options *o)
{
    ev_job_set js = {.s = s, .o = o, .total = ev_suite_total_runs(s)};
    atomic_init(&js.done, 0);
    atomic_init(&js.passed, 0);
    atomic_init(&js.counted, 0);
    js.start_ms = js.last_shown_ms = hl_now_ms();
    pthread_mutex_init(&js.lock, NULL);
    size_t ran = sp_parallel(js.total, o->jobs, "tactus eval", false, job, &js);
    show_progress(&js, true);
    pthread_mutex_destroy(&js.lock);
    return ran < js.total ? TX_EIO : TX_OK;
}

cJSON *ev_suite_results(const ev_suite *s, const ev_options *o, const cJSON *baseline)
{
    return ev_score_suite(s, o, baseline);
}

void ev_suite_free(ev_suite *s)
{
    if (!s) return;
    for (size_t e = 0; e < s->n; e++) {
        ev_eval *ev = &s->evals[e];
        for (size_t i = 0; i < ev->n_cases; i++) {
            ev_case *c = &ev->cases[i];
            for (int r = 0; c->runs && r < ev->runs; r++) {
                tx_free(c->runs[r].reason);
                tx_free(c->runs[r].verdicts);
                tx_free(c->runs[r].agreement);
            }
            tx_free(c->runs);
            tx_free(c->name);
            tx_free(c->where);
            cJSON_Delete(c->inputs);
            cJSON_Delete(c->expected);
        }
        tx_free(ev->cases);
        cJSON_Delete(ev->evaluators);
        cJSON_Delete(ev->thresholds);
        cJSON_Delete(ev->mocks);
        tx_free(ev->workspace);
    }
    tx_free(s->evals);
    tx_free(s);
}
