/*
 * cli_runs.c - durable runs: `tactus runs`, `approvals`, `approve`, `show`,
 * and `resume` (which hands over to cli_run).
 *
 * Every command is scoped by tenant (--tenant or $TACTUS_TENANT, else
 * "default"): a tenant can neither list nor answer another's runs.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "proto.h"
#include "broker.h"
#include "supervisor.h"
#include "journal.h"
#include "durable.h"

typedef struct {
    const char *store;
    const char *tenant;
    bool json;
    bool deny;
    const char *value;
    const char *as;
    const char *status;
    const char *args[4];
    int n_args;
} runs_opts;

static const char runs_usage[] =
    "usage: tactus runs [--status queued|running|waiting|completed|failed] [--json]\n"
    "       tactus approvals [--json]\n"
    "       tactus approvals show REQUEST [--json]\n"
    "       tactus approve RUN REQUEST [--deny] [--value JSON] [--as NAME] [--json]\n"
    "       tactus resume RUN [run options]\n"
    "       tactus show RUN [--json]\n"
    "       tactus audit RUN [--json]\n"
    "\n"
    "common options: --store PATH|URL (default $TACTUS_STORE, else journal.url of the\n"
    "trusted configuration, else ~/.local/share/tactus/journal.db; a postgres:// URL is a\n"
    "shared PostgreSQL store), --tenant NAME (default $TACTUS_TENANT, else default)\n"
    "\n"
    "approve answers a pending human request: an approval (Human.approve, a tool\n"
    "approval) is a yes (no flag) or a no (--deny) and takes no --value; other kinds\n"
    "take their answer as --value JSON (a bare word is taken as a string), checked\n"
    "against what the request declared (options, mode, min/max, items) first.\n"
    "approvals show prints the whole request a person is asked to answer.\n"
    "The answer is bound to the exact request it answers: if the procedure asks\n"
    "something different when resumed, the answer is not applied.\n";

static bool parse_opts(int argc, char **argv, runs_opts *o, int max_args)
{
    memset(o, 0, sizeof *o);
    o->tenant = getenv("TACTUS_TENANT");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_next = i + 1 < argc;
        if (strcmp(a, "--json") == 0)
            o->json = true;
        else if (strcmp(a, "--deny") == 0)
            o->deny = true;
        else if (strcmp(a, "--store") == 0 && has_next)
            o->store = argv[++i];
        else if (strcmp(a, "--tenant") == 0 && has_next)
            o->tenant = argv[++i];
        else if (strcmp(a, "--value") == 0 && has_next)
            o->value = argv[++i];
        else if (strcmp(a, "--as") == 0 && has_next)
            o->as = argv[++i];
        else if (strcmp(a, "--status") == 0 && has_next)
            o->status = argv[++i];
        else if (a[0] != '-' && o->n_args < max_args)
            o->args[o->n_args++] = a;
        else {
            cli_error("tactus %s: unexpected argument '%s'\n\n%s", argv[0], a, runs_usage);
            return false;
        }
    }
    if (!o->tenant || !*o->tenant) o->tenant = "default";
    return true;
}

/* The store, or NULL with *rc: 2 when the configuration is refused (as
 * for tactus run: nothing happens), 1 when the store cannot be opened. */
static tj_journal *open_journal(const runs_opts *o, const char *cmd, int *rc)
{
    char path[4096], what[64];
    snprintf(what, sizeof what, "tactus %s", cmd);
    *rc = CLI_EXIT_USAGE;
    if (!cli_store_resolve(what, o->store, NULL, path, sizeof path)) return NULL;
    *rc = CLI_EXIT_FAILED;
    return cli_store_open(what, path);
}

static void print_doc(const cJSON *v)
{
    char *t = cJSON_PrintUnformatted(v);
    printf("%s\n", t ? t : "null");
    cJSON_free(t);
}

