/* fuzz.h - what every fuzz target shares (tests/fuzz/README.md).
 *
 * A target defines LLVMFuzzerTestOneInput and checks properties of what it
 * computed, not only that it did not crash: FUZZ_REQUIRE aborts on a broken
 * property, which libFuzzer reports as a crash (and keeps the input), and
 * which fails the replay test of a normal build. */
#ifndef TACTUS_FUZZ_H
#define TACTUS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_REQUIRE(cond, what)                                                                  \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "%s:%d: property broken: %s (%s)\n", __FILE__, __LINE__, what, #cond); \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

#endif
