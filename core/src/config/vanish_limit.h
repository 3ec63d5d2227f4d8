/* paysync config: a dataset's `max_vanished` (docs/configuration.md): how many of its stored
 * payments one run may mark vanished before the vanish guard fails it. A leaf module. */
#ifndef PS_VANISH_LIMIT_H
#define PS_VANISH_LIMIT_H

#include <stddef.h>
#include <stdint.h>

typedef enum ps_vanish_kind {
    PS_VANISH_DEFAULT = 0, /* not configured: PS_VANISH_DEFAULT_BP (a zeroed limit is this) */
    PS_VANISH_PERCENT,     /* value: hundredths of a percent (basis points), 0..10000 */
    PS_VANISH_COUNT,       /* value: payments */
    PS_VANISH_UNLIMITED
} ps_vanish_kind;

typedef struct ps_vanish_limit {
    ps_vanish_kind kind;
    uint64_t value;
} ps_vanish_limit;

/* The default: 10 % of the dataset's stored payments. */
#define PS_VANISH_DEFAULT_BP 1000

/* Parses `25%`, `2.5%` (at most 2 decimals, 0..100 %), a count of payments (`500`) or
 * `unlimited`. On failure returns -1 and writes the reason (without the value) to why. */
int ps_vanish_limit_parse(const char *text, ps_vanish_limit *out, char *why, size_t whylen);

/* The largest number of payments a run may mark vanished out of `stored`: for a percentage
 * floor(stored * pct / 100) in integer arithmetic; UINT64_MAX when unlimited. */
uint64_t ps_vanish_limit_of(const ps_vanish_limit *l, uint64_t stored);

/* Text of l as a user writes it (`10%`, `2.5%`, `500`, `unlimited`) into buf (>= 32 bytes). */
const char *ps_vanish_limit_text(const ps_vanish_limit *l, char *buf, size_t len);

#endif
