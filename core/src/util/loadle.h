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

/* The first min(n, 8) bytes at p as a little-endian word, zero above them; reads nothing
 * outside p[0..n) (overlapping loads of 4 bytes, or single bytes, below 8). */
static inline uint64_t ps_load_le_head(const void *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    if (n >= 8)
        return ps_load_le(u, 8);
    if (n >= 4)
        return ps_load_le(u, 4) | ps_load_le(u + n - 4, 4) << (8 * (n - 4));
    if (n)
        return (uint64_t)u[0] | (uint64_t)u[n / 2] << (8 * (n / 2)) |
               (uint64_t)u[n - 1] << (8 * (n - 1));
    return 0;
}

#endif
