/* rest: requests, authentication and pagination (see rs_internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rs_internal.h"
#include "rs_tmpl.h"

#define RS_MAX_HEADERS 24
#define RS_MAX_URL 8192

typedef struct buf {
    char *s;
    size_t len, cap;
} buf;

static void buf_free(buf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

/* ---- building requests ------------------------------------------------------------------- */

static ps_status expand(rs *p, const char *t, int enc, buf *b, int *nempty, const char *where,
                        ps_error *err)
{
    char badv[80];
    int rc = rs_tmpl_expand(t, rs_var, p, enc, &b->s, &b->len, &b->cap, nempty, badv, sizeof badv);
    if (rc == -1)
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "%s: %s: unknown variable {%s} (options, since, until, since_date, "
                             "page, offset, limit, cursor, after, token)",
                             p->m->file, where, badv);
    if (rc != 0)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    return PS_OK;
}

static int is_absolute(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* URL of ep: api_url + path (unless the path is absolute), then the query. */
static ps_status build_url(rs *p, const rs_endpoint *ep, buf *url, ps_error *err)
{
    buf path = {0};
    ps_status st = expand(p, ep->path, 0, &path, NULL, ep->name, err);
    if (st != PS_OK)
        return st;
    if (!is_absolute(path.s)) {
        const char *base = p->api_url ? p->api_url : "";
        size_t bl = strlen(base);
        while (bl && base[bl - 1] == '/')
            bl--;
        if (rs_buf_put(&url->s, &url->len, &url->cap, base, bl) != 0 ||
            (path.s[0] != '/' && rs_buf_put(&url->s, &url->len, &url->cap, "/", 1) != 0)) {
            buf_free(&path);
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        }
    }
    int rc = rs_buf_put(&url->s, &url->len, &url->cap, path.s, path.len);
    buf_free(&path);
    if (rc != 0)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    char sep = strchr(url->s, '?') ? '&' : '?';
    for (const rs_node *q = ep->query ? ep->query->child : NULL; q; q = q->next) {
        const char *t = rs_scalar_text(q);
        if (!t)
            continue;
        buf v = {0};
        int nempty = 0;
        st = expand(p, t, 1, &v, &nempty, ep->name, err);
        if (st != PS_OK)
            return st;
        if (q->type == RS_NULL || (rs_tmpl_is_single(t) && nempty)) {
            buf_free(&v); /* an unset variable leaves the parameter out */
            continue;
        }
        rc = rs_buf_put(&url->s, &url->len, &url->cap, &sep, 1) ||
             rs_url_encode(&url->s, &url->len, &url->cap, q->key) ||
             rs_buf_put(&url->s, &url->len, &url->cap, "=", 1) ||
             rs_buf_put(&url->s, &url->len, &url->cap, v.s, v.len);
        buf_free(&v);
        if (rc)
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        sep = '&';
    }
    if (url->len > RS_MAX_URL)
        return ps_error_setf(err, PS_ERR_CONFIG, "%s: %s: the URL is longer than %d bytes",
                             p->m->file, ep->name, RS_MAX_URL);
    return PS_OK;
}

static int looks_json_literal(const char *s)
{
    if (!strcmp(s, "true") || !strcmp(s, "false") || !strcmp(s, "null"))
        return 1;
    size_t i = s[0] == '-';
    if (!(s[i] >= '0' && s[i] <= '9'))
        return 0;
    while (s[i] >= '0' && s[i] <= '9')
        i++;
    if (s[i] == '.') {
        i++;
        if (!(s[i] >= '0' && s[i] <= '9'))
            return 0;
        while (s[i] >= '0' && s[i] <= '9')
            i++;
    }
    return s[i] == '\0';
}

/* 1 for "{page_size}", "{page}", "{offset}", "{limit}": numbers by nature, sent bare. */
static int numeric_var(const char *t)
{
    static const char *const nums[] = {"{page_size}", "{page}", "{offset}", "{limit}", NULL};
    for (size_t i = 0; nums[i]; i++)
        if (strcmp(t, nums[i]) == 0)
            return 1;
    return 0;
}

/* Renders a body template node as JSON: plain scalars that read as numbers, true, false or
 * null stay bare; a text that is only an unset {variable} is null; anything else a string. */
static ps_status render_json(rs *p, const rs_node *n, buf *out, const char *where, ps_error *err)
{
    int rc = 0;
    if (n->type == RS_OBJ || n->type == RS_ARR) {
        rc = rs_buf_put(&out->s, &out->len, &out->cap, n->type == RS_OBJ ? "{" : "[", 1);
        for (const rs_node *c = n->child; !rc && c; c = c->next) {
            if (c != n->child)
                rc = rs_buf_put(&out->s, &out->len, &out->cap, ",", 1);
            if (!rc && n->type == RS_OBJ)
                rc = rs_json_quote(&out->s, &out->len, &out->cap, c->key, strlen(c->key)) ||
                     rs_buf_put(&out->s, &out->len, &out->cap, ":", 1);
            if (!rc) {
                ps_status st = render_json(p, c, out, where, err);
                if (st != PS_OK)
                    return st;
            }
        }
        if (!rc)
            rc = rs_buf_put(&out->s, &out->len, &out->cap, n->type == RS_OBJ ? "}" : "]", 1);
    } else if (n->type == RS_NULL) {
        rc = rs_buf_put(&out->s, &out->len, &out->cap, "null", 4);
    } else {
        buf v = {0};
        int nempty = 0;
        ps_status st = expand(p, n->text, 0, &v, &nempty, where, err);
        if (st != PS_OK)
            return st;
        if (rs_tmpl_is_single(n->text) && nempty)
            rc = rs_buf_put(&out->s, &out->len, &out->cap, "null", 4);
        else if ((n->plain || numeric_var(n->text)) && looks_json_literal(v.s))
            rc = rs_buf_put(&out->s, &out->len, &out->cap, v.s, v.len);
        else
            rc = rs_json_quote(&out->s, &out->len, &out->cap, v.s, v.len);
        buf_free(&v);
    }
    return rc ? ps_error_setf(err, PS_ERR_NOMEM, "out of memory") : PS_OK;
}

static int b64(const char *in, size_t n, char *out, size_t cap)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    if ((n + 2) / 3 * 4 + 1 > cap)
        return -1;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
    return 0;
}

