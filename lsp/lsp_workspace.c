/*
 * lsp_workspace.c - the workspace's .tac files the editor has not opened.
 *
 * After `initialized`, a background thread finds the .tac files of the
 * workspace folders (hidden folders skipped, at most LSP_WS_MAX_FILES) and
 * runs the frontend and the checker on each, with its own fe_context and
 * ck_checker (they are not thread-safe). What it keeps per file is small,
 * so a large workspace stays cheap (bench/lsp: bytes per file): declared
 * names, the global names the code uses, the modules it requires, and the
 * diagnostics, all with positions already converted to the client's
 * encoding. The models themselves are freed at once.
 *
 * Files open in the editor are the editor's: the indexer skips them, and
 * queries read the open documents instead. Progress is reported with
 * $/progress once the client has answered window/workDoneProgress/create.
 * workspace/didChangeWatchedFiles (and didClose) re-index single files.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "lsp_internal.h"

#define LSP_WS_MAX_FILES 20000
#define LSP_WS_MAX_FILE  (16u * 1024u * 1024u)
#define LSP_WS_MAX_DEPTH 32

typedef struct {
    uint32_t sl, sc, el, ec; /* line/character in the client's encoding */
} ws_range;

typedef struct {
    const char *name;
    const char *container; /* fields: their procedure or tool; else NULL */
    uint8_t kind;          /* lsp_sym_kind */
    ws_range at;           /* the name */
    ws_range full;         /* the declaration */
} ws_symbol;

typedef struct {
    const char *name; /* a global name's root (`helper` of helper.run) */
    ws_range at;
} ws_ref;

typedef struct {
    const char *code;
    const char *message;
    const char *related_message; /* or NULL */
    uint8_t severity;
    ws_range at, related;
} ws_diag;

typedef struct {
    char *path;
    const char **requires; /* resolved paths of required .tac modules */
    size_t n_requires;
    ws_symbol *syms;
    size_t n_syms;
    ws_ref *refs;
    size_t n_refs;
    ws_diag *diags;
    size_t n_diags;
    uint64_t result_id;
    tx_arena arena;
} ws_file;

struct lsp_workspace {
    lsp_server *s;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    pthread_t thread;
    bool thread_started;
    bool stop;
    ws_file **files;
    size_t n_files, cap_files;
    tx_map by_path; /* path -> ws_file */
    char **open;    /* paths the editor owns (a few: a linear list) */
    size_t n_open;
    /* progress: the id of our window/workDoneProgress/create, and its answer */
    int64_t progress_request;
    int progress_state; /* 0 waiting, 1 ready, -1 refused */
    uint64_t next_result_id;
    bool done;
    size_t indexed;
};

static void ws_file_free(ws_file *f)
{
    if (!f) return;
    tx_free(f->syms);
    tx_free(f->refs);
    tx_free(f->diags);
    tx_free(f->requires);
    tx_arena_free(&f->arena);
    tx_free(f->path);
    tx_free(f);
}

lsp_workspace *lsp_ws_new(lsp_server *s)
{
    lsp_workspace *ws = tx_calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->s = s;
    pthread_mutex_init(&ws->mu, NULL);
    pthread_cond_init(&ws->cond, NULL);
    tx_map_init(&ws->by_path);
    ws->next_result_id = 1u << 30; /* apart from the open documents' ids */
    return ws;
}

void lsp_ws_free(lsp_workspace *ws)
{
    if (!ws) return;
    pthread_mutex_lock(&ws->mu);
    ws->stop = true;
    pthread_cond_broadcast(&ws->cond);
    pthread_mutex_unlock(&ws->mu);
    if (ws->thread_started) pthread_join(ws->thread, NULL);
    for (size_t i = 0; i < ws->n_files; i++)
        ws_file_free(ws->files[i]);
    tx_free(ws->files);
    tx_map_free(&ws->by_path);
    for (size_t i = 0; i < ws->n_open; i++)
        tx_free(ws->open[i]);
    tx_free(ws->open);
    pthread_cond_destroy(&ws->cond);
    pthread_mutex_destroy(&ws->mu);
    tx_free(ws);
}

/* ---- modules ------------------------------------------------------------------------------------
 */

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

