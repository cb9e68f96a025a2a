/*
 * hl_process.c - starting a process with nothing inherited, and running a
 * command to its end (hostlib.h). The one place the trusted side forks:
 * the runtime (supervisor), the docker CLI (sandbox) and host command tools
 * (broker) all start here, so each gets the same hygiene.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostlib.h"

/* In the child: never returns. Only async-signal-safe calls after fork. */
static void set_limit(int resource, long long v)
{
    struct rlimit r;
    if (v <= 0 || getrlimit(resource, &r) != 0) return;
    /* Only ever lowered: a limit above the inherited hard one stays at it. */
    if (r.rlim_max == RLIM_INFINITY || (rlim_t)v < r.rlim_max) r.rlim_max = (rlim_t)v;
    r.rlim_cur = r.rlim_max;
    if (setrlimit(resource, &r) != 0) _exit(125); /* never run without the limit asked for */
}

static void child_exec(char *const argv[], char *const envp[], const char *cwd, unsigned flags,
                       const hl_limits *lim, int in, int out, int err)
{
    static char *const empty[] = {NULL};
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
    /* Nothing else leaks into the child: close every other descriptor.
     * close_range is one system call; closing up to _SC_OPEN_MAX one by one
     * cost several milliseconds per run. */
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
        long maxfd = sysconf(_SC_OPEN_MAX);
        for (long fd = 3; fd < (maxfd > 0 && maxfd < 65536 ? maxfd : 65536); fd++) close((int)fd);
    }
    if (flags & HL_SPAWN_GROUP) setpgid(0, 0);
    /* Die with the host; never gain privileges through exec. */
    if (!(flags & HL_SPAWN_ANY_THREAD)) prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    struct rlimit core = {0, 0};
    setrlimit(RLIMIT_CORE, &core);
    if (lim) {
        set_limit(RLIMIT_AS, lim->address_space);
        set_limit(RLIMIT_CPU, lim->cpu_seconds);
        set_limit(RLIMIT_NOFILE, lim->open_files);
        set_limit(RLIMIT_FSIZE, lim->file_size);
    }
    if (cwd && *cwd && chdir(cwd) != 0) _exit(126);
    if (strchr(argv[0], '/'))
        execve(argv[0], argv, envp ? envp : empty);
    else
        execvpe(argv[0], argv, envp ? envp : empty);
    _exit(127);
}

tx_status hl_spawn(char *const argv[], char *const envp[], const char *cwd, unsigned flags,
                   hl_child *c)
{
    return hl_spawn_limited(argv, envp, cwd, flags, NULL, c);
}

tx_status hl_spawn_limited(char *const argv[], char *const envp[], const char *cwd, unsigned flags,
                           const hl_limits *lim, hl_child *c)
{
    int pin[2], pout[2], perr[2];
    if (pipe2(pin, O_CLOEXEC) != 0) return TX_EIO;
    if (pipe2(pout, O_CLOEXEC) != 0) {
        close(pin[0]), close(pin[1]);
        return TX_EIO;
    }
    if (pipe2(perr, O_CLOEXEC) != 0) {
        close(pin[0]), close(pin[1]), close(pout[0]), close(pout[1]);
        return TX_EIO;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(pin[0]), close(pin[1]), close(pout[0]), close(pout[1]), close(perr[0]), close(perr[1]);
        return TX_EIO;
    }
    if (pid == 0) child_exec(argv, envp, cwd, flags, lim, pin[0], pout[1], perr[1]);
    if (flags & HL_SPAWN_GROUP) setpgid(pid, pid); /* both sides: no race with kill below */
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    c->pid = pid;
    c->in = pin[1];
    c->out = pout[0];
    c->err = perr[0];
    return TX_OK;
}

