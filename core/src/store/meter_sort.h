/* paysync store: the meter index's keys of a first load, sorted in bounded memory.
 *
 * A first load writes its rows in ID order and fills the meter index (PS_STORE_T_METER)
 * after them, in the index's key order, so that every entry is an append (sqlite_writer.c:
 * fill_meter). The writer adds each row's key as it writes the row; the keys that fit in the
 * memory budget are one "run", sorted in memory; when the budget is full the run is sorted
 * and written to an unlinked temporary file in $TMPDIR (or /tmp) and a new run starts.
 * Reading merges the runs. The order is field by field: meter ID, timestamp, ID, valid_from;
 * the texts in SQLite's BINARY collation (bytes compared with memcmp, a prefix first), the
 * integers by value: the order of the index's primary key within one dataset.
 * Private to core/src/store (and its tests). */
#ifndef PS_STORE_METER_SORT_H
#define PS_STORE_METER_SORT_H

#include <stddef.h>
#include <stdint.h>

typedef struct ps_meter_sort ps_meter_sort;

/* One key. From ps_meter_sort_next, the bytes are the sorter's and valid until its next
 * call. */
typedef struct ps_meter_key {
    const char *meter;
    size_t meter_len;
    int64_t timestamp_ms;
    const char *id;
    size_t id_len;
    int64_t valid_from;
} ps_meter_key;

/* A sorter that holds about budget_bytes of keys in memory at most (a key costs 96 bytes
 * plus its two texts; one key is always held), spilling to a temporary file in tmpdir (NULL
 * or "": $TMPDIR, else /tmp). NULL when out of memory. Free with ps_meter_sort_free. */
ps_meter_sort *ps_meter_sort_new(size_t budget_bytes, const char *tmpdir);

/* Adds a key; its bytes are copied. 0, or -1 with errno set: ENOMEM, EINVAL (after
 * ps_meter_sort_finish, or a text over 4 GiB), or the error creating or writing the
 * temporary file. */
int ps_meter_sort_add(ps_meter_sort *m, const ps_meter_key *key);

/* Ends the adding: sorts the last run. 0, or -1 with errno set. */
int ps_meter_sort_finish(ps_meter_sort *m);

/* The next key in order into *key: 1, 0 after the last, -1 with errno set (a read error,
 * EIO for a spilled run cut short, or EINVAL before ps_meter_sort_finish). */
int ps_meter_sort_next(ps_meter_sort *m, ps_meter_key *key);

/* Keys added so far. */
uint64_t ps_meter_sort_count(const ps_meter_sort *m);

/* Runs written to the temporary file so far (0 while every key fits in memory). */
size_t ps_meter_sort_spilled_runs(const ps_meter_sort *m);

/* The folder of the temporary file (for messages). */
const char *ps_meter_sort_tmpdir(const ps_meter_sort *m);

/* Frees the sorter and closes its temporary file (never named on disk). NULL-safe. */
void ps_meter_sort_free(ps_meter_sort *m);

#endif
