/*
 * sb_warm.c - warm containers for `tactus run` (sandbox.warm): a container
 * started in advance, its tactus-runtime already waiting for a start frame,
 * so a run pays a socket connection instead of a container start (~300 ms
 * here).
 *
 * A keeper process (`tactus sandbox __keep`, started detached by a run that
 * found fewer spare containers than sandbox.warm asks for) starts the
 * container with exactly the plan a run of that procedure would get, then
 * waits on a Unix socket in a private folder ($XDG_RUNTIME_DIR/tactus/warm,
 * 0700) named after the plan's hash. The first client of the same user
 * receives the container's stdin, stdout and stderr as file descriptors
 * (SCM_RIGHTS) and speaks to the runtime directly; the keeper then only
 * waits for the container to end and tells the client how (one line,
 * "exit STATUS"). One container serves one run. With no client for
 * sandbox.warm_idle seconds, the keeper closes the container's input (the
 * runtime and the container end) and goes.
 *
 * Nothing here widens what a run may do: the container's flags, mounts
 * and limits are the plan's, byte for byte (the hash covers every
 * argument but the container's name); the socket takes only the same
 * user's connections, and a run talks only to a keeper of its own user
 * whose pid is the one in the socket's name, found in a folder it opened
 * once and checked (no warm containers when that folder would be under
 * /tmp); the keeper holds no secret (the docker CLI's environment only).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sb_internal.h"

/* Hex digits of the plan's hash in a socket's name (128 bits): a Unix
 * socket's path holds at most 107 bytes. */
#define WARM_KEY 32

/* The plan's identity: SHA-256 of its arguments, names aside, and its
 * environment. Two plans with the same hash start the same container. */
void sb_plan_hash(const sb_launch *l, char hex[65])
{
    tx_buf b;
    tx_buf_init(&b, 1u << 20);
    for (size_t i = 0; i < l->argc; i++) {
        if (strncmp(l->argv[i], "--name=", 7) == 0) continue;
        tx_buf_puts(&b, l->argv[i]);
        tx_buf_append(&b, "\0", 1);
    }
    for (size_t i = 0; l->envp && l->envp[i]; i++) {
        tx_buf_puts(&b, l->envp[i]);
        tx_buf_append(&b, "\0", 1);
    }
    hl_sha256_hex(b.data ? b.data : "", b.len, hex);
    tx_buf_free(&b);
}

int sb_warm_dir(char *out, size_t cap)
{
    char path[4096];
    /* Without $XDG_RUNTIME_DIR or $HOME the folder would be under /tmp,
     * whose parents other users can write: no warm containers then. */
    if (!hl_xdg_path("XDG_RUNTIME_DIR", ".local/state", "/tmp", "warm", path, sizeof path))
        return -1;
    snprintf(out, cap, "%s", path);
    return hl_private_dir(path);
}

/* NAME in the folder open as `dir`, as a path that goes through the
 * descriptor: a folder renamed or replaced after it was checked cannot
 * put someone else's socket in its place. */
static bool name_in(int dir, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "/proc/self/fd/%d/%s", dir, name);
    return n > 0 && (size_t)n < cap;
}

/* ---- the client side -------------------------------------------------------------------- */

/* A connection to the keeper named in `path` ("HASH-PID.sock"): only when
 * the process at the other end is that keeper and runs as this user. */
static int connect_to(const char *path, pid_t keeper)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) return -1;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != getuid() ||
        cred.pid != keeper) {
        close(fd);
        return -1;
    }
    return fd;
}

/* "tactus-warm-" and 12 hex digits, as sb_warm_spawn names them: the name
 * goes to docker kill. */
