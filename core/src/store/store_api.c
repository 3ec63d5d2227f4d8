/* paysync store: the built-in backends, finding the configured store, and the reader calls
 * dispatched to a handle's backend (store.h). */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "store/store_schema.h"
#include "store/store_stats.h"
#include "store/totals_agg.h"

const char *const PS_STORE_ROW_OUTCOMES[PS_STORE_NOUTCOMES] = {
    "read",     "accepted", "rejected",  "blank",    "duplicates", "warnings",
    "inserted", "changed",  "unchanged", "vanished", "filtered"};

static const ps_store_backend *const backends[] = {&ps_store_sqlite, &ps_store_postgres};
#define NBACKENDS (sizeof backends / sizeof backends[0])

size_t ps_store_backend_count(void)
{
    return NBACKENDS;
}

const ps_store_backend *ps_store_backend_at(size_t i)
{
    return i < NBACKENDS ? backends[i] : NULL;
}

const ps_store_backend *ps_store_backend_find(const char *plugin)
{
    for (size_t i = 0; plugin && i < NBACKENDS; i++)
        if (strcmp(backends[i]->plugin, plugin) == 0)
            return backends[i];
    return NULL;
}

ps_status ps_store_locate_sink(const ps_config *cfg, const ps_sink_def *s, ps_store_ref *out,
                               ps_error *err)
{
    memset(out, 0, sizeof *out);
    const ps_store_backend *b = s ? ps_store_backend_find(s->ref.plugin) : NULL;
    if (!b)
        return PS_ERR_CONFIG;
    char *loc = b->locate(s->ref.opts, s->ref.nopts, cfg->dir);
    if (!loc)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    out->backend = b;
    out->location = loc;
    return PS_OK;
}

ps_status ps_store_locate(const ps_config *cfg, const ps_dataset_def *d, ps_store_ref *out,
                          ps_error *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < d->nsinks; i++) {
        ps_status st = ps_store_locate_sink(cfg, ps_config_sink(cfg, d->sinks[i]), out, err);
        if (st != PS_ERR_CONFIG)
            return st;
    }
    return PS_END;
}

ps_status ps_store_coord_open(const ps_config *cfg, const ps_sink_def *s, const char *worker,
                              ps_store_coord **out, ps_error *err)
{
    *out = NULL;
    ps_store_ref ref;
    ps_status st = ps_store_locate_sink(cfg, s, &ref, err);
    if (st == PS_ERR_CONFIG)
        return PS_END;
    if (st != PS_OK)
        return st;
    st = ref.backend->coord_open
             ? ref.backend->coord_open(ref.location, s->ref.opts, s->ref.nopts, worker, out, err)
             : PS_END;
    if (st == PS_OK)
        (*out)->backend = ref.backend;
    ps_store_ref_free(&ref);
    return st;
}

void ps_store_coord_close(ps_store_coord *c)
{
    if (c)
        c->backend->coord_close(c);
}

ps_status ps_store_lease_take(ps_store_coord *c, const char *dataset, ps_store_take_result *out,
                              ps_error *err)
{
    memset(out, 0, sizeof *out);
    return c->backend->lease_take(c, dataset, out, err);
}

ps_status ps_store_lease_beat(ps_store_coord *c, ps_error *err)
{
    return c->backend->lease_beat(c, err);
}

void ps_store_lease_release(ps_store_coord *c, const char *dataset)
{
    c->backend->lease_release(c, dataset);
}

int64_t ps_store_lease_timeout_ms(const ps_store_coord *c)
{
    return c->backend->lease_timeout_ms(c);
}

ps_status ps_store_lease_holder(ps_store *s, const char *dataset, ps_store_lease *out,
                                ps_error *err)
{
    memset(out, 0, sizeof *out);
    return s->backend->lease_holder ? s->backend->lease_holder(s, dataset, out, err) : PS_END;
}

