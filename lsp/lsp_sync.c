/*
 * lsp_sync.c - text synchronisation: didOpen, didChange (incremental),
 * didClose, didSave and watched files, and the debounced diagnostics push
 * each of them schedules.
 */
#include <stdio.h>
#include <string.h>

#include "lsp_internal.h"

static void schedule_publish(lsp_server *s, lsp_doc *d, int delay_ms)
{
    if (!s->caps.push_diagnostics) return;
    d->publish_due = lsp_now_ms() + delay_ms;
    if (d->publish_due == 0) d->publish_due = 1;
}

void lsp_on_did_open(lsp_server *s, const cJSON *params)
{
    const cJSON *td = cJSON_GetObjectItemCaseSensitive(params, "textDocument");
    const cJSON *uri = cJSON_GetObjectItemCaseSensitive(td, "uri");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(td, "text");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(td, "version");
    if (!cJSON_IsString(uri) || !cJSON_IsString(text)) {
        lsp_log(&s->out, "didOpen without textDocument.uri and .text: ignored");
        return;
    }
    lsp_doc_close(s, uri->valuestring); /* a second didOpen replaces the first */
    size_t n = strlen(text->valuestring);
    lsp_doc *d = lsp_doc_open(s, uri->valuestring,
                              cJSON_IsNumber(version) ? (int64_t)version->valuedouble : 0,
                              text->valuestring, n);
    if (!d) {
        lsp_show_message(s, 1, "tactus lsp: out of memory opening the document");
        return;
    }
    lsp_ws_set_open(s, d->path, true);
    if (d->too_large) lsp_diag_too_large(s, d);
    schedule_publish(s, d, 0);
}

void lsp_on_did_change(lsp_server *s, const cJSON *params)
{
    lsp_error err = {0};
    lsp_doc *d = lsp_param_doc(s, params, &err);
    if (!d) {
        lsp_log(&s->out, "didChange: %s", err.message);
        return;
    }
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(params, "textDocument"), "version");
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(params, "contentChanges");
    const cJSON *c;
    cJSON_ArrayForEach(c, changes)
    {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(c, "text");
        const cJSON *range = cJSON_GetObjectItemCaseSensitive(c, "range");
        if (!cJSON_IsString(text)) {
            lsp_log(&s->out, "didChange: a content change without text was ignored");
            continue;
        }
        tx_status st =
            lsp_doc_change(s, d, range, text->valuestring, strlen(text->valuestring), &err);
        if (st != TX_OK) {
            /* The editor and the server now disagree on the text: say so
             * plainly rather than serve wrong positions. */
            char msg[1200];
            snprintf(
                msg, sizeof msg,
                "tactus lsp: a change to %.300s was refused (%.700s); close and reopen the file",
                d->uri, st == TX_ENOMEM ? "out of memory" : err.message);
            lsp_show_message(s, 1, msg);
            lsp_doc_close(s, d->uri);
            return;
        }
    }
    if (cJSON_IsNumber(version)) d->version = (int64_t)version->valuedouble;
    if (d->too_large) lsp_diag_too_large(s, d);
    schedule_publish(s, d, s->debounce_ms);
}

void lsp_on_did_close(lsp_server *s, const cJSON *params)
{
    lsp_error err = {0};
    lsp_doc *d = lsp_param_doc(s, params, &err);
    if (!d) return;
    char *path = tx_strdup(d->path);
    char *uri = tx_strdup(d->uri);
    bool pushed = s->caps.push_diagnostics;
    lsp_doc_close(s, d->uri);
    if (pushed && uri) lsp_diag_publish_empty(s, uri);
    /* The editor no longer owns it: the index reads it from disk again. */
    if (path) lsp_ws_reindex(s, path);
    tx_free(path);
    tx_free(uri);
}

void lsp_on_did_save(lsp_server *s, const cJSON *params)
{
    (void)params;
    /* Other open files may require the saved one (TAC402 looks at disk). */
    for (lsp_doc *d = s->docs; d; d = d->next) {
        if (d->an) d->an->generation = 0; /* re-analyse */
        schedule_publish(s, d, s->debounce_ms);
    }
}

void lsp_on_watched(lsp_server *s, const cJSON *params)
{
    lsp_ws_on_watched(s, params);
    lsp_on_did_save(s, params);
}
