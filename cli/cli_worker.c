/*
 * cli_worker.c - `tactus worker [--concurrency N] [--tenant T]...`: claims
 * queued and resumable runs of the store (runtime/queue's loop) and runs
 * each as `tactus resume` would: the run's recorded source and inputs,
 * replayed from its journal, in the configured sandbox (or --no-sandbox),
 * with the procedure's configuration. A run that waits for a person is
 * parked and given back; SIGTERM drains. Also `tactus queue [cancel RUN]`.
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "cli.h"
#include "journal.h"
#include "queue.h"

static const char worker_usage[] =
    "usage: tactus worker [options]\n"
    "\n"
    "Claim queued runs (tactus submit) and runs whose person answered, run each to its\n"
    "end or until it waits for a person, and give it back. A run whose worker died is\n"
    "taken over when its lease runs out, and resumed by replay. SIGTERM (or Ctrl-C)\n"
    "drains: no new claims; running runs get --grace seconds, then are stopped: the\n"
    "call each has in flight (host tool, model, MCP, Sleep) is cut, not journaled, and\n"
    "made again with the same idempotency key by the worker that resumes the run,\n"
    "which is handed back at once. Then the worker exits 0.\n"
    "\n"
    "options:\n"
    "      --concurrency N     runs at once (default 1)\n"
    "      --tenant NAME       a tenant whose runs to claim (repeatable; default $TACTUS_TENANT,\n"
    "                          else default)\n"
    "      --store URL|PATH    the store (default $TACTUS_STORE, else journal.url of the trusted\n"
    "                          configuration, else ~/.local/share/tactus/journal.db); keep a\n"
    "                          password out of it (ps shows it): $TACTUS_STORE, ~/.pgpass\n"
    "      --sandbox BACKEND   docker (default), runsc (gVisor) or process (as --no-sandbox)\n"
    "      --no-sandbox        run without the Docker sandbox; prints a security warning\n"
    "      --lease SECONDS     how long a claim holds without a heartbeat (default 30; renewed\n"
    "                          every third of it)\n"
    "      --poll MS           how often to look for work when no notification comes (default 1000)\n"
    "      --grace SECONDS     how long running runs may finish after SIGTERM (default 30);\n"
    "                          then their calls in flight are cut and the runs handed back\n"
    "      --timeout SECONDS   wall-clock limit of each run (default 600)\n"
    "      --exit-when-idle    stop once nothing is left to claim and nothing runs\n"
    "  -v, --verbose           each run's progress and the runtime's messages on stderr\n"
    "  -h, --help              show this help\n"
    "\n"
    "exit status: 0 drained, 1 the store cannot be opened, 2 usage error, 4 sandbox unavailable.\n";

typedef struct {
    cli_launcher launcher;
    char store[4096];
    sup_limits limits;
    bool verbose;
} worker_ctx;

/* Records a run's failure that is not the procedure's (its journal does not
 * hold, its folder is missing here...): the run ends, with the reason. */
static rq_outcome fail_run(tj_journal *j, const tj_claim *c, const char *why)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "message", why);
    tx_status s = tj_run_finish(j, c->tenant, c->run_id, "failed", NULL, e);
    cJSON_Delete(e);
    return s == TX_OK ? RQ_DONE : s == TX_EINVAL ? RQ_LOST : RQ_HAND_BACK;
}

/* When the first pending request of the run times out (0: none). */
static long long first_deadline(tj_journal *j, const tj_claim *c)
{
    cJSON *reqs = NULL;
    long long first = 0;
    if (tj_human_of_run(j, c->tenant, c->run_id, &reqs) == TX_OK) {
        const cJSON *q;
        cJSON_ArrayForEach(q, reqs)
        {
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(q, "deadline_ms");
            const char *st = hl_json_str(q, "status");
            if (st && !strcmp(st, "pending") && cJSON_IsNumber(d) && (!first || d->valuedouble < first))
                first = (long long)d->valuedouble;
        }
    }
    cJSON_Delete(reqs);
    return first;
}

