/*
 * cli_launch.c - how `tactus run` and `tactus test` start tactus-runtime:
 * in the Docker sandbox by default, failing closed when Docker does not
 * answer (inventory F.2, exit 4), or as a plain child with --no-sandbox or
 * `sandbox.enabled: false`, after the security warning.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_launcher_prepare(cli_launcher *l, const char *cmd, const cJSON *config, bool no_sandbox,
                         bool quiet)
{
    /* l->remote and l->broker stay as cli_launcher_check_remote set them */
    l->sandbox = false;
    l->runtime[0] = l->image[0] = '\0';
    if (cJSON_IsFalse(cf_get(config, "sandbox.enabled"))) no_sandbox = true;
    l->sandbox = !no_sandbox;
    if (no_sandbox && !quiet)
        cli_error(
                "[SANDBOX] Container isolation disabled (--no-sandbox or config). "
                "Proceeding without Docker isolation: the runtime still has no network code "
                "and no environment, but shares this machine's kernel and files.\n");
    if (sb_find_runtime(l->runtime, sizeof l->runtime) != TX_OK) {
        cli_error("%s: tactus-runtime not found beside tactus (or at $TACTUS_RUNTIME)\n",
                cmd);
        return CLI_EXIT_NO_SANDBOX;
    }
    if (no_sandbox) return CLI_EXIT_OK;
    char reason[256], detail[512], err[1024];
    if (!sb_docker_available(reason, sizeof reason)) {
        cli_error(
                "[SANDBOX ERROR] Docker not available: %s\n"
                "Cannot run procedure without container isolation.\nEither:\n"
                "  - Start the Docker daemon (dockerd)\n"
                "  - Use --no-sandbox flag to explicitly run without isolation (security risk)\n"
                "  - Set sandbox.enabled: false in config to permanently disable (security risk)\n",
                reason);
        return CLI_EXIT_NO_SANDBOX;
    }
    sb_image_name(config, l->runtime, l->image, sizeof l->image);
    if (sb_image_state(l->image, l->runtime, detail, sizeof detail) != SB_IMAGE_CURRENT) {
        if (!quiet) cli_error("[SANDBOX] %s: building it...\n", detail);
        if (sb_build_image(l->image, l->runtime, NULL, NULL, err, sizeof err) != TX_OK) {
            cli_error("[SANDBOX ERROR] cannot build the sandbox image %s: %s\n", l->image,
                    err);
            return CLI_EXIT_NO_SANDBOX;
        }
    }
    return CLI_EXIT_OK;
}

