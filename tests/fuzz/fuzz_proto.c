/* Fuzz target: any bytes as a stream of protocol frames (the host reads the
 * runtime's output, the runtime reads the host's), fed in random-sized
 * pieces through the incremental decoder. Input surface: both sides of the
 * wire.
 *
 * Property: every frame decoded encodes again and decodes to an equal
 * object, with the same bytes on a second encoding (what the host journals
 * or forwards is what the runtime sent, and encoding is stable). */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "proto.h"

/* Exact equality of two trees: types, keys, and children in order; numbers
 * and strings by value. (cJSON_Compare looks keys up by name, so it cannot
 * compare objects with a repeated key, which a frame may hold.) */
static bool same_tree(const cJSON *a, const cJSON *b)
{
    if ((a->type & 0xFF) != (b->type & 0xFF)) return false;
    if ((a->string == NULL) != (b->string == NULL) || (a->string && strcmp(a->string, b->string) != 0))
        return false;
    if (cJSON_IsNumber(a) && a->valuedouble != b->valuedouble) return false;
    if (cJSON_IsString(a) && strcmp(a->valuestring, b->valuestring) != 0) return false;
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)
        if (!same_tree(x, y)) return false;
    return !x && !y;
}

/* decode -> encode -> decode -> encode: equal objects, equal frames. */
static void require_round_trip(const cJSON *msg)
{
    tx_buf once, twice;
    /* Printing may grow a frame (escapes): the second leg gets the protocol's own cap. */
    tx_buf_init(&once, TP_MAX_FRAME + 4);
    tx_buf_init(&twice, TP_MAX_FRAME + 4);
    FUZZ_REQUIRE(tp_encode(msg, &once) == TX_OK, "a decoded frame encodes again");

    tp_decoder d;
    tp_decoder_init(&d, TP_MAX_FRAME);
    cJSON *again = NULL;
    FUZZ_REQUIRE(tp_decoder_feed(&d, once.data, once.len) == TX_OK, "the encoded frame is accepted");
    FUZZ_REQUIRE(tp_decoder_next(&d, &again) == TX_OK && again, "the encoded frame decodes");
    FUZZ_REQUIRE(d.in.len == 0, "the encoded frame is one whole frame");
    FUZZ_REQUIRE(same_tree(msg, again), "decode(encode(m)) equals m");
    FUZZ_REQUIRE(tp_encode(again, &twice) == TX_OK, "the frame decoded again encodes");
    FUZZ_REQUIRE(once.len == twice.len && memcmp(once.data, twice.data, once.len) == 0,
                 "encoding is stable: encode(decode(encode(m))) == encode(m)");
    cJSON_Delete(again);
    tp_decoder_free(&d);
    tx_buf_free(&twice);
    tx_buf_free(&once);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tp_decoder d;
    tp_decoder_init(&d, 1u << 20);
    size_t i = 0;
    while (i < size) {
        /* the first byte of each step picks how many bytes arrive */
        size_t n = 1 + data[i] % 64;
        if (n > size - i) n = size - i;
        if (tp_decoder_feed(&d, data + i, n) != TX_OK) break;
        i += n;
        cJSON *msg;
        tx_status st;
        while ((st = tp_decoder_next(&d, &msg)) == TX_OK && msg) {
            require_round_trip(msg);
            cJSON_Delete(msg);
        }
        if (st != TX_OK) break;
    }
    tp_decoder_free(&d);
    return 0;
}
