/* rest: ISO 8601 timestamps and short durations in manifests and API items. */
#ifndef PS_RS_TIME_H
#define PS_RS_TIME_H

#include <stdint.h>

/* Parses "YYYY-MM-DD", "YYYY-MM-DDThh:mm[:ss[.f{1,9}]]" (or a space for T) with an optional
 * zone "Z", "+hh:mm", "+hhmm", "+hh" (none = UTC) into ms since the epoch (UTC). 0, or -1
 * when s is not such a timestamp or names an impossible date or time. */
int rs_time_parse(const char *s, int64_t *ms);

/* Parses "3d", "12h", "90m", "30s", "500ms", "1h30m" (no sign, no fraction) into ms. 0 or -1. */
int rs_duration_parse(const char *s, int64_t *ms);

#endif
