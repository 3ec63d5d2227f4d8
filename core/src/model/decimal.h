/* paysync core: exact decimal parsing, formatting and comparison (internal). */
#ifndef PS_MODEL_DECIMAL_H
#define PS_MODEL_DECIMAL_H

#include <stddef.h>

#include "paysync/decimal.h"

/* Parses a plain decimal: optional sign, digits, optional '.' and 0..max_scale digits.
 * No spaces, separators or symbols (those are handled by the amount normaliser).
 * Returns 0 on success, -1 if not a number, -2 if too many fractional digits, -3 on overflow. */
int ps_decimal_parse(const char *s, size_t len, int max_scale, ps_decimal *out);

/* Writes the exact text (e.g. "-12.50") into buf (>= PS_DECIMAL_TEXT_MAX). Returns length. */
size_t ps_decimal_format(ps_decimal d, char *buf);

/* Compares numerically (1.5 == 1.50). Returns <0, 0, >0. */
int ps_decimal_cmp(ps_decimal a, ps_decimal b);

#endif
