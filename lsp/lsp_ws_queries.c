/*
 * lsp_ws_queries.c - what the workspace index answers: workspace symbols,
 * the locations and renames of a global shared with closed files, and the
 * workspace diagnostics of the files the editor has not opened.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "lsp_internal.h"

/* ---- queries
 * ------------------------------------------------------------------------------------------- */

static cJSON *range_json(const lsp_ws_range *r)
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

static cJSON *ws_location(const char *path, const lsp_ws_range *r)
{
    cJSON *l = cJSON_CreateObject();
    char *uri = lsp_path_to_uri(path);
    cJSON_AddStringToObject(l, "uri", uri ? uri : "");
    tx_free(uri);
    lsp_add(l, "range", range_json(r));
    return l;
}

static bool closed(lsp_workspace *ws, const lsp_ws_file *f)
{
    return !lsp_ws_is_open(ws, f->path);
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
        const lsp_ws_file *f = ws->files[i];
        if (!closed(ws, f)) continue;
        for (size_t k = 0; k < f->n_syms; k++) {
            if ((size_t)cJSON_GetArraySize(arr) >= cap) goto out;
            const lsp_ws_symbol *y = &f->syms[k];
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

static bool requires_path(const lsp_ws_file *f, const char *path)
{
    for (size_t i = 0; i < f->n_requires; i++)
        if (strcmp(f->requires[i], path) == 0) return true;
    return false;
}

static bool declares(const lsp_ws_file *f, const char *name)
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
                           bool from_declares, const lsp_ws_file **out)
{
    const lsp_ws_file *from = tx_map_get(&ws->by_path, from_path, strlen(from_path));
    const char *declarers[64];
    size_t nd = 0;
    if (from_declares) declarers[nd++] = from_path;
    for (int pass = 0; pass < 2 && nd == 0; pass++)
        for (size_t i = 0; i < ws->n_files && nd < 64; i++) {
            const lsp_ws_file *f = ws->files[i];
            if (!declares(f, name) || !closed(ws, f)) continue;
            bool near = requires_path(f, from_path) || (from && requires_path(from, f->path));
            if (pass == 1 || near) declarers[nd++] = f->path;
        }
    size_t n = 0;
    for (size_t i = 0; i < ws->n_files; i++) {
        const lsp_ws_file *f = ws->files[i];
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
    const lsp_ws_file **files = tx_calloc(ws->n_files + 1, sizeof *files);
    size_t n = files ? shared_files(ws, name, except_path, declared_there, files) : 0;
    for (size_t i = 0; i < n; i++) {
        const lsp_ws_file *f = files[i];
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
    const lsp_ws_file **files = tx_calloc(ws->n_files + 1, sizeof *files);
    size_t n = files ? shared_files(ws, name, except_path, true, files) : 0;
    for (size_t i = 0; i < n; i++) {
        const lsp_ws_file *f = files[i];
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
        const lsp_ws_file *f = ws->files[i];
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
                const lsp_ws_diag *d = &f->diags[k];
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
