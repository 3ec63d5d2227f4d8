/* paysync config: parsing and applying `max_vanished` (vanish_limit.h). */
#include "config/vanish_limit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define EXPECTED                                                                                   \
    "expected a percentage such as 25% (0-100, at most 2 decimals), a count of "                   \
    "payments such as 500, or unlimited"

static int fail(char *why, size_t whylen, const char *reason)
{
    snprintf(why, whylen, "%s", reason);
    return -1;
}

int ps_vanish_limit_parse(const char *text, ps_vanish_limit *out, char *why, size_t whylen)
{
    if (!text || !*text)
        return fail(why, whylen, "a value is required; " EXPECTED);
    if (strcmp(text, "unlimited") == 0) {
        *out = (ps_vanish_limit){PS_VANISH_UNLIMITED, 0};
        return 0;
    }
    size_t n = strlen(text);
    int pct = text[n - 1] == '%';
    if (pct)
        n--;
    uint64_t whole = 0, frac = 0;
    size_t i = 0, digits = 0, fdigits = 0;
    for (; i < n && text[i] >= '0' && text[i] <= '9'; i++, digits++) {
        if (whole > (UINT64_MAX - 9) / 10)
            return fail(why, whylen, "the number is too large; " EXPECTED);
        whole = whole * 10 + (uint64_t)(text[i] - '0');
    }
    if (pct && i < n && text[i] == '.') {
        for (i++; i < n && text[i] >= '0' && text[i] <= '9'; i++, fdigits++) {
            if (fdigits == 2)
                return fail(why, whylen, "a percentage has at most 2 decimals; " EXPECTED);
            frac = frac * 10 + (uint64_t)(text[i] - '0');
        }
        if (fdigits == 0)
            return fail(why, whylen, EXPECTED);
    }
    if (digits == 0 || i != n)
        return fail(why, whylen, EXPECTED);
    if (!pct) {
        *out = (ps_vanish_limit){PS_VANISH_COUNT, whole};
        return 0;
    }
    if (fdigits == 1)
        frac *= 10;
    if (whole > 100 || (whole == 100 && frac > 0))
        return fail(why, whylen, "a percentage is at most 100%; " EXPECTED);
    *out = (ps_vanish_limit){PS_VANISH_PERCENT, whole * 100 + frac};
    return 0;
}

uint64_t ps_vanish_limit_of(const ps_vanish_limit *l, uint64_t stored)
{
    switch (l->kind) {
    case PS_VANISH_UNLIMITED:
        return UINT64_MAX;
    case PS_VANISH_COUNT:
        return l->value;
    case PS_VANISH_PERCENT:
    case PS_VANISH_DEFAULT:
    default: {
        uint64_t bp = l->kind == PS_VANISH_PERCENT ? l->value : PS_VANISH_DEFAULT_BP;
        /* stored * bp / 10000 without overflow: split stored into quotient and remainder. */
        return stored / 10000 * bp + stored % 10000 * bp / 10000;
    }
    }
}

const char *ps_vanish_limit_text(const ps_vanish_limit *l, char *buf, size_t len)
{
    uint64_t bp = l->kind == PS_VANISH_PERCENT ? l->value : PS_VANISH_DEFAULT_BP;
    if (l->kind == PS_VANISH_UNLIMITED)
        snprintf(buf, len, "unlimited");
    else if (l->kind == PS_VANISH_COUNT)
        snprintf(buf, len, "%" PRIu64, l->value);
    else if (bp % 100 == 0)
        snprintf(buf, len, "%" PRIu64 "%%", bp / 100);
    else if (bp % 10 == 0)
        snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%%", bp / 100, bp % 100 / 10);
    else
        snprintf(buf, len, "%" PRIu64 ".%02" PRIu64 "%%", bp / 100, bp % 100);
    return buf;
}
