/*
 * cli_paths.c - the .tac files named on a command line: files as given,
 * folders walked depth-first with their entries sorted (hidden entries such
 * as .git skipped), so every command sees files in the same order.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static bool paths_add(cli_paths *l, const char *p)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **np = tx_realloc(l->paths, cap * sizeof *np);
        if (!np) return false;
        l->paths = np;
        l->cap = cap;
    }
    char *d = tx_strdup(p);
    if (!d) return false;
    l->paths[l->len++] = d;
    return true;
}

void cli_paths_free(cli_paths *l)
{
    for (size_t i = 0; i < l->len; i++)
        tx_free(l->paths[i]);
    tx_free(l->paths);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds DIR's .tac files, depth-first, sorted per directory. Returns false on
 * a failure worth exit code 2 (already reported). */
static bool collect_dir(const char *dir, cli_paths *out, int depth, const char *cmd)
{
    if (depth > 64) {
        cli_error("%s: %s: directories nested too deeply, skipped\n", cmd, dir);
        return false;
    }
    DIR *d = opendir(dir);
    if (!d) {
        cli_error("%s: cannot open directory %s: %s\n", cmd, dir, strerror(errno));
        return false;
    }
    cli_paths names = {0};
    struct dirent *e;
    bool ok = true;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* ., .., and hidden folders like .git */
        if (!paths_add(&names, e->d_name)) {
            ok = false;
            break;
        }
    }
    closedir(d);
    if (names.len) qsort(names.paths, names.len, sizeof *names.paths, cmp_str);
    for (size_t i = 0; i < names.len && ok; i++) {
        tx_buf p;
        tx_buf_init(&p, 8192);
        tx_buf_printf(&p, "%s%s%s", dir, tx_has_suffix(dir, "/") ? "" : "/", names.paths[i]);
        struct stat sb;
        if (p.data && stat(p.data, &sb) == 0) {
            if (S_ISDIR(sb.st_mode))
                ok = collect_dir(p.data, out, depth + 1, cmd) && ok;
            else if (S_ISREG(sb.st_mode) && tx_has_suffix(p.data, ".tac"))
                ok = paths_add(out, p.data);
        }
        tx_buf_free(&p);
    }
    cli_paths_free(&names);
    return ok;
}

bool cli_paths_add_arg(cli_paths *l, const char *arg, const char *cmd)
{
    struct stat sb;
    if (stat(arg, &sb) != 0) {
        cli_error("%s: cannot read %s: %s\n", cmd, arg, strerror(errno));
        return false;
    }
    if (!S_ISDIR(sb.st_mode)) return paths_add(l, arg);
    size_t before = l->len;
    bool ok = collect_dir(arg, l, 0, cmd);
    if (l->len == before) cli_error("%s: warning: no .tac files in %s\n", cmd, arg);
    return ok;
}

bool cli_read_run_source(const char *cmd, const char *path, char **src, size_t *len)
{
    int err_no = 0;
    tx_status st = tx_read_file(path, CLI_MAX_RUN_SOURCE, src, len, &err_no);
    if (st == TX_ELIMIT) {
        struct stat sb;
        double mib = stat(path, &sb) == 0 ? (double)sb.st_size / (1024.0 * 1024.0) : 0;
        cli_error(
                "%s: %s is %.1f MiB; a procedure that runs may be at most %u MiB (its source "
                "travels in the run's first message): move data into files the procedure reads, "
                "or split the code into modules it requires\n",
                cmd, path, mib, CLI_MAX_RUN_SOURCE >> 20);
        return false;
    }
    if (st != TX_OK) {
        cli_error("%s: cannot read %s: %s\n", cmd, path,
                err_no ? strerror(err_no) : tx_status_str(st));
        return false;
    }
    return true;
}

