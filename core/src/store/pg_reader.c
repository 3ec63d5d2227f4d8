/* paysync store: the PostgreSQL backend's reader (store.h, pg_store.h): read-only sessions,
 * the payment query, run history and statistics, with the same meaning as the SQLite
 * reader's (store.c). Iterators read through server-side cursors, PG_FETCH rows at a time,
 * inside one read-only transaction per handle while any iterator is open. */
#include "store/pg_store.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_schema.h"
#include "store/sqlite_columns.h" /* ps_sqlite_names_parse */
#include "store/store_schema.h"
#include "store/store_stats.h"

#define PG_FETCH 1000

typedef struct pg_store {
    ps_store base;
    PGconn *db;
    char *shown;
    int open_iters; /* iterators with a cursor: the read-only transaction is open */
    unsigned next_cursor;
} pg_store;

enum iter_kind { IT_DATASETS, IT_PAYMENTS, IT_RUNS };

typedef struct pg_iter {
    ps_store_iter base;
    pg_store *s;
    enum iter_kind kind;
    char cursor[32];
    PGresult *res; /* the current block of rows */
    int row, done;
} pg_iter;

static pg_store *PG(ps_store *s)
{
    return (pg_store *)s;
}

static pg_iter *IT(ps_store_iter *it)
{
    return (pg_iter *)it;
}

static ps_status db_error(pg_store *s, const PGresult *r, const char *what, ps_error *err)
{
    char m[512];
    return ps_error_setf(err, PS_ERR_IO, "store '%s': %s failed: %s", s->shown, what,
                         ps_pg_message(s->db, r, m, sizeof m));
}

/* Present unless the server is reachable and holds no paysync schema. */
static int pg_exists(const char *location)
{
    char *shown = ps_pg_shown(location);
    PGconn *c = NULL;
    ps_error err = {0};
    int v = 1;
    if (shown && ps_pg_connect(location, shown, 5, &c, &err) == PS_OK) {
        char m[256];
        v = ps_pg_schema_version(c, m, sizeof m) != 0;
        PQfinish(c);
    }
    free(shown);
    return v;
}

static void pg_close(ps_store *ps)
{
    pg_store *s = PG(ps);
    if (!s)
        return;
    PQfinish(s->db);
    free(s->shown);
    free(s);
}

static ps_status pg_check(ps_store *ps, ps_error *err)
{
    pg_store *s = PG(ps);
    char m[512];
    if (PQstatus(s->db) != CONNECTION_OK)
        return ps_error_setf(err, PS_ERR_IO, "store '%s': connection lost", s->shown);
    int v = ps_pg_schema_version(s->db, m, sizeof m);
    if (v < 0)
        return ps_error_setf(err, PS_ERR_IO, "store '%s': reading the schema version failed: %s",
                             s->shown, m);
    if (v == 0)
        return ps_error_setf(err, PS_ERR_IO,
                             "store '%s' is not a paysync store (no schema): run a sync with the "
                             "postgres sink first",
                             s->shown);
    if (v < PS_PG_SCHEMA_VERSION)
        return ps_error_setf(err, PS_ERR_IO,
                             "store '%s' has schema version %d, older than this paysync (%d): "
                             "run a sync with the postgres sink once to upgrade it",
                             s->shown, v, PS_PG_SCHEMA_VERSION);
    if (v > PS_PG_SCHEMA_VERSION)
        return ps_error_setf(err, PS_ERR_IO,
                             "store '%s' has schema version %d, newer than this paysync (%d): "
                             "upgrade paysync",
                             s->shown, v, PS_PG_SCHEMA_VERSION);
    return PS_OK;
}

