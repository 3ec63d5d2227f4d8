/* paysync core: an inclusive time window [FROM, TO] as users type it, shared by `export
 * --from/--to` and serve's FROM/TO (docs/operations.md, docs/serve.md): one rule for how far
 * an end bound reaches and one message for a FROM after its TO. Pure functions. */
#ifndef PS_MODEL_TIME_WINDOW_H
#define PS_MODEL_TIME_WINDOW_H

#include <stddef.h>
#include <stdint.h>

/* The message for a window whose FROM is after its TO (static storage). serve answers it
 * with 400, export prints it and exits 2. */
const char *ps_time_window_order_message(void);

/* Parses one bound with ps_time_parse_iso (no zone = UTC). *ms is the instant the text names;
 * *unit_ms the length of the smallest unit it gives: 86,400,000 for a date alone, 60,000 to
 * the minute, 1,000 to the second, 1 with a fraction of a second. Returns PS_TIME_OK or the
 * parser's PS_TIME_SYNTAX / PS_TIME_RANGE (outputs then untouched). */
int ps_time_window_bound(const char *s, size_t len, int64_t *ms, int64_t *unit_ms);

/* Closes the window [from_ms, to_ms]: -1 when from_ms is after to_ms (the instants as
 * written; ps_time_window_order_message says why), else 0 with *end_ms = the last
 * millisecond covered by TO, which covers its whole unit (to_ms + to_unit_ms - 1): a TO
 * without a fraction covers its whole second, a date alone its whole day. */
int ps_time_window_close(int64_t from_ms, int64_t to_ms, int64_t to_unit_ms, int64_t *end_ms);

#endif
