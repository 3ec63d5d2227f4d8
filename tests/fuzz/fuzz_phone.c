/* Fuzz target: CUSTOMER_PHONE normalisation (core/src/model/phone.c).
 * Byte 0 picks the configured country code. Invariant: output is '+' and 8..15 digits, and
 * normalising the output again gives the same output. */
#include <string.h>

#include "fuzz.h"
#include "model/phone.h"

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    static const char *const cc[] = {NULL, "", "234", "1", "254", "2330"};
    if (size < 1)
        return 0;
    const char *country = cc[data[0] % 6];
    char out[PS_PHONE_MAX + 8];
    memset(out, 0x7f, sizeof out);
    int n = ps_phone_normalise((const char *)data + 1, size - 1, country, out);
    if (n < 0) {
        PS_FUZZ_CHECK(n >= PS_PHONE_EMPTY);
        PS_FUZZ_CHECK(ps_phone_reason(n) != NULL);
        return 0;
    }
    PS_FUZZ_CHECK(n < PS_PHONE_MAX && out[n] == '\0' && out[PS_PHONE_MAX] == 0x7f);
    PS_FUZZ_CHECK(out[0] == '+' && n >= 9 && n <= 16);
    for (int i = 1; i < n; i++)
        PS_FUZZ_CHECK(out[i] >= '0' && out[i] <= '9');
    char again[PS_PHONE_MAX];
    int m = ps_phone_normalise(out, (size_t)n, country, again);
    PS_FUZZ_CHECK(m == n && memcmp(out, again, (size_t)n) == 0);
    return 0;
}
