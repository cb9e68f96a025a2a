/*
 * cli_eval.c - `tactus eval FILE|DIR... [options]`: the Evaluations of
 * procedures, scored over their datasets (evals/evals.h).
 *
 * Like `tactus test`: files are checked first (exit 2 on errors), runs go
 * through the broker with people answered at once and a fixed clock, in the
 * Docker sandbox unless --no-sandbox (exit 4 when Docker does not answer).
 * Exit 0 when every evaluation meets its thresholds, 1 when one does not.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "evals.h"

static const char eval_usage[] =
    "usage: tactus eval [options] FILE|DIR...\n"
    "\n"
    "Score each procedure's Evaluation({dataset = ..., evaluators = ..., thresholds = ...}):\n"
    "every case runs `runs` times, every evaluator judges every run, a run passes when\n"
    "all evaluators pass, and the thresholds (min_success_rate, max_duration,\n"
    "max_tokens_per_run) decide; without thresholds every run must pass.\n"
    "\n"
    "options:\n"
    "      --mock              every agent's turns come from the file's Mocks\n"
    "      --runs N            runs per case, instead of the Evaluation's own `runs`\n"
    "  -j, --jobs N            runs at once (default: the number of CPUs)\n"
    "      --format FORMAT     pretty (default) or json\n"
    "  -o, --output FILE       write the report to FILE instead of standard output\n"
    "      --timings           include durations in the report\n"
    "      --no-sandbox        run without the Docker sandbox; prints a security warning\n"
    "      --sandbox BACKEND   docker (default), runsc (Docker with gVisor) or process\n"
    "                          (as --no-sandbox)\n"
    "      --max-instructions N  instruction budget of each run (default 1000000000)\n"
    "      --timeout SECONDS   wall-clock limit of each run (default 600)\n"
    "  -h, --help              show this help\n"
    "\n"
    "exit status: 0 thresholds met, 1 a threshold missed (or no evaluation found),\n"
    "2 usage or check errors, 4 sandbox required but unavailable.\n"
    "Evaluators, datasets and thresholds: docs/evaluations.md.\n";

int cli_eval(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_BATCH_LONGOPTS,
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_batch b;
    cli_batch_init(&b);
    bool json = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "j:o:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "pretty") != 0) {
                cli_error("tactus eval: --format takes pretty or json, not '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            json = strcmp(optarg, "json") == 0;
            break;
        case 'h':
            fputs(eval_usage, stdout);
            return CLI_EXIT_OK;
        default: {
            int done = cli_batch_option(&b, "tactus eval", opt, optarg);
            if (done < 0) return CLI_EXIT_USAGE;
            if (done == 0) {
                fputs(eval_usage, stderr);
                return CLI_EXIT_USAGE;
            }
        }
        }
    }
    ev_options o = {
        .runs = b.runs, .jobs = b.jobs, .mock = b.mock, .timings = b.timings, .limits = b.limits};
    const char *output = b.output;
    bool no_sandbox = b.no_sandbox;
    if (optind >= argc) {
        cli_error("tactus eval: no file or directory given\n\n%s", eval_usage);
        return CLI_EXIT_USAGE;
    }
    cli_inputs in;
    cli_launcher launcher = {0};
    ev_suite *suite = ev_suite_new();
    FILE *out = NULL;
    int rc = cli_inputs_load(&in, argc - optind, argv + optind, "tactus eval");
    if (rc != CLI_EXIT_OK || !suite) goto done;
    rc = CLI_EXIT_USAGE;
    for (size_t i = 0; i < in.paths.len; i++)
        if (!cli_sandbox_backend(in.files[i].config, b.sandbox, "tactus eval", &no_sandbox)) goto done;
    const cJSON *first_config = NULL;
    for (size_t i = 0; i < in.paths.len; i++) {
        if (!in.files[i].f->evaluations) continue;
        if (!first_config) first_config = in.files[i].config;
        char workspace[PATH_MAX], err[2048];
        if (!cli_workspace_of(in.paths.paths[i], workspace, sizeof workspace)) {
            cli_error("tactus eval: cannot resolve %s: %s\n", in.paths.paths[i],
                    strerror(errno));
            goto done;
        }
        cli_load_env_files(in.paths.paths[i]);
        tx_status st =
            ev_suite_add(suite, in.files[i].f, in.files[i].config, workspace, &o, err, sizeof err);
        if (st != TX_OK) {
            cli_error("%s\n", st == TX_ENOMEM ? "tactus eval: out of memory" : err);
            goto done;
        }
    }
    if (ev_suite_count(suite) == 0) {
        cli_error("tactus eval: no Evaluation({...}) found; declare one with a dataset and "
                        "evaluators (docs/evaluations.md)\n");
        rc = CLI_EXIT_FAILED;
        goto done;
    }
    int prc = cli_launcher_prepare(&launcher, "tactus eval", first_config, no_sandbox, json);
    if (prc != CLI_EXIT_OK) {
        rc = prc;
        goto done;
    }
    cli_launcher_pool(&launcher);
    o.launch = cli_launcher_for_runs;
    o.launch_ud = &launcher;
    o.pool = launcher.pool;
    out = output ? fopen(output, "w") : stdout;
    if (!out) {
        cli_error("tactus eval: cannot write %s: %s\n", output, strerror(errno));
        goto done;
    }
    o.progress = isatty(STDERR_FILENO) && !getenv("NO_COLOR");
    tx_status st = ev_suite_run(suite, &o);
    ev_suite_write(suite, &o, json, out,
                   !json && !output && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
    if (st != TX_OK) cli_error("tactus eval: interrupted; runs not made count as failed\n");
    rc = st == TX_OK && ev_suite_passed(suite) ? CLI_EXIT_OK : CLI_EXIT_FAILED;
done:
    if (out && out != stdout && fclose(out) != 0) {
        cli_error("tactus eval: cannot write %s: %s\n", output, strerror(errno));
        rc = CLI_EXIT_USAGE;
    }
    cli_launcher_close(&launcher);
    ev_suite_free(suite);
    cli_inputs_free(&in);
    return rc;
}
