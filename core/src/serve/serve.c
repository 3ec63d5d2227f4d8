/* paysync serve: HTTP server on libmicrohttpd (routing, auth, responses, access log). */
#include "serve/serve.h"

#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "model/timestamp.h"
#include "serve/serve_auth.h"
#include "serve/serve_json.h"
#include "serve/serve_metrics.h"
#include "serve/serve_query.h"
#include "serve/serve_store.h"
#include "store/run_state.h"
#include "util/log.h"

#define PAYMENTS_PATH "/api/odyssey/payments"
#define LOG_PATH_MAX 200

/* One open connection, watched by the header deadline (registered by notify_conn). */
typedef struct sconn {
    struct sconn *prev, *next;
    int fd;
    struct timespec since;  /* connection opened, or its previous request completed */
    int busy;               /* header section in full, request being handled */
    int cut;                /* shut down by the header deadline */
    struct timespec opened; /* connection accepted */
    unsigned long requests; /* request lines seen (uri_log) */
} sconn;

typedef struct skey {
    char *name;
    int all;
    char **datasets;
    size_t ndatasets;
} skey;

struct ps_server {
    struct MHD_Daemon *mhd;
    ps_serve_limits lim;
    ps_serve_store *store;
    unsigned char (*hashes)[32];
    skey *keys;
    size_t nkeys;
    char **datasets; /* configured datasets writing to the served store */
    size_t ndatasets;
    ps_serve_counters counters;
    pthread_mutex_t conns_mu; /* guards conns and every sconn's since/busy/cut */
    sconn *conns;
    pthread_t watchdog;
    int watchdog_started;
    atomic_int stopping;
    char url[300];
};

/* Per-request state, created by the URI log callback. */
typedef struct req {
    struct timespec start;
    char *uri; /* raw target, NULL when longer than max_url_bytes */
    size_t uri_len;
    size_t nparams; /* query parameters ('&'-separated fields after '?') */
    int counted;    /* counted in counters.in_flight (the handler was reached) */
    char method[16];
    int status;
    size_t bytes;
    const char *key_name;
    int answered;
} req;

static const char *const json_type = "application/json; charset=utf-8";

/* ---- responses ----------------------------------------------------------------------- */

