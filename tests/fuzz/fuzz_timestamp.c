/* Fuzz target: ps_time_parse_iso / _format / _serial and ps_time_format (core/src/model/timestamp.c).
 * Byte 0 picks the parser and the naive zone; for _format the input is "FORMAT\nTEXT".
 * Invariant: every instant parsed formats to canonical text that parses back to itself. */
#include <string.h>

#include "fuzz.h"
#include "model/timestamp.h"

static const ps_tz *tsf_zone(int which)
{
    static ps_tz *zones[3];
    static int loaded;
    if (!loaded) {
        ps_error err;
        if (ps_tz_load("+01:00", &zones[1], &err) != PS_OK)
            zones[1] = NULL;
        if (ps_tz_load("Africa/Lagos", &zones[2], &err) != PS_OK) /* absent tzdata: skip */
            zones[2] = NULL;
        loaded = 1;
    }
    return zones[which % 3];
}

static void tsf_roundtrip(int64_t ms)
{
    char buf[PS_TIME_TEXT_MAX];
    memset(buf, 0x55, sizeof buf);
    size_t n = ps_time_format(ms, buf);
    PS_FUZZ_CHECK(n < PS_TIME_TEXT_MAX && buf[n] == '\0' && strlen(buf) == n);
    int64_t back = 0;
    /* only the 4-digit-year range has a canonical form that must read back */
    if (ms >= INT64_C(-62167219200000) && ms <= INT64_C(253402300799999)) {
        PS_FUZZ_CHECK(ps_time_parse_iso(buf, n, NULL, &back) == PS_TIME_OK);
        PS_FUZZ_CHECK(back == ms);
    }
}

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int sel = data[0];
    const ps_tz *zone = tsf_zone(sel >> 2);
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    int64_t ms = 0;
    int rc;
    switch (sel & 3) {
    case 0:
        rc = ps_time_parse_iso(s, len, zone, &ms);
        break;
    case 1: {
        const char *nl = memchr(s, '\n', len);
        if (!nl)
            return 0;
        size_t flen = (size_t)(nl - s);
        char *fmt = malloc(flen + 1); /* the format is NUL-terminated */
        PS_FUZZ_CHECK(fmt);
        memcpy(fmt, s, flen);
        fmt[flen] = '\0';
        rc = ps_time_parse_format(nl + 1, len - flen - 1, fmt, zone, &ms);
        free(fmt);
        break;
    }
    case 2:
        rc = ps_time_parse_serial(s, len, zone, &ms);
        break;
    default: {
        /* raw 8 bytes as an instant: formatting must never overflow its buffer */
        int64_t v = 0;
        memcpy(&v, s, len < sizeof v ? len : sizeof v);
        char buf[PS_TIME_TEXT_MAX];
        size_t n = ps_time_format(v, buf);
        PS_FUZZ_CHECK(n < PS_TIME_TEXT_MAX);
        return 0;
    }
    }
    PS_FUZZ_CHECK(rc == PS_TIME_OK || rc == PS_TIME_SYNTAX || rc == PS_TIME_RANGE);
    if (rc == PS_TIME_OK)
        tsf_roundtrip(ms);
    return 0;
}
