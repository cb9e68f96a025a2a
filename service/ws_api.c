/*
 * ws_api.c - the JSON API under /v1 (docs/api.md, service/openapi.json):
 * runs (submit, list, read, cancel, events) and human requests (list,
 * read, answer). Every query is the token's tenant's: an id of another
 * tenant is answered 404 like an id that does not exist, so ids do not
 * leak. Errors are application/problem+json.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "broker.h"
#include "durable.h"
#include "frontend.h"
#include "hostlib.h"
#include "proto.h"
#include "queue.h"
#include "ws_internal.h"

/* The most runs GET /v1/runs lists (?limit= asks for fewer). */
#define LIST_CAP 500
/* The largest procedure POST /v1/runs takes: the size `tactus run` reads. */
#define RUN_SOURCE_CAP (8u << 20)

/* The tail of `url` after `prefix`, when it starts with it. */
static const char *after(const char *url, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(url, prefix, n) == 0 ? url + n : NULL;
}

/* An id from a path: no slash, bounded, only the characters ids have
 * (run-HEX, run-HEX.N), so nothing odd reaches a query or a log. */
static bool id_ok(const char *id, size_t cap)
{
    size_t n = strlen(id);
    if (!n || n >= cap) return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_'))
            return false;
    }
    return true;
}

/* A run's procedure as readers see it: its file name. The host's folders
 * are not theirs to know (the source's hash identifies the file). */
