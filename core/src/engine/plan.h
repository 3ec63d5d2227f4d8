/* paysync core: turns a config into plugin instances ready to run (internal to pipeline). */
#ifndef PS_PLAN_H
#define PS_PLAN_H

#include "config/config.h"
#include "engine/mapping.h"
#include "engine/rowfilter.h"
#include "model/timestamp.h"
#include "model/validate.h"
#include "plugin/host.h"
#include "plugin/loader.h"

typedef struct ps_sink_inst {
    const ps_sink_def *def;
    const ps_plugin *plugin;
    ps_options *opts;
    void *inst;
    ps_env env;
    ps_plugin_ctx ctx;
    char label[160];
    int used;   /* a selected dataset writes to it */
    int failed; /* a dataset writing to it failed this run */
} ps_sink_inst;

typedef struct ps_ds_plan {
    const ps_dataset_def *def;
    const ps_plugin *plugin;
    ps_options *opts;
    void *inst;
    ps_env env;
    ps_plugin_ctx ctx;
    char label[160];
    ps_mapping_spec mspec;
    const char **alias_header;
    int *alias_field;
    const char *defaults[PS_FIELD_COUNT];
    const char **tx_from, **tx_to;
    ps_tz *zone;      /* configured utc_offset/time_zone, NULL = UTC */
    int zone_is_iana; /* time_zone (not a fixed offset) was configured */
    /* verify_meters: the meter list's provider instance (minst NULL = none) */
    const ps_plugin *mplugin;
    ps_options *mopts;
    void *minst;
    ps_env menv;
    ps_plugin_ctx mctx;
    char mlabel[180];
    ps_mapping_spec mmspec; /* the list's column is an alias of METER_ID (header scans) */
    const char *mcolumn[1];
    int mfield[1];
    ps_rowfilter *rowfilter;                 /* mapping.filters / extract, NULL when none */
    unsigned char extracted[PS_FIELD_COUNT]; /* fields mapping.extract fills */
    ps_sink_inst **sinks;
    size_t nsinks;
    ps_sink_inst *state_sink; /* first sink keeping run state, or NULL */
} ps_ds_plan;

typedef struct ps_plan {
    const ps_config *cfg;
    ps_sink_inst *sinks;
    size_t nsinks;
    ps_ds_plan *ds;
    size_t nds;
} ps_plan;

/* Resolves plugins, validates options, creates instances for the selected datasets (all when
 * nonly == 0) and the sinks they use (none when no_sinks). Errors: PS_ERR_CONFIG/PLUGIN with
 * the message naming the dataset or sink. Free with ps_plan_free (destroys instances). */
ps_status ps_plan_build(const ps_config *cfg, ps_registry *reg, char *const *only, size_t nonly,
                        int no_sinks, ps_plan *out, ps_error *err);
void ps_plan_free(ps_plan *p);

/* Validator config for a dataset; serial_zone: the provider's zone (or NULL). */
void ps_plan_validate_config(const ps_ds_plan *d, const ps_tz *serial_zone,
                             ps_validate_config *out);

#endif
