/* Fuzz target: any bytes as a .tac file, through the frontend and every
 * checker rule, and the rewrite of `tactus check --fix` (its edits must
 * apply, and keep a file Lua accepted acceptable to Lua). Input surface:
 * `tactus check`, `check --fix`, the LSP, `tactus run`. */

#include <stdlib.h>

#include "checker.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fe_context *fe;
    static ck_checker *ck;
    if (!fe) fe = fe_context_new();
    if (!ck) ck = ck_checker_new();
    if (!fe || !ck) return 0;
    fe_file *f = NULL;
    tx_diag_list diags;
    tx_diag_list_init(&diags);
    if (fe_parse(fe, "fuzz.tac", (const char *)data, size, &f) == TX_OK) {
        ck_check(ck, f, &diags);
        ck_edits edits;
        ck_edits_init(&edits);
        if (f->lua_ok && ck_fix_legacy(f, &edits) == TX_OK && edits.len) {
            size_t n = 0;
            char *out = ck_edits_apply((const char *)data, size, &edits, &n);
            fe_file *g = NULL;
            if (out && fe_parse(fe, "fuzz.tac", out, n, &g) == TX_OK && !g->lua_ok) abort();
            fe_file_free(g);
            tx_free(out);
        }
        ck_edits_free(&edits);
    }
    tx_diag_list_free(&diags);
    fe_file_free(f);
    return 0;
}