static rq_outcome run_claim(void *ud, tj_journal *j, const tj_claim *c, volatile sig_atomic_t *stop,
                            long long *wake_ms)
{
    worker_ctx *w = ud;
    tj_run r;
    tx_status s = tj_run_get(j, c->tenant, c->run_id, &r);
    if (s != TX_OK) return s == TX_ENOENT ? RQ_DONE : RQ_HAND_BACK;
    rq_outcome how = RQ_DONE;
    cJSON *config = NULL, *mocks = NULL;
    fe_context *fe = NULL;
    fe_file *f = NULL;
    sb_launch launch = {0};
    char why[2048];
    if (!strcmp(r.status, "completed") || !strcmp(r.status, "failed")) goto out; /* released late */
    if (tj_run_verify(j, c->tenant, c->run_id) != TX_OK) {
        how = fail_run(j, c, tj_last_error(j));
        goto out;
    }
    s = tj_run_finish(j, c->tenant, c->run_id, "running", NULL, NULL);
    if (s != TX_OK) {
        how = s == TX_EINVAL ? RQ_LOST : RQ_HAND_BACK;
        goto out;
    }
    char workspace[PATH_MAX], cfg_err[1024];
    if (!cli_workspace_of(r.procedure_path, workspace, sizeof workspace)) {
        snprintf(why, sizeof why, "%.1000s: the procedure's folder (its workspace) does not exist on "
                 "this worker's machine: the workers need the same folders as the submitter", r.procedure_path);
        how = fail_run(j, c, why);
        goto out;
    }
    if (cf_load(r.procedure_path, &config, cfg_err, sizeof cfg_err) != TX_OK) {
        snprintf(why, sizeof why, "configuration error: %.1500s", cfg_err);
        how = fail_run(j, c, why);
        goto out;
    }
    /* The recorded source, sealed with the run: the file may have changed. */
    size_t len = strlen(r.source);
    fe = fe_context_new();
    if (!fe || fe_parse(fe, r.procedure_path, r.source, len, &f) != TX_OK) {
        how = RQ_HAND_BACK;
        goto out;
    }
    mocks = cli_mocks_json(f);
    char err[1024] = "";
    if (cli_launcher_make(&w->launcher, config, workspace, c->run_id, NULL, &launch, err, sizeof err) != TX_OK) {
        snprintf(why, sizeof why, "sandbox configuration error: %.1000s", err[0] ? err : "out of memory");
        how = fail_run(j, c, why);
        goto out;
    }
    char audit_path[4200] = "";
    const cJSON *ap = cf_get(config, "audit.path");
    if (cJSON_IsString(ap))
        snprintf(audit_path, sizeof audit_path, "%s", ap->valuestring);
    else if (!tj_store_is_url(w->store))
        br_audit_default_path(w->store, audit_path, sizeof audit_path);
    sup_run_options ro = {
        .path = r.procedure_path,
        .source = r.source,
        .source_len = len,
        .procedure = "main",
        .inputs = r.inputs,
        .config = config,
        .mocks = mocks,
        .launch = &launch,
        .run_id = c->run_id,
        .journal = j,
        .tenant = c->tenant,
        .audit_path = audit_path,
        .mock_all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->options, "mock")),
        .quiet_signals = true,
        .stop = stop,
        .limits = w->limits,
        .progress = {w->verbose ? stderr : NULL, w->verbose, false},
    };
    sup_run_result res;
    s = sup_run(&ro, &res);
    if (*stop) {
        how = *stop == 2 ? RQ_LOST : RQ_HAND_BACK;
    } else if (s != TX_OK) {
        snprintf(why, sizeof why, "cannot start tactus-runtime: %s", tx_status_str(s));
        how = fail_run(j, c, why);
    } else {
        static const char *const names[] = {"completed", "failed", "waiting"};
        s = tj_run_finish(j, c->tenant, c->run_id, names[res.status], res.output, res.error);
        if (s != TX_OK)
            how = s == TX_EINVAL ? RQ_LOST : RQ_HAND_BACK;
        else if (res.status == SUP_WAITING) {
            how = RQ_PARKED;
            *wake_ms = first_deadline(j, c);
        }
    }
    if (s == TX_OK) sup_run_result_free(&res);
    else if (s != TX_OK && !*stop) sup_run_result_free(&res);
