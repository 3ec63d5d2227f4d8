/* paysync CLI: the rejected rows of a dataset's last successful run for the HTML report, read
 * from its rejects file (`rejects:`, JSON Lines, the file `export-rejects` reads): problems
 * counted by column, and the first rejected rows with their cells. Streamed: memory is one
 * line plus what is kept below, whatever the file's size. */
#ifndef PS_CLI_REPORT_REJECTS_H
#define PS_CLI_REPORT_REJECTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Rejected rows kept with their cells (the first ones in the file, i.e. in sheet order). */
#define RR_TOP_ROWS 20

/* Problems of one column: the column's letters ("" for a problem of the whole row), its header
 * name in the source (NULL when unknown) and the model field. */
typedef struct rr_column {
    char *letters;
    char *header;
    char *field;
    uint64_t problems;
} rr_column;

typedef struct rr_summary {
    int present;     /* 0: no rejects file (none configured, "-", or not written yet) */
    uint64_t rows;   /* rejected rows of the dataset in the file */
    uint64_t bad;    /* lines that are not rejects (skipped) */
    rr_column *cols; /* sorted by problems, most first */
    size_t ncols;
    json_t *top[RR_TOP_ROWS]; /* the first rejects (objects as written), NULL after the last */
    size_t ntop;
} rr_summary;

/* Reads path (NULL or "-": nothing to read, present 0) for dataset. Returns 0, or -1 after
 * setting why (a file that exists but cannot be read, out of memory) in msg. */
int rr_read(const char *path, const char *dataset, rr_summary *out, char *msg, size_t cap);

void rr_free(rr_summary *s);

/* The cell at 0-based index of a reject's cells (keys in column order: the header's names),
 * NULL past the last; *key (when key is not NULL) set to its header name. */
json_t *rr_cell_at(json_t *cells, long index, const char **key);

/* 0-based column index of spreadsheet letters ("A" -> 0, "AA" -> 26); -1 if not letters. */
long rr_column_index(const char *letters);

#endif
