/* gsheet: URL and A1-range encoding, spreadsheet-ID extraction. */
#include "gs_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

char *ps_gs_pct_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c)) {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p = '\0';
    return out;
}

void ps_gs_col_letters(uint32_t col, char out[8])
{
    char tmp[8] = {0};
    size_t n = 0;
    if (col == 0)
        col = 1;
    while (col > 0 && n < sizeof tmp - 1) {
        uint32_t r = (col - 1) % 26;
        tmp[n++] = (char)('A' + r);
        col = (col - 1) / 26;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

char *ps_gs_a1_range(const char *title, uint64_t r1, uint32_t last_col, uint64_t r2)
{
    size_t n = strlen(title);
    size_t cap = n * 2 + 64;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t p = 0;
    out[p++] = '\'';
    for (size_t i = 0; i < n; i++) {
        if (title[i] == '\'')
            out[p++] = '\'';
        out[p++] = title[i];
    }
    out[p++] = '\'';
    char col[8];
    ps_gs_col_letters(last_col, col);
    snprintf(out + p, cap - p, "!A%llu:%s%llu", (unsigned long long)r1, col,
             (unsigned long long)r2);
    return out;
}

int ps_gs_a1_split(const char *range, char *title, size_t title_cap, char *start, size_t cap)
{
    const char *p = range;
    size_t n = 0;
    if (*p == '\'') {
        for (p++;; p++) {
            if (!*p)
                return -1;
            if (*p == '\'') {
                if (p[1] != '\'')
                    break;
                p++;
            }
            if (n + 1 >= title_cap)
                return -1;
            title[n++] = *p;
        }
        p++; /* past the closing quote */
        if (*p != '!')
            return -1;
    } else {
        const char *bang = strrchr(p, '!');
        if (!bang || (size_t)(bang - p) + 1 > title_cap)
            return -1;
        n = (size_t)(bang - p);
        memcpy(title, p, n);
        p = bang;
    }
    title[n] = '\0';
    p++; /* past '!' */
    size_t k = strcspn(p, ":");
    if (k == 0 || k + 1 > cap)
        return -1;
    memcpy(start, p, k);
    start[k] = '\0';
    return 0;
}

static int id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static int64_t parse_gid(const char *s)
{
    const char *g = strstr(s, "gid=");
    if (!g)
        return -1;
    g += 4;
    if (*g < '0' || *g > '9')
        return -1;
    int64_t v = 0;
    while (*g >= '0' && *g <= '9') {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*g - '0');
        g++;
    }
    return v;
}

int ps_gs_parse_sheet_ref(const char *in, char *id, size_t cap, int64_t *gid)
{
    *gid = -1;
    if (!in || cap == 0)
        return -1;
    while (*in == ' ' || *in == '\t')
        in++;
    size_t len = strlen(in);
    while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == '\t' || in[len - 1] == '\n'))
        len--;
    const char *start = in;
    /* .../spreadsheets/d/ID/... or .../spreadsheets/u/0/d/ID/... */
    const char *sp = strstr(in, "/spreadsheets/");
    const char *d = sp ? strstr(sp, "/d/") : NULL;
    if (d && (size_t)(d - in) < len) {
        start = d + 3;
        if (start[0] == 'e' && start[1] == '/')
            return -2;
        *gid = parse_gid(start);
    } else if (strstr(in, "://")) {
        return -1;
    }
    size_t n = 0;
    while (start + n < in + len && id_char(start[n]))
        n++;
    if (n == 0 || n >= cap)
        return -1;
    /* A bare ID must be all ID characters; a URL ends the ID at '/', '?' or '#'. */
    if (start == in && n != len)
        return -1;
    if (start != in && start + n < in + len && start[n] != '/' && start[n] != '?' &&
        start[n] != '#')
        return -1;
    memcpy(id, start, n);
    id[n] = '\0';
    return 0;
}
