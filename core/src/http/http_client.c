/* paysync core: host HTTP client on libcurl (see http_client.h). */
#include "http/http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http/redact.h"
#include "http/retry.h"
#include "util/clock.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 30000
#define DEFAULT_TIMEOUT_MS 120000
#define DEFAULT_LOW_SPEED_TIME_MS 60000
#define DEFAULT_MAX_ATTEMPTS 4
#define DEFAULT_BACKOFF_BASE_MS 1000
#define DEFAULT_BACKOFF_CAP_MS 32000
#define DEFAULT_RETRY_AFTER_CAP_MS 64000
#define DEFAULT_MAX_BODY ((int64_t)64 << 20)

#ifndef PS_VERSION
#define PS_VERSION "0"
#endif

struct ps_http_client {
    const ps_host *host;
    const ps_env *env;
    CURL *curl;
    int64_t connect_timeout_ms, timeout_ms, low_speed_time_ms, low_speed_bytes;
    ps_retry_policy policy;
    int64_t min_interval_ms;
    int64_t last_start_ms;
    int paced_once;
    int64_t max_body;
    char *ca_file;
    int insecure;
    char *user_agent;
    ps_secrets secrets;
    uint64_t rng;
    uint64_t requests, retries;
};

/* The signal that stopped the process (ps_http_stop_all), 0 while none did. Written by a
 * signal handler, read by any thread running a request: a lock-free atomic for both. */
#if ATOMIC_INT_LOCK_FREE != 2
#error "ps_http_stop_all needs a lock-free atomic int (it runs in a signal handler)"
#endif
static atomic_int g_stop_signal;

void ps_http_stop_all(int sig)
{
    atomic_store_explicit(&g_stop_signal, sig, memory_order_relaxed);
}

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void logf_(const ps_http_client *c, int level, const char *text)
{
    if (c->host && c->host->log)
        c->host->log(c->env, level, "%s", text);
}

static ps_status bad_cfg(ps_error *err, const char *what)
{
    return ps_error_setf(err, PS_ERR_CONFIG, "HTTP client: %s", what);
}

ps_http_client *ps_http_client_new(const ps_host *host, const ps_env *env,
                                   const ps_http_config *cfg_in, ps_error *err)
{
    ps_http_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (cfg_in) {
        if (cfg_in->struct_size == 0) {
            ps_error_setf(err, PS_ERR_USAGE,
                          "HTTP client: ps_http_config.struct_size is 0 (set it to "
                          "sizeof(ps_http_config))");
            return NULL;
        }
        memcpy(&cfg, cfg_in, cfg_in->struct_size < sizeof cfg ? cfg_in->struct_size : sizeof cfg);
    }
    if (cfg.connect_timeout_ms < 0 || cfg.timeout_ms < 0 || cfg.low_speed_bytes < 0 ||
        cfg.backoff_base_ms < 0 || cfg.backoff_cap_ms < 0 || cfg.retry_after_cap_ms < 0 ||
        cfg.min_interval_ms < 0 || cfg.requests_per_minute < 0 || cfg.max_body_bytes < 0 ||
        cfg.max_attempts < -1 || cfg.low_speed_time_ms < -1) {
        bad_cfg(err, "a timeout, limit or count is negative");
        return NULL;
    }
    if (cfg.ca_file && *cfg.ca_file && access(cfg.ca_file, R_OK) != 0) {
        ps_error_setf(err, PS_ERR_CONFIG, "HTTP client: cannot read the CA file '%s': %s",
                      cfg.ca_file, strerror(errno));
        return NULL;
    }
    pthread_once(&g_once, global_init);
    if (g_init_rc != CURLE_OK) {
        ps_error_setf(err, PS_ERR_INTERNAL, "HTTP client: libcurl failed to start: %s",
                      curl_easy_strerror(g_init_rc));
        return NULL;
    }
    ps_http_client *c = calloc(1, sizeof *c);
    if (!c) {
        ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->host = host;
    c->env = env;
    c->curl = curl_easy_init();
    c->ca_file = cfg.ca_file && *cfg.ca_file ? strdup(cfg.ca_file) : NULL;
    if (cfg.user_agent && *cfg.user_agent) {
        c->user_agent = strdup(cfg.user_agent);
    } else {
        c->user_agent = strdup("paysync/" PS_VERSION);
    }
    if (!c->curl || !c->user_agent || (cfg.ca_file && *cfg.ca_file && !c->ca_file)) {
        ps_http_client_free(c);
        ps_error_setf(err, PS_ERR_NOMEM, "out of memory (starting libcurl)");
        return NULL;
    }
    c->timeout_ms = cfg.timeout_ms ? cfg.timeout_ms : DEFAULT_TIMEOUT_MS;
    c->connect_timeout_ms =
        cfg.connect_timeout_ms ? cfg.connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    if (c->connect_timeout_ms > c->timeout_ms)
        c->connect_timeout_ms = c->timeout_ms;
    c->low_speed_time_ms =
        cfg.low_speed_time_ms ? cfg.low_speed_time_ms : DEFAULT_LOW_SPEED_TIME_MS;
    c->low_speed_bytes = cfg.low_speed_bytes ? cfg.low_speed_bytes : 1;
    c->policy.max_attempts = cfg.max_attempts == -1 ? 1
                             : cfg.max_attempts     ? cfg.max_attempts
                                                    : DEFAULT_MAX_ATTEMPTS;
    c->policy.backoff_base_ms = cfg.backoff_base_ms ? cfg.backoff_base_ms : DEFAULT_BACKOFF_BASE_MS;
    c->policy.backoff_cap_ms = cfg.backoff_cap_ms ? cfg.backoff_cap_ms : DEFAULT_BACKOFF_CAP_MS;
    if (c->policy.backoff_cap_ms < c->policy.backoff_base_ms)
        c->policy.backoff_cap_ms = c->policy.backoff_base_ms;
    c->policy.retry_after_cap_ms =
        cfg.retry_after_cap_ms ? cfg.retry_after_cap_ms : DEFAULT_RETRY_AFTER_CAP_MS;
    c->min_interval_ms = cfg.min_interval_ms;
    if (cfg.requests_per_minute > 0 && 60000 / cfg.requests_per_minute > c->min_interval_ms)
        c->min_interval_ms = 60000 / cfg.requests_per_minute;
    c->max_body = cfg.max_body_bytes ? cfg.max_body_bytes : DEFAULT_MAX_BODY;
    c->insecure = cfg.insecure;
    c->rng = (uint64_t)ps_clock_monotonic_ms() * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)c ^
             (uint64_t)getpid();
    if (!c->rng)
        c->rng = 88172645463325252ull;
    if (c->insecure)
        logf_(c, PS_LOG_WARN,
              "TLS verification is off (insecure): the server's certificate and name are not "
              "checked, so anyone in between can read and change this connection's data");
    return c;
}

