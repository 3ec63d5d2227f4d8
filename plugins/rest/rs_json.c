/* rest: a bounded JSON tree keeping exact number text (see rs_json.h). */
#include "rs_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_lex.h"

#define RS_CHUNK (64 * 1024)

typedef struct rs_chunk {
    struct rs_chunk *next;
    size_t used, cap;
    _Alignas(8) unsigned char data[];
} rs_chunk;

struct rs_pool {
    rs_chunk *head;
    size_t total;
};

rs_pool *rs_pool_new(void)
{
    return calloc(1, sizeof(rs_pool));
}

void rs_pool_free(rs_pool *p)
{
    if (!p)
        return;
    rs_chunk *c = p->head;
    while (c) {
        rs_chunk *n = c->next;
        free(c);
        c = n;
    }
    free(p);
}

size_t rs_pool_used(const rs_pool *p)
{
    return p ? p->total : 0;
}

void *rs_pool_alloc(rs_pool *p, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    if (size == 0)
        size = 8;
    rs_chunk *c = p->head;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > RS_CHUNK ? size : RS_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = p->head;
        p->head = c;
    }
    void *r = c->data + c->used;
    c->used += size;
    p->total += size;
    memset(r, 0, size);
    return r;
}

char *rs_pool_strndup(rs_pool *p, const char *s, size_t n)
{
    char *t = rs_pool_alloc(p, n + 1);
    if (t) {
        if (n)
            memcpy(t, s, n);
        t[n] = '\0';
    }
    return t;
}

/* ---- parser ------------------------------------------------------------------------------ */

typedef struct parser {
    rs_pool *pool;
    const char *s;
    size_t len, i;
    const char *why;
    int depth;
} parser;

static void ws(parser *ps)
{
    ps->i = ps_jlex_skip_ws(ps->s, ps->len, ps->i);
}

static rs_node *fail(parser *ps, const char *why)
{
    if (!ps->why)
        ps->why = why;
    return NULL;
}

/* A token checked by json_lex: end (0 = error: *why and *at, read after the call that set
 * them) becomes ps->i; -1 on an error. */
static int took(parser *ps, size_t end, const char *const *why, const size_t *at)
{
    if (!end) {
        ps->i = *at;
        fail(ps, *why);
        return -1;
    }
    ps->i = end;
    return 0;
}

/* Parses a string at s[i] == '"'; *out is its decoded text in the pool (no NUL byte). */
static int string(parser *ps, const char **out, uint32_t *outlen)
{
    size_t start = ps->i + 1;
    const char *why = NULL;
    size_t at = 0;
    int esc;
    if (took(ps, ps_jlex_string(ps->s, ps->len, ps->i, &esc, &why, &at), &why, &at) != 0)
        return -1;
    size_t end = ps->i - 1; /* the closing quote */
    if (end - start > UINT32_MAX / 2)
        return ps->i = start, fail(ps, "string too long"), -1;
    char *o = rs_pool_alloc(ps->pool, end - start + 1);
    if (!o)
        return fail(ps, "out of memory"), -1;
    size_t k = end - start;
    if (esc) {
        k = ps_jlex_unescape(ps->s, start, end, o);
        if (memchr(o, '\0', k))
            return ps->i = start, fail(ps, "\\u0000 in a string"), -1;
    } else if (k)
        memcpy(o, ps->s + start, k);
    o[k] = '\0';
    *out = o;
    *outlen = (uint32_t)k;
    return 0;
}

static rs_node *value(parser *ps);

static rs_node *number(parser *ps)
{
    size_t st = ps->i, at = 0;
    const char *why = NULL;
    if (took(ps, ps_jlex_number(ps->s, ps->len, st, &why, &at), &why, &at) != 0)
        return NULL;
    if (ps->i - st > 400)
        return ps->i = st, fail(ps, "number too long");
    rs_node *n = rs_pool_alloc(ps->pool, sizeof *n);
    if (!n || !(n->text = rs_pool_strndup(ps->pool, ps->s + st, ps->i - st)))
        return fail(ps, "out of memory");
    n->type = RS_NUM;
    n->n = (uint32_t)(ps->i - st);
    return n;
}

