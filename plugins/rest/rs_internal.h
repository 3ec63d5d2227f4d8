/* rest: the provider instance shared by the plugin's files. */
#ifndef PS_RS_INTERNAL_H
#define PS_RS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "paysync/plugin.h"
#include "rs_json.h"
#include "rs_manifest.h"

/* A key -> item index (open addressing) of a lookup. */
typedef struct rs_index {
    const char **keys;
    const rs_node **items;
    size_t cap, count;
} rs_index;

/* Paging through one endpoint, a page at a time (rs_pager_next). */
typedef struct rs_pager {
    const rs_endpoint *ep;
    long long page, offset; /* the next page's {page} and {offset} */
    char *next_url;         /* next_url paging: the next page's URL (malloc'd) */
    uint64_t n;             /* pages requested */
    uint64_t total;         /* records received */
    int done;               /* the last page was read */
} rs_pager;

typedef struct rs {
    const ps_host *host;
    const ps_env *env;
    const ps_options *opts;
    const char *instance;
    rs_manifest *m;
    ps_http_client *http;
    /* options (text as set or defaulted by the manifest or the table) */
    const char *api_url;
    int64_t page_size, max_pages, max_records, overlap_ms;
    int64_t start_ms; /* -1: no start */
    /* run state (open .. close) */
    rs_pool *run;  /* lookups' pages, self lookups' copies, login answers */
    rs_pool *page; /* the main request's current page (freed when the next is read) */
    char *token;  /* login / oauth2 token (malloc'd) */
    int relogins;
    uint64_t requests;           /* requests of this run (logins included) */
    int64_t since_ms;            /* -1: read from the beginning */
    int64_t until_ms;            /* the run's start ({until}) */
    int64_t prev_max_ms, max_ms; /* cursor field: last run's and this run's maxima; -1 none */
    int64_t future_ms;           /* times after this do not move the cursor */
    uint64_t timed, future;      /* records with a cursor time; those too far ahead */
    rs_pager main_pg;         /* the main request, read page by page in next_batch */
    const rs_node *cur_item;  /* next item of the current page, NULL at its end */
    int first_page_logged;
    uint64_t nrecords, nfiltered, emitted, npages;
    uint64_t nfiltered_told; /* filtered items already reported in a batch */
    size_t batch_rows;
    rs_index lookups[RS_MAX_LOOKUPS];
    /* paging variables while reading */
    char page_var[32], offset_var[32], limit_var[32];
    char *cursor_var, *after_var;
    char since_var[40], until_var[40], since_date[16];
    char cursor_json[128];
    char desc[512];
} rs;

/* Option text: the config's value, else the manifest's default, else the table's default;
 * NULL when none. */
const char *rs_opt(const rs *p, const char *name);

/* Template variables: options, then the run's (since, until, page, ...). */
const char *rs_var(void *ctx, const char *name);

/* Logs in (token_login, oauth2) and keeps the token; PS_OK at once for other auth types. */
ps_status rs_login(rs *p, ps_error *err);
/* Paging: start (g zeroed or freed before), then next: PS_OK with *recs the page's records
 * (an ARR, or RS_NULL when the page has none) parsed into pool, PS_END after the last page,
 * or an error (max_pages and max_records are checked). free releases what start took. */
void rs_pager_start(rs *p, rs_pager *g, const rs_endpoint *ep);
ps_status rs_pager_next(rs *p, rs_pager *g, rs_pool *pool, const rs_node **recs, ps_error *err);
void rs_pager_free(rs *p, rs_pager *g);
/* Reads every page of endpoint ep into the run pool, calling each(ctx, records ARR) per page
 * that has records; bounded by max_pages and max_records (adds the records to *total). */
ps_status rs_fetch_all(rs *p, const rs_endpoint *ep, int (*each)(void *ctx, const rs_node *recs),
                       void *ctx, uint64_t *total, ps_error *err);
/* One request of the first page of the main endpoint (for check). */
ps_status rs_fetch_first(rs *p, ps_error *err);

/* Field evaluation: the value of spec for record item; *text NULL when empty. */
int rs_eval(rs *p, const rs_node *spec, const rs_node *item, ps_arena *arena, const char **text,
            uint32_t *len, uint8_t *type);
/* 1 when item passes every filter. */
int rs_keep(const rs *p, const rs_node *item);
/* Adds an array of items to the index of lookup i (called per page; the first item with a
 * key wins). copy: index copies of the items (in the run pool), for items whose page is
 * freed later. -1 out of memory. */
int rs_index_add(rs *p, size_t i, const rs_node *items, int copy);
const rs_node *rs_index_get(const rs_index *x, const char *key);

#endif
