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

/* Whether code is a country calling code libphonenumber knows (a country's or a
 * non-geographic one such as 800): what Parse accepts after a '+'. */
int ps_phonelib_is_calling_code(int code);

/* One number description of a plan: the library's regular expression for national
 * significant numbers ("" = none: nothing matches) and its possible lengths (nlengths = how
 * many the metadata lists, 0 = those of the general description; lengths = bit L set for
 * length L, 1..31; a listed -1, "no such numbers", sets no bit). */
typedef struct ps_phonelib_desc {
    char *pattern;
    int nlengths;
    unsigned lengths;
    unsigned local_lengths; /* possible_length_local_only, same encoding */
} ps_phonelib_desc;

/* The descriptions of a plan: the general one first, then every number type IsValidNumber
 * tries (premium rate, toll free, shared cost, VoIP, personal, pager, UAN, voicemail, fixed
 * line, mobile). */
#define PS_PHONELIB_DESCS 11

/* The numbering plan of a calling code as libphonenumber's own compiled metadata states it
 * (the same regular expressions the library runs; model/phonefast.h evaluates them). */
typedef struct ps_phonelib_plan {
    int calling_code;
    char region[3];
    char *international_prefix;       /* pattern, "" = none */
    char *national_prefix_for_parsing; /* pattern, "" = none */
    int has_transform_rule;           /* national_prefix_transform_rule is set */
    int same_mobile_and_fixed_line;   /* then IsValidNumber never tries the mobile one */
    ps_phonelib_desc desc[PS_PHONELIB_DESCS];
} ps_phonelib_plan;

/* Fills *plan for calling_code when exactly one country (a two-letter region) has that code;
 * returns 0, or -1 (nothing to free) when the code is shared, non-geographic, unknown, or
 * the metadata cannot be read or memory runs out. Free with ps_phonelib_plan_free. */
int ps_phonelib_plan_get(int calling_code, ps_phonelib_plan *plan);
void ps_phonelib_plan_free(ps_phonelib_plan *plan);

#ifdef __cplusplus
}
#endif

#endif
