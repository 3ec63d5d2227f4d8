/* gsheet: authenticated Google requests on the host HTTP client (see gs_client.h). */
#include "gs_client.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gs_encode.h"

#define GS_MAX_BODY ((int64_t)512 * 1024 * 1024)

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

ps_status ps_gs_client_init(ps_gs_client *c, const ps_plugin_ctx *ctx, const ps_gs_client_cfg *cfg,
                            ps_error *err)
{
    memset(c, 0, sizeof *c);
    c->host = ctx->host;
    c->env = ctx->env;
    c->mode = cfg->mode;
    int retries = cfg->max_retries < 0 ? 0 : cfg->max_retries;
    ps_http_config hc = {
        .struct_size = sizeof hc,
        .timeout_ms = (int64_t)(cfg->timeout_s > 0 ? cfg->timeout_s : 120) * 1000,
        .max_attempts = retries + 1,
        .requests_per_minute = cfg->requests_per_minute > 0 ? cfg->requests_per_minute : 50,
        .max_body_bytes = GS_MAX_BODY,
        .insecure = cfg->insecure,
        .user_agent = "paysync-gsheet/0.1",
    };
    c->http = c->host->http_new(ctx, &hc, err);
    if (!c->http)
        return err && err->code != PS_OK ? err->code : PS_ERR_NOMEM;
    c->ectx.mode = cfg->mode;
    c->scope = cfg->scope ? cfg->scope : PS_GS_SCOPE;
    if (cfg->mode == PS_GS_AUTH_API_KEY) {
        c->api_key = xstrdup(cfg->api_key);
        if (!c->api_key || c->host->http_add_secret(c->http, c->api_key) != PS_OK)
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
    if (c->http)
        c->host->http_free(c->http);
    wipe_free(c->api_key);
    wipe_free(c->token);
    free(c->token_url);
    ps_gs_sakey_free(&c->sa);
    memset(c, 0, sizeof *c);
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
    size_t post_len;
    int post_json; /* post is JSON (else a form) */
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

/* State the host client's callbacks share during one run(). */
typedef struct exchange {
    ps_gs_client *c;
    const attempt_in *in;
    ps_gs_err_ctx ectx;
    json_t **json;
    int want_renew; /* a 401 the service account may cure with a new token */
    int renewed;
    char *base; /* current URL without credentials (a retry may shrink the page) */
    char *full; /* base with the API key: what the last before_retry returned */
} exchange;

static int ct_is(const char *ct, const char *want)
{
    return strncmp(ct, want, strlen(want)) == 0;
}

/* CSV downloads go to in->file: truncated before every attempt. */
static int file_sink(void *ctx, const char *data, size_t n)
{
    exchange *x = ctx;
    FILE *f = x->in->file;
    if (!data) {
        rewind(f);
        return ftruncate(fileno(f), 0) == 0 ? 0 : -1;
    }
    return fwrite(data, 1, n, f) == n ? 0 : -1;
}

/* Parses a JSON object body into *json (or drops it when json is NULL). Invalid JSON or a
 * non-object is PS_ERR_SOURCE, to be retried. */
static ps_status parse_json(const char *body, size_t len, const char *what, json_t **json,
                            ps_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (root && json_is_object(root)) {
        if (json) {
            json_decref(*json);
            *json = root;
        } else {
            json_decref(root);
        }
        return PS_OK;
    }
    json_decref(root);
    ps_error_setf(err, PS_ERR_SOURCE,
                  "%s: Google's answer is not valid JSON (%s at byte %d): the "
                  "response was cut short or corrupted",
                  what, jerr.text, jerr.position);
    return PS_RETRY;
}

/* The host client's check: Google's answers judged and their errors mapped. */
static ps_status judge(void *ctx, ps_http_response *resp, char *reason, size_t reason_cap,
                       ps_error *err)
{
    exchange *x = ctx;
    const attempt_in *in = x->in;
    ps_gs_client *c = x->c;
    long status = resp->status;
    if (status == 401 && in->use_auth && c->mode == PS_GS_AUTH_SERVICE_ACCOUNT && !x->renewed) {
        x->want_renew = 1;
        return ps_error_setf(err, PS_ERR_AUTH, "%s: access token rejected (401)", in->what);
    }
    if (status == 429 || status >= 500) {
        ps_status code =
            ps_gs_map_error(status, resp->content_type, resp->body, resp->len, &x->ectx, err);
        char brief[300];
        ps_gs_error_brief(resp->body, resp->len, brief, sizeof brief);
        snprintf(reason, reason_cap, "%s: HTTP %ld %s", in->what, status, brief);
        err->code = code;
        return PS_RETRY;
    }
    if (status < 200 || status >= 300)
        return ps_gs_map_error(status, resp->content_type, resp->body, resp->len, &x->ectx, err);
    if (in->expect == PS_GS_EXPECT_CSV) {
        if (!ct_is(resp->content_type, "text/csv")) {
            int html = ps_gs_looks_html(resp->content_type, resp->body, resp->len) ||
                       ct_is(resp->content_type, "text/html");
            return html ? ps_error_setf(err, PS_ERR_AUTH,
                                        "%s: Google sent an HTML page (probably a sign-in "
                                        "page) instead of CSV: the sheet is not link-readable; "
                                        "share it as 'Anyone with the link: Viewer' or use "
                                        "api_key/service account credentials",
                                        in->what)
                        : ps_error_setf(err, PS_ERR_SOURCE, "%s: expected text/csv, got '%s'",
                                        in->what,
                                        resp->content_type[0] ? resp->content_type : "no type");
        }
        if (fflush(in->file) != 0)
            return ps_error_setf(err, PS_ERR_IO, "cannot write the temporary CSV file");
        return PS_OK;
    }
    if (!ct_is(resp->content_type, "application/json") &&
        ps_gs_looks_html(resp->content_type, resp->body, resp->len))
        return ps_error_setf(err, PS_ERR_SOURCE,
                             "%s: got an HTML page (HTTP %ld) where Google's JSON was "
                             "expected: check api_url/token_url and any proxy or "
                             "captive portal in between",
                             in->what, status);
    if (in->page) {
        /* values: the curl buffer itself becomes the page, no tree and no copy */
        char *body = resp->body;
        size_t blen = resp->len;
        resp->body = NULL;
        resp->len = 0;
        int syntax = 0;
        ps_status st =
            ps_gs_page_parse(in->page, body, blen, in->first_row, in->what, &syntax, err);
        return st == PS_OK || !syntax ? st : PS_RETRY;
    }
    return parse_json(resp->body, resp->len, in->what, x->json, err);
}

/* The client's cancelled callback, for the host client (ctx is the exchange). */
static int cancelled(void *ctx)
{
    exchange *x = ctx;
    return x->c->cancelled(x->c->cancel_ctx);
}

/* Before a retry: a smaller page when the caller can shrink it. */
static const char *next_url(void *ctx, int attempt)
{
    (void)attempt;
    exchange *x = ctx;
    if (!x->in->shrink)
        return NULL;
    char *nu = x->in->shrink(x->in->shrink_ctx);
    if (!nu)
        return NULL;
    char *full = x->in->use_auth ? with_key(x->c, nu) : xstrdup(nu);
    if (!full) {
        free(nu);
        return NULL;
    }
    free(x->base);
    x->base = nu;
    wipe_free(x->full);
    x->full = full;
    return full;
}

static ps_status run(ps_gs_client *c, const attempt_in *in, json_t **json, ps_error *err)
{
    if (json)
        *json = NULL;
    exchange x = {.c = c, .in = in, .ectx = c->ectx, .json = json};
    x.ectx.what = in->what;
    x.ectx.token_request = in->token_request;
    x.base = xstrdup(in->url);
    if (!x.base)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    ps_status result;
    for (;;) {
        char auth[4096];
        const char *headers[4] = {"Accept: application/json, text/csv;q=0.9, */*;q=0.1", NULL, NULL,
                                  NULL};
        int nh = 1;
        if (in->post_json)
            headers[nh++] = "Content-Type: application/json; charset=UTF-8";
        if (in->use_auth && c->mode == PS_GS_AUTH_SERVICE_ACCOUNT) {
            result = ps_gs_client_token(c, 0, err);
            if (result != PS_OK)
                break;
            snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
            headers[nh++] = auth;
        }
        wipe_free(x.full);
        x.full = in->use_auth ? with_key(c, x.base) : xstrdup(x.base);
        if (!x.full) {
            result = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            break;
        }
        ps_http_request rq = {.struct_size = sizeof rq,
                              .method = in->post ? "POST" : "GET",
                              .url = x.full,
                              .headers = headers,
                              .body = in->post,
                              .body_len = in->post ? in->post_len : 0,
                              .what = in->what,
                              .follow_redirects = in->follow,
                              .unpaced = in->token_request,
                              .body_sink = in->file ? file_sink : NULL,
                              .check = judge,
                              .before_retry = next_url,
                              .ctx = &x,
                              .cancelled = c->cancelled ? cancelled : NULL};
        ps_http_response resp;
        x.want_renew = 0;
        result = c->host->http_request(c->http, &rq, &resp, err);
        memset(auth, 0, sizeof auth);
        if (result == PS_OK) {
            c->host->http_response_free(&resp);
            break;
        }
        if (!x.want_renew)
            break;
        x.renewed = 1;
        c->host->log(c->env, PS_LOG_INFO, "%s: access token rejected (401); getting a new one",
                     in->what);
        result = ps_gs_client_token(c, 1, err);
        if (result != PS_OK)
            break;
    }
    free(x.base);
    wipe_free(x.full);
    if (result != PS_OK) {
        if (json) {
            json_decref(*json);
            *json = NULL;
        }
        if (strstr(err->message, ": response larger than ") && err->http_status == 0) {
            size_t l = strlen(err->message);
            snprintf(err->message + l, sizeof err->message - l, ": lower page_rows");
        }
        c->host->http_redact(c->http, err->message);
    }
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
                     .first_row = r->first_row,
                     .post = r->post_json,
                     .post_len = r->post_json ? r->post_len : 0,
                     .post_json = r->post_json != NULL};
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
    ps_status st = ps_gs_jwt_sign(c->sa.private_key, c->sa.client_email, c->scope,
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
                     .post_len = strlen(body),
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
    if (!c->token || c->host->http_add_secret(c->http, c->token) != PS_OK)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    /* Renew ahead of expiry: 5 minutes early, or a quarter of the lifetime when shorter. */
    int64_t margin = secs > 1200 ? 300 : secs / 4;
    c->token_expiry_ms = c->host->monotonic_ms() + (secs - margin) * 1000;
    c->host->log(c->env, PS_LOG_DEBUG, "got an access token for %s valid for %lld s",
                 c->sa.client_email, (long long)secs);
    return PS_OK;
}
