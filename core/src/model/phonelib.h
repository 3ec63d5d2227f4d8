/* paysync core: the C interface of libphonenumber (Google's numbering plans; Debian's
 * libphonenumber-dev), implemented in phonelib.cc. The only C++ in the core: no exception
 * crosses these functions, and they keep no state of their own (the library's
 * PhoneNumberUtil is a read-only process-wide singleton). Thread-safe. Rules built on top of
 * these (input characters, the "00" prefix, default country) live in phone.c. */
#ifndef PS_PHONELIB_H
#define PS_PHONELIB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Verdicts of ps_phonelib_parse. */
typedef enum ps_phonelib_verdict {
    PS_PHONELIB_VALID = 0,
    PS_PHONELIB_NOT_A_NUMBER = 1, /* nothing the library reads as a phone number */
    PS_PHONELIB_BAD_COUNTRY = 2,  /* no known country calling code (after '+', or no region) */
    PS_PHONELIB_TOO_SHORT = 3,    /* shorter than every number of that calling code */
    PS_PHONELIB_TOO_LONG = 4,     /* longer than every number of that calling code */
    PS_PHONELIB_BAD_LENGTH = 5,   /* between, but no number there has this length */
    PS_PHONELIB_LOCAL_ONLY = 6,   /* only a local number (area code missing) */
    PS_PHONELIB_INVALID = 7,      /* possible length, but not a number of the plan */
    PS_PHONELIB_FAILED = 8        /* the library failed (out of memory) */
} ps_phonelib_verdict;

/* Parses number[0..len) (digits with an optional leading '+'; other characters are read as
 * libphonenumber reads them) as written in region (ISO 3166 alpha-2 upper case, e.g. "NG";
 * NULL or "ZZ" = unknown: then only '+' numbers parse) and checks it against the numbering
 * plan (IsValidNumber). On PS_PHONELIB_VALID the E.164 text ("+2348031239999") goes to
 * e164 (cap bytes, NUL-terminated; PS_PHONELIB_FAILED when it does not fit). *calling_code
 * (may be NULL) receives the number's country calling code when it was found, else 0. */
ps_phonelib_verdict ps_phonelib_parse(const char *number, size_t len, const char *region,
                                      char *e164, size_t cap, int *calling_code);

/* The country calling code of region ("NG" -> 234), or 0 when the library does not know the
 * region (it must be upper case). */
int ps_phonelib_calling_code(const char *region);

/* The main region of a calling code (234 -> "NG"; a code shared by several regions gives the
 * one libphonenumber lists first: 1 -> "US", 7 -> "RU", 44 -> "GB") into region (3 bytes).
 * Returns the number of regions sharing the code, 0 (region "") when it has none (unassigned
 * or non-geographic codes such as 800). */
int ps_phonelib_main_region(int calling_code, char region[3]);

/* An example mobile number of region in international format ("+234 802 123 4567") into out
 * (cap bytes). Returns 0 when the region has none or it does not fit (out = ""). */
int ps_phonelib_example(const char *region, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
