/* paysync CLI: the runs part of the HTML report: the last runs from the store's run history,
 * and what the last successful run rejected, warned about, marked vanished or found changed. */
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "model/model_fields.h"
#include "report_parts.h"
#include "report_rejects.h"
#include "util/duration.h"

#define LAST_RUNS 10
#define CHANGES_SHOWN 20

/* What the sections after the runs table need of the last successful run (copied). */
typedef struct last_ok {
    int has;
    char run_id[64], started[40];
    uint64_t rejected, warnings, vanished, changed;
} last_ok;

static void cell_count(FILE *f, uint64_t v)
{
    fprintf(f, "<td class=\"n\">");
    html_count(f, v);
    fputs("</td>", f);
}

static void run_row(FILE *f, const ps_store_run *r)
{
    int ok = r->outcome && strcmp(r->outcome, "ok") == 0;
    fputs(ok ? "<tr class=\"ok\" data-run=\"" : "<tr class=\"failed\" data-run=\"", f);
    html_text(f, r->run_id);
    fputs("\"><td>", f);
    html_text(f, r->started);
    fputs("</td><td class=\"outcome\">", f);
    html_text(f, ok ? "ok" : "failed");
    fputs("</td><td>", f);
    if (r->finished && r->finished_ms >= r->started_ms) {
        char el[32];
        ps_duration_format(r->finished_ms - r->started_ms, el, sizeof el);
        html_text(f, el);
    }
    fputs("</td>", f);
    const uint64_t counts[] = {r->read,       r->accepted, r->rejected, r->blank,
                               r->duplicates, r->filtered, r->warnings};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        cell_count(f, counts[i]);
    if (r->has_changes) {
        cell_count(f, r->inserted);
        cell_count(f, r->changed);
        cell_count(f, r->unchanged);
        cell_count(f, r->vanished);
    } else {
        fputs("<td></td><td></td><td></td><td></td>", f);
    }
    fputs("<td class=\"error\">", f);
    html_text_cut(f, r->error, 300);
    fputs("</td></tr>\n", f);
}

static int runs_table(FILE *f, ps_store *s, const ps_dataset_def *d, last_ok *lo, char *msg,
                      size_t cap)
{
    ps_store_iter *it = NULL;
    ps_error err = {0};
    ps_store_run r;
    ps_status st = ps_store_runs(s, d->name, LAST_RUNS, &it, &err);
    fprintf(f, "<h3>Last runs</h3>\n<div class=\"wide\"><table "
               "class=\"runs\">\n<thead><tr><th>Started (UTC)</th>"
               "<th>Outcome</th><th>Took</th><th>Read</th><th>Accepted</th><th>Rejected</th>"
               "<th>Blank</th><th>Duplicates</th><th>Filtered</th><th>Warnings</th><th>New</th>"
               "<th>Changed</th><th>Unchanged</th><th>Vanished</th><th>Error</th></tr></thead>\n"
               "<tbody>\n");
    size_t n = 0;
    while (st == PS_OK && (st = ps_store_next_run(it, &r, &err)) == PS_OK) {
        run_row(f, &r);
        n++;
        if (!lo->has && r.outcome && strcmp(r.outcome, "ok") == 0) {
            lo->has = 1;
            snprintf(lo->run_id, sizeof lo->run_id, "%s", r.run_id ? r.run_id : "");
            snprintf(lo->started, sizeof lo->started, "%s", r.started ? r.started : "");
            lo->rejected = r.rejected;
            lo->warnings = r.warnings;
            lo->vanished = r.has_changes ? r.vanished : 0;
            lo->changed = r.has_changes ? r.changed : 0;
        }
    }
    ps_store_iter_free(it);
    if (st != PS_END) {
        snprintf(msg, cap, "%s", err.message);
        return -1;
    }
    if (n == 0)
        fputs("<tr><td colspan=\"15\" class=\"none\">No run recorded yet.</td></tr>\n", f);
    fputs("</tbody></table></div>\n", f);
    return 0;
}

/* A table of problem codes with their row counts, class cls. */
static void codes_table(FILE *f, const char *cls, const struct ps_store_code_count *c, size_t n)
{
    fprintf(f,
            "<table class=\"%s\">\n<thead><tr><th>Code</th><th>Rows</th></tr></thead>\n"
            "<tbody>\n",
            cls);
    for (size_t i = 0; i < n; i++) {
        fputs("<tr><td class=\"code\">", f);
        html_text(f, c[i].code);
        fprintf(f, "</td><td class=\"n\" data-count=\"%llu\">", (unsigned long long)c[i].count);
        html_count(f, c[i].count);
        fputs("</td></tr>\n", f);
    }
    if (n == 0)
        fputs("<tr><td colspan=\"2\" class=\"none\">none</td></tr>\n", f);
    fputs("</tbody></table>\n", f);
}