char *lsp_ws_module_path(const char *from_path, const char *module, size_t len)
{
    /* The runtime's rule (vm_require.c): dotted identifiers only. */
    if (len == 0 || len > 200) return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = module[i];
        if (!(c == '.' || c == '_' || (c >= '0' && c <= '9') ||
              ((c | 32) >= 'a' && (c | 32) <= 'z')))
            return NULL;
    }
    if (module[0] == '.' || module[len - 1] == '.') return NULL;
    for (size_t i = 0; i + 1 < len; i++)
        if (module[i] == '.' && module[i + 1] == '.') return NULL;
    const char *slash = strrchr(from_path, '/');
    size_t dl = slash ? (size_t)(slash - from_path) + 1 : 0;
    char *path = tx_malloc(dl + len + 16);
    if (!path) return NULL;
    memcpy(path, from_path, dl);
    for (size_t i = 0; i < len; i++)
        path[dl + i] = module[i] == '.' ? '/' : module[i];
    strcpy(path + dl + len, ".tac");
    if (file_exists(path)) return path;
    strcpy(path + dl + len, "/init.tac");
    if (file_exists(path)) return path;
    tx_free(path);
    return NULL;
}

static void add_module_item(cJSON *items, const char *name)
{
    cJSON *it = cJSON_CreateObject();
    cJSON_AddStringToObject(it, "label", name);
    cJSON_AddNumberToObject(it, "kind", 9); /* Module */
    cJSON_AddStringToObject(it, "detail", "a .tac module beside this file");
    lsp_push(items, it);
}

void lsp_ws_module_names(lsp_server *s, const char *from_path, cJSON *items)
{
    (void)s;
    const char *slash = strrchr(from_path, '/');
    if (!slash) return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - from_path), from_path);
    DIR *dp = opendir(dir);
    if (!dp) return;
    struct dirent *e;
    size_t count = 0;
    while ((e = readdir(dp)) && count < 500) {
        if (e->d_name[0] == '.') continue;
        char sub[4096 + 256];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        size_t nl = strlen(e->d_name);
        if (nl > 4 && strcmp(e->d_name + nl - 4, ".tac") == 0) {
            if (strcmp(sub, from_path) == 0) continue;
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(nl - 4), e->d_name);
            if (!lsp_is_identifier(name, strlen(name))) continue;
            add_module_item(items, name);
            count++;
            continue;
        }
        struct stat sb;
        if (stat(sub, &sb) != 0 || !S_ISDIR(sb.st_mode) || !lsp_is_identifier(e->d_name, nl))
            continue;
        DIR *sd = opendir(sub);
        if (!sd) continue;
        struct dirent *f;
        while ((f = readdir(sd)) && count < 500) {
            size_t fl = strlen(f->d_name);
            if (fl <= 4 || strcmp(f->d_name + fl - 4, ".tac") != 0) continue;
            char name[600];
            if (strcmp(f->d_name, "init.tac") == 0)
                snprintf(name, sizeof name, "%s", e->d_name);
            else
                snprintf(name, sizeof name, "%s.%.*s", e->d_name, (int)(fl - 4), f->d_name);
            add_module_item(items, name);
            count++;
        }
        closedir(sd);
    }
    closedir(dp);
}

/* ---- extracting what is kept
 * ------------------------------------------------------------------------ */

static ws_range range_of(const lsp_view *v, uint32_t s, uint32_t e)
{
    lsp_pos a = lsp_pos_of(v, s), b = lsp_pos_of(v, e < s ? s : e);
    return (ws_range){a.line, a.character, b.line, b.character};
}

typedef struct {
    ws_file *f;
    const lsp_analysis *a;
    lsp_view v;
    size_t cap_syms, cap_refs;
    bool oom;
} extract;

static const char *keep(extract *x, const char *s)
{
    char *c = tx_arena_strndup(&x->f->arena, s, strlen(s));
    if (!c) x->oom = true;
    return c;
}

/* The name's own bytes inside its span (strings: without the quotes). */
static void name_bytes(const lsp_analysis *a, tx_span sp, const char *name, uint32_t *s,
                       uint32_t *e)
{
    *s = sp.start_byte;
    *e = sp.end_byte;
    size_t n = strlen(name);
    for (uint32_t i = sp.start_byte; i + n <= sp.end_byte && i + n <= a->len; i++)
        if (memcmp(a->src + i, name, n) == 0) {
            *s = i;
            *e = i + (uint32_t)n;
            return;
        }
}

