/* gsheet: strict single-pass reader for Sheets values (ValueRange) JSON, without a tree.
 *
 * ps_gs_vjson_index validates a whole response body as JSON (RFC 8259, UTF-8, at most
 * PS_GS_VJSON_MAX_DEPTH levels, an object at the top; a \u0000 is valid and decodes to a NUL
 * byte inside the cell, counted in its len, which the core rejects row by row as bad_text) and records where each row of its
 * `values` array starts. ps_gs_vjson_cell then decodes one cell at such a position straight
 * into an arena. The body is never modified or copied. */
#ifndef PS_GS_VJSON_H
#define PS_GS_VJSON_H

#include <stddef.h>
#include <stdint.h>

#include "paysync/plugin.h"

#define PS_GS_VJSON_MAX_DEPTH 512
/* ncells of a `values` element that is not a list */
#define PS_GS_ROW_NOT_LIST UINT32_MAX

/* One element of `values`: the offset of its first byte in the body, and its number of
 * elements (PS_GS_ROW_NOT_LIST when it is not an array). */
typedef struct ps_gs_vrow {
    size_t off;
    uint32_t ncells;
} ps_gs_vrow;

typedef enum ps_gs_vjson_result {
    PS_GS_VJSON_OK = 0,
    PS_GS_VJSON_SYNTAX,   /* not valid JSON (or not an object): why and *at say what/where */
    PS_GS_VJSON_NOT_ROWS, /* valid JSON, but `values` is not an array */
    PS_GS_VJSON_NOMEM
} ps_gs_vjson_result;

/* Validates s[0..len) and indexes the elements of the top-level `values` array (the last one
 * when the key repeats). *rows (malloc'd, caller frees; NULL when there are none) and *nrows
 * are set on PS_GS_VJSON_OK only; *has_values says whether the key was present; *range_at is
 * the offset of the top-level `range` value when it is a string (decode it with
 * ps_gs_vjson_cell), else SIZE_MAX. On
 * PS_GS_VJSON_SYNTAX, why (a short reason such as "unexpected end of input") and *at (byte
 * offset) are set. */
ps_gs_vjson_result ps_gs_vjson_index(const char *s, size_t len, ps_gs_vrow **rows, size_t *nrows,
                                     int *has_values, size_t *range_at, char *why, size_t whysize,
                                     size_t *at);

enum {
    PS_GS_CELL_OK = 0,
    PS_GS_CELL_NOMEM = -1,
    PS_GS_CELL_NOT_SCALAR = -2, /* an array or object */
    PS_GS_CELL_HUGE = -3,       /* a number whose plain decimal form is too long to write */
    PS_GS_CELL_BAD = -4         /* not a JSON value at *pos (input not validated) */
};

/* Decodes the JSON value at s[*pos] (s validated by ps_gs_vjson_index) into *out, text in
 * arena and NUL-terminated: strings unescaped (PS_CELL_TEXT), numbers as plain decimal text
 * (PS_CELL_NUMBER, see ps_gs_number_plain), true/false as "TRUE"/"FALSE" (PS_CELL_BOOL), null
 * as "" (PS_CELL_TEXT). On success *pos is just past the value. Returns a PS_GS_CELL_ code. */
int ps_gs_vjson_cell(const ps_host *host, ps_arena *arena, const char *s, size_t len, size_t *pos,
                     ps_cell *out);

/* Decodes the JSON string at s[pos] (s validated by ps_gs_vjson_index) into out (cap bytes,
 * NUL-terminated); returns its length, or SIZE_MAX when s[pos] is not a string or its escaped
 * form does not fit in cap - 1 bytes. */
size_t ps_gs_vjson_string(const char *s, size_t len, size_t pos, char *out, size_t cap);

/* Index of the first byte at or after pos that is not JSON whitespace (len when none). */
size_t ps_gs_vjson_skip_ws(const char *s, size_t len, size_t pos);

#endif
