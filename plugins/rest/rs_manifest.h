/* rest: a connector manifest (YAML) read and checked into a description of the API. See
 * docs/connectors.md for the format. Everything points into the manifest's pool. */
#ifndef PS_RS_MANIFEST_H
#define PS_RS_MANIFEST_H

#include <stddef.h>

#include "paysync/model.h"
#include "rs_json.h"

#define RS_MAX_FILTERS 32
#define RS_MAX_LOOKUPS 16
#define RS_MAX_REQUIRED 32

typedef enum rs_auth_kind {
    RS_AUTH_NONE = 0,
    RS_AUTH_HEADERS, /* header, bearer, api_key: headers from templates */
    RS_AUTH_BASIC,
    RS_AUTH_LOGIN, /* token_login */
    RS_AUTH_OAUTH2 /* client credentials */
} rs_auth_kind;

typedef enum rs_page_kind {
    RS_PAGE_NONE = 0,
    RS_PAGE_NEXT_URL, /* the body names the next URL */
    RS_PAGE_CURSOR,   /* the body holds a cursor for {cursor} */
    RS_PAGE_OFFSET,   /* {offset} grows by the records read, {limit} = page_size */
    RS_PAGE_NUMBER,   /* {page} counts from `start` */
    RS_PAGE_KEYSET    /* {after} = the last record's `from` field */
} rs_page_kind;

typedef struct rs_paging {
    rs_page_kind kind;
    const char *next;  /* NEXT_URL: pointer to the URL; CURSOR: pointer to the cursor */
    const char *from;  /* KEYSET: record field */
    const char *total; /* optional: pointer to the total count (stop when reached) */
    long long start;   /* NUMBER: first page (1); OFFSET: first offset (0) */
    int short_stops;   /* a page with fewer records than page_size is the last */
} rs_paging;

/* One request that yields records: the main read or a lookup's. */
typedef struct rs_endpoint {
    const char *name;   /* "request", "lookups.meters" (messages) */
    const char *method; /* GET, POST, ... */
    const char *path;   /* template, relative to api_url, or an absolute URL template */
    const rs_node *query, *body, *headers; /* OBJ nodes or NULL */
    const char *records;                   /* pointer to the record array ("" = the body itself) */
    rs_paging paging;
} rs_endpoint;

typedef enum rs_filter_op {
    RS_F_EQ,
    RS_F_NE,
    RS_F_IN,
    RS_F_NOT_IN,
    RS_F_PRESENT,
    RS_F_ABSENT
} rs_filter_op;

typedef struct rs_filter {
    const char *path;
    rs_filter_op op;
    const rs_node *values; /* EQ/NE: a scalar node; IN/NOT_IN: an ARR of scalars */
} rs_filter;

typedef struct rs_lookup_def {
    const char *name;
    int self;        /* from: self (this run's records) */
    rs_endpoint ep;  /* when not self */
    const char *key; /* pointer in the looked-up item */
} rs_lookup_def;

typedef struct rs_manifest {
    rs_pool *pool;
    const char *file; /* as given */
    const char *connector;
    const char *description;
    const rs_node *defaults; /* options: OBJ (option -> default text) or NULL */
    const char *required[RS_MAX_REQUIRED];
    size_t nrequired;
    /* auth */
    rs_auth_kind auth;
    const char *auth_type;       /* as written */
    const rs_node *auth_headers; /* OBJ of header -> template, or NULL */
    const char *basic_user, *basic_pass;
    rs_endpoint login;     /* token_login */
    const char *token_ptr; /* token_login / oauth2: pointer to the token in the answer */
    const char *oauth_url, *oauth_id, *oauth_secret, *oauth_scope;
    int oauth_basic; /* send client credentials as HTTP Basic (else in the form body) */
    /* data */
    rs_endpoint main;
    const char *flatten; /* pointer to a list in each item whose entries are the records */
    rs_filter filters[RS_MAX_FILTERS];
    size_t nfilters;
    const char *cursor_field; /* incremental.field, or NULL */
    /* incremental.timestamp_lag: how much later than the cursor field TIMESTAMP may be (ms),
     * -1 when not given (then the window is reported only when TIMESTAMP is the cursor
     * field itself) */
    int64_t timestamp_lag_ms;
    int main_uses_since; /* the main request's templates use {since} or {since_date} */
    rs_lookup_def lookups[RS_MAX_LOOKUPS];
    size_t nlookups;
    const rs_node *fields[PS_FIELD_COUNT]; /* field specs, NULL when not mapped */
} rs_manifest;

/* Reads and checks the manifest at path. known(name) says whether an option exists (for
 * `options` and `required`), field_name(i) gives model field names. Returns PS_OK-like 0 and
 * *out (free with rs_manifest_free), or -1 with a message naming the file, line and key. */
int rs_manifest_load(const char *path, int (*known)(const char *name),
                     const char *(*field_name)(int field), rs_manifest **out, char *msg,
                     size_t cap);
void rs_manifest_free(rs_manifest *m);

/* The default the manifest gives option name (text), NULL when none. */
const char *rs_manifest_default(const rs_manifest *m, const char *name);

#endif
