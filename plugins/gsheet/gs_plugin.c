/* gsheet: the Google Sheets provider (descriptor, options, open/next_batch/close). API reads
 * fetch the next values page on a thread of the instance while the core processes the current
 * one (prefetch: one page ahead at most; joined in close). */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gs_auth.h"
#include "gs_client.h"
#include "gs_encode.h"
#include "gs_export.h"
#include "gs_meta.h"
#include "gs_values.h"
#include "paysync/plugin.h"

static const ps_option_spec gs_options[] = {
    {.name = "spreadsheet_id",
     .type = PS_OPT_STRING,
     .required = 1,
     .description = "spreadsheet ID, or the sheet's full URL (its #gid= picks the tab)"},
    {.name = "sheet",
     .type = PS_OPT_STRING,
     .description = "tab title or gid; default: the first grid tab"},
    {.name = "header_row",
     .type = PS_OPT_INT,
     .default_value = "0",
     .flags = PS_OPTF_RANGE,
     .min = 0,
     .max = 10000000,
     .description = "sheet row of the header; 0 = the first of the first 20 rows naming 3+ fields"},
    {.name = "api_key",
     .type = PS_OPT_STRING,
     .secret = 1,
     .description = "API key (sheet must be link-readable)"},
    {.name = "service_account_file",
     .type = PS_OPT_PATH,
     .description = "service-account key JSON file"},
    {.name = "service_account_json",
     .type = PS_OPT_STRING,
     .secret = 1,
     .description = "service-account key JSON itself"},
    {.name = "public",
     .type = PS_OPT_BOOL,
     .default_value = "false",
     .description = "read the public CSV export without credentials"},
    {.name = "page_rows",
     .type = PS_OPT_INT,
     .default_value = "5000",
     .description = "rows per values request",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = 50000},
    {.name = "prefetch",
     .type = PS_OPT_BOOL,
     .default_value = "true",
     .description = "fetch the next page while the current one is processed (API reads; "
                    "memory: two pages)"},
    {.name = "requests_per_minute",
     .type = PS_OPT_INT,
     .default_value = "50",
     .description = "request pacing (Google allows 60/user)",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = 6000},
    {.name = "timeout",
     .type = PS_OPT_DURATION,
     .default_value = "120s",
     .description = "how long one request may take (a plain number means seconds)",
     .flags = PS_OPTF_RANGE | PS_OPTF_PLAIN_SECONDS,
     .min = 1000,
     .max = 3600000},
    {.name = "max_retries",
     .type = PS_OPT_INT,
     .default_value = "5",
     .description = "retries of 429/5xx/transport errors",
     .flags = PS_OPTF_RANGE,
     .min = 0,
     .max = 20},
    {.name = "api_url",
     .type = PS_OPT_STRING,
     .default_value = "https://sheets.googleapis.com",
     .description = "Sheets API base URL"},
    {.name = "token_url",
     .type = PS_OPT_STRING,
     .description = "OAuth token URL; default: the key's token_uri"},
    {.name = "export_url",
     .type = PS_OPT_STRING,
     .default_value = "https://docs.google.com",
     .description = "CSV export base URL"},
    {.name = "insecure_skip_tls_verify",
     .type = PS_OPT_BOOL,
     .default_value = "false",
     .description = "do not verify TLS certificates (testing only)"},
    {0},
};

struct gs_inst;

/* One values read: the range asked (it shrinks on 5xx) and the page it fills. Owned by the
 * fetch thread while a prefetch is in flight, by the callback's thread otherwise. */
typedef struct gs_fetch {
    struct gs_inst *g;
    uint64_t req_start, req_end;
    char range_text[300];
    ps_gs_page page;
} gs_fetch;

/* The page ahead: none asked, being fetched (the thread owns `ahead`), or fetched (ok or
 * failed: ahead_st, ahead_err). */
enum { GS_AHEAD_NONE, GS_AHEAD_BUSY, GS_AHEAD_DONE };

typedef struct gs_inst {
    const ps_host *host;
    const ps_env *env;
    char id[128];
    int64_t url_gid;
    char *sheet;
    int64_t header_row;
    uint64_t page_rows;
    int prefetch;
    char *api_url;
    char *export_url;
    ps_gs_client client;

    /* per open */
    ps_gs_meta meta;
    const ps_gs_tab *tab;
    char *tab_list;
    uint32_t width;
    uint64_t next_row; /* next sheet row to request */
    uint64_t last_row; /* tab rowCount */
    ps_gs_page page;   /* the page being handed out */
    uint64_t rows_read;

    /* prefetch: the fetch thread (per open, joined in close) and the page ahead */
    gs_fetch ahead;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int thread_on;
    int state; /* GS_AHEAD_*, under mu */
    int quit;  /* under mu: the thread ends */
    ps_status ahead_st;
    ps_error ahead_err;
    atomic_int stop; /* cancels the thread's request in flight (the client's cancelled) */

    FILE *csv_file;
    ps_csv_reader *csv;
    uint64_t csv_rec;
    ps_row *pending;
    size_t npending, pending_pos;
    size_t batch_rows;
    char *cursor;
} gs_inst;

