/*
 * lsp_diag.c - the checker's findings as LSP diagnostics.
 *
 * Nothing here decides what is wrong: every diagnostic is one tx_diag of
 * ck_check, the code `tactus check` runs, with its code, severity, span and
 * message unchanged. Only the range is converted, from the span's byte
 * offsets to the client's position encoding. Each carries `code`,
 * `codeDescription.href` (its section of docs/diagnostics.md), `source`
 * "tactus", and `relatedInformation` when the rule named a second place.
 *
 * Pushed (publishDiagnostics with the document version, after open and,
 * debounced, after changes) to clients without pull support; pulled with
 * textDocument/diagnostic and workspace/diagnostic (resultIds let the
 * client skip unchanged reports).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lsp_internal.h"

#ifndef TACTUS_DOCS_URL
#define TACTUS_DOCS_URL "docs"
#endif

void lsp_diag_href(const char *code, char *buf, size_t cap)
{
    char anchor[16];
    size_t i = 0;
    for (; code[i] && i + 1 < sizeof anchor; i++)
        anchor[i] = (char)tolower((unsigned char)code[i]);
    anchor[i] = '\0';
    snprintf(buf, cap, "%s/diagnostics.md#%s", TACTUS_DOCS_URL, anchor);
}

cJSON *lsp_diag_object(cJSON *range, int severity, const char *code, const char *message,
                       const char *related_uri, cJSON *related_range, const char *related_message)
{
    cJSON *o = cJSON_CreateObject();
    lsp_add(o, "range", range);
    cJSON_AddNumberToObject(o, "severity", severity);
    cJSON_AddStringToObject(o, "code", code);
    char href[512];
    lsp_diag_href(code, href, sizeof href);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "codeDescription"), "href", href);
    cJSON_AddStringToObject(o, "source", "tactus");
    cJSON_AddStringToObject(o, "message", message);
    if (related_range) {
        cJSON *r = cJSON_CreateObject();
        cJSON *loc = cJSON_AddObjectToObject(r, "location");
        cJSON_AddStringToObject(loc, "uri", related_uri);
        lsp_add(loc, "range", related_range);
        cJSON_AddStringToObject(r, "message", related_message ? related_message : "");
        lsp_push(cJSON_AddArrayToObject(o, "relatedInformation"), r);
    }
    return o;
}

cJSON *lsp_diag_json(const lsp_server *s, const lsp_analysis *a, const char *uri, const tx_diag *d)
{
    lsp_view v = lsp_analysis_view(s, a);
    return lsp_diag_object(
        lsp_json_range(&v, d->span.start_byte, d->span.end_byte),
        d->severity == TX_SEV_ERROR     ? 1
        : d->severity == TX_SEV_WARNING ? 2
                                        : 3,
        d->code, d->message, uri,
        d->has_related ? lsp_json_range(&v, d->related.start_byte, d->related.end_byte) : NULL,
        d->related_message);
}

cJSON *lsp_diag_array(const lsp_server *s, const lsp_analysis *a, const char *uri)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; a && i < a->diags.len; i++)
        lsp_push(arr, lsp_diag_json(s, a, uri, &a->diags.items[i]));
    return arr;
}

void lsp_diag_too_large(lsp_server *s, lsp_doc *d)
{
    if (d->too_large_told) return;
    d->too_large_told = true;
    char msg[1024];
    snprintf(msg, sizeof msg,
             "tactus lsp: %.300s is %.1f MiB; the language server analyses documents up to %u "
             "MiB, so it shows no diagnostics or symbols for it. Split the file (tactus check "
             "still checks files up to 64 MiB).",
             d->uri, (double)d->len / (1024.0 * 1024.0), LSP_MAX_DOCUMENT >> 20);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "type", 1);
    cJSON_AddStringToObject(p, "message", msg);
    lsp_notify(&s->out, "window/showMessage", p);
}

static void publish(lsp_server *s, const char *uri, const int64_t *version, cJSON *diags)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "uri", uri);
    if (version) cJSON_AddNumberToObject(p, "version", (double)*version);
    lsp_add(p, "diagnostics", diags);
    lsp_notify(&s->out, "textDocument/publishDiagnostics", p);
}

void lsp_diag_publish(lsp_server *s, lsp_doc *d)
{
    lsp_analysis *a = lsp_doc_analysis(s, d);
    if (!a) {
        lsp_log(&s->out, "%s: out of memory analysing", d->uri);
        return;
    }
    d->published = d->generation;
    publish(s, d->uri, &d->version, lsp_diag_array(s, a, d->uri));
}

void lsp_diag_publish_empty(lsp_server *s, const char *uri)
{
    publish(s, uri, NULL, cJSON_CreateArray());
}

/* A full or unchanged report (DocumentDiagnosticReport). */
static cJSON *report(const lsp_server *s, const lsp_analysis *a, const char *uri,
                     const char *previous)
{
    char id[32];
    snprintf(id, sizeof id, "%llu", (unsigned long long)a->result_id);
    cJSON *r = cJSON_CreateObject();
    if (previous && strcmp(previous, id) == 0) {
        cJSON_AddStringToObject(r, "kind", "unchanged");
        cJSON_AddStringToObject(r, "resultId", id);
        return r;
    }
    cJSON_AddStringToObject(r, "kind", "full");
    cJSON_AddStringToObject(r, "resultId", id);
    lsp_add(r, "items", lsp_diag_array(s, a, uri));
    return r;
}

cJSON *lsp_on_diagnostic(lsp_server *s, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_param_doc(s, params, err);
    if (!d) return NULL;
    lsp_analysis *a = lsp_doc_analysis(s, d);
    if (!a) return NULL;
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(params, "previousResultId");
    return report(s, a, d->uri, cJSON_IsString(prev) ? prev->valuestring : NULL);
}

cJSON *lsp_on_workspace_diagnostic(lsp_server *s, const cJSON *params, lsp_error *err)
{
    (void)err;
    const cJSON *previous = cJSON_GetObjectItemCaseSensitive(params, "previousResultIds");
    cJSON *res = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(res, "items");
    for (lsp_doc *d = s->docs; d; d = d->next) {
        lsp_analysis *a = lsp_doc_analysis(s, d);
        if (!a) continue;
        const char *prev = NULL;
        const cJSON *p;
        cJSON_ArrayForEach(p, previous)
        {
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(p, "uri");
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "value");
            if (cJSON_IsString(u) && cJSON_IsString(v) && strcmp(u->valuestring, d->uri) == 0)
                prev = v->valuestring;
        }
        cJSON *r = report(s, a, d->uri, prev);
        cJSON_AddStringToObject(r, "uri", d->uri);
        cJSON_AddNumberToObject(r, "version", (double)d->version);
        lsp_push(items, r);
    }
    lsp_ws_diagnostics(s, previous, items);
    return res;
}
