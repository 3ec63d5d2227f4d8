/* paysync export: stored payments in the platform's upload format (csv or jsonl). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "ds_state.h"
#include "model/model_fields.h"
#include "model/time_window.h"
#include "model/timestamp.h"
#include "store/store.h"
#include "util/log.h"
#include "util/outfile.h"

static const char export_usage[] =
    "usage: paysync export CONFIG --dataset NAME [--from T] [--to T] --format csv|jsonl\n"
    "                      [--output FILE] [--include-vanished]\n"
    "\n"
    "Writes the dataset's payments from its sqlite store, ordered by TIMESTAMP then ID:\n"
    "csv = the platform's 21 columns in the spec's order with a header row (CRLF lines),\n"
    "jsonl = one object per payment with the same keys as the jsonl sink.\n"
    "\n"
    "  --dataset NAME      the dataset to export (required)\n"
    "  --from T, --to T    inclusive TIMESTAMP window, ISO 8601 (a zone-less time is UTC);\n"
    "                      --to covers its whole day (a date alone), minute or second (no\n"
    "                      fraction); --from after --to is an error\n"
    "  --format F          csv or jsonl (required)\n"
    "  --output FILE       write FILE (replaced atomically) instead of standard output\n"
    "  --include-vanished  also payments that vanished from the source\n"
    "\n"
    "exit: 0 written, 1 the store could not be read or the output written, 2 usage or\n"
    "configuration error\n";

/* ---- writers -------------------------------------------------------------------------- */

static void csv_cell(FILE *out, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void csv_row(FILE *out, const char *const *cells)
{
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        if (f)
            fputc(',', out);
        csv_cell(out, cells[f]);
    }
    fputs("\r\n", out);
}

static void json_str(FILE *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') {
            fputc(c, out);
            continue;
        }
        fputc('\\', out);
        switch (c) {
        case '"':
            fputc('"', out);
            break;
        case '\\':
            fputc('\\', out);
            break;
        case '\n':
            fputc('n', out);
            break;
        case '\r':
            fputc('r', out);
            break;
        case '\t':
            fputc('t', out);
            break;
        case '\b':
            fputc('b', out);
            break;
        case '\f':
            fputc('f', out);
            break;
        default:
            fputs("u00", out);
            fputc(hex[c >> 4], out);
            fputc(hex[c & 15], out);
        }
    }
    fputc('"', out);
}

/* Fields the jsonl sink writes as JSON numbers (when their text is a plain decimal). */
static int numeric_field(int f)
{
    return f == PS_F_PAYMENT_AMOUNT || f == PS_F_TRANSACTION_CHARGES || f == PS_F_LATITUDE ||
           f == PS_F_LONGITUDE || f == PS_F_FAILED_BATTERY_CAPACITY_COUNT;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)? */
