/*
 * probe.c - tactus-probe: looks at the sandbox from the inside.
 *
 * `tactus sandbox doctor` runs it in the exact container configuration of a
 * run (mounted read-only, as the entrypoint) and shows the user, check by
 * check, that the sandbox holds on their machine; the OS-level escape tests
 * run its attack modes the same way. It is a static binary so the image
 * need not hold anything for it.
 *
 * It never sends a packet: the network check reads the interfaces and the
 * routing table (no interface but `lo` and no route means nothing can leave),
 * which proves more than a failed connection to one address would.
 *
 * Usage: tactus-probe report            JSON object of checks on stdout
 *        tactus-probe write PATH        try to create PATH; exit 0 if it worked
 *        tactus-probe fork-bomb         fork until refused; report how far it got
 *        tactus-probe memory-bomb       touch memory until killed
 *        tactus-probe cpu-loop          spin until killed
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base.h"

extern char **environ;

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

static bool first_check = true;

static void check(const char *name, bool ok, const char *detail)
{
    printf("%s\n  ", first_check ? "" : ",");
    json_str(name);
    printf(": {\"ok\": %s, \"detail\": ", ok ? "true" : "false");
    json_str(detail);
    printf("}");
    first_check = false;
}

/* A small text file, read whole (cgroup and /proc files). */
static bool read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0) return false;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
    return true;
}

static bool status_field(const char *field, char *out, size_t cap)
{
    char buf[8192];
    if (!read_small("/proc/self/status", buf, sizeof buf)) return false;
    char *p = strstr(buf, field);
    if (!p) return false;
    p += strlen(field);
    while (*p == ' ' || *p == '\t' || *p == ':') p++;
    size_t n = strcspn(p, "\n");
    snprintf(out, cap, "%.*s", (int)n, p);
    return true;
}

static void check_network(void)
{
    char detail[512] = "";
    bool ok = true;
    DIR *d = opendir("/sys/class/net");
    size_t off = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            off += (size_t)snprintf(detail + off, sizeof detail - off, "%s%s", off ? "," : "interfaces: ", e->d_name);
            if (strcmp(e->d_name, "lo") != 0) ok = false;
            if (off >= sizeof detail) off = sizeof detail - 1;
        }
        closedir(d);
    }
    char routes[4096];
    int n_routes = 0;
    if (read_small("/proc/net/route", routes, sizeof routes))
        for (char *p = routes; (p = strchr(p, '\n')); p++) n_routes++; /* lines after the header */
    if (n_routes > 0) ok = false;
    snprintf(detail + off, sizeof detail - off, "; routes: %d%s", n_routes,
             ok ? " (no way out: connecting or resolving a name cannot leave the container)" : "");
    check("network", ok, detail);
}

static void check_secrets(void)
{
    char detail[512] = "no secret-named variable";
    bool ok = true;
    size_t count = 0;
    for (char **e = environ; e && *e; e++) {
        count++;
        char name[256];
        size_t n = strcspn(*e, "=");
        snprintf(name, sizeof name, "%.*s", (int)n, *e);
        if (tx_env_name_is_secret(name)) {
            ok = false;
            snprintf(detail, sizeof detail, "secret-named variable present: %s", name);
        }
    }
    char full[600];
    snprintf(full, sizeof full, "%s (%zu variables)", detail, count);
    check("secrets", ok, full);
}

static bool try_write(const char *path, int *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        *err = errno;
        return false;
    }
    bool ok = write(fd, "x", 1) == 1;
    *err = ok ? 0 : errno;
    close(fd);
    unlink(path);
    return ok;
}

