/* paysync provider "rest": reads payments from a JSON HTTP API described by a connector
 * manifest (YAML). docs/connectors.md describes the manifest; docs/providers/steamaco.md a
 * shipped one. The provider is record-shaped: each payment is a record whose keys are the
 * model's fields (/ID, /PAYMENT_AMOUNT, ...), values typed and exact as the API sent them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paysync/plugin.h"
#include "rs_internal.h"
#include "rs_time.h"

#define RS_VERSION "1.0.0"

static const ps_option_spec rs_options[] = {
    {.name = "manifest",
     .type = PS_OPT_PATH,
     .required = 1,
     .description = "connector manifest (YAML); set for you by plugin: NAME for a shipped "
                    "connector"},
    {.name = "api_url", .type = PS_OPT_STRING, .description = "base URL of the API"},
    {.name = "username", .type = PS_OPT_STRING, .description = "user name for the API"},
    {.name = "password",
     .type = PS_OPT_STRING,
     .secret = 1,
     .description = "password (use ${VAR} in the config)"},
    {.name = "token",
     .type = PS_OPT_STRING,
     .secret = 1,
     .description = "API token (use ${VAR} in the config)"},
    {.name = "api_key",
     .type = PS_OPT_STRING,
     .secret = 1,
     .description = "API key (use ${VAR} in the config)"},
    {.name = "api_secret",
     .type = PS_OPT_STRING,
     .secret = 1,
     .description = "API secret (use ${VAR} in the config)"},
    {.name = "client_id", .type = PS_OPT_STRING, .description = "OAuth2 client ID"},
    {.name = "client_secret",
     .type = PS_OPT_STRING,
     .secret = 1,
     .description = "OAuth2 client secret (use ${VAR} in the config)"},
    {.name = "org_id", .type = PS_OPT_STRING, .description = "organisation or account ID"},
    {.name = "site_id", .type = PS_OPT_STRING, .description = "site ID, when the API needs one"},
    {.name = "start",
     .type = PS_OPT_STRING,
     .description = "read nothing older than this (2024-01-01 or an ISO 8601 time)"},
    {.name = "currency",
     .type = PS_OPT_STRING,
     .description = "PAYMENT_CURRENCY when the API does not send one (ISO 4217)"},
    {.name = "payment_type",
     .type = PS_OPT_STRING,
     .default_value = "INSTALLMENT_PAYMENT",
     .description = "TRANSACTION_TYPE of a payment that is not a reversal"},
    {.name = "customer_category",
     .type = PS_OPT_STRING,
     .description = "CUSTOMER_CATEGORY when the API does not send one"},
    {.name = "page_size",
     .type = PS_OPT_INT,
     .default_value = "100",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = 10000,
     .description = "records asked for per page"},
    {.name = "requests_per_minute",
     .type = PS_OPT_INT,
     .default_value = "0",
     .flags = PS_OPTF_RANGE,
     .min = 0,
     .max = 60000,
     .description = "pacing: at most this many requests a minute (0 = no pacing)"},
    {.name = "overlap",
     .type = PS_OPT_DURATION,
     .default_value = "3d",
     .flags = PS_OPTF_MAX,
     .max = 366LL * 86400 * 1000,
     .description = "re-read this much before the cursor each run (late reversals, edits)"},
    {.name = "max_pages",
     .type = PS_OPT_INT,
     .default_value = "10000",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = 1000000,
     .description = "fail rather than read more pages than this in one run"},
    {.name = "max_records",
     .type = PS_OPT_INT,
     .default_value = "1000000",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = 100000000,
     .description = "fail rather than read more records than this in one run"},
    {.name = "timeout",
     .type = PS_OPT_DURATION,
     .default_value = "120s",
     .flags = PS_OPTF_RANGE | PS_OPTF_PLAIN_SECONDS,
     .min = 1000,
     .max = 3600 * 1000,
     .description = "time limit of one HTTP exchange"},
    {.name = "max_response",
     .type = PS_OPT_SIZE,
     .default_value = "64MiB",
     .flags = PS_OPTF_RANGE,
     .min = 1024,
     .max = 1024LL * 1024 * 1024,
     .description = "largest response accepted"},
    {.name = "attempts",
     .type = PS_OPT_INT,
     .default_value = "4",
     .flags = PS_OPTF_RANGE,
     .min = 1,
     .max = 10,
     .description = "tries per request (429, 5xx, transport errors, cut JSON are retried)"},
    {0},
};

static const ps_option_spec *spec_of(const char *name)
{
    for (const ps_option_spec *s = rs_options; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

static int known_option(const char *name)
{
    return spec_of(name) != NULL;
}

const char *rs_opt(const rs *p, const char *name)
{
    if (!p->host->opt_is_set(p->opts, name) && p->m) {
        const char *d = rs_manifest_default(p->m, name);
        if (d)
            return d;
    }
    return p->host->opt_string(p->opts, name);
}

/* A numeric option: the config's (checked by the core), else the manifest's default checked
 * here against the same bounds, else the table's. */
