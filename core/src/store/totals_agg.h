/* paysync store: the totals of payments per UTC day, currency and transaction type, summed
 * as rows stream past (a hash table of groups; no sort of the rows), for a backend's
 * ps_store_totals. Amounts are added exactly at scale 4 (PS_DECIMAL_MAX_SCALE) in 64 bits,
 * with overflow detected. Private to core/src/store. */
#ifndef PS_STORE_TOTALS_AGG_H
#define PS_STORE_TOTALS_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "paysync/decimal.h"

typedef struct ps_totals_agg ps_totals_agg;

/* An empty accumulator; NULL when out of memory. */
ps_totals_agg *ps_totals_agg_new(void);
void ps_totals_agg_free(ps_totals_agg *a);

/* Adds one payment: its timestamp (ms since the epoch), currency and type (cur_len / type_len
 * bytes, copied when new) and amount. Returns 0; -1 when out of memory; -2 when a sum leaves
 * 64 bits. */
int ps_totals_agg_add(ps_totals_agg *a, int64_t timestamp_ms, const char *cur, size_t cur_len,
                      const char *type, size_t type_len, ps_decimal amount);

/* Sorts the groups by day, currency, type (after the last add; out of memory, currencies and
 * types keep their order of first appearance). Returns the group count. */
size_t ps_totals_agg_finish(ps_totals_agg *a);

/* Group i of the sorted groups: its UTC day (days since 1970-01-01), currency and type
 * (owned by a), payment count and amount (at the largest scale among its payments). */
void ps_totals_agg_get(const ps_totals_agg *a, size_t i, int64_t *day, const char **cur,
                       const char **type, uint64_t *count, ps_decimal *amount);

#endif
