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

/* 1 when the field is required under the profile (spec "Req"/"strict" columns). */
int ps_field_required(int f, ps_profile profile);

#endif