/* "Authorization: Basic ..." from two templates, malloc'd in *out. */
static ps_status basic_header(rs *p, const char *user_t, const char *pass_t, char **out,
                              ps_error *err)
{
    buf up = {0};
    ps_status st = expand(p, user_t, 0, &up, NULL, "auth", err);
    if (st == PS_OK && rs_buf_put(&up.s, &up.len, &up.cap, ":", 1) != 0)
        st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    if (st == PS_OK)
        st = expand(p, pass_t, 0, &up, NULL, "auth", err);
    size_t cap = (up.len + 2) / 3 * 4 + 32;
    char *h = st == PS_OK ? malloc(cap) : NULL;
    if (st == PS_OK && !h)
        st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    if (st == PS_OK) {
        memcpy(h, "Authorization: Basic ", 21);
        b64(up.s, up.len, h + 21, cap - 21);
        p->host->http_add_secret(p->http, h + 21);
        *out = h;
    }
    if (up.s)
        memset(up.s, 0, up.len);
    buf_free(&up);
    return st;
}

typedef struct hdrs {
    char *h[RS_MAX_HEADERS + 1];
    size_t n;
} hdrs;

static void hdrs_free(hdrs *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->h[i]);
    h->n = 0;
}

static ps_status hdrs_from(rs *p, const rs_node *obj, hdrs *h, const char *where, ps_error *err)
{
    for (const rs_node *k = obj ? obj->child : NULL; k; k = k->next) {
        const char *t = rs_scalar_text(k);
        if (!t)
            continue;
        if (h->n == RS_MAX_HEADERS)
            return ps_error_setf(err, PS_ERR_CONFIG, "%s: %s: more than %d headers", p->m->file,
                                 where, RS_MAX_HEADERS);
        buf v = {0};
        if (rs_buf_put(&v.s, &v.len, &v.cap, k->key, strlen(k->key)) ||
            rs_buf_put(&v.s, &v.len, &v.cap, ": ", 2)) {
            buf_free(&v);
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        }
        ps_status st = expand(p, t, 0, &v, NULL, where, err);
        if (st != PS_OK) {
            buf_free(&v);
            return st;
        }
        h->h[h->n++] = v.s;
    }
    return PS_OK;
}

