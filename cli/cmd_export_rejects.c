/* paysync export-rejects: the rejected rows of a dataset's last run as a CSV file or an xlsx
 * workbook a sheet's owner can filter and fix. The single source is the dataset's rejects file
 * (`rejects:`), which every successful run replaces and which holds each rejected row's raw cells
 * under the source's header names and, per problem, the column of the offending cell. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "table_out.h"

static const char export_rejects_usage[] =
    "usage: paysync export-rejects CONFIG --dataset NAME [--format csv|xlsx] [--output FILE]\n"
    "\n"
    "Writes the rejected rows of the dataset's last successful run (read from its `rejects`\n"
    "file) as CSV or as an xlsx workbook: the source's columns in order with the raw values,\n"
    "then row (the sheet row), cell (e.g. C17, the offending cell), code and message; one\n"
    "line per problem. In CSV a value starting with = + - @, tab or CR is prefixed with '\n"
    "so that a spreadsheet shows it as text instead of running it as a formula; in xlsx every\n"
    "value is a text cell as it was (leading zeros kept) and row is a number.\n"
    "\n"
    "  --dataset NAME      the dataset (required; it must have a `rejects` file)\n"
    "  --format csv|xlsx   default csv\n"
    "  --output FILE       write FILE (replaced atomically) instead of standard output (-);\n"
    "                      required for xlsx\n"
    "\n"
    "exit: 0 written (a run without rejects gives the header alone), 1 no run yet or the\n"
    "rejects file could not be read or the output written, 2 usage or configuration error\n";

/* ---- the rejects file ------------------------------------------------------------- */

typedef struct rejects_in {
    FILE *f;
    const char *path;
    const char *dataset;
    char *line;
    size_t cap;
    unsigned long long lineno;
} rejects_in;

/* The next reject of the dataset (a new reference), NULL at the end; *bad set (after the
 * error is printed) when a line is not a reject of paysync's rejects format. */
static json_t *next_reject(rejects_in *in, int *bad)
{
    ssize_t n;
    *bad = 0;
    while ((n = getline(&in->line, &in->cap, in->f)) >= 0) {
        in->lineno++;
        if (n == 0 || (n == 1 && in->line[0] == '\n'))
            continue;
        json_error_t jerr;
        json_t *o = json_loadb(in->line, (size_t)n, 0, &jerr);
        json_t *ds = json_object_get(o, "dataset");
        if (!json_is_object(o) || !json_is_string(ds) ||
            !json_is_integer(json_object_get(o, "row")) ||
            !json_is_array(json_object_get(o, "problems")) ||
            !json_is_object(json_object_get(o, "cells"))) {
            cli_error("export-rejects: %s:%llu: not a line of a rejects file", in->path,
                      in->lineno);
            json_decref(o);
            *bad = 1;
            return NULL;
        }
        if (strcmp(json_string_value(ds), in->dataset) == 0)
            return o;
        json_decref(o);
    }
    if (ferror(in->f)) {
        cli_error("export-rejects: cannot read %s: %s", in->path, strerror(errno));
        *bad = 1;
    }
    return NULL;
}

/* The column names: the cells' keys of the reject with the most cells (every reject lists
 * the header's columns in order, then "column X" for values past the header). */
typedef struct columns {
    char **name;
    size_t n;
} columns;

static void columns_free(columns *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->name[i]);
    free(c->name);
    c->name = NULL;
    c->n = 0;
}

static int columns_take(columns *c, json_t *cells)
{
    size_t n = json_object_size(cells);
    if (n <= c->n)
        return 0;
    columns_free(c);
    c->name = calloc(n, sizeof *c->name);
    if (!c->name)
        return -1;
    const char *k;
    json_t *v;
    json_object_foreach(cells, k, v)
    {
        (void)v;
        if (!(c->name[c->n] = strdup(k)))
            return -1;
        c->n++;
    }
    return 0;
}

static void write_header(cli_table *t, const columns *c)
{
    for (size_t i = 0; i < c->n; i++)
        cli_table_text(t, c->name[i]);
    static const char *const tail[] = {"row", "cell", "code", "message"};
    for (size_t i = 0; i < 4; i++)
        cli_table_text(t, tail[i]);
    cli_table_end_row(t);
}

