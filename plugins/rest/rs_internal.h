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

typedef struct rs_page {
    const rs_node *records; /* ARR */
    struct rs_page *next;
} rs_page;

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
    rs_pool *run; /* pages, lookups, tokens */
    char *token;  /* login / oauth2 token (malloc'd) */
    int relogins;
    uint64_t requests;           /* requests of this run (logins included) */
    int64_t since_ms;            /* -1: read from the beginning */
    int64_t until_ms;            /* the run's start ({until}) */
    int64_t prev_max_ms, max_ms; /* cursor field: last run's and this run's maxima; -1 none */
    int64_t future_ms;           /* times after this do not move the cursor */
    uint64_t timed, future;      /* records with a cursor time; those too far ahead */
    rs_page *pages, *cur_page;
    const rs_node *cur_item;
    uint64_t nrecords, nfiltered, emitted, npages;
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
/* Reads every page of endpoint ep, calling each(ctx, records ARR) per page; bounded by
 * max_pages and max_records (total counts records across calls for this endpoint). */
ps_status rs_fetch_all(rs *p, const rs_endpoint *ep, int (*each)(void *ctx, const rs_node *recs),
                       void *ctx, uint64_t *total, ps_error *err);
/* One request of the first page of the main endpoint (for check). */
ps_status rs_fetch_first(rs *p, ps_error *err);

/* Field evaluation: the value of spec for record item; *text NULL when empty. */
int rs_eval(rs *p, const rs_node *spec, const rs_node *item, ps_arena *arena, const char **text,
            uint32_t *len, uint8_t *type);
/* 1 when item passes every filter. */
int rs_keep(const rs *p, const rs_node *item);
/* Builds the index of lookup i from an array of items (called per page). -1 out of memory. */
int rs_index_add(rs *p, size_t i, const rs_node *items);
const rs_node *rs_index_get(const rs_index *x, const char *key);

#endif
