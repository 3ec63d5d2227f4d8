/* paysync store: the SQLite backend's schema, shared by its writer (sqlite_writer.c) and
 * reader (store.c). The ONE place that names tables and columns and holds the migrations.
 * Private to core/src/store (and its tests, which build databases with it). */
#ifndef PS_STORE_SCHEMA_H
#define PS_STORE_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "paysync/model.h"

/* PRAGMA user_version of a database this build writes. */
#define PS_STORE_USER_VERSION 8

#define PS_STORE_T_PAYMENTS "payments"
#define PS_STORE_T_RUNS "runs"
#define PS_STORE_T_CURSORS "cursors"
#define PS_STORE_T_RUN_REJECTS "run_rejects"
#define PS_STORE_T_RUN_WARNINGS "run_warnings"
#define PS_STORE_T_RUN_COLUMNS "run_columns"
#define PS_STORE_T_METER "payments_meter_idx"
#define PS_STORE_T_METER_DEFERRED "payments_meter_deferred"

/* The columns of payments as released in schema version 1, in their order (the table of
 * step 0 -> 1; step 6 -> 7 rebuilds it with these first). Part of released steps: never edit. */
#define PS_STORE_PAYMENTS_V1_COLUMNS                                                               \
    " dataset TEXT NOT NULL,"                                                                      \
    " id TEXT NOT NULL,"                                                                           \
    " timestamp TEXT NOT NULL,"                                                                    \
    " timestamp_ms INTEGER NOT NULL,"                                                              \
    " payment_amount TEXT NOT NULL,"                                                               \
    " amount_units INTEGER NOT NULL,"                                                              \
    " amount_scale INTEGER NOT NULL,"                                                              \
    " payment_currency TEXT NOT NULL,"                                                             \
    " transaction_type TEXT NOT NULL,"                                                             \
    " transaction_charges TEXT,"                                                                   \
    " charges_units INTEGER,"                                                                      \
    " charges_scale INTEGER,"                                                                      \
    " reference_id TEXT,"                                                                          \
    " customer_id TEXT,"                                                                           \
    " meter_id TEXT,"                                                                              \
    " customer_name TEXT,"                                                                         \
    " customer_phone TEXT,"                                                                        \
    " customer_category TEXT,"                                                                     \
    " financing_id TEXT,"                                                                          \
    " agent_id TEXT,"                                                                              \
    " latitude TEXT,"                                                                              \
    " longitude TEXT,"                                                                             \
    " utility_id TEXT,"                                                                            \
    " failed_battery_capacity_count TEXT,"                                                         \
    " account_type TEXT,"                                                                          \
    " status TEXT,"                                                                                \
    " notes TEXT,"                                                                                 \
    " target_level TEXT NOT NULL,"                                                                 \
    " target_id TEXT,"                                                                             \
    " source_row INTEGER,"                                                                         \
    " content_hash INTEGER NOT NULL,"                                                              \
    " first_seen_run TEXT NOT NULL,"                                                               \
    " last_seen_run TEXT NOT NULL,"

/* A table of counts by problem code per run (run_rejects, run_warnings), as released in
 * steps 2 -> 3 and 5 -> 6: never edit. */
#define PS_STORE_CODE_TABLE(NAME)                                                                  \
    "CREATE TABLE " NAME " ("                                                                      \
    " dataset TEXT NOT NULL,"                                                                      \
    " run_id TEXT NOT NULL,"                                                                       \
    " code TEXT NOT NULL,"                                                                         \
    " count INTEGER NOT NULL,"                                                                     \
    " PRIMARY KEY (dataset, run_id, code)"                                                         \
    ");"

/* The meter index's insert trigger (schema version 8; 7 -> 8 below). A new store's side file
 * drops it for its first load, whose keys are filled from a sort anyway, and creates it again
 * before it is published (sqlite_writer.c: fill_meter). */
