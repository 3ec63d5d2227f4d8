/* paysync core: streaming RFC 4180 CSV reader (shared by csvfile and gsheet export). */
#ifndef PS_CSV_H
#define PS_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "paysync/plugin.h"
#include "paysync/status.h"
#include "util/arena.h"

/* Pull callback: fills buf with up to cap bytes; returns bytes read, 0 at EOF, -1 on error. */
typedef long (*ps_csv_read_fn)(void *ctx, char *buf, size_t cap);

/* Creates a reader. delimiter 0 means ','. Handles quoted fields with delimiters, doubled
 * quotes and newlines, CRLF or LF, and a leading UTF-8 BOM (dropped). Memory is bounded by
 * the longest record, not the input size. NULL on allocation failure. */
ps_csv_reader *ps_csv_new(ps_csv_read_fn read, void *ctx, char delimiter);

/* Limits (defaults: 64 MiB per field, 16384 columns). A record over a limit is PS_ERR_DATA. */
void ps_csv_set_limits(ps_csv_reader *r, size_t max_field_bytes, size_t max_columns);

/* Reads the next record into arena: *cells (array of *ncells), *line = physical line it
 * started on (1-based). Returns PS_OK, PS_END at end of input, PS_ERR_DATA for an
 * unterminated quote (message names the line it opened on) or a limit, PS_ERR_IO if read
 * failed. An empty line is a record of one empty cell. Errors are sticky: every later call
 * returns the same error. Text after a closing quote is kept ("ab"c -> abc) and a quote
 * inside an unquoted field is literal. ps_csv_new refuses '"', CR and LF as delimiter. */
ps_status ps_csv_next(ps_csv_reader *r, ps_arena *arena, ps_cell **cells, size_t *ncells,
                      uint64_t *line, ps_error *err);

/* What the record ps_csv_next returned last is known to hold, PS_ROWF_* bits (paysync/plugin.h):
 * PS_ROWF_NO_NUL when no cell holds a NUL byte, PS_ROWF_PLAIN (with NO_NUL) when no cell holds
 * a byte below 0x20, '"' or '\\', PS_ROWF_ASCII when no cell holds a byte above 0x7f. 0 says
 * nothing: records the fast path does not take (over 4,096 bytes, a line break or CR inside, text
 * after a closing quote) and any call that did not return PS_OK. A record with any bit set is at
 * most 4,096 bytes long, line end not counted (csvfile relies on it). NULL gives 0. */
unsigned ps_csv_record_flags(const ps_csv_reader *r);

/* Bytes of internal buffers currently held (input buffer + record scratch). For tests that
 * check memory stays bounded: scratch grows for a long record and shrinks back after it.
 * NULL gives 0. */
size_t ps_csv_scratch_capacity(const ps_csv_reader *r);

/* For tests: 1 when the fast path's delimiter bitmap of p[0..len) (SSE2 where available) equals
 * the portable 8-bytes-a-step form, delimiter count, CR detection, the count of special bytes
 * and the ASCII verdict included; 0 otherwise or when len exceeds the fast path's 4,096-byte
 * record limit. */
int ps_csv_bitmap_agrees(const char *p, size_t len, char delim);

/* Frees the reader (not the arena's data). NULL is ignored. */
void ps_csv_free(ps_csv_reader *r);

#endif