static void fmt_time(long long ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/* "3 min" for a span of time. */
static void fmt_span(long long ms, char *out, size_t cap)
{
    long long s = ms / 1000;
    if (s < 120)
        snprintf(out, cap, "%lld s", s);
    else if (s < 7200)
        snprintf(out, cap, "%lld min", s / 60);
    else if (s < 172800)
        snprintf(out, cap, "%lld h", s / 3600);
    else
        snprintf(out, cap, "%lld days", s / 86400);
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Who answers when --as is not given: the user this process runs as (the
 * account's name from the password database; $USER only when it has none). */
static void default_answerer(char *out, size_t cap)
{
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name && *pw->pw_name)
        snprintf(out, cap, "%s", pw->pw_name);
    else if (getenv("USER") && *getenv("USER"))
        snprintf(out, cap, "%s", getenv("USER"));
    else
        snprintf(out, cap, "uid %ld", (long)geteuid());
}

/* The audit log `tactus audit` reads: $TACTUS_AUDIT, else beside the
 * journal; "" for a PostgreSQL store, which keeps its audit log in the
 * store. False (after saying why) when the configuration that names the
 * store is refused: reading the default log instead would show another
 * store's records as this one's. */
static bool audit_path_of(const runs_opts *o, const char *cmd, char *path, size_t cap)
{
    char store[4096];
    path[0] = '\0';
    if (!cli_store_resolve(cmd, o->store, NULL, store, sizeof store)) return false;
    if (tj_store_is_url(store)) return true;
    const char *env = getenv("TACTUS_AUDIT");
    if (env && *env)
        snprintf(path, cap, "%s", env);
    else
        br_audit_default_path(store, path, cap);
    return true;
}

static int cmd_runs(const runs_opts *o)
{
    static const char *const statuses[] = {"queued", "running", "waiting", "completed", "failed"};
    if (o->status) {
        bool ok = false;
        for (int i = 0; i < 5; i++) ok |= strcmp(o->status, statuses[i]) == 0;
        if (!ok) {
            cli_error("tactus runs: --status takes queued, running, waiting, completed or failed\n");
            return CLI_EXIT_USAGE;
        }
    }
    int open_rc;
    tj_journal *j = open_journal(o, "runs", &open_rc);
    if (!j) return open_rc;
    cJSON *list = NULL;
    tx_status st = tj_run_list(j, o->tenant, o->status, &list);
    if (st != TX_OK) cli_error("tactus runs: %s\n", tj_last_error(j));
    if (st == TX_OK && o->json) {
        print_doc(list);
    } else if (st == TX_OK) {
        if (!cJSON_GetArraySize(list)) printf("no runs for tenant '%s'\n", o->tenant);
        const cJSON *r;
        cJSON_ArrayForEach(r, list)
        {
            char when[32];
            fmt_time((long long)cJSON_GetObjectItemCaseSensitive(r, "created_ms")->valuedouble, when, sizeof when);
            char *tp = tx_term_text(hl_json_str(r, "procedure"));
            printf("%-22s %-9s %s  %s\n", hl_json_str(r, "run_id"), hl_json_str(r, "status"), when,
                   tp ? tp : "?");
            tx_free(tp);
        }
    }
    cJSON_Delete(list);
    tj_close(j);
    return st == TX_OK ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

/* `approvals` lists at most this much of each message (the rest: show). */
#define LIST_MESSAGE_CAP 200

static void print_term(const char *label, const char *text)
{
    char *t = tx_term_text(text ? text : "");
    printf("%s%s\n", label, t ? t : "");
    tx_free(t);
}

/* tactus approvals show REQUEST: everything a person answers, whole: the
 * message, every argument of the request (context, options, the tool and its
 * arguments for a tool approval) and the hash the answer is bound to. Text
 * from the procedure is made inert for the terminal; --json prints the row. */
static int cmd_approval_show(const runs_opts *o, const char *req)
{
    int open_rc;
    tj_journal *j = open_journal(o, "approvals show", &open_rc);
    if (!j) return open_rc;
    tj_human h;
    if (tj_human_get(j, o->tenant, req, &h) != TX_OK) {
        char *t = tx_term_text(req);
        cli_error("tactus approvals show: no request %s for tenant '%s' (tactus approvals lists them)\n",
                t ? t : "?", o->tenant);
        tx_free(t);
        tj_close(j);
        return CLI_EXIT_USAGE;
    }
    if (o->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "request_id", h.id);
        cJSON_AddStringToObject(doc, "run_id", h.run_id);
        cJSON_AddStringToObject(doc, "kind", h.kind);
        cJSON_AddStringToObject(doc, "status", h.status);
        cJSON_AddStringToObject(doc, "message", h.message ? h.message : "");
        cJSON_AddItemToObject(doc, "request", h.request ? cJSON_Duplicate(h.request, 1) : cJSON_CreateNull());
        cJSON_AddStringToObject(doc, "request_hash", h.request_hash);
        cJSON_AddItemToObject(doc, "answer", h.answer ? cJSON_Duplicate(h.answer, 1) : cJSON_CreateNull());
        print_doc(doc);
        cJSON_Delete(doc);
    } else {
        char when[32];
        fmt_time(h.created_ms, when, sizeof when);
        print_term("request:  ", h.id);
        print_term("run:      ", h.run_id);
        print_term("kind:     ", h.kind);
        print_term("status:   ", h.status);
        printf("asked:    %s\n", when);
        printf("hash:     %s (the answer is bound to this exact request)\n", h.request_hash);
        if (strcmp(h.kind, "tool_approval") == 0) {
            print_term("tool:     ", hl_json_str(h.request, "name"));
            char *args = cJSON_Print(cJSON_GetObjectItemCaseSensitive(h.request, "args"));
            print_term("arguments:\n", args ? args : "{}");
            cJSON_free(args);
        }
        printf("message (%zu bytes):\n", h.message ? strlen(h.message) : 0);
        print_term("", h.message);
        const cJSON *p;
        cJSON_ArrayForEach(p, h.request)
        {
            if (!p->string || !strcmp(p->string, "message") || cJSON_IsNull(p)) continue;
            if (!strcmp(h.kind, "tool_approval") && (!strcmp(p->string, "name") || !strcmp(p->string, "args")))
                continue;
            char *v = cJSON_IsString(p) ? NULL : cJSON_Print(p);
            char *k = tx_term_text(p->string);
            printf("%s: ", k ? k : "?");
            print_term("", v ? v : p->valuestring);
            tx_free(k);
            cJSON_free(v);
        }
        if (h.answer) {
            char *a = cJSON_PrintUnformatted(h.answer);
            print_term("answer:   ", a);
            cJSON_free(a);
            print_term("by:       ", h.answered_by);
        } else {
            printf("answer with:  tactus approve %s %s%s\n", h.run_id, h.id,
                   strcmp(h.kind, "approve") && strcmp(h.kind, "tool_approval") ? " --value JSON"
                                                                                : "   (no: --deny)");
        }
    }
    tj_human_free(&h);
    tj_close(j);
    return CLI_EXIT_OK;
}

static int cmd_approvals(const runs_opts *o)
{
    if (o->n_args >= 1 && strcmp(o->args[0], "show") == 0) {
        if (o->n_args != 2) {
            cli_error("tactus approvals show: expected REQUEST (an id from tactus approvals)\n\n%s", runs_usage);
            return CLI_EXIT_USAGE;
        }
        return cmd_approval_show(o, o->args[1]);
    }
    if (o->n_args > 0) {
        cli_error("tactus approvals: unexpected argument (only 'show REQUEST')\n\n%s", runs_usage);
        return CLI_EXIT_USAGE;
    }
    int open_rc;
    tj_journal *j = open_journal(o, "approvals", &open_rc);
    if (!j) return open_rc;
    cJSON *list = NULL;
    tx_status st = tj_human_pending(j, o->tenant, &list);
    if (st != TX_OK) cli_error("tactus approvals: %s\n", tj_last_error(j));
    if (st == TX_OK && o->json) {
        print_doc(list);
    } else if (st == TX_OK) {
        if (!cJSON_GetArraySize(list)) printf("no pending requests for tenant '%s'\n", o->tenant);
        const cJSON *r;
        long long now = wall_ms();
        cJSON_ArrayForEach(r, list)
        {
            const char *m = hl_json_str(r, "message");
            char *tid = tx_term_text(hl_json_str(r, "request_id")), *tk = tx_term_text(hl_json_str(r, "kind"));
            char where[200];
            snprintf(where, sizeof where, "the whole request: tactus approvals show %s", tid ? tid : "REQUEST");
            tx_buf head;
            tx_buf_init(&head, 4096);
            tx_buf_shorten(&head, m ? m : "", LIST_MESSAGE_CAP, where);
            char *tm = tx_term_text(head.data ? head.data : "");
            printf("%-26s %-8s %s", tid ? tid : "?", tk ? tk : "?", tm ? tm : "");
            /* Its timeout passed: the next resume answers it with the default. */
            const cJSON *deadline = cJSON_GetObjectItemCaseSensitive(r, "deadline_ms");
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "timed_out")) && cJSON_IsNumber(deadline)) {
                char ago[32];
                fmt_span(now - (long long)deadline->valuedouble, ago, sizeof ago);
                char *td = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(r, "default"));
                char *tdt = tx_term_text(td ? td : "null");
                printf("  [TIMED OUT %s ago: tactus resume %s applies the default, %s]", ago,
                       hl_json_str(r, "run_id") ? hl_json_str(r, "run_id") : "RUN", tdt ? tdt : "null");
                tx_free(tdt);
                cJSON_free(td);
            }
            putchar('\n');
            tx_buf_free(&head);
            tx_free(tid);
            tx_free(tk);
            tx_free(tm);
        }
    }
    cJSON_Delete(list);
    tj_close(j);
    return st == TX_OK ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

