/* paysync: time zones without libc TZ: fixed offsets and TZif (RFC 8536, v2+) files read
 * from $TZDIR or /usr/share/zoneinfo, including the POSIX TZ footer rule for instants after
 * the last transition. A loaded ps_tz is immutable, so sharing it between threads is safe. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/civil.h"
#include "model/tz.h"

/* One DST rule date of a POSIX TZ string: Jn, n or Mm.w.d, plus the time of day (seconds). */
typedef struct tz_rule_date {
    char kind; /* 'J', 'D' (zero-based day) or 'M' */
    int a, b, c;
    int32_t secs;
} tz_rule_date;

typedef struct tz_posix {
    int valid;
    int has_dst;
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    tz_rule_date start, end;
} tz_posix;

struct ps_tz {
    char *name;
    int fixed;
    int32_t fixed_off;
    size_t ntrans;
    int64_t *trans;     /* UTC transition instants, ascending */
    int32_t *trans_off; /* offset in force from trans[i] */
    int32_t first_off;  /* offset before the first transition */
    tz_posix footer;
};

/* ---- fixed offsets ------------------------------------------------------------------- */

/* Parses "+hh", "+hhmm", "+hh:mm" (also "-"), returning seconds east; -1 on syntax. */
static int parse_fixed(const char *s, int32_t *out)
{
    size_t n = strlen(s);
    int sign, hh, mm = 0;
    if (n < 3 || (s[0] != '+' && s[0] != '-'))
        return -1;
    sign = s[0] == '-' ? -1 : 1;
    if (!isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]))
        return -1;
    hh = (s[1] - '0') * 10 + (s[2] - '0');
    if (n == 3) {
        /* +hh */
    } else if (n == 5 && isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4])) {
        mm = (s[3] - '0') * 10 + (s[4] - '0');
    } else if (n == 6 && s[3] == ':' && isdigit((unsigned char)s[4]) &&
               isdigit((unsigned char)s[5])) {
        mm = (s[4] - '0') * 10 + (s[5] - '0');
    } else {
        return -1;
    }
    if (hh > 18 || mm > 59 || (hh == 18 && mm > 0))
        return -1;
    *out = (int32_t)(sign * (hh * 3600 + mm * 60));
    return 0;
}

/* ---- POSIX TZ footer ----------------------------------------------------------------- */

static const char *posix_name(const char *p)
{
    if (*p == '<') {
        while (*p && *p != '>')
            p++;
        return *p == '>' ? p + 1 : NULL;
    }
    {
        const char *q = p;
        while (isalpha((unsigned char)*p))
            p++;
        return p - q >= 3 ? p : NULL;
    }
}

/* [+-]h[h][:mm[:ss]], hours up to 167 (RFC 8536 extension). Returns seconds. */
static const char *posix_time(const char *p, int32_t *out)
{
    int sign = 1;
    long h = 0, m = 0, s = 0;
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    if (!isdigit((unsigned char)*p))
        return NULL;
    while (isdigit((unsigned char)*p)) {
        h = h * 10 + (*p++ - '0');
        if (h > 167)
            return NULL;
    }
    if (*p == ':') {
        p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p))
            m = m * 10 + (*p++ - '0');
        if (*p == ':') {
            p++;
            if (!isdigit((unsigned char)*p))
                return NULL;
            while (isdigit((unsigned char)*p))
                s = s * 10 + (*p++ - '0');
        }
    }
    if (m > 59 || s > 59)
        return NULL;
    *out = (int32_t)(sign * (h * 3600 + m * 60 + s));
    return p;
}

static const char *posix_num(const char *p, int *out)
{
    int v = 0;
    if (!isdigit((unsigned char)*p))
        return NULL;
    while (isdigit((unsigned char)*p)) {
        v = v * 10 + (*p++ - '0');
        if (v > 1000)
            return NULL;
    }
    *out = v;
    return p;
}

