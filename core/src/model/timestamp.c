/* paysync: timestamp parsing and formatting without libc time functions (thread-safe). */
#include <string.h>

#include "model/timestamp.h"

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return md[m - 1];
}

/* Smallest and largest instants we accept/format: 0000-01-01 .. 9999-12-31T23:59:59.999 */
#define MIN_MS (INT64_C(-62167219200000))
#define MAX_MS (INT64_C(253402300799999))

/* Broken-down wall-clock time as parsed; ms in 0..999. */
typedef struct civil {
    int64_t y;
    int mon, day, hour, min, sec, ms;
    int has_zone;
    int32_t zone_off; /* seconds east */
} civil;

/* Builds UTC ms from a civil time: validates ranges, applies the explicit offset or the
 * naive zone. */
static int civil_to_ms(const civil *c, const ps_tz *naive_zone, int64_t *out)
{
    int64_t local_s, utc_s, ms;
    if (c->mon < 1 || c->mon > 12 || c->day < 1 ||
        (unsigned)c->day > days_in_month(c->y, (unsigned)c->mon) || c->hour > 23 || c->min > 59 ||
        c->sec > 59 || c->y < 0 || c->y > 9999)
        return PS_TIME_RANGE;
    local_s = ps_days_from_civil(c->y, (unsigned)c->mon, (unsigned)c->day) * 86400 +
              c->hour * 3600 + c->min * 60 + c->sec;
    utc_s = c->has_zone ? local_s - c->zone_off : ps_tz_local_to_utc(naive_zone, local_s);
    ms = utc_s * 1000 + c->ms;
    if (ms < MIN_MS || ms > MAX_MS)
        return PS_TIME_RANGE;
    *out = ms;
    return PS_TIME_OK;
}

static int digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0, k;
    if (*i + (size_t)n > len)
        return -1;
    for (k = 0; k < n; k++) {
        char c = s[*i + (size_t)k];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    *out = v;
    return 0;
}

/* Fraction after the separator: 1..9 digits, truncated to ms. */
static int fraction(const char *s, size_t len, size_t *i, int *ms)
{
    int n = 0, v = 0;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        if (n < 3)
            v = v * 10 + (s[*i] - '0');
        n++;
        (*i)++;
    }
    if (n < 1 || n > 9)
        return -1;
    while (n < 3) {
        v *= 10;
        n++;
    }
    *ms = v;
    return 0;
}

/* Zone designator: Z, +hh:mm, +hhmm, +hh (or '-'). Must reach the end of the input. */
static int zone(const char *s, size_t len, size_t *i, int32_t *off)
{
    int hh, mm = 0, sign;
    if (*i < len && (s[*i] == 'Z' || s[*i] == 'z')) {
        (*i)++;
        *off = 0;
        return 0;
    }
    if (*i >= len || (s[*i] != '+' && s[*i] != '-'))
        return -1;
    sign = s[*i] == '-' ? -1 : 1;
    (*i)++;
    if (digits(s, len, i, 2, &hh) != 0)
        return -1;
    if (*i < len && s[*i] == ':') {
        (*i)++;
        if (digits(s, len, i, 2, &mm) != 0)
            return -1;
    } else if (*i < len) {
        if (digits(s, len, i, 2, &mm) != 0)
            return -1;
    }
    if (hh > 18 || mm > 59)
        return -2;
    *off = (int32_t)(sign * (hh * 3600 + mm * 60));
    return 0;
}

int ps_time_parse_iso(const char *s, size_t len, const ps_tz *naive_zone, int64_t *out_ms)
{
    civil c;
    size_t i = 0;
    int y, r;
    memset(&c, 0, sizeof c);
    if (!s)
        return PS_TIME_SYNTAX;
    if (digits(s, len, &i, 4, &y) != 0 || i >= len || s[i] != '-')
        return PS_TIME_SYNTAX;
    i++;
    c.y = y;
    if (digits(s, len, &i, 2, &c.mon) != 0 || i >= len || s[i] != '-')
        return PS_TIME_SYNTAX;
    i++;
    if (digits(s, len, &i, 2, &c.day) != 0)
        return PS_TIME_SYNTAX;
    if (i < len) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return PS_TIME_SYNTAX;
        i++;
        if (digits(s, len, &i, 2, &c.hour) != 0 || i >= len || s[i] != ':')
            return PS_TIME_SYNTAX;
        i++;
        if (digits(s, len, &i, 2, &c.min) != 0)
            return PS_TIME_SYNTAX;
        if (i < len && s[i] == ':') {
            i++;
            if (digits(s, len, &i, 2, &c.sec) != 0)
                return PS_TIME_SYNTAX;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                if (fraction(s, len, &i, &c.ms) != 0)
                    return PS_TIME_SYNTAX;
            }
        }
        if (i < len) {
            r = zone(s, len, &i, &c.zone_off);
            if (r == -2)
                return PS_TIME_RANGE;
            if (r != 0)
                return PS_TIME_SYNTAX;
            c.has_zone = 1;
        }
    }
    if (i != len)
        return PS_TIME_SYNTAX;
    return civil_to_ms(&c, naive_zone, out_ms);
}

