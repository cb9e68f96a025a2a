/*
 * sb_seccomp.c - the container's seccomp profile: our own allow-list
 * (docs/sandbox.md "Seccomp"), written to a private file for docker.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb_internal.h"

/* Our own allow-list, in place of Docker's default profile (which it
 * replaces): the system calls tactus-runtime and tactus-probe were seen to
 * make (strace -f over every example, `tactus test`, the probe's modes),
 * the ones glibc and runc's last steps before execve need, and nothing
 * else. Everything not listed fails with EPERM: socket, ptrace, mount,
 * bpf, keyctl, unshare, setns, io_uring_*, perf_event_open, userfaultfd,
 * kexec_*, personality, chroot, pivot_root... clone is allowed only
 * without namespace flags; clone3 fails with ENOSYS so glibc falls back to
 * clone, whose flags the filter can see. With a remote broker, tactus-connect
 * also needs sockets: only then are AF_UNIX, AF_INET and AF_INET6 sockets and
 * their calls allowed (docs/sandbox.md "Seccomp"). */
static const char *const seccomp_base[] = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "open", "openat", "openat2",
    "close", "close_range", "fstat", "newfstatat", "statx", "stat", "lstat", "lseek", "access",
    "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64", "fcntl", "ioctl", "dup",
    "dup2", "dup3", "mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "rt_sigaction",
    "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "setitimer", "getitimer", "alarm",
    "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
    "getrandom", "futex", "set_robust_list", "get_robust_list", "set_tid_address", "rseq",
    "arch_prctl", "prlimit64", "getrlimit", "exit", "exit_group", "getpid", "getppid", "gettid",
    "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid", "getresgid", "uname",
    "sysinfo", "sched_getaffinity", "sched_yield", "execve", "poll", "ppoll", "select",
    "pselect6", "pipe2", "unlink", "unlinkat", "rename", "renameat", "renameat2", "link",
    "linkat", "kill", "tgkill", "tkill", "wait4", "waitid", "capget", "getcwd", "umask",
    "fsync", "fdatasync", "ftruncate", "mkdir", "mkdirat", "epoll_create1", "epoll_ctl", "epoll_pwait",
    "epoll_wait", "fstatfs", "statfs", "fchdir", "chdir", "prctl", NULL};
static const char *const seccomp_net[] = {"connect", "setsockopt", "getsockopt", "getsockname",
                                          "getpeername", "sendto", "recvfrom", "sendmsg",
                                          "recvmsg", "shutdown", NULL};

#define SB_CLONE_NS_FLAGS 0x7E020000u /* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET */

static void seccomp_names(cJSON *rule, const char *const *names)
{
    cJSON *a = cJSON_AddArrayToObject(rule, "names");
    for (size_t i = 0; a && names[i]; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(names[i]));
}

static cJSON *seccomp_rule(cJSON *syscalls, const char *action)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToArray(syscalls, r);
    cJSON_AddStringToObject(r, "action", action);
    return r;
}

static void seccomp_arg(cJSON *rule, int index, double value, double value2, const char *op)
{
    cJSON *args = cJSON_GetObjectItemCaseSensitive(rule, "args");
    if (!args) args = cJSON_AddArrayToObject(rule, "args");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddItemToArray(args, a);
    cJSON_AddNumberToObject(a, "index", index);
    cJSON_AddNumberToObject(a, "value", value);
    cJSON_AddNumberToObject(a, "valueTwo", value2);
    cJSON_AddStringToObject(a, "op", op);
}

