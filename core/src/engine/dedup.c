/* paysync core: in-run duplicate/conflict detection (see validate.h) in bounded memory.
 *
 * Every ID is reduced to a 64-bit key (ps_dedup_key) and kept with the record's content hash
 * and first row: 24 bytes an ID. Two different IDs with the same key would be taken for the
 * same ID (chance about n^2 / 2^65). The key reads the ID 8 bytes at a time (the last word
 * zero-padded, the length in the seed) and passes each word through the splitmix64 finaliser,
 * a bijection: two IDs of the same length that differ within one 8-byte word (any single byte)
 * never share a key. Keys live only in memory and in this run's temporary files, so the
 * function may change between builds.
 *
 * Memory does not grow with the number of IDs beyond about 11 MiB:
 *  - recent IDs live in an open-addressing table (linear probing, at most 70 % full) that grows
 *    up to `table_slots` slots (default 2^17 = 3 MiB, about 91,000 IDs);
 *  - when it is full, its entries are written, sorted by hash, as a "run" to an unlinked
 *    temporary file in $TMPDIR (or /tmp) and the table starts empty again. A sparse index
 *    (the first hash of every 128 entries) of each run stays in memory: 1/16 of a byte an ID;
 *  - a blocked Bloom filter remembers every ID ever recorded, so that a new ID (the common
 *    case) is answered without touching the runs. It is created at the first spill with a
 *    quarter of `filter_bytes` (default 8 MiB: 2 MiB) and grows by a quarter, rebuilt from the
 *    table and the runs (read in order: a block is chosen by the hash's high bits, so the
 *    rebuild writes the filter front to back), whenever it would hold fewer than 12 bits an
 *    ID: 2 MiB up to 1.4 million IDs, 4 MiB up to 2.8 million, 6 MiB up to 4.2 million, then
 *    8 MiB. Only a filter hit (a real repeat, or a false positive: under 0.5 % of new IDs up
 *    to 5.6 million IDs, more beyond) reads one 3 KiB block per run with pread;
 *  - when 8 runs exist, the newest ones are merged into one, so a lookup reads at most 8
 *    blocks: from the oldest run that holds at most half as many IDs as the runs after it
 *    together (size-tiered). Older, larger runs stay as they are, so an ID is rewritten about
 *    once per size class (3.8 times for 20,000 IDs through a 64-slot table, where merging
 *    every run each time rewrote each 32 times; at 4 million IDs 5.5 instead of 10 million
 *    entries, at 16 million 39 instead of 195 million).
 * The table slot index is taken from the hash's high bits, so the table is already almost in
 * hash order and sorting it for a spill is an insertion sort over nearly sorted data. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model/validate.h"
#include "util/crashpoint.h"
#include "util/loadle.h"
#include "util/tempfd.h"

#define DEFAULT_TABLE_SLOTS ((size_t)1 << 17)
#define DEFAULT_FILTER_BYTES ((size_t)8 << 20)
#define MIN_TABLE_SLOTS 64
#define BLOCK_ENTRIES 128 /* entries per sparse-index block of a run */
#define MAX_RUNS 8
#define FILTER_BITS_PER_ID 12 /* the filter grows when it would hold fewer bits an ID */
#define FILTER_STEPS 4 /* created with 1/FILTER_STEPS of its largest size, grown by as much */

typedef struct dedup_slot {
    uint64_t key; /* 0 = empty */
    uint64_t content;
    uint64_t row;
} dedup_slot;

typedef struct dedup_run {
    int fd; /* unlinked temporary file holding count sorted slots */
    size_t count;
    uint64_t *first; /* first key of each block of BLOCK_ENTRIES */
    size_t nblocks;
} dedup_run;

struct ps_dedup {
    dedup_slot *slots;
    size_t cap;     /* power of two */
    unsigned shift; /* 64 - log2(cap): slot of a key = key >> shift */
    size_t max_cap;
    size_t count;     /* IDs in the table */
    size_t total;     /* IDs recorded overall */
    uint64_t *filter; /* blocked Bloom filter: nfblocks blocks of 8 words; NULL until a spill */
    size_t nfblocks;
    size_t max_fblocks;       /* the filter's largest size in blocks */
    size_t filter_ids;        /* IDs the filter holds before it grows (SIZE_MAX: at its largest) */
    int failed;               /* a filter rebuild failed: every later check is an error */
    dedup_run runs[MAX_RUNS]; /* oldest first */
    size_t nruns;
    size_t rewritten; /* entries written by merges (tests) */
    char tmpdir[512];
};