static enum MHD_Result send_buf(ps_server *s, struct MHD_Connection *c, req *r, int status,
                                ps_sbuf *b, const char *type, const char *allow)
{
    size_t len = 0;
    char *data = ps_sbuf_take(b, &len);
    if (!data) {
        static const char oom[] = "{\"payments\":[],\"errors\":\"out of memory\"}";
        status = 500;
        data = strdup(oom);
        len = data ? strlen(data) : 0;
        if (!data)
            return MHD_NO;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    if (status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"paysync\"");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->status = status;
    r->bytes = len;
    r->answered = 1;
    ps_serve_count(&s->counters, status);
    return ret;
}

/* {"payments": [], "errors": MSG} for the payments endpoint, {"error": MSG} elsewhere. */
static enum MHD_Result send_error(ps_server *s, struct MHD_Connection *c, req *r, int status,
                                  int payments_shape, const char *msg, const char *allow)
{
    ps_sbuf b = {0};
    ps_sbuf_puts(&b, payments_shape ? "{\"payments\":[],\"errors\":" : "{\"error\":");
    ps_sbuf_json_string(&b, msg);
    ps_sbuf_puts(&b, "}");
    return send_buf(s, c, r, status, &b, json_type, allow);
}

/* ---- authentication ------------------------------------------------------------------ */

/* The key presented, or NULL. */
static const skey *authenticate(ps_server *s, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *tok;
    size_t n;
    if (ps_serve_bearer_token(h, &tok, &n) != 0)
        return NULL;
    int i = ps_serve_key_match(tok, n, (const unsigned char(*)[32])s->hashes, s->nkeys);
    return i < 0 ? NULL : &s->keys[i];
}

/* ---- endpoints ----------------------------------------------------------------------- */

typedef struct emit_ctx {
    ps_sbuf *b;
    size_t count;
} emit_ctx;

static int emit_row(void *ud, const ps_store_payment *row)
{
    emit_ctx *e = ud;
    if (e->count++)
        ps_sbuf_append(e->b, ",", 1);
    ps_serve_payment_json(e->b, row);
    return e->b->failed ? -1 : 0;
}

static enum MHD_Result payments(ps_server *s, struct MHD_Connection *c, req *r, const skey *k,
                                const char *qs, size_t qlen)
{
    ps_payments_query q;
    char msg[256];
    if (ps_serve_query_parse(qs, qlen, &q, msg, sizeof msg) != PS_QUERY_OK)
        return send_error(s, c, r, 400, 1, msg, NULL);
    ps_serve_filter f = {q.from_ms,
                         q.to_ms,
                         (const char *const *)k->datasets,
                         k->ndatasets,
                         k->all,
                         q.site_id[0] ? q.site_id : NULL,
                         q.financing_id[0] ? q.financing_id : NULL};
    ps_store *db = NULL;
    ps_error err = {0};
    if (ps_serve_store_acquire(s->store, &db, &err) != PS_OK) {
        ps_log(PS_LOG_WARN, "serve", "%s", err.message);
        return send_error(s, c, r, 503, 1, "the payment store is unavailable", NULL);
    }
    ps_sbuf b = {0};
    ps_sbuf_puts(&b, "{\"payments\":[");
    emit_ctx e = {&b, 0};
    int broken = 0;
    ps_status st = ps_serve_store_payments(db, &f, emit_row, &e, &broken, &err);
    ps_serve_store_release(s->store, db, broken);
    if (st != PS_OK) {
        ps_sbuf_free(&b);
        ps_log(PS_LOG_ERROR, "serve", "%s", err.message);
        return send_error(s, c, r, st == PS_ERR_NOMEM ? 500 : 503, 1,
                          st == PS_ERR_NOMEM ? "out of memory" : "the payment store is unavailable",
                          NULL);
    }
    ps_sbuf_puts(&b, "],\"errors\":\"\"}");
    return send_buf(s, c, r, 200, &b, json_type, NULL);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void health_dataset(ps_sbuf *b, const char *name, const ps_store_stats *st, int *first)
{
    char ts[PS_TIME_TEXT_MAX];
    ps_sbuf_puts(b, *first ? "{\"dataset\":" : ",{\"dataset\":");
    *first = 0;
    ps_sbuf_json_string(b, name);
    ps_sbuf_puts(b, ",\"lastSuccess\":");
    if (st && st->has_success && st->last_success_ms >= 0) {
        ps_time_format(st->last_success_ms, ts);
        ps_sbuf_printf(b, "\"%s\"", ts);
    } else {
        ps_sbuf_puts(b, "null");
    }
    if (st && st->has_success && st->last_success_duration_ms >= 0) {
        ps_sbuf_puts(b, ",\"lastSuccessDurationSeconds\":");
        ps_sbuf_seconds(b, st->last_success_duration_ms);
    }
    ps_sbuf_puts(b, ",\"lastRunOk\":");
    ps_sbuf_puts(b, st && st->has_run ? (st->last_run_ok ? "true" : "false") : "null");
    ps_sbuf_printf(b, ",\"runsOk\":%llu,\"runsFailed\":%llu}",
                   (unsigned long long)(st ? st->runs_ok : 0),
                   (unsigned long long)(st ? st->runs_failed : 0));
}

static enum MHD_Result healthz(ps_server *s, struct MHD_Connection *c, req *r)
{
    ps_store *db = NULL;
    ps_error err = {0};
    ps_store_stats *stats = NULL;
    size_t n = 0;
    ps_status st = ps_serve_store_acquire(s->store, &db, &err);
    if (st == PS_OK) {
        st = ps_serve_store_verify(s->store, db, &err);
        if (st == PS_OK)
            st = ps_store_stats_read(db, &stats, &n, &err);
        ps_serve_store_release(s->store, db, st != PS_OK);
    }
    if (st == PS_OK) /* runs the store could not record (store/run_state.h) */
        ps_run_state_apply(ps_serve_store_path(s->store), &stats, &n);
    ps_sbuf b = {0};
    if (st != PS_OK) {
        ps_sbuf_puts(&b, "{\"status\":\"unavailable\",\"error\":");
        ps_sbuf_json_string(&b, err.message);
        ps_sbuf_puts(&b, "}");
        return send_buf(s, c, r, 503, &b, json_type, NULL);
    }
    ps_sbuf_puts(&b, "{\"status\":\"ok\",\"datasets\":[");
    /* Configured datasets first (in name order), then any other dataset the store holds. */
    int first = 1;
    for (size_t i = 0; i < s->ndatasets; i++) {
        const ps_store_stats *e = NULL;
        for (size_t j = 0; j < n; j++)
            if (strcmp(stats[j].dataset, s->datasets[i]) == 0)
                e = &stats[j];
        health_dataset(&b, s->datasets[i], e, &first);
    }
    for (size_t j = 0; j < n; j++) {
        if (!bsearch(&stats[j].dataset, s->datasets, s->ndatasets, sizeof *s->datasets, cmp_str))
            health_dataset(&b, stats[j].dataset, &stats[j], &first);
    }
    ps_sbuf_puts(&b, "]}");
    ps_store_stats_free(stats, n);
    return send_buf(s, c, r, 200, &b, json_type, NULL);
}

static enum MHD_Result metrics(ps_server *s, struct MHD_Connection *c, req *r)
{
    ps_store *db = NULL;
    ps_error err = {0};
    ps_store_stats *stats = NULL;
    size_t n = 0;
    ps_status st = ps_serve_store_acquire(s->store, &db, &err);
    if (st == PS_OK) {
        st = ps_serve_store_verify(s->store, db, &err);
        if (st == PS_OK)
            st = ps_store_stats_read(db, &stats, &n, &err);
        ps_serve_store_release(s->store, db, st != PS_OK);
    }
    if (st == PS_OK)
        ps_run_state_apply(ps_serve_store_path(s->store), &stats, &n);
    if (st != PS_OK)
        ps_log(PS_LOG_WARN, "serve", "metrics: %s", err.message);
    ps_sbuf b = {0};
    ps_serve_metrics_render(&b, &s->counters, st == PS_OK, st == PS_OK ? stats : NULL, n);
    ps_store_stats_free(stats, n);
    return send_buf(s, c, r, 200, &b, "text/plain; version=0.0.4; charset=utf-8", NULL);
}

/* ---- routing ------------------------------------------------------------------------- */

typedef struct hdr_sum {
    size_t bytes;
    unsigned nauth; /* Authorization headers, any case */
} hdr_sum;

static enum MHD_Result add_header_bytes(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    (void)kind;
    hdr_sum *h = cls;
    h->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
    h->nauth += strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0;
    return MHD_YES;
}

/* The connection's watch entry, or NULL (out of memory when it opened). */
static sconn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Copies the raw path (before '?') with runs of '/' collapsed and a trailing '/' dropped. */
static void normal_path(const char *uri, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && uri[i] != '?' && n + 1 < cap; i++) {
        if (uri[i] == '/' && n > 0 && out[n - 1] == '/')
            continue;
        out[n++] = uri[i];
    }
    if (n > 1 && out[n - 1] == '/')
        n--;
    out[n] = '\0';
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)url;
    (void)version;
    (void)upload_data;
    ps_server *s = cls;
    req *r = *con_cls;
    if (!r)
        return MHD_NO;
    if (!r->counted) {
        /* The header section is in: the request is in flight and off the header deadline. */
        r->counted = 1;
        atomic_fetch_add(&s->counters.in_flight, 1);
        sconn *sc = conn_of(c);
        if (sc) {
            pthread_mutex_lock(&s->conns_mu);
            sc->busy = 1;
            pthread_mutex_unlock(&s->conns_mu);
        }
    }
    if (r->answered) {
        *upload_data_size = 0; /* discard any request body */
        return MHD_YES;
    }
    size_t mi = 0;
    for (; method[mi] && mi + 1 < sizeof r->method; mi++) {
        unsigned char ch = (unsigned char)method[mi];
        r->method[mi] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    r->method[mi] = '\0';
    if (!r->uri)
        return send_error(s, c, r, 414, 0, "request target too long", NULL);
    hdr_sum hs = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_header_bytes, &hs);
    if (hs.bytes > s->lim.max_header_bytes)
        return send_error(s, c, r, 431, 0, "request headers too large", NULL);

    char path[512];
    normal_path(r->uri, r->uri_len, path, sizeof path);
    const char *q = memchr(r->uri, '?', r->uri_len);
    const char *qs = q ? q + 1 : "";
    size_t qlen = q ? r->uri_len - (size_t)(q + 1 - r->uri) : 0;
    int is_get =
        strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    int is_pay = strcmp(path, PAYMENTS_PATH) == 0;
    int is_health = strcmp(path, "/healthz") == 0, is_metrics = strcmp(path, "/metrics") == 0;
    if (r->nparams > s->lim.max_query_params) {
        char msg[64];
        snprintf(msg, sizeof msg, "too many query parameters (at most %u)",
                 s->lim.max_query_params);
        return send_error(s, c, r, 400, is_pay, msg, NULL);
    }
    if (hs.nauth > 1) /* which one a proxy and this server each read must never differ */
        return send_error(s, c, r, 400, is_pay, "more than one Authorization header", NULL);
    if (!is_pay && !is_health && !is_metrics)
        return send_error(s, c, r, 404, 0, "not found", NULL);
    if (!is_get)
        return send_error(s, c, r, 405, is_pay, "method not allowed (use GET)", "GET, HEAD");
    const skey *k = NULL;
    if (is_pay || s->lim.protect_metrics) {
        k = authenticate(s, c);
        if (!k)
            return send_error(s, c, r, 401, is_pay,
                              "a valid API key is required: Authorization: Bearer KEY", NULL);
        r->key_name = k->name;
    }
    if (is_pay)
        return payments(s, c, r, k, qs, qlen);
    return is_health ? healthz(s, c, r) : metrics(s, c, r);
}

