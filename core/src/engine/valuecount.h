/* paysync core: distinct values of one column with their counts, bounded (the STATUS values
 * the run summary and discover show, so that a `failed` cannot hide among accepted rows). */
#ifndef PS_VALUECOUNT_H
#define PS_VALUECOUNT_H

#include <stddef.h>
#include <stdint.h>

#define PS_VALUES_TRACKED 64 /* distinct values counted exactly */
#define PS_VALUE_TEXT_MAX 64 /* bytes kept of a value (cut at a character, "..." added) */
#define PS_VALUES_SHOWN 20   /* values a summary lists; the rest are "N more" */

typedef struct ps_value_count {
    char text[PS_VALUE_TEXT_MAX + 4]; /* "" for an empty cell; zero bytes after it */
    uint64_t count;
    uint64_t head; /* text's first 8 bytes as a little-endian word (the search's first test) */
    size_t len;    /* strlen(text) */
} ps_value_count;

typedef struct ps_value_counts {
    int active; /* a column was counted */
    ps_value_count v[PS_VALUES_TRACKED];
    size_t n;
    uint64_t other_rows; /* rows whose value came after PS_VALUES_TRACKED distinct ones */
    size_t last;         /* the entry counted last (checked first; consecutive rows repeat) */
} ps_value_counts;

/* Counts one value (trimmed of whitespace first, model/space.h). */
void ps_value_counts_add(ps_value_counts *vc, const char *s, size_t len);

/* Sorts by count (highest first), then by text. */
void ps_value_counts_sort(ps_value_counts *vc);

/* "success 10, failed 3, (empty) 1, and 4 more values (7 rows)": the first `show` values of a
 * sorted table; control characters shown as '?'. */
void ps_value_counts_format(const ps_value_counts *vc, size_t show, char *buf, size_t cap);

#endif