static bool is_warm_name(const char *name)
{
    if (strncmp(name, "tactus-warm-", 12) != 0 || strlen(name) != 24) return false;
    for (const char *p = name + 12; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

/* Receives "NAME" and three descriptors: the container's stdin, stdout,
 * stderr. */
static bool receive_fds(int sock, char *name, size_t cap, int fds[3])
{
    char buf[128];
    struct iovec iov = {buf, sizeof buf - 1};
    union {
        char space[CMSG_SPACE(3 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.space;
    msg.msg_controllen = sizeof ctl.space;
    struct pollfd p = {sock, POLLIN, 0};
    if (poll(&p, 1, 2000) <= 0) return false;
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0) return false;
    buf[n] = '\0';
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len != CMSG_LEN(3 * sizeof(int)))
        return false;
    memcpy(fds, CMSG_DATA(c), 3 * sizeof(int));
    if (!is_warm_name(buf)) {
        for (int i = 0; i < 3; i++) close(fds[i]);
        return false;
    }
    snprintf(name, cap, "%s", buf);
    return true;
}

/* The keeper's pid in a socket's name "HASH-PID.sock", or 0. */
static pid_t keeper_of(const char *name)
{
    char *end;
    long pid = strtol(name + WARM_KEY + 1, &end, 10);
    return pid > 0 && strcmp(end, ".sock") == 0 ? (pid_t)pid : 0;
}

/* The folder's entries for this plan, in the order readdir gives them;
 * `dir` stays open (fdopendir takes a copy). */
static DIR *list_warm(int dir)
{
    int copy = dup(dir);
    if (copy < 0) return NULL;
    DIR *d = fdopendir(copy);
    if (!d) close(copy);
    return d;
}

bool sb_warm_claim(const sb_launch *plan, sb_warm *w)
{
    memset(w, 0, sizeof *w);
    w->sock = -1;
    char where[4096], hex[65];
    int dir = sb_warm_dir(where, sizeof where);
    if (dir < 0) return false;
    sb_plan_hash(plan, hex);
    DIR *d = list_warm(dir);
    struct dirent *de;
    bool got = false;
    while (d && !got && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, hex, WARM_KEY) != 0 || de->d_name[WARM_KEY] != '-') continue;
        pid_t keeper = keeper_of(de->d_name);
        char path[128];
        if (!keeper || !name_in(dir, de->d_name, path, sizeof path)) continue;
        int s = connect_to(path, keeper);
        if (s < 0) {
            if (kill(keeper, 0) != 0 && errno == ESRCH) unlinkat(dir, de->d_name, 0); /* gone */
            continue;
        }
        int fds[3];
        if (receive_fds(s, w->container, sizeof w->container, fds)) {
            w->sock = s;
            w->io.pid = -1;
            w->io.in = fds[0];
            w->io.out = fds[1];
            w->io.err = fds[2];
            got = true;
        } else {
            close(s); /* another run took it first */
        }
    }
    if (d) closedir(d);
    close(dir);
    return got;
}

bool sb_warm_wait(sb_warm *w, int *wstatus, int ms)
{
    char line[64];
    size_t n = 0;
    long long until = hl_now_ms() + ms;
    while (n < sizeof line - 1) {
        long long left = until - hl_now_ms();
        struct pollfd p = {w->sock, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) return false;
        ssize_t k = read(w->sock, line + n, sizeof line - 1 - n);
        if (k <= 0) return false;
        n += (size_t)k;
        line[n] = '\0';
        if (strchr(line, '\n')) return sscanf(line, "exit %d", wstatus) == 1;
    }
    return false;
}

void sb_warm_stop(const sb_warm *w)
{
    char *argv[] = {"docker", "kill", (char *)w->container, NULL};
    sb_docker_run(argv, NULL, NULL, NULL, 10000);
}

void sb_warm_release(sb_warm *w)
{
    hl_child *io = &w->io;
    if (io->in >= 0) close(io->in);
    if (io->out >= 0) close(io->out);
    if (io->err >= 0) close(io->err);
    if (w->sock >= 0) close(w->sock);
    io->in = io->out = io->err = w->sock = -1;
}

/* ---- the keeper ----------------------------------------------------------------------------- */

int sb_warm_keep(const char *dir, const char *hash, int idle_s, char *const argv[],
                 char *const envp[], const char *container)
{
    signal(SIGPIPE, SIG_IGN);
    int dfd = hl_private_dir(dir);
    if (dfd < 0) return 2;
    char name[96], path[128];
    snprintf(name, sizeof name, "%.*s-%ld.sock", WARM_KEY, hash, (long)getpid());
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!name_in(dfd, name, path, sizeof path) || strlen(path) >= sizeof sa.sun_path) return 2;
    strcpy(sa.sun_path, path);
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0) return 2;
    umask(077);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 4) != 0) return 2;
    hl_child c;
    if (hl_spawn(argv, envp, NULL, 0, &c) != TX_OK) {
        unlinkat(dfd, name, 0);
        return 2;
    }
    int client = -1;
    long long until = hl_now_ms() + (long long)idle_s * 1000;
    while (client < 0) {
        long long left = until - hl_now_ms();
        struct pollfd p[2] = {{ls, POLLIN, 0}, {c.err, POLLIN, 0}};
        if (left <= 0) break;
        int n = poll(p, 2, (int)(left > 60000 ? 60000 : left));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) continue;
        if (p[1].revents) {
            /* Before a claim the runtime is silent: this is docker failing
             * to start the container, or the container gone. */
            char buf[4096];
            ssize_t k = read(c.err, buf, sizeof buf);
            if (k <= 0) break;
            continue;
        }
        int s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (s < 0) continue;
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != getuid()) {
            close(s); /* only the same user's runs */
            continue;
        }
        client = s;
    }
    /* One container, one run: no one else may connect from now on. */
    unlinkat(dfd, name, 0);
    close(dfd);
    close(ls);
    if (client >= 0) {
        int fds[3] = {c.in, c.out, c.err};
        union {
            char space[CMSG_SPACE(sizeof fds)];
            struct cmsghdr align;
        } ctl;
        memset(&ctl, 0, sizeof ctl);
        struct iovec iov = {(void *)container, strlen(container)};
        struct msghdr msg = {0};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctl.space;
        msg.msg_controllen = sizeof ctl.space;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof fds);
        memcpy(CMSG_DATA(cm), fds, sizeof fds);
        ssize_t sent = sendmsg(client, &msg, MSG_NOSIGNAL);
        if (sent <= 0) {
            close(client);
            client = -1;
        }
    }
    /* The client has its own copies now; the container ends when the run
     * closes its input (or here, unclaimed). */
    close(c.in);
    close(c.out);
    close(c.err);
    int status = 0;
    while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (client >= 0) {
        char line[32];
        int n = snprintf(line, sizeof line, "exit %d\n", status);
        ssize_t w = write(client, line, (size_t)n);
        (void)w;
        close(client);
    }
    return 0;
}