/* Number of '&'-separated fields after the first '?' of uri[0..len). */
static size_t count_params(const char *uri, size_t len, const char **qmark)
{
    const char *q = memchr(uri, '?', len);
    *qmark = q;
    if (!q || q + 1 == uri + len)
        return 0;
    size_t n = 1;
    for (const char *p = q + 1; p < uri + len; p++)
        n += *p == '&';
    return n;
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
    ps_server *s = cls;
    sconn *sc = conn_of(c);
    if (sc) {
        pthread_mutex_lock(&s->conns_mu);
        sc->requests++;
        pthread_mutex_unlock(&s->conns_mu);
    }
    size_t len = strlen(uri);
    const char *qmark = NULL;
    size_t nparams = count_params(uri, len, &qmark);
    if (qmark && (len > s->lim.max_url_bytes || nparams > s->lim.max_query_params)) {
        /* libmicrohttpd splits the query into one record per field from its per-connection
         * memory pool right after this callback; hundreds of fields exhaust the pool and
         * 0.9.75 then stalls the connection without an answer. serve reads the query from
         * its own copy (r->uri), so the query the library would split is emptied here: the
         * target is the library's own writable buffer, passed as const. The request is
         * answered 414 or 400 by handle(). */
        ((char *)uri)[qmark - uri + 1] = '\0';
    }
    req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    r->nparams = nparams;
    if (len <= s->lim.max_url_bytes && (r->uri = malloc(len + 1))) {
        memcpy(r->uri, uri, len + 1);
        r->uri_len = len;
    }
    return r;
}

