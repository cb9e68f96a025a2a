/*
 * cli_run.c - `tactus run FILE [--input k=v]... [--input-json JSON] [--json]`.
 *
 * The host reads the file with the frontend first: to refuse a file that
 * does not parse, to type `--input` values by the procedure's input schema
 * (and name a missing required input before anything starts), and to hand
 * the file's Mocks to the mock provider. Then the supervisor runs it.
 *
 * Exit codes (docs/cli.md): 0 completed, 1 the procedure failed, 2 usage or
 * input error, 3 suspended waiting for a human, 4 sandbox required but
 * unavailable.
 */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "proto.h"
#include "broker.h"
#include "supervisor.h"
#include "journal.h"

static const char run_usage[] =
    "usage: tactus run [options] FILE\n"
    "\n"
    "Run the main procedure of FILE. Model calls and host tools go through the\n"
    "broker on this machine, which holds the keys; the procedure itself runs in\n"
    "tactus-runtime, which has no network code and no environment.\n"
    "\n"
    "options:\n"
    "  -i, --input KEY=VALUE   an input, typed by the procedure's input schema (repeatable)\n"
    "      --input-json JSON   inputs as one JSON object\n"
    "      --json              print one JSON document {run_id, status, output, error,\n"
    "                          pending, usage}\n"
    "      --mock              serve every model call from the mock provider (the file's Mocks)\n"
    "      --store PATH|URL    the journal of durable runs: a SQLite file or a postgres:// URL\n"
    "                          (default $TACTUS_STORE, else journal.url of the trusted\n"
    "                          configuration, else ~/.local/share/tactus/journal.db)\n"
    "      --tenant NAME       the tenant the run belongs to (default $TACTUS_TENANT, else default)\n"
    "      --allow-changed-source  resume although the .tac file changed since the run started\n"
    "                          (recorded in the run's journal)\n"
    "      --sandbox BACKEND   docker (default), runsc (Docker with gVisor) or process (as\n"
    "                          --no-sandbox)\n"
    "      --no-sandbox        run without the Docker sandbox (a plain child process with an\n"
    "                          empty environment); prints a security warning\n"
    "      --max-instructions N  instruction budget of the Lua VM (default 1000000000)\n"
    "      --max-memory SIZE   memory budget of the Lua VM, e.g. 256m (default 256m)\n"
    "      --timeout SECONDS   wall-clock limit of the run (default 600)\n"
    "  -v, --verbose           show debug logs, the runtime's own messages, and each brokered\n"
    "                          call as it ends (model or tool, tokens, cost, latency)\n"
    "  -h, --help              show this help\n"
    "\n"
    "The run ends with one line on stderr: how it ended, its duration, its model calls,\n"
    "tokens (\"unknown\" when a provider reports none) and cost, and its tool calls;\n"
    "--json carries the same as \"usage\".\n"
    "\n"
    "exit status: 0 completed, 1 failed, 2 usage or input error, 3 waiting for a\n"
    "human, 4 sandbox required but unavailable.\n"
    "Configuration: .tactus/config.yml (cascade) and FILE.tac.yml; see docs/run.md.\n";

/* ---- the Mocks block as JSON ---------------------------------------------------------------- */

cJSON *cli_mocks_json(const fe_file *f)
{
    cJSON *all = NULL;
    for (const fe_mocks *m = f->mocks; m; m = m->next) {
        cJSON *j = fe_value_to_json(m->table);
        if (!cJSON_IsObject(j)) {
            cJSON_Delete(j);
            continue;
        }
        if (!all) {
            all = j;
        } else {
            cf_merge(all, j);
            cJSON_Delete(j);
        }
    }
    return all;
}

/* ---- inputs ------------------------------------------------------------------------------------------ */

static const fe_procedure *main_procedure(const fe_file *f)
{
    for (const fe_procedure *p = f->procedures; p; p = p->next)
        if (!p->named) return p;
    return NULL;
}