out:
    sb_launch_free(&launch);
    cJSON_Delete(mocks);
    cJSON_Delete(config);
    fe_file_free(f);
    fe_context_free(fe);
    tj_run_free(&r);
    return how;
}

int cli_worker(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"concurrency", required_argument, NULL, 'c'}, {"tenant", required_argument, NULL, 't'},
        {"store", required_argument, NULL, 'S'},       {"sandbox", required_argument, NULL, 'B'},
        {"no-sandbox", no_argument, NULL, 'N'},        {"lease", required_argument, NULL, 'L'},
        {"poll", required_argument, NULL, 'P'},        {"grace", required_argument, NULL, 'G'},
        {"timeout", required_argument, NULL, 'T'},     {"exit-when-idle", no_argument, NULL, 'E'},
        {"verbose", no_argument, NULL, 'v'},           {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    worker_ctx w;
    memset(&w, 0, sizeof w);
    w.limits = (sup_limits){1000000000LL, 256LL * 1024 * 1024, 600000};
    const char **tenants = tx_calloc((size_t)argc + 1, sizeof *tenants);
    size_t n_tenants = 0;
    const char *store_arg = NULL, *backend = NULL;
    bool no_sandbox = false;
    rq_worker_options o = {.concurrency = 1};
    long v;
    int opt, rc = CLI_EXIT_USAGE;
    cJSON *config = NULL;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            if (!cli_positive("tactus worker", optarg, "--concurrency", 256, &v)) goto done;
            o.concurrency = (int)v;
            break;
        case 't': tenants[n_tenants++] = optarg; break;
        case 'S': store_arg = optarg; break;
        case 'B': backend = optarg; break;
        case 'N': no_sandbox = true; break;
        case 'L':
            if (!cli_positive("tactus worker", optarg, "--lease", 86400, &v)) goto done;
            o.lease_ms = v * 1000;
            break;
        case 'P':
            if (!cli_positive("tactus worker", optarg, "--poll", 600000, &v)) goto done;
            o.poll_ms = v;
            break;
        case 'G':
            if (!cli_positive("tactus worker", optarg, "--grace", 86400, &v)) goto done;
            o.grace_ms = v * 1000;
            break;
        case 'T':
            if (!cli_positive("tactus worker", optarg, "--timeout", 86400, &v)) goto done;
            w.limits.wall_ms = v * 1000;
            break;
        case 'E': o.exit_when_idle = true; break;
        case 'v': w.verbose = true; break;
        case 'h': fputs(worker_usage, stdout); rc = CLI_EXIT_OK; goto done;
        default: fputs(worker_usage, stderr); goto done;
        }
    }
    if (optind != argc) {
        cli_error("tactus worker: unexpected argument '%s'\n\n%s", argv[optind], worker_usage);
        goto done;
    }
    if (!n_tenants) {
        const char *t = getenv("TACTUS_TENANT");
        tenants[n_tenants++] = t && *t ? t : "default";
    }
    if (!cli_store_resolve("tactus worker", store_arg, NULL, w.store, sizeof w.store)) goto done;
    /* The worker's own configuration decides its sandbox (a procedure's
     * cannot turn it off): the cascade of the folder it runs in. */
    char cfg_err[1024];
    if (cf_load(".", &config, cfg_err, sizeof cfg_err) != TX_OK) {
        cli_error("tactus worker: configuration error: %s\n", cfg_err);
        goto done;
    }
    if (!cli_sandbox_backend(config, backend, "tactus worker", &no_sandbox)) goto done;
    rc = cli_launcher_check_remote(&w.launcher, "tactus worker", config, no_sandbox);
    if (rc == CLI_EXIT_OK) rc = cli_launcher_prepare(&w.launcher, "tactus worker", config, no_sandbox, false);
    if (rc != CLI_EXIT_OK) goto done;
    if (!tj_store_is_url(w.store)) snprintf(w.launcher.store, sizeof w.launcher.store, "%s", w.store);
    cf_env_files_load(".", stderr);
    o.store = w.store;
    o.tenants = tenants;
    o.n_tenants = n_tenants;
    o.run = run_claim;
    o.ud = &w;
    o.log = stderr;
    long completed = 0;
    char err[2048];
    if (rq_worker_run(&o, &completed, err, sizeof err) != TX_OK) {
        cli_error("tactus worker: %s\n", err);
        rc = CLI_EXIT_FAILED;
        goto done;
    }
    rc = CLI_EXIT_OK;
