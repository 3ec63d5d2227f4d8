/* paysync core: discovery of a dataset's source (paysync discover). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine/meterlist.h"
#include "engine/pipeline.h"
#include "engine/plan.h"
#include "engine/protocol.h"
#include "engine/rowcheck.h"
#include "model/model_fields.h"

#define SAMPLE_ROWS 5

typedef struct disc_priv {
    ps_plan plan;
    ps_arena *run_arena;
} disc_priv;

static json_t *problems_json(const ps_problem *p, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_sprintf("%s: %s", p[i].code, p[i].message));
    return a;
}

/* One sample row as run would end it: {"row", "record" (+ "warnings")}, {"row", "rejected"},
 * {"row", "duplicate": true} or {"row", "filtered": "filters[N] (...)"}. */
static char *row_json(const ps_record *rec, const ps_row_check *chk, ps_row_verdict v,
                      uint64_t line)
{
    json_t *o = json_object();
    json_object_set_new(o, "row", json_integer((json_int_t)line));
    if (v == PS_VERDICT_FILTERED) { /* chk->errors[0].message names the filter */
        json_object_set_new(o, "filtered", json_string(chk->errors[0].message));
    } else if (v == PS_VERDICT_ACCEPTED) {
        json_t *f = json_object();
        for (int i = 0; i < PS_FIELD_COUNT; i++)
            if (rec->field[i].ptr)
                json_object_set_new(f, ps_field_name(i),
                                    json_stringn(rec->field[i].ptr, rec->field[i].len));
        json_object_set_new(o, "record", f);
        if (chk->n_warnings)
            json_object_set_new(o, "warnings", problems_json(chk->warnings, chk->n_warnings));
    } else if (v == PS_VERDICT_DUPLICATE) {
        json_object_set_new(o, "duplicate", json_true());
    } else {
        json_object_set_new(o, "rejected", problems_json(chk->errors, chk->n_errors));
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

/* Evaluates one row with the run's row function; a sample unless blank. 0, or -1 with
 * out->map_error set. */
static int sample_row(ps_discovery *out, const ps_row_rules *rules, const ps_row *row,
                      const int *field_col, ps_arena *batch)
{
    ps_record rec;
    ps_row_check chk;
    ps_row_verdict v;
    ps_error e = {0};
    size_t dropped_by = 0;
    if (ps_row_evaluate(rules, row, field_col, batch, &rec, &chk, &v, NULL, &dropped_by, &e) !=
        PS_OK) {
        out->map_ok = 0;
        snprintf(out->map_error, sizeof out->map_error, "%s", e.message);
        return -1;
    }
    if (v == PS_VERDICT_BLANK)
        return 0;
    out->status_rows++;
    if (out->nsample >= SAMPLE_ROWS)
        return 0;
    if (v == PS_VERDICT_FILTERED) {
        char d[200];
        snprintf(chk.errors[0].message, sizeof chk.errors[0].message, "filters[%zu] (%s)",
                 dropped_by, ps_rowfilter_describe(rules->filter, dropped_by, d, sizeof d));
    }
    out->sample_json[out->nsample++] = row_json(&rec, &chk, v, row->line);
    return 0;
}

/* The next batch of rows or records: 1 when there is one, 0 at the end or after an error (a
 * read error makes the discovery fail, as it would fail the run). */
static int next_rows(ps_ds_plan *p, ps_arena *batch, ps_row_batch *rb, ps_discovery *out)
{
    ps_error e = {0};
    *rb = (ps_row_batch){.struct_size = sizeof *rb};
    ps_status st = p->plugin->desc->provider->next_batch(p->inst, batch, rb, &e);
    if (st == PS_OK)
        return 1;
    if (st != PS_END) {
        out->map_ok = 0;
        snprintf(out->map_error, sizeof out->map_error, "reading the rows failed: %s", e.message);
    }
    return 0;
}

/* The mapping is incomplete, so rows are not evaluated: counts the raw values of the columns
 * the partial mapping (or, for a missing field, the onboarding pick) gives STATUS and
 * TRANSACTION_TYPE, over up to PS_DISCOVER_STATUS_ROWS non-blank rows. */
static void count_raw_values(ps_ds_plan *p, ps_arena *batch, ps_discovery *out)
{
    int col[2] = {-1, -1};
    const int fields[2] = {PS_F_STATUS, PS_F_TRANSACTION_TYPE};
    char *names[2] = {out->status_column, out->txtype_column};
    ps_value_counts *vc[2] = {&out->status_values, &out->txtype_values};
    for (int k = 0; k < 2; k++) {
        int f = fields[k];
        col[k] = out->map.col_field ? out->map.field_col[f] : -1;
        if (col[k] < 0)
            col[k] = out->onboard.pick[f];
        if (col[k] >= 0 && (uint32_t)col[k] < out->info.ncolumns)
            snprintf(names[k], sizeof out->status_column, "%s", out->info.header[col[k]].text);
        else
            col[k] = -1;
    }
    if (col[0] < 0 && col[1] < 0)
        return;
    out->values_raw = 1;
    ps_error e = {0};
    ps_row_batch rb;
    while (out->status_rows < PS_DISCOVER_STATUS_ROWS) {
        rb = (ps_row_batch){.struct_size = sizeof rb};
        ps_status st = p->plugin->desc->provider->next_batch(p->inst, batch, &rb, &e);
        if (st == PS_END)
            out->status_complete = 1;
        if (st != PS_OK || ps_protocol_check_batch(p->plugin->desc->name, &rb, &e) != PS_OK)
            break;
        for (size_t i = 0; i < rb.count && out->status_rows < PS_DISCOVER_STATUS_ROWS; i++) {
            const ps_row *row = &rb.rows[i];
            if (ps_row_is_blank(row->cells, row->ncells))
                continue;
            out->status_rows++;
            for (int k = 0; k < 2; k++)
                if (col[k] >= 0) {
                    const ps_cell *c = (uint32_t)col[k] < row->ncells ? &row->cells[col[k]] : NULL;
                    ps_value_counts_add(vc[k], c ? c->text : "", c ? c->len : 0);
                }
        }
        ps_arena_reset(batch);
    }
    ps_value_counts_sort(&out->status_values);
    ps_value_counts_sort(&out->txtype_values);
}

/* Record-shaped sources: samples the first records; the distinct key paths seen become the
 * "columns" shown (header = paths, each with the field its path maps to). */
#define DISCOVER_MAX_KEYS 128

static void discover_records(ps_ds_plan *p, ps_validator *v, ps_dedup *dd,
                             const ps_meterset *meters, ps_arena *batch, ps_discovery *out,
                             ps_arena *run_arena)
{
    ps_error e = {0};
    ps_path_map *pm = ps_path_map_new(&p->mspec);
    if (p->rowfilter)
        ps_rowfilter_bind_records(p->rowfilter, p->defaults);
    ps_cell *keys = ps_arena_alloc(run_arena, DISCOVER_MAX_KEYS * sizeof *keys);
    int *key_field = calloc(DISCOVER_MAX_KEYS, sizeof *key_field);
    uint32_t nkeys = 0;
    if (!pm || !keys || !key_field) {
        out->map_ok = 0;
        snprintf(out->map_error, sizeof out->map_error, "out of memory");
        goto done;
    }
    ps_row_batch rb;
    while (out->nsample < SAMPLE_ROWS && next_rows(p, batch, &rb, out)) {
        if (ps_protocol_check_records(p->plugin->desc->name, &rb, &e) != PS_OK) {
            out->map_ok = 0;
            snprintf(out->map_error, sizeof out->map_error, "%s", e.message);
            break;
        }
        for (size_t i = 0; i < rb.count && out->nsample < SAMPLE_ROWS; i++) {
            const ps_keyed_row *kr = &rb.records[i];
            for (uint32_t k = 0; k < kr->nvalues; k++) {
                const ps_value *val = &kr->values[k];
                uint32_t j = 0;
                while (j < nkeys && (keys[j].len != val->path_len ||
                                     memcmp(keys[j].text, val->path, val->path_len) != 0))
                    j++;
                if (j == nkeys && nkeys < DISCOVER_MAX_KEYS) {
                    char *copy = ps_arena_strndup(run_arena, val->path, val->path_len);
                    if (copy) {
                        keys[nkeys] = (ps_cell){copy, val->path_len, PS_CELL_TEXT};
                        key_field[nkeys++] = ps_path_map_field(pm, val->path, val->path_len);
                    }
                }
            }
            ps_row row;
            ps_cell *paths;
            int field_col[PS_FIELD_COUNT];
            if (ps_record_as_row(kr, pm, batch, &row, &paths, field_col, &e) != PS_OK) {
                out->map_ok = 0;
                snprintf(out->map_error, sizeof out->map_error, "%s", e.message);
                goto keys_done;
            }
            ps_row_rules rules = {.validator = v,
                                  .dedup = dd,
                                  .header = paths,
                                  .ncolumns = row.ncells,
                                  .meters = meters,
                                  .strict = p->def->profile == PS_PROFILE_STRICT,
                                  .filter = p->rowfilter};
            if (sample_row(out, &rules, &row, field_col, batch) != 0)
                goto keys_done;
        }
        ps_arena_reset(batch);
    }
keys_done:
    /* the keys seen, shown like a header */
    ps_mapping_free(&out->map);
    out->map.col_field = key_field;
    key_field = NULL;
    out->map.ncols = nkeys;
    for (uint32_t j = 0; j < nkeys; j++)
        if (out->map.col_field[j] >= 0 && out->map.field_col[out->map.col_field[j]] < 0)
            out->map.field_col[out->map.col_field[j]] = (int)j;
    out->info.header = keys;
    out->info.ncolumns = nkeys;
done:
    free(key_field);
    ps_path_map_free(pm);
}

ps_status ps_discover(const ps_config *cfg, ps_registry *reg, const char *dataset,
                      ps_discovery *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    disc_priv *pv = calloc(1, sizeof *pv);
    out->sample_json = calloc(SAMPLE_ROWS, sizeof *out->sample_json);
    if (!pv || !out->sample_json) {
        free(pv);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    out->priv = pv;
    char *only[1] = {(char *)dataset};
    ps_status st = ps_plan_build(cfg, reg, only, 1, 1, &pv->plan, err);
    if (st != PS_OK)
        return st;
    ps_ds_plan *p = &pv->plan.ds[0];
    memcpy(out->extracted, p->extracted, sizeof out->extracted);
    pv->run_arena = ps_arena_create(0);
    ps_arena *batch = ps_arena_create(0);
    if (!pv->run_arena || !batch) {
        ps_arena_destroy(batch);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    ps_open_args args = {.struct_size = sizeof args,
                         .dataset = p->def->name,
                         .run_arena = pv->run_arena,
                         .batch_rows = 64};
    ps_error e = {0};
    out->info.struct_size = sizeof out->info;
    st = p->plugin->desc->provider->open(p->inst, &args, &out->info, &e);
    int records = p->plugin->desc->provider->shape == PS_SHAPE_RECORD;
    if (st == PS_OK && !records)
        st = ps_protocol_check_header(p->plugin->desc->name, &out->info, &e);
    if (st != PS_OK) {
        ps_arena_destroy(batch);
        return ps_error_setf(
            err, st == PS_RETRY ? PS_ERR_SOURCE : st, "reading the source failed%s: %s",
            st == PS_RETRY ? " (temporary failure, try again later)" : "", e.message);
    }
    if (records) {
        /* fields come from each record's keys: required ones are checked row by row */
        st = PS_OK;
        ps_mapping_free(&out->map);
    } else {
        st = ps_mapping_build(&p->mspec, out->info.header, out->info.ncolumns, &out->map, &e);
    }
    out->map_ok = st == PS_OK;
    if (!out->map_ok) {
        snprintf(out->map_error, sizeof out->map_error, "%s", e.message);
        /* Build a best-effort map so the user still sees which columns match. */
        ps_mapping_spec loose = p->mspec;
        loose.profile = PS_PROFILE_STANDARD;
        const char *no_defaults[PS_FIELD_COUNT];
        for (int f = 0; f < PS_FIELD_COUNT; f++)
            no_defaults[f] = "x";
        loose.defaults = no_defaults;
        if (ps_mapping_build(&loose, out->info.header, out->info.ncolumns, &out->map, &e) !=
            PS_OK) {
            ps_mapping_free(&out->map);
        }
    }
    if (!records)
        ps_onboard_build(p->def, out->info.header, out->info.ncolumns, out->map.col_field,
                         p->extracted, &out->onboard);
    ps_tz *zone = NULL;
    if (out->info.time_zone && out->info.time_zone[0])
        ps_tz_load(out->info.time_zone, &zone, &e);
    ps_validate_config vc;
    ps_plan_validate_config(p, zone, &vc);
    ps_validator *v = NULL;
    /* duplicates are told within the sample, as run tells them within the run */
    ps_dedup *dd = ps_dedup_new();
    /* verify_meters: the run's meter list, so that unknown meters show as run shows them */
    ps_meterset *meters = NULL;
    if (dd && p->minst &&
        ps_meterlist_load(p->mplugin->desc, p->minst, p->def->meters_column,
                          "verify_meters: the meter list", p->def->name, &meters, &e) != PS_OK) {
        out->map_ok = 0;
        snprintf(out->map_error, sizeof out->map_error, "%s", e.message);
    }
    if (!dd) {
        out->map_ok = 0;
        snprintf(out->map_error, sizeof out->map_error, "out of memory");
    } else if (p->minst && !meters) {
        /* the meter list could not be read: map_error says why */
    } else if (records && ps_validator_new(&vc, &v, &e) == PS_OK) {
        discover_records(p, v, dd, meters, batch, out, pv->run_arena);
    } else if (out->map_ok && ps_validator_new(&vc, &v, &e) == PS_OK) {
        out->unnamed = ps_unnamed_new(out->info.header, out->info.ncolumns, out->map.field_col);
        ps_rowfilter *rf = p->rowfilter;
        if (rf && ps_rowfilter_bind(rf, out->info.header, out->info.ncolumns, out->map.field_col,
                                    p->defaults, &e) != PS_OK) {
            out->map_ok = 0;
            snprintf(out->map_error, sizeof out->map_error, "%s", e.message);
            rf = NULL;
        }
        int tc = out->map.field_col[PS_F_TRANSACTION_TYPE];
        if (tc >= 0)
            snprintf(out->txtype_column, sizeof out->txtype_column, "%s",
                     out->info.header[tc].text);
        int sc = out->map.field_col[PS_F_STATUS];
        if (sc >= 0)
            snprintf(out->status_column, sizeof out->status_column, "%s",
                     out->info.header[sc].text);
        else if (rf && ps_rowfilter_field_column(rf, PS_F_STATUS))
            snprintf(out->status_column, sizeof out->status_column, "%s%s",
                     ps_rowfilter_field_column(rf, PS_F_STATUS), PS_STATUS_VIA_EXTRACT);
        ps_row_rules rules = {.validator = v,
                              .dedup = dd,
                              .meters = meters,
                              .strict = p->def->profile == PS_PROFILE_STRICT,
                              .unnamed = out->unnamed,
                              .header = out->info.header,
                              .ncolumns = out->info.ncolumns,
                              .header_line = out->info.header_line,
                              .filter = rf,
                              .status_counts = out->status_column[0] ? &out->status_values : NULL,
                              .txtype_counts = tc >= 0 ? &out->txtype_values : NULL};
        int counting = rules.status_counts || rules.txtype_counts;
        ps_row_batch rb;
        int stop = 0, ended = 0;
        /* samples first; then, when there is a STATUS column, its values over more rows */
        while (!stop && out->map_ok &&
               (out->nsample < SAMPLE_ROWS ||
                (counting && out->status_rows < PS_DISCOVER_STATUS_ROWS))) {
            if (!next_rows(p, batch, &rb, out)) {
                ended = out->map_ok;
                break;
            }
            if (ps_protocol_check_batch(p->plugin->desc->name, &rb, &e) != PS_OK) {
                out->map_ok = 0;
                snprintf(out->map_error, sizeof out->map_error, "%s", e.message);
                break;
            }
            for (size_t i = 0; i < rb.count && !stop; i++)
                stop = sample_row(out, &rules, &rb.rows[i], out->map.field_col, batch) != 0;
            ps_arena_reset(batch);
        }
        out->status_complete = ended;
        ps_value_counts_sort(&out->status_values);
        ps_value_counts_sort(&out->txtype_values);
    } else if (!records && !out->map_ok && out->info.ncolumns > 0 && !(p->minst && !meters)) {
        count_raw_values(p, batch, out);
    }
    ps_dedup_free(dd);
    ps_meterset_free(meters);
    ps_validator_free(v);
    ps_tz_free(zone);
    ps_arena_destroy(batch);
    return PS_OK;
}

void ps_discovery_free(ps_discovery *d)
{
    if (!d)
        return;
    disc_priv *pv = d->priv;
    for (size_t i = 0; i < d->nsample; i++)
        free(d->sample_json[i]);
    free(d->sample_json);
    ps_mapping_free(&d->map);
    ps_unnamed_free(d->unnamed);
    if (pv) {
        if (pv->plan.nds && pv->plan.ds[0].inst && pv->plan.ds[0].plugin->desc->provider->close)
            pv->plan.ds[0].plugin->desc->provider->close(pv->plan.ds[0].inst);
        ps_plan_free(&pv->plan);
        ps_arena_destroy(pv->run_arena);
        free(pv);
    }
    memset(d, 0, sizeof *d);
}