static void add_ws_sym(extract *x, lsp_sym_kind kind, const char *name, tx_span name_span,
                       tx_span span, const char *container)
{
    if (!name || !name[0]) return;
    ws_file *f = x->f;
    if (f->n_syms == x->cap_syms) {
        size_t cap = x->cap_syms ? x->cap_syms * 2 : 16;
        ws_symbol *p = tx_realloc(f->syms, cap * sizeof *p);
        if (!p) {
            x->oom = true;
            return;
        }
        f->syms = p;
        x->cap_syms = cap;
    }
    uint32_t s, e;
    name_bytes(x->a, name_span, name, &s, &e);
    ws_symbol *y = &f->syms[f->n_syms++];
    y->name = keep(x, name);
    y->container = container;
    y->kind = (uint8_t)kind;
    y->at = range_of(&x->v, s, e);
    y->full = range_of(&x->v, span.start_byte, span.end_byte);
}

static void add_ws_ref(extract *x, const char *name, size_t root, uint32_t at)
{
    ws_file *f = x->f;
    if (f->n_refs == x->cap_refs) {
        size_t cap = x->cap_refs ? x->cap_refs * 2 : 64;
        ws_ref *p = tx_realloc(f->refs, cap * sizeof *p);
        if (!p) {
            x->oom = true;
            return;
        }
        f->refs = p;
        x->cap_refs = cap;
    }
    char *nm = tx_arena_strndup(&f->arena, name, root);
    if (!nm) {
        x->oom = true;
        return;
    }
    ws_ref *r = &f->refs[f->n_refs++];
    r->name = nm;
    r->at = range_of(&x->v, at, at + (uint32_t)root);
}

static void schema_syms(extract *x, const fe_schema *sc, const char *owner)
{
    for (const fe_field *fd = sc->fields; fd; fd = fd->next)
        add_ws_sym(x, LSP_SYM_FIELD, fd->name, fd->name_span, fd->name_span, owner);
}