/* Builds the inputs object; prints the error and returns NULL on bad input. */
static cJSON *build_inputs(const char *cmd, const fe_procedure *main, char **kv, size_t n_kv,
                           const char *json_text)
{
    cJSON *inputs = NULL;
    char err[512];
    if (json_text) {
        inputs = tp_json_parse_strict(json_text, strlen(json_text), TP_JSON_MAX_DEPTH, err, sizeof err);
        if (!inputs) {
            cli_error("%s: --input-json: %s\n", cmd, err);
            return NULL;
        }
        if (!cJSON_IsObject(inputs)) {
            cli_error("%s: --input-json must be a JSON object, like '{\"name\": \"Ada\"}'\n", cmd);
            cJSON_Delete(inputs);
            return NULL;
        }
    } else {
        inputs = cJSON_CreateObject();
    }
    const fe_schema *schema = main ? &main->input : NULL;
    if (!cli_typed_inputs(schema, kv, n_kv, cmd, "--input", NULL, inputs)) {
        cJSON_Delete(inputs);
        return NULL;
    }
    if (schema) {
        for (const fe_field *fd = schema->fields; fd; fd = fd->next) {
            bool has_default = fd->default_value && fd->default_value->kind != FE_NIL;
            if (fd->required && !has_default && !cJSON_HasObjectItem(inputs, fd->name)) {
                cli_error(
                        "%s: missing required input '%s' (%s); pass --input %s=<value>\n",
                        cmd, fd->name, fe_type_name(fd->type), fd->name);
                cJSON_Delete(inputs);
                return NULL;
            }
        }
    }
    return inputs;
}

cJSON *cli_run_inputs(const char *cmd, const fe_file *f, char **kv, size_t n_kv,
                      const char *json_text)
{
    return build_inputs(cmd, main_procedure(f), kv, n_kv, json_text);
}

/* ---- sizes ------------------------------------------------------------------------------------------ */

static bool parse_size(const char *s, long long *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v <= 0) return false;
    double mult = 1;
    switch (*end) {
    case 'k': case 'K': mult = 1024.0; end++; break;
    case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'b' || *end == 'B') end++;
    if (*end) return false;
    *out = (long long)(v * mult);
    return true;
}

/* ---- output ------------------------------------------------------------------------------------------ */

/* The run's usage as --json carries it (br_usage_json: tokens and cost are
 * null, with why, when a call reported no usage or its model has no
 * price), with how long the run took. */
static cJSON *usage_json(const br_usage *u, long long ms)
{
    cJSON *o = br_usage_json(u);
    if (o) cJSON_AddNumberToObject(o, "duration_ms", (double)ms);
    return o;
}

/* The closing line on stderr: how it ended, how long it took, what it used.
 * "completed in 2.4 s (run run-...): 3 model calls, 1234 tokens (1000 in,
 * 234 out), $0.000312; 2 tool calls"; a cost that is not known is "cost
 * unknown (...)", never $0. */
static void print_summary(const sup_run_result *res, const char *how, long long ms)
{
    char used[800];
    br_usage_text(&res->usage, used, sizeof used);
    if (ms < 1000)
        cli_error("%s in %lld ms (run %s): %s\n", how, ms, res->run_id, used);
    else
        cli_error("%s in %.1f s (run %s): %s\n", how, (double)ms / 1000.0, res->run_id, used);
}

