/* paysync serve: query-string parser for GET /api/odyssey/payments. */
#include "serve/serve_query.h"

#include <stdio.h>
#include <string.h>

#include "model/time_window.h"
#include "model/timestamp.h"

static const char msg_times[] = "FROM and TO are required ISO8601 timestamps";
static const char msg_range[] = "Range must be <= 24 hours";

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..len) into out (cap bytes, NUL added when it fits). Returns the decoded
 * length (which may exceed cap - 1: the caller checks), or -1 on malformed encoding. out may
 * be NULL to validate only. */
static long decode(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = h * 16 + l;
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (out && n + 1 < cap)
            out[n] = (char)c;
        n++;
    }
    if (out && cap > 0)
        out[n < cap ? n : cap - 1] = '\0';
    return (long)n;
}

int ps_serve_parse_instant(const char *s, size_t len, int64_t *ms, int *has_fraction)
{
    char buf[PS_SERVE_TIME_MAX + 1];
    if (len < 19 || len > PS_SERVE_TIME_MAX)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (i == 10 && (c == 'T' || c == 't'))
            c = 'T';
        else if (i >= 19 && (c == 'z' || c == 'Z'))
            c = 'Z';
        else if (i >= 19 && c == ' ')
            c = '+'; /* an unencoded '+' arrives as a space */
        else if (!((c >= '0' && c <= '9') || c == '-' || c == ':' ||
                   (i >= 19 && (c == '.' || c == '+'))))
            return -1;
        buf[i] = c;
    }
    if (buf[4] != '-' || buf[7] != '-' || buf[10] != 'T' || buf[13] != ':' || buf[16] != ':')
        return -1;
    int64_t v, unit;
    if (ps_time_window_bound(buf, len, &v, &unit) != PS_TIME_OK)
        return -1;
    *ms = v;
    *has_fraction = unit == 1;
    return 0;
}

/* 1 when s is an acceptable filter value: letters, digits, space, - _ . : / # @ + ( ) and
 * well-formed non-ASCII UTF-8 (no control characters). */
static int filter_ok(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        if (c < 0x80) {
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr(" -_.:/#@+()", (int)c)) ||
                c == 0)
                return 0;
            i++;
            continue;
        }
        size_t n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + n > len)
            return 0;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0x80 && cp <= 0x9F))
            return 0;
        i += n;
    }
    return 1;
}

enum { P_FROM, P_TO, P_SITE, P_FIN, P_COUNT };
static const char *const upper_names[P_COUNT] = {"FROM", "TO", "SITE_ID", "FINANCING_ID"};
static const char *const lower_names[P_COUNT] = {"from", "to", "site_id", "financing_id"};

static ps_query_error fail(ps_query_error e, char *msg, size_t msgsz, const char *fmt,
                           const char *arg)
{
    if (msgsz > 0)
        snprintf(msg, msgsz, fmt, arg);
    return e;
}

ps_query_error ps_serve_query_parse(const char *qs, size_t len, ps_payments_query *out, char *msg,
                                    size_t msgsz)
{
    char val[P_COUNT][PS_SERVE_FILTER_MAX + 1];
    size_t vlen[P_COUNT] = {0};
    int seen[P_COUNT] = {0};
    memset(out, 0, sizeof *out);
    if (msgsz > 0)
        msg[0] = '\0';
    size_t i = 0;
    while (qs && i < len) {
        size_t end = i;
        while (end < len && qs[end] != '&')
            end++;
        if (end > i) {
            size_t eq = i;
            while (eq < end && qs[eq] != '=')
                eq++;
            char name[16];
            long nl = decode(qs + i, eq - i, name, sizeof name);
            const char *vs = eq < end ? qs + eq + 1 : qs + end;
            size_t vraw = eq < end ? end - eq - 1 : 0;
            if (nl < 0 || decode(vs, vraw, NULL, 0) < 0)
                return fail(PS_QUERY_ENCODING, msg, msgsz,
                            "malformed percent-encoding in the query string%s", "");
            int p = -1;
            for (int k = 0; nl < (long)sizeof name && k < P_COUNT; k++)
                if ((size_t)nl == strlen(upper_names[k]) &&
                    (memcmp(name, upper_names[k], (size_t)nl) == 0 ||
                     memcmp(name, lower_names[k], (size_t)nl) == 0))
                    p = k;
            if (p >= 0) {
                if (seen[p])
                    return fail(PS_QUERY_REPEATED, msg, msgsz, "parameter %s given more than once",
                                upper_names[p]);
                seen[p] = 1;
                long dl = decode(vs, vraw, val[p], sizeof val[p]);
                size_t max = p <= P_TO ? PS_SERVE_TIME_MAX : PS_SERVE_FILTER_MAX;
                if ((size_t)dl > max) {
                    if (p <= P_TO)
                        return fail(PS_QUERY_TIMES, msg, msgsz, "%s", msg_times);
                    return fail(PS_QUERY_FILTER, msg, msgsz, "%s is longer than 128 bytes",
                                upper_names[p]);
                }
                vlen[p] = (size_t)dl;
            }
        }
        i = end + 1;
    }
    int fa = 0, ta = 0;
    if (!seen[P_FROM] || !seen[P_TO] ||
        ps_serve_parse_instant(val[P_FROM], vlen[P_FROM], &out->from_ms, &fa) != 0 ||
        ps_serve_parse_instant(val[P_TO], vlen[P_TO], &out->to_ms, &ta) != 0)
        return fail(PS_QUERY_TIMES, msg, msgsz, "%s", msg_times);
    /* The window rule shared with export (model/time_window.h): FROM after TO is refused,
     * a TO without a fraction covers its whole second. */
    int64_t end;
    if (ps_time_window_close(out->from_ms, out->to_ms, ta ? 1 : 1000, &end) != 0)
        return fail(PS_QUERY_ORDER, msg, msgsz, "%s", ps_time_window_order_message());
    if (out->to_ms - out->from_ms > PS_SERVE_WINDOW_MAX_MS)
        return fail(PS_QUERY_RANGE, msg, msgsz, "%s", msg_range);
    out->to_ms = end;
    for (int p = P_SITE; p <= P_FIN; p++) {
        if (!filter_ok((const unsigned char *)val[p], vlen[p]))
            return fail(PS_QUERY_FILTER, msg, msgsz,
                        "%s may only hold letters, digits, spaces and - _ . : / # @ + ( )",
                        upper_names[p]);
        char *dst = p == P_SITE ? out->site_id : out->financing_id;
        memcpy(dst, val[p], vlen[p]);
        dst[vlen[p]] = '\0';
    }
    return PS_QUERY_OK;
}