static ps_status pg_open(const char *location, int wait_ms, ps_store **out, ps_error *err)
{
    *out = NULL;
    pg_store *s = calloc(1, sizeof *s);
    if (!s || !(s->shown = ps_pg_shown(location))) {
        free(s);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    s->base.backend = &ps_store_postgres;
    ps_status st = ps_pg_connect(location, s->shown, wait_ms / 1000 + 2, &s->db, err);
    char m[512];
    if (st == PS_OK && ps_pg_exec(s->db, "SET default_transaction_read_only = on", m, sizeof m))
        st = ps_error_setf(err, PS_ERR_IO, "store '%s': %s", s->shown, m);
    if (st == PS_OK)
        st = pg_check(&s->base, err);
    if (st != PS_OK) {
        pg_close(&s->base);
        return st;
    }
    *out = &s->base;
    return PS_OK;
}

/* Opens a cursor over sql with text parameters. */
static ps_status start(pg_store *s, enum iter_kind kind, const char *sql, int n,
                       const char *const *params, ps_store_iter **it, ps_error *err)
{
    *it = NULL;
    pg_iter *i = calloc(1, sizeof *i);
    size_t cap = strlen(sql) + 64;
    char *decl = malloc(cap);
    if (!i || !decl) {
        free(i);
        free(decl);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    char m[512];
    if (s->open_iters == 0 &&
        ps_pg_exec(s->db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", m, sizeof m) != 0) {
        free(i);
        free(decl);
        return ps_error_setf(err, PS_ERR_IO, "store '%s': reading failed: %s", s->shown, m);
    }
    snprintf(i->cursor, sizeof i->cursor, "ps_c%u", s->next_cursor++);
    snprintf(decl, cap, "DECLARE %s NO SCROLL CURSOR FOR %s", i->cursor, sql);
    PGresult *r = PQexecParams(s->db, decl, n, NULL, params, NULL, NULL, 0);
    free(decl);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        ps_status e = db_error(s, r, "preparing a query", err);
        PQclear(r);
        if (s->open_iters == 0)
            ps_pg_exec(s->db, "ROLLBACK", NULL, 0);
        free(i);
        return e;
    }
    PQclear(r);
    s->open_iters++;
    i->base.backend = &ps_store_postgres;
    i->s = s;
    i->kind = kind;
    *it = &i->base;
    return PS_OK;
}

static void pg_iter_free(ps_store_iter *pit)
{
    if (!pit)
        return;
    pg_iter *it = IT(pit);
    PQclear(it->res);
    pg_store *s = it->s;
    char sql[64];
    snprintf(sql, sizeof sql, "CLOSE %s", it->cursor);
    if (ps_pg_exec(s->db, sql, NULL, 0) != 0 || --s->open_iters == 0) {
        ps_pg_exec(s->db, "ROLLBACK", NULL, 0); /* read only: nothing to keep */
        s->open_iters = 0;
    }
    free(it);
}

/* Moves to the next row: PS_OK (it->res, it->row), PS_END, or PS_ERR_IO. */
static ps_status step(pg_iter *it, ps_error *err)
{
    if (it->res && it->row + 1 < PQntuples(it->res)) {
        it->row++;
        return PS_OK;
    }
    if (it->done)
        return PS_END;
    PQclear(it->res);
    char sql[64];
    snprintf(sql, sizeof sql, "FETCH %d FROM %s", PG_FETCH, it->cursor);
    it->res = PQexec(it->s->db, sql);
    if (!it->res || PQresultStatus(it->res) != PGRES_TUPLES_OK) {
        ps_status e = db_error(it->s, it->res, "reading", err);
        PQclear(it->res);
        it->res = NULL;
        it->done = 1;
        return e;
    }
    it->row = 0;
    if (PQntuples(it->res) < PG_FETCH)
        it->done = 1;
    return PQntuples(it->res) > 0 ? PS_OK : PS_END;
}

static const char *text(const pg_iter *it, int col)
{
    return PQgetisnull(it->res, it->row, col) ? NULL : PQgetvalue(it->res, it->row, col);
}

static const char *row_text(const void *it, int c)
{
    return text(it, c);
}

static int64_t row_i64(const void *it, int c)
{
    return ps_store_text_i64(text(it, c));
}

/* The current row, for the shared decoder (store.h). */
static ps_store_row get_row(const pg_iter *it)
{
    return (ps_store_row){.ctx = it, .text = row_text, .i64 = row_i64};
}

static ps_status pg_datasets(ps_store *s, ps_store_iter **it, ps_error *err)
{
    return start(PG(s), IT_DATASETS,
                 "WITH names(dataset) AS (SELECT dataset FROM runs UNION SELECT DISTINCT dataset"
                 " FROM payments),"
                 " published AS (SELECT dataset FROM cursors)"
                 " SELECT n.dataset,"
                 " (SELECT count(*) FROM payments p WHERE p.dataset = n.dataset"
                 "  AND p.vanished_run IS NULL AND n.dataset IN (SELECT dataset FROM published)),"
                 " (SELECT count(*) FROM payments p WHERE p.dataset = n.dataset"
                 "  AND p.vanished_run IS NOT NULL AND n.dataset IN"
                 "  (SELECT dataset FROM published)),"
                 " (SELECT o.finished FROM runs o WHERE o.dataset = n.dataset AND o.outcome = 'ok'"
                 "  ORDER BY o.started_ms DESC, o.run_id DESC LIMIT 1),"
                 " r.run_id IS NOT NULL, " PS_STORE_RUN_COLS " FROM names n LEFT JOIN LATERAL"
                 " (SELECT * FROM runs x WHERE x.dataset = n.dataset AND NOT " PS_PG_RUNNING(
                     "x") "  ORDER BY x.started_ms DESC, x.run_id DESC LIMIT 1) r ON true"
                          " ORDER BY n.dataset COLLATE \"C\"",
                 0, NULL, it, err);
}

static ps_status pg_next_dataset(ps_store_iter *pit, ps_store_dataset *out, ps_error *err)
{
    pg_iter *it = IT(pit);
    if (it->kind != IT_DATASETS)
        return ps_error_setf(err, PS_ERR_USAGE, "iterator is not a dataset iterator");
    ps_status st = step(it, err);
    if (st != PS_OK)
        return st;
    ps_store_row row = get_row(it);
    ps_store_row_dataset(&row, out);
    return PS_OK;
}

/* The payment query: every filter a parameter. Same order as SQLite's: byte order of IDs and
 * dataset names (COLLATE "C"). */
static ps_status pg_payments(ps_store *ps, const ps_store_query *q, ps_store_iter **it,
                             ps_error *err)
{
    pg_store *s = PG(ps);
    size_t cap = 2048 + 8 * q->ndatasets;
    char *sql = malloc(cap);
    const char **params = calloc(q->ndatasets + 8, sizeof *params);
    char from[24], to[24];
    if (!sql || !params) {
        free(sql);
        free(params);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    int np = 0;
    size_t n = ps_store_payment_select(sql, cap);
    n += (size_t)snprintf(sql + n, cap - n,
                          " FROM payments WHERE dataset IN (SELECT dataset FROM cursors)");
    if (!q->unbounded) {
        snprintf(from, sizeof from, "%lld", (long long)q->from_ms);
        snprintf(to, sizeof to, "%lld", (long long)q->to_ms);
        params[np++] = from;
        params[np++] = to;
        n +=
            (size_t)snprintf(sql + n, cap - n, " AND timestamp_ms BETWEEN $%d AND $%d", np - 1, np);
    }
    if (q->ndatasets) {
        n += (size_t)snprintf(sql + n, cap - n, " AND dataset IN (");
        for (size_t i = 0; i < q->ndatasets; i++) {
            params[np++] = q->datasets[i];
            n += (size_t)snprintf(sql + n, cap - n, i ? ",$%d" : "$%d", np);
        }
        n += (size_t)snprintf(sql + n, cap - n, ")");
    } else if (q->recorded_only) {
        n += (size_t)snprintf(sql + n, cap - n, " AND dataset IN (SELECT dataset FROM runs)");
    }
    if (q->target_id) {
        params[np++] = q->target_id;
        n += (size_t)snprintf(sql + n, cap - n, " AND target_id = $%d", np);
    }
    if (q->financing_id) {
        params[np++] = q->financing_id;
        n += (size_t)snprintf(sql + n, cap - n, " AND financing_id = $%d", np);
    }
    if (q->meter_id) {
        params[np++] = q->meter_id;
        n += (size_t)snprintf(sql + n, cap - n, " AND meter_id = $%d", np);
    }
    if (q->vanished_in_run) {
        params[np++] = q->vanished_in_run;
        n += (size_t)snprintf(sql + n, cap - n, " AND vanished_run = $%d", np);
    } else if (!q->include_vanished) {
        n += (size_t)snprintf(sql + n, cap - n, " AND vanished_run IS NULL");
    }
    if (q->changed_in_run) {
        /* the writer sets last_seen_run only on the payments a run writes: new or changed */
        params[np++] = q->changed_in_run;
        n += (size_t)snprintf(sql + n, cap - n,
                              " AND last_seen_run = $%d AND first_seen_run <> $%d", np, np);
    }
    snprintf(sql + n, cap - n, " ORDER BY timestamp_ms, id COLLATE \"C\", dataset COLLATE \"C\"");
    ps_status st = start(s, IT_PAYMENTS, sql, np, params, it, err);
    free(sql);
    free(params);
    return st;
}

static ps_status pg_next_payment(ps_store_iter *pit, ps_store_payment *out, ps_error *err)
{
    pg_iter *it = IT(pit);
    if (it->kind != IT_PAYMENTS)
        return ps_error_setf(err, PS_ERR_USAGE, "iterator is not a payment iterator");
    ps_status st = step(it, err);
    if (st != PS_OK)
        return st;
    ps_store_row row = get_row(it);
    ps_store_row_payment(&row, out);
    return PS_OK;
}

static ps_status pg_runs(ps_store *s, const char *dataset, size_t limit, ps_store_iter **it,
                         ps_error *err)
{
    char sql[1024], lim[32] = "";
    if (limit)
        snprintf(lim, sizeof lim, " LIMIT %llu", (unsigned long long)limit);
    snprintf(sql, sizeof sql,
             "SELECT " PS_STORE_RUN_COLS " FROM runs r WHERE ($1::text IS NULL OR r.dataset = $1)"
             " AND NOT " PS_PG_RUNNING("r") " ORDER BY r.started_ms DESC, r.run_id DESC,"
                                            " r.dataset COLLATE \"C\"%s",
             lim);
    const char *p[1] = {dataset};
    return start(PG(s), IT_RUNS, sql, 1, p, it, err);
}

static ps_status pg_next_run(ps_store_iter *pit, ps_store_run *out, ps_error *err)
{
    pg_iter *it = IT(pit);
    if (it->kind != IT_RUNS)
        return ps_error_setf(err, PS_ERR_USAGE, "iterator is not a run iterator");
    ps_status st = step(it, err);
    if (st != PS_OK)
        return st;
    ps_store_row row = get_row(it);
    ps_store_row_run(&row, 0, out);
    return PS_OK;
}

static const char q_counts[] =
    "SELECT dataset, outcome, count(*), sum(read), sum(accepted), sum(rejected), sum(blank),"
    " sum(duplicates), sum(warnings), sum(inserted), sum(changed), sum(unchanged),"
    " sum(vanished), sum(filtered) FROM runs r WHERE NOT " PS_PG_RUNNING(
        "r") " GROUP BY dataset, outcome ORDER BY dataset COLLATE \"C\"";
static const char q_success[] =
    "SELECT DISTINCT ON (dataset) dataset, coalesce(finished_ms, started_ms), started_ms,"
    " finished_ms FROM runs WHERE outcome = 'ok'"
    " ORDER BY dataset, coalesce(finished_ms, started_ms) DESC NULLS LAST";
static const char q_last[] =
    "SELECT DISTINCT ON (dataset) dataset, coalesce(started_ms, finished_ms), outcome"
    " FROM runs r WHERE NOT " PS_PG_RUNNING(
        "r") " ORDER BY dataset, coalesce(started_ms, finished_ms) DESC NULLS LAST";
static const char q_codes[] = "SELECT dataset, code, sum(count) FROM run_rejects"
                              " GROUP BY dataset, code ORDER BY dataset, code COLLATE \"C\"";
static const char q_wcodes[] = "SELECT dataset, code, sum(count) FROM run_warnings"
                               " GROUP BY dataset, code ORDER BY dataset, code COLLATE \"C\"";
static const char q_guard[] = "SELECT dataset, count(*) FROM runs WHERE outcome = 'failed'"
                              " AND error LIKE 'vanish!_guard:%' ESCAPE '!' GROUP BY dataset";

/* The rows of the six queries go to store_stats.c, shared with the other backends. */
static ps_status pg_stats(ps_store *ps, ps_store_stats **out, size_t *nout, ps_error *err)
{
    pg_store *store = PG(ps);
    ps_stats_build b = {0};
    const char *const qs[PS_STATS_NQUERIES] = {q_counts, q_success, q_last,
                                               q_codes,  q_guard,   q_wcodes};
    ps_status st = PS_OK;
    for (int q = 0; q < PS_STATS_NQUERIES && st == PS_OK; q++) {
        PGresult *r = PQexec(store->db, qs[q]);
        if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
            st = db_error(store, r, "reading the run statistics", err);
            PQclear(r);
            break;
        }
        int ncol = PQnfields(r) > 16 ? 16 : PQnfields(r);
        for (int row = 0; row < PQntuples(r) && st == PS_OK; row++) {
            const char *col[16];
            for (int i = 0; i < ncol; i++)
                col[i] = PQgetisnull(r, row, i) ? NULL : PQgetvalue(r, row, i);
            if (ps_stats_add_row(&b, q, col, ncol) != 0)
                st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        }
        PQclear(r);
    }
    if (st != PS_OK) {
        ps_stats_free(b.v, b.n);
        return st;
    }
    *out = b.v;
    *nout = b.n;
    return PS_OK;
}

/* The database checks its own pages; paysync checks that the server answers and the schema is
 * the one it reads. */
static ps_status pg_verify(ps_store *ps, ps_error *err)
{
    return pg_check(ps, err);
}

static ps_status pg_missing_columns(ps_store *ps, const char *dataset, const char *run_id,
                                    char ***names, size_t *n, ps_error *err)
{
    pg_store *s = PG(ps);
    *names = NULL;
    *n = 0;
    const char *p[2] = {dataset, run_id};
    PGresult *r =
        PQexecParams(s->db, "SELECT missing FROM run_columns WHERE dataset = $1 AND run_id = $2", 2,
                     NULL, p, NULL, NULL, 0);
    ps_status st = PS_OK;
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
        st = db_error(s, r, "reading the missing columns", err);
    else if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) &&
             ps_sqlite_names_parse(PQgetvalue(r, 0, 0), names, n) != 0)
        st = ps_error_setf(err, PS_ERR_IO,
                           "store '%s': the missing columns of run %s are not a "
                           "JSON array of names",
                           s->shown, run_id);
    PQclear(r);
    return st;
}

