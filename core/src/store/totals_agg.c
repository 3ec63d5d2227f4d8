/* paysync store: per-day totals summed in a hash table of groups (totals_agg.h). */
#include "store/totals_agg.h"

#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

typedef struct group {
    int64_t day;
    uint32_t cur, type;           /* indexes into names */
    uint32_t cur_rank, type_rank; /* their places in name order (set by finish) */
    uint64_t count;
    int64_t units4; /* sum at scale 4 */
    int scale;      /* largest scale seen */
} group;

struct ps_totals_agg {
    char **names; /* distinct currency and type texts */
    size_t nnames, capnames;
    uint32_t last_cur, last_type; /* the previous row's (rows repeat them) */
    group *groups;
    size_t ngroups, capgroups;
    uint32_t *slots; /* open addressing: group index + 1, 0 = empty */
    size_t nslots;
};

ps_totals_agg *ps_totals_agg_new(void)
{
    ps_totals_agg *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->nslots = 1024;
    a->slots = calloc(a->nslots, sizeof *a->slots);
    a->last_cur = a->last_type = UINT32_MAX;
    if (!a->slots) {
        free(a);
        return NULL;
    }
    return a;
}

void ps_totals_agg_free(ps_totals_agg *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nnames; i++)
        free(a->names[i]);
    free(a->names);
    free(a->groups);
    free(a->slots);
    free(a);
}

static int same(const char *name, const char *s, size_t n)
{
    return strncmp(name, s, n) == 0 && name[n] == '\0';
}

/* Index of the text s (n bytes) among the names, added when new; *last caches the previous
 * answer for this column. UINT32_MAX when out of memory. */
static uint32_t intern(ps_totals_agg *a, const char *s, size_t n, uint32_t *last)
{
    if (*last != UINT32_MAX && same(a->names[*last], s, n))
        return *last;
    for (size_t i = 0; i < a->nnames; i++)
        if (same(a->names[i], s, n))
            return *last = (uint32_t)i;
    if (a->nnames == a->capnames) {
        size_t nc = a->capnames ? a->capnames * 2 : 16;
        char **nv = realloc(a->names, nc * sizeof *nv);
        if (!nv)
            return UINT32_MAX;
        a->names = nv;
        a->capnames = nc;
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return UINT32_MAX;
    memcpy(copy, s, n);
    copy[n] = '\0';
    a->names[a->nnames] = copy;
    return *last = (uint32_t)a->nnames++;
}

static size_t slot_of(const ps_totals_agg *a, int64_t day, uint32_t cur, uint32_t type)
{
    uint64_t h = (uint64_t)day * 0x9E3779B97F4A7C15ULL ^ (uint64_t)cur * 0xC2B2AE3D27D4EB4FULL ^
                 (uint64_t)type * 0x165667B19E3779F9ULL;
    h ^= h >> 29;
    return (size_t)(h & (a->nslots - 1));
}

static int grow_slots(ps_totals_agg *a)
{
    size_t n = a->nslots * 2;
    uint32_t *ns = calloc(n, sizeof *ns);
    if (!ns)
        return -1;
    free(a->slots);
    a->slots = ns;
    a->nslots = n;
    for (size_t g = 0; g < a->ngroups; g++) {
        size_t k = slot_of(a, a->groups[g].day, a->groups[g].cur, a->groups[g].type);
        while (a->slots[k])
            k = (k + 1) & (n - 1);
        a->slots[k] = (uint32_t)g + 1;
    }
    return 0;
}

int ps_totals_agg_add(ps_totals_agg *a, int64_t timestamp_ms, const char *cur, size_t cur_len,
                      const char *type, size_t type_len, ps_decimal amount)
{
    uint32_t c = intern(a, cur, cur_len, &a->last_cur);
    uint32_t t = c == UINT32_MAX ? c : intern(a, type, type_len, &a->last_type);
    if (t == UINT32_MAX)
        return -1;
    int64_t day = timestamp_ms / DAY_MS - (timestamp_ms % DAY_MS < 0 ? 1 : 0);
    size_t k = slot_of(a, day, c, t);
    while (a->slots[k]) {
        group *g = &a->groups[a->slots[k] - 1];
        if (g->day == day && g->cur == c && g->type == t)
            break;
        k = (k + 1) & (a->nslots - 1);
    }
    group *g;
    if (a->slots[k]) {
        g = &a->groups[a->slots[k] - 1];
    } else {
        if (a->ngroups == a->capgroups) {
            size_t nc = a->capgroups ? a->capgroups * 2 : 256;
            group *nv = realloc(a->groups, nc * sizeof *nv);
            if (!nv)
                return -1;
            a->groups = nv;
            a->capgroups = nc;
        }
        g = &a->groups[a->ngroups];
        *g = (group){.day = day, .cur = c, .type = t};
        a->slots[k] = (uint32_t)++a->ngroups;
        if (a->ngroups * 2 > a->nslots && grow_slots(a) != 0)
            return -1;
        g = &a->groups[a->ngroups - 1];
    }
    int scale = amount.scale > PS_DECIMAL_MAX_SCALE ? PS_DECIMAL_MAX_SCALE : amount.scale;
    int64_t v = amount.units;
    for (int s = scale; s < PS_DECIMAL_MAX_SCALE; s++)
        if (__builtin_mul_overflow(v, 10, &v))
            return -2;
    if (__builtin_add_overflow(g->units4, v, &g->units4))
        return -2;
    g->count++;
    if (scale > g->scale)
        g->scale = scale;
    return 0;
}

static int by_key(const void *x, const void *y)
{
    const group *a = x, *b = y;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    if (a->cur_rank != b->cur_rank)
        return a->cur_rank < b->cur_rank ? -1 : 1;
    return a->type_rank < b->type_rank ? -1 : a->type_rank > b->type_rank;
}

size_t ps_totals_agg_finish(ps_totals_agg *a)
{
    /* each name's rank in strcmp order: the names are few (currency codes, types) */
    uint32_t *rank = calloc(a->nnames + 1, sizeof *rank);
    for (size_t i = 0; rank && i < a->nnames; i++)
        for (size_t j = 0; j < a->nnames; j++)
            rank[i] += strcmp(a->names[j], a->names[i]) < 0;
    for (size_t g = 0; g < a->ngroups; g++) {
        a->groups[g].cur_rank = rank ? rank[a->groups[g].cur] : a->groups[g].cur;
        a->groups[g].type_rank = rank ? rank[a->groups[g].type] : a->groups[g].type;
    }
    free(rank);
    if (a->ngroups > 1) /* groups is NULL when there are none: qsort's pointer must not be */
        qsort(a->groups, a->ngroups, sizeof *a->groups, by_key);
    return a->ngroups;
}

void ps_totals_agg_get(const ps_totals_agg *a, size_t i, int64_t *day, const char **cur,
                       const char **type, uint64_t *count, ps_decimal *amount)
{
    const group *g = &a->groups[i];
    *day = g->day;
    *cur = a->names[g->cur];
    *type = a->names[g->type];
    *count = g->count;
    int64_t units = g->units4;
    for (int s = g->scale; s < PS_DECIMAL_MAX_SCALE; s++)
        units /= 10; /* exact: every term is a multiple of 10^(4 - scale) */
    amount->units = units;
    amount->scale = (uint8_t)g->scale;
}
