/* paysync core: onboarding help for a source whose mapping is not complete yet (discover and
 * validate): the required fields nothing fills, the unmapped columns that look like each of
 * them (model/field_hint.h), and a ready-to-paste `mapping:` block. */
#ifndef PS_ONBOARD_H
#define PS_ONBOARD_H

#include <stddef.h>
#include <stdio.h>

#include "config/config.h"
#include "paysync/plugin.h"

#define PS_ONBOARD_HINTS 3 /* suggestions shown per field */

typedef struct ps_onboard {
    int missing[PS_FIELD_COUNT]; /* required fields with no column, default or extract rule */
    size_t nmissing;
    int cand[PS_FIELD_COUNT][PS_ONBOARD_HINTS]; /* per field: unmapped columns, best first */
    size_t ncand[PS_FIELD_COUNT];
    int pick[PS_FIELD_COUNT]; /* the column the mapping block maps to the field, or -1 */
} ps_onboard;

/* Fills out for the dataset def and the source's header (ncols cells): col_field[c] is the
 * field column c maps to or -1 (NULL: the mapping could not be built, every column counts as
 * unmapped); extracted (may be NULL) marks fields mapping.extract fills. Each column is
 * picked for one field at most, the strongest suggestions first. */
void ps_onboard_build(const ps_dataset_def *def, const ps_cell *header, size_t ncols,
                      const int *col_field, const unsigned char *extracted, ps_onboard *out);

/* "missing required fields (N):" then one line per field with its suggestions
 * ("  PAYMENT_AMOUNT      'Amount' (column C)?") or what to do when there is none. Nothing
 * when no field is missing. */
void ps_onboard_print_missing(FILE *out, const ps_onboard *ob, const ps_cell *header);

/* A `mapping:` block to replace the dataset's, each line indented by indent spaces (the
 * dataset's own keys' column in the config): its mapping.columns entries, then one entry per
 * picked column (a header that is empty or not unique is named by its letters, "@C"), then
 * its mapping.defaults, and a commented default line for each missing field without a pick.
 * The dataset's other mapping keys (timestamp, filters, ...) are named in a comment: they are
 * to be kept. YAML double-quoted strings, indented by two spaces under `mapping:`. */
void ps_onboard_print_mapping(FILE *out, const ps_dataset_def *def, const ps_cell *header,
                              size_t ncols, const ps_onboard *ob, int indent);

#endif
