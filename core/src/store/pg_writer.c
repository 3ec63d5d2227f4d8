/* paysync store: the PostgreSQL store's writer, registered as the built-in sink "postgres"
 * (docs/sinks.md). Same semantics as the SQLite writer (sqlite_writer.c): one transaction per
 * dataset holding its payments, run row, reject and warning codes, header and cursor. Each
 * batch is loaded with COPY into a temporary table and merged with one statement (an upsert
 * that writes only new, changed and reappeared payments). Schema: pg_schema.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "model/decimal.h"
#include "paysync/plugin.h"
#include "store/pg_schema.h"
#include "store/pg_store.h"
#include "store/sqlite_columns.h" /* ps_sqlite_names_json: the header as a JSON array */
#include "store/store_options.h"
#include "store/store_schema.h" /* field columns, run marker text, time format */
#include "util/crashpoint.h"
#include "util/proc.h"

typedef struct pg_sink {
    const ps_host *host;
    const ps_env *env;
    char *conninfo, *shown;
    int busy_ms;
    PGconn *db;
    int in_txn;
    int locked; /* the open dataset's writer lock is held */
    char *dataset, *run_id, *target_id;
    ps_target_level level;
    uint64_t inserted, changed, unchanged;
    uint64_t stored_before; /* the dataset's present payments when it was opened */
    uint64_t seen_present;  /* rows of this run that were present before */
    int has_rows;           /* the dataset had payments (present or vanished) when opened */
    /* The TIMESTAMP range this run read (ps_store_set_window): only present payments inside
     * it can vanish; the whole dataset (INT64_MIN..INT64_MAX) unless told otherwise. */
    int64_t win_from, win_to;
    char *prev_run; /* the dataset's last successful run (cursors.run_id), or NULL */
    char *columns_json, *missing_json;
    char *buf; /* one batch in COPY text format */
    size_t len, cap;
    /* The merge of the last batch, sent and not yet read (pipelining: the server merges a
     * batch while the core validates the next one). Its source rows name it in errors. */
    int pending;
    size_t pending_count;
    char pending_what[96];
    int prepared[2];  /* merge statements prepared on this connection (without, with prev) */
    char worker[200]; /* "host pid N" or PAYSYNC_WORKER_ID */
} pg_sink;

/* Columns of the temporary load table, in COPY order: the fields, then these. */
static const char *const load_extra[] = {
    "timestamp_ms",  "amount_units", "amount_scale", "amount",     "charges_units",
    "charges_scale", "charges",      "id_derived",   "source_row", "content_hash"};
static const char *const load_extra_type[] = {"bigint",  "bigint",  "integer", "numeric", "bigint",
                                              "integer", "numeric", "integer", "bigint",  "bigint"};
#define NEXTRA (sizeof load_extra / sizeof load_extra[0])

static ps_status fail(pg_sink *s, PGresult *r, const char *what, ps_error *err)
{
    char m[512];
    ps_pg_message(s->db, r, m, sizeof m);
    if (s->db && PQstatus(s->db) == CONNECTION_BAD)
        return ps_error_setf(err, PS_ERR_SINK, "postgres store '%s': connection lost while %s: %s",
                             s->shown, what, m);
    return ps_error_setf(err, PS_ERR_SINK, "postgres store '%s': %s failed: %s", s->shown, what, m);
}

/* Runs a statement with text parameters. Returns the result (caller clears) or NULL on
 * failure, with err filled. */
static PGresult *q(pg_sink *s, const char *sql, int n, const char *const *params, int rows,
                   const char *what, ps_error *err)
{
    /* without parameters: PQexec, which takes several statements */
    PGresult *r = n ? PQexecParams(s->db, sql, n, NULL, params, NULL, NULL, 0) : PQexec(s->db, sql);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != (rows ? PGRES_TUPLES_OK : PGRES_COMMAND_OK)) {
        fail(s, r, what, err);
        PQclear(r);
        return NULL;
    }
    return r;
}

static ps_status run_sql(pg_sink *s, const char *sql, int n, const char *const *params,
                         const char *what, ps_error *err)
{
    PGresult *r = q(s, sql, n, params, 0, what, err);
    if (!r)
        return err->code ? err->code : PS_ERR_SINK;
    PQclear(r);
    return PS_OK;
}

static void free_dataset_state(pg_sink *s)
{
    char **const names[] = {&s->dataset,      &s->run_id,       &s->target_id,
                            &s->columns_json, &s->missing_json, &s->prev_run};
    ps_store_free_names(names, sizeof names / sizeof names[0]);
}

static void discard(pg_sink *s);

