/* paysync store: the SQLite store's writer, registered as the built-in sink "sqlite" (the
 * change-tracking store, docs/sinks.md). The schema lives in store_schema.h, shared with the
 * reader (store.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sqlite3.h>

#include "paysync/plugin.h"
#include "store/meter_sort.h"
#include "store/run_marker.h"
#include "store/sqlite_build.h"
#include "store/sqlite_columns.h"
#include "store/sqlite_store.h"
#include "store/sqlite_versions.h"
#include "store/store_options.h"
#include "store/store_schema.h"
#include "util/crashpoint.h"
#include "util/mkdirs.h"
#include "util/pathtext.h"
#include "util/proc.h"

/* Parameters of the payment insert/update statements (numbered ?1..?N, shared). */
enum {
    P_DATASET = 1,
    P_FIELD0 = 2, /* P_FIELD0 + f for model field f */
    P_TIMESTAMP_MS = P_FIELD0 + PS_FIELD_COUNT,
    P_AMOUNT_UNITS,
    P_AMOUNT_SCALE,
    P_CHARGES_UNITS,
    P_CHARGES_SCALE,
    P_ID_DERIVED,
    P_TARGET_LEVEL,
    P_TARGET_ID,
    P_SOURCE_ROW,
    P_CONTENT_HASH,
    P_RUN,
    P_VALID_FROM, /* the version written (insert) or rewritten in place (update) */
    P_FIRST_SEEN, /* insert only: the payment's first run (this one when new) */
    P_COUNT = P_FIRST_SEEN
};

/* Rows of one multi-row insert (st_insert_rows): a first load's new payments go into the table
 * MULTI_ROWS at a time. One statement keeps its cursor on the table's last page from row to
 * row (an ascending key is an append, not a descent from the root) and its start and halt
 * are paid once a group. Row j of it takes the parameters of the single-row insert
 * shifted by j * P_COUNT, except the values every row shares (dataset, target, run,
 * version), which all rows take from row 0's numbers: bound once a group. */
#define MULTI_ROWS 32

/* A chunk is committed when its writes have grown the WAL by this much, whatever chunk_rows
 * says: rows changed all over a large table touch a page each (docs/sinks.md). */
#define CHUNK_WAL_BYTES (24 * 1024 * 1024)

/* The page cache of a first load: 2 MiB (SQLite's default) while its rows go into the table
 * alone: the indexes' sort after the rows takes as much memory again, and 4 MiB cost 4 MB
 * more of peak RSS and measured no faster. Once the indexes are built in the middle of a
 * large load, 4 MiB as before: the rows that follow go into four B-trees at once (whether
 * 2 MiB would slow that down was not resolved by single runs: docs/performance.md, "Memory
 * bound and first load, third pass"). A later run reads the dataset in ID order and writes
 * only what changed: 512 KiB keep the B-tree's upper levels, the operating system's cache
 * the rest (the peak RSS of the daily re-run). */
#define CACHE_FIRST_LOAD "PRAGMA cache_size = -2048"
#define CACHE_INDEXED_LOAD "PRAGMA cache_size = -4096"
#define CACHE_RERUN "PRAGMA cache_size = -512"
#define CACHE_METER_FILL "PRAGMA cache_size = -1024"
/* Memory for a first load's meter keys sorted at a time (meter_sort.h); more go to a
 * temporary file. */
#define METER_SORT_BYTES ((size_t)4 << 20)

/* A first load into an empty table builds its indexes, each in one transaction (the WAL holds
 * it whole), once the largest would reach this size; later rows go into them row by row. */
#define BULK_INDEX_BYTES (48 * 1024 * 1024)

/* A growable byte buffer (an ID). */
typedef struct sq_buf {
    char *p;
    size_t len, cap;
} sq_buf;

enum { SCAN_SEEK = 0, SCAN_ROW, SCAN_END };

typedef struct sq_sink {
    const ps_host *host;
    const ps_env *env;
    char *path;
    int busy_ms;
    sqlite3 *db;
    /* A brand-new store: its first dataset is built in a side file without a WAL and
     * published whole at its commit (sqlite_build.h; building = 1 until then). */
    int building;
    ps_sqlite_build build;
    /* Created while another instance built the new store: not connected until the store
     * exists (or this instance's first dataset builds it itself: connect_deferred). */
    int deferred;
    sqlite3_stmt *st_insert, *st_insert_rows, *st_update, *st_scan, *st_seen, *st_seen_prev,
        *st_seen_del, *st_close, *st_run, *st_cursor, *st_load_cursor, *st_reject_code,
        *st_warning_code;
    /* A re-run finds the stored payments with one ordered read (st_scan: the dataset's
     * current versions from an ID on, in ID order) merged against the incoming IDs: an ID
     * after the previous one costs a step of the scan, not a B-tree descent; the scan seeks
     * again when the input goes back, skips far ahead, or after a write (scan_lookup). */
    int scan_state;    /* SCAN_SEEK, SCAN_ROW (on a row; scan_used: matched already), SCAN_END */
    int scan_used;     /* the scan's row was matched: step before looking further */
    int scan_adjacent; /* the last ID matched the row right before the scan's row */
    sq_buf floor;      /* the last ID looked up through the scan: the next must be greater */
    /* The IDs found unchanged one after another form ranges of the scan's order; each is
     * written to temp.ps_seen (lo, hi) when it ends (flush_range), not ID by ID. */
    int range_open;
    sq_buf range_lo, range_hi, seen_max; /* seen_max: largest hi written (seen_any) */
    int seen_any;
    int in_txn;
    char *dataset, *run_id, *target_id;
    ps_target_level level;
    uint64_t inserted, changed, unchanged;
    uint64_t stored_before; /* the dataset's present payments when it was opened */
    uint64_t seen_present;  /* rows of this run that were present before (unchanged or changed) */
    int has_rows;           /* the dataset had payments (present or vanished) when opened */
    /* The TIMESTAMP range this run read (ps_store_set_window): only present payments inside
     * it can vanish; the whole dataset (INT64_MIN..INT64_MAX) unless told otherwise. */
    int64_t win_from, win_to;
    char *prev_run; /* the dataset's last successful run (cursors.run_id), or NULL */
    /* Every dataset is written in chunks of chunk_rows payments (or CHUNK_WAL_BYTES of WAL),
     * each committed on its own so that the WAL stays small. Readers show a dataset's
     * versions valid at its published version (cursors.version; none before its first
     * successful run), so nothing is visible before the commit that moves it. A first load
     * (no cursors row) writes version 0; a later run writes published + 1, closing the
     * versions it replaces (sqlite_versions.h). */
    int chunked;
    int published;             /* the dataset has a cursors row */
    int64_t version;           /* the version this run writes */
    int64_t pub_version;       /* cursors.version when published */
    int has_pending;           /* cursors.pending was set: a run left unpublished versions */
    uint64_t chunks_committed; /* chunks of this dataset committed so far */
    uint64_t superseded;       /* versions this run closed (collected after its commit) */
    uint64_t chunk_rows, chunk_written, since_wal_check;
    off_t wal_base; /* size of the WAL when the chunk began */
    /* A first load into an empty payments table keeps its time indexes while its rows come in
     * time order (every entry an append; order_watch, last_ts); at the first row older than
     * one before it they are dropped (indexes_dropped) and built after the rows, before the
     * publishing commit, or as soon as the largest of them would hold BULK_INDEX_BYTES
     * (estimated in index_bytes; build_indexes). */
    int order_watch;
    int64_t last_ts;
    int indexes_dropped;
    ps_meter_sort *meters; /* a first load's meter keys, added as its rows are (fill_meter) */
    int fill_errno;        /* the meter keys' sort failed with it (0: not) */
    char fill_tmpdir[512]; /* the folder of that sort's temporary file */
    uint64_t index_bytes;
    size_t dataset_len;
    /* The open dataset's header and its missing columns (JSON arrays), written with the run
     * at commit (ps_store_sqlite_record_columns); NULL when not given. */
    char *columns_json, *missing_json;
} sq_sink;

/* Fills err from a SQLite failure while doing `what`, naming the cause and the file. */
static ps_status sq_fail(sq_sink *s, sqlite3 *db, int rc, const char *what, ps_error *err)
{
    int prim = rc & 0xff;
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        return ps_error_setf(err, PS_ERR_SINK,
                             "sqlite store '%s' is locked by another process or connection "
                             "(waited %d ms; raise busy_timeout_ms or stop the other writer) "
                             "while %s",
                             PS_SHOWN(s->path), s->busy_ms, what);
    int sys = db ? sqlite3_system_errno(db) : 0;
    if (prim == SQLITE_FULL ||
        (prim == SQLITE_IOERR && (sys == ENOSPC || sys == EFBIG || sys == EDQUOT)))
        return ps_error_setf(
            err, PS_ERR_SINK,
            "sqlite store '%s': disk full (or file size limit reached) while %s%s%s",
            PS_SHOWN(s->path), what, sys ? ": " : "", sys ? strerror(sys) : "");
    if (prim == SQLITE_IOERR)
        return ps_error_setf(err, PS_ERR_SINK, "sqlite store '%s': I/O error while %s: %s",
                             PS_SHOWN(s->path), what, sys ? strerror(sys) : msg);
    if (prim == SQLITE_READONLY || prim == SQLITE_PERM || prim == SQLITE_CANTOPEN)
        return ps_error_setf(err, PS_ERR_SINK,
                             "sqlite store '%s' cannot be written (permissions or read-only "
                             "filesystem) while %s: %s",
                             PS_SHOWN(s->path), what, msg);
    if (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT)
        return ps_error_setf(err, PS_ERR_SINK,
                             "sqlite store '%s' is not a valid paysync database while %s: %s",
                             PS_SHOWN(s->path), what, msg);
    if (prim == SQLITE_NOMEM)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory in sqlite store '%s' while %s",
                             PS_SHOWN(s->path), what);
    return ps_error_setf(err, PS_ERR_SINK, "sqlite store '%s': %s failed: %s", PS_SHOWN(s->path),
                         what, msg);
}