/* splitmix64's finaliser: a bijection of 64-bit words with full avalanche. */
static inline uint64_t key_fin(uint64_t h)
{
    h ^= h >> 30;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 27;
    h *= UINT64_C(0x94d049bb133111eb);
    h ^= h >> 31;
    return h;
}

uint64_t ps_dedup_key(const char *id, size_t len)
{
    const unsigned char *p = (const unsigned char *)id;
    uint64_t h = UINT64_C(0xcbf29ce484222325) ^ (uint64_t)len * UINT64_C(0x9e3779b97f4a7c15);
    size_t n = len;
    for (; n > 8; n -= 8, p += 8)
        h = key_fin(h ^ ps_load_le(p, 8));
    /* the last 0..8 bytes as one word, zero above them; nothing read outside id[0..len) */
    uint64_t w;
    if (len >= 8)
        w = ps_load_le(p + n - 8, 8) >> (8 * (8 - n)); /* n is 1..8 here */
    else
        w = ps_load_le_head(p, n);
    h = key_fin(h ^ w);
    return h ? h : 1;
}

static unsigned log2_of(size_t pow2)
{
    unsigned n = 0;
    while (((size_t)1 << n) < pow2)
        n++;
    return n;
}

/* Zeroed memory for the table and the filter, freed with big_free(p, n * size). Blocks of
 * 2 MiB or more are mapped on their own (returned to the system when freed, whatever malloc's
 * thresholds have become), 2 MiB aligned and marked for transparent huge pages: every lookup
 * touches a random place in them, and with 4 KiB pages nearly every lookup would also miss
 * the TLB. A block that is not a multiple of 2 MiB ends with small pages (its mapping ends
 * where it ends), so a 3 MiB table is 3 MiB resident, not 4. */
#define HUGE_PAGE ((size_t)2 << 20)
static void *big_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    if (bytes < HUGE_PAGE)
        return calloc(n, size);
    if (bytes > SIZE_MAX - HUGE_PAGE)
        return NULL;
    size_t span = bytes + HUGE_PAGE;
    char *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    char *p = (char *)a;
    if (p > m)
        munmap(m, (size_t)(p - m));
    size_t tail = (size_t)(m + span - (p + bytes));
    if (tail)
        munmap(p + bytes, tail);
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p; /* anonymous pages read as zero */
}

static void big_free(void *p, size_t bytes)
{
    if (!p)
        return;
    if (bytes < HUGE_PAGE)
        free(p);
    else
        munmap(p, bytes);
}

ps_dedup *ps_dedup_new_bounded(size_t table_slots, size_t filter_bytes, const char *tmpdir)
{
    ps_dedup *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    size_t max_cap = MIN_TABLE_SLOTS;
    while (max_cap < table_slots && max_cap < ((size_t)1 << 40))
        max_cap <<= 1;
    d->max_cap = max_cap;
    d->cap = max_cap < 1024 ? max_cap : 1024;
    d->shift = 64 - log2_of(d->cap);
    d->max_fblocks = filter_bytes < 64 ? 1 : filter_bytes / 64;
    ps_temp_dir(tmpdir, d->tmpdir, sizeof d->tmpdir);
    d->slots = big_calloc(d->cap, sizeof *d->slots);
    if (!d->slots) {
        free(d);
        return NULL;
    }
    return d;
}

ps_dedup *ps_dedup_new(void)
{
    return ps_dedup_new_bounded(DEFAULT_TABLE_SLOTS, DEFAULT_FILTER_BYTES, NULL);
}

static void run_free(dedup_run *r)
{
    if (r->fd >= 0)
        close(r->fd);
    free(r->first);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

void ps_dedup_free(ps_dedup *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nruns; i++)
        run_free(&d->runs[i]);
    big_free(d->filter, d->nfblocks * 64);
    big_free(d->slots, d->cap * sizeof *d->slots);
    free(d);
}

size_t ps_dedup_count(const ps_dedup *d)
{
    return d ? d->total : 0;
}

size_t ps_dedup_runs(const ps_dedup *d)
{
    return d ? d->nruns : 0;
}

size_t ps_dedup_rewritten(const ps_dedup *d)
{
    return d ? d->rewritten : 0;
}

/* ---- table ---------------------------------------------------------------------------- */

