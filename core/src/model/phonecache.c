/* paysync core: run-wide memo of phone verdicts (see phonecache.h). Open addressing with
 * linear probing over a power-of-two table of 64-bit slots: the upper 32 bits are a tag
 * from the key's hash, the lower 32 the entry's offset in the arena + 1 (0 = empty slot).
 * A tag match is confirmed by comparing the stored region and raw bytes. Entry layout in
 * the arena: key length, region (2 bytes, "\0\0" = none), rc, lib, international, code
 * (2 bytes, little-endian), E.164 length, then the raw bytes and the E.164 text. */
#include "model/phonecache.h"

#include <stdlib.h>
#include <string.h>

#define HDR 11

struct ps_phonecache {
    uint64_t *slots;
    size_t mask;
    unsigned char *arena;
    size_t arena_cap, arena_used;
    size_t max_entries;
    ps_phonecache_stats st;
};

ps_phonecache *ps_phonecache_new(size_t max_entries, size_t arena_bytes)
{
    ps_phonecache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (max_entries == 0 || max_entries > PS_PHONECACHE_MAX_ENTRIES)
        max_entries = PS_PHONECACHE_MAX_ENTRIES;
    if (arena_bytes == 0 || arena_bytes > PS_PHONECACHE_ARENA)
        arena_bytes = PS_PHONECACHE_ARENA;
    c->max_entries = max_entries;
    c->mask = PS_PHONECACHE_SLOTS - 1;
    c->arena_cap = arena_bytes;
    c->slots = calloc(PS_PHONECACHE_SLOTS, sizeof *c->slots);
    c->arena = malloc(arena_bytes);
    if (!c->slots || !c->arena) {
        ps_phonecache_free(c);
        return NULL;
    }
    return c;
}

void ps_phonecache_free(ps_phonecache *c)
{
    if (!c)
        return;
    free(c->slots);
    free(c->arena);
    free(c);
}

void ps_phonecache_get_stats(const ps_phonecache *c, ps_phonecache_stats *st)
{
    if (c)
        *st = c->st;
    else
        memset(st, 0, sizeof *st);
}

/* FNV-1a over region and raw bytes, then a murmur3 finaliser to spread the bits. */
static uint64_t hash_key(const char reg[2], const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ull;
    size_t i;
    h = (h ^ (unsigned char)reg[0]) * 1099511628211ull;
    h = (h ^ (unsigned char)reg[1]) * 1099511628211ull;
    for (i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb3f53fe1a85bull;
    h ^= h >> 33;
    return h;
}

static void load(const unsigned char *e, ps_phone_verdict *res)
{
    size_t klen = e[0], elen = e[10];
    memset(res, 0, sizeof *res);
    res->rc = (signed char)e[3];
    res->lib = e[4];
    res->international = e[5];
    res->code = e[6] | (e[7] << 8);
    memcpy(res->e164, e + HDR + klen, elen);
    res->e164[elen] = '\0';
}

static void store(ps_phonecache *c, size_t slot, uint32_t tag, const char reg[2], const char *s,
                  size_t len, const ps_phone_verdict *res)
{
    size_t elen = res->rc >= 0 ? strlen(res->e164) : 0;
    size_t need = HDR + len + elen;
    unsigned char *e;
    if (len > PS_PHONECACHE_MAX_KEY || c->st.entries >= c->max_entries ||
        need > c->arena_cap - c->arena_used || res->code < 0 || res->code > 0xffff) {
        c->st.refused++;
        return;
    }
    e = c->arena + c->arena_used;
    e[0] = (unsigned char)len;
    e[1] = (unsigned char)reg[0];
    e[2] = (unsigned char)reg[1];
    e[3] = (unsigned char)(signed char)res->rc;
    e[4] = (unsigned char)res->lib;
    e[5] = (unsigned char)res->international;
    e[6] = (unsigned char)(res->code & 0xff);
    e[7] = (unsigned char)(res->code >> 8);
    e[8] = e[9] = 0;
    e[10] = (unsigned char)elen;
    memcpy(e + HDR, s, len);
    memcpy(e + HDR + len, res->e164, elen);
    c->slots[slot] = (uint64_t)tag << 32 | (uint64_t)(c->arena_used + 1);
    c->arena_used += need;
    c->st.entries++;
}

int ps_phonecache_normalise(ps_phonecache *c, const char *s, size_t len, const char *region,
                            char *out, char *why)
{
    ps_phone_verdict res;
    char reg[2] = {0, 0};
    uint64_t h;
    uint32_t tag;
    size_t slot;
    if (!c || !s || len > PS_PHONECACHE_MAX_KEY || (region && region[0] && strlen(region) != 2)) {
        if (c)
            c->st.misses++, c->st.refused++;
        return ps_phone_normalise(s, len, region, out, why);
    }
    if (region && region[0]) {
        reg[0] = region[0];
        reg[1] = region[1];
    }
    h = hash_key(reg, s, len);
    tag = (uint32_t)(h >> 32);
    for (slot = (size_t)h & c->mask;; slot = (slot + 1) & c->mask) {
        uint64_t v = c->slots[slot];
        if (v == 0)
            break;
        if ((uint32_t)(v >> 32) == tag) {
            const unsigned char *e = c->arena + ((size_t)(uint32_t)v - 1);
            if (e[0] == len && e[1] == (unsigned char)reg[0] && e[2] == (unsigned char)reg[1] &&
                memcmp(e + HDR, s, len) == 0) {
                c->st.hits++;
                load(e, &res);
                return ps_phone_report(&res, region, out, why);
            }
        }
    }
    c->st.misses++;
    ps_phone_check(s, len, region, &res);
    store(c, slot, tag, reg, s, len, &res);
    return ps_phone_report(&res, region, out, why);
}
