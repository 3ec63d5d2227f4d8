/* paysync core: HTTP retry policy (see retry.h). */
#include "http/retry.h"

#include <string.h>
#include <strings.h>

int ps_retry_status(long status)
{
    return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 88172645463325252ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

int64_t ps_retry_delay_ms(const ps_retry_policy *p, uint64_t *rng, int retry,
                          int64_t retry_after_ms)
{
    if (retry_after_ms >= 0)
        return retry_after_ms > p->retry_after_cap_ms ? p->retry_after_cap_ms : retry_after_ms;
    int64_t base = p->backoff_base_ms > 0 ? p->backoff_base_ms : 1;
    int64_t d = base;
    for (int i = 0; i < retry && d < p->backoff_cap_ms; i++)
        d *= 2;
    d += (int64_t)(next_rand(rng) % (uint64_t)(base + 1));
    return d > p->backoff_cap_ms ? p->backoff_cap_ms : d;
}

/* ---- HTTP-date ------------------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int month_of(const char *s)
{
    static const char *const names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++)
        if (strncasecmp(s, names[i], 3) == 0)
            return i + 1;
    return 0;
}

/* Reads exactly `digits` digits (or 1..digits when loose) at *p. -1 on failure. */
static int num(const char **p, const char *end, int digits, int loose)
{
    int v = 0, k = 0;
    while (*p < end && k < digits && **p >= '0' && **p <= '9') {
        v = v * 10 + (**p - '0');
        (*p)++;
        k++;
    }
    return (k == digits || (loose && k > 0)) ? v : -1;
}

static int lit(const char **p, const char *end, char c)
{
    if (*p < end && **p == c) {
        (*p)++;
        return 1;
    }
    return 0;
}

static int hms(const char **p, const char *end, int *h, int *mi, int *s)
{
    *h = num(p, end, 2, 0);
    if (*h < 0 || !lit(p, end, ':'))
        return 0;
    *mi = num(p, end, 2, 0);
    if (*mi < 0 || !lit(p, end, ':'))
        return 0;
    *s = num(p, end, 2, 0);
    return *s >= 0 && *h < 24 && *mi < 60 && *s <= 60;
}

/* Seconds since the epoch of an HTTP-date, or -1. */
static int64_t http_date(const char *v, size_t n)
{
    const char *p = v, *end = v + n;
    const char *comma = memchr(v, ',', n);
    int y, m, d, h, mi, s;
    if (comma) {
        p = comma + 1;
        if (!lit(&p, end, ' '))
            return -1;
        d = num(&p, end, 2, 0);
        if (d < 0)
            return -1;
        if (lit(&p, end, ' ')) { /* IMF-fixdate: 06 Nov 1994 08:49:37 GMT */
            if (end - p < 4 || !(m = month_of(p)))
                return -1;
            p += 3;
            if (!lit(&p, end, ' ') || (y = num(&p, end, 4, 0)) < 0)
                return -1;
        } else if (lit(&p, end, '-')) { /* RFC 850: 06-Nov-94 08:49:37 GMT */
            if (end - p < 4 || !(m = month_of(p)))
                return -1;
            p += 3;
            if (!lit(&p, end, '-') || (y = num(&p, end, 2, 0)) < 0)
                return -1;
            y += y < 70 ? 2000 : 1900;
        } else {
            return -1;
        }
        if (!lit(&p, end, ' ') || !hms(&p, end, &h, &mi, &s) || !lit(&p, end, ' ') ||
            end - p != 3 || strncmp(p, "GMT", 3) != 0)
            return -1;
    } else { /* asctime: Sun Nov  6 08:49:37 1994 */
        if (n < 24)
            return -1;
        p = v + 4;
        if (!(m = month_of(p)))
            return -1;
        p += 3;
        if (!lit(&p, end, ' '))
            return -1;
        lit(&p, end, ' ');
        if ((d = num(&p, end, 2, 1)) < 0 || !lit(&p, end, ' ') || !hms(&p, end, &h, &mi, &s) ||
            !lit(&p, end, ' ') || (y = num(&p, end, 4, 0)) < 0 || p != end)
            return -1;
    }
    if (d < 1 || d > 31)
        return -1;
    return days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + s;
}

int64_t ps_retry_after_parse(const char *v, size_t n, int64_t now_ms)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    if (n == 0)
        return -1;
    if (v[0] >= '0' && v[0] <= '9') {
        int64_t s = 0;
        for (size_t i = 0; i < n; i++) {
            if (v[i] < '0' || v[i] > '9')
                return -1;
            if (s < INT32_MAX)
                s = s * 10 + (v[i] - '0');
        }
        if (s > INT32_MAX)
            s = INT32_MAX;
        return s * 1000;
    }
    int64_t t = http_date(v, n);
    if (t < 0)
        return -1;
    int64_t d = t * 1000 - now_ms;
    return d > 0 ? d : 0;
}
