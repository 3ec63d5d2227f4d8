/* paysync core: little-endian loads from any address, for word-at-a-time byte processing. */
#ifndef PS_LOADLE_H
#define PS_LOADLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The n (at most 8; a constant, so that the copy is one load) bytes at p as a little-endian
 * word: byte k in bits 8k..8k+7, zero above byte n-1. p need not be aligned. */
static inline uint64_t ps_load_le(const void *p, size_t n)
{
    uint64_t w = 0;
    memcpy(&w, p, n);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

#endif
