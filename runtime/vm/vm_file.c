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
 *   2. the file is opened beneath a descriptor of its root, the kernel
 *      refusing every link and every escape (vm_fileroot.c: openat2, else an
 *      O_NOFOLLOW walk); in a pooled run there are two roots, the read-only
 *      workspace and the run's scratch folder, which writes go to;
 *   3. reads open with O_NONBLOCK and accept regular files only, and stop at
 *      VM_FILE_MAX bytes (the memory budget applies as well).
 *   4. the files the host reads are closed by name (vm_file_protected): no
 *      write or create under a .tactus folder, of a .tac source, of a .tac's
 *      sidecar (FILE.tac.yml, FILE.yml) or of a .env* file, and no read of
 *      .env*; the Docker backend adds read-only mounts over the same files.
 *      File.write is the only writing call (no rename, link, unlink), so a
 *      name checked here is the name the kernel creates.
 *   5. File.write creates the missing folders of its path, as the original
 *      does (make_parents): one component at a time, each opened with
 *      O_NOFOLLOW relative to the one before (so a link met on the way is
 *      refused, never followed), after the whole path passed 1. and 4.; a
 *      folder named like a protected file is refused too. In a pooled run
 *      the walk goes down both roots at once, so a path is refused or made
 *      exactly as in a run of its own.
 *   6. File.write counts the bytes it writes in the run, and VM_ENTRY_COST
 *      for each file or folder it creates, against sandbox.workspace_quota
 *      (ctx->ws_quota), so a run can fill neither the disk nor its inodes
 *      (a million empty files cost no bytes).
 * Paths in messages are the user's, never the host's absolute ones.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* What one file or folder File.write creates counts against the quota: its
 * first block on the usual file systems, and so a bound on the inodes a run
 * can take (65,536 at the default 256 MiB). */
#define VM_ENTRY_COST 4096ull

static bool quota_allows(const vm_ctx *ctx, unsigned long long more)
{
    return more <= ctx->ws_quota && ctx->ws_written <= ctx->ws_quota - more;
}

/* `doing` says what would pass the quota ("writing 12 more bytes"). */
static int quota_error(lua_State *L, const vm_ctx *ctx, const char *user, const char *doing)
{
    char msg[640]; /* lua_pushfstring has no %zu/%llu */
    snprintf(msg, sizeof msg,
             "%s would pass the run's workspace quota of %llu bytes (%llu MiB; %llu written so "
             "far); raise sandbox.workspace_quota in a trusted configuration if the run needs "
             "more",
             doing, ctx->ws_quota, ctx->ws_quota >> 20, ctx->ws_written);
    return luaL_error(L, "File.write: %s: %s", user, msg);
}

/* One component of a path: the `n` bytes at `p`, or raises. */
static void component(lua_State *L, const char *p, size_t n, char comp[256], const char *user)
{
    if (n >= 256) {
        fail_errno(L, "File.write", user, ENAMETOOLONG);
        return; /* not reached: fail_errno raises */
    }
    memcpy(comp, p, n);
    comp[n] = '\0';
    if (n == 2 && comp[0] == '.' && comp[1] == '.')
        fail_errno(L, "File.write", user, EXDEV); /* vm_path_join removed these; never climb */
}

/* A new folder `comp` of File.write: not named like a procedure's source or
 * sidecar, and within the quota. Raises. */
static void may_create_folder(lua_State *L, const vm_ctx *ctx, const char *comp, const char *user)
{
    size_t n = strlen(comp);
    if (has_suffix(comp, n, ".tac") || has_suffix(comp, n, ".tac.yml"))
        luaL_error(L,
                   "File.write: %s: a folder named %s would take the name of a procedure source "
                   "or sidecar; choose another folder name",
                   user, comp);
    if (!quota_allows(ctx, VM_ENTRY_COST)) {
        char doing[320];
        snprintf(doing, sizeof doing, "creating the folder %.200s (counted as %llu bytes)", comp,
                 VM_ENTRY_COST);
        quota_error(L, ctx, user, doing);
    }
}

/* Creates the missing folders of rel's parent beneath the root File.write
 * writes to: each component is opened O_DIRECTORY|O_NOFOLLOW relative to
 * the previous one, created with mkdirat when missing (mkdirat never
 * follows a link either, and fails on one already there), then opened the
 * same way. A component that is a link, a file, or (when created) named
 * like a protected file stops it with an error.
 * In a pooled run (two roots) the walk goes down the workspace beside the
 * scratch folder: a component the workspace has as a folder is made in the
 * scratch folder at no cost (it is the project's: a run of its own finds it
 * there); one it has as a link or a file refuses the write, as a run of its
 * own does; one neither has is created, named and counted as with one root.
 * The caller checked rel with vm_path_join and vm_file_protected. Raises on
 * failure. */
static void make_parents(lua_State *L, vm_ctx *ctx, const char *rel, const char *user)
{
    const char *last = strrchr(rel, '/');
    if (!last) return; /* in the root: nothing to make */
    bool two = ctx->scratch_fd >= 0;
    int *dir = vm_box_fd(L);             /* in the root written to */
    int *ws = two ? vm_box_fd(L) : NULL; /* in the workspace; -1 past where it has folders */
    *dir = openat(two ? ctx->scratch_fd : ctx->ws_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*dir < 0) fail_errno(L, "File.write", user, errno);
    if (ws) {
        *ws = openat(ctx->ws_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (*ws < 0) fail_errno(L, "File.write", user, errno);
    }
    for (const char *p = rel; p < last;) {
        const char *slash = strchr(p, '/');
        char comp[256];
        component(L, p, (size_t)(slash - p), comp, user);
        bool project = false; /* the workspace has this folder */
        if (ws && *ws >= 0) {
            int w = openat(*ws, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (w < 0 && errno != ENOENT)
                fail_errno(L, "File.write", user, vm_file_component_errno(*ws, comp, errno));
            close(*ws);
            *ws = w;
            project = w >= 0;
        }
        int next = openat(*dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT) {
            if (!project) may_create_folder(L, ctx, comp, user);
            if (mkdirat(*dir, comp, 0755) != 0 && errno != EEXIST)
                fail_errno(L, "File.write", user, errno);
            if (!project) ctx->ws_written += VM_ENTRY_COST;
            next = openat(*dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) fail_errno(L, "File.write", user, vm_file_component_errno(*dir, comp, errno));
        close(*dir);
        *dir = next;
        p = slash + 1;
    }
    close(*dir);
    *dir = -1;
    if (ws && *ws >= 0) close(*ws);
    if (ws) *ws = -1;
    lua_pop(L, ws ? 2 : 1); /* the boxes */
}

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
    int there = vm_file_openat(ctx, rel, O_PATH, 0);
    if (there >= 0) close(there);
    unsigned long long cost = len + (there >= 0 ? 0 : VM_ENTRY_COST);
    if (!quota_allows(ctx, cost)) {
        char doing[96];
        snprintf(doing, sizeof doing, "writing %zu more bytes%s", len,
                 there >= 0 ? "" : " to a new file (a file counts 4096 bytes more)");
        return quota_error(L, ctx, user, doing);
    }
    make_parents(L, ctx, rel, user);
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
    if (there < 0) ctx->ws_written += VM_ENTRY_COST;
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
        int fd = vm_file_open_in(roots[k], rel, O_RDONLY | O_DIRECTORY, 0);
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