static const char *str_or_empty(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* One line per problem of a reject (one line when it has none). Returns the lines written. */
static size_t write_reject(cli_table *t, const columns *c, json_t *rej)
{
    json_t *cells = json_object_get(rej, "cells"), *problems = json_object_get(rej, "problems");
    long long row = (long long)json_integer_value(json_object_get(rej, "row"));
    size_t np = json_array_size(problems), lines = 0;
    for (size_t p = 0; p < np || (np == 0 && p == 0); p++) {
        json_t *pr = json_array_get(problems, p); /* NULL when np == 0 */
        size_t i = 0;
        const char *k;
        json_t *v;
        json_object_foreach(cells, k, v)
        {
            (void)k;
            if (i >= c->n)
                break;
            const char *s = json_string_value(v);
            cli_table_text(t, s ? s : "");
            i++;
        }
        for (; i < c->n; i++)
            cli_table_text(t, "");
        char cell[48] = "";
        const char *col = str_or_empty(pr, "column");
        if (col[0])
            snprintf(cell, sizeof cell, "%s%lld", col, row);
        cli_table_number(t, row);
        cli_table_text(t, cell);
        cli_table_text(t, str_or_empty(pr, "code"));
        cli_table_text(t, str_or_empty(pr, "message"));
        cli_table_end_row(t);
        lines++;
    }
    return lines;
}

/* ---- the command ------------------------------------------------------------------ */

static int parse_args(int argc, char **argv, cli_ds_args *a, cli_table_format *fmt)
{
    int rc = cli_parse_ds_args(argc, argv, "export-rejects", export_rejects_usage, "csv", NULL,
                               NULL, NULL, a);
    if (rc != 0)
        return rc;
    if (cli_table_format_parse(a->format, fmt) != 0) {
        cli_error("export-rejects: --format '%s' is not supported; expected csv or xlsx",
                  a->format);
        return PS_EXIT_USAGE;
    }
    if (*fmt == CLI_TABLE_XLSX && (!a->output || strcmp(a->output, "-") == 0)) {
        cli_error("export-rejects: %s", CLI_XLSX_NEEDS_FILE);
        return PS_EXIT_USAGE;
    }
    return 0;
}

/* Opens the dataset's rejects file: 0, or the exit code after printing why not. */
static int open_rejects(const ps_config *cfg, const ps_dataset_def *d, FILE **f)
{
    if (!d->rejects || strcmp(d->rejects, "-") == 0) {
        cli_error("export-rejects: dataset '%s' keeps no rejects file (%s); set `rejects: FILE` "
                  "under it in %s and run it again",
                  d->name, d->rejects ? "its rejects go to standard error" : "no `rejects` key",
                  cfg->path);
        return PS_EXIT_USAGE;
    }
    *f = fopen(d->rejects, "r");
    if (*f)
        return 0;
    if (errno == ENOENT)
        cli_error("export-rejects: dataset '%s' has no run yet: its rejects file %s does not "
                  "exist; run `paysync run %s --dataset '%s'` first",
                  d->name, d->rejects, cfg->path, d->name);
    else
        cli_error("export-rejects: cannot open %s: %s", d->rejects, strerror(errno));
    return PS_EXIT_FAILED;
}

static int export_rejects(const ps_dataset_def *d, FILE *f, cli_table_format fmt,
                          const char *output)
{
    rejects_in in = {.f = f, .path = d->rejects, .dataset = d->name};
    columns cols = {0};
    int bad = 0, rc = PS_EXIT_OK;
    unsigned long long rows = 0, lines = 0;
    json_t *r;
    /* Pass 1: the columns. Pass 2: the lines. The file is streamed: memory is one reject. */
    while ((r = next_reject(&in, &bad)) != NULL) {
        int st = columns_take(&cols, json_object_get(r, "cells"));
        json_decref(r);
        if (st != 0) {
            cli_error("out of memory");
            bad = 1;
            break;
        }
    }
    cli_table *out = bad ? NULL : cli_table_open(fmt, output, "export-rejects");
    if (!out) {
        free(in.line);
        columns_free(&cols);
        return PS_EXIT_FAILED;
    }
    write_header(out, &cols);
    rewind(f);
    in.lineno = 0;
    while ((r = next_reject(&in, &bad)) != NULL) {
        lines += write_reject(out, &cols, r);
        rows++;
        json_decref(r);
    }
    if (bad) {
        cli_table_close(out, 0);
        rc = PS_EXIT_FAILED;
    } else if (cli_table_close(out, 1) != 0) {
        rc = PS_EXIT_FAILED;
    } else if (rows == 0) {
        fprintf(stderr,
                "paysync: the last run of '%s' rejected no rows (%s): wrote the header alone\n",
                d->name, d->rejects);
    } else if (output && strcmp(output, "-") != 0) {
        fprintf(stderr,
                "paysync: wrote %llu rejected row(s) of '%s' (%llu problem line(s)) to %s\n", rows,
                d->name, lines, output);
    }
    free(in.line);
    columns_free(&cols);
    return rc;
}

int cmd_export_rejects(int argc, char **argv)
{
    cli_ds_args o;
    cli_table_format fmt;
    int rc = parse_args(argc, argv, &o, &fmt);
    if (rc != 0)
        return rc < 0 ? PS_EXIT_OK : rc;
    ps_config *cfg = NULL;
    const ps_dataset_def *d = NULL;
    rc = cli_load_dataset(o.config, o.dataset, &cfg, &d);
    if (rc != 0)
        return rc;
    FILE *f = NULL;
    rc = open_rejects(cfg, d, &f);
    if (rc == 0) {
        rc = export_rejects(d, f, fmt, o.output);
        fclose(f);
    }
    ps_config_free(cfg);
    return rc;
}
