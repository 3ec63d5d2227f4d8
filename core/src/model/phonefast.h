/* paysync core: an exact pre-check of phone numbers that answers the common case without
 * libphonenumber's Parse (~16 µs a number through ICU regular expressions).
 *
 * It takes the text ps_phone_check hands to libphonenumber ("+2348031239999" or, with a
 * country, "08031239999": a '+' or not, then ASCII digits) and follows Parse and
 * IsValidNumber step by step with the library's own numbering plan (its compiled metadata,
 * ps_phonelib_plan_get) evaluated as DFAs over digits (model/digitre.h; PCRE2 for the few
 * patterns outside that subset, and for prefix matches of patterns that are not
 * prefix-free), but only where every step is certain:
 *   - the calling code (after '+', or the country's) belongs to exactly one country;
 *   - a number without '+' starts with neither the country's international prefix nor its
 *     calling code;
 *   - the national prefix, when one is present, is stripped as libphonenumber strips it
 *     (no transform rule), and the national number left has no leading zero;
 *   - the national number matches the plan's general description and one number type.
 * Then it answers "valid" with the E.164 text, which is what libphonenumber answers for that
 * input. In every other case (an invalid number included) it answers "not decided" and the
 * caller asks libphonenumber, which stays the authority (and writes the reasons).
 * tests/unit/model/test_phonefast.c and tests/integration/test_phone_oracle.py check it
 * against libphonenumber.
 *
 * Plans are loaded per calling code when first needed (at most PS_PHONEFAST_PLANS, a few
 * hundred KB in all); an object is used by one thread at a time (one per dataset run, owned
 * by the run's phone memo). */
#ifndef PS_PHONEFAST_H
#define PS_PHONEFAST_H

#include <stddef.h>

#define PS_PHONEFAST_PLANS 8

typedef struct ps_phonefast ps_phonefast;

/* A pre-check with no plan loaded yet. NULL when out of memory. Free with ps_phonefast_free
 * (NULL is fine). */
ps_phonefast *ps_phonefast_new(void);
void ps_phonefast_free(ps_phonefast *f);

/* num[0..len): a '+' or not, then ASCII digits (what ps_phone_check passes to
 * ps_phonelib_parse with the same region: "NG", or NULL for none). Returns 1 when the number
 * is valid for certain, with its E.164 text in e164 (cap bytes, NUL-terminated); 0 when not
 * decided (ask libphonenumber). f NULL = never decided. */
int ps_phonefast_valid(ps_phonefast *f, const char *num, size_t len, const char *region, char *e164,
                       size_t cap);

/* How many numbers f decided and how many it left to libphonenumber (tests, benchmarks). */
void ps_phonefast_counts(const ps_phonefast *f, unsigned long long *decided,
                         unsigned long long *undecided);

#endif
