/* The JSON lexical rules of the plugins' bounded JSON readers (see json_lex.h). */
#include "json_lex.h"

#include <string.h>

#define END "unexpected end of input"

static size_t fail(const char **why, size_t *at, const char *reason, size_t where)
{
    *why = reason;
    *at = where;
    return 0;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Length of the valid UTF-8 sequence at s[0..n) (n >= 1, s[0] >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* <= U+10FFFF */
    } else
        return 0;
    if (n < need + 1 || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k <= need; k++)
        if (s[k] < 0x80 || s[k] > 0xBF)
            return 0;
    return need + 1;
}

/* Length of the valid escape sequence at s[i] ('\\'), or 0 with *why set. */
static size_t escape_len(const char *s, size_t len, size_t i, const char **why)
{
    if (i + 1 >= len)
        return *why = END, 0;
    switch (s[i + 1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return 2;
    case 'u': {
        unsigned u, lo;
        if (i + 6 > len)
            return *why = END, 0;
        if (hex4(s + i + 2, &u) != 0)
            return *why = "invalid \\u escape", 0;
        if (u >= 0xDC00 && u <= 0xDFFF)
            return *why = "invalid Unicode escape (lone low surrogate)", 0;
        if (u < 0xD800 || u > 0xDBFF)
            return 6;
        if (i + 12 > len) {
            *why = i + 6 >= len ? END : "invalid Unicode escape (lone high surrogate)";
            return 0;
        }
        if (s[i + 6] != '\\' || s[i + 7] != 'u' || hex4(s + i + 8, &lo) != 0 || lo < 0xDC00 ||
            lo > 0xDFFF)
            return *why = "invalid Unicode escape (lone high surrogate)", 0;
        return 12;
    }
    default:
        return *why = "invalid escape in a string", 0;
    }
}

size_t ps_jlex_string(const char *str, size_t n, size_t i, int *esc, const char **why, size_t *at)
{
    const unsigned char *s = (const unsigned char *)str;
    *esc = 0;
    i++;
    for (;;) {
        while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
            i++;
        if (i >= n)
            return fail(why, at, END, n);
        unsigned char c = s[i];
        if (c == '"')
            return i + 1;
        size_t k;
        if (c == '\\') {
            if (!(k = escape_len(str, n, i, why)))
                return *at = i, 0;
            *esc = 1;
        } else if (c < 0x20)
            return fail(why, at, "control character in a string (must be escaped)", i);
        else if (!(k = utf8_len(s + i, n - i)))
            return fail(why, at, "invalid UTF-8 in a string", i);
        i += k;
    }
}

size_t ps_jlex_string_close(const char *s, size_t len, size_t i, int *esc)
{
    size_t e = i + 1;
    *esc = 0;
    for (;;) {
        while (e < len && s[e] != '"' && s[e] != '\\')
            e++;
        if (e >= len)
            return len;
        if (s[e] == '"')
            return e;
        *esc = 1;
        e += 2;
    }
}

size_t ps_jlex_unescape(const char *s, size_t b, size_t e, char *out)
{
    size_t p = 0;
    while (b < e) {
        const char *bs = memchr(s + b, '\\', e - b);
        size_t run = bs ? (size_t)(bs - (s + b)) : e - b;
        memcpy(out + p, s + b, run);
        p += run;
        b += run;
        if (b >= e)
            break;
        char c = s[b + 1];
        b += 2;
        switch (c) {
        case 'b':
            out[p++] = '\b';
            break;
        case 'f':
            out[p++] = '\f';
            break;
        case 'n':
            out[p++] = '\n';
            break;
        case 'r':
            out[p++] = '\r';
            break;
        case 't':
            out[p++] = '\t';
            break;
        case 'u': {
            unsigned u = 0, lo = 0;
            hex4(s + b, &u);
            b += 4;
            if (u >= 0xD800 && u <= 0xDBFF) {
                hex4(s + b + 2, &lo);
                b += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (u < 0x80)
                out[p++] = (char)u;
            else if (u < 0x800) {
                out[p++] = (char)(0xC0 | (u >> 6));
                out[p++] = (char)(0x80 | (u & 0x3F));
            } else if (u < 0x10000) {
                out[p++] = (char)(0xE0 | (u >> 12));
                out[p++] = (char)(0x80 | ((u >> 6) & 0x3F));
                out[p++] = (char)(0x80 | (u & 0x3F));
            } else {
                out[p++] = (char)(0xF0 | (u >> 18));
                out[p++] = (char)(0x80 | ((u >> 12) & 0x3F));
                out[p++] = (char)(0x80 | ((u >> 6) & 0x3F));
                out[p++] = (char)(0x80 | (u & 0x3F));
            }
            break;
        }
        default:
            out[p++] = c;
            break; /* " \ / */
        }
    }
    out[p] = '\0';
    return p;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

size_t ps_jlex_number(const char *s, size_t n, size_t i, const char **why, size_t *at)
{
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return fail(why, at, END, i);
    if (s[i] == '0') {
        i++;
        if (i < n && is_digit(s[i]))
            return fail(why, at, "invalid number (leading zero)", i);
    } else if (is_digit(s[i])) {
        while (i < n && is_digit(s[i]))
            i++;
    } else
        return fail(why, at, "invalid number", i);
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n)
            return fail(why, at, END, i);
        if (!is_digit(s[i]))
            return fail(why, at, "invalid number (no digit after '.')", i);
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n)
            return fail(why, at, END, i);
        if (!is_digit(s[i]))
            return fail(why, at, "invalid number (no digit in the exponent)", i);
        while (i < n && is_digit(s[i]))
            i++;
    }
    return i;
}

size_t ps_jlex_literal(const char *s, size_t len, size_t i, const char *word, const char **why,
                       size_t *at)
{
    size_t wlen = strlen(word), avail = len - i;
    size_t k = avail < wlen ? avail : wlen;
    if (memcmp(s + i, word, k) != 0)
        return fail(why, at, "invalid literal", i);
    if (k < wlen)
        return fail(why, at, END, len);
    return i + wlen;
}
