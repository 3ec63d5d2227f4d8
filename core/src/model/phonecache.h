/* paysync core: a run-wide memo of CUSTOMER_PHONE verdicts. libphonenumber costs ~14 µs a
 * number (docs/performance.md) and a customer's phone repeats across a run, so each dataset
 * run remembers what ps_phone_check decided for (country, exact raw cell bytes). The key is
 * the raw text itself, not a normalised form: a hit returns what ps_phone_check returned for
 * the very same input, and libphonenumber is a pure function of its input, so a cached
 * verdict and its reason are identical to an uncached one by construction.
 *
 * Each memo owns the run's exact pre-check (model/phonefast.h, through ps_phone_precheck),
 * asked first: what it decides (most valid numbers, syntax errors) costs less than a lookup
 * and is not stored; only the numbers left to libphonenumber are remembered.
 *
 * Memory is fixed when the memo is made: PS_PHONECACHE_SLOTS 4-byte slots (1 MiB) and an
 * arena of PS_PHONECACHE_ARENA bytes (3 MiB) holding the entries (4 bytes, 8 for a rejected
 * number, + the raw text and the E.164 digits packed 4 bits a character: ~18 bytes for a
 * 13-character number), 4 MiB at most in all. At most PS_PHONECACHE_MAX_ENTRIES entries are
 * stored (3/4 of the slots); when that or the arena is reached nothing more is stored and
 * later new numbers are checked without the memo (no eviction). Raw texts longer than
 * PS_PHONECACHE_MAX_KEY bytes, or with a character other than digits, '+', ' ', '-', '.',
 * '(' and ')', are never stored.
 *
 * One memo belongs to one dataset run and is used by one thread at a time (not thread-safe:
 * parallel runs each have their own). */
#ifndef PS_PHONECACHE_H
#define PS_PHONECACHE_H

#include <stddef.h>
#include <stdint.h>

#include "model/phone.h"

#define PS_PHONECACHE_SLOTS ((size_t)1 << 18)
#define PS_PHONECACHE_MAX_ENTRIES (PS_PHONECACHE_SLOTS / 4 * 3)
#define PS_PHONECACHE_ARENA ((size_t)3 << 20)
#define PS_PHONECACHE_MAX_KEY 64

typedef struct ps_phonecache ps_phonecache;

/* Counters of a memo (for tests and benchmarks). */
typedef struct ps_phonecache_stats {
    uint64_t hits;    /* verdicts answered from the memo */
    uint64_t misses;  /* verdicts computed (stored or not) */
    uint64_t entries; /* verdicts stored */
    uint64_t refused; /* misses not stored: memo full or raw text too long */
    uint64_t fast;    /* decided by ps_phone_precheck (no memo, no libphonenumber) */
} ps_phonecache_stats;

/* A memo with room for max_entries entries and arena_bytes of entry data (0, 0 = the
 * defaults above; smaller values are for tests; larger ones are cut to them).
 * NULL when out of memory. Free with ps_phonecache_free (NULL is fine). */
ps_phonecache *ps_phonecache_new(size_t max_entries, size_t arena_bytes);
void ps_phonecache_free(ps_phonecache *c);

/* ps_phone_normalise (model/phone.h, same arguments, same results) through the pre-check
 * and the memo c; c NULL = neither. */
int ps_phonecache_normalise(ps_phonecache *c, const char *s, size_t len, const char *region,
                            char *out, char *why);

/* c's counters into *st (zeros for NULL). */
void ps_phonecache_get_stats(const ps_phonecache *c, ps_phonecache_stats *st);

#endif