static int opt_num(rs *p, const char *name, int64_t *out, ps_error *err)
{
    const ps_option_spec *s = spec_of(name);
    const char *d = p->host->opt_is_set(p->opts, name) ? NULL : rs_manifest_default(p->m, name);
    if (!d) {
        *out = p->host->opt_int(p->opts, name);
        return 0;
    }
    int64_t v;
    char *end;
    int ok;
    if (s->type == PS_OPT_DURATION) {
        ok = rs_duration_parse(d, &v) == 0;
    } else {
        v = (int64_t)strtoll(d, &end, 10);
        ok = end != d && *end == '\0';
    }
    if (ok && (s->flags & PS_OPTF_MIN) && v < s->min)
        ok = 0;
    if (ok && (s->flags & PS_OPTF_MAX) && v > s->max)
        ok = 0;
    if (!ok) {
        ps_error_setf(err, PS_ERR_CONFIG, "%s: options.%s: '%s' is not a valid %s here", p->m->file,
                      name, d, s->type == PS_OPT_DURATION ? "duration" : "number");
        return -1;
    }
    *out = v;
    return 0;
}

const char *rs_var(void *ctx, const char *name)
{
    rs *p = ctx;
    if (strcmp(name, "since") == 0)
        return p->since_var;
    if (strcmp(name, "since_date") == 0)
        return p->since_date;
    if (strcmp(name, "until") == 0)
        return p->until_var;
    if (strcmp(name, "page") == 0)
        return p->page_var;
    if (strcmp(name, "offset") == 0)
        return p->offset_var;
    if (strcmp(name, "limit") == 0)
        return p->limit_var;
    if (strcmp(name, "cursor") == 0)
        return p->cursor_var ? p->cursor_var : "";
    if (strcmp(name, "after") == 0)
        return p->after_var ? p->after_var : "";
    if (strcmp(name, "token") == 0)
        return p->token ? p->token : rs_opt(p, "token") ? rs_opt(p, "token") : "";
    if (!known_option(name) || strcmp(name, "manifest") == 0)
        return NULL;
    const char *v = rs_opt(p, name);
    return v ? v : "";
}

static void rs_destroy(void *inst);