ps_http_client *ps_http_client_new_ctx(const ps_plugin_ctx *ctx, const ps_http_config *cfg,
                                       ps_error *err)
{
    if (!ctx) {
        ps_error_setf(err, PS_ERR_USAGE, "HTTP client: no plugin context");
        return NULL;
    }
    return ps_http_client_new(ctx->host, ctx->env, cfg, err);
}

void ps_http_client_free(ps_http_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->ca_file);
    free(c->user_agent);
    ps_secrets_free(&c->secrets);
    free(c);
}

ps_status ps_http_client_add_secret(ps_http_client *c, const char *secret)
{
    return ps_secrets_add(&c->secrets, secret);
}

void ps_http_client_redact(const ps_http_client *c, char *text)
{
    if (c)
        ps_secrets_scrub(&c->secrets, text);
}

void ps_http_client_stats(const ps_http_client *c, uint64_t *requests, uint64_t *retries)
{
    if (requests)
        *requests = c ? c->requests : 0;
    if (retries)
        *retries = c ? c->retries : 0;
}

void ps_http_response_free(ps_http_response *resp)
{
    if (!resp)
        return;
    free(resp->body);
    memset(resp, 0, sizeof *resp);
    resp->struct_size = sizeof *resp;
    resp->retry_after_ms = -1;
}

/* ---- one exchange ---------------------------------------------------------------------- */

typedef struct xfer {
    ps_http_client *c;
    const ps_http_request *req;
    char *buf;
    size_t len, cap;
    int64_t total; /* body bytes received, memory or sink */
    int too_big, sink_failed, oom, cancelled;
    int64_t retry_after_ms;
} xfer;

/* Nonzero when the request is no longer wanted: the process was stopped (ps_http_stop_all)
 * or the request's own cancelled callback (ABI 2.4) says so. */
static int is_cancelled(const ps_http_request *rq)
{
    return (rq->cancelled && rq->cancelled(rq->ctx)) ||
           atomic_load_explicit(&g_stop_signal, memory_order_relaxed) != 0;
}

