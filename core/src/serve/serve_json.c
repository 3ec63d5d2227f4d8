/* paysync serve: output buffer, JSON strings and payment objects. */
#include "serve/serve_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/decimal.h"
#include "model/timestamp.h"

static int grow(ps_sbuf *b, size_t need)
{
    if (b->failed)
        return -1;
    if (b->len + need + 1 <= b->cap)
        return 0;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + need + 1)
        nc *= 2;
    char *nd = realloc(b->data, nc);
    if (!nd) {
        b->failed = 1;
        return -1;
    }
    b->data = nd;
    b->cap = nc;
    return 0;
}

void ps_sbuf_append(ps_sbuf *b, const char *s, size_t n)
{
    if (grow(b, n) != 0)
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ps_sbuf_puts(ps_sbuf *b, const char *s)
{
    ps_sbuf_append(b, s, strlen(s));
}

void ps_sbuf_printf(ps_sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof tmp) {
        ps_sbuf_append(b, tmp, (size_t)n);
        return;
    }
    if (grow(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
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
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

void ps_sbuf_json_string(ps_sbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    ps_sbuf_append(b, "\"", 1);
    while (*p) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            ps_sbuf_append(b, (const char *)run, (size_t)(p - run));
        if (!*p)
            break;
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            ps_sbuf_append(b, e, 2);
            p++;
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            if (c == '\n' || c == '\r' || c == '\t')
                ps_sbuf_append(b, c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t", 2);
            else
                ps_sbuf_append(b, e, 6);
            p++;
        } else {
            size_t n = utf8_len(p);
            if (n == 0) {
                ps_sbuf_append(b, "\xEF\xBF\xBD", 3);
                p++;
            } else {
                ps_sbuf_append(b, (const char *)p, n);
                p += n;
            }
        }
    }
    ps_sbuf_append(b, "\"", 1);
}

void ps_sbuf_label(ps_sbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            ps_sbuf_append(b, "\\\\", 2);
        else if (*s == '"')
            ps_sbuf_append(b, "\\\"", 2);
        else if (*s == '\n')
            ps_sbuf_append(b, "\\n", 2);
        else
            ps_sbuf_append(b, s, 1);
    }
}

void ps_sbuf_free(ps_sbuf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

char *ps_sbuf_take(ps_sbuf *b, size_t *len)
{
    if (!b->data)
        ps_sbuf_append(b, "", 0);
    if (b->failed) {
        ps_sbuf_free(b);
        return NULL;
    }
    char *d = b->data;
    if (len)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return d;
}

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

int ps_json_is_number(const char *s)
{
    if (!s)
        return 0;
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (digit(*s))
        while (digit(*s))
            s++;
    else
        return 0;
    if (*s == '.') {
        s++;
        if (!digit(*s))
            return 0;
        while (digit(*s))
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!digit(*s))
            return 0;
        while (digit(*s))
            s++;
    }
    return *s == '\0';
}

void ps_sbuf_seconds(ps_sbuf *b, long long ms)
{
    const char *sign = ms < 0 ? "-" : "";
    unsigned long long m = ms < 0 ? 0ULL - (unsigned long long)ms : (unsigned long long)ms;
    ps_sbuf_printf(b, "%s%llu.%03llu", sign, m / 1000, m % 1000);
}

static void key(ps_sbuf *b, const char *name)
{
    ps_sbuf_puts(b, ",\"");
    ps_sbuf_puts(b, name);
    ps_sbuf_puts(b, "\":");
}

static void opt_string(ps_sbuf *b, const char *name, const char *v)
{
    if (!v || !*v)
        return;
    key(b, name);
    ps_sbuf_json_string(b, v);
}

void ps_serve_payment_json(ps_sbuf *b, const ps_store_payment *r)
{
    char ts[PS_TIME_TEXT_MAX], amt[PS_DECIMAL_TEXT_MAX];
    ps_sbuf_puts(b, "{\"transactionId\":");
    ps_sbuf_json_string(b, r->field[PS_F_ID] ? r->field[PS_F_ID] : "");
    ps_time_format(r->timestamp_ms, ts);
    ps_sbuf_puts(b, ",\"timestamp\":\"");
    ps_sbuf_puts(b, ts);
    ps_sbuf_puts(b, "\"");
    /* The stored exact text; if it is somehow not a JSON number, the exact units/scale. */
    const char *a = r->field[PS_F_PAYMENT_AMOUNT];
    if (!ps_json_is_number(a)) {
        ps_decimal_format(r->amount, amt);
        a = amt;
    }
    key(b, "amount");
    ps_sbuf_puts(b, a);
    key(b, "currency");
    ps_sbuf_json_string(b, r->field[PS_F_PAYMENT_CURRENCY] ? r->field[PS_F_PAYMENT_CURRENCY] : "");
    key(b, "transactionType");
    ps_sbuf_json_string(b, r->field[PS_F_TRANSACTION_TYPE] ? r->field[PS_F_TRANSACTION_TYPE] : "");
    key(b, "customerId");
    ps_sbuf_json_string(b, r->field[PS_F_CUSTOMER_ID] ? r->field[PS_F_CUSTOMER_ID] : "");
    if (r->target_level == PS_TARGET_PROGRAM) {
        const char *sn = r->field[PS_F_METER_ID];
        key(b, "serialNumber");
        ps_sbuf_json_string(b, sn && *sn ? sn : "N/A");
    } else {
        opt_string(b, "meterId", r->field[PS_F_METER_ID]);
    }
    opt_string(b, "customerName", r->field[PS_F_CUSTOMER_NAME]);
    opt_string(b, "customerPhone", r->field[PS_F_CUSTOMER_PHONE]);
    opt_string(b, "customerCategory", r->field[PS_F_CUSTOMER_CATEGORY]);
    opt_string(b, "financingId", r->field[PS_F_FINANCING_ID]);
    opt_string(b, "agentId", r->field[PS_F_AGENT_ID]);
    opt_string(b, "utilityId", r->field[PS_F_UTILITY_ID]);
    opt_string(b, "latitude", r->field[PS_F_LATITUDE]);
    opt_string(b, "longitude", r->field[PS_F_LONGITUDE]);
    const char *fb = r->field[PS_F_FAILED_BATTERY_CAPACITY_COUNT];
    if (fb && *fb) {
        key(b, "failedBatteryCapacityCount");
        if (ps_json_is_number(fb))
            ps_sbuf_puts(b, fb);
        else
            ps_sbuf_json_string(b, fb);
    }
    ps_sbuf_puts(b, "}");
}
