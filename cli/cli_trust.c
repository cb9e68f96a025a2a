/*
 * cli_trust.c - `tactus trust [DIR]`: records the SHA-256 of a project's
 * own configuration files (DIR/.tactus/config.yml, DIR/FILE.tac.yml,
 * DIR/FILE.yml beside FILE.tac, DIR/.env, DIR/.env.local) so the host obeys
 * their privileged keys and loads their .env keys; `--list` shows what is
 * trusted, `--revoke` forgets DIR's files. See docs/run.md.
 */
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char trust_usage[] =
    "usage: tactus trust [DIR|FILE]\n"
    "       tactus trust --list\n"
    "       tactus trust --revoke [DIR|FILE]\n"
    "\n"
    "A project's own files (.tactus/config.yml, FILE.tac.yml, .env, .env.local) may\n"
    "not set privileged keys (host_tools, mcp_servers, providers.*.base_url, sandbox,\n"
    "...) nor have their .env keys loaded, unless you trust their current content.\n"
    "`tactus trust DIR` (default: the current folder) records the SHA-256 of each of\n"
    "those files in DIR in $XDG_CONFIG_HOME/tactus/trusted.json (~/.config/tactus);\n"
    "a file changed afterwards is untrusted again. Read the files first.\n"
    "\n"
    "  -l, --list     the trusted files: trusted, changed (untrusted again) or missing\n"
    "  -r, --revoke   forget the files of DIR (or FILE)\n"
    "  -h, --help     show this help\n"
    "\n"
    "exit status: 0 done, 2 usage error or nothing to trust.\n";

typedef struct {
    char *paths[256];
    size_t n;
} file_list;

static void add_real(file_list *l, const char *path)
{
    char real[PATH_MAX];
    struct stat sb;
    if (l->n >= sizeof l->paths / sizeof l->paths[0] || !realpath(path, real) ||
        stat(real, &sb) != 0 || !S_ISREG(sb.st_mode))
        return;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->paths[i], real) == 0) return;
    l->paths[l->n++] = tx_strdup(real);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The project files of one folder (or the one file given). */
static void project_files(const char *target, file_list *l)
{
    struct stat sb;
    if (stat(target, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
        add_real(l, target);
        return;
    }
    char p[PATH_MAX + 300];
    snprintf(p, sizeof p, "%s/.tactus/config.yml", target);
    add_real(l, p);
    snprintf(p, sizeof p, "%s/.env", target);
    add_real(l, p);
    snprintf(p, sizeof p, "%s/.env.local", target);
    add_real(l, p);
    DIR *d = opendir(target);
    if (!d) return;
    size_t first = l->n;
    for (struct dirent *e; (e = readdir(d));) {
        const char *name = e->d_name;
        size_t n = strlen(name);
        bool sidecar = tx_has_suffix(name, ".tac.yml");
        if (!sidecar && tx_has_suffix(name, ".yml") && n > 4) {
            snprintf(p, sizeof p, "%s/%.*s.tac", target, (int)(n - 4), name);
            sidecar = stat(p, &sb) == 0; /* FILE.yml beside FILE.tac */
        }
        if (!sidecar) continue;
        snprintf(p, sizeof p, "%s/%s", target, name);
        add_real(l, p);
    }
    closedir(d);
    qsort(l->paths + first, l->n - first, sizeof l->paths[0], by_name);
}

static int list_trusted(void)
{
    cJSON *files = cf_trust_entries();
    const cJSON *e;
    cJSON_ArrayForEach(e, files)
    {
        char *text;
        size_t len;
        int err_no;
        const char *state = "missing";
        if (tx_read_file(e->string, 4u << 20, &text, &len, &err_no) == TX_OK) {
            state = cf_trust_matches(e->string, text, len) ? "trusted" : "changed";
            tx_free(text);
        }
        printf("%-8s %s\n", state, e->string);
    }
    cJSON_Delete(files);
    return CLI_EXIT_OK;
}

int cli_trust(int argc, char **argv)
{
    static const struct option opts[] = {{"list", no_argument, NULL, 'l'},
                                         {"revoke", no_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool list = false, revoke = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "lrh", opts, NULL)) != -1) {
        switch (opt) {
        case 'l': list = true; break;
        case 'r': revoke = true; break;
        case 'h': fputs(trust_usage, stdout); return CLI_EXIT_OK;
        default: fputs(trust_usage, stderr); return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind > 1 || (list && (revoke || argc > optind))) {
        fputs(trust_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (list) return list_trusted();
    const char *target = optind < argc ? argv[optind] : ".";
    struct stat sb;
    if (stat(target, &sb) != 0) {
        cli_error("tactus trust: %s: no such file or folder\n", target);
        return CLI_EXIT_USAGE;
    }
    file_list l = {0};
    project_files(target, &l);
    int rc = CLI_EXIT_OK;
    if (l.n == 0) {
        cli_error(
                "tactus trust: nothing to trust in %s: no .tactus/config.yml, FILE.tac.yml or "
                ".env there\n",
                target);
        rc = CLI_EXIT_USAGE;
    } else {
        char err[PATH_MAX + 128];
        if (cf_trust_update((const char *const *)l.paths, l.n, revoke, err, sizeof err) != TX_OK) {
            cli_error("tactus trust: %s\n", err);
            rc = CLI_EXIT_FAILED;
        } else {
            for (size_t i = 0; i < l.n; i++)
                printf("%s %s\n", revoke ? "revoked" : "trusted", l.paths[i]);
        }
    }
    for (size_t i = 0; i < l.n; i++) tx_free(l.paths[i]);
    return rc;
}
