/*
 * vm_file.c - File.read/write/exists/size/list, confined to the workspace.
 *
 * Threats: reading or writing outside the workspace (absolute paths, ".."
 * climbing out, a symbolic link or a /proc magic link pointing elsewhere, a
 * component swapped for a link between check and use), blocking forever on a
 * FIFO, and filling memory with a huge file.
 * Defences, in layers:
 *   1. paths are joined onto the procedure's folder and normalised lexically
 *      (vm_path_join); absolute paths and any climb above the root are refused
 *      before any system call;
 *   2. the file is opened relative to a descriptor of the workspace root with
 *      openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS),
 *      so the kernel refuses every link and every escape atomically; where
 *      openat2 is missing (old kernels, strict seccomp) each component is
 *      opened in turn with O_NOFOLLOW, which refuses links just as well;
 *   3. reads open with O_NONBLOCK and accept regular files only, and stop at
 *      VM_FILE_MAX bytes (the memory budget applies as well).
 *   4. the files the host reads are closed by name (vm_file_protected): no
 *      write or create under a .tactus folder, of a .tac source, of a .tac's
 *      sidecar (FILE.tac.yml, FILE.yml) or of a .env* file, and no read of
 *      .env*; the Docker backend adds read-only mounts over the same files.
 *      File.write is the only writing call (no rename, link, unlink, mkdir),
 *      so a name checked here is the name the kernel creates.
 *   5. File.write counts the bytes it writes in the run against
 *      sandbox.workspace_quota (ctx->ws_quota), so a run cannot fill the disk.
 * Paths in messages are the user's, never the host's absolute ones.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vm_int.h"

#define BOX_DIR     "tactus.box.dir"
#define VM_LIST_MAX 100000

/* ---- lexical join ------------------------------------------------------------------------ */

tx_status vm_path_join(const char *base, const char *user, size_t user_len, char *out, size_t cap,
                       const char **why)
{
    *why = NULL;
    if (user_len == 0) {
        *why = "an empty path";
        return TX_EINVAL;
    }
    if (memchr(user, '\0', user_len)) {
        *why = "a path with a NUL byte";
        return TX_EINVAL;
    }
    if (user[0] == '/') {
        *why = "absolute paths are not allowed (paths are relative to the procedure's folder)";
        return TX_EINVAL;
    }
    if (cap == 0) return TX_ELIMIT;
    size_t len = 0;
    out[0] = '\0';
    for (int part = 0; part < 2; part++) {
        const char *s = part == 0 ? base : user;
        size_t n = part == 0 ? strlen(base) : user_len;
        size_t i = 0;
        while (i < n) {
            while (i < n && s[i] == '/')
                i++;
            size_t start = i;
            while (i < n && s[i] != '/')
                i++;
            size_t clen = i - start;
            if (clen == 0 || (clen == 1 && s[start] == '.')) continue;
            if (clen == 2 && s[start] == '.' && s[start + 1] == '.') {
                if (len == 0) {
                    *why = "the path leaves the workspace";
                    return TX_EINVAL;
                }
                char *slash = strrchr(out, '/');
                len = slash ? (size_t)(slash - out) : 0;
                out[len] = '\0';
                continue;
            }
            size_t need = len + (len ? 1 : 0) + clen + 1;
            if (need > cap) return TX_ELIMIT;
            if (len) out[len++] = '/';
            memcpy(out + len, s + start, clen);
            len += clen;
            out[len] = '\0';
        }
    }
    return TX_OK;
}

/* ---- protected names -------------------------------------------------------------------- */

static bool has_suffix(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

const char *vm_file_protected(vm_ctx *ctx, const char *rel, bool write)
{
    const char *base = rel;
    for (const char *p = rel; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n >= 4 && memcmp(p, ".env", 4) == 0)
            return "environment files (.env*) hold the host's secrets and are not visible to "
                   "procedures";
        if (write && n == 7 && memcmp(p, ".tactus", 7) == 0)
            return "the .tactus folder is the project's configuration, which procedures may not "
                   "change";
        if (!slash) {
            base = p;
            break;
        }
        p = slash + 1;
    }
    if (!write) return NULL;
    size_t n = strlen(base);
    if (has_suffix(base, n, ".tac"))
        return ".tac files are procedure sources, which procedures may not change";
    if (has_suffix(base, n, ".tac.yml"))
        return "FILE.tac.yml is a procedure's configuration sidecar, which procedures may not "
               "change";
    if (has_suffix(base, n, ".yml")) {
        /* FILE.yml is FILE.tac's sidecar when FILE.tac is there (the host's rule). */
        char tac[VM_PATH_MAX];
        size_t rl = strlen(rel);
        if (rl - 4 + 5 <= sizeof tac) {
            memcpy(tac, rel, rl - 4);
            memcpy(tac + rl - 4, ".tac", 5);
            int fd = vm_file_openat(ctx, tac, O_PATH, 0);
            if (fd >= 0) {
                close(fd);
                return "FILE.yml next to FILE.tac is that procedure's configuration sidecar, which "
                       "procedures may not change";
            }
        }
    }
    return NULL;
}