static void check_filesystem(void)
{
    int e1, e2, e3, e4;
    bool root = try_write("/tactus-probe-root", &e1);
    bool etc = try_write("/etc/tactus-probe", &e2);
    bool tmp = try_write("/tmp/tactus-probe", &e3);
    bool ws = try_write("/workspace/.tactus-probe", &e4);
    char d[512];
    snprintf(d, sizeof d, "write to / %s (%s), /etc %s (%s)", root ? "ALLOWED" : "refused",
             root ? "" : strerror(e1), etc ? "ALLOWED" : "refused", etc ? "" : strerror(e2));
    check("root_filesystem", !root && !etc, d);
    snprintf(d, sizeof d, "/tmp %s%s%s; /workspace %s%s%s", tmp ? "writable" : "NOT writable: ",
             tmp ? "" : strerror(e3), "", ws ? "writable" : "not writable: ", ws ? "" : strerror(e4),
             ws ? "" : " (so mount_current_dir is false, or the folder is not writable by this user)");
    check("scratch_space", tmp, d);
}

/* ---- the files the host reads (docs/sandbox.md "Protected files") ----------------------------
 * From inside, with no help from the runtime's File layer: every protected
 * entry under /workspace (.tactus folders, *.tac, *.tac.yml, FILE.yml beside
 * FILE.tac, .env*) must refuse opening for writing, renaming and hard
 * linking, a .tactus folder must refuse a new file, and a .env* must read as
 * empty. Nothing is truncated; a rename or link that succeeds is undone. */
typedef struct {
    int files, masked, allowed;
    char first[1200];
} host_files;

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

static void host_file_allowed(host_files *h, const char *path, const char *what)
{
    if (h->allowed++ == 0) snprintf(h->first, sizeof h->first, "%s %s", what, path);
}

static void probe_host_files(host_files *h, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        char path[1024], moved[1100];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (lstat(path, &sb) != 0 || S_ISLNK(sb.st_mode)) continue;
        bool is_dir = S_ISDIR(sb.st_mode);
        bool env = strncmp(de->d_name, ".env", 4) == 0;
        bool ro = !env && (is_dir ? strcmp(de->d_name, ".tactus") == 0
                                  : ends_with(de->d_name, ".tac") || ends_with(de->d_name, ".tac.yml"));
        if (!ro && !env && !is_dir && ends_with(de->d_name, ".yml")) {
            char tac[1100];
            snprintf(tac, sizeof tac, "%.*s.tac", (int)(strlen(path) - 4), path);
            ro = stat(tac, &sb) == 0;
        }
        if (!ro && !env) {
            if (is_dir && depth < 8) probe_host_files(h, path, depth + 1);
            continue;
        }
        snprintf(moved, sizeof moved, "%s.tactus-probe-moved", path);
        if (rename(path, moved) == 0) {
            host_file_allowed(h, path, "rename of");
            if (rename(moved, path) != 0) host_file_allowed(h, path, "restoring");
        }
        if (env) {
            h->masked++;
            char buf[16];
            int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            ssize_t r = fd >= 0 ? read(fd, buf, sizeof buf) : 0;
            if (fd >= 0) close(fd);
            if (r > 0) host_file_allowed(h, path, "reading");
            continue;
        }
        h->files++;
        if (is_dir) {
            char inside[1100];
            snprintf(inside, sizeof inside, "%s/.tactus-probe", path);
            int fd = open(inside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd >= 0) {
                close(fd);
                unlink(inside);
                host_file_allowed(h, inside, "creating");
            }
            continue;
        }
        int fd = open(path, O_WRONLY | O_CLOEXEC); /* no O_TRUNC: never destroy */
        if (fd >= 0) {
            close(fd);
            host_file_allowed(h, path, "writing");
        }
        if (link(path, "/workspace/.tactus-probe-link") == 0) {
            unlink("/workspace/.tactus-probe-link");
            host_file_allowed(h, path, "hard-linking");
        }
    }
    closedir(d);
}

