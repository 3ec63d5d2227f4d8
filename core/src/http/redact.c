/* paysync core: secret scrubbing for the HTTP client (see redact.h). */
#include "http/redact.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void wipe_free(char *p)
{
    if (p) {
        volatile char *v = p;
        while (*v)
            *v++ = '\0';
        free(p);
    }
}

static int add_one(ps_secrets *s, const char *v, size_t n)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->items[i]) == n && memcmp(s->items[i], v, n) == 0)
            return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        char **ni = realloc(s->items, cap * sizeof *ni);
        if (!ni)
            return -1;
        s->items = ni;
        s->cap = cap;
    }
    char *c = malloc(n + 1);
    if (!c)
        return -1;
    memcpy(c, v, n);
    c[n] = '\0';
    s->items[s->n++] = c;
    return 0;
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

ps_status ps_secrets_add(ps_secrets *s, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n < PS_SECRET_MIN_LEN) /* too short to find without mangling every message */
        return PS_OK;
    if (add_one(s, secret, n) != 0)
        return PS_ERR_NOMEM;
    char *enc = malloc(3 * n + 1);
    if (!enc)
        return PS_ERR_NOMEM;
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)secret[i];
        if (unreserved(c)) {
            enc[k++] = (char)c;
        } else {
            enc[k++] = '%';
            enc[k++] = hex[c >> 4];
            enc[k++] = hex[c & 15];
        }
    }
    enc[k] = '\0';
    int rc = k != n ? add_one(s, enc, k) : 0;
    memset(enc, 0, k);
    free(enc);
    return rc == 0 ? PS_OK : PS_ERR_NOMEM;
}

void ps_secrets_scrub(const ps_secrets *s, char *text)
{
    if (!s || !text)
        return;
    /* Longest first would matter only for overlapping secrets; every pass rescans. */
    for (size_t i = 0; i < s->n; i++) {
        const char *sec = s->items[i];
        size_t sl = strlen(sec);
        size_t rl = 3; /* secrets have at least PS_SECRET_MIN_LEN > 3 bytes */
        char *hit = text;
        while ((hit = strstr(hit, sec)) != NULL) {
            size_t tail = strlen(hit + sl);
            memset(hit, '*', rl);
            memmove(hit + rl, hit + sl, tail + 1);
            hit += rl;
        }
    }
}

static int sensitive_name(const char *name, size_t n)
{
    static const char *const names[] = {"key",   "api_key",  "apikey",       "access_token",
                                        "token", "password", "secret",       "signature",
                                        "sig",   "auth",     "client_secret"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0)
            return 1;
    return 0;
}

char *ps_secrets_url(const ps_secrets *s, const char *url)
{
    size_t n = strlen(url);
    char *out = malloc(n + 4 * (n / 2 + 1)); /* each value may become "***" */
    if (!out)
        return NULL;
    const char *q = strchr(url, '?');
    size_t p = q ? (size_t)(q - url) + 1 : n;
    memcpy(out, url, p);
    if (q) {
        const char *c = q + 1;
        while (*c && *c != '#') {
            size_t seg = strcspn(c, "&#");
            const char *eq = memchr(c, '=', seg);
            if (eq && sensitive_name(c, (size_t)(eq - c))) {
                size_t k = (size_t)(eq - c) + 1;
                memcpy(out + p, c, k);
                p += k;
                memcpy(out + p, "***", 3);
                p += 3;
            } else {
                memcpy(out + p, c, seg);
                p += seg;
            }
            c += seg;
            if (*c == '&')
                out[p++] = *c++;
        }
        size_t rest = strlen(c);
        memcpy(out + p, c, rest);
        p += rest;
    }
    out[p] = '\0';
    ps_secrets_scrub(s, out);
    return out;
}

void ps_secrets_free(ps_secrets *s)
{
    for (size_t i = 0; i < s->n; i++)
        wipe_free(s->items[i]);
    free(s->items);
    memset(s, 0, sizeof *s);
}
