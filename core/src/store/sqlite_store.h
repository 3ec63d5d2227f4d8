/* paysync store: the SQLite backend of the store interface (store.h). Its writer is the
 * built-in sink `sqlite` (sqlite_writer.c), its reader store.c; the schema of its database
 * and the migrations are in store_schema.h. Private to core/src/store (and its tests). */
#ifndef PS_SQLITE_STORE_H
#define PS_SQLITE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "paysync/plugin.h"
#include "store/store_kind.h" /* PS_SQLITE_PLUGIN */

/* From store.h and config/config.h (not included: store.h's implementation, store.c, is
 * this backend's reader). */
typedef struct ps_store_backend ps_store_backend;
typedef struct ps_kv ps_kv;

/* The sink's location option and that option's default (its name, PS_SQLITE_PLUGIN, is in
 * store_kind.h). */
#define PS_SQLITE_PATH_OPTION "path"
#define PS_SQLITE_DEFAULT_PATH "var/paysync.db"

/* The backend table (static storage). */
extern const ps_store_backend ps_store_sqlite;

/* The writer: the descriptor of the built-in sink `sqlite` (static storage). */
const ps_plugin_descriptor *ps_store_sqlite_sink(void);

/* The writer's ps_store_backend.previous_columns / record_columns (store.h:
 * ps_store_previous_columns, ps_store_record_columns). */
ps_status ps_store_sqlite_previous_columns(void *writer, char ***prev, size_t *n, ps_error *err);
ps_status ps_store_sqlite_record_columns(void *writer, const char *const *cols, size_t ncols,
                                         const char *const *missing, size_t nmissing,
                                         ps_error *err);

/* The writer's ps_store_backend.set_window (store.h: ps_store_set_window). */
void ps_store_sqlite_set_window(void *writer, int64_t from_ms, int64_t to_ms);

/* The writer's ps_store_backend.pending_vanish (store.h: ps_store_pending_vanish). */
ps_status ps_store_sqlite_pending_vanish(void *writer, uint64_t *stored, uint64_t *vanishing,
                                         ps_error *err);

/* The database file of a sqlite sink configured with opts: its `path` option (default
 * var/paysync.db) resolved against config_dir. malloc'd; NULL when out of memory. */
char *ps_store_sqlite_locate(const ps_kv *opts, size_t nopts, const char *config_dir);

#endif