/* ---- create / destroy ----------------------------------------------------------------- */

static char *dup_opt(const ps_plugin_ctx *ctx, const char *name)
{
    const char *v = ctx->host->opt_string(ctx->options, name);
    return v ? strdup(v) : NULL;
}

static int is_set_str(const ps_plugin_ctx *ctx, const char *name)
{
    const char *v = ctx->host->opt_string(ctx->options, name);
    return v && *v;
}

static void gs_destroy(void *p);

/* The client's cancelled callback: set by close to stop the fetch thread's request. */
static int gs_cancelled(void *ctx)
{
    gs_inst *g = ctx;
    return atomic_load(&g->stop);
}

static ps_status gs_create(const ps_plugin_ctx *ctx, void **out, ps_error *err)
{
    *out = NULL;
    gs_inst *g = calloc(1, sizeof *g);
    if (!g)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    g->host = ctx->host;
    g->env = ctx->env;
    g->ahead.g = g;
    atomic_init(&g->stop, 0);
    if (pthread_mutex_init(&g->mu, NULL) != 0) {
        free(g);
        return ps_error_setf(err, PS_ERR_NOMEM, "cannot create a mutex");
    }
    if (pthread_cond_init(&g->cv, NULL) != 0) {
        pthread_mutex_destroy(&g->mu);
        free(g);
        return ps_error_setf(err, PS_ERR_NOMEM, "cannot create a condition variable");
    }
    ps_status st = PS_OK;
    ps_gs_sakey sa = {0};

    const char *ref = ctx->host->opt_string(ctx->options, "spreadsheet_id");
    int rc = ps_gs_parse_sheet_ref(ref ? ref : "", g->id, sizeof g->id, &g->url_gid);
    if (rc != 0) {
        st = ps_error_setf(err, PS_ERR_CONFIG,
                           rc == -2 ? "spreadsheet_id: a 'published to the web' URL (/d/e/...) "
                                      "has no API ID; open the sheet itself and copy its URL"
                                    : "spreadsheet_id '%.120s' is neither a spreadsheet ID nor a "
                                      "Google Sheets URL (docs.google.com/spreadsheets/d/ID/edit)",
                           ref ? ref : "");
        goto fail;
    }
    g->sheet = dup_opt(ctx, "sheet");
    /* ranges are declared in gs_options and checked by the core */
    g->header_row = ctx->host->opt_int(ctx->options, "header_row");
    g->page_rows = (uint64_t)ctx->host->opt_int(ctx->options, "page_rows");
    g->prefetch = ctx->host->opt_bool(ctx->options, "prefetch");
    int64_t rpm = ctx->host->opt_int(ctx->options, "requests_per_minute");
    int64_t timeout_ms = ctx->host->opt_int(ctx->options, "timeout");
    int64_t retries = ctx->host->opt_int(ctx->options, "max_retries");
    g->api_url = dup_opt(ctx, "api_url");
    g->export_url = dup_opt(ctx, "export_url");
    if ((st = ps_gs_check_url("api_url", g->api_url, err)) != PS_OK ||
        (st = ps_gs_check_url("export_url", g->export_url, err)) != PS_OK)
        goto fail;
    char *token_url = dup_opt(ctx, "token_url");
    if (token_url && (st = ps_gs_check_url("token_url", token_url, err)) != PS_OK) {
        free(token_url);
        goto fail;
    }

    /* exactly one way to authenticate */
    int has_key = is_set_str(ctx, "api_key");
    int has_file = is_set_str(ctx, "service_account_file");
    int has_json = is_set_str(ctx, "service_account_json");
    int has_public = ctx->host->opt_bool(ctx->options, "public");
    int count = has_key + has_file + has_json + has_public;
    if (count != 1) {
        char found[160];
        snprintf(found, sizeof found, "%s%s%s%s", has_key ? " api_key" : "",
                 has_file ? " service_account_file" : "", has_json ? " service_account_json" : "",
                 has_public ? " public" : "");
        st = ps_error_setf(err, PS_ERR_CONFIG,
                           "set exactly one of api_key, service_account_file, "
                           "service_account_json or public: true (%s%s)",
                           count ? "found:" : "none is set", found);
        free(token_url);
        goto fail;
    }
    ps_gs_client_cfg cfg = {.timeout_s = (long)((timeout_ms + 999) / 1000),
                            .max_retries = (int)retries,
                            .requests_per_minute = (int)rpm,
                            .insecure =
                                ctx->host->opt_bool(ctx->options, "insecure_skip_tls_verify")};
    if (cfg.insecure)
        ctx->host->log(ctx->env, PS_LOG_WARN,
                       "insecure_skip_tls_verify is on: TLS certificates are NOT checked; "
                       "anyone on the network path can read the credentials and the data");
    if (has_key) {
        cfg.mode = PS_GS_AUTH_API_KEY;
        cfg.api_key = ctx->host->opt_string(ctx->options, "api_key");
    } else if (has_public) {
        cfg.mode = PS_GS_AUTH_PUBLIC;
    } else {
        cfg.mode = PS_GS_AUTH_SERVICE_ACCOUNT;
        st = ps_gs_sakey_from_options(ctx, has_file, &sa, err);
        if (st != PS_OK) {
            free(token_url);
            goto fail;
        }
        cfg.sa = &sa;
        cfg.token_url = token_url;
    }
    st = ps_gs_client_init(&g->client, ctx, &cfg, err);
    free(token_url);
    ps_gs_sakey_free(&sa);
    if (st != PS_OK)
        goto fail;
    g->client.ectx.spreadsheet_id = g->id;
    g->client.cancelled = gs_cancelled;
    g->client.cancel_ctx = g;
    *out = g;
    return PS_OK;
fail:
    ps_gs_sakey_free(&sa);
    gs_destroy(g);
    return st;
}

