/* gsheet: authenticated Google requests with pacing, retries, backoff and token renewal. */
#include "gs_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gs_encode.h"

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

ps_status ps_gs_client_init(ps_gs_client *c, const ps_host *host, const ps_env *env,
                            const ps_gs_client_cfg *cfg, ps_error *err)
{
    memset(c, 0, sizeof *c);
    c->host = host;
    c->env = env;
    c->mode = cfg->mode;
    c->max_retries = cfg->max_retries < 0 ? 0 : cfg->max_retries;
    int rpm = cfg->requests_per_minute > 0 ? cfg->requests_per_minute : 50;
    c->min_interval_ms = 60000 / rpm;
    c->rng = (uint64_t)host->monotonic_ms() * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)c ^
             (uint64_t)getpid();
    if (!c->rng)
        c->rng = 88172645463325252ull;
    c->http = ps_gs_http_new(cfg->timeout_s, cfg->insecure);
    if (!c->http)
        return ps_error_setf(err, PS_ERR_NOMEM, "cannot initialise libcurl");
    c->ectx.mode = cfg->mode;
    if (cfg->mode == PS_GS_AUTH_API_KEY) {
        c->api_key = xstrdup(cfg->api_key);
        if (!c->api_key)
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    } else if (cfg->mode == PS_GS_AUTH_SERVICE_ACCOUNT) {
        c->sa = *cfg->sa;
        memset((ps_gs_sakey *)cfg->sa, 0, sizeof *cfg->sa);
        c->token_url = xstrdup(cfg->token_url ? cfg->token_url : c->sa.token_uri);
        if (!c->token_url)
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        c->ectx.client_email = c->sa.client_email;
    }
    return PS_OK;
}

