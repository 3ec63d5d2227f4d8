/* paysync store: the PostgreSQL backend of the store interface (store.h). Its writer is the
 * built-in sink `postgres` (pg_writer.c), its reader pg_reader.c, both on libpq through the
 * connection helpers below (pg_conn.c); the schema and its migrations are in pg_schema.h.
 * The location of a postgres store is its libpq connection string (the sink's `conninfo`
 * option; empty: libpq's PG* environment and ~/.pgpass alone). Messages show it without its
 * password (ps_pg_shown). Private to core/src/store (and its tests). */
#ifndef PS_PG_STORE_H
#define PS_PG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "paysync/plugin.h"
#include "store/store_kind.h" /* PS_POSTGRES_PLUGIN */

typedef struct ps_store_backend ps_store_backend;
typedef struct ps_kv ps_kv;

/* The sink's location option, and its lease timeout option (docs/scaling.md). */
#define PS_PG_CONNINFO_OPTION "conninfo"
#define PS_PG_LEASE_OPTION "lease_timeout"

/* The backend table (static storage). */
extern const ps_store_backend ps_store_postgres;

/* The writer: the descriptor of the built-in sink `postgres` (static storage). */
const ps_plugin_descriptor *ps_store_pg_sink(void);

/* The writer's hooks of ps_store_backend (store.h: ps_store_previous_columns,
 * ps_store_record_columns, ps_store_set_window, ps_store_pending_vanish). */
ps_status ps_store_pg_previous_columns(void *writer, char ***prev, size_t *n, ps_error *err);
ps_status ps_store_pg_record_columns(void *writer, const char *const *cols, size_t ncols,
                                     const char *const *missing, size_t nmissing, ps_error *err);
void ps_store_pg_set_window(void *writer, int64_t from_ms, int64_t to_ms);
ps_status ps_store_pg_pending_vanish(void *writer, uint64_t *stored, uint64_t *vanishing,
                                     ps_error *err);

/* The leases (pg_lease.c): the ps_store_backend members of the same names (store.h,
 * "leases"). */
typedef struct ps_store_coord ps_store_coord;
typedef struct ps_store_take_result ps_store_take_result;
ps_status ps_store_pg_coord_open(const char *location, const ps_kv *opts, size_t nopts,
                                 const char *worker, ps_store_coord **out, ps_error *err);
void ps_store_pg_coord_close(ps_store_coord *c);
ps_status ps_store_pg_lease_take(ps_store_coord *c, const char *dataset, ps_store_take_result *out,
                                 ps_error *err);
ps_status ps_store_pg_lease_beat(ps_store_coord *c, ps_error *err);
void ps_store_pg_lease_release(ps_store_coord *c, const char *dataset);
int64_t ps_store_pg_lease_timeout_ms(const ps_store_coord *c);

/* The location of a postgres sink configured with opts: its conninfo option (malloc'd, ""
 * when unset; NULL when out of memory). config_dir is not used. */
char *ps_store_pg_locate(const ps_kv *opts, size_t nopts, const char *config_dir);

/* The connection string without secrets, for messages: the host, port, database and user
 * it names (keyword=value form), "(PG* environment)" when it names none. malloc'd; NULL when
 * out of memory. A string libpq cannot parse shows as "(unparsable conninfo)". */
char *ps_pg_shown(const char *conninfo);

/* Connects to conninfo (libpq; PG* environment and ~/.pgpass apply), waiting at most
 * timeout_s seconds for the server (the connection string's connect_timeout wins), with
 * client encoding UTF8. PS_OK with *out; PS_ERR_IO with err "postgres store 'SHOWN': cannot
 * connect: REASON" (*out NULL). */
ps_status ps_pg_connect(const char *conninfo, const char *shown, int timeout_s, PGconn **out,
                        ps_error *err);

/* The server's message of a failed call on c (one line, trailing newline cut; "connection
 * lost" when the connection broke). Static storage of the caller: copied into buf. */
const char *ps_pg_message(PGconn *c, const PGresult *r, char *buf, size_t cap);

/* Runs sql (no parameters, no rows expected). 0 on success, -1 with the message in buf. */
int ps_pg_exec(PGconn *c, const char *sql, char *buf, size_t cap);

/* The store's schema version: 0 when the database has no paysync schema, -1 on error
 * (message in buf). */
int ps_pg_schema_version(PGconn *c, char *buf, size_t cap);

/* Brings the schema up to PS_PG_SCHEMA_VERSION under the migration advisory lock (two
 * workers starting together: one migrates, the other waits and finds it done). PS_ERR_SINK
 * naming shown: newer schema than this build, or a failed step (rolled back). *upgraded 1
 * when an existing older schema was upgraded. */
ps_status ps_pg_migrate(PGconn *c, const char *shown, int *upgraded, ps_error *err);

/* Parses a bigint column value (text); 0 for NULL or a negative value. */
uint64_t ps_pg_u64(const PGresult *r, int row, int col);
int64_t ps_pg_i64(const PGresult *r, int row, int col);

#endif