static void unlock_dataset(pg_sink *s)
{
    if (!s->locked)
        return;
    const char *p[1] = {s->dataset};
    PGresult *r =
        PQexecParams(s->db, "SELECT pg_advisory_unlock(" PS_PG_LOCK_NS_TEXT ", hashtext($1))", 1,
                     NULL, p, NULL, NULL, 0);
    PQclear(r);
    s->locked = 0;
}

static void pg_destroy(void *inst)
{
    pg_sink *s = inst;
    if (!s)
        return;
    if (s->db) {
        discard(s);
        if (s->in_txn)
            ps_pg_exec(s->db, "ROLLBACK", NULL, 0);
        unlock_dataset(s);
        PQfinish(s->db);
    }
    free_dataset_state(s);
    if (s->conninfo) /* it may hold a password */
        memset(s->conninfo, 0, strlen(s->conninfo));
    free(s->conninfo);
    free(s->shown);
    free(s->buf);
    free(s);
}

/* The session's temporary tables: the batch being loaded and the IDs found unchanged. */
static ps_status make_temp_tables(pg_sink *s, ps_error *err)
{
    char sql[2048];
    size_t n = (size_t)snprintf(sql, sizeof sql, "CREATE TEMP TABLE IF NOT EXISTS ps_load (");
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s text", f ? ", " : "",
                              ps_store_field_column(f));
    for (size_t i = 0; i < NEXTRA; i++)
        n +=
            (size_t)snprintf(sql + n, sizeof sql - n, ", %s %s", load_extra[i], load_extra_type[i]);
    snprintf(sql + n, sizeof sql - n,
             ") ON COMMIT DELETE ROWS;"
             " CREATE TEMP TABLE IF NOT EXISTS ps_seen (id text) ON COMMIT DELETE ROWS");
    return run_sql(s, sql, 0, NULL, "creating the load tables", err);
}

static ps_status connect_and_migrate(pg_sink *s, ps_error *err)
{
    ps_status st = ps_pg_connect(s->conninfo, s->shown, 10, &s->db, err);
    if (st != PS_OK) {
        err->code = PS_ERR_SINK;
        return PS_ERR_SINK;
    }
    int upgraded = 0;
    st = ps_pg_migrate(s->db, s->shown, &upgraded, err);
    if (st == PS_OK && upgraded)
        s->host->log(s->env, PS_LOG_INFO, "upgraded postgres store '%s' to schema version %d",
                     s->shown, PS_PG_SCHEMA_VERSION);
    if (st == PS_OK) {
        char set[64];
        snprintf(set, sizeof set, "SET lock_timeout = %d", s->busy_ms);
        st = run_sql(s, set, 0, NULL, "setting up the session", err);
    }
    if (st == PS_OK)
        st = make_temp_tables(s, err);
    return st;
}

static ps_status pg_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    const ps_host *h = ctx->host;
    const char *ci = h->opt_string(ctx->options, PS_PG_CONNINFO_OPTION);
    pg_sink *s = calloc(1, sizeof *s);
    if (!s || !(s->conninfo = strdup(ci ? ci : "")) || !(s->shown = ps_pg_shown(s->conninfo))) {
        pg_destroy(s);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    s->host = h;
    s->env = ctx->env;
    s->busy_ms = ps_store_busy_ms(h, ctx->options);
    const char *wid = getenv("PAYSYNC_WORKER_ID");
    char host[128] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "localhost");
    if (wid && *wid)
        snprintf(s->worker, sizeof s->worker, "%.190s", wid);
    else
        snprintf(s->worker, sizeof s->worker, "%.150s pid %ld", host, (long)getpid());
    ps_status st = connect_and_migrate(s, err);
    if (st != PS_OK) {
        pg_destroy(s);
        return st;
    }
    *inst = s;
    return PS_OK;
}

/* Takes the dataset's writer lock (waiting up to busy_timeout_ms for another run's), then
 * commits the run's start marker in a transaction of its own (store_schema.h:
 * PS_STORE_RUN_INTERRUPTED): a run killed later stays visible as interrupted once its lock is
 * gone. */
