/* paysync core: an atomically published output file with per-dataset rollback, offered to
 * file sinks (jsonl, csv) through the host table (outfile_* members of ps_host).
 *
 * During a run everything goes to a temporary file next to the target (same filesystem);
 * a dataset's bytes can be discarded (truncate back to where it began); at the end of the run
 * the temp file is either renamed over the target (after fsync) or deleted, so readers only
 * ever see the previous complete output or the new complete output. Target "-" = stdout: the
 * temp file lives in $TMPDIR (unlinked at once) and is copied to stdout when published.
 *
 * The temp file ".NAME.tmp-PID" is created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600,
 * then given the previous target's mode or 0644 before anything is written); a symlink or
 * any file already at that name is never followed or reused. Leftover temp files of killed
 * runs (dead PID) are removed when the next run starts. */
#ifndef PS_OUTFILE_H
#define PS_OUTFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "paysync/status.h"

typedef struct ps_outfile ps_outfile; /* also declared in paysync/plugin.h */

struct ps_outfile {
    char *target;   /* owned; "-" for stdout */
    char *tmp_path; /* owned; NULL for stdout or before the first dataset */
    int fd;         /* temp file, -1 before the first dataset of a run */
    int do_fsync;
    int ds_open;  /* a dataset is between begin and commit/abort */
    int io_errno; /* sticky error of a buffered write, 0 = none */
    char *buf;    /* write buffer */
    size_t len, cap;
    uint64_t flushed;  /* bytes already in the temp file */
    uint64_t ds_start; /* file offset where the open dataset began */
};

/* Prepares o for target path (copied). No file is touched yet. Errors: PS_ERR_NOMEM. */
/* Deletes the files in path's folder named PRE + basename(path) + POST + PID (or ...PID-X)
 * whose process is no longer running: temporary files of killed runs (".NAME.tmp-PID" for
 * output files: pre ".", post ".tmp-"). Files of running processes are left alone. */
void ps_remove_dead_temps(const char *path, const char *pre, const char *post);

/* The one way paysync writes a file (run report, export --output, rejects/warnings files and
 * the file sinks below): ps_outfile_open_temp, write to the descriptor, then
 * ps_outfile_publish_temp (or close + unlink to discard). */

/* PS_OK when target is absent, a regular file or a symlink (a symlink is replaced by the new
 * file, never written through). Anything else (directory, FIFO, socket, device) is refused:
 * PS_ERR_SINK "refusing to replace 'T': it is a FIFO, not a regular file ...". */
ps_status ps_outfile_check_target(const char *target, ps_error *err);

/* Checks target (above), creates its folders (make_parents != 0; else a missing folder is an
 * error) and removes dead runs' temp files, then creates
 * the temp file ".NAME.tmp-PID" (or ".NAME.tmp-PID-XXXXXX" when taken) in target's folder
 * with O_CREAT|O_EXCL|O_NOFOLLOW (never reusing or following anything at that name), mode the
 * previous regular target's or 0644. On success *fd (write-only) and *tmp (owned, free()) are
 * set. Errors: PS_ERR_SINK naming target and the cause, PS_ERR_NOMEM. */
ps_status ps_outfile_open_temp(const char *target, int make_parents, int *fd, char **tmp,
                               ps_error *err);

/* fsyncs the folder of path (after a rename into it). Best effort: errors are ignored. */
void ps_outfile_fsync_parent(const char *path);

/* Publishes a complete temp file: fsync (when do_fsync), close (checked), re-checks target,
 * calls ps_crash_point(before_rename) when not NULL, renames tmp over target and fsyncs the
 * folder. Always closes fd; on failure tmp is unlinked and target is untouched (tmp itself is
 * not freed). Errors: PS_ERR_SINK naming target and the cause. */
ps_status ps_outfile_publish_temp(int fd, const char *tmp, const char *target, int do_fsync,
                                  const char *before_rename, ps_error *err);

/* ps_outfile_open_temp as a stdio stream (NULL with err set on failure; *tmp owned). */
FILE *ps_outfile_fopen_temp(const char *target, int make_parents, char **tmp, ps_error *err);

/* ps_outfile_publish_temp for a stream from ps_outfile_fopen_temp: fflush and ferror checked
 * (a full disk is an error whatever the size), fsync, fclose checked, then the same rename.
 * Always closes f; on failure tmp is unlinked. */
ps_status ps_outfile_publish_file(FILE *f, const char *tmp, const char *target,
                                  const char *before_rename, ps_error *err);

ps_status ps_outfile_init(ps_outfile *o, const char *path, int do_fsync, ps_error *err);

/* The same on the heap (host table's outfile_new): NULL with err set on failure. Free with
 * ps_outfile_delete. */
ps_outfile *ps_outfile_new(const char *path, int do_fsync, ps_error *err);
void ps_outfile_delete(ps_outfile *o);

/* Starts a dataset. On the first dataset of a run creates the parent folders and the temp
 * file and writes the n-byte preamble (e.g. a CSV header row; kept by later aborts).
 * Errors: PS_ERR_SINK naming the file and the cause; PS_ERR_INTERNAL if one is already open.
 * A write error is sticky: later calls fail and the run cannot be published. */
ps_status ps_outfile_begin(ps_outfile *o, const char *preamble, size_t n, ps_error *err);

/* Returns a pointer to at least n free bytes of the buffer (flushing or growing it); the
 * caller then calls ps_outfile_advance with the bytes used. NULL on failure (error kept in
 * io_errno; see ps_outfile_check). */
char *ps_outfile_reserve(ps_outfile *o, size_t n);
void ps_outfile_advance(ps_outfile *o, size_t used);

/* Appends n bytes. Returns 0, or -1 with io_errno set. */
int ps_outfile_put(ps_outfile *o, const char *s, size_t n);

/* PS_OK, or PS_ERR_SINK describing a sticky write error (naming the target). */
ps_status ps_outfile_check(ps_outfile *o, ps_error *err);

/* Ends the open dataset: flushes the buffer to the temp file (errors surface here, e.g. disk
 * full). Errors: PS_ERR_SINK. */
ps_status ps_outfile_commit(ps_outfile *o, ps_error *err);

/* Discards the open dataset's bytes (buffer and file truncated back to its start). */
void ps_outfile_abort(ps_outfile *o);

/* Ends the run. all_ok = 1: flushes, fsyncs (when enabled), renames the temp file over the
 * target and fsyncs the folder; for stdout copies the bytes out. all_ok = 0: deletes the temp
 * file; the previous target is untouched. A dataset still open is aborted first. When no
 * dataset began in this run nothing is published. Errors: PS_ERR_SINK. */
ps_status ps_outfile_finish(ps_outfile *o, int all_ok, ps_error *err);

/* Deletes a temp file left over (no finish) and frees o's memory. */
void ps_outfile_free(ps_outfile *o);

#endif
