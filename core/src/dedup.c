/* paysync core: in-run duplicate/conflict detection (see validate.h). A compact
 * open-addressing table (linear probing, power-of-two capacity, at most 70% full) of
 * {64-bit hash of the ID, content hash, first row}: 24 bytes a row, no per-entry malloc.
 * Two different IDs with the same 64-bit hash would be taken for the same ID; with a
 * well-mixed 64-bit hash the chance is about n^2 / 2^65 (3e-8 for a million rows). */
#include <stdlib.h>
#include <string.h>

#include "validate.h"

typedef struct dedup_slot {
    uint64_t key; /* 0 = empty */
    uint64_t content;
    uint64_t row;
} dedup_slot;

struct ps_dedup {
    dedup_slot *slots;
    size_t cap; /* power of two */
    size_t count;
};

static uint64_t id_hash(const char *id)
{
    /* FNV-1a 64 followed by the splitmix64 finaliser for a well-spread probe start */
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    const unsigned char *p = (const unsigned char *)id;
    while (*p) {
        h ^= *p++;
        h *= UINT64_C(0x100000001b3);
    }
    h ^= h >> 30;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 27;
    h *= UINT64_C(0x94d049bb133111eb);
    h ^= h >> 31;
    return h ? h : 1;
}

ps_dedup *ps_dedup_new(void)
{
    ps_dedup *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cap = 1024;
    d->slots = calloc(d->cap, sizeof *d->slots);
    if (!d->slots) {
        free(d);
        return NULL;
    }
    return d;
}

void ps_dedup_free(ps_dedup *d)
{
    if (!d)
        return;
    free(d->slots);
    free(d);
}

static dedup_slot *probe(dedup_slot *slots, size_t cap, uint64_t key)
{
    size_t i = (size_t)key & (cap - 1);
    while (slots[i].key != 0 && slots[i].key != key)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int grow(ps_dedup *d)
{
    size_t ncap = d->cap * 2, i;
    dedup_slot *ns;
    if (ncap < d->cap || ncap > SIZE_MAX / sizeof *ns)
        return -1;
    ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (i = 0; i < d->cap; i++)
        if (d->slots[i].key)
            *probe(ns, ncap, d->slots[i].key) = d->slots[i];
    free(d->slots);
    d->slots = ns;
    d->cap = ncap;
    return 0;
}

size_t ps_dedup_count(const ps_dedup *d)
{
    return d ? d->count : 0;
}

ps_dedup_result ps_dedup_check(ps_dedup *d, const char *id, uint64_t content_hash, uint64_t row,
                               uint64_t *first_row)
{
    uint64_t key;
    dedup_slot *s;
    if (!d || !id)
        return PS_DEDUP_ERROR;
    key = id_hash(id);
    s = probe(d->slots, d->cap, key);
    if (s->key == key) {
        if (first_row)
            *first_row = s->row;
        return s->content == content_hash ? PS_DEDUP_DUPLICATE : PS_DEDUP_CONFLICT;
    }
    if ((d->count + 1) * 10 > d->cap * 7) {
        if (grow(d) != 0) {
            if (d->count + 1 >= d->cap)
                return PS_DEDUP_ERROR; /* keep one slot empty so probing terminates */
        } else {
            s = probe(d->slots, d->cap, key);
        }
    }
    s->key = key;
    s->content = content_hash;
    s->row = row;
    d->count++;
    return PS_DEDUP_NEW;
}