static dedup_slot *probe(dedup_slot *slots, size_t cap, unsigned shift, uint64_t key)
{
    size_t i = (size_t)(key >> shift);
    while (slots[i].key != 0 && slots[i].key != key)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int grow(ps_dedup *d)
{
    size_t ncap = d->cap * 2;
    dedup_slot *ns = big_calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    unsigned nshift = d->shift - 1;
    for (size_t i = 0; i < d->cap; i++)
        if (d->slots[i].key)
            *probe(ns, ncap, nshift, d->slots[i].key) = d->slots[i];
    big_free(d->slots, d->cap * sizeof *d->slots);
    d->slots = ns;
    d->cap = ncap;
    d->shift = nshift;
    return 0;
}

/* ---- Bloom filter: one 64-byte block per key, 6 bits set in it ----------------------- */

/* The block is chosen by the key's high 32 bits: keys in hash order (a run) fill the filter
 * from front to back. The bits within the block come from the whole key. */

static void filter_bits(const ps_dedup *d, uint64_t key, size_t *block, unsigned bit[6])
{
    uint64_t h = key * UINT64_C(0x9e3779b97f4a7c15);
    *block = (size_t)((key >> 32) * d->nfblocks >> 32);
    for (int i = 0; i < 6; i++)
        bit[i] = (unsigned)(h >> (i * 9 + 10)) & 511;
}

static void filter_add(ps_dedup *d, uint64_t key)
{
    size_t b;
    unsigned bit[6];
    filter_bits(d, key, &b, bit);
    uint64_t *w = d->filter + b * 8;
    for (int i = 0; i < 6; i++)
        w[bit[i] >> 6] |= UINT64_C(1) << (bit[i] & 63);
}

static int filter_has(const ps_dedup *d, uint64_t key)
{
    size_t b;
    unsigned bit[6];
    filter_bits(d, key, &b, bit);
    const uint64_t *w = d->filter + b * 8;
    for (int i = 0; i < 6; i++)
        if (!(w[bit[i] >> 6] & (UINT64_C(1) << (bit[i] & 63))))
            return 0;
    return 1;
}

/* ---- runs ----------------------------------------------------------------------------- */

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_at(int fd, void *buf, size_t n, off_t off)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

static int temp_fd(const ps_dedup *d)
{
    return ps_temp_fd(d->tmpdir, "paysync-ids-");
}

/* A run writer: buffered appends to a new temp file, building the sparse index. */
typedef struct run_writer {
    dedup_run run;
    dedup_slot buf[BLOCK_ENTRIES * 8];
    size_t nbuf;
    size_t cap_blocks;
} run_writer;

static int rw_start(const ps_dedup *d, run_writer *w, size_t expect)
{
    memset(&w->run, 0, sizeof w->run);
    w->nbuf = 0;
    w->cap_blocks = expect / BLOCK_ENTRIES + 1;
    w->run.first = malloc(w->cap_blocks * sizeof *w->run.first);
    w->run.fd = temp_fd(d);
    if (!w->run.first || w->run.fd < 0) {
        run_free(&w->run);
        return -1;
    }
    return 0;
}

static int rw_flush(run_writer *w)
{
    int rc = write_all(w->run.fd, w->buf, w->nbuf * sizeof *w->buf);
    w->nbuf = 0;
    return rc;
}

static int rw_add(run_writer *w, const dedup_slot *s)
{
    if (w->run.count % BLOCK_ENTRIES == 0) {
        if (w->run.nblocks == w->cap_blocks)
            return -1; /* more than announced: a bug */
        w->run.first[w->run.nblocks++] = s->key;
    }
    w->buf[w->nbuf++] = *s;
    w->run.count++;
    if (w->nbuf == sizeof w->buf / sizeof w->buf[0])
        return rw_flush(w);
    return 0;
}

/* Looks key up in run r: 1 found (*out set), 0 absent, -1 read error. */
static int run_find(const dedup_run *r, uint64_t key, dedup_slot *out)
{
    if (r->nblocks == 0 || key < r->first[0])
        return 0;
    size_t lo = 0, hi = r->nblocks; /* last block whose first key <= key */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->first[mid] <= key)
            lo = mid;
        else
            hi = mid;
    }
    size_t start = lo * BLOCK_ENTRIES;
    size_t n = r->count - start < BLOCK_ENTRIES ? r->count - start : BLOCK_ENTRIES;
    dedup_slot blk[BLOCK_ENTRIES];
    if (read_at(r->fd, blk, n * sizeof *blk, (off_t)(start * sizeof *blk)) != 0)
        return -1;
    size_t a = 0, b = n;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (blk[mid].key < key)
            a = mid + 1;
        else
            b = mid;
    }
    if (a < n && blk[a].key == key) {
        *out = blk[a];
        return 1;
    }
    return 0;
}