static const char *shown_procedure(const char *path)
{
    if (!path) return "";
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static cJSON *dup_or_null(const cJSON *v)
{
    return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

/* The run's status as listed: a submitted run no worker has started is
 * "queued" (tj_run_list's rule). */
static void listed_status(tj_journal *j, const tj_run *r, char *out, size_t cap)
{
    snprintf(out, cap, "%s", r->status);
    if (strcmp(r->status, "running") != 0) return;
    /* One row, not the tenant's whole queue: a read costs the same with
     * 3,000 runs queued as with none. */
    char state[16];
    if (tj_queue_state(j, r->tenant, r->id, state, sizeof state) == TX_OK && !strcmp(state, "ready"))
        snprintf(out, cap, "queued");
}

cJSON *ws_run_json(tj_journal *j, const char *tenant, const char *run_id, bool with_requests)
{
    tj_run r;
    if (tj_run_get(j, tenant, run_id, &r) != TX_OK) return NULL;
    cJSON *doc = cJSON_CreateObject();
    char status[16];
    listed_status(j, &r, status, sizeof status);
    cJSON_AddStringToObject(doc, "run_id", r.id);
    cJSON_AddStringToObject(doc, "status", status);
    cJSON_AddStringToObject(doc, "procedure", shown_procedure(r.procedure_path));
    cJSON_AddStringToObject(doc, "source_sha256", r.source_sha256);
    cJSON_AddItemToObject(doc, "inputs", dup_or_null(r.inputs));
    cJSON_AddItemToObject(doc, "output", dup_or_null(r.output));
    cJSON_AddItemToObject(doc, "error", dup_or_null(r.error));
    cJSON_AddNumberToObject(doc, "created_ms", (double)r.created_ms);
    cJSON_AddNumberToObject(doc, "updated_ms", (double)r.updated_ms);
    if (with_requests) {
        cJSON *reqs = NULL;
        if (tj_human_of_run(j, tenant, r.id, &reqs) != TX_OK) reqs = cJSON_CreateArray();
        cJSON_AddItemToObject(doc, "requests", reqs);
        cJSON_AddNumberToObject(doc, "effects", (double)tj_effect_count(j, tenant, r.id));
    }
    tj_run_free(&r);
    return doc;
}

cJSON *ws_approval_json(tj_journal *j, const tj_human *h, bool whole)
{
    /* the journal's own view, with every field present (null when unset) */
    cJSON *doc = tj_human_json(h);
    static const char *const maybe[] = {"deadline_ms", "answer", "answered_by", "answered_ms"};
    for (size_t i = 0; i < sizeof maybe / sizeof maybe[0]; i++)
        if (!cJSON_HasObjectItem(doc, maybe[i])) cJSON_AddNullToObject(doc, maybe[i]);
    if (whole) {
        /* Everything the person decides on: the whole request (for a tool
         * approval, the exact tool and arguments) and the run it stops. */
        cJSON_AddItemToObject(doc, "request", dup_or_null(h->request));
        tj_run r;
        if (tj_run_get(j, h->tenant, h->run_id, &r) == TX_OK) {
            cJSON *run = cJSON_CreateObject();
            cJSON_AddStringToObject(run, "procedure", shown_procedure(r.procedure_path));
            cJSON_AddStringToObject(run, "status", r.status);
            cJSON_AddItemToObject(run, "inputs", dup_or_null(r.inputs));
            cJSON *effects = NULL;
            if (tj_effect_list(j, h->tenant, h->run_id, &effects) != TX_OK) effects = cJSON_CreateArray();
            /* The recent events: the last ten effects, their method and line. */
            cJSON *recent = cJSON_CreateArray();
            int n = cJSON_GetArraySize(effects);
            for (int i = n > 10 ? n - 10 : 0; i < n; i++) {
                const cJSON *e = cJSON_GetArrayItem(effects, i);
                const cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "request");
                const cJSON *res = cJSON_GetObjectItemCaseSensitive(e, "result");
                cJSON *o = cJSON_CreateObject();
                cJSON_AddItemToObject(o, "position", dup_or_null(cJSON_GetObjectItemCaseSensitive(e, "position")));
                cJSON_AddItemToObject(o, "method", dup_or_null(cJSON_GetObjectItemCaseSensitive(req, "method")));
                cJSON_AddItemToObject(o, "params", dup_or_null(cJSON_GetObjectItemCaseSensitive(req, "params")));
                cJSON_AddItemToObject(o, "event", dup_or_null(cJSON_GetObjectItemCaseSensitive(res, "event")));
                cJSON_AddItemToArray(recent, o);
            }
            cJSON_Delete(effects);
            cJSON_AddItemToObject(run, "recent_events", recent);
            cJSON_AddItemToObject(doc, "run", run);
            tj_run_free(&r);
        }
    }
    return doc;
}

/* The audit record of an answer: in the store for PostgreSQL, else in the
 * audit file beside the journal (as `tactus approve` writes it). */
static void audit_answer(ws_server *s, tj_journal *j, const tj_human *h, const cJSON *answer, const char *who)
{
    if (tj_store_is_url(s->opt.store)) {
        cJSON *rec = br_audit_answer_record(h->tenant, h->run_id, h->id, h->kind, who, "answered",
                                            cJSON_IsTrue(answer));
        tj_audit_append(j, h->tenant, rec);
        cJSON_Delete(rec);
        return;
    }
    char path[4300];
    const char *env = getenv("TACTUS_AUDIT");
    if (env && *env) snprintf(path, sizeof path, "%s", env);
    else br_audit_default_path(s->opt.store, path, sizeof path);
    br_audit_answer(path, h->tenant, h->run_id, h->id, h->kind, who, "answered", cJSON_IsTrue(answer));
}

/* 503 store_failed for an answer: the cause to the server's log only (as
 * ws_store_problem). */
static unsigned answer_store_failed(tj_journal *j, const char *id, char *code, size_t code_cap, char *why,
                                    size_t why_cap)
{
    fprintf(stderr, "tactus serve: answer %s: the store failed: %s\n", id, tj_last_error(j));
    snprintf(code, code_cap, "store_failed");
    snprintf(why, why_cap, "the store failed; the server's log says why (try again later)");
    return 503;
}

unsigned ws_answer(ws_server *s, tj_journal *j, const char *tenant, const char *id, const cJSON *body, const char *who,
                   char *code, size_t code_cap, char *why, size_t why_cap)
{
    tj_human h;
    tx_status got = tj_human_get(j, tenant, id, &h);
    if (got != TX_OK && got != TX_ENOENT) return answer_store_failed(j, id, code, code_cap, why, why_cap);
    if (got != TX_OK) {
        snprintf(code, code_cap, "not_found");
        snprintf(why, why_cap, "no request %s", id);
        return 404;
    }
    unsigned status = 0;
    cJSON *answer = NULL;
    const char *hash = hl_json_str(body, "request_hash");
    bool yes_no = !strcmp(h.kind, "approve") || !strcmp(h.kind, "tool_approval");
    const cJSON *approved = cJSON_GetObjectItemCaseSensitive(body, "approved");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(body, "value");
    char fit[900];
    if (!cJSON_IsObject(body)) {
        status = 422, snprintf(code, code_cap, "bad_answer");
        snprintf(why, why_cap, "the answer is a JSON object: {\"approved\": true|false, \"request_hash\": ...} or "
                               "{\"value\": ..., \"request_hash\": ...}");
    } else if (strcmp(h.status, "pending") != 0) {
        status = 409, snprintf(code, code_cap, "already_answered");
        snprintf(why, why_cap, "request %s is %s already (by %s)", id, h.status, h.answered_by[0] ? h.answered_by : "its timeout");
    } else if (tj_human_late(&h)) {
        status = 409, snprintf(code, code_cap, "request_timed_out");
        snprintf(why, why_cap, "request %s timed out: its default applies when the run resumes", id);
    } else if (tj_human_run_over(j, &h)) {
        status = 409, snprintf(code, code_cap, "run_finished");
        snprintf(why, why_cap, "run %s is finished (completed, failed or cancelled): its requests are over", h.run_id);
    } else if (!hash) {
        status = 422, snprintf(code, code_cap, "request_hash_missing");
        snprintf(why, why_cap, "an answer carries the request_hash of the request it answers (GET /v1/approvals/%s)", id);
    } else if (strcmp(hash, h.request_hash) != 0) {
        status = 409, snprintf(code, code_cap, "stale_request_hash");
        snprintf(why, why_cap, "request_hash is not the one of request %s as it is now: read it again and answer what it asks", id);
    } else if (yes_no && (!cJSON_IsBool(approved) || value)) {
        status = 422, snprintf(code, code_cap, "bad_answer");
        snprintf(why, why_cap, "request %s is an approval: answer {\"approved\": true} or {\"approved\": false}, and no value", id);
    } else if (!yes_no && (!value || approved)) {
        status = 422, snprintf(code, code_cap, "bad_answer");
        snprintf(why, why_cap, "request %s is of kind %s: answer {\"value\": ...}", id, h.kind);
    } else if (!yes_no && !du_answer_fits(h.kind, h.request, value, fit, sizeof fit)) {
        status = 422, snprintf(code, code_cap, "answer_does_not_fit");
        snprintf(why, why_cap, "%s", fit);
    } else if (tj_run_verify(j, tenant, h.run_id) != TX_OK) {
        /* An answer joins the run's sealed chain: never onto a tampered one. */
        status = 409, snprintf(code, code_cap, "journal_does_not_hold");
        snprintf(why, why_cap, "%s", tj_last_error(j));
    } else {
        answer = yes_no ? cJSON_CreateBool(cJSON_IsTrue(approved)) : cJSON_Duplicate(value, 1);
        tx_status st = tj_human_answer(j, tenant, id, hash, answer, who, "answered");
        if (st == TX_EINVAL) {
            /* answered by someone else meanwhile, or the request changed */
            status = 409, snprintf(code, code_cap, "already_answered");
            snprintf(why, why_cap, "%s", tj_last_error(j));
        } else if (st != TX_OK) {
            status = answer_store_failed(j, id, code, code_cap, why, why_cap);
        }
    }
    if (!status) {
        audit_answer(s, j, &h, answer, who);
        ws_list_forget(s, tenant);
    }
    cJSON_Delete(answer);
    tj_human_free(&h);
    return status;
}

/* ---- handlers ------------------------------------------------------------------------------ */

void ws_log_safe(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; in && *in && n + 1 < cap; in++, n++) {
        unsigned char c = (unsigned char)*in;
        out[n] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (cap) out[n] = '\0';
}

enum MHD_Result ws_store_problem(ws_req *r, const char *code, const char *what, const char *cause)
{
    char url[512];
    ws_log_safe(r->url, url, sizeof url);
    fprintf(stderr, "tactus serve: %s %s: %s: %s\n", r->method, url, what, cause);
    return ws_problem(r, 503, code, "%s; the server's log says why (try again later)", what);
}

static enum MHD_Result store_unavailable(ws_req *r, const char *err)
{
    return ws_store_problem(r, "store_unavailable", "the store cannot be opened", err);
}

static enum MHD_Result list_runs(ws_req *r, tj_journal *j)
{
    const char *status = ws_query(r, "status");
    static const char *const statuses[] = {"queued", "running", "waiting", "completed", "failed"};
    bool ok = !status;
    for (int i = 0; i < 5 && !ok; i++) ok = !strcmp(status, statuses[i]);
    if (!ok)
        return ws_problem(r, 400, "bad_status", "status takes queued, running, waiting, completed or failed");
    long limit = LIST_CAP;
    const char *ls = ws_query(r, "limit");
    if (ls) {
        char *end;
        limit = strtol(ls, &end, 10);
        if (*end || limit < 1 || limit > LIST_CAP)
            return ws_problem(r, 400, "bad_limit", "limit takes a number from 1 to %d", LIST_CAP);
    }
    cJSON *list = NULL;
    if (tj_run_list(j, r->tok.tenant, status, &list) != TX_OK) {
        cJSON_Delete(list);
        return ws_store_problem(r, "store_failed", "the store failed", tj_last_error(j));
    }
    while (cJSON_GetArraySize(list) > limit) cJSON_DeleteItemFromArray(list, cJSON_GetArraySize(list) - 1);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "runs", list);
    enum MHD_Result res = ws_reply_json(r, 200, doc);
    cJSON_Delete(doc);
    return res;
}