static void ahead_stop(gs_inst *g);

static void gs_close(void *p)
{
    gs_inst *g = p;
    ahead_stop(g); /* first: the thread reads the metadata freed below */
    ps_gs_page_free(&g->page);
    ps_gs_page_free(&g->ahead.page);
    ps_gs_meta_free(&g->meta);
    free(g->tab_list);
    g->tab_list = NULL;
    g->tab = NULL;
    g->client.ectx.tab = NULL;
    g->client.ectx.tabs = NULL;
    if (g->csv) {
        g->host->csv_free(g->csv);
        g->csv = NULL;
    }
    if (g->csv_file) {
        fclose(g->csv_file);
        g->csv_file = NULL;
    }
    g->pending = NULL;
    g->npending = g->pending_pos = 0;
}

static void gs_destroy(void *p)
{
    gs_inst *g = p;
    if (!g)
        return;
    gs_close(g);
    ps_gs_client_free(&g->client);
    free(g->sheet);
    free(g->api_url);
    free(g->export_url);
    free(g->cursor);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

/* ---- API reading ---------------------------------------------------------------------- */

static ps_status fetch_meta(gs_inst *g, ps_error *err)
{
    free(g->tab_list);
    g->tab_list = NULL;
    g->client.ectx.tabs = NULL; /* both point into what is freed now */
    g->client.ectx.tab = NULL;
    g->tab = NULL;
    ps_status st = ps_gs_meta_fetch(&g->client, g->api_url, g->id, &g->meta, err);
    if (st != PS_OK)
        return st;
    g->tab_list = ps_gs_meta_tab_list(&g->meta);
    g->client.ectx.tabs = g->tab_list;
    st = ps_gs_meta_pick(&g->meta, g->sheet, g->url_gid, &g->tab, err);
    if (st != PS_OK)
        return st;
    g->client.ectx.tab = g->tab->title;
    return PS_OK;
}

/* URL reading rows r1..r2 of the tab: data as raw values (UNFORMATTED_VALUE, SERIAL_NUMBER),
 * or, formatted = 1, as the sheet displays them (FORMATTED_VALUE: the header row). what
 * receives "reading RANGE". */
static char *range_url(gs_inst *g, uint64_t r1, uint64_t r2, int formatted, char *what,
                       size_t what_cap)
{
    uint32_t cols = g->tab->col_count ? g->tab->col_count : 26;
    char *range = ps_gs_a1_range(g->tab->title, r1, cols, r2);
    if (!range)
        return NULL;
    snprintf(what, what_cap, "reading %s", range);
    char *enc = ps_gs_pct_encode(range);
    free(range);
    if (!enc)
        return NULL;
    size_t n = strlen(g->api_url) + strlen(g->id) + strlen(enc) + 160;
    char *url = malloc(n);
    if (url)
        snprintf(url, n,
                 formatted ? "%s/v4/spreadsheets/%s/values/%s?majorDimension=ROWS&"
                             "valueRenderOption=FORMATTED_VALUE"
                           : "%s/v4/spreadsheets/%s/values/%s?majorDimension=ROWS&"
                             "valueRenderOption=UNFORMATTED_VALUE&dateTimeRenderOption="
                             "SERIAL_NUMBER",
                 g->api_url, g->id, enc);
    free(enc);
    return url;
}

static char *values_url(gs_fetch *f)
{
    return range_url(f->g, f->req_start, f->req_end, 0, f->range_text, sizeof f->range_text);
}

/* After a 5xx or timeout: halve the page (down to 20 rows) and retry. */
static char *shrink_page(void *ctx)
{
    gs_fetch *f = ctx;
    gs_inst *g = f->g;
    uint64_t rows = f->req_end - f->req_start + 1;
    /* never below 20 rows, nor above the header on the first page */
    uint64_t floor = PS_HEADER_SCAN_ROWS;
    if (f->req_start == 1 && (uint64_t)g->header_row > floor)
        floor = (uint64_t)g->header_row;
    if (rows / 2 < floor)
        return NULL;
    f->req_end = f->req_start + rows / 2 - 1;
    g->host->log(g->env, PS_LOG_INFO, "shrinking the page to %llu rows",
                 (unsigned long long)(rows / 2));
    return values_url(f);
}

/* The `range` of a values answer must be the range asked for: the same tab and the same
 * start cell (its end may be clipped to the grid). Anything else would put the answer's
 * cells under the wrong columns or rows. */
static ps_status check_answer_range(gs_inst *g, const ps_gs_page *page, uint64_t start_row,
                                    const char *what, ps_error *err)
{
    char got[1100], title[1024], start[32], want[32];
    snprintf(want, sizeof want, "A%llu", (unsigned long long)start_row);
    if (page->range_at == SIZE_MAX ||
        ps_gs_vjson_string(page->body, page->len, page->range_at, got, sizeof got) == SIZE_MAX)
        return ps_error_setf(err, PS_ERR_SOURCE,
                             "%s: Google's answer names no range (or an unreadable one), so it "
                             "cannot be matched to the request; nothing was used",
                             what);
    if (ps_gs_a1_split(got, title, sizeof title, start, sizeof start) != 0)
        return ps_error_setf(err, PS_ERR_SOURCE,
                             "%s: Google's answer is for '%.200s', which is not an A1 range of "
                             "a tab; nothing was used",
                             what, got);
    int same_tab = strcmp(title, g->tab->title) == 0;
    if (same_tab && strcmp(start, want) == 0)
        return PS_OK;
    return ps_error_setf(err, PS_ERR_SOURCE,
                         "%s: Google's answer is for %.300s, not for the range asked (%s): "
                         "its cells would land under the wrong %s, so nothing was used",
                         what, got, same_tab ? "start cell differs" : "another tab",
                         same_tab ? "columns or rows" : "tab");
}

/* Fetches rows start..end (clamped to rowCount) into f->page; f->req_end is the last row
 * read (a 5xx may have shrunk the page). Runs on the fetch thread during a prefetch: it uses
 * only the client, f and what no one changes while the source is open. */
static ps_status fetch_page(gs_fetch *f, uint64_t start, uint64_t end, ps_error *err)
{
    gs_inst *g = f->g;
    ps_gs_page_free(&f->page);
    if (end > g->last_row)
        end = g->last_row;
    f->req_start = start;
    f->req_end = end;
    char *url = values_url(f);
    if (!url)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    ps_gs_request r = {.url = url,
                       .what = f->range_text,
                       .shrink = shrink_page,
                       .shrink_ctx = f,
                       .page = &f->page,
                       .first_row = f->req_start};
    ps_status st = ps_gs_client_get(&g->client, &r, NULL, err);
    free(url);
    if (st != PS_OK)
        return st;
    if (f->page.nrows > f->req_end - f->req_start + 1)
        return ps_error_setf(err, PS_ERR_SOURCE, "%s: Google sent %zu rows for a %llu-row range",
                             f->range_text, f->page.nrows,
                             (unsigned long long)(f->req_end - f->req_start + 1));
    return check_answer_range(g, &f->page, f->req_start, f->range_text, err);
}

/* Moves the fetched f->page into g->page (freeing the old one); the next row to ask for
 * follows it. */
static void take_page(gs_inst *g, gs_fetch *f)
{
    ps_gs_page_free(&g->page);
    g->page = f->page;
    memset(&f->page, 0, sizeof f->page);
    g->next_row = f->req_end + 1;
}

/* ---- prefetch: the next page fetched while the current one is processed ---------------- */

/* The fetch thread: waits for a page to fetch (state BUSY), fetches it into g->ahead, sets
 * DONE with the outcome; ends on quit. It alone uses the client while it runs. */
static void *fetch_main(void *arg)
{
    gs_inst *g = arg;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (!g->quit && g->state != GS_AHEAD_BUSY)
            pthread_cond_wait(&g->cv, &g->mu);
        if (g->quit)
            break;
        uint64_t start = g->ahead.req_start;
        pthread_mutex_unlock(&g->mu);
        ps_error e;
        memset(&e, 0, sizeof e);
        ps_status st = fetch_page(&g->ahead, start, start + g->page_rows - 1, &e);
        pthread_mutex_lock(&g->mu);
        g->ahead_st = st;
        g->ahead_err = e;
        g->state = GS_AHEAD_DONE;
        pthread_cond_broadcast(&g->cv);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

/* Hands the thread the page from next_row when the tab goes on (state BUSY), else NONE. */
static void ahead_ask(gs_inst *g)
{
    pthread_mutex_lock(&g->mu);
    g->state = GS_AHEAD_NONE;
    if (g->next_row <= g->last_row) {
        g->ahead.req_start = g->next_row;
        g->state = GS_AHEAD_BUSY;
        pthread_cond_broadcast(&g->cv);
    }
    pthread_mutex_unlock(&g->mu);
}

/* At the end of a successful open: starts the fetch thread (signals blocked, so that SIGINT
 * and SIGTERM reach the main thread) and asks it for the page after the first when there is
 * one. Without prefetch, or when the thread cannot start, pages are read on demand. */
static void ahead_start(gs_inst *g)
{
    if (!g->prefetch || g->next_row > g->last_row)
        return;
    atomic_store(&g->stop, 0);
    g->quit = 0;
    g->state = GS_AHEAD_NONE;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&g->thread, NULL, fetch_main, g);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        g->host->log(g->env, PS_LOG_INFO,
                     "cannot start the prefetch thread (%s): reading pages one after the other",
                     strerror(rc));
        return;
    }
    g->thread_on = 1;
    ahead_ask(g);
}

