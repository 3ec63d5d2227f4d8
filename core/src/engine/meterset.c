/* paysync core: meter ID set with a near-miss index (meterset.h). Two open-addressing tables
 * of entry numbers (at most half full): one keyed by the exact ID, one by its near-miss key. */
#include "engine/meterset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"

typedef struct entry {
    const char *id, *key;
    uint32_t len, klen;
    uint64_t hash, khash;
} entry;

struct ps_meterset {
    ps_arena *arena; /* ID and key text */
    entry *e;
    size_t n, cap;
    uint32_t *exact, *near; /* slot = entry number + 1, 0 = empty */
    size_t nslots;          /* power of two */
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static int sep(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '-' || c == '_' || c == '.' || c == '/';
}

size_t ps_meterset_key(const char *id, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    int in_run = 0, emitted = 0; /* inside a run of digits; a digit of it was kept */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (sep(c))
            continue;
        int digit = c >= '0' && c <= '9';
        if (digit && !in_run)
            emitted = 0;
        in_run = digit;
        if (c == '0' && !emitted) {
            /* a leading zero: dropped when another digit of the run follows */
            size_t j = i + 1;
            while (j < len && sep((unsigned char)id[j]))
                j++;
            if (j < len && id[j] >= '0' && id[j] <= '9')
                continue;
        }
        if (n >= cap)
            return (size_t)-1;
        out[n++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
        emitted = digit;
    }
    return n;
}

ps_meterset *ps_meterset_new(void)
{
    ps_meterset *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->arena = ps_arena_create(0);
    s->nslots = 1024;
    s->exact = calloc(s->nslots, sizeof *s->exact);
    s->near = calloc(s->nslots, sizeof *s->near);
    if (!s->arena || !s->exact || !s->near) {
        ps_meterset_free(s);
        return NULL;
    }
    return s;
}

void ps_meterset_free(ps_meterset *s)
{
    if (!s)
        return;
    ps_arena_destroy(s->arena);
    free(s->e);
    free(s->exact);
    free(s->near);
    free(s);
}

size_t ps_meterset_count(const ps_meterset *s)
{
    return s ? s->n : 0;
}

/* Slot of (text, hash) in table t: the entry's slot, or the empty slot where it would go. */
static size_t find(const ps_meterset *s, const uint32_t *t, int by_key, const char *text,
                   size_t len, uint64_t h)
{
    size_t mask = s->nslots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        if (!t[i])
            return i;
        const entry *e = &s->e[t[i] - 1];
        const char *et = by_key ? e->key : e->id;
        size_t el = by_key ? e->klen : e->len;
        uint64_t eh = by_key ? e->khash : e->hash;
        if (eh == h && el == len && memcmp(et, text, len) == 0)
            return i;
    }
}

static int grow(ps_meterset *s)
{
    size_t nslots = s->nslots * 2;
    uint32_t *ex = calloc(nslots, sizeof *ex), *nr = calloc(nslots, sizeof *nr);
    if (!ex || !nr) {
        free(ex);
        free(nr);
        return -1;
    }
    free(s->exact);
    free(s->near);
    s->exact = ex;
    s->near = nr;
    s->nslots = nslots;
    for (size_t k = 0; k < s->n; k++) {
        const entry *e = &s->e[k];
        ex[find(s, ex, 0, e->id, e->len, e->hash)] = (uint32_t)(k + 1);
        size_t j = find(s, nr, 1, e->key, e->klen, e->khash);
        if (!nr[j])
            nr[j] = (uint32_t)(k + 1);
    }
    return 0;
}

ps_meterset_add_result ps_meterset_add(ps_meterset *s, const char *id, size_t len)
{
    if (len == 0 || len > PS_METER_ID_MAX)
        return PS_METERSET_TOO_LONG;
    uint64_t h = hash_bytes(id, len);
    if (s->exact[find(s, s->exact, 0, id, len, h)])
        return PS_METERSET_PRESENT;
    if (s->n >= PS_METERSET_MAX)
        return PS_METERSET_FULL;
    if ((s->n + 1) * 2 > s->nslots && grow(s) != 0)
        return PS_METERSET_NOMEM;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        entry *e = realloc(s->e, cap * sizeof *e);
        if (!e)
            return PS_METERSET_NOMEM;
        s->e = e;
        s->cap = cap;
    }
    char key[PS_METER_ID_MAX];
    size_t klen = ps_meterset_key(id, len, key, sizeof key);
    char *idc = ps_arena_strndup(s->arena, id, len);
    char *kc = ps_arena_strndup(s->arena, key, klen);
    if (!idc || !kc)
        return PS_METERSET_NOMEM;
    entry *e = &s->e[s->n];
    *e = (entry){idc, kc, (uint32_t)len, (uint32_t)klen, h, hash_bytes(key, klen)};
    s->n++;
    s->exact[find(s, s->exact, 0, id, len, h)] = (uint32_t)s->n;
    size_t j = find(s, s->near, 1, kc, klen, e->khash);
    if (!s->near[j])
        s->near[j] = (uint32_t)s->n;
    return PS_METERSET_ADDED;
}

int ps_meterset_has(const ps_meterset *s, const char *id, size_t len)
{
    if (!s || len == 0 || len > PS_METER_ID_MAX)
        return 0;
    return s->exact[find(s, s->exact, 0, id, len, hash_bytes(id, len))] != 0;
}

const char *ps_meterset_near(const ps_meterset *s, const char *id, size_t len, size_t *out_len)
{
    char key[PS_METER_ID_MAX];
    if (!s || len == 0 || len > PS_METER_ID_MAX)
        return NULL;
    size_t klen = ps_meterset_key(id, len, key, sizeof key);
    if (klen == (size_t)-1 || klen == 0)
        return NULL;
    uint32_t k = s->near[find(s, s->near, 1, key, klen, hash_bytes(key, klen))];
    if (!k)
        return NULL;
    const entry *e = &s->e[k - 1];
    if (out_len)
        *out_len = e->len;
    return e->id;
}
