/* paysync core: byte tests the row path asks of every cell, without a call per string.
 * ps_has_nul reads only s[0..n): short strings are covered by overlapping loads (8-16 bytes:
 * their first and last 8; 4-7: first and last 4; 1-3: each byte), longer ones 16 bytes a step
 * and by their last 16. ps_json_must_escape is the one definition of a byte a JSON string must
 * escape. Header only (inline). */
#ifndef PS_UTIL_BYTESCAN_H
#define PS_UTIL_BYTESCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* 1 when one of s[0..n) is '\0' (what memchr(s, 0, n) != NULL says), else 0. */
static inline int ps_has_nul(const char *s, size_t n)
{
#ifdef __SSE2__
    const __m128i zero = _mm_setzero_si128();
    if (n >= 8) {
        if (n <= 16) {
            __m128i v = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)s),
                                           _mm_loadl_epi64((const __m128i *)(s + n - 8)));
            return _mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)) != 0;
        }
        for (size_t i = 0; i + 16 <= n; i += 16)
            if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i)), zero)))
                return 1;
        return _mm_movemask_epi8(
                   _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + n - 16)), zero)) != 0;
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        uint64_t w = (uint64_t)a | (uint64_t)b << 32;
        return ((w - UINT64_C(0x0101010101010101)) & ~w & UINT64_C(0x8080808080808080)) != 0;
    }
    return n > 0 && (s[0] == '\0' || s[n / 2] == '\0' || s[n - 1] == '\0');
#else
    return n > 0 && memchr(s, '\0', n) != NULL;
#endif
}

/* 1 when a JSON string must escape byte c (a control byte below 0x20, '"' or '\\'), else 0.
 * The one definition of "plain" behind PS_ROWF_PLAIN / PS_RECF_PLAIN (docs/plugin-abi.md);
 * util/csv.c counts the same bytes word-wise in its delimiter pass. */
static inline int ps_json_must_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

#endif