#define PS_STORE_METER_INS_TRIGGER                                                                 \
    "CREATE TRIGGER payments_meter_ins AFTER INSERT ON payments"                                   \
    " WHEN new.meter_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM"                                 \
    " payments_meter_deferred d WHERE d.dataset = new.dataset) BEGIN"                              \
    " INSERT OR IGNORE INTO payments_meter_idx VALUES"                                             \
    " (new.meter_id, new.timestamp_ms, new.dataset, new.id, new.valid_from); END"

/* SQL taking a database from user_version i to i + 1 (i = 0 .. PS_STORE_USER_VERSION - 1);
 * NULL past the end. Each step runs in its own transaction together with
 * "PRAGMA user_version = i + 1". Never edit a released step: append a new one. */
static inline const char *ps_store_migration(int from_version)
{
    static const char *const steps[PS_STORE_USER_VERSION] = {
        /* 0 -> 1: the first released schema. */
        "CREATE TABLE payments (" PS_STORE_PAYMENTS_V1_COLUMNS " PRIMARY KEY (dataset, id)"
        ") WITHOUT ROWID;"
        "CREATE INDEX payments_dataset_time ON payments (dataset, timestamp_ms, id);"
        "CREATE TABLE runs ("
        " run_id TEXT NOT NULL,"
        " dataset TEXT NOT NULL,"
        " started TEXT NOT NULL,"
        " finished TEXT,"
        " outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed')),"
        " read INTEGER NOT NULL DEFAULT 0,"
        " accepted INTEGER NOT NULL DEFAULT 0,"
        " rejected INTEGER NOT NULL DEFAULT 0,"
        " blank INTEGER NOT NULL DEFAULT 0,"
        " duplicates INTEGER NOT NULL DEFAULT 0,"
        " warnings INTEGER NOT NULL DEFAULT 0,"
        " error TEXT,"
        " PRIMARY KEY (dataset, run_id)"
        ");"
        "CREATE TABLE cursors ("
        " dataset TEXT PRIMARY KEY NOT NULL,"
        " cursor_json TEXT,"
        " run_id TEXT NOT NULL"
        ");",
        /* 1 -> 2: vanished IDs, change counts per run, derived-ID flag, target and meter
         * indexes. */
        "ALTER TABLE payments ADD COLUMN id_derived INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE payments ADD COLUMN vanished_run TEXT;"
        "ALTER TABLE runs ADD COLUMN started_ms INTEGER;"
        "ALTER TABLE runs ADD COLUMN finished_ms INTEGER;"
        "ALTER TABLE runs ADD COLUMN inserted INTEGER;"
        "ALTER TABLE runs ADD COLUMN changed INTEGER;"
        "ALTER TABLE runs ADD COLUMN unchanged INTEGER;"
        "ALTER TABLE runs ADD COLUMN vanished INTEGER;"
        "CREATE INDEX payments_target_time ON payments (target_id, timestamp_ms, id);"
        "CREATE INDEX payments_meter ON payments (meter_id, timestamp_ms);"
        "CREATE INDEX runs_dataset_started ON runs (dataset, started_ms);",
        /* 2 -> 3: rejected rows by problem code, per successful run. */
        PS_STORE_CODE_TABLE("run_rejects"),
        /* 3 -> 4: the source's header per successful run (a JSON array of the column names in
         * order) and the mapped columns of the previous run's header it lacks (JSON array,
         * NULL when none): the column_missing warning. */
        "CREATE TABLE run_columns ("
        " dataset TEXT NOT NULL,"
        " run_id TEXT NOT NULL,"
        " columns TEXT NOT NULL,"
        " missing TEXT,"
        " PRIMARY KEY (dataset, run_id)"
        ");",
        /* 4 -> 5: rows dropped by mapping.filters, per run. */
        "ALTER TABLE runs ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0;",
        /* 5 -> 6: rows with warnings by problem code, per successful run. */
        PS_STORE_CODE_TABLE("run_warnings"),
        /* 6 -> 7: row versions. A payment row is one version of a payment, valid from the
         * dataset's version valid_from up to (not including) valid_to (NULL: the current
         * one); cursors.version is the dataset's published version, cursors.pending the one a
         * run is writing (NULL when none). Readers show the versions valid at the published
         * version (PS_STORE_VISIBLE), so a run writes in committed chunks and becomes
         * visible when its last commit moves cursors.version (sqlite_versions.h). The
         * primary key gains valid_from: the table is rebuilt (SELECT *: the columns of
         * steps 0 -> 1 and 1 -> 2, in that order). */
        "CREATE TABLE payments_v7 (" PS_STORE_PAYMENTS_V1_COLUMNS
        " id_derived INTEGER NOT NULL DEFAULT 0,"
        " vanished_run TEXT,"
        " valid_from INTEGER NOT NULL DEFAULT 0,"
        " valid_to INTEGER,"
        " PRIMARY KEY (dataset, id, valid_from)"
        ") WITHOUT ROWID;"
        "INSERT INTO payments_v7 SELECT *, 0, NULL FROM payments;"
        "DROP TABLE payments;"
        "ALTER TABLE payments_v7 RENAME TO payments;"
        "CREATE INDEX payments_dataset_time ON payments (dataset, timestamp_ms, id);"
        "CREATE INDEX payments_target_time ON payments (target_id, timestamp_ms, id);"
        "CREATE INDEX payments_meter ON payments (meter_id, timestamp_ms);"
        "CREATE INDEX payments_superseded ON payments (dataset, valid_to)"
        " WHERE valid_to IS NOT NULL;"
        "ALTER TABLE cursors ADD COLUMN version INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE cursors ADD COLUMN pending INTEGER;"
        /* for the sqlite3 shell (docs/sinks.md): what the readers show */
        "CREATE VIEW published_payments AS SELECT p.* FROM payments p JOIN cursors c"
        " ON c.dataset = p.dataset WHERE p.valid_from <= c.version"
        " AND (p.valid_to IS NULL OR p.valid_to > c.version);",
        /* 7 -> 8: the meter index becomes a table of its own, one row per payment row with a
         * METER_ID (every version), so that a first load fills it from a sort, in key order
         * and in chunks under the WAL bound, instead of row by row at random places
         * (sqlite_writer.c: fill_meter). Triggers keep it in step with every write to
         * payments, except the rows of a dataset listed in payments_meter_deferred: a first
         * load lists its dataset before its first row and unlists it in its publishing
         * commit, after filling the index with the dataset's rows. */
        "CREATE TABLE payments_meter_idx ("
        " meter_id TEXT NOT NULL,"
        " timestamp_ms INTEGER NOT NULL,"
        " dataset TEXT NOT NULL,"
        " id TEXT NOT NULL,"
        " valid_from INTEGER NOT NULL,"
        " PRIMARY KEY (meter_id, timestamp_ms, dataset, id, valid_from)"
        ") WITHOUT ROWID;"
        "CREATE TABLE payments_meter_deferred (dataset TEXT PRIMARY KEY NOT NULL);"
        "INSERT INTO payments_meter_idx SELECT meter_id, timestamp_ms, dataset, id, valid_from"
        " FROM payments WHERE meter_id IS NOT NULL ORDER BY 1, 2, 3, 4, 5;"
        "DROP INDEX IF EXISTS payments_meter;" PS_STORE_METER_INS_TRIGGER ";"
        "CREATE TRIGGER payments_meter_del AFTER DELETE ON payments"
        " WHEN old.meter_id IS NOT NULL BEGIN"
        " DELETE FROM payments_meter_idx WHERE meter_id = old.meter_id"
        " AND timestamp_ms = old.timestamp_ms AND dataset = old.dataset AND id = old.id"
        " AND valid_from = old.valid_from; END;"
        "CREATE TRIGGER payments_meter_upd"
        " AFTER UPDATE OF meter_id, timestamp_ms, dataset, id, valid_from ON payments"
        " WHEN old.meter_id IS NOT new.meter_id OR old.timestamp_ms IS NOT new.timestamp_ms"
        " OR old.dataset IS NOT new.dataset OR old.id IS NOT new.id"
        " OR old.valid_from IS NOT new.valid_from BEGIN"
        " DELETE FROM payments_meter_idx WHERE meter_id = old.meter_id"
        " AND timestamp_ms = old.timestamp_ms AND dataset = old.dataset AND id = old.id"
        " AND valid_from = old.valid_from;"
        " INSERT OR IGNORE INTO payments_meter_idx SELECT"
        " new.meter_id, new.timestamp_ms, new.dataset, new.id, new.valid_from"
        " WHERE new.meter_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM"
        " payments_meter_deferred d WHERE d.dataset = new.dataset); END;",
    };
    if (from_version < 0 || from_version >= PS_STORE_USER_VERSION)
        return NULL;
    return steps[from_version];
}