/* s[0..19) read as "YYYY-MM-DD?HH:MM:SS" (the caller checks s[10]) plus ms milliseconds,
 * UTC: 1 with *out set when every digit and separator is there and the date and time are
 * possible (civil_to_ms's ranges; every year 0000-9999 lies within MIN_MS..MAX_MS), else 0.
 * Checked as three little-endian words, s[0..8), s[8..16) and s[11..19): a byte b is a digit
 * when b ^ '0' has a zero high nibble and adding 6 does not carry into it (a carry from the
 * byte below only comes from a byte that fails anyway). */
static uint64_t word_at(const char *s)
{
    const unsigned char *b = (const unsigned char *)s;
    return (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24 |
           (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 |
           (uint64_t)b[7] << 56;
}

#define ONES8 UINT64_C(0x0101010101010101)

/* Nonzero when a byte of x (digits xor '0') selected by mask is not a digit's. */
static uint64_t not_digits(uint64_t x, uint64_t mask)
{
    return ((x & ONES8 * 0xf0) | ((x + ONES8 * 0x06) & ONES8 * 0x10)) & mask;
}

/* The two-digit number at byte k of x (digits xor '0'). */
static unsigned two(uint64_t x, int k)
{
    return (unsigned)(x >> (8 * k) & 15) * 10 + (unsigned)(x >> (8 * k + 8) & 15);
}

static int fixed_utc(const char *s, unsigned ms, int64_t *out)
{
    /* "YYYY-MM-", "DD?HH:MM", "HH:MM:SS": digit bytes and separator bytes of each word */
    const uint64_t a = word_at(s), b = word_at(s + 8), c = word_at(s + 11);
    const uint64_t xa = a ^ ONES8 * '0', xb = b ^ ONES8 * '0', xc = c ^ ONES8 * '0';
    unsigned y, mon, day, hour, min, sec;
    if ((a & UINT64_C(0xff0000ff00000000)) != UINT64_C(0x2d00002d00000000) || /* '-' at 4, 7 */
        (c & UINT64_C(0x0000ff0000ff0000)) != UINT64_C(0x00003a00003a0000) || /* ':' at 13, 16 */
        not_digits(xa, UINT64_C(0x00ffff00ffffffff)) |
            not_digits(xb, UINT64_C(0xffff00ffff00ffff)) |
            not_digits(xc, UINT64_C(0xffff00ffff00ffff)))
        return 0;
    y = two(xa, 0) * 100 + two(xa, 2);
    mon = two(xa, 5);
    day = two(xb, 0);
    hour = two(xc, 0);
    min = two(xc, 3);
    sec = two(xc, 6);
    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(y, mon) || hour > 23 || min > 59 ||
        sec > 59)
        return 0;
    *out = (ps_days_from_civil(y, mon, day) * 86400 + hour * 3600 + min * 60 + sec) * 1000 + ms;
    return 1;
}

int ps_time_parse_canonical(const char *s, size_t len, int64_t *out_ms)
{
    unsigned a, b, c;
    if (len != 24 || s[10] != 'T' || s[19] != '.' || s[23] != 'Z')
        return 0;
    a = (unsigned)(unsigned char)s[20] - '0';
    b = (unsigned)(unsigned char)s[21] - '0';
    c = (unsigned)(unsigned char)s[22] - '0';
    if (a > 9 || b > 9 || c > 9)
        return 0;
    return fixed_utc(s, a * 100 + b * 10 + c, out_ms);
}

int ps_time_parse_seconds_utc(const char *s, size_t len, int64_t *out_ms, char *text)
{
    if (len != 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !fixed_utc(s, 0, out_ms))
        return 0;
    memcpy(text, s, 19);
    memcpy(text + 19, ".000Z", 6);
    text[10] = 'T';
    return 1;
}

/* ---- strptime-style formats ---------------------------------------------------------- */

static const char *const month_names[12] = {"january",   "february", "march",    "april",
                                            "may",       "june",     "july",     "august",
                                            "september", "october",  "november", "december"};

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t';
}

