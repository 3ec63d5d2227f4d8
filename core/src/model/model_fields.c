/* paysync core: field names, header normalisation and required-ness (see model_fields.h). */
#include "model/model_fields.h"

#include <string.h>

#include "model/space.h"

static const char *const field_names[PS_FIELD_COUNT] = {
    "ID",
    "TIMESTAMP",
    "PAYMENT_AMOUNT",
    "PAYMENT_CURRENCY",
    "TRANSACTION_TYPE",
    "TRANSACTION_CHARGES",
    "REFERENCE_ID",
    "CUSTOMER_ID",
    "METER_ID",
    "CUSTOMER_NAME",
    "CUSTOMER_PHONE",
    "CUSTOMER_CATEGORY",
    "FINANCING_ID",
    "AGENT_ID",
    "LATITUDE",
    "LONGITUDE",
    "UTILITY_ID",
    "FAILED_BATTERY_CAPACITY_COUNT",
    "ACCOUNT_TYPE",
    "STATUS",
    "NOTES",
};

const char *ps_field_name(int f)
{
    return f >= 0 && f < PS_FIELD_COUNT ? field_names[f] : NULL;
}

/* Whitespace trimmed from headers: model/space.h, and a U+FEFF byte order mark (EF BB BF)
 * that some exports leave in the first header cell. */
static size_t lead_ws(const unsigned char *s, size_t len)
{
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return 3;
    return ps_space_lead((const char *)s, len);
}

static size_t trail_ws(const unsigned char *s, size_t len)
{
    if (len >= 3 && s[len - 3] == 0xEF && s[len - 2] == 0xBB && s[len - 1] == 0xBF)
        return 3;
    return ps_space_trail((const char *)s, len);
}

size_t ps_header_normalise(const char *name, size_t len, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t k, i, n = 0;
    int sep = 0;
    if (!cap)
        return 0;
    if (!name) {
        out[0] = '\0';
        return 0;
    }
    while ((k = lead_ws(s, len)) != 0) {
        s += k;
        len -= k;
    }
    while ((k = trail_ws(s, len)) != 0)
        len -= k;
    for (i = 0; i < len && n + 1 < cap; i++) {
        unsigned char c = s[i];
        if (c == ' ' || c == '-' || c == '_' || c == '\t') {
            sep = 1;
            continue;
        }
        if (sep) {
            out[n++] = '_';
            sep = 0;
            if (n + 1 >= cap)
                break;
        }
        out[n++] = (char)((c >= 'a' && c <= 'z') ? c - 32 : c);
    }
    if (sep && n + 1 < cap)
        out[n++] = '_';
    out[n] = '\0';
    return n;
}

int ps_field_lookup(const char *name, size_t len)
{
    char buf[64];
    size_t n = ps_header_normalise(name, len, buf, sizeof buf);
    int f;
    if (n == 0 || n >= sizeof buf - 1)
        return -1;
    for (f = 0; f < PS_FIELD_COUNT; f++)
        if (strcmp(field_names[f], buf) == 0)
            return f;
    return -1;
}

int ps_column_ref(const char *key, size_t *index)
{
    if (key[0] != '@' || key[1] == '@')
        return 0;
    const char *p = key + 1;
    size_t v = 0, n = 0;
    if (*p >= '0' && *p <= '9') {
        for (; *p >= '0' && *p <= '9' && n < 6; p++, n++)
            v = v * 10 + (size_t)(*p - '0');
        if (*p || v == 0 || v > PS_COLUMN_MAX)
            return -1;
        *index = v - 1;
        return 1;
    }
    for (; n < 4 && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')); p++, n++)
        v = v * 26 + (size_t)((*p & ~0x20) - 'A' + 1);
    if (*p || n == 0 || v > PS_COLUMN_MAX)
        return -1;
    *index = v - 1;
    return 1;
}

int ps_field_required(int f, ps_profile profile)
{
    switch (f) {
    case PS_F_TIMESTAMP:
    case PS_F_PAYMENT_AMOUNT:
    case PS_F_PAYMENT_CURRENCY:
    case PS_F_TRANSACTION_TYPE:
    case PS_F_CUSTOMER_ID:
    case PS_F_METER_ID:
    case PS_F_CUSTOMER_NAME:
    case PS_F_CUSTOMER_CATEGORY:
        return 1;
    case PS_F_ID:
    case PS_F_CUSTOMER_PHONE:
        return profile == PS_PROFILE_STRICT;
    default:
        return 0;
    }
}
