/* paysync core: duration text (see duration.h). */
#include "util/duration.h"

#include <ctype.h>
#include <stdio.h>

#define MS_MIN INT64_C(60000)
#define MS_HOUR (60 * MS_MIN)
#define MS_DAY (24 * MS_HOUR)

int ps_duration_parse(const char *s, int allow_zero, int64_t *out_ms, const char **why)
{
    static const int64_t limit = PS_DURATION_MAX_MS;
    int64_t total = 0;
    const char *p = s;
    if (!s || !*s) {
        *why = "a duration is required, e.g. 6h";
        return -1;
    }
    while (*p) {
        if (!isdigit((unsigned char)*p)) {
            *why = "expected a number followed by a unit ms, s, m, h or d (e.g. 6h, 10m, 1h30m)";
            return -1;
        }
        int64_t v = 0;
        while (isdigit((unsigned char)*p)) {
            v = v * 10 + (*p++ - '0');
            if (v > limit) {
                *why = "duration is too long (at most ten years)";
                return -1;
            }
        }
        int64_t unit;
        switch (*p) {
        case 's':
            unit = 1000;
            break;
        case 'm':
            if (p[1] == 's') {
                unit = 1;
                p++;
            } else {
                unit = MS_MIN;
            }
            break;
        case 'h':
            unit = MS_HOUR;
            break;
        case 'd':
            unit = MS_DAY;
            break;
        case '\0':
            *why = "a number needs a unit ms, s, m, h or d (e.g. 6h)";
            return -1;
        default:
            *why = "unknown unit: use ms, s, m, h or d (e.g. 6h, 10m, 1h30m)";
            return -1;
        }
        p++;
        if (v > limit / unit || total + v * unit > limit) {
            *why = "duration is too long (at most ten years)";
            return -1;
        }
        total += v * unit;
    }
    if (total == 0 && !allow_zero) {
        *why = "duration must be longer than zero";
        return -1;
    }
    *out_ms = total;
    return 0;
}

static void format(int64_t ms, int exact, char *buf, size_t cap)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{MS_DAY, "d"}, {MS_HOUR, "h"}, {MS_MIN, "m"}, {1000, "s"}, {1, "ms"}};
    size_t k = 0;
    if (cap == 0)
        return;
    buf[0] = '\0';
    if (ms <= 0) {
        snprintf(buf, cap, "0s");
        return;
    }
    size_t nunits = exact || ms < 1000 ? 5 : 4;
    for (size_t i = 0; i < nunits && k < cap; i++) {
        int64_t v = ms / units[i].ms;
        if (v == 0)
            continue;
        ms -= v * units[i].ms;
        int w = snprintf(buf + k, cap - k, "%lld%s", (long long)v, units[i].unit);
        if (w < 0)
            return;
        k += (size_t)w;
    }
}

void ps_duration_format(int64_t ms, char *buf, size_t cap)
{
    format(ms, 0, buf, cap);
}

void ps_duration_format_exact(int64_t ms, char *buf, size_t cap)
{
    format(ms, 1, buf, cap);
}
