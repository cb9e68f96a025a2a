/* Fuzz target: any bytes as a stream of protocol frames (the host reads the
 * runtime's output, the runtime reads the host's), fed in random-sized
 * pieces through the incremental decoder. Input surface: both sides of the
 * wire. */
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
            tx_buf out;
            tx_buf_init(&out, 2u << 20);
            tp_encode(msg, &out); /* what was decoded must encode again */
            tx_buf_free(&out);
            cJSON_Delete(msg);
        }
        if (st != TX_OK) break;
    }
    tp_decoder_free(&d);
    return 0;
}