/* Stops and joins the fetch thread (close, also after a failed or cancelled run): a request
 * in flight is cancelled (the host polls stop, about once a second during a transfer). */
static void ahead_stop(gs_inst *g)
{
    if (!g->thread_on)
        return;
    atomic_store(&g->stop, 1);
    pthread_mutex_lock(&g->mu);
    g->quit = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    g->thread_on = 0;
    g->state = GS_AHEAD_NONE;
    ps_gs_page_free(&g->ahead.page);
}

/* The next page into g->page once the current one is handed out: the page fetched ahead
 * (waiting for it; a fetch error is reported here, for its page, with its own message) and
 * the one after it asked for at once; or, without the thread, fetched now. At most two pages
 * are held: the one handed out and the one being fetched. PS_END when the tab is read. */
static ps_status next_page(gs_inst *g, ps_error *err)
{
    ps_gs_page_free(&g->page);
    if (!g->thread_on) {
        if (g->next_row == 0 || g->next_row > g->last_row)
            return PS_END;
        ps_status st = fetch_page(&g->ahead, g->next_row, g->next_row + g->page_rows - 1, err);
        if (st != PS_OK)
            return st;
        take_page(g, &g->ahead);
        return PS_OK;
    }
    pthread_mutex_lock(&g->mu);
    while (g->state == GS_AHEAD_BUSY)
        pthread_cond_wait(&g->cv, &g->mu);
    int state = g->state;
    pthread_mutex_unlock(&g->mu);
    if (state == GS_AHEAD_NONE)
        return PS_END;
    if (g->ahead_st != PS_OK) { /* stays DONE: asked again, the same error */
        *err = g->ahead_err;
        return g->ahead_st;
    }
    take_page(g, &g->ahead);
    ahead_ask(g);
    return PS_OK;
}