static ps_status rs_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    const ps_host *h = ctx->host;
    rs *p = calloc(1, sizeof *p);
    if (!p)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    p->host = h;
    p->env = ctx->env;
    p->opts = ctx->options;
    p->instance = ctx->instance_name;
    char msg[1024];
    const char *path = h->opt_string(ctx->options, "manifest");
    if (rs_manifest_load(path, known_option, h->field_name, &p->m, msg, sizeof msg) != 0) {
        free(p);
        return ps_error_setf(err, PS_ERR_CONFIG, "%s", msg);
    }
    ps_status st = PS_OK;
    for (size_t i = 0; i < p->m->nrequired && st == PS_OK; i++) {
        const char *v = rs_opt(p, p->m->required[i]);
        if (!v || !*v)
            st = ps_error_setf(err, PS_ERR_CONFIG,
                               "connector '%s' needs the option '%s' (set it under the dataset's "
                               "source%s)",
                               p->m->connector, p->m->required[i],
                               spec_of(p->m->required[i])->secret ? ", e.g. as ${VAR}" : "");
    }
    p->api_url = rs_opt(p, "api_url");
    if (st == PS_OK && (!p->api_url || (strncmp(p->api_url, "http://", 7) != 0 &&
                                        strncmp(p->api_url, "https://", 8) != 0)))
        st =
            ps_error_setf(err, PS_ERR_CONFIG,
                          "connector '%s': option api_url must be an http:// or https:// URL%s%s%s",
                          p->m->connector, p->api_url ? ", got '" : " (not set)",
                          p->api_url ? p->api_url : "", p->api_url ? "'" : "");
    int64_t rpm = 0, timeout = 0, maxbody = 0, attempts = 0;
    if (st == PS_OK &&
        (opt_num(p, "page_size", &p->page_size, err) ||
         opt_num(p, "max_pages", &p->max_pages, err) ||
         opt_num(p, "max_records", &p->max_records, err) ||
         opt_num(p, "overlap", &p->overlap_ms, err) ||
         opt_num(p, "requests_per_minute", &rpm, err) || opt_num(p, "timeout", &timeout, err) ||
         opt_num(p, "max_response", &maxbody, err) || opt_num(p, "attempts", &attempts, err)))
        st = err->code;
    p->start_ms = -1;
    const char *start = rs_opt(p, "start");
    if (st == PS_OK && start && *start && rs_time_parse(start, &p->start_ms) != 0)
        st = ps_error_setf(err, PS_ERR_CONFIG,
                           "option start must be a date (2024-01-31) or an ISO 8601 time "
                           "(2024-01-31T12:00:00Z), got '%s'",
                           start);
    if (st == PS_OK) {
        ps_http_config cfg = {.struct_size = sizeof cfg,
                              .timeout_ms = timeout,
                              .requests_per_minute = (int)rpm,
                              .max_body_bytes = maxbody,
                              .max_attempts = attempts == 1 ? -1 : (int)attempts};
        p->http = h->http_new(ctx, &cfg, err);
        if (!p->http)
            st = err->code ? err->code : PS_ERR_NOMEM;
    }
    for (const ps_option_spec *s = rs_options; st == PS_OK && s->name; s++) {
        const char *v = s->secret ? rs_opt(p, s->name) : NULL;
        if (v && *v)
            h->http_add_secret(p->http, v);
    }
    snprintf(p->desc, sizeof p->desc, "%s at %s", p->m->connector, p->api_url ? p->api_url : "");
    if (p->http)
        h->http_redact(p->http, p->desc);
    if (st != PS_OK) {
        rs_destroy(p);
        return st;
    }
    *inst = p;
    return PS_OK;
}

static void rs_close(void *inst)
{
    rs *p = inst;
    for (size_t i = 0; i < RS_MAX_LOOKUPS; i++) {
        free(p->lookups[i].keys);
        free(p->lookups[i].items);
        memset(&p->lookups[i], 0, sizeof p->lookups[i]);
    }
    rs_pager_free(p, &p->main_pg);
    rs_pool_free(p->page);
    rs_pool_free(p->run);
    p->run = p->page = NULL;
    p->cur_item = NULL;
    if (p->token) {
        memset(p->token, 0, strlen(p->token));
        free(p->token);
        p->token = NULL;
    }
}

static void rs_destroy(void *inst)
{
    rs *p = inst;
    if (!p)
        return;
    rs_close(p);
    if (p->http)
        p->host->http_free(p->http);
    rs_manifest_free(p->m);
    free(p);
}

/* Run state before any request: pool, window variables. */
static ps_status begin(rs *p, const char *cursor_json, ps_error *err)
{
    rs_close(p);
    p->run = rs_pool_new();
    if (!p->run)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    p->requests = p->nrecords = p->nfiltered = p->emitted = p->npages = 0;
    p->nfiltered_told = 0;
    p->relogins = 0;
    p->prev_max_ms = p->max_ms = -1;
    if (cursor_json && p->m->cursor_field) {
        const char *k = strstr(cursor_json, "\"max\":\"");
        char t[64];
        size_t n = 0;
        if (k) {
            k += 7;
            while (k[n] && k[n] != '"' && n + 1 < sizeof t) {
                t[n] = k[n];
                n++;
            }
            t[n] = '\0';
            if (rs_time_parse(t, &p->prev_max_ms) != 0)
                p->prev_max_ms = -1;
        }
        if (p->prev_max_ms < 0)
            p->host->log(p->env, PS_LOG_WARN,
                         "ignoring a saved cursor that is not this connector's: reading from "
                         "the start");
    }
    p->since_ms = p->start_ms;
    if (p->prev_max_ms >= 0 && p->prev_max_ms - p->overlap_ms > p->since_ms)
        p->since_ms = p->prev_max_ms - p->overlap_ms;
    p->since_var[0] = p->since_date[0] = '\0';
    if (p->since_ms >= 0) {
        p->host->time_format(p->since_ms, p->since_var, sizeof p->since_var);
        snprintf(p->since_date, sizeof p->since_date, "%.10s", p->since_var);
    }
    p->until_ms = p->host->now_ms();
    p->host->time_format(p->until_ms, p->until_var, sizeof p->until_var);
    return PS_OK;
}

