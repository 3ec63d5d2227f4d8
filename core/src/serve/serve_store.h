/* paysync serve: the store as the HTTP server reads it: a small pool of read-only handles
 * (store/store.h) and the payments window across datasets, read through the store's one
 * payment query. Every value from a request is a bound parameter of that query. */
#ifndef PS_SERVE_STORE_H
#define PS_SERVE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "paysync/model.h"
#include "paysync/status.h"
#include "store/store.h"

typedef struct ps_serve_store ps_serve_store;

/* Creates a pool of at most `pool` read-only handles on the store at ref (copied; opened
 * lazily, so a missing store is not an error here). Errors: PS_ERR_NOMEM. Free with
 * ps_serve_store_free (after every handle was released). */
ps_status ps_serve_store_new(const ps_store_ref *ref, size_t pool, ps_serve_store **out,
                             ps_error *err);
void ps_serve_store_free(ps_serve_store *s);
/* The location whose run state file applies to the store (owned by s; NULL when the store
 * keeps none: ps_store_state_location). */
const char *ps_serve_store_path(const ps_serve_store *s);

/* Takes a handle (opening one when none is idle) and checks that the store has the schema
 * this build reads. Errors (PS_ERR_IO) say why the store is unavailable: missing file, not a
 * database, no schema yet, schema too old. Release it with ps_serve_store_release;
 * broken = 1 closes it instead of pooling it. */
ps_status ps_serve_store_acquire(ps_serve_store *s, ps_store **db, ps_error *err);
void ps_serve_store_release(ps_serve_store *s, ps_store *db, int broken);

/* The store's integrity check (ps_store_verify) on db, a handle from acquire, for /healthz
 * and /metrics: run again only when the store file changed (identity, size or modification
 * time), else the last result is returned. Errors as ps_store_verify. */
ps_status ps_serve_store_verify(ps_serve_store *s, ps_store *db, ps_error *err);

/* Filter of ps_serve_store_payments. */
typedef struct ps_serve_filter {
    int64_t from_ms, to_ms;      /* inclusive */
    const char *const *datasets; /* allowed datasets; ignored when all_datasets */
    size_t ndatasets;
    int all_datasets;
    const char *site_id;      /* target_id = ?, NULL = any */
    const char *financing_id; /* financing_id = ?, NULL = any */
} ps_serve_filter;

/* The store query of a serve filter: the window, the allowed datasets (every dataset with a
 * recorded run when all_datasets), target and financing IDs, vanished payments left out.
 * Returns 0, or -1 when the filter allows no dataset at all (nothing to read). */
int ps_serve_filter_query(const ps_serve_filter *f, ps_store_query *q);

/* Calls fn for each payment not marked vanished in the window, ordered by timestamp then ID
 * (then dataset); the row's strings are valid only during the call. fn returns 0 to go on,
 * non-zero to stop with PS_ERR_NOMEM. Errors: PS_ERR_IO with the store's message; *broken
 * (may be NULL) set when the handle should not be reused. */
ps_status ps_serve_store_payments(ps_store *db, const ps_serve_filter *f,
                                  int (*fn)(void *ud, const ps_store_payment *row), void *ud,
                                  int *broken, ps_error *err);

#endif
