/*
 * ck_sandbox.c - the sandbox surface (TAC401, TAC402).
 *
 * The runtime's Lua state opens an allow-list of libraries (see
 * docs/sandbox.md); anything outside it does not exist at run time. Catching
 * it here turns a run-time "attempt to index a nil value" into a message that
 * says what to use instead. Only global names are reported: a local that
 * shadows `io` is the user's own.
 */
#include <string.h>
#include <sys/stat.h>

#include "ck_internal.h"

typedef struct {
    const char *name; /* exact name, or a root followed by "." for a family */
    const char *instead;
} forbidden;

static const forbidden forbidden_names[] = {
    {"os.execute", "a brokered host tool: Tool { use = \"broker.host.NAME\" } or Host.call(\"host.NAME\", args)"},
    {"os.exit", "return from the procedure, or error(\"...\") to fail it"},
    {"os.getenv", "procedure inputs (secrets never reach the sandbox; the broker holds them)"},
    {"os.remove", "File (confined to the workspace) or require(\"tactus.io.fs\")"},
    {"os.rename", "File (confined to the workspace) or require(\"tactus.io.fs\")"},
    {"os.tmpname", "a path under the workspace with File.write"},
    {"os.setlocale", "nothing: the sandbox runs in the C locale"},
    {"io.", "File.read/File.write (confined to the workspace) or require(\"tactus.io.file\")"},
    {"load", "require(\"module\") of a .tac file beside this one"},
    {"loadstring", "require(\"module\") of a .tac file beside this one"},
    {"dofile", "require(\"module\") of a .tac file beside this one"},
    {"loadfile", "require(\"module\") of a .tac file beside this one"},
    {"string.dump", "nothing: bytecode is not available in the sandbox"},
    {"debug.", "Log.debug(...) for diagnostics"},
    {"package.", "require of a stdlib module or of a .tac file beside this one"},
};

/* os.time/date/clock/difftime are provided (answered by the host so that
 * replays are deterministic). */
static bool os_allowed(const char *name)
{
    return strcmp(name, "os.time") == 0 || strcmp(name, "os.date") == 0 ||
           strcmp(name, "os.clock") == 0 || strcmp(name, "os.difftime") == 0;
}

static const forbidden *lookup(const char *name)
{
    size_t root = strcspn(name, ".");
    for (size_t i = 0; i < sizeof forbidden_names / sizeof forbidden_names[0]; i++) {
        const char *fn = forbidden_names[i].name;
        size_t fl = strlen(fn);
        if (fn[fl - 1] == '.') {
            /* family: io, io.open, io.lines ... */
            if (root == fl - 1 && strncmp(name, fn, root) == 0) return &forbidden_names[i];
        } else if (strcmp(name, fn) == 0 ||
                   (strncmp(name, fn, fl) == 0 && name[fl] == '.' && !strchr(fn, '.'))) {
            return &forbidden_names[i];
        }
    }
    return NULL;
}

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

bool ck_module_path(const char *file_path, const char *name, char *path, size_t cap)
{
    if (strstr(name, "..") || name[0] == '/' || name[0] == '.') return false;
    const char *slash = strrchr(file_path, '/');
    size_t dl = slash ? (size_t)(slash - file_path) + 1 : 0;
    size_t nl = strlen(name);
    if (dl + nl + 16 > cap) return false;
    memcpy(path, file_path, dl);
    for (size_t i = 0; i < nl; i++) path[dl + i] = name[i] == '.' ? '/' : name[i];
    strcpy(path + dl + nl, ".tac");
    if (file_exists(path)) return true;
    strcpy(path + dl + nl, "/init.tac");
    return file_exists(path);
}

/* A .tac module beside the file: name "a.b" -> DIR/a/b.tac or DIR/a/b/init.tac. */
static bool module_beside(const char *file_path, const char *name)
{
    char path[4096];
    return ck_module_path(file_path, name, path, sizeof path);
}

static void check_require(ck_run *r, const fe_ref *ref)
{
    const fe_value *arg = fe_value_at(ref->call, 0);
    if (!arg || arg->kind != FE_STRING) return;
    const char *m = arg->str;
    if (fe_is_stdlib_module(m)) return;
    static const char *const foreign[] = {"tactus.io.parquet", "tactus.io.hdf5", "tactus.io.excel"};
    for (size_t i = 0; i < 3; i++)
        if (strcmp(m, foreign[i]) == 0) {
            ck_report(r, "TAC402", arg->span,
                      "module \"%s\" is not available in this runtime (no foreign data formats); "
                      "convert the data to CSV or JSON and use tactus.io.csv or tactus.io.json",
                      m);
            return;
        }
    if (module_beside(r->f->path, m)) return;
    tx_buf b;
    tx_buf_init(&b, 1024);
    for (size_t i = 0; fe_stdlib_modules[i]; i++)
        tx_buf_printf(&b, "%s%s", i ? ", " : "", fe_stdlib_modules[i]);
    size_t n_std = 0;
    while (fe_stdlib_modules[n_std]) n_std++;
    const char *near = ck_nearest_name(m, (const char *const *)fe_stdlib_modules, n_std);
    ck_report(r, "TAC402", arg->span,
              "require(\"%s\"): no stdlib module and no %s.tac beside this file%s%s%s; the "
              "sandbox can load only the stdlib (%s) and .tac files from the procedure's folder",
              m, m, near ? " (did you mean \"" : "", near ? near : "", near ? "\"?)" : "",
              b.data ? b.data : "");
    tx_buf_free(&b);
}

void ck_rule_sandbox(ck_run *r)
{
    for (const fe_ref *ref = r->f->refs; ref; ref = ref->next) {
        const char *name = ref->name;
        if (strcmp(name, "require") == 0 && ref->is_call) {
            check_require(r, ref);
            continue;
        }
        if (strncmp(name, "os", 2) == 0 && (name[2] == '\0' || name[2] == '.')) {
            if (os_allowed(name)) continue;
            const forbidden *fb = lookup(name);
            ck_report(r, "TAC401", ref->span,
                      "'%s' is not available in the sandbox (only os.time, os.date, os.clock and "
                      "os.difftime are); use %s",
                      name, fb ? fb->instead : "procedure inputs, File, or a brokered host tool");
            continue;
        }
        const forbidden *fb = lookup(name);
        if (!fb) continue;
        ck_report(r, "TAC401", ref->span, "'%s' is not available in the sandbox; use %s", name,
                  fb->instead);
    }
}
