/* paysync store: the meter index's keys of a first load, sorted in bounded memory (see
 * meter_sort.h).
 *
 * A run in memory is an array of 48-byte entries: the first 16 bytes of the meter ID, loaded
 * big-endian and zero-padded, so that most comparisons are one or two integer compares; the
 * timestamp and valid_from; where the two texts lie in the run's byte buffer. A bottom-up
 * merge sort orders it through a second array of the same size (O(n log n) whatever the
 * input). A spilled run is its keys in order, each as [meter length u32][id length u32]
 * [timestamp i64][valid_from i64][meter][id] (host byte order: the file lives only as long
 * as the sorter), appended to the sorter's one temporary file; the merge reads each run
 * through a buffer of its own with pread and keeps the runs in a binary heap ordered by
 * their current key. */
#include "store/meter_sort.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "util/tempfd.h"

#define HEAD_BYTES 24  /* a spilled key's lengths, timestamp and valid_from */
#define READ_BUF 16384 /* per spilled run, while merging */
#define WRITE_BUF 65536

typedef struct entry {
    uint64_t p0, p1; /* the meter ID's first 16 bytes, big-endian, zero-padded */
    int64_t ts, vf;
    size_t off; /* of the meter ID in its bytes; the ID follows it */
    uint32_t mlen, idlen;
} entry;

#define ENTRY_COST (2 * sizeof(entry)) /* the entry and its place in the sort's second array */

typedef struct run_reader {
    off_t pos, end; /* the part of the run not yet read into buf */
    char *buf;
    size_t cap, have, at; /* buf holds have bytes; the current key starts at at */
    size_t step;          /* the current key's bytes */
    entry cur;            /* the current key (off: into buf) */
} run_reader;

struct ps_meter_sort {
    char tmpdir[512];
    size_t budget;
    int finished;
    uint64_t count;
    /* the run in memory */
    entry *ents, *tmp;
    size_t n, cap;
    char *bytes;
    size_t nbytes, bytes_cap;
    size_t next; /* reading it when nothing was spilled */
    /* the spilled runs */
    int fd;
    off_t file_end;
    off_t *run_start; /* run i is [run_start[i], run_start[i + 1]) */
    size_t runs;
    char *wbuf;
    size_t wlen;
    run_reader *readers;
    size_t *heap, nheap;
    int heap_ready;
};

/* The first 8 bytes at p (n of them there, the rest zero) as a big-endian integer. */
static uint64_t load_be_padded(const char *p, size_t n)
{
    uint64_t v = 0;
    memcpy(&v, p, n < 8 ? n : 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#elif !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
    const unsigned char *b = (const unsigned char *)&v;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = x << 8 | b[i];
    v = x;
#endif
    return v;
}

static void set_prefix(entry *e, const char *meter)
{
    e->p0 = load_be_padded(meter, e->mlen);
    e->p1 = e->mlen > 8 ? load_be_padded(meter + 8, e->mlen - 8) : 0;
}

/* BINARY collation: the common bytes, then the shorter first. */
static int cmp_text(const char *a, size_t na, const char *b, size_t nb)
{
    int c = memcmp(a, b, na < nb ? na : nb);
    if (c)
        return c;
    return na < nb ? -1 : na > nb;
}

/* Orders a (its texts in ba) and b (in bb). Different prefixes order two meter IDs as their
 * bytes do (a zero pad sorts before any byte, as the shorter text does); equal prefixes of
 * two meter IDs of the same length up to 16 bytes are equal IDs. */
static int cmp_entry(const entry *a, const char *ba, const entry *b, const char *bb)
{
    if (a->p0 != b->p0)
        return a->p0 < b->p0 ? -1 : 1;
    if (a->p1 != b->p1)
        return a->p1 < b->p1 ? -1 : 1;
    if (a->mlen != b->mlen || a->mlen > 16) {
        int c = cmp_text(ba + a->off, a->mlen, bb + b->off, b->mlen);
        if (c)
            return c;
    }
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    int c = cmp_text(ba + a->off + a->mlen, a->idlen, bb + b->off + b->mlen, b->idlen);
    if (c)
        return c;
    return a->vf < b->vf ? -1 : a->vf > b->vf;
}

/* Sorts the run in memory (a stable bottom-up merge sort through m->tmp). */
static void sort_run(ps_meter_sort *m)
{
    entry *src = m->ents, *dst = m->tmp;
    const char *by = m->bytes;
    size_t n = m->n;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = cmp_entry(&src[j], by, &src[i], by) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        entry *t = src;
        src = dst;
        dst = t;
    }
    if (src != m->ents) {
        m->tmp = m->ents;
        m->ents = src;
    }
}

ps_meter_sort *ps_meter_sort_new(size_t budget_bytes, const char *tmpdir)
{
    ps_meter_sort *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->fd = -1;
    m->budget = budget_bytes;
    ps_temp_dir(tmpdir, m->tmpdir, sizeof m->tmpdir);
    return m;
}

