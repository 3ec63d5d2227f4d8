/* paysync: exact decimal amounts. Money never passes through binary floating point. */
#ifndef PAYSYNC_DECIMAL_H
#define PAYSYNC_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PS_DECIMAL_MAX_SCALE 4

/* value = units / 10^scale; scale 0..4 is kept exactly as written ("1500.50" -> 150050, 2). */
typedef struct ps_decimal {
    int64_t units;
    uint8_t scale;
} ps_decimal;

/* Longest text ps_decimal_format writes, NUL included. */
#define PS_DECIMAL_TEXT_MAX 32

/* Parses a plain decimal: optional sign, digits, optional '.' and 0..max_scale digits.
 * No spaces, separators or symbols (those are handled by the amount normaliser).
 * Returns 0 on success, -1 if not a number, -2 if too many fractional digits, -3 on overflow. */
int ps_decimal_parse(const char *s, size_t len, int max_scale, ps_decimal *out);

/* Writes the exact text (e.g. "-12.50") into buf (>= PS_DECIMAL_TEXT_MAX). Returns length. */
size_t ps_decimal_format(ps_decimal d, char *buf);

/* Compares numerically (1.5 == 1.50). Returns <0, 0, >0. */
int ps_decimal_cmp(ps_decimal a, ps_decimal b);

#ifdef __cplusplus
}
#endif
#endif
