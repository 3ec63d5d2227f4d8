/* paysync core: the host's guards on what providers return (protocol errors fail the
 * dataset with a message naming the plugin; never a hang or a crash). */
#ifndef PS_ENGINE_PROTOCOL_H
#define PS_ENGINE_PROTOCOL_H

#include "paysync/plugin.h"

/* Checks what open filled in: header == NULL with ncolumns > 0, or a header cell whose text
 * is NULL or whose len disagrees with its text. PS_OK or PS_ERR_SOURCE with a message
 * "protocol error: provider 'NAME' ..." naming the column. */
ps_status ps_protocol_check_header(const char *plugin, const ps_table_info *info, ps_error *err);

/* Checks a batch next_batch returned with PS_OK: count 0 (a provider must return PS_END
 * instead), rows == NULL with count > 0, a row with cells == NULL and ncells > 0, a cell whose
 * text is NULL or whose len disagrees with its text (no NUL at text[len]).
 * PS_OK or PS_ERR_SOURCE with a message naming the plugin and the row. */
ps_status ps_protocol_check_batch(const char *plugin, const ps_row_batch *rb, ps_error *err);

/* The same for a record-shaped provider's batch: count 0, records NULL, a record with values
 * NULL, a value whose path is NULL, does not start with '/' or disagrees with path_len, whose
 * text is NULL or disagrees with len, whose type is unknown, or whose text does not fit its
 * type (DECIMAL -?[0-9]+(.[0-9]+)?, INT -?[0-9]+, BOOL true/false, NULL empty). */
ps_status ps_protocol_check_records(const char *plugin, const ps_row_batch *rb, ps_error *err);

#endif
