/*
 * lsp_lifecycle.c - initialize (the client's capabilities read, ours
 * announced, the position encoding negotiated), initialized (watched files
 * registered, the workspace indexed), shutdown and exit. lsp_server.c
 * dispatches to them and enforces the order (LSP 3.17 "Lifecycle Messages").
 */
#include <stdio.h>
#include <string.h>

#include "lsp_internal.h"

static bool truthy(const cJSON *o, const char *path0, const char *path1, const char *path2)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, path0);
    if (path1) x = cJSON_GetObjectItemCaseSensitive(x, path1);
    if (path2) x = cJSON_GetObjectItemCaseSensitive(x, path2);
    return cJSON_IsTrue(x);
}

static void read_client_caps(lsp_server *s, const cJSON *caps, const cJSON *init_opts)
{
    const cJSON *td = cJSON_GetObjectItemCaseSensitive(caps, "textDocument");
    s->caps.pull_support = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(td, "diagnostic"));
    s->caps.push_diagnostics = !s->caps.pull_support;
    s->caps.work_done_progress = truthy(caps, "window", "workDoneProgress", NULL);
    s->caps.watch_registration =
        truthy(caps, "workspace", "didChangeWatchedFiles", "dynamicRegistration");
    s->caps.snippets = truthy(td, "completion", "completionItem", "snippetSupport");
    s->caps.hierarchical_symbols =
        truthy(td, "documentSymbol", "hierarchicalDocumentSymbolSupport", NULL);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(td, "hover"), "contentFormat");
    const cJSON *f;
    cJSON_ArrayForEach(f, fmt) if (cJSON_IsString(f) && strcmp(f->valuestring, "markdown") == 0)
        s->caps.markdown_hover = true;

    /* Position encoding (3.17): the first the client prefers that we speak. */
    s->enc = LSP_ENC_UTF16;
    const cJSON *encs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(caps, "general"), "positionEncodings");
    cJSON_ArrayForEach(f, encs)
    {
        if (!cJSON_IsString(f)) continue;
        if (strcmp(f->valuestring, "utf-16") == 0) break;
        if (strcmp(f->valuestring, "utf-8") == 0) {
            s->enc = LSP_ENC_UTF8;
            break;
        }
        if (strcmp(f->valuestring, "utf-32") == 0) {
            s->enc = LSP_ENC_UTF32;
            break;
        }
    }

    /* initializationOptions: {debounceMs, pushDiagnostics} (docs/editors.md). */
    const cJSON *deb = cJSON_GetObjectItemCaseSensitive(init_opts, "debounceMs");
    if (cJSON_IsNumber(deb) && deb->valuedouble >= 0 && deb->valuedouble <= 10000)
        s->debounce_ms = (int)deb->valuedouble;
    const cJSON *push = cJSON_GetObjectItemCaseSensitive(init_opts, "pushDiagnostics");
    if (cJSON_IsBool(push)) s->caps.push_diagnostics = cJSON_IsTrue(push);
}

static void add_folder(lsp_server *s, const char *uri)
{
    char *path = lsp_uri_to_path(uri);
    if (!path) return;
    char **f = tx_realloc(s->folders, (s->n_folders + 1) * sizeof *f);
    if (!f) {
        tx_free(path);
        return;
    }
    s->folders = f;
    s->folders[s->n_folders++] = path;
}

static cJSON *strings(const char *const *list)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; list[i]; i++)
        lsp_push(a, cJSON_CreateString(list[i]));
    return a;
}