/* Printable copy of the path (no query string: it never reaches the log). */
static void log_path(const req *r, char *out, size_t cap)
{
    size_t n = 0;
    if (!r->uri) {
        snprintf(out, cap, "(target too long)");
        return;
    }
    for (size_t i = 0; i < r->uri_len && r->uri[i] != '?' && n + 4 < cap && n < LOG_PATH_MAX; i++) {
        unsigned char ch = (unsigned char)r->uri[i];
        out[n++] = ch >= 0x21 && ch < 0x7f && ch != '"' && ch != '\\' ? (char)ch : '?';
    }
    if (r->uri_len > 0 && memchr(r->uri, '?', r->uri_len) && n + 4 < cap) {
        memcpy(out + n, "?...", 4); /* query present but not logged */
        n += 4;
    }
    out[n] = '\0';
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)c;
    ps_server *s = cls;
    req *r = *con_cls;
    if (!r)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (long long)(now.tv_sec - r->start.tv_sec) * 1000 +
                   (now.tv_nsec - r->start.tv_nsec) / 1000000;
    char path[LOG_PATH_MAX + 8];
    log_path(r, path, sizeof path);
    sconn *sc = conn_of(c);
    int cut = 0;
    if (sc) {
        pthread_mutex_lock(&s->conns_mu);
        cut = sc->cut;
        sc->busy = 0; /* the next request's header section is on the deadline again */
        clock_gettime(CLOCK_MONOTONIC, &sc->since);
        pthread_mutex_unlock(&s->conns_mu);
    }
    if (r->answered)
        ps_log(PS_LOG_INFO, "serve", "%s %s %d %zu bytes %lld ms%s%s%s",
               r->method[0] ? r->method : "-", path, r->status, r->bytes, ms,
               r->key_name ? " key=" : "", r->key_name ? r->key_name : "",
               toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed early)");
    else
        ps_log(PS_LOG_INFO, "serve", "%s %s - not answered (%s) (%lld ms)",
               r->method[0] ? r->method : "-", path,
               cut ? "header section not complete by header_timeout"
                   : "refused by the HTTP layer, or the client left",
               ms);
    if (r->counted)
        atomic_fetch_sub(&s->counters.in_flight, 1);
    free(r->uri);
    free(r);
    *con_cls = NULL;
}

