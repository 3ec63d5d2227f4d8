/* paysync core: amount normaliser (see amount.h). */
#include "model/amount.h"

#include <string.h>

#include "model/currency.h"

static int is_sp(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Length of a UTF-8 no-break space (U+00A0 or U+202F) at p, or 0. */
static size_t nbsp(const char *p, size_t n)
{
    if (n >= 2 && (unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xA0)
        return 2;
    if (n >= 3 && (unsigned char)p[0] == 0xE2 && (unsigned char)p[1] == 0x80 &&
        (unsigned char)p[2] == 0xAF)
        return 3;
    return 0;
}

static size_t skip_sp(const char *s, size_t i, size_t len)
{
    for (;;) {
        size_t k;
        if (i < len && is_sp((unsigned char)s[i])) {
            i++;
            continue;
        }
        k = nbsp(s + i, len - i);
        if (k) {
            i += k;
            continue;
        }
        return i;
    }
}

static size_t rtrim(const char *s, size_t len)
{
    for (;;) {
        if (len > 0 && is_sp((unsigned char)s[len - 1])) {
            len--;
        } else if (len >= 2 && (unsigned char)s[len - 2] == 0xC2 &&
                   (unsigned char)s[len - 1] == 0xA0) {
            len -= 2;
        } else if (len >= 3 && (unsigned char)s[len - 3] == 0xE2 &&
                   (unsigned char)s[len - 2] == 0x80 && (unsigned char)s[len - 1] == 0xAF) {
            len -= 3;
        } else {
            return len;
        }
    }
}

static int is_num_start(char c)
{
    return (c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-';
}

const char *ps_amount_reason(int rc)
{
    switch (rc) {
    case PS_AMOUNT_OK:
        return "ok";
    case PS_AMOUNT_EMPTY:
        return "empty";
    case PS_AMOUNT_SYNTAX:
        return "not a number";
    case PS_AMOUNT_SCALE:
        return "more than 4 fractional digits";
    case PS_AMOUNT_OVERFLOW:
        return "too large";
    case PS_AMOUNT_MISMATCH:
        return "currency symbol or code does not agree with PAYMENT_CURRENCY";
    default:
        return "invalid";
    }
}

int ps_amount_parse(const char *s, size_t len, const char *currency, ps_decimal *out)
{
    size_t i, end, pstart, plen = 0, nstart, nend, k;
    char num[48];
    size_t n = 0;
    int sign = 0, rc, grouped = 0, group_len = 0, in_frac = 0, int_digits = 0;
    int tok_ok = 1; /* 1 agree, 0 mismatch */

    if (!s)
        return PS_AMOUNT_EMPTY;
    i = skip_sp(s, 0, len);
    end = rtrim(s, len);
    if (i >= end)
        return PS_AMOUNT_EMPTY;

    if (s[i] == '+' || s[i] == '-') {
        sign = s[i];
        i = skip_sp(s, i + 1, end);
    }
    /* leading currency token */
    pstart = i;
    while (i < end && !is_num_start(s[i]) && !is_sp((unsigned char)s[i]) && !nbsp(s + i, end - i))
        i++;
    plen = i - pstart;
    if (plen) {
        int a = ps_currency_affix_agrees(s + pstart, plen, currency);
        if (a < 0)
            return PS_AMOUNT_SYNTAX;
        tok_ok = a;
        i = skip_sp(s, i, end);
        if (i < end && (s[i] == '+' || s[i] == '-')) {
            if (sign)
                return PS_AMOUNT_SYNTAX;
            sign = s[i];
            i++;
        }
    }
    /* number: digits, ',' group separators in the integer part, one '.' */
    nstart = i;
    while (i < end && ((s[i] >= '0' && s[i] <= '9') || s[i] == ',' || s[i] == '.'))
        i++;
    nend = i;
    if (nend == nstart)
        return PS_AMOUNT_SYNTAX;
    /* trailing currency token */
    k = skip_sp(s, nend, end);
    if (k < end) {
        int a;
        if (plen)
            return PS_AMOUNT_SYNTAX; /* symbol on both sides */
        a = ps_currency_affix_agrees(s + k, end - k, currency);
        if (a < 0)
            return PS_AMOUNT_SYNTAX;
        tok_ok = a;
    }

    if (sign)
        num[n++] = (char)sign;
    for (k = nstart; k < nend; k++) {
        char c = s[k];
        if (c == ',') {
            /* only between integer digits, first group 1-3 digits, then groups of 3 */
            if (in_frac || int_digits == 0 || (grouped && group_len != 3) ||
                (!grouped && group_len > 3))
                return PS_AMOUNT_SYNTAX;
            grouped = 1;
            group_len = 0;
            continue;
        }
        if (c == '.') {
            if (in_frac || (grouped && group_len != 3))
                return PS_AMOUNT_SYNTAX;
            in_frac = 1;
        } else if (!in_frac) {
            int_digits++;
            group_len++;
        }
        if (n + 1 >= sizeof num)
            return PS_AMOUNT_OVERFLOW;
        num[n++] = c;
    }
    if (!in_frac && grouped && group_len != 3)
        return PS_AMOUNT_SYNTAX;
    rc = ps_decimal_parse(num, n, PS_DECIMAL_MAX_SCALE, out);
    if (rc == -1)
        return PS_AMOUNT_SYNTAX;
    if (rc == -2)
        return PS_AMOUNT_SCALE;
    if (rc == -3)
        return PS_AMOUNT_OVERFLOW;
    if (!tok_ok)
        return PS_AMOUNT_MISMATCH;
    return PS_AMOUNT_OK;
}

int ps_amount_parse_plain(const char *s, size_t len, ps_decimal *out)
{
    uint64_t mag = 0;
    size_t i = 0, nd = 0;
    unsigned d;
    int scale = 0;
    if (len == 0 || len > 19 || (s[0] == '0' && len > 1 && s[1] != '.'))
        return 0; /* empty, too long, or leading zeros (their canonical text differs) */
    for (; i < len && (d = (unsigned)(unsigned char)s[i] - '0') <= 9; i++)
        mag = mag * 10 + d;
    nd = i;
    if (nd == 0)
        return 0;
    if (i < len) {
        if (s[i] != '.' || len - i - 1 < 1 || len - i - 1 > PS_DECIMAL_MAX_SCALE)
            return 0;
        for (i++; i < len && (d = (unsigned)(unsigned char)s[i] - '0') <= 9; i++)
            mag = mag * 10 + d;
        if (i < len)
            return 0;
        scale = (int)(len - nd - 1);
        nd += (size_t)scale;
    }
    if (nd > 18) /* below 10^18: no overflow */
        return 0;
    out->units = (int64_t)mag;
    out->scale = (uint8_t)scale;
    return 1;
}
