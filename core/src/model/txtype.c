/* paysync core: TRANSACTION_TYPE (see txtype.h). */
#include "model/txtype.h"

#include <string.h>

static const char *const names[PS_TX_COUNT] = {
    "FULL_PAYMENT", "INSTALLMENT_PAYMENT", "NON_CONTRACT_PAYMENT", "DISCOUNT",
    "REVERSAL",     "ENERGY_CREDIT",
};

static const size_t name_len[PS_TX_COUNT] = {12, 19, 20, 8, 8, 13};

const char *ps_txtype_name(int t)
{
    return t >= 0 && t < PS_TX_COUNT ? names[t] : NULL;
}

size_t ps_txtype_name_len(int t)
{
    return t >= 0 && t < PS_TX_COUNT ? name_len[t] : 0;
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

size_t ps_txtype_key(const char *s, size_t len, char *out, size_t cap)
{
    size_t b = 0, e = len, i, n = 0;
    int sep = 0;
    while (b < e && is_ws((unsigned char)s[b]))
        b++;
    while (e > b && is_ws((unsigned char)s[e - 1]))
        e--;
    for (i = b; i < e; i++) {
        char c = s[i];
        if (c == ' ' || c == '-' || c == '_' || c == '\t') {
            sep = 1;
            continue;
        }
        if (sep) {
            if (n + 1 < cap)
                out[n] = '_';
            n++;
            sep = 0;
        }
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (n + 1 < cap)
            out[n] = c;
        n++;
    }
    if (sep) {
        if (n + 1 < cap)
            out[n] = '_';
        n++;
    }
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}

int ps_txtype_parse_with(const char *s, size_t len, const ps_txtype_alias *aliases, size_t n)
{
    char key[64];
    size_t kl, i;
    /* the common case: a canonical name exactly (its key is itself) and no alias that could
     * redefine it */
    if (n == 0 && len >= 8 && len <= 20)
        for (i = 0; i < PS_TX_COUNT; i++)
            if (len == name_len[i] && memcmp(s, names[i], len) == 0)
                return (int)i;
    kl = ps_txtype_key(s, len, key, sizeof key);
    if (kl >= sizeof key || kl == 0)
        return -1;
    for (i = 0; i < n; i++)
        if (strcmp(aliases[i].key, key) == 0)
            return aliases[i].type;
    for (i = 0; i < PS_TX_COUNT; i++)
        if (strcmp(names[i], key) == 0)
            return (int)i;
    return -1;
}

int ps_txtype_parse(const char *s, size_t len)
{
    return ps_txtype_parse_with(s, len, NULL, 0);
}