/* 1..maxd digits. */
static int num(const char *s, size_t len, size_t *i, int maxd, int *out)
{
    int v = 0, n = 0;
    while (*i < len && n < maxd && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        n++;
    }
    if (n == 0)
        return -1;
    *out = v;
    return 0;
}

static int month_name(const char *s, size_t len, size_t *i, int *mon)
{
    int m;
    for (m = 0; m < 12; m++) {
        const char *name = month_names[m];
        size_t full = strlen(name), k;
        /* full name first, then the 3-letter abbreviation ("Sept" is not accepted) */
        for (k = 0; k < full && *i + k < len && lower(s[*i + k]) == name[k]; k++)
            ;
        if (k == full) {
            *i += full;
            *mon = m + 1;
            return 0;
        }
        if (k >= 3) {
            *i += 3;
            *mon = m + 1;
            return 0;
        }
    }
    return -1;
}

int ps_time_parse_format(const char *s, size_t len, const char *fmt, const ps_tz *naive_zone,
                         int64_t *out_ms)
{
    civil c;
    size_t i = 0;
    int have_y = 0, have_m = 0, have_d = 0, pm = -1, h12 = -1, v, r;
    memset(&c, 0, sizeof c);
    if (!s || !fmt)
        return PS_TIME_SYNTAX;
    for (; *fmt; fmt++) {
        if (is_space((unsigned char)*fmt)) {
            while (i < len && is_space((unsigned char)s[i]))
                i++;
            continue;
        }
        if (*fmt != '%') {
            if (i >= len || s[i] != *fmt)
                return PS_TIME_SYNTAX;
            i++;
            continue;
        }
        fmt++;
        switch (*fmt) {
        case 'Y':
            if (num(s, len, &i, 4, &v) != 0)
                return PS_TIME_SYNTAX;
            c.y = v;
            have_y = 1;
            break;
        case 'y':
            if (num(s, len, &i, 2, &v) != 0)
                return PS_TIME_SYNTAX;
            c.y = v < 69 ? 2000 + v : 1900 + v; /* POSIX pivot */
            have_y = 1;
            break;
        case 'm':
            if (num(s, len, &i, 2, &c.mon) != 0)
                return PS_TIME_SYNTAX;
            have_m = 1;
            break;
        case 'b':
        case 'B':
            if (month_name(s, len, &i, &c.mon) != 0)
                return PS_TIME_SYNTAX;
            have_m = 1;
            break;
        case 'd':
            if (num(s, len, &i, 2, &c.day) != 0)
                return PS_TIME_SYNTAX;
            have_d = 1;
            break;
        case 'H':
            if (num(s, len, &i, 2, &c.hour) != 0)
                return PS_TIME_SYNTAX;
            break;
        case 'I':
            if (num(s, len, &i, 2, &h12) != 0)
                return PS_TIME_SYNTAX;
            if (h12 < 1 || h12 > 12)
                return PS_TIME_RANGE;
            break;
        case 'p':
            if (i + 2 > len || lower(s[i + 1]) != 'm' || (lower(s[i]) != 'a' && lower(s[i]) != 'p'))
                return PS_TIME_SYNTAX;
            pm = lower(s[i]) == 'p';
            i += 2;
            break;
        case 'M':
            if (num(s, len, &i, 2, &c.min) != 0)
                return PS_TIME_SYNTAX;
            break;
        case 'S':
            if (num(s, len, &i, 2, &c.sec) != 0)
                return PS_TIME_SYNTAX;
            break;
        case 'f':
            if (fraction(s, len, &i, &c.ms) != 0)
                return PS_TIME_SYNTAX;
            break;
        case 'z':
            r = zone(s, len, &i, &c.zone_off);
            if (r == -2)
                return PS_TIME_RANGE;
            if (r != 0)
                return PS_TIME_SYNTAX;
            c.has_zone = 1;
            break;
        case 'Z':
            if (i + 3 <= len && (memcmp(s + i, "UTC", 3) == 0 || memcmp(s + i, "GMT", 3) == 0))
                i += 3;
            else if (i < len && s[i] == 'Z')
                i++;
            else
                return PS_TIME_SYNTAX;
            c.has_zone = 1;
            c.zone_off = 0;
            break;
        case '%':
            if (i >= len || s[i] != '%')
                return PS_TIME_SYNTAX;
            i++;
            break;
        default:
            return PS_TIME_SYNTAX; /* unknown or truncated directive */
        }
    }
    if (i != len || !have_y || !have_m || !have_d)
        return PS_TIME_SYNTAX;
    if (h12 >= 0) {
        c.hour = (h12 % 12) + (pm == 1 ? 12 : 0);
    } else if (pm >= 0) {
        if (c.hour < 1 || c.hour > 12)
            return PS_TIME_RANGE;
        c.hour = (c.hour % 12) + (pm ? 12 : 0);
    }
    return civil_to_ms(&c, naive_zone, out_ms);
}

