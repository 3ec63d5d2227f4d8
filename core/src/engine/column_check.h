/* paysync core: the column_missing check (docs/data-model.md): which mapped columns of the
 * previous successful run's header the source has lost. Pure; no allocation. */
#ifndef PS_ENGINE_COLUMN_CHECK_H
#define PS_ENGINE_COLUMN_CHECK_H

#include <stddef.h>

#include "engine/mapping.h"

/* The warning's machine code. */
#define PS_COLUMN_MISSING_CODE "column_missing"

/* The names of prev (the last successful run's header) that map to a field under spec
 * (ps_mapping_match) while no column of this run's map cur holds that field: the column is
 * gone, or renamed to a name that no longer maps. A field counts once (its first column in
 * prev). Writes pointers into prev to missing[] and each one's field to fields[] (both with
 * room for nprev entries) and returns how many. */
size_t ps_columns_missing(const ps_mapping_spec *spec, const char *const *prev, size_t nprev,
                          const ps_mapping *cur, const char **missing, int *fields);

#endif