/* Registers each connection for the header deadline; unregisters it before its socket is
 * closed (libmicrohttpd calls CLOSED first), so the watchdog never touches a reused fd. */
static void notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    ps_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        sconn *sc = ci ? calloc(1, sizeof *sc) : NULL;
        if (!sc)
            return; /* no deadline for this one; the idle timeout still applies */
        sc->fd = ci->connect_fd;
        clock_gettime(CLOCK_MONOTONIC, &sc->since);
        sc->opened = sc->since;
        pthread_mutex_lock(&s->conns_mu);
        sc->next = s->conns;
        if (s->conns)
            s->conns->prev = sc;
        s->conns = sc;
        pthread_mutex_unlock(&s->conns_mu);
        *socket_context = sc;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        sconn *sc = *socket_context;
        pthread_mutex_lock(&s->conns_mu);
        if (sc->prev)
            sc->prev->next = sc->next;
        else
            s->conns = sc->next;
        if (sc->next)
            sc->next->prev = sc->prev;
        unsigned long requests = sc->requests;
        int cut = sc->cut;
        pthread_mutex_unlock(&s->conns_mu);
        if (requests == 0) {
            /* No request line ever arrived (nothing sent, or bytes the HTTP layer refused
             * before a request line): no request callback ran, so say it here. */
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long long ms = (long long)(now.tv_sec - sc->opened.tv_sec) * 1000 +
                           (now.tv_nsec - sc->opened.tv_nsec) / 1000000;
            atomic_fetch_add_explicit(&s->counters.no_request, 1, memory_order_relaxed);
            ps_log(PS_LOG_INFO, "serve",
                   "- - not answered (connection closed without a request "
                   "line%s) (%lld ms)",
                   cut ? "; cut at header_timeout" : "", ms);
        }
        free(sc);
        *socket_context = NULL;
    }
}

/* Every 100 ms: shuts down (never closes: the socket stays the library's) each connection
 * whose request line and header section did not arrive within header_timeout of it opening
 * or of its previous request completing. The library then sees end of file and closes it. */
