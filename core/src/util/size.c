/* paysync core: byte size text (see size.h). */
#include "util/size.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

static const struct {
    const char *unit;
    int64_t mult;
} units[] = {
    {"", 1},
    {"b", 1},
    {"k", INT64_C(1) << 10},
    {"ki", INT64_C(1) << 10},
    {"kib", INT64_C(1) << 10},
    {"kb", INT64_C(1000)},
    {"m", INT64_C(1) << 20},
    {"mi", INT64_C(1) << 20},
    {"mib", INT64_C(1) << 20},
    {"mb", INT64_C(1000000)},
    {"g", INT64_C(1) << 30},
    {"gi", INT64_C(1) << 30},
    {"gib", INT64_C(1) << 30},
    {"gb", INT64_C(1000000000)},
    {"t", INT64_C(1) << 40},
    {"ti", INT64_C(1) << 40},
    {"tib", INT64_C(1) << 40},
    {"tb", INT64_C(1000000000000)},
};

int ps_size_parse(const char *s, int64_t *out, const char **why)
{
    const char *p = s;
    if (!s || !*s) {
        *why = "a size is required, e.g. 64KiB";
        return -1;
    }
    if (!isdigit((unsigned char)*p)) {
        *why = "expected a whole number of bytes, optionally followed by a unit (e.g. 512, "
               "64KiB, 10MB)";
        return -1;
    }
    int64_t v = 0;
    while (isdigit((unsigned char)*p)) {
        int d = *p++ - '0';
        if (v > (INT64_MAX - d) / 10) {
            *why = "size is too large";
            return -1;
        }
        v = v * 10 + d;
    }
    while (*p == ' ')
        p++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(p, units[i].unit) != 0)
            continue;
        if (v > INT64_MAX / units[i].mult) {
            *why = "size is too large";
            return -1;
        }
        *out = v * units[i].mult;
        return 0;
    }
    *why = "unknown unit: use B, KiB, MiB, GiB, TiB (or k, M, G, T: powers of 1024) or kB, MB, "
           "GB, TB (powers of 1000)";
    return -1;
}

void ps_size_format(int64_t bytes, char *buf, size_t cap)
{
    static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (cap == 0)
        return;
    if (bytes <= 0) {
        snprintf(buf, cap, "0B");
        return;
    }
    size_t u = 0;
    while (u < 4 && bytes % 1024 == 0) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, cap, "%lld%s", (long long)bytes, names[u]);
}