static int refuse_protected(lua_State *L, const char *what, const char *user, const char *why)
{
    return luaL_error(L, "%s: %s: %s (write the result under another name)", what, user, why);
}

/* ---- opening beneath the root --------------------------------------------------------------- */

static bool openat2_missing;

void vm_file_use_openat2(bool on)
{
    openat2_missing = !on;
}

static bool is_dotdot(const char *comp, size_t n)
{
    return n == 2 && comp[0] == '.' && comp[1] == '.';
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
        int e = errno;
        if (next < 0 && e == ENOTDIR) {
            /* A link to a folder fails as "not a folder": say what it is. */
            struct stat lst;
            if (fstatat(dir, comp, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode))
                e = ELOOP;
        }
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

/* ---- two roots: a pooled run writes to its scratch folder ------------------------------------
 * In a pooled container (sandbox.h) the project folder is read-only and
 * shared by many runs, one after another; each run writes to a scratch
 * folder wiped after it. The File layer makes the two one tree: a write
 * goes to the scratch folder (creating there the folders the path needs,
 * where they exist in the workspace, so a path that works in a run of its
 * own works here); a read, a stat or a listing looks in the scratch folder
 * first. Both roots are opened beneath with the same rules. */

static int open_beneath(vm_ctx *ctx, int root, const char *rel, int flags, mode_t mode);

static bool is_write(int flags)
{
    return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) != 0;
}

/* The folders of `rel` that the workspace has, made in the scratch folder.
 * A component the workspace refuses (a symbolic link, a path leaving it)
 * is that error, so a pooled run gets the message a run of its own gets
 * (not "no such file" from the scratch folder): 0 or a negative errno. */
static int mirror_parents(vm_ctx *ctx, const char *rel)
{
    char path[VM_PATH_MAX];
    snprintf(path, sizeof path, "%s", rel);
    for (char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        int in_ws = open_beneath(ctx, ctx->ws_fd, path, O_PATH | O_DIRECTORY, 0);
        if (in_ws == -ELOOP || in_ws == -EXDEV) return in_ws;
        if (in_ws >= 0) {
            close(in_ws);
            int parent = -1;
            char *last = strrchr(path, '/');
            if (last) {
                *last = '\0';
                parent = open_beneath(ctx, ctx->scratch_fd, path, O_PATH | O_DIRECTORY, 0);
                *last = '/';
            } else {
                parent = dup(ctx->scratch_fd);
            }
            if (parent >= 0) {
                mkdirat(parent, last ? last + 1 : path, 0755);
                close(parent);
            }
        }
        *slash = '/';
    }
    return 0;
}