static ws_file *extract_file(lsp_server *s, const char *path, const lsp_analysis *a, uint64_t id)
{
    ws_file *f = tx_calloc(1, sizeof *f);
    if (!f) return NULL;
    tx_arena_init(&f->arena);
    f->path = tx_strdup(path);
    f->result_id = id;
    extract x = {.f = f, .a = a, .v = {a->src, a->len, &a->lines, s->enc}};
    const fe_file *m = a->file;
    for (const fe_procedure *p = m ? m->procedures : NULL; p; p = p->next) {
        const char *name = keep(&x, p->name);
        if (p->named) add_ws_sym(&x, LSP_SYM_PROCEDURE, p->name, p->name_span, p->span, NULL);
        schema_syms(&x, &p->input, name);
        schema_syms(&x, &p->output, name);
    }
    for (const fe_agent *ag = m ? m->agents : NULL; ag; ag = ag->next)
        add_ws_sym(&x, LSP_SYM_AGENT, ag->name, ag->name_span, ag->span, NULL);
    for (const fe_tool *t = m ? m->tools : NULL; t; t = t->next)
        add_ws_sym(&x, t->kind == FE_TOOL_TOOLSET ? LSP_SYM_TOOLSET : LSP_SYM_TOOL, t->name,
                   t->name_span, t->span, NULL);
    for (const fe_model *md = m ? m->models : NULL; md; md = md->next)
        add_ws_sym(&x, LSP_SYM_MODEL, md->name, md->name_span, md->span, NULL);
    for (const fe_spec *sp = m ? m->specs : NULL; sp; sp = sp->next)
        for (const fe_scenario *sc = sp->scenarios; sc; sc = sc->next)
            if (sc->name[0])
                add_ws_sym(&x, LSP_SYM_SCENARIO, sc->name, sc->name_span, sc->span,
                           sp->feature_name);
    size_t n_req = 0;
    for (const fe_ref *r = m ? m->refs : NULL; r; r = r->next) {
        size_t root = strcspn(r->name, ".");
        if (root > 0 && strncmp(a->src + r->span.start_byte, r->name, root) == 0)
            add_ws_ref(&x, r->name, root, r->span.start_byte);
        if (r->is_call && strcmp(r->name, "require") == 0) n_req++;
    }
    f->requires = n_req ? tx_calloc(n_req, sizeof *f->requires) : NULL;
    for (const fe_ref *r = m ? m->refs : NULL; r && f->requires; r = r->next) {
        if (!r->is_call || strcmp(r->name, "require") != 0) continue;
        const fe_value *arg = fe_value_at(r->call, 0);
        if (!arg || arg->kind != FE_STRING) continue;
        char *p = lsp_ws_module_path(path, arg->str, arg->str_len);
        if (p) {
            f->requires[f->n_requires++] = keep(&x, p);
            tx_free(p);
        }
    }
    f->diags = a->diags.len ? tx_calloc(a->diags.len, sizeof *f->diags) : NULL;
    for (size_t i = 0; f->diags && i < a->diags.len; i++) {
        const tx_diag *d = &a->diags.items[i];
        ws_diag *w = &f->diags[f->n_diags++];
        w->code = d->code;
        w->message = keep(&x, d->message);
        w->severity = d->severity == TX_SEV_ERROR ? 1 : d->severity == TX_SEV_WARNING ? 2 : 3;
        w->at = range_of(&x.v, d->span.start_byte, d->span.end_byte);
        if (d->has_related) {
            w->related_message = keep(&x, d->related_message ? d->related_message : "");
            w->related = range_of(&x.v, d->related.start_byte, d->related.end_byte);
        }
    }
    if (x.oom || !f->path || (a->diags.len && !f->diags)) {
        ws_file_free(f);
        return NULL;
    }
    /* Trim the growth slack: this stays in memory for the whole session. */
    ws_symbol *ys = f->n_syms ? tx_realloc(f->syms, f->n_syms * sizeof *f->syms) : NULL;
    if (ys) f->syms = ys;
    ws_ref *rs = f->n_refs ? tx_realloc(f->refs, f->n_refs * sizeof *f->refs) : NULL;
    if (rs) f->refs = rs;
    return f;
}

/* Replaces (or with f NULL removes) the entry of `path`. Caller holds mu. */
static void put_file(lsp_workspace *ws, const char *path, ws_file *f)
{
    ws_file *old = tx_map_get(&ws->by_path, path, strlen(path));
    if (old) {
        for (size_t i = 0; i < ws->n_files; i++)
            if (ws->files[i] == old) {
                if (f)
                    ws->files[i] = f;
                else
                    ws->files[i] = ws->files[--ws->n_files];
                break;
            }
        /* Re-key: the map borrows the key from the entry. */
        tx_map_free(&ws->by_path);
        tx_map_init(&ws->by_path);
        ws_file_free(old);
        for (size_t i = 0; i < ws->n_files; i++)
            tx_map_put(&ws->by_path, ws->files[i]->path, strlen(ws->files[i]->path), ws->files[i]);
        return;
    }
    if (!f) return;
    if (ws->n_files == ws->cap_files) {
        size_t cap = ws->cap_files ? ws->cap_files * 2 : 64;
        ws_file **p = tx_realloc(ws->files, cap * sizeof *p);
        if (!p) {
            ws_file_free(f);
            return;
        }
        ws->files = p;
        ws->cap_files = cap;
    }
    ws->files[ws->n_files++] = f;
    if (tx_map_put(&ws->by_path, f->path, strlen(f->path), f) != TX_OK) {
        ws->n_files--;
        ws_file_free(f);
    }
}

/* Reads, analyses and extracts one file (any thread, its own fe/ck). */
static ws_file *index_one(lsp_server *s, fe_context *fe, ck_checker *ck, const char *path,
                          uint64_t id)
{
    char *src;
    size_t len;
    int err_no;
    if (tx_read_file(path, LSP_WS_MAX_FILE, &src, &len, &err_no) != TX_OK) return NULL;
    lsp_analysis *a = lsp_analyse_text(fe, ck, NULL, path, src, len);
    if (!a) return NULL;
    ws_file *f = extract_file(s, path, a, id);
    lsp_analysis_free(a);
    return f;
}

/* ---- the indexing thread
 * ------------------------------------------------------------------------------ */