static int exec(sq_sink *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

static ps_status migrate(sq_sink *s, ps_error *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(s, s->db, rc, "reading the schema version", err);
    rc = sqlite3_step(st);
    int version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return sq_fail(s, s->db, rc, "reading the schema version", err);
    if (version > PS_STORE_USER_VERSION)
        return ps_error_setf(err, PS_ERR_SINK,
                             "sqlite store '%s' has schema version %d, newer than this paysync "
                             "understands (%d): upgrade paysync",
                             PS_SHOWN(s->path), version, PS_STORE_USER_VERSION);
    for (int v = version; v < PS_STORE_USER_VERSION; v++) {
        char what[64], pragma[48];
        snprintf(what, sizeof what, "upgrading the schema from version %d to %d", v, v + 1);
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        rc = exec(s, "BEGIN IMMEDIATE");
        if (rc != SQLITE_OK)
            return sq_fail(s, s->db, rc, what, err);
        rc = exec(s, ps_store_migration(v));
        if (rc == SQLITE_OK)
            rc = exec(s, pragma);
        if (rc == SQLITE_OK)
            rc = exec(s, "COMMIT");
        if (rc != SQLITE_OK) {
            ps_status e = sq_fail(s, s->db, rc, what, err);
            exec(s, "ROLLBACK");
            return e;
        }
        if (version > 0)
            s->host->log(s->env, PS_LOG_INFO, "upgraded sqlite store '%s' to schema version %d",
                         PS_SHOWN(s->path), v + 1);
    }
    return PS_OK;
}

static ps_status prepare(sq_sink *s, sqlite3_stmt **st, const char *sql, ps_error *err)
{
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(s, s->db, rc, "preparing statements", err);
    return PS_OK;
}

/* Parameter number of row j of st_insert_rows for the single-row insert's parameter p. */
static int row_param(int j, int p)
{
    int shared = p == P_DATASET || p == P_TARGET_LEVEL || p == P_TARGET_ID || p == P_RUN ||
                 p == P_VALID_FROM || p == P_FIRST_SEEN;
    return shared ? p : p + j * P_COUNT;
}

/* The text of st_insert_rows from the single-row insert's (ins: its column list, then
 * "VALUES (?1, ?2, ...)", then the conflict clause): MULTI_ROWS rows of values, numbered
 * by row_param. Malloc'd; NULL when out of memory. */
static char *insert_rows_sql(const char *ins)
{
    const char *values = strstr(ins, " VALUES (");
    const char *conflict = strstr(ins, ") ON CONFLICT");
    if (!values || !conflict)
        return NULL;
    size_t head = (size_t)(values - ins) + 8, cap = head + MULTI_ROWS * 512 + 128;
    char *sql = malloc(cap);
    if (!sql)
        return NULL;
    memcpy(sql, ins, head); /* up to "VALUES " */
    size_t n = head;
    for (int j = 0; j < MULTI_ROWS; j++) {
        /* the single-row values list with each ?N renumbered */
        sql[n++] = j ? ',' : ' ';
        for (const char *c = values + 8; c <= conflict; c++) {
            if (n + 16 > cap) { /* room for a "?NNNN" or a byte; never with today's list */
                free(sql);
                return NULL;
            }
            if (*c == '?') {
                char *end;
                int p = (int)strtol(c + 1, &end, 10);
                n += (size_t)snprintf(sql + n, cap - n, "?%d", row_param(j, p));
                c = end - 1;
            } else {
                sql[n++] = *c;
            }
        }
    }
    snprintf(sql + n, cap - n, "%s", conflict + 1);
    return sql;
}

static ps_status prepare_all(sq_sink *s, ps_error *err)
{
    /* INSERT (?1 dataset, ?2.. fields, extras, ?run) and the full UPDATE share parameters.
     * OR FAIL, not the default ABORT: a statement that may abort and fires a trigger (the
     * meter index: store_schema.h) keeps a statement journal, a copy of every page it
     * changes (measured: 3 writes to a temporary file a row, 2M-row first load 42.6 s of CPU
     * against 21.5 s); a single-row statement that fails has changed nothing either way. */
    char ins[2048], upd[2048];
    size_t ni = 0, nu = 0;
    ni += (size_t)snprintf(ins + ni, sizeof ins - ni,
                           "INSERT OR FAIL INTO " PS_STORE_T_PAYMENTS " (dataset");
    nu +=
        (size_t)snprintf(upd + nu, sizeof upd - nu, "UPDATE OR FAIL " PS_STORE_T_PAYMENTS " SET ");
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        ni += (size_t)snprintf(ins + ni, sizeof ins - ni, ", %s", ps_store_field_column(f));
        if (f != PS_F_ID)
            nu += (size_t)snprintf(upd + nu, sizeof upd - nu, "%s = ?%d, ",
                                   ps_store_field_column(f), P_FIELD0 + f);
    }
    for (int i = 0; i < PS_STORE_EXTRA_COLUMNS; i++) {
        ni += (size_t)snprintf(ins + ni, sizeof ins - ni, ", %s", ps_store_extra_column(i));
        nu += (size_t)snprintf(upd + nu, sizeof upd - nu, "%s = ?%d, ", ps_store_extra_column(i),
                               P_TIMESTAMP_MS + i);
    }
    ni += (size_t)snprintf(ins + ni, sizeof ins - ni,
                           ", first_seen_run, last_seen_run, vanished_run, valid_from) VALUES (");
    for (int p = 1; p <= P_CONTENT_HASH; p++)
        ni += (size_t)snprintf(ins + ni, sizeof ins - ni, "?%d, ", p);
    snprintf(ins + ni, sizeof ins - ni,
             "?%d, ?%d, NULL, ?%d) ON CONFLICT (dataset, id, valid_from) DO NOTHING", P_FIRST_SEEN,
             P_RUN, P_VALID_FROM);
    /* in place: only a version this run wrote (a first load's, or a re-run's own) */
    snprintf(upd + nu, sizeof upd - nu,
             "last_seen_run = ?%d, vanished_run = NULL WHERE dataset = ?%d AND id = ?%d"
             " AND valid_from = ?%d",
             P_RUN, P_DATASET, P_FIELD0 + PS_F_ID, P_VALID_FROM);

    ps_status st;
    char *rows = insert_rows_sql(ins);
    if (!rows)
        return ps_error_setf(err, PS_ERR_IO, "sqlite store '%s': out of memory", PS_SHOWN(s->path));
    st = prepare(s, &s->st_insert_rows, rows, err);
    free(rows);
    if (st != PS_OK)
        return st;
    if ((st = prepare(s, &s->st_insert, ins, err)) != PS_OK ||
        (st = prepare(s, &s->st_update, upd, err)) != PS_OK ||
        (st = prepare(s, &s->st_scan,
                      "SELECT id, content_hash, vanished_run IS NULL, valid_from, first_seen_run"
                      " FROM " PS_STORE_T_PAYMENTS
                      " WHERE dataset = ?1 AND id >= ?2 AND valid_to IS NULL ORDER BY id",
                      err)) != PS_OK ||
        (st = prepare(s, &s->st_seen, "INSERT INTO temp.ps_seen (lo, hi) VALUES (?1, ?2)", err)) !=
            PS_OK ||
        (st = prepare(s, &s->st_seen_prev,
                      "SELECT lo, hi FROM temp.ps_seen WHERE lo <= ?1 ORDER BY lo DESC LIMIT 1",
                      err)) != PS_OK ||
        (st = prepare(s, &s->st_seen_del, "DELETE FROM temp.ps_seen WHERE lo = ?1", err)) !=
            PS_OK ||
        /* closes the current version (?3) of a payment this run writes anew (?4) */
        (st = prepare(s, &s->st_close,
                      "UPDATE " PS_STORE_T_PAYMENTS " SET valid_to = ?4"
                      " WHERE dataset = ?1 AND id = ?2 AND valid_from = ?3",
                      err)) != PS_OK ||
        (st = prepare(s, &s->st_run,
                      "INSERT OR REPLACE INTO " PS_STORE_T_RUNS
                      " (run_id, dataset, started, started_ms, finished, finished_ms, outcome,"
                      " read, accepted, rejected, blank, duplicates, warnings,"
                      " inserted, changed, unchanged, vanished, error, filtered)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
                      " ?14, ?15, ?16, ?17, ?18, ?19)",
                      err)) != PS_OK ||
        (st = prepare(s, &s->st_cursor,
                      "INSERT OR REPLACE INTO " PS_STORE_T_CURSORS
                      " (dataset, cursor_json, run_id, version, pending)"
                      " VALUES (?1, ?2, ?3, ?4, NULL)",
                      err)) != PS_OK ||
        (st = prepare(s, &s->st_reject_code,
                      "INSERT OR REPLACE INTO " PS_STORE_T_RUN_REJECTS
                      " (dataset, run_id, code, count) VALUES (?1, ?2, ?3, ?4)",
                      err)) != PS_OK ||
        (st = prepare(s, &s->st_warning_code,
                      "INSERT OR REPLACE INTO " PS_STORE_T_RUN_WARNINGS
                      " (dataset, run_id, code, count) VALUES (?1, ?2, ?3, ?4)",
                      err)) != PS_OK ||
        (st = prepare(s, &s->st_load_cursor,
                      "SELECT cursor_json FROM " PS_STORE_T_CURSORS " WHERE dataset = ?1", err)) !=
            PS_OK)
        return st;
    return PS_OK;
}

static void scan_invalidate(sq_sink *s);
static int flush_range(sq_sink *s);

static void free_dataset_state(sq_sink *s)
{
    char **const names[] = {&s->dataset,      &s->run_id,       &s->target_id,
                            &s->columns_json, &s->missing_json, &s->prev_run};
    ps_store_free_names(names, sizeof names / sizeof names[0]);
    ps_meter_sort_free(s->meters);
    s->meters = NULL;
}

/* Closes the connection and its statements (s->db NULL after). */
static void disconnect(sq_sink *s)
{
    sqlite3_stmt **all[] = {
        &s->st_insert,      &s->st_insert_rows, &s->st_update,      &s->st_scan, &s->st_seen,
        &s->st_seen_prev,   &s->st_seen_del,    &s->st_close,       &s->st_run,  &s->st_cursor,
        &s->st_load_cursor, &s->st_reject_code, &s->st_warning_code};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
    if (s->db)
        sqlite3_close_v2(s->db);
    s->db = NULL;
}

static void sq_destroy(void *inst)
{
    sq_sink *s = inst;
    if (!s)
        return;
    if (s->in_txn && s->db)
        exec(s, "ROLLBACK");
    disconnect(s);
    if (s->building) /* never published: a new store that was not built */
        ps_sqlite_build_discard(&s->build);
    free(s->floor.p);
    free(s->range_lo.p);
    free(s->range_hi.p);
    free(s->seen_max.p);
    free_dataset_state(s);
    free(s->path);
    free(s);
}

/* connect's may_build: open the store itself / a side file when the store does not exist
 * (fail when another instance or process is building it) / the same, but leave the sink
 * unconnected (s->deferred) when another is building it. */
enum { OPEN_STORE = 0, OPEN_MAY_BUILD, OPEN_MAY_DEFER };

/* Opens the store and sets the connection up (journal, cache, schema, statements). When
 * may_build and the store file does not exist, opens a side file instead (sqlite_build.h):
 * s->building is then 1 until leave_build. */
