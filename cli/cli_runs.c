/*
 * cli_runs.c - durable runs: `tactus runs`, `approvals`, `approve`, `show`,
 * and `resume` (which hands over to cli_run).
 *
 * Every command is scoped by tenant (--tenant or $TACTUS_TENANT, else
 * "default"): a tenant can neither list nor answer another's runs.
 */
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host.h"
#include "journal.h"

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
    "usage: tactus runs [--status running|waiting|completed|failed] [--json]\n"
    "       tactus approvals [--json]\n"
    "       tactus approve RUN REQUEST [--deny] [--value JSON] [--as NAME] [--json]\n"
    "       tactus resume RUN [run options]\n"
    "       tactus show RUN [--json]\n"
    "       tactus audit RUN [--json]\n"
    "\n"
    "common options: --store PATH (default $TACTUS_STORE, else\n"
    "~/.local/share/tactus/journal.db), --tenant NAME (default $TACTUS_TENANT, else default)\n"
    "\n"
    "approve answers a pending human request: an approval is approved unless --deny;\n"
    "other kinds take their answer as --value JSON (a bare word is taken as a string).\n"
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
            fprintf(stderr, "tactus %s: unexpected argument '%s'\n\n%s", argv[0], a, runs_usage);
            return false;
        }
    }
    if (!o->tenant || !*o->tenant) o->tenant = "default";
    return true;
}

static tj_journal *open_journal(const runs_opts *o, const char *cmd)
{
    char path[4096], err[1024];
    if (o->store)
        snprintf(path, sizeof path, "%s", o->store);
    else
        tj_default_path(path, sizeof path);
    tj_journal *j = NULL;
    if (tj_open(path, &j, err, sizeof err) != TX_OK) fprintf(stderr, "tactus %s: %s\n", cmd, err);
    return j;
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

static int cmd_runs(const runs_opts *o)
{
    static const char *const statuses[] = {"running", "waiting", "completed", "failed"};
    if (o->status) {
        bool ok = false;
        for (int i = 0; i < 4; i++) ok |= strcmp(o->status, statuses[i]) == 0;
        if (!ok) {
            fprintf(stderr, "tactus runs: --status takes running, waiting, completed or failed\n");
            return CLI_EXIT_USAGE;
        }
    }
    tj_journal *j = open_journal(o, "runs");
    if (!j) return CLI_EXIT_FAILED;
    cJSON *list = NULL;
    tx_status st = tj_run_list(j, o->tenant, o->status, &list);
    if (st != TX_OK) fprintf(stderr, "tactus runs: %s\n", tj_last_error(j));
    if (st == TX_OK && o->json) {
        print_doc(list);
    } else if (st == TX_OK) {
        if (!cJSON_GetArraySize(list)) printf("no runs for tenant '%s'\n", o->tenant);
        const cJSON *r;
        cJSON_ArrayForEach(r, list)
        {
            char when[32];
            fmt_time((long long)cJSON_GetObjectItemCaseSensitive(r, "created_ms")->valuedouble, when, sizeof when);
            printf("%-22s %-9s %s  %s\n", th_json_str(r, "run_id"), th_json_str(r, "status"), when,
                   th_json_str(r, "procedure"));
        }
    }
    cJSON_Delete(list);
    tj_close(j);
    return st == TX_OK ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

static int cmd_approvals(const runs_opts *o)
{
    tj_journal *j = open_journal(o, "approvals");
    if (!j) return CLI_EXIT_FAILED;
    cJSON *list = NULL;
    tx_status st = tj_human_pending(j, o->tenant, &list);
    if (st != TX_OK) fprintf(stderr, "tactus approvals: %s\n", tj_last_error(j));
    if (st == TX_OK && o->json) {
        print_doc(list);
    } else if (st == TX_OK) {
        if (!cJSON_GetArraySize(list)) printf("no pending requests for tenant '%s'\n", o->tenant);
        const cJSON *r;
        cJSON_ArrayForEach(r, list)
            printf("%-26s %-8s %s\n", th_json_str(r, "request_id"), th_json_str(r, "kind"),
                   th_json_str(r, "message"));
    }
    cJSON_Delete(list);
    tj_close(j);
    return st == TX_OK ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

static int cmd_approve(const runs_opts *o)
{
    if (o->n_args != 2) {
        fprintf(stderr, "tactus approve: expected RUN and REQUEST\n\n%s", runs_usage);
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
        fprintf(stderr, "tactus approve: request %s does not belong to run %s\n", req, run);
        return CLI_EXIT_USAGE;
    }
    tj_journal *j = open_journal(o, "approve");
    if (!j) return CLI_EXIT_FAILED;
    tj_human h;
    int rc = CLI_EXIT_OK;
    if (tj_human_get(j, o->tenant, full, &h) != TX_OK) {
        fprintf(stderr, "tactus approve: no request %s for tenant '%s' (see tactus approvals)\n",
                full, o->tenant);
        tj_close(j);
        return CLI_EXIT_USAGE;
    }
    cJSON *answer = NULL;
    if (o->value) {
        answer = cJSON_Parse(o->value);
        if (!answer) answer = cJSON_CreateString(o->value);
    } else if (strcmp(h.kind, "approve") == 0 || strcmp(h.kind, "tool_approval") == 0) {
        answer = cJSON_CreateBool(!o->deny);
    } else if (o->deny) {
        answer = cJSON_CreateNull();
    } else {
        fprintf(stderr, "tactus approve: a %s request needs its answer: --value JSON\n", h.kind);
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_EXIT_OK) {
        const char *who = o->as ? o->as : getenv("USER") ? getenv("USER") : "cli";
        if (strcmp(h.status, "pending") != 0) {
            fprintf(stderr, "tactus approve: request %s is %s already\n", full, h.status);
            rc = CLI_EXIT_USAGE;
        } else if (tj_human_answer(j, o->tenant, full, h.request_hash, answer, who, "answered") != TX_OK) {
            fprintf(stderr, "tactus approve: %s\n", tj_last_error(j));
            rc = CLI_EXIT_FAILED;
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
            printf("answered %s with %s; continue with: tactus resume %s\n", full, t ? t : "?", run);
            cJSON_free(t);
        }
    }
    cJSON_Delete(answer);
    tj_human_free(&h);
    tj_close(j);
    return rc;
}

static int cmd_show(const runs_opts *o)
{
    if (o->n_args != 1) {
        fprintf(stderr, "tactus show: expected RUN\n\n%s", runs_usage);
        return CLI_EXIT_USAGE;
    }
    tj_journal *j = open_journal(o, "show");
    if (!j) return CLI_EXIT_FAILED;
    tj_run r;
    if (tj_run_get(j, o->tenant, o->args[0], &r) != TX_OK) {
        fprintf(stderr, "tactus show: no run %s for tenant '%s'\n", o->args[0], o->tenant);
        tj_close(j);
        return CLI_EXIT_USAGE;
    }
    cJSON *effects = NULL;
    tj_effect_list(j, r.id, &effects);
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
        cJSON_AddItemToObject(doc, "effects", effects);
        effects = NULL;
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
            const char *ev = th_json_str(res, "event");
            char *data = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(res, ev && !strcmp(ev, "error") ? "error" : "data"));
            char where[16] = "?";
            if (cJSON_IsNumber(line)) snprintf(where, sizeof where, "%d", line->valueint);
            printf("  #%-4d line %-5s %-17s %-6s %.120s\n",
                   (int)cJSON_GetObjectItemCaseSensitive(e, "position")->valuedouble, where,
                   th_json_str(req, "method"), ev ? ev : "?", data ? data : "");
            cJSON_free(data);
        }
        if (r.output) {
            printf("output: ");
            cli_print_json(stdout, r.output);
        }
        if (r.error) printf("error: %s\n", th_json_str(r.error, "message"));
    }
    cJSON_Delete(effects);
    tj_run_free(&r);
    tj_close(j);
    return CLI_EXIT_OK;
}