typedef struct {
    char **paths;
    size_t n, cap;
} path_list;

static void collect(path_list *l, const char *dir, int depth)
{
    if (depth > LSP_WS_MAX_DEPTH || l->n >= LSP_WS_MAX_FILES) return;
    DIR *dp = opendir(dir);
    if (!dp) return;
    struct dirent *e;
    while ((e = readdir(dp)) && l->n < LSP_WS_MAX_FILES) {
        if (e->d_name[0] == '.') continue; /* hidden: .git, .tactus, editors' folders */
        char *sub = tx_malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!sub) break;
        sprintf(sub, "%s/%s", dir, e->d_name);
        struct stat sb;
        size_t nl = strlen(e->d_name);
        if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            collect(l, sub, depth + 1);
        } else if (nl > 4 && strcmp(e->d_name + nl - 4, ".tac") == 0 && S_ISREG(sb.st_mode)) {
            if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 256;
                char **p = tx_realloc(l->paths, cap * sizeof *p);
                if (!p) {
                    tx_free(sub);
                    break;
                }
                l->paths = p;
                l->cap = cap;
            }
            l->paths[l->n++] = sub;
            continue;
        }
        tx_free(sub);
    }
    closedir(dp);
}

static int path_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void progress(lsp_workspace *ws, const char *kind, const char *message, int percent)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "kind", kind);
    if (!strcmp(kind, "begin")) {
        cJSON_AddStringToObject(v, "title", "Indexing .tac files");
        cJSON_AddBoolToObject(v, "cancellable", false);
    }
    if (message) cJSON_AddStringToObject(v, "message", message);
    if (percent >= 0) cJSON_AddNumberToObject(v, "percentage", percent);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "token", "tactus-index");
    lsp_add(p, "value", v);
    lsp_notify(&ws->s->out, "$/progress", p);
}

/* Whether progress may be reported: waits a little for the client's answer
 * to window/workDoneProgress/create (the token is usable only after it). */
static bool progress_ready(lsp_workspace *ws, int wait_ms)
{
    pthread_mutex_lock(&ws->mu);
    if (ws->progress_state == 0 && ws->progress_request && wait_ms > 0) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += wait_ms / 1000;
        t.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (t.tv_nsec >= 1000000000L) t.tv_sec++, t.tv_nsec -= 1000000000L;
        while (ws->progress_state == 0 && !ws->stop)
            if (pthread_cond_timedwait(&ws->cond, &ws->mu, &t) != 0) break;
    }
    bool ok = ws->progress_state == 1;
    pthread_mutex_unlock(&ws->mu);
    return ok;
}

/* Whether the editor owns `path`. Caller holds mu. */
static bool is_open(const lsp_workspace *ws, const char *path)
{
    for (size_t i = 0; i < ws->n_open; i++)
        if (strcmp(ws->open[i], path) == 0) return true;
    return false;
}

static void *index_thread(void *arg)
{
    lsp_workspace *ws = arg;
    lsp_server *s = ws->s;
    int64_t t0 = lsp_now_ms();
    path_list l = {0};
    for (size_t i = 0; i < s->n_folders; i++)
        collect(&l, s->folders[i], 0);
    if (l.n > 1) qsort(l.paths, l.n, sizeof *l.paths, path_cmp);
    fe_context *fe = fe_context_new();
    ck_checker *ck = ck_checker_new();
    bool reporting = progress_ready(ws, 2000);
    char msg[128];
    if (reporting) {
        snprintf(msg, sizeof msg, "0/%zu files", l.n);
        progress(ws, "begin", msg, 0);
    }
    int last_pct = 0;
    int64_t last_report = lsp_now_ms();
    size_t done = 0;
    for (size_t i = 0; i < l.n && fe && ck; i++) {
        pthread_mutex_lock(&ws->mu);
        bool stop = ws->stop;
        bool open = is_open(ws, l.paths[i]);
        uint64_t id = ws->next_result_id++;
        pthread_mutex_unlock(&ws->mu);
        if (stop) break;
        if (!open) {
            ws_file *f = index_one(s, fe, ck, l.paths[i], id);
            pthread_mutex_lock(&ws->mu);
            /* The editor may have opened it meanwhile: its version wins. */
            if (f && !is_open(ws, l.paths[i]))
                put_file(ws, l.paths[i], f);
            else
                ws_file_free(f);
            ws->indexed++;
            pthread_mutex_unlock(&ws->mu);
        }
        done++;
        int pct = (int)(done * 100 / l.n);
        if (reporting && pct > last_pct && lsp_now_ms() - last_report >= 100) {
            snprintf(msg, sizeof msg, "%zu/%zu files", done, l.n);
            progress(ws, "report", msg, pct);
            last_pct = pct;
            last_report = lsp_now_ms();
        }
    }
    if (reporting) {
        snprintf(msg, sizeof msg, "indexed %zu .tac files", done);
        progress(ws, "end", msg, -1);
    }
    lsp_log(&s->out, "workspace: %zu .tac files indexed in %lld ms", done,
            (long long)(lsp_now_ms() - t0));
    pthread_mutex_lock(&ws->mu);
    ws->done = true;
    pthread_mutex_unlock(&ws->mu);
    ck_checker_free(ck);
    fe_context_free(fe);
    for (size_t i = 0; i < l.n; i++)
        tx_free(l.paths[i]);
    tx_free(l.paths);
    return NULL;
}

