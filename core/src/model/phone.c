/* paysync core: phone normalisation (see phone.h). */
#include "model/phone.h"

#include <string.h>

const char *ps_phone_reason(int rc)
{
    switch (rc) {
    case PS_PHONE_SYNTAX:
        return "contains characters other than digits, '+', spaces, dashes, dots or brackets";
    case PS_PHONE_LENGTH:
        return "must have 8 to 15 digits";
    case PS_PHONE_LOCAL:
        return "is a local number and the dataset configures no phone_country_code";
    case PS_PHONE_EMPTY:
        return "is empty";
    default:
        return "is invalid";
    }
}

int ps_phone_normalise(const char *s, size_t len, const char *country_code, char *out)
{
    char d[64];
    size_t nd = 0, i, o = 0, start = 0, cc_len = 0;
    int plus = 0;
    if (!s)
        return PS_PHONE_EMPTY;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (nd >= sizeof d)
                return PS_PHONE_LENGTH;
            d[nd++] = c;
        } else if (c == '+') {
            if (plus || nd > 0)
                return PS_PHONE_SYNTAX;
            plus = 1;
        } else if (c == ' ' || c == '\t' || c == '-' || c == '.' || c == '(' || c == ')') {
            /* removed */
        } else {
            return PS_PHONE_SYNTAX;
        }
    }
    if (nd == 0)
        return plus ? PS_PHONE_LENGTH : PS_PHONE_EMPTY;
    if (country_code)
        cc_len = strlen(country_code);
    out[o++] = '+';
    if (!plus) {
        if (nd >= 2 && d[0] == '0' && d[1] == '0') {
            start = 2; /* 00 international prefix */
        } else if (d[0] == '0') {
            if (cc_len == 0)
                return PS_PHONE_LOCAL;
            if (cc_len > 3)
                return PS_PHONE_LENGTH;
            memcpy(out + o, country_code, cc_len);
            o += cc_len;
            start = 1;
        }
    }
    if (nd - start + (o - 1) < 8 || nd - start + (o - 1) > 15)
        return PS_PHONE_LENGTH;
    memcpy(out + o, d + start, nd - start);
    o += nd - start;
    out[o] = '\0';
    return (int)o;
}
