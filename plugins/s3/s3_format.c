/* Object body formats (see s3_format.h). */
#include "s3_format.h"

#include <string.h>

/* A csv cell, quoted when it holds a comma, a quote, CR or LF (quotes doubled). */
static size_t csv_cell(char *p, const char *s, size_t n)
{
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        memcpy(p, s, n);
        return n;
    }
    char *q = p;
    *q++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            *q++ = '"';
        *q++ = s[i];
    }
    *q++ = '"';
    return (size_t)(q - p);
}

static int numeric_field(int f)
{
    return f == PS_F_PAYMENT_AMOUNT || f == PS_F_TRANSACTION_CHARGES || f == PS_F_LATITUDE ||
           f == PS_F_LONGITUDE || f == PS_F_FAILED_BATTERY_CAPACITY_COUNT;
}

/* 1 when s[0..n) is -?(0|[1-9][0-9]*)(\.[0-9]+)? */
static int json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return 0;
    if (s[i] == '0')
        i++;
    else
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    return i == n;
}

/* A JSON string with quotes; at most 6 * n + 2 bytes. */
static size_t json_str(char *p, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *q = p;
    *q++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *q++ = '\\';
            *q++ = (char)c;
        } else if (c == '\n') {
            *q++ = '\\';
            *q++ = 'n';
        } else if (c == '\r') {
            *q++ = '\\';
            *q++ = 'r';
        } else if (c == '\t') {
            *q++ = '\\';
            *q++ = 't';
        } else if (c == '\b') {
            *q++ = '\\';
            *q++ = 'b';
        } else if (c == '\f') {
            *q++ = '\\';
            *q++ = 'f';
        } else if (c < 0x20) {
            memcpy(q, "\\u00", 4);
            q[4] = hex[c >> 4];
            q[5] = hex[c & 15];
            q += 6;
        } else {
            *q++ = (char)c;
        }
    }
    *q++ = '"';
    return (size_t)(q - p);
}

size_t s3_format_bound(const ps_record *rec, size_t dataset_len)
{
    size_t need = 64 + 40 * PS_FIELD_COUNT + 6 * dataset_len;
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        need += 6 * (size_t)rec->field[f].len;
    return need;
}

size_t s3_format_csv_header(const ps_host *host, char *out)
{
    size_t k = 0;
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        const char *name = host->field_name(f);
        if (f)
            out[k++] = ',';
        k += csv_cell(out + k, name, strlen(name));
    }
    memcpy(out + k, "\r\n", 2);
    return k + 2;
}

size_t s3_format_record(const ps_host *host, const ps_record *rec, int jsonl, const char *dataset,
                        char *out)
{
    char *q = out;
    if (!jsonl) {
        for (int f = 0; f < PS_FIELD_COUNT; f++) {
            if (f)
                *q++ = ',';
            if (rec->field[f].ptr)
                q += csv_cell(q, rec->field[f].ptr, rec->field[f].len);
        }
        memcpy(q, "\r\n", 2);
        return (size_t)(q + 2 - out);
    }
    *q++ = '{';
    int first = 1;
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        const ps_str *v = &rec->field[f];
        if (!v->ptr)
            continue;
        if (!first)
            *q++ = ',';
        first = 0;
        const char *name = host->field_name(f);
        q += json_str(q, name, strlen(name));
        *q++ = ':';
        if (numeric_field(f) && json_number(v->ptr, v->len)) {
            memcpy(q, v->ptr, v->len);
            q += v->len;
        } else {
            q += json_str(q, v->ptr, v->len);
        }
    }
    if (!first)
        *q++ = ',';
    memcpy(q, "\"DATASET\":", 10);
    q += 10;
    q += json_str(q, dataset, strlen(dataset));
    *q++ = '}';
    *q++ = '\n';
    return (size_t)(q - out);
}
