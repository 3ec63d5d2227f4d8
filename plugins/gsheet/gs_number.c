/* gsheet: exact, locale-independent text of JSON number cells. */
#include "gs_number.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t ps_gs_format_int(int64_t v, char buf[PS_GS_NUM_MAX])
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t p = 0;
    if (v < 0)
        buf[p++] = '-';
    while (n)
        buf[p++] = tmp[--n];
    buf[p] = '\0';
    return p;
}

/* Shortest "%.*e" form that reads back as d; returns the digits (no point) and exponent.
 * Only digits, sign and exponent are taken from printf output, so the locale's decimal
 * point never leaks into the result. */
static void shortest_digits(double d, char digits[24], int *exp10)
{
    char tmp[48];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    size_t n = 0;
    const char *s = tmp;
    while (*s && *s != 'e' && *s != 'E') {
        if (*s >= '0' && *s <= '9' && n < 23)
            digits[n++] = *s;
        s++;
    }
    digits[n] = '\0';
    *exp10 = (*s) ? atoi(s + 1) : 0;
    while (n > 1 && digits[n - 1] == '0')
        digits[--n] = '\0';
}

size_t ps_gs_format_double(double d, char buf[PS_GS_NUM_MAX])
{
    if (isnan(d) || isinf(d)) {
        buf[0] = '\0';
        return 0;
    }
    if (d == 0) {
        buf[0] = '0';
        buf[1] = '\0';
        return 1;
    }
    size_t p = 0;
    if (d < 0) {
        buf[p++] = '-';
        d = -d;
    }
    if (floor(d) == d) {
        /* Integral: "%.0f" prints the exact value of the double, never an exponent. */
        int w = snprintf(buf + p, PS_GS_NUM_MAX - p, "%.0f", d);
        return p + (size_t)w;
    }
    char digits[24];
    int e;
    shortest_digits(d, digits, &e);
    size_t nd = strlen(digits);
    if (e >= 0) {
        /* integer part = digits[0..e], padded with zeros */
        for (int i = 0; i <= e; i++)
            buf[p++] = (size_t)i < nd ? digits[i] : '0';
        if ((size_t)e + 1 < nd) {
            buf[p++] = '.';
            for (size_t i = (size_t)e + 1; i < nd; i++)
                buf[p++] = digits[i];
        }
    } else {
        buf[p++] = '0';
        buf[p++] = '.';
        for (int i = 0; i < -e - 1; i++)
            buf[p++] = '0';
        for (size_t i = 0; i < nd; i++)
            buf[p++] = digits[i];
    }
    buf[p] = '\0';
    return p;
}

size_t ps_gs_number_plain(const char *lit, size_t len, char *out, size_t cap)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && lit[i] == '-') {
        neg = 1;
        i++;
    }
    /* significand digits: integer part then fraction, without the point */
    size_t ib = i;
    while (i < len && lit[i] >= '0' && lit[i] <= '9')
        i++;
    size_t ie = i;
    size_t fb = i, fe = i;
    if (i < len && lit[i] == '.') {
        fb = ++i;
        while (i < len && lit[i] >= '0' && lit[i] <= '9')
            i++;
        fe = i;
    }
    if (ie == ib || (fb != ie && fe == fb))
        return 0;
    long exp = 0;
    if (i < len && (lit[i] == 'e' || lit[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < len && (lit[i] == '+' || lit[i] == '-'))
            eneg = lit[i++] == '-';
        size_t eb = i;
        while (i < len && lit[i] >= '0' && lit[i] <= '9') {
            if (exp < 100000)
                exp = exp * 10 + (lit[i] - '0');
            i++;
        }
        if (i == eb)
            return 0;
        if (eneg)
            exp = -exp;
    }
    if (i != len)
        return 0;
        /* the significand's digits are lit[ib..ie) + lit[fb..fe); digit k of it is at: */
#define DIG(k) ((size_t)(k) < ie - ib ? lit[ib + (size_t)(k)] : lit[fb + (size_t)(k) - (ie - ib)])
    long nd = (long)((ie - ib) + (fe - fb));
    long first = 0, last = nd; /* [first, last): digits without leading/trailing zeros */
    while (first < nd && DIG(first) == '0')
        first++;
    if (first == nd) {
        if (out) {
            if (cap < 1)
                return 0;
            out[0] = '0';
            out[1] = '\0';
        }
        return 1;
    }
    while (last > first && DIG(last - 1) == '0')
        last--;
    /* the point sits after digit number point (counted from 0), i.e. value = 0.D * 10^point */
    long point = (long)(ie - ib) + exp;
    long need = neg;
    if (point <= first) /* 0.000ddd */
        need += 2 + (first - point) + (last - first);
    else if (point >= last) /* ddd000 */
        need += point - first;
    else
        need += (last - first) + 1;
    if (need > PS_GS_NUM_MAX - 1)
        return 0;
    if (!out)
        return (size_t)need;
    if ((size_t)need > cap)
        return 0;
    size_t p = 0;
    if (neg)
        out[p++] = '-';
    if (point <= first) {
        out[p++] = '0';
        out[p++] = '.';
        for (long k = point; k < first; k++)
            out[p++] = '0';
        for (long k = first; k < last; k++)
            out[p++] = DIG(k);
    } else {
        for (long k = first; k < point; k++)
            out[p++] = k < last ? DIG(k) : '0';
        if (point < last) {
            out[p++] = '.';
            for (long k = point; k < last; k++)
                out[p++] = DIG(k);
        }
    }
#undef DIG
    out[p] = '\0';
    return p;
}