static ps_status connect(sq_sink *s, int may_build, ps_error *err)
{
    const char *file = s->path;
    if (may_build) {
        char why[512];
        int r = ps_sqlite_build_take(s->path, &s->build, why, sizeof why);
        s->deferred = r == PS_SQLITE_BUILD_BUSY && may_build == OPEN_MAY_DEFER;
        if (s->deferred)
            return PS_OK;
        if (r == PS_SQLITE_BUILD_BUSY)
            return ps_error_setf(err, PS_ERR_SINK,
                                 "sqlite store '%s' is being created by another run (its first "
                                 "load, in '%s-build'); try again when it has ended",
                                 PS_SHOWN(s->path), PS_SHOWN(s->path));
        if (r == PS_SQLITE_BUILD_ERROR)
            return ps_error_setf(err, PS_ERR_SINK,
                                 "sqlite store '%s': cannot create its side file '%s-build': %s",
                                 PS_SHOWN(s->path), PS_SHOWN(s->path), strerror(errno));
        if (r == PS_SQLITE_BUILD_NONE && why[0])
            s->host->log(s->env, PS_LOG_WARN,
                         "sqlite store '%s': created in place, not in a side file (%s)",
                         PS_SHOWN(s->path), why);
        s->building = r == PS_SQLITE_BUILD_TAKEN;
        if (s->building)
            file = s->build.side;
        else
            ps_sqlite_build_sweep(s->path);
    }
    /* NOMUTEX: the connection is used by the run's thread alone (as the reader's, store.c) */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (s->building)
        flags |= SQLITE_OPEN_NOFOLLOW;
    int rc = sqlite3_open_v2(file, &s->db, flags, NULL);
    ps_status st = PS_OK;
    if (rc != SQLITE_OK)
        st = sq_fail(s, s->db, rc, "opening", err);
    if (st == PS_OK) {
        sqlite3_busy_timeout(s->db, s->busy_ms);
        sqlite3_extended_result_codes(s->db, 1);
        /* 32 KiB pages for a new store (ignored for an existing one, which keeps its own):
         * payment rows are ~340 bytes; a first load 5-10 % faster than with 8 KiB, 4 KiB
         * 25 % slower (docs/performance.md, "The fresh load, fifth pass"), 32 KiB about 6 %
         * faster than 16 KiB and as fast as 64 KiB ("seventh pass"). */
        rc = exec(s, "PRAGMA page_size = 32768");
        /* WAL: readers (the HTTP server) never block the writer and see only commits. A side
         * file has no reader: its rollback journal is a file next to it (a rollback works; a
         * crash leaves the side file and its journal, which the next writer removes), nothing
         * is fsynced before the publish, and the file is locked for this connection alone.
         * Not in memory: rows in no ID order (random IDs) change pages all over the table in
         * every chunk, and a journal in memory held the old copy of each (1M rows: 340 MB
         * peak RSS, docs/performance.md "The fresh load, seventh pass"). */
        if (rc == SQLITE_OK)
            rc = exec(s,
                      s->building ? "PRAGMA journal_mode = TRUNCATE" : "PRAGMA journal_mode = WAL");
        if (rc == SQLITE_OK)
            rc = exec(s, s->building ? "PRAGMA synchronous = OFF" : "PRAGMA synchronous = FULL");
        if (rc == SQLITE_OK && s->building)
            rc = exec(s, "PRAGMA locking_mode = EXCLUSIVE");
        /* the page cache is sized per dataset (sq_open: CACHE_FIRST_LOAD, CACHE_RERUN) */
        if (rc == SQLITE_OK)
            rc = exec(s, CACHE_RERUN);
        /* A WAL reset by a checkpoint is truncated to 16 MiB at most (docs/reliability.md). */
        if (rc == SQLITE_OK)
            rc = exec(s, "PRAGMA journal_size_limit = 16777216");
        if (rc != SQLITE_OK)
            st = sq_fail(s, s->db, rc, "setting up the journal", err);
    }
    if (st == PS_OK)
        st = migrate(s, err);
    if (st == PS_OK) {
        /* The ranges of IDs a run found unchanged (flush_range): a temporary table, in a file
         * of its own (never in the database or its WAL), with a bounded page cache. */
        rc = exec(s, "PRAGMA temp_store = FILE");
        if (rc == SQLITE_OK)
            rc = exec(s, "PRAGMA temp.cache_size = -512");
        if (rc == SQLITE_OK)
            rc = exec(s, "CREATE TEMP TABLE IF NOT EXISTS ps_seen (lo TEXT PRIMARY KEY NOT NULL,"
                         " hi TEXT NOT NULL) WITHOUT ROWID");
        if (rc != SQLITE_OK)
            st = sq_fail(s, s->db, rc, "creating the table of seen IDs", err);
    }
    if (st == PS_OK)
        st = prepare_all(s, err);
    return st;
}

/* Ends the build of a new store (s->building): publish = 1 switches the side file to WAL,
 * closes it and renames it to the store's name (never over a store that appeared meanwhile);
 * publish = 0 (or a failed publish) removes it. Then opens the store itself as any later run
 * does. No transaction may be open. */
static ps_status leave_build(sq_sink *s, int publish, ps_error *err)
{
    ps_status st = PS_OK;
    if (publish) {
        /* later runs open it in WAL mode (the switch needs no other connection: none has
         * the side file open) */
        int rc = exec(s, "PRAGMA journal_mode = WAL");
        if (rc != SQLITE_OK)
            st = sq_fail(s, s->db, rc, "switching the new store to WAL", err);
    }
    disconnect(s);
    if (publish && st == PS_OK) {
        int e = ps_sqlite_build_publish(&s->build, s->path);
        if (e == EEXIST)
            st = ps_error_setf(err, PS_ERR_SINK,
                               "sqlite store '%s' was created by another process while this run "
                               "built it; this run's load was not stored (run it again)",
                               PS_SHOWN(s->path));
        else if (e)
            st = ps_error_setf(err, PS_ERR_SINK, "sqlite store '%s': cannot publish '%s-build': %s",
                               PS_SHOWN(s->path), PS_SHOWN(s->path), strerror(e));
    }
    ps_sqlite_build_discard(&s->build); /* no-op once published */
    s->building = 0;
    ps_error e2 = {0};
    ps_status st2 = connect(s, OPEN_STORE, st == PS_OK ? err : &e2);
    if (st2 != PS_OK)
        disconnect(s); /* s->db NULL: the sink's later calls fail with this reason */
    return st != PS_OK ? st : st2;
}

/* A deferred instance (created while another built the new store): connects once the store
 * exists; PS_OK and still unconnected while it does not. */
static ps_status connect_deferred(sq_sink *s)
{
    struct stat sb;
    if (s->db || !s->deferred || lstat(s->path, &sb) != 0)
        return PS_OK;
    ps_error e = {0};
    s->deferred = 0;
    ps_status st = connect(s, OPEN_STORE, &e);
    if (st != PS_OK) {
        disconnect(s);
        s->host->log(s->env, PS_LOG_ERROR, "%s", e.message);
    }
    return st;
}

static ps_status sq_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    const ps_host *h = ctx->host;
    const char *path = h->opt_string(ctx->options, PS_SQLITE_PATH_OPTION);
    if (!path || !*path)
        path = PS_SQLITE_DEFAULT_PATH;
    sq_sink *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    s->host = h;
    s->env = ctx->env;
    s->chunk_rows = h->opt_is_set(ctx->options, "chunk_rows")
                        ? (uint64_t)h->opt_int(ctx->options, "chunk_rows")
                        : 16384;
    /* a duration of 0..1h, checked by the core (sq_options) */
    s->busy_ms = ps_store_busy_ms(h, ctx->options);
    if (ps_make_parents(s->path) != 0) {
        ps_status e =
            ps_error_setf(err, PS_ERR_SINK, "cannot create the folder of sqlite store '%s': %s",
                          PS_SHOWN(s->path), strerror(errno));
        sq_destroy(s);
        return e;
    }
    ps_status st = connect(s, OPEN_MAY_DEFER, err);
    if (st != PS_OK) {
        sq_destroy(s);
        return st;
    }
    *inst = s;
    return PS_OK;
}

/* Commits the run's start marker (store.h: PS_STORE_RUN_INTERRUPTED) in a transaction of
 * its own, before the dataset's: a run killed later, or whose failure cannot be recorded,
 * stays visible as interrupted. The outcome replaces the row (same dataset and run ID). A
 * marker that cannot be written is only logged: the dataset's transaction then fails with
 * the reason. */
static int step_done(sqlite3_stmt *st);

static void mark_started(sq_sink *s, int64_t started_ms)
{
    char started[32], error[sizeof PS_STORE_RUN_INTERRUPTED + 64];
    ps_store_format_ms(started_ms, started);
    /* the pid with its start time: a later process given the same pid is not this run */
    unsigned long long since = 0;
    ps_proc_start_time((long)getpid(), &since);
    snprintf(error, sizeof error, "%s%ld%s%llu", PS_STORE_RUN_INTERRUPTED, (long)getpid(),
             PS_STORE_RUN_START, since);
    sqlite3_stmt *st = NULL;
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(s->db,
                                "INSERT OR REPLACE INTO " PS_STORE_T_RUNS
                                " (run_id, dataset, started, started_ms, outcome, error)"
                                " VALUES (?1, ?2, ?3, ?4, 'failed', ?5)",
                                -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, s->run_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, s->dataset, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, started, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 4, started_ms);
            sqlite3_bind_text(st, 5, error, -1, SQLITE_STATIC);
            rc = step_done(st);
        }
        sqlite3_finalize(st);
        rc = rc == SQLITE_OK ? exec(s, "COMMIT") : rc;
        if (rc != SQLITE_OK && !sqlite3_get_autocommit(s->db))
            exec(s, "ROLLBACK");
    }
    if (rc != SQLITE_OK)
        s->host->log(s->env, PS_LOG_WARN, "sqlite store '%s': cannot record the start of '%s': %s",
                     PS_SHOWN(s->path), s->dataset, sqlite3_errmsg(s->db));
}

