/* paysync store: what the two store sinks (sqlite_writer.c, pg_writer.c) share besides the
 * schema: the busy_timeout_ms option, the layout of their operation and descriptor tables,
 * the names of the open dataset and the header kept for its run. Private to core/src/store. */
#ifndef PS_STORE_OPTIONS_H
#define PS_STORE_OPTIONS_H

#include <stddef.h>

#include "paysync/plugin.h"

/* The busy_timeout_ms option (0..1h, default 5s), DESC saying what is waited for. */
#define PS_STORE_BUSY_TIMEOUT_OPTION "busy_timeout_ms"
#define PS_STORE_BUSY_TIMEOUT_SPEC(DESC)                                                           \
    {                                                                                              \
        .name = PS_STORE_BUSY_TIMEOUT_OPTION, .type = PS_OPT_DURATION, .default_value = "5s",      \
        .description = DESC, .flags = PS_OPTF_RANGE | PS_OPTF_PLAIN_MS, .min = 0, .max = 3600000   \
    }

/* The operation table of a store sink whose functions are named P_open, P_write_batch,
 * P_commit, P_abort, P_finish, P_load_cursor and P_record_failure. */
#define PS_STORE_SINK_OPS(P)                                                                       \
    {                                                                                              \
        .struct_size = sizeof(ps_sink_ops), .open = P##_open, .write_batch = P##_write_batch,      \
        .commit = P##_commit, .abort = P##_abort, .finish = P##_finish,                            \
        .load_cursor = P##_load_cursor, .record_failure = P##_record_failure                       \
    }

/* The descriptor of a store sink (keeps state, version 1.0.0) named NAME, with its option
 * table OPTIONS, its functions P_create and P_destroy and its operation table P_ops. */
#define PS_STORE_SINK_DESCRIPTOR(NAME, DESC, OPTIONS, P)                                           \
    {                                                                                              \
        .struct_size = sizeof(ps_plugin_descriptor), .abi_major = PS_ABI_MAJOR,                    \
        .abi_minor = PS_ABI_MINOR, .name = NAME, .version = "1.0.0", .description = DESC,          \
        .kind = PS_PLUGIN_SINK, .flags = PS_SINK_KEEPS_STATE, .options = OPTIONS,                  \
        .option_spec_size = sizeof(ps_option_spec), .create = P##_create, .check = NULL,           \
        .destroy = P##_destroy, .provider = NULL, .sink = &P##_ops                                 \
    }

/* busy_timeout_ms in milliseconds: the configured value (checked by the core against the
 * spec's range) or 5000. */
int ps_store_busy_ms(const ps_host *h, const ps_options *options);

/* Frees the strings *names[0..n-1] and sets each to NULL (a store sink's names of the
 * dataset it had open). */
void ps_store_free_names(char **const *names, size_t n);

/* Copies the names of the dataset being opened into *dataset, *run_id ("" when NULL) and
 * *target_id (NULL when NULL), which must be NULL. PS_ERR_NOMEM in err. */
ps_status ps_store_copy_names(const ps_sink_open_args *args, char **dataset, char **run_id,
                              char **target_id, ps_error *err);

/* A store sink's record_columns (store.h: ps_store_record_columns): replaces *columns_json
 * and *missing_json with the header and the missing columns (NULL when nmissing is 0) as
 * JSON arrays, written with the run at commit. PS_ERR_NOMEM in err. */
ps_status ps_store_keep_columns(char **columns_json, char **missing_json, const char *const *cols,
                                size_t ncols, const char *const *missing, size_t nmissing,
                                ps_error *err);

#endif
