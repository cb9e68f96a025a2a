/* Fuzz target: any bytes as a .tac file, through the frontend and every
 * checker rule. Input surface: `tactus check`, the LSP, `tactus run`. */

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
    if (fe_parse(fe, "fuzz.tac", (const char *)data, size, &f) == TX_OK) ck_check(ck, f, &diags);
    tx_diag_list_free(&diags);
    fe_file_free(f);
    return 0;
}
