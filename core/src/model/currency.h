/* paysync core: ISO 4217 codes, unambiguous currency names and amount symbols
 * (spec "PAYMENT_CURRENCY"; table documented in docs/data-model.md). Thread-safe: all tables
 * are static const. */
#ifndef PS_CURRENCY_H
#define PS_CURRENCY_H

#include <stddef.h>

/* Results of ps_currency_parse. */
enum { PS_CUR_OK = 0, PS_CUR_UNKNOWN = -1, PS_CUR_AMBIGUOUS = -2 };

/* The canonical (static) upper-case code when s (exactly 3 ASCII letters, any case) is an
 * active ISO 4217 alphabetic code; NULL otherwise. */
const char *ps_currency_code(const char *s, size_t len);

/* Parses a PAYMENT_CURRENCY cell (already trimmed): an ISO code in any case, or a currency
 * name from the documented table ("Naira", "Ghana cedi", matched case-insensitively with
 * runs of spaces/hyphens equivalent). On PS_CUR_OK *code is the static code. On
 * PS_CUR_AMBIGUOUS *candidates (static, e.g. "ZMW or MWK") says which codes it could mean. */
int ps_currency_parse(const char *s, size_t len, const char **code, const char **candidates);

/* Whether a currency affix written next to an amount ("NGN", "₦", "KSh", "$", "Naira")
 * agrees with the row's currency code. Returns 1 when it does (or when code is NULL and the
 * token is a known currency token), 0 when it is a currency token that does not, and -1
 * when the token is not a currency code, name or symbol. */
int ps_currency_affix_agrees(const char *tok, size_t len, const char *code);

/* Number of codes in the embedded ISO 4217 list and the i-th one (sorted); for tests and
 * docs. */
size_t ps_currency_count(void);
const char *ps_currency_at(size_t i);

#endif