/* Checks that the inputs fit the main procedure's declared input: no
 * unknown names, every required one present. false with `why`. */
static bool inputs_fit(const fe_file *f, const cJSON *inputs, char *why, size_t cap)
{
    const fe_procedure *main = NULL;
    for (const fe_procedure *p = f->procedures; p; p = p->next)
        if (!p->named) main = p;
    const fe_schema *schema = main ? &main->input : NULL;
    if (!schema || !schema->present) return true;
    const cJSON *v;
    cJSON_ArrayForEach(v, inputs)
        if (!fe_schema_find(schema, v->string)) {
            snprintf(why, cap, "unknown input '%.100s'", v->string);
            return false;
        }
    for (const fe_field *fd = schema->fields; fd; fd = fd->next) {
        bool has_default = fd->default_value && fd->default_value->kind != FE_NIL;
        if (fd->required && !has_default && !cJSON_HasObjectItem(inputs, fd->name)) {
            snprintf(why, cap, "missing required input '%s' (%s)", fd->name, fe_type_name(fd->type));
            return false;
        }
    }
    return true;
}

/* POST /v1/runs {procedure, inputs?, mock?}: `procedure` names a .tac file
 * in the folder the server was given (--procedures): a request chooses
 * among procedures the operator deployed, never sends code. */
