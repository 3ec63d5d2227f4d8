/* paysync core: run summary (text) and JSON report. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

#include "engine/pipeline.h"
#include "engine/rowlog.h"
#include "model/model_fields.h"
#include "model/timestamp.h"
#include "util/mkdirs.h"
#include "util/outfile.h"

static uint64_t rows_per_second(const ps_dataset_result *d)
{
    if (d->elapsed_ms <= 0)
        return d->read * 1000;
    return d->read * 1000 / (uint64_t)d->elapsed_ms;
}

static void print_codes(FILE *out, const char *label, const ps_code_count *tab)
{
    if (!tab[0].code)
        return;
    fprintf(out, "    %s:", label);
    for (int i = 0; i < PS_MAX_CODES && tab[i].code; i++)
        fprintf(out, "%s %s=%" PRIu64, i ? "," : "", tab[i].code, tab[i].count);
    fputc('\n', out);
}

void ps_run_print_summary(const ps_run_result *res, FILE *out)
{
    for (size_t i = 0; i < res->count; i++) {
        const ps_dataset_result *d = &res->datasets[i];
        if (!d->ran)
            continue;
        fprintf(out, "%s: %s\n", d->name,
                d->ok                ? "ok"
                : d->store_committed ? "FAILED (the store committed; a sink after it did not)"
                                     : "FAILED (nothing committed)");
        if (!d->ok) {
            char e[sizeof d->error];
            snprintf(e, sizeof e, "%s", d->error);
            ps_text_sanitize(e);
            fprintf(out, "    error: %s\n", e);
        }
        fprintf(out,
                "    read %" PRIu64 ", accepted %" PRIu64 ", rejected %" PRIu64 ", blank %" PRIu64
                ", duplicates %" PRIu64 ", filtered %" PRIu64 ", warnings %" PRIu64 "\n",
                d->read, d->accepted, d->rejected, d->blank, d->duplicates, d->filtered,
                d->warnings);
        print_codes(out, "rejected by code", d->rejected_by_code);
        print_codes(out, "warnings by code", d->warnings_by_code);
        if (d->meters_checked)
            fprintf(out,
                    "    verify_meters: %" PRIu64 " meters listed, %" PRIu64
                    " payments with an unknown meter (%" PRIu64 " near misses)\n",
                    d->meters_listed, d->meters_unknown, d->meters_near);
        if (d->filtered_source)
            fprintf(out, "    filtered by the source (not payments): %" PRIu64 "\n",
                    d->filtered_source);
        for (size_t k = 0; k < d->nfilters; k++) {
            char desc[256];
            snprintf(desc, sizeof desc, "%s", d->filter_desc[k] ? d->filter_desc[k] : "?");
            ps_text_sanitize(desc);
            fprintf(out, "    filtered by filters[%zu] (%s): %" PRIu64 "\n", k, desc,
                    d->filtered_by[k]);
        }
        if (d->status_values.active) {
            char col[sizeof d->status_column], vals[2048];
            snprintf(col, sizeof col, "%s", d->status_column[0] ? d->status_column : "STATUS");
            ps_text_sanitize(col);
            ps_value_counts_format(&d->status_values, PS_VALUES_SHOWN, vals, sizeof vals);
            ps_text_sanitize(vals);
            char *via = strstr(col, PS_STATUS_VIA_EXTRACT);
            if (via)
                *via = '\0';
            fprintf(out, "    STATUS values (column '%s'%s): %s\n", col,
                    via ? PS_STATUS_VIA_EXTRACT : "", vals);
        }
        if (d->changes.valid)
            fprintf(out,
                    "    changes: new %" PRIu64 ", changed %" PRIu64 ", unchanged %" PRIu64
                    ", vanished %" PRIu64 "\n",
                    d->changes.inserted, d->changes.changed, d->changes.unchanged,
                    d->changes.vanished);
        for (size_t k = 0; k < d->nmissing; k++) {
            char name[256];
            snprintf(name, sizeof name, "%s", d->missing_columns[k]);
            ps_text_sanitize(name);
            fprintf(out,
                    "    column_missing: '%s' (%s) was in the last successful run's header and "
                    "is gone; %s\n",
                    name, ps_field_name(d->missing_fields[k]),
                    d->ok ? "committed without it (payments that had a value count as changed)"
                          : "nothing was committed");
        }
        if (d->guard.outcome == PS_GUARD_ALLOWED)
            fprintf(out,
                    "    vanish guard: allowed %" PRIu64 " of %" PRIu64
                    " stored payments to vanish%s\n",
                    d->guard.vanishing, d->guard.stored,
                    d->guard.windowed ? " (in the window read)" : "");
        if (d->nunknown) {
            fprintf(out, "    unknown columns ignored:");
            for (size_t k = 0; k < d->nunknown; k++) {
                char name[256];
                snprintf(name, sizeof name, "%s", d->unknown_columns[k]);
                ps_text_sanitize(name);
                fprintf(out, "%s '%s'", k ? "," : "", name);
            }
            fputc('\n', out);
        }
        for (size_t k = 0; k < d->nunnamed; k++) {
            char m[400];
            snprintf(m, sizeof m, "%s", d->unnamed_message[k] ? d->unnamed_message[k] : "?");
            ps_text_sanitize(m);
            fprintf(out, "    warning unnamed_column: %s\n", m);
        }
        fprintf(out, "    %" PRId64 ".%03d s, %" PRIu64 " rows/s\n", d->elapsed_ms / 1000,
                (int)(d->elapsed_ms % 1000), rows_per_second(d));
    }
}

static json_t *codes_json(const ps_code_count *tab)
{
    json_t *o = json_object();
    for (int i = 0; i < PS_MAX_CODES && tab[i].code; i++)
        json_object_set_new(o, tab[i].code, json_integer((json_int_t)tab[i].count));
    return o;
}

static json_t *time_json(int64_t ms)
{
    char t[PS_TIME_TEXT_MAX];
    ps_time_format(ms, t);
    return json_string(t);
}

ps_status ps_run_write_report(const ps_run_result *res, const char *path, ps_error *err)
{
    json_t *root = json_object();
    json_t *arr = json_array();
    int all_ok = 1;
    for (size_t i = 0; i < res->count; i++) {
        const ps_dataset_result *d = &res->datasets[i];
        if (!d->ran)
            continue;
        all_ok &= d->ok;
        json_t *o = json_object();
        json_object_set_new(o, "dataset", json_string(d->name));
        json_object_set_new(o, "run_id", json_string(d->run_id));
        json_object_set_new(o, "outcome", json_string(d->ok ? "ok" : "failed"));
        if (!d->ok) {
            char *e = ps_utf8_repair(d->error, strlen(d->error));
            json_object_set_new(o, "error", json_string(e ? e : "?"));
            free(e);
            if (d->error_code[0])
                json_object_set_new(o, "error_code", json_string(d->error_code));
        }
        json_object_set_new(o, "started", time_json(d->started_ms));
        json_object_set_new(o, "finished", time_json(d->finished_ms));
        json_object_set_new(o, "read", json_integer((json_int_t)d->read));
        json_object_set_new(o, "accepted", json_integer((json_int_t)d->accepted));
        json_object_set_new(o, "rejected", json_integer((json_int_t)d->rejected));
        json_object_set_new(o, "blank", json_integer((json_int_t)d->blank));
        json_object_set_new(o, "duplicates", json_integer((json_int_t)d->duplicates));
        json_object_set_new(o, "filtered", json_integer((json_int_t)d->filtered));
        if (d->filtered_source)
            json_object_set_new(o, "filtered_by_source",
                                json_integer((json_int_t)d->filtered_source));
        json_object_set_new(o, "warnings", json_integer((json_int_t)d->warnings));
        json_object_set_new(o, "rejected_by_code", codes_json(d->rejected_by_code));
        json_object_set_new(o, "warnings_by_code", codes_json(d->warnings_by_code));
        if (d->meters_checked) {
            json_t *m = json_object();
            json_object_set_new(m, "meters", json_integer((json_int_t)d->meters_listed));
            json_object_set_new(m, "unknown", json_integer((json_int_t)d->meters_unknown));
            json_object_set_new(m, "near_misses", json_integer((json_int_t)d->meters_near));
            json_object_set_new(o, "verify_meters", m);
        }
        if (d->nfilters) {
            json_t *fa = json_array();
            for (size_t k = 0; k < d->nfilters; k++) {
                json_t *fo = json_object();
                json_object_set_new(fo, "filter",
                                    json_string(d->filter_desc[k] ? d->filter_desc[k] : "?"));
                json_object_set_new(fo, "rows", json_integer((json_int_t)d->filtered_by[k]));
                json_array_append_new(fa, fo);
            }
            json_object_set_new(o, "filtered_by", fa);
        }
        if (d->status_values.active) {
            json_t *sv = json_object();
            char *col = ps_utf8_repair(d->status_column, strlen(d->status_column));
            json_object_set_new(sv, "column", json_string(col ? col : "?"));
            free(col);
            json_t *vals = json_array();
            for (size_t k = 0; k < d->status_values.n; k++) {
                json_t *vo = json_object();
                const char *t = d->status_values.v[k].text;
                char *rt = ps_utf8_repair(t, strlen(t));
                json_object_set_new(vo, "value", json_string(rt ? rt : "?"));
                free(rt);
                json_object_set_new(vo, "rows",
                                    json_integer((json_int_t)d->status_values.v[k].count));
                json_array_append_new(vals, vo);
            }
            json_object_set_new(sv, "values", vals);
            json_object_set_new(sv, "other_rows",
                                json_integer((json_int_t)d->status_values.other_rows));
            json_object_set_new(o, "status_values", sv);
        }
        if (d->changes.valid) {
            json_t *c = json_object();
            json_object_set_new(c, "new", json_integer((json_int_t)d->changes.inserted));
            json_object_set_new(c, "changed", json_integer((json_int_t)d->changes.changed));
            json_object_set_new(c, "unchanged", json_integer((json_int_t)d->changes.unchanged));
            json_object_set_new(c, "vanished", json_integer((json_int_t)d->changes.vanished));
            json_object_set_new(o, "changes", c);
        }
        if (d->guard.outcome != PS_GUARD_NOT_CHECKED) {
            json_t *g = json_object();
            json_object_set_new(g, "outcome",
                                json_string(ps_vanish_guard_outcome_name(d->guard.outcome)));
            json_object_set_new(g, "stored", json_integer((json_int_t)d->guard.stored));
            json_object_set_new(g, "vanishing", json_integer((json_int_t)d->guard.vanishing));
            json_object_set_new(g, "limit",
                                d->guard.limit == UINT64_MAX
                                    ? json_null()
                                    : json_integer((json_int_t)d->guard.limit));
            json_object_set_new(g, "empty_source", json_boolean(d->guard.empty_source));
            if (d->guard.windowed) { /* a windowed source: the TIMESTAMP range counted */
                json_t *w = json_object();
                char t[32];
                json_object_set_new(
                    w, "from",
                    d->guard.window_from_ms == INT64_MIN
                        ? json_null()
                        : json_string(ps_vanish_window_text(d->guard.window_from_ms, t, sizeof t)));
                json_object_set_new(
                    w, "to",
                    d->guard.window_to_ms == INT64_MAX
                        ? json_null()
                        : json_string(ps_vanish_window_text(d->guard.window_to_ms, t, sizeof t)));
                json_object_set_new(g, "window", w);
            }
            json_object_set_new(o, "vanish_guard", g);
        }
        json_t *u = json_array();
        for (size_t k = 0; k < d->nunknown; k++) {
            char *name = ps_utf8_repair(d->unknown_columns[k], strlen(d->unknown_columns[k]));
            json_array_append_new(u, json_string(name ? name : "?"));
            free(name);
        }
        json_object_set_new(o, "unknown_columns", u);
        json_t *un = json_array();
        for (size_t k = 0; k < d->nunnamed; k++) {
            char letters[8];
            json_t *c = json_object();
            json_object_set_new(c, "column",
                                json_string(ps_column_letters(d->unnamed[k].col, letters)));
            json_object_set_new(c, "values", json_integer((json_int_t)d->unnamed[k].values));
            json_object_set_new(c, "first_row", json_integer((json_int_t)d->unnamed[k].first_row));
            char *m = d->unnamed_message[k]
                          ? ps_utf8_repair(d->unnamed_message[k], strlen(d->unnamed_message[k]))
                          : NULL;
            json_object_set_new(c, "message", json_string(m ? m : "?"));
            free(m);
            json_array_append_new(un, c);
        }
        json_object_set_new(o, "unnamed_columns", un);
        json_t *m = json_array();
        for (size_t k = 0; k < d->nmissing; k++) {
            json_t *c = json_object();
            char *name = ps_utf8_repair(d->missing_columns[k], strlen(d->missing_columns[k]));
            json_object_set_new(c, "column", json_string(name ? name : "?"));
            json_object_set_new(c, "field", json_string(ps_field_name(d->missing_fields[k])));
            free(name);
            json_array_append_new(m, c);
        }
        json_object_set_new(o, "missing_columns", m);
        json_object_set_new(o, "elapsed_ms", json_integer((json_int_t)d->elapsed_ms));
        json_object_set_new(o, "rows_per_second", json_integer((json_int_t)rows_per_second(d)));
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "outcome", json_string(all_ok ? "ok" : "failed"));
    json_object_set_new(root, "datasets", arr);
    ps_status st = PS_OK;
    if (strcmp(path, "-") == 0) {
        if (json_dumpf(root, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF ||
            fflush(stdout) != 0)
            st = ps_error_setf(err, PS_ERR_IO, "cannot write the report to stdout: %s",
                               strerror(errno ? errno : EIO));
    } else {
        /* The one way paysync writes a file: exclusive temp file beside path, then rename. */
        char *tmp = NULL;
        FILE *f = ps_outfile_fopen_temp(path, 1, &tmp, err);
        if (!f) {
            st = PS_ERR_IO;
        } else if (json_dumpf(root, f, JSON_INDENT(2)) != 0) {
            st = ps_error_setf(err, PS_ERR_IO, "cannot write the report '%s': %s", path,
                               strerror(errno ? errno : EIO));
            fclose(f);
            unlink(tmp);
        } else {
            st = ps_outfile_publish_file(f, tmp, path, NULL, err);
        }
        free(tmp);
        if (st != PS_OK && err && err->code == PS_ERR_SINK)
            err->code = PS_ERR_IO;
        if (st != PS_OK)
            st = PS_ERR_IO;
    }
    json_decref(root);
    return st;
}
