/* paysync core: CUSTOMER_PHONE validation and E.164 normalisation (spec "CUSTOMER_PHONE";
 * rules in docs/data-model.md). Numbering plans come from libphonenumber (model/phonelib.h);
 * this module adds paysync's input rules. Thread-safe. */
#ifndef PS_PHONE_H
#define PS_PHONE_H

#include <stddef.h>

/* Room for a normalised phone: '+', at most 20 digits (a 3-digit calling code and
 * libphonenumber's longest national number, 17), NUL. */
#define PS_PHONE_MAX 24

/* Room for ps_phone_normalise's reason text. */
#define PS_PHONE_WHY_MAX 160

enum {
    PS_PHONE_SYNTAX = -1,  /* a character other than digits, '+', spaces, '-', '.', brackets */
    PS_PHONE_INVALID = -2, /* not a number of the numbering plan (reason in `why`) */
    PS_PHONE_LOCAL = -3,   /* national number ("0803...") and the dataset sets no country */
    PS_PHONE_EMPTY = -4,
    PS_PHONE_FAILED = -5 /* libphonenumber failed (out of memory) */
};

/* Validates s[0..len) and writes its E.164 form ("+2348031239999") to out (>= PS_PHONE_MAX
 * bytes, NUL-terminated). Spaces, tabs, '-', '.', '(' and ')' are removed first; a leading
 * "+" or "00" makes the number international. region (ISO 3166 alpha-2 upper case, e.g. "NG";
 * NULL or "" = none) is the country of numbers written without one: they are parsed as that
 * country's national numbers, with or without the trunk prefix ("08031239999" and
 * "8031239999" in NG). Without a region, a number with a leading '0' is PS_PHONE_LOCAL and
 * other digits are read as an international number that lost its '+'. Returns the output
 * length, or a negative code above with a short English reason ("is too short for NG
 * (+234)") in why (PS_PHONE_WHY_MAX bytes; may be NULL). */
int ps_phone_normalise(const char *s, size_t len, const char *region, char *out, char *why);

/* What ps_phone_normalise decides, before the reason is written: small and self-contained
 * (no pointers), so that it can be remembered (model/phonecache.h). rc is the return value
 * of ps_phone_normalise; e164 holds the E.164 text when rc >= 0 (else ""); lib, code and
 * international say, for PS_PHONE_INVALID and PS_PHONE_FAILED, libphonenumber's verdict
 * (ps_phonelib_verdict), the calling code it found (0 = none) and whether the number was
 * read as international (then the reason does not name the dataset's country). */
typedef struct ps_phone_verdict {
    int rc;
    int lib;
    int code;
    int international;
    char e164[PS_PHONE_MAX];
} ps_phone_verdict;

/* ps_phone_normalise in two steps: ps_phone_check decides (res is always filled; returns
 * res->rc), ps_phone_report writes res's E.164 text to out and its reason to why (may be
 * NULL) exactly as ps_phone_normalise would for the same region, and returns res->rc.
 * ps_phone_report calls libphonenumber only for the reason of an invalid number (country
 * names, example number), never to parse. */
int ps_phone_check(const char *s, size_t len, const char *region, ps_phone_verdict *res);

/* ps_phone_check without libphonenumber: decides what needs no numbering plan (syntax,
 * empty, national number without a country, too many digits) and, through the exact
 * pre-check fast (model/phonefast.h; NULL = none), the common valid numbers. Returns 1 with
 * res filled exactly as ps_phone_check would fill it, or 0 when only ps_phone_check
 * (libphonenumber) can decide. */
typedef struct ps_phonefast ps_phonefast;
int ps_phone_precheck(ps_phonefast *fast, const char *s, size_t len, const char *region,
                      ps_phone_verdict *res);
int ps_phone_report(const ps_phone_verdict *res, const char *region, char *out, char *why);

/* The region paysync uses for a country calling code ("234" -> "NG", a leading '+' allowed;
 * a code shared by several countries gives libphonenumber's main country for it: "1" -> "US",
 * "7" -> "RU", "44" -> "GB") into region (3 bytes). Returns 0, or -1 when code is not the
 * calling code of any country. */
int ps_phone_region_for_code(const char *code, char region[3]);

/* The calling code of region ("NG" -> 234; any case accepted), 0 when it is not a country
 * libphonenumber knows. */
int ps_phone_calling_code(const char *region);

#endif
