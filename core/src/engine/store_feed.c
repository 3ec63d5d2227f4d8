/* paysync engine: the store read back for sinks that commit after it (store_feed.h). */
#include "engine/store_feed.h"

#include <string.h>

#include "model/decimal.h"
#include "store/store.h"

ps_status ps_store_feed_payments(const ps_commit_info *info,
                                 int (*each)(void *ctx, const ps_record *rec), void *ctx,
                                 ps_error *err)
{
    const ps_store_feed *sf = info->store_ctx;
    if (!sf || !each)
        return ps_error_setf(err, PS_ERR_INTERNAL, "stored_payments: no store context");
    ps_store_ref ref;
    ps_status st = ps_store_locate(sf->cfg, sf->def, &ref, err);
    if (st == PS_END)
        return ps_error_setf(err, PS_ERR_IO, "dataset '%s' writes to no store", sf->def->name);
    if (st != PS_OK)
        return st;
    st = ps_store_feed_ref(&ref, sf->def->name, each, ctx, err);
    ps_store_ref_free(&ref);
    return st;
}

ps_status ps_store_feed_ref(const struct ps_store_ref *ref, const char *dataset,
                            int (*each)(void *ctx, const ps_record *rec), void *ctx, ps_error *err)
{
    ps_store *s = NULL;
    ps_status st = ps_store_open(ref, PS_STORE_WAIT_MS, &s, err);
    if (st != PS_OK)
        return st;
    const char *names[1] = {dataset};
    ps_store_query q = {.datasets = names, .ndatasets = 1, .unbounded = 1};
    ps_store_iter *it = NULL;
    st = ps_store_payments(s, &q, &it, err);
    ps_store_payment p;
    while (st == PS_OK && (st = ps_store_next_payment(it, &p, err)) == PS_OK) {
        ps_record rec;
        memset(&rec, 0, sizeof rec);
        for (int f = 0; f < PS_FIELD_COUNT; f++)
            rec.field[f] = ps_str_from(p.field[f]);
        rec.source_row = p.source_row;
        rec.timestamp_ms = p.timestamp_ms;
        rec.amount = p.amount;
        const ps_str *ch = &rec.field[PS_F_TRANSACTION_CHARGES];
        rec.has_charges =
            ch->ptr && ps_decimal_parse(ch->ptr, ch->len, PS_DECIMAL_MAX_SCALE, &rec.charges) == 0;
        if (each(ctx, &rec) != 0)
            st = PS_ERR_SINK;
    }
    ps_store_iter_free(it);
    ps_store_close(s);
    return st == PS_END ? PS_OK : st;
}
