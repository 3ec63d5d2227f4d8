/* paysync core: YAML configuration (docs/configuration.md). */
#ifndef PS_CONFIG_H
#define PS_CONFIG_H

#include <stddef.h>

#include "config/kv.h"
#include "config/vanish_limit.h"
#include "paysync/model.h"
#include "paysync/status.h"
#include "util/suggest.h"

/* `{plugin: NAME, other: options...}`: everything but `plugin` is a plugin option. */
typedef struct ps_plugin_ref {
    char *plugin;
    ps_kv *opts;
    size_t nopts;
    int line, col;
} ps_plugin_ref;

typedef struct ps_sink_def {
    char *name; /* key under `sinks:` */
    ps_plugin_ref ref;
} ps_sink_def;

/* mapping.filters: keep a row only when every filter holds (docs/configuration.md). */
typedef enum ps_filter_op {
    PS_FILTER_EQUALS = 0,
    PS_FILTER_NOT_EQUALS,
    PS_FILTER_IN,
    PS_FILTER_NOT_IN,
    PS_FILTER_MATCHES,
    PS_FILTER_NOT_MATCHES
} ps_filter_op;

typedef struct ps_filter_def {
    char *column; /* source header (or record key) the filter reads, or NULL */
    int field;    /* model field it reads, or -1 (exactly one of column/field) */
    ps_filter_op op;
    char **values; /* equals/not_equals: 1 value; in/not_in: the list; matches: pattern */
    size_t nvalues;
    int case_insensitive;
    int line, col;           /* the filter's mapping */
    int what_line, what_col; /* its `column:` or `field:` value */
} ps_filter_def;

/* mapping.extract: fields filled from one column by a regular expression. */
typedef struct ps_extract_def {
    char *column;
    char *pattern; /* checked: compiles, its groups name fields (or `fields` is set) */
    int *fields;   /* `fields:` list: group i+1 -> fields[i]; NULL: named groups */
    size_t nfields;
    int case_insensitive;
    int line, col;
    int column_line, column_col;
} ps_extract_def;

typedef struct ps_dataset_def {
    char *name;
    char *type; /* electricity_payments */
    ps_target_level target_level;
    char *target_id;
    ps_profile profile;
    ps_plugin_ref source;
    /* mapping */
    ps_kv *columns; /* source header -> FIELD name */
    size_t ncolumns;
    ps_kv *defaults; /* FIELD name -> value */
    size_t ndefaults;
    char **ts_formats; /* mapping.timestamp.formats */
    size_t n_ts_formats;
    char *utc_offset;      /* mapping.timestamp.utc_offset, e.g. "+01:00" */
    char *time_zone;       /* mapping.timestamp.time_zone, e.g. "Africa/Lagos" */
    ps_kv *txtype_aliases; /* mapping.transaction_types: {PAY: FULL_PAYMENT} */
    size_t ntxtype_aliases;
    char *phone_country_code; /* mapping.phone_country_code: "234" */
    char *country;            /* mapping.country: "NG" (upper case) */
    ps_filter_def *filters;   /* mapping.filters */
    size_t nfilters;
    ps_extract_def *extracts; /* mapping.extract */
    size_t nextracts;
    char **sinks;             /* names of sinks */
    size_t nsinks;
    /* `verify_meters`: the meter list, read through a provider (meters.plugin NULL = none);
     * a single value P is {plugin: csvfile, path: P}, and `plugin` defaults to csvfile. */
    ps_plugin_ref meters;
    char *meters_column; /* header (or record key path) of the meter IDs; NULL = the default
                          * (external_id, or /METER_ID for a record-shaped provider) */
    char *rejects;       /* rejects JSONL path (resolved), or NULL = none */
    char *warnings;      /* warnings JSONL path (resolved), or NULL = none */
    /* `schedule:` flattened to key/values (docs/configuration.md "schedule"):
     *   a single value S                  -> {kind: S}          e.g. daily, hourly, "0 2 * * *"
     *   a mapping                         -> kind = its FIRST key, then every entry K: V with
     *                                        a single value as {K: V}, and every entry of a
     *                                        nested mapping K: {a: x, b: y} as {a: x}, {b: y}.
     *   {every: 6h}                          -> {kind: every}, {every: 6h}
     *   {daily: {at: "02:00", jitter: 10m}}  -> {kind: daily}, {at: "02:00"}, {jitter: 10m}
     *   {hourly: }                           -> {kind: hourly}
     * Keys never repeat and none but the first is named `kind`; values are NOT checked here
     * (see schedule.h). NULL/0 when the dataset has no schedule. */
    ps_kv *schedule;
    size_t nschedule;
    /* `max_vanished`: how many stored payments one run may mark vanished (default 10 %). */
    ps_vanish_limit max_vanished;
    int line, col;
} ps_dataset_def;

typedef struct ps_serve_key {
    char *name;
    char *key_sha256; /* 64 lower-case hex digits */
    char **datasets;  /* names or "*" */
    size_t ndatasets;
} ps_serve_key;

typedef struct ps_serve_def {
    int present;
    char *listen; /* "127.0.0.1:8080" */
    char *store;  /* name of the sqlite sink */
    ps_serve_key *keys;
    size_t nkeys;
    ps_kv *limits; /* other scalar settings (max_connections, timeout, ...) */
    size_t nlimits;
} ps_serve_def;

typedef struct ps_config {
    char *path;         /* as given */
    char *dir;          /* folder holding the file: relative paths are resolved here */
    char **plugin_path; /* resolved directories */
    size_t nplugin_path;
    ps_sink_def *sinks;
    size_t nsinks;
    ps_dataset_def *datasets;
    size_t ndatasets;
    ps_serve_def serve;
    int has_secrets_world_readable; /* file readable by others and holds ${VAR}/secret-looking
                                       values */
} ps_config;

/* ${VAR} in any scalar VALUE (never in keys) is replaced by the environment variable VAR
 * ([A-Za-z_][A-Za-z0-9_]*); an unset variable is an error naming it and the location; `$${`
 * writes a literal `${`. Files over PS_YAML_MAX_BYTES (1 MiB), aliases, nesting deeper than 32
 * and duplicate keys are refused.
 *
 * Loads and checks a config file. Errors (PS_ERR_CONFIG) name file:line:column and the key,
 * and suggest the closest valid key for a typo. Caller frees with ps_config_free. */
ps_status ps_config_load(const char *path, ps_config **out, ps_error *err);

/* Same from memory; `name` stands for the file in messages, `dir` resolves relative paths. */
ps_status ps_config_load_string(const char *yaml, size_t len, const char *name, const char *dir,
                                ps_config **out, ps_error *err);

void ps_config_free(ps_config *c);

/* Finds a sink or dataset by name; NULL when absent. */
const ps_sink_def *ps_config_sink(const ps_config *c, const char *name);
const ps_dataset_def *ps_config_dataset(const ps_config *c, const char *name);

/* Checks the schedule of every dataset of cfg with ps_schedule_parse (file = cfg->path,
 * path = "datasets[NAME].schedule"). Returns the first error (PS_ERR_CONFIG). */
ps_status ps_config_check_schedules(const ps_config *cfg, ps_error *err);

/* "equals", "in", ... of a filter operator. */
const char *ps_filter_op_name(ps_filter_op op);

/* Resolves path against dir unless absolute or "-"; malloc'd. */
char *ps_path_resolve(const char *dir, const char *path);

#endif
