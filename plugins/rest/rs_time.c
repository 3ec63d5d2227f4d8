/* rest: ISO 8601 timestamps and durations (see rs_time.h). */
#include "rs_time.h"

#include <string.h>

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int month_days(int y, int m)
{
    static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return md[m - 1];
}

int rs_time_parse(const char *s, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
    size_t n = strlen(s);
    if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
        return -1;
    const char *p = s + 10;
    int64_t off_min = 0;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (digits(p, 2, &h) || p[2] != ':' || digits(p + 3, 2, &mi))
            return -1;
        p += 5;
        if (*p == ':') {
            if (digits(p + 1, 2, &se))
                return -1;
            p += 3;
            if (*p == '.' || *p == ',') {
                p++;
                int k = 0, scale = 100;
                while (*p >= '0' && *p <= '9') {
                    if (k < 3) {
                        frac += (*p - '0') * scale;
                        scale /= 10;
                    }
                    k++;
                    p++;
                }
                if (k == 0 || k > 9)
                    return -1;
            }
        }
        if (h > 23 || mi > 59 || se > 59)
            return -1;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p == '-' ? -1 : 1, oh, om = 0;
            p++;
            if (digits(p, 2, &oh))
                return -1;
            p += 2;
            if (*p == ':') {
                if (digits(p + 1, 2, &om))
                    return -1;
                p += 3;
            } else if (*p >= '0' && *p <= '9') {
                if (digits(p, 2, &om))
                    return -1;
                p += 2;
            }
            if (oh > 23 || om > 59)
                return -1;
            off_min = sign * (oh * 60 + om);
        }
    }
    if (*p)
        return -1;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = ((days * 86400 + h * 3600 + mi * 60 + se) - off_min * 60) * 1000 + frac;
    return 0;
}

int rs_duration_parse(const char *s, int64_t *ms)
{
    int64_t total = 0;
    if (!s || !*s)
        return -1;
    while (*s) {
        int64_t v = 0;
        int nd = 0;
        while (*s >= '0' && *s <= '9') {
            if (v > 1000000000LL)
                return -1;
            v = v * 10 + (*s++ - '0');
            nd++;
        }
        if (!nd)
            return -1;
        int64_t unit;
        if (s[0] == 'm' && s[1] == 's') {
            unit = 1;
            s += 2;
        } else if (*s == 's') {
            unit = 1000;
            s++;
        } else if (*s == 'm') {
            unit = 60000;
            s++;
        } else if (*s == 'h') {
            unit = 3600000;
            s++;
        } else if (*s == 'd') {
            unit = 86400000;
            s++;
        } else
            return -1;
        total += v * unit;
        if (total > 3650LL * 86400000)
            return -1;
    }
    *ms = total;
    return 0;
}
