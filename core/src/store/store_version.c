/* paysync core: see store_version.h. */
#include "store/store_version.h"

#include "store/store_schema.h"
#include "util/pathtext.h"

ps_status ps_store_check_version(sqlite3 *db, const char *path, ps_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    int v = -1;
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return (rc & 0xff) == SQLITE_NOTADB || sqlite3_errcode(db) == SQLITE_NOTADB
                   ? ps_error_setf(err, PS_ERR_IO, "store '%s' is not a SQLite database",
                                   PS_SHOWN(path))
                   : ps_error_setf(err, PS_ERR_IO,
                                   "store '%s': reading the schema version failed: %s",
                                   PS_SHOWN(path), sqlite3_errmsg(db));
    if (v == 0)
        return ps_error_setf(err, PS_ERR_IO,
                             "store '%s' is not a paysync store (no schema version)",
                             PS_SHOWN(path));
    if (v < PS_STORE_USER_VERSION)
        return ps_error_setf(err, PS_ERR_IO,
                             "store '%s' has schema version %d, older than this paysync (%d): "
                             "run a sync with the sqlite sink once to upgrade it",
                             path, v, PS_STORE_USER_VERSION);
    if (v > PS_STORE_USER_VERSION)
        return ps_error_setf(err, PS_ERR_IO,
                             "store '%s' has schema version %d, newer than this paysync (%d): "
                             "upgrade paysync",
                             path, v, PS_STORE_USER_VERSION);
    return PS_OK;
}
