/* paysync store: connections, messages and migrations of the PostgreSQL backend
 * (pg_store.h). */
#include "store/pg_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/kv.h"
#include "store/pg_schema.h"

char *ps_store_pg_locate(const ps_kv *opts, size_t nopts, const char *config_dir)
{
    (void)config_dir;
    const char *v = "";
    for (size_t i = 0; i < nopts; i++)
        if (strcmp(opts[i].key, PS_PG_CONNINFO_OPTION) == 0 && opts[i].value)
            v = opts[i].value;
    return strdup(v);
}

char *ps_pg_shown(const char *conninfo)
{
    static const char *const keep[] = {"host", "hostaddr", "port", "dbname", "user"};
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo ? conninfo : "", &perr);
    PQfreemem(perr);
    if (!opts)
        return strdup("(unparsable conninfo)");
    size_t cap = 64, n = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val)
            cap += strlen(o->keyword) + strlen(o->val) + 2;
    char *out = malloc(cap);
    if (!out) {
        PQconninfoFree(opts);
        return NULL;
    }
    out[0] = '\0';
    for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++)
        for (PQconninfoOption *o = opts; o->keyword; o++)
            if (o->val && o->val[0] && strcmp(o->keyword, keep[k]) == 0)
                n +=
                    (size_t)snprintf(out + n, cap - n, "%s%s=%s", n ? " " : "", o->keyword, o->val);
    PQconninfoFree(opts);
    if (n == 0)
        snprintf(out, cap, "(PG* environment)");
    return out;
}

const char *ps_pg_message(PGconn *c, const PGresult *r, char *buf, size_t cap)
{
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !*m)
        m = c ? PQerrorMessage(c) : "";
    if (c && PQstatus(c) == CONNECTION_BAD && (!m || !*m))
        m = "connection lost";
    snprintf(buf, cap, "%s", m && *m ? m : "unknown error");
    /* one line: libpq's messages end with a newline, may add DETAIL/HINT lines and indent
     * with tabs; runs of white space become one space */
    size_t w = 0;
    for (size_t r = 0; buf[r]; r++) {
        char c = buf[r] == '\n' || buf[r] == '\t' || buf[r] == '\r' ? ' ' : buf[r];
        if (c == ' ' && (w == 0 || buf[w - 1] == ' '))
            continue;
        buf[w++] = c;
    }
    buf[w] = '\0';
    size_t len = w;
    while (len && buf[len - 1] == ' ')
        buf[--len] = '\0';
    return buf;
}

ps_status ps_pg_connect(const char *conninfo, const char *shown, int timeout_s, PGconn **out,
                        ps_error *err)
{
    char t[16];
    snprintf(t, sizeof t, "%d", timeout_s > 0 ? timeout_s : 2);
    /* the connection string comes last: what it sets wins over these defaults */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {t, "paysync", conninfo ? conninfo : "", NULL};
    *out = NULL;
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    char m[512];
    if (!c)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    if (PQstatus(c) != CONNECTION_OK) {
        ps_error_setf(err, PS_ERR_IO, "postgres store '%s': cannot connect: %s", shown,
                      ps_pg_message(c, NULL, m, sizeof m));
        PQfinish(c);
        return PS_ERR_IO;
    }
    if (PQsetClientEncoding(c, "UTF8") != 0 ||
        ps_pg_exec(c, "SET datestyle = ISO; SET extra_float_digits = 3", m, sizeof m) != 0) {
        ps_error_setf(err, PS_ERR_IO, "postgres store '%s': setting up the connection failed: %s",
                      shown, ps_pg_message(c, NULL, m, sizeof m));
        PQfinish(c);
        return PS_ERR_IO;
    }
    *out = c;
    return PS_OK;
}

int ps_pg_exec(PGconn *c, const char *sql, char *buf, size_t cap)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok && buf && cap)
        ps_pg_message(c, r, buf, cap);
    PQclear(r);
    return ok ? 0 : -1;
}

