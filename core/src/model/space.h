/* paysync core: the one definition of whitespace (docs/data-model.md "Whitespace and blank
 * rows"): the Unicode White_Space characters. Values are trimmed of it, headers too, and a row
 * whose every cell is empty or only whitespace is blank. */
#ifndef PS_SPACE_H
#define PS_SPACE_H

#include <stddef.h>

/* Byte length of the whitespace character at the start of s[0..len) (1 to 3), or 0 when s
 * does not start with one. */
size_t ps_space_lead(const char *s, size_t len);

/* Byte length of the whitespace character that ends s[0..len), or 0. */
size_t ps_space_trail(const char *s, size_t len);

/* Shortens the text (*s, *len) by the whitespace at both ends. */
void ps_space_trim(const char **s, size_t *len);

/* 1 when s[0..len) is empty or only whitespace (a NUL byte or invalid UTF-8 is not). */
int ps_text_is_blank(const char *s, size_t len);

#endif
