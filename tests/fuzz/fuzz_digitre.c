/* Fuzz target: digit regular expressions as DFAs (core/src/model/digitre.c) against PCRE2.
 * The input's first line is a pattern, every further line a text. Invariants: a pattern
 * digitre compiles is one PCRE2 compiles too; for every text, the whole-text verdict is
 * PCRE2's (anchored at both ends) and, when the pattern is prefix-free, the prefix match
 * length is PCRE2's (anchored at the start). */
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "fuzz.h"
#include "model/digitre.h"

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    char pattern[256];
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    int err;
    PCRE2_SIZE off;
    if (plen >= sizeof pattern || memchr(data, '\0', plen))
        return 0;
    memcpy(pattern, data, plen);
    pattern[plen] = '\0';
    ps_digitre *re = ps_digitre_compile(pattern);
    if (!re)
        return 0;
    pcre2_code *full = pcre2_compile((PCRE2_SPTR)pattern, plen, PCRE2_ANCHORED | PCRE2_ENDANCHORED,
                                     &err, &off, NULL);
    pcre2_code *prefix = pcre2_compile((PCRE2_SPTR)pattern, plen, PCRE2_ANCHORED, &err, &off, NULL);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    PS_FUZZ_CHECK(full && prefix);
    PS_FUZZ_CHECK(md);
    const uint8_t *p = nl ? nl + 1 : data + size, *end = data + size;
    do {
        const uint8_t *e = memchr(p, '\n', (size_t)(end - p));
        size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
        /* a return of 0 is a match whose groups did not fit the one-pair match data */
        int want = pcre2_match(full, p, n, 0, 0, md, NULL) >= 0;
        PS_FUZZ_CHECK(ps_digitre_full(re, (const char *)p, n) == want);
        if (ps_digitre_prefix_free(re)) {
            long w = -1;
            if (pcre2_match(prefix, p, n, 0, 0, md, NULL) >= 0)
                w = (long)pcre2_get_ovector_pointer(md)[1];
            PS_FUZZ_CHECK(ps_digitre_consume(re, (const char *)p, n) == w);
        }
        p = e ? e + 1 : end;
    } while (p < end);
    pcre2_match_data_free(md);
    pcre2_code_free(full);
    pcre2_code_free(prefix);
    ps_digitre_free(re);
    return 0;
}
