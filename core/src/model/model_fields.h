/* paysync core: field names, header matching and required-ness (spec "Fields"). */
#ifndef PS_MODEL_FIELDS_H
#define PS_MODEL_FIELDS_H

#include <stddef.h>

#include "paysync/model.h"

/* Canonical name ("PAYMENT_AMOUNT"); NULL when f is out of range. Static storage. */
const char *ps_field_name(int f);

/* The field whose canonical name equals `name` after header normalisation (trim, case-fold,
 * spaces/hyphens/underscores equivalent); -1 when none. */
int ps_field_lookup(const char *name, size_t len);

/* Writes the normalised form of a header (trimmed, upper case, runs of ' ', '-', '_' -> '_')
 * into out (cap bytes, NUL-terminated, truncated). Returns the length written. */
size_t ps_header_normalise(const char *name, size_t len, char *out, size_t cap);

/* Largest column of a sheet (ZZZ = 18278 columns). */
#define PS_COLUMN_MAX 18278

/* A mapping.columns key that names a column by its place instead of its header: "@" then
 * column letters ("@D", "@aa": case-insensitive) or a 1-based position ("@4"). Returns 1 and
 * sets *index (0-based) for such a reference, 0 for a header name (a key not starting with
 * "@", or "@@..." which stands for a header beginning with "@"), -1 for a malformed or out of
 * range reference ("@", "@4D", "@0", beyond ZZZ / 18278). */
int ps_column_ref(const char *key, size_t *index);

/* 1 when the field is required under the profile (spec "Req"/"strict" columns). */
int ps_field_required(int f, ps_profile profile);

#endif