static const char *posix_date(const char *p, tz_rule_date *d)
{
    d->secs = 7200; /* default 02:00 */
    if (*p == 'J') {
        d->kind = 'J';
        p = posix_num(p + 1, &d->a);
        if (!p || d->a < 1 || d->a > 365)
            return NULL;
    } else if (*p == 'M') {
        d->kind = 'M';
        p = posix_num(p + 1, &d->a);
        if (!p || *p != '.' || !(p = posix_num(p + 1, &d->b)) || *p != '.' ||
            !(p = posix_num(p + 1, &d->c)))
            return NULL;
        if (d->a < 1 || d->a > 12 || d->b < 1 || d->b > 5 || d->c > 6)
            return NULL;
    } else {
        d->kind = 'D';
        p = posix_num(p, &d->a);
        if (!p || d->a > 365)
            return NULL;
    }
    if (*p == '/') {
        p = posix_time(p + 1, &d->secs);
        if (!p)
            return NULL;
    }
    return p;
}

static int parse_posix(const char *s, tz_posix *tp)
{
    const char *p = s;
    int32_t off;
    memset(tp, 0, sizeof *tp);
    if (!(p = posix_name(p)) || !(p = posix_time(p, &off)))
        return -1;
    tp->std_off = -off; /* POSIX offsets are west of UTC */
    if (*p == '\0') {
        tp->valid = 1;
        return 0;
    }
    if (!(p = posix_name(p)))
        return -1;
    tp->has_dst = 1;
    tp->dst_off = tp->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if (!(p = posix_time(p, &off)))
            return -1;
        tp->dst_off = -off;
    }
    if (*p != ',') /* no rule: zic always writes one, refuse to guess */
        return -1;
    if (!(p = posix_date(p + 1, &tp->start)) || *p != ',' || !(p = posix_date(p + 1, &tp->end)) ||
        *p != '\0')
        return -1;
    tp->valid = 1;
    return 0;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local seconds (as if UTC) at which rule date d happens in year y. */