static int cmd_approve(const runs_opts *o)
{
    if (o->n_args != 2) {
        cli_error("tactus approve: expected RUN and REQUEST\n\n%s", runs_usage);
        return CLI_EXIT_USAGE;
    }
    const char *run = o->args[0], *req = o->args[1];
    char full[128];
    /* REQUEST may be the full id or its position after the run's id. */
    if (strchr(req, '.'))
        snprintf(full, sizeof full, "%s", req);
    else
        snprintf(full, sizeof full, "%s.%s", run, req);
    if (strncmp(full, run, strlen(run)) != 0 || full[strlen(run)] != '.') {
        cli_error("tactus approve: request %s does not belong to run %s\n", req, run);
        return CLI_EXIT_USAGE;
    }
    int open_rc;
    tj_journal *j = open_journal(o, "approve", &open_rc);
    if (!j) return open_rc;
    tj_human h;
    int rc = CLI_EXIT_OK;
    if (tj_human_get(j, o->tenant, full, &h) != TX_OK) {
        cli_error("tactus approve: no request %s for tenant '%s' (see tactus approvals)\n",
                full, o->tenant);
        tj_close(j);
        return CLI_EXIT_USAGE;
    }
    /* An answer joins the run's sealed chain: never add one to a journal
     * edited outside tactus. */
    if (tj_run_verify(j, o->tenant, run) != TX_OK) {
        cli_error("tactus approve: %s\n", tj_last_error(j));
        tj_human_free(&h);
        tj_close(j);
        return CLI_EXIT_USAGE;
    }
    cJSON *answer = NULL;
    bool yes_no = strcmp(h.kind, "approve") == 0 || strcmp(h.kind, "tool_approval") == 0;
    if (o->value && yes_no) {
        /* A yes/no is given by the command itself, never by a value that
         * could be mistyped ("maybe", "no", "false" taken as a string). */
        cli_error(
                "tactus approve: request %s is an approval: it takes no --value; approve it with "
                "`tactus approve %s %s`, or refuse it with --deny\n",
                full, run, req);
        rc = CLI_EXIT_USAGE;
    } else if (o->value) {
        /* JSON when it is JSON; a bare word is the string it reads as. Text
         * that starts like JSON is judged as JSON: a typo in it is an error,
         * never an answer of another type. */
        char why[400];
        answer = tp_json_parse_strict(o->value, strlen(o->value), TP_JSON_MAX_DEPTH, why, sizeof why);
        if (!answer && strchr("[{\"", o->value[0]) && o->value[0]) {
            char *t = tx_term_text(why);
            cli_error("tactus approve: --value: %s\n", t ? t : why);
            tx_free(t);
            rc = CLI_EXIT_USAGE;
        } else if (!answer) {
            answer = cJSON_CreateString(o->value);
        }
    } else if (yes_no) {
        answer = cJSON_CreateBool(!o->deny);
    } else if (o->deny) {
        answer = cJSON_CreateNull();
    } else {
        cli_error("tactus approve: a %s request needs its answer: --value JSON\n", h.kind);
        rc = CLI_EXIT_USAGE;
    }
    char why[900];
    if (rc == CLI_EXIT_OK && o->value && !du_answer_fits(h.kind, h.request, answer, why, sizeof why)) {
        char *t = tx_term_text(why);
        cli_error(
                "tactus approve: %s refused for request %s: %s (the request is still pending; "
                "see it whole with tactus approvals show %s)\n",
                o->value, full, t ? t : "", full);
        tx_free(t);
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_EXIT_OK) {
        char who[128];
        if (o->as)
            snprintf(who, sizeof who, "%s", o->as);
        else
            default_answerer(who, sizeof who);
        if (strcmp(h.status, "pending") != 0) {
            cli_error("tactus approve: request %s is %s already\n", full, h.status);
            rc = CLI_EXIT_USAGE;
        } else if (tj_human_answer(j, o->tenant, full, h.request_hash, answer, who, "answered") != TX_OK) {
            cli_error("tactus approve: %s\n", tj_last_error(j));
            rc = CLI_EXIT_FAILED;
        } else {
            char audit[4300];
            if (!audit_path_of(o, "tactus approve", audit, sizeof audit)) {
                /* Not reached in practice: the store was resolved the same way. */
                cli_error("tactus approve: warning: the answer is recorded, but not in the audit log\n");
            } else if (audit[0]) {
                br_audit_answer(audit, o->tenant, run, full, h.kind, who, "answered",
                                cJSON_IsTrue(answer));
            } else {
                cJSON *rec = br_audit_answer_record(o->tenant, run, full, h.kind, who, "answered",
                                                    cJSON_IsTrue(answer));
                if (tj_audit_append(j, o->tenant, rec) != TX_OK)
                    cli_error("tactus approve: warning: the answer is recorded, but not in the "
                              "audit log: %s\n", tj_last_error(j));
                cJSON_Delete(rec);
            }
        }
        if (rc != CLI_EXIT_OK) {
            /* reported above */
        } else if (o->json) {
            cJSON *doc = cJSON_CreateObject();
            cJSON_AddStringToObject(doc, "request_id", full);
            cJSON_AddStringToObject(doc, "run_id", run);
            cJSON_AddItemToObject(doc, "answer", cJSON_Duplicate(answer, 1));
            cJSON_AddStringToObject(doc, "by", who);
            print_doc(doc);
            cJSON_Delete(doc);
        } else {
            char *t = cJSON_PrintUnformatted(answer);
            char *tw = tx_term_text(who);
            printf("answered %s with %s (by %s); continue with: tactus resume %s\n", full, t ? t : "?",
                   tw ? tw : "?", run);
            tx_free(tw);
            cJSON_free(t);
        }
    }
    cJSON_Delete(answer);
    tj_human_free(&h);
    tj_close(j);
    return rc;
}