/* Sequential reader of a run for merging. */
typedef struct run_reader {
    const dedup_run *run;
    dedup_slot buf[BLOCK_ENTRIES * 4];
    size_t pos, n, done; /* done: entries consumed before buf */
} run_reader;

static int rr_peek(run_reader *r, const dedup_slot **s)
{
    if (r->pos == r->n) {
        r->done += r->n;
        r->pos = r->n = 0;
        size_t left = r->run->count - r->done;
        if (left == 0) {
            *s = NULL;
            return 0;
        }
        size_t n =
            left < sizeof r->buf / sizeof r->buf[0] ? left : sizeof r->buf / sizeof r->buf[0];
        if (read_at(r->run->fd, r->buf, n * sizeof *r->buf, (off_t)(r->done * sizeof *r->buf)) != 0)
            return -1;
        r->n = n;
    }
    *s = &r->buf[r->pos];
    return 0;
}

/* The first run to merge when every run slot is taken: the oldest run holding at most half
 * as many IDs as the newer runs together (at least the newest two are merged). */
static size_t merge_from(const ps_dedup *d)
{
    size_t after = 0, from = d->nruns - 2;
    for (size_t i = d->nruns - 1; i-- > 0;) {
        after += d->runs[i + 1].count;
        if (d->runs[i].count <= after / 2)
            from = i;
    }
    return from;
}