/* One run's codes from run_rejects or run_warnings, in byte order (as SQLite's). */
static ps_status pg_run_codes(ps_store *ps, const char *dataset, const char *run_id, int warnings,
                              struct ps_store_code_count **out, size_t *nout, ps_error *err)
{
    pg_store *s = PG(ps);
    *out = NULL;
    *nout = 0;
    const char *p[2] = {dataset, run_id};
    PGresult *r = PQexecParams(s->db,
                               warnings ? "SELECT code, count FROM run_warnings WHERE dataset = $1"
                                          " AND run_id = $2 ORDER BY code COLLATE \"C\""
                                        : "SELECT code, count FROM run_rejects WHERE dataset = $1"
                                          " AND run_id = $2 ORDER BY code COLLATE \"C\"",
                               2, NULL, p, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        ps_status e = db_error(s, r, "reading a run's codes", err);
        PQclear(r);
        return e;
    }
    size_t n = (size_t)PQntuples(r);
    struct ps_store_code_count *v = n ? calloc(n, sizeof *v) : NULL;
    ps_status st = n && !v ? ps_error_setf(err, PS_ERR_NOMEM, "out of memory") : PS_OK;
    for (size_t i = 0; st == PS_OK && i < n; i++) {
        if (!(v[i].code = strdup(PQgetvalue(r, (int)i, 0))))
            st = ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        v[i].count = ps_pg_u64(r, (int)i, 1);
    }
    PQclear(r);
    if (st != PS_OK) {
        for (size_t i = 0; v && i < n; i++)
            free(v[i].code);
        free(v);
        return st;
    }
    *out = v;
    *nout = n;
    return PS_OK;
}

