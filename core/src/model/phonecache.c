/* paysync core: run-wide memo of phone verdicts (see phonecache.h). Open addressing with
 * linear probing over a power-of-two table of 32-bit slots holding an entry's offset in the
 * arena + 1 (0 = empty slot); a hit is confirmed by comparing the stored region and raw text.
 * Texts are stored 4 bits a character, losslessly: the 16 characters a phone is usually
 * written with ('0'-'9', '+', ' ', '-', '.', '(', ')'); a text with any other character
 * (a tab, or a syntax error, which costs no libphonenumber call) is not stored. Entry layout:
 * text length, region (2 bytes, "\0\0" = none), rc; when rc < 0 lib, international and code
 * (2 bytes, little-endian); then the packed text and, when rc > 0, the packed digits of the
 * E.164 text after its '+' (rc - 1 of them). About 18 bytes for a 13-character number. */
#include "model/phonecache.h"

#include "model/phonefast.h"

#include <stdlib.h>
#include <string.h>

#define KEYBYTES ((PS_PHONECACHE_MAX_KEY + 1) / 2)

struct ps_phonecache {
    uint32_t *slots;
    size_t mask;
    unsigned char *arena;
    size_t arena_cap, arena_used;
    size_t max_entries;
    ps_phonefast *fast; /* the pre-check of numbers not remembered yet */
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
    c->fast = ps_phonefast_new();
    if (!c->slots || !c->arena || !c->fast) {
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
    ps_phonefast_free(c->fast);
    free(c);
}

void ps_phonecache_get_stats(const ps_phonecache *c, ps_phonecache_stats *st)
{
    if (c)
        *st = c->st;
    else
        memset(st, 0, sizeof *st);
}

/* The 4-bit code of c, -1 for a character that has none. */
static int sym(char c)
{
    static const char extra[] = "+ -.()";
    const char *p;
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c && (p = strchr(extra, c)) != NULL)
        return 10 + (int)(p - extra);
    return -1;
}

static char unsym(int v)
{
    return v < 10 ? (char)('0' + v) : "+ -.()"[v - 10];
}

/* Packs s[0..n) two characters a byte into out (n <= 2 * cap). -1 for a character without a
 * code. */
static int pack(const char *s, size_t n, unsigned char *out)
{
    size_t i;
    memset(out, 0, (n + 1) / 2);
    for (i = 0; i < n; i++) {
        int v = sym(s[i]);
        if (v < 0)
            return -1;
        out[i / 2] |= (unsigned char)(i % 2 ? v << 4 : v);
    }
    return 0;
}

/* FNV-1a over region and packed text, then a murmur3 finaliser to spread the bits. */
static uint64_t hash_key(const char reg[2], const unsigned char *k, size_t nb)
{
    uint64_t h = 14695981039346656037ull;
    size_t i;
    h = (h ^ (unsigned char)reg[0]) * 1099511628211ull;
    h = (h ^ (unsigned char)reg[1]) * 1099511628211ull;
    for (i = 0; i < nb; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb3f53fe1a85bull;
    h ^= h >> 33;
    return h;
}

static size_t hdr_len(signed char rc)
{
    return rc < 0 ? 8 : 4;
}

static void load(const unsigned char *e, ps_phone_verdict *res)
{
    size_t klen = e[0], i;
    memset(res, 0, sizeof *res);
    res->rc = (signed char)e[3];
    if (res->rc < 0) {
        res->lib = e[4];
        res->international = e[5];
        res->code = e[6] | (e[7] << 8);
        return;
    }
    const unsigned char *d = e + 4 + (klen + 1) / 2;
    res->e164[0] = '+';
    for (i = 0; i + 1 < (size_t)res->rc; i++)
        res->e164[1 + i] = unsym(i % 2 ? d[i / 2] >> 4 : d[i / 2] & 15);
    res->e164[res->rc] = '\0';
}

static void store(ps_phonecache *c, size_t slot, const char reg[2], size_t len, unsigned char *k,
                  const ps_phone_verdict *res)
{
    size_t nd = res->rc > 0 ? (size_t)res->rc - 1 : 0;
    size_t kb = (len + 1) / 2, h = hdr_len((signed char)res->rc);
    size_t need = h + kb + (nd + 1) / 2;
    unsigned char *e;
    if (c->st.entries >= c->max_entries || need > c->arena_cap - c->arena_used || res->code < 0 ||
        res->code > 0xffff || res->rc >= PS_PHONE_MAX ||
        (res->rc > 0 && (res->e164[0] != '+' || pack(res->e164 + 1, nd, k + KEYBYTES) != 0))) {
        c->st.refused++;
        return;
    }
    e = c->arena + c->arena_used;
    e[0] = (unsigned char)len;
    e[1] = (unsigned char)reg[0];
    e[2] = (unsigned char)reg[1];
    e[3] = (unsigned char)(signed char)res->rc;
    if (res->rc < 0) {
        e[4] = (unsigned char)res->lib;
        e[5] = (unsigned char)res->international;
        e[6] = (unsigned char)(res->code & 0xff);
        e[7] = (unsigned char)(res->code >> 8);
    }
    memcpy(e + h, k, kb);
    memcpy(e + h + kb, k + KEYBYTES, (nd + 1) / 2);
    c->slots[slot] = (uint32_t)(c->arena_used + 1);
    c->arena_used += need;
    c->st.entries++;
}

int ps_phonecache_normalise(ps_phonecache *c, const char *s, size_t len, const char *region,
                            char *out, char *why)
{
    ps_phone_verdict res;
    char reg[2] = {0, 0};
    unsigned char k[KEYBYTES + PS_PHONE_MAX]; /* packed text, then room for packed E.164 */
    uint64_t h;
    size_t slot, kb = (len + 1) / 2;
    if (!c)
        return ps_phone_normalise(s, len, region, out, why);
    /* the pre-check decides the common case faster than a memo lookup: only the numbers it
     * leaves to libphonenumber are remembered */
    if (ps_phone_precheck(c->fast, s, len, region, &res)) {
        c->st.fast++;
        return ps_phone_report(&res, region, out, why);
    }
    if (!s || len > PS_PHONECACHE_MAX_KEY || (region && region[0] && strlen(region) != 2) ||
        pack(s, len, k) != 0) {
        c->st.misses++;
        c->st.refused++;
        ps_phone_check(s, len, region, &res);
        return ps_phone_report(&res, region, out, why);
    }
    if (region && region[0]) {
        reg[0] = region[0];
        reg[1] = region[1];
    }
    h = hash_key(reg, k, kb);
    for (slot = (size_t)h & c->mask;; slot = (slot + 1) & c->mask) {
        uint32_t v = c->slots[slot];
        if (v == 0)
            break;
        const unsigned char *e = c->arena + (v - 1);
        if (e[0] == len && e[1] == (unsigned char)reg[0] && e[2] == (unsigned char)reg[1] &&
            memcmp(e + hdr_len((signed char)e[3]), k, kb) == 0) {
            c->st.hits++;
            load(e, &res);
            return ps_phone_report(&res, region, out, why);
        }
    }
    c->st.misses++;
    ps_phone_check(s, len, region, &res);
    store(c, slot, reg, len, k, &res);
    return ps_phone_report(&res, region, out, why);
}
