/* paysync core: locale- and TZ-independent timestamp parsing and formatting (thread-safe)
 * (internal). */
#ifndef PS_MODEL_TIMESTAMP_H
#define PS_MODEL_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#include "model/civil.h" /* ps_days_from_civil, ps_civil_from_days */
#include "model/tz.h"
#include "paysync/timestamp.h"

/* Result codes of the parsers below. */
enum { PS_TIME_OK = 0, PS_TIME_SYNTAX = -1, PS_TIME_RANGE = -2 };

/* Parses the ISO-8601 family accepted by the spec (canonical, no fraction, 1..9 fraction
 * digits truncated to ms, Z/+hh:mm/+hhmm/+hh, space for T, no zone, date alone).
 * A value without zone is wall-clock in `naive_zone` (NULL = UTC). Impossible dates or
 * times give PS_TIME_RANGE. Output: milliseconds since 1970-01-01T00:00:00Z. */
int ps_time_parse_iso(const char *s, size_t len, const ps_tz *naive_zone, int64_t *out_ms);

/* The fast path of ps_time_parse_iso for a value already in the canonical form
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" (exactly 24 bytes, upper-case 'T' and 'Z'): returns 1 with
 * *out_ms set when s is such a value and a possible date and time (then ps_time_parse_iso
 * gives the same instant and ps_time_format writes s back unchanged), else 0 (s may still be
 * valid in another form, or invalid: ask ps_time_parse_iso). */
int ps_time_parse_canonical(const char *s, size_t len, int64_t *out_ms);

/* The fast path of ps_time_parse_iso with naive_zone NULL (UTC) for a value to the second
 * without zone, "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DDTHH:MM:SS" ('t' too; exactly 19 bytes): returns
 * 1 with *out_ms set and its canonical text (what ps_time_format writes, 24 bytes and a NUL) in
 * text (>= PS_TIME_TEXT_MAX) when s is such a value and a possible date and time, else 0 (ask
 * ps_time_parse_iso). Wrong for any other naive zone: the caller checks. */
int ps_time_parse_seconds_utc(const char *s, size_t len, int64_t *out_ms, char *text);

/* Parses with a strptime-style format of %Y %m %d %H %M %S %y %b %B %p %I %f %z %Z(UTC only) %% and
 * literal characters (English month names, no locale). Whole input must match. */
int ps_time_parse_format(const char *s, size_t len, const char *fmt, const ps_tz *naive_zone,
                         int64_t *out_ms);

/* Parses a spreadsheet serial (days since 1899-12-30, fraction = time of day, exact decimal
 * text such as "45356.5935300926") as wall-clock in zone (NULL = UTC), rounded to ms. */
int ps_time_parse_serial(const char *s, size_t len, const ps_tz *zone, int64_t *out_ms);

/* Writes the canonical UTC form into buf (>= PS_TIME_TEXT_MAX). Returns the length (24). */
size_t ps_time_format(int64_t ms, char *buf);

#endif