done:
    cJSON_Delete(config);
    tx_free(tenants);
    return rc;
}

static const char queue_usage[] =
    "usage: tactus queue [--json] [--tenant NAME] [--store URL|PATH]\n"
    "       tactus queue cancel RUN [--tenant NAME] [--store URL|PATH]\n"
    "\n"
    "The tenant's queued runs: ready, leased (by which worker, epoch, lease left),\n"
    "parked (waiting for a person), done or cancelled. cancel stops a queued, parked or\n"
    "running run (a running one at its worker's next write) and marks it failed.\n";

int cli_queue(int argc, char **argv)
{
    const char *store_arg = NULL, *tenant = getenv("TACTUS_TENANT"), *args[2] = {NULL, NULL};
    bool json = false;
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--store") && i + 1 < argc)
            store_arg = argv[++i];
        else if (!strcmp(argv[i], "--tenant") && i + 1 < argc)
            tenant = argv[++i];
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(queue_usage, stdout);
            return CLI_EXIT_OK;
        } else if (argv[i][0] != '-' && n < 2)
            args[n++] = argv[i];
        else {
            cli_error("tactus queue: unexpected argument '%s'\n\n%s", argv[i], queue_usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (!tenant || !*tenant) tenant = "default";
    if (n && (strcmp(args[0], "cancel") || n != 2)) {
        cli_error("tactus queue: expected nothing, or cancel RUN\n\n%s", queue_usage);
        return CLI_EXIT_USAGE;
    }
    char store[4096];
    if (!cli_store_resolve("tactus queue", store_arg, NULL, store, sizeof store)) return CLI_EXIT_USAGE;
    tj_journal *j = cli_store_open("tactus queue", store);
    if (!j) return CLI_EXIT_FAILED;
    int rc = CLI_EXIT_OK;
    if (n == 2) {
        tx_status s = rq_cancel(j, tenant, args[1]);
        if (s != TX_OK) {
            cli_error("tactus queue cancel: %s\n", tj_last_error(j));
            rc = s == TX_EIO ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
        } else {
            printf("cancelled %s\n", args[1]);
        }
        tj_close(j);
        return rc;
    }
    cJSON *list = NULL;
    if (rq_list(j, tenant, &list) != TX_OK) {
        cli_error("tactus queue: %s\n", tj_last_error(j));
        rc = CLI_EXIT_FAILED;
    } else if (json) {
        char *t = cJSON_PrintUnformatted(list);
        printf("%s\n", t ? t : "[]");
        cJSON_free(t);
    } else {
        if (!cJSON_GetArraySize(list)) printf("no queued runs for tenant '%s'\n", tenant);
        const cJSON *q;
        cJSON_ArrayForEach(q, list)
        {
            const char *state = hl_json_str(q, "state");
            printf("%-22s %-9s %-10s", hl_json_str(q, "run_id"), state, hl_json_str(q, "status"));
            if (state && !strcmp(state, "leased")) {
                char *tw = tx_term_text(hl_json_str(q, "worker"));
                printf(" by %s, epoch %.0f, lease %.1f s left", tw ? tw : "?",
                       cJSON_GetObjectItemCaseSensitive(q, "epoch")->valuedouble,
                       cJSON_GetObjectItemCaseSensitive(q, "lease_left_ms")->valuedouble / 1000.0);
                tx_free(tw);
            }
            printf(" (%.0f claim%s)\n", cJSON_GetObjectItemCaseSensitive(q, "attempts")->valuedouble,
                   cJSON_GetObjectItemCaseSensitive(q, "attempts")->valuedouble == 1 ? "" : "s");
        }
    }
    cJSON_Delete(list);
    tj_close(j);
    return rc;
}
