/* paysync export-rejects: the rejected rows of a dataset's last run as a CSV file a sheet's
 * owner can filter and fix. The single source is the dataset's rejects file (`rejects:`),
 * which every successful run replaces and which holds each rejected row's raw cells under the
 * source's header names and, per problem, the column of the offending cell. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "util/suggest.h"

static const char export_rejects_usage[] =
    "usage: paysync export-rejects CONFIG --dataset NAME [--format csv] [--output FILE]\n"
    "\n"
    "Writes the rejected rows of the dataset's last successful run (read from its `rejects`\n"
    "file) as CSV: the source's columns in order with the raw values, then row (the sheet\n"
    "row), cell (e.g. C17, the offending cell), code and message; one line per problem.\n"
    "A value starting with = + - @, tab or CR is prefixed with ' so that a spreadsheet\n"
    "shows it as text instead of running it as a formula.\n"
    "\n"
    "  --dataset NAME  the dataset (required; it must have a `rejects` file)\n"
    "  --format csv    the only format (default csv)\n"
    "  --output FILE   write FILE (replaced atomically) instead of standard output (-)\n"
    "\n"
    "exit: 0 written (a run without rejects gives the header alone), 1 no run yet or the\n"
    "rejects file could not be read or the output written, 2 usage or configuration error\n";

/* ---- CSV ---------------------------------------------------------------------------- */

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

static void write_header(FILE *out, const columns *c)
{
    for (size_t i = 0; i < c->n; i++)
        csv_field(out, c->name[i], i == 0);
    static const char *const tail[] = {"row", "cell", "code", "message"};
    for (size_t i = 0; i < 4; i++)
        csv_field(out, tail[i], c->n == 0 && i == 0);
    fputs("\r\n", out);
}

static const char *str_or_empty(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* One line per problem of a reject (one line when it has none). Returns the lines written. */
static size_t write_reject(FILE *out, const columns *c, json_t *rej)
{
    json_t *cells = json_object_get(rej, "cells"), *problems = json_object_get(rej, "problems");
    char row[24];
    snprintf(row, sizeof row, "%lld", (long long)json_integer_value(json_object_get(rej, "row")));
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
            csv_field(out, s ? s : "", i == 0);
            i++;
        }
        for (; i < c->n; i++)
            csv_field(out, "", i == 0);
        char cell[48] = "";
        const char *col = str_or_empty(pr, "column");
        if (col[0])
            snprintf(cell, sizeof cell, "%s%s", col, row);
        csv_field(out, row, c->n == 0);
        csv_field(out, cell, 0);
        csv_field(out, str_or_empty(pr, "code"), 0);
        csv_field(out, str_or_empty(pr, "message"), 0);
        fputs("\r\n", out);
        lines++;
    }
    return lines;
}

/* ---- the command ------------------------------------------------------------------ */

typedef struct er_opts {
    const char *config, *dataset, *format, *output;
} er_opts;

static int parse_args(int argc, char **argv, er_opts *o)
{
    static const struct option longopts[] = {{"dataset", required_argument, 0, 'd'},
                                             {"format", required_argument, 0, 'f'},
                                             {"output", required_argument, 0, 'o'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int c;
    memset(o, 0, sizeof *o);
    o->format = "csv";
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->dataset = optarg;
            break;
        case 'f':
            o->format = optarg;
            break;
        case 'o':
            o->output = optarg;
            break;
        case 'h':
            return cli_usage(export_rejects_usage, 1) == 0 ? -1 : PS_EXIT_USAGE;
        default:
            return cli_usage(export_rejects_usage, 0);
        }
    }
    if (optind != argc - 1)
        return cli_usage(export_rejects_usage, 0);
    o->config = argv[optind];
    if (!o->dataset) {
        cli_error("export-rejects: --dataset NAME is required");
        return PS_EXIT_USAGE;
    }
    if (strcmp(o->format, "csv") != 0) {
        cli_error("export-rejects: --format '%s' is not supported; expected csv", o->format);
        return PS_EXIT_USAGE;
    }
    return 0;
}

/* The dataset named, or NULL after printing the error with a suggestion. */
static const ps_dataset_def *find_dataset(const ps_config *cfg, const char *name)
{
    const ps_dataset_def *d = ps_config_dataset(cfg, name);
    if (d)
        return d;
    const char **names = calloc(cfg->ndatasets + 1, sizeof *names);
    for (size_t i = 0; names && i < cfg->ndatasets; i++)
        names[i] = cfg->datasets[i].name;
    const char *s = names ? ps_suggest(name, names, cfg->ndatasets) : NULL;
    if (s)
        cli_error("%s: unknown dataset '%s' (did you mean '%s'?)", cfg->path, name, s);
    else
        cli_error("%s: unknown dataset '%s'", cfg->path, name);
    free(names);
    return NULL;
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

static int export_rejects(const ps_dataset_def *d, FILE *f, const char *output)
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
    cli_out out;
    if (bad || cli_out_open(&out, output, "export-rejects") != 0) {
        free(in.line);
        columns_free(&cols);
        return PS_EXIT_FAILED;
    }
    write_header(out.f, &cols);
    rewind(f);
    in.lineno = 0;
    while ((r = next_reject(&in, &bad)) != NULL) {
        lines += write_reject(out.f, &cols, r);
        rows++;
        json_decref(r);
    }
    if (bad) {
        cli_out_close(&out, 0);
        rc = PS_EXIT_FAILED;
    } else if (cli_out_close(&out, 1) != 0) {
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
    er_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? PS_EXIT_OK : rc;
    ps_config *cfg = NULL;
    ps_error err = {0};
    if (ps_config_load(o.config, &cfg, &err) != PS_OK) {
        cli_error("%s", err.message);
        return PS_EXIT_USAGE;
    }
    const ps_dataset_def *d = find_dataset(cfg, o.dataset);
    FILE *f = NULL;
    rc = d ? open_rejects(cfg, d, &f) : PS_EXIT_USAGE;
    if (rc == 0) {
        rc = export_rejects(d, f, o.output);
        fclose(f);
    }
    ps_config_free(cfg);
    return rc;
}
