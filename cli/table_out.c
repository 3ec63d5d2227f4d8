/* paysync CLI: a table as CSV or xlsx (see table_out.h). */
#include "table_out.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "util/outfile.h"

struct cli_table {
    cli_table_format fmt;
    const char *cmd;
    cli_out csv; /* CSV */
    int ncell;   /* cells in the current row */
    /* xlsx */
    lxw_workbook *wb;
    lxw_worksheet *ws;
    const char *path;
    char *tmp; /* the exclusive temp file beside path (owned) */
    int fd;
    uint32_t row;
    char problem[300]; /* the first cell past xlsx's limits; the output is then discarded */
};

int cli_table_format_parse(const char *name, cli_table_format *fmt)
{
    if (strcmp(name, "csv") == 0)
        *fmt = CLI_TABLE_CSV;
    else if (strcmp(name, "xlsx") == 0)
        *fmt = CLI_TABLE_XLSX;
    else
        return -1;
    return 0;
}

/* The workbook is written to the temp file through /proc/self/fd/N: libxlsxwriter opens its
 * output by name, and that name reopens the very file outfile created exclusively (nothing at
 * a name an attacker could swap is followed). */
static int xlsx_open(cli_table *t, const char *path)
{
    ps_error err = {0};
    if (ps_outfile_open_temp(path, 0, &t->fd, &t->tmp, &err) != PS_OK) {
        cli_error("%s: %s", t->cmd, err.message);
        return -1;
    }
    char name[64];
    snprintf(name, sizeof name, "/proc/self/fd/%d", t->fd);
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = NULL};
    t->wb = workbook_new_opt(name, &opt);
    t->ws = t->wb ? workbook_add_worksheet(t->wb, "rejects") : NULL;
    if (!t->ws) {
        cli_error("%s: cannot start the workbook for %s (out of memory)", t->cmd, path);
        return -1;
    }
    return 0;
}

cli_table *cli_table_open(cli_table_format fmt, const char *path, const char *cmd)
{
    if (fmt == CLI_TABLE_XLSX && (!path || strcmp(path, "-") == 0)) {
        cli_error("%s: %s", cmd, CLI_XLSX_NEEDS_FILE);
        return NULL;
    }
    cli_table *t = calloc(1, sizeof *t);
    if (!t) {
        cli_error("out of memory");
        return NULL;
    }
    t->fmt = fmt;
    t->cmd = cmd;
    t->fd = -1;
    t->path = path;
    int rc = fmt == CLI_TABLE_CSV ? cli_out_open(&t->csv, path, cmd) : xlsx_open(t, path);
    if (rc != 0) {
        if (t->wb)
            workbook_close(t->wb); /* writes nothing to a file we keep: unlinked below */
        if (t->fd >= 0)
            close(t->fd);
        if (t->tmp)
            unlink(t->tmp);
        free(t->tmp);
        free(t);
        return NULL;
    }
    return t;
}

/* One RFC 4180 field. A value a spreadsheet would take as a formula (first character = + - @,
 * tab or CR; OWASP "CSV Injection") gets a leading ' so that it is shown as text. */
static void csv_field(FILE *out, const char *s, int first)
{
    if (!first)
        fputc(',', out);
    int guard = s[0] && strchr("=+-@\t\r", s[0]) != NULL;
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', out);
    if (guard)
        fputc('\'', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    if (quote)
        fputc('"', out);
}

/* Characters (UTF-8 code points; xlsx counts UTF-16 units, so a character outside the BMP
 * counts twice). */
static size_t xlsx_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            n++;
        if (*p >= 0xF0)
            n++;
    }
    return n;
}

/* 0 when the cell fits xlsx's limits; else records the problem (first one only). */
static int xlsx_fits(cli_table *t, const char *s)
{
    if (t->problem[0])
        return -1;
    if (t->row >= CLI_XLSX_MAX_ROWS)
        snprintf(t->problem, sizeof t->problem,
                 "more than %u lines do not fit in an xlsx sheet; use --format csv",
                 CLI_XLSX_MAX_ROWS);
    else if (t->ncell >= (int)CLI_XLSX_MAX_COLS)
        snprintf(t->problem, sizeof t->problem,
                 "more than %u columns do not fit in an xlsx sheet; use --format csv",
                 CLI_XLSX_MAX_COLS);
    else if (s && xlsx_chars(s) > CLI_XLSX_MAX_CHARS)
        snprintf(t->problem, sizeof t->problem,
                 "a value of %zu characters in line %u does not fit in an xlsx cell (at most "
                 "%u); use --format csv",
                 xlsx_chars(s), t->row + 1, CLI_XLSX_MAX_CHARS);
    return t->problem[0] ? -1 : 0;
}

void cli_table_text(cli_table *t, const char *s)
{
    if (t->fmt == CLI_TABLE_CSV) {
        csv_field(t->csv.f, s, t->ncell == 0);
    } else if (xlsx_fits(t, s) == 0) {
        /* an empty cell is left out: the sheet shows it empty */
        if (s[0] && worksheet_write_string(t->ws, t->row, (lxw_col_t)t->ncell, s, NULL) != 0)
            snprintf(t->problem, sizeof t->problem, "cannot write line %u of the workbook",
                     t->row + 1);
    }
    t->ncell++;
}

void cli_table_number(cli_table *t, long long v)
{
    if (t->fmt == CLI_TABLE_CSV) {
        char s[24];
        snprintf(s, sizeof s, "%lld", v);
        csv_field(t->csv.f, s, t->ncell == 0);
    } else if (xlsx_fits(t, NULL) == 0) {
        /* row numbers are far below 2^53: exact as a double */
        if (worksheet_write_number(t->ws, t->row, (lxw_col_t)t->ncell, (double)v, NULL) != 0)
            snprintf(t->problem, sizeof t->problem, "cannot write line %u of the workbook",
                     t->row + 1);
    }
    t->ncell++;
}

void cli_table_end_row(cli_table *t)
{
    if (t->fmt == CLI_TABLE_CSV)
        fputs("\r\n", t->csv.f);
    t->row++;
    t->ncell = 0;
}

static int xlsx_close(cli_table *t, int ok)
{
    int rc = 0;
    if (ok && t->problem[0]) {
        cli_error("%s: %s: %s", t->cmd, t->path, t->problem);
        ok = 0;
    }
    lxw_error e = workbook_close(t->wb); /* writes the file (always: it frees the workbook) */
    if (ok && e != LXW_NO_ERROR) {
        cli_error("%s: cannot write %s: %s", t->cmd, t->path, lxw_strerror(e));
        ok = 0;
    }
    if (ok) {
        ps_error err = {0};
        if (ps_outfile_publish_temp(t->fd, t->tmp, t->path, 1, NULL, &err) != PS_OK) {
            cli_error("%s: %s", t->cmd, err.message);
            rc = -1;
        }
    } else {
        close(t->fd);
        unlink(t->tmp);
        rc = -1;
    }
    free(t->tmp);
    return rc;
}

int cli_table_close(cli_table *t, int ok)
{
    if (!t)
        return -1;
    int rc = t->fmt == CLI_TABLE_CSV ? cli_out_close(&t->csv, ok) : xlsx_close(t, ok);
    free(t);
    return rc;
}