/* Counts the open dataset's present payments (their current versions). */
static int count_present(sq_sink *s, uint64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT count(*) FROM " PS_STORE_T_PAYMENTS
                                " WHERE dataset = ?1 AND vanished_run IS NULL AND valid_to IS NULL",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, s->dataset, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            sqlite3_int64 v = sqlite3_column_int64(st, 0);
            *out = v < 0 ? 0 : (uint64_t)v;
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* In the open transaction: whether the dataset has payments, its last successful run, its
 * published version and whether a run left unpublished versions; empties the seen-ID set. */
static int dataset_state(sq_sink *s)
{
    scan_invalidate(s);
    s->range_open = s->seen_any = 0;
    int rc = exec(s, "DELETE FROM temp.ps_seen");
    sqlite3_stmt *st = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db,
                                "SELECT EXISTS (SELECT 1 FROM " PS_STORE_T_PAYMENTS
                                " WHERE dataset = ?1), c.run_id, c.version, c.pending IS NOT NULL"
                                " FROM (SELECT 1) LEFT JOIN " PS_STORE_T_CURSORS
                                " c ON c.dataset = ?1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, s->dataset, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            s->has_rows = sqlite3_column_int(st, 0);
            const char *prev = (const char *)sqlite3_column_text(st, 1);
            s->published = sqlite3_column_type(st, 2) != SQLITE_NULL;
            s->pub_version = sqlite3_column_int64(st, 2);
            s->has_pending = sqlite3_column_int(st, 3);
            rc = prev && !(s->prev_run = strdup(prev)) ? SQLITE_NOMEM : SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Size of the WAL file (0 when there is none). */
static off_t wal_size(sq_sink *s)
{
    char wal[4096];
    struct stat sb;
    if ((size_t)snprintf(wal, sizeof wal, "%s-wal", s->path) >= sizeof wal || stat(wal, &sb) != 0)
        return 0;
    return sb.st_size;
}

/* Commits the open transaction and begins the next, and copies the WAL back into the database
 * and truncates it: TRUNCATE waits (busy_timeout) for the readers of older snapshots to
 * finish, new readers read the database, so the WAL never holds much more than one chunk
 * however busily the store is read. */
static void checkpoint(sq_sink *s);

static int chunk_commit(sq_sink *s)
{
    scan_invalidate(s); /* no statement of ours reads across the commit */
    int rc = exec(s, "COMMIT");
    if (rc != SQLITE_OK)
        return rc;
    s->in_txn = 0;
    s->chunks_committed++;
    s->chunk_written = 0;
    ps_crash_point("store-chunk-committed");
    checkpoint(s);
    s->wal_base = wal_size(s);
    rc = exec(s, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK)
        s->in_txn = 1;
    return rc;
}

/* ps_sqlite_progress_fn of the writer: after `writes` rows, commits the chunk when it holds
 * chunk_rows of them or has grown the WAL by CHUNK_WAL_BYTES (looked at every 64 writes). */
static int progress(void *ctx, uint64_t writes)
{
    sq_sink *s = ctx;
    s->chunk_written += writes;
    s->since_wal_check += writes;
    int due = s->chunk_written >= s->chunk_rows;
    /* (a new store's side file has no WAL) */
    if (!due && !s->building && s->since_wal_check >= 64) {
        s->since_wal_check = 0;
        due = wal_size(s) - s->wal_base >= CHUNK_WAL_BYTES;
    }
    return due ? chunk_commit(s) : SQLITE_OK;
}

/* Deletes the open dataset's payments in chunks, each committed (the rows of an unpublished
 * first load that failed or was killed: no reader ever saw them). In the open transaction;
 * leaves one open. */
static int delete_unpublished(sq_sink *s)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(s->db,
                           "DELETE FROM " PS_STORE_T_PAYMENTS " WHERE (dataset, id, valid_from) IN"
                           " (SELECT dataset, id, valid_from FROM " PS_STORE_T_PAYMENTS
                           " WHERE dataset = ?1 LIMIT 256)",
                           -1, &st, NULL);
    while (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, s->dataset, -1, SQLITE_STATIC);
        rc = step_done(st);
        int n = rc == SQLITE_OK ? sqlite3_changes(s->db) : 0;
        if (rc != SQLITE_OK || n == 0)
            break;
        rc = progress(s, (uint64_t)n);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Refuses when another live run is writing the dataset: its chunks are committed one by one,
 * so the write lock alone does not keep it. */
static ps_status refuse_other_writer(sq_sink *s, ps_error *err)
{
    sqlite3_stmt *st = NULL;
    long other = 0;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT error FROM " PS_STORE_T_RUNS " WHERE dataset = ?1"
                                " AND run_id <> ?2 AND finished IS NULL",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, s->dataset, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, s->run_id, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            long pid = 0;
            if (ps_store_marker_live((const char *)sqlite3_column_text(st, 0), &pid) &&
                pid != (long)getpid())
                other = pid;
        }
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        char what[300];
        snprintf(what, sizeof what, "looking for another run of dataset '%s'", s->dataset);
        return sq_fail(s, s->db, rc, what, err);
    }
    if (other)
        return ps_error_setf(err, PS_ERR_SINK,
                             "sqlite store '%s': dataset '%s' is being written by another run "
                             "(pid %ld); try again when it has ended",
                             PS_SHOWN(s->path), s->dataset, other);
    return PS_OK;
}

/* Sets or clears (version < 0) cursors.pending of the open dataset, in the open transaction. */
static int set_pending(sq_sink *s, int64_t version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db, "UPDATE " PS_STORE_T_CURSORS " SET pending = ?2 WHERE dataset = ?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, s->dataset, -1, SQLITE_STATIC);
        if (version >= 0)
            sqlite3_bind_int64(st, 2, version);
        else
            sqlite3_bind_null(st, 2);
        rc = step_done(st);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Before writing, in the open transaction: removes what a failed or killed run left. A first
 * load (no cursors row) deletes every row of the dataset (none was ever published) and writes
 * version 0; a later run discards the unpublished versions, deletes superseded ones a killed
 * run had not collected yet, and writes the next version. SQLite result code. */
static int prepare_versions(sq_sink *s)
{
    int rc = SQLITE_OK;
    if (!s->published) {
        s->version = 0;
        if (s->has_rows) {
            s->host->log(s->env, PS_LOG_INFO,
                         "sqlite store '%s': removing the unpublished payments of dataset '%s' "
                         "(a first load that failed or was killed)",
                         PS_SHOWN(s->path), s->dataset);
            rc = delete_unpublished(s);
            s->has_rows = 0;
        }
        return rc;
    }
    s->version = s->pub_version + 1;
    if (s->has_pending) {
        s->host->log(s->env, PS_LOG_INFO,
                     "sqlite store '%s': removing the unpublished changes of dataset '%s' (a run "
                     "that failed or was killed)",
                     PS_SHOWN(s->path), s->dataset);
        rc = ps_sqlite_versions_discard(s->db, s->dataset, s->pub_version, progress, s);
    }
    if (rc == SQLITE_OK)
        rc = ps_sqlite_versions_collect(s->db, s->dataset, s->pub_version, progress, s);
    /* committed with the first chunk: from then on a crash leaves versions to discard */
    if (rc == SQLITE_OK)
        rc = set_pending(s, s->version);
    if (rc == SQLITE_OK)
        rc = count_present(s, &s->stored_before);
    return rc;
}

/* In the open transaction: creates the payments indexes that are missing (a first load that
 * dropped them was killed); no-ops when present. */
static int ensure_indexes(sq_sink *s)
{
    int rc = SQLITE_OK;
    for (int i = 0; i < PS_STORE_PAYMENT_INDEXES && rc == SQLITE_OK; i++)
        rc = exec(s, ps_store_payment_index(i, 0));
    return rc;
}

/* At the open of a first load: when the payments table is empty, watches the rows' time
 * order (order_watch, watch_order), after making sure the indexes exist (a killed first load
 * may have left them dropped). Rows in time order append to the two time indexes, which
 * costs less than building them after the rows (a sort and a read of the whole table each);
 * rows in no order would touch random pages of them and thrash the page cache, and each
 * chunk's commit would write those pages again: at the first row older than one before it,
 * the indexes are dropped and built once after the rows. The partial index of closed
 * versions stays (a first load has none). Nobody reads the table meanwhile: it holds only
 * this unpublished load. SQLite result code. */
static int watch_first_load(sq_sink *s)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT EXISTS (SELECT 1 FROM " PS_STORE_T_PAYMENTS ")", -1,
                                &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int empty = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return rc;
    s->order_watch = empty;
    s->last_ts = INT64_MIN;
    return ensure_indexes(s);
}

/* Drops the time indexes of a first load into an empty payments table, to be built after
 * its rows (build_indexes). SQLite result code. */
static int drop_indexes(sq_sink *s)
{
    int rc = SQLITE_OK;
    for (int i = 0; i < PS_STORE_PAYMENT_BULK_INDEXES && rc == SQLITE_OK; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS %s", ps_store_payment_index(i, 1));
        rc = exec(s, sql);
    }
    s->indexes_dropped = rc == SQLITE_OK;
    s->order_watch = 0;
    return rc;
}

/* A first load's row of timestamp ts was written: while the rows come in time order the time
 * indexes stay; at the first older row they are dropped. */
static int watch_order(sq_sink *s, int64_t ts)
{
    if (ts >= s->last_ts) {
        s->last_ts = ts;
        return SQLITE_OK;
    }
    return drop_indexes(s);
}

/* Before the publishing commit of a first load that dropped the indexes: builds each in a
 * transaction of its own, checkpointed (the WAL holds one index at a time). */
static int build_indexes(sq_sink *s)
{
    int rc = chunk_commit(s);
    for (int i = 0; i < PS_STORE_PAYMENT_BULK_INDEXES && rc == SQLITE_OK; i++) {
        rc = exec(s, ps_store_payment_index(i, 0));
        if (rc == SQLITE_OK)
            rc = chunk_commit(s);
    }
    if (rc == SQLITE_OK)
        s->indexes_dropped = 0;
    if (rc == SQLITE_OK)
        rc = exec(s, CACHE_INDEXED_LOAD);
    return rc;
}

/* Runs sql, its ?1 bound to the open dataset, in the open transaction. SQLite result code. */
static int exec_dataset(sq_sink *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, s->dataset, -1, SQLITE_STATIC);
        rc = step_done(st);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Lists (on) or unlists the open dataset in PS_STORE_T_METER_DEFERRED, in the open
 * transaction: while listed, the meter index's triggers leave its rows to fill_meter. */
static int defer_meter(sq_sink *s, int on)
{
    return exec_dataset(s, on ? "INSERT OR IGNORE INTO " PS_STORE_T_METER_DEFERRED
                                " (dataset) VALUES (?1)"
                              : "DELETE FROM " PS_STORE_T_METER_DEFERRED " WHERE dataset = ?1");
}

/* fill_meter's inserts between two looks at the WAL. */
#define METER_FILL_ROWS 65536

/* A failure of the meter keys' sort (errno): SQLITE_IOERR, with s->fill_errno set. */
static int meter_sort_failed(sq_sink *s)
{
    s->fill_errno = errno ? errno : EIO;
    snprintf(s->fill_tmpdir, sizeof s->fill_tmpdir, "%s", ps_meter_sort_tmpdir(s->meters));
    return SQLITE_IOERR;
}

/* A first load: adds the meter key of the payment r, just written, to s->meters. */
static int add_meter_key(sq_sink *s, const ps_record *r)
{
    ps_str meter = r->field[PS_F_METER_ID];
    if (!meter.ptr)
        return SQLITE_OK;
    ps_meter_key k = {.meter = meter.ptr,
                      .meter_len = meter.len,
                      .timestamp_ms = r->timestamp_ms,
                      .id = r->field[PS_F_ID].ptr,
                      .id_len = r->field[PS_F_ID].len,
                      .valid_from = s->version};
    return ps_meter_sort_add(s->meters, &k) == 0 ? SQLITE_OK : meter_sort_failed(s);
}

/* Meter keys inserted by one statement of fill_meter. */
#define METER_GROUP 64

/* Keys of fill_meter waiting for their statement, their texts copied (a sorted key's bytes
 * last only until the next one is read). */
typedef struct meter_group {
    struct {
        size_t off, mlen, idlen;
        int64_t ts, vf;
    } k[METER_GROUP];
    int n;
    char *bytes;
    size_t nbytes, cap;
} meter_group;

static int meter_group_add(meter_group *g, const ps_meter_key *k)
{
    size_t len = k->meter_len + k->id_len;
    if (g->nbytes + len > g->cap) {
        size_t c = g->cap ? g->cap : 4096;
        while (c < g->nbytes + len)
            c *= 2;
        char *b = realloc(g->bytes, c);
        if (!b)
            return SQLITE_NOMEM;
        g->bytes = b;
        g->cap = c;
    }
    memcpy(g->bytes + g->nbytes, k->meter, k->meter_len);
    memcpy(g->bytes + g->nbytes + k->meter_len, k->id, k->id_len);
    g->k[g->n].off = g->nbytes;
    g->k[g->n].mlen = k->meter_len;
    g->k[g->n].idlen = k->id_len;
    g->k[g->n].ts = k->timestamp_ms;
    g->k[g->n].vf = k->valid_from;
    g->n++;
    g->nbytes += len;
    return SQLITE_OK;
}

/* Prepares the insert of n meter keys into *st, the dataset bound as ?1 and key j as
 * ?(2 + 4j) .. ?(5 + 4j). */
