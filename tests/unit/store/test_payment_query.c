/* The store's one payment query: a store written by the real writer, found through the
 * config (ps_store_locate), read the way `export` reads it (ps_store_payments on one
 * dataset) and the way serve reads it (ps_serve_store_payments over a key's datasets) gives
 * the same payments in the same order for the same filters. On SQLite, or on PostgreSQL when
 * PS_TEST_PG_CONNINFO names a database (ctest integration.test_payment_query.postgres runs it so
 * against a throwaway cluster: tests/integration/pg_run.py); that database is emptied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <libpq-fe.h>

#include "model/decimal.h"
#include "serve/serve_store.h"
#include "sink_test_host.h"
#include "store/store.h"

#define DAY 86400000LL
#define D0 1704067200000LL /* 2024-01-01T00:00:00Z */

typedef struct fx {
    sth_sink *sink;
    ps_config *cfg;
    ps_store_ref ref;
} fx;

/* One committed dataset run of the writer: records id[i] at ts[i]. */
static void run(fx *f, const char *dataset, const char *target, const char *run_id,
                const char *const *ids, const int64_t *ts, size_t n)
{
    ps_record recs[8];
    char text[8][32];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        snprintf(text[i], sizeof text[i], "%lld", (long long)ts[i]); /* any canonical text */
        sth_record(&recs[i], ids[i], text[i], ts[i], i % 2 ? "12.50" : "7");
    }
    ps_error err = {0};
    ps_sink_open_args oa = {sizeof(oa), dataset, PS_TARGET_PROJECT, target, run_id, 1000};
    if (sth_sink_write(f->sink, &oa, recs, n, &err) != PS_OK)
        fail_msg("write %s: %s", dataset, err.message);
    ps_commit_info ci = {sizeof(ci), dataset, run_id, NULL, 1000, 2000, n, n,    0,   0,
                         0,          0,       0,      NULL, NULL, 0,    0, NULL, NULL,
                         NULL,       NULL};
    ps_change_counts cc = {0};
    if (f->sink->d->sink->commit(f->sink->inst, &ci, &cc, &err) != PS_OK)
        fail_msg("commit %s: %s", dataset, err.message);
}

/* The PostgreSQL database under test, or NULL: SQLite. */
static const char *pg_conninfo(void)
{
    const char *c = getenv("PS_TEST_PG_CONNINFO");
    return c && *c ? c : NULL;
}

