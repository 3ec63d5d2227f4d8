/* paysync: exact decimal parsing, formatting and comparison (see paysync/decimal.h). */
#include "model/decimal.h"

#include <string.h>

static const int64_t pow10_tab[] = {1, 10, 100, 1000, 10000, 100000};

int ps_decimal_parse(const char *s, size_t len, int max_scale, ps_decimal *out)
{
    size_t i = 0;
    int neg = 0, scale = 0, ndigits = 0, frac = 0;
    uint64_t mag = 0;

    if (max_scale < 0 || max_scale > PS_DECIMAL_MAX_SCALE)
        max_scale = PS_DECIMAL_MAX_SCALE;
    if (!s || len == 0)
        return -1;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i++;
    }
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (frac) {
                if (scale >= max_scale) {
                    /* keep scanning so that "1.2x345" stays a syntax error */
                    size_t j;
                    for (j = i; j < len; j++)
                        if (s[j] < '0' || s[j] > '9')
                            return -1;
                    return -2;
                }
                scale++;
            }
            if (mag > (UINT64_C(9223372036854775808) - (uint64_t)(c - '0')) / 10)
                return -3;
            mag = mag * 10 + (uint64_t)(c - '0');
            ndigits++;
        } else if (c == '.' && !frac) {
            frac = 1;
        } else {
            return -1;
        }
    }
    if (ndigits == 0)
        return -1;
    if (!neg && mag > (uint64_t)INT64_MAX)
        return -3;
    if (out) {
        out->units = neg ? (int64_t)(0 - mag) : (int64_t)mag;
        out->scale = (uint8_t)scale;
    }
    return 0;
}

size_t ps_decimal_format(ps_decimal d, char *buf)
{
    char tmp[PS_DECIMAL_TEXT_MAX];
    size_t n = 0, len = 0;
    uint64_t mag = d.units < 0 ? (uint64_t)0 - (uint64_t)d.units : (uint64_t)d.units;
    unsigned scale = d.scale > PS_DECIMAL_MAX_SCALE ? PS_DECIMAL_MAX_SCALE : d.scale;

    /* digits in reverse, at least scale + 1 of them */
    do {
        tmp[n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag > 0 || n <= scale);
    if (d.units < 0)
        buf[len++] = '-';
    while (n > 0) {
        if (n == scale)
            buf[len++] = '.';
        buf[len++] = tmp[--n];
    }
    buf[len] = '\0';
    return len;
}

/* Compares a*10^ka with b*10^kb without overflow: scale both magnitudes up to 4 decimals
 * using 128-bit-free splitting (quotient/remainder by 10^k). */
int ps_decimal_cmp(ps_decimal a, ps_decimal b)
{
    unsigned sa = a.scale > PS_DECIMAL_MAX_SCALE ? PS_DECIMAL_MAX_SCALE : a.scale;
    unsigned sb = b.scale > PS_DECIMAL_MAX_SCALE ? PS_DECIMAL_MAX_SCALE : b.scale;
    int64_t ia, ib, fa, fb;

    if ((a.units < 0) != (b.units < 0)) {
        if (a.units == 0 && b.units == 0)
            return 0;
        return a.units < 0 ? -1 : 1;
    }
    /* integer and fractional parts (same sign as the value), fraction scaled to 4 digits */
    ia = a.units / pow10_tab[sa];
    ib = b.units / pow10_tab[sb];
    if (ia != ib)
        return ia < ib ? -1 : 1;
    fa = (a.units % pow10_tab[sa]) * pow10_tab[PS_DECIMAL_MAX_SCALE - sa];
    fb = (b.units % pow10_tab[sb]) * pow10_tab[PS_DECIMAL_MAX_SCALE - sb];
    return fa < fb ? -1 : fa > fb;
}