/* `show`'s summary of an effect's data: this many bytes, then how many more. */
#define SHOW_DATA_CAP 120

/* The run's requests for people: who answered each and when, or since
 * when it waits (and whether its timeout has passed). */
static void print_requests(const cJSON *requests)
{
    if (!cJSON_GetArraySize(requests)) return;
    printf("requests:\n");
    long long now = wall_ms();
    const cJSON *q;
    cJSON_ArrayForEach(q, requests)
    {
        char asked[32], when[32];
        const cJSON *created = cJSON_GetObjectItemCaseSensitive(q, "created_ms");
        const cJSON *answered = cJSON_GetObjectItemCaseSensitive(q, "answered_ms");
        const cJSON *deadline = cJSON_GetObjectItemCaseSensitive(q, "deadline_ms");
        fmt_time(cJSON_IsNumber(created) ? (long long)created->valuedouble : 0, asked, sizeof asked);
        const char *status = hl_json_str(q, "status");
        char *tid = tx_term_text(hl_json_str(q, "request_id")), *tk = tx_term_text(hl_json_str(q, "kind"));
        printf("  %-26s %-8s asked %s, ", tid ? tid : "?", tk ? tk : "?", asked);
        if (status && !strcmp(status, "pending")) {
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "timed_out")) && cJSON_IsNumber(deadline)) {
                char ago[32];
                fmt_span(now - (long long)deadline->valuedouble, ago, sizeof ago);
                printf("pending: TIMED OUT %s ago (the next resume applies the default)\n", ago);
            } else {
                printf("pending\n");
            }
        } else {
            fmt_time(cJSON_IsNumber(answered) ? (long long)answered->valuedouble : 0, when, sizeof when);
            char *a = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(q, "answer"));
            tx_buf head;
            tx_buf_init(&head, 4096);
            tx_buf_shorten(&head, a ? a : "null", SHOW_DATA_CAP, "tactus show --json has it all");
            char *ta = tx_term_text(head.data ? head.data : ""), *tb = tx_term_text(hl_json_str(q, "answered_by"));
            printf("%s %s by %s at %s\n", status && !strcmp(status, "timed_out") ? "timed out:" : "answered",
                   ta ? ta : "?", tb ? tb : "?", when);
            tx_free(ta);
            tx_free(tb);
            tx_buf_free(&head);
            cJSON_free(a);
        }
        tx_free(tid);
        tx_free(tk);
    }
}