/* Empties the PostgreSQL database (every test starts from no store). */
static void pg_reset(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect %s: %s", conninfo, PQerrorMessage(c));
    PGresult *r = PQexec(c, "SET client_min_messages = warning; DROP SCHEMA public CASCADE;"
                            " CREATE SCHEMA public");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("reset: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    const char *pg = pg_conninfo();
    const ps_store_backend *b = ps_store_backend_find(pg ? "postgres" : "sqlite");
    assert_non_null(b);
    f->sink = sth_sink_new(b->sink(), "store", "var/paysync.db");
    assert_non_null(f->sink);
    if (pg) {
        pg_reset(pg);
        sth_set(&f->sink->h, "conninfo", pg);
    }
    ps_error err = {0};
    if (sth_sink_create(f->sink, &err) != PS_OK)
        fail_msg("create: %s", err.message);

    /* Same instants across datasets and IDs: the order is timestamp, then ID, then dataset. */
    const char *n1[] = {"N3", "N1", "X", "N2", "GONE"};
    const int64_t t1[] = {D0 + 5, D0 + 5, D0 + 9, D0 + DAY, D0 + 7};
    run(f, "north", "site-n", "r1", n1, t1, 5);
    run(f, "north", "site-n", "r2", n1, t1, 4); /* GONE vanishes */
    const char *s1[] = {"S1", "X", "N1", "S2"};
    const int64_t t2[] = {D0 + 1, D0 + 9, D0 + 5, D0 + 2 * DAY};
    run(f, "south", "site-s", "r1", s1, t2, 4);

    /* The config that names this store: path relative to the config's folder. */
    char cfgpath[400], db[300], cfgtext[2048];
    snprintf(cfgpath, sizeof cfgpath, "%s/paysync.yaml", f->sink->dir);
    if (pg)
        snprintf(db, sizeof db, "{plugin: postgres, conninfo: \"%s\"}", pg);
    else
        snprintf(db, sizeof db, "{plugin: sqlite, path: var/paysync.db}");
    snprintf(cfgtext, sizeof cfgtext,
             "sinks:\n"
             "  export: {plugin: jsonl, path: out/p.jsonl}\n"
             "  db: %s\n"
             "  other: {plugin: sqlite}\n"
             "datasets:\n"
             "  - name: north\n"
             "    target: {level: project, id: site-n}\n"
             "    source: {plugin: csvfile, path: n.csv}\n"
             "    sinks: [export, db]\n"
             "  - name: south\n"
             "    target: {level: project, id: site-s}\n"
             "    source: {plugin: csvfile, path: s.csv}\n"
             "    sinks: [db]\n"
             "  - name: default_path\n"
             "    target: {level: project, id: site-d}\n"
             "    source: {plugin: csvfile, path: d.csv}\n"
             "    sinks: [export, other, db]\n"
             "  - name: files_only\n"
             "    target: {level: project, id: site-f}\n"
             "    source: {plugin: csvfile, path: f.csv}\n"
             "    sinks: [export]\n",
             db);
    assert_int_equal(sth_write_file(cfgpath, cfgtext), 0);
    if (ps_config_load(cfgpath, &f->cfg, &err) != PS_OK)
        fail_msg("config: %s", err.message);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    ps_store_ref_free(&f->ref);
    ps_config_free(f->cfg);
    assert_int_equal(sth_sink_free(f->sink), 0);
    free(f);
    return 0;
}

/* Rows as "dataset/ID@ms amount", space separated. */
typedef struct rows {
    char text[2048];
    size_t n;
} rows;

static void add(rows *r, const ps_store_payment *p)
{
    char amount[PS_DECIMAL_TEXT_MAX];
    ps_decimal_format(p->amount, amount);
    size_t len = strlen(r->text);
    snprintf(r->text + len, sizeof r->text - len, "%s%s/%s@%lld %s", r->n ? " " : "", p->dataset,
             p->field[PS_F_ID], (long long)(p->timestamp_ms - D0), amount);
    r->n++;
}

static int on_row(void *ud, const ps_store_payment *p)
{
    add(ud, p);
    return 0;
}

/* What export reads: ps_store_payments over the datasets ds. */
static rows read_export(fx *f, const char *const *ds, size_t nds, int64_t from, int64_t to,
                        const char *target)
{
    ps_store *s = NULL;
    ps_error err = {0};
    if (ps_store_open(&f->ref, PS_STORE_WAIT_MS, &s, &err) != PS_OK)
        fail_msg("open: %s", err.message);
    ps_store_query q = {
        .datasets = ds, .ndatasets = nds, .from_ms = from, .to_ms = to, .target_id = target};
    ps_store_iter *it = NULL;
    rows r = {.n = 0};
    r.text[0] = '\0';
    assert_int_equal(ps_store_payments(s, &q, &it, &err), PS_OK);
    ps_store_payment p;
    ps_status st;
    while ((st = ps_store_next_payment(it, &p, &err)) == PS_OK)
        add(&r, &p);
    assert_int_equal(st, PS_END);
    ps_store_iter_free(it);
    ps_store_close(s);
    return r;
}

/* What serve reads for a key allowed ds (all = the "*" key). */
static rows read_serve(fx *f, const char *const *ds, size_t nds, int all, int64_t from, int64_t to,
                       const char *target)
{
    ps_serve_store *pool = NULL;
    assert_int_equal(ps_serve_store_new(&f->ref, 1, &pool, NULL), PS_OK);
    ps_store *db = NULL;
    ps_error err = {0};
    if (ps_serve_store_acquire(pool, &db, &err) != PS_OK)
        fail_msg("acquire: %s", err.message);
    ps_serve_filter flt = {from, to, ds, nds, all, target, NULL};
    rows r = {.n = 0};
    r.text[0] = '\0';
    int broken = 0;
    assert_int_equal(ps_serve_store_payments(db, &flt, on_row, &r, &broken, &err), PS_OK);
    assert_int_equal(broken, 0);
    ps_serve_store_release(pool, db, 0);
    ps_serve_store_free(pool);
    return r;
}

static void test_locate(void **state)
{
    fx *f = *state;
    ps_error err = {0};
    const ps_dataset_def *north = ps_config_dataset(f->cfg, "north");
    assert_int_equal(ps_store_locate(f->cfg, north, &f->ref, &err), PS_OK);
    const char *pg = pg_conninfo();
    if (pg) { /* the location of a postgres store is its connection string */
        assert_string_equal(f->ref.location, pg);
        assert_ptr_equal(f->ref.backend, ps_store_backend_find("postgres"));
        assert_null(ps_store_state_location(&f->ref));
    } else {
        assert_string_equal(f->ref.location, f->sink->path); /* <config dir>/var/paysync.db */
        assert_ptr_equal(f->ref.backend, ps_store_backend_find("sqlite"));
        assert_string_equal(ps_store_state_location(&f->ref), f->ref.location);
    }
    assert_true(ps_store_exists(&f->ref));
    /* the first store among a dataset's sinks; no path option: var/paysync.db next to the
     * config */
    ps_store_ref other;
    assert_int_equal(
        ps_store_locate(f->cfg, ps_config_dataset(f->cfg, "default_path"), &other, &err), PS_OK);
    char want[400];
    snprintf(want, sizeof want, "%s/var/paysync.db", f->sink->dir);
    assert_string_equal(other.location, want);
    ps_store_ref_free(&other);
    assert_null(other.location);
    ps_store_ref none;
    assert_int_equal(ps_store_locate(f->cfg, ps_config_dataset(f->cfg, "files_only"), &none, &err),
                     PS_END);
    assert_null(none.location);
    /* a sink that is not a store */
    assert_int_equal(ps_store_locate_sink(f->cfg, ps_config_sink(f->cfg, "export"), &none, &err),
                     PS_ERR_CONFIG);
    assert_null(ps_store_backend_find("jsonl"));
    assert_false(ps_store_kind_known("jsonl"));
    assert_string_equal(ps_store_kinds(), "sqlite or postgres");
    assert_true(ps_store_kind_known("postgres"));
    /* the config parser's list of store kinds (store_kind.c) is the list of backends */
    assert_int_equal(ps_store_backend_count(), 2);
    for (size_t i = 0; i < ps_store_backend_count(); i++) {
        assert_true(ps_store_kind_known(ps_store_backend_at(i)->plugin));
        assert_ptr_equal(ps_store_backend_find(ps_store_backend_at(i)->plugin),
                         ps_store_backend_at(i));
        assert_string_equal(ps_store_backend_at(i)->sink()->name, ps_store_backend_at(i)->plugin);
    }
    assert_null(ps_store_backend_at(ps_store_backend_count()));
}

static void test_same_rows_same_order(void **state)
{
    fx *f = *state;
    ps_error err = {0};
    assert_int_equal(ps_store_locate(f->cfg, ps_config_dataset(f->cfg, "north"), &f->ref, &err),
                     PS_OK);
    static const char *const both[] = {"north", "south"};
    static const char *const north[] = {"north"};
    static const char *const south[] = {"south"};
    struct {
        const char *const *ds;
        size_t nds;
        int all;
        int64_t from, to;
        const char *target;
        const char *want;
    } cases[] = {
        {both, 2, 0, D0, D0 + DAY - 1, NULL,
         "south/S1@1 7 north/N1@5 12.50 south/N1@5 7 north/N3@5 7 north/X@9 7 south/X@9 12.50"},
        {north, 1, 0, D0, D0 + 3 * DAY, NULL,
         "north/N1@5 12.50 north/N3@5 7 north/X@9 7 north/N2@86400000 12.50"},
        {south, 1, 0, D0 + 2, D0 + 2 * DAY, NULL,
         "south/N1@5 7 south/X@9 12.50 south/S2@172800000 12.50"},
        {both, 2, 1, D0, D0 + 3 * DAY, "site-s",
         "south/S1@1 7 south/N1@5 7 south/X@9 12.50 south/S2@172800000 12.50"},
        {both, 2, 0, D0 + 6, D0 + 8, NULL, ""}, /* only GONE, vanished */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* the status/export reader is given the datasets serve's key allows (all = the "*"
         * key, every dataset with a recorded run) */
        rows e =
            read_export(f, cases[i].ds, cases[i].nds, cases[i].from, cases[i].to, cases[i].target);
        rows s = read_serve(f, cases[i].ds, cases[i].nds, cases[i].all, cases[i].from, cases[i].to,
                            cases[i].target);
        if (strcmp(e.text, cases[i].want) != 0)
            fail_msg("case %zu export: got '%s', want '%s'", i, e.text, cases[i].want);
        if (strcmp(s.text, e.text) != 0)
            fail_msg("case %zu: serve '%s' differs from export '%s'", i, s.text, e.text);
    }
    /* A key allowing no dataset reads nothing (and no query runs). */
    rows s = read_serve(f, NULL, 0, 0, D0, D0 + 3 * DAY, NULL);
    assert_int_equal(s.n, 0);
    ps_store_query q;
    ps_serve_filter none = {D0, D0 + DAY, NULL, 0, 0, NULL, NULL};
    assert_int_equal(ps_serve_filter_query(&none, &q), -1);
    ps_serve_filter all = {D0, D0 + DAY, NULL, 0, 1, "site-n", "F1"};
    assert_int_equal(ps_serve_filter_query(&all, &q), 0);
    assert_true(q.recorded_only && !q.unbounded && !q.include_vanished && q.ndatasets == 0);
    assert_string_equal(q.target_id, "site-n");
    assert_string_equal(q.financing_id, "F1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_locate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_rows_same_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