/* Merges runs[from..nruns) into one, which takes the place of runs[from]. */
static int merge_runs(ps_dedup *d, size_t from)
{
    size_t total = 0, n = d->nruns - from;
    for (size_t i = from; i < d->nruns; i++)
        total += d->runs[i].count;
    run_reader *rd = calloc(n, sizeof *rd);
    run_writer *w = malloc(sizeof *w);
    int rc = -1;
    if (!rd || !w || rw_start(d, w, total) != 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        rd[i].run = &d->runs[from + i];
    for (;;) {
        const dedup_slot *best = NULL;
        size_t bi = 0;
        for (size_t i = 0; i < n; i++) {
            const dedup_slot *s;
            if (rr_peek(&rd[i], &s) != 0)
                goto fail;
            if (s && (!best || s->key < best->key)) {
                best = s;
                bi = i;
            }
        }
        if (!best)
            break;
        if (rw_add(w, best) != 0)
            goto fail;
        rd[bi].pos++;
    }
    if (rw_flush(w) != 0)
        goto fail;
    for (size_t i = from; i < d->nruns; i++)
        run_free(&d->runs[i]);
    d->runs[from] = w->run;
    d->nruns = from + 1;
    d->rewritten += total;
    rc = 0;
    goto out;
fail:
    run_free(&w->run);
out:
    free(rd);
    free(w);
    return rc;
}

/* (Re)creates the filter with nfblocks blocks and adds every recorded ID: the table's and
 * the runs' (read in order). The old filter is freed first, so that the peak is the new
 * size, not the sum of both. On failure the dedup is marked failed: without a complete
 * filter a repeat could pass as new. */
static int filter_build(ps_dedup *d, size_t nfblocks)
{
    big_free(d->filter, d->nfblocks * 64);
    d->nfblocks = nfblocks;
    d->filter = big_calloc(nfblocks, 64);
    run_reader *rd = d->filter && !ps_fail_point("dedup-filter-build") ? malloc(sizeof *rd) : NULL;
    if (!rd) {
        d->failed = 1;
        return -1;
    }
    for (size_t i = 0; i < d->cap; i++)
        if (d->slots[i].key)
            filter_add(d, d->slots[i].key);
    for (size_t i = 0; i < d->nruns; i++) {
        memset(rd, 0, sizeof *rd);
        rd->run = &d->runs[i];
        for (;;) {
            const dedup_slot *s;
            if (rr_peek(rd, &s) != 0) {
                free(rd);
                d->failed = 1;
                return -1;
            }
            if (!s)
                break;
            filter_add(d, s->key);
            rd->pos++;
        }
    }
    free(rd);
    size_t ids = nfblocks * 512 / FILTER_BITS_PER_ID;
    d->filter_ids = nfblocks >= d->max_fblocks ? SIZE_MAX : ids;
    return 0;
}

/* Grows the filter by a step when it holds more IDs than it is sized for. */
static int filter_grow(ps_dedup *d)
{
    size_t step = d->max_fblocks / FILTER_STEPS ? d->max_fblocks / FILTER_STEPS : 1;
    size_t n = d->max_fblocks - d->nfblocks > step ? d->nfblocks + step : d->max_fblocks;
    return filter_build(d, n);
}

/* Writes the table as a sorted run and empties it. */
static int spill(ps_dedup *d)
{
    if (!d->filter) {
        size_t step = d->max_fblocks / FILTER_STEPS ? d->max_fblocks / FILTER_STEPS : 1;
        if (filter_build(d, step) != 0)
            return -1;
    }
    if (d->nruns == MAX_RUNS && merge_runs(d, merge_from(d)) != 0)
        return -1;
    /* compact, then insertion sort: entries sit at or just after their home slot (high bits
     * of the key), so they are nearly in order already */
    size_t n = 0;
    for (size_t i = 0; i < d->cap; i++)
        if (d->slots[i].key)
            d->slots[n++] = d->slots[i];
    for (size_t i = 1; i < n; i++) {
        dedup_slot t = d->slots[i];
        size_t j = i;
        while (j > 0 && d->slots[j - 1].key > t.key) {
            d->slots[j] = d->slots[j - 1];
            j--;
        }
        d->slots[j] = t;
    }
    run_writer *w = malloc(sizeof *w);
    if (!w || rw_start(d, w, n) != 0) {
        free(w);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = rw_add(w, &d->slots[i]);
    if (rc == 0)
        rc = rw_flush(w);
    if (rc != 0) {
        run_free(&w->run);
        free(w);
        return -1;
    }
    d->runs[d->nruns++] = w->run;
    free(w);
    memset(d->slots, 0, d->cap * sizeof *d->slots);
    d->count = 0;
    return 0;
}

void ps_dedup_prefetch_key(const ps_dedup *d, uint64_t key)
{
#if defined(__GNUC__)
    if (!d)
        return;
    __builtin_prefetch(&d->slots[key >> d->shift]);
    if (d->filter) {
        size_t b;
        unsigned bit[6];
        filter_bits(d, key, &b, bit);
        __builtin_prefetch(d->filter + b * 8);
    }
#else
    (void)d;
    (void)key;
#endif
}

void ps_dedup_prefetch(const ps_dedup *d, const char *id, size_t len)
{
    if (d && id)
        ps_dedup_prefetch_key(d, ps_dedup_key(id, len));
}

ps_dedup_result ps_dedup_check(ps_dedup *d, const char *id, uint64_t content_hash, uint64_t row,
                               uint64_t *first_row)
{
    if (!d || !id)
        return PS_DEDUP_ERROR;
    return ps_dedup_check_key(d, ps_dedup_key(id, strlen(id)), content_hash, row, first_row);
}

ps_dedup_result ps_dedup_check_key(ps_dedup *d, uint64_t key, uint64_t content_hash, uint64_t row,
                                   uint64_t *first_row)
{
    if (!d || d->failed || key == 0)
        return PS_DEDUP_ERROR;
    dedup_slot *s = probe(d->slots, d->cap, d->shift, key);
    if (s->key == key) {
        if (first_row)
            *first_row = s->row;
        return s->content == content_hash ? PS_DEDUP_DUPLICATE : PS_DEDUP_CONFLICT;
    }
    if (d->filter && filter_has(d, key)) {
        for (size_t i = d->nruns; i-- > 0;) {
            dedup_slot found;
            int rc = run_find(&d->runs[i], key, &found);
            if (rc < 0)
                return PS_DEDUP_ERROR;
            if (rc > 0) {
                if (first_row)
                    *first_row = found.row;
                return found.content == content_hash ? PS_DEDUP_DUPLICATE : PS_DEDUP_CONFLICT;
            }
        }
    }
    if ((d->count + 1) * 10 > d->cap * 7) {
        int rc = d->cap < d->max_cap ? grow(d) : spill(d);
        if (rc != 0)
            return PS_DEDUP_ERROR;
        s = probe(d->slots, d->cap, d->shift, key);
    }
    s->key = key;
    s->content = content_hash;
    s->row = row;
    d->count++;
    d->total++;
    if (d->filter) {
        filter_add(d, key);
        if (d->total > d->filter_ids && filter_grow(d) != 0)
            return PS_DEDUP_ERROR;
    }
    return PS_DEDUP_NEW;
}