/* ---- spreadsheet serials --------------------------------------------------------------- */

int ps_time_parse_serial(const char *s, size_t len, const ps_tz *zone_, int64_t *out_ms)
{
    size_t i = 0;
    int64_t days = 0, frac = 0, local_ms, local_s, utc_s, ms;
    int nint = 0, nfrac = 0;
    if (!s || len == 0)
        return PS_TIME_SYNTAX;
    if (s[0] == '+')
        i++;
    else if (s[0] == '-')
        return PS_TIME_RANGE;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (nint >= 7)
            return PS_TIME_RANGE;
        days = days * 10 + (s[i] - '0');
        nint++;
    }
    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (nfrac < 15) { /* 1e-15 day is far below a millisecond */
                frac = frac * 10 + (s[i] - '0');
                nfrac++;
            }
        }
    }
    if (i != len || nint + nfrac == 0)
        return PS_TIME_SYNTAX;
    /* ms of day = frac / 10^nfrac * 86400000 = frac * 864 * 10^5 / 10^nfrac, rounded */
    {
        int64_t num = frac * 864, den = 1;
        int k;
        if (nfrac <= 5) {
            for (k = nfrac; k < 5; k++)
                num *= 10;
        } else {
            for (k = 5; k < nfrac; k++)
                den *= 10;
        }
        ms = (num + den / 2) / den;
    }
    /* 1899-12-30 is day -25569 relative to 1970-01-01 */
    local_ms = (days - 25569) * 86400000 + ms;
    local_s = floor_div(local_ms, 1000);
    utc_s = ps_tz_local_to_utc(zone_, local_s);
    ms = local_ms + (utc_s - local_s) * 1000;
    if (ms < MIN_MS || ms > MAX_MS)
        return PS_TIME_RANGE;
    *out_ms = ms;
    return PS_TIME_OK;
}

/* ---- formatting ---------------------------------------------------------------------- */

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

size_t ps_time_format(int64_t ms, char *buf)
{
    int64_t days, y, sod;
    unsigned m, d, msr;
    if (ms < MIN_MS)
        ms = MIN_MS;
    if (ms > MAX_MS)
        ms = MAX_MS;
    days = floor_div(ms, 86400000);
    sod = ms - days * 86400000;
    msr = (unsigned)(sod % 1000);
    sod /= 1000;
    ps_civil_from_days(days, &y, &m, &d);
    put2(buf, (unsigned)(y / 100));
    put2(buf + 2, (unsigned)(y % 100));
    buf[4] = '-';
    put2(buf + 5, m);
    buf[7] = '-';
    put2(buf + 8, d);
    buf[10] = 'T';
    put2(buf + 11, (unsigned)(sod / 3600));
    buf[13] = ':';
    put2(buf + 14, (unsigned)(sod / 60 % 60));
    buf[16] = ':';
    put2(buf + 17, (unsigned)(sod % 60));
    buf[19] = '.';
    buf[20] = (char)('0' + msr / 100);
    put2(buf + 21, msr % 100);
    buf[23] = 'Z';
    buf[24] = '\0';
    return 24;
}