/* tactus audit RUN: the run's records of the audit log (tenant-scoped). */
static int cmd_audit(const runs_opts *o)
{
    if (o->n_args != 1) {
        fprintf(stderr, "tactus audit: expected RUN\n\n%s", runs_usage);
        return CLI_EXIT_USAGE;
    }
    char store[4096], path[4200];
    if (o->store)
        snprintf(store, sizeof store, "%s", o->store);
    else
        tj_default_path(store, sizeof store);
    const char *env = getenv("TACTUS_AUDIT");
    if (env && *env)
        snprintf(path, sizeof path, "%s", env);
    else
        th_audit_default_path(store, path, sizeof path);
    char *text;
    size_t len;
    int e;
    tx_status st = tx_read_file(path, 1u << 30, &text, &len, &e);
    if (st == TX_ENOENT) {
        text = tx_strdup("");
    } else if (st != TX_OK) {
        fprintf(stderr, "tactus audit: cannot read %s: %s\n", path, e ? strerror(e) : tx_status_str(st));
        return CLI_EXIT_FAILED;
    }
    cJSON *list = cJSON_CreateArray();
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        cJSON *rec = cJSON_Parse(line);
        const char *run = th_json_str(rec, "run"), *tenant = th_json_str(rec, "tenant");
        if (run && tenant && !strcmp(run, o->args[0]) && !strcmp(tenant, o->tenant))
            cJSON_AddItemToArray(list, rec);
        else
            cJSON_Delete(rec);
    }
    tx_free(text);
    if (o->json) {
        print_doc(list);
    } else {
        if (!cJSON_GetArraySize(list)) printf("no audit records for run %s (tenant '%s')\n", o->args[0], o->tenant);
        const cJSON *r;
        cJSON_ArrayForEach(r, list)
        {
            const char *target = th_json_str(r, "model") ? th_json_str(r, "model") : th_json_str(r, "tool");
            printf("%s %-13s %-28s %-7s %-12s %6.0f tokens $%.6f %5.0f ms%s%s\n", th_json_str(r, "time"),
                   th_json_str(r, "method"), target ? target : "-", th_json_str(r, "decision"),
                   th_json_str(r, "outcome"), cJSON_GetObjectItemCaseSensitive(r, "tokens")->valuedouble,
                   cJSON_GetObjectItemCaseSensitive(r, "cost_usd")->valuedouble,
                   cJSON_GetObjectItemCaseSensitive(r, "duration_ms")->valuedouble,
                   th_json_str(r, "reason") ? ": " : "", th_json_str(r, "reason") ? th_json_str(r, "reason") : "");
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