static uint64_t code_count(const struct ps_store_code_count *c, size_t n, const char *code)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].code, code) == 0)
            return c[i].count;
    return 0;
}

static void columns_table(FILE *f, const rr_summary *rr)
{
    fputs("<h4>Problems by column</h4>\n<table class=\"columns\">\n<thead><tr><th>Column</th>"
          "<th>Header</th><th>Field</th><th>Problems</th></tr></thead>\n<tbody>\n",
          f);
    for (size_t i = 0; i < rr->ncols; i++) {
        const rr_column *c = &rr->cols[i];
        fputs("<tr><td class=\"code\">", f);
        html_text(f, c->letters[0] ? c->letters : "(row)");
        fputs("</td><td>", f);
        html_text_cut(f, c->header, 120);
        fputs("</td><td>", f);
        html_text(f, c->field);
        fprintf(f, "</td><td class=\"n\" data-count=\"%llu\">", (unsigned long long)c->problems);
        html_count(f, c->problems);
        fputs("</td></tr>\n", f);
    }
    if (rr->ncols == 0)
        fputs("<tr><td colspan=\"4\" class=\"none\">none</td></tr>\n", f);
    fputs("</tbody></table>\n", f);
}

static void top_rows(FILE *f, const rr_summary *rr)
{
    fprintf(f,
            "<h4>First %zu rejected rows of %llu</h4>\n<table class=\"rejects\">\n<thead><tr>"
            "<th>Row</th><th>Cell</th><th>Code</th><th>Message</th><th>Value</th>"
            "<th>The row's cells</th></tr></thead>\n<tbody>\n",
            rr->ntop, (unsigned long long)rr->rows);
    for (size_t i = 0; i < rr->ntop; i++) {
        json_t *o = rr->top[i], *cells = json_object_get(o, "cells");
        json_t *problems = json_object_get(o, "problems");
        long long row = (long long)json_integer_value(json_object_get(o, "row"));
        size_t np = json_array_size(problems), span = np ? np : 1;
        for (size_t p = 0; p < span; p++) {
            json_t *pr = json_array_get(problems, p);
            const char *letters = json_string_value(json_object_get(pr, "column"));
            fputs("<tr>", f);
            if (p == 0)
                fprintf(f, "<td class=\"n\" rowspan=\"%zu\">%lld</td>", span, row);
            fputs("<td class=\"cell\">", f);
            if (letters) {
                html_text(f, letters);
                fprintf(f, "%lld", row);
            }
            fputs("</td><td class=\"code\">", f);
            html_text(f, json_string_value(json_object_get(pr, "code")));
            fputs("</td><td>", f);
            html_text_cut(f, json_string_value(json_object_get(pr, "message")), 300);
            fputs("</td><td class=\"raw\">", f);
            if (letters)
                html_text_cut(
                    f, json_string_value(rr_cell_at(cells, rr_column_index(letters), NULL)), 120);
            fputs("</td>", f);
            if (p == 0) {
                fprintf(f, "<td class=\"cells\" rowspan=\"%zu\">", span);
                const char *k;
                json_t *v;
                int first = 1;
                json_object_foreach(cells, k, v)
                {
                    const char *t = json_string_value(v);
                    if (!t || !t[0])
                        continue;
                    fputs(first ? "<b>" : " <span class=\"sep\">|</span> <b>", f);
                    first = 0;
                    html_text_cut(f, k, 60);
                    fputs("</b>: ", f);
                    html_text_cut(f, t, 80);
                }
                fputs("</td>", f);
            }
            fputs("</tr>\n", f);
        }
    }
    fputs("</tbody></table>\n", f);
}