cJSON *lsp_on_initialize(lsp_server *s, const cJSON *params, lsp_error *err)
{
    if (!cJSON_IsObject(params))
        return lsp_fail(err, LSP_INVALID_PARAMS, "initialize needs params {capabilities, ...}");
    read_client_caps(s, cJSON_GetObjectItemCaseSensitive(params, "capabilities"),
                     cJSON_GetObjectItemCaseSensitive(params, "initializationOptions"));
    const cJSON *folders = cJSON_GetObjectItemCaseSensitive(params, "workspaceFolders");
    const cJSON *f;
    cJSON_ArrayForEach(f, folders)
    {
        const cJSON *uri = cJSON_GetObjectItemCaseSensitive(f, "uri");
        if (cJSON_IsString(uri)) add_folder(s, uri->valuestring);
    }
    const cJSON *root = cJSON_GetObjectItemCaseSensitive(params, "rootUri");
    if (s->n_folders == 0 && cJSON_IsString(root)) add_folder(s, root->valuestring);
    s->state = LSP_RUNNING;

    cJSON *res = cJSON_CreateObject();
    cJSON *c = cJSON_AddObjectToObject(res, "capabilities");
    cJSON_AddStringToObject(c, "positionEncoding", lsp_encoding_name(s->enc));
    cJSON *sync = cJSON_AddObjectToObject(c, "textDocumentSync");
    cJSON_AddBoolToObject(sync, "openClose", true);
    cJSON_AddNumberToObject(sync, "change", 2); /* incremental */
    lsp_add(cJSON_AddObjectToObject(sync, "save"), "includeText", cJSON_CreateFalse());
    cJSON_AddBoolToObject(c, "hoverProvider", true);
    cJSON *comp = cJSON_AddObjectToObject(c, "completionProvider");
    static const char *const comp_triggers[] = {".", "\"", NULL};
    lsp_add(comp, "triggerCharacters", strings(comp_triggers));
    cJSON *sig = cJSON_AddObjectToObject(c, "signatureHelpProvider");
    static const char *const sig_triggers[] = {"(", "{", ",", NULL};
    lsp_add(sig, "triggerCharacters", strings(sig_triggers));
    cJSON_AddBoolToObject(c, "definitionProvider", true);
    cJSON_AddBoolToObject(c, "referencesProvider", true);
    cJSON_AddBoolToObject(c, "documentHighlightProvider", true);
    cJSON_AddBoolToObject(c, "documentSymbolProvider", true);
    cJSON_AddBoolToObject(c, "workspaceSymbolProvider", true);
    cJSON *ca = cJSON_AddObjectToObject(c, "codeActionProvider");
    static const char *const action_kinds[] = {"quickfix", "source", NULL};
    lsp_add(ca, "codeActionKinds", strings(action_kinds));
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(c, "renameProvider"), "prepareProvider", true);
    cJSON_AddBoolToObject(c, "foldingRangeProvider", true);
    cJSON_AddBoolToObject(c, "selectionRangeProvider", true);
    cJSON *st = cJSON_AddObjectToObject(c, "semanticTokensProvider");
    lsp_add(st, "legend", lsp_tokens_legend());
    cJSON_AddBoolToObject(st, "range", true);
    cJSON_AddBoolToObject(st, "full", true);
    cJSON *dp = cJSON_AddObjectToObject(c, "diagnosticProvider");
    cJSON_AddStringToObject(dp, "identifier", "tactus");
    /* A file's findings depend on its siblings (require, TAC402). */
    cJSON_AddBoolToObject(dp, "interFileDependencies", true);
    cJSON_AddBoolToObject(dp, "workspaceDiagnostics", true);
    cJSON *ws = cJSON_AddObjectToObject(c, "workspace");
    cJSON *wf = cJSON_AddObjectToObject(ws, "workspaceFolders");
    cJSON_AddBoolToObject(wf, "supported", true);
    cJSON *info = cJSON_AddObjectToObject(res, "serverInfo");
    cJSON_AddStringToObject(info, "name", "tactus");
    cJSON_AddStringToObject(info, "version", TACTUS_VERSION);
    lsp_log(&s->out, "initialized: encoding %s, %s diagnostics, %zu workspace folder(s)",
            lsp_encoding_name(s->enc), s->caps.push_diagnostics ? "pushed" : "pulled",
            s->n_folders);
    return res;
}

cJSON *lsp_on_shutdown(lsp_server *s, const cJSON *params, lsp_error *err)
{
    (void)params;
    (void)err;
    s->state = LSP_SHUTDOWN;
    return cJSON_CreateNull();
}

static void send_request(lsp_server *s, const char *method, cJSON *params)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(m, "id", (double)++s->next_request_id);
    cJSON_AddStringToObject(m, "method", method);
    lsp_add(m, "params", params);
    lsp_send(&s->out, m);
    cJSON_Delete(m);
}

void lsp_on_initialized(lsp_server *s, const cJSON *params)
{
    (void)params;
    if (s->caps.watch_registration) {
        cJSON *p = cJSON_CreateObject();
        cJSON *regs = cJSON_AddArrayToObject(p, "registrations");
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "id", "tactus-watch-tac");
        cJSON_AddStringToObject(r, "method", "workspace/didChangeWatchedFiles");
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "globPattern", "**/*.tac");
        cJSON *ro = cJSON_AddObjectToObject(r, "registerOptions");
        lsp_push(cJSON_AddArrayToObject(ro, "watchers"), w);
        lsp_push(regs, r);
        send_request(s, "client/registerCapability", p);
    }
    lsp_ws_start(s);
}

void lsp_on_exit(lsp_server *s, const cJSON *params)
{
    (void)params;
    s->exit_status = s->state == LSP_SHUTDOWN ? 0 : 1;
    s->state = LSP_EXITED;
}
