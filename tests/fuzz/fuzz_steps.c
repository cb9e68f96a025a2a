/* Fuzz target: the values and expressions users write in steps and on the
 * command line of `tactus test`: any bytes as a step value (literal parsing,
 * comparison against a few actual values, similarity), and as a --tags
 * expression. Input surface: Specifications text and CLI arguments. */
#include <string.h>

#include "fuzz.h"
#include "sp_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1u << 16) return 0;
    char *text = tx_malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    cJSON *v = sp_literal_parse(text);
    cJSON *actuals[] = {v, cJSON_CreateString("abc"), cJSON_CreateNumber(2.5), cJSON_CreateTrue(),
                        NULL};
    for (size_t i = 0; i < sizeof actuals / sizeof actuals[0]; i++) {
        sp_value_equals(actuals[i], text);
        tx_buf b;
        tx_buf_init(&b, 1u << 20);
        sp_render_value(actuals[i], &b);
        tx_buf_free(&b);
    }
    for (size_t i = 1; i < 4; i++) cJSON_Delete(actuals[i]);
    cJSON_Delete(v);
    char *q = sp_unquote(text);
    tx_free(q);

    char *n = sp_fuzzy_normalize(text);
    if (n) {
        sp_sequence_ratio(n, "the quick brown fox");
        sp_indel_ratio(text, "the quick brown fox");
    }
    tx_free(n);

    char err[256];
    if (sp_tags_valid(text, err, sizeof err)) {
        const char *tags[] = {"@a", "@smoke"};
        sp_tags_match(text, tags, 2);
    }
    tx_free(text);
    return 0;
}
