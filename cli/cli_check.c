/*
 * cli_check.c - `tactus check FILE|DIR...`.
 *
 * Directories are walked recursively for *.tac files (hidden directories are
 * skipped), in sorted order so output is stable. Exit 0 when no file has an
 * error, 1 when some has, 2 on usage errors or when an input cannot be read.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Largest .tac file read; larger ones are reported, not parsed. */
#define CHECK_MAX_FILE (64u * 1024u * 1024u)

static const char check_usage[] =
    "usage: tactus check [options] FILE|DIR...\n"
    "\n"
    "Parse .tac files and check them without running anything. Directories are\n"
    "searched recursively for .tac files.\n"
    "\n"
    "options:\n"
    "  -f, --format FORMAT   text (default), json, or sarif (SARIF 2.1.0)\n"
    "      --color WHEN      color text output: auto (default), always, never\n"
    "  -j, --jobs N          check on N threads (default: one per core, at most 16)\n"
    "      --globals NAMES   globals defined outside the files (comma-separated, repeatable);\n"
    "                        check.globals in the configuration adds more (docs/run.md)\n"
    "      --list-globals    print the globals and namespace members the runtime defines\n"
    "  -q, --quiet           do not print the summary line\n"
    "      --fix             rewrite v0.10 forms of the DSL (TAC901) to the current one in\n"
    "                        place, then check the rewritten files\n"
    "  -h, --help            show this help\n"
    "\n"
    "exit status: 0 no errors, 1 errors found, 2 usage or input/output failure.\n"
    "Diagnostic codes are explained in docs/diagnostics.md.\n";


typedef struct {
    size_t files, errors, warnings, infos;
    bool io_failure;
} check_totals;

/* One file's result, produced by a worker and rendered, in order, by the
 * main thread so that output is identical whatever the thread count. */
typedef struct {
    char *src;
    size_t len;
    tx_diag_list diags;
    bool ok;
    bool done;
} file_result;

/* Names given by --globals, for every file (each file's check.globals adds
 * its own). */
typedef struct {
    const char **names;
    size_t n, cap;
} name_list;

static void names_add(name_list *l, const char *name, size_t len)
{
    if (len == 0) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        const char **nn = tx_realloc(l->names, cap * sizeof *nn);
        if (!nn) return;
        l->names = nn;
        l->cap = cap;
    }
    char *copy = tx_strndup(name, len);
    if (copy) l->names[l->n++] = copy;
}

static void names_free(name_list *l)
{
    for (size_t i = 0; i < l->n; i++) tx_free((char *)l->names[i]);
    tx_free(l->names);
    memset(l, 0, sizeof *l);
}

typedef struct {
    cli_paths *files;
    file_result *results;
    const name_list *globals; /* --globals */
    size_t next; /* next file to take; guarded by mu */
    pthread_mutex_t mu;
    pthread_cond_t cond;
} check_queue;

/* The globals a file's configuration declares (check.globals), after the
 * command line's. A configuration the host would refuse to run with (an
 * untrusted privileged key) is no reason not to check the file: it is
 * named once here and the file is checked without it. */
static void file_globals(const char *path, const name_list *cmdline, name_list *out)
{
    for (size_t i = 0; i < cmdline->n; i++) names_add(out, cmdline->names[i], strlen(cmdline->names[i]));
    cJSON *config = NULL;
    char err[1024];
    if (cf_load(path, &config, err, sizeof err) != TX_OK) {
        cli_error("tactus check: warning: configuration not read for %s (check.globals not "
                  "applied): %s\n",
                  path, err);
        return;
    }
    const cJSON *g;
    cJSON_ArrayForEach(g, cf_get(config, "check.globals"))
        if (cJSON_IsString(g)) names_add(out, g->valuestring, strlen(g->valuestring));
    cJSON_Delete(config);
}

static void check_one(const char *path, fe_context *fe, ck_checker *ck, const name_list *globals,
                      file_result *res)
{
    int err_no;
    tx_diag_list_init(&res->diags);
    tx_status st = tx_read_file(path, CHECK_MAX_FILE, &res->src, &res->len, &err_no);
    if (st != TX_OK) {
        if (st == TX_ELIMIT)
            cli_error("tactus check: %s: file larger than %u MiB, not checked; split it\n",
                    path, CHECK_MAX_FILE >> 20);
        else
            cli_error("tactus check: cannot read %s: %s\n", path,
                    err_no ? strerror(err_no) : tx_status_str(st));
        return;
    }
    fe_file *f = NULL;
    name_list known = {0};
    file_globals(path, globals, &known);
    ck_set_known_globals(ck, known.names, known.n);
    st = fe_parse(fe, path, res->src, res->len, &f);
    if (st == TX_OK) st = ck_check(ck, f, &res->diags);
    ck_set_known_globals(ck, NULL, 0);
    names_free(&known);
    fe_file_free(f);
    if (st != TX_OK) {
        cli_error("tactus check: %s: %s\n", path, tx_status_str(st));
        return;
    }
    res->ok = true;
}

