/* paysync serve: pooled store handles and the payments window (serve_store.h). */
#include "serve/serve_store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Serve fails a request rather than queueing it behind a long writer's lock. */
#define SERVE_WAIT_MS 2000

struct ps_serve_store {
    ps_store_ref ref;
    pthread_mutex_t mu;
    ps_store **idle;
    size_t nidle, cap;
    /* The last integrity check (ps_serve_store_verify): the file it saw and its result. */
    int verified;
    struct stat vsb;
    ps_status vst;
    char vmsg[sizeof((ps_error *)0)->message];
};

ps_status ps_serve_store_new(const ps_store_ref *ref, size_t pool, ps_serve_store **out,
                             ps_error *err)
{
    ps_serve_store *s = calloc(1, sizeof *s);
    if (pool == 0)
        pool = 1;
    if (!s || !(s->ref.location = strdup(ref->location)) ||
        !(s->idle = calloc(pool, sizeof *s->idle))) {
        if (s)
            free(s->ref.location);
        free(s);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    s->ref.backend = ref->backend;
    s->cap = pool;
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return PS_OK;
}

void ps_serve_store_free(ps_serve_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nidle; i++)
        ps_store_close(s->idle[i]);
    pthread_mutex_destroy(&s->mu);
    free(s->idle);
    ps_store_ref_free(&s->ref);
    free(s);
}

const char *ps_serve_store_path(const ps_serve_store *s)
{
    return ps_store_state_location(&s->ref);
}

ps_status ps_serve_store_acquire(ps_serve_store *s, ps_store **out, ps_error *err)
{
    ps_store *db = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->nidle > 0)
        db = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->mu);
    /* A fresh handle is checked by open; a pooled one again (the file may have been
     * deleted or replaced: then it is dropped and the store opened anew). */
    ps_status st = db ? ps_store_check(db, err) : ps_store_open(&s->ref, SERVE_WAIT_MS, &db, err);
    if (st != PS_OK && db) {
        ps_store_close(db);
        db = NULL;
        st = ps_store_open(&s->ref, SERVE_WAIT_MS, &db, err);
    }
    if (st != PS_OK) {
        ps_store_close(db);
        return st;
    }
    *out = db;
    return PS_OK;
}

void ps_serve_store_release(ps_serve_store *s, ps_store *db, int broken)
{
    if (!db)
        return;
    if (!broken) {
        pthread_mutex_lock(&s->mu);
        if (s->nidle < s->cap) {
            s->idle[s->nidle++] = db;
            db = NULL;
        }
        pthread_mutex_unlock(&s->mu);
    }
    ps_store_close(db);
}

int ps_serve_filter_query(const ps_serve_filter *f, ps_store_query *q)
{
    memset(q, 0, sizeof *q);
    q->from_ms = f->from_ms;
    q->to_ms = f->to_ms;
    q->target_id = f->site_id;
    q->financing_id = f->financing_id;
    q->include_vanished = 0;
    if (f->all_datasets) {
        q->recorded_only = 1;
        return 0;
    }
    q->datasets = f->datasets;
    q->ndatasets = f->ndatasets;
    return f->ndatasets ? 0 : -1;
}

ps_status ps_serve_store_payments(ps_store *db, const ps_serve_filter *f,
                                  int (*fn)(void *ud, const ps_store_payment *row), void *ud,
                                  int *broken, ps_error *err)
{
    if (broken)
        *broken = 0;
    ps_store_query q;
    if (ps_serve_filter_query(f, &q) != 0)
        return PS_OK;
    ps_store_iter *it = NULL;
    ps_status st = ps_store_payments(db, &q, &it, err);
    ps_store_payment row;
    while (st == PS_OK && (st = ps_store_next_payment(it, &row, err)) == PS_OK)
        if (fn(ud, &row) != 0)
            st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    ps_store_iter_free(it);
    if (st == PS_END)
        return PS_OK;
    if (st == PS_ERR_IO && broken)
        *broken = 1;
    return st;
}

/* Same file, same size, same modification time: the check's result still holds. */
static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

ps_status ps_serve_store_verify(ps_serve_store *s, ps_store *db, ps_error *err)
{
    struct stat sb;
    int have = stat(s->ref.location, &sb) == 0;
    pthread_mutex_lock(&s->mu);
    int cached = have && s->verified && same_file(&sb, &s->vsb);
    ps_status st = s->vst;
    if (cached && st != PS_OK)
        ps_error_setf(err, st, "%s", s->vmsg);
    pthread_mutex_unlock(&s->mu);
    if (cached)
        return st;
    st = ps_store_verify(db, err);
    if (have) {
        pthread_mutex_lock(&s->mu);
        s->verified = 1;
        s->vsb = sb;
        s->vst = st;
        snprintf(s->vmsg, sizeof s->vmsg, "%s", st == PS_OK ? "" : err->message);
        pthread_mutex_unlock(&s->mu);
    }
    return st;
}