void hl_kill_group(hl_child *c)
{
    if (c->pid <= 0) return;
    kill(-c->pid, SIGKILL);
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
    c->pid = -1;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* How often a run with an interrupt looks at it: the longest an interrupt
 * (a worker's drain running out) waits for a command to be cut. */
#define INTERRUPT_SLICE_MS 50

/* hl_run_capture, and with `interrupted` (may be NULL) asked every
 * INTERRUPT_SLICE_MS: true kills the command's process group and reaps it
 * (-3), as a timeout does (-1). */
static int run_capture(char *const argv[], char *const envp[], const char *stdin_text, tx_buf *out,
                       tx_buf *err, int timeout_ms, bool (*interrupted)(void *ud), void *ud)
{
    hl_child c;
    if (hl_spawn(argv, envp, NULL, HL_SPAWN_GROUP, &c) != TX_OK) return -2;
    size_t in_len = stdin_text ? strlen(stdin_text) : 0, in_off = 0;
    if (in_len == 0) close_fd(&c.in);
    else fcntl(c.in, F_SETFL, fcntl(c.in, F_GETFL) | O_NONBLOCK);
    /* A child that stops reading its input gives EPIPE here: tactus ignores
     * SIGPIPE process-wide (cli/main.c). */
    long long deadline = hl_now_ms() + timeout_ms;
    tx_buf *bufs[2] = {out, err};
    int *fds[2] = {&c.out, &c.err};
    bool timed_out = false, cut = false;
    while (c.out >= 0 || c.err >= 0) {
        long long left = deadline - hl_now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        if (interrupted && interrupted(ud)) {
            cut = true;
            break;
        }
        if (left > 1000000) left = 1000000;
        if (interrupted && left > INTERRUPT_SLICE_MS) left = INTERRUPT_SLICE_MS;
        struct pollfd p[3] = {{c.out, POLLIN, 0}, {c.err, POLLIN, 0}, {c.in, POLLOUT, 0}};
        if (poll(p, 3, (int)left) < 0 && errno != EINTR) break;
        if (c.in >= 0 && p[2].revents) {
            ssize_t w = write(c.in, stdin_text + in_off, in_len - in_off);
            if (w > 0) in_off += (size_t)w;
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == in_len) close_fd(&c.in);
        }
        for (int i = 0; i < 2; i++) {
            if (*fds[i] < 0 || !p[i].revents) continue;
            char buf[4096];
            ssize_t k = read(*fds[i], buf, sizeof buf);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0)
                close_fd(fds[i]);
            else if (bufs[i])
                tx_buf_append(bufs[i], buf, (size_t)k); /* past the cap: dropped */
        }
    }
    close_fd(&c.in);
    close_fd(&c.out);
    close_fd(&c.err);
    if (timed_out || cut) {
        hl_kill_group(&c);
        return cut ? -3 : -1;
    }
    int status = 0;
    waitpid(c.pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int hl_run_capture(char *const argv[], char *const envp[], const char *stdin_text, tx_buf *out,
                   tx_buf *err, int timeout_ms)
{
    return run_capture(argv, envp, stdin_text, out, err, timeout_ms, NULL, NULL);
}

int hl_run_command(char *const argv[], const char *stdin_text, tx_buf *out, tx_buf *err,
                   int timeout_ms)
{
    return hl_run_command_until(argv, stdin_text, out, err, timeout_ms, NULL, NULL);
}

int hl_run_command_until(char *const argv[], const char *stdin_text, tx_buf *out, tx_buf *err,
                         int timeout_ms, bool (*interrupted)(void *ud), void *ud)
{
    /* Host tools get PATH and HOME only: never the keys the broker holds. */
    char path[4096], home[4096];
    snprintf(path, sizeof path, "PATH=%s", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    snprintf(home, sizeof home, "HOME=%s", getenv("HOME") ? getenv("HOME") : "/");
    char *envp[] = {path, home, NULL};
    return run_capture(argv, envp, stdin_text, out, err, timeout_ms, interrupted, ud);
}