static int flush_write(ps_meter_sort *m)
{
    size_t done = 0;
    while (done < m->wlen) {
        ssize_t w = pwrite(m->fd, m->wbuf + done, m->wlen - done, m->file_end);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        done += (size_t)w;
        m->file_end += w;
    }
    m->wlen = 0;
    return 0;
}

static int put(ps_meter_sort *m, const void *p, size_t n)
{
    while (n) {
        if (m->wlen == WRITE_BUF && flush_write(m) != 0)
            return -1;
        size_t k = WRITE_BUF - m->wlen < n ? WRITE_BUF - m->wlen : n;
        memcpy(m->wbuf + m->wlen, p, k);
        m->wlen += k;
        p = (const char *)p + k;
        n -= k;
    }
    return 0;
}

/* Sorts the run in memory and appends it to the temporary file; the run is then empty. */
static int spill(ps_meter_sort *m)
{
    if (m->fd < 0 && (m->fd = ps_temp_fd(m->tmpdir, "paysync-meters-")) < 0)
        return -1;
    if (!m->wbuf && !(m->wbuf = malloc(WRITE_BUF)))
        return -1;
    off_t *rs = realloc(m->run_start, (m->runs + 2) * sizeof *rs);
    if (!rs)
        return -1;
    m->run_start = rs;
    sort_run(m);
    rs[m->runs] = m->file_end;
    for (size_t i = 0; i < m->n; i++) {
        const entry *e = &m->ents[i];
        char head[HEAD_BYTES];
        memcpy(head, &e->mlen, 4);
        memcpy(head + 4, &e->idlen, 4);
        memcpy(head + 8, &e->ts, 8);
        memcpy(head + 16, &e->vf, 8);
        if (put(m, head, sizeof head) != 0 ||
            put(m, m->bytes + e->off, (size_t)e->mlen + e->idlen) != 0)
            return -1;
    }
    if (flush_write(m) != 0)
        return -1;
    m->runs++;
    rs[m->runs] = m->file_end;
    m->n = 0;
    m->nbytes = 0;
    return 0;
}

/* Grows the in-memory run to hold one more entry and len more bytes. */
static int make_room(ps_meter_sort *m, size_t len)
{
    if (m->n == m->cap) {
        size_t c = m->cap ? m->cap * 2 : 256;
        entry *e = realloc(m->ents, c * sizeof *e);
        if (!e)
            return -1;
        m->ents = e;
        entry *t = realloc(m->tmp, c * sizeof *t);
        if (!t)
            return -1;
        m->tmp = t;
        m->cap = c;
    }
    if (m->nbytes + len > m->bytes_cap) {
        size_t c = m->bytes_cap ? m->bytes_cap : 4096;
        while (c < m->nbytes + len)
            c *= 2;
        char *b = realloc(m->bytes, c);
        if (!b)
            return -1;
        m->bytes = b;
        m->bytes_cap = c;
    }
    return 0;
}

int ps_meter_sort_add(ps_meter_sort *m, const ps_meter_key *key)
{
    if (m->finished || key->meter_len > UINT32_MAX || key->id_len > UINT32_MAX) {
        errno = EINVAL;
        return -1;
    }
    size_t len = key->meter_len + key->id_len;
    if (m->n && (m->n + 1) * ENTRY_COST + m->nbytes + len > m->budget && spill(m) != 0)
        return -1;
    if (make_room(m, len) != 0)
        return -1;
    entry *e = &m->ents[m->n++];
    e->off = m->nbytes;
    e->mlen = (uint32_t)key->meter_len;
    e->idlen = (uint32_t)key->id_len;
    e->ts = key->timestamp_ms;
    e->vf = key->valid_from;
    if (key->meter_len)
        memcpy(m->bytes + m->nbytes, key->meter, key->meter_len);
    if (key->id_len)
        memcpy(m->bytes + m->nbytes + key->meter_len, key->id, key->id_len);
    set_prefix(e, m->bytes + m->nbytes);
    m->nbytes += len;
    m->count++;
    return 0;
}

static int reader_fill(int fd, run_reader *r)
{
    while (r->have < r->cap && r->pos < r->end) {
        size_t want = r->cap - r->have;
        if ((off_t)want > r->end - r->pos)
            want = (size_t)(r->end - r->pos);
        ssize_t got = pread(fd, r->buf + r->have, want, r->pos);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = EIO;
            return -1;
        }
        r->have += (size_t)got;
        r->pos += got;
    }
    return 0;
}

/* Advances reader r to the next key of its run: 1, 0 at the run's end, -1 with errno set. */
static int reader_advance(int fd, run_reader *r)
{
    r->at += r->step;
    r->step = 0;
    for (;;) {
        size_t left = r->have - r->at, need = HEAD_BYTES;
        if (left == 0 && r->pos == r->end)
            return 0;
        if (left >= HEAD_BYTES) {
            uint32_t ml, il;
            memcpy(&ml, r->buf + r->at, 4);
            memcpy(&il, r->buf + r->at + 4, 4);
            need += (size_t)ml + il;
            if (left >= need) {
                r->cur.mlen = ml;
                r->cur.idlen = il;
                memcpy(&r->cur.ts, r->buf + r->at + 8, 8);
                memcpy(&r->cur.vf, r->buf + r->at + 16, 8);
                r->cur.off = r->at + HEAD_BYTES;
                set_prefix(&r->cur, r->buf + r->cur.off);
                r->step = need;
                return 1;
            }
        }
        if (r->pos == r->end) { /* the run ends inside a key */
            errno = EIO;
            return -1;
        }
        memmove(r->buf, r->buf + r->at, left);
        r->have = left;
        r->at = 0;
        if (need > r->cap) {
            char *b = realloc(r->buf, need);
            if (!b)
                return -1;
            r->buf = b;
            r->cap = need;
        }
        if (reader_fill(fd, r) != 0)
            return -1;
    }
}

