/* paysync core: maps a source's header to model fields (spec "Headers"). Shared by every
 * tabular provider through the pipeline and host->match_header. */
#ifndef PS_MAPPING_H
#define PS_MAPPING_H

#include <stddef.h>

#include "paysync/model.h"
#include "paysync/plugin.h"
#include "paysync/status.h"

/* The dataset's mapping configuration (borrowed strings). */
typedef struct ps_mapping_spec {
    const char *const *alias_header; /* source header as configured ("Amount (NGN)") */
    const int *alias_field;          /* field it maps to */
    size_t n_aliases;
    const char *const *defaults;     /* [PS_FIELD_COUNT] configured default or NULL; may be NULL */
    ps_profile profile;
    const unsigned char
        *provided; /* [PS_FIELD_COUNT]: 1 = filled by mapping.extract; may be NULL */
} ps_mapping_spec;

typedef struct ps_mapping {
    int field_col[PS_FIELD_COUNT]; /* column index holding the field, or -1 */
    int *col_field;                /* [ncols]: field of each column or -1 */
    size_t ncols;
    char **unknown;                /* headers of unmapped non-empty columns (malloc'd) */
    size_t nunknown;
} ps_mapping;

/* The field a header maps to: configured aliases first (compared after header
 * normalisation), then the canonical names. -1 when none. spec may be NULL. */
int ps_mapping_match(const ps_mapping_spec *spec, const char *name, size_t len);

/* The field a record key maps to (record-shaped providers): a configured alias that is a
 * path ("/customer/phone", compared exactly) first; then, for a top-level key ("/amount"),
 * the key name under the header rules of ps_mapping_match. -1 when none. */
int ps_mapping_match_path(const ps_mapping_spec *spec, const char *path, size_t len);

/* Record keys seen in a run and the field each maps to, remembered so that each distinct
 * path is matched once. Bounded: after PS_PATH_CACHE_MAX distinct paths, new ones are matched
 * on every use. Unmapped paths are kept (up to PS_PATH_UNKNOWN_MAX) for the report. */
#define PS_PATH_CACHE_MAX 1024
#define PS_PATH_UNKNOWN_MAX 64
typedef struct ps_path_map ps_path_map;

ps_path_map *ps_path_map_new(const ps_mapping_spec *spec); /* NULL when out of memory */
void ps_path_map_free(ps_path_map *m);
/* The field of path (see ps_mapping_match_path), or -1. */
int ps_path_map_field(ps_path_map *m, const char *path, size_t len);
/* Hands over the unmapped paths seen (malloc'd strings; caller frees) and forgets them. */
char **ps_path_map_take_unknown(ps_path_map *m, size_t *n);

/* Builds the column map. Errors (PS_ERR_DATA): two columns on one field (names both columns
 * and their letters), or a required field with no column and no default (names the field and
 * lists the headers seen). On error *out is left empty. Free with ps_mapping_free. */
ps_status ps_mapping_build(const ps_mapping_spec *spec, const ps_cell *header, size_t ncols,
                           ps_mapping *out, ps_error *err);
void ps_mapping_free(ps_mapping *m);

/* Spreadsheet column letters for a 0-based index ("A", "AA"); buf >= 8 bytes. */
const char *ps_column_letters(size_t index, char *buf);

#endif
