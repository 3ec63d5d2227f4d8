/* paysync core: meter list loading (meterlist.h). */
#include "engine/meterlist.h"

#include <inttypes.h>
#include <string.h>

#include "engine/protocol.h"
#include "model/model_fields.h"
#include "util/arena.h"

#define HDR_MAX 256
#define COLUMNS_SHOWN 600 /* bytes of the column list quoted when the column is missing */

typedef struct ml_ctx {
    const char *what;
    ps_meterset *set;
    uint64_t added;
} ml_ctx;

static ps_status add_value(ml_ctx *c, const char *s, size_t n, uint64_t line, ps_error *err)
{
    while (n > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n == 0)
        return PS_OK;
    switch (ps_meterset_add(c->set, s, n)) {
    case PS_METERSET_ADDED:
        c->added++;
        return PS_OK;
    case PS_METERSET_PRESENT:
        return PS_OK;
    case PS_METERSET_TOO_LONG:
        return ps_error_setf(err, PS_ERR_DATA,
                             "%s, row %" PRIu64 ": the meter ID is %zu bytes long, the limit is %d",
                             c->what, line, n, PS_METER_ID_MAX);
    case PS_METERSET_FULL:
        return ps_error_setf(err, PS_ERR_DATA,
                             "%s, row %" PRIu64 ": more than %d meters; the list is limited to %d",
                             c->what, line, PS_METERSET_MAX, PS_METERSET_MAX);
    default:
        return ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", c->what);
    }
}

/* The tabular column named `column`, or -1 (then `seen` lists the headers). */
static int find_column(const ps_table_info *info, const char *column, char *seen, size_t cap)
{
    char want[HDR_MAX], have[HDR_MAX];
    size_t wn = ps_header_normalise(column, strlen(column), want, sizeof want);
    size_t pos = 0;
    seen[0] = '\0';
    for (uint32_t i = 0; i < info->ncolumns; i++) {
        const ps_cell *h = &info->header[i];
        size_t hn = ps_header_normalise(h->text, h->len, have, sizeof have);
        if (wn > 0 && hn == wn && memcmp(have, want, wn) == 0)
            return (int)i;
        if (h->len == 0 || pos + 8 >= cap)
            continue;
        int w = snprintf(seen + pos, cap - pos, "%s'%.*s'", pos ? ", " : "",
                         (int)(h->len > 64 ? 64 : h->len), h->text);
        if (w > 0 && (size_t)w < cap - pos)
            pos += (size_t)w;
    }
    return -1;
}

static ps_status read_all(const ps_plugin_descriptor *desc, void *inst, const char *column,
                          const char *dataset, ml_ctx *c, ps_arena *run_arena,
                          ps_arena *batch_arena, int *opened, ps_error *err)
{
    const ps_provider_ops *ops = desc->provider;
    int record = ops->shape == PS_SHAPE_RECORD;
    if (!column)
        column = record ? "/METER_ID" : "external_id";
    ps_open_args args = {.struct_size = sizeof args,
                         .dataset = dataset,
                         .cursor_json = NULL,
                         .run_arena = run_arena,
                         .batch_rows = 4096};
    ps_table_info info = {.struct_size = sizeof info};
    ps_error e = {0};
    ps_status st = ops->open(inst, &args, &info, &e);
    if (st != PS_OK)
        return ps_error_setf(err, st == PS_RETRY ? PS_ERR_SOURCE : st, "%s: %s", c->what,
                             e.message);
    *opened = 1;
    int col = -1;
    char path[HDR_MAX + 2];
    if (record) {
        snprintf(path, sizeof path, "%s%s", column[0] == '/' ? "" : "/", column);
    } else {
        if ((st = ps_protocol_check_header(desc->name, &info, err)) != PS_OK)
            return st;
        char seen[COLUMNS_SHOWN];
        col = find_column(&info, column, seen, sizeof seen);
        if (col < 0)
            return ps_error_setf(err, PS_ERR_DATA,
                                 "%s has no column '%s' (columns: %s); name the column holding "
                                 "the meter IDs with verify_meters.column",
                                 c->what, column, seen[0] ? seen : "none");
    }
    int found = !record;
    for (;;) {
        ps_row_batch rb = {.struct_size = sizeof rb};
        e = (ps_error){0};
        st = ops->next_batch(inst, batch_arena, &rb, &e);
        if (st == PS_END)
            break;
        if (st != PS_OK)
            return ps_error_setf(err, st == PS_RETRY ? PS_ERR_SOURCE : st, "%s: %s", c->what,
                                 e.message);
        st = record ? ps_protocol_check_records(desc->name, &rb, err)
                    : ps_protocol_check_batch(desc->name, &rb, err);
        if (st != PS_OK)
            return st;
        for (size_t i = 0; i < rb.count && st == PS_OK; i++) {
            if (!record) {
                const ps_row *row = &rb.rows[i];
                if ((uint32_t)col < row->ncells)
                    st = add_value(c, row->cells[col].text, row->cells[col].len, row->line, err);
                continue;
            }
            const ps_keyed_row *kr = &rb.records[i];
            for (uint32_t k = 0; k < kr->nvalues && st == PS_OK; k++) {
                const ps_value *v = &kr->values[k];
                if (strcmp(v->path, path) != 0)
                    continue;
                found = 1;
                st = add_value(c, v->text, v->len, kr->line, err);
            }
        }
        if (st != PS_OK)
            return st;
        ps_arena_reset(batch_arena);
    }
    if (c->added == 0)
        return ps_error_setf(err, PS_ERR_DATA,
                             found ? "%s holds no meter IDs (column '%s' is empty)"
                                   : "%s has no key '%s' in any record",
                             c->what, record ? path : column);
    return PS_OK;
}

ps_status ps_meterlist_load(const ps_plugin_descriptor *desc, void *inst, const char *column,
                            const char *what, const char *dataset, ps_meterset **out, ps_error *err)
{
    *out = NULL;
    int opened = 0;
    ml_ctx c = {.what = what, .set = ps_meterset_new()};
    ps_arena *run_arena = ps_arena_create(0), *batch_arena = ps_arena_create(0);
    ps_status st = PS_OK;
    if (!c.set || !run_arena || !batch_arena)
        st = ps_error_setf(err, PS_ERR_NOMEM, "%s: out of memory", what);
    else
        st = read_all(desc, inst, column, dataset, &c, run_arena, batch_arena, &opened, err);
    if (opened && desc->provider->close)
        desc->provider->close(inst);
    ps_arena_destroy(run_arena);
    ps_arena_destroy(batch_arena);
    if (st != PS_OK) {
        ps_meterset_free(c.set);
        return st;
    }
    *out = c.set;
    return PS_OK;
}