static int heap_less(const ps_meter_sort *m, size_t a, size_t b)
{
    const run_reader *ra = &m->readers[a], *rb = &m->readers[b];
    return cmp_entry(&ra->cur, ra->buf, &rb->cur, rb->buf) < 0;
}

static void heap_down(ps_meter_sort *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, best = i;
        if (l < m->nheap && heap_less(m, m->heap[l], m->heap[best]))
            best = l;
        if (l + 1 < m->nheap && heap_less(m, m->heap[l + 1], m->heap[best]))
            best = l + 1;
        if (best == i)
            return;
        size_t t = m->heap[i];
        m->heap[i] = m->heap[best];
        m->heap[best] = t;
        i = best;
    }
}

int ps_meter_sort_finish(ps_meter_sort *m)
{
    if (m->finished) {
        errno = EINVAL;
        return -1;
    }
    if (m->runs && m->n && spill(m) != 0)
        return -1;
    if (!m->runs)
        sort_run(m);
    m->finished = 1;
    if (!m->runs)
        return 0;
    /* every key is in the file: the run's memory goes, the readers' comes */
    free(m->ents);
    free(m->tmp);
    free(m->bytes);
    free(m->wbuf);
    m->ents = m->tmp = NULL;
    m->bytes = m->wbuf = NULL;
    m->n = m->cap = m->nbytes = m->bytes_cap = 0;
    m->readers = calloc(m->runs, sizeof *m->readers);
    m->heap = calloc(m->runs, sizeof *m->heap);
    if (!m->readers || !m->heap)
        return -1;
    for (size_t i = 0; i < m->runs; i++) {
        run_reader *r = &m->readers[i];
        r->pos = m->run_start[i];
        r->end = m->run_start[i + 1];
        if (!(r->buf = malloc(READ_BUF)))
            return -1;
        r->cap = READ_BUF;
    }
    return 0;
}

/* Reads the first key of every run and builds the heap (the first ps_meter_sort_next). */
static int heap_start(ps_meter_sort *m)
{
    for (size_t i = 0; i < m->runs; i++) {
        int k = reader_advance(m->fd, &m->readers[i]);
        if (k < 0)
            return -1;
        if (k)
            m->heap[m->nheap++] = i;
    }
    for (size_t i = m->nheap / 2; i-- > 0;)
        heap_down(m, i);
    m->heap_ready = 1;
    return 0;
}

static void to_key(const entry *e, const char *bytes, ps_meter_key *key)
{
    key->meter = bytes + e->off;
    key->meter_len = e->mlen;
    key->timestamp_ms = e->ts;
    key->id = bytes + e->off + e->mlen;
    key->id_len = e->idlen;
    key->valid_from = e->vf;
}

int ps_meter_sort_next(ps_meter_sort *m, ps_meter_key *key)
{
    if (!m->finished) {
        errno = EINVAL;
        return -1;
    }
    if (!m->runs) {
        if (m->next == m->n)
            return 0;
        to_key(&m->ents[m->next++], m->bytes, key);
        return 1;
    }
    if (!m->heap_ready) {
        if (heap_start(m) != 0)
            return -1;
    } else if (m->nheap) {
        /* the run of the key handed out last time moves on only now: its bytes stayed valid */
        int k = reader_advance(m->fd, &m->readers[m->heap[0]]);
        if (k < 0)
            return -1;
        if (!k)
            m->heap[0] = m->heap[--m->nheap];
        if (m->nheap)
            heap_down(m, 0);
    }
    if (!m->nheap)
        return 0;
    const run_reader *r = &m->readers[m->heap[0]];
    to_key(&r->cur, r->buf, key);
    return 1;
}

uint64_t ps_meter_sort_count(const ps_meter_sort *m)
{
    return m->count;
}

size_t ps_meter_sort_spilled_runs(const ps_meter_sort *m)
{
    return m->runs;
}

const char *ps_meter_sort_tmpdir(const ps_meter_sort *m)
{
    return m->tmpdir;
}

void ps_meter_sort_free(ps_meter_sort *m)
{
    if (!m)
        return;
    if (m->readers)
        for (size_t i = 0; i < m->runs; i++)
            free(m->readers[i].buf);
    free(m->readers);
    free(m->heap);
    free(m->run_start);
    free(m->ents);
    free(m->tmp);
    free(m->bytes);
    free(m->wbuf);
    if (m->fd >= 0)
        close(m->fd);
    free(m);
}