static enum MHD_Result submit_run(ws_req *r, tj_journal *j, const cJSON *body)
{
    ws_server *s = r->srv;
    if (!s->procedures[0])
        return ws_problem(r, 403, "submissions_disabled", "this server takes no submissions (start it with --procedures DIR)");
    const char *name = hl_json_str(body, "procedure");
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(body, "inputs");
    const cJSON *mock = cJSON_GetObjectItemCaseSensitive(body, "mock");
    if (!name || !*name || (inputs && !cJSON_IsObject(inputs)) || (mock && !cJSON_IsBool(mock)))
        return ws_problem(r, 422, "bad_submission",
                          "submit {\"procedure\": \"NAME.tac\", \"inputs\": {...}, \"mock\": false}");
    char joined[PATH_MAX * 2], real[PATH_MAX];
    snprintf(joined, sizeof joined, "%s/%s", s->procedures, name);
    size_t dl = strlen(s->procedures);
    struct stat st;
    /* Inside the folder after every link is resolved, a regular .tac file. */
    if (!tx_has_suffix(name, ".tac") || !realpath(joined, real) || strncmp(real, s->procedures, dl) != 0 ||
        real[dl] != '/' || stat(real, &st) != 0 || !S_ISREG(st.st_mode))
        return ws_problem(r, 404, "no_such_procedure", "no procedure '%.200s' in this server's procedures folder", name);
    char *src = NULL;
    size_t len = 0;
    int e = 0;
    if (tx_read_file(real, RUN_SOURCE_CAP, &src, &len, &e) != TX_OK)
        return ws_problem(r, 422, "procedure_unreadable", "procedure '%.200s' cannot be read: %s", name,
                          e ? strerror(e) : "too large");
    fe_context *fe = fe_context_new();
    fe_file *f = NULL;
    enum MHD_Result res;
    char why[600];
    if (!fe || fe_parse(fe, real, src, len, &f) != TX_OK) {
        res = ws_problem(r, 500, "out_of_memory", "the procedure could not be parsed");
        goto out;
    }
    for (size_t i = 0; i < f->diags.len; i++)
        if (f->diags.items[i].severity == TX_SEV_ERROR) {
            tx_line_col lc = tx_span_columns(f->src, f->len, f->diags.items[i].span);
            res = ws_problem(r, 422, "procedure_does_not_parse", "%.200s:%u:%u: %s", name, lc.line, lc.column,
                             f->diags.items[i].message);
            goto out;
        }
    cJSON *in = inputs ? cJSON_Duplicate(inputs, 1) : cJSON_CreateObject();
    if (!inputs_fit(f, in, why, sizeof why)) {
        cJSON_Delete(in);
        res = ws_problem(r, 422, "bad_inputs", "%s", why);
        goto out;
    }
    tj_run run = {0};
    hl_new_run_id(run.id);
    snprintf(run.tenant, sizeof run.tenant, "%s", r->tok.tenant);
    run.procedure_path = real;
    run.source = src;
    run.inputs = in;
    snprintf(run.status, sizeof run.status, "running");
    hl_sha256_hex(src, len, run.source_sha256);
    cJSON *options = cJSON_CreateObject();
    cJSON_AddBoolToObject(options, "mock", cJSON_IsTrue(mock));
    tx_status qs = rq_submit(j, &run, options);
    ws_list_forget(s, run.tenant);
    cJSON_Delete(options);
    cJSON_Delete(in);
    if (qs != TX_OK) {
        res = ws_store_problem(r, "store_failed", "the run could not be queued", tj_last_error(j));
        goto out;
    }
    cJSON *doc = ws_run_json(j, r->tok.tenant, run.id, false);
    char loc[80];
    snprintf(loc, sizeof loc, "/v1/runs/%s", run.id);
    char *text = cJSON_PrintUnformatted(doc);
    const char *h[] = {"Location", loc, NULL};
    res = ws_reply(r, 201, "application/json", text ? text : "{}", text ? strlen(text) : 2, h);
    cJSON_free(text);
    cJSON_Delete(doc);
out:
    fe_file_free(f);
    fe_context_free(fe);
    tx_free(src);
    return res;
}