void lsp_ws_start(lsp_server *s)
{
    lsp_workspace *ws = s->ws;
    if (ws->thread_started || s->n_folders == 0 || s->opts.no_workspace_thread) return;
    if (s->caps.work_done_progress) {
        ws->progress_request = ++s->next_request_id;
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "token", "tactus-index");
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "jsonrpc", "2.0");
        cJSON_AddNumberToObject(m, "id", (double)ws->progress_request);
        cJSON_AddStringToObject(m, "method", "window/workDoneProgress/create");
        lsp_add(m, "params", p);
        lsp_send(&s->out, m);
        cJSON_Delete(m);
    }
    if (pthread_create(&ws->thread, NULL, index_thread, ws) == 0) ws->thread_started = true;
}

void lsp_ws_on_response(lsp_server *s, const cJSON *id, bool ok)
{
    lsp_workspace *ws = s->ws;
    if (!cJSON_IsNumber(id)) return;
    pthread_mutex_lock(&ws->mu);
    if (ws->progress_request && (int64_t)id->valuedouble == ws->progress_request) {
        ws->progress_state = ok ? 1 : -1;
        pthread_cond_broadcast(&ws->cond);
    }
    pthread_mutex_unlock(&ws->mu);
}

void lsp_ws_set_open(lsp_server *s, const char *path, bool open)
{
    lsp_workspace *ws = s->ws;
    pthread_mutex_lock(&ws->mu);
    for (size_t i = 0; i < ws->n_open; i++)
        if (strcmp(ws->open[i], path) == 0) {
            if (!open) {
                tx_free(ws->open[i]);
                ws->open[i] = ws->open[--ws->n_open];
            }
            pthread_mutex_unlock(&ws->mu);
            return;
        }
    if (open) {
        char *k = tx_strdup(path);
        char **list = k ? tx_realloc(ws->open, (ws->n_open + 1) * sizeof *list) : NULL;
        if (list) {
            ws->open = list;
            ws->open[ws->n_open++] = k;
        } else {
            tx_free(k);
        }
    }
    pthread_mutex_unlock(&ws->mu);
}

void lsp_ws_reindex(lsp_server *s, const char *path)
{
    lsp_workspace *ws = s->ws;
    lsp_ws_set_open(s, path, false);
    bool inside = false;
    for (size_t i = 0; i < s->n_folders; i++) {
        size_t fl = strlen(s->folders[i]);
        if (strncmp(path, s->folders[i], fl) == 0 && path[fl] == '/') inside = true;
    }
    if (!inside || !tx_has_suffix(path, ".tac")) return;
    pthread_mutex_lock(&ws->mu);
    uint64_t id = ws->next_result_id++;
    pthread_mutex_unlock(&ws->mu);
    ws_file *f = file_exists(path) ? index_one(s, s->fe, s->ck, path, id) : NULL;
    pthread_mutex_lock(&ws->mu);
    put_file(ws, path, f);
    pthread_mutex_unlock(&ws->mu);
}

