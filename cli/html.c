/* paysync CLI: escaped HTML text, numbers and the inline SVG bar chart of the HTML report. */
#include "html.h"

#include <inttypes.h>
#include <string.h>

#include "model/civil.h"
#include "model/decimal.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (n bytes left) that XML 1.0 allows, 0 if none. */
static size_t utf8_ok(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return (c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n' ? 1 : 0;
    size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (len == 0 || len > n || (c >= 0xF0 && len != 4))
        return 0;
    uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0; /* overlong or past Unicode */
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF || (cp >= 0x80 && cp < 0xA0))
        return 0; /* surrogates, non-characters XML forbids, C1 controls */
    return len;
}

void html_textn(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        switch (p[i]) {
        case '&':
            fputs("&amp;", f);
            i++;
            continue;
        case '<':
            fputs("&lt;", f);
            i++;
            continue;
        case '>':
            fputs("&gt;", f);
            i++;
            continue;
        case '"':
            fputs("&quot;", f);
            i++;
            continue;
        case '\'':
            fputs("&#39;", f);
            i++;
            continue;
        default:
            break;
        }
        size_t len = utf8_ok(p + i, n - i);
        if (len == 0) {
            fputs(replacement, f);
            i++;
            continue;
        }
        fwrite(p + i, 1, len, f);
        i += len;
    }
}

void html_text(FILE *f, const char *s)
{
    if (s)
        html_textn(f, s, strlen(s));
}