static int prepare_meter_insert(sq_sink *s, int n, sqlite3_stmt **st)
{
    static const char head[] = "INSERT OR IGNORE INTO " PS_STORE_T_METER
                               " (meter_id, timestamp_ms, dataset, id, valid_from) VALUES ";
    char sql[sizeof head + METER_GROUP * 48];
    size_t len = (size_t)snprintf(sql, sizeof sql, "%s", head);
    for (int j = 0; j < n && len < sizeof sql; j++) {
        int p = 2 + 4 * j;
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s(?%d, ?%d, ?1, ?%d, ?%d)",
                                j ? ", " : "", p, p + 1, p + 2, p + 3);
    }
    if (len >= sizeof sql)
        return SQLITE_TOOBIG;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(*st, 1, s->dataset, -1, SQLITE_STATIC);
    return rc;
}

/* Inserts the n keys of g from index i with st (prepare_meter_insert of n). */
static int insert_meter_keys(sqlite3_stmt *st, const meter_group *g, int i, int n)
{
    for (int j = 0; j < n; j++) {
        int p = 2 + 4 * j;
        const char *b = g->bytes + g->k[i + j].off;
        size_t ml = g->k[i + j].mlen;
        sqlite3_bind_text(st, p, b, (int)ml, SQLITE_STATIC);
        sqlite3_bind_int64(st, p + 1, g->k[i + j].ts);
        sqlite3_bind_text(st, p + 2, b + ml, (int)g->k[i + j].idlen, SQLITE_STATIC);
        sqlite3_bind_int64(st, p + 3, g->k[i + j].vf);
    }
    return step_done(st);
}

/* Before the publishing commit of a first load: fills the meter index (PS_STORE_T_METER) with
 * the dataset's keys, which its triggers leave out while the dataset is listed in
 * PS_STORE_T_METER_DEFERRED (defer_meter), and unlists it. The keys were added as the rows
 * were written (add_meter_key: a first load only inserts) and come sorted (meter_sort.h, in
 * bounded memory, the rest in a temporary file): into an empty index every entry is an
 * append. Committed in chunks under the WAL bound (CHUNK_WAL_BYTES), unless in a side file,
 * which has no WAL. Nobody sees the dataset until the publishing commit, so a load killed
 * meanwhile leaves keys that the next run's removal of the unpublished rows deletes with them
 * (the delete trigger), and the dataset listed: that run is a first load again. In the open
 * transaction; leaves one open, in which the dataset is no longer listed. */
static int fill_meter(sq_sink *s)
{
    if (!s->meters)
        return SQLITE_MISUSE;
    int rc = exec(s, CACHE_METER_FILL);
    if (rc == SQLITE_OK && ps_meter_sort_finish(s->meters) != 0)
        rc = meter_sort_failed(s);
    /* METER_GROUP keys to a statement (one B-tree cursor stays on the index's last page),
     * the last fewer one by one; ?1 is the dataset */
    sqlite3_stmt *group = NULL, *one = NULL;
    if (rc == SQLITE_OK)
        rc = prepare_meter_insert(s, METER_GROUP, &group);
    if (rc == SQLITE_OK)
        rc = prepare_meter_insert(s, 1, &one);
    meter_group g = {0};
    for (uint64_t since = 0; rc == SQLITE_OK;) {
        ps_meter_key k;
        int got = ps_meter_sort_next(s->meters, &k);
        if (got < 0)
            rc = meter_sort_failed(s);
        if (got > 0)
            rc = meter_group_add(&g, &k);
        if (rc == SQLITE_OK && (g.n == METER_GROUP || (got == 0 && g.n))) {
            sqlite3_stmt *st = g.n == METER_GROUP ? group : one;
            for (int i = 0; i < g.n && rc == SQLITE_OK; i += st == one ? 1 : METER_GROUP)
                rc = insert_meter_keys(st, &g, i, st == one ? 1 : METER_GROUP);
            since += (uint64_t)g.n;
            g.n = 0;
            g.nbytes = 0;
        }
        if (got <= 0)
            break;
        if (rc == SQLITE_OK && !s->building && since >= METER_FILL_ROWS) {
            since = 0;
            if (wal_size(s) - s->wal_base >= CHUNK_WAL_BYTES)
                rc = chunk_commit(s);
        }
    }
    free(g.bytes);
    sqlite3_finalize(group);
    sqlite3_finalize(one);
    ps_meter_sort_free(s->meters);
    s->meters = NULL;
    /* a new store's side file dropped the insert trigger for its first load */
    if (rc == SQLITE_OK && s->building)
        rc = exec(s, "DROP TRIGGER IF EXISTS payments_meter_ins");
    if (rc == SQLITE_OK && s->building)
        rc = exec(s, PS_STORE_METER_INS_TRIGGER);
    if (rc == SQLITE_OK)
        rc = defer_meter(s, 0);
    return rc;
}

/* sq_fail, or the message of a failed sort of the meter keys (s->fill_errno). */
static ps_status store_fail(sq_sink *s, int rc, const char *what, ps_error *err)
{
    if (!s->fill_errno)
        return sq_fail(s, s->db, rc, what, err);
    return ps_error_setf(err, PS_ERR_SINK,
                         "sqlite store '%s': %s: cannot sort the meter index's keys in a "
                         "temporary file in '%s' (set TMPDIR to a writable folder with room): %s",
                         PS_SHOWN(s->path), what, PS_SHOWN(s->fill_tmpdir),
                         strerror(s->fill_errno));
}

void ps_store_sqlite_set_window(void *writer, int64_t from_ms, int64_t to_ms)
{
    sq_sink *s = writer;
    s->win_from = from_ms;
    s->win_to = to_ms;
}

/* A window's counts: payments present before this run (current versions not first seen by
 * it) with a TIMESTAMP inside the window, and those of them this run neither wrote
 * (last_seen_run = run) nor found unchanged (PS_STORE_SEEN). */
static int count_window(sq_sink *s, uint64_t *stored, uint64_t *vanishing)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db,
        "SELECT count(*), coalesce(sum(last_seen_run <> ?2 AND NOT " PS_STORE_SEEN(
            "p") "), 0) FROM " PS_STORE_T_PAYMENTS " p"
                 " WHERE dataset = ?1 AND vanished_run IS NULL AND valid_to IS NULL"
                 " AND first_seen_run <> ?2 AND timestamp_ms BETWEEN ?3 AND ?4",
        -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, s->dataset, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, s->run_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, s->win_from);
        sqlite3_bind_int64(st, 4, s->win_to);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            sqlite3_int64 a = sqlite3_column_int64(st, 0), b = sqlite3_column_int64(st, 1);
            *stored = a < 0 ? 0 : (uint64_t)a;
            *vanishing = b < 0 ? 0 : (uint64_t)b;
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

ps_status ps_store_sqlite_pending_vanish(void *writer, uint64_t *stored, uint64_t *vanishing,
                                         ps_error *err)
{
    sq_sink *s = writer;
    *stored = *vanishing = 0;
    if (!s->in_txn)
        return ps_error_setf(err, PS_ERR_INTERNAL,
                             "sqlite store '%s': vanish count without an open dataset",
                             PS_SHOWN(s->path));
    if (s->win_from != INT64_MIN || s->win_to != INT64_MAX) {
        scan_invalidate(s);
        int rc = flush_range(s);
        if (rc == SQLITE_OK && s->stored_before)
            rc = count_window(s, stored, vanishing);
        return rc == SQLITE_OK ? PS_OK
                               : sq_fail(s, s->db, rc, "counting the window's payments", err);
    }
    *stored = s->stored_before;
    /* every present payment this run wrote or found unchanged was counted once */
    *vanishing = s->stored_before - s->seen_present;
    return PS_OK;
}

static ps_status sq_open(void *inst, const ps_sink_open_args *args, ps_error *err)
{
    sq_sink *s = inst;
    if (s->in_txn)
        return ps_error_setf(err, PS_ERR_INTERNAL,
                             "sqlite store '%s': dataset '%s' opened while '%s' is still open",
                             PS_SHOWN(s->path), args->dataset, s->dataset ? s->dataset : "?");
    if (!s->db && s->deferred) {
        s->deferred = 0;
        ps_status e = connect(s, OPEN_MAY_BUILD, err);
        if (e != PS_OK) {
            disconnect(s);
            s->deferred = 1;
            return e;
        }
    }
    if (!s->db)
        return ps_error_setf(err, PS_ERR_SINK, "sqlite store '%s' is not open (see above)",
                             PS_SHOWN(s->path));
    free_dataset_state(s);
    if (ps_store_copy_names(args, &s->dataset, &s->run_id, &s->target_id, err) != PS_OK)
        return err->code;
    s->level = args->target_level;
    s->inserted = s->changed = s->unchanged = 0;
    mark_started(s, args->started_ms);
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) {
        char what[300];
        snprintf(what, sizeof what, "starting the transaction of dataset '%s'", s->dataset);
        return sq_fail(s, s->db, rc, what, err);
    }
    s->in_txn = 1;
    s->stored_before = s->seen_present = 0;
    s->win_from = INT64_MIN;
    s->win_to = INT64_MAX;
    s->has_rows = s->published = s->has_pending = 0;
    s->chunked = 1;
    s->chunk_written = s->since_wal_check = s->chunks_committed = s->superseded = 0;
    s->wal_base = wal_size(s);
    rc = dataset_state(s);
    ps_status e = PS_OK;
    if (rc == SQLITE_OK)
        e = refuse_other_writer(s, err);
    if (rc == SQLITE_OK && e == PS_OK)
        rc = prepare_versions(s);
    s->indexes_dropped = s->order_watch = 0;
    s->index_bytes = 0;
    s->dataset_len = strlen(s->dataset);
    if (rc == SQLITE_OK && e == PS_OK)
        rc = s->published ? ensure_indexes(s) : watch_first_load(s);
    /* a first load's meter keys: filled from a sort before it publishes (fill_meter) */
    if (rc == SQLITE_OK && e == PS_OK && !s->published)
        rc = defer_meter(s, 1);
    s->fill_errno = 0;
    if (rc == SQLITE_OK && e == PS_OK && !s->published &&
        !(s->meters = ps_meter_sort_new(METER_SORT_BYTES, NULL)))
        rc = SQLITE_NOMEM;
    /* a new store's side file: not even the trigger's test per row (created again by
     * fill_meter) */
    if (rc == SQLITE_OK && e == PS_OK && s->building)
        rc = exec(s, "DROP TRIGGER IF EXISTS payments_meter_ins");
    if (rc == SQLITE_OK && e == PS_OK)
        rc = exec(s, s->published ? CACHE_RERUN : CACHE_FIRST_LOAD);
    if (rc != SQLITE_OK || e != PS_OK) {
        if (rc != SQLITE_OK) {
            char what[300];
            snprintf(what, sizeof what, "preparing the run of dataset '%s'", s->dataset);
            e = sq_fail(s, s->db, rc, what, err);
        }
        if (!sqlite3_get_autocommit(s->db))
            exec(s, "ROLLBACK");
        s->in_txn = 0;
        s->chunked = 0;
        return e;
    }
    return PS_OK;
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* Binds a record value with its length (no strlen); NULL when absent. */
static int bind_str(sqlite3_stmt *st, int i, ps_str v)
{
    return v.ptr ? sqlite3_bind_text(st, i, v.ptr, (int)v.len, SQLITE_STATIC)
                 : sqlite3_bind_null(st, i);
}

/* Binds the values of record r that differ from row to row, each parameter p at p + off
 * (0, or row j's j * P_COUNT in st_insert_rows). */