void ps_gs_client_free(ps_gs_client *c)
{
    if (!c)
        return;
    ps_gs_http_free(c->http);
    wipe_free(c->api_key);
    wipe_free(c->token);
    free(c->token_url);
    ps_gs_sakey_free(&c->sa);
    memset(c, 0, sizeof *c);
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

int64_t ps_gs_backoff_ms(uint64_t *rng, int attempt, long retry_after_s)
{
    if (retry_after_s >= 0)
        return (retry_after_s > 64 ? 64 : retry_after_s) * 1000;
    int64_t base = attempt >= 5 ? 32000 : (int64_t)1000 << attempt;
    int64_t d = base + (int64_t)(next_rand(rng) % 1001);
    return d > 32000 ? 32000 : d;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void pace(ps_gs_client *c)
{
    int64_t now = c->host->monotonic_ms();
    if (c->last_request_ms && now - c->last_request_ms < c->min_interval_ms)
        sleep_ms(c->min_interval_ms - (now - c->last_request_ms));
    c->last_request_ms = c->host->monotonic_ms();
}

static void scrub(ps_gs_client *c, ps_error *err)
{
    if (!err)
        return;
    ps_gs_scrub(err->message, sizeof err->message, c->api_key);
    ps_gs_scrub(err->message, sizeof err->message, c->token);
}

/* The URL with key=API_KEY appended (API-key mode), malloc'd. */
static char *with_key(ps_gs_client *c, const char *url)
{
    if (c->mode != PS_GS_AUTH_API_KEY || !c->api_key)
        return xstrdup(url);
    char *k = ps_gs_pct_encode(c->api_key);
    if (!k)
        return NULL;
    size_t n = strlen(url) + strlen(k) + 8;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s%ckey=%s", url, strchr(url, '?') ? '&' : '?', k);
    wipe_free(k);
    return out;
}

typedef struct attempt_in {
    const char *url;
    const char *what;
    const char *post;
    int use_auth;
    int token_request;
    int expect;
    FILE *file;
    int follow;
    ps_gs_shrink_fn shrink;
    void *shrink_ctx;
    ps_gs_page *page;
    uint64_t first_row;
} attempt_in;

static int ct_is(const char *ct, const char *want)
{
    return strncmp(ct, want, strlen(want)) == 0;
}

/* Parses a JSON object body into *json (or drops it when json is NULL). Invalid JSON or a
 * non-object is PS_ERR_SOURCE with *retryable set. */
static ps_status parse_json(const char *body, size_t len, const char *what, json_t **json,
                            int *retryable, ps_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (root && json_is_object(root)) {
        if (json)
            *json = root;
        else
            json_decref(root);
        return PS_OK;
    }
    json_decref(root);
    *retryable = 1;
    return ps_error_setf(err, PS_ERR_SOURCE,
                         "%s: Google's answer is not valid JSON (%s at byte %d): the "
                         "response was cut short or corrupted",
                         what, jerr.text, jerr.position);
}

static ps_status run(ps_gs_client *c, const attempt_in *in, json_t **json, ps_error *err)
{
    if (json)
        *json = NULL;
    char *url = xstrdup(in->url);
    if (!url)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    int attempt = 0, renewed = 0;
    ps_gs_err_ctx ectx = c->ectx;
    ectx.what = in->what;
    ectx.token_request = in->token_request;
    ps_status result;
    for (;;) {
        const char *bearer = NULL;
        if (in->use_auth && c->mode == PS_GS_AUTH_SERVICE_ACCOUNT) {
            result = ps_gs_client_token(c, 0, err);
            if (result != PS_OK)
                break;
            bearer = c->token;
        }
        char *full = in->use_auth ? with_key(c, url) : xstrdup(url);
        if (!full) {
            result = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            break;
        }
        if (!in->token_request)
            pace(c);
        char *shown = ps_gs_redact_url(full);
        c->host->log(c->env, PS_LOG_DEBUG, "%s %s", in->post ? "POST" : "GET",
                     shown ? shown : "(url)");
        free(shown);
        if (in->file) {
            rewind(in->file);
            if (ftruncate(fileno(in->file), 0) != 0) {
                wipe_free(full);
                result = ps_error_setf(err, PS_ERR_IO, "cannot reset the temporary CSV file");
                break;
            }
        }
        ps_gs_response resp;
        c->requests++;
        result =
            ps_gs_http_exchange(c->http, full, bearer, in->post, in->follow, in->file, &resp, err);
        wipe_free(full);
        long retry_after = -1;
        int retryable = 0;
        char why[800];
        why[0] = '\0';
        if (result == PS_ERR_NETWORK) {
            retryable = 1;
            char tmp[sizeof err->message];
            snprintf(tmp, sizeof tmp, "%s: %s", in->what, err->message);
            snprintf(err->message, sizeof err->message, "%s", tmp);
        } else if (result != PS_OK) {
            break;
        } else if (resp.status == 401 && in->use_auth && c->mode == PS_GS_AUTH_SERVICE_ACCOUNT &&
                   !renewed) {
            renewed = 1;
            c->host->log(c->env, PS_LOG_INFO, "%s: access token rejected (401); getting a new one",
                         in->what);
            ps_gs_response_free(&resp);
            result = ps_gs_client_token(c, 1, err);
            if (result != PS_OK)
                break;
            continue;
        } else if (resp.status == 429 || resp.status >= 500) {
            retryable = 1;
            retry_after = resp.retry_after_s;
            result =
                ps_gs_map_error(resp.status, resp.content_type, resp.body, resp.len, &ectx, err);
            char brief[300];
            ps_gs_error_brief(resp.body, resp.len, brief, sizeof brief);
            snprintf(why, sizeof why, "%s: HTTP %ld %s", in->what, resp.status, brief);
        } else if (resp.status < 200 || resp.status >= 300) {
            result =
                ps_gs_map_error(resp.status, resp.content_type, resp.body, resp.len, &ectx, err);
            ps_gs_response_free(&resp);
            break;
        } else if (in->expect == PS_GS_EXPECT_CSV) {
            int csv = ct_is(resp.content_type, "text/csv");
            if (!csv) {
                int html = ps_gs_looks_html(resp.content_type, resp.body, resp.len) ||
                           ct_is(resp.content_type, "text/html");
                result =
                    html ? ps_error_setf(err, PS_ERR_AUTH,
                                         "%s: Google sent an HTML page (probably a sign-in "
                                         "page) instead of CSV: the sheet is not link-readable; "
                                         "share it as 'Anyone with the link: Viewer' or use "
                                         "api_key/service account credentials",
                                         in->what)
                         : ps_error_setf(err, PS_ERR_SOURCE, "%s: expected text/csv, got '%s'",
                                         in->what,
                                         resp.content_type[0] ? resp.content_type : "no type");
                ps_gs_response_free(&resp);
                break;
            }
            ps_gs_response_free(&resp);
            if (fflush(in->file) != 0) {
                result = ps_error_setf(err, PS_ERR_IO, "cannot write the temporary CSV file");
                break;
            }
            result = PS_OK;
            break;
        } else {
            if (!ct_is(resp.content_type, "application/json") &&
                ps_gs_looks_html(resp.content_type, resp.body, resp.len)) {
                result = ps_error_setf(err, PS_ERR_SOURCE,
                                       "%s: got an HTML page (HTTP %ld) where Google's JSON was "
                                       "expected: check api_url/token_url and any proxy or "
                                       "captive portal in between",
                                       in->what, resp.status);
                ps_gs_response_free(&resp);
                break;
            }
            if (in->page) {
                /* values: the curl buffer itself becomes the page, no tree and no copy */
                char *body = resp.body;
                size_t blen = resp.len;
                resp.body = NULL;
                resp.len = 0;
                int syntax = 0;
                result =
                    ps_gs_page_parse(in->page, body, blen, in->first_row, in->what, &syntax, err);
                if (result == PS_OK || !syntax)
                    break;
                retryable = 1;
            } else {
                result = parse_json(resp.body, resp.len, in->what, json, &retryable, err);
                ps_gs_response_free(&resp);
                if (result == PS_OK)
                    break;
            }
        }
        ps_gs_response_free(&resp);
        if (!retryable)
            break;
        if (attempt >= c->max_retries) {
            size_t l = strlen(err->message);
            snprintf(err->message + l, sizeof err->message - l, " [gave up after %d attempts]",
                     attempt + 1);
            break;
        }
        int64_t delay = ps_gs_backoff_ms(&c->rng, attempt, retry_after);
        scrub(c, err);
        c->host->log(c->env, PS_LOG_WARN, "%s; retrying in %lld.%03lld s (retry %d of %d)",
                     why[0] ? why : err->message, (long long)(delay / 1000),
                     (long long)(delay % 1000), attempt + 1, c->max_retries);
        sleep_ms(delay);
        attempt++;
        c->retries++;
        if (in->shrink) {
            char *nu = in->shrink(in->shrink_ctx);
            if (nu) {
                free(url);
                url = nu;
            }
        }
    }
    free(url);
    if (result != PS_OK)
        scrub(c, err);
    return result;
}

ps_status ps_gs_client_get(ps_gs_client *c, const ps_gs_request *r, json_t **json, ps_error *err)
{
    attempt_in in = {.url = r->url,
                     .what = r->what,
                     .use_auth = c->mode != PS_GS_AUTH_PUBLIC,
                     .expect = r->expect,
                     .file = r->file,
                     .follow = r->follow,
                     .shrink = r->shrink,
                     .shrink_ctx = r->shrink_ctx,
                     .page = r->page,
                     .first_row = r->first_row};
    return run(c, &in, json, err);
}

ps_status ps_gs_client_token(ps_gs_client *c, int force, ps_error *err)
{
    if (c->mode != PS_GS_AUTH_SERVICE_ACCOUNT)
        return PS_OK;
    int64_t now = c->host->monotonic_ms();
    if (!force && c->token && now < c->token_expiry_ms)
        return PS_OK;
    wipe_free(c->token);
    c->token = NULL;
    int64_t iat = c->host->now_ms() / 1000;
    char *jwt = NULL;
    ps_status st = ps_gs_jwt_sign(c->sa.private_key, c->sa.client_email, PS_GS_SCOPE,
                                  c->sa.token_uri ? c->sa.token_uri : c->token_url, iat, iat + 3600,
                                  &jwt, err);
    if (st != PS_OK)
        return st;
    static const char prefix[] =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    size_t n = sizeof prefix + strlen(jwt);
    char *body = malloc(n);
    if (!body) {
        wipe_free(jwt);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    snprintf(body, n, "%s%s", prefix, jwt);
    wipe_free(jwt);
    attempt_in in = {.url = c->token_url,
                     .what = "getting an access token",
                     .post = body,
                     .use_auth = 0,
                     .token_request = 1,
                     .expect = PS_GS_EXPECT_JSON};
    json_t *root = NULL;
    c->token_fetches++;
    st = run(c, &in, &root, err);
    wipe_free(body);
    if (st != PS_OK)
        return st;
    json_t *tok = json_object_get(root, "access_token");
    json_t *exp = json_object_get(root, "expires_in");
    if (!json_is_string(tok) || json_string_length(tok) == 0) {
        json_decref(root);
        return ps_error_setf(err, PS_ERR_AUTH,
                             "getting an access token: the token endpoint's answer has no "
                             "access_token");
    }
    c->token = strdup(json_string_value(tok));
    int64_t secs = json_is_integer(exp) ? (int64_t)json_integer_value(exp) : 3600;
    json_decref(root);
    if (!c->token)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    /* Renew ahead of expiry: 5 minutes early, or a quarter of the lifetime when shorter. */
    int64_t margin = secs > 1200 ? 300 : secs / 4;
    c->token_expiry_ms = c->host->monotonic_ms() + (secs - margin) * 1000;
    c->host->log(c->env, PS_LOG_DEBUG, "got an access token for %s valid for %lld s",
                 c->sa.client_email, (long long)secs);
    return PS_OK;
}