/* The body as a JSON object (strict: depth-capped, whole), or a reply. */
static cJSON *json_body(ws_req *r, enum MHD_Result *res)
{
    const char *type = ws_header(r, "Content-Type");
    /* application/json, optionally with parameters ("; charset=utf-8"),
     * not application/jsonfoo */
    if (!type || strncasecmp(type, "application/json", 16) != 0 ||
        (type[16] && type[16] != ';' && type[16] != ' ' && type[16] != '\t')) {
        *res = ws_problem(r, 415, "json_required", "send the body as Content-Type: application/json");
        return NULL;
    }
    char why[400];
    cJSON *doc = tp_json_parse_strict(r->body.data ? r->body.data : "", r->body.len, 64, why, sizeof why);
    if (!cJSON_IsObject(doc)) {
        if (doc) snprintf(why, sizeof why, "the body is not a JSON object");
        cJSON_Delete(doc);
        *res = ws_problem(r, 400, "malformed_json", "%s", why);
        return NULL;
    }
    return doc;
}

/* Why a run or request (`what`) could not be read, from its read's status:
 * 404 when the tenant has no such thing (the same answer as for another
 * tenant's), 503 when the store failed (a store that is down must not make
 * runs look deleted). */
static enum MHD_Result unread(ws_req *r, tj_journal *j, tx_status st, const char *what, const char *id)
{
    if (st == TX_ENOENT) return ws_problem(r, 404, "not_found", "no %s %s", what, id);
    return ws_store_problem(r, "store_failed", "the store failed", tj_last_error(j));
}

