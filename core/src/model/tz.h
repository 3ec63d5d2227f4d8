/* paysync core: source time zones (fixed offsets and IANA zones read from the tz database
 * without touching the process TZ) (internal). */
#ifndef PS_MODEL_TZ_H
#define PS_MODEL_TZ_H

#include <stdint.h>

#include "paysync/status.h"

/* A source time zone: a fixed UTC offset or an IANA zone read from the tz database
 * ($TZDIR or /usr/share/zoneinfo) without touching the process TZ. Immutable once loaded. */
typedef struct ps_tz ps_tz;

/* Loads "UTC", "Z", a fixed offset ("+01:00", "-0530", "+03") or an IANA name
 * ("Africa/Lagos"). Caller frees with ps_tz_free. Errors: PS_ERR_CONFIG naming the zone. */
ps_status ps_tz_load(const char *name, ps_tz **out, ps_error *err);
void ps_tz_free(ps_tz *tz);
/* The name given to ps_tz_load (owned by tz). */
const char *ps_tz_name(const ps_tz *tz);

/* Converts local wall-clock seconds (as if UTC) in tz to UTC seconds. In a DST gap the
 * pre-transition offset is used; in an overlap the earlier instant. tz NULL = UTC. */
int64_t ps_tz_local_to_utc(const ps_tz *tz, int64_t local_seconds);
/* UTC offset in seconds in force at the given UTC instant. tz NULL = 0. */
int32_t ps_tz_offset_at(const ps_tz *tz, int64_t utc_seconds);

#endif
