/* paysync core: CUSTOMER_PHONE normalisation (spec "CUSTOMER_PHONE"). Thread-safe. */
#ifndef PS_PHONE_H
#define PS_PHONE_H

#include <stddef.h>

/* Longest normalised phone: '+', 15 digits, NUL. */
#define PS_PHONE_MAX 17

enum {
    PS_PHONE_SYNTAX = -1, /* a character other than digits, '+', spaces, '-', '.', brackets */
    PS_PHONE_LENGTH = -2, /* not 8..15 digits after normalisation */
    PS_PHONE_LOCAL = -3,  /* local number ("0803...") and no country code configured */
    PS_PHONE_EMPTY = -4
};

/* Normalises s to '+' and digits into out (>= PS_PHONE_MAX bytes, NUL-terminated).
 * Removes spaces, '-', '.', '(' and ')'. A leading "+" or "00" is the international prefix;
 * a single leading '0' is a trunk prefix replaced by `country_code` (digits, e.g. "234";
 * NULL/"" = none configured, then PS_PHONE_LOCAL); any other digits are taken as already
 * international (sheets often drop the '+'). Returns the output length or a code above. */
int ps_phone_normalise(const char *s, size_t len, const char *country_code, char *out);

/* Short English reason for a negative result (static). */
const char *ps_phone_reason(int rc);

#endif