static void print_human_result(const sup_run_result *res, const char *path, long long ms)
{
    if (res->status == SUP_COMPLETED) {
        if (cJSON_IsString(res->output)) {
            tx_fputs_term(res->output->valuestring, stdout); /* --json has the exact bytes */
            putchar('\n');
        } else if (res->output && !cJSON_IsNull(res->output)) {
            cli_print_json(stdout, res->output);
        }
        print_summary(res, "completed", ms);
        return;
    }
    if (res->status == SUP_WAITING) {
        cli_error("waiting for a person (run %s); no process stays alive:\n", res->run_id);
        const cJSON *p;
        cJSON_ArrayForEach(p, res->pending)
        {
            const char *kind = hl_json_str(p, "kind");
            const char *msg = hl_json_str(p, "message");
            const char *rid = hl_json_str(p, "request_id");
            char *tr = tx_term_text(rid ? rid : "?"), *tk = tx_term_text(kind ? kind : "request"),
                 *tm = tx_term_text(msg ? msg : "");
            cli_error("  [%s] %s: %s\n", tr ? tr : "?", tk ? tk : "", tm ? tm : "");
            tx_free(tr);
            tx_free(tk);
            tx_free(tm);
        }
        cli_error(
                "Answer with:  tactus approve %s REQUEST   (approvals: yes; no: --deny; other kinds: --value JSON)\n"
                "then:         tactus resume %s\n",
                res->run_id, res->run_id);
        print_summary(res, "waiting", ms);
        return;
    }
    const char *msg = hl_json_str(res->error, "message");
    const char *file = hl_json_str(res->error, "file");
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(res->error, "line");
    const char *tb = hl_json_str(res->error, "traceback");
    /* The message and traceback quote the procedure's text: made inert. */
    char *tmsg = tx_term_text(msg ? msg : "the procedure failed"), *ttb = tx_term_text(tb ? tb : "");
    if (file && *file && cJSON_IsNumber(line))
        cli_error("%s:%d: error: %s\n", file, line->valueint, tmsg ? tmsg : "");
    else
        cli_error("%s: error: %s\n", file && *file ? file : path, tmsg ? tmsg : "");
    if (ttb && *ttb) cli_error("%s\n", ttb);
    tx_free(tmsg);
    tx_free(ttb);
    print_summary(res, "failed", ms);
}

