/* paysync store: see store_stats.h. */
#include "store/store_stats.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void ps_stats_free(ps_store_stats *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++) {
        free(s[i].dataset);
        for (size_t k = 0; k < s[i].ncodes; k++)
            free(s[i].codes[k].code);
        free(s[i].codes);
        for (size_t k = 0; k < s[i].nwcodes; k++)
            free(s[i].wcodes[k].code);
        free(s[i].wcodes);
    }
    free(s);
}

/* Finds or appends the entry of dataset name (COUNTS adds; the later queries only look up).
 * NULL when absent and add == 0, or out of memory (*oom set). */
static ps_store_stats *entry(ps_stats_build *b, const char *name, int add, int *oom)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->v[i].dataset, name) == 0)
            return &b->v[i];
    if (!add)
        return NULL;
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 8;
        ps_store_stats *nv = realloc(b->v, nc * sizeof *nv);
        if (!nv) {
            *oom = 1;
            return NULL;
        }
        b->v = nv;
        b->cap = nc;
    }
    ps_store_stats *e = &b->v[b->n];
    memset(e, 0, sizeof *e);
    if (!(e->dataset = strdup(name))) {
        *oom = 1;
        return NULL;
    }
    e->last_success_duration_ms = -1;
    b->n++;
    return e;
}

static int64_t num(const char *const *col, int ncol, int i)
{
    return i < ncol && col[i] ? (int64_t)strtoll(col[i], NULL, 10) : 0;
}

static int null(const char *const *col, int ncol, int i)
{
    return i >= ncol || !col[i];
}

int ps_stats_add_row(ps_stats_build *b, int q, const char *const *col, int ncol)
{
    int oom = 0;
    const char *name = ncol > 0 ? col[0] : NULL;
    ps_store_stats *e = name ? entry(b, name, q == PS_STATS_COUNTS, &oom) : NULL;
    if (!e)
        return oom ? -1 : 0;
    switch (q) {
    case PS_STATS_COUNTS: {
        const char *outcome = ncol > 1 ? col[1] : NULL;
        uint64_t runs = (uint64_t)num(col, ncol, 2);
        if (outcome && strcmp(outcome, "ok") == 0)
            e->runs_ok += runs;
        else
            e->runs_failed += runs;
        for (int k = 0; k < PS_STORE_NOUTCOMES; k++)
            e->rows[k] += (uint64_t)num(col, ncol, 3 + k);
        break;
    }
    case PS_STATS_SUCCESS:
        e->has_success = 1;
        e->last_success_ms = null(col, ncol, 1) ? -1 : num(col, ncol, 1);
        if (!null(col, ncol, 2) && !null(col, ncol, 3))
            e->last_success_duration_ms = num(col, ncol, 3) - num(col, ncol, 2);
        break;
    case PS_STATS_LAST: {
        const char *outcome = ncol > 2 ? col[2] : NULL;
        e->has_run = 1;
        e->last_run_ok = outcome && strcmp(outcome, "ok") == 0;
        e->last_run_ms = null(col, ncol, 1) ? -1 : num(col, ncol, 1);
        break;
    }
    case PS_STATS_GUARD:
        e->guard_trips = (uint64_t)num(col, ncol, 1);
        break;
    case PS_STATS_CODES:
    case PS_STATS_WCODES: {
        struct ps_store_code_count **tab = q == PS_STATS_CODES ? &e->codes : &e->wcodes;
        size_t *ntab = q == PS_STATS_CODES ? &e->ncodes : &e->nwcodes;
        const char *code = ncol > 1 ? col[1] : NULL;
        if (!code)
            break;
        struct ps_store_code_count *nc = realloc(*tab, (*ntab + 1) * sizeof *nc);
        if (!nc)
            return -1;
        *tab = nc;
        if (!(nc[*ntab].code = strdup(code)))
            return -1;
        nc[(*ntab)++].count = (uint64_t)num(col, ncol, 2);
        break;
    }
    default:
        break;
    }
    return 0;
}
