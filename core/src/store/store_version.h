/* paysync store: the schema-version check of the SQLite backend's reader (store.c), run at
 * open and again on serve's pooled handles. */
#ifndef PS_STORE_VERSION_H
#define PS_STORE_VERSION_H

#include <sqlite3.h>

#include "paysync/status.h"

/* Reads PRAGMA user_version of db (opened from path, named in messages) and accepts exactly
 * PS_STORE_USER_VERSION. Errors (PS_ERR_IO, err filled): not a SQLite database, unreadable,
 * not a paysync store (version 0), older (run a sync once to upgrade) or newer (upgrade
 * paysync). Borrows db; changes nothing. */
ps_status ps_store_check_version(sqlite3 *db, const char *path, ps_error *err);

#endif