/* SQL condition: the payment row P (a table alias) is the version of its payment that
 * readers see: the one valid at its dataset's published version (cursors.version); none of
 * a dataset no successful run has published (no cursors row). The one rule of every reader
 * (store.c); the writer works on the current versions (valid_to IS NULL). */
#define PS_STORE_VISIBLE(P)                                                                        \
    "EXISTS (SELECT 1 FROM " PS_STORE_T_CURSORS " pv WHERE pv.dataset = " P ".dataset"             \
    " AND " P ".valid_from <= pv.version AND (" P ".valid_to IS NULL OR " P ".valid_to > "         \
    "pv.version))"

/* SQL condition: the payment row P (a table alias) was found unchanged by the writer's run:
 * its ID lies in one of the ranges of the connection's temp.ps_seen (lo, hi), which the
 * writer keeps disjoint, so only the range with the greatest lo <= the ID can hold it. */
#define PS_STORE_SEEN(P)                                                                           \
    "ifnull((SELECT sr.hi >= " P ".id FROM temp.ps_seen sr WHERE sr.lo <= " P ".id"                \
    " ORDER BY sr.lo DESC LIMIT 1), 0)"

/* Column of payments holding model field f (lower-case field name); NULL out of range. */
static inline const char *ps_store_field_column(int f)
{
    static const char *const cols[PS_FIELD_COUNT] = {
        "id",
        "timestamp",
        "payment_amount",
        "payment_currency",
        "transaction_type",
        "transaction_charges",
        "reference_id",
        "customer_id",
        "meter_id",
        "customer_name",
        "customer_phone",
        "customer_category",
        "financing_id",
        "agent_id",
        "latitude",
        "longitude",
        "utility_id",
        "failed_battery_capacity_count",
        "account_type",
        "status",
        "notes",
    };
    if (f < 0 || f >= PS_FIELD_COUNT)
        return NULL;
    return cols[f];
}