/* The header row as the user sees it: the same row asked again with FORMATTED_VALUE, so that
 * a header cell holding a number or a date reads as displayed ("Mar 2024", not 45352). The
 * cells go to arena. An empty answer keeps the raw cells. */
static ps_status read_header_formatted(gs_inst *g, ps_arena *arena, uint64_t row, ps_cell **cells,
                                       uint32_t *n, ps_error *err)
{
    char what[300];
    char *url = range_url(g, row, row, 1, what, sizeof what);
    if (!url)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    ps_gs_page hp;
    memset(&hp, 0, sizeof hp);
    ps_gs_request r = {.url = url, .what = what, .page = &hp, .first_row = row};
    ps_status st = ps_gs_client_get(&g->client, &r, NULL, err);
    free(url);
    if (st == PS_OK)
        st = check_answer_range(g, &hp, row, what, err);
    if (st == PS_OK && hp.nrows > 0)
        st = ps_gs_page_row(g->host, arena, &hp, 0, 0, row, cells, n, err);
    ps_gs_page_free(&hp);
    return st;
}

static int match_cb(void *ctx, const char *name, size_t len)
{
    gs_inst *g = ctx;
    return g->host->match_header(g->env, name, len);
}

static ps_status no_header(gs_inst *g, const char *where, ps_error *err)
{
    return ps_error_setf(err, PS_ERR_DATA,
                         "no header row in the first %d rows of %s: a header row must name at "
                         "least %d of the fields (ID, TIMESTAMP, PAYMENT_AMOUNT, "
                         "PAYMENT_CURRENCY, ...) or their configured aliases; set header_row "
                         "or map the columns",
                         PS_HEADER_SCAN_ROWS, where, PS_HEADER_MIN_FIELDS);
    (void)g;
}