int ps_pg_schema_version(PGconn *c, char *buf, size_t cap)
{
    /* two statements: a query naming a missing table fails at parse time. The catalog is
     * read with a snapshot, not through to_regclass: its cached "no such table" would
     * outlive another worker's migration (pg_ps_migrate waits for that one, then looks). */
    PGresult *r = PQexec(c, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE"
                            " schemaname = current_schema() AND tablename = 'paysync_schema')");
    int v = -1;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        v = 0;
        if (PQgetvalue(r, 0, 0)[0] == 't') {
            PQclear(r);
            r = PQexec(c, "SELECT coalesce(max(version), 0) FROM paysync_schema");
            v = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                    ? atoi(PQgetvalue(r, 0, 0))
                    : -1;
        }
    }
    if (v < 0)
        ps_pg_message(c, r, buf, cap);
    PQclear(r);
    return v;
}

ps_status ps_pg_migrate(PGconn *c, const char *shown, int *upgraded, ps_error *err)
{
    char m[512];
    *upgraded = 0;
    /* cheap check first: an up-to-date store takes no lock */
    int v = ps_pg_schema_version(c, m, sizeof m);
    if (v == PS_PG_SCHEMA_VERSION)
        return PS_OK;
    if (ps_pg_exec(c, "BEGIN", m, sizeof m) != 0 ||
        ps_pg_exec(c, "SELECT pg_advisory_xact_lock(" PS_PG_LOCK_NS_TEXT ", 0)", m, sizeof m) !=
            0 ||
        (v = ps_pg_schema_version(c, m, sizeof m)) < 0) {
        ps_pg_exec(c, "ROLLBACK", NULL, 0);
        return ps_error_setf(err, PS_ERR_SINK,
                             "postgres store '%s': reading the schema version failed: %s", shown,
                             m);
    }
    if (v > PS_PG_SCHEMA_VERSION) {
        ps_pg_exec(c, "ROLLBACK", m, sizeof m);
        return ps_error_setf(err, PS_ERR_SINK,
                             "postgres store '%s' has schema version %d, newer than this paysync "
                             "understands (%d): upgrade paysync",
                             shown, v, PS_PG_SCHEMA_VERSION);
    }
    int from = v;
    if (v == 0 && ps_pg_exec(c,
                             "CREATE TABLE paysync_schema (version integer NOT NULL);"
                             "INSERT INTO paysync_schema VALUES (0)",
                             m, sizeof m) != 0)
        v = -1;
    for (; v >= 0 && v < PS_PG_SCHEMA_VERSION; v++) {
        char set[80];
        snprintf(set, sizeof set, "UPDATE paysync_schema SET version = %d", v + 1);
        if (ps_pg_exec(c, ps_pg_migration(v), m, sizeof m) != 0 ||
            ps_pg_exec(c, set, m, sizeof m) != 0) {
            ps_error_setf(err, PS_ERR_SINK,
                          "postgres store '%s': upgrading the schema from version %d to %d "
                          "failed: %s",
                          shown, v, v + 1, m);
            ps_pg_exec(c, "ROLLBACK", NULL, 0);
            return PS_ERR_SINK;
        }
    }
    if (v < 0 || ps_pg_exec(c, "COMMIT", m, sizeof m) != 0) {
        ps_error_setf(err, PS_ERR_SINK, "postgres store '%s': creating the schema failed: %s",
                      shown, m);
        ps_pg_exec(c, "ROLLBACK", NULL, 0);
        return PS_ERR_SINK;
    }
    *upgraded = from > 0 && from < PS_PG_SCHEMA_VERSION;
    return PS_OK;
}

uint64_t ps_pg_u64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    long long v = strtoll(PQgetvalue(r, row, col), NULL, 10);
    return v < 0 ? 0 : (uint64_t)v;
}

int64_t ps_pg_i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : (int64_t)strtoll(PQgetvalue(r, row, col), NULL, 10);
}