int cli_launcher_check_remote(cli_launcher *l, const char *cmd, const cJSON *config,
                              bool no_sandbox)
{
    char err[1024];
    bool docker = !no_sandbox && !cJSON_IsFalse(cf_get(config, "sandbox.enabled"));
    if (sb_remote_config(config, docker, &l->broker, &l->remote, err, sizeof err) != TX_OK) {
        cli_error("%s: sandbox configuration error: %s\n", cmd, err);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

tx_status cli_launcher_make(const cli_launcher *l, const cJSON *config, const char *workspace,
                            const char *run_id, FILE *warn, sb_launch *out, char *err, size_t cap)
{
    char store_dir[4096];
    snprintf(store_dir, sizeof store_dir, "%s", l->store);
    char *slash = strrchr(store_dir, '/');
    if (slash) *slash = '\0';
    const sb_host_place also[] = {{"journal", store_dir[0] && slash ? store_dir : NULL}};
    if (sb_check_workspace(workspace, also, 1, err, cap) != TX_OK) return TX_EINVAL;
    if (l->remote && !l->sandbox) return sb_launch_plain_remote(&l->broker, l->runtime, workspace, out);
    if (l->remote)
        return sb_launch_docker_remote(config, l->image, workspace, run_id, &l->broker, out, warn, err, cap);
    if (!l->sandbox) return sb_launch_plain(l->runtime, workspace, out);
    if (l->pool) {
        char name[64];
        snprintf(name, sizeof name, "pool-%s", run_id);
        return sb_launch_docker_pooled(config, l->image, workspace, name, l->pool_exe, out, warn,
                                       err, cap);
    }
    return sb_launch_docker(config, l->image, workspace, run_id, out, warn, err, cap);
}

void cli_launcher_pool(cli_launcher *l)
{
    if (!l->sandbox || l->remote || l->pool) return;
    /* tactus-pool lives beside tactus-runtime. */
    snprintf(l->pool_exe, sizeof l->pool_exe, "%s", l->runtime);
    char *slash = strrchr(l->pool_exe, '/');
    if (!slash) return;
    snprintf(slash + 1, sizeof l->pool_exe - (size_t)(slash + 1 - l->pool_exe), "tactus-pool");
    if (access(l->pool_exe, X_OK) != 0) return; /* then one container per run, as before */
    l->pool = sb_pool_new();
}

void cli_launcher_close(cli_launcher *l)
{
    sb_pool_free(l->pool);
    l->pool = NULL;
}

bool cli_workspace_of(const char *path, char *out, size_t cap)
{
    char abs[PATH_MAX];
    if (!realpath(path, abs)) return false;
    snprintf(out, cap, "%s", abs);
    char *slash = strrchr(out, '/');
    if (slash == out)
        out[1] = '\0'; /* a file at the root: the workspace is "/" */
    else if (slash)
        *slash = '\0';
    return true;
}

bool cli_report_syntax_errors(const fe_file *f)
{
    bool any = false;
    for (size_t i = 0; i < f->diags.len; i++) {
        const tx_diag *d = &f->diags.items[i];
        if (d->severity != TX_SEV_ERROR) continue;
        tx_line_col lc = tx_span_columns(f->src, f->len, d->span);
        cli_error("%s:%u:%u: error[%s]: %s\n", f->path, lc.line, lc.column, d->code,
                d->message);
        any = true;
    }
    return any;
}

void cli_load_env_files(const char *path)
{
    /* Only trusted .env files: the user's, or a project's recorded by `tactus trust`. */
    cf_env_files_load(path, stderr);
}

tx_status cli_launcher_for_runs(void *launcher, const cJSON *config, const char *workspace,
                                const char *run_id, sb_launch *l, char *err, size_t cap)
{
    /* Many runs: refused secret names were reported by the first plan. */
    return cli_launcher_make(launcher, config, workspace, run_id, NULL, l, err, cap);
}

bool cli_positive(const char *cmd, const char *arg, const char *what, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (*arg && !*end && !errno && v >= 1 && v <= max) {
        *out = v;
        return true;
    }
    cli_error("%s: %s takes a number from 1 to %ld, not '%s'\n", cmd, what, max, arg);
    return false;
}

void cli_batch_init(cli_batch *b)
{
    memset(b, 0, sizeof *b);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    b->jobs = cpus > 0 ? (int)(cpus > 64 ? 64 : cpus) : 1;
    b->limits = (sup_limits){1000000000LL, 256LL * 1024 * 1024, 600000};
}

int cli_batch_option(cli_batch *b, const char *cmd, int opt, const char *arg)
{
    long v;
    switch (opt) {
    case 'm':
        b->mock = true;
        return 1;
    case 'T':
        b->timings = true;
        return 1;
    case 'N':
        b->no_sandbox = true;
        return 1;
    case 'S':
        b->sandbox = arg;
        return 1;
    case 'o':
        b->output = arg;
        return 1;
    case 'r':
        if (!cli_positive(cmd, arg, "--runs", 10000, &v)) return -1;
        b->runs = (int)v;
        return 1;
    case 'j':
        if (!cli_positive(cmd, arg, "-j", 64, &v)) return -1;
        b->jobs = (int)v;
        return 1;
    case 'I':
        if (!cli_positive(cmd, arg, "--max-instructions", 1000000000000L, &v)) return -1;
        b->limits.instructions = v;
        return 1;
    case 'W':
        if (!cli_positive(cmd, arg, "--timeout", 86400, &v)) return -1;
        b->limits.wall_ms = v * 1000;
        return 1;
    default:
        return 0;
    }
}

int cli_warm_wanted(const cli_launcher *l, const cJSON *config)
{
    if (!l->sandbox || l->remote) return 0;
    const cJSON *w = cf_get(config, "sandbox.warm");
    if (cJSON_IsTrue(w)) return 1;
    if (!cJSON_IsNumber(w) || w->valuedouble < 1) return 0;
    return w->valuedouble > 8 ? 8 : (int)w->valuedouble;
}

void cli_warm_refill(const sb_launch *plan, const cJSON *config, int want)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return;
    self[n] = '\0';
    const cJSON *idle = cf_get(config, "sandbox.warm_idle");
    int idle_s = cJSON_IsNumber(idle) && idle->valuedouble >= 1 ? (int)idle->valuedouble : 300;
    if (idle_s > 86400) idle_s = 86400;
    for (int have = sb_warm_count(plan); have < want; have++) sb_warm_spawn(plan, self, idle_s);
}

bool cli_sandbox_backend(cJSON *config, const char *flag, const char *cmd, bool *no_sandbox)
{
    const char *b = flag;
    if (!b) b = hl_json_str(cf_get(config, "sandbox"), "backend");
    if (!b || strcmp(b, "docker") == 0) {
        /* An explicit docker means Docker's own runtime. */
        if (flag && cJSON_IsObject(cf_get(config, "sandbox")))
            cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(config, "sandbox"), "runtime");
        return true;
    }
    if (strcmp(b, "process") == 0) {
        *no_sandbox = true;
        return true;
    }
    if (strcmp(b, "runsc") == 0) {
        cJSON *sb = cJSON_GetObjectItemCaseSensitive(config, "sandbox");
        if (!sb) sb = cJSON_AddObjectToObject(config, "sandbox");
        cJSON_DeleteItemFromObjectCaseSensitive(sb, "runtime");
        cJSON_AddStringToObject(sb, "runtime", "runsc");
        return true;
    }
    cli_error("%s: %s takes docker, runsc or process, not '%s'\n", cmd,
              flag ? "--sandbox" : "sandbox.backend", b);
    return false;
}