static void *watchdog(void *arg)
{
    ps_server *s = arg;
    struct timespec tick = {0, 100 * 1000000L};
    while (!atomic_load(&s->stopping)) {
        nanosleep(&tick, NULL);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        pthread_mutex_lock(&s->conns_mu);
        for (sconn *sc = s->conns; sc; sc = sc->next) {
            long long ms = (long long)(now.tv_sec - sc->since.tv_sec) * 1000 +
                           (now.tv_nsec - sc->since.tv_nsec) / 1000000;
            if (sc->busy || sc->cut || ms < (long long)s->lim.header_timeout_ms)
                continue;
            sc->cut = 1;
            shutdown(sc->fd, SHUT_RDWR);
            atomic_fetch_add_explicit(&s->counters.header_timeouts, 1, memory_order_relaxed);
        }
        pthread_mutex_unlock(&s->conns_mu);
    }
    return NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    ps_log(PS_LOG_DEBUG, "serve", "libmicrohttpd: %s", msg);
}

/* ---- lifecycle ----------------------------------------------------------------------- */

static void server_free(ps_server *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->conns_mu);
    ps_serve_store_free(s->store);
    for (size_t i = 0; i < s->nkeys; i++) {
        free(s->keys[i].name);
        for (size_t j = 0; j < s->keys[i].ndatasets; j++)
            free(s->keys[i].datasets[j]);
        free(s->keys[i].datasets);
    }
    free(s->keys);
    free(s->hashes);
    for (size_t i = 0; i < s->ndatasets; i++)
        free(s->datasets[i]);
    free(s->datasets);
    free(s);
}

static ps_status copy_config(ps_server *s, const ps_config *cfg, ps_error *err)
{
    const ps_serve_def *d = &cfg->serve;
    s->keys = calloc(d->nkeys + 1, sizeof *s->keys);
    s->hashes = calloc(d->nkeys + 1, sizeof *s->hashes);
    s->datasets = calloc(cfg->ndatasets + 1, sizeof *s->datasets);
    if (!s->keys || !s->hashes || !s->datasets)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < d->nkeys; i++) {
        const ps_serve_key *ck = &d->keys[i];
        skey *k = &s->keys[i];
        s->nkeys++;
        if (!(k->name = strdup(ck->name)) ||
            !(k->datasets = calloc(ck->ndatasets + 1, sizeof *k->datasets)))
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        if (ps_serve_hex32(ck->key_sha256, s->hashes[i]) != 0)
            return ps_error_setf(err, PS_ERR_CONFIG,
                                 "%s: serve.keys '%s': key_sha256 is not 64 hex digits",
                                 cfg->path ? cfg->path : "config", ck->name);
        for (size_t j = 0; j < ck->ndatasets; j++) {
            if (strcmp(ck->datasets[j], "*") == 0) {
                k->all = 1;
                continue;
            }
            if (!(k->datasets[k->ndatasets] = strdup(ck->datasets[j])))
                return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            k->ndatasets++;
        }
    }
    for (size_t i = 0; i < cfg->ndatasets; i++) {
        const ps_dataset_def *ds = &cfg->datasets[i];
        int writes = 0;
        for (size_t j = 0; j < ds->nsinks; j++)
            writes |= strcmp(ds->sinks[j], d->store) == 0;
        if (writes) {
            if (!(s->datasets[s->ndatasets] = strdup(ds->name)))
                return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            s->ndatasets++;
        }
    }
    qsort(s->datasets, s->ndatasets, sizeof *s->datasets, cmp_str);
    return PS_OK;
}

