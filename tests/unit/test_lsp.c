/* Unit tests of lsp/: positions in the three encodings (lines ending in
 * \n, \r\n and a lone \r; invalid bytes), the framing reader (pieces of
 * any size, the header and body caps), the mapping of positions through
 * edits, and a whole session fed to a server while each allocation in turn
 * fails: no crash, no leak (LeakSanitizer in the asan build); hover's
 * markup for clients with and without markdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lsp_internal.h"

static void positions_in_each_encoding(void **state)
{
    (void)state;
    /* a, é (2 bytes), 😀 (4 bytes, 2 UTF-16 units), b */
    const char *s = "x\r\na\xc3\xa9\xf0\x9f\x98\x80"
                    "b\ry\n";
    size_t n = strlen(s);
    lsp_lines l = {0};
    assert_int_equal(lsp_lines_build(&l, s, n), TX_OK);
    assert_int_equal(l.n, 4); /* "x", "aé😀b", "y", "" */
    assert_true(l.bare_cr);
    size_t b = 3 + 1 + 2 + 4; /* the 'b' */
    lsp_view v16 = {s, n, &l, LSP_ENC_UTF16}, v8 = {s, n, &l, LSP_ENC_UTF8},
             v32 = {s, n, &l, LSP_ENC_UTF32};
    lsp_pos p = lsp_pos_of(&v16, b);
    assert_int_equal(p.line, 1);
    assert_int_equal(p.character, 4);
    assert_int_equal(lsp_pos_of(&v8, b).character, 7);
    assert_int_equal(lsp_pos_of(&v32, b).character, 3);
    /* round trips, and a position inside the surrogate pair starts the character */
    assert_int_equal(lsp_byte_of(&v16, p), b);
    assert_int_equal(lsp_byte_of(&v16, (lsp_pos){1, 3}), 6);
    /* past the end of a line: its end; past the last line: the end */
    assert_int_equal(lsp_byte_of(&v16, (lsp_pos){0, 99}), 1);
    assert_int_equal(lsp_byte_of(&v16, (lsp_pos){9, 0}), n);
    assert_int_equal(lsp_pos_of(&v16, n - 2).line, 2); /* y after the lone \r */
    /* tree-sitter rows count \n only */
    TSPoint tp = lsp_ts_point(s, n, &l, n - 2);
    assert_int_equal(tp.row, 1);
    lsp_lines_free(&l);

    /* an invalid byte is one character in every encoding */
    const char *bad = "\xff\xfeok";
    assert_int_equal(lsp_lines_build(&l, bad, 4), TX_OK);
    lsp_view vb = {bad, 4, &l, LSP_ENC_UTF16};
    assert_int_equal(lsp_pos_of(&vb, 2).character, 2);
    assert_int_equal(lsp_byte_of(&vb, (lsp_pos){0, 3}), 3);
    lsp_lines_free(&l);
}

static void reader_frames_any_split(void **state)
{
    (void)state;
    const char *stream = "Content-Length: 17\r\nContent-Type: x\r\n\r\n{\"jsonrpc\":\"2.0\"}"
                         "content-length: 2\r\n\r\n[]";
    size_t n = strlen(stream);
    for (size_t piece = 1; piece <= n; piece++) {
        lsp_reader r;
        lsp_reader_init(&r);
        for (size_t i = 0; i < n; i += piece)
            assert_int_equal(lsp_reader_feed(&r, stream + i, i + piece > n ? n - i : piece), TX_OK);
        assert_int_equal(r.n_items, 2);
        assert_true(cJSON_IsObject(r.items[0].json));
        assert_true(cJSON_IsArray(r.items[1].json));
        lsp_reader_free(&r);
    }
}