static ps_status lock_and_mark(pg_sink *s, int64_t started_ms, ps_error *err)
{
    const char *p1[1] = {s->dataset};
    PGresult *r =
        PQexecParams(s->db, "SELECT pg_advisory_lock(" PS_PG_LOCK_NS_TEXT ", hashtext($1))", 1,
                     NULL, p1, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        ps_status e;
        if (code && strcmp(code, "55P03") == 0) /* lock_not_available */
            e = ps_error_setf(err, PS_ERR_SINK,
                              "postgres store '%s': dataset '%s' is being written by another run "
                              "(waited %d ms; raise busy_timeout_ms or let it end)",
                              s->shown, s->dataset, s->busy_ms);
        else
            e = fail(s, r, "taking the dataset's writer lock", err);
        PQclear(r);
        return e;
    }
    PQclear(r);
    s->locked = 1;
    char started[32], ms[32], error[sizeof PS_STORE_RUN_INTERRUPTED + 300];
    ps_store_format_ms(started_ms, started);
    snprintf(ms, sizeof ms, "%lld", (long long)started_ms);
    unsigned long long since = 0;
    ps_proc_start_time((long)getpid(), &since);
    snprintf(error, sizeof error, "%s%ld%s%llu (worker %s)", PS_STORE_RUN_INTERRUPTED,
             (long)getpid(), PS_STORE_RUN_START, since, s->worker);
    const char *p[6] = {s->run_id, s->dataset, started, ms, error, s->worker};
    ps_status st = run_sql(s,
                           "INSERT INTO runs (run_id, dataset, started, started_ms, outcome, error,"
                           " worker) VALUES ($1, $2, $3, $4, 'failed', $5, $6)"
                           " ON CONFLICT (dataset, run_id) DO UPDATE SET error = EXCLUDED.error",
                           6, p, "recording the start of the run", err);
    if (st != PS_OK)
        s->host->log(s->env, PS_LOG_WARN, "%s", err->message);
    return PS_OK; /* the dataset's transaction then fails with the reason, if any */
}

static ps_status pg_open(void *inst, const ps_sink_open_args *args, ps_error *err)
{
    pg_sink *s = inst;
    if (s->in_txn)
        return ps_error_setf(err, PS_ERR_INTERNAL,
                             "postgres store '%s': dataset '%s' opened while '%s' is still open",
                             s->shown, args->dataset, s->dataset ? s->dataset : "?");
    unlock_dataset(s);
    free_dataset_state(s);
    if (ps_store_copy_names(args, &s->dataset, &s->run_id, &s->target_id, err) != PS_OK)
        return err->code;
    s->level = args->target_level;
    s->inserted = s->changed = s->unchanged = 0;
    s->stored_before = s->seen_present = 0;
    s->win_from = INT64_MIN;
    s->win_to = INT64_MAX;
    s->has_rows = 0;
    ps_status st = lock_and_mark(s, args->started_ms, err);
    char what[300];
    snprintf(what, sizeof what, "starting the transaction of dataset '%s'", s->dataset);
    if (st == PS_OK)
        st = run_sql(s, "BEGIN", 0, NULL, what, err);
    if (st != PS_OK) {
        unlock_dataset(s);
        return st;
    }
    s->in_txn = 1;
    const char *p[1] = {s->dataset};
    PGresult *r = q(s,
                    "SELECT EXISTS (SELECT 1 FROM payments WHERE dataset = $1),"
                    " (SELECT run_id FROM cursors WHERE dataset = $1),"
                    " (SELECT count(*) FROM payments WHERE dataset = $1 AND vanished_run IS NULL)",
                    1, p, 1, what, err);
    if (!r) {
        ps_pg_exec(s->db, "ROLLBACK", NULL, 0);
        s->in_txn = 0;
        unlock_dataset(s);
        return err->code;
    }
    s->has_rows = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    if (!PQgetisnull(r, 0, 1) && !(s->prev_run = strdup(PQgetvalue(r, 0, 1)))) {
        PQclear(r);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    s->stored_before = ps_pg_u64(r, 0, 2);
    PQclear(r);
    return PS_OK;
}

/* Appends text to the COPY buffer, escaped for COPY's text format. */
static int put(pg_sink *s, const char *p, size_t n, int escape)
{
    if (s->cap - s->len < 2 * n + 4) {
        size_t nc = s->cap ? s->cap : 1 << 20;
        while (nc - s->len < 2 * n + 4)
            nc *= 2;
        char *nb = realloc(s->buf, nc);
        if (!nb)
            return -1;
        s->buf = nb;
        s->cap = nc;
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (escape && (c == '\\' || c == '\t' || c == '\n' || c == '\r')) {
            s->buf[s->len++] = '\\';
            c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
        }
        s->buf[s->len++] = c;
    }
    return 0;
}

static int put_int(pg_sink *s, long long v, char sep)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%lld%c", v, sep);
    return put(s, t, (size_t)n, 0);
}

