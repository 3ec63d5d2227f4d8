/* paysync core: dataset schedules (see schedule.h). */
#include "config/schedule.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "model/civil.h"
#include "util/duration.h"
#include "util/suggest.h"
#include "util/pathtext.h"

#define MS_MIN INT64_C(60000)
#define MS_HOUR (60 * MS_MIN)
#define MS_DAY (24 * MS_HOUR)
#define SEARCH_DAYS (366 * 10 + 3)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* ---- errors ------------------------------------------------------------------------- */

typedef struct sctx {
    const char *file, *path, *dataset;
    ps_error *err;
} sctx;

static ps_status serr(const sctx *x, const ps_kv *kv, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static ps_status serr(const sctx *x, const ps_kv *kv, const char *fmt, ...)
{
    char msg[600], where[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int first = kv && strcmp(kv->key, "kind") == 0;
    if (kv && !first)
        snprintf(where, sizeof where, "%s.%s", x->path, kv->key);
    else
        snprintf(where, sizeof where, "%s", x->path);
    int line = kv ? kv->line : 1, col = kv ? kv->col : 1;
    if (x->file)
        return ps_error_setf(x->err, PS_ERR_CONFIG, "%s:%d:%d: %s: %s", PS_SHOWN(x->file), line, col, where,
                             msg);
    return ps_error_setf(x->err, PS_ERR_CONFIG, "%d:%d: %s: %s", line, col, where, msg);
}

/* ---- cron fields ---------------------------------------------------------------------- */

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

typedef struct cfield {
    const char *name;
    int lo, hi;
    const char *const *names; /* value lo + i */
    int nnames;
} cfield;

static const cfield cron_fields[5] = {
    {"minute", 0, 59, NULL, 0},           {"hour", 0, 23, NULL, 0},
    {"day of month", 1, 31, NULL, 0},     {"month", 1, 12, month_names, 12},
    {"day of week", 0, 7, wday_names, 7},
};

/* A number or a name; advances *p. -1 on error. */
static int cron_value(const cfield *f, const char **p, const char *end)
{
    const char *q = *p;
    if (q < end && isdigit((unsigned char)*q)) {
        int v = 0;
        while (q < end && isdigit((unsigned char)*q) && v < 1000)
            v = v * 10 + (*q++ - '0');
        *p = q;
        return v;
    }
    for (int i = 0; i < f->nnames; i++) {
        if (end - q >= 3 && strncasecmp(q, f->names[i], 3) == 0 &&
            (end - q == 3 || !isalpha((unsigned char)q[3]))) {
            *p = q + 3;
            return f->lo + i;
        }
    }
    return -1;
}

/* Parses one field into bits; msg gets a reason on error. */
static int cron_field(const cfield *f, const char *s, size_t len, uint64_t *bits, int *star,
                      char *msg, size_t cap)
{
    const char *p = s, *end = s + len;
    *bits = 0;
    *star = len > 0 && s[0] == '*';
    while (p <= end) {
        const char *item = p;
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *iend = comma ? comma : end;
        int a, b, step = 1, single = 0;
        if (iend == item) {
            snprintf(msg, cap, "%s field '%.*s' has an empty list item", f->name, (int)len, s);
            return -1;
        }
        if (*p == '*') {
            a = f->lo;
            b = f->hi == 7 ? 6 : f->hi;
            p++;
        } else {
            if ((a = cron_value(f, &p, iend)) < 0)
                goto bad;
            b = a;
            single = 1;
            if (p < iend && *p == '-') {
                p++;
                if ((b = cron_value(f, &p, iend)) < 0)
                    goto bad;
                single = 0;
            }
        }
        if (p < iend && *p == '/') {
            p++;
            if (p == iend || !isdigit((unsigned char)*p))
                goto bad;
            step = 0;
            while (p < iend && isdigit((unsigned char)*p) && step < 1000)
                step = step * 10 + (*p++ - '0');
            if (step == 0) {
                snprintf(msg, cap, "%s field '%.*s': a step must be at least 1", f->name, (int)len,
                         s);
                return -1;
            }
            if (single)
                b = f->hi == 7 ? 6 : f->hi; /* "a/s" = a-max/s */
        }
        if (p != iend)
            goto bad;
        if (a < f->lo || a > f->hi || b < f->lo || b > f->hi) {
            snprintf(msg, cap, "%s field '%.*s': values must be %d-%d", f->name, (int)len, s, f->lo,
                     f->hi);
            return -1;
        }
        if (a > b) {
            snprintf(msg, cap, "%s field '%.*s': range %d-%d is backwards", f->name, (int)len, s, a,
                     b);
            return -1;
        }
        for (int v = a; v <= b; v += step)
            *bits |= UINT64_C(1) << (f->hi == 7 && v == 7 ? 0 : v);
        if (!comma)
            break;
        p = comma + 1;
        if (p == end) {
            snprintf(msg, cap, "%s field '%.*s' has an empty list item", f->name, (int)len, s);
            return -1;
        }
        continue;
    bad:
        snprintf(msg, cap,
                 "%s field '%.*s' is not valid (use *, N, N-M, lists N,M and steps */N or "
                 "N-M/S; values %d-%d%s)",
                 f->name, (int)len, s, f->lo, f->hi,
                 f->names == month_names  ? " or jan-dec"
                 : f->names == wday_names ? " or sun-sat, 0 and 7 = Sunday"
                                          : "");
        return -1;
    }
    return 0;
}

static void set_all_days(ps_schedule *s)
{
    s->mdays = 0xFFFFFFFEu; /* 1..31 */
    s->months = 0x1FFE;     /* 1..12 */
    s->wdays = 0x7F;
    s->mday_star = s->wday_star = 1;
}

/* Parses a 5-field expression or an @macro. */
static int cron_parse(ps_schedule *s, const char *expr, char *msg, size_t cap)
{
    static const struct {
        const char *name, *expr;
    } macros[] = {{"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
                  {"@weekly", "0 0 * * 0"},  {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
                  {"@annually", "0 0 1 1 *"}};
    if (expr[0] == '@') {
        for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
            if (strcmp(expr, macros[i].name) == 0)
                return cron_parse(s, macros[i].expr, msg, cap);
        snprintf(msg, cap,
                 "unknown cron macro '%s'; expected @hourly, @daily, @weekly, @monthly or "
                 "@yearly",
                 expr);
        return -1;
    }
    const char *fs[6];
    size_t fl[6];
    int nf = 0;
    for (const char *p = expr; *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *st = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (nf < 6) {
            fs[nf] = st;
            fl[nf] = (size_t)(p - st);
        }
        nf++;
    }
    if (nf != 5) {
        snprintf(msg, cap,
                 "a cron expression has 5 fields (minute hour day-of-month month day-of-week), "
                 "'%s' has %d",
                 expr, nf);
        return -1;
    }
    uint64_t bits[5];
    int stars[5];
    for (int i = 0; i < 5; i++)
        if (cron_field(&cron_fields[i], fs[i], fl[i], &bits[i], &stars[i], msg, cap) != 0)
            return -1;
    s->minutes = bits[0];
    s->hours = (uint32_t)bits[1];
    s->mdays = (uint32_t)bits[2];
    s->months = (uint16_t)bits[3];
    s->wdays = (uint8_t)bits[4];
    s->mday_star = stars[2];
    s->wday_star = stars[4];
    return 0;
}

/* ---- next slot ----------------------------------------------------------------------- */

static int day_matches(const ps_schedule *s, int64_t day)
{
    int64_t y;
    unsigned m, d;
    ps_civil_from_days(day, &y, &m, &d);
    if (!(s->months & (1u << m)))
        return 0;
    int wd = (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    int dom = (s->mdays >> d) & 1, dow = (s->wdays >> wd) & 1;
    return (s->mday_star || s->wday_star) ? (dom && dow) : (dom || dow);
}

/* First calendar minute strictly after `after` (no jitter). */
static int64_t cron_next(const ps_schedule *s, int64_t after)
{
    int64_t m0 = floor_div(after, MS_MIN) + 1; /* minutes since the epoch */
    int64_t day = floor_div(m0, 1440);
    int start = (int)(m0 - day * 1440);
    for (int64_t i = 0; i < SEARCH_DAYS; i++, day++, start = 0) {
        if (!day_matches(s, day))
            continue;
        for (int h = start / 60; h < 24; h++) {
            if (!(s->hours & (1u << h)))
                continue;
            int mfrom = h == start / 60 ? start % 60 : 0;
            for (int mi = mfrom; mi < 60; mi++)
                if (s->minutes & (UINT64_C(1) << mi))
                    return (day * 1440 + h * 60 + mi) * MS_MIN;
        }
    }
    return INT64_MAX;
}

int64_t ps_schedule_next_slot(const ps_schedule *s, int64_t after_ms)
{
    if (s->kind == PS_SCHED_EVERY)
        return after_ms > INT64_MAX - s->every_ms ? INT64_MAX : after_ms + s->every_ms;
    int64_t t = cron_next(s, after_ms - s->offset_ms);
    return t == INT64_MAX ? t : t + s->offset_ms;
}

int64_t ps_schedule_next_due(const ps_schedule *s, const int64_t *last_start_ms, int64_t now_ms)
{
    if (!last_start_ms)
        return now_ms;
    return ps_schedule_next_slot(s, *last_start_ms);
}

int ps_schedule_due(const ps_schedule *s, const int64_t *last_start_ms, int64_t now_ms)
{
    return ps_schedule_next_due(s, last_start_ms, now_ms) <= now_ms;
}

/* ---- parsing the config form ------------------------------------------------------------ */

/* "HH:MM" (daily) into minutes of the day; -1 when invalid. */
static int parse_hhmm(const char *v)
{
    int h = 0, m = 0, i = 0;
    if (!isdigit((unsigned char)v[i]))
        return -1;
    h = v[i++] - '0';
    if (isdigit((unsigned char)v[i]))
        h = h * 10 + (v[i++] - '0');
    if (v[i++] != ':' || !isdigit((unsigned char)v[i]) || !isdigit((unsigned char)v[i + 1]) ||
        v[i + 2] != '\0')
        return -1;
    m = (v[i] - '0') * 10 + (v[i + 1] - '0');
    if (h > 23 || m > 59)
        return -1;
    return h * 60 + m;
}

/* ":MM" or "MM" (hourly) into a minute; -1 when invalid. */
static int parse_minute(const char *v)
{
    if (*v == ':')
        v++;
    if (!isdigit((unsigned char)v[0]) || (v[1] && (!isdigit((unsigned char)v[1]) || v[2])))
        return -1;
    int m = v[1] ? (v[0] - '0') * 10 + (v[1] - '0') : v[0] - '0';
    return m > 59 ? -1 : m;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static const char *const kinds[] = {"daily", "hourly", "every", "cron"};

static int is_cron_text(const char *v)
{
    return v[0] == '@' || strchr(v, ' ') || strchr(v, '\t');
}

/* Allowed keys (besides kind) per form. */
static const char *const keys_daily[] = {"daily", "at", "jitter"};
static const char *const keys_hourly[] = {"hourly", "at", "jitter"};
static const char *const keys_every[] = {"every"};
static const char *const keys_cron[] = {"cron", "jitter"};

ps_status ps_schedule_parse(const ps_kv *kv, size_t n, const char *dataset, const char *file,
                            const char *path, ps_schedule *out, ps_error *err)
{
    sctx x = {file, path ? path : "schedule", dataset, err};
    ps_schedule s;
    memset(&s, 0, sizeof s);
    if (!kv || n == 0 || strcmp(kv[0].key, "kind") != 0 || !kv[0].value)
        return serr(&x, NULL,
                    "an empty schedule; expected daily, hourly, {every: 6h} or a "
                    "cron expression such as \"0 2 * * *\"");
    const char *kind = kv[0].value;
    char msg[400];
    const char *const *allowed;
    size_t nallowed;
    const ps_kv *at = NULL, *jitter = NULL, *every = NULL, *cron = NULL;
    const char *cron_expr = NULL;
    if (strcmp(kind, "daily") == 0) {
        s.kind = PS_SCHED_DAILY;
        allowed = keys_daily;
        nallowed = 3;
    } else if (strcmp(kind, "hourly") == 0) {
        s.kind = PS_SCHED_HOURLY;
        allowed = keys_hourly;
        nallowed = 3;
    } else if (strcmp(kind, "every") == 0) {
        s.kind = PS_SCHED_EVERY;
        allowed = keys_every;
        nallowed = 1;
    } else if (strcmp(kind, "cron") == 0 || is_cron_text(kind)) {
        s.kind = PS_SCHED_CRON;
        allowed = keys_cron;
        nallowed = strcmp(kind, "cron") == 0 ? 2 : 1;
        if (nallowed == 1) {
            allowed = keys_cron + 1; /* jitter only */
            cron_expr = kind;
        }
    } else {
        const char *sug = ps_suggest(kind, kinds, 4);
        char h[64] = "";
        if (sug)
            snprintf(h, sizeof h, " (did you mean '%s'?)", sug);
        if (kind[0] == '\0')
            return serr(&x, &kv[0], "a value is required");
        return serr(&x, &kv[0],
                    "unknown schedule '%s'%s; expected daily, hourly, {every: 6h} or a 5-field "
                    "cron expression such as \"0 2 * * *\"",
                    kind, h);
    }
    for (size_t i = 1; i < n; i++) {
        const ps_kv *e = &kv[i];
        size_t j;
        for (j = 0; j < nallowed; j++)
            if (strcmp(e->key, allowed[j]) == 0)
                break;
        if (j == nallowed) {
            char list[128] = "", h[64] = "";
            for (size_t k = 0; k < nallowed; k++) {
                if (strcmp(allowed[k], kind) == 0)
                    continue;
                strncat(list, list[0] ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, allowed[k], sizeof list - strlen(list) - 1);
            }
            const char *sug = ps_suggest(e->key, allowed, nallowed);
            if (sug)
                snprintf(h, sizeof h, " (did you mean '%s'?)", sug);
            const char *kname = cron_expr ? "cron" : kind;
            if (!list[0])
                return serr(&x, e, "unknown key '%s'%s: a%s %s schedule takes no other keys",
                            e->key, h, kname[0] == 'e' ? "n" : "", kname);
            return serr(&x, e, "unknown key '%s'%s for a%s %s schedule; expected: %s", e->key, h,
                        kname[0] == 'e' ? "n" : "", kname, list);
        }
        if (!e->value || !e->value[0])
            return serr(&x, e, "a value is required");
        if (strcmp(e->key, "at") == 0 || strcmp(e->key, "daily") == 0 ||
            strcmp(e->key, "hourly") == 0) {
            if (at)
                return serr(&x, e, "the time is given twice ('%s' and '%s')", at->key, e->key);
            at = e;
        } else if (strcmp(e->key, "jitter") == 0) {
            jitter = e;
        } else if (strcmp(e->key, "every") == 0) {
            every = e;
        } else if (strcmp(e->key, "cron") == 0) {
            cron = e;
            cron_expr = e->value;
        }
    }

    const char *why = NULL;
    char dbuf[32];
    switch (s.kind) {
    case PS_SCHED_DAILY: {
        int mod = 0;
        if (at && (mod = parse_hhmm(at->value)) < 0)
            return serr(&x, at,
                        "'%s' is not a time of day; expected \"HH:MM\" (UTC), e.g. \"02:00\"",
                        at->value);
        set_all_days(&s);
        s.minutes = UINT64_C(1) << (mod % 60);
        s.hours = 1u << (mod / 60);
        snprintf(s.text, sizeof s.text, "daily at %02d:%02d UTC", mod / 60, mod % 60);
        break;
    }
    case PS_SCHED_HOURLY: {
        int m = 0;
        if (at && (m = parse_minute(at->value)) < 0)
            return serr(&x, at, "'%s' is not a minute of the hour; expected \":MM\", e.g. \":15\"",
                        at->value);
        set_all_days(&s);
        s.minutes = UINT64_C(1) << m;
        s.hours = 0xFFFFFFu;
        snprintf(s.text, sizeof s.text, "hourly at :%02d", m);
        break;
    }
    case PS_SCHED_EVERY:
        if (!every)
            return serr(&x, &kv[0], "'every' needs an interval, e.g. {every: 6h}");
        if (ps_duration_parse(every->value, 0, &s.every_ms, &why) != 0)
            return serr(&x, every, "'%s': %s", every->value, why);
        if (s.every_ms < 1000)
            return serr(&x, every, "'%s': the interval must be at least 1s", every->value);
        ps_duration_format(s.every_ms, dbuf, sizeof dbuf);
        snprintf(s.text, sizeof s.text, "every %s", dbuf);
        break;
    case PS_SCHED_CRON:
        if (!cron_expr)
            return serr(&x, &kv[0], "'cron' needs an expression, e.g. {cron: \"0 2 * * *\"}");
        if (cron_parse(&s, cron_expr, msg, sizeof msg) != 0)
            return serr(&x, cron ? cron : &kv[0], "%s", msg);
        snprintf(s.text, sizeof s.text, "cron \"%.100s\" UTC", cron_expr);
        if (cron_next(&s, 0) == INT64_MAX)
            return serr(&x, cron ? cron : &kv[0], "cron expression '%s' never fires (no such date)",
                        cron_expr);
        break;
    }
    if (jitter) {
        if (ps_duration_parse(jitter->value, 1, &s.jitter_ms, &why) != 0)
            return serr(&x, jitter, "'%s': %s", jitter->value, why);
        int64_t max = s.kind == PS_SCHED_HOURLY ? MS_HOUR : MS_DAY;
        if (s.jitter_ms >= max)
            return serr(&x, jitter, "'%s': jitter must be shorter than %s", jitter->value,
                        s.kind == PS_SCHED_HOURLY ? "1h" : "24h");
        int64_t secs = s.jitter_ms / 1000;
        s.offset_ms = secs > 0 ? (int64_t)(fnv1a(dataset) % (uint64_t)secs) * 1000 : 0;
        if (s.jitter_ms > 0) {
            size_t l = strlen(s.text);
            ps_duration_format(s.jitter_ms, dbuf, sizeof dbuf);
            snprintf(s.text + l, sizeof s.text - l, ", jitter %s", dbuf);
        }
    }
    *out = s;
    return PS_OK;
}