ps_status ps_store_pending_vanish(const char *plugin, void *writer, uint64_t *stored,
                                  uint64_t *vanishing, ps_error *err)
{
    const ps_store_backend *b = ps_store_backend_find(plugin);
    *stored = *vanishing = 0;
    if (!b || !b->pending_vanish)
        return PS_END;
    return b->pending_vanish(writer, stored, vanishing, err);
}

int ps_store_set_window(const char *plugin, void *writer, int64_t from_ms, int64_t to_ms)
{
    const ps_store_backend *b = ps_store_backend_find(plugin);
    if (!b || !b->set_window)
        return 0;
    b->set_window(writer, from_ms, to_ms);
    return 1;
}

void ps_store_ref_free(ps_store_ref *ref)
{
    if (!ref)
        return;
    free(ref->location);
    ref->location = NULL;
    ref->backend = NULL;
}

int ps_store_exists(const ps_store_ref *ref)
{
    return ref->backend->exists(ref->location);
}

char *ps_store_shown(const ps_store_ref *ref)
{
    return ref->backend->shown ? ref->backend->shown(ref->location) : strdup(ref->location);
}

const char *ps_store_state_location(const ps_store_ref *ref)
{
    return ref->backend->no_state_file ? NULL : ref->location;
}

ps_status ps_store_previous_columns(const char *plugin, void *writer, char ***prev, size_t *n,
                                    ps_error *err)
{
    const ps_store_backend *b = ps_store_backend_find(plugin);
    *prev = NULL;
    *n = 0;
    if (!b || !b->previous_columns)
        return PS_END;
    return b->previous_columns(writer, prev, n, err);
}

ps_status ps_store_record_columns(const char *plugin, void *writer, const char *const *cols,
                                  size_t ncols, const char *const *missing, size_t nmissing,
                                  ps_error *err)
{
    const ps_store_backend *b = ps_store_backend_find(plugin);
    if (!b || !b->record_columns)
        return PS_END;
    return b->record_columns(writer, cols, ncols, missing, nmissing, err);
}

ps_status ps_store_missing_columns(ps_store *s, const char *dataset, const char *run_id,
                                   char ***names, size_t *n, ps_error *err)
{
    *names = NULL;
    *n = 0;
    if (!s->backend->missing_columns)
        return PS_OK;
    return s->backend->missing_columns(s, dataset, run_id, names, n, err);
}

