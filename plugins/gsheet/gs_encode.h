/* gsheet: URL and A1-range encoding, spreadsheet-ID extraction. */
#ifndef PS_GS_ENCODE_H
#define PS_GS_ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* Percent-encodes every byte of s except RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~).
 * Returns a malloc'd string (caller frees), NULL when out of memory. */
char *ps_gs_pct_encode(const char *s);

/* Writes the column letters of 1-based column col (1 -> "A", 27 -> "AA") into out (>= 8
 * bytes). col 0 is treated as 1. */
void ps_gs_col_letters(uint32_t col, char out[8]);

/* Builds the quoted A1 range 'Title'!A<r1>:<col><r2> with apostrophes in the title doubled.
 * Returns a malloc'd string (caller frees), NULL when out of memory. */
char *ps_gs_a1_range(const char *title, uint64_t r1, uint32_t last_col, uint64_t r2);

/* Splits an A1 range as Google writes it in a ValueRange (`'My Tab'!A1:Z5`, `Sheet1!A1:D4`,
 * `'Jon''s data'!A7`) into the tab title (quotes removed, '' read as ') and the start cell
 * ("A1"). Returns 0, or -1 when range is not of that form or a part does not fit
 * (title_cap, cap bytes with the NUL). */
int ps_gs_a1_split(const char *range, char *title, size_t title_cap, char *start, size_t cap);

/* Extracts the spreadsheet ID from a bare ID or a sheet URL
 * (https://docs.google.com/spreadsheets/d/ID/edit#gid=N). Writes the ID into id (cap bytes)
 * and the URL's gid into *gid (-1 when the input names none).
 * Returns 0 on success, -1 when no ID is found or the ID has characters other than
 * [A-Za-z0-9_-], -2 for a "published to the web" URL (/d/e/...) whose ID the API rejects. */
int ps_gs_parse_sheet_ref(const char *in, char *id, size_t cap, int64_t *gid);

#endif
