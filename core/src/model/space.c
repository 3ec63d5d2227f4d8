/* paysync core: whitespace (space.h). */
#include "model/space.h"

/* The Unicode White_Space property (PropList.txt): U+0009..U+000D, U+0020, U+0085, U+00A0,
 * U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000. */
static size_t space_at(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    if (c == ' ' || (c >= 0x09 && c <= 0x0D))
        return 1;
    if (c < 0xC2 || len < 2)
        return 0;
    if (c == 0xC2)
        return s[1] == 0x85 || s[1] == 0xA0 ? 2 : 0;
    if (len < 3)
        return 0;
    if (c == 0xE1)
        return s[1] == 0x9A && s[2] == 0x80 ? 3 : 0;
    if (c == 0xE2 && s[1] == 0x80)
        return (s[2] >= 0x80 && s[2] <= 0x8A) || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF ? 3
                                                                                              : 0;
    if (c == 0xE2 && s[1] == 0x81)
        return s[2] == 0x9F ? 3 : 0;
    if (c == 0xE3)
        return s[1] == 0x80 && s[2] == 0x80 ? 3 : 0;
    return 0;
}

size_t ps_space_lead(const char *s, size_t len)
{
    return len ? space_at((const unsigned char *)s, len) : 0;
}

size_t ps_space_trail(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    if (len == 0)
        return 0;
    if (u[len - 1] < 0x80)
        return space_at(u + len - 1, 1);
    for (size_t k = 2; k <= 3 && k <= len; k++)
        if (space_at(u + len - k, k) == k)
            return k;
    return 0;
}

void ps_space_trim(const char **s, size_t *len)
{
    size_t k;
    while ((k = ps_space_lead(*s, *len)) != 0) {
        *s += k;
        *len -= k;
    }
    while ((k = ps_space_trail(*s, *len)) != 0)
        *len -= k;
}

int ps_text_is_blank(const char *s, size_t len)
{
    size_t k;
    while (len && (k = ps_space_lead(s, len)) != 0) {
        s += k;
        len -= k;
    }
    return len == 0;
}