static int64_t rule_local(const tz_rule_date *d, int64_t y)
{
    int64_t day;
    if (d->kind == 'J') {
        day = ps_days_from_civil(y, 1, 1) + d->a - 1;
        if (is_leap(y) && d->a >= 60)
            day++;
    } else if (d->kind == 'D') {
        day = ps_days_from_civil(y, 1, 1) + d->a;
    } else {
        static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int64_t first = ps_days_from_civil(y, (unsigned)d->a, 1);
        /* 1970-01-01 was a Thursday (4) */
        int wd = (int)(((first % 7) + 7 + 4) % 7);
        int64_t dd = (d->c - wd + 7) % 7; /* first wanted weekday */
        unsigned ml = mdays[d->a - 1] + (d->a == 2 && is_leap(y));
        dd += (int64_t)(d->b - 1) * 7;
        while (dd >= (int64_t)ml)
            dd -= 7;
        day = first + dd;
    }
    return day * 86400 + d->secs;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int32_t posix_offset_at(const tz_posix *tp, int64_t utc)
{
    int64_t y, start, end;
    unsigned m, d;
    if (!tp->has_dst)
        return tp->std_off;
    ps_civil_from_days(floor_div(utc + tp->std_off, 86400), &y, &m, &d);
    start = rule_local(&tp->start, y) - tp->std_off;
    end = rule_local(&tp->end, y) - tp->dst_off;
    if (start < end)
        return (utc >= start && utc < end) ? tp->dst_off : tp->std_off;
    return (utc >= end && utc < start) ? tp->std_off : tp->dst_off;
}

/* ---- TZif ---------------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_counts {
    uint32_t isutc, isstd, leap, time, type, chr;
} tzif_counts;

static int tzif_header(const unsigned char *p, size_t n, tzif_counts *c)
{
    if (n < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    c->isutc = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chr = be32(p + 40);
    if (c->type == 0 || c->type > 256 || c->time > 100000 || c->chr > 100000 || c->leap > 100000 ||
        c->isutc > 256 || c->isstd > 256)
        return -1;
    return 0;
}

static int tzif_parse(struct ps_tz *tz, const unsigned char *buf, size_t n)
{
    tzif_counts c;
    size_t v1len, off, body, i;
    const unsigned char *tt, *idx, *types;
    if (tzif_header(buf, n, &c) != 0 || buf[4] < '2')
        return -1;
    v1len = 44 + (size_t)c.time * 5 + (size_t)c.type * 6 + c.chr + (size_t)c.leap * 8 + c.isstd +
            c.isutc;
    if (v1len > n)
        return -1;
    off = v1len;
    if (tzif_header(buf + off, n - off, &c) != 0)
        return -1;
    off += 44;
    body =
        (size_t)c.time * 9 + (size_t)c.type * 6 + c.chr + (size_t)c.leap * 12 + c.isstd + c.isutc;
    if (off + body > n)
        return -1;
    tt = buf + off;
    idx = tt + (size_t)c.time * 8;
    types = idx + c.time;
    tz->ntrans = c.time;
    if (c.time) {
        tz->trans = malloc(sizeof *tz->trans * c.time);
        tz->trans_off = malloc(sizeof *tz->trans_off * c.time);
        if (!tz->trans || !tz->trans_off)
            return -2;
    }
    for (i = 0; i < c.time; i++) {
        unsigned t = idx[i];
        if (t >= c.type)
            return -1;
        tz->trans[i] = be64(tt + i * 8);
        tz->trans_off[i] = (int32_t)be32(types + (size_t)t * 6);
        if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
            return -1;
    }
    tz->first_off = (int32_t)be32(types); /* RFC 8536: type 0 before the first transition */
    off += body;
    /* footer: "\n<posix TZ>\n" */
    if (off < n && buf[off] == '\n') {
        const unsigned char *end = memchr(buf + off + 1, '\n', n - off - 1);
        if (end && end > buf + off + 1 && (size_t)(end - (buf + off + 1)) < 128) {
            char s[128];
            size_t l = (size_t)(end - (buf + off + 1));
            memcpy(s, buf + off + 1, l);
            s[l] = '\0';
            if (parse_posix(s, &tz->footer) != 0)
                memset(&tz->footer, 0, sizeof tz->footer);
        }
    }
    return 0;
}

static int zone_name_ok(const char *name)
{
    const char *p = name;
    if (!*p || *p == '/' || strlen(name) > 200)
        return 0;
    for (; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!(isalnum(ch) || ch == '/' || ch == '_' || ch == '-' || ch == '+' || ch == '.'))
            return 0;
        if (ch == '.' && (p == name || p[-1] == '/'))
            return 0; /* no "..", no hidden files */
    }
    return 1;
}

static int read_file(const char *path, unsigned char **out, size_t *outlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t cap = 4096, len = 0;
    unsigned char *buf;
    if (fd < 0)
        return -1;
    buf = malloc(cap);
    if (!buf) {
        close(fd);
        return -2;
    }
    for (;;) {
        ssize_t r;
        if (len == cap) {
            unsigned char *nb;
            if (cap >= (size_t)4 << 20)
                break; /* far bigger than any zone file */
            nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                return -2;
            }
            buf = nb;
            cap *= 2;
        }
        r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    *out = buf;
    *outlen = len;
    return 0;
}