static int cmd_show(const runs_opts *o)
{
    if (o->n_args != 1) {
        cli_error("tactus show: expected RUN\n\n%s", runs_usage);
        return CLI_EXIT_USAGE;
    }
    int open_rc;
    tj_journal *j = open_journal(o, "show", &open_rc);
    if (!j) return open_rc;
    tj_run r;
    if (tj_run_get(j, o->tenant, o->args[0], &r) != TX_OK) {
        cli_error("tactus show: no run %s for tenant '%s'\n", o->args[0], o->tenant);
        tj_close(j);
        return CLI_EXIT_USAGE;
    }
    cJSON *effects = NULL, *requests = NULL;
    tj_effect_list(j, o->tenant, r.id, &effects);
    tj_human_of_run(j, o->tenant, r.id, &requests);
    /* What the run's calls used and cost, as the broker recorded each
     * answer in the journal. */
    br_usage usage = {0};
    const cJSON *fx;
    cJSON_ArrayForEach(fx, effects)
    {
        const char *m = hl_json_str(cJSON_GetObjectItemCaseSensitive(fx, "request"), "method");
        if (m && strcmp(m, "llm.chat") == 0)
            br_usage_add(&usage, cJSON_GetObjectItemCaseSensitive(fx, "result"));
        else if (m && strcmp(m, "tool.call") == 0)
            usage.tool_calls++;
    }
    if (o->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "run_id", r.id);
        cJSON_AddStringToObject(doc, "tenant", r.tenant);
        cJSON_AddStringToObject(doc, "procedure", r.procedure_path);
        cJSON_AddStringToObject(doc, "source_sha256", r.source_sha256);
        cJSON_AddStringToObject(doc, "status", r.status);
        cJSON_AddItemToObject(doc, "inputs", r.inputs ? cJSON_Duplicate(r.inputs, 1) : cJSON_CreateNull());
        cJSON_AddItemToObject(doc, "output", r.output ? cJSON_Duplicate(r.output, 1) : cJSON_CreateNull());
        cJSON_AddItemToObject(doc, "error", r.error ? cJSON_Duplicate(r.error, 1) : cJSON_CreateNull());
        cJSON_AddItemToObject(doc, "usage", br_usage_json(&usage));
        cJSON_AddItemToObject(doc, "effects", effects);
        effects = NULL;
        /* who answered each request, and when */
        cJSON_AddItemToObject(doc, "requests", requests);
        requests = NULL;
        cJSON *notes = NULL;
        tj_run_notes(j, o->tenant, r.id, &notes);
        cJSON_AddItemToObject(doc, "notes", notes);
        cJSON_AddStringToObject(doc, "seals", tj_run_verify(j, o->tenant, r.id) == TX_OK
                                                  ? "ok" : tj_last_error(j));
        print_doc(doc);
        cJSON_Delete(doc);
    } else {
        char when[32];
        fmt_time(r.created_ms, when, sizeof when);
        printf("run %s (%s) of %s, started %s, tenant %s\n", r.id, r.status, r.procedure_path, when,
               r.tenant);
        const cJSON *e;
        cJSON_ArrayForEach(e, effects)
        {
            const cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "request");
            const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
            const cJSON *line = cJSON_GetObjectItemCaseSensitive(params, "line");
            const cJSON *res = cJSON_GetObjectItemCaseSensitive(e, "result");
            const char *ev = hl_json_str(res, "event");
            char *data = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(res, ev && !strcmp(ev, "error") ? "error" : "data"));
            char where[16] = "?";
            if (cJSON_IsNumber(line)) snprintf(where, sizeof where, "%d", line->valueint);
            /* A summary: the first 120 bytes, cut at a character and saying
             * how much more there is (show --json has it all). */
            tx_buf head;
            tx_buf_init(&head, 4096);
            tx_buf_shorten(&head, data ? data : "", SHOW_DATA_CAP, "tactus show --json has it all");
            char *td = tx_term_text(head.data ? head.data : "");
            char *tmeth = tx_term_text(hl_json_str(req, "method"));
            printf("  #%-4d line %-5s %-17s %-6s %s\n",
                   (int)cJSON_GetObjectItemCaseSensitive(e, "position")->valuedouble, where,
                   tmeth ? tmeth : "?", ev ? ev : "?", td ? td : "");
            tx_buf_free(&head);
            tx_free(td);
            tx_free(tmeth);
            cJSON_free(data);
        }
        print_requests(requests);
        if (r.output) {
            printf("output: ");
            cli_print_json(stdout, r.output);
        }
        if (r.error) print_term("error: ", hl_json_str(r.error, "message"));
        if (usage.calls > 0) {
            char used[600];
            br_usage_text(&usage, used, sizeof used);
            print_term("usage: ", used);
        }
    }
    cJSON_Delete(effects);
    cJSON_Delete(requests);
    tj_run_free(&r);
    tj_close(j);
    return CLI_EXIT_OK;
}

