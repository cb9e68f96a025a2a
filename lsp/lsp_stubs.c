#include "lsp_internal.h"
#define STUB(name) cJSON *name(lsp_server *s, const cJSON *params, lsp_error *err) { (void)s; (void)params; (void)err; return cJSON_CreateNull(); }
STUB(lsp_on_document_symbol)
STUB(lsp_on_workspace_symbol)
STUB(lsp_on_folding_range)
STUB(lsp_on_selection_range)
STUB(lsp_on_semantic_tokens_full)
STUB(lsp_on_semantic_tokens_range)
STUB(lsp_on_code_action)
cJSON *lsp_tokens_legend(void) { return cJSON_CreateObject(); }
void lsp_tokens_free(lsp_server *s) { (void)s; }
int lsp_symbol_kind_number(lsp_sym_kind k) { return (int)k + 1; }
