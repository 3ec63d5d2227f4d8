/* paysync engine: ps_commit_info.stored_payments, the store read back for sinks that commit
 * after it (PS_SINK_AFTER_STORE, plugin.h). */
#ifndef PS_STORE_FEED_H
#define PS_STORE_FEED_H

#include "config/config.h"
#include "paysync/plugin.h"

/* What stored_payments needs: the config and the dataset (both outlive the commit). */
typedef struct ps_store_feed {
    const ps_config *cfg;
    const ps_dataset_def *def;
} ps_store_feed;

/* The ps_commit_info.stored_payments of the core; info->store_ctx is a ps_store_feed. Opens
 * the dataset's store read-only, walks its present payments (timestamp, then ID) as records
 * and closes it. PS_ERR_SINK when each stopped the walk; PS_ERR_IO when the store cannot be
 * read (or the dataset has none); PS_ERR_NOMEM. */
ps_status ps_store_feed_payments(const ps_commit_info *info,
                                 int (*each)(void *ctx, const ps_record *rec), void *ctx,
                                 ps_error *err);

/* The same walk over the store at ref (opened read-only, then closed): dataset's present
 * payments, for a caller that holds the store's location itself (the conformance kit's
 * temporary store). Errors as above; PS_ERR_IO when the store cannot be read. */
struct ps_store_ref;
ps_status ps_store_feed_ref(const struct ps_store_ref *ref, const char *dataset,
                            int (*each)(void *ctx, const ps_record *rec), void *ctx, ps_error *err);

#endif