/* libcurl's progress callback (every request): nonzero aborts the transfer
 * (CURLE_ABORTED_BY_CALLBACK). libcurl calls it about once a second while nothing arrives. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    xfer *x = ud;
    if (is_cancelled(x->req))
        x->cancelled = 1;
    return x->cancelled;
}

/* Sleeps ms on the core clock in steps of at most 100 ms, stopping early once the request is
 * cancelled. Returns nonzero when cancelled. */
static int wait_ms(const ps_http_request *rq, int64_t ms)
{
    while (ms > 0) {
        if (is_cancelled(rq))
            return 1;
        int64_t step = ms < 100 ? ms : 100;
        ps_clock_sleep_ms(step);
        ms -= step;
    }
    return is_cancelled(rq);
}

/* The error of a cancelled request: names the signal when the process was stopped. */
static ps_status cancelled_error(ps_error *err, const char *what)
{
    int sig = atomic_load_explicit(&g_stop_signal, memory_order_relaxed);
    if (sig == 0)
        return ps_error_setf(err, PS_ERR_NETWORK, "%s: cancelled", what);
    return ps_error_setf(err, PS_ERR_NETWORK, "%s: cancelled (stopped by %s)", what,
                         sig == SIGTERM  ? "SIGTERM"
                         : sig == SIGINT ? "SIGINT"
                                         : "a signal");
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    if (x->total + (int64_t)n > x->c->max_body) {
        x->too_big = 1;
        return 0;
    }
    x->total += (int64_t)n;
    long code = 0;
    if (x->req->body_sink &&
        curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code >= 200 &&
        code <= 299) {
        if (x->req->body_sink(x->req->ctx, data, n) != 0) {
            x->sink_failed = 1;
            return 0;
        }
        return n;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 16384;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *nb = realloc(x->buf, cap);
        if (!nb) {
            x->oom = 1;
            return 0;
        }
        x->buf = nb;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, data, n);
    x->len += n;
    x->buf[x->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    /* A new status line (redirect, 100-continue) resets what we learnt. */
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
        x->retry_after_ms = -1;
    if (n > 12 && strncasecmp(data, "retry-after:", 12) == 0) {
        int64_t v = ps_retry_after_parse(data + 12, n - 12, ps_clock_now_ms());
        if (v >= 0 && v > x->c->policy.retry_after_cap_ms)
            v = x->c->policy.retry_after_cap_ms;
        x->retry_after_ms = v;
    }
    return n;
}

/* curl failures worth another try: the network or the server may do better next time. */
static int retry_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_LOGIN_DENIED:
    case CURLE_REMOTE_ACCESS_DENIED:
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
        return 0;
    default:
        return 1;
    }
}

/* Waits until min_interval_ms after the last paced start. Returns nonzero when the request
 * was cancelled during the wait (the start is then not recorded). */
static int pace(ps_http_client *c, const ps_http_request *rq)
{
    if (c->min_interval_ms <= 0)
        return 0;
    int64_t now = ps_clock_monotonic_ms();
    if (c->paced_once && now - c->last_start_ms < c->min_interval_ms &&
        wait_ms(rq, c->min_interval_ms - (now - c->last_start_ms)))
        return 1;
    c->last_start_ms = ps_clock_monotonic_ms();
    c->paced_once = 1;
    return 0;
}

static int header_ok(const char *h)
{
    return h && !strpbrk(h, "\r\n") && strchr(h, ':');
}

