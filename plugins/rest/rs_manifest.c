/* rest: reading and checking a connector manifest (see rs_manifest.h, docs/connectors.md). */
#include "rs_manifest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rs_time.h"
#include "rs_tmpl.h"
#include "rs_yaml.h"

typedef struct mctx {
    rs_manifest *m;
    int (*known)(const char *);
    const char *(*field_name)(int);
    char *msg;
    size_t cap;
} mctx;

static int bad(mctx *c, const rs_node *n, const char *fmt, ...);

static const char *const run_vars[] = {"since", "since_date", "until", "page",  "offset",
                                       "limit", "cursor",     "after", "token", NULL};

static const char *known_var(void *ctx, const char *name)
{
    mctx *c = ctx;
    for (size_t i = 0; run_vars[i]; i++)
        if (strcmp(run_vars[i], name) == 0)
            return "";
    return c->known(name) && strcmp(name, "manifest") != 0 ? "" : NULL;
}

/* Every {variable} in template t (or in the scalars under node n) must exist. */
static int check_tmpl(mctx *c, const rs_node *n, const char *t, const char *where)
{
    char *b = NULL, badv[80];
    size_t bl = 0, bc = 0;
    int rc = rs_tmpl_expand(t, known_var, c, 0, &b, &bl, &bc, NULL, badv, sizeof badv);
    free(b);
    if (rc == -1)
        return bad(c, n,
                   "%s: unknown variable {%s} (options such as {api_url}, {page_size}, "
                   "{username}, or since, since_date, until, page, offset, limit, cursor, "
                   "after, token)",
                   where, badv);
    return rc == 0 ? 0 : bad(c, n, "out of memory");
}

static int check_tree(mctx *c, const rs_node *n, const char *where)
{
    if (!n)
        return 0;
    if (n->type == RS_STR)
        return check_tmpl(c, n, n->text, where);
    for (const rs_node *k = n->child; k; k = k->next)
        if (check_tree(c, k, where) != 0)
            return -1;
    return 0;
}

