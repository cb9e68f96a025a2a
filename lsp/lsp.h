/*
 * lsp.h - the Tactus language server (`tactus lsp`): LSP 3.17 over stdio.
 *
 * The server renders what the frontend and the checker already know: the
 * diagnostics are ck_check's records (the same code as `tactus check`, so
 * they are byte for byte the same), and every DSL feature (hover,
 * completion, definition, rename ...) reads the frontend's declaration
 * model. tree-sitter's `tactus` grammar gives the editor-side syntax tree:
 * incremental reparsing on each edit (ts_tree_edit), error recovery while
 * the user types, highlights and the Gherkin injection for semantic tokens.
 *
 * Protocol: JSON-RPC 2.0 framed by `Content-Length` headers (LSP base
 * protocol). A header section over LSP_MAX_HEADER bytes or a body over
 * LSP_MAX_BODY bytes is refused without being read into memory (it is
 * skipped as it arrives). Requests are answered in order of arrival.
 *
 * Threads: one thread serves messages; a second indexes the workspace's
 * .tac files after `initialized` (progress is reported with $/progress).
 * All output goes through one writer guarded by a mutex.
 *
 * Ownership and errors: lsp_server_new returns a server the caller frees
 * with lsp_server_free. lsp_server_feed returns TX_OK while the server
 * serves (protocol errors are JSON-RPC error replies, not failures) and
 * TX_ENOMEM when memory ran out; once `exit` is received it returns TX_OK
 * and lsp_server_exited() reports the exit status.
 */
#ifndef TACTUS_LSP_H
#define TACTUS_LSP_H

#include <stdbool.h>
#include <stddef.h>

#include "base.h"

/* The caps of the base protocol (issue 15). */
#define LSP_MAX_HEADER (8u * 1024u)
#define LSP_MAX_BODY   (64u * 1024u * 1024u)
/* Largest document analysed; larger ones are tracked but not analysed (the
 * editor is told why). tree-sitter features stop earlier (LSP_MAX_TREE):
 * its parse runs at about 8 MB/s here. */
#define LSP_MAX_DOCUMENT (16u * 1024u * 1024u)
#define LSP_MAX_TREE     (4u * 1024u * 1024u)

/* Writes `n` bytes of server output; returns false when the peer is gone. */
typedef bool (*lsp_write_fn)(void *ud, const char *data, size_t n);

typedef struct {
    const char *log_path;     /* --log FILE: a trace of every message in and out, or NULL */
    bool no_workspace_thread; /* fuzzing: index nothing in the background */
    int debounce_ms;          /* delay of pushed diagnostics after an edit; < 0: default */
} lsp_options;

typedef struct lsp_server lsp_server;

lsp_server *lsp_server_new(const lsp_options *opts, lsp_write_fn write, void *ud);
void lsp_server_free(lsp_server *s);

/* Feeds bytes read from the client; every complete message is handled
 * before it returns (replies go to the write function). */
tx_status lsp_server_feed(lsp_server *s, const char *data, size_t n);
/* Milliseconds until the server needs lsp_server_tick (debounced work), or
 * -1 when nothing is pending. */
int lsp_server_timeout(const lsp_server *s);
/* Does debounced work that is due (pushed diagnostics). */
void lsp_server_tick(lsp_server *s);
/* The client closed its end: the server stops (exit status 1 unless it was
 * shut down). */
void lsp_server_eof(lsp_server *s);
/* Whether the server has stopped, and the exit status: 0 after shutdown and
 * exit, 1 for exit (or end of input) without shutdown. */
bool lsp_server_exited(const lsp_server *s, int *status);

/* Serves on in_fd/out_fd until `exit` or end of input; returns the exit status. */
int lsp_serve(int in_fd, int out_fd, const lsp_options *opts);

#endif
