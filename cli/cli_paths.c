/*
 * cli_paths.c - the .tac files named on a command line: files as given,
 * folders walked depth-first with their entries sorted (hidden entries such
 * as .git skipped), so every command sees files in the same order.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
        fprintf(stderr, "%s: %s: directories nested too deeply, skipped\n", cmd, dir);
        return false;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: cannot open directory %s: %s\n", cmd, dir, strerror(errno));
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
        fprintf(stderr, "%s: cannot read %s: %s\n", cmd, arg, strerror(errno));
        return false;
    }
    if (!S_ISDIR(sb.st_mode)) return paths_add(l, arg);
    size_t before = l->len;
    bool ok = collect_dir(arg, l, 0, cmd);
    if (l->len == before) fprintf(stderr, "%s: warning: no .tac files in %s\n", cmd, arg);
    return ok;
}