/* Columns of payments besides dataset, the fields (ps_store_field_column) and the run
 * columns (first_seen_run, last_seen_run, vanished_run, valid_from, valid_to): what the writer
 * derives from a record; i = 0 .. PS_STORE_EXTRA_COLUMNS - 1, NULL past the end. */
#define PS_STORE_EXTRA_COLUMNS 10
static inline const char *ps_store_extra_column(int i)
{
    static const char *const cols[PS_STORE_EXTRA_COLUMNS] = {
        "timestamp_ms", "amount_units", "amount_scale", "charges_units", "charges_scale",
        "id_derived",   "target_level", "target_id",    "source_row",    "content_hash",
    };
    if (i < 0 || i >= PS_STORE_EXTRA_COLUMNS)
        return NULL;
    return cols[i];
}

/* The secondary indexes of payments as the last migration leaves them: "CREATE INDEX IF NOT
 * EXISTS" statements (i = 0 .. PS_STORE_PAYMENT_INDEXES - 1) and their names; NULL past the
 * end. A first load into an empty table drops the first PS_STORE_PAYMENT_BULK_INDEXES and
 * builds them after its rows (sqlite_writer.c); the last, partial one holds closed versions
 * only, none in a first load, and stays. A writer opening a dataset creates any that are
 * missing. (The meter index is the table PS_STORE_T_METER since schema version 8.) */
