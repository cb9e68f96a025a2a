/* Fuzz target: any bytes as what an editor sends `tactus lsp`: the
 * Content-Length framing, JSON-RPC, and every method they reach. The
 * server is initialized first (with an open document), so the input
 * reaches the handlers rather than stopping at "not initialized"; the
 * bytes then arrive in pieces whose sizes the input itself picks, as
 * through a pipe. Input surface: the language server's stdin. */
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool discard(void *ud, const char *p, size_t n)
{
    (void)ud;
    (void)p;
    (void)n;
    return true;
}

static void frame(lsp_server *s, const char *body)
{
    char head[64];
    int n = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", strlen(body));
    lsp_server_feed(s, head, (size_t)n);
    lsp_server_feed(s, body, strlen(body));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool hooks;
    if (!hooks) {
        cJSON_Hooks h = {tx_malloc, tx_free};
        cJSON_InitHooks(&h);
        hooks = true;
    }
    lsp_options opts = {.no_workspace_thread = true, .debounce_ms = 0};
    lsp_server *s = lsp_server_new(&opts, discard, NULL);
    if (!s) return 0;
    frame(
        s,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"capabilities\":{"
        "\"general\":{\"positionEncodings\":[\"utf-16\"]},\"textDocument\":{\"diagnostic\":{}}}}}");
    frame(
        s,
        "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":{\"textDocument\":{"
        "\"uri\":\"file:///fuzz/a.tac\",\"languageId\":\"tactus\",\"version\":1,\"text\":"
        "\"a = Agent { model = 'x', tools = {t} }\\nt = Tool { function() end }\\nProcedure "
        "{ function(input) return a({message = input.q}) end }\\nSpecifications([[\\nFeature: "
        "f\\n  Scenario: s\\n    Given the agent \\\"a\\\" responds with \\\"hi\\\"\\n]])\\n\"}}}");
    size_t i = 0;
    while (i < size) {
        size_t n = 1 + data[i] % 128;
        if (n > size - i) n = size - i;
        if (lsp_server_feed(s, (const char *)data + i, n) != TX_OK) break;
        lsp_server_tick(s);
        i += n;
        if (lsp_server_exited(s, NULL)) break;
    }
    lsp_server_eof(s);
    lsp_server_free(s);
    return 0;
}
