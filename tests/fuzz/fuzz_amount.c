/* Fuzz target: the amount normaliser ps_amount_parse (core/src/model/amount.c).
 * Byte 0 picks the row currency (none, NGN, KES, USD, GHS). Invariant: an accepted amount
 * formats to a plain decimal that the amount parser accepts again with the same value. */
#include <string.h>

#include "model/amount.h"
#include "fuzz.h"

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    static const char *const cur[] = {NULL, "NGN", "KES", "USD", "GHS"};
    if (size < 1)
        return 0;
    const char *currency = cur[data[0] % 5];
    ps_decimal d = {0, 0};
    int rc = ps_amount_parse((const char *)data + 1, size - 1, currency, &d);
    PS_FUZZ_CHECK(rc <= 0 && rc >= PS_AMOUNT_MISMATCH);
    PS_FUZZ_CHECK(ps_amount_reason(rc) != NULL);
    if (rc != PS_AMOUNT_OK)
        return 0;
    PS_FUZZ_CHECK(d.scale <= PS_DECIMAL_MAX_SCALE);
    char buf[PS_DECIMAL_TEXT_MAX];
    size_t n = ps_decimal_format(d, buf);
    ps_decimal back = {0, 0};
    PS_FUZZ_CHECK(ps_amount_parse(buf, n, currency, &back) == PS_AMOUNT_OK);
    PS_FUZZ_CHECK(back.units == d.units && back.scale == d.scale);
    return 0;
}