static rs_node *container(parser *ps, int obj)
{
    if (++ps->depth > RS_JSON_MAX_DEPTH)
        return fail(ps, "nested too deeply");
    rs_node *n = rs_pool_alloc(ps->pool, sizeof *n);
    if (!n)
        return fail(ps, "out of memory");
    n->type = obj ? RS_OBJ : RS_ARR;
    ps->i++;
    ws(ps);
    rs_node **tail = &n->child;
    char close = obj ? '}' : ']';
    if (ps->i < ps->len && ps->s[ps->i] == close) {
        ps->i++;
        ps->depth--;
        return n;
    }
    for (;;) {
        const char *key = NULL;
        uint32_t klen;
        ws(ps);
        if (obj) {
            if (ps->i >= ps->len)
                return fail(ps, "unexpected end of input");
            if (ps->s[ps->i] != '"')
                return fail(ps, "expected a key");
            if (string(ps, &key, &klen) != 0)
                return NULL;
            ws(ps);
            if (ps->i >= ps->len || ps->s[ps->i] != ':')
                return fail(ps, ps->i >= ps->len ? "unexpected end of input" : "expected ':'");
            ps->i++;
        }
        rs_node *c = value(ps);
        if (!c)
            return NULL;
        c->key = key;
        *tail = c;
        tail = &c->next;
        if (n->n == UINT32_MAX)
            return fail(ps, "too many elements");
        n->n++;
        ws(ps);
        if (ps->i >= ps->len)
            return fail(ps, "unexpected end of input");
        if (ps->s[ps->i] == ',') {
            ps->i++;
            continue;
        }
        if (ps->s[ps->i] == close) {
            ps->i++;
            ps->depth--;
            return n;
        }
        return fail(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static rs_node *literal(parser *ps, const char *word, rs_type t)
{
    const char *why = NULL;
    size_t at = 0;
    if (took(ps, ps_jlex_literal(ps->s, ps->len, ps->i, word, &why, &at), &why, &at) != 0)
        return NULL;
    rs_node *n = rs_pool_alloc(ps->pool, sizeof *n);
    if (!n)
        return fail(ps, "out of memory");
    n->type = (uint8_t)t;
    return n;
}

static rs_node *value(parser *ps)
{
    ws(ps);
    if (ps->i >= ps->len)
        return fail(ps, "unexpected end of input");
    char c = ps->s[ps->i];
    switch (c) {
    case '{':
        return container(ps, 1);
    case '[':
        return container(ps, 0);
    case 't':
        return literal(ps, "true", RS_TRUE);
    case 'f':
        return literal(ps, "false", RS_FALSE);
    case 'n':
        return literal(ps, "null", RS_NULL);
    case '"': {
        rs_node *n = rs_pool_alloc(ps->pool, sizeof *n);
        if (!n)
            return fail(ps, "out of memory");
        n->type = RS_STR;
        if (string(ps, &n->text, &n->n) != 0)
            return NULL;
        return n;
    }
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return number(ps);
        return fail(ps, "unexpected character");
    }
}

rs_node *rs_json_parse(rs_pool *p, const char *s, size_t len, char *why, size_t whycap)
{
    parser ps = {.pool = p, .s = s, .len = len};
    rs_node *root = value(&ps);
    if (root) {
        ws(&ps);
        if (ps.i < ps.len) {
            root = NULL;
            fail(&ps, "text after the JSON value");
        }
    }
    if (!root && why)
        snprintf(why, whycap, "%s at byte %zu of %zu", ps.why ? ps.why : "invalid JSON", ps.i, len);
    return root;
}

/* ---- access ------------------------------------------------------------------------------ */

const rs_node *rs_obj_get(const rs_node *obj, const char *key)
{
    const rs_node *hit = NULL;
    if (!obj || obj->type != RS_OBJ)
        return NULL;
    for (const rs_node *c = obj->child; c; c = c->next)
        if (c->key && strcmp(c->key, key) == 0)
            hit = c;
    return hit;
}

const rs_node *rs_pointer(const rs_node *root, const char *ptr)
{
    const rs_node *n = root;
    char seg[256];
    if (!ptr)
        return NULL;
    while (n && *ptr) {
        if (*ptr != '/')
            return NULL;
        ptr++;
        size_t k = 0;
        while (*ptr && *ptr != '/') {
            char c = *ptr++;
            if (c == '~' && (*ptr == '0' || *ptr == '1'))
                c = *ptr++ == '0' ? '~' : '/';
            if (k + 1 >= sizeof seg)
                return NULL;
            seg[k++] = c;
        }
        seg[k] = '\0';
        if (n->type == RS_OBJ) {
            n = rs_obj_get(n, seg);
        } else if (n->type == RS_ARR && k > 2 && seg[0] == '[' && seg[k - 1] == ']' &&
                   strchr(seg, '=')) {
            /* [key=value]: the first item whose member key is the scalar value */
            seg[k - 1] = '\0';
            char *eq = strchr(seg, '=');
            *eq = '\0';
            const rs_node *c = n->child;
            for (; c; c = c->next) {
                const char *t = c->type == RS_OBJ ? rs_scalar_text(rs_obj_get(c, seg + 1)) : NULL;
                if (t && strcmp(t, eq + 1) == 0)
                    break;
            }
            n = c;
        } else if (n->type == RS_ARR) {
            char *end;
            if (k == 0 || (k > 1 && seg[0] == '0') || seg[0] < '0' || seg[0] > '9')
                return NULL;
            unsigned long idx = strtoul(seg, &end, 10);
            if (*end)
                return NULL;
            const rs_node *c = n->child;
            for (unsigned long i = 0; c && i < idx; i++)
                c = c->next;
            n = c;
        } else
            return NULL;
    }
    return n;
}

int rs_is_scalar(const rs_node *n)
{
    return n && n->type != RS_ARR && n->type != RS_OBJ;
}

const char *rs_scalar_text(const rs_node *n)
{
    if (!n)
        return NULL;
    switch (n->type) {
    case RS_NULL:
        return "";
    case RS_TRUE:
        return "true";
    case RS_FALSE:
        return "false";
    case RS_NUM:
    case RS_STR:
        return n->text;
    default:
        return NULL;
    }
}

int rs_buf_put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*cap - *len < n + 1) {
        size_t nc = *cap ? *cap : 256;
        while (nc - *len < n + 1)
            nc *= 2;
        char *b = realloc(*buf, nc);
        if (!b)
            return -1;
        *buf = b;
        *cap = nc;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

int rs_json_quote(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (rs_buf_put(buf, len, cap, "\"", 1) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[8];
        const char *out = e;
        size_t l = 1;
        if (c == '"' || c == '\\') {
            e[0] = '\\';
            e[1] = (char)c;
            l = 2;
        } else if (c < 0x20) {
            l = (size_t)snprintf(e, sizeof e, "\\u%04x", c);
        } else {
            out = (const char *)s + i;
        }
        if (rs_buf_put(buf, len, cap, out, l) != 0)
            return -1;
    }
    return rs_buf_put(buf, len, cap, "\"", 1);
}

rs_node *rs_node_copy(rs_pool *p, const rs_node *n)
{
    rs_node *c = rs_pool_alloc(p, sizeof *c);
    if (!c)
        return NULL;
    *c = *n;
    c->next = c->child = NULL;
    if (n->key && !(c->key = rs_pool_strndup(p, n->key, strlen(n->key))))
        return NULL;
    if (n->text && !(c->text = rs_pool_strndup(p, n->text, n->n)))
        return NULL;
    rs_node **tail = &c->child;
    for (const rs_node *k = n->child; k; k = k->next) {
        if (!(*tail = rs_node_copy(p, k)))
            return NULL;
        tail = &(*tail)->next;
    }
    return c;
}
