/*
 * lsp_server.c - replies, dispatch, cancellation and the stdio loop (the
 * lifecycle's handlers are in lsp_lifecycle.c, text sync's in lsp_sync.c).
 *
 * LSP 3.17 "Lifecycle Messages": before `initialize`, requests get -32002
 * and notifications are dropped (except `exit`); after `shutdown`, requests
 * get -32600 and only `exit` is obeyed; `exit` ends the process with status
 * 0 after shutdown and 1 without (end of input counts as exit). Requests
 * are handled one at a time in order of arrival. Before a request is
 * handled the server reads whatever input is already waiting, so a
 * $/cancelRequest sent behind it is seen and the request is answered with
 * -32800 instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lsp_internal.h"

#define LSP_DEFAULT_DEBOUNCE_MS 150
#define LSP_MAX_CANCELLED       64

typedef cJSON *(*request_fn)(lsp_server *s, const cJSON *params, lsp_error *err);
typedef void (*notify_fn)(lsp_server *s, const cJSON *params);

/* ---- parameter readers --------------------------------------------------------------------- */

lsp_doc *lsp_param_doc(lsp_server *s, const cJSON *params, lsp_error *err)
{
    const cJSON *td = cJSON_GetObjectItemCaseSensitive(params, "textDocument");
    const cJSON *uri = cJSON_GetObjectItemCaseSensitive(td, "uri");
    if (!cJSON_IsString(uri)) {
        lsp_fail(err, LSP_INVALID_PARAMS, "params.textDocument.uri must be a string");
        return NULL;
    }
    lsp_doc *d = lsp_doc_find(s, uri->valuestring);
    if (!d)
        lsp_fail(err, LSP_INVALID_PARAMS,
                 "%.300s is not open; send textDocument/didOpen before requests about it",
                 uri->valuestring);
    return d;
}

bool lsp_param_offset(lsp_server *s, lsp_doc *d, const cJSON *params, size_t *out, lsp_error *err)
{
    lsp_pos p;
    if (!lsp_parse_pos(cJSON_GetObjectItemCaseSensitive(params, "position"), &p)) {
        lsp_fail(err, LSP_INVALID_PARAMS,
                 "params.position must be {line, character} with non-negative integers");
        return false;
    }
    lsp_view v = lsp_doc_view(s, d);
    *out = lsp_byte_of(&v, p);
    return true;
}

/* ---- replies --------------------------------------------------------------------------------- */

static void reply(lsp_server *s, const cJSON *id, cJSON *result)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    lsp_add(m, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    lsp_add(m, "result", result ? result : cJSON_CreateNull());
    lsp_send(&s->out, m);
    cJSON_Delete(m);
}

static void reply_error(lsp_server *s, const cJSON *id, int code, const char *message)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    lsp_add(m, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    cJSON *e = cJSON_AddObjectToObject(m, "error");
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    lsp_send(&s->out, m);
    cJSON_Delete(m);
}

void lsp_show_message(lsp_server *s, int type, const char *text)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "type", type);
    cJSON_AddStringToObject(p, "message", text);
    lsp_notify(&s->out, "window/showMessage", p);
}

static void on_cancel(lsp_server *s, const cJSON *params)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(params, "id");
    if (!cJSON_IsNumber(id) && !cJSON_IsString(id)) return;
    if (!s->cancelled) s->cancelled = cJSON_CreateArray();
    if (cJSON_GetArraySize(s->cancelled) >= LSP_MAX_CANCELLED)
        cJSON_DeleteItemFromArray(s->cancelled, 0);
    lsp_push(s->cancelled, cJSON_Duplicate(id, 1));
}

static void on_ignored(lsp_server *s, const cJSON *params)
{
    (void)s;
    (void)params;
}

/* ---- dispatch
 * ------------------------------------------------------------------------------------ */

