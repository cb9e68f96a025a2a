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
    "      --scenario NAME     only scenarios of this name (an outline: all its rows)\n"
    "      --tags EXPR         only scenarios whose tags match, e.g. '@smoke and not @slow'\n"
    "      --runs N            run each scenario N times and report success rate,\n"
    "                          consistency and flaky scenarios (default 1)\n"
    "  -j, --jobs N            scenarios run at once (default: the number of CPUs)\n"
    "      --format FORMAT     pretty (default), json or junit\n"
    "  -o, --output FILE       write the report to FILE instead of standard output\n"
    "      --timings           include durations (the report then differs run to run)\n"
    "      --no-sandbox        run without the Docker sandbox; prints a security warning\n"
    "      --max-instructions N  instruction budget of each run (default 1000000000)\n"
    "      --timeout SECONDS   wall-clock limit of each run (default 600)\n"
    "  -h, --help              show this help\n"
    "\n"
    "exit status: 0 all passed, 1 a scenario failed or none was found, 2 usage or\n"
    "check errors, 4 sandbox required but unavailable.\n"
    "Steps, mocks and output formats: docs/testing.md.\n";

typedef struct {
    cli_launcher launcher;
} test_launch;

static tx_status make_launch(void *ud, const cJSON *config, const char *workspace,
                             const char *run_id, th_launch *l, char *err, size_t cap)
{
    const test_launch *t = ud;
    return cli_launcher_make(&t->launcher, config, workspace, run_id, NULL, l, err, cap);
}

typedef struct {
    char *src;
    size_t len;
    fe_file *f;
    cJSON *config;
} test_file;

static bool positive(const char *arg, const char *what, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (*arg && !*end && !errno && v >= 1 && v <= max) {
        *out = v;
        return true;
    }
    fprintf(stderr, "tactus test: %s takes a number from 1 to %ld, not '%s'\n", what, max, arg);
    return false;
}