static int put_record(pg_sink *s, const ps_record *r)
{
    int rc = 0;
    for (int f = 0; f < PS_FIELD_COUNT && rc == 0; f++) {
        rc = r->field[f].ptr ? put(s, r->field[f].ptr, r->field[f].len, 1) : put(s, "\\N", 2, 0);
        rc = rc ? rc : put(s, "\t", 1, 0);
    }
    char dec[PS_DECIMAL_TEXT_MAX + 1];
    size_t dn;
    rc = rc ? rc : put_int(s, r->timestamp_ms, '\t');
    rc = rc ? rc : put_int(s, r->amount.units, '\t');
    rc = rc ? rc : put_int(s, r->amount.scale, '\t');
    dn = ps_decimal_format(r->amount, dec); /* the exact value: numeric, never float */
    dec[dn++] = '\t';
    rc = rc ? rc : put(s, dec, dn, 0);
    if (r->has_charges) {
        rc = rc ? rc : put_int(s, r->charges.units, '\t');
        rc = rc ? rc : put_int(s, r->charges.scale, '\t');
        dn = ps_decimal_format(r->charges, dec);
        dec[dn++] = '\t';
        rc = rc ? rc : put(s, dec, dn, 0);
    } else {
        rc = rc ? rc : put(s, "\\N\t\\N\t\\N\t", 9, 0);
    }
    rc = rc ? rc : put_int(s, r->id_derived ? 1 : 0, '\t');
    rc = rc ? rc : put_int(s, (long long)r->source_row, '\t');
    rc = rc ? rc : put_int(s, (long long)(int64_t)r->content_hash, '\n');
    return rc;
}

static ps_status copy_batch(pg_sink *s, const ps_record_batch *batch, ps_error *err)
{
    s->len = 0;
    for (size_t i = 0; i < batch->count; i++) {
        const ps_record *r = &batch->records[i];
        if (!r->field[PS_F_ID].ptr)
            return ps_error_setf(err, PS_ERR_INTERNAL,
                                 "postgres store '%s': record of source row %llu has no ID",
                                 s->shown, (unsigned long long)r->source_row);
        if (put_record(s, r) != 0)
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    ps_status st = run_sql(s, "TRUNCATE ps_load", 0, NULL, "loading a batch", err);
    if (st != PS_OK)
        return st;
    PGresult *r = PQexec(s->db, "COPY ps_load FROM STDIN");
    if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
        st = fail(s, r, "loading a batch (COPY)", err);
        PQclear(r);
        return st;
    }
    PQclear(r);
    int ok = PQputCopyData(s->db, s->buf, (int)s->len) == 1;
    ok = PQputCopyEnd(s->db, ok ? NULL : "paysync: sending the batch failed") == 1 && ok;
    r = PQgetResult(s->db);
    st = ok && r && PQresultStatus(r) == PGRES_COMMAND_OK
             ? PS_OK
             : fail(s, r, "loading a batch (COPY)", err);
    PQclear(r);
    while ((r = PQgetResult(s->db)) != NULL)
        PQclear(r);
    return st;
}

/* The merge of one loaded batch: inserts new payments, updates changed and reappeared ones
 * (only where the content hash differs or the payment had vanished), and when the dataset had
 * payments, counts the present ones this batch saw and keeps the unchanged IDs (ps_seen) so
 * that commit can tell which present payments this run did not see. $1 dataset, $2 run,
 * $3 target level, $4 target ID. Returns inserted, changed, present-before-and-seen. */
static char *merge_sql(int with_prev)
{
    size_t cap = 8192, n = 0;
    char *sql = malloc(cap);
    if (!sql)
        return NULL;
    char cols[2048] = "", sel[3072] = "", set[4096] = "";
    size_t nc = 0, ns = 0, nu = 0;
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        const char *c = ps_store_field_column(f);
        nc += (size_t)snprintf(cols + nc, sizeof cols - nc, "%s, ", c);
        ns += (size_t)snprintf(sel + ns, sizeof sel - ns, "l.%s, ", c);
        if (f != PS_F_ID)
            nu += (size_t)snprintf(set + nu, sizeof set - nu, "%s = EXCLUDED.%s, ", c, c);
    }
    for (size_t i = 0; i < NEXTRA; i++) {
        nc += (size_t)snprintf(cols + nc, sizeof cols - nc, "%s, ", load_extra[i]);
        ns += (size_t)snprintf(sel + ns, sizeof sel - ns, "l.%s, ", load_extra[i]);
        nu += (size_t)snprintf(set + nu, sizeof set - nu, "%s = EXCLUDED.%s, ", load_extra[i],
                               load_extra[i]);
    }
    if (with_prev)
        n += (size_t)snprintf(
            sql + n, cap - n,
            "WITH prev AS (SELECT l.id, p.vanished_run IS NULL AS present,"
            " p.content_hash = l.content_hash AS same FROM ps_load l JOIN payments p"
            " ON p.dataset = $1 AND p.id = l.id),"
            " seen AS (INSERT INTO ps_seen (id) SELECT id FROM prev WHERE present AND same),");
    else
        n += (size_t)snprintf(sql + n, cap - n, "WITH ");
    n += (size_t)snprintf(
        sql + n, cap - n,
        " up AS (INSERT INTO payments (dataset, %starget_level, target_id,"
        " first_seen_run, last_seen_run, vanished_run)"
        " SELECT $1, %s"
        " $3, $4, $2, $2, NULL FROM ps_load l"
        " ON CONFLICT (dataset, id) DO UPDATE SET %starget_level = EXCLUDED.target_level,"
        " target_id = EXCLUDED.target_id, last_seen_run = EXCLUDED.last_seen_run,"
        " vanished_run = NULL"
        " WHERE payments.content_hash <> EXCLUDED.content_hash"
        " OR payments.vanished_run IS NOT NULL"
        " RETURNING (xmax = 0) AS ins)"
        " SELECT count(*) FILTER (WHERE ins), count(*) FILTER (WHERE NOT ins), %s FROM up",
        cols, sel, set, with_prev ? "(SELECT count(*) FROM prev WHERE present)" : "0");
    return sql;
}

