/* paysync core: reads a dataset's meter list (`verify_meters`) through a provider instance
 * into a meter set, once per dataset run. */
#ifndef PS_METERLIST_H
#define PS_METERLIST_H

#include "engine/meterset.h"
#include "paysync/plugin.h"
#include "paysync/status.h"

/* Reads every row (or record) of the opened-to-be provider `inst` of plugin `desc` and adds
 * the value of `column` to a new set: for a tabular provider the column whose header equals
 * `column` after header normalisation (case, spaces, '-' and '_' alike); for a record-shaped
 * one the key path `column` ("/reference"; a name without '/' means the top-level key).
 * column NULL means "external_id" (tabular) or "/METER_ID" (record-shaped: a connector that
 * maps its meter list's serials to METER_ID).
 * Empty values are skipped. `what` names the list in messages ("the meter list
 * (csvfile)"). Errors (PS_ERR_DATA unless the provider's own): the provider failing, no such
 * column (the columns found are listed), a value longer than PS_METER_ID_MAX bytes, more than
 * PS_METERSET_MAX IDs, an empty list. *out is NULL on error. The provider is closed. */
ps_status ps_meterlist_load(const ps_plugin_descriptor *desc, void *inst, const char *column,
                            const char *what, const char *dataset, ps_meterset **out,
                            ps_error *err);

#endif
