#include "lsp_internal.h"
#define STUB(name) cJSON *name(lsp_server *s, const cJSON *params, lsp_error *err) { (void)s; (void)params; (void)err; return cJSON_CreateNull(); }
STUB(lsp_on_hover)
STUB(lsp_on_completion)
STUB(lsp_on_signature_help)
STUB(lsp_on_definition)
STUB(lsp_on_references)
STUB(lsp_on_prepare_rename)
STUB(lsp_on_rename)
STUB(lsp_on_highlight)
STUB(lsp_on_document_symbol)
STUB(lsp_on_workspace_symbol)
STUB(lsp_on_folding_range)
STUB(lsp_on_selection_range)
STUB(lsp_on_semantic_tokens_full)
STUB(lsp_on_semantic_tokens_range)
STUB(lsp_on_code_action)
cJSON *lsp_tokens_legend(void) { return cJSON_CreateObject(); }
void lsp_tokens_free(lsp_server *s) { (void)s; }
void lsp_nav_free(lsp_nav *n) { (void)n; }
struct lsp_workspace { int x; };
lsp_workspace *lsp_ws_new(lsp_server *s) { (void)s; return tx_calloc(1, sizeof(lsp_workspace)); }
void lsp_ws_free(lsp_workspace *ws) { tx_free(ws); }
void lsp_ws_start(lsp_server *s) { (void)s; }
void lsp_ws_on_watched(lsp_server *s, const cJSON *params) { (void)s; (void)params; }
void lsp_ws_reindex(lsp_server *s, const char *path) { (void)s; (void)path; }
void lsp_ws_diagnostics(lsp_server *s, const cJSON *previous, cJSON *items) { (void)s; (void)previous; (void)items; }
