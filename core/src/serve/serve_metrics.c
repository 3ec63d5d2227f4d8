/* paysync serve: request counters and Prometheus text exposition. */
#include "serve/serve_metrics.h"

static const int slots[PS_SERVE_STATUS_SLOTS] = {200, 400, 401, 403, 404, 405,
                                                 408, 413, 414, 431, 500, 503};

void ps_serve_count(ps_serve_counters *c, int status)
{
    int i = 0;
    while (i < PS_SERVE_STATUS_SLOTS && slots[i] != status)
        i++;
    atomic_fetch_add_explicit(&c->by_status[i], 1, memory_order_relaxed);
}

static void head(ps_sbuf *b, const char *name, const char *type, const char *help)
{
    ps_sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void dataset_label(ps_sbuf *b, const char *name, const char *dataset)
{
    ps_sbuf_puts(b, name);
    ps_sbuf_puts(b, "{dataset=\"");
    ps_sbuf_label(b, dataset);
    ps_sbuf_puts(b, "\"");
}

void ps_serve_metrics_render(ps_sbuf *b, const ps_serve_counters *c, int store_up,
                             const ps_store_stats *s, size_t n)
{
    head(b, "paysync_store_up", "gauge", "1 when the store could be read for this scrape.");
    ps_sbuf_printf(b, "paysync_store_up %d\n", store_up ? 1 : 0);
    if (s) {
        head(b, "paysync_runs_total", "counter", "Recorded runs by dataset and outcome.");
        for (size_t i = 0; i < n; i++) {
            dataset_label(b, "paysync_runs_total", s[i].dataset);
            ps_sbuf_printf(b, ",outcome=\"ok\"} %llu\n", (unsigned long long)s[i].runs_ok);
            dataset_label(b, "paysync_runs_total", s[i].dataset);
            ps_sbuf_printf(b, ",outcome=\"failed\"} %llu\n", (unsigned long long)s[i].runs_failed);
        }
        head(b, "paysync_rows_total", "counter",
             "Rows over all recorded runs by dataset and outcome.");
        for (size_t i = 0; i < n; i++)
            for (int k = 0; k < PS_STORE_NOUTCOMES; k++) {
                dataset_label(b, "paysync_rows_total", s[i].dataset);
                ps_sbuf_printf(b, ",outcome=\"%s\"} %llu\n", PS_STORE_ROW_OUTCOMES[k],
                               (unsigned long long)s[i].rows[k]);
            }
        head(b, "paysync_rejected_rows_total", "counter",
             "Rejected rows by dataset and problem code over all successful runs.");
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < s[i].ncodes; k++) {
                dataset_label(b, "paysync_rejected_rows_total", s[i].dataset);
                ps_sbuf_printf(b, ",code=\"%s\"} %llu\n", s[i].codes[k].code,
                               (unsigned long long)s[i].codes[k].count);
            }
        head(b, "paysync_warning_rows_total", "counter",
             "Rows with warnings by dataset and problem code over all successful runs.");
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < s[i].nwcodes; k++) {
                dataset_label(b, "paysync_warning_rows_total", s[i].dataset);
                ps_sbuf_printf(b, ",code=\"%s\"} %llu\n", s[i].wcodes[k].code,
                               (unsigned long long)s[i].wcodes[k].count);
            }
        head(b, "paysync_last_success_timestamp_seconds", "gauge",
             "End of the last successful run (Unix time).");
        for (size_t i = 0; i < n; i++)
            if (s[i].has_success && s[i].last_success_ms >= 0) {
                dataset_label(b, "paysync_last_success_timestamp_seconds", s[i].dataset);
                ps_sbuf_puts(b, "} ");
                ps_sbuf_seconds(b, s[i].last_success_ms);
                ps_sbuf_puts(b, "\n");
            }
        head(b, "paysync_last_success_duration_seconds", "gauge",
             "Duration of the last successful run.");
        for (size_t i = 0; i < n; i++)
            if (s[i].has_success && s[i].last_success_duration_ms >= 0) {
                dataset_label(b, "paysync_last_success_duration_seconds", s[i].dataset);
                ps_sbuf_puts(b, "} ");
                ps_sbuf_seconds(b, s[i].last_success_duration_ms);
                ps_sbuf_puts(b, "\n");
            }
        head(b, "paysync_last_run_ok", "gauge", "1 when the latest run of the dataset succeeded.");
        for (size_t i = 0; i < n; i++)
            if (s[i].has_run) {
                dataset_label(b, "paysync_last_run_ok", s[i].dataset);
                ps_sbuf_printf(b, "} %d\n", s[i].last_run_ok);
            }
        head(b, "paysync_vanish_guard_trips_total", "counter",
             "Runs failed by the vanish guard (more stored payments would vanish than "
             "max_vanished allows).");
        for (size_t i = 0; i < n; i++) {
            dataset_label(b, "paysync_vanish_guard_trips_total", s[i].dataset);
            ps_sbuf_printf(b, "} %llu\n", (unsigned long long)s[i].guard_trips);
        }
    }
    head(b, "paysync_http_requests_total", "counter", "HTTP responses by status code.");
    for (int i = 0; i <= PS_SERVE_STATUS_SLOTS; i++) {
        unsigned long long v =
            atomic_load_explicit(&((ps_serve_counters *)c)->by_status[i], memory_order_relaxed);
        if (i < PS_SERVE_STATUS_SLOTS)
            ps_sbuf_printf(b, "paysync_http_requests_total{code=\"%d\"} %llu\n", slots[i], v);
        else
            ps_sbuf_printf(b, "paysync_http_requests_total{code=\"other\"} %llu\n", v);
    }
    head(b, "paysync_http_requests_in_flight", "gauge",
         "Requests received in full and not yet completed (this scrape included).");
    ps_sbuf_printf(b, "paysync_http_requests_in_flight %lld\n",
                   (long long)atomic_load(&((ps_serve_counters *)c)->in_flight));
    head(b, "paysync_http_header_timeouts_total", "counter",
         "Connections closed because the request line and headers did not arrive within "
         "header_timeout.");
    ps_sbuf_printf(b, "paysync_http_header_timeouts_total %llu\n",
                   (unsigned long long)atomic_load(&((ps_serve_counters *)c)->header_timeouts));
    head(b, "paysync_http_connections_without_request_total", "counter",
         "Connections closed before a request line arrived (nothing sent, or bytes that are not "
         "HTTP).");
    ps_sbuf_printf(b, "paysync_http_connections_without_request_total %llu\n",
                   (unsigned long long)atomic_load(&((ps_serve_counters *)c)->no_request));
}