static void check_host_files(void)
{
    host_files h = {0, 0, 0, ""};
    struct stat sb;
    if (stat("/workspace", &sb) != 0) {
        check("host_files", true, "no /workspace mounted");
        return;
    }
    probe_host_files(&h, "/workspace", 0);
    char d[1400];
    if (h.allowed)
        snprintf(d, sizeof d, "%d protected entries ALLOW changes, first: %s", h.allowed, h.first);
    else
        snprintf(d, sizeof d,
                 "%d read-only (.tactus, .tac, sidecars: write, create, rename, link refused), %d "
                 ".env* masked (read empty)",
                 h.files, h.masked);
    check("host_files", h.allowed == 0, d);
}

static void check_privileges(void)
{
    char cap[64] = "?", nnp[16] = "?", sec[16] = "?", d[256];
    status_field("CapEff", cap, sizeof cap);
    status_field("NoNewPrivs", nnp, sizeof nnp);
    status_field("Seccomp", sec, sizeof sec);
    bool no_caps = strspn(cap, "0") == strlen(cap) && cap[0] != '?';
    snprintf(d, sizeof d, "effective capabilities %s", cap);
    check("capabilities", no_caps, d);
    snprintf(d, sizeof d, "uid %u gid %u", (unsigned)getuid(), (unsigned)getgid());
    check("user", getuid() != 0 && getgid() != 0, d);
    snprintf(d, sizeof d, "no_new_privs %s", nnp);
    check("no_new_privileges", strcmp(nnp, "1") == 0, d);
    /* Our profile (sb_seccomp_profile) refuses these with EPERM; Docker's
     * default profile lets socket and ptrace through. Raw syscalls, so no
     * libc wrapper decides for us. Every argument is invalid or harmless
     * (an unused socket, no such pid, no such path, invalid flags), so where
     * no filter stops a call (the probe run by hand, even as root) it fails
     * with another error and changes nothing. */
    static const struct {
        const char *name;
        long nr;
        long a0, a1, a2;
    } forbidden[] = {
        {"socket", SYS_socket, AF_INET, SOCK_STREAM, 0},
        {"ptrace", SYS_ptrace, 16 /* PTRACE_ATTACH */, -1 /* no such pid */, 0},
        {"mount", SYS_mount, (long)"/nonexistent-tactus-probe", (long)"/nonexistent-tactus-probe",
         0},
        {"unshare", SYS_unshare, 0x1 /* not a CLONE_ flag: EINVAL */, 0, 0},
        {"bpf", SYS_bpf, -1 /* no such command */, 0, 0},
        {"keyctl", SYS_keyctl, -1 /* no such operation */, 0, 0},
        {"io_uring_setup", SYS_io_uring_setup, 1, 0 /* NULL params: EFAULT */, 0},
        {"perf_event_open", SYS_perf_event_open, 0 /* NULL attr: EFAULT */, 0, 0},
        {"userfaultfd", SYS_userfaultfd, -1 /* invalid flags */, 0, 0},
    };
    bool all_eperm = true;
    size_t off = (size_t)snprintf(d, sizeof d, "seccomp mode %s (2 = filter);", sec);
    for (size_t i = 0; i < sizeof forbidden / sizeof *forbidden; i++) {
        errno = 0;
        long r = syscall(forbidden[i].nr, forbidden[i].a0, forbidden[i].a1, forbidden[i].a2, 0L, 0L);
        int e = errno;
        if (r >= 0) close((int)r);
        bool eperm = r < 0 && e == EPERM;
        if (!eperm) all_eperm = false;
        if (off < sizeof d)
            off += (size_t)snprintf(d + off, sizeof d - off, " %s %s", forbidden[i].name,
                                    eperm ? "EPERM" : (r >= 0 ? "ALLOWED" : strerror(e)));
    }
    check("seccomp", strcmp(sec, "2") == 0 && all_eperm, d);
}

/* The kernel the probe runs on, as the container sees it. The probe cannot
 * tell a kernel of its own (gVisor) from the host's: the doctor compares
 * this with the host's uname and decides (cli_sandbox.c). */