static void reader_refuses_over_the_caps(void **state)
{
    (void)state;
    lsp_reader r;
    lsp_reader_init(&r);
    /* a header section that never ends: refused, then the reader resyncs */
    char flood[LSP_MAX_HEADER + 100];
    memset(flood, 'h', sizeof flood);
    assert_int_equal(lsp_reader_feed(&r, flood, sizeof flood), TX_OK);
    assert_true(r.buf.len <= LSP_MAX_HEADER + 4);
    assert_int_equal(lsp_reader_feed(&r, "\r\n\r\n", 4), TX_OK);
    /* a body over the cap is skipped, not stored */
    char head[64];
    int hn = snprintf(head, sizeof head, "Content-Length: %u\r\n\r\n", LSP_MAX_BODY + 1);
    assert_int_equal(lsp_reader_feed(&r, head, (size_t)hn), TX_OK);
    char chunk[65536];
    memset(chunk, 'x', sizeof chunk);
    for (size_t left = LSP_MAX_BODY + 1; left;) {
        size_t k = left < sizeof chunk ? left : sizeof chunk;
        assert_int_equal(lsp_reader_feed(&r, chunk, k), TX_OK);
        assert_true(r.buf.len == 0);
        left -= k;
    }
    assert_int_equal(lsp_reader_feed(&r, "Content-Length: 2\r\n\r\n{}", 23), TX_OK);
    assert_int_equal(r.n_items, 3);
    assert_null(r.items[0].json);
    assert_int_equal(r.items[0].error_code, LSP_INVALID_REQUEST);
    assert_null(r.items[1].json);
    assert_non_null(strstr(r.items[1].error_text, "over the 64 MiB limit"));
    assert_true(cJSON_IsObject(r.items[2].json));
    lsp_reader_free(&r);
}

static void positions_map_through_edits(void **state)
{
    (void)state;
    lsp_doc d;
    memset(&d, 0, sizeof d);
    lsp_edit edits[] = {{10, 12, 15}, {0, 0, 2}}; /* replace 2 bytes by 5 at 10; insert 2 at 0 */
    d.edits = edits;
    d.n_edits = 2;
    uint32_t s = 3, e = 8;
    assert_true(lsp_doc_map(&d, &s, &e));
    assert_int_equal(s, 5);
    assert_int_equal(e, 10);
    s = 20, e = 22;
    assert_true(lsp_doc_map(&d, &s, &e));
    assert_int_equal(s, 25);
    s = 11, e = 13; /* overlaps the replaced bytes */
    assert_false(lsp_doc_map(&d, &s, &e));
    uint32_t p = 25;
    assert_true(lsp_doc_unmap(&d, &p));
    assert_int_equal(p, 20);
    p = 14; /* inside the inserted text */
    assert_false(lsp_doc_unmap(&d, &p));
    d.edits = NULL;
}

static tx_buf sink;

static bool capture(void *ud, const char *p, size_t n)
{
    (void)ud;
    tx_buf_append(&sink, p, n);
    return true;
}

static void frame(lsp_server *s, const char *body)
{
    char head[64];
    int n = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", strlen(body));
    lsp_server_feed(s, head, (size_t)n);
    lsp_server_feed(s, body, strlen(body));
}

#define URI "\"textDocument\":{\"uri\":\"file:///unit/a.tac\"}"
static const char *const session[] = {
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"capabilities\":{"
    "\"textDocument\":"
    "{\"diagnostic\":{},\"documentSymbol\":{\"hierarchicalDocumentSymbolSupport\":true}}}}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/"
    "didOpen\",\"params\":{\"textDocument\":{\"uri\":"
    "\"file:///unit/a.tac\",\"version\":1,\"text\":\"search = Tool { function() end }\\nw = Agent "
    "{ "
    "model = 'x', tools = {serch} }\\nProcedure { output = {a = field.string{required = true}}, "
    "function(input) local n = w({message = input.q}) return {b = n} end }\\nSpecifications([[\\n"
    "Feature: f\\n  Scenario: s\\n    Given the agent \\\"w\\\" responds with \\\"hi\\\"\\n    "
    "Then it "
    "flies\\n]])\\n\"}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"textDocument/diagnostic\",\"params\":{" URI "}}",
    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"textDocument/hover\",\"params\":{" URI
    ",\"position\":{\"line\":1,\"character\":1}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"textDocument/completion\",\"params\":{" URI
    ",\"position\":{\"line\":1,\"character\":30}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"textDocument/references\",\"params\":{" URI
    ",\"position\":{\"line\":1,\"character\":0},\"context\":{\"includeDeclaration\":true}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"textDocument/rename\",\"params\":{" URI
    ",\"position\":{\"line\":2,\"character\":78},\"newName\":\"m\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"textDocument/documentSymbol\",\"params\":{" URI
    "}}",
    "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"textDocument/semanticTokens/full\",\"params\":{" URI
    "}}",
    "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"textDocument/codeAction\",\"params\":{" URI
    ",\"range\":{\"start\":{\"line\":0,\"character\":0},\"end\":{\"line\":9,\"character\":0}},"
    "\"context\":{\"diagnostics\":[]}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"textDocument/foldingRange\",\"params\":{" URI "}}",
    "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"textDocument/selectionRange\",\"params\":{" URI
    ",\"positions\":[{\"line\":6,\"character\":10}]}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/"
    "didChange\",\"params\":{\"textDocument\":{\"uri\":"
    "\"file:///unit/"
    "a.tac\",\"version\":2},\"contentChanges\":[{\"range\":{\"start\":{\"line\":1,\"character\":29}"
    ","
    "\"end\":{\"line\":1,\"character\":34}},\"text\":\"search\"}]}}",
    "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"textDocument/signatureHelp\",\"params\":{" URI
    ",\"position\":{\"line\":2,\"character\":101}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"workspace/diagnostic\",\"params\":{}}",
    "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"shutdown\"}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}",
};

