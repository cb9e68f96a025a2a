/*
 * mcp_stdio.c - an MCP server as a child process (spec: transports,
 * stdio): one JSON-RPC message per line each way; its stderr is read (and
 * its first bytes kept for messages) so that it can never block on a full
 * pipe.
 *
 * Isolation: exactly the environment it is given (nothing of the host's),
 * its own process group (so everything it starts is stopped with it), the
 * resource limits it is given, no new privileges, and a working folder of
 * its own, made private (0700) and removed when it stops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mcp_internal.h"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

mcp_status mcp_stdio_start(mcp_client *c, mcp_error *err)
{
    if (!c->cwd) {
        const char *tmp = getenv("TMPDIR");
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/tactus-mcp-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir))
            return mcp_fail(err, MCP_ESTART, "MCP server %s: cannot make its working folder %s: %s",
                            c->name, dir, strerror(errno));
        c->cwd = tx_strdup(dir);
        if (!c->cwd) {
            rmdir(dir);
            return mcp_fail(err, MCP_ENOMEM, "out of memory");
        }
        c->own_cwd = true;
    }
    tx_buf_clear(&c->line);
    tx_buf_clear(&c->rest);
    tx_buf_clear(&c->errtext);
    char why[900] = "";
    if (c->before_start && !c->before_start(c->hook_ud, why, sizeof why))
        return mcp_fail(err, MCP_ESTART, "MCP server %s could not be started: %s", c->name, why);
    c->hooked = c->before_start != NULL;
    if (hl_spawn_limited(c->argv, c->envp, c->cwd, HL_SPAWN_GROUP, c->has_limits ? &c->limits : NULL,
                         &c->child) != TX_OK)
        return mcp_fail(err, MCP_ESTART, "MCP server %s could not be started: %s", c->name,
                        strerror(errno));
    fcntl(c->child.in, F_SETFL, fcntl(c->child.in, F_GETFL) | O_NONBLOCK);
    return MCP_OK;
}

/* How the child ended, once it has: "exit status N" or "signal N", with the
 * first lines of its stderr. */
static void describe_exit(mcp_client *c, char *out, size_t cap)
{
    int ws = 0;
    pid_t w = c->child.pid > 0 ? waitpid(c->child.pid, &ws, WNOHANG) : 0;
    const char *err = c->errtext.data ? c->errtext.data : "";
    size_t el = strlen(err);
    while (el && (err[el - 1] == '\n' || err[el - 1] == '\r')) el--;
    char how[64] = "it closed its output";
    if (w > 0) {
        if (WIFEXITED(ws))
            snprintf(how, sizeof how, "it exited with status %d", WEXITSTATUS(ws));
        else if (WIFSIGNALED(ws))
            snprintf(how, sizeof how, "it was killed by signal %d", WTERMSIG(ws));
        kill(-c->child.pid, SIGKILL); /* what it left running in its group */
        c->child.pid = -1;
    }
    snprintf(out, cap, "%s%s%.*s", how, el ? "; its stderr: " : "", (int)(el > 600 ? 600 : el), err);
}

mcp_status mcp_stdio_send(mcp_client *c, const char *text, long long deadline_ms, mcp_error *err)
{
    if (c->child.in < 0)
        return mcp_fail(err, MCP_EGONE, "MCP server %s is not running", c->name);
    size_t n = strlen(text), off = 0;
    /* text, then the newline: a message never holds a raw newline (cJSON
     * escapes them in strings). */
    while (off < n + 1) {
        const char *p = off < n ? text + off : "\n";
        size_t len = off < n ? n - off : 1;
        ssize_t w = write(c->child.in, p, len);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno != EAGAIN) {
            char how[800];
            describe_exit(c, how, sizeof how);
            return mcp_fail(err, MCP_EGONE, "MCP server %s stopped reading its input (%s)", c->name, how);
        }
        long long left = deadline_ms - hl_now_ms();
        if (left <= 0)
            return mcp_fail(err, MCP_ETIMEOUT, "MCP server %s did not read its input in time", c->name);
        struct pollfd p1 = {c->child.in, POLLOUT, 0};
        poll(&p1, 1, left > 1000 ? 1000 : (int)left);
    }
    return MCP_OK;
}

/* Bytes from stdout: whole lines go to mcp_incoming_text. */
static void take_output(mcp_wait *w, const char *data, size_t n)
{
    mcp_client *c = w->c;
    while (n && !w->done) {
        const char *nl = memchr(data, '\n', n);
        size_t run = nl ? (size_t)(nl - data) : n;
        if (tx_buf_append(&c->line, data, run) != TX_OK) {
            w->done = true;
            w->status = mcp_fail(w->err, MCP_ELIMIT,
                                 "MCP server %s sent a message over %zu bytes (the cap, "
                                 "mcp_servers.%s.max_message); the server was stopped",
                                 c->name, c->max_message, c->name);
            return;
        }
        if (!nl) return;
        data += run + 1, n -= run + 1;
        mcp_incoming_text(w, c->line.data ? c->line.data : "", c->line.len);
        tx_buf_clear(&c->line);
    }
    /* The answer came with more behind it in the same read (a notification
     * sent right after): kept for the next wait, never dropped. */
    if (n && w->done && tx_buf_append(&c->rest, data, n) != TX_OK) tx_buf_clear(&c->rest);
}

/* What an earlier read left after its answer, taken first. */
static void take_rest(mcp_wait *w)
{
    mcp_client *c = w->c;
    if (!c->rest.len) return;
    char *data = tx_buf_steal(&c->rest);
    size_t n = strlen(data); /* lines hold no NUL: strict JSON refuses one */
    take_output(w, data, n);
    tx_free(data);
}