static ps_status hdrs_add(hdrs *h, const char *line, ps_error *err)
{
    if (h->n == RS_MAX_HEADERS)
        return ps_error_setf(err, PS_ERR_CONFIG, "more than %d headers", RS_MAX_HEADERS);
    if (!(h->h[h->n] = strdup(line)))
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    h->n++;
    return PS_OK;
}

/* ---- sending ------------------------------------------------------------------------------ */

typedef struct judge {
    rs *p;
    rs_pool *pool; /* where the answer is parsed */
    const char *what;
    const rs_node *root;
} judge;

static void excerpt(const ps_http_response *r, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    if (!r->body || !r->len || cap < 32)
        return;
    k = (size_t)snprintf(out, cap, " (server said: ");
    for (size_t i = 0; i < r->len && k + 20 < cap && i < 200; i++) {
        unsigned char c = (unsigned char)r->body[i];
        out[k++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
    }
    snprintf(out + k, cap - k, "%s)", r->len > 200 ? "..." : "");
}

static ps_status judge_response(void *ctx, ps_http_response *r, char *reason, size_t rcap,
                                ps_error *err)
{
    judge *j = ctx;
    char ex[280];
    if (r->status < 200 || r->status > 299) {
        excerpt(r, ex, sizeof ex);
        int retry = r->status == 408 || r->status == 429 || r->status >= 500;
        ps_error_setf(err,
                      retry                                  ? PS_ERR_NETWORK
                      : r->status == 401 || r->status == 403 ? PS_ERR_AUTH
                                                             : PS_ERR_SOURCE,
                      "%s: HTTP %ld%s", j->what, r->status, ex);
        return retry ? PS_RETRY : err->code;
    }
    char why[160];
    j->root = rs_json_parse(j->pool, r->body, r->len, why, sizeof why);
    if (!j->root) {
        snprintf(reason, rcap, "%s: the answer is not valid JSON (%s)", j->what, why);
        ps_error_setf(err, PS_ERR_SOURCE, "%s: the answer is not valid JSON (%s)", j->what, why);
        return PS_RETRY; /* a cut body is worth another try */
    }
    return PS_OK;
}

/* Sends one request; *root is the parsed JSON answer (in pool, the run's when NULL). */
static ps_status send_once(rs *p, rs_pool *pool, const char *method, const char *url, hdrs *h,
                           const buf *body, const char *what, const rs_node **root, ps_error *err)
{
    judge j = {.p = p, .pool = pool ? pool : p->run, .what = what};
    h->h[h->n] = NULL;
    ps_http_request req = {.struct_size = sizeof req,
                           .method = method,
                           .url = url,
                           .headers = (const char *const *)h->h,
                           .body = body ? body->s : NULL,
                           .body_len = body ? body->len : 0,
                           .what = what,
                           .check = judge_response,
                           .ctx = &j};
    ps_http_response resp;
    p->requests++;
    uint64_t before = 0, after = 0, retries;
    p->host->http_stats(p->http, &before, &retries);
    ps_status st = p->host->http_request(p->http, &req, &resp, err);
    p->host->http_stats(p->http, &after, &retries);
    if (after > before + 1)
        p->requests += after - before - 1;
    if (st == PS_OK) {
        p->host->http_response_free(&resp);
        *root = j.root;
        return PS_OK;
    }
    if (st == PS_ERR_NETWORK && (err->http_status == 429 || err->http_status == 503))
        err->code = st = PS_RETRY; /* a later run may succeed; retry_after_ms kept */
    return st;
}

ps_status rs_login(rs *p, ps_error *err)
{
    const rs_manifest *m = p->m;
    if (m->auth != RS_AUTH_LOGIN && m->auth != RS_AUTH_OAUTH2)
        return PS_OK;
    buf url = {0}, body = {0};
    hdrs h = {0};
    const rs_node *root = NULL;
    ps_status st;
    const char *method = "POST";
    char what[300];
    if (m->auth == RS_AUTH_LOGIN) {
        st = build_url(p, &m->login, &url, err);
        method = m->login.method;
        if (st == PS_OK && m->login.body) {
            st = render_json(p, m->login.body, &body, "auth.login.body", err);
            if (st == PS_OK)
                st = hdrs_add(&h, "Content-Type: application/json", err);
        }
        if (st == PS_OK)
            st = hdrs_from(p, m->login.headers, &h, "auth.login.headers", err);
    } else {
        st = expand(p, m->oauth_url, 0, &url, NULL, "auth.token_url", err);
        if (st == PS_OK && !is_absolute(url.s)) {
            buf full = {0};
            const char *base = p->api_url ? p->api_url : "";
            size_t bl = strlen(base);
            while (bl && base[bl - 1] == '/')
                bl--;
            if (rs_buf_put(&full.s, &full.len, &full.cap, base, bl) ||
                (url.s[0] != '/' && rs_buf_put(&full.s, &full.len, &full.cap, "/", 1)) ||
                rs_buf_put(&full.s, &full.len, &full.cap, url.s, url.len))
                st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            buf_free(&url);
            url = full;
        }
        if (st == PS_OK)
            st = hdrs_add(&h, "Content-Type: application/x-www-form-urlencoded", err);
        if (st == PS_OK &&
            rs_buf_put(&body.s, &body.len, &body.cap, "grant_type=client_credentials", 29))
            st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        if (st == PS_OK && m->oauth_scope) {
            buf sc = {0};
            st = expand(p, m->oauth_scope, 0, &sc, NULL, "auth.scope", err);
            if (st == PS_OK && (rs_buf_put(&body.s, &body.len, &body.cap, "&scope=", 7) ||
                                rs_url_encode(&body.s, &body.len, &body.cap, sc.s)))
                st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            buf_free(&sc);
        }
        if (st == PS_OK && m->oauth_basic) {
            char *bh = NULL;
            st = basic_header(p, m->oauth_id, m->oauth_secret, &bh, err);
            if (st == PS_OK) {
                h.h[h.n++] = bh;
            }
        } else if (st == PS_OK) {
            buf id = {0}, sec = {0};
            st = expand(p, m->oauth_id, 0, &id, NULL, "auth.client_id", err);
            if (st == PS_OK)
                st = expand(p, m->oauth_secret, 0, &sec, NULL, "auth.client_secret", err);
            if (st == PS_OK && (rs_buf_put(&body.s, &body.len, &body.cap, "&client_id=", 11) ||
                                rs_url_encode(&body.s, &body.len, &body.cap, id.s) ||
                                rs_buf_put(&body.s, &body.len, &body.cap, "&client_secret=", 15) ||
                                rs_url_encode(&body.s, &body.len, &body.cap, sec.s)))
                st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            buf_free(&id);
            buf_free(&sec);
        }
    }
    snprintf(what, sizeof what, "logging in (%s %s)", method, url.s ? url.s : "");
    if (st == PS_OK)
        st = hdrs_add(&h, "Accept: application/json", err);
    if (st == PS_OK)
        st = send_once(p, NULL, method, url.s, &h, body.s ? &body : NULL, what, &root, err);
    if (body.s)
        memset(body.s, 0, body.len);
    buf_free(&body);
    buf_free(&url);
    hdrs_free(&h);
    if (st != PS_OK) {
        if (err->http_status == 400 || err->http_status == 401 || err->http_status == 403) {
            size_t l = strlen(err->message);
            snprintf(err->message + l, sizeof err->message - l,
                     ": the credentials were refused; check the connector's credential options "
                     "(%s)",
                     m->auth == RS_AUTH_LOGIN ? "username, password" : "client_id, client_secret");
            err->code = st = PS_ERR_AUTH;
        }
        return st;
    }
    const rs_node *tok = rs_pointer(root, m->token_ptr);
    if (!tok || tok->type != RS_STR || tok->n == 0 || tok->n > 8192)
        return ps_error_setf(err, PS_ERR_AUTH,
                             "%s: the answer has no token at %s (auth.token in %s)", what,
                             m->token_ptr, m->file);
    free(p->token);
    p->token = strdup(tok->text);
    if (!p->token)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    p->host->http_add_secret(p->http, p->token);
    return PS_OK;
}

/* The auth headers every data request carries. */
static ps_status auth_headers(rs *p, hdrs *h, ps_error *err)
{
    const rs_manifest *m = p->m;
    if (m->auth == RS_AUTH_BASIC) {
        char *bh = NULL;
        ps_status st = basic_header(p, m->basic_user, m->basic_pass, &bh, err);
        if (st != PS_OK)
            return st;
        h->h[h->n++] = bh;
        return hdrs_from(p, m->auth_headers, h, "auth.headers", err);
    }
    if (m->auth_headers)
        return hdrs_from(p, m->auth_headers, h, "auth.headers", err);
    if (m->auth == RS_AUTH_OAUTH2 ||
        (m->auth == RS_AUTH_HEADERS && !strcmp(m->auth_type, "bearer"))) {
        buf v = {0};
        ps_status st = expand(p, "Authorization: Bearer {token}", 0, &v, NULL, "auth", err);
        if (st != PS_OK)
            return st;
        h->h[h->n++] = v.s;
    }
    return PS_OK;
}

/* A data request (main or lookup), with one new login on a 401 when auth logs in; the
 * answer is parsed into pool (the run's when NULL). */
static ps_status data_request(rs *p, rs_pool *pool, const rs_endpoint *ep,
                              const char *url_override, const char *what, const rs_node **root,
                              ps_error *err)
{
    for (int attempt = 0;; attempt++) {
        buf url = {0}, body = {0};
        hdrs h = {0};
        ps_status st = PS_OK;
        if (url_override) {
            if (rs_buf_put(&url.s, &url.len, &url.cap, url_override, strlen(url_override)))
                st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        } else {
            st = build_url(p, ep, &url, err);
        }
        if (st == PS_OK)
            st = auth_headers(p, &h, err);
        if (st == PS_OK)
            st = hdrs_from(p, ep->headers, &h, ep->name, err);
        if (st == PS_OK)
            st = hdrs_add(&h, "Accept: application/json", err);
        if (st == PS_OK && ep->body && strcmp(ep->method, "GET") != 0) {
            st = render_json(p, ep->body, &body, ep->name, err);
            if (st == PS_OK)
                st = hdrs_add(&h, "Content-Type: application/json", err);
        }
        if (st == PS_OK)
            st = send_once(p, pool, ep->method, url.s, &h, body.s ? &body : NULL, what, root,
                           err);
        buf_free(&url);
        buf_free(&body);
        hdrs_free(&h);
        if (st == PS_ERR_AUTH && err->http_status == 401 && attempt == 0 &&
            (p->m->auth == RS_AUTH_LOGIN || p->m->auth == RS_AUTH_OAUTH2) && p->relogins < 10) {
            p->host->log(p->env, PS_LOG_INFO, "%s: HTTP 401, the token expired: logging in again",
                         what);
            p->relogins++;
            ps_error_clear(err);
            st = rs_login(p, err);
            if (st != PS_OK)
                return st;
            continue;
        }
        if (st == PS_ERR_AUTH && err->http_status == 401 && attempt > 0) {
            size_t l = strlen(err->message);
            snprintf(err->message + l, sizeof err->message - l,
                     " (after logging in again: the new token was refused too)");
        }
        return st;
    }
}

/* ---- pagination --------------------------------------------------------------------------- */

static void set_num(char *dst, size_t cap, long long v)
{
    snprintf(dst, cap, "%lld", v);
}

static ps_status set_text(char **dst, const char *s, ps_error *err)
{
    free(*dst);
    *dst = s ? strdup(s) : NULL;
    if (s && !*dst)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    return PS_OK;
}

void rs_pager_start(rs *p, rs_pager *g, const rs_endpoint *ep)
{
    rs_pager_free(p, g);
    g->ep = ep;
    g->page = ep->paging.start;
    g->offset = ep->paging.kind == RS_PAGE_OFFSET ? ep->paging.start : 0;
    free(p->cursor_var);
    free(p->after_var);
    p->cursor_var = p->after_var = NULL;
}

void rs_pager_free(rs *p, rs_pager *g)
{
    free(g->next_url);
    memset(g, 0, sizeof *g);
    free(p->cursor_var);
    free(p->after_var);
    p->cursor_var = p->after_var = NULL;
}

ps_status rs_pager_next(rs *p, rs_pager *g, rs_pool *pool, const rs_node **out, ps_error *err)
{
    const rs_endpoint *ep = g->ep;
    ps_status st = PS_OK;
    *out = NULL;
    if (g->done || !ep)
        return PS_END;
    const rs_paging *pg = &ep->paging;
    g->done = 1; /* until this page says there is another */
    set_num(p->limit_var, sizeof p->limit_var, (long long)p->page_size);
    {
        uint64_t n = ++g->n;
        if (n > (uint64_t)p->max_pages) {
            st = ps_error_setf(err, PS_ERR_DATA,
                               "%s: more than %lld pages (option max_pages); nothing was "
                               "committed: raise max_pages if the source is that large",
                               ep->name, (long long)p->max_pages);
            return st;
        }
        set_num(p->page_var, sizeof p->page_var, g->page);
        set_num(p->offset_var, sizeof p->offset_var, g->offset);
        char what[200];
        snprintf(what, sizeof what, "reading page %llu of %s", (unsigned long long)n,
                 strcmp(ep->name, "request") == 0 ? "the records" : ep->name);
        const rs_node *root = NULL;
        st = data_request(p, pool, ep, g->next_url, what, &root, err);
        if (st != PS_OK)
            return st;
        p->npages++;
        const rs_node *recs = ep->records[0] ? rs_pointer(root, ep->records) : root;
        if (!recs || (recs->type != RS_ARR && recs->type != RS_NULL)) {
            st = ps_error_setf(err, PS_ERR_SOURCE,
                               "%s: the answer has no list at '%s' (records in %s)%s", what,
                               ep->records, p->m->file, recs ? "" : "; is api_url right?");
            return st;
        }
        uint32_t got = recs->type == RS_ARR ? recs->n : 0;
        if (g->total + got > (uint64_t)p->max_records) {
            st = ps_error_setf(err, PS_ERR_DATA,
                               "%s: more than %lld records (option max_records); nothing was "
                               "committed: raise max_records or set a later start",
                               ep->name, (long long)p->max_records);
            return st;
        }
        g->total += got;
        *out = recs;
        /* what comes next, and whether to stop */
        int stop = pg->kind == RS_PAGE_NONE;
        if (pg->kind != RS_PAGE_NEXT_URL && pg->kind != RS_PAGE_CURSOR && got == 0)
            stop = 1;
        if (pg->short_stops && got < (uint64_t)p->page_size)
            stop = 1;
        if (pg->total) {
            const rs_node *t = rs_pointer(root, pg->total);
            const char *tt = rs_scalar_text(t);
            long long tot = tt && *tt ? strtoll(tt, NULL, 10) : -1;
            if (tot >= 0 && (long long)g->total >= tot)
                stop = 1;
        }
        switch (pg->kind) {
        case RS_PAGE_NEXT_URL: {
            const rs_node *nx = rs_pointer(root, pg->next);
            const char *u = rs_scalar_text(nx);
            if (!u || !*u || nx->type != RS_STR) {
                stop = 1;
                break;
            }
            if (g->next_url && strcmp(g->next_url, u) == 0) {
                st = ps_error_setf(err, PS_ERR_SOURCE,
                                   "%s: the next page's URL is this page's "
                                   "again (%s): stopping a loop",
                                   what, u);
                break;
            }
            if (!is_absolute(u)) {
                buf full = {0};
                const char *base = p->api_url ? p->api_url : "";
                size_t bl = strlen(base);
                while (bl && base[bl - 1] == '/')
                    bl--;
                if (rs_buf_put(&full.s, &full.len, &full.cap, base, bl) ||
                    (u[0] != '/' && rs_buf_put(&full.s, &full.len, &full.cap, "/", 1)) ||
                    rs_buf_put(&full.s, &full.len, &full.cap, u, strlen(u))) {
                    buf_free(&full);
                    st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
                    break;
                }
                free(g->next_url);
                g->next_url = full.s;
            } else {
                st = set_text(&g->next_url, u, err);
            }
            if (st == PS_OK && strlen(g->next_url) > RS_MAX_URL)
                st = ps_error_setf(err, PS_ERR_SOURCE,
                                   "%s: the next page's URL is longer than "
                                   "%d bytes",
                                   what, RS_MAX_URL);
            break;
        }
        case RS_PAGE_CURSOR: {
            const rs_node *cn = rs_pointer(root, pg->next);
            const char *cv = rs_scalar_text(cn);
            if (!cv || !*cv || got == 0) {
                stop = 1;
                break;
            }
            if (p->cursor_var && strcmp(p->cursor_var, cv) == 0) {
                st = ps_error_setf(err, PS_ERR_SOURCE,
                                   "%s: the answer's cursor did not change: stopping a loop", what);
                break;
            }
            if (strlen(cv) > 4096) {
                st = ps_error_setf(err, PS_ERR_SOURCE, "%s: the cursor is longer than 4096 bytes",
                                   what);
                break;
            }
            st = set_text(&p->cursor_var, cv, err);
            break;
        }
        case RS_PAGE_OFFSET:
            g->offset += got;
            break;
        case RS_PAGE_NUMBER:
            g->page++;
            break;
        case RS_PAGE_KEYSET: {
            const rs_node *last = recs->child;
            while (last && last->next)
                last = last->next;
            const char *lv = rs_scalar_text(rs_pointer(last, pg->from));
            if (!lv || !*lv) {
                st = ps_error_setf(err, PS_ERR_SOURCE,
                                   "%s: the last record has no '%s' to continue from "
                                   "(pagination.from in %s)",
                                   what, pg->from, p->m->file);
                break;
            }
            if (p->after_var && strcmp(p->after_var, lv) == 0) {
                st = ps_error_setf(err, PS_ERR_SOURCE,
                                   "%s: the page ends where the last one did ('%s'): stopping a "
                                   "loop",
                                   what, lv);
                break;
            }
            st = set_text(&p->after_var, lv, err);
            break;
        }
        default:
            break;
        }
        if (st != PS_OK)
            return st;
        g->done = stop;
    }
    return PS_OK;
}

ps_status rs_fetch_all(rs *p, const rs_endpoint *ep, int (*each)(void *ctx, const rs_node *recs),
                       void *ctx, uint64_t *total, ps_error *err)
{
    rs_pager g = {0};
    rs_pager_start(p, &g, ep);
    ps_status st;
    const rs_node *recs = NULL;
    while ((st = rs_pager_next(p, &g, p->run, &recs, err)) == PS_OK) {
        if (recs->type == RS_ARR && recs->n && each(ctx, recs) != 0) {
            st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            break;
        }
    }
    *total += g.total;
    rs_pager_free(p, &g);
    return st == PS_END ? PS_OK : st;
}


ps_status rs_fetch_first(rs *p, ps_error *err)
{
    const rs_node *root = NULL;
    set_num(p->page_var, sizeof p->page_var, p->m->main.paging.start);
    set_num(p->offset_var, sizeof p->offset_var, 0);
    set_num(p->limit_var, sizeof p->limit_var, (long long)p->page_size);
    return data_request(p, NULL, &p->m->main, NULL, "reading the first page", &root, err);
}
