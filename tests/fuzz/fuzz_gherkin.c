/* Fuzz target: any bytes as the Gherkin text of a Specifications block,
 * through the gherkin grammar (over included ranges) and the step rules. */
#include <string.h>

#include "checker.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fe_context *fe;
    static ck_checker *ck;
    if (!fe) fe = fe_context_new();
    if (!ck) ck = ck_checker_new();
    if (!fe || !ck) return 0;
    /* A long-string level that the input cannot close early: one more '='
     * than the longest run of '=' in the input. */
    size_t run = 0, longest = 0;
    for (size_t i = 0; i < size; i++) {
        run = data[i] == '=' ? run + 1 : 0;
        if (run > longest) longest = run;
    }
    if (longest > 64) return 0;
    tx_buf b;
    tx_buf_init(&b, size + 256);
    tx_buf_puts(&b, "Procedure { function() return 1 end }\nSpecifications([");
    for (size_t i = 0; i <= longest; i++) tx_buf_puts(&b, "=");
    tx_buf_puts(&b, "[\n");
    tx_buf_append(&b, (const char *)data, size);
    tx_buf_puts(&b, "\n]");
    for (size_t i = 0; i <= longest; i++) tx_buf_puts(&b, "=");
    tx_buf_puts(&b, "])\n");
    if (b.data) {
        fe_file *f = NULL;
        tx_diag_list diags;
        tx_diag_list_init(&diags);
        if (fe_parse(fe, "fuzz.tac", b.data, b.len, &f) == TX_OK) ck_check(ck, f, &diags);
        tx_diag_list_free(&diags);
        fe_file_free(f);
    }
    tx_buf_free(&b);
    return 0;
}
