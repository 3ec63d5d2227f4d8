/* paysync store: what the two store sinks share (store_options.h). */
#include "store/store_options.h"

#include <stdlib.h>
#include <string.h>

#include "store/sqlite_columns.h" /* ps_sqlite_names_json */

int ps_store_busy_ms(const ps_host *h, const ps_options *options)
{
    return h->opt_is_set(options, PS_STORE_BUSY_TIMEOUT_OPTION)
               ? (int)h->opt_int(options, PS_STORE_BUSY_TIMEOUT_OPTION)
               : 5000;
}

void ps_store_free_names(char **const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(*names[i]);
        *names[i] = NULL;
    }
}

ps_status ps_store_copy_names(const ps_sink_open_args *args, char **dataset, char **run_id,
                              char **target_id, ps_error *err)
{
    *dataset = strdup(args->dataset ? args->dataset : "");
    *run_id = strdup(args->run_id ? args->run_id : "");
    *target_id = args->target_id ? strdup(args->target_id) : NULL;
    if (!*dataset || !*run_id || (args->target_id && !*target_id))
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    return PS_OK;
}

ps_status ps_store_keep_columns(char **columns_json, char **missing_json, const char *const *cols,
                                size_t ncols, const char *const *missing, size_t nmissing,
                                ps_error *err)
{
    free(*columns_json);
    free(*missing_json);
    *columns_json = ps_sqlite_names_json(cols, ncols);
    *missing_json = nmissing ? ps_sqlite_names_json(missing, nmissing) : NULL;
    if (!*columns_json || (nmissing && !*missing_json))
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    return PS_OK;
}
