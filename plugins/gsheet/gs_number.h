/* gsheet: exact, locale-independent text of JSON number cells. */
#ifndef PS_GS_NUMBER_H
#define PS_GS_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/* Buffer size that ps_gs_format_double never exceeds (NUL included). */
#define PS_GS_NUM_MAX 400

/* Writes d as plain decimal text (no exponent, '.' as the decimal point whatever the locale):
 * integral values without ".0" ("2348012345678"), others as the shortest digit string that
 * reads back to the same double ("0.1", "45356.5935300926"). -0 is "0". NaN/Inf write "" and
 * return 0 (JSON cannot carry them). Returns the length. */
size_t ps_gs_format_double(double d, char buf[PS_GS_NUM_MAX]);

/* Writes a 64-bit integer in decimal. Returns the length. */
size_t ps_gs_format_int(int64_t v, char buf[PS_GS_NUM_MAX]);

/* Rewrites a JSON number literal lit[0..len) (already valid JSON number syntax) as plain
 * decimal text without a double: the exponent is applied by moving the point ("1.2E7" ->
 * "12000000", "1.5E-5" -> "0.000015"), trailing fraction zeros and a bare point are dropped
 * ("2.50" -> "2.5", "3.0" -> "3"), any zero is "0" (no "-0"); other digits are kept exactly
 * (so "123456789012345678901234567890" stays as is). Writes at most cap bytes plus a NUL to
 * out (out may be NULL to measure). Returns the length of the text, or 0 when it would be
 * longer than PS_GS_NUM_MAX - 1 characters (or lit is not a number). */
size_t ps_gs_number_plain(const char *lit, size_t len, char *out, size_t cap);

#endif