void mcp_stdio_wait(mcp_wait *w)
{
    mcp_client *c = w->c;
    char buf[65536];
    take_rest(w);
    while (!w->done) {
        long long left = w->deadline_ms - hl_now_ms();
        if (left <= 0) {
            w->done = true;
            w->status = mcp_fail(w->err, MCP_ETIMEOUT,
                                 "MCP server %s did not answer within %.1f s (mcp_servers.%s.timeout, "
                                 "or the run's time limit); the call was cancelled",
                                 c->name, (double)c->timeout_ms / 1000.0, c->name);
            return;
        }
        struct pollfd p[2] = {{c->child.out, POLLIN, 0}, {c->child.err, POLLIN, 0}};
        /* Short slices: an interrupt (Ctrl-C) is seen within 100 ms even
         * when the signal arrived outside poll(). */
        int r = poll(p, 2, left > 100 ? 100 : (int)left);
        if (w->o && w->o->interrupted && w->o->interrupted(w->o->ud)) {
            w->done = true;
            w->status = mcp_fail(w->err, MCP_EINTR, "the call to MCP server %s was interrupted", c->name);
            return;
        }
        if (r < 0 && errno != EINTR) break;
        if (r <= 0) continue;
        if (p[1].revents && c->child.err >= 0) {
            ssize_t k = read(c->child.err, buf, sizeof buf);
            if (k > 0)
                tx_buf_append(&c->errtext, buf, (size_t)k); /* past the cap: dropped */
            else if (k == 0 || errno != EINTR) {
                close(c->child.err);
                c->child.err = -1;
            }
        }
        if (p[0].revents) {
            ssize_t k = read(c->child.out, buf, sizeof buf);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) {
                /* Its stderr may still hold why: a moment to read it. */
                for (int i = 0; i < 20 && c->child.err >= 0; i++) {
                    struct pollfd pe = {c->child.err, POLLIN, 0};
                    if (poll(&pe, 1, 10) <= 0) continue;
                    ssize_t e = read(c->child.err, buf, sizeof buf);
                    if (e <= 0) break;
                    tx_buf_append(&c->errtext, buf, (size_t)e);
                }
                for (int i = 0; i < 50; i++) {
                    siginfo_t si = {0};
                    if (waitid(P_PID, (id_t)c->child.pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
                        si.si_pid != 0)
                        break; /* it has ended: describe_exit reaps it */
                    struct timespec ts = {0, 2000000};
                    nanosleep(&ts, NULL);
                }
                char how[800];
                describe_exit(c, how, sizeof how);
                w->done = true;
                w->status = mcp_fail(w->err, MCP_EGONE, "MCP server %s ended during the call: %s",
                                     c->name, how);
                return;
            }
            take_output(w, buf, (size_t)k);
        }
    }
    if (!w->done) {
        w->done = true;
        w->status = mcp_fail(w->err, MCP_EGONE, "MCP server %s: reading its output failed: %s",
                             c->name, strerror(errno));
    }
}

void mcp_stdio_drain(mcp_client *c)
{
    /* What the server sent on its own since the last answer (list_changed
     * after a call, logging): read now, without waiting, so that the next
     * call knows of it before it is sent. */
    mcp_error ignored = {0};
    mcp_wait w = {.c = c, .id = -1, .err = &ignored};
    char buf[65536];
    take_rest(&w);
    for (int i = 0; i < 64 && c->child.out >= 0 && !w.done; i++) {
        struct pollfd p = {c->child.out, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) break;
        ssize_t k = read(c->child.out, buf, sizeof buf);
        if (k <= 0) break; /* an end is found by the next wait */
        take_output(&w, buf, (size_t)k);
    }
}

/* Waits up to ms for the child to exit (a pidfd, else short sleeps). */
static bool exited_within(pid_t pid, int ms)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
        struct pollfd p = {fd, POLLIN, 0};
        while (poll(&p, 1, ms) < 0 && errno == EINTR) {
        }
        close(fd);
        return waitpid(pid, NULL, WNOHANG) != 0;
    }
    for (int i = 0; i <= ms / 5; i++) {
        if (waitpid(pid, NULL, WNOHANG) != 0) return true;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* Spec (lifecycle, stdio shutdown): close its input, give it a moment,
 * then SIGTERM, then SIGKILL. Its whole group goes in the end, so nothing
 * it started outlives it, and it is reaped (no zombie). */
void mcp_stdio_stop(mcp_client *c)
{
    if (c->child.in >= 0) close(c->child.in);
    c->child.in = -1;
    if (c->child.pid > 0) {
        pid_t pid = c->child.pid;
        if (!exited_within(pid, 200)) {
            kill(-pid, SIGTERM);
            if (!exited_within(pid, 300)) {
                kill(-pid, SIGKILL);
                waitpid(pid, NULL, 0);
            }
        }
        kill(-pid, SIGKILL);
        c->child.pid = -1;
    }
    if (c->child.out >= 0) close(c->child.out);
    if (c->child.err >= 0) close(c->child.err);
    c->child.out = c->child.err = -1;
    if (c->hooked && c->after_stop) c->after_stop(c->hook_ud);
    c->hooked = false;
    if (c->own_cwd && c->cwd) {
        nftw(c->cwd, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        tx_free(c->cwd);
        c->cwd = NULL;
        c->own_cwd = false;
    }
}
