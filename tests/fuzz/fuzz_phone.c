/* Fuzz target: CUSTOMER_PHONE validation (core/src/model/phone.c and the libphonenumber shim
 * phonelib.cc). Byte 0 picks the dataset's country. Invariants: a valid result is '+' and
 * digits and fits PS_PHONE_MAX, a failure has a reason and an empty output, and validating
 * the output again (as an international number) gives the same output. */
#include <string.h>

#include "fuzz.h"
#include "model/phone.h"

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    static const char *const region[] = {NULL, "", "NG", "US", "KE", "DE", "GB", "IT"};
    if (size < 1)
        return 0;
    const char *country = region[data[0] % 8];
    char out[PS_PHONE_MAX + 8], why[PS_PHONE_WHY_MAX + 8];
    memset(out, 0x7f, sizeof out);
    memset(why, 0x7f, sizeof why);
    int n = ps_phone_normalise((const char *)data + 1, size - 1, country, out, why);
    PS_FUZZ_CHECK(out[PS_PHONE_MAX] == 0x7f && why[PS_PHONE_WHY_MAX] == 0x7f);
    if (n < 0) {
        PS_FUZZ_CHECK(n >= PS_PHONE_FAILED && out[0] == '\0');
        PS_FUZZ_CHECK(why[0] != '\0' && memchr(why, '\0', PS_PHONE_WHY_MAX) != NULL);
        return 0;
    }
    PS_FUZZ_CHECK(n < PS_PHONE_MAX && out[n] == '\0' && why[0] == '\0');
    PS_FUZZ_CHECK(out[0] == '+' && n >= 4);
    for (int i = 1; i < n; i++)
        PS_FUZZ_CHECK(out[i] >= '0' && out[i] <= '9');
    char again[PS_PHONE_MAX];
    int m = ps_phone_normalise(out, (size_t)n, country, again, NULL);
    PS_FUZZ_CHECK(m == n && memcmp(out, again, (size_t)n) == 0);
    return 0;
}
