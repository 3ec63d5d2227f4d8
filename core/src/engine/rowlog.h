/* paysync core: the rejects and warnings JSONL files of a dataset run, written to a temp file
 * and renamed into place only when the dataset commits. */
#ifndef PS_ROWLOG_H
#define PS_ROWLOG_H

#include <stdint.h>
#include <stdio.h>

#include "model/validate.h"
#include "paysync/plugin.h"
#include "paysync/status.h"

typedef struct ps_rowlog ps_rowlog;

/* Opens a temp file beside path (creating missing parent folders). Errors: PS_ERR_IO naming
 * the path. path "-" writes to stderr. Free with ps_rowlog_commit or ps_rowlog_abort. */
ps_status ps_rowlog_open(const char *path, ps_rowlog **out, ps_error *err);

/* Appends a reject: {"dataset","row","problems":[{field,code,message[,column]}],
 * "cells":{header:raw}}. field_col[f] is the index of the cell holding field f (-1 none), or
 * NULL when the cells are not a sheet's columns (record-shaped sources); a problem of field f
 * in column c carries "column": c's letters ("C"), the offending cell being column + row. */
ps_status ps_rowlog_reject(ps_rowlog *l, const char *dataset, uint64_t row,
                           const ps_problem *problems, int nproblems, const ps_cell *header,
                           size_t nheader, const ps_row *raw, const int *field_col, ps_error *err);

/* Appends warnings of an accepted row:
 * {"dataset","row","id","warnings":[{field,code,message,raw}]}. */
ps_status ps_rowlog_warnings(ps_rowlog *l, const char *dataset, uint64_t row, const char *id,
                             const ps_problem *warnings, int nwarnings, ps_error *err);

/* Flushes, fsyncs and renames into place; frees l. Errors: PS_ERR_IO. */
ps_status ps_rowlog_commit(ps_rowlog *l, ps_error *err);
/* Deletes the temp file and frees l. NULL ignored. */
void ps_rowlog_abort(ps_rowlog *l);

/* Writes s as a JSON string (quotes included); invalid UTF-8 bytes become U+FFFD. */
void ps_json_write_string(FILE *f, const char *s, size_t len);

/* A malloc'd NUL-terminated copy of s (len bytes) with every invalid UTF-8 byte replaced by
 * U+FFFD; NULL when out of memory. */
char *ps_utf8_repair(const char *s, size_t len);

#endif
