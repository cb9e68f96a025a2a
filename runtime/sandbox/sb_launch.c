/*
 * sb_launch.c - launch plans: building their argv, the plain backend
 * (--no-sandbox: tactus-runtime as a child with an empty environment),
 * starting, capturing and stopping a plan, and finding tactus-runtime.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb_internal.h"

tx_status sb_argv_push(sb_launch *l, const char *s)
{
    if (l->argc + 2 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **a = tx_realloc(l->argv, cap * sizeof *a);
        if (!a) return TX_ENOMEM;
        l->argv = a;
        l->cap = cap;
    }
    char *d = tx_strdup(s);
    if (!d) return TX_ENOMEM;
    l->argv[l->argc++] = d;
    l->argv[l->argc] = NULL;
    return TX_OK;
}

tx_status sb_argv_pushf(sb_launch *l, const char *fmt, const char *a, const char *b)
{
    char buf[PATH_MAX * 2 + 64];
    snprintf(buf, sizeof buf, fmt, a, b ? b : "");
    return sb_argv_push(l, buf);
}

void sb_launch_free(sb_launch *l)
{
    for (size_t i = 0; i < l->argc; i++) tx_free(l->argv[i]);
    tx_free(l->argv);
    for (size_t i = 0; l->envp && l->envp[i]; i++) tx_free(l->envp[i]);
    tx_free(l->envp);
    memset(l, 0, sizeof *l);
}

tx_status sb_launch_plain(const char *runtime_exe, const char *workspace, sb_launch *l)
{
    memset(l, 0, sizeof *l);
    l->envp = tx_calloc(1, sizeof *l->envp); /* empty: the runtime inherits nothing */
    if (!l->envp || sb_argv_push(l, runtime_exe) != TX_OK) {
        sb_launch_free(l);
        return TX_ENOMEM;
    }
    snprintf(l->cwd, sizeof l->cwd, "%s", workspace);
    snprintf(l->workspace, sizeof l->workspace, "%s", workspace);
    return TX_OK;
}

/* ---- running docker ----------------------------------------------------------------------------- */

tx_status sb_launch_plain_remote(const sb_remote *r, const char *runtime_exe, const char *workspace,
                                 sb_launch *l)
{
    tx_status st = sb_launch_plain(r->connect_exe, workspace, l);
    if (st != TX_OK) return st;
    /* argv is [tactus-connect]; the endpoint, the checks, then the runtime */
    if ((st = sb_argv_push(l, r->endpoint)) != TX_OK) return st;
    if (r->ca[0] && ((st = sb_argv_push(l, "--ca")) != TX_OK || (st = sb_argv_push(l, r->ca)) != TX_OK))
        return st;
    if (r->server_name[0] && ((st = sb_argv_push(l, "--server-name")) != TX_OK ||
                              (st = sb_argv_push(l, r->server_name)) != TX_OK))
        return st;
    return sb_argv_push(l, runtime_exe);
}

int sb_launch_capture(const sb_launch *l, tx_buf *out, tx_buf *err, int timeout_ms)
{
    int rc = hl_run_capture(l->argv, l->envp, NULL, out, err, timeout_ms);
    if (rc == -1) sb_launch_stop(l);
    return rc;
}

void sb_launch_stop(const sb_launch *l)
{
    if (!l->container[0]) return;
    char *argv[] = {"docker", "kill", (char *)l->container, NULL};
    sb_docker_run(argv, NULL, NULL, NULL, 10000);
}

tx_status sb_launch_start(const sb_launch *l, hl_child *c)
{
    return hl_spawn(l->argv, l->envp, l->cwd, 0, c);
}

/* Where tactus-runtime is: $TACTUS_RUNTIME, else beside the running binary. */
tx_status sb_find_runtime(char *out, size_t cap)
{
    const char *env = getenv("TACTUS_RUNTIME");
    if (env && *env) {
        if (strlen(env) >= cap) return TX_ELIMIT;
        strcpy(out, env);
        return access(out, X_OK) == 0 ? TX_OK : TX_ENOENT;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return TX_EIO;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) return TX_ENOENT;
    *slash = '\0';
    if ((size_t)snprintf(out, cap, "%s/tactus-runtime", self) >= cap) return TX_ELIMIT;
    return access(out, X_OK) == 0 ? TX_OK : TX_ENOENT;
}