static const struct {
    const char *method;
    request_fn fn;
} requests[] = {
    {"initialize", lsp_on_initialize},
    {"shutdown", lsp_on_shutdown},
    {"textDocument/hover", lsp_on_hover},
    {"textDocument/completion", lsp_on_completion},
    {"textDocument/signatureHelp", lsp_on_signature_help},
    {"textDocument/definition", lsp_on_definition},
    {"textDocument/references", lsp_on_references},
    {"textDocument/prepareRename", lsp_on_prepare_rename},
    {"textDocument/rename", lsp_on_rename},
    {"textDocument/documentHighlight", lsp_on_highlight},
    {"textDocument/documentSymbol", lsp_on_document_symbol},
    {"workspace/symbol", lsp_on_workspace_symbol},
    {"textDocument/foldingRange", lsp_on_folding_range},
    {"textDocument/selectionRange", lsp_on_selection_range},
    {"textDocument/semanticTokens/full", lsp_on_semantic_tokens_full},
    {"textDocument/semanticTokens/range", lsp_on_semantic_tokens_range},
    {"textDocument/codeAction", lsp_on_code_action},
    {"textDocument/diagnostic", lsp_on_diagnostic},
    {"workspace/diagnostic", lsp_on_workspace_diagnostic},
};

static const struct {
    const char *method;
    notify_fn fn;
} notifications[] = {
    {"initialized", lsp_on_initialized},
    {"exit", lsp_on_exit},
    {"textDocument/didOpen", lsp_on_did_open},
    {"textDocument/didChange", lsp_on_did_change},
    {"textDocument/didClose", lsp_on_did_close},
    {"textDocument/didSave", lsp_on_did_save},
    {"workspace/didChangeWatchedFiles", lsp_on_watched},
    {"$/cancelRequest", on_cancel},
    {"$/setTrace", on_ignored},
    {"workspace/didChangeConfiguration", on_ignored},
    {"workspace/didChangeWorkspaceFolders", on_ignored},
    {"window/workDoneProgress/cancel", on_ignored},
};

static bool same_id(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a) && cJSON_IsString(b)) return strcmp(a->valuestring, b->valuestring) == 0;
    return false;
}

/* Whether a $/cancelRequest for `id` arrived before we got to it. */
static bool take_cancelled(lsp_server *s, const cJSON *id)
{
    for (size_t i = s->in.first_item; i < s->in.n_items; i++) {
        const cJSON *m = s->in.items[i].json;
        const cJSON *method = cJSON_GetObjectItemCaseSensitive(m, "method");
        if (!cJSON_IsString(method) || strcmp(method->valuestring, "$/cancelRequest") != 0)
            continue;
        const cJSON *cid =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "params"), "id");
        if (same_id(cid, id)) return true;
    }
    int n = cJSON_GetArraySize(s->cancelled);
    for (int i = 0; i < n; i++)
        if (same_id(cJSON_GetArrayItem(s->cancelled, i), id)) {
            cJSON_DeleteItemFromArray(s->cancelled, i);
            return true;
        }
    return false;
}

static void handle_request(lsp_server *s, const cJSON *id, const char *method, const cJSON *params)
{
    if (s->state == LSP_NEW && strcmp(method, "initialize") != 0) {
        reply_error(s, id, LSP_SERVER_NOT_INITIALIZED,
                    "the server is not initialized yet: send 'initialize' first");
        return;
    }
    if (s->state == LSP_SHUTDOWN) {
        reply_error(s, id, LSP_INVALID_REQUEST,
                    "the server is shut down: only the 'exit' notification is accepted now");
        return;
    }
    if (s->state == LSP_RUNNING && strcmp(method, "initialize") == 0) {
        reply_error(s, id, LSP_INVALID_REQUEST, "'initialize' was already received");
        return;
    }
    if (take_cancelled(s, id)) {
        reply_error(s, id, LSP_REQUEST_CANCELLED, "cancelled by the client ($/cancelRequest)");
        return;
    }
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        if (strcmp(requests[i].method, method) != 0) continue;
        if (params && !cJSON_IsObject(params) && !cJSON_IsArray(params) && !cJSON_IsNull(params)) {
            reply_error(s, id, LSP_INVALID_PARAMS, "params must be an object");
            return;
        }
        lsp_error err = {0};
        cJSON *result = requests[i].fn(s, params, &err);
        if (result)
            reply(s, id, result);
        else
            reply_error(s, id, err.code ? err.code : LSP_INTERNAL_ERROR,
                        err.code ? err.message : "out of memory while answering");
        return;
    }
    char msg[320];
    snprintf(msg, sizeof msg, "unknown method '%.200s' (see the capabilities from initialize)",
             method);
    reply_error(s, id, LSP_METHOD_NOT_FOUND, msg);
}