int vm_file_openat(vm_ctx *ctx, const char *rel, int flags, mode_t mode)
{
    if (ctx->scratch_fd < 0) return open_beneath(ctx, ctx->ws_fd, rel, flags, mode);
    if (is_write(flags)) {
        int refused = mirror_parents(ctx, rel);
        if (refused < 0) return refused;
        return open_beneath(ctx, ctx->scratch_fd, rel, flags, mode);
    }
    int fd = open_beneath(ctx, ctx->scratch_fd, rel, flags, mode);
    if (fd != -ENOENT && fd != -ENOTDIR) return fd;
    return open_beneath(ctx, ctx->ws_fd, rel, flags, mode);
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

static int open_beneath(vm_ctx *ctx, int root, const char *rel, int flags, mode_t mode)
{
    (void)ctx;
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

tx_status vm_file_open_workspace(vm_ctx *ctx, const char *root, const char **why)
{
    ctx->ws_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (ctx->ws_fd < 0) {
        *why = strerror(errno);
        return TX_EIO;
    }
    return TX_OK;
}

static const char *open_error(int e)
{
    switch (e) {
    case ELOOP:
        return "symbolic links are not allowed in the workspace";
    case EXDEV:
        return "the path leaves the workspace";
    case ENOENT:
        return "no such file or folder";
    case ENOTDIR:
        return "a part of the path is not a folder";
    case EISDIR:
        return "is a folder";
    case EACCES:
    case EPERM:
        return "permission denied";
    case ENAMETOOLONG:
        return "the path is too long";
    case EROFS:
        return "the workspace is read-only";
    case ENOSPC:
        return "no space left";
    default:
        return strerror(e);
    }
}

/* Joins the user's path onto the procedure folder, or raises. */
static const char *resolve(lua_State *L, const char *what, int arg, char *out, size_t cap)
{
    vm_ctx *ctx = vm_ctx_of(L);
    size_t n;
    const char *user = luaL_checklstring(L, arg, &n);
    const char *why;
    tx_status st = vm_path_join(ctx->procdir, user, n, out, cap, &why);
    if (st == TX_ELIMIT) luaL_error(L, "%s: the path is too long", what);
    if (st != TX_OK) luaL_error(L, "%s: %s: %s", what, why, user);
    return user;
}

static int fail_errno(lua_State *L, const char *what, const char *user, int e)
{
    return luaL_error(L, "%s: %s: %s", what, open_error(e), user);
}

/* ---- reading
 * ------------------------------------------------------------------------------------- */

bool vm_file_push_contents(lua_State *L, const char *what, const char *user_path, size_t user_len,
                           bool missing_ok)
{
    vm_ctx *ctx = vm_ctx_of(L);
    char rel[VM_PATH_MAX];
    const char *why;
    tx_status st = vm_path_join(ctx->procdir, user_path, user_len, rel, sizeof rel, &why);
    if (st == TX_ELIMIT) luaL_error(L, "%s: the path is too long", what);
    if (st != TX_OK) luaL_error(L, "%s: %s: %s", what, why, user_path);
    const char *shut = vm_file_protected(ctx, rel, false);
    if (shut) luaL_error(L, "%s: %s: %s", what, user_path, shut);
    int *box = vm_box_fd(L);
    int fd = vm_file_openat(ctx, rel, O_RDONLY | O_NONBLOCK, 0);
    if (fd < 0 && missing_ok && (fd == -ENOENT || fd == -ENOTDIR)) {
        lua_pop(L, 1);
        return false;
    }
    if (fd < 0) fail_errno(L, what, user_path, -fd);
    *box = fd;
    struct stat sb;
    if (fstat(fd, &sb) != 0) fail_errno(L, what, user_path, errno);
    if (S_ISDIR(sb.st_mode)) fail_errno(L, what, user_path, EISDIR);
    if (!S_ISREG(sb.st_mode)) luaL_error(L, "%s: not a regular file: %s", what, user_path);
    if ((unsigned long long)sb.st_size > VM_FILE_MAX)
        luaL_error(L, "%s: the file is larger than %u MiB: %s", what, VM_FILE_MAX >> 20, user_path);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t total = 0;
    for (;;) {
        char *p = luaL_prepbuffsize(&b, 65536);
        ssize_t r = read(fd, p, 65536);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) fail_errno(L, what, user_path, errno);
        if (r == 0) break;
        total += (size_t)r;
        if (total > VM_FILE_MAX)
            luaL_error(L, "%s: the file is larger than %u MiB: %s", what, VM_FILE_MAX >> 20,
                       user_path);
        luaL_addsize(&b, (size_t)r);
    }
    luaL_pushresult(&b);
    close(*box);
    *box = -1;
    lua_remove(L, -2); /* the box */
    return true;
}

static int file_read(lua_State *L)
{
    size_t n;
    const char *path = luaL_checklstring(L, 1, &n);
    vm_file_push_contents(L, "File.read", path, n, false);
    return 1;
}

/* ---- writing
 * -------------------------------------------------------------------------------------- */

static int file_write(lua_State *L)
{
    vm_ctx *ctx = vm_ctx_of(L);
    char rel[VM_PATH_MAX];
    const char *user = resolve(L, "File.write", 1, rel, sizeof rel);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    if (len > VM_FILE_MAX)
        return luaL_error(L, "File.write: content larger than %u MiB", VM_FILE_MAX >> 20);
    if (*rel == '\0') return fail_errno(L, "File.write", user, EISDIR);
    const char *shut = vm_file_protected(ctx, rel, true);
    if (shut) return refuse_protected(L, "File.write", user, shut);
    if (len > ctx->ws_quota || ctx->ws_written > ctx->ws_quota - len) {
        char msg[256]; /* lua_pushfstring has no %zu/%llu */
        snprintf(msg, sizeof msg,
                 "writing %zu more bytes would pass the run's workspace quota of %llu bytes (%llu "
                 "MiB; %llu written so far); raise sandbox.workspace_quota in a trusted "
                 "configuration if the run needs more",
                 len, ctx->ws_quota, ctx->ws_quota >> 20, ctx->ws_written);
        return luaL_error(L, "File.write: %s: %s", user, msg);
    }
    int *box = vm_box_fd(L);
    int fd = vm_file_openat(ctx, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK, 0644);
    if (fd < 0) return fail_errno(L, "File.write", user, -fd);
    *box = fd;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return luaL_error(L, "File.write: not a regular file: %s", user);
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return fail_errno(L, "File.write", user, errno);
        done += (size_t)w;
        ctx->ws_written += (unsigned long long)w;
    }
    int rc = close(*box);
    *box = -1;
    if (rc != 0) return fail_errno(L, "File.write", user, errno);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- metadata
 * ------------------------------------------------------------------------------------- */

/* stat through an O_PATH descriptor opened beneath the root: 0, or an errno */
static int stat_beneath(lua_State *L, const char *what, char *rel, size_t cap, struct stat *sb,
                        const char **user)
{
    vm_ctx *ctx = vm_ctx_of(L);
    *user = resolve(L, what, 1, rel, cap);
    if (vm_file_protected(ctx, rel, false)) return ENOENT; /* .env*: not visible */
    int fd = vm_file_openat(ctx, rel, O_PATH, 0);
    if (fd < 0) return -fd;
    int rc = fstat(fd, sb);
    int e = errno;
    close(fd);
    return rc == 0 ? 0 : e;
}

static int file_exists(lua_State *L)
{
    char rel[VM_PATH_MAX];
    struct stat sb;
    const char *user;
    int e = stat_beneath(L, "File.exists", rel, sizeof rel, &sb, &user);
    if (e == ENOENT || e == ENOTDIR) {
        lua_pushboolean(L, 0);
        return 1;
    }
    if (e) return fail_errno(L, "File.exists", user, e);
    lua_pushboolean(L, 1);
    return 1;
}

static int file_size(lua_State *L)
{
    char rel[VM_PATH_MAX];
    struct stat sb;
    const char *user;
    int e = stat_beneath(L, "File.size", rel, sizeof rel, &sb, &user);
    if (e) return fail_errno(L, "File.size", user, e);
    if (S_ISDIR(sb.st_mode)) return fail_errno(L, "File.size", user, EISDIR);
    lua_pushinteger(L, (lua_Integer)sb.st_size);
    return 1;
}

/* ---- listing
 * -------------------------------------------------------------------------------------- */

static int box_dir_gc(lua_State *L)
{
    DIR **box = luaL_checkudata(L, 1, BOX_DIR);
    if (*box) closedir(*box);
    *box = NULL;
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int file_list(lua_State *L)
{
    vm_ctx *ctx = vm_ctx_of(L);
    char rel[VM_PATH_MAX];
    const char *user;
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_pushliteral(L, ".");
    }
    user = resolve(L, "File.list", 1, rel, sizeof rel);
    DIR **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    luaL_setmetatable(L, BOX_DIR);
    lua_newtable(L);
    int names = lua_gettop(L);
    lua_newtable(L); /* names seen: the two roots list one folder */
    int seen = lua_gettop(L);
    lua_Integer n = 0;
    int roots[2] = {ctx->scratch_fd, ctx->ws_fd};
    bool found = false;
    int first_error = ENOENT;
    for (int k = 0; k < 2; k++) {
        if (roots[k] < 0) continue;
        int fd = open_beneath(ctx, roots[k], rel, O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0) {
            if (fd != -ENOENT || !found) first_error = -fd;
            continue;
        }
        found = true;
        *box = fdopendir(fd);
        if (!*box) {
            int e = errno;
            close(fd);
            return fail_errno(L, "File.list", user, e);
        }
        struct dirent *de;
        while ((de = readdir(*box)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
            if (strncmp(de->d_name, ".env", 4) == 0) continue; /* not visible to procedures */
            if (lua_getfield(L, seen, de->d_name) != LUA_TNIL) {
                lua_pop(L, 1);
                continue;
            }
            lua_pop(L, 1);
            lua_pushboolean(L, 1);
            lua_setfield(L, seen, de->d_name);
            if (n >= VM_LIST_MAX)
                return luaL_error(L, "File.list: more than %d entries: %s", VM_LIST_MAX, user);
            lua_pushstring(L, de->d_name);
            lua_rawseti(L, names, ++n);
        }
        closedir(*box);
        *box = NULL;
    }
    if (!found) return fail_errno(L, "File.list", user, first_error);
    lua_pop(L, 1); /* seen */
    /* Sorted: directory order differs between file systems and runs. */
    const char **sorted = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *sorted, 0);
    for (lua_Integer i = 0; i < n; i++) {
        lua_rawgeti(L, names, i + 1);
        sorted[i] = lua_tostring(L, -1); /* anchored in `names` */
        lua_pop(L, 1);
    }
    qsort(sorted, (size_t)n, sizeof *sorted, name_cmp);
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 0; i < n; i++) {
        lua_pushstring(L, sorted[i]);
        lua_rawseti(L, -2, i + 1);
    }
    vm_json_mark_array(L, -1);
    return 1;
}

int vm_file_open(lua_State *L)
{
    if (luaL_newmetatable(L, BOX_DIR)) {
        lua_pushcfunction(L, box_dir_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {
        {"read", file_read}, {"write", file_write}, {"exists", file_exists},
        {"size", file_size}, {"list", file_list},   {NULL, NULL},
    };
    luaL_newlib(L, fns);
    return 1;
}
