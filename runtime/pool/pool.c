/*
 * pool.c - tactus-pool: one container, many runs, each in a fresh
 * tactus-runtime process (`tactus test` and `tactus eval` make thousands of
 * short runs; a container start costs ~300 ms, a fork and exec ~1 ms).
 *
 *   tactus-pool SCRATCH RUNTIME
 *
 * Static, mounted read-only into the container like tactus-probe, so
 * tactus-runtime itself still imports no fork or exec (the check
 * runtime_links_no_network holds) and never runs as a server.
 *
 * The pool never reads the protocol: it waits until the host has sent the
 * next run's start frame (stdin readable), forks, and the child execs
 * RUNTIME with an empty environment on the same stdin and stdout. One run
 * at a time: when the runtime has exited, the pool wipes SCRATCH (where the
 * run's writes went: the project folder is read-only in a pooled
 * container) and tells the host how the run ended with one frame,
 * {"method":"run.exit","params":{"code":N,"signal":S}}, on the same stream,
 * after everything the run wrote. Nothing of a run survives into the next:
 * a new process image, a new Lua state, an empty scratch folder.
 *
 * The host retires the container (docker kill) whenever a run does not end
 * cleanly: a crash may leave bytes of an unread start frame in the pipe.
 * When the host closes the stream, or sends nothing for POOL_IDLE_MS, the
 * pool exits and the container with it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define POOL_IDLE_MS (10 * 60 * 1000)

/* Removes everything below the folder open at `dir`, not the folder
 * itself (a tmpfs mount point). Links are removed, never followed. */
static void wipe(int dir, int depth)
{
    if (depth > 64) return;
    int fd = dup(dir);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (unlinkat(dir, de->d_name, 0) == 0) continue;
        int sub = openat(dir, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) {
            wipe(sub, depth + 1);
            close(sub);
        }
        unlinkat(dir, de->d_name, AT_REMOVEDIR);
    }
    closedir(d);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The run.exit frame: 4-byte big-endian length, then the JSON. */
static int report_exit(int status)
{
    char body[128];
    int n = snprintf(body, sizeof body, "{\"method\":\"run.exit\",\"params\":{\"code\":%d,\"signal\":%d}}",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                     WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    char frame[4 + sizeof body];
    frame[0] = (char)((unsigned)n >> 24);
    frame[1] = (char)((unsigned)n >> 16);
    frame[2] = (char)((unsigned)n >> 8);
    frame[3] = (char)n;
    memcpy(frame + 4, body, (size_t)n);
    return write_all(1, frame, 4 + (size_t)n);
}

int main(int argc, char **argv)
{
    if (argc != 3 || isatty(0)) {
        fputs("tactus-pool SCRATCH RUNTIME: serves the runs of a pooled container "
              "(docs/sandbox.md); started by tactus test and tactus eval\n",
              stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int scratch = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (scratch < 0) {
        perror("tactus-pool: the scratch folder");
        return 2;
    }
    for (;;) {
        struct pollfd p = {0, POLLIN, 0};
        int n = poll(&p, 1, POOL_IDLE_MS);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || !(p.revents & POLLIN)) return 0; /* idle, or the host is gone */
        pid_t pid = fork();
        if (pid < 0) return 3;
        if (pid == 0) {
            char *child_argv[] = {argv[2], NULL};
            char *envp[] = {NULL};
            execve(argv[2], child_argv, envp);
            _exit(127);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        wipe(scratch, 0);
        if (report_exit(status) != 0) return 0; /* the host is gone */
    }
}