void html_text_cut(FILE *f, const char *s, size_t max)
{
    if (!s)
        return;
    size_t n = strlen(s);
    if (n <= max) {
        html_textn(f, s, n);
        return;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--; /* not inside a character */
    html_textn(f, s, max);
    fputs("...", f);
}

/* Writes the digits of text (an optional '-' first) with a ',' every three integer digits. */
static void grouped(FILE *f, const char *text)
{
    if (*text == '-')
        fputc(*text++, f);
    size_t digits = strcspn(text, ".");
    for (size_t i = 0; i < digits; i++) {
        if (i > 0 && (digits - i) % 3 == 0)
            fputc(',', f);
        fputc(text[i], f);
    }
    fputs(text + digits, f);
}

void html_count(FILE *f, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    grouped(f, buf);
}

void html_decimal(FILE *f, ps_decimal d)
{
    char buf[PS_DECIMAL_TEXT_MAX];
    ps_decimal_format(d, buf);
    grouped(f, buf);
}

const char *html_day_text(int64_t day, char *buf)
{
    int64_t y;
    unsigned m, d;
    ps_civil_from_days(day, &y, &m, &d);
    snprintf(buf, 16, "%04lld-%02u-%02u", (long long)y, m, d);
    return buf;
}

/* ---- the bar chart ------------------------------------------------------------------ */

/* Plot area of the 1000 x 230 viewBox, in thousandths of a unit (integers only). */
#define PLOT_X0 70000LL
#define PLOT_X1 990000LL
#define PLOT_Y0 10000LL
#define PLOT_Y1 200000LL

static void milli(FILE *f, long long v)
{
    fprintf(f, "%lld.%03lld", v / 1000, v % 1000);
}

static void value_text(FILE *f, const html_chart *c, int64_t v)
{
    if (c->scale < 0)
        html_count(f, v < 0 ? 0 : (uint64_t)v);
    else
        html_decimal(f, (ps_decimal){.units = v, .scale = (uint8_t)c->scale});
}

static void value_raw(FILE *f, const html_chart *c, int64_t v)
{
    if (c->scale < 0) {
        fprintf(f, "%" PRId64, v);
    } else {
        char buf[PS_DECIMAL_TEXT_MAX];
        ps_decimal_format((ps_decimal){.units = v, .scale = (uint8_t)c->scale}, buf);
        fputs(buf, f);
    }
}

/* Bar height in thousandths for v against max (both >= 0, v <= max): v * H / max in 64 bits,
 * both halved until the product fits. */
static long long bar_height(int64_t v, int64_t max)
{
    const long long h = PLOT_Y1 - PLOT_Y0;
    if (v <= 0 || max <= 0)
        return 0;
    while (max > INT64_MAX / h) {
        v >>= 1;
        max >>= 1;
    }
    return (long long)(v * h / max);
}

static void axis_label(FILE *f, long long x, const char *anchor, const char *text)
{
    fputs("<text class=\"axis\" x=\"", f);
    milli(f, x);
    fprintf(f, "\" y=\"222\" text-anchor=\"%s\">", anchor);
    html_text(f, text);
    fputs("</text>\n", f);
}

void html_bar_chart(FILE *f, const html_chart *c)
{
    int64_t max = 0;
    for (size_t i = 0; i < c->ndays; i++)
        if (c->value[i] > max)
            max = c->value[i];
    fputs("<svg class=\"chart\" id=\"", f);
    html_text(f, c->id);
    fputs("\" viewBox=\"0 0 1000 230\" role=\"img\" aria-label=\"", f);
    html_text(f, c->title);
    fputs("\" xmlns=\"http://www.w3.org/2000/svg\">\n", f);
    /* the value axis: 0 and the largest value */
    fputs("<line class=\"grid\" x1=\"70\" y1=\"200\" x2=\"990\" y2=\"200\"/>\n"
          "<line class=\"grid\" x1=\"70\" y1=\"10\" x2=\"990\" y2=\"10\"/>\n"
          "<text class=\"axis\" x=\"64\" y=\"204\" text-anchor=\"end\">0</text>\n"
          "<text class=\"axis\" x=\"64\" y=\"14\" text-anchor=\"end\">",
          f);
    value_text(f, c, max);
    fputs("</text>\n", f);
    long long span = PLOT_X1 - PLOT_X0, n = (long long)c->ndays;
    for (size_t i = 0; i < c->ndays; i++) {
        long long x0 = PLOT_X0 + (long long)i * span / n,
                  x1 = PLOT_X0 + ((long long)i + 1) * span / n, w = x1 - x0;
        if (w > 3000)
            w = w * 8 / 10; /* a space between wide bars */
        char day[16];
        html_day_text(c->first_day + (int64_t)i, day);
        if (c->gap[i] && (i == 0 || !c->gap[i - 1])) {
            /* one band over a run of days without payments */
            size_t j = i;
            while (j + 1 < c->ndays && c->gap[j + 1])
                j++;
            long long end = PLOT_X0 + ((long long)j + 1) * span / n;
            fputs("<rect class=\"gapband\" x=\"", f);
            milli(f, x0);
            fputs("\" y=\"10\" width=\"", f);
            milli(f, j == i ? w : end - x0);
            fputs("\" height=\"190\"/>\n", f);
        }
        long long h = bar_height(c->value[i], max);
        if (c->gap[i])
            h = 6000; /* the marker of a day without payments */
        fprintf(f, "<rect class=\"bar%s\" data-day=\"%s\" data-value=\"", c->gap[i] ? " gap" : "",
                day);
        value_raw(f, c, c->value[i]);
        fputs("\" x=\"", f);
        milli(f, x0);
        fputs("\" y=\"", f);
        milli(f, PLOT_Y1 - h);
        fputs("\" width=\"", f);
        milli(f, w);
        fputs("\" height=\"", f);
        milli(f, h);
        fprintf(f, "\"><title>%s: ", day);
        if (c->gap[i])
            fputs("no payments", f);
        else {
            value_text(f, c, c->value[i]);
            fputc(' ', f);
            html_text(f, c->unit);
        }
        fputs("</title></rect>\n", f);
    }
    char first[16], last[16];
    html_day_text(c->first_day, first);
    html_day_text(c->first_day + (int64_t)c->ndays - 1, last);
    axis_label(f, PLOT_X0, "start", first);
    if (c->ndays > 1)
        axis_label(f, PLOT_X1, "end", last);
    fputs("</svg>\n", f);
}