/* Splits "HOST:PORT" / "[V6]:PORT" / ":PORT" and resolves it. */
static ps_status resolve_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sl,
                                ps_error *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon[1] == '\0')
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "serve.listen '%s': expected HOST:PORT, e.g. 127.0.0.1:8080", listen);
    size_t hl = (size_t)(colon - listen);
    const char *h = listen;
    if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= sizeof host)
        return ps_error_setf(err, PS_ERR_CONFIG, "serve.listen '%s': host name too long", listen);
    memcpy(host, h, hl);
    host[hl] = '\0';
    const char *port = colon + 1;
    unsigned long pv = 0;
    for (const char *p = port; *p; p++) {
        if (*p < '0' || *p > '9' || (pv = pv * 10 + (unsigned long)(*p - '0')) > 65535)
            return ps_error_setf(err, PS_ERR_CONFIG,
                                 "serve.listen '%s': the port must be a number from 0 to 65535",
                                 listen);
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(hl ? host : NULL, port, &hints, &res);
    if (rc != 0 || !res)
        return ps_error_setf(err, PS_ERR_CONFIG, "serve.listen '%s': %s", listen, gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sl = (socklen_t)res->ai_addrlen;
    freeaddrinfo(res);
    return PS_OK;
}

ps_status ps_serve_start(const ps_config *cfg, const char *listen, ps_server **out, ps_error *err)
{
    *out = NULL;
    if (!cfg->serve.present)
        return ps_error_setf(err, PS_ERR_CONFIG, "%s has no 'serve:' section (see docs/serve.md)",
                             cfg->path ? cfg->path : "the config");
    if (cfg->serve.nkeys == 0)
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "%s: serve.keys is empty: add a key with its hash from "
                             "`paysync hash-key` (see docs/serve.md)",
                             cfg->path ? cfg->path : "config");
    ps_server *s = calloc(1, sizeof *s);
    if (!s)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&s->conns_mu, NULL);
    ps_status st = ps_serve_limits_parse(cfg, &s->lim, err);
    if (st == PS_OK)
        st = copy_config(s, cfg, err);
    ps_store_ref ref = {0};
    if (st == PS_OK)
        st = ps_serve_store_locate(cfg, &ref, err);
    if (st == PS_OK)
        st = ps_serve_store_new(&ref, s->lim.threads, &s->store, err);
    ps_store_ref_free(&ref);
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    if (st == PS_OK)
        st = resolve_listen(listen ? listen : cfg->serve.listen, &ss, &sl, err);
    if (st != PS_OK) {
        server_free(s);
        return st;
    }
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    size_t mem = (size_t)s->lim.max_url_bytes + s->lim.max_header_bytes + 16384;
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)s->lim.threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->lim.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->lim.max_connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->lim.connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem, MHD_OPTION_URI_LOG_CALLBACK, uri_log, s,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_NOTIFY_CONNECTION, notify_conn, s,
        MHD_OPTION_END);
    if (!s->mhd) {
        server_free(s);
        return ps_error_setf(err, PS_ERR_IO,
                             "cannot listen on %s (address in use, not local, or no permission)",
                             listen ? listen : cfg->serve.listen);
    }
    if (pthread_create(&s->watchdog, NULL, watchdog, s) != 0) {
        MHD_stop_daemon(s->mhd);
        server_free(s);
        return ps_error_setf(err, PS_ERR_NOMEM, "cannot start the header-deadline thread");
    }
    s->watchdog_started = 1;
    const union MHD_DaemonInfo *pi = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = pi ? pi->port : 0;
    char host[128] = "?";
    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, NULL, 0, NI_NUMERICHOST);
    snprintf(s->url, sizeof s->url, ss.ss_family == AF_INET6 ? "http://[%s]:%u" : "http://%s:%u",
             host, port);
    *out = s;
    return PS_OK;
}

const char *ps_serve_url(const ps_server *s)
{
    return s->url;
}

void ps_serve_stop(ps_server *s)
{
    if (!s)
        return;
    if (s->mhd) {
        MHD_socket ls = MHD_quiesce_daemon(s->mhd);
        if (ls != MHD_INVALID_SOCKET)
            close(ls);
        /* In-flight requests (header section in full) finish; idle keep-alive connections
         * and half-sent requests are closed by the stop. */
        struct timespec tick = {0, 50 * 1000000L};
        for (unsigned waited = 0;
             atomic_load(&s->counters.in_flight) > 0 && waited < s->lim.shutdown_timeout * 20;
             waited++)
            nanosleep(&tick, NULL);
        if (s->watchdog_started) {
            atomic_store(&s->stopping, 1);
            pthread_join(s->watchdog, NULL);
        }
        MHD_stop_daemon(s->mhd);
    }
    server_free(s);
}