#define PS_STORE_PAYMENT_INDEXES 3
#define PS_STORE_PAYMENT_BULK_INDEXES 2
static inline const char *ps_store_payment_index(int i, int name)
{
    static const char *const idx[PS_STORE_PAYMENT_INDEXES][2] = {
        {"CREATE INDEX IF NOT EXISTS payments_dataset_time ON payments (dataset, timestamp_ms, id)",
         "payments_dataset_time"},
        {"CREATE INDEX IF NOT EXISTS payments_target_time ON payments (target_id, timestamp_ms, "
         "id)",
         "payments_target_time"},
        {"CREATE INDEX IF NOT EXISTS payments_superseded ON payments (dataset, valid_to)"
         " WHERE valid_to IS NOT NULL",
         "payments_superseded"},
    };
    if (i < 0 || i >= PS_STORE_PAYMENT_INDEXES)
        return NULL;
    return idx[i][name ? 1 : 0];
}

/* Text stored in payments.target_level. */
static inline const char *ps_store_target_level_name(ps_target_level t)
{
    return t == PS_TARGET_PROGRAM ? "program" : "project";
}

/* Inverse of ps_store_target_level_name (anything else = project). */
static inline ps_target_level ps_store_target_level_parse(const char *s)
{
    return (s && s[0] == 'p' && s[1] == 'r' && s[2] == 'o' && s[3] == 'g') ? PS_TARGET_PROGRAM
                                                                           : PS_TARGET_PROJECT;
}

/* Canonical UTC text "yyyy-MM-ddTHH:mm:ss.SSSZ" of ms since the epoch, without libc time
 * functions (runs.started / runs.finished). buf holds >= 32 bytes. Returns the length. */
static inline size_t ps_store_format_ms(int64_t ms, char *buf)
{
    int64_t secs = ms / 1000, msec = ms % 1000;
    if (msec < 0) {
        msec += 1000;
        secs -= 1;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    /* civil_from_days (H. Hinnant). */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y += 1;
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    int v[7] = {(int)y,          (int)m,   (int)d, (int)(sod / 3600), (int)(sod % 3600 / 60),
                (int)(sod % 60), (int)msec};
    static const int width[7] = {4, 2, 2, 2, 2, 2, 3};
    static const char after[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
    size_t n = 0;
    for (int i = 0; i < 7; i++) {
        for (int w = width[i] - 1; w >= 0; w--) {
            int p = 1;
            for (int k = 0; k < w; k++)
                p *= 10;
            buf[n++] = (char)('0' + v[i] / p % 10);
        }
        buf[n++] = after[i];
    }
    buf[n] = '\0';
    return n;
}

/* The error of a run that started but has recorded no outcome yet: the writer commits this
 * row (outcome "failed", no finish time) before the dataset's transaction and replaces it
 * with the outcome. Followed by the writer's process ID. While that process lives the run is
 * in progress and readers (store.c) leave the row out; once it is gone the run was interrupted
 * (killed, or its failure could not be recorded) and readers show it as failed. */
#define PS_STORE_RUN_INTERRUPTED                                                                   \
    "interrupted: the run ended without recording its outcome (killed, or the store could not "    \
    "record its failure); writer pid "

/* Follows the pid in that error: the writer's start time (util/proc.h; 0 when unknown). The
 * run is in progress only while a process with that pid AND that start time lives, so a later
 * process given the same pid does not hide an interrupted run. Markers written before start
 * times were recorded end after the pid and are judged by the pid alone. */
#define PS_STORE_RUN_START " start "

#endif