static void print_json_result(const sup_run_result *res, long long ms)
{
    static const char *names[] = {"completed", "failed", "waiting"};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "run_id", res->run_id);
    cJSON_AddStringToObject(o, "status", names[res->status]);
    cJSON_AddItemToObject(o, "output", res->output ? cJSON_Duplicate(res->output, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "error", res->error ? cJSON_Duplicate(res->error, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "pending", res->pending ? cJSON_Duplicate(res->pending, 1) : cJSON_CreateArray());
    cJSON_AddItemToObject(o, "usage", usage_json(&res->usage, ms));
    char *text = cJSON_PrintUnformatted(o);
    printf("%s\n", text ? text : "{}");
    cJSON_free(text);
    cJSON_Delete(o);
}

static long long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

int cli_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"input", required_argument, NULL, 'i'},
        {"input-json", required_argument, NULL, 'J'},
        {"json", no_argument, NULL, 'j'},
        {"no-sandbox", no_argument, NULL, 'N'},
        {"sandbox", required_argument, NULL, 'B'},
        {"mock", no_argument, NULL, 'm'},
        {"store", required_argument, NULL, 'S'},
        {"tenant", required_argument, NULL, 't'},
        {"resume", no_argument, NULL, 'R'}, /* internal: tactus resume [options] RUN */
        {"allow-changed-source", no_argument, NULL, 'C'},
        {"max-instructions", required_argument, NULL, 'I'},
        {"max-memory", required_argument, NULL, 'M'},
        {"timeout", required_argument, NULL, 'T'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char **kv = tx_calloc((size_t)argc + 1, sizeof *kv);
    size_t n_kv = 0;
    const char *input_json = NULL;
    bool json = false, no_sandbox = false, verbose = false, mock_all = false;
    const char *backend = NULL;
    const char *store_arg = NULL, *tenant = getenv("TACTUS_TENANT"), *resume_id = NULL;
    bool resume_mode = false, allow_changed_source = false;
    tj_journal *journal = NULL;
    tj_run prior = {0};
    sup_limits limits = {1000000000LL, 256LL * 1024 * 1024, 600000};
    int opt, rc = CLI_EXIT_USAGE;
    /* Declared before the first goto: `done` frees them whatever path led there. */
    sb_launch launch = {0};
    sb_warm warm = {.io = {-1, -1, -1, -1}, .sock = -1};
    bool warmed = false;
    fe_context *fe = NULL;
    fe_file *f = NULL;
    char *src = NULL;
    cJSON *config = NULL, *inputs = NULL, *mocks = NULL;
    optind = 1;
    if (!kv) return CLI_EXIT_USAGE;
    while ((opt = getopt_long(argc, argv, "i:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'i': kv[n_kv++] = optarg; break;
        case 'J': input_json = optarg; break;
        case 'j': json = true; break;
        case 'N': no_sandbox = true; break;
        case 'B': backend = optarg; break;
        case 'm': mock_all = true; break;
        case 'S': store_arg = optarg; break;
        case 't': tenant = optarg; break;
        case 'R': resume_mode = true; break;
        case 'C': allow_changed_source = true; break;
        case 'v': verbose = true; break;
        case 'I': {
            char *end;
            limits.instructions = strtoll(optarg, &end, 10);
            if (*end || limits.instructions <= 0) {
                cli_error("tactus run: --max-instructions takes a positive number\n");
                goto done;
            }
            break;
        }
        case 'M':
            if (!parse_size(optarg, &limits.memory_bytes)) {
                cli_error("tactus run: --max-memory takes a size like 256m or 1g, not '%s'\n", optarg);
                goto done;
            }
            break;
        case 'T': {
            char *end;
            double s = strtod(optarg, &end);
            if (*end || s <= 0) {
                cli_error("tactus run: --timeout takes a positive number of seconds\n");
                goto done;
            }
            limits.wall_ms = (long long)(s * 1000);
            break;
        }
        case 'h':
            fputs(run_usage, stdout);
            rc = CLI_EXIT_OK;
            goto done;
        default: fputs(run_usage, stderr); goto done;
        }
    }
    if (!tenant || !*tenant) tenant = "default";
    char store[4096], store_shown[4096];
    const char *path;
    if (resume_mode) {
        if (optind != argc - 1) {
            cli_error("tactus resume: expected exactly one run id\n");
            goto done;
        }
        resume_id = argv[optind++];
    } else if (optind != argc - 1) {
        cli_error("tactus run: expected exactly one procedure file\n\n%s", run_usage);
        goto done;
    }
    if (!cli_store_resolve(resume_id ? "tactus resume" : "tactus run", store_arg,
                           resume_id ? NULL : argv[optind], store, sizeof store))
        goto done;
    tj_store_display(store, store_shown, sizeof store_shown);
    if (resume_id) {
        if (!(journal = cli_store_open("tactus resume", store))) {
            rc = CLI_EXIT_FAILED;
            goto done;
        }
        if (tj_run_get(journal, tenant, resume_id, &prior) != TX_OK) {
            cli_error("tactus resume: no run %s for tenant '%s' in %s\n", resume_id, tenant, store_shown);
            goto done;
        }
        if (strcmp(prior.status, "completed") == 0) {
            cli_error("tactus resume: run %s has completed; nothing to resume\n", resume_id);
            goto done;
        }
        /* Fail closed before anything runs: a journal edited outside tactus
         * (a forged answer, an edited result) is never replayed. */
        if (tj_run_verify(journal, tenant, resume_id) != TX_OK) {
            cli_error("tactus resume: %s: %s\n", store_shown, tj_last_error(journal));
            goto done;
        }
        /* One process per run: a second resume of the same run would perform
         * its next effect twice. The lock dies with the process (even on
         * SIGKILL), so a crashed resume never blocks the next one. */
        if (tj_run_hold(journal, resume_id) == TX_ELIMIT) {
            cli_error("tactus resume: run %s is being run by another process right now\n",
                    resume_id);
            goto done;
        }
        /* The recorded effects answer the procedure that made them: a
         * changed source is resumed only when a person says so, and that
         * decision joins the run's sealed journal. */
        char now_sha[65];
        if (hl_sha256_file(prior.procedure_path, now_sha) == TX_OK &&
            strcmp(now_sha, prior.source_sha256) != 0) {
            if (!allow_changed_source) {
                cli_error(
                        "tactus resume: run %s: %s changed since the run started (sha256 %.12s..., now "
                        "%.12s...); its recorded effects answered the old procedure: put the file "
                        "back, or resume with --allow-changed-source to accept the change (recorded "
                        "in the run's journal)\n",
                        resume_id, prior.procedure_path, prior.source_sha256, now_sha);
                goto done;
            }
            cJSON *note = cJSON_CreateObject();
            cJSON_AddStringToObject(note, "path", prior.procedure_path);
            cJSON_AddStringToObject(note, "old_sha256", prior.source_sha256);
            cJSON_AddStringToObject(note, "new_sha256", now_sha);
            tx_status ns = tj_run_note(journal, tenant, resume_id, "allow_changed_source", note);
            cJSON_Delete(note);
            if (ns != TX_OK) {
                cli_error("tactus resume: %s: %s\n", store_shown, tj_last_error(journal));
                goto done;
            }
        }
        tj_run_finish(journal, tenant, resume_id, "running", NULL, NULL);
        path = prior.procedure_path;
    } else {
        path = argv[optind];
    }
    cli_load_env_files(path);

    size_t len = 0;
    if (!cli_read_run_source("tactus run", path, &src, &len)) goto done;
    fe = fe_context_new();
    if (!fe || fe_parse(fe, path, src, len, &f) != TX_OK) {
        cli_error("tactus run: out of memory reading %s\n", path);
        goto done;
    }
    char cfg_err[1024];
    if (cli_report_syntax_errors(f)) {
        cli_error("tactus run: %s does not parse; nothing was run\n", path);
        rc = CLI_EXIT_FAILED;
        goto done;
    }
    if (cf_load(path, &config, cfg_err, sizeof cfg_err) != TX_OK) {
        cli_error("tactus run: configuration error: %s\n", cfg_err);
        goto done;
    }
    if (resume_id)
        inputs = prior.inputs ? cJSON_Duplicate(prior.inputs, 1) : cJSON_CreateObject();
    else
        inputs = build_inputs("tactus run", main_procedure(f), kv, n_kv, input_json);
    if (!inputs) goto done;
    mocks = cli_mocks_json(f);

    cli_launcher launcher = {0};
    if (!cli_sandbox_backend(config, backend, "tactus run", &no_sandbox)) {
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    rc = cli_launcher_check_remote(&launcher, "tactus run", config, no_sandbox);
    if (rc == CLI_EXIT_OK)
        rc = cli_launcher_prepare(&launcher, "tactus run", config, no_sandbox, json && !verbose);
    if (rc != CLI_EXIT_OK) goto done;
    rc = CLI_EXIT_USAGE;
    char workspace[PATH_MAX], file_abs[PATH_MAX];
    if (!realpath(path, file_abs) || !cli_workspace_of(path, workspace, sizeof workspace)) {
        cli_error("tactus run: cannot resolve %s: %s\n", path, strerror(errno));
        goto done;
    }
    /* Before anything is recorded: a folder holding the host's own files
     * is never a workspace (the launch plan checks it again). */
    /* A SQLite store's folder is the host's own; a URL has none here. */
    if (!tj_store_is_url(store)) snprintf(launcher.store, sizeof launcher.store, "%s", store);
    {
        char err[1024], store_dir[4096];
        cli_store_dir(store, store_dir, sizeof store_dir);
        const sb_host_place also[] = {{"journal", store_dir}};
        if (sb_check_workspace(workspace, also, 1, err, sizeof err) != TX_OK) {
            cli_error("tactus run: %s\n", err);
            goto done;
        }
    }
    char run_id[40];
    if (resume_id) {
        snprintf(run_id, sizeof run_id, "%s", resume_id);
    } else {
        /* Opened only now: a usage or input error leaves no trace anywhere. */
        if (!(journal = cli_store_open("tactus run", store))) {
            rc = CLI_EXIT_FAILED;
            goto done;
        }
        hl_new_run_id(run_id);
        tj_run_hold(journal, run_id);
        tj_run rec = {0};
        snprintf(rec.id, sizeof rec.id, "%s", run_id);
        snprintf(rec.tenant, sizeof rec.tenant, "%s", tenant);
        rec.procedure_path = file_abs;
        rec.source = src;
        rec.inputs = inputs;
        snprintf(rec.status, sizeof rec.status, "running");
        if (hl_sha256_file(path, rec.source_sha256) != TX_OK) rec.source_sha256[0] = '\0';
        if (tj_run_create(journal, &rec) != TX_OK) {
            cli_error("tactus run: cannot record the run: %s\n", tj_last_error(journal));
            rc = CLI_EXIT_FAILED;
            goto done;
        }
    }
    {
        char err[1024] = "";
        if (cli_launcher_make(&launcher, config, workspace, run_id, stderr, &launch, err, sizeof err) !=
            TX_OK) {
            cli_error("tactus run: sandbox configuration error: %s\n", err[0] ? err : "out of memory");
            goto done;
        }
    }

    /* The audit log sits beside the journal unless configured. */
    char audit_path[4200];
    const cJSON *ap = cf_get(config, "audit.path");
    if (cJSON_IsString(ap))
        snprintf(audit_path, sizeof audit_path, "%s", ap->valuestring);
    else if (tj_store_is_url(store))
        audit_path[0] = '\0'; /* the store's own audit log (the supervisor's sink) */
    else
        br_audit_default_path(store, audit_path, sizeof audit_path);
    sup_run_options ro = {
        .path = path,
        .source = src,
        .source_len = len,
        .procedure = "main",
        .inputs = inputs,
        .config = config,
        .mocks = mocks,
        .launch = &launch,
        .run_id = run_id,
        .journal = journal,
        .tenant = tenant,
        .audit_path = audit_path,
        .mock_all = mock_all,
        .remote_control = launcher.remote ? launcher.broker.control : NULL,
        .limits = limits,
        .progress = {stderr, verbose, isatty(STDERR_FILENO) && !getenv("NO_COLOR")},
    };
    if (json && !verbose) ro.progress.out = NULL; /* one document, nothing else */
    /* sandbox.warm: a container started in advance for exactly this plan
     * answers at once; after the run, a new one is started for the next. */
    int want_warm = cli_warm_wanted(&launcher, config);
    if (want_warm > 0 && sb_warm_claim(&launch, &warm)) {
        ro.warm = &warm;
        warmed = true;
    }
    sup_run_result res;
    tx_status st = sup_run(&ro, &res);
    if (want_warm > 0) cli_warm_refill(&launch, config, want_warm);
    if (st != TX_OK) {
        cli_error("tactus run: cannot start tactus-runtime: %s\n", tx_status_str(st));
        rc = CLI_EXIT_FAILED;
        goto done;
    }
    {
        static const char *const status_names[] = {"completed", "failed", "waiting"};
        if (tj_run_finish(journal, tenant, run_id, status_names[res.status], res.output, res.error) != TX_OK)
            cli_error("tactus run: warning: the run's outcome was not recorded: %s\n",
                    tj_last_error(journal));
        if (res.status == SUP_WAITING) {
            /* The journal's requests (with their ids) are the ones to answer. */
            cJSON *all = NULL, *mine = cJSON_CreateArray();
            if (tj_human_pending(journal, tenant, &all) == TX_OK) {
                const cJSON *p;
                cJSON_ArrayForEach(p, all)
                {
                    const char *rid = hl_json_str(p, "run_id");
                    if (rid && strcmp(rid, run_id) == 0) cJSON_AddItemToArray(mine, cJSON_Duplicate(p, 1));
                }
            }
            cJSON_Delete(all);
            cJSON_Delete(res.pending);
            res.pending = mine;
        }
    }
    if (json)
        print_json_result(&res, ms_since(&t0));
    else
        print_human_result(&res, path, ms_since(&t0));
    rc = res.status == SUP_COMPLETED ? CLI_EXIT_OK : res.status == SUP_WAITING ? CLI_EXIT_WAITING : CLI_EXIT_FAILED;
    sup_run_result_free(&res);
done:
    if (warmed) sb_warm_release(&warm);
    sb_launch_free(&launch);
    tj_run_free(&prior);
    tj_close(journal);
    cJSON_Delete(mocks);
    cJSON_Delete(inputs);
    cJSON_Delete(config);
    fe_file_free(f);
    fe_context_free(fe);
    tx_free(src);
    tx_free(kv);
    return rc;
}