static ps_status open_api(gs_inst *g, const ps_open_args *args, ps_table_info *info, ps_error *err)
{
    ps_status st = fetch_meta(g, err);
    if (st != PS_OK)
        return st;
    g->last_row = g->tab->row_count;
    char where[400];
    snprintf(where, sizeof where, "tab '%s'", g->tab->title);
    if (g->header_row > 0 && (uint64_t)g->header_row > g->last_row)
        return ps_error_setf(err, PS_ERR_DATA, "header_row %lld is below the last row (%llu) of %s",
                             (long long)g->header_row, (unsigned long long)g->last_row, where);
    if (g->last_row == 0)
        return no_header(g, where, err);
    uint64_t first = g->page_rows;
    uint64_t need = g->header_row > 0 ? (uint64_t)g->header_row : PS_HEADER_SCAN_ROWS;
    if (first < need)
        first = need;
    st = fetch_page(&g->ahead, 1, first, err);
    if (st != PS_OK)
        return st;
    take_page(g, &g->ahead);
    /* the first page may have shrunk below the header scan: that is fine, we scan what came */
    long hidx = -1;
    ps_cell *hcells = NULL;
    uint32_t hn = 0;
    if (g->header_row > 0) {
        hidx = (long)(g->header_row - 1);
        if ((size_t)hidx >= g->page.nrows || ps_gs_page_row_width(&g->page, (size_t)hidx) == 0)
            return ps_error_setf(err, PS_ERR_DATA, "header_row %lld of %s is empty",
                                 (long long)g->header_row, where);
        st = ps_gs_page_row(g->host, args->run_arena, &g->page, (size_t)hidx, 0,
                            (uint64_t)g->header_row, &hcells, &hn, err);
        if (st != PS_OK)
            return st;
    } else {
        size_t scan = g->page.nrows < PS_HEADER_SCAN_ROWS ? g->page.nrows : PS_HEADER_SCAN_ROWS;
        ps_cell *rows[PS_HEADER_SCAN_ROWS];
        uint32_t ns[PS_HEADER_SCAN_ROWS];
        for (size_t i = 0; i < scan; i++) {
            st = ps_gs_page_row(g->host, args->run_arena, &g->page, i, 0, i + 1, &rows[i], &ns[i],
                                err);
            if (st != PS_OK)
                return st;
        }
        hidx = ps_header_detect((const ps_cell *const *)rows, ns, scan, match_cb, g);
        if (hidx < 0)
            return no_header(g, where, err);
        hcells = rows[hidx];
        hn = ns[hidx];
    }
    st = read_header_formatted(g, args->run_arena, (uint64_t)hidx + 1, &hcells, &hn, err);
    if (st != PS_OK)
        return st;
    while (hn > 0 && hcells[hn - 1].len == 0)
        hn--;
    g->width = hn;
    g->page.pos = (size_t)hidx + 1;
    g->rows_read = 0;
    info->ncolumns = hn;
    info->header = hcells;
    info->header_line = (uint64_t)hidx + 1;
    info->time_zone = g->meta.time_zone ? g->host->arena_strndup(args->run_arena, g->meta.time_zone,
                                                                 strlen(g->meta.time_zone))
                                        : NULL;
    char desc[600];
    snprintf(desc, sizeof desc, "Google Sheet '%s', tab '%s' (spreadsheet %s, gid %lld)",
             g->meta.title ? g->meta.title : "?", g->tab->title, g->id,
             (long long)g->tab->sheet_id);
    info->source_desc = g->host->arena_strndup(args->run_arena, desc, strlen(desc));
    g->host->log(g->env, PS_LOG_INFO,
                 "%s: %llu rows x %u columns, header in row %ld, time zone %s, locale %s", desc,
                 (unsigned long long)g->last_row, g->tab->col_count, hidx + 1,
                 g->meta.time_zone ? g->meta.time_zone : "(none)",
                 g->meta.locale ? g->meta.locale : "(none)");
    ahead_start(g);
    return PS_OK;
}

