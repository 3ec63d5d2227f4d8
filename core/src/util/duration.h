/* paysync core: durations as text ("90s", "10m", "1h30m", "2d", "500ms") and back. Shared by
 * schedules, plugin options and serve settings. */
#ifndef PS_DURATION_H
#define PS_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Longest duration accepted: ten years (366-day years), in ms. */
#define PS_DURATION_MAX_MS (INT64_C(366) * 10 * 86400 * 1000)

/* Parses a duration: one or more NUMBER UNIT parts, units ms, s, m, h, d ("90s", "10m", "6h",
 * "1d", "1h30m", "500ms"), into ms (> 0 unless allow_zero). No sign, no spaces, no fractions.
 * Returns 0, or -1 with a reason in why (static text). */
int ps_duration_parse(const char *s, int allow_zero, int64_t *out_ms, const char **why);

/* Formats a duration compactly ("1h30m", "45s", "250ms", "0s") into buf (>= 32 bytes). From
 * one second up the sub-second rest is dropped ("1s" for 1500); see ps_duration_format_exact. */
void ps_duration_format(int64_t ms, char *buf, size_t cap);

/* Like ps_duration_format but keeps the milliseconds ("1s500ms"), so that parsing the text
 * gives ms back. buf >= 40 bytes. */
void ps_duration_format_exact(int64_t ms, char *buf, size_t cap);

#endif