static void handle_notification(lsp_server *s, const char *method, const cJSON *params)
{
    if (strcmp(method, "exit") == 0) {
        lsp_on_exit(s, params);
        return;
    }
    if (s->state == LSP_NEW || s->state == LSP_SHUTDOWN) {
        lsp_log(&s->out, "notification '%s' dropped: the server is %s", method,
                s->state == LSP_NEW ? "not initialized" : "shut down");
        return;
    }
    for (size_t i = 0; i < sizeof notifications / sizeof notifications[0]; i++)
        if (strcmp(notifications[i].method, method) == 0) {
            notifications[i].fn(s, cJSON_IsObject(params) ? params : NULL);
            return;
        }
    lsp_log(&s->out, "notification '%s' ignored", method);
}

static void handle_inbound(lsp_server *s, const lsp_inbound *it)
{
    if (!it->json) {
        reply_error(s, NULL, it->error_code, it->error_text ? it->error_text : "malformed message");
        return;
    }
    const cJSON *m = it->json;
    if (s->out.log) {
        char *text = cJSON_PrintUnformatted(m);
        if (text) {
            pthread_mutex_lock(&s->out.mu);
            lsp_log_message(&s->out, "<--", text, strlen(text));
            pthread_mutex_unlock(&s->out.mu);
        }
        cJSON_free(text);
    }
    if (!cJSON_IsObject(m)) {
        reply_error(s, NULL, LSP_INVALID_REQUEST,
                    "a JSON-RPC message must be an object ({\"jsonrpc\": \"2.0\", ...}); batches "
                    "are not part of LSP");
        return;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(m, "method");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(m, "jsonrpc");
    bool id_ok = cJSON_IsString(id) ||
                 (cJSON_IsNumber(id) && id->valuedouble == (double)(long long)id->valuedouble);
    if (id && !id_ok) {
        reply_error(s, NULL, LSP_INVALID_REQUEST, "the id must be an integer or a string");
        return;
    }
    if (!cJSON_IsString(version) || strcmp(version->valuestring, "2.0") != 0) {
        reply_error(s, id, LSP_INVALID_REQUEST, "\"jsonrpc\": \"2.0\" is required");
        return;
    }
    if (!method) {
        /* A response to one of our requests (registerCapability, progress). */
        if (id && (cJSON_GetObjectItemCaseSensitive(m, "result") ||
                   cJSON_GetObjectItemCaseSensitive(m, "error"))) {
            lsp_ws_on_response(s, id, !cJSON_GetObjectItemCaseSensitive(m, "error"));
            return;
        }
        reply_error(s, id, LSP_INVALID_REQUEST,
                    "a message needs a \"method\" (a request or notification) or, with an id, a "
                    "\"result\" or \"error\" (a response)");
        return;
    }
    if (!cJSON_IsString(method)) {
        reply_error(s, id, LSP_INVALID_REQUEST, "\"method\" must be a string");
        return;
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(m, "params");
    if (id)
        handle_request(s, id, method->valuestring, params);
    else
        handle_notification(s, method->valuestring, params);
}

static void process(lsp_server *s)
{
    while (s->in.first_item < s->in.n_items && s->state != LSP_EXITED) {
        lsp_inbound it = s->in.items[s->in.first_item++];
        if (s->drain) s->drain(s);
        handle_inbound(s, &it);
        cJSON_Delete(it.json);
        tx_free(it.error_text);
    }
}

/* ---- the server
 * ------------------------------------------------------------------------------------- */

lsp_server *lsp_server_new(const lsp_options *opts, lsp_write_fn write, void *ud)
{
    lsp_server *s = tx_calloc(1, sizeof *s);
    if (!s) return NULL;
    if (opts) s->opts = *opts;
    s->out.write = write;
    s->out.ud = ud;
    pthread_mutex_init(&s->out.mu, NULL);
    lsp_reader_init(&s->in);
    s->debounce_ms = opts && opts->debounce_ms >= 0 ? opts->debounce_ms : LSP_DEFAULT_DEBOUNCE_MS;
    s->caps.push_diagnostics = true;
    s->fe = fe_context_new();
    s->ck = ck_checker_new();
    s->ts = ts_parser_new();
    if (!s->fe || !s->ck || !s->ts || !ts_parser_set_language(s->ts, tree_sitter_tactus())) {
        lsp_server_free(s);
        return NULL;
    }
    s->ws = lsp_ws_new(s);
    if (!s->ws) {
        lsp_server_free(s);
        return NULL;
    }
    if (s->opts.log_path) {
        s->out.log = fopen(s->opts.log_path, "a");
        if (s->out.log)
            lsp_log(&s->out, "tactus lsp %s started (pid %ld)", TACTUS_VERSION, (long)getpid());
    }
    return s;
}

void lsp_server_free(lsp_server *s)
{
    if (!s) return;
    lsp_ws_free(s->ws); /* joins the indexing thread first */
    while (s->docs) {
        lsp_doc *d = s->docs;
        s->docs = d->next;
        lsp_doc_free(d);
    }
    lsp_tokens_free(s);
    tx_free(s->ids);
    lsp_reader_free(&s->in);
    cJSON_Delete(s->cancelled);
    for (size_t i = 0; i < s->n_folders; i++)
        tx_free(s->folders[i]);
    tx_free(s->folders);
    if (s->ts) ts_parser_delete(s->ts);
    ck_checker_free(s->ck);
    fe_context_free(s->fe);
    if (s->out.log) fclose(s->out.log);
    pthread_mutex_destroy(&s->out.mu);
    tx_free(s);
}

tx_status lsp_server_feed(lsp_server *s, const char *data, size_t n)
{
    if (s->state == LSP_EXITED) return TX_OK;
    tx_status st = lsp_reader_feed(&s->in, data, n);
    process(s);
    return st;
}

int lsp_server_timeout(const lsp_server *s)
{
    int64_t now = lsp_now_ms(), best = -1;
    for (const lsp_doc *d = s->docs; d; d = d->next) {
        if (!d->publish_due) continue;
        int64_t left = d->publish_due - now;
        if (left < 0) left = 0;
        if (best < 0 || left < best) best = left;
    }
    return best > 60000 ? 60000 : (int)best;
}

void lsp_server_tick(lsp_server *s)
{
    if (s->state != LSP_RUNNING) return;
    int64_t now = lsp_now_ms();
    for (lsp_doc *d = s->docs; d; d = d->next) {
        if (!d->publish_due || d->publish_due > now) continue;
        d->publish_due = 0;
        lsp_diag_publish(s, d);
    }
}

void lsp_server_eof(lsp_server *s)
{
    if (s->state == LSP_EXITED) return;
    process(s);
    if (s->state != LSP_EXITED) {
        lsp_log(&s->out, "end of input without 'exit'");
        lsp_on_exit(s, NULL);
    }
}

bool lsp_server_exited(const lsp_server *s, int *status)
{
    if (status) *status = s->exit_status;
    return s->state == LSP_EXITED;
}

/* ---- stdio
 * ---------------------------------------------------------------------------------------- */

static bool fd_write(void *ud, const char *data, size_t n)
{
    int fd = *(int *)ud;
    while (n) {
        ssize_t w = write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads what is already waiting, without blocking (see the file comment). */
static void drain_fd(lsp_server *s)
{
    char buf[65536];
    for (int rounds = 0; rounds < 64; rounds++) {
        struct pollfd p = {s->drain_fd, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) return;
        ssize_t n = read(s->drain_fd, buf, sizeof buf);
        if (n <= 0) return; /* end of input is seen by the main loop */
        if (lsp_reader_feed(&s->in, buf, (size_t)n) != TX_OK) return;
    }
}

int lsp_serve(int in_fd, int out_fd, const lsp_options *opts)
{
    lsp_server *s = lsp_server_new(opts, fd_write, &out_fd);
    if (!s) return 1;
    s->drain = drain_fd;
    s->drain_fd = in_fd;
    char *buf = tx_malloc(1 << 16);
    if (!buf) {
        lsp_server_free(s);
        return 1;
    }
    while (s->state != LSP_EXITED) {
        struct pollfd p = {in_fd, POLLIN, 0};
        int rc = poll(&p, 1, lsp_server_timeout(s));
        if (rc < 0 && errno != EINTR) break;
        if (rc > 0) {
            ssize_t n = read(in_fd, buf, 1 << 16);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) {
                lsp_server_eof(s);
                break;
            }
            if (lsp_server_feed(s, buf, (size_t)n) != TX_OK) {
                lsp_log(&s->out, "out of memory reading input");
                lsp_show_message(s, 1, "tactus lsp: out of memory reading a message");
            }
        }
        lsp_server_tick(s);
        if (s->out.broken) {
            lsp_log(&s->out, "the client's end of the output is closed");
            lsp_on_exit(s, NULL);
        }
    }
    int status = s->exit_status;
    tx_free(buf);
    lsp_server_free(s);
    return status;
}