/* Reads the result of the merge sent for the previous batch (if any) and adds its counts.
 * The error names that batch's source rows. */
static ps_status collect(pg_sink *s, ps_error *err)
{
    if (!s->pending)
        return PS_OK;
    s->pending = 0;
    PGresult *r = PQgetResult(s->db), *more;
    ps_status st = PS_OK;
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        st = fail(s, r, s->pending_what, err);
    while ((more = PQgetResult(s->db)) != NULL)
        PQclear(more);
    if (st == PS_OK) {
        uint64_t ins = ps_pg_u64(r, 0, 0), chg = ps_pg_u64(r, 0, 1), seen = ps_pg_u64(r, 0, 2);
        s->inserted += ins;
        s->changed += chg;
        s->unchanged += s->pending_count - ins - chg;
        s->seen_present += seen;
    }
    PQclear(r);
    return st;
}

/* Drops the result of a merge still in flight (before a rollback). */
static void discard(pg_sink *s)
{
    if (!s->pending)
        return;
    s->pending = 0;
    PGresult *r;
    while ((r = PQgetResult(s->db)) != NULL)
        PQclear(r);
}

static ps_status pg_write_batch(void *inst, const ps_record_batch *batch, ps_error *err)
{
    pg_sink *s = inst;
    if (!s->in_txn)
        return ps_error_setf(err, PS_ERR_INTERNAL, "postgres store '%s': write without open",
                             s->shown);
    if (batch->count == 0)
        return PS_OK;
    ps_status st = collect(s, err);
    if (st == PS_OK)
        st = copy_batch(s, batch, err);
    if (st != PS_OK)
        return st;
    int w = s->has_rows ? 1 : 0;
    const char *name = w ? "ps_merge_prev" : "ps_merge_new";
    if (!s->prepared[w]) {
        char *sql = merge_sql(w);
        if (!sql)
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        PGresult *r = PQprepare(s->db, name, sql, 4, NULL);
        free(sql);
        st = r && PQresultStatus(r) == PGRES_COMMAND_OK
                 ? PS_OK
                 : fail(s, r, "preparing the merge of a batch", err);
        PQclear(r);
        if (st != PS_OK)
            return st;
        s->prepared[w] = 1;
    }
    const char *p[4] = {s->dataset, s->run_id, ps_store_target_level_name(s->level), s->target_id};
    snprintf(s->pending_what, sizeof s->pending_what,
             "writing the payments of source rows %llu..%llu",
             (unsigned long long)batch->records[0].source_row,
             (unsigned long long)batch->records[batch->count - 1].source_row);
    /* sent, not waited for: the server merges while the core validates the next batch */
    if (!PQsendQueryPrepared(s->db, name, 4, p, NULL, NULL, 0))
        return fail(s, NULL, s->pending_what, err);
    s->pending = 1;
    s->pending_count = batch->count;
    return PS_OK;
}

