/* paysync store: leases of the PostgreSQL backend (store.h "leases", docs/scaling.md). A
 * daemon (a worker) keeps one connection for them; the table is `leases` (pg_schema.h), one
 * row per dataset, times the server's so that workers' clocks do not matter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/kv.h"
#include "store/pg_schema.h"
#include "store/pg_store.h"
#include "store/store.h"
#include "util/duration.h"

typedef struct pg_coord {
    ps_store_coord base;
    PGconn *db;
    char *conninfo, *shown;
    char worker[200];
    int64_t lease_ms;
} pg_coord;

void ps_store_pg_coord_close(ps_store_coord *pc)
{
    pg_coord *c = (pg_coord *)pc;
    if (!c)
        return;
    PQfinish(c->db);
    if (c->conninfo)
        memset(c->conninfo, 0, strlen(c->conninfo));
    free(c->conninfo);
    free(c->shown);
    free(c);
}

/* (Re)connects when the connection is gone (the server restarted): the next call works again. */
static ps_status connected(pg_coord *c, ps_error *err)
{
    if (c->db && PQstatus(c->db) == CONNECTION_OK)
        return PS_OK;
    PQfinish(c->db);
    c->db = NULL;
    ps_status st = ps_pg_connect(c->conninfo, c->shown, 10, &c->db, err);
    if (st != PS_OK)
        return st;
    int upgraded = 0;
    st = ps_pg_migrate(c->db, c->shown, &upgraded, err);
    if (st != PS_OK) {
        err->code = PS_ERR_IO;
        PQfinish(c->db);
        c->db = NULL;
        return PS_ERR_IO;
    }
    return PS_OK;
}

ps_status ps_store_pg_coord_open(const char *location, const ps_kv *opts, size_t nopts,
                                 const char *worker, ps_store_coord **out, ps_error *err)
{
    *out = NULL;
    pg_coord *c = calloc(1, sizeof *c);
    if (!c || !(c->conninfo = strdup(location ? location : "")) ||
        !(c->shown = ps_pg_shown(c->conninfo))) {
        ps_store_pg_coord_close(&c->base);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    /* c->base.backend: set by the caller (store_api.c), which knows the table: the table
     * lists these functions, so naming it here would make the two files depend on each
     * other */
    snprintf(c->worker, sizeof c->worker, "%s", worker ? worker : "");
    c->lease_ms = 60000;
    for (size_t i = 0; i < nopts; i++) {
        const char *why = NULL;
        int64_t ms = 0;
        if (strcmp(opts[i].key, PS_PG_LEASE_OPTION) == 0 && opts[i].value &&
            ps_duration_parse(opts[i].value, 0, &ms, &why) == 0 && ms >= 1000)
            c->lease_ms = ms; /* the option table checked it when the config loaded */
    }
    ps_status st = connected(c, err);
    if (st != PS_OK) {
        ps_store_pg_coord_close(&c->base);
        return st;
    }
    *out = &c->base;
    return PS_OK;
}

static ps_status fail(pg_coord *c, PGresult *r, const char *what, ps_error *err)
{
    char m[512];
    return ps_error_setf(err, PS_ERR_IO, "postgres store '%s': %s failed: %s", c->shown, what,
                         ps_pg_message(c->db, r, m, sizeof m));
}

ps_status ps_store_pg_lease_take(ps_store_coord *pc, const char *dataset, ps_store_take_result *out,
                                 ps_error *err)
{
    pg_coord *c = (pg_coord *)pc;
    ps_status st = connected(c, err);
    if (st != PS_OK)
        return st;
    char ms[24];
    snprintf(ms, sizeof ms, "%lld", (long long)c->lease_ms);
    const char *p[3] = {dataset, c->worker, ms};
    /* One statement: a lease is taken when absent, released, expired or already ours, and
     * no run holds the dataset's writer lock (a run whose worker lost its lease). The
     * outer query sees the table before the insert: the holder when not taken. */
    PGresult *r = PQexecParams(
        c->db,
        "WITH t AS (INSERT INTO leases AS l (dataset, worker, acquired, heartbeat, timeout_ms)"
        " VALUES ($1, $2, clock_timestamp(), clock_timestamp(), $3)"
        " ON CONFLICT (dataset) DO UPDATE SET worker = EXCLUDED.worker,"
        " acquired = EXCLUDED.acquired, heartbeat = EXCLUDED.heartbeat,"
        " timeout_ms = EXCLUDED.timeout_ms"
        " WHERE (l.worker = EXCLUDED.worker OR l.heartbeat < clock_timestamp() -"
        " l.timeout_ms * interval '1 millisecond')"
        " AND NOT EXISTS (SELECT 1 FROM pg_locks k WHERE k.locktype = 'advisory'"
        " AND k.classid = " PS_PG_LOCK_NS_TEXT "::oid AND k.objid = hashtext($1)::oid"
        " AND k.objsubid = 2 AND k.granted)"
        " RETURNING 1)"
        " SELECT (SELECT count(*) FROM t), (SELECT worker FROM leases WHERE dataset = $1),"
        " (SELECT max(started_ms) FROM runs WHERE dataset = $1 AND outcome = 'ok')",
        3, NULL, p, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        st = fail(c, r, "taking a lease", err);
        PQclear(r);
        return st;
    }
    out->taken = ps_pg_u64(r, 0, 0) > 0;
    if (!out->taken)
        snprintf(out->holder, sizeof out->holder, "%s",
                 PQgetisnull(r, 0, 1) ? "" : PQgetvalue(r, 0, 1));
    out->has_last_ok = !PQgetisnull(r, 0, 2);
    out->last_ok_ms = ps_pg_i64(r, 0, 2);
    PQclear(r);
    return PS_OK;
}

ps_status ps_store_pg_lease_beat(ps_store_coord *pc, ps_error *err)
{
    pg_coord *c = (pg_coord *)pc;
    ps_status st = connected(c, err);
    if (st != PS_OK)
        return st;
    const char *p[1] = {c->worker};
    PGresult *r = PQexecParams(c->db,
                               "UPDATE leases SET heartbeat = clock_timestamp() WHERE worker = $1"
                               " AND heartbeat > '-infinity'",
                               1, NULL, p, NULL, NULL, 0);
    st = r && PQresultStatus(r) == PGRES_COMMAND_OK ? PS_OK : fail(c, r, "renewing leases", err);
    PQclear(r);
    return st;
}

void ps_store_pg_lease_release(ps_store_coord *pc, const char *dataset)
{
    pg_coord *c = (pg_coord *)pc;
    ps_error err = {0};
    if (connected(c, &err) != PS_OK)
        return;
    const char *p[2] = {dataset, c->worker};
    PGresult *r = PQexecParams(c->db,
                               "UPDATE leases SET heartbeat = '-infinity' WHERE dataset = $1"
                               " AND worker = $2",
                               2, NULL, p, NULL, NULL, 0);
    PQclear(r);
}

int64_t ps_store_pg_lease_timeout_ms(const ps_store_coord *pc)
{
    return ((const pg_coord *)pc)->lease_ms;
}
