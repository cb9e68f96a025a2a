/*
 * pool.c - tactus-pool: one container, many runs, each in a fresh
 * tactus-runtime process (`tactus test` and `tactus eval` make thousands of
 * short runs; a container start costs ~300 ms, a fork and exec ~1 ms).
 *
 *   tactus-pool RUNTIME DIR...
 *
 * Static, mounted read-only into the container like tactus-probe, so
 * tactus-runtime itself still imports no fork or exec (the check
 * runtime_links_no_network holds) and never runs as a server.
 *
 * The pool never reads the protocol. Before each run the host sends one
 * line, "run <32 hex digits>\n": a nonce the runtime never sees (the pool
 * reads exactly those bytes; the run's start frame follows). The pool then
 * forks, and the child execs RUNTIME with an empty environment on the same
 * stdin and stdout. When it has exited, the pool
 *   1. kills every other process of the container (kill(-1) from pid 1):
 *      whatever the run started, or a runtime that was taken over, cannot
 *      stay to read the next run's frames;
 *   2. empties each DIR (the scratch folder where the run's writes went,
 *      and /tmp), however deep, links removed and never followed;
 *   3. tells the host how the run ended with one frame after everything
 *      the run wrote: {"method":"run.exit","params":{"code":N,"signal":S,
 *      "nonce":"...","clean":true}}. The nonce proves the frame is the
 *      pool's: a runtime that writes a run.exit of its own cannot know it,
 *      and the host retires a container that sends a wrong one. "clean" is
 *      false when something could not be killed or removed; the host
 *      retires that container too.
 * When the host closes the stream, or sends nothing for POOL_IDLE_MS, the
 * pool exits and the container with it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POOL_IDLE_MS (10 * 60 * 1000)
#define NONCE_HEX 32
/* "run " + nonce + "\n" */
#define HEADER_LEN (4 + NONCE_HEX + 1)
#define MAX_DIRS 8

static bool is_dots(const char *n)
{
    return n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'));
}

/* Whether the folder open at `fd` holds nothing. */
static bool is_empty(int fd)
{
    int d2 = dup(fd);
    DIR *d = d2 >= 0 ? fdopendir(d2) : NULL;
    if (!d) {
        if (d2 >= 0) close(d2);
        return false;
    }
    rewinddir(d);
    struct dirent *de;
    bool empty = true;
    while (empty && (de = readdir(d)) != NULL)
        if (!is_dots(de->d_name)) empty = false;
    closedir(d);
    return empty;
}

/* Empties the folder open at `root` (a mount point: kept), at any depth,
 * without recursion: descend into the first folder that is not empty,
 * remove what can be removed, climb back through "..", until the root is
 * empty. Links are removed, never followed (unlinkat removes the link; a
 * folder is entered with O_NOFOLLOW). False when something stays. */