void sb_warm_spawn(const sb_launch *plan, const char *tactus_exe, int idle_s)
{
    char dir[4096], hex[65];
    int dfd = sb_warm_dir(dir, sizeof dir);
    if (dfd < 0) return;
    close(dfd); /* the keeper opens and checks it again */
    sb_plan_hash(plan, hex);
    pid_t pid = fork();
    if (pid != 0) {
        if (pid > 0) waitpid(pid, NULL, 0); /* the first child exits at once */
        return;
    }
    /* Detached: a session of its own, no terminal, stdio on /dev/null. */
    setsid();
    if (fork() != 0) _exit(0);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    char idle[16], name[64];
    snprintf(idle, sizeof idle, "%d", idle_s);
    unsigned char r[6] = {0};
    int ur = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (ur >= 0) {
        ssize_t k = read(ur, r, sizeof r);
        (void)k;
        close(ur);
    }
    snprintf(name, sizeof name, "tactus-warm-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
             r[5]);
    /* tactus sandbox __keep DIR HASH IDLE NAME ENV... -- ARGV... */
    size_t n = 8 + plan->argc + 2;
    for (size_t i = 0; plan->envp && plan->envp[i]; i++) n++;
    char **argv = calloc(n + 1, sizeof *argv);
    if (!argv) _exit(1);
    size_t k = 0;
    argv[k++] = (char *)tactus_exe;
    argv[k++] = "sandbox";
    argv[k++] = "__keep";
    argv[k++] = dir;
    argv[k++] = hex;
    argv[k++] = idle;
    argv[k++] = name;
    for (size_t i = 0; plan->envp && plan->envp[i]; i++) argv[k++] = plan->envp[i];
    argv[k++] = "--";
    char name_arg[80];
    snprintf(name_arg, sizeof name_arg, "--name=%s", name);
    for (size_t i = 0; i < plan->argc; i++)
        argv[k++] = strncmp(plan->argv[i], "--name=", 7) == 0 ? name_arg : plan->argv[i];
    argv[k] = NULL;
    char *envp[] = {NULL};
    execve(tactus_exe, argv, envp);
    _exit(127);
}

int sb_warm_count(const sb_launch *plan)
{
    char where[4096], hex[65];
    int dir = sb_warm_dir(where, sizeof where);
    if (dir < 0) return 0;
    sb_plan_hash(plan, hex);
    DIR *d = list_warm(dir);
    close(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, hex, WARM_KEY) == 0 && de->d_name[WARM_KEY] == '-') n++;
    closedir(d);
    return n;
}