/* The records of run o->args[0] (and o->tenant) in the audit file. */
static bool audit_file_records(const char *path, const runs_opts *o, cJSON **out)
{
    char *text;
    size_t len;
    int e;
    tx_status st = tx_read_file(path, 1u << 30, &text, &len, &e);
    if (st == TX_ENOENT) {
        text = tx_strdup("");
    } else if (st != TX_OK) {
        cli_error("tactus audit: cannot read %s: %s\n", path, e ? strerror(e) : tx_status_str(st));
        return false;
    }
    cJSON *list = cJSON_CreateArray();
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        cJSON *rec = cJSON_Parse(line);
        const char *run = hl_json_str(rec, "run"), *tenant = hl_json_str(rec, "tenant");
        if (run && tenant && !strcmp(run, o->args[0]) && !strcmp(tenant, o->tenant))
            cJSON_AddItemToArray(list, rec);
        else
            cJSON_Delete(rec);
    }
    tx_free(text);
    *out = list;
    return true;
}

/* tactus audit RUN: the run's records of the audit log (tenant-scoped). */
static int cmd_audit(const runs_opts *o)
{
    if (o->n_args != 1) {
        cli_error("tactus audit: expected RUN\n\n%s", runs_usage);
        return CLI_EXIT_USAGE;
    }
    char path[4300];
    if (!audit_path_of(o, "tactus audit", path, sizeof path)) return CLI_EXIT_USAGE;
    cJSON *list = NULL;
    if (!path[0]) {
        int open_rc;
        tj_journal *j = open_journal(o, "audit", &open_rc);
        if (!j) return open_rc;
        tx_status ls = tj_audit_list(j, o->tenant, o->args[0], &list);
        if (ls != TX_OK) cli_error("tactus audit: %s\n", tj_last_error(j));
        tj_close(j);
        if (ls != TX_OK) {
            cJSON_Delete(list);
            return CLI_EXIT_FAILED;
        }
    } else if (!audit_file_records(path, o, &list)) {
        return CLI_EXIT_FAILED;
    }
    if (o->json) {
        print_doc(list);
    } else {
        if (!cJSON_GetArraySize(list)) printf("no audit records for run %s (tenant '%s')\n", o->args[0], o->tenant);
        const cJSON *r;
        double total = 0, unknown = 0;
        cJSON_ArrayForEach(r, list)
        {
            if (!strcmp(hl_json_str(r, "method") ? hl_json_str(r, "method") : "", "human.answer")) {
                /* A person's answer: which request, who, when. */
                char *tq = tx_term_text(hl_json_str(r, "request")), *tb = tx_term_text(hl_json_str(r, "by"));
                char *to = tx_term_text(hl_json_str(r, "outcome")), *tk = tx_term_text(hl_json_str(r, "kind"));
                printf("%s %-13s %-28s %-7s by %s (%s)\n", hl_json_str(r, "time"), "human.answer",
                       tq ? tq : "?", to ? to : "?", tb ? tb : "?", tk ? tk : "?");
                tx_free(tq);
                tx_free(tb);
                tx_free(to);
                tx_free(tk);
                continue;
            }
            const char *target = hl_json_str(r, "model") ? hl_json_str(r, "model") : hl_json_str(r, "tool");
            /* Tool names, targets and reasons may come from the procedure. */
            char *tt = tx_term_text(target ? target : "-"), *tr = tx_term_text(hl_json_str(r, "reason"));
            char *tm = tx_term_text(hl_json_str(r, "method")), *to = tx_term_text(hl_json_str(r, "outcome"));
            /* Tokens are null when the provider reported no usage, the cost
             * also when the model has no price: unknown, never 0. */
            const cJSON *tok = cJSON_GetObjectItemCaseSensitive(r, "tokens");
            const cJSON *cost = cJSON_GetObjectItemCaseSensitive(r, "cost_usd");
            const cJSON *ms = cJSON_GetObjectItemCaseSensitive(r, "duration_ms");
            char tokens[48], price[48];
            if (cJSON_IsNumber(tok))
                snprintf(tokens, sizeof tokens, "%6.0f tokens", tok->valuedouble);
            else
                snprintf(tokens, sizeof tokens, "unknown tokens");
            if (cJSON_IsNumber(cost)) {
                snprintf(price, sizeof price, "$%.6f", cost->valuedouble);
                total += cost->valuedouble;
            } else {
                snprintf(price, sizeof price, "cost unknown");
                unknown++;
            }
            printf("%s %-13s %-28s %-7s %-12s %s %s %5.0f ms%s%s\n", hl_json_str(r, "time"),
                   tm ? tm : "?", tt ? tt : "-", hl_json_str(r, "decision"), to ? to : "?", tokens,
                   price, cJSON_IsNumber(ms) ? ms->valuedouble : 0,
                   hl_json_str(r, "reason") ? ": " : "", tr && hl_json_str(r, "reason") ? tr : "");
            tx_free(tt);
            tx_free(tr);
            tx_free(tm);
            tx_free(to);
        }
        if (cJSON_GetArraySize(list)) {
            if (unknown)
                printf(
                    "total: $%.6f for the priced calls; %.0f call%s of unknown cost (no price for "
                    "the model: set prices in the configuration)\n",
                    total, unknown, unknown == 1 ? "" : "s");
            else
                printf("total: $%.6f\n", total);
        }
    }
    cJSON_Delete(list);
    return CLI_EXIT_OK;
}

int cli_runs(int argc, char **argv)
{
    const char *cmd = argv[0];
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(runs_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "resume") == 0) {
        /* tactus resume [options] RUN == tactus run --resume [options] RUN */
        char **args = tx_calloc((size_t)argc + 2, sizeof *args);
        if (!args) return CLI_EXIT_FAILED;
        args[0] = "run";
        args[1] = "--resume";
        for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
        int rc = cli_run(argc + 1, args);
        tx_free(args);
        return rc;
    }
    runs_opts o;
    if (!parse_opts(argc, argv, &o, 4)) return CLI_EXIT_USAGE;
    if (strcmp(cmd, "runs") == 0) return cmd_runs(&o);
    if (strcmp(cmd, "approvals") == 0) return cmd_approvals(&o);
    if (strcmp(cmd, "approve") == 0) return cmd_approve(&o);
    if (strcmp(cmd, "show") == 0) return cmd_show(&o);
    if (strcmp(cmd, "audit") == 0) return cmd_audit(&o);
    return CLI_EXIT_USAGE;
}