static void *check_worker(void *arg)
{
    check_queue *q = arg;
    fe_context *fe = fe_context_new();
    ck_checker *ck = ck_checker_new();
    for (;;) {
        pthread_mutex_lock(&q->mu);
        size_t i = q->next < q->files->len ? q->next++ : (size_t)-1;
        pthread_mutex_unlock(&q->mu);
        if (i == (size_t)-1) break;
        file_result *res = &q->results[i];
        if (fe && ck)
            check_one(q->files->paths[i], fe, ck, q->globals, res);
        else
            cli_error("tactus check: %s: out of memory\n", q->files->paths[i]);
        pthread_mutex_lock(&q->mu);
        res->done = true;
        pthread_cond_broadcast(&q->cond);
        pthread_mutex_unlock(&q->mu);
    }
    ck_checker_free(ck);
    fe_context_free(fe);
    return NULL;
}

static long default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 16 ? 16 : n;
}

/* Checks every file on `jobs` threads and renders results in file order. */
static void check_all(cli_paths *files, const name_list *globals, long jobs, cli_report *rep,
                      check_totals *t)
{
    check_queue q = {.files = files, .globals = globals};
    q.results = tx_calloc(files->len ? files->len : 1, sizeof *q.results);
    if (!q.results) {
        cli_error("tactus check: out of memory\n");
        t->io_failure = true;
        return;
    }
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.cond, NULL);
    if ((size_t)jobs > files->len) jobs = (long)(files->len ? files->len : 1);
    pthread_t threads[16];
    long started = 0;
    for (long i = 0; i < jobs; i++)
        if (pthread_create(&threads[i], NULL, check_worker, &q) == 0) started++;
    if (started == 0) check_worker(&q); /* no threads available: do it here */

    bool progress = isatty(STDERR_FILENO) && files->len >= 200;
    for (size_t i = 0; i < files->len; i++) {
        pthread_mutex_lock(&q.mu);
        while (!q.results[i].done) pthread_cond_wait(&q.cond, &q.mu);
        pthread_mutex_unlock(&q.mu);
        file_result *res = &q.results[i];
        if (progress && i % 50 == 0)
            fprintf(stderr, "\rchecking %zu/%zu files...", i, files->len);
        if (res->ok) {
            t->files++;
            t->errors += tx_diag_count(&res->diags, TX_SEV_ERROR);
            t->warnings += tx_diag_count(&res->diags, TX_SEV_WARNING);
            t->infos += tx_diag_count(&res->diags, TX_SEV_INFO);
            if (progress && res->diags.len) fprintf(stderr, "\r\033[K");
            cli_report_file(rep, files->paths[i], res->src, res->len, &res->diags);
        } else {
            t->io_failure = true;
        }
        tx_diag_list_free(&res->diags);
        tx_free(res->src);
        res->src = NULL;
    }
    if (progress) fprintf(stderr, "\r\033[K");
    for (long i = 0; i < started; i++) pthread_join(threads[i], NULL);
    pthread_cond_destroy(&q.cond);
    pthread_mutex_destroy(&q.mu);
    tx_free(q.results);
}

/* Rewrites the v0.10 forms of one file to the current DSL (ck_fix_legacy),
 * in place: the new text must parse, and replaces the file by a rename so
 * it is never half-written. False after printing why. */
