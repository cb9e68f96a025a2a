/*
 * cli_test.c - `tactus test FILE|DIR... [options]`: the Specifications of
 * procedures, run as scenarios (specs/specs.h).
 *
 * Every file is checked first: a file with errors (an undefined step among
 * them, named with file:line and the nearest pattern) stops the command
 * with exit 2 before anything runs. Then every selected scenario runs once
 * (or --runs N times), in the Docker sandbox unless --no-sandbox.
 *
 * Exit codes: 0 every scenario passed, 1 one failed (or none was found),
 * 2 usage or check errors, 4 sandbox required but unavailable.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "specs.h"

static const char test_usage[] =
    "usage: tactus test [options] FILE|DIR...\n"
    "\n"
    "Run the Specifications of each .tac file (folders: every .tac inside, sorted).\n"
    "Each scenario is one run of the procedure: its Given steps set inputs, mocks and\n"
    "answers, its Then steps are judged on the result. Human requests are answered at\n"
    "once (approve: true, input: \"test input\", or what the scenario says); the clock\n"
    "and the random seed are fixed, so a scenario gives the same result every time.\n"
    "\n"
    "options:\n"
    "      --mock              every agent's turns come from mocks (Mocks {} and the\n"
    "                          scenario's steps); without it, only agents the scenario\n"
    "                          mocks are, and the others call their real models\n"
    "      --param KEY=VALUE   an input of every scenario, typed by the procedure's input\n"
    "                          schema (repeatable; a scenario's own steps override it)\n"
    "      --scenario NAME     only scenarios of this name (an outline: all its rows)\n"
    "      --tags EXPR         only scenarios whose tags match, e.g. '@smoke and not @slow'\n"
    "      --runs N            run each scenario N times and report success rate,\n"
    "                          consistency and flaky scenarios (default 1)\n"
    "  -j, --jobs N            scenarios run at once (default: the number of CPUs)\n"
    "      --format FORMAT     pretty (default), json or junit\n"
    "  -o, --output FILE       write the report to FILE instead of standard output\n"
    "      --timings           include durations (the report then differs run to run)\n"
    "      --no-sandbox        run without the Docker sandbox; prints a security warning\n"
    "      --sandbox BACKEND   docker (default), runsc (Docker with gVisor) or process\n"
    "                          (as --no-sandbox)\n"
    "      --max-instructions N  instruction budget of each run (default 1000000000)\n"
    "      --timeout SECONDS   wall-clock limit of each run (default 600)\n"
    "  -h, --help              show this help\n"
    "\n"
    "exit status: 0 all passed, 1 a scenario failed or none was found, 2 usage or\n"
    "check errors, 4 sandbox required but unavailable.\n"
    "Steps, mocks and output formats: docs/testing.md.\n";

int cli_test(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_BATCH_LONGOPTS,
        {"scenario", required_argument, NULL, 's'},
        {"tags", required_argument, NULL, 't'},
        {"format", required_argument, NULL, 'f'},
        {"param", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_batch b;
    cli_batch_init(&b);
    sp_options o = {0};
    sp_format format = SP_FORMAT_PRETTY;
    char **params = tx_calloc((size_t)argc + 1, sizeof *params);
    size_t n_params = 0;
    if (!params) {
        cli_error("tactus test: out of memory\n");
        return CLI_EXIT_USAGE;
    }
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "j:o:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            o.scenario = optarg;
            break;
        case 'p':
            params[n_params++] = optarg;
            break;
        case 't': {
            char err[512];
            if (!sp_tags_valid(optarg, err, sizeof err)) {
                cli_error("tactus test: %s\n", err);
                tx_free(params);
                return CLI_EXIT_USAGE;
            }
            o.tags = optarg;
            break;
        }
        case 'f':
            if (strcmp(optarg, "pretty") == 0)
                format = SP_FORMAT_PRETTY;
            else if (strcmp(optarg, "json") == 0)
                format = SP_FORMAT_JSON;
            else if (strcmp(optarg, "junit") == 0)
                format = SP_FORMAT_JUNIT;
            else {
                cli_error("tactus test: --format takes pretty, json or junit, not '%s'\n",
                        optarg);
                tx_free(params);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            fputs(test_usage, stdout);
            tx_free(params);
            return CLI_EXIT_OK;
        default: {
            int done = cli_batch_option(&b, "tactus test", opt, optarg);
            if (done <= 0) {
                if (done == 0) fputs(test_usage, stderr);
                tx_free(params);
                return CLI_EXIT_USAGE;
            }
        }
        }
    }
    o.mock = b.mock;
    o.timings = b.timings;
    o.runs = b.runs ? b.runs : 1;
    o.jobs = b.jobs;
    o.limits = b.limits;
    const char *output = b.output;
    bool no_sandbox = b.no_sandbox;
    if (optind >= argc) {
        cli_error("tactus test: no file or directory given\n\n%s", test_usage);
        tx_free(params);
        return CLI_EXIT_USAGE;
    }

    cli_inputs in;
    cli_launcher launcher = {0};
    sp_suite *suite = NULL;
    cJSON **file_params = NULL;
    FILE *out = NULL;
    int rc = cli_inputs_load(&in, argc - optind, argv + optind, "tactus test");
    if (rc != CLI_EXIT_OK) goto done;
    for (size_t i = 0; i < in.paths.len; i++)
        if (!cli_sandbox_backend(in.files[i].config, b.sandbox, "tactus test", &no_sandbox)) {
            rc = CLI_EXIT_USAGE;
            goto done;
        }
    rc = CLI_EXIT_USAGE;
    suite = sp_suite_new(in.ck);
    if (!suite) goto done;
    size_t with_specs = 0;
    for (size_t i = 0; i < in.paths.len; i++) {
        if (in.files[i].f->specs)
            with_specs++;
        else
            cli_error(
                    "tactus test: warning: %s has no Specifications; nothing to test there\n",
                    in.paths.paths[i]);
    }

    /* --param, typed by each file's main procedure, before anything starts */
    file_params = tx_calloc(in.paths.len + 1, sizeof *file_params);
    if (!file_params) goto done;
    for (size_t i = 0; i < in.paths.len; i++) {
        if (!in.files[i].f->specs) continue;
        const fe_procedure *main = NULL;
        for (const fe_procedure *p = in.files[i].f->procedures; p; p = p->next)
            if (!p->named) main = p;
        file_params[i] = cJSON_CreateObject();
        if (!file_params[i] ||
            !cli_typed_inputs(main ? &main->input : NULL, params, n_params, "tactus test",
                              "--param", in.paths.paths[i], file_params[i]))
            goto done;
    }

    const cJSON *first_config = NULL;
    for (size_t i = 0; i < in.paths.len && !first_config; i++)
        if (in.files[i].f->specs) first_config = in.files[i].config;
    if (with_specs) {
        int prc = cli_launcher_prepare(&launcher, "tactus test", first_config, no_sandbox,
                                       format != SP_FORMAT_PRETTY);
        if (prc != CLI_EXIT_OK) {
            rc = prc;
            goto done;
        }
    }
    cli_launcher_pool(&launcher);
    o.launch = cli_launcher_for_runs;
    o.launch_ud = &launcher;
    o.pool = launcher.pool;
    for (size_t i = 0; i < in.paths.len; i++) {
        if (!in.files[i].f->specs) continue;
        char workspace[PATH_MAX];
        if (!cli_workspace_of(in.paths.paths[i], workspace, sizeof workspace)) {
            cli_error("tactus test: cannot resolve %s: %s\n", in.paths.paths[i],
                    strerror(errno));
            goto done;
        }
        cli_load_env_files(in.paths.paths[i]);
        if (sp_suite_add(suite, in.files[i].f, in.files[i].config, workspace, file_params[i],
                         &o) != TX_OK) {
            cli_error("tactus test: out of memory\n");
            goto done;
        }
    }
    if (sp_suite_count(suite) == 0) {
        cli_error("tactus test: no scenario to run%s\n",
                o.scenario || o.tags ? " (none matches --scenario/--tags)" : "");
        rc = CLI_EXIT_FAILED;
        goto done;
    }
    out = output ? fopen(output, "w") : stdout;
    if (!out) {
        cli_error("tactus test: cannot write %s: %s\n", output, strerror(errno));
        goto done;
    }
    o.progress = isatty(STDERR_FILENO) && !getenv("NO_COLOR");
    tx_status st = sp_suite_run(suite, &o);
    sp_suite_write(suite, &o, format, out,
                   format == SP_FORMAT_PRETTY && !output && isatty(STDOUT_FILENO) &&
                       !getenv("NO_COLOR"));
    if (st != TX_OK)
        cli_error("tactus test: interrupted; scenarios not run are reported skipped\n");
    rc = sp_suite_passed(suite) ? CLI_EXIT_OK : CLI_EXIT_FAILED;
done:
    if (out && out != stdout && fclose(out) != 0) {
        cli_error("tactus test: cannot write %s: %s\n", output, strerror(errno));
        rc = CLI_EXIT_USAGE;
    }
    cli_launcher_close(&launcher);
    sp_suite_free(suite);
    for (size_t i = 0; file_params && i < in.paths.len; i++)
        cJSON_Delete(file_params[i]);
    tx_free(file_params);
    cli_inputs_free(&in);
    tx_free(params);
    return rc;
}
