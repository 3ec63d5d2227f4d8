/* paysync CLI: a table (header row, then rows of text cells) written as CSV or as an xlsx
 * workbook, for commands whose output a spreadsheet user opens (export-rejects). */
#ifndef PS_CLI_TABLE_OUT_H
#define PS_CLI_TABLE_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "commands.h"

typedef enum { CLI_TABLE_CSV, CLI_TABLE_XLSX } cli_table_format;

typedef struct cli_table cli_table;

/* "csv" or "xlsx" into *fmt: 0, or -1 for another name. */
int cli_table_format_parse(const char *name, cli_table_format *fmt);

/* Opens the output. CSV: path NULL or "-" is standard output, a file is written through
 * cli_out (the one file writer). xlsx: path is required (a workbook is not written to a
 * terminal or pipe); the workbook goes to the exclusive temp file util/outfile.h makes beside
 * path and is renamed over it on close. cmd prefixes error messages. Returns NULL after
 * printing the error. */
cli_table *cli_table_open(cli_table_format fmt, const char *path, const char *cmd);

/* Appends a text cell to the current row (kept as text in xlsx: leading zeros and values
 * such as "=1+2" stay as they are; in CSV a value starting with = + - @, tab or CR gets a
 * leading ' so that a spreadsheet does not run it as a formula). */
void cli_table_text(cli_table *t, const char *s);
/* Appends a whole number (an xlsx number cell; digits in CSV). */
void cli_table_number(cli_table *t, long long v);
/* Ends the current row. */
void cli_table_end_row(cli_table *t);

/* Publishes (ok != 0) or discards the output and frees t. Returns 0, or -1 after printing
 * the error (a cell or row past the xlsx limits, a failed write or rename); -1 when ok is 0. */
int cli_table_close(cli_table *t, int ok);

/* xlsx's limits: 1,048,576 rows, 16,384 columns, 32,767 characters a cell. */
#define CLI_XLSX_MAX_ROWS 1048576u
#define CLI_XLSX_MAX_COLS 16384u
#define CLI_XLSX_MAX_CHARS 32767u
/* The message for an xlsx table without a file (checked by cli_table_open; commands check it
 * with their arguments to exit with PS_EXIT_USAGE). */
#define CLI_XLSX_NEEDS_FILE                                                                        \
    "--format xlsx needs --output FILE.xlsx (a workbook is not written to standard output)"

#endif
