/* gsheet_writer: tab names and rows (see gw_rows.h). */
#include "gw_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ps_gw_tmpl_check(const char *tmpl, char *bad)
{
    for (const char *p = tmpl; *p; p++) {
        if (*p != '{')
            continue;
        if (strncmp(p, "{dataset}", 9) == 0 || strncmp(p, "{month}", 7) == 0)
            continue;
        const char *e = strchr(p, '}');
        size_t n = e ? (size_t)(e - p) + 1 : strlen(p);
        snprintf(bad, 32, "%.*s", (int)(n < 31 ? n : 31), p);
        return -1;
    }
    return 0;
}

size_t ps_gw_tab_title(const char *tmpl, const char *dataset, const char *timestamp, char *out)
{
    char month[8] = "00_0000";
    if (timestamp && strlen(timestamp) >= 7) {
        memcpy(month, timestamp + 5, 2);
        memcpy(month + 3, timestamp, 4);
    }
    size_t k = 0;
    for (const char *p = tmpl; *p;) {
        const char *v = NULL;
        size_t skip = 1;
        if (strncmp(p, "{dataset}", 9) == 0) {
            v = dataset;
            skip = 9;
        } else if (strncmp(p, "{month}", 7) == 0) {
            v = month;
            skip = 7;
        }
        size_t n = v ? strlen(v) : 1;
        if (k + n > PS_GW_TITLE_MAX)
            return 0;
        memcpy(out + k, v ? v : p, n);
        k += n;
        p += skip;
    }
    out[k] = '\0';
    return k;
}

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int ps_gw_tab_matches(const char *tmpl, const char *dataset, const char *title)
{
    const char *t = title;
    size_t dl = strlen(dataset);
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "{dataset}", 9) == 0) {
            if (strncmp(t, dataset, dl) != 0)
                return 0;
            t += dl;
            p += 9;
        } else if (strncmp(p, "{month}", 7) == 0) {
            if (strlen(t) < 7 || !digits(t, 2) || t[2] != '_' || !digits(t + 3, 4))
                return 0;
            int m = (t[0] - '0') * 10 + (t[1] - '0');
            if (m < 1 || m > 12)
                return 0;
            t += 7;
            p += 7;
        } else {
            if (*t != *p)
                return 0;
            t++;
            p++;
        }
    }
    return *t == '\0';
}

size_t ps_gw_json_str(char *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    out[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[k++] = '\\';
            out[k++] = (char)c;
        } else if (c < 0x20) {
            memcpy(out + k, "\\u00", 4);
            out[k + 4] = hex[c >> 4];
            out[k + 5] = hex[c & 15];
            k += 6;
        } else {
            out[k++] = (char)c;
        }
    }
    out[k++] = '"';
    return k;
}

static char *row_of(const char *const *text, const size_t *len, size_t *outlen)
{
    size_t cap = 3;
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        cap += ps_gw_json_bound(len[f]) + 1;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t k = 0;
    out[k++] = '[';
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        if (f)
            out[k++] = ',';
        k += ps_gw_json_str(out + k, text[f] ? text[f] : "", len[f]);
    }
    out[k++] = ']';
    out[k] = '\0';
    *outlen = k;
    return out;
}

char *ps_gw_record_row(const ps_record *rec, size_t *len)
{
    const char *text[PS_FIELD_COUNT];
    size_t lens[PS_FIELD_COUNT];
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        text[f] = rec->field[f].ptr;
        lens[f] = rec->field[f].ptr ? rec->field[f].len : 0;
    }
    return row_of(text, lens, len);
}

char *ps_gw_header_row(const ps_host *host, size_t *len)
{
    const char *text[PS_FIELD_COUNT];
    size_t lens[PS_FIELD_COUNT];
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        text[f] = host->field_name(f);
        lens[f] = text[f] ? strlen(text[f]) : 0;
    }
    return row_of(text, lens, len);
}