int cli_test(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"mock", no_argument, NULL, 'm'},
        {"scenario", required_argument, NULL, 's'},
        {"tags", required_argument, NULL, 't'},
        {"runs", required_argument, NULL, 'r'},
        {"jobs", required_argument, NULL, 'j'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"timings", no_argument, NULL, 'T'},
        {"no-sandbox", no_argument, NULL, 'N'},
        {"max-instructions", required_argument, NULL, 'I'},
        {"timeout", required_argument, NULL, 'W'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    sp_options o = {.runs = 1,
                    .jobs = cpus > 0 ? (int)(cpus > 64 ? 64 : cpus) : 1,
                    .limits = {1000000000LL, 256LL * 1024 * 1024, 600000}};
    sp_format format = SP_FORMAT_PRETTY;
    const char *output = NULL;
    bool no_sandbox = false;
    long v;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "j:o:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            o.mock = true;
            break;
        case 's':
            o.scenario = optarg;
            break;
        case 't': {
            char err[512];
            if (!sp_tags_valid(optarg, err, sizeof err)) {
                fprintf(stderr, "tactus test: %s\n", err);
                return CLI_EXIT_USAGE;
            }
            o.tags = optarg;
            break;
        }
        case 'r':
            if (!positive(optarg, "--runs", 10000, &v)) return CLI_EXIT_USAGE;
            o.runs = (int)v;
            break;
        case 'j':
            if (!positive(optarg, "-j", 64, &v)) return CLI_EXIT_USAGE;
            o.jobs = (int)v;
            break;
        case 'f':
            if (strcmp(optarg, "pretty") == 0)
                format = SP_FORMAT_PRETTY;
            else if (strcmp(optarg, "json") == 0)
                format = SP_FORMAT_JSON;
            else if (strcmp(optarg, "junit") == 0)
                format = SP_FORMAT_JUNIT;
            else {
                fprintf(stderr, "tactus test: --format takes pretty, json or junit, not '%s'\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'o':
            output = optarg;
            break;
        case 'T':
            o.timings = true;
            break;
        case 'N':
            no_sandbox = true;
            break;
        case 'I':
            if (!positive(optarg, "--max-instructions", 1000000000000L, &v)) return CLI_EXIT_USAGE;
            o.limits.instructions = v;
            break;
        case 'W':
            if (!positive(optarg, "--timeout", 86400, &v)) return CLI_EXIT_USAGE;
            o.limits.wall_ms = v * 1000;
            break;
        case 'h':
            fputs(test_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(test_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "tactus test: no file or directory given\n\n%s", test_usage);
        return CLI_EXIT_USAGE;
    }

    int rc = CLI_EXIT_USAGE;
    cli_paths paths = {0};
    bool bad_args = false;
    for (int i = optind; i < argc; i++)
        if (!cli_paths_add_arg(&paths, argv[i], "tactus test")) bad_args = true;
    fe_context *fe = fe_context_new();
    ck_checker *ck = ck_checker_new();
    test_file *files = tx_calloc(paths.len + 1, sizeof *files);
    sp_suite *suite = ck ? sp_suite_new(ck) : NULL;
    cli_report *diag =
        cli_report_new(CLI_FORMAT_TEXT, stderr, isatty(STDERR_FILENO) && !getenv("NO_COLOR"));
    FILE *out = NULL;
    if (!fe || !ck || !files || !suite || !diag) {
        fprintf(stderr, "tactus test: out of memory\n");
        goto done;
    }
    if (bad_args) goto done;

    /* Check every file before anything runs. */
    bool check_failed = false;
    size_t with_specs = 0;
    for (size_t i = 0; i < paths.len; i++) {
        test_file *tf = &files[i];
        const char *path = paths.paths[i];
        int err_no;
        tx_status st = tx_read_file(path, 64u << 20, &tf->src, &tf->len, &err_no);
        if (st != TX_OK) {
            fprintf(stderr, "tactus test: cannot read %s: %s\n", path,
                    err_no ? strerror(err_no) : tx_status_str(st));
            check_failed = true;
            continue;
        }
        tx_diag_list diags;
        tx_diag_list_init(&diags);
        if (fe_parse(fe, path, tf->src, tf->len, &tf->f) != TX_OK ||
            ck_check(ck, tf->f, &diags) != TX_OK) {
            fprintf(stderr, "tactus test: out of memory checking %s\n", path);
            tx_diag_list_free(&diags);
            goto done;
        }
        if (tx_diag_count(&diags, TX_SEV_ERROR) > 0) {
            cli_report_file(diag, path, tf->src, tf->len, &diags);
            check_failed = true;
        }
        tx_diag_list_free(&diags);
        if (!tf->f->specs) {
            fprintf(stderr,
                    "tactus test: warning: %s has no Specifications; nothing to test there\n",
                    path);
            continue;
        }
        with_specs++;
        char cfg_err[1024];
        if (th_config_load(path, &tf->config, cfg_err, sizeof cfg_err) != TX_OK) {
            fprintf(stderr, "tactus test: configuration error: %s\n", cfg_err);
            check_failed = true;
        }
    }
    if (check_failed) {
        fprintf(stderr, "tactus test: fix the errors above; no scenario was run\n");
        goto done;
    }

    test_launch tl;
    const cJSON *first_config = NULL;
    for (size_t i = 0; i < paths.len && !first_config; i++)
        first_config = files[i].config;
    if (with_specs) {
        int prc = cli_launcher_prepare(&tl.launcher, "tactus test", first_config, no_sandbox,
                                       format != SP_FORMAT_PRETTY);
        if (prc != CLI_EXIT_OK) {
            rc = prc;
            goto done;
        }
    }
    o.launch = make_launch;
    o.launch_ud = &tl;
    for (size_t i = 0; i < paths.len; i++) {
        if (!files[i].f || !files[i].f->specs) continue;
        char workspace[PATH_MAX];
        if (!cli_workspace_of(paths.paths[i], workspace, sizeof workspace)) {
            fprintf(stderr, "tactus test: cannot resolve %s: %s\n", paths.paths[i],
                    strerror(errno));
            goto done;
        }
        cli_load_env_files(paths.paths[i]);
        if (sp_suite_add(suite, files[i].f, files[i].config, workspace, &o) != TX_OK) {
            fprintf(stderr, "tactus test: out of memory\n");
            goto done;
        }
    }
    if (sp_suite_count(suite) == 0) {
        fprintf(stderr, "tactus test: no scenario to run%s\n",
                o.scenario || o.tags ? " (none matches --scenario/--tags)" : "");
        rc = CLI_EXIT_FAILED;
        goto done;
    }
    out = output ? fopen(output, "w") : stdout;
    if (!out) {
        fprintf(stderr, "tactus test: cannot write %s: %s\n", output, strerror(errno));
        goto done;
    }
    o.progress = isatty(STDERR_FILENO) && !getenv("NO_COLOR");
    tx_status st = sp_suite_run(suite, &o);
    sp_suite_write(suite, &o, format, out,
                   format == SP_FORMAT_PRETTY && !output && isatty(STDOUT_FILENO) &&
                       !getenv("NO_COLOR"));
    if (st != TX_OK)
        fprintf(stderr, "tactus test: interrupted; scenarios not run are reported skipped\n");
    rc = sp_suite_passed(suite) ? CLI_EXIT_OK : CLI_EXIT_FAILED;
done:
    if (out && out != stdout && fclose(out) != 0) {
        fprintf(stderr, "tactus test: cannot write %s: %s\n", output, strerror(errno));
        rc = CLI_EXIT_USAGE;
    }
    sp_suite_free(suite);
    for (size_t i = 0; files && i < paths.len; i++) {
        cJSON_Delete(files[i].config);
        fe_file_free(files[i].f);
        tx_free(files[i].src);
    }
    tx_free(files);
    cli_report_free(diag);
    ck_checker_free(ck);
    fe_context_free(fe);
    cli_paths_free(&paths);
    return rc;
}
