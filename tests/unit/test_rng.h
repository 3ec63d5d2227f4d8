/* Deterministic pseudo-random numbers for unit tests (xorshift64): the same sequence on every
 * run, one sequence per test executable. */
#ifndef PS_TEST_RNG_H
#define PS_TEST_RNG_H

#include <stdint.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* A number in 0..n-1 (n > 0). */
static inline unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

#endif
