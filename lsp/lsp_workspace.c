/*
 * lsp_workspace.c - the workspace's .tac files the editor has not opened:
 * the index, its background thread, watched files, and require's modules.
 * (lsp_ws_extract.c makes an index entry of a file, lsp_ws_queries.c answers
 * from the index.)
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
#define LSP_WS_MAX_DEPTH 32

void lsp_ws_file_free(lsp_ws_file *f)
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
        lsp_ws_file_free(ws->files[i]);
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

/* Replaces (or with f NULL removes) the entry of `path`. Caller holds mu. */
static void put_file(lsp_workspace *ws, const char *path, lsp_ws_file *f)
{
    lsp_ws_file *old = tx_map_get(&ws->by_path, path, strlen(path));
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
        lsp_ws_file_free(old);
        for (size_t i = 0; i < ws->n_files; i++)
            tx_map_put(&ws->by_path, ws->files[i]->path, strlen(ws->files[i]->path), ws->files[i]);
        return;
    }
    if (!f) return;
    if (ws->n_files == ws->cap_files) {
        size_t cap = ws->cap_files ? ws->cap_files * 2 : 64;
        lsp_ws_file **p = tx_realloc(ws->files, cap * sizeof *p);
        if (!p) {
            lsp_ws_file_free(f);
            return;
        }
        ws->files = p;
        ws->cap_files = cap;
    }
    ws->files[ws->n_files++] = f;
    if (tx_map_put(&ws->by_path, f->path, strlen(f->path), f) != TX_OK) {
        ws->n_files--;
        lsp_ws_file_free(f);
    }
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
bool lsp_ws_is_open(const lsp_workspace *ws, const char *path)
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
        bool open = lsp_ws_is_open(ws, l.paths[i]);
        uint64_t id = ws->next_result_id++;
        pthread_mutex_unlock(&ws->mu);
        if (stop) break;
        if (!open) {
            lsp_ws_file *f = lsp_ws_index_one(s, fe, ck, l.paths[i], id);
            pthread_mutex_lock(&ws->mu);
            /* The editor may have opened it meanwhile: its version wins. */
            if (f && !lsp_ws_is_open(ws, l.paths[i]))
                put_file(ws, l.paths[i], f);
            else
                lsp_ws_file_free(f);
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
    lsp_ws_file *f = file_exists(path) ? lsp_ws_index_one(s, s->fe, s->ck, path, id) : NULL;
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

bool lsp_ws_indexing_done(lsp_server *s, size_t *files)
{
    lsp_workspace *ws = s->ws;
    pthread_mutex_lock(&ws->mu);
    bool done = ws->done || !ws->thread_started;
    if (files) *files = ws->n_files;
    pthread_mutex_unlock(&ws->mu);
    return done;
}