static int bind_values(sqlite3_stmt *st, const ps_record *r, int off)
{
    int rc = SQLITE_OK;
    for (int f = 0; f < PS_FIELD_COUNT && rc == SQLITE_OK; f++)
        rc = bind_str(st, off + P_FIELD0 + f, r->field[f]);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, off + P_TIMESTAMP_MS, r->timestamp_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, off + P_AMOUNT_UNITS, r->amount.units);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, off + P_AMOUNT_SCALE, r->amount.scale);
    if (rc == SQLITE_OK)
        rc = r->has_charges ? sqlite3_bind_int64(st, off + P_CHARGES_UNITS, r->charges.units)
                            : sqlite3_bind_null(st, off + P_CHARGES_UNITS);
    if (rc == SQLITE_OK)
        rc = r->has_charges ? sqlite3_bind_int(st, off + P_CHARGES_SCALE, r->charges.scale)
                            : sqlite3_bind_null(st, off + P_CHARGES_SCALE);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, off + P_ID_DERIVED, r->id_derived ? 1 : 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, off + P_SOURCE_ROW, (sqlite3_int64)r->source_row);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, off + P_CONTENT_HASH, (sqlite3_int64)r->content_hash);
    return rc;
}

/* Binds the values every row of the open dataset shares (dataset, target, run). */
static int bind_shared(sq_sink *s, sqlite3_stmt *st)
{
    int rc = bind_text(st, P_DATASET, s->dataset);
    if (rc == SQLITE_OK)
        rc = bind_text(st, P_TARGET_LEVEL, ps_store_target_level_name(s->level));
    if (rc == SQLITE_OK)
        rc = bind_text(st, P_TARGET_ID, s->target_id);
    if (rc == SQLITE_OK)
        rc = bind_text(st, P_RUN, s->run_id);
    return rc;
}

static int bind_record(sq_sink *s, sqlite3_stmt *st, const ps_record *r)
{
    int rc = bind_shared(s, st);
    if (rc == SQLITE_OK)
        rc = bind_values(st, r, 0);
    return rc;
}

/* A first load (the dataset had no rows, so every record is a new payment): writes the
 * MULTI_ROWS records rs with one statement (st_insert_rows). SQLite result code; *stored
 * the rows written (MULTI_ROWS unless another writer stored one of the IDs). */
static int insert_rows(sq_sink *s, const ps_record *rs, int *stored)
{
    sqlite3_stmt *st = s->st_insert_rows;
    int rc = bind_shared(s, st);
    if (rc == SQLITE_OK)
        rc = bind_text(st, P_FIRST_SEEN, s->run_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, P_VALID_FROM, s->version);
    for (int j = 0; j < MULTI_ROWS && rc == SQLITE_OK; j++)
        rc = bind_values(st, &rs[j], j * P_COUNT);
    if (rc == SQLITE_OK)
        rc = step_done(st);
    *stored = rc == SQLITE_OK ? sqlite3_changes(s->db) : 0;
    return rc;
}

/* Runs a bound write statement to completion and resets it. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Copies n bytes to b (0 or SQLITE_NOMEM). */
static int buf_set(sq_buf *b, const char *p, size_t n)
{
    if (n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return SQLITE_NOMEM;
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p, p, n);
    b->p[n] = '\0';
    b->len = n;
    return SQLITE_OK;
}

/* Orders two IDs as SQLite's BINARY collation orders text: bytes, then length. */
static int id_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

/* Forgets the scan's position (after a write to payments, before a commit): the next lookup
 * seeks. */
static void scan_invalidate(sq_sink *s)
{
    if (s->scan_state != SCAN_SEEK)
        sqlite3_reset(s->st_scan);
    s->scan_state = SCAN_SEEK;
    s->scan_used = s->scan_adjacent = 0;
}

/* Writes the open range of unchanged IDs to temp.ps_seen, merged with any range it overlaps
 * (only when the input went back: an ID repeated within a run), so that ranges stay disjoint
 * and the one with the greatest lo <= an ID is the only one that can hold it. */
static int flush_range(sq_sink *s)
{
    if (!s->range_open)
        return SQLITE_OK;
    s->range_open = 0;
    int rc = SQLITE_OK;
    if (s->seen_any &&
        id_cmp(s->range_lo.p, s->range_lo.len, s->seen_max.p, s->seen_max.len) <= 0) {
        for (;;) {
            sqlite3_stmt *st = s->st_seen_prev;
            sqlite3_bind_text(st, 1, s->range_hi.p, (int)s->range_hi.len, SQLITE_STATIC);
            rc = sqlite3_step(st);
            if (rc != SQLITE_ROW) {
                sqlite3_reset(st);
                rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
                break;
            }
            const char *lo = (const char *)sqlite3_column_text(st, 0);
            size_t lo_len = (size_t)sqlite3_column_bytes(st, 0);
            const char *hi = (const char *)sqlite3_column_text(st, 1);
            size_t hi_len = (size_t)sqlite3_column_bytes(st, 1);
            if (!lo || !hi || id_cmp(hi, hi_len, s->range_lo.p, s->range_lo.len) < 0) {
                sqlite3_reset(st);
                rc = lo && hi ? SQLITE_OK : SQLITE_NOMEM;
                break;
            }
            /* overlaps: the union replaces both */
            rc = SQLITE_OK;
            if (id_cmp(hi, hi_len, s->range_hi.p, s->range_hi.len) > 0)
                rc = buf_set(&s->range_hi, hi, hi_len);
            if (rc == SQLITE_OK && id_cmp(lo, lo_len, s->range_lo.p, s->range_lo.len) < 0)
                rc = buf_set(&s->range_lo, lo, lo_len);
            if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(s->st_seen_del, 1, lo, (int)lo_len, SQLITE_TRANSIENT);
            sqlite3_reset(st);
            if (rc == SQLITE_OK)
                rc = step_done(s->st_seen_del);
            if (rc != SQLITE_OK)
                break;
        }
    }
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(s->st_seen, 1, s->range_lo.p, (int)s->range_lo.len, SQLITE_STATIC);
        sqlite3_bind_text(s->st_seen, 2, s->range_hi.p, (int)s->range_hi.len, SQLITE_STATIC);
        rc = step_done(s->st_seen);
    }
    if (rc == SQLITE_OK && (!s->seen_any || id_cmp(s->range_hi.p, s->range_hi.len, s->seen_max.p,
                                                   s->seen_max.len) > 0))
        rc = buf_set(&s->seen_max, s->range_hi.p, s->range_hi.len);
    if (rc == SQLITE_OK)
        s->seen_any = 1;
    return rc;
}

/* Records the ID found unchanged: extends the open range when it is the scan's row right
 * after the last one found unchanged, else starts a new range. */
static int note_unchanged(sq_sink *s, const char *id, size_t len, int adjacent)
{
    if (s->range_open && adjacent)
        return buf_set(&s->range_hi, id, len);
    int rc = flush_range(s);
    if (rc == SQLITE_OK)
        rc = buf_set(&s->range_lo, id, len);
    if (rc == SQLITE_OK)
        rc = buf_set(&s->range_hi, id, len);
    if (rc == SQLITE_OK)
        s->range_open = 1;
    return rc;
}

