/* paysync store: a brand-new SQLite store is built in a side file and published whole
 * (docs/sinks.md "A new store"). While the store file does not exist, the writer's first
 * dataset goes into STORE-build, created exclusively next to it (never through a symbolic
 * link), locked with flock for the build, and written without a WAL (a rollback journal
 * file next to it, no fsync per commit); the side file is then fsynced and renamed to the
 * store's name without
 * replacing anything there. Readers only ever open the store's own name, so they never see
 * the side file; a build that is killed leaves only the side file, which the next writer
 * removes (once nobody holds its lock) before it creates its own. Private to core/src/store. */
#ifndef PS_SQLITE_BUILD_H
#define PS_SQLITE_BUILD_H

#include <stddef.h>

/* A side file held by this process: its path and the descriptor that holds its flock (kept
 * open until SQLite has closed the file: closing any descriptor of a file drops the process's
 * fcntl locks on it). fd < 0: none held. */
typedef struct ps_sqlite_build {
    char *side;
    int fd;
} ps_sqlite_build;

enum {
    PS_SQLITE_BUILD_TAKEN = 1, /* b holds an empty side file: build the store in b->side */
    PS_SQLITE_BUILD_NONE = 0,  /* the store exists, or no side file can be used (why): open the
                                * store itself, as before */
    PS_SQLITE_BUILD_BUSY = -1, /* another live process is building this store */
    PS_SQLITE_BUILD_ERROR = -2 /* errno set */
};

/* Takes the side file of the store at path when path does not exist: creates it (O_EXCL,
 * O_NOFOLLOW), after removing the one a killed build left (once its flock is free) with its
 * stale journal files. why (cap bytes) says why not when NONE is returned for a
 * reason worth a log line, else is "". On TAKEN, b must be released with
 * ps_sqlite_build_publish or ps_sqlite_build_discard. */
int ps_sqlite_build_take(const char *path, ps_sqlite_build *b, char *why, size_t cap);

/* After SQLite has closed the side file: fsyncs it and renames it to path, never replacing a
 * file there, then fsyncs the folder and releases b. 0, or an errno (EEXIST: a store appeared
 * at path meanwhile; b is then still held, for ps_sqlite_build_discard). */
int ps_sqlite_build_publish(ps_sqlite_build *b, const char *path);

/* After SQLite has closed the side file: removes it and releases b. Never fails. */
void ps_sqlite_build_discard(ps_sqlite_build *b);

/* Removes the side file of the store at path that a killed build left behind when the store
 * exists by now (nobody holds its lock, it is a regular file). Best effort. */
void ps_sqlite_build_sweep(const char *path);

#endif