static ps_status insert_run(pg_sink *s, const ps_commit_info *info, const char *outcome,
                            const ps_change_counts *c, const char *error, ps_error *err)
{
    char started[32], finished[32], num[13][24];
    ps_store_format_ms(info->started_ms, started);
    ps_store_format_ms(info->finished_ms, finished);
    uint64_t filtered =
        PS_HAS_MEMBER(ps_commit_info, filtered, info->struct_size) ? info->filtered : 0;
    const long long v[13] = {info->started_ms,
                             info->finished_ms,
                             (long long)info->read,
                             (long long)info->accepted,
                             (long long)info->rejected,
                             (long long)info->blank,
                             (long long)info->duplicates,
                             (long long)info->warnings,
                             c ? (long long)c->inserted : 0,
                             c ? (long long)c->changed : 0,
                             c ? (long long)c->unchanged : 0,
                             c ? (long long)c->vanished : 0,
                             (long long)filtered};
    for (int i = 0; i < 13; i++)
        snprintf(num[i], sizeof num[i], "%lld", v[i]);
    const char *p[20] = {info->run_id ? info->run_id : "",
                         info->dataset ? info->dataset : "",
                         started,
                         num[0],
                         finished,
                         num[1],
                         outcome,
                         num[2],
                         num[3],
                         num[4],
                         num[5],
                         num[6],
                         num[7],
                         c ? num[8] : NULL,
                         c ? num[9] : NULL,
                         c ? num[10] : NULL,
                         c ? num[11] : NULL,
                         error,
                         num[12],
                         s->worker};
    return run_sql(
        s,
        "INSERT INTO runs (run_id, dataset, started, started_ms, finished, finished_ms, outcome,"
        " read, accepted, rejected, blank, duplicates, warnings, inserted, changed, unchanged,"
        " vanished, error, filtered, worker) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
        " $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) ON CONFLICT (dataset, run_id) DO"
        " UPDATE SET started = EXCLUDED.started, started_ms = EXCLUDED.started_ms,"
        " finished = EXCLUDED.finished, finished_ms = EXCLUDED.finished_ms,"
        " outcome = EXCLUDED.outcome, read = EXCLUDED.read, accepted = EXCLUDED.accepted,"
        " rejected = EXCLUDED.rejected, blank = EXCLUDED.blank,"
        " duplicates = EXCLUDED.duplicates, warnings = EXCLUDED.warnings,"
        " inserted = EXCLUDED.inserted, changed = EXCLUDED.changed,"
        " unchanged = EXCLUDED.unchanged, vanished = EXCLUDED.vanished, error = EXCLUDED.error,"
        " filtered = EXCLUDED.filtered, worker = EXCLUDED.worker",
        20, p, "recording the run", err);
}

static ps_status write_codes(pg_sink *s, const char *table, const char *run_id, size_t n,
                             const char *const *codes, const uint64_t *counts, ps_error *err)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s (dataset, run_id, code, count) VALUES ($1, $2, $3, $4)"
             " ON CONFLICT (dataset, run_id, code) DO UPDATE SET count = EXCLUDED.count",
             table);
    for (size_t i = 0; i < n; i++) {
        char num[24];
        snprintf(num, sizeof num, "%llu", (unsigned long long)counts[i]);
        const char *p[4] = {s->dataset, run_id, codes[i], num};
        ps_status st = run_sql(s, sql, 4, p, "recording the counts by code", err);
        if (st != PS_OK)
            return st;
    }
    return PS_OK;
}

/* The window's bounds (ps_store_set_window) as the text of query parameters. */
static void window_params(const pg_sink *s, char from[24], char to[24])
{
    snprintf(from, 24, "%lld", (long long)s->win_from);
    snprintf(to, 24, "%lld", (long long)s->win_to);
}

static ps_status pg_commit(void *inst, const ps_commit_info *info, ps_change_counts *changes,
                           ps_error *err)
{
    pg_sink *s = inst;
    if (!s->in_txn)
        return ps_error_setf(err, PS_ERR_INTERNAL, "postgres store '%s': commit without open",
                             s->shown);
    if (info->dataset && strcmp(info->dataset, s->dataset) != 0)
        return ps_error_setf(err, PS_ERR_INTERNAL,
                             "postgres store '%s': commit of dataset '%s' but '%s' is open",
                             s->shown, info->dataset, s->dataset);
    ps_change_counts c = {.struct_size = sizeof c,
                          .valid = 1,
                          .inserted = s->inserted,
                          .changed = s->changed,
                          .unchanged = s->unchanged,
                          .vanished = 0};
    const char *run_id = info->run_id ? info->run_id : s->run_id;
    ps_status st = collect(s, err); /* the last batch */
    c.inserted = s->inserted;
    c.changed = s->changed;
    c.unchanged = s->unchanged;
    if (st == PS_OK && s->stored_before > s->seen_present) {
        /* present payments this run neither wrote (last_seen_run = run) nor found unchanged
         * (ps_seen), inside the window it read; they were last seen by the previous
         * successful run */
        char from[24], to[24];
        window_params(s, from, to);
        const char *p[5] = {run_id, s->dataset, s->prev_run, from, to};
        PGresult *r = q(s,
                        "UPDATE payments SET vanished_run = $1,"
                        " last_seen_run = coalesce($3, last_seen_run)"
                        " WHERE dataset = $2 AND vanished_run IS NULL AND last_seen_run <> $1"
                        " AND timestamp_ms BETWEEN $4::bigint AND $5::bigint"
                        " AND NOT EXISTS (SELECT 1 FROM ps_seen s WHERE s.id = payments.id)",
                        5, p, 0, "marking vanished payments", err);
        if (r)
            c.vanished = strtoull(PQcmdTuples(r), NULL, 10);
        st = r ? PS_OK : err->code;
        PQclear(r);
    }
    ps_commit_info fixed = *info;
    fixed.dataset = s->dataset;
    fixed.run_id = run_id;
    if (st == PS_OK)
        st = insert_run(s, &fixed, "ok", &c, NULL, err);
    if (st == PS_OK)
        st = write_codes(s, "run_rejects", run_id, info->n_reject_codes, info->reject_codes,
                         info->reject_code_counts, err);
    if (st == PS_OK && PS_HAS_MEMBER(ps_commit_info, warning_code_counts, info->struct_size))
        st = write_codes(s, "run_warnings", run_id, info->n_warning_codes, info->warning_codes,
                         info->warning_code_counts, err);
    if (st == PS_OK && s->columns_json) {
        const char *p[4] = {s->dataset, run_id, s->columns_json, s->missing_json};
        st = run_sql(s,
                     "INSERT INTO run_columns (dataset, run_id, columns, missing)"
                     " VALUES ($1, $2, $3, $4) ON CONFLICT (dataset, run_id) DO UPDATE SET"
                     " columns = EXCLUDED.columns, missing = EXCLUDED.missing",
                     4, p, "recording the source's columns", err);
    }
    if (st == PS_OK) {
        const char *p[3] = {s->dataset, info->cursor_json, run_id};
        st = run_sql(s,
                     "INSERT INTO cursors (dataset, cursor_json, run_id) VALUES ($1, $2, $3)"
                     " ON CONFLICT (dataset) DO UPDATE SET cursor_json = EXCLUDED.cursor_json,"
                     " run_id = EXCLUDED.run_id",
                     3, p, "saving the cursor", err);
    }
    if (st == PS_OK) {
        ps_crash_point("store-before-commit");
        char what[300];
        snprintf(what, sizeof what, "committing (dataset '%s')", s->dataset);
        st = run_sql(s, "COMMIT", 0, NULL, what, err);
    }
    if (st == PS_OK)
        ps_crash_point("store-after-commit");
    if (st != PS_OK) {
        discard(s);
        ps_pg_exec(s->db, "ROLLBACK", NULL, 0);
    }
    s->in_txn = 0;
    unlock_dataset(s);
    if (st != PS_OK)
        return st;
    if (changes) {
        c.struct_size = changes->struct_size; /* the core's table: keep its size */
        *changes = c;
    }
    return PS_OK;
}