/* Tells the core which TIMESTAMP range this run read (ABI 2.3), so that vanish detection
 * considers only stored payments inside it. A run that asked for no lower bound read the
 * whole source (nothing to report). The window is (since, until]: {since} may be exclusive
 * at the API. When TIMESTAMP is not the cursor field, it starts incremental.timestamp_lag
 * later; without a lag it is empty (nothing can vanish) and the log says so. */
static void report_window(rs *p, ps_table_info *info)
{
    if (!PS_HAS_MEMBER(ps_table_info, window_to_ms, info->struct_size) || p->since_ms < 0 ||
        !p->m->main_uses_since)
        return;
    const rs_node *ts = p->m->fields[PS_F_TIMESTAMP];
    int same =
        ts && ts->type == RS_STR && p->m->cursor_field && strcmp(ts->text, p->m->cursor_field) == 0;
    info->windowed = 1;
    info->window_from_ms = p->since_ms + 1;
    info->window_to_ms = p->until_ms;
    if (!same && p->m->timestamp_lag_ms >= 0) {
        info->window_from_ms += p->m->timestamp_lag_ms;
    } else if (!same) {
        info->window_from_ms = INT64_MAX;
        info->window_to_ms = INT64_MIN;
        p->host->log(p->env, PS_LOG_INFO,
                     "%s: TIMESTAMP is not the cursor field %s and the manifest gives no "
                     "incremental.timestamp_lag: this run marks no payment vanished",
                     p->m->connector, p->m->cursor_field ? p->m->cursor_field : "(none)");
    }
}

typedef struct collect {
    rs *p;
    size_t lookup; /* index, for lookup pages */
} collect;

static int add_lookup_page(void *ctx, const rs_node *recs)
{
    collect *c = ctx;
    return rs_index_add(c->p, c->lookup, recs, 0);
}

/* Names the keys of the first record read, so that a manifest's author (and discover) sees
 * what the API sends besides what is mapped. */
static void log_fields(rs *p, const rs_node *first)
{
    if (!first || first->type != RS_OBJ)
        return;
    char list[600];
    size_t l = 0;
    list[0] = '\0';
    for (const rs_node *k = first->child; k && l + 70 < sizeof list; k = k->next) {
        size_t kl = strlen(k->key);
        if (p->host->utf8_check(k->key, kl) != kl || kl > 64)
            continue;
        l += (size_t)snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", k->key);
    }
    p->host->log(p->env, PS_LOG_INFO, "%s: the first record's keys: %s%s", p->m->connector, list,
                 l + 70 >= sizeof list ? ", ..." : "");
}

/* The manifest's `flatten`: the entries of each item's list at m->flatten become the records,
 * each an object with the entry's members (an entry that is not an object under ".") and
 * the item itself under "..". An item without entries yields none and counts as filtered.
 * NULL when out of memory. */
static const rs_node *flatten(rs *p, const rs_node *recs)
{
    rs_node *arr = rs_pool_alloc(p->page, sizeof *arr);
    if (!arr)
        return NULL;
    arr->type = RS_ARR;
    rs_node **tail = &arr->child;
    for (const rs_node *it = recs->child; it; it = it->next) {
        const rs_node *list = rs_pointer(it, p->m->flatten);
        if (!list || list->type != RS_ARR || !list->child) {
            p->nfiltered++;
            continue;
        }
        for (const rs_node *e = list->child; e; e = e->next) {
            rs_node *w = rs_pool_alloc(p->page, sizeof *w);
            if (!w)
                return NULL;
            w->type = RS_OBJ;
            rs_node **wt = &w->child;
            const rs_node *first = e->type == RS_OBJ ? e->child : e;
            for (const rs_node *m = first; m; m = e->type == RS_OBJ ? m->next : NULL) {
                rs_node *c = rs_pool_alloc(p->page, sizeof *c);
                if (!c)
                    return NULL;
                *c = *m; /* members shared with the page: read only */
                c->next = NULL;
                if (e->type != RS_OBJ)
                    c->key = ".";
                *wt = c;
                wt = &c->next;
                w->n++;
            }
            rs_node *up = rs_pool_alloc(p->page, sizeof *up);
            if (!up)
                return NULL;
            *up = *it;
            up->key = "..";
            up->next = NULL;
            *wt = up;
            w->n++;
            *tail = w;
            tail = &w->next;
            arr->n++;
        }
    }
    return arr;
}

