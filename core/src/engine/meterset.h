/* paysync core: the set of meter IDs of a dataset's meter list (`verify_meters`), with an
 * index of near misses (leading zeros, case, spaces, dashes). Pure data: no I/O. */
#ifndef PS_METERSET_H
#define PS_METERSET_H

#include <stddef.h>

/* Bounds of a meter list: IDs kept at most, and bytes of one ID. */
#define PS_METERSET_MAX 1000000
#define PS_METER_ID_MAX 256

typedef struct ps_meterset ps_meterset;

typedef enum ps_meterset_add_result {
    PS_METERSET_ADDED = 0,
    PS_METERSET_PRESENT = 1, /* already in the set: nothing added */
    PS_METERSET_FULL = 2,    /* PS_METERSET_MAX IDs already */
    PS_METERSET_TOO_LONG = 3,
    PS_METERSET_NOMEM = 4
} ps_meterset_add_result;

/* An empty set; NULL when out of memory. Free with ps_meterset_free. */
ps_meterset *ps_meterset_new(void);
void ps_meterset_free(ps_meterset *s); /* NULL ignored */

/* Adds id (len bytes, 1..PS_METER_ID_MAX, copied). */
ps_meterset_add_result ps_meterset_add(ps_meterset *s, const char *id, size_t len);

/* 1 when id is in the set (exact bytes). */
int ps_meterset_has(const ps_meterset *s, const char *id, size_t len);

/* A listed ID that id nearly matches: equal after upper-casing ASCII letters, dropping
 * spaces, tabs, '-', '_', '.' and '/', and the leading zeros of every run of digits (so
 * "mtr-042" nearly matches "MTR-0042"). The first such ID added; NULL when none. The result
 * is NUL-terminated and lives as long as the set; *len receives its length. */
const char *ps_meterset_near(const ps_meterset *s, const char *id, size_t len, size_t *out_len);

/* IDs in the set. */
size_t ps_meterset_count(const ps_meterset *s);

/* The near-miss key of id into out (cap bytes); returns its length, or (size_t)-1 when it
 * does not fit. Exposed for tests. */
size_t ps_meterset_key(const char *id, size_t len, char *out, size_t cap);

#endif