/* unread for a run whose ws_run_json came back NULL: read again for why. */
static enum MHD_Result run_unread(ws_req *r, tj_journal *j, const char *tenant, const char *id)
{
    tj_run run;
    tx_status st = tj_run_get(j, tenant, id, &run);
    if (st == TX_OK) tj_run_free(&run);
    return unread(r, j, st, "run", id);
}

static enum MHD_Result route(ws_req *r, tj_journal *j)
{
    const char *m = r->method, *rest;
    bool get = !strcmp(m, "GET"), post = !strcmp(m, "POST");
    enum MHD_Result res;
    const char *tenant = r->tok.tenant;
    if (!strcmp(r->url, "/v1/runs")) {
        if (get) return list_runs(r, j);
        if (!post) return ws_problem(r, 405, "method_not_allowed", "GET or POST");
        if (!ws_allow(r, "submit", &res)) return res;
        cJSON *body = json_body(r, &res);
        if (!body) return res;
        res = submit_run(r, j, body);
        cJSON_Delete(body);
        return res;
    }
    if ((rest = after(r->url, "/v1/runs/"))) {
        char id[48];
        const char *slash = strchr(rest, '/');
        size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
        if (n >= sizeof id) return ws_problem(r, 404, "not_found", "no such run");
        memcpy(id, rest, n);
        id[n] = '\0';
        if (!id_ok(id, sizeof id)) return ws_problem(r, 404, "not_found", "no such run");
        const char *sub = slash ? slash : "";
        if (!*sub && get) {
            cJSON *doc = ws_run_json(j, tenant, id, true);
            if (!doc) return run_unread(r, j, tenant, id);
            res = ws_reply_json(r, 200, doc);
            cJSON_Delete(doc);
            return res;
        }
        if (!strcmp(sub, "/events") && get) {
            tj_run run; /* it exists for this tenant */
            tx_status got = tj_run_get(j, tenant, id, &run);
            if (got != TX_OK) return unread(r, j, got, "run", id);
            tj_run_free(&run);
            return ws_reply_stream(r, id, ws_header(r, "Last-Event-ID"));
        }
        if (!strcmp(sub, "/cancel") && post) {
            if (!ws_allow(r, "cancel", &res)) return res;
            tx_status st = rq_cancel(j, tenant, id);
            if (st == TX_ENOENT) return ws_problem(r, 404, "not_found", "no queued run %s", id);
            if (st == TX_EINVAL) return ws_problem(r, 409, "run_finished", "run %s has finished already", id);
            if (st != TX_OK) return ws_store_problem(r, "store_failed", "the store failed", tj_last_error(j));
            ws_list_forget(r->srv, tenant); /* its requests are over */
            cJSON *doc = ws_run_json(j, tenant, id, false);
            res = ws_reply_json(r, 200, doc);
            cJSON_Delete(doc);
            return res;
        }
        return ws_problem(r, 404, "not_found", "no such resource (see docs/api.md)");
    }
    if (!strcmp(r->url, "/v1/approvals")) {
        if (!get) return ws_problem(r, 405, "method_not_allowed", "GET");
        char *text = ws_list_cached(r->srv, tenant);
        if (!text) {
            cJSON *list = NULL;
            if (tj_human_pending(j, tenant, &list) != TX_OK) {
                cJSON_Delete(list);
                return ws_store_problem(r, "store_failed", "the store failed", tj_last_error(j));
            }
            cJSON *doc = cJSON_CreateObject();
            cJSON_AddItemToObject(doc, "approvals", list);
            char *t = cJSON_PrintUnformatted(doc);
            cJSON_Delete(doc);
            if (!t) return ws_problem(r, 500, "out_of_memory", "the reply could not be made");
            ws_list_store(r->srv, tenant, t);
            text = tx_strdup(t);
            cJSON_free(t);
            if (!text) return ws_problem(r, 500, "out_of_memory", "the reply could not be made");
        }
        res = ws_reply(r, 200, "application/json", text, strlen(text), NULL);
        tx_free(text);
        return res;
    }
    if (!strcmp(r->url, "/v1/approvals/events") && get)
        return ws_reply_stream(r, NULL, NULL);
    if ((rest = after(r->url, "/v1/approvals/"))) {
        if (!id_ok(rest, 48)) return ws_problem(r, 404, "not_found", "no such request");
        if (get) {
            tj_human h;
            tx_status st = tj_human_get(j, tenant, rest, &h);
            if (st != TX_OK) return unread(r, j, st, "request", rest);
            cJSON *doc = ws_approval_json(j, &h, true);
            tj_human_free(&h);
            res = ws_reply_json(r, 200, doc);
            cJSON_Delete(doc);
            return res;
        }
        if (!post) return ws_problem(r, 405, "method_not_allowed", "GET or POST");
        /* A request of another tenant is 404 before the role is judged. */
        tj_human h;
        tx_status got = tj_human_get(j, tenant, rest, &h);
        if (got != TX_OK) return unread(r, j, got, "request", rest);
        tj_human_free(&h);
        if (!ws_allow(r, "answer", &res)) return res;
        cJSON *body = json_body(r, &res);
        if (!body) return res;
        char code[64], why[1200];
        unsigned st = ws_answer(r->srv, j, tenant, rest, body, r->tok.name, code, sizeof code, why, sizeof why);
        cJSON_Delete(body);
        if (st) return ws_problem(r, st, code, "%s", why);
        if (tj_human_get(j, tenant, rest, &h) != TX_OK) return ws_store_problem(r, "store_failed", "the store failed", tj_last_error(j));
        cJSON *doc = ws_approval_json(j, &h, false);
        tj_human_free(&h);
        res = ws_reply_json(r, 200, doc);
        cJSON_Delete(doc);
        return res;
    }
    return ws_problem(r, 404, "not_found", "no such resource (see docs/api.md)");
}

enum MHD_Result ws_api_route(ws_req *r)
{
    char err[512];
    tj_journal *j = ws_journal_get(r->srv, err, sizeof err);
    if (!j) return store_unavailable(r, err);
    enum MHD_Result res = route(r, j);
    ws_journal_put(r->srv, j);
    return res;
}
