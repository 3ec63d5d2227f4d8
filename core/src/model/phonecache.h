/* paysync core: a run-wide memo of CUSTOMER_PHONE verdicts. libphonenumber costs ~14 µs a
 * number (docs/performance.md) and a customer's phone repeats across a run, so each dataset
 * run remembers what ps_phone_check decided for (country, exact raw cell bytes). The key is
 * the raw text itself, not a normalised form: a hit returns what ps_phone_check returned for
 * the very same input, and libphonenumber is a pure function of its input, so a cached
 * verdict and its reason are identical to an uncached one by construction.
 *
 * Memory is fixed when the memo is made: PS_PHONECACHE_SLOTS 8-byte slots (4 MiB) and an
 * arena of PS_PHONECACHE_ARENA bytes (8 MiB) holding the entries (11 bytes + the raw text +
 * the E.164 text each), 12 MiB at most in all, of which only what is used gets touched. At
 * most PS_PHONECACHE_MAX_ENTRIES entries are stored (half the slots); when that or the arena
 * is reached nothing more is stored and later new numbers are checked without the memo
 * (no eviction). Raw texts longer than PS_PHONECACHE_MAX_KEY bytes are never stored.
 *
 * One memo belongs to one dataset run and is used by one thread at a time (not thread-safe:
 * parallel runs each have their own). */
#ifndef PS_PHONECACHE_H
#define PS_PHONECACHE_H

#include <stddef.h>
#include <stdint.h>

#include "model/phone.h"

#define PS_PHONECACHE_SLOTS ((size_t)1 << 19)
#define PS_PHONECACHE_MAX_ENTRIES (PS_PHONECACHE_SLOTS / 2)
#define PS_PHONECACHE_ARENA ((size_t)8 << 20)
#define PS_PHONECACHE_MAX_KEY 64

typedef struct ps_phonecache ps_phonecache;

/* Counters of a memo (for tests and benchmarks). */
typedef struct ps_phonecache_stats {
    uint64_t hits;    /* verdicts answered from the memo */
    uint64_t misses;  /* verdicts computed (stored or not) */
    uint64_t entries; /* verdicts stored */
    uint64_t refused; /* misses not stored: memo full or raw text too long */
} ps_phonecache_stats;

/* A memo with room for max_entries entries and arena_bytes of entry data (0, 0 = the
 * defaults above; smaller values are for tests; max_entries is cut to half the slots).
 * NULL when out of memory. Free with ps_phonecache_free (NULL is fine). */
ps_phonecache *ps_phonecache_new(size_t max_entries, size_t arena_bytes);
void ps_phonecache_free(ps_phonecache *c);

/* ps_phone_normalise (model/phone.h, same arguments, same results) through the memo c; c
 * NULL = no memo. */
int ps_phonecache_normalise(ps_phonecache *c, const char *s, size_t len, const char *region,
                            char *out, char *why);

/* c's counters into *st (zeros for NULL). */
void ps_phonecache_get_stats(const ps_phonecache *c, ps_phonecache_stats *st);

#endif