/* Seeks the scan to the first current version with an ID >= id. */
static int scan_seek(sq_sink *s, const char *id, size_t len)
{
    sqlite3_reset(s->st_scan);
    s->scan_used = s->scan_adjacent = 0;
    int rc = sqlite3_bind_text(s->st_scan, 1, s->dataset, (int)s->dataset_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s->st_scan, 2, id, (int)len, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s->st_scan);
    s->scan_state = rc == SQLITE_ROW ? SCAN_ROW : SCAN_SEEK;
    if (rc == SQLITE_DONE)
        s->scan_state = SCAN_END;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Steps the scan to its next row; 0 when the step failed (the caller seeks instead). */
static int scan_step(sq_sink *s)
{
    int rc = sqlite3_step(s->st_scan);
    if (rc == SQLITE_DONE)
        s->scan_state = SCAN_END;
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* Orders the scan's row's ID against id (a row without one first). */
static int scan_cmp(sq_sink *s, const char *id, size_t len)
{
    const char *cur = (const char *)sqlite3_column_text(s->st_scan, 0);
    return cur ? id_cmp(cur, (size_t)sqlite3_column_bytes(s->st_scan, 0), id, len) : -1;
}

/* How many rows the scan steps over, looking for an ID further on, before it seeks instead. */
#define SCAN_SKIP_MAX 8

/* Looks the payment with this ID up among the dataset's current versions: *found is 1 when
 * the scan's row is it (read its columns from st_scan), *adjacent when that row directly
 * follows the one found for the previous ID. SQLite result code. */
static int scan_lookup(sq_sink *s, const char *id, size_t len, int *found, int *adjacent)
{
    *found = *adjacent = 0;
    int rc = SQLITE_OK;
    /* the rows between the previous ID and the scan's row are absent: usable for a later ID */
    int usable = s->scan_state != SCAN_SEEK && id_cmp(id, len, s->floor.p, s->floor.len) > 0;
    int adj = usable && s->scan_adjacent;
    if (usable && s->scan_state == SCAN_ROW && s->scan_used) {
        s->scan_used = 0;
        usable = scan_step(s);
    }
    for (int k = 0; usable && s->scan_state == SCAN_ROW; k++) {
        int c = scan_cmp(s, id, len);
        if (c >= 0) {
            *found = c == 0;
            break;
        }
        adj = 0; /* a stored payment not in the input (yet) */
        usable = k < SCAN_SKIP_MAX && scan_step(s);
    }
    if (!usable) {
        adj = 0;
        rc = scan_seek(s, id, len);
        *found = rc == SQLITE_OK && s->scan_state == SCAN_ROW && scan_cmp(s, id, len) == 0;
    }
    if (rc == SQLITE_OK)
        rc = buf_set(&s->floor, id, len);
    if (rc != SQLITE_OK) {
        scan_invalidate(s);
        return rc;
    }
    if (*found) {
        s->scan_used = 1;
        *adjacent = adj;
    }
    /* the next ID is adjacent when it matches the row after this one */
    s->scan_adjacent = *found;
    return SQLITE_OK;
}

/* The index entries' bytes a new payment with an ID of idlen bytes adds (index_bytes): its
 * key (the longer of target ID and dataset) and the primary key. */
static uint64_t index_entry_bytes(const sq_sink *s, int idlen)
{
    size_t t = s->target_id ? strlen(s->target_id) : 0;
    return (uint64_t)(idlen + s->dataset_len + (t > s->dataset_len ? t : s->dataset_len) + 24);
}

/* Counts the bytes of the time indexes' entries a first load into an empty table adds: once
 * the indexes are dropped (watch_order) and the count passes BULK_INDEX_BYTES, they are
 * built, so that the WAL never holds too many of them at once; a new store's side file has
 * no WAL to bound and builds them after the rows. */
static int add_index_bytes(sq_sink *s, uint64_t bytes)
{
    s->index_bytes += bytes;
    if (s->indexes_dropped && s->index_bytes >= BULK_INDEX_BYTES && !s->building)
        return build_indexes(s);
    return SQLITE_OK;
}

/* The part of sq_write_batch for a first load: the MULTI_ROWS records of batch from index
 * i on, all new, with one statement (insert_rows). */
static ps_status write_rows(sq_sink *s, const ps_record_batch *batch, size_t i, ps_error *err)
{
    const ps_record *rs = &batch->records[i];
    for (int j = 0; j < MULTI_ROWS; j++)
        if (!rs[j].field[PS_F_ID].ptr)
            return ps_error_setf(err, PS_ERR_INTERNAL,
                                 "sqlite store '%s': record of source row %llu has no ID",
                                 PS_SHOWN(s->path), (unsigned long long)rs[j].source_row);
    int stored = 0;
    int rc = insert_rows(s, rs, &stored);
    if (rc == SQLITE_OK && stored != MULTI_ROWS)
        return ps_error_setf(err, PS_ERR_INTERNAL,
                             "sqlite store '%s': writing the payments of source rows %llu to "
                             "%llu: an ID was stored by another writer",
                             PS_SHOWN(s->path), (unsigned long long)rs[0].source_row,
                             (unsigned long long)rs[MULTI_ROWS - 1].source_row);
    if (rc == SQLITE_OK)
        s->inserted += MULTI_ROWS;
    for (int j = 0; j < MULTI_ROWS && rc == SQLITE_OK && s->meters; j++)
        rc = add_meter_key(s, &rs[j]);
    for (int j = 0; j < MULTI_ROWS && rc == SQLITE_OK && s->order_watch; j++)
        rc = watch_order(s, rs[j].timestamp_ms);
    if (rc == SQLITE_OK && (s->indexes_dropped || s->order_watch)) {
        uint64_t bytes = 0;
        for (int j = 0; j < MULTI_ROWS; j++)
            bytes += index_entry_bytes(s, (int)rs[j].field[PS_F_ID].len);
        rc = add_index_bytes(s, bytes);
    }
    if (rc == SQLITE_OK && s->chunked)
        rc = progress(s, MULTI_ROWS);
    if (rc == SQLITE_OK)
        return PS_OK;
    char what[200];
    snprintf(what, sizeof what, "writing the payments of source rows %llu to %llu",
             (unsigned long long)rs[0].source_row,
             (unsigned long long)rs[MULTI_ROWS - 1].source_row);
    return store_fail(s, rc, what, err);
}

static ps_status sq_write_batch(void *inst, const ps_record_batch *batch, ps_error *err)
{
    sq_sink *s = inst;
    if (!s->in_txn)
        return ps_error_setf(err, PS_ERR_INTERNAL, "sqlite store '%s': write without open",
                             PS_SHOWN(s->path));
    for (size_t i = 0; i < batch->count; i++) {
        const ps_record *r = &batch->records[i];
        const char *id = r->field[PS_F_ID].ptr;
        if (!id)
            return ps_error_setf(err, PS_ERR_INTERNAL,
                                 "sqlite store '%s': record of source row %llu has no ID",
                                 PS_SHOWN(s->path), (unsigned long long)r->source_row);
        /* a first load: MULTI_ROWS new payments to a statement, none across a chunk's end */
        if (!s->has_rows && batch->count - i >= MULTI_ROWS &&
            (!s->chunked || s->chunk_written + MULTI_ROWS <= s->chunk_rows)) {
            ps_status st = write_rows(s, batch, i, err);
            if (st != PS_OK)
                return st;
            i += MULTI_ROWS - 1;
            continue;
        }
        /* An unchanged payment costs a lookup, never a write: the row is found by its ID
         * (scan_lookup: usually the next row of one ordered read) and compared by content
         * hash; only new, changed and reappeared payments are written. The IDs of unchanged
         * ones go, as ranges, to a temporary table (temp.ps_seen, outside the database
         * file); commit flags the present payments neither written nor in it. */
        int rc = SQLITE_OK, found = 0, present = 0, adjacent = 0;
        int64_t hash = 0, old_from = 0;
        int idlen = (int)r->field[PS_F_ID].len;
        if (s->has_rows) {
            rc = scan_lookup(s, id, (size_t)idlen, &found, &adjacent);
            if (rc == SQLITE_OK && found) {
                hash = sqlite3_column_int64(s->st_scan, 1);
                present = sqlite3_column_int(s->st_scan, 2);
                old_from = sqlite3_column_int64(s->st_scan, 3);
            }
        }
        s->seen_present += (uint64_t)present;
        if (rc == SQLITE_OK && present && hash == (int64_t)r->content_hash) {
            if (s->stored_before)
                rc = note_unchanged(s, id, (size_t)idlen, adjacent);
            if (rc == SQLITE_OK) {
                s->unchanged++;
                continue;
            }
        }
        /* a new version keeps the payment's first run */
        if (rc == SQLITE_OK && found)
            rc = sqlite3_bind_text(s->st_insert, P_FIRST_SEEN,
                                   (const char *)sqlite3_column_text(s->st_scan, 4), -1,
                                   SQLITE_TRANSIENT);
        /* the writes below move rows under the scan: it seeks again for the next ID */
        scan_invalidate(s);
        /* A version this run wrote is rewritten in place (a first load's rows, version 0);
         * a published one is closed and followed by a new version, unseen until the run's
         * last commit publishes it (sqlite_versions.h). */
        int in_place = found && old_from == s->version;
        if (rc == SQLITE_OK && found && !in_place) {
            sqlite3_bind_text(s->st_close, 1, s->dataset, -1, SQLITE_STATIC);
            sqlite3_bind_text(s->st_close, 2, id, idlen, SQLITE_STATIC);
            sqlite3_bind_int64(s->st_close, 3, old_from);
            sqlite3_bind_int64(s->st_close, 4, s->version);
            rc = step_done(s->st_close);
            s->superseded++;
        }
        sqlite3_stmt *w = in_place ? s->st_update : s->st_insert;
        if (rc == SQLITE_OK)
            rc = bind_record(s, w, r);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(w, P_VALID_FROM, s->version);
        if (rc == SQLITE_OK && !found)
            rc = bind_text(w, P_FIRST_SEEN, s->run_id);
        if (rc == SQLITE_OK)
            rc = step_done(w);
        if (rc == SQLITE_OK && sqlite3_changes(s->db) != 1) {
            char what[200];
            snprintf(what, sizeof what, "writing the payment of source row %llu",
                     (unsigned long long)r->source_row);
            return ps_error_setf(err, PS_ERR_INTERNAL,
                                 "sqlite store '%s': %s: the ID was %s by another writer",
                                 PS_SHOWN(s->path), what, found ? "deleted" : "stored");
        }
        if (rc == SQLITE_OK && found)
            s->changed++; /* changed, or vanished before and back */
        else if (rc == SQLITE_OK)
            s->inserted++;
        if (rc == SQLITE_OK && s->meters)
            rc = add_meter_key(s, r);
        if (rc == SQLITE_OK && s->order_watch)
            rc = watch_order(s, r->timestamp_ms);
        if (rc == SQLITE_OK && (s->indexes_dropped || s->order_watch))
            rc = add_index_bytes(s, index_entry_bytes(s, idlen));
        if (rc == SQLITE_OK && s->chunked)
            rc = progress(s, 1);
        if (rc != SQLITE_OK) {
            char what[200];
            snprintf(what, sizeof what, "writing the payment of source row %llu",
                     (unsigned long long)r->source_row);
            return store_fail(s, rc, what, err);
        }
    }
    return PS_OK;
}

/* Binds and runs the runs-table insert. */
static int insert_run(sq_sink *s, const ps_commit_info *info, const char *outcome,
                      const ps_change_counts *c, const char *error)
{
    char started[32], finished[32];
    ps_store_format_ms(info->started_ms, started);
    ps_store_format_ms(info->finished_ms, finished);
    sqlite3_stmt *st = s->st_run;
    sqlite3_clear_bindings(st);
    int rc = bind_text(st, 1, info->run_id ? info->run_id : "");
    rc |= bind_text(st, 2, info->dataset ? info->dataset : "");
    rc |= sqlite3_bind_text(st, 3, started, -1, SQLITE_TRANSIENT);
    rc |= sqlite3_bind_int64(st, 4, info->started_ms);
    rc |= sqlite3_bind_text(st, 5, finished, -1, SQLITE_TRANSIENT);
    rc |= sqlite3_bind_int64(st, 6, info->finished_ms);
    rc |= bind_text(st, 7, outcome);
    const uint64_t counts[6] = {info->read,  info->accepted,   info->rejected,
                                info->blank, info->duplicates, info->warnings};
    for (int i = 0; i < 6; i++)
        rc |= sqlite3_bind_int64(st, 8 + i, (sqlite3_int64)counts[i]);
    if (c) {
        rc |= sqlite3_bind_int64(st, 14, (sqlite3_int64)c->inserted);
        rc |= sqlite3_bind_int64(st, 15, (sqlite3_int64)c->changed);
        rc |= sqlite3_bind_int64(st, 16, (sqlite3_int64)c->unchanged);
        rc |= sqlite3_bind_int64(st, 17, (sqlite3_int64)c->vanished);
    }
    rc |= bind_text(st, 18, error);
    rc |= sqlite3_bind_int64(st, 19,
                             PS_HAS_MEMBER(ps_commit_info, filtered, info->struct_size)
                                 ? (sqlite3_int64)info->filtered
                                 : 0);
    if (rc != SQLITE_OK)
        return rc;
    return step_done(st);
}

/* After a commit: copies the WAL back into the database and truncates it, so it does not
 * grow run after run while serve keeps reading. Readers of an older snapshot can keep part
 * of it for now (SQLITE_BUSY): the next commit tries again. Best effort, never an error. */
static void checkpoint(sq_sink *s)
{
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        s->host->log(s->env, PS_LOG_WARN, "sqlite store '%s': checkpoint failed: %s",
                     PS_SHOWN(s->path), sqlite3_errmsg(s->db));
    else
        s->host->log(s->env, PS_LOG_DEBUG, "sqlite store '%s': checkpoint %s (%d of %d frames)",
                     PS_SHOWN(s->path), rc == SQLITE_OK ? "done" : "partial", done, log);
}

/* After a run's commit: deletes the versions it superseded, in chunks (no reader that starts
 * now sees them; one reading an older snapshot keeps it). Best effort: what is left, the next
 * run of the dataset deletes first (prepare_versions). */
static void collect(sq_sink *s)
{
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK) {
        s->in_txn = 1;
        s->chunk_written = s->since_wal_check = 0;
        rc = ps_sqlite_versions_collect(s->db, s->dataset, s->version, progress, s);
        rc = rc == SQLITE_OK ? exec(s, "COMMIT") : rc;
        if (rc != SQLITE_OK && !sqlite3_get_autocommit(s->db))
            exec(s, "ROLLBACK");
        s->in_txn = 0;
    }
    if (rc != SQLITE_OK)
        s->host->log(s->env, PS_LOG_WARN,
                     "sqlite store '%s': removing the replaced versions of dataset '%s' failed "
                     "(the next run retries): %s",
                     PS_SHOWN(s->path), s->dataset, sqlite3_errmsg(s->db));
    else
        checkpoint(s);
}

static void sq_abort(void *inst, const char *reason);

static ps_status sq_commit(void *inst, const ps_commit_info *info, ps_change_counts *changes,
                           ps_error *err)
{
    sq_sink *s = inst;
    if (!s->in_txn)
        return ps_error_setf(err, PS_ERR_INTERNAL, "sqlite store '%s': commit without open",
                             PS_SHOWN(s->path));
    if (info->dataset && strcmp(info->dataset, s->dataset) != 0)
        return ps_error_setf(err, PS_ERR_INTERNAL,
                             "sqlite store '%s': commit of dataset '%s' but '%s' is open",
                             PS_SHOWN(s->path), info->dataset, s->dataset);
    ps_change_counts c = {.struct_size = sizeof c,
                          .valid = 1,
                          .inserted = s->inserted,
                          .changed = s->changed,
                          .unchanged = s->unchanged,
                          .vanished = 0};
    const char *what = "recording the unchanged payments";
    scan_invalidate(s);
    int rc = flush_range(s);
    if (rc == SQLITE_OK)
        what = "marking vanished payments";
    /* else nothing can have vanished; a windowed run marks only payments inside its window
     * (ps_store_set_window). last_seen_run of a payment is written only when the payment is:
     * a present one was seen by every successful run since, so the one that vanishes was
     * last seen by the dataset's previous successful run */
    if (rc == SQLITE_OK && s->stored_before > s->seen_present) {
        uint64_t before = s->superseded;
        rc = ps_sqlite_versions_vanish(s->db, s->dataset, s->run_id, s->prev_run, s->version,
                                       s->win_from, s->win_to, progress, s, &c.vanished);
        s->superseded = before + c.vanished;
    }
    if (rc == SQLITE_OK && s->indexes_dropped) {
        what = "building the indexes after the first load";
        rc = build_indexes(s);
    }
    if (rc == SQLITE_OK && !s->published) {
        what = "filling the meter index after the first load";
        rc = fill_meter(s);
    }
    if (rc == SQLITE_OK) {
        what = "recording the run";
        ps_commit_info fixed = *info;
        fixed.dataset = s->dataset;
        if (!fixed.run_id)
            fixed.run_id = s->run_id;
        rc = insert_run(s, &fixed, "ok", &c, NULL);
    }
    for (size_t i = 0; rc == SQLITE_OK && i < info->n_reject_codes; i++) {
        what = "recording reject codes";
        sqlite3_stmt *st = s->st_reject_code;
        sqlite3_bind_text(st, 1, s->dataset, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, info->run_id ? info->run_id : s->run_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, info->reject_codes[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)info->reject_code_counts[i]);
        rc = step_done(st);
    }
    size_t nwarn = PS_HAS_MEMBER(ps_commit_info, warning_code_counts, info->struct_size)
                       ? info->n_warning_codes
                       : 0;
    for (size_t i = 0; rc == SQLITE_OK && i < nwarn; i++) {
        what = "recording the warning counts";
        sqlite3_stmt *st = s->st_warning_code;
        sqlite3_bind_text(st, 1, s->dataset, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, info->run_id ? info->run_id : s->run_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, info->warning_codes[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)info->warning_code_counts[i]);
        rc = step_done(st);
    }
    if (rc == SQLITE_OK && s->columns_json) {
        what = "recording the source's columns";
        rc = ps_sqlite_columns_write(s->db, s->dataset, info->run_id ? info->run_id : s->run_id,
                                     s->columns_json, s->missing_json);
    }
    if (rc == SQLITE_OK) {
        what = "saving the cursor";
        sqlite3_bind_text(s->st_cursor, 1, s->dataset, -1, SQLITE_STATIC);
        bind_text(s->st_cursor, 2, info->cursor_json);
        sqlite3_bind_text(s->st_cursor, 3, info->run_id ? info->run_id : s->run_id, -1,
                          SQLITE_STATIC);
        /* publishes this run's versions */
        sqlite3_bind_int64(s->st_cursor, 4, s->version);
        rc = step_done(s->st_cursor);
    }
    if (rc == SQLITE_OK) {
        what = "committing";
        ps_crash_point("store-before-commit");
        rc = exec(s, "COMMIT");
    }
    if (rc == SQLITE_OK && s->building) {
        /* a new store: published whole now (sqlite_build.h) */
        s->in_txn = 0;
        s->chunked = 0;
        ps_status e = leave_build(s, 1, err);
        if (e != PS_OK)
            return e;
    }
    if (rc == SQLITE_OK)
        ps_crash_point("store-after-commit");
    if (rc != SQLITE_OK) {
        char w[300];
        snprintf(w, sizeof w, "%s (dataset '%s')", what, s->dataset);
        ps_status e = store_fail(s, rc, w, err);
        sq_abort(s, "commit failed"); /* rolls back, and removes the committed chunks */
        return e;
    }
    s->in_txn = 0;
    s->chunked = 0;
    checkpoint(s);
    if (s->superseded)
        collect(s);
    if (changes) {
        c.struct_size = changes->struct_size; /* the core's table: keep its size */
        *changes = c;
    }
    return PS_OK;
}

static void sq_abort(void *inst, const char *reason)
{
    sq_sink *s = inst;
    ps_meter_sort_free(s->meters);
    s->meters = NULL;
    if (!s->in_txn)
        return;
    scan_invalidate(s);
    s->range_open = 0;
    if (s->building) {
        /* a new store's first load: the side file goes, the store is created as before */
        if (!sqlite3_get_autocommit(s->db))
            exec(s, "ROLLBACK");
        s->in_txn = 0;
        s->chunked = 0;
        ps_error e = {0};
        if (leave_build(s, 0, &e) != PS_OK)
            s->host->log(s->env, PS_LOG_WARN, "%s", e.message);
        return;
    }
    /* After some errors (disk full, I/O) SQLite has already rolled the transaction back. */
    int rc = sqlite3_get_autocommit(s->db) ? SQLITE_OK : exec(s, "ROLLBACK");
    s->in_txn = 0;
    if (rc == SQLITE_OK && s->chunked && s->chunks_committed) {
        /* the chunks committed so far: never published, removed now (else by the next run) */
        rc = exec(s, "BEGIN IMMEDIATE");
        if (rc == SQLITE_OK) {
            s->in_txn = 1;
            if (!s->published) {
                rc = delete_unpublished(s);
                if (rc == SQLITE_OK)
                    rc = ensure_indexes(s); /* dropped by the first load, committed */
                if (rc == SQLITE_OK)
                    rc = defer_meter(s, 0); /* no rows left to defer */
            } else {
                rc = ps_sqlite_versions_discard(s->db, s->dataset, s->pub_version, progress, s);
                if (rc == SQLITE_OK)
                    rc = set_pending(s, -1);
            }
            rc = rc == SQLITE_OK ? exec(s, "COMMIT") : rc;
            if (rc != SQLITE_OK && !sqlite3_get_autocommit(s->db))
                exec(s, "ROLLBACK");
            s->in_txn = 0;
        }
        s->chunked = 0;
    }
    if (rc != SQLITE_OK)
        s->host->log(s->env, PS_LOG_WARN, "sqlite store '%s': rollback of '%s' failed: %s",
                     PS_SHOWN(s->path), s->dataset ? s->dataset : "?", sqlite3_errmsg(s->db));
    else
        s->host->log(s->env, PS_LOG_DEBUG, "sqlite store '%s': dataset '%s' rolled back (%s)",
                     PS_SHOWN(s->path), s->dataset ? s->dataset : "?", reason ? reason : "aborted");
}

static ps_status sq_finish(void *inst, int all_ok, ps_error *err)
{
    sq_sink *s = inst;
    (void)all_ok;
    if (s->in_txn) {
        s->host->log(s->env, PS_LOG_WARN,
                     "sqlite store '%s': dataset '%s' was neither committed nor aborted; "
                     "rolled back",
                     PS_SHOWN(s->path), s->dataset ? s->dataset : "?");
        sq_abort(s, "unfinished at the end of the run");
    }
    /* a new store no dataset was written to: published empty, as it was created before */
    return s->building ? leave_build(s, 1, err) : PS_OK;
}

static char *sq_load_cursor(void *inst, const char *dataset)
{
    sq_sink *s = inst;
    char *out = NULL;
    if (connect_deferred(s) != PS_OK || !s->db)
        return NULL; /* no store yet: no cursor */
    sqlite3_bind_text(s->st_load_cursor, 1, dataset, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s->st_load_cursor);
    if (rc == SQLITE_ROW && sqlite3_column_type(s->st_load_cursor, 0) != SQLITE_NULL)
        out = strdup((const char *)sqlite3_column_text(s->st_load_cursor, 0));
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        s->host->log(s->env, PS_LOG_WARN, "sqlite store '%s': cannot read the cursor of '%s': %s",
                     PS_SHOWN(s->path), dataset, sqlite3_errmsg(s->db));
    sqlite3_reset(s->st_load_cursor);
    return out;
}

static void sq_record_failure(void *inst, const ps_commit_info *info, const char *message)
{
    sq_sink *s = inst;
    if (s->in_txn)
        sq_abort(s, "run failed");
    ps_error e;
    if (s->building && leave_build(s, 0, &e) != PS_OK) {
        s->host->log(s->env, PS_LOG_ERROR, "%s", e.message);
        return;
    }
    if (connect_deferred(s) != PS_OK || !s->db)
        return; /* logged; the run state file beside the store still has it */
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK) {
        rc = insert_run(s, info, "failed", NULL, message ? message : "failed");
        if (rc == SQLITE_OK)
            rc = exec(s, "COMMIT");
        if (rc != SQLITE_OK)
            exec(s, "ROLLBACK");
    }
    if (rc != SQLITE_OK) {
        sq_fail(s, s->db, rc, "recording a failed run", &e);
        s->host->log(s->env, PS_LOG_ERROR, "%s", e.message);
    }
}