void lsp_ws_on_watched(lsp_server *s, const cJSON *params)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(params, "changes"))
    {
        const cJSON *uri = cJSON_GetObjectItemCaseSensitive(c, "uri");
        if (!cJSON_IsString(uri) || lsp_doc_find(s, uri->valuestring)) continue; /* the editor's */
        char *path = lsp_uri_to_path(uri->valuestring);
        if (path) lsp_ws_reindex(s, path);
        tx_free(path);
    }
}

/* ---- queries
 * ------------------------------------------------------------------------------------------- */

static cJSON *range_json(const ws_range *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddObjectToObject(o, "start");
    cJSON_AddNumberToObject(a, "line", r->sl);
    cJSON_AddNumberToObject(a, "character", r->sc);
    cJSON *b = cJSON_AddObjectToObject(o, "end");
    cJSON_AddNumberToObject(b, "line", r->el);
    cJSON_AddNumberToObject(b, "character", r->ec);
    return o;
}

static cJSON *ws_location(const char *path, const ws_range *r)
{
    cJSON *l = cJSON_CreateObject();
    char *uri = lsp_path_to_uri(path);
    cJSON_AddStringToObject(l, "uri", uri ? uri : "");
    tx_free(uri);
    lsp_add(l, "range", range_json(r));
    return l;
}

static bool closed(lsp_workspace *ws, const ws_file *f)
{
    return !is_open(ws, f->path);
}

static bool icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (!n) return true;
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return true;
    return false;
}

void lsp_ws_symbols(lsp_server *s, const char *query, cJSON *arr, size_t cap)
{
    lsp_workspace *ws = s->ws;
    pthread_mutex_lock(&ws->mu);
    for (size_t i = 0; i < ws->n_files; i++) {
        const ws_file *f = ws->files[i];
        if (!closed(ws, f)) continue;
        for (size_t k = 0; k < f->n_syms; k++) {
            if ((size_t)cJSON_GetArraySize(arr) >= cap) goto out;
            const ws_symbol *y = &f->syms[k];
            if (!icontains(y->name, query)) continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", y->name);
            cJSON_AddNumberToObject(o, "kind", lsp_symbol_kind_number(y->kind));
            lsp_add(o, "location", ws_location(f->path, &y->at));
            if (y->container) cJSON_AddStringToObject(o, "containerName", y->container);
            lsp_push(arr, o);
        }
    }
out:
    pthread_mutex_unlock(&ws->mu);
}

static bool requires_path(const ws_file *f, const char *path)
{
    for (size_t i = 0; i < f->n_requires; i++)
        if (strcmp(f->requires[i], path) == 0) return true;
    return false;
}

static bool declares(const ws_file *f, const char *name)
{
    for (size_t k = 0; k < f->n_syms; k++)
        if (f->syms[k].kind != LSP_SYM_FIELD && strcmp(f->syms[k].name, name) == 0) return true;
    return false;
}

/* The closed files that share the global `name` with `from_path`: the
 * files declaring it (those from_path requires, or that require it; else
 * any that declares it; or from_path itself), and every file that
 * requires one of those. Caller holds mu; `out` has room for n_files. */
static size_t shared_files(lsp_workspace *ws, const char *name, const char *from_path,
                           bool from_declares, const ws_file **out)
{
    const ws_file *from = tx_map_get(&ws->by_path, from_path, strlen(from_path));
    const char *declarers[64];
    size_t nd = 0;
    if (from_declares) declarers[nd++] = from_path;
    for (int pass = 0; pass < 2 && nd == 0; pass++)
        for (size_t i = 0; i < ws->n_files && nd < 64; i++) {
            const ws_file *f = ws->files[i];
            if (!declares(f, name) || !closed(ws, f)) continue;
            bool near = requires_path(f, from_path) || (from && requires_path(from, f->path));
            if (pass == 1 || near) declarers[nd++] = f->path;
        }
    size_t n = 0;
    for (size_t i = 0; i < ws->n_files; i++) {
        const ws_file *f = ws->files[i];
        if (!closed(ws, f) || !strcmp(f->path, from_path)) continue;
        bool take = false;
        for (size_t k = 0; k < nd && !take; k++)
            take = !strcmp(f->path, declarers[k]) || requires_path(f, declarers[k]);
        if (take) out[n++] = f;
    }
    return n;
}