/* Sets the options of one attempt on the (reset) handle. */
static struct curl_slist *setup(ps_http_client *c, const ps_http_request *req, const char *url,
                                xfer *x)
{
    CURL *h = c->curl;
    curl_easy_reset(h); /* keeps live connections and caches */
    struct curl_slist *hdrs = NULL;
    for (size_t i = 0; req->headers && req->headers[i]; i++) {
        struct curl_slist *n = curl_slist_append(hdrs, req->headers[i]);
        if (!n) {
            curl_slist_free_all(hdrs);
            return (struct curl_slist *)-1;
        }
        hdrs = n;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
    if (c->low_speed_time_ms > 0) {
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)c->low_speed_bytes);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)((c->low_speed_time_ms + 999) / 1000));
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    if (hdrs)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
    if (req->follow_redirects) {
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    }
    if (c->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (c->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    }
    const char *m = req->method ? req->method : "GET";
    if (strcmp(m, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
    } else if (strcmp(m, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
    }
    if (req->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
    }
    return hdrs;
}

/* A short printable excerpt of a text body for messages: " (server said: ...)" or "". */
static void body_excerpt(const ps_http_response *r, char *out, size_t cap)
{
    out[0] = '\0';
    if (!r->body || r->len == 0 || cap < 32)
        return;
    size_t k = 0, lim = cap - 24 < 200 ? cap - 24 : 200;
    char tmp[256];
    for (size_t i = 0; i < r->len && k < lim && k < sizeof tmp - 4; i++) {
        unsigned char ch = (unsigned char)r->body[i];
        if (ch == '\n' || ch == '\r' || ch == '\t')
            ch = ' ';
        if (ch < 0x20 || ch == 0x7f)
            ch = '?';
        if (k > 0 && ch == ' ' && tmp[k - 1] == ' ')
            continue;
        tmp[k++] = (char)ch;
    }
    if (k < r->len && k >= lim)
        tmp[k++] = '.', tmp[k++] = '.', tmp[k++] = '.';
    tmp[k] = '\0';
    snprintf(out, cap, " (server said: %s)", tmp);
}

static ps_status default_check(const char *what, ps_http_response *r, ps_error *err)
{
    if (r->status >= 200 && r->status <= 299)
        return PS_OK;
    char ex[256];
    body_excerpt(r, ex, sizeof ex);
    if (ps_retry_status(r->status)) {
        ps_error_setf(err, PS_ERR_NETWORK, "%s: HTTP %ld%s", what, r->status, ex);
        return PS_RETRY;
    }
    return ps_error_setf(err, r->status == 401 || r->status == 403 ? PS_ERR_AUTH : PS_ERR_SOURCE,
                         "%s: HTTP %ld%s", what, r->status, ex);
}

static void append(ps_error *err, const char *fmt, int v)
{
    size_t l = strlen(err->message);
    snprintf(err->message + l, sizeof err->message - l, fmt, v);
}

ps_status ps_http_client_request(ps_http_client *c, const ps_http_request *req,
                                 ps_http_response *resp, ps_error *err)
{
    ps_error local;
    if (!err) {
        ps_error_clear(&local);
        err = &local;
    }
    if (resp) {
        memset(resp, 0, sizeof *resp);
        resp->struct_size = sizeof *resp;
        resp->retry_after_ms = -1;
    }
    if (!c || !req || !resp || !req->url)
        return ps_error_setf(err, PS_ERR_USAGE,
                             "http_request: client, request, URL and "
                             "response are required");
    if (req->struct_size == 0)
        return ps_error_setf(err, PS_ERR_USAGE,
                             "http_request: ps_http_request.struct_size is 0 (set it to "
                             "sizeof(ps_http_request))");
    ps_http_request rq;
    memset(&rq, 0, sizeof rq);
    memcpy(&rq, req, req->struct_size < sizeof rq ? req->struct_size : sizeof rq);
    const char *what = rq.what ? rq.what : "HTTP request";
    for (size_t i = 0; rq.headers && rq.headers[i]; i++)
        if (!header_ok(rq.headers[i]))
            return ps_error_setf(err, PS_ERR_USAGE, "%s: header %zu is not one 'Name: value' line",
                                 what, i + 1);
    if (rq.method && strcmp(rq.method, "GET") && strcmp(rq.method, "POST") &&
        strcmp(rq.method, "PUT") && strcmp(rq.method, "PATCH") && strcmp(rq.method, "DELETE") &&
        strcmp(rq.method, "HEAD"))
        return ps_error_setf(err, PS_ERR_USAGE, "%s: unsupported HTTP method", what);
    err->http_status = 0;
    err->retry_after_ms = 0;

    char *url = strdup(rq.url);
    if (!url)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    ps_status result = PS_OK;
    for (int attempt = 0;; attempt++) {
        if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
            result = ps_error_setf(err, PS_ERR_USAGE, "%s: only http:// and https:// URLs", what);
            break;
        }
        if (is_cancelled(&rq) || (!rq.unpaced && pace(c, &rq))) {
            result = cancelled_error(err, what);
            break;
        }
        if (rq.body_sink && rq.body_sink(rq.ctx, NULL, 0) != 0) {
            result = ps_error_setf(err, PS_ERR_IO,
                                   "%s: cannot reset where the response body "
                                   "goes",
                                   what);
            break;
        }
        char *shown = ps_secrets_url(&c->secrets, url);
        if (shown) {
            char line[2048];
            snprintf(line, sizeof line, "%s %s", rq.method ? rq.method : "GET", shown);
            logf_(c, PS_LOG_DEBUG, line);
            free(shown);
        }
        xfer x = {.c = c, .req = &rq, .retry_after_ms = -1};
        struct curl_slist *hdrs = setup(c, &rq, url, &x);
        if (hdrs == (struct curl_slist *)-1) {
            result = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            break;
        }
        c->requests++;
        CURLcode rc = curl_easy_perform(c->curl);
        curl_slist_free_all(hdrs);

        ps_status verdict;
        char reason[800];
        reason[0] = '\0';
        long status = 0;
        int64_t retry_after = -1;
        if (rc != CURLE_OK) {
            free(x.buf);
            if (x.cancelled) {
                result = cancelled_error(err, what);
                break;
            }
            if (x.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
                int64_t mb = c->max_body;
                if (mb % (1 << 20) == 0)
                    result = ps_error_setf(err, PS_ERR_SOURCE,
                                           "%s: response larger than %lld "
                                           "MiB",
                                           what, (long long)(mb >> 20));
                else
                    result =
                        ps_error_setf(err, PS_ERR_SOURCE, "%s: response larger than %lld bytes",
                                      what, (long long)mb);
                break;
            }
            if (x.sink_failed) {
                result = ps_error_setf(err, PS_ERR_IO, "%s: cannot store the response body", what);
                break;
            }
            if (x.oom || rc == CURLE_OUT_OF_MEMORY) {
                result = ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", what);
                break;
            }
            if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
                result = ps_error_setf(err, PS_ERR_NETWORK,
                                       "%s: transport error: %s (the server's TLS certificate "
                                       "is not trusted: set the CA file that signed it)",
                                       what, curl_easy_strerror(rc));
                break;
            }
            ps_error_setf(err, PS_ERR_NETWORK, "%s: transport error: %s", what,
                          curl_easy_strerror(rc));
            verdict = retry_curl(rc) ? PS_RETRY : PS_ERR_NETWORK;
        } else {
            ps_http_response r;
            memset(&r, 0, sizeof r);
            r.struct_size = sizeof r;
            curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r.status);
            char *ct = NULL;
            if (curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
                snprintf(r.content_type, sizeof r.content_type, "%s", ct);
            r.retry_after_ms = x.retry_after_ms;
            if (!x.buf) {
                x.buf = malloc(1);
                if (!x.buf) {
                    result = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
                    break;
                }
                x.buf[0] = '\0';
            }
            r.body = x.buf;
            r.len = x.len;
            status = r.status;
            retry_after = r.retry_after_ms;
            err->code = PS_OK;
            verdict = rq.check ? rq.check(rq.ctx, &r, reason, sizeof reason, err)
                               : default_check(what, &r, err);
            if (verdict == PS_OK) {
                *resp = r;
                result = PS_OK;
                break;
            }
            ps_http_response_free(&r);
            if (verdict == PS_RETRY && !ps_retry_status(status) && status >= 400 && status <= 499)
                verdict = err->code != PS_OK && err->code != PS_RETRY ? err->code : PS_ERR_SOURCE;
            err->http_status = (uint32_t)status;
            err->retry_after_ms =
                (status == 429 || status == 503) && retry_after > 0 ? retry_after : 0;
        }
        if (verdict != PS_RETRY) {
            result = verdict;
            err->code = verdict;
            break;
        }
        if (err->code == PS_OK || err->code == PS_RETRY)
            err->code = PS_ERR_NETWORK;
        if (attempt + 1 >= c->policy.max_attempts) {
            append(err, " [gave up after %d attempts]", attempt + 1);
            result = err->code;
            break;
        }
        int64_t delay = ps_retry_delay_ms(&c->policy, &c->rng, attempt, retry_after);
        ps_secrets_scrub(&c->secrets, err->message);
        ps_secrets_scrub(&c->secrets, reason);
        char line[1200];
        snprintf(line, sizeof line, "%s; retrying in %lld.%03lld s (retry %d of %d)",
                 reason[0] ? reason : err->message, (long long)(delay / 1000),
                 (long long)(delay % 1000), attempt + 1, c->policy.max_attempts - 1);
        logf_(c, PS_LOG_WARN, line);
        if (wait_ms(&rq, delay)) {
            result = cancelled_error(err, what);
            break;
        }
        c->retries++;
        if (rq.before_retry) {
            const char *nu = rq.before_retry(rq.ctx, attempt + 1);
            if (nu) {
                char *cp = strdup(nu);
                if (!cp) {
                    result = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
                    break;
                }
                free(url);
                url = cp;
            }
        }
    }
    free(url);
    if (result != PS_OK)
        ps_secrets_scrub(&c->secrets, err->message);
    return result;
}