static bool fix_one(const char *path, fe_context *fe, size_t *forms)
{
    char *src = NULL, *out = NULL, *tmp = NULL;
    size_t len = 0, out_len = 0;
    int err_no = 0;
    fe_file *f = NULL, *g = NULL;
    ck_edits edits;
    ck_edits_init(&edits);
    bool ok = false;
    *forms = 0;
    if (tx_read_file(path, CHECK_MAX_FILE, &src, &len, &err_no) != TX_OK) {
        cli_error("tactus check --fix: cannot read %s: %s\n", path,
                  err_no ? strerror(err_no) : "too large");
        goto done;
    }
    if (fe_parse(fe, path, src, len, &f) != TX_OK || ck_fix_legacy(f, &edits) != TX_OK) {
        cli_error("tactus check --fix: %s: out of memory\n", path);
        goto done;
    }
    if (!f->lua_ok || edits.len == 0) {
        ok = true; /* nothing to rewrite (a file that does not parse is reported by the check) */
        goto done;
    }
    out = ck_edits_apply(src, len, &edits, &out_len);
    if (!out || fe_parse(fe, path, out, out_len, &g) != TX_OK) {
        cli_error("tactus check --fix: %s: out of memory\n", path);
        goto done;
    }
    if (!g->lua_ok) {
        cli_error("tactus check --fix: %s: the rewritten file does not parse, so it was left as "
                  "it is; please report this with the file (the warnings below name each v0.10 "
                  "form to rewrite by hand)\n",
                  path);
        goto done;
    }
    size_t n = strlen(path) + 32;
    tmp = tx_malloc(n);
    if (!tmp) goto done;
    snprintf(tmp, n, "%s.fix-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        cli_error("tactus check --fix: cannot write beside %s: %s\n", path, strerror(errno));
        goto done;
    }
    struct stat st;
    if (stat(path, &st) == 0) (void)fchmod(fd, st.st_mode & 07777);
    size_t off = 0;
    while (off < out_len) {
        ssize_t w = write(fd, out + off, out_len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    if (off != out_len || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        cli_error("tactus check --fix: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        goto done;
    }
    *forms = edits.len;
    ok = true;
done:
    fe_file_free(g);
    fe_file_free(f);
    ck_edits_free(&edits);
    tx_free(out);
    tx_free(tmp);
    tx_free(src);
    return ok;
}

/* --fix: every file rewritten before any is checked. */
static bool fix_all(const cli_paths *files)
{
    fe_context *fe = fe_context_new();
    if (!fe) {
        cli_error("tactus check --fix: out of memory\n");
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < files->len; i++) {
        size_t edits = 0;
        if (!fix_one(files->paths[i], fe, &edits)) ok = false;
        if (edits)
            cli_error("tactus check --fix: %s: rewritten to the current DSL (%zu edit%s)\n",
                      files->paths[i], edits, edits == 1 ? "" : "s");
    }
    fe_context_free(fe);
    return ok;
}

int cli_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'}, {"color", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {"jobs", required_argument, NULL, 'j'},   {"globals", required_argument, NULL, 'g'},
        {"list-globals", no_argument, NULL, 'L'}, {"fix", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    name_list globals = {0};
    bool fix = false;
    cli_format format = CLI_FORMAT_TEXT;
    int color = -1; /* auto */
    bool quiet = false;
    long jobs = default_jobs();
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "f:qhj:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (strcmp(optarg, "text") == 0)
                format = CLI_FORMAT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                format = CLI_FORMAT_JSON;
            else if (strcmp(optarg, "sarif") == 0)
                format = CLI_FORMAT_SARIF;
            else {
                cli_error("tactus check: unknown format '%s'; expected text, json or sarif\n",
                        optarg);
                names_free(&globals);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'c':
            if (strcmp(optarg, "auto") == 0)
                color = -1;
            else if (strcmp(optarg, "always") == 0)
                color = 1;
            else if (strcmp(optarg, "never") == 0)
                color = 0;
            else {
                cli_error("tactus check: --color takes auto, always or never, not '%s'\n",
                        optarg);
                names_free(&globals);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'q': quiet = true; break;
        case 'F': fix = true; break;
        case 'j': {
            char *end;
            jobs = strtol(optarg, &end, 10);
            if (*end || jobs < 1 || jobs > 16) {
                cli_error("tactus check: -j takes a number of threads from 1 to 16, not '%s'\n",
                        optarg);
                names_free(&globals);
                return CLI_EXIT_USAGE;
            }
            break;
        }
        case 'g':
            for (const char *p = optarg; *p;) {
                size_t n = strcspn(p, ", ");
                names_add(&globals, p, n);
                p += n;
                while (*p == ',' || *p == ' ') p++;
            }
            break;
        case 'L': {
            size_t n;
            const char *const *names = ck_runtime_globals(&n);
            for (size_t i = 0; i < n; i++) printf("%s\n", names[i]);
            names_free(&globals);
            return CLI_EXIT_OK;
        }
        case 'h': names_free(&globals); fputs(check_usage, stdout); return CLI_EXIT_OK;
        default: names_free(&globals); fputs(check_usage, stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        names_free(&globals);
        cli_error("tactus check: no file or directory given\n\n%s", check_usage);
        return CLI_EXIT_USAGE;
    }
    if (color < 0) color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");

    cli_paths files = {0};
    bool io_failure = false;
    for (int i = optind; i < argc; i++)
        if (!cli_paths_add_arg(&files, argv[i], "tactus check")) io_failure = true;

    if (fix && !fix_all(&files)) io_failure = true;

    cli_report *rep = cli_report_new(format, stdout, color);
    if (!rep) {
        cli_error("tactus check: out of memory\n");
        cli_paths_free(&files);
        names_free(&globals);
        return CLI_EXIT_USAGE;
    }
    check_totals t = {0};
    check_all(&files, &globals, jobs, rep, &t);
    names_free(&globals);
    cli_report_finish(rep, t.files);
    if (t.io_failure) io_failure = true;

    if (!quiet && format == CLI_FORMAT_TEXT && (t.errors || t.warnings || isatty(STDERR_FILENO)))
        cli_error("%zu file%s checked: %zu error%s, %zu warning%s\n", t.files,
                t.files == 1 ? "" : "s", t.errors, t.errors == 1 ? "" : "s", t.warnings,
                t.warnings == 1 ? "" : "s");

    cli_report_free(rep);
    cli_paths_free(&files);
    if (io_failure) return CLI_EXIT_USAGE;
    return t.errors ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}
