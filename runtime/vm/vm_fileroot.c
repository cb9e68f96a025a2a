/*
 * vm_fileroot.c - opening a path beneath a root: the workspace, and in a
 * pooled run its scratch folder too (the File layer's "two roots").
 *
 * Threats: a path that climbs out of its root, a symbolic link or a /proc
 * magic link pointing elsewhere, a component swapped for a link between
 * check and use. Defence: the path (already joined and normalised by
 * vm_path_join) is opened relative to a descriptor of the root with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), so
 * the kernel refuses every link and every escape atomically; where openat2
 * is missing (old kernels, strict seccomp) each component is opened in turn
 * with O_NOFOLLOW, which refuses links just as well.
 *
 * Two roots: in a pooled container (sandbox.h) the project folder is
 * read-only and shared by many runs, one after another; each run writes to
 * a scratch folder wiped after it. A write goes to the scratch folder (the
 * folders its path needs are made there by File.write, vm_file.c); a read,
 * a stat or a listing looks in the scratch folder first. Both roots are
 * opened beneath with the same rules.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vm_int.h"

static bool openat2_missing;

void vm_file_use_openat2(bool on)
{
    openat2_missing = !on;
}

static bool is_dotdot(const char *comp, size_t n)
{
    return n == 2 && comp[0] == '.' && comp[1] == '.';
}

int vm_file_component_errno(int dir, const char *comp, int e)
{
    /* A link to a folder fails O_DIRECTORY|O_NOFOLLOW as "not a folder":
     * say what it is. */
    struct stat lst;
    if (e == ENOTDIR && fstatat(dir, comp, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode))
        return ELOOP;
    return e;
}

static int open_walk(int root, const char *rel, int flags, mode_t mode)
{
    int dir = openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return -errno;
    const char *p = rel;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash) break;
        char comp[256];
        size_t n = (size_t)(slash - p);
        if (n >= sizeof comp) {
            close(dir);
            return -ENAMETOOLONG;
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        if (is_dotdot(comp, n)) { /* vm_path_join removed these; never climb anyway */
            close(dir);
            return -EXDEV;
        }
        /* O_NOFOLLOW: a component that is a link fails (ELOOP/ENOTDIR) */
        int next = openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = next < 0 ? vm_file_component_errno(dir, comp, errno) : 0;
        close(dir);
        if (next < 0) return -e;
        dir = next;
        p = slash + 1;
    }
    if (is_dotdot(p, strlen(p))) {
        close(dir);
        return -EXDEV;
    }
    int fd = openat(dir, *p ? p : ".", flags | O_NOFOLLOW | O_CLOEXEC, mode);
    int e = errno;
    close(dir);
    if (fd < 0) return -e;
    if (flags & O_PATH) {
        /* O_PATH|O_NOFOLLOW opens a final link itself: refuse it here. */
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
            close(fd);
            return -ELOOP;
        }
    }
    return fd;
}

int vm_file_open_in(int root, const char *rel, int flags, mode_t mode)
{
    const char *path = *rel ? rel : ".";
    if (!openat2_missing) {
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = (unsigned long long)(flags | O_CLOEXEC);
        if (flags & O_CREAT) how.mode = mode;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        long fd = syscall(SYS_openat2, root, path, &how, sizeof how);
        if (fd >= 0) return (int)fd;
        if (errno != ENOSYS && errno != EPERM) return -errno;
        openat2_missing = true; /* fall through to the component walk, for good */
    }
    return open_walk(root, rel, flags, mode);
}

static bool is_write(int flags)
{
    return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) != 0;
}

int vm_file_openat(vm_ctx *ctx, const char *rel, int flags, mode_t mode)
{
    if (ctx->scratch_fd < 0) return vm_file_open_in(ctx->ws_fd, rel, flags, mode);
    if (is_write(flags)) return vm_file_open_in(ctx->scratch_fd, rel, flags, mode);
    int fd = vm_file_open_in(ctx->scratch_fd, rel, flags, mode);
    if (fd != -ENOENT && fd != -ENOTDIR) return fd;
    return vm_file_open_in(ctx->ws_fd, rel, flags, mode);
}

tx_status vm_file_open_workspace(vm_ctx *ctx, const char *root, const char **why)
{
    ctx->ws_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (ctx->ws_fd < 0) {
        *why = strerror(errno);
        return TX_EIO;
    }
    return TX_OK;
}

tx_status vm_file_open_scratch(vm_ctx *ctx, const char *root, const char **why)
{
    ctx->scratch_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (ctx->scratch_fd < 0) {
        *why = strerror(errno);
        return TX_EIO;
    }
    return TX_OK;
}