/* Payments the run marked vanished (vanished 1) or found changed, the first CHANGES_SHOWN. */
static int changes_table(FILE *f, ps_store *s, const ps_dataset_def *d, const last_ok *lo,
                         int vanished, char *msg, size_t cap)
{
    uint64_t total = vanished ? lo->vanished : lo->changed;
    fprintf(f, "<h4>%s: <span data-count=\"%llu\">", vanished ? "Vanished" : "Changed",
            (unsigned long long)total);
    html_count(f, total);
    fputs("</span></h4>\n", f);
    if (total == 0)
        return 0;
    const char *names[1] = {d->name};
    ps_store_query q = {.datasets = names, .ndatasets = 1, .unbounded = 1};
    if (vanished)
        q.vanished_in_run = lo->run_id;
    else
        q.changed_in_run = lo->run_id;
    ps_store_iter *it = NULL;
    ps_error err = {0};
    ps_store_payment p;
    ps_status st = ps_store_payments(s, &q, &it, &err);
    fprintf(f,
            "<table class=\"%s\">\n<thead><tr><th>ID</th><th>TIMESTAMP</th><th>Amount</th>"
            "<th>Currency</th><th>Type</th><th>METER_ID</th><th>CUSTOMER_ID</th>"
            "<th>Sheet row</th></tr></thead>\n<tbody>\n",
            vanished ? "vanished" : "changed");
    size_t n = 0;
    while (st == PS_OK && n < CHANGES_SHOWN &&
           (st = ps_store_next_payment(it, &p, &err)) == PS_OK) {
        static const int cols[] = {PS_F_ID,
                                   PS_F_TIMESTAMP,
                                   PS_F_PAYMENT_AMOUNT,
                                   PS_F_PAYMENT_CURRENCY,
                                   PS_F_TRANSACTION_TYPE,
                                   PS_F_METER_ID,
                                   PS_F_CUSTOMER_ID};
        fputs("<tr>", f);
        for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
            fputs(cols[c] == PS_F_PAYMENT_AMOUNT ? "<td class=\"n\">" : "<td>", f);
            html_text_cut(f, p.field[cols[c]], 120);
            fputs("</td>", f);
        }
        fprintf(f, "<td class=\"n\">%llu</td></tr>\n", (unsigned long long)p.source_row);
        n++;
    }
    ps_store_iter_free(it);
    if (st != PS_OK && st != PS_END) {
        snprintf(msg, cap, "%s", err.message);
        return -1;
    }
    fputs("</tbody></table>\n", f);
    if (total > n)
        fprintf(f, "<p class=\"more\">The first %zu shown.</p>\n", n);
    return 0;
}

int report_runs(FILE *f, ps_store *s, const ps_dataset_def *d, char *msg, size_t cap)
{
    last_ok lo = {0};
    if (runs_table(f, s, d, &lo, msg, cap) != 0)
        return -1;
    if (!lo.has) {
        fputs("<p class=\"none\">No successful run yet: no rejects, warnings or changes to "
              "show.</p>\n",
              f);
        return 0;
    }
    fputs("<h3>The last successful run: ", f);
    html_text(f, lo.started);
    fputs(" <span class=\"runid\">(run ", f);
    html_text(f, lo.run_id);
    fputs(")</span></h3>\n", f);
    struct ps_store_code_count *rej = NULL, *warn = NULL;
    size_t nrej = 0, nwarn = 0;
    ps_error err = {0};
    if (ps_store_run_codes(s, d->name, lo.run_id, 0, &rej, &nrej, &err) != PS_OK ||
        ps_store_run_codes(s, d->name, lo.run_id, 1, &warn, &nwarn, &err) != PS_OK) {
        snprintf(msg, cap, "%s", err.message);
        ps_store_codes_free(rej, nrej);
        return -1;
    }
    fprintf(f, "<h4>Rejected rows by code (%llu rows)</h4>\n", (unsigned long long)lo.rejected);
    codes_table(f, "rejects-by-code", rej, nrej);
    rr_summary rr;
    int rc = rr_read(d->rejects, d->name, &rr, msg, cap);
    if (rc == 0 && rr.present) {
        columns_table(f, &rr);
        top_rows(f, &rr);
    } else if (rc == 0) {
        fputs("<p class=\"none\">The dataset keeps no rejects file (`rejects:`): no columns or "
              "rows to show.</p>\n",
              f);
    }
    rr_free(&rr);
    if (rc == 0) {
        fprintf(f, "<h4>Rows with warnings by code (%llu rows)</h4>\n",
                (unsigned long long)lo.warnings);
        codes_table(f, "warnings-by-code", warn, nwarn);
        if (d->meters.plugin) {
            uint64_t rj = code_count(rej, nrej, "unknown_meter"),
                     wn = code_count(warn, nwarn, "unknown_meter");
            fprintf(f,
                    "<h4>Meter verification (verify_meters)</h4>\n<p class=\"meters\" "
                    "data-rejected=\"%llu\" data-warned=\"%llu\">unknown_meter: ",
                    (unsigned long long)rj, (unsigned long long)wn);
            html_count(f, rj);
            fputs(" rows rejected, ", f);
            html_count(f, wn);
            fputs(" rows accepted with the warning.</p>\n", f);
        }
        fputs("<h3>Changes of the last successful run</h3>\n", f);
        rc = changes_table(f, s, d, &lo, 1, msg, cap);
        if (rc == 0)
            rc = changes_table(f, s, d, &lo, 0, msg, cap);
    }
    ps_store_codes_free(rej, nrej);
    ps_store_codes_free(warn, nwarn);
    return rc;
}