static size_t run_session(void)
{
    lsp_options opts = {.no_workspace_thread = true, .debounce_ms = 0};
    lsp_server *s = lsp_server_new(&opts, capture, NULL);
    if (!s) return 0;
    for (size_t i = 0; i < sizeof session / sizeof session[0]; i++) {
        frame(s, session[i]);
        lsp_server_tick(s);
    }
    int status = -1;
    bool exited = lsp_server_exited(s, &status);
    lsp_server_free(s);
    return exited && status == 0 ? 1 : 2;
}

static void session_answers_every_request(void **state)
{
    (void)state;
    tx_buf_init(&sink, 64u << 20);
    assert_int_equal(run_session(), 1);
    /* each request got its answer, and none is an internal error */
    for (int id = 1; id <= 14; id++) {
        char needle[32];
        snprintf(needle, sizeof needle, "\"id\":%d,", id);
        assert_non_null(strstr(sink.data, needle));
    }
    assert_null(strstr(sink.data, "-32603"));
    assert_non_null(strstr(sink.data, "TAC301"));
    tx_buf_free(&sink);
}

static void session_survives_allocation_failure(void **state)
{
    (void)state;
    size_t failures = 0;
    for (long n = 0; n < 4000; n += (n < 400 ? 1 : 7)) {
        tx_buf_init(&sink, 64u << 20);
        tx_alloc_fail_after(n);
        run_session();
        tx_alloc_fail_after(-1);
        tx_buf_free(&sink);
        failures++;
    }
    assert_true(failures > 0);
}

/* Hover contents: markdown as written for a client that takes markdown;
 * for one that does not, the text without markdown syntax (code fences'
 * lines dropped with their code kept, backticks and ** dropped, and ** in
 * code kept: it is code). */
static void markup_follows_the_client(void **state)
{
    (void)state;
    const char *md = "```lua\nAgent { tools = {...} }\n```\n**agent** `support`: `a**b`\n"
                     "- `model`: x * y\n";
    lsp_server s;
    memset(&s, 0, sizeof s);
    s.caps.markdown_hover = true;
    cJSON *m = lsp_markup(&s, md);
    assert_string_equal(cJSON_GetObjectItem(m, "kind")->valuestring, "markdown");
    assert_string_equal(cJSON_GetObjectItem(m, "value")->valuestring, md);
    cJSON_Delete(m);
    s.caps.markdown_hover = false;
    m = lsp_markup(&s, md);
    assert_string_equal(cJSON_GetObjectItem(m, "kind")->valuestring, "plaintext");
    assert_string_equal(cJSON_GetObjectItem(m, "value")->valuestring,
                        "Agent { tools = {...} }\nagent support: a**b\n- model: x * y\n");
    cJSON_Delete(m);
}

int main(void)
{
    cJSON_Hooks hooks = {tx_malloc, tx_free};
    cJSON_InitHooks(&hooks);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(positions_in_each_encoding),
        cmocka_unit_test(reader_frames_any_split),
        cmocka_unit_test(reader_refuses_over_the_caps),
        cmocka_unit_test(positions_map_through_edits),
        cmocka_unit_test(session_answers_every_request),
        cmocka_unit_test(session_survives_allocation_failure),
        cmocka_unit_test(markup_follows_the_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