static int bad(mctx *c, const rs_node *n, const char *fmt, ...)
{
    char what[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (n && n->line)
        snprintf(c->msg, c->cap, "%s:%u:%u: %s", c->m->file, n->line, n->col, what);
    else
        snprintf(c->msg, c->cap, "%s: %s", c->m->file, what);
    return -1;
}

/* Keys of obj must all be in the NULL-terminated list. */
/* 1 when template t uses {since} or {since_date}. */
static int uses_since(const char *t)
{
    return t && (strstr(t, "{since}") || strstr(t, "{since_date}"));
}

/* 1 when a template tree (keys and scalars) uses {since} or {since_date}. */
static int tree_uses_since(const rs_node *n)
{
    if (!n)
        return 0;
    if (uses_since(n->key) || uses_since(n->text))
        return 1;
    for (const rs_node *k = n->child; k; k = k->next)
        if (tree_uses_since(k))
            return 1;
    return 0;
}

static int only_keys(mctx *c, const rs_node *obj, const char *where, const char *const *ok)
{
    for (const rs_node *k = obj->child; k; k = k->next) {
        int hit = 0;
        for (size_t i = 0; ok[i] && !hit; i++)
            hit = strcmp(k->key, ok[i]) == 0;
        if (!hit) {
            char list[400] = "";
            size_t l = 0;
            for (size_t i = 0; ok[i]; i++)
                l += (size_t)snprintf(list + l, l < sizeof list ? sizeof list - l : 0, "%s%s",
                                      i ? ", " : "", ok[i]);
            return bad(c, k, "%s: unknown key '%s' (valid: %s)", where, k->key, list);
        }
    }
    return 0;
}

/* A scalar text member (NULL when absent); -1 when present but not a scalar. */
static int text_of(mctx *c, const rs_node *obj, const char *key, const char *where,
                   const char **out)
{
    const rs_node *n = rs_obj_get(obj, key);
    *out = NULL;
    if (!n)
        return 0;
    if (n->type != RS_STR)
        return bad(c, n, "%s.%s must be a text", where, key);
    *out = n->text;
    return 0;
}

static int is_pointer(const char *s)
{
    return s && (s[0] == '/' || s[0] == '\0');
}

static int pointer_of(mctx *c, const rs_node *obj, const char *key, const char *where,
                      const char **out)
{
    if (text_of(c, obj, key, where, out) != 0)
        return -1;
    if (*out && !is_pointer(*out))
        return bad(c, rs_obj_get(obj, key),
                   "%s.%s must be a JSON pointer such as /results or /data/items, got '%s'", where,
                   key, *out);
    return 0;
}

static int map_of_scalars(mctx *c, const rs_node *n, const char *where)
{
    if (!n)
        return 0;
    if (n->type != RS_OBJ)
        return bad(c, n, "%s must be a mapping of name: value", where);
    for (const rs_node *k = n->child; k; k = k->next)
        if (!rs_is_scalar(k) && k->type != RS_OBJ && k->type != RS_ARR)
            return bad(c, k, "%s.%s: unsupported value", where, k->key);
    return 0;
}

static const char *const paging_keys[] = {
    "type", "next", "cursor", "from", "total", "start", "stop_on_short_page", NULL};

static int parse_paging(mctx *c, const rs_node *n, rs_paging *pg, const char *where)
{
    memset(pg, 0, sizeof *pg);
    pg->start = 1;
    if (!n)
        return 0;
    if (n->type != RS_OBJ)
        return bad(c, n, "%s must be a mapping", where);
    if (only_keys(c, n, where, paging_keys) != 0)
        return -1;
    const char *type, *s;
    if (text_of(c, n, "type", where, &type) != 0)
        return -1;
    static const char *const names[] = {"none", "next_url", "cursor", "offset",
                                        "page", "keyset",   NULL};
    int k = -1;
    for (int i = 0; type && names[i]; i++)
        if (strcmp(type, names[i]) == 0)
            k = i;
    if (k < 0)
        return bad(c, rs_obj_get(n, "type") ? rs_obj_get(n, "type") : n,
                   "%s.type must be one of: none, next_url, cursor, offset, page, keyset%s%s%s",
                   where, type ? " (got '" : "", type ? type : "", type ? "')" : "");
    pg->kind = (rs_page_kind)k;
    if (pointer_of(c, n, k == RS_PAGE_CURSOR ? "cursor" : "next", where, &pg->next) != 0 ||
        pointer_of(c, n, "from", where, &pg->from) != 0 ||
        pointer_of(c, n, "total", where, &pg->total) != 0)
        return -1;
    if (k == RS_PAGE_NEXT_URL && !pg->next)
        return bad(c, n,
                   "%s: type next_url needs `next`: the pointer to the next page's URL "
                   "(e.g. /next or /_links/next/href)",
                   where);
    if (k == RS_PAGE_CURSOR && !pg->next)
        return bad(c, n,
                   "%s: type cursor needs `cursor`: the pointer to the next cursor in the "
                   "answer (e.g. /cursor)",
                   where);
    if (k == RS_PAGE_KEYSET && !pg->from)
        return bad(c, n,
                   "%s: type keyset needs `from`: the record field whose last value "
                   "starts the next page (e.g. /id)",
                   where);
    pg->start = k == RS_PAGE_OFFSET ? 0 : 1;
    if (text_of(c, n, "start", where, &s) != 0)
        return -1;
    if (s) {
        char *end;
        pg->start = strtoll(s, &end, 10);
        if (*end || end == s || pg->start < 0 || pg->start > 1000000)
            return bad(c, rs_obj_get(n, "start"), "%s.start must be a whole number from 0", where);
    }
    pg->short_stops = k == RS_PAGE_OFFSET || k == RS_PAGE_NUMBER || k == RS_PAGE_KEYSET;
    if (text_of(c, n, "stop_on_short_page", where, &s) != 0)
        return -1;
    if (s) {
        if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
            return bad(c, rs_obj_get(n, "stop_on_short_page"),
                       "%s.stop_on_short_page must be true or false", where);
        pg->short_stops = strcmp(s, "true") == 0;
    }
    return 0;
}

static const char *const endpoint_keys[] = {"method",  "path",       "query", "body", "headers",
                                            "records", "pagination", "key",   "from", NULL};

static int parse_endpoint(mctx *c, const rs_node *n, const char *where, rs_endpoint *ep,
                          const rs_endpoint *inherit)
{
    memset(ep, 0, sizeof *ep);
    ep->paging.start = 1;
    ep->name = where;
    if (!n || n->type != RS_OBJ)
        return bad(c, n, "%s must be a mapping with at least `path`", where);
    if (only_keys(c, n, where, endpoint_keys) != 0)
        return -1;
    if (text_of(c, n, "method", where, &ep->method) != 0 ||
        text_of(c, n, "path", where, &ep->path) != 0 ||
        pointer_of(c, n, "records", where, &ep->records) != 0)
        return -1;
    if (!ep->path)
        return bad(c, n, "%s: `path` is missing (e.g. path: /transactions/)", where);
    if (!ep->method)
        ep->method = "GET";
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", NULL};
    int okm = 0;
    for (int i = 0; methods[i]; i++)
        okm |= strcmp(ep->method, methods[i]) == 0;
    if (!okm)
        return bad(c, rs_obj_get(n, "method"), "%s.method must be GET, POST, PUT or PATCH", where);
    ep->query = rs_obj_get(n, "query");
    ep->body = rs_obj_get(n, "body");
    ep->headers = rs_obj_get(n, "headers");
    if (check_tmpl(c, rs_obj_get(n, "path"), ep->path, where) != 0 ||
        check_tree(c, ep->query, where) != 0 || check_tree(c, ep->body, where) != 0 ||
        check_tree(c, ep->headers, where) != 0)
        return -1;
    char w[128];
    snprintf(w, sizeof w, "%s.query", where);
    if (map_of_scalars(c, ep->query, w) != 0)
        return -1;
    snprintf(w, sizeof w, "%s.headers", where);
    if (map_of_scalars(c, ep->headers, w) != 0)
        return -1;
    const rs_node *pg = rs_obj_get(n, "pagination");
    snprintf(w, sizeof w, "%s.pagination", where);
    if (pg) {
        if (parse_paging(c, pg, &ep->paging, w) != 0)
            return -1;
    } else if (inherit) {
        ep->paging = inherit->paging;
    }
    if (!ep->records && inherit)
        ep->records = inherit->records;
    if (!ep->records)
        ep->records = "";
    return 0;
}

/* ---- field specs ------------------------------------------------------------------------- */

static const char *const spec_keys[] = {"path",   "option", "value", "concat", "first",
                                        "lookup", "key",    "field", "map",    NULL};

static int check_spec(mctx *c, const rs_node *n, const char *where, int depth)
{
    if (depth > 8)
        return bad(c, n, "%s: nested too deeply", where);
    if (n->type == RS_STR && n->text[0] == '/')
        return 0;
    if (n->type != RS_OBJ)
        return bad(c, n,
                   "%s: expected a JSON pointer (/amount) or a mapping with one of path, option, "
                   "value, concat, first, lookup; for a fixed text write {value: '%s'}",
                   where, n->type == RS_STR ? n->text : "...");
    if (only_keys(c, n, where, spec_keys) != 0)
        return -1;
    static const char *const sources[] = {"path",  "option", "value", "concat",
                                          "first", "lookup", NULL};
    int nsrc = 0;
    for (int i = 0; sources[i]; i++)
        nsrc += rs_obj_get(n, sources[i]) != NULL;
    if (nsrc != 1)
        return bad(c, n, "%s: give exactly one of path, option, value, concat, first, lookup",
                   where);
    const char *s;
    if (pointer_of(c, n, "path", where, &s) != 0)
        return -1;
    if (text_of(c, n, "option", where, &s) != 0)
        return -1;
    if (s && !c->known(s))
        return bad(c, rs_obj_get(n, "option"), "%s: no option named '%s'", where, s);
    if (text_of(c, n, "value", where, &s) != 0)
        return -1;
    if (s && check_tmpl(c, rs_obj_get(n, "value"), s, where) != 0)
        return -1;
    const rs_node *l;
    if ((l = rs_obj_get(n, "lookup"))) {
        const char *key, *field;
        if (l->type != RS_STR)
            return bad(c, l, "%s.lookup must name a lookup", where);
        int found = 0;
        for (size_t i = 0; i < c->m->nlookups; i++)
            found |= strcmp(c->m->lookups[i].name, l->text) == 0;
        if (!found)
            return bad(c, l, "%s: no lookup named '%s' under `lookups`", where, l->text);
        /* key: a pointer into this record, or a spec (a chained lookup: the key comes from
         * another lookup's item) */
        const rs_node *kn = rs_obj_get(n, "key");
        key = NULL;
        if (kn && kn->type == RS_OBJ) {
            if (check_spec(c, kn, where, depth + 1) != 0)
                return -1;
            key = "";
        } else if (pointer_of(c, n, "key", where, &key) != 0) {
            return -1;
        }
        if (pointer_of(c, n, "field", where, &field) != 0)
            return -1;
        if (!key || !field)
            return bad(c, n,
                       "%s: a lookup needs `key` (this record's field to look up) and "
                       "`field` (what to take from the item found)",
                       where);
    } else if (rs_obj_get(n, "key") || rs_obj_get(n, "field")) {
        return bad(c, n, "%s: `key` and `field` belong to a lookup", where);
    }
    const rs_node *list = rs_obj_get(n, "concat");
    if (!list)
        list = rs_obj_get(n, "first");
    if (list) {
        if (list->type != RS_ARR || list->n == 0 || list->n > 16)
            return bad(c, list, "%s: concat and first take a list of 1 to 16 parts", where);
        for (const rs_node *p = list->child; p; p = p->next) {
            if (rs_obj_get(n, "concat") && p->type == RS_STR && p->text[0] != '/')
                continue; /* literal text in a concatenation */
            if (check_spec(c, p, where, depth + 1) != 0)
                return -1;
        }
    }
    const rs_node *map = rs_obj_get(n, "map");
    if (map) {
        if (map->type != RS_OBJ || map->n == 0)
            return bad(c, map, "%s.map must be a mapping of source value: output value", where);
        for (const rs_node *k = map->child; k; k = k->next)
            if (!rs_is_scalar(k))
                return bad(c, k, "%s.map.%s must be a text", where, k->key);
    }
    return 0;
}

/* ---- top level --------------------------------------------------------------------------- */

static const char *const top_keys[] = {
    "connector", "description", "options", "required",    "auth",    "request", "pagination",
    "records",   "flatten",     "filters", "incremental", "lookups", "fields",  NULL};
static const char *const auth_keys[] = {"type",          "headers", "username",         "password",
                                        "login",         "token",   "token_url",        "client_id",
                                        "client_secret", "scope",   "send_credentials", NULL};

static int parse_auth(mctx *c, const rs_node *a)
{
    rs_manifest *m = c->m;
    if (!a) {
        m->auth = RS_AUTH_NONE;
        m->auth_type = "none";
        return 0;
    }
    if (a->type != RS_OBJ)
        return bad(c, a, "auth must be a mapping with `type`");
    if (only_keys(c, a, "auth", auth_keys) != 0 || text_of(c, a, "type", "auth", &m->auth_type))
        return -1;
    const char *t = m->auth_type ? m->auth_type : "";
    m->auth_headers = rs_obj_get(a, "headers");
    if (map_of_scalars(c, m->auth_headers, "auth.headers") != 0 ||
        check_tree(c, m->auth_headers, "auth.headers") != 0)
        return -1;
    static const char *const tk[] = {"username",      "password", "token_url", "client_id",
                                     "client_secret", "scope",    NULL};
    for (size_t i = 0; tk[i]; i++) {
        const rs_node *v = rs_obj_get(a, tk[i]);
        if (v && v->type == RS_STR && check_tmpl(c, v, v->text, "auth") != 0)
            return -1;
    }
    if (strcmp(t, "none") == 0) {
        m->auth = RS_AUTH_NONE;
    } else if (strcmp(t, "header") == 0 || strcmp(t, "bearer") == 0 || strcmp(t, "api_key") == 0) {
        m->auth = RS_AUTH_HEADERS;
        if (!m->auth_headers && strcmp(t, "bearer") != 0)
            return bad(c, a, "auth type %s needs `headers` (e.g. X-API-KEY: \"{api_key}\")", t);
    } else if (strcmp(t, "basic") == 0) {
        m->auth = RS_AUTH_BASIC;
        if (text_of(c, a, "username", "auth", &m->basic_user) ||
            text_of(c, a, "password", "auth", &m->basic_pass))
            return -1;
        if (!m->basic_user)
            m->basic_user = "{username}";
        if (!m->basic_pass)
            m->basic_pass = "{password}";
    } else if (strcmp(t, "token_login") == 0) {
        m->auth = RS_AUTH_LOGIN;
        if (parse_endpoint(c, rs_obj_get(a, "login"), "auth.login", &m->login, NULL) != 0)
            return -1;
        if (pointer_of(c, a, "token", "auth", &m->token_ptr) != 0)
            return -1;
        if (!m->token_ptr)
            return bad(c, a,
                       "auth type token_login needs `token`: the pointer to the token in "
                       "the login answer (e.g. /token)");
        if (!m->auth_headers)
            return bad(c, a,
                       "auth type token_login needs `headers` carrying {token} (e.g. "
                       "Authorization: \"Token {token}\")");
    } else if (strcmp(t, "oauth2") == 0) {
        const char *send;
        m->auth = RS_AUTH_OAUTH2;
        if (text_of(c, a, "token_url", "auth", &m->oauth_url) ||
            text_of(c, a, "client_id", "auth", &m->oauth_id) ||
            text_of(c, a, "client_secret", "auth", &m->oauth_secret) ||
            text_of(c, a, "scope", "auth", &m->oauth_scope) ||
            text_of(c, a, "send_credentials", "auth", &send) ||
            pointer_of(c, a, "token", "auth", &m->token_ptr))
            return -1;
        if (!m->oauth_url)
            return bad(c, a, "auth type oauth2 needs `token_url` (e.g. /oauth/token)");
        if (!m->oauth_id)
            m->oauth_id = "{client_id}";
        if (!m->oauth_secret)
            m->oauth_secret = "{client_secret}";
        if (!m->token_ptr)
            m->token_ptr = "/access_token";
        if (send && strcmp(send, "basic") != 0 && strcmp(send, "body") != 0)
            return bad(c, rs_obj_get(a, "send_credentials"),
                       "auth.send_credentials must be basic or body");
        m->oauth_basic = !send || strcmp(send, "basic") == 0;
    } else {
        return bad(c, rs_obj_get(a, "type") ? rs_obj_get(a, "type") : a,
                   "auth.type must be one of: none, header, bearer, basic, api_key, "
                   "token_login, oauth2%s%s%s",
                   *t ? " (got '" : "", t, *t ? "')" : "");
    }
    return 0;
}

static int parse_filters(mctx *c, const rs_node *f)
{
    rs_manifest *m = c->m;
    if (!f)
        return 0;
    if (f->type != RS_ARR)
        return bad(c, f, "filters must be a list of {path: /x, equals: V} items");
    static const char *const keys[] = {"path",   "equals",  "not_equals", "in",
                                       "not_in", "present", NULL};
    for (const rs_node *it = f->child; it; it = it->next) {
        if (m->nfilters == RS_MAX_FILTERS)
            return bad(c, it, "more than %d filters", RS_MAX_FILTERS);
        if (it->type != RS_OBJ)
            return bad(c, it, "a filter is a mapping {path: /x, equals: V}");
        if (only_keys(c, it, "filters", keys) != 0)
            return -1;
        rs_filter *x = &m->filters[m->nfilters];
        if (pointer_of(c, it, "path", "filters", &x->path) != 0)
            return -1;
        if (!x->path)
            return bad(c, it, "a filter needs `path`");
        int nop = 0;
        const rs_node *v;
        if ((v = rs_obj_get(it, "equals"))) {
            x->op = RS_F_EQ;
            x->values = v;
            nop++;
        }
        if ((v = rs_obj_get(it, "not_equals"))) {
            x->op = RS_F_NE;
            x->values = v;
            nop++;
        }
        if ((v = rs_obj_get(it, "in"))) {
            x->op = RS_F_IN;
            x->values = v;
            nop++;
        }
        if ((v = rs_obj_get(it, "not_in"))) {
            x->op = RS_F_NOT_IN;
            x->values = v;
            nop++;
        }
        if ((v = rs_obj_get(it, "present"))) {
            if (v->type != RS_STR || (strcmp(v->text, "true") && strcmp(v->text, "false")))
                return bad(c, v, "filters: present must be true or false");
            x->op = strcmp(v->text, "true") == 0 ? RS_F_PRESENT : RS_F_ABSENT;
            nop++;
        }
        if (nop != 1)
            return bad(c, it,
                       "a filter needs exactly one of equals, not_equals, in, not_in, "
                       "present");
        if ((x->op == RS_F_IN || x->op == RS_F_NOT_IN) && x->values->type != RS_ARR)
            return bad(c, x->values, "filters: in and not_in take a list");
        if ((x->op == RS_F_EQ || x->op == RS_F_NE) && !rs_is_scalar(x->values))
            return bad(c, x->values, "filters: equals and not_equals take one value");
        m->nfilters++;
    }
    return 0;
}

static int parse_lookups(mctx *c, const rs_node *l)
{
    rs_manifest *m = c->m;
    if (!l)
        return 0;
    if (l->type != RS_OBJ)
        return bad(c, l, "lookups must be a mapping of name: {path, key, ...}");
    for (const rs_node *it = l->child; it; it = it->next) {
        if (m->nlookups == RS_MAX_LOOKUPS)
            return bad(c, it, "more than %d lookups", RS_MAX_LOOKUPS);
        rs_lookup_def *d = &m->lookups[m->nlookups];
        char *where = rs_pool_alloc(m->pool, 160);
        if (!where)
            return bad(c, it, "out of memory");
        snprintf(where, 160, "lookups.%s", it->key);
        d->name = it->key;
        if (it->type != RS_OBJ)
            return bad(c, it, "%s must be a mapping", where);
        const char *from;
        if (text_of(c, it, "from", where, &from) != 0 ||
            pointer_of(c, it, "key", where, &d->key) != 0)
            return -1;
        if (!d->key)
            return bad(c, it,
                       "%s needs `key`: the pointer in each item that records are "
                       "matched on (e.g. /customer)",
                       where);
        if (from && strcmp(from, "self") != 0)
            return bad(c, rs_obj_get(it, "from"), "%s.from can only be self", where);
        d->self = from != NULL;
        if (d->self) {
            static const char *const sk[] = {"from", "key", NULL};
            if (only_keys(c, it, where, sk) != 0)
                return -1;
        } else if (parse_endpoint(c, it, where, &d->ep, &m->main) != 0) {
            return -1;
        }
        m->nlookups++;
    }
    return 0;
}

static int parse_fields(mctx *c, const rs_node *f)
{
    rs_manifest *m = c->m;
    if (!f || f->type != RS_OBJ)
        return bad(c, f, "`fields` is missing: map model fields to the API's (ID: /id, ...)");
    for (const rs_node *k = f->child; k; k = k->next) {
        int idx = -1;
        for (int i = 0; i < PS_FIELD_COUNT; i++)
            if (strcmp(c->field_name(i), k->key) == 0)
                idx = i;
        if (idx < 0)
            return bad(c, k,
                       "fields: '%s' is not a field of the payment model (see "
                       "docs/data-model.md; names are UPPER_SNAKE, e.g. PAYMENT_AMOUNT)",
                       k->key);
        char where[80];
        snprintf(where, sizeof where, "fields.%s", k->key);
        if (check_spec(c, k, where, 0) != 0)
            return -1;
        m->fields[idx] = k;
    }
    return 0;
}

int rs_manifest_load(const char *path, int (*known)(const char *name),
                     const char *(*field_name)(int field), rs_manifest **out, char *msg, size_t cap)
{
    *out = NULL;
    rs_manifest *m = calloc(1, sizeof *m);
    rs_pool *pool = rs_pool_new();
    if (!m || !pool) {
        free(m);
        rs_pool_free(pool);
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    m->pool = pool;
    m->timestamp_lag_ms = -1;
    m->file = rs_pool_strndup(pool, path, strlen(path));
    mctx c = {.m = m, .known = known, .field_name = field_name, .msg = msg, .cap = cap};
    const rs_node *root = rs_yaml_load(pool, path, msg, cap);
    int rc = root ? 0 : -1;
    if (rc == 0)
        rc = only_keys(&c, root, "manifest", top_keys);
    if (rc == 0)
        rc = text_of(&c, root, "connector", "manifest", &m->connector) ||
             text_of(&c, root, "description", "manifest", &m->description);
    if (rc == 0) {
        m->defaults = rs_obj_get(root, "options");
        if (m->defaults && m->defaults->type != RS_OBJ)
            rc = bad(&c, m->defaults, "options must be a mapping of option: default");
        for (const rs_node *k = m->defaults ? m->defaults->child : NULL; rc == 0 && k;
             k = k->next) {
            if (!known(k->key) || strcmp(k->key, "manifest") == 0)
                rc = bad(&c, k,
                         "options: '%s' is not an option of the rest provider (see "
                         "docs/connectors.md)",
                         k->key);
            else if (!rs_is_scalar(k) || k->type == RS_NULL)
                rc = bad(&c, k, "options.%s must be a text", k->key);
        }
    }
    const rs_node *req = rc == 0 ? rs_obj_get(root, "required") : NULL;
    if (req) {
        if (req->type != RS_ARR)
            rc = bad(&c, req, "required must be a list of option names");
        for (const rs_node *k = req->child; rc == 0 && k; k = k->next) {
            if (k->type != RS_STR || !known(k->text))
                rc = bad(&c, k, "required: '%s' is not an option of the rest provider",
                         k->type == RS_STR ? k->text : "?");
            else if (m->nrequired == RS_MAX_REQUIRED)
                rc = bad(&c, k, "required: more than %d options", RS_MAX_REQUIRED);
            else
                m->required[m->nrequired++] = k->text;
        }
    }
    if (rc == 0)
        rc = parse_auth(&c, rs_obj_get(root, "auth"));
    if (rc == 0) {
        const rs_node *r = rs_obj_get(root, "request");
        rc = parse_endpoint(&c, r, "request", &m->main, NULL);
        const rs_node *pg = rs_obj_get(root, "pagination");
        if (rc == 0 && pg && rs_obj_get(r, "pagination"))
            rc = bad(&c, pg, "pagination is given twice (top level and under request)");
        if (rc == 0 && pg)
            rc = parse_paging(&c, pg, &m->main.paging, "pagination");
        if (rc == 0 && rs_obj_get(root, "records")) {
            if (rs_obj_get(r, "records"))
                rc = bad(&c, rs_obj_get(root, "records"), "records is given twice");
            else
                rc = pointer_of(&c, root, "records", "manifest", &m->main.records);
        }
    }
    if (rc == 0)
        rc = pointer_of(&c, root, "flatten", "manifest", &m->flatten);
    if (rc == 0 && m->flatten && !m->flatten[0])
        rc = bad(&c, rs_obj_get(root, "flatten"),
                 "flatten must point to a list inside each item, such as /meters");
    if (rc == 0)
        rc = parse_filters(&c, rs_obj_get(root, "filters"));
    if (rc == 0) {
        const rs_node *inc = rs_obj_get(root, "incremental");
        if (inc) {
            static const char *const ik[] = {"field", "timestamp_lag", NULL};
            const char *lag = NULL;
            if (inc->type != RS_OBJ)
                rc = bad(&c, inc, "incremental must be a mapping {field: /timestamp}");
            else
                rc = only_keys(&c, inc, "incremental", ik) ||
                     pointer_of(&c, inc, "field", "incremental", &m->cursor_field) ||
                     text_of(&c, inc, "timestamp_lag", "incremental", &lag);
            if (rc == 0 && lag && rs_duration_parse(lag, &m->timestamp_lag_ms) != 0)
                rc = bad(&c, rs_obj_get(inc, "timestamp_lag"),
                         "incremental.timestamp_lag must be a duration such as 1d or 12h, got '%s'",
                         lag);
            if (rc == 0 && !m->cursor_field)
                rc = bad(&c, inc,
                         "incremental needs `field`: the record's time field that "
                         "advances the cursor");
        }
    }
    if (rc == 0)
        m->main_uses_since = uses_since(m->main.path) || tree_uses_since(m->main.query) ||
                             tree_uses_since(m->main.body) || tree_uses_since(m->main.headers);
    if (rc == 0)
        rc = parse_lookups(&c, rs_obj_get(root, "lookups"));
    if (rc == 0)
        rc = parse_fields(&c, rs_obj_get(root, "fields"));
    if (rc != 0) {
        rs_manifest_free(m);
        return -1;
    }
    if (!m->connector)
        m->connector = "rest";
    *out = m;
    return 0;
}

void rs_manifest_free(rs_manifest *m)
{
    if (!m)
        return;
    rs_pool_free(m->pool);
    free(m);
}

const char *rs_manifest_default(const rs_manifest *m, const char *name)
{
    const rs_node *n = rs_obj_get(m->defaults, name);
    return n ? rs_scalar_text(n) : NULL;
}