static void pg_abort(void *inst, const char *reason)
{
    pg_sink *s = inst;
    if (!s->in_txn)
        return;
    discard(s);
    char m[512] = "";
    int rc = ps_pg_exec(s->db, "ROLLBACK", m, sizeof m);
    s->in_txn = 0;
    if (rc != 0)
        s->host->log(s->env, PS_LOG_WARN, "postgres store '%s': rollback of '%s' failed: %s",
                     s->shown, s->dataset ? s->dataset : "?", m);
    else
        s->host->log(s->env, PS_LOG_DEBUG, "postgres store '%s': dataset '%s' rolled back (%s)",
                     s->shown, s->dataset ? s->dataset : "?", reason ? reason : "aborted");
}

static ps_status pg_finish(void *inst, int all_ok, ps_error *err)
{
    pg_sink *s = inst;
    (void)all_ok;
    (void)err;
    if (s->in_txn) {
        s->host->log(s->env, PS_LOG_WARN,
                     "postgres store '%s': dataset '%s' was neither committed nor aborted; "
                     "rolled back",
                     s->shown, s->dataset ? s->dataset : "?");
        pg_abort(s, "unfinished at the end of the run");
    }
    unlock_dataset(s);
    return PS_OK;
}

static char *pg_load_cursor(void *inst, const char *dataset)
{
    pg_sink *s = inst;
    const char *p[1] = {dataset};
    ps_error err = {0};
    PGresult *r = q(s, "SELECT cursor_json FROM cursors WHERE dataset = $1", 1, p, 1,
                    "reading the cursor", &err);
    char *out = NULL;
    if (!r)
        s->host->log(s->env, PS_LOG_WARN, "%s", err.message);
    else if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        out = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

static void pg_record_failure(void *inst, const ps_commit_info *info, const char *message)
{
    pg_sink *s = inst;
    if (s->in_txn)
        pg_abort(s, "run failed");
    /* a run that failed because the connection broke (the server restarted) records its
     * failure on a new one */
    if (PQstatus(s->db) != CONNECTION_OK) {
        s->locked = 0; /* the server released it with the session */
        s->pending = 0;
        s->prepared[0] = s->prepared[1] = 0;
        PQreset(s->db);
        if (PQstatus(s->db) == CONNECTION_OK)
            PQsetClientEncoding(s->db, "UTF8");
    }
    ps_error e = {0};
    if (insert_run(s, info, "failed", NULL, message ? message : "failed", &e) != PS_OK)
        s->host->log(s->env, PS_LOG_ERROR, "postgres store '%s': recording a failed run: %s",
                     s->shown, e.message);
    unlock_dataset(s);
}

ps_status ps_store_pg_previous_columns(void *writer, char ***prev, size_t *n, ps_error *err)
{
    pg_sink *s = writer;
    *prev = NULL;
    *n = 0;
    if (!s->in_txn)
        return ps_error_setf(err, PS_ERR_INTERNAL,
                             "postgres store '%s': columns asked without an open dataset",
                             s->shown);
    const char *p[1] = {s->dataset};
    PGresult *r = q(s,
                    "SELECT c.columns FROM run_columns c JOIN runs r ON r.dataset = c.dataset"
                    " AND r.run_id = c.run_id WHERE c.dataset = $1 AND r.outcome = 'ok'"
                    " ORDER BY r.started_ms DESC, r.run_id DESC LIMIT 1",
                    1, p, 1, "reading the columns of the last run", err);
    if (!r)
        return err->code;
    int bad = PQntuples(r) == 1 && ps_sqlite_names_parse(PQgetvalue(r, 0, 0), prev, n) != 0;
    PQclear(r);
    if (bad)
        return ps_error_setf(err, PS_ERR_SINK,
                             "postgres store '%s': the columns of the last run of dataset '%s' "
                             "are not a JSON array of names",
                             s->shown, s->dataset);
    return PS_OK;
}

ps_status ps_store_pg_record_columns(void *writer, const char *const *cols, size_t ncols,
                                     const char *const *missing, size_t nmissing, ps_error *err)
{
    pg_sink *s = writer;
    return ps_store_keep_columns(&s->columns_json, &s->missing_json, cols, ncols, missing, nmissing,
                                 err);
}

void ps_store_pg_set_window(void *writer, int64_t from_ms, int64_t to_ms)
{
    pg_sink *s = writer;
    s->win_from = from_ms;
    s->win_to = to_ms;
}

ps_status ps_store_pg_pending_vanish(void *writer, uint64_t *stored, uint64_t *vanishing,
                                     ps_error *err)
{
    pg_sink *s = writer;
    *stored = *vanishing = 0;
    if (!s->in_txn)
        return ps_error_setf(err, PS_ERR_INTERNAL,
                             "postgres store '%s': vanish count without an open dataset", s->shown);
    ps_status st = collect(s, err); /* the last batch's counts */
    if (st != PS_OK)
        return st;
    if ((s->win_from != INT64_MIN || s->win_to != INT64_MAX) && s->stored_before) {
        /* a window: the payments present before this run with a TIMESTAMP inside it, and
         * those of them this run neither wrote nor found unchanged */
        char from[24], to[24];
        window_params(s, from, to);
        const char *p[4] = {s->dataset, s->run_id, from, to};
        PGresult *r = q(s,
                        "SELECT count(*), count(*) FILTER (WHERE last_seen_run <> $2 AND NOT"
                        " EXISTS (SELECT 1 FROM ps_seen x WHERE x.id = p.id)) FROM payments p"
                        " WHERE dataset = $1 AND vanished_run IS NULL AND first_seen_run <> $2"
                        " AND timestamp_ms BETWEEN $3::bigint AND $4::bigint",
                        4, p, 1, "counting the window's payments", err);
        if (!r)
            return err->code;
        *stored = ps_pg_u64(r, 0, 0);
        *vanishing = ps_pg_u64(r, 0, 1);
        PQclear(r);
        return PS_OK;
    }
    *stored = s->stored_before;
    *vanishing = s->stored_before > s->seen_present ? s->stored_before - s->seen_present : 0;
    return PS_OK;
}

static const ps_option_spec pg_options[] = {
    {.name = PS_PG_CONNINFO_OPTION,
     .type = PS_OPT_STRING,
     .default_value = "",
     .secret = 1,
     .description = "libpq connection string (\"host=db dbname=paysync user=paysync\" or a "
                    "postgresql:// URI); PG* environment variables and ~/.pgpass apply; use "
                    "${VAR} for a password"},
    {.name = PS_PG_LEASE_OPTION,
     .type = PS_OPT_DURATION,
     .default_value = "60s",
     .description = "daemons sharing this store: a worker's lease on a dataset whose heartbeat "
                    "is older than this is taken over by another worker (docs/scaling.md)",
     .flags = PS_OPTF_RANGE,
     .min = 3000,
     .max = 86400000},
    PS_STORE_BUSY_TIMEOUT_SPEC(
        "how long to wait for another run writing the same dataset before failing"),
    {0},
};

static const ps_sink_ops pg_ops = PS_STORE_SINK_OPS(pg);

static const ps_plugin_descriptor pg_descriptor = PS_STORE_SINK_DESCRIPTOR(
    PS_POSTGRES_PLUGIN, "PostgreSQL store with change tracking, run history and cursors",
    pg_options, pg);

const ps_plugin_descriptor *ps_store_pg_sink(void)
{
    return &pg_descriptor;
}