static void check_kernel(void)
{
    struct utsname u;
    char d[600];
    if (uname(&u) != 0) {
        check("kernel", false, "uname failed");
        return;
    }
    snprintf(d, sizeof d, "%s %s", u.release, u.version);
    check("kernel", true, d);
}

static void check_limits(void)
{
    char v[64], d[256];
    bool have = read_small("/sys/fs/cgroup/pids/pids.max", v, sizeof v) ||
                read_small("/sys/fs/cgroup/pids.max", v, sizeof v);
    snprintf(d, sizeof d, "pids.max %s", have ? v : "unknown");
    check("pids", have && strcmp(v, "max") != 0, d);
    have = read_small("/sys/fs/cgroup/memory/memory.limit_in_bytes", v, sizeof v) ||
           read_small("/sys/fs/cgroup/memory.max", v, sizeof v);
    long long bytes = have ? atoll(v) : 0;
    /* cgroup v1 reports "no limit" as a huge number. */
    bool limited = have && strcmp(v, "max") != 0 && bytes > 0 && bytes < (1LL << 50);
    snprintf(d, sizeof d, "memory limit %s bytes", have ? v : "unknown");
    check("memory", limited, d);
}

static int mode_report(void)
{
    printf("{");
    check_network();
    check_secrets();
    check_filesystem();
    check_host_files();
    check_privileges();
    check_limits();
    check_kernel();
    printf("\n}\n");
    return 0;
}

static int mode_fork_bomb(void)
{
    int made = 0, err = 0;
    for (int i = 0; i < 100000; i++) {
        pid_t p = fork();
        if (p < 0) {
            err = errno;
            break;
        }
        if (p == 0) {
            pause();
            _exit(0);
        }
        made++;
    }
    /* End the children (same process group) but not this process. */
    signal(SIGTERM, SIG_IGN);
    kill(0, SIGTERM);
    while (waitpid(-1, NULL, 0) > 0) {
    }
    printf("{\"forked\": %d, \"refused\": %s, \"error\": \"%s\"}\n", made, err ? "true" : "false",
           err ? strerror(err) : "");
    fflush(stdout);
    return err == EAGAIN ? 0 : 1;
}

static int mode_memory_bomb(void)
{
    for (;;) {
        char *p = malloc(16u << 20);
        if (!p) {
            printf("{\"refused\": true}\n");
            return 0;
        }
        memset(p, 1, 16u << 20);
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && strcmp(argv[1], "report") == 0) return mode_report();
    if (argc >= 3 && strcmp(argv[1], "write") == 0) {
        int e;
        bool ok = try_write(argv[2], &e);
        printf("{\"written\": %s, \"error\": \"%s\"}\n", ok ? "true" : "false", ok ? "" : strerror(e));
        return ok ? 0 : 1;
    }
    if (argc >= 3 && strcmp(argv[1], "stat") == 0) {
        struct stat sb;
        if (stat(argv[2], &sb) != 0) {
            printf("{\"error\": \"%s\"}\n", strerror(errno));
            return 1;
        }
        printf("{\"mode\": \"%o\", \"uid\": %u, \"gid\": %u}\n", (unsigned)sb.st_mode,
               (unsigned)sb.st_uid, (unsigned)sb.st_gid);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "mounts") == 0) {
        char buf[16384];
        if (read_small("/proc/self/mounts", buf, sizeof buf)) printf("%s\n", buf);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "fork-bomb") == 0) return mode_fork_bomb();
    if (argc >= 2 && strcmp(argv[1], "memory-bomb") == 0) return mode_memory_bomb();
    if (argc >= 2 && strcmp(argv[1], "cpu-loop") == 0)
        for (volatile unsigned long i = 0;; i++) {
        }
    fprintf(stderr, "usage: tactus-probe report|write PATH|fork-bomb|memory-bomb|cpu-loop\n");
    return 2;
}