/* The profile as JSON text (caller frees with cJSON_free), or NULL. */
char *sb_seccomp_profile(bool network)
{
    cJSON *p = cJSON_CreateObject();
    if (!p) return NULL;
    cJSON_AddStringToObject(p, "defaultAction", "SCMP_ACT_ERRNO");
    cJSON_AddNumberToObject(p, "defaultErrnoRet", EPERM);
    cJSON *arch = cJSON_AddArrayToObject(p, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("SCMP_ARCH_X86_64"));
    cJSON *sc = cJSON_AddArrayToObject(p, "syscalls");
    seccomp_names(seccomp_rule(sc, "SCMP_ACT_ALLOW"), seccomp_base);
    /* clone: threads and fork only, never a new namespace */
    cJSON *clone = seccomp_rule(sc, "SCMP_ACT_ALLOW");
    const char *const clone_name[] = {"clone", NULL};
    seccomp_names(clone, clone_name);
    seccomp_arg(clone, 0, SB_CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ");
    cJSON *clone3 = seccomp_rule(sc, "SCMP_ACT_ERRNO");
    const char *const clone3_name[] = {"clone3", NULL};
    seccomp_names(clone3, clone3_name);
    cJSON_AddNumberToObject(clone3, "errnoRet", ENOSYS);
    if (network) {
        seccomp_names(seccomp_rule(sc, "SCMP_ACT_ALLOW"), seccomp_net);
        const int families[] = {1 /* AF_UNIX */, 2 /* AF_INET */, 10 /* AF_INET6 */};
        for (size_t i = 0; i < sizeof families / sizeof *families; i++) {
            cJSON *sock = seccomp_rule(sc, "SCMP_ACT_ALLOW");
            const char *const socket_name[] = {"socket", NULL};
            seccomp_names(sock, socket_name);
            seccomp_arg(sock, 0, families[i], 0, "SCMP_CMP_EQ");
        }
    }
    char *text = cJSON_Print(p);
    cJSON_Delete(p);
    return text;
}

/* The folder the profiles go in: $XDG_CACHE_HOME/tactus/seccomp (else
 * ~/.cache/tactus/seccomp), private to the user. A shared folder such as
 * /tmp/NAME would let another user make NAME first and stop every run of
 * ours; so without $XDG_CACHE_HOME or $HOME each process makes a folder of
 * its own there (mkdtemp) instead. -1 with `err` set when neither works. */
static int profile_dir(char *dir, size_t cap, char *err, size_t errlen)
{
    if (hl_xdg_path("XDG_CACHE_HOME", ".cache", "/tmp", "seccomp", dir, cap)) {
        int fd = hl_private_dir(dir);
        if (fd < 0)
            snprintf(err, errlen,
                     "%s: the seccomp profile folder is not a private folder of this user (mode "
                     "0700, not a link): remove it and run again",
                     dir);
        return fd;
    }
    /* One folder per process; pooled workers start containers from their
     * own threads. */
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char made[PATH_MAX - 64];
    pthread_mutex_lock(&lock);
    if (!made[0]) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || tmp[0] != '/') tmp = "/tmp";
        snprintf(made, sizeof made, "%s/tactus-seccomp-XXXXXX", tmp);
        if (!mkdtemp(made)) {
            snprintf(err, errlen, "%s: cannot create a folder for the seccomp profile: %s", made,
                     strerror(errno));
            made[0] = '\0';
            pthread_mutex_unlock(&lock);
            return -1;
        }
    }
    pthread_mutex_unlock(&lock);
    snprintf(dir, cap, "%s", made);
    int fd = hl_private_dir(made);
    if (fd < 0) snprintf(err, errlen, "%s: the seccomp profile folder changed under us", made);
    return fd;
}

/* Writes the profile into the private folder above, named by its hash so
 * concurrent runs share one file, written to a temporary name and renamed. */
tx_status sb_seccomp_file(bool network, char *out, size_t cap, char *err, size_t errlen)
{
    char *text = sb_seccomp_profile(network);
    if (!text) return TX_ENOMEM;
    char dir[PATH_MAX - 64];
    int dfd = profile_dir(dir, sizeof dir, err, errlen);
    if (dfd < 0) {
        cJSON_free(text);
        return TX_EINVAL;
    }
    close(dfd);
    struct stat sb;
    char hex[65];
    hl_sha256_hex(text, strlen(text), hex);
    snprintf(out, cap, "%s/profile-%.16s.json", dir, hex);
    tx_status st = TX_OK;
    if (lstat(out, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        char part[PATH_MAX + 32];
        snprintf(part, sizeof part, "%s.%d", out, (int)getpid());
        int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        size_t n = strlen(text);
        if (fd < 0 || write(fd, text, n) != (ssize_t)n || close(fd) != 0 || rename(part, out) != 0) {
            snprintf(err, errlen, "%s: cannot write the seccomp profile: %s", out, strerror(errno));
            unlink(part);
            st = TX_EIO;
        }
    }
    cJSON_free(text);
    return st;
}