/* Reads the main request's next page into a fresh page pool (the previous page's records
 * were handed on and are no longer needed): the cursor's maximum, the self lookups' index
 * (copies of the items that have a key) and cur_item. PS_END after the last page. */
static ps_status next_page(rs *p, ps_error *err)
{
    rs_pool_free(p->page);
    p->cur_item = NULL;
    if (!(p->page = rs_pool_new()))
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    const rs_node *recs = NULL;
    ps_status st = rs_pager_next(p, &p->main_pg, p->page, &recs, err);
    p->nrecords = p->main_pg.total;
    if (st != PS_OK || recs->type != RS_ARR || !recs->child)
        return st;
    if (p->m->flatten && !(recs = flatten(p, recs)))
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    if (!recs->child)
        return PS_OK; /* next_batch reads on */
    if (p->m->cursor_field)
        for (const rs_node *it = recs->child; it; it = it->next) {
            const char *t = rs_scalar_text(rs_pointer(it, p->m->cursor_field));
            int64_t ms;
            if (!t || rs_time_parse(t, &ms) != 0)
                continue;
            p->timed++;
            if (ms > p->future_ms) { /* a clock far ahead must not stop every later run */
                p->future++;
                continue;
            }
            if (ms > p->max_ms)
                p->max_ms = ms;
        }
    for (size_t i = 0; i < p->m->nlookups; i++)
        if (p->m->lookups[i].self && rs_index_add(p, i, recs, 1) != 0)
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    if (!p->first_page_logged) {
        p->first_page_logged = 1;
        log_fields(p, recs->child);
    }
    p->cur_item = recs->child;
    return PS_OK;
}

/* Logs what the read came to, once the last page was read. */
static void log_end(rs *p)
{
    p->host->log(p->env, PS_LOG_INFO,
                 "%s: %" PRIu64 " records in %" PRIu64 " pages (%" PRIu64
                 " requests), window from %s",
                 p->m->connector, p->nrecords, p->npages, p->requests,
                 p->since_var[0] ? p->since_var : "the start");
    if (p->nfiltered)
        p->host->log(p->env, PS_LOG_INFO, "%s: %" PRIu64 " records filtered out (not payments)",
                     p->m->connector, p->nfiltered);
    if (p->m->cursor_field && p->nrecords && !p->timed)
        p->host->log(p->env, PS_LOG_WARN,
                     "%s: no record has a time at %s (incremental.field): the cursor stays "
                     "where it was",
                     p->m->connector, p->m->cursor_field);
    if (p->future)
        p->host->log(p->env, PS_LOG_WARN,
                     "%s: %" PRIu64 " records have a time at %s more than a day ahead of now: "
                     "they do not move the cursor",
                     p->m->connector, p->future, p->m->cursor_field);
}

/* Logs in, reads the lookups (kept for the run) and the main request's first page; the
 * other pages are read as next_batch needs them, one at a time. */
static ps_status rs_open(void *inst, const ps_open_args *args, ps_table_info *info, ps_error *err)
{
    rs *p = inst;
    ps_status st = begin(p, args->cursor_json, err);
    if (st == PS_OK)
        st = rs_login(p, err);
    for (size_t i = 0; st == PS_OK && i < p->m->nlookups; i++) {
        if (p->m->lookups[i].self)
            continue;
        uint64_t n = 0;
        collect c = {.p = p, .lookup = i};
        st = rs_fetch_all(p, &p->m->lookups[i].ep, add_lookup_page, &c, &n, err);
    }
    if (st == PS_OK) {
        p->future_ms = p->host->now_ms() + 86400000LL;
        p->timed = p->future = 0;
        p->first_page_logged = 0;
        rs_pager_start(p, &p->main_pg, &p->m->main);
        st = next_page(p, err);
        if (st == PS_END)
            st = PS_OK; /* no page at all: next_batch ends at once */
    }
    if (st != PS_OK) {
        rs_close(p);
        return st;
    }
    p->batch_rows = args->batch_rows > 0 && args->batch_rows <= 100000 ? args->batch_rows : 500;
    info->ncolumns = 0;
    info->header = NULL;
    info->header_line = 0;
    info->time_zone = NULL;
    info->source_desc = p->desc;
    report_window(p, info);
    return PS_OK;
}

