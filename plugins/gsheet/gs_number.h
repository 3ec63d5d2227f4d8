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

#endif
