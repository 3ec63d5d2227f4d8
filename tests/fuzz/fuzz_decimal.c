/* Fuzz target: ps_decimal_parse / _format / _cmp (core/src/model/decimal.c).
 * Byte 0 picks max_scale. Invariant: a parsed value formats to text that parses back equal. */
#include <string.h>

#include "fuzz.h"
#include "model/decimal.h"

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int max_scale = data[0] % (PS_DECIMAL_MAX_SCALE + 1);
    ps_decimal d = {0, 0};
    int rc = ps_decimal_parse((const char *)data + 1, size - 1, max_scale, &d);
    PS_FUZZ_CHECK(rc >= -3 && rc <= 0);
    if (rc != 0)
        return 0;
    PS_FUZZ_CHECK(d.scale <= max_scale);
    char buf[PS_DECIMAL_TEXT_MAX];
    size_t n = ps_decimal_format(d, buf);
    PS_FUZZ_CHECK(n < PS_DECIMAL_TEXT_MAX && buf[n] == '\0');
    ps_decimal back = {0, 0};
    PS_FUZZ_CHECK(ps_decimal_parse(buf, n, PS_DECIMAL_MAX_SCALE, &back) == 0);
    PS_FUZZ_CHECK(back.units == d.units && back.scale == d.scale);
    PS_FUZZ_CHECK(ps_decimal_cmp(d, back) == 0);
    return 0;
}