static ps_status rs_next_batch(void *inst, ps_arena *arena, ps_row_batch *batch, ps_error *err)
{
    rs *p = inst;
    size_t cap = p->batch_rows ? p->batch_rows : 500, count = 0;
    batch->count = 0;
    batch->rows = NULL;
    ps_keyed_row *recs = p->host->arena_alloc(arena, cap * sizeof *recs);
    if (!recs)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    static const size_t nf = PS_FIELD_COUNT;
    while (count < cap) {
        if (!p->cur_item) {
            /* a batch never spans two pages: its values point into its page */
            if (count > 0 || !p->run)
                break;
            ps_status st = next_page(p, err);
            if (st == PS_END)
                break;
            if (st != PS_OK)
                return st;
            continue;
        }
        const rs_node *item = p->cur_item;
        p->emitted++;
        p->cur_item = item->next;
        if (!rs_keep(p, item)) {
            p->nfiltered++;
            continue;
        }
        ps_value *vals = p->host->arena_alloc(arena, nf * sizeof *vals);
        if (!vals)
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        uint32_t nv = 0;
        for (size_t f = 0; f < nf; f++) {
            const rs_node *spec = p->m->fields[f];
            const char *t;
            uint32_t l;
            uint8_t ty;
            if (!spec)
                continue;
            if (rs_eval(p, spec, item, arena, &t, &l, &ty) != 0)
                return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            if (!t)
                continue;
            const char *name = p->host->field_name((int)f);
            size_t nl = strlen(name);
            char *path = p->host->arena_alloc(arena, nl + 2);
            if (!path)
                return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            path[0] = '/';
            memcpy(path + 1, name, nl + 1);
            vals[nv++] = (ps_value){
                .path = path, .path_len = (uint32_t)(nl + 1), .type = ty, .text = t, .len = l};
        }
        recs[count++] = (ps_keyed_row){.line = p->emitted, .nvalues = nv, .values = vals};
    }
    /* items left out are counted by the core as filtered (ABI 2.1) */
    if (PS_HAS_MEMBER(ps_row_batch, filtered, batch->struct_size))
        batch->filtered = p->nfiltered - p->nfiltered_told;
    p->nfiltered_told = p->nfiltered;
    if (count == 0) {
        if (p->run && !p->main_pg.ep) /* logged once */
            return PS_END;
        if (p->run)
            log_end(p);
        rs_pager_free(p, &p->main_pg);
        return PS_END;
    }
    batch->count = count;
    batch->records = recs;
    return PS_OK;
}

static const char *rs_cursor(void *inst)
{
    rs *p = inst;
    int64_t ms = p->max_ms > p->prev_max_ms ? p->max_ms : p->prev_max_ms;
    if (!p->m->cursor_field || ms < 0)
        return NULL;
    char t[40];
    p->host->time_format(ms, t, sizeof t);
    snprintf(p->cursor_json, sizeof p->cursor_json, "{\"max\":\"%s\"}", t);
    return p->cursor_json;
}

static ps_status rs_check(void *inst, ps_error *err)
{
    rs *p = inst;
    ps_status st = begin(p, NULL, err);
    if (st == PS_OK)
        st = p->m->auth == RS_AUTH_LOGIN || p->m->auth == RS_AUTH_OAUTH2 ? rs_login(p, err)
                                                                         : rs_fetch_first(p, err);
    rs_close(p);
    return st;
}

static const ps_provider_ops rs_provider = {.struct_size = sizeof(ps_provider_ops),
                                            .open = rs_open,
                                            .next_batch = rs_next_batch,
                                            .cursor = rs_cursor,
                                            .close = rs_close,
                                            .shape = PS_SHAPE_RECORD};

static const ps_plugin_descriptor rs_descriptor = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .name = "rest",
    .version = RS_VERSION,
    .description = "payments from a JSON HTTP API described by a connector manifest",
    .kind = PS_PLUGIN_PROVIDER,
    .options = rs_options,
    .option_spec_size = sizeof(ps_option_spec),
    .create = rs_create,
    .check = rs_check,
    .destroy = rs_destroy,
    .provider = &rs_provider,
};

PS_PLUGIN_DEFINE(rest, rs_descriptor)
