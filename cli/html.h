/* paysync CLI: writing HTML safely, for the HTML report (report.c). Every value that comes from
 * a source, a config or a store goes through html_text: nothing a sheet cell holds can open a
 * tag, an attribute or an entity, and the output stays well-formed UTF-8 (XML 1.0 characters
 * only), so it parses as XML too. */
#ifndef PS_CLI_HTML_H
#define PS_CLI_HTML_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "paysync/decimal.h"

/* Writes n bytes of s as HTML text or attribute value: & < > " ' as character references,
 * invalid UTF-8, C0 controls other than tab and newline, DEL and the code points XML 1.0
 * forbids as U+FFFD. s may hold NUL bytes (written as U+FFFD). */
void html_textn(FILE *f, const char *s, size_t n);

/* html_textn of a NUL-terminated string; NULL writes nothing. */
void html_text(FILE *f, const char *s);

/* html_text of at most max bytes of s (cut on a character boundary), then "..." when cut. */
void html_text_cut(FILE *f, const char *s, size_t max);

/* A count with thousands separators: 1234567 -> "1,234,567". */
void html_count(FILE *f, uint64_t v);

/* An exact decimal with thousands separators in the integer part: "1,500.50". */
void html_decimal(FILE *f, ps_decimal d);

/* "YYYY-MM-DD" of day (days since 1970-01-01). buf holds >= 16 bytes. Returns buf. */
const char *html_day_text(int64_t day, char *buf);

/* One bar chart as inline SVG: one <rect class="bar"> per day from first_day for ndays days
 * (the bar count is the number of days), bar heights value[i] against the largest value
 * (negative values drawn as 0), a day with gap[i] != 0 (no payment at all) drawn as a red
 * band over the whole height with a red marker bar (class "bar gap"). Each bar carries
 * data-day, data-value (the exact value: a count when scale is -1, else a decimal at scale)
 * and a <title> tooltip "day: value unit". */
typedef struct html_chart {
    const char *id;    /* id of the <svg> */
    const char *title; /* aria-label */
    const char *unit;  /* "payments" or a currency code */
    int scale;         /* -1: values are counts; 0..4: values are decimal units at that scale */
    int64_t first_day;
    size_t ndays;
    const int64_t *value;
    const unsigned char *gap;
} html_chart;
void html_bar_chart(FILE *f, const html_chart *c);

#endif
