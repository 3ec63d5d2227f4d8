/* paysync store: row versions of the SQLite store (store_schema.h, migration 6 -> 7). A run
 * of a published dataset never changes a row readers may see: it closes the current version
 * (valid_to = the run's version) and writes a new one (valid_from = the run's version), in
 * chunks committed one by one; readers keep showing the versions valid at the published
 * version until the run's last commit moves it (cursors.version). These steps run inside the
 * writer's open transaction and call `progress` after their writes, which commits a chunk
 * when one is due (sqlite_writer.c). Private to core/src/store. */
#ifndef PS_SQLITE_VERSIONS_H
#define PS_SQLITE_VERSIONS_H

#include <stdint.h>

#include <sqlite3.h>

/* Called after `writes` rows were written in the open transaction; may commit it and begin
 * the next. Returns a SQLite result code. */
typedef int (*ps_sqlite_progress_fn)(void *ctx, uint64_t writes);

/* Removes what a run that never published left in dataset (killed, or failed before it could
 * clean up): deletes the versions newer than `published` and reopens the versions they had
 * closed. Readers never saw either change. SQLite result code. */
int ps_sqlite_versions_discard(sqlite3 *db, const char *dataset, int64_t published,
                               ps_sqlite_progress_fn progress, void *ctx);

/* Deletes dataset's versions that ended at or before `published` (superseded: no reader
 * started after that publication sees them). SQLite result code. */
int ps_sqlite_versions_collect(sqlite3 *db, const char *dataset, int64_t published,
                               ps_sqlite_progress_fn progress, void *ctx);

/* Marks vanished the current present payments of dataset whose timestamp_ms is in
 * [from_ms, to_ms] (the window a windowed run read; INT64_MIN..INT64_MAX = all) that this
 * run (run_id, writing `version`) neither wrote nor found unchanged (temp.ps_seen): each gets
 * a new version, a copy with vanished_run = run_id and last_seen_run = prev_run (when not
 * NULL), and its current version is closed. The number marked in *count. SQLite result code. */
int ps_sqlite_versions_vanish(sqlite3 *db, const char *dataset, const char *run_id,
                              const char *prev_run, int64_t version, int64_t from_ms,
                              int64_t to_ms, ps_sqlite_progress_fn progress, void *ctx,
                              uint64_t *count);

#endif
