/* paysync store: the PostgreSQL backend's schema, shared by its writer (pg_writer.c) and
 * reader (pg_reader.c): the same tables and meanings as the SQLite store's (store_schema.h),
 * with PostgreSQL types (bigint counts and milliseconds, text fields, the exact amount also as
 * numeric). The schema version is the one row of paysync_schema; migrations run under an
 * advisory lock (pg_conn.c). Private to core/src/store. */
#ifndef PS_PG_SCHEMA_H
#define PS_PG_SCHEMA_H

/* The schema version this build writes and reads. */
#define PS_PG_SCHEMA_VERSION 2

/* The advisory-lock namespace of paysync (first key of the two-key form): key 2 = 0 is the
 * migration lock, key 2 = hashtext(dataset) a dataset's writer lock (held by the run writing
 * it, from its start marker to its outcome: readers tell a run in progress by it). */
#define PS_PG_LOCK_NS 1886584833 /* "psy\x01" */
#define PS_PG_LOCK_NS_TEXT "1886584833"

/* SQL taking the schema from version i to i + 1; NULL past the end. Never edit a released
 * step: append one and raise PS_PG_SCHEMA_VERSION. */
static inline const char *ps_pg_migration(int from_version)
{
    static const char *const steps[PS_PG_SCHEMA_VERSION] = {
        /* 0 -> 1: the first schema (SQLite's version 6 in one step). */
        "CREATE TABLE payments ("
        " dataset text NOT NULL,"
        " id text NOT NULL,"
        " timestamp text NOT NULL,"
        " timestamp_ms bigint NOT NULL,"
        " payment_amount text NOT NULL,"
        " amount_units bigint NOT NULL,"
        " amount_scale integer NOT NULL,"
        " amount numeric NOT NULL,"
        " payment_currency text NOT NULL,"
        " transaction_type text NOT NULL,"
        " transaction_charges text,"
        " charges_units bigint,"
        " charges_scale integer,"
        " charges numeric,"
        " reference_id text, customer_id text, meter_id text, customer_name text,"
        " customer_phone text, customer_category text, financing_id text, agent_id text,"
        " latitude text, longitude text, utility_id text, failed_battery_capacity_count text,"
        " account_type text, status text, notes text,"
        " id_derived integer NOT NULL DEFAULT 0,"
        " target_level text NOT NULL,"
        " target_id text,"
        " source_row bigint,"
        " content_hash bigint NOT NULL,"
        " first_seen_run text NOT NULL,"
        " last_seen_run text NOT NULL,"
        " vanished_run text,"
        " PRIMARY KEY (dataset, id));"
        "CREATE INDEX payments_dataset_time ON payments (dataset, timestamp_ms, id);"
        "CREATE INDEX payments_target_time ON payments (target_id, timestamp_ms, id);"
        "CREATE INDEX payments_meter ON payments (meter_id, timestamp_ms);"
        "CREATE TABLE runs ("
        " run_id text NOT NULL,"
        " dataset text NOT NULL,"
        " started text NOT NULL,"
        " finished text,"
        " outcome text NOT NULL CHECK (outcome IN ('ok', 'failed')),"
        " read bigint NOT NULL DEFAULT 0, accepted bigint NOT NULL DEFAULT 0,"
        " rejected bigint NOT NULL DEFAULT 0, blank bigint NOT NULL DEFAULT 0,"
        " duplicates bigint NOT NULL DEFAULT 0, warnings bigint NOT NULL DEFAULT 0,"
        " error text,"
        " started_ms bigint, finished_ms bigint,"
        " inserted bigint, changed bigint, unchanged bigint, vanished bigint,"
        " filtered bigint NOT NULL DEFAULT 0,"
        " worker text,"
        " PRIMARY KEY (dataset, run_id));"
        "CREATE INDEX runs_dataset_started ON runs (dataset, started_ms);"
        "CREATE TABLE cursors ("
        " dataset text PRIMARY KEY NOT NULL, cursor_json text, run_id text NOT NULL);"
        "CREATE TABLE run_rejects ("
        " dataset text NOT NULL, run_id text NOT NULL, code text NOT NULL,"
        " count bigint NOT NULL, PRIMARY KEY (dataset, run_id, code));"
        "CREATE TABLE run_warnings ("
        " dataset text NOT NULL, run_id text NOT NULL, code text NOT NULL,"
        " count bigint NOT NULL, PRIMARY KEY (dataset, run_id, code));"
        "CREATE TABLE run_columns ("
        " dataset text NOT NULL, run_id text NOT NULL, columns text NOT NULL, missing text,"
        " PRIMARY KEY (dataset, run_id));",
        /* 1 -> 2: leases of datasets to workers (docs/scaling.md); a released lease has
         * heartbeat -infinity. Times are the server's. */
        "CREATE TABLE leases ("
        " dataset text PRIMARY KEY NOT NULL,"
        " worker text NOT NULL,"
        " acquired timestamptz NOT NULL,"
        " heartbeat timestamptz NOT NULL,"
        " timeout_ms bigint NOT NULL);",
    };
    if (from_version < 0 || from_version >= PS_PG_SCHEMA_VERSION)
        return NULL;
    return steps[from_version];
}

/* SQL condition: run row R (an alias of runs) is a run still in progress: no outcome yet, its
 * dataset's writer lock is held, and no newer run of the dataset started. Readers leave such
 * runs out (a marker whose writer is gone shows as interrupted, store.h). */
#define PS_PG_RUNNING(R)                                                                           \
    "(" R ".finished IS NULL AND NOT EXISTS (SELECT 1 FROM runs n WHERE n.dataset = " R            \
    ".dataset AND n.started_ms > " R ".started_ms) AND EXISTS (SELECT 1 FROM pg_locks l"           \
    " WHERE l.locktype = 'advisory' AND l.classid = " PS_PG_LOCK_NS_TEXT "::oid"                   \
    " AND l.objid = hashtext(" R ".dataset)::oid AND l.objsubid = 2 AND l.granted))"

#endif
