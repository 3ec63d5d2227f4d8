/* The JSON (RFC 8259) lexical rules of the plugins' bounded JSON readers, in one place:
 * whitespace, strings (escapes, surrogate pairs, strict UTF-8: no overlong forms, no encoded
 * surrogates, nothing above U+10FFFF), numbers, literals. gsheet's values reader
 * (plugins/gsheet/gs_vjson.c) and rest's tree (plugins/rest/rs_json.c) walk the structure each
 * their own way and take every token from here. Each function looks at one token of
 * s[0..len) and never reads at or past len; nothing is allocated. */
#ifndef PS_JSON_LEX_H
#define PS_JSON_LEX_H

#include <stddef.h>

/* Index of the first byte at or after i that is not JSON whitespace (len when none). */
static inline size_t ps_jlex_skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
        i++;
    return i;
}

/* Validates the string whose opening quote is s[i]. Returns the offset just past its closing
 * quote and sets *esc when it holds escapes. \u0000 is valid here (a reader that refuses NUL
 * bytes checks the decoded text). On an error returns 0 with *why (static text such as
 * "invalid UTF-8 in a string") and *at (the offending byte) set. */
size_t ps_jlex_string(const char *s, size_t len, size_t i, int *esc, const char **why, size_t *at);

/* Decodes the body s[b..e) (between the quotes) of a string ps_jlex_string accepted into
 * out, which has room for e - b + 1 bytes (decoded text is never longer); NUL-terminated.
 * Returns the decoded length. */
size_t ps_jlex_unescape(const char *s, size_t b, size_t e, char *out);

/* Offset of the closing quote of the string at s[i] ('"') that ps_jlex_string accepted
 * before (no validation: escapes are skipped in pairs); sets *esc when it holds escapes.
 * len when there is none (the text was not validated). */
size_t ps_jlex_string_close(const char *s, size_t len, size_t i, int *esc);

/* Validates the number at s[i]: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. Returns the
 * offset just past it, or 0 with *why ("invalid number (leading zero)", ...) and *at set. */
size_t ps_jlex_number(const char *s, size_t len, size_t i, const char **why, size_t *at);

/* Validates the literal word ("true", "false", "null") at s[i]. Returns the offset past it,
 * or 0 with *why ("invalid literal", or "unexpected end of input" when s ends inside a
 * prefix of it) and *at set. */
size_t ps_jlex_literal(const char *s, size_t len, size_t i, const char *word, const char **why,
                       size_t *at);

#endif