static int json_number(const char *s)
{
    size_t i = 0;
    if (s[i] == '-')
        i++;
    if (s[i] < '0' || s[i] > '9')
        return 0;
    if (s[i] == '0')
        i++;
    else
        while (s[i] >= '0' && s[i] <= '9')
            i++;
    if (s[i] == '.') {
        size_t d = ++i;
        while (s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    return s[i] == '\0';
}

static void jsonl_row(FILE *out, const ps_store_payment *p, const char *dataset)
{
    fputc('{', out);
    int first = 1;
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        const char *v = p->field[f];
        if (!v)
            continue;
        if (!first)
            fputc(',', out);
        first = 0;
        fprintf(out, "\"%s\":", ps_field_name(f));
        if (numeric_field(f) && json_number(v))
            fputs(v, out);
        else
            json_str(out, v);
    }
    fputs(first ? "\"DATASET\":" : ",\"DATASET\":", out);
    json_str(out, dataset);
    fputs("}\n", out);
}

/* ---- options ------------------------------------------------------------------------- */

typedef struct export_opts {
    cli_ds_args a;
    const char *from, *to;
    int include_vanished;
} export_opts;

static int export_option(void *ctx, int opt, const char *arg)
{
    export_opts *o = ctx;
    if (opt == 'F')
        o->from = arg;
    else if (opt == 'T')
        o->to = arg;
    else
        o->include_vanished = 1;
    return 0;
}

static int parse_args(int argc, char **argv, export_opts *o)
{
    static const struct option extra[] = {{"from", required_argument, 0, 'F'},
                                          {"to", required_argument, 0, 'T'},
                                          {"include-vanished", no_argument, 0, 'V'},
                                          {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    int rc =
        cli_parse_ds_args(argc, argv, "export", export_usage, NULL, extra, export_option, o, &o->a);
    if (rc != 0)
        return rc;
    if (!o->a.format) {
        cli_error("export: --format csv|jsonl is required");
        return PS_EXIT_USAGE;
    }
    if (strcmp(o->a.format, "csv") != 0 && strcmp(o->a.format, "jsonl") != 0) {
        cli_error("export: --format '%s' is not supported; expected csv or jsonl", o->a.format);
        return PS_EXIT_USAGE;
    }
    return 0;
}

int cmd_export(int argc, char **argv)
{
    export_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? PS_EXIT_OK : rc;
    ps_store_query q;
    memset(&q, 0, sizeof q);
    if (cli_parse_window("export", o.from, o.to, &q) != 0)
        return PS_EXIT_USAGE;
    q.include_vanished = o.include_vanished;

    ps_config *cfg = NULL;
    ps_error err = {0};
    const ps_dataset_def *d = NULL;
    rc = cli_load_dataset(o.a.config, o.a.dataset, &cfg, &d);
    if (rc != 0)
        return rc;
    ps_store_ref ref;
    if (cli_state_store(cfg, d, &ref) != 0) {
        cli_error("dataset '%s' has no sqlite sink: there is no store to export from", d->name);
        ps_config_free(cfg);
        return PS_EXIT_USAGE;
    }
    ps_store *s = NULL;
    if (ps_store_open(&ref, PS_STORE_WAIT_MS, &s, &err) != PS_OK) {
        cli_error("%s", err.message);
        ps_store_ref_free(&ref);
        ps_config_free(cfg);
        return PS_EXIT_FAILED;
    }
    const char *names[1] = {d->name};
    q.datasets = names;
    q.ndatasets = 1;
    ps_store_iter *it = NULL;
    cli_out out = {0};
    int csv = strcmp(o.a.format, "csv") == 0;
    ps_status st = ps_store_payments(s, &q, &it, &err);
    if (st == PS_OK && cli_out_open(&out, o.a.output, "export") != 0) {
        ps_store_iter_free(it);
        ps_store_close(s);
        ps_store_ref_free(&ref);
        ps_config_free(cfg);
        return PS_EXIT_FAILED;
    }
    uint64_t count = 0;
    if (st == PS_OK && csv) {
        const char *names[PS_FIELD_COUNT];
        for (int f = 0; f < PS_FIELD_COUNT; f++)
            names[f] = ps_field_name(f);
        csv_row(out.f, names);
    }
    ps_store_payment p;
    while (st == PS_OK && (st = ps_store_next_payment(it, &p, &err)) == PS_OK) {
        if (csv)
            csv_row(out.f, p.field);
        else
            jsonl_row(out.f, &p, d->name);
        count++;
    }
    ps_store_iter_free(it);
    rc = PS_EXIT_OK;
    if (st != PS_END) {
        cli_error("%s", err.message);
        rc = PS_EXIT_FAILED;
        if (out.f)
            cli_out_close(&out, 0);
    } else if (cli_out_close(&out, 1) != 0) {
        rc = PS_EXIT_FAILED;
    } else if (o.a.output && strcmp(o.a.output, "-") != 0) {
        fprintf(stderr, "paysync: wrote %llu payment(s) of '%s' to %s\n", (unsigned long long)count,
                d->name, o.a.output);
    }
    ps_store_close(s);
    ps_store_ref_free(&ref);
    ps_config_free(cfg);
    return rc;
}
