/*
 * cli_eval.c - `tactus eval FILE|DIR... [options]`: the Evaluations of
 * procedures, scored over their datasets (evals/evals.h).
 *
 * Like `tactus test`: files are checked first (exit 2 on errors), runs go
 * through the broker with people answered at once and a fixed clock, in the
 * Docker sandbox unless --no-sandbox (exit 4 when Docker does not answer).
 * Everything that can be refused is refused before the first run (a bad
 * option, a check error, a dataset or baseline file that cannot be used, a
 * report path that cannot be written), and reports are written whole or
 * not at all (cli_out): a refused or interrupted evaluation leaves no half
 * report behind. Exit 0 when every evaluation meets its thresholds (and,
 * with --fail-on-regression, none regressed), 1 when one does not.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "evals.h"

static const char eval_usage[] =
    "usage: tactus eval [options] FILE|DIR...\n"
    "\n"
    "Score each procedure's Evaluation({dataset = ..., evaluators = ..., thresholds = ...}):\n"
    "every case runs `runs` times, every evaluator judges every run, a run passes when\n"
    "all evaluators pass. Each success rate comes with its interval, pass@k and pass^k,\n"
    "flakiness and consistency; the thresholds (min_success_rate, min_success_rate_lower,\n"
    "min_pass_k, max_flaky_cases, max_cost_per_run, max_duration, max_p95_duration,\n"
    "max_tokens_per_run) decide; without thresholds every run must pass. Runs that fail\n"
    "for the infrastructure (a provider down after its retries) are errors, not counted.\n"
    "\n"
    "options:\n"
    "      --mock              every agent's and judge's turns come from the file's Mocks\n"
    "      --runs N            runs per case, instead of the Evaluation's own `runs`\n"
    "  -j, --jobs N            runs in flight (default: the number of CPUs)\n"
    "      --format FORMAT     pretty (default), json or junit\n"
    "  -o, --output FILE       write the report to FILE instead of standard output\n"
    "      --html FILE         also write a self-contained HTML report\n"
    "      --save FILE         also write the full results (JSON), a baseline for later\n"
    "      --baseline FILE     compare with a --save file, case by case and as a whole\n"
    "      --fail-on-regression  exit 1 when the comparison finds a significant drop\n"
    "      --alpha A           significance of the comparison (default 0.05)\n"
    "      --timings           durations in the pretty report; time spent on stderr\n"
    "      --no-sandbox        run without the Docker sandbox; prints a security warning\n"
    "      --sandbox BACKEND   docker (default), runsc (Docker with gVisor) or process\n"
    "                          (as --no-sandbox)\n"
    "      --max-instructions N  instruction budget of each run (default 1000000000)\n"
    "      --timeout SECONDS   wall-clock limit of each run (default 600)\n"
    "  -h, --help              show this help\n"
    "\n"
    "exit status: 0 thresholds met, 1 a threshold missed, a significant regression with\n"
    "--fail-on-regression, or no evaluation found, 2 usage, check or input errors,\n"
    "4 sandbox required but unavailable.\n"
    "Evaluators, statistics, thresholds and reports: docs/evaluations.md.\n";

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Writes the report, the page and the saved results, each whole or not at
 * all; false when one could not be written (reported). */
static bool write_reports(const cJSON *doc, ev_format format, const char *output, const char *html,
                          const char *save, bool timings)
{
    struct {
        const char *path;
        ev_format format;
        bool wanted;
    } files[] = {
        {output, format, true},
        {html, EV_FORMAT_HTML, html != NULL},
        {save, EV_FORMAT_JSON, save != NULL},
    };
    bool ok = true;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (!files[i].wanted) continue;
        cli_out out;
        if (!cli_out_open(&out, "tactus eval", files[i].path)) {
            ok = false;
            continue;
        }
        bool color = files[i].format == EV_FORMAT_PRETTY && !files[i].path &&
                     isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
        ev_results_write(doc, files[i].format, out.f, color, timings);
        ok &= cli_out_commit(&out, "tactus eval");
    }
    return ok;
}