void ps_store_names_free(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

ps_status ps_store_open(const ps_store_ref *ref, int wait_ms, ps_store **out, ps_error *err)
{
    return ref->backend->open(ref->location, wait_ms, out, err);
}

ps_status ps_store_verify(ps_store *s, ps_error *err)
{
    return s->backend->verify(s, err);
}

int ps_store_run_interrupted(const ps_store_run *r)
{
    return r && !r->finished && r->error &&
           strncmp(r->error, PS_STORE_RUN_INTERRUPTED, strlen(PS_STORE_RUN_INTERRUPTED)) == 0;
}

ps_status ps_store_check(ps_store *s, ps_error *err)
{
    return s->backend->check(s, err);
}

void ps_store_close(ps_store *s)
{
    if (s)
        s->backend->close(s);
}

ps_status ps_store_datasets(ps_store *s, ps_store_iter **it, ps_error *err)
{
    return s->backend->datasets(s, it, err);
}

ps_status ps_store_next_dataset(ps_store_iter *it, ps_store_dataset *out, ps_error *err)
{
    return it->backend->next_dataset(it, out, err);
}

ps_status ps_store_payments(ps_store *s, const ps_store_query *q, ps_store_iter **it, ps_error *err)
{
    return s->backend->payments(s, q, it, err);
}

ps_status ps_store_next_payment(ps_store_iter *it, ps_store_payment *out, ps_error *err)
{
    return it->backend->next_payment(it, out, err);
}

/* ---- totals of a backend without its own: the payment query's rows summed here ---- */

typedef struct fb_totals {
    ps_store_iter base;
    ps_totals_agg *agg;
    size_t next, n;
} fb_totals;

static ps_status fb_next_total(ps_store_iter *it, ps_store_total *out, ps_error *err)
{
    fb_totals *t = (fb_totals *)it;
    (void)err;
    if (t->next >= t->n)
        return PS_END;
    memset(out, 0, sizeof *out);
    ps_totals_agg_get(t->agg, t->next++, &out->day, &out->currency, &out->transaction_type,
                      &out->count, &out->amount);
    return PS_OK;
}

static void fb_free(ps_store_iter *it)
{
    ps_totals_agg_free(((fb_totals *)it)->agg);
    free(it);
}

static const ps_store_backend fb_backend = {
    .plugin = "totals", .next_total = fb_next_total, .iter_free = fb_free};

static ps_status fb_totals_read(ps_store *s, const ps_store_query *q, ps_store_iter **it,
                                ps_error *err)
{
    fb_totals *t = calloc(1, sizeof *t);
    if (!t || !(t->agg = ps_totals_agg_new())) {
        free(t);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    t->base.backend = &fb_backend;
    ps_store_iter *pit = NULL;
    ps_store_payment p;
    ps_status st = s->backend->payments(s, q, &pit, err);
    while (st == PS_OK && (st = s->backend->next_payment(pit, &p, err)) == PS_OK) {
        const char *cur = p.field[PS_F_PAYMENT_CURRENCY] ? p.field[PS_F_PAYMENT_CURRENCY] : "";
        const char *type = p.field[PS_F_TRANSACTION_TYPE] ? p.field[PS_F_TRANSACTION_TYPE] : "";
        int rc = ps_totals_agg_add(t->agg, p.timestamp_ms, cur, strlen(cur), type, strlen(type),
                                   p.amount);
        if (rc == -1)
            st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        else if (rc == -2)
            st = ps_error_setf(err, PS_ERR_IO,
                               "the amounts of one day, currency and type add up past 64 bits");
    }
    ps_store_iter_free(pit);
    if (st != PS_END) {
        fb_free(&t->base);
        return st;
    }
    t->n = ps_totals_agg_finish(t->agg);
    *it = &t->base;
    return PS_OK;
}

ps_status ps_store_totals(ps_store *s, const ps_store_query *q, ps_store_iter **it, ps_error *err)
{
    *it = NULL;
    if (!s->backend->totals) /* the payment query's rows, summed here */
        return fb_totals_read(s, q, it, err);
    return s->backend->totals(s, q, it, err);
}

ps_status ps_store_next_total(ps_store_iter *it, ps_store_total *out, ps_error *err)
{
    return it->backend->next_total(it, out, err);
}

ps_status ps_store_run_codes(ps_store *s, const char *dataset, const char *run_id, int warnings,
                             struct ps_store_code_count **codes, size_t *n, ps_error *err)
{
    *codes = NULL;
    *n = 0;
    if (!s->backend->run_codes)
        return ps_error_setf(err, PS_ERR_IO, "the %s store does not keep codes per run",
                             s->backend->plugin);
    return s->backend->run_codes(s, dataset, run_id, warnings, codes, n, err);
}

void ps_store_codes_free(struct ps_store_code_count *codes, size_t n)
{
    for (size_t i = 0; codes && i < n; i++)
        free(codes[i].code);
    free(codes);
}

ps_status ps_store_runs(ps_store *s, const char *dataset, size_t limit, ps_store_iter **it,
                        ps_error *err)
{
    return s->backend->runs(s, dataset, limit, it, err);
}

ps_status ps_store_next_run(ps_store_iter *it, ps_store_run *out, ps_error *err)
{
    return it->backend->next_run(it, out, err);
}

void ps_store_iter_free(ps_store_iter *it)
{
    if (it)
        it->backend->iter_free(it);
}

ps_status ps_store_stats_read(ps_store *s, ps_store_stats **out, size_t *n, ps_error *err)
{
    return s->backend->stats(s, out, n, err);
}

void ps_store_stats_free(ps_store_stats *s, size_t n)
{
    ps_stats_free(s, n);
}