ps_status ps_store_sqlite_previous_columns(void *writer, char ***prev, size_t *n, ps_error *err)
{
    sq_sink *s = writer;
    *prev = NULL;
    *n = 0;
    if (!s->in_txn)
        return ps_error_setf(err, PS_ERR_INTERNAL,
                             "sqlite store '%s': columns asked without an open dataset",
                             PS_SHOWN(s->path));
    int rc = ps_sqlite_columns_previous(s->db, s->dataset, prev, n);
    if (rc != SQLITE_OK) {
        char what[300];
        snprintf(what, sizeof what, "reading the columns of the last run of dataset '%s'",
                 s->dataset);
        return sq_fail(s, s->db, rc, what, err);
    }
    return PS_OK;
}

ps_status ps_store_sqlite_record_columns(void *writer, const char *const *cols, size_t ncols,
                                         const char *const *missing, size_t nmissing, ps_error *err)
{
    sq_sink *s = writer;
    return ps_store_keep_columns(&s->columns_json, &s->missing_json, cols, ncols, missing, nmissing,
                                 err);
}

static const ps_option_spec sq_options[] = {
    {.name = PS_SQLITE_PATH_OPTION,
     .type = PS_OPT_PATH,
     .default_value = PS_SQLITE_DEFAULT_PATH,
     .description = "database file (parent folders are created)"},
    {.name = "chunk_rows",
     .type = PS_OPT_INT,
     .default_value = "16384",
     .description = "payments per committed chunk of a dataset's first load (keeps the WAL "
                    "small; nothing is visible before the run commits)",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = 100000000},
    PS_STORE_BUSY_TIMEOUT_SPEC("how long to wait for another writer's lock before failing"),
    {0},
};

static const ps_sink_ops sq_ops = PS_STORE_SINK_OPS(sq);

static const ps_plugin_descriptor sq_descriptor = PS_STORE_SINK_DESCRIPTOR(
    PS_SQLITE_PLUGIN, "SQLite store with change tracking, run history and cursors", sq_options, sq);

const ps_plugin_descriptor *ps_store_sqlite_sink(void)
{
    return &sq_descriptor;
}