static ps_status pg_lease_holder(ps_store *ps, const char *dataset, ps_store_lease *out,
                                 ps_error *err)
{
    pg_store *s = PG(ps);
    const char *p[1] = {dataset};
    PGresult *r = PQexecParams(
        s->db,
        "SELECT worker, (extract(epoch FROM acquired) * 1000)::bigint,"
        " (extract(epoch FROM clock_timestamp() - heartbeat) * 1000)::bigint, timeout_ms"
        " FROM leases WHERE dataset = $1 AND heartbeat > '-infinity'",
        1, NULL, p, NULL, NULL, 0);
    ps_status st = PS_OK;
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
        st = db_error(s, r, "reading the lease", err);
    else if (PQntuples(r) == 0)
        st = PS_END;
    else {
        snprintf(out->worker, sizeof out->worker, "%s", PQgetvalue(r, 0, 0));
        out->acquired_ms = ps_pg_i64(r, 0, 1);
        out->beat_age_ms = ps_pg_i64(r, 0, 2);
        out->timeout_ms = ps_pg_i64(r, 0, 3);
        out->expired = out->beat_age_ms > out->timeout_ms;
    }
    PQclear(r);
    return st;
}

const ps_store_backend ps_store_postgres = {
    .plugin = PS_POSTGRES_PLUGIN,
    .sink = ps_store_pg_sink,
    .locate = ps_store_pg_locate,
    .exists = pg_exists,
    .shown = ps_pg_shown,
    .no_state_file = 1,
    .open = pg_open,
    .check = pg_check,
    .close = pg_close,
    .datasets = pg_datasets,
    .next_dataset = pg_next_dataset,
    .payments = pg_payments,
    .next_payment = pg_next_payment,
    .runs = pg_runs,
    .next_run = pg_next_run,
    .run_codes = pg_run_codes,
    .iter_free = pg_iter_free,
    .stats = pg_stats,
    .verify = pg_verify,
    .previous_columns = ps_store_pg_previous_columns,
    .record_columns = ps_store_pg_record_columns,
    .missing_columns = pg_missing_columns,
    .pending_vanish = ps_store_pg_pending_vanish,
    .set_window = ps_store_pg_set_window,
    .coord_open = ps_store_pg_coord_open,
    .coord_close = ps_store_pg_coord_close,
    .lease_take = ps_store_pg_lease_take,
    .lease_beat = ps_store_pg_lease_beat,
    .lease_release = ps_store_pg_lease_release,
    .lease_timeout_ms = ps_store_pg_lease_timeout_ms,
    .lease_holder = pg_lease_holder,
};