int cli_inputs_load(cli_inputs *in, int argc, char **argv, const char *cmd)
{
    memset(in, 0, sizeof *in);
    bool bad = false;
    for (int i = 0; i < argc; i++)
        if (!cli_paths_add_arg(&in->paths, argv[i], cmd)) bad = true;
    in->fe = fe_context_new();
    in->ck = ck_checker_new();
    in->files = tx_calloc(in->paths.len + 1, sizeof *in->files);
    cli_report *diag =
        cli_report_new(CLI_FORMAT_TEXT, stderr, isatty(STDERR_FILENO) && !getenv("NO_COLOR"));
    if (!in->fe || !in->ck || !in->files || !diag) {
        cli_error("%s: out of memory\n", cmd);
        cli_report_free(diag);
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < in->paths.len; i++) {
        cli_file *cf = &in->files[i];
        const char *path = in->paths.paths[i];
        if (!cli_read_run_source(cmd, path, &cf->src, &cf->len)) {
            bad = true;
            continue;
        }
        /* Up front, before any run: a folder holding the host's own files
         * is never a workspace (each launch plan checks it again). */
        char ws[PATH_MAX], why[1024];
        if (cli_workspace_of(path, ws, sizeof ws) && sb_check_workspace(ws, NULL, 0, why, sizeof why) != TX_OK) {
            cli_error("%s: %s\n", cmd, why);
            bad = true;
            continue;
        }
        tx_diag_list diags;
        tx_diag_list_init(&diags);
        if (fe_parse(in->fe, path, cf->src, cf->len, &cf->f) != TX_OK ||
            ck_check(in->ck, cf->f, &diags) != TX_OK) {
            cli_error("%s: out of memory checking %s\n", cmd, path);
            tx_diag_list_free(&diags);
            bad = true;
            break;
        }
        if (tx_diag_count(&diags, TX_SEV_ERROR) > 0) {
            cli_report_file(diag, path, cf->src, cf->len, &diags);
            bad = true;
        }
        tx_diag_list_free(&diags);
        char cfg_err[1024];
        if (cf_load(path, &cf->config, cfg_err, sizeof cfg_err) != TX_OK) {
            cli_error("%s: configuration error: %s\n", cmd, cfg_err);
            bad = true;
        }
    }
    cli_report_free(diag);
    if (bad) {
        cli_error("%s: fix the errors above; nothing was run\n", cmd);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

void cli_inputs_free(cli_inputs *in)
{
    for (size_t i = 0; in->files && i < in->paths.len; i++) {
        cJSON_Delete(in->files[i].config);
        fe_file_free(in->files[i].f);
        tx_free(in->files[i].src);
    }
    tx_free(in->files);
    ck_checker_free(in->ck);
    fe_context_free(in->fe);
    cli_paths_free(&in->paths);
}

void cli_error(const char *fmt, ...)
{
    tx_buf b;
    tx_buf_init(&b, 1u << 20);
    va_list ap;
    va_start(ap, fmt);
    tx_status st = tx_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (st == TX_OK && b.data) tx_fputs_term(b.data, stderr);
    else fputs(fmt, stderr); /* out of memory: the format, at least */
    fflush(stderr);
    tx_buf_free(&b);
}

/* ---- report files ------------------------------------------------------------------------ */

static void dir_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

bool cli_out_check(const char *cmd, const char *what, const char *path)
{
    char dir[4096];
    struct stat st;
    dir_of(path, dir, sizeof dir);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error("%s: %s %s: the folder %s does not exist\n", cmd, what, path, dir);
        return false;
    }
    if (access(dir, W_OK) != 0) {
        cli_error("%s: %s %s: the folder %s is not writable: %s\n", cmd, what, path, dir,
                  strerror(errno));
        return false;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error("%s: %s %s: a folder; name a file to write\n", cmd, what, path);
        return false;
    }
    return true;
}

bool cli_out_open(cli_out *o, const char *cmd, const char *path)
{
    memset(o, 0, sizeof *o);
    if (!path) {
        o->f = stdout;
        return true;
    }
    /* A device or a pipe (/dev/null, a process substitution) is written
     * as it is: there is nothing to replace, and it cannot be renamed over. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        o->f = fopen(path, "w");
        if (!o->f) cli_error("%s: cannot write %s: %s\n", cmd, path, strerror(errno));
        return o->f != NULL;
    }
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    snprintf(o->path, sizeof o->path, "%s", path);
    snprintf(o->tmp, sizeof o->tmp, "%s/.%.200s.tmp-XXXXXX", dir, base);
    int fd = mkstemp(o->tmp);
    if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
        cli_error("%s: cannot write %s: %s\n", cmd, path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(o->tmp);
        }
        o->tmp[0] = '\0';
        return false;
    }
    return true;
}

bool cli_out_commit(cli_out *o, const char *cmd)
{
    if (!o->f) return false;
    if (!o->tmp[0]) {
        bool ok = o->f == stdout ? fflush(o->f) == 0 : fclose(o->f) == 0;
        o->f = NULL;
        if (!ok) cli_error("%s: cannot write the report: %s\n", cmd, strerror(errno));
        return ok;
    }
    bool ok = !ferror(o->f);
    ok &= fflush(o->f) == 0 && fsync(fileno(o->f)) == 0;
    ok &= fclose(o->f) == 0;
    o->f = NULL;
    /* mkstemp makes the file 0600: a report is as readable as any file we write. */
    mode_t mask = umask(0);
    umask(mask);
    if (ok) chmod(o->tmp, 0666 & ~mask);
    if (ok) ok = rename(o->tmp, o->path) == 0;
    if (!ok) {
        cli_error("%s: cannot write %s: %s\n", cmd, o->path, strerror(errno));
        unlink(o->tmp);
    }
    o->tmp[0] = '\0';
    return ok;
}

void cli_out_abort(cli_out *o)
{
    if (o->f && o->f != stdout) fclose(o->f);
    if (o->tmp[0]) unlink(o->tmp);
    o->f = NULL;
    o->tmp[0] = '\0';
}