int cli_eval(int argc, char **argv)
{
    enum { OPT_HTML = 1000, OPT_SAVE, OPT_BASELINE, OPT_FAIL_ON_REGRESSION, OPT_ALPHA };
    static const struct option longopts[] = {
        CLI_BATCH_LONGOPTS,
        {"format", required_argument, NULL, 'f'},
        {"html", required_argument, NULL, OPT_HTML},
        {"save", required_argument, NULL, OPT_SAVE},
        {"baseline", required_argument, NULL, OPT_BASELINE},
        {"fail-on-regression", no_argument, NULL, OPT_FAIL_ON_REGRESSION},
        {"alpha", required_argument, NULL, OPT_ALPHA},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_batch b;
    cli_batch_init(&b);
    ev_format format = EV_FORMAT_PRETTY;
    const char *html = NULL, *save = NULL, *baseline_path = NULL;
    double alpha = 0.05;
    bool fail_on_regression = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "j:o:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (strcmp(optarg, "json") == 0)
                format = EV_FORMAT_JSON;
            else if (strcmp(optarg, "junit") == 0)
                format = EV_FORMAT_JUNIT;
            else if (strcmp(optarg, "pretty") == 0)
                format = EV_FORMAT_PRETTY;
            else {
                cli_error("tactus eval: --format takes pretty, json or junit, not '%s' (the HTML "
                          "page is --html FILE)\n",
                          optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_HTML:
            html = optarg;
            break;
        case OPT_SAVE:
            save = optarg;
            break;
        case OPT_BASELINE:
            baseline_path = optarg;
            break;
        case OPT_FAIL_ON_REGRESSION:
            fail_on_regression = true;
            break;
        case OPT_ALPHA: {
            char *end;
            errno = 0;
            alpha = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(alpha > 0 && alpha < 0.5)) {
                cli_error("tactus eval: --alpha takes a significance level between 0 and 0.5, "
                          "like 0.05, not '%s'\n",
                          optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        }
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
    if (fail_on_regression && !baseline_path) {
        cli_error("tactus eval: --fail-on-regression needs --baseline FILE (a file written by "
                  "an earlier tactus eval --save FILE)\n");
        return CLI_EXIT_USAGE;
    }
    ev_options o = {.runs = b.runs,
                    .jobs = b.jobs,
                    .mock = b.mock,
                    .timings = b.timings,
                    .alpha = alpha,
                    .fail_on_regression = fail_on_regression,
                    .limits = b.limits};
    bool no_sandbox = b.no_sandbox;
    if (optind >= argc) {
        cli_error("tactus eval: no file or directory given\n\n%s", eval_usage);
        return CLI_EXIT_USAGE;
    }
    /* Report paths first: a typo there must not cost a whole evaluation. */
    const struct {
        const char *path, *what;
    } outs[] = {{b.output, "--output"}, {html, "--html"}, {save, "--save"}};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        if (outs[i].path && !cli_out_check("tactus eval", outs[i].what, outs[i].path))
            return CLI_EXIT_USAGE;

    cli_inputs in;
    cli_launcher launcher = {0};
    ev_suite *suite = ev_suite_new();
    cJSON *baseline = NULL, *doc = NULL;
    int rc = cli_inputs_load(&in, argc - optind, argv + optind, "tactus eval");
    if (rc != CLI_EXIT_OK || !suite) goto done;
    rc = CLI_EXIT_USAGE;
    for (size_t i = 0; i < in.paths.len; i++)
        if (!cli_sandbox_backend(in.files[i].config, b.sandbox, "tactus eval", &no_sandbox)) goto done;
    char err[4096];
    if (baseline_path && ev_baseline_load(baseline_path, &baseline, err, sizeof err) != TX_OK) {
        cli_error("tactus eval: %s\n", err);
        goto done;
    }
    const cJSON *first_config = NULL;
    for (size_t i = 0; i < in.paths.len; i++) {
        if (!in.files[i].f->evaluations) continue;
        if (!first_config) first_config = in.files[i].config;
        char workspace[PATH_MAX];
        if (!cli_workspace_of(in.paths.paths[i], workspace, sizeof workspace)) {
            cli_error("tactus eval: cannot resolve %s: %s\n", in.paths.paths[i], strerror(errno));
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
    int prc = cli_launcher_prepare(&launcher, "tactus eval", first_config, no_sandbox,
                                   format != EV_FORMAT_PRETTY);
    if (prc != CLI_EXIT_OK) {
        rc = prc;
        goto done;
    }
    cli_launcher_pool(&launcher);
    o.launch = cli_launcher_for_runs;
    o.launch_ud = &launcher;
    o.pool = launcher.pool;
    o.progress =
        isatty(STDERR_FILENO) && !getenv("NO_COLOR") ? EV_PROGRESS_LIVE : EV_PROGRESS_LINES;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tx_status st = ev_suite_run(suite, &o);
    double run_s = seconds_since(&t0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    doc = ev_suite_results(suite, &o, baseline);
    double stats_s = seconds_since(&t0);
    if (!doc) {
        cli_error("tactus eval: out of memory while scoring\n");
        rc = CLI_EXIT_FAILED;
        goto done;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* An interrupted evaluation is reported, but not saved as a baseline:
     * its runs not made would count as failures in every later comparison. */
    if (st != TX_OK && save)
        cli_error("tactus eval: interrupted: the results are not saved to %s\n", save);
    bool written = write_reports(doc, format, b.output, html, st == TX_OK ? save : NULL, b.timings);
    double report_s = seconds_since(&t0);
    if (b.timings)
        cli_error("tactus eval: %zu runs in %.3f s (%.1f runs/s); statistics %.4f s, reports "
                  "%.4f s (%.2f%% of the runs' time)\n",
                  ev_suite_total_runs(suite), run_s,
                  run_s > 0 ? (double)ev_suite_total_runs(suite) / run_s : 0.0, stats_s, report_s,
                  run_s > 0 ? 100.0 * (stats_s + report_s) / run_s : 0.0);
    if (st != TX_OK) cli_error("tactus eval: interrupted; runs not made count as failed\n");
    rc = !written                                ? CLI_EXIT_USAGE
         : st == TX_OK && ev_results_passed(doc) ? CLI_EXIT_OK
                                                 : CLI_EXIT_FAILED;
done:
    cli_launcher_close(&launcher);
    cJSON_Delete(doc);
    cJSON_Delete(baseline);
    ev_suite_free(suite);
    cli_inputs_free(&in);
    return rc;
}
