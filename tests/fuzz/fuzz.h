/* Shared bits of the libFuzzer harnesses. A harness defines PS_FUZZ_ENTRY (default
 * LLVMFuzzerTestOneInput) so that tests/unit/plugins/test_static_gsheet_fuzz_regressions.c can include
 * every harness under its own name and replay saved inputs through the same code. */
#ifndef PS_FUZZ_H
#define PS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef PS_FUZZ_ENTRY
#define PS_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

/* An invariant broken: print it and abort so that the fuzzer keeps the input. */
#define PS_FUZZ_CHECK(cond)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