static ps_status next_api(gs_inst *g, ps_arena *arena, ps_row_batch *batch, size_t want,
                          ps_error *err)
{
    batch->rows = g->host->arena_alloc(arena, want * sizeof *batch->rows);
    if (!batch->rows)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    size_t n = 0;
    while (n < want) {
        if (g->page.pos >= g->page.nrows) {
            ps_status st = next_page(g, err);
            if (st == PS_END)
                break;
            if (st != PS_OK)
                return st;
            continue;
        }
        uint64_t line = g->page.first_row + g->page.pos;
        ps_cell *cells;
        uint32_t nc;
        ps_status st =
            ps_gs_page_row(g->host, arena, &g->page, g->page.pos, g->width, line, &cells, &nc, err);
        if (st != PS_OK)
            return st;
        g->page.pos++;
        batch->rows[n].line = line;
        batch->rows[n].cells = cells;
        batch->rows[n].ncells = nc;
        n++;
    }
    batch->count = n;
    g->rows_read += n;
    return n ? PS_OK : PS_END;
}

/* ---- public CSV export ---------------------------------------------------------------- */

static ps_status open_csv(gs_inst *g, const ps_open_args *args, ps_table_info *info, ps_error *err)
{
    int64_t gid = g->url_gid;
    if (g->sheet && *g->sheet) {
        const char *s = g->sheet;
        if (*s == '#')
            s++;
        if (strncmp(s, "gid=", 4) == 0)
            s += 4;
        char *end = NULL;
        long long v = strtoll(s, &end, 10);
        if (!*s || *end || v < 0)
            return ps_error_setf(err, PS_ERR_CONFIG,
                                 "with public: true, sheet must be the tab's gid (the number "
                                 "after #gid= in its URL), not a title ('%.100s'): the export "
                                 "cannot look titles up",
                                 g->sheet);
        gid = v;
    }
    ps_status st = ps_gs_export_download(&g->client, g->export_url, g->id, gid, &g->csv_file, err);
    if (st != PS_OK)
        return st;
    g->csv = g->host->csv_new(ps_gs_file_read, g->csv_file, ',');
    if (!g->csv)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    size_t scan = g->header_row > 0 ? (size_t)g->header_row : PS_HEADER_SCAN_ROWS;
    if (scan > 100000)
        return ps_error_setf(err, PS_ERR_CONFIG, "header_row is too large for the CSV export");
    ps_row *rows = g->host->arena_alloc(args->run_arena, scan * sizeof *rows);
    if (!rows)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    size_t got = 0;
    while (got < scan) {
        ps_cell *cells;
        size_t nc;
        uint64_t line;
        st = g->host->csv_next(g->csv, args->run_arena, &cells, &nc, &line, err);
        if (st == PS_END)
            break;
        if (st != PS_OK)
            return st;
        rows[got].line = ++g->csv_rec;
        rows[got].cells = cells;
        rows[got].ncells = (uint32_t)nc;
        got++;
    }
    char where[200];
    snprintf(where, sizeof where, "the CSV export of spreadsheet %s", g->id);
    long hidx;
    if (g->header_row > 0) {
        hidx = (long)g->header_row - 1;
        if ((size_t)hidx >= got)
            return ps_error_setf(err, PS_ERR_DATA, "header_row %lld of %s is empty",
                                 (long long)g->header_row, where);
    } else {
        const ps_cell *rc[PS_HEADER_SCAN_ROWS];
        uint32_t ns[PS_HEADER_SCAN_ROWS];
        for (size_t i = 0; i < got; i++) {
            rc[i] = rows[i].cells;
            ns[i] = rows[i].ncells;
        }
        hidx = ps_header_detect(rc, ns, got, match_cb, g);
        if (hidx < 0)
            return no_header(g, where, err);
    }
    uint32_t hn = rows[hidx].ncells;
    while (hn > 0 && rows[hidx].cells[hn - 1].len == 0)
        hn--;
    g->width = hn;
    g->pending = rows + hidx + 1;
    g->npending = got - (size_t)hidx - 1;
    g->pending_pos = 0;
    info->ncolumns = hn;
    info->header = rows[hidx].cells;
    info->header_line = rows[hidx].line;
    info->time_zone = NULL; /* the export holds display text; the dataset mapping decides */
    char desc[300];
    snprintf(desc, sizeof desc, "public CSV export of Google Sheet %s (gid %lld)", g->id,
             (long long)gid);
    info->source_desc = g->host->arena_strndup(args->run_arena, desc, strlen(desc));
    return PS_OK;
}

