/* paysync core: the amount normaliser for PAYMENT_AMOUNT and TRANSACTION_CHARGES (spec
 * "PAYMENT_AMOUNT / TRANSACTION_CHARGES"). Exact: never uses floating point. Thread-safe. */
#ifndef PS_AMOUNT_H
#define PS_AMOUNT_H

#include <stddef.h>

#include "model/decimal.h"

/* Results of ps_amount_parse. */
enum {
    PS_AMOUNT_OK = 0,
    PS_AMOUNT_EMPTY = -1,    /* nothing but spaces */
    PS_AMOUNT_SYNTAX = -2,   /* text, misplaced separators, unknown symbol */
    PS_AMOUNT_SCALE = -3,    /* more than 4 fractional digits */
    PS_AMOUNT_OVERFLOW = -4, /* does not fit 64 bits of units */
    PS_AMOUNT_MISMATCH = -5  /* currency code/symbol disagrees with the row currency */
};

/* Parses s: surrounding spaces, an optional sign, thousands separators (',' between groups
 * of three integer digits: "1,500.50"), up to 4 fractional digits, and an optional leading
 * or trailing currency code, symbol or name ("NGN 1,500", "₦1,500", "1500 Naira") that must
 * agree with `currency` (the row's ISO code; NULL = accept any known currency token). The
 * sign may stand before or after a leading symbol ("-₦5" and "₦-5"). The written scale is
 * kept ("1,500.50" -> 150050 scale 2). */
int ps_amount_parse(const char *s, size_t len, const char *currency, ps_decimal *out);

/* The fast path of ps_amount_parse for a plain decimal already in canonical form: 1-18
 * digits without a leading zero (or a lone "0"), optionally '.' and 1-4 digits, nothing
 * else. Returns 1 with *out set when s is such a value (then ps_amount_parse gives PS_AMOUNT_OK
 * and the same decimal whatever the currency, and ps_decimal_format writes s back
 * unchanged), else 0 (ask ps_amount_parse). */
int ps_amount_parse_plain(const char *s, size_t len, ps_decimal *out);

/* Short English reason for a result code (static). */
const char *ps_amount_reason(int rc);

#endif
