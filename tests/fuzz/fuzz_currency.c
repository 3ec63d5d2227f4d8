/* Fuzz target: currency codes, names and affixes (core/src/model/currency.c). */
#include <string.h>

#include "model/currency.h"
#include "fuzz.h"

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *code = NULL, *cand = NULL;
    int rc = ps_currency_parse(s, size, &code, &cand);
    PS_FUZZ_CHECK(rc == PS_CUR_OK || rc == PS_CUR_UNKNOWN || rc == PS_CUR_AMBIGUOUS);
    if (rc == PS_CUR_OK) {
        PS_FUZZ_CHECK(code && strlen(code) == 3);
        PS_FUZZ_CHECK(ps_currency_code(code, 3) == code || ps_currency_code(code, 3) != NULL);
        PS_FUZZ_CHECK(ps_currency_affix_agrees(code, 3, code) == 1);
    }
    if (rc == PS_CUR_AMBIGUOUS)
        PS_FUZZ_CHECK(cand && cand[0]);
    const char *c3 = ps_currency_code(s, size);
    if (c3)
        PS_FUZZ_CHECK(size == 3 && strlen(c3) == 3);
    int a = ps_currency_affix_agrees(s, size, NULL);
    PS_FUZZ_CHECK(a >= -1 && a <= 1);
    a = ps_currency_affix_agrees(s, size, "NGN");
    PS_FUZZ_CHECK(a >= -1 && a <= 1);
    return 0;
}