static ps_status next_csv(gs_inst *g, ps_arena *arena, ps_row_batch *batch, size_t want,
                          ps_error *err)
{
    batch->rows = g->host->arena_alloc(arena, want * sizeof *batch->rows);
    if (!batch->rows)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    size_t n = 0;
    while (n < want && g->pending_pos < g->npending)
        batch->rows[n++] = g->pending[g->pending_pos++];
    while (n < want && g->csv) {
        ps_cell *cells;
        size_t nc;
        uint64_t line;
        ps_status st = g->host->csv_next(g->csv, arena, &cells, &nc, &line, err);
        if (st == PS_END) {
            g->host->csv_free(g->csv);
            g->csv = NULL;
            break;
        }
        if (st != PS_OK)
            return st;
        batch->rows[n].line = ++g->csv_rec;
        batch->rows[n].cells = cells;
        batch->rows[n].ncells = (uint32_t)nc;
        n++;
    }
    batch->count = n;
    g->rows_read += n;
    return n ? PS_OK : PS_END;
}

/* ---- ops ------------------------------------------------------------------------------ */

static ps_status gs_open(void *p, const ps_open_args *args, ps_table_info *info, ps_error *err)
{
    gs_inst *g = p;
    gs_close(g);
    memset(info, 0, sizeof *info);
    g->rows_read = 0;
    g->csv_rec = 0;
    g->next_row = 0;
    free(g->cursor);
    g->cursor = NULL;
    g->batch_rows = args->batch_rows ? args->batch_rows : 1000;
    if (g->client.mode == PS_GS_AUTH_PUBLIC)
        return open_csv(g, args, info, err);
    return open_api(g, args, info, err);
}

static ps_status gs_next_batch(void *p, ps_arena *arena, ps_row_batch *batch, ps_error *err)
{
    gs_inst *g = p;
    batch->count = 0;
    batch->rows = NULL;
    int csv = g->client.mode == PS_GS_AUTH_PUBLIC;
    ps_status st = csv ? next_csv(g, arena, batch, g->batch_rows, err)
                       : next_api(g, arena, batch, g->batch_rows, err);
    if (st == PS_OK && !csv && batch->count > 0 &&
        PS_HAS_MEMBER(ps_row_batch, progress_total, batch->struct_size)) {
        /* sheet rows: the last one handed out, of the tab's row count */
        batch->progress_done = batch->rows[batch->count - 1].line;
        batch->progress_total = g->last_row;
    }
    return st;
}

static const char *gs_cursor(void *p)
{
    gs_inst *g = p;
    free(g->cursor);
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "spreadsheet_id", json_string(g->id));
    if (g->tab) {
        json_object_set_new(o, "gid", json_integer((json_int_t)g->tab->sheet_id));
        json_object_set_new(o, "tab", json_string(g->tab->title));
        json_object_set_new(o, "row_count", json_integer((json_int_t)g->tab->row_count));
    }
    json_object_set_new(o, "rows_read", json_integer((json_int_t)g->rows_read));
    g->cursor = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return g->cursor;
}

static ps_status gs_check(void *p, ps_error *err)
{
    gs_inst *g = p;
    if (g->client.mode == PS_GS_AUTH_PUBLIC) {
        FILE *f = NULL;
        ps_status st = ps_gs_export_download(&g->client, g->export_url, g->id, g->url_gid, &f, err);
        if (f)
            fclose(f);
        return st;
    }
    ps_status st = fetch_meta(g, err);
    if (st == PS_OK)
        g->host->log(g->env, PS_LOG_INFO, "spreadsheet %s: '%s', tab '%s' readable (%llu rows)",
                     g->id, g->meta.title ? g->meta.title : "?", g->tab->title,
                     (unsigned long long)g->tab->row_count);
    gs_close(g);
    return st;
}

static const ps_provider_ops gs_provider = {.struct_size = sizeof(ps_provider_ops),
                                            .open = gs_open,
                                            .next_batch = gs_next_batch,
                                            .cursor = gs_cursor,
                                            .close = gs_close};

static const ps_plugin_descriptor gs_descriptor = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .name = "gsheet",
    .version = "0.1.0",
    .description = "Google Sheets (Sheets API v4 with an API key or a service account, or the "
                   "public CSV export)",
    .kind = PS_PLUGIN_PROVIDER,
    .flags = 0,
    .options = gs_options,
    .option_spec_size = sizeof(ps_option_spec),
    .create = gs_create,
    .check = gs_check,
    .destroy = gs_destroy,
    .provider = &gs_provider,
    .sink = NULL};

PS_PLUGIN_DEFINE(gsheet, gs_descriptor)