static bool wipe(int root)
{
    struct stat rs;
    if (fstat(root, &rs) != 0) return false;
    int cur = dup(root);
    long steps = 0;
    while (cur >= 0 && steps++ < 10000000) {
        int d2 = dup(cur);
        DIR *d = d2 >= 0 ? fdopendir(d2) : NULL;
        if (!d) {
            if (d2 >= 0) close(d2);
            break;
        }
        struct dirent *de;
        int down = -1;
        while (down < 0 && (de = readdir(d)) != NULL) {
            if (is_dots(de->d_name)) continue;
            if (unlinkat(cur, de->d_name, 0) == 0) continue;
            if (unlinkat(cur, de->d_name, AT_REMOVEDIR) == 0) continue;
            /* Only a folder that is not empty is entered: one that cannot be
             * removed for another reason stays, and the wipe is not clean. */
            if (errno == ENOTEMPTY || errno == EEXIST)
                down = openat(cur, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        closedir(d);
        if (down >= 0) { /* a folder that is not empty: empty it first */
            close(cur);
            cur = down;
            continue;
        }
        struct stat cs;
        if (fstat(cur, &cs) != 0) break;
        if (cs.st_dev == rs.st_dev && cs.st_ino == rs.st_ino) {
            close(cur);
            return is_empty(root);
        }
        /* This folder is as empty as it gets: back up; the parent's next
         * pass removes it (or, if it cannot be removed, gives up below). */
        int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        bool emptied = is_empty(cur);
        close(cur);
        cur = up;
        if (!emptied) break; /* an entry that is neither removable nor a folder */
    }
    if (cur >= 0) close(cur);
    return false;
}

/* Kills every other process of the container and reaps them (pid 1 in the
 * container's pid namespace: kill(-1) reaches all of them and nothing
 * outside). False when not pid 1 or when one could not be reaped. */
static bool kill_the_rest(void)
{
    if (getpid() != 1) return false;
    kill(-1, SIGKILL);
    for (int tries = 0; tries < 1000; tries++) {
        pid_t w = waitpid(-1, NULL, WNOHANG);
        if (w < 0 && errno == ECHILD) return true;
        if (w == 0) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    return false;
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

/* Exactly n bytes from fd 0, or false (end of input, error). */
static bool read_exact(char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(0, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* The run.exit frame: 4-byte big-endian length, then the JSON. */
static int report_exit(int status, const char *nonce, bool clean)
{
    char body[256];
    int n = snprintf(body, sizeof body,
                     "{\"method\":\"run.exit\",\"params\":{\"code\":%d,\"signal\":%d,\"nonce\":\"%s\","
                     "\"clean\":%s}}",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                     nonce, clean ? "true" : "false");
    char frame[4 + sizeof body];
    frame[0] = (char)((unsigned)n >> 24);
    frame[1] = (char)((unsigned)n >> 16);
    frame[2] = (char)((unsigned)n >> 8);
    frame[3] = (char)n;
    memcpy(frame + 4, body, (size_t)n);
    return write_all(1, frame, 4 + (size_t)n);
}

static bool valid_header(const char *h)
{
    if (memcmp(h, "run ", 4) != 0 || h[HEADER_LEN - 1] != '\n') return false;
    for (int i = 4; i < 4 + NONCE_HEX; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) return false;
    return true;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc - 2 > MAX_DIRS || isatty(0)) {
        fputs("tactus-pool RUNTIME DIR...: serves the runs of a pooled container "
              "(docs/sandbox.md); started by tactus test and tactus eval\n",
              stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int dirs[MAX_DIRS];
    int ndirs = argc - 2;
    for (int i = 0; i < ndirs; i++) {
        dirs[i] = open(argv[i + 2], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dirs[i] < 0) {
            perror("tactus-pool: a folder to empty between runs");
            return 2;
        }
    }
    for (;;) {
        struct pollfd p = {0, POLLIN, 0};
        int n = poll(&p, 1, POOL_IDLE_MS);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || !(p.revents & POLLIN)) return 0; /* idle, or the host is gone */
        char header[HEADER_LEN + 1];
        if (!read_exact(header, HEADER_LEN)) return 0;
        header[HEADER_LEN] = '\0';
        if (!valid_header(header)) {
            fputs("tactus-pool: the host's run header is malformed\n", stderr);
            return 3;
        }
        char nonce[NONCE_HEX + 1];
        memcpy(nonce, header + 4, NONCE_HEX);
        nonce[NONCE_HEX] = '\0';
        pid_t pid = fork();
        if (pid < 0) return 3;
        if (pid == 0) {
            char *child_argv[] = {argv[1], NULL};
            char *envp[] = {NULL};
            execve(argv[1], child_argv, envp);
            _exit(127);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        bool clean = kill_the_rest();
        for (int i = 0; i < ndirs; i++)
            if (!wipe(dirs[i])) clean = false;
        if (report_exit(status, nonce, clean) != 0) return 0; /* the host is gone */
    }
}