void lsp_ws_locations(lsp_server *s, const char *name, bool decls, bool refs,
                      const char *except_path, bool declared_there, cJSON *arr)
{
    lsp_workspace *ws = s->ws;
    pthread_mutex_lock(&ws->mu);
    const ws_file **files = tx_calloc(ws->n_files + 1, sizeof *files);
    size_t n = files ? shared_files(ws, name, except_path, declared_there, files) : 0;
    for (size_t i = 0; i < n; i++) {
        const ws_file *f = files[i];
        for (size_t k = 0; decls && k < f->n_syms; k++)
            if (f->syms[k].kind != LSP_SYM_FIELD && strcmp(f->syms[k].name, name) == 0)
                lsp_push(arr, ws_location(f->path, &f->syms[k].at));
        for (size_t k = 0; refs && k < f->n_refs; k++)
            if (strcmp(f->refs[k].name, name) == 0)
                lsp_push(arr, ws_location(f->path, &f->refs[k].at));
    }
    tx_free(files);
    pthread_mutex_unlock(&ws->mu);
}

void lsp_ws_rename(lsp_server *s, const char *name, const char *new_name, const char *except_path,
                   cJSON *changes)
{
    lsp_workspace *ws = s->ws;
    pthread_mutex_lock(&ws->mu);
    const ws_file **files = tx_calloc(ws->n_files + 1, sizeof *files);
    size_t n = files ? shared_files(ws, name, except_path, true, files) : 0;
    for (size_t i = 0; i < n; i++) {
        const ws_file *f = files[i];
        cJSON *edits = NULL;
        for (size_t k = 0; k < f->n_refs; k++) {
            if (strcmp(f->refs[k].name, name) != 0) continue;
            if (!edits) {
                char *uri = lsp_path_to_uri(f->path);
                edits = cJSON_AddArrayToObject(changes, uri ? uri : "");
                tx_free(uri);
            }
            cJSON *e = cJSON_CreateObject();
            lsp_add(e, "range", range_json(&f->refs[k].at));
            cJSON_AddStringToObject(e, "newText", new_name);
            lsp_push(edits, e);
        }
    }
    tx_free(files);
    pthread_mutex_unlock(&ws->mu);
}

void lsp_ws_diagnostics(lsp_server *s, const cJSON *previous, cJSON *items)
{
    lsp_workspace *ws = s->ws;
    pthread_mutex_lock(&ws->mu);
    for (size_t i = 0; i < ws->n_files; i++) {
        const ws_file *f = ws->files[i];
        if (!closed(ws, f)) continue;
        char *uri = lsp_path_to_uri(f->path);
        char id[32];
        snprintf(id, sizeof id, "%llu", (unsigned long long)f->result_id);
        bool same = false;
        const cJSON *p;
        cJSON_ArrayForEach(p, previous)
        {
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(p, "uri");
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "value");
            if (cJSON_IsString(u) && cJSON_IsString(v) && uri && !strcmp(u->valuestring, uri) &&
                !strcmp(v->valuestring, id))
                same = true;
        }
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "uri", uri ? uri : "");
        cJSON_AddNullToObject(r, "version");
        cJSON_AddStringToObject(r, "kind", same ? "unchanged" : "full");
        cJSON_AddStringToObject(r, "resultId", id);
        if (!same) {
            cJSON *arr = cJSON_AddArrayToObject(r, "items");
            for (size_t k = 0; k < f->n_diags; k++) {
                const ws_diag *d = &f->diags[k];
                cJSON *o = lsp_diag_object(
                    range_json(&d->at), d->severity, d->code, d->message, uri ? uri : "",
                    d->related_message ? range_json(&d->related) : NULL, d->related_message);
                lsp_push(arr, o);
            }
        }
        lsp_push(items, r);
        tx_free(uri);
    }
    pthread_mutex_unlock(&ws->mu);
}

bool lsp_ws_indexing_done(lsp_server *s, size_t *files)
{
    lsp_workspace *ws = s->ws;
    pthread_mutex_lock(&ws->mu);
    bool done = ws->done || !ws->thread_started;
    if (files) *files = ws->n_files;
    pthread_mutex_unlock(&ws->mu);
    return done;
}
