/* paysync CLI: the HTML report page (docs/report.md): a head with inline CSS and a content
 * security policy that forbids every fetch and every script, then one section per dataset
 * (report_payments.c, report_runs.c). */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ds_state.h"
#include "html.h"
#include "model/timestamp.h"
#include "report_parts.h"
#include "util/clock.h"

#ifndef PS_VERSION
#define PS_VERSION "0.1.0"
#endif

static const char page_css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:0 auto;"
    "max-width:1100px;padding:1em 1.5em;color:#1d2733;background:#fff;line-height:1.4}\n"
    "h1{font-size:1.6em;margin:.2em 0}h2{border-bottom:2px solid #2f6db5;padding-bottom:.2em;"
    "margin-top:2em}h3{margin-top:1.6em}h4{margin:1.2em 0 .4em}\n"
    "table{border-collapse:collapse;margin:.4em 0;font-size:.9em}\n"
    "th,td{border:1px solid #d5dbe3;padding:.25em .5em;text-align:left;vertical-align:top}\n"
    "th{background:#eef2f7}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "tr.failed td.outcome{color:#b00020;font-weight:bold}tr.ok td.outcome{color:#137333}\n"
    "td.error{color:#b00020;max-width:22em}td.code,td.cell{font-family:monospace}\n"
    "td.cells{font-size:.85em;max-width:30em}.sep{color:#8a94a3}\n"
    "tr.gap td{background:#fde0e0}.gapday{color:#b00020;font-weight:bold}.ok{color:#137333}\n"
    ".none,.more,.meta{color:#5b6573}.runid{font-weight:normal;font-size:.8em;color:#5b6573}\n"
    "svg.chart{width:100%;height:auto;display:block;margin:.3em 0 1em}\n"
    "svg .bar{fill:#2f6db5}svg .bar.gap{fill:#d62728}svg .gapband{fill:#fde0e0}\n"
    "svg .grid{stroke:#d5dbe3;stroke-width:1}svg .axis{font-size:13px;fill:#5b6573}\n"
    ".wide{overflow-x:auto}nav ul{padding-left:1.2em}details{margin:.5em "
    "0}summary{cursor:pointer}\n"
    "@media print{details{display:block}}\n";

static void page_head(FILE *f, const ps_config *cfg, const char *from, const char *to)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
          /* nothing is fetched and nothing runs, whatever a value holds */
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\"/>\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
          "<title>paysync report: ",
          f);
    html_text(f, cfg->path);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>paysync report</h1>\n",
            page_css);
    char now[PS_TIME_TEXT_MAX];
    ps_time_format(ps_clock_now_ms(), now);
    fputs("<p class=\"meta\">Configuration ", f);
    html_text(f, cfg->path);
    fprintf(f, "; written %s by paysync %s; window ", now, PS_VERSION);
    if (!from && !to) {
        fprintf(f, "the days with payments (the last %d at most)", REPORT_DEFAULT_DAYS);
    } else {
        html_text(f, from ? from : "the first payment");
        fputs(" to ", f);
        html_text(f, to ? to : "the last payment");
    }
    fputs(". Days are UTC days of TIMESTAMP.</p>\n", f);
}

/* One dataset's section. 0, or -1 with msg set. */
static int dataset_section(FILE *f, const ps_config *cfg, const ps_dataset_def *d,
                           const ps_store_query *window, size_t index, int explicit_from, char *msg,
                           size_t cap)
{
    fprintf(f, "<section class=\"dataset\" id=\"dataset-%zu\" data-dataset=\"", index);
    html_text(f, d->name);
    fputs("\">\n<h2>", f);
    html_text(f, d->name);
    fputs("</h2>\n", f);
    ps_store_ref ref;
    if (cli_state_store(cfg, d, &ref) != 0) {
        fputs("<p class=\"none\">The dataset writes to no store (no sqlite sink): its runs and "
              "payments are not recorded.</p>\n</section>\n",
              f);
        return 0;
    }
    if (!ps_store_exists(&ref)) {
        fputs("<p class=\"none\">Not run yet: the store ", f);
        html_text(f, ref.location);
        fputs(" does not exist.</p>\n</section>\n", f);
        ps_store_ref_free(&ref);
        return 0;
    }
    ps_store *s = NULL;
    ps_error err = {0};
    if (ps_store_open(&ref, PS_STORE_WAIT_MS, &s, &err) != PS_OK) {
        snprintf(msg, cap, "%s", err.message);
        ps_store_ref_free(&ref);
        return -1;
    }
    const char *names[1] = {d->name};
    ps_store_query q = *window;
    q.datasets = names;
    q.ndatasets = 1;
    int rc = report_payments(f, s, ref.location, &q, explicit_from, index, msg, cap);
    if (rc == 0)
        rc = report_runs(f, s, d, msg, cap);
    fputs("</section>\n", f);
    ps_store_close(s);
    ps_store_ref_free(&ref);
    return rc;
}

int cli_report_write(const ps_config *cfg, const char *const *names, size_t n, const char *from,
                     const char *to, const char *output, const char *cmd)
{
    ps_store_query window = {0};
    if (cli_parse_window(cmd, from, to, &window) != 0)
        return PS_EXIT_USAGE;
    for (size_t i = 0; i < n; i++)
        if (!ps_config_dataset(cfg, names[i])) {
            cli_error("%s: %s: unknown dataset '%s'", cmd, cfg->path, names[i]);
            return PS_EXIT_USAGE;
        }
    cli_out out;
    if (cli_out_open(&out, output, cmd) != 0)
        return PS_EXIT_FAILED;
    page_head(out.f, cfg, from, to);
    size_t count = n ? n : cfg->ndatasets;
    if (count > 1) {
        fputs("<nav><ul>\n", out.f);
        for (size_t i = 0; i < count; i++) {
            fprintf(out.f, "<li><a href=\"#dataset-%zu\">", i);
            html_text(out.f, n ? names[i] : cfg->datasets[i].name);
            fputs("</a></li>\n", out.f);
        }
        fputs("</ul></nav>\n", out.f);
    }
    char msg[1024] = "";
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        const ps_dataset_def *d = n ? ps_config_dataset(cfg, names[i]) : &cfg->datasets[i];
        rc = dataset_section(out.f, cfg, d, &window, i, from != NULL, msg, sizeof msg);
        if (rc != 0) /* -2: the window is too long */
            cli_error("%s: dataset '%s': %s", cmd, d->name, msg);
    }
    fputs("</body>\n</html>\n", out.f);
    if (cli_out_close(&out, rc == 0) != 0)
        return rc == -2 ? PS_EXIT_USAGE : PS_EXIT_FAILED;
    if (output && strcmp(output, "-") != 0)
        fprintf(stderr, "paysync: wrote the report of %zu dataset(s) to %s\n", count, output);
    return PS_EXIT_OK;
}
