/*
 * cli_submit.c - `tactus submit FILE [--input k=v]... [--tenant T]`: checks
 * the procedure and its inputs as `tactus run` does, records the run in the
 * store and queues it for `tactus worker`s; prints its id. Nothing runs
 * here, and nothing is recorded when the file or an input is refused.
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "journal.h"
#include "queue.h"

static const char submit_usage[] =
    "usage: tactus submit [options] FILE\n"
    "\n"
    "Queue a run of FILE's main procedure for the workers (tactus worker) of the store\n"
    "and print its id. The procedure's source and inputs are recorded now; a worker\n"
    "runs the recorded source, in its own sandbox, with FILE's configuration.\n"
    "\n"
    "options:\n"
    "  -i, --input KEY=VALUE   an input, typed by the procedure's input schema (repeatable)\n"
    "      --input-json JSON   inputs as one JSON object\n"
    "      --tenant NAME       the tenant the run belongs to (default $TACTUS_TENANT, else default)\n"
    "      --store URL|PATH    the store (default $TACTUS_STORE, else journal.url of the trusted\n"
    "                          configuration, else ~/.local/share/tactus/journal.db)\n"
    "      --mock              the worker serves every model call from the mock provider\n"
    "      --json              print {run_id, tenant, status}\n"
    "  -h, --help              show this help\n"
    "\n"
    "exit status: 0 queued, 1 the file does not parse or the store failed, 2 usage or input error.\n";

int cli_submit(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"input", required_argument, NULL, 'i'}, {"input-json", required_argument, NULL, 'J'},
        {"tenant", required_argument, NULL, 't'}, {"store", required_argument, NULL, 'S'},
        {"mock", no_argument, NULL, 'm'},         {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    char **kv = tx_calloc((size_t)argc + 1, sizeof *kv);
    if (!kv) return CLI_EXIT_FAILED;
    size_t n_kv = 0;
    const char *input_json = NULL, *store_arg = NULL, *tenant = getenv("TACTUS_TENANT");
    bool mock = false, json = false;
    int opt, rc = CLI_EXIT_USAGE;
    char *src = NULL;
    size_t len = 0;
    fe_context *fe = NULL;
    fe_file *f = NULL;
    cJSON *inputs = NULL, *options = NULL;
    tj_journal *j = NULL;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "i:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'i': kv[n_kv++] = optarg; break;
        case 'J': input_json = optarg; break;
        case 't': tenant = optarg; break;
        case 'S': store_arg = optarg; break;
        case 'm': mock = true; break;
        case 'j': json = true; break;
        case 'h': fputs(submit_usage, stdout); rc = CLI_EXIT_OK; goto done;
        default: fputs(submit_usage, stderr); goto done;
        }
    }
    if (!tenant || !*tenant) tenant = "default";
    if (optind != argc - 1) {
        cli_error("tactus submit: expected exactly one procedure file\n\n%s", submit_usage);
        goto done;
    }
    const char *path = argv[optind];
    if (!cli_read_run_source("tactus submit", path, &src, &len)) goto done;
    fe = fe_context_new();
    if (!fe || fe_parse(fe, path, src, len, &f) != TX_OK) {
        cli_error("tactus submit: out of memory reading %s\n", path);
        goto done;
    }
    if (cli_report_syntax_errors(f)) {
        cli_error("tactus submit: %s does not parse; nothing was queued\n", path);
        rc = CLI_EXIT_FAILED;
        goto done;
    }
    if (!(inputs = cli_run_inputs("tactus submit", f, kv, n_kv, input_json))) goto done;
    char store[4096], file_abs[PATH_MAX];
    if (!realpath(path, file_abs)) {
        cli_error("tactus submit: cannot resolve %s\n", path);
        goto done;
    }
    if (!cli_store_resolve("tactus submit", store_arg, path, store, sizeof store)) goto done;
    if (!(j = cli_store_open("tactus submit", store))) {
        rc = CLI_EXIT_FAILED;
        goto done;
    }
    tj_run r = {0};
    hl_new_run_id(r.id);
    snprintf(r.tenant, sizeof r.tenant, "%s", tenant);
    r.procedure_path = file_abs;
    r.source = src;
    r.inputs = inputs;
    snprintf(r.status, sizeof r.status, "running");
    if (hl_sha256_file(path, r.source_sha256) != TX_OK) r.source_sha256[0] = '\0';
    options = cJSON_CreateObject();
    cJSON_AddBoolToObject(options, "mock", mock);
    if (rq_submit(j, &r, options) != TX_OK) {
        cli_error("tactus submit: cannot queue the run: %s\n", tj_last_error(j));
        rc = CLI_EXIT_FAILED;
        goto done;
    }
    if (json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "run_id", r.id);
        cJSON_AddStringToObject(doc, "tenant", r.tenant);
        cJSON_AddStringToObject(doc, "status", "queued");
        char *t = cJSON_PrintUnformatted(doc);
        printf("%s\n", t ? t : "{}");
        cJSON_free(t);
        cJSON_Delete(doc);
    } else {
        printf("%s\n", r.id);
    }
    rc = CLI_EXIT_OK;
done:
    tj_close(j);
    cJSON_Delete(options);
    cJSON_Delete(inputs);
    fe_file_free(f);
    fe_context_free(fe);
    tx_free(src);
    tx_free(kv);
    return rc;
}