ps_status ps_tz_load(const char *name, ps_tz **out, ps_error *err)
{
    struct ps_tz *tz;
    int32_t off;
    if (out)
        *out = NULL;
    if (!name || !out)
        return ps_error_setf(err, PS_ERR_USAGE, "time zone: no name given");
    tz = calloc(1, sizeof *tz);
    if (!tz || !(tz->name = strdup(name))) {
        free(tz);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory loading time zone '%s'", name);
    }
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Z") == 0 || strcmp(name, "GMT") == 0) {
        tz->fixed = 1;
    } else if (name[0] == '+' || name[0] == '-') {
        if (parse_fixed(name, &off) != 0) {
            ps_tz_free(tz);
            return ps_error_setf(err, PS_ERR_CONFIG,
                                 "time zone '%s': not a UTC offset of the form +hh, +hhmm or "
                                 "+hh:mm (at most 18 hours)",
                                 name);
        }
        tz->fixed = 1;
        tz->fixed_off = off;
    } else {
        const char *dir = getenv("TZDIR");
        char path[4096];
        unsigned char *buf = NULL;
        size_t len = 0;
        int rc;
        if (!zone_name_ok(name)) {
            ps_tz_free(tz);
            return ps_error_setf(err, PS_ERR_CONFIG,
                                 "time zone '%s': not a valid IANA zone name (e.g. Africa/Lagos)",
                                 name);
        }
        if (!dir || !*dir)
            dir = "/usr/share/zoneinfo";
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
            ps_tz_free(tz);
            return ps_error_setf(err, PS_ERR_CONFIG, "time zone '%s': path too long", name);
        }
        rc = read_file(path, &buf, &len);
        if (rc == -2) {
            ps_tz_free(tz);
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory loading time zone '%s'", name);
        }
        if (rc != 0) {
            ps_tz_free(tz);
            return ps_error_setf(err, PS_ERR_CONFIG,
                                 "time zone '%s': unknown zone (no file %s; set TZDIR if the "
                                 "time zone database lives elsewhere)",
                                 name, path);
        }
        rc = tzif_parse(tz, buf, len);
        free(buf);
        if (rc != 0) {
            ps_tz_free(tz);
            if (rc == -2)
                return ps_error_setf(err, PS_ERR_NOMEM, "out of memory loading time zone '%s'",
                                     name);
            return ps_error_setf(err, PS_ERR_CONFIG,
                                 "time zone '%s': %s is not a TZif version 2+ file", name, path);
        }
    }
    *out = tz;
    return PS_OK;
}

void ps_tz_free(ps_tz *tz)
{
    if (!tz)
        return;
    free(tz->name);
    free(tz->trans);
    free(tz->trans_off);
    free(tz);
}

const char *ps_tz_name(const ps_tz *tz)
{
    return tz ? tz->name : "UTC";
}

int32_t ps_tz_offset_at(const ps_tz *tz, int64_t utc)
{
    size_t lo, hi;
    if (!tz)
        return 0;
    if (tz->fixed)
        return tz->fixed_off;
    if (tz->ntrans == 0)
        return tz->footer.valid ? posix_offset_at(&tz->footer, utc) : tz->first_off;
    if (utc < tz->trans[0])
        return tz->first_off;
    if (utc >= tz->trans[tz->ntrans - 1] && tz->footer.valid)
        return posix_offset_at(&tz->footer, utc);
    /* last transition <= utc */
    lo = 0;
    hi = tz->ntrans;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= utc)
            lo = mid;
        else
            hi = mid;
    }
    return tz->trans_off[lo];
}

int64_t ps_tz_local_to_utc(const ps_tz *tz, int64_t local)
{
    int32_t before, after;
    int64_t ub, ua;
    int okb, oka;
    if (!tz)
        return local;
    if (tz->fixed)
        return local - tz->fixed_off;
    /* offsets a day either side: transitions are never closer together than that */
    before = ps_tz_offset_at(tz, local - 86400);
    after = ps_tz_offset_at(tz, local + 86400);
    ub = local - before;
    ua = local - after;
    okb = ps_tz_offset_at(tz, ub) == before;
    oka = ps_tz_offset_at(tz, ua) == after;
    if (okb && oka)
        return ub < ua ? ub : ua; /* overlap: the earlier instant */
    if (okb)
        return ub;
    if (oka)
        return ua;
    return ub; /* gap: the pre-transition offset */
}
