/* paysync core: the dataset run loop. */
#include "engine/pipeline.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/file_sinks.h"
#include "engine/column_check.h"
#include "engine/meterlist.h"
#include "engine/plan.h"
#include "engine/protocol.h"
#include "engine/rowcheck.h"
#include "engine/rowlog.h"
#include "engine/store_feed.h"
#include "model/model_fields.h"
#include "model/phonecache.h"
#include "plugin/host.h"
#include "store/run_state.h"
#include "store/store.h"
#include "util/crashpoint.h"
#include "util/log.h"
#include "util/proc.h"

/* Rows per batch asked of a provider: the batch arena holds a batch's rows and records (about
 * 1 KB a row of the benchmark's input, so about 2 MB: the part of the peak RSS of every run
 * that scales with it, docs/performance.md); 4096 rows took 2 MB more and were no faster. */
#define DEFAULT_BATCH_ROWS 2048

static void count_code(ps_code_count *tab, const char *code)
{
    for (int i = 0; i < PS_MAX_CODES; i++) {
        if (!tab[i].code) {
            tab[i].code = code;
            tab[i].count = 1;
            return;
        }
        if (tab[i].code == code || strcmp(tab[i].code, code) == 0) {
            tab[i].count++;
            return;
        }
    }
}

static void make_run_id(char *buf, size_t cap, int64_t now_ms)
{
    char t[PS_TIME_TEXT_MAX];
    ps_time_format(now_ms, t);
    /* 2024-03-05T14:16:01.350Z -> 20240305T141601350Z-PID */
    char c[32];
    size_t k = 0;
    for (const char *p = t; *p && k + 1 < sizeof c; p++)
        if (*p != '-' && *p != ':' && *p != '.')
            c[k++] = *p;
    c[k] = '\0';
    snprintf(buf, cap, "%s-%ld", c, (long)getpid());
}

/* State of one dataset run. */
typedef struct ds_run {
    const ps_config *cfg;
    ps_ds_plan *plan;
    const ps_run_options *opt;
    ps_dataset_result *res;
    ps_validator *validator;
    ps_mapping map;
    ps_table_info info;
    ps_rowlog *rejects, *warnings;
    ps_dedup *dedup;
    ps_phonecache *phones; /* memo of phone verdicts for this run (model/phonecache.h) */
    ps_tz *source_zone;
    ps_meterset *meters; /* verify_meters, NULL = not configured */
    int record_shape;    /* the provider yields keyed records (mapped by path), not rows */
    ps_path_map *paths;  /* record shape: path -> field */
    ps_unnamed *unnamed; /* tabular: values under columns without a header */
    int provider_open;
    size_t sinks_open;
    int store_committed; /* the store committed; an after-store sink failed (commit_all) */
    int64_t last_progress;
    int last_progress_shown;
    uint64_t progress_done, progress_total; /* the provider's last ps_row_batch figures */
} ds_run;

/* The header a row's cells are shown under in the rejects file: the source's header, or for a
 * record the paths of its values. */
typedef struct row_header {
    const ps_cell *cells;
    uint32_t n;
} row_header;

static ps_status reject_row(ds_run *r, const ps_row *row, const row_header *hdr,
                            const int *field_col, const ps_problem *p, int n, ps_error *err)
{
    ps_dataset_result *res = r->res;
    res->rejected++;
    for (int i = 0; i < n; i++)
        count_code(res->rejected_by_code, p[i].code);
    if (r->opt->on_problem)
        r->opt->on_problem(r->opt->on_problem_ctx, res->name, row->line, p, n, 0,
                           r->record_shape ? NULL : field_col);
    if (r->rejects)
        return ps_rowlog_reject(r->rejects, res->name, row->line, p, n, hdr->cells, hdr->n, row,
                                r->record_shape ? NULL : field_col, err);
    return PS_OK;
}

static void count_meter(ds_run *r, int unknown)
{
    r->res->meters_unknown += unknown != 0;
    r->res->meters_near += unknown == 2;
}

/* One row: field_col[f] is the cell holding field f (or -1), hdr names the cells. The verdict
 * comes from ps_row_evaluate, the same function discover uses. */
static ps_status process_cells(ds_run *r, const ps_row *row, unsigned row_flags,
                               const ps_dedup_hint *id_hint, const int *field_col,
                               const row_header *hdr, ps_arena *arena, ps_record *rec,
                               int *accepted, ps_error *err)
{
    ps_dataset_result *res = r->res;
    *accepted = 0;
    res->read++;
    ps_row_rules rules = {
        .validator = r->validator,
        .dedup = r->dedup,
        .header = hdr->cells,
        .ncolumns = hdr->n,
        .header_line = r->info.header_line,
        .meters = r->meters,
        .strict = r->plan->def->profile == PS_PROFILE_STRICT,
        .filter = r->plan->rowfilter,
        .status_counts = (res->status_column[0] || r->record_shape) ? &res->status_values : NULL,
        .status_skip_absent = r->record_shape,
        .txtype_counts = res->txtype_column[0] ? &res->txtype_values : NULL,
        .unnamed = r->record_shape ? NULL : r->unnamed,
        .phones = r->phones,
        .row_flags = row_flags,
        .id_hint = id_hint};
    ps_row_check chk;
    ps_row_verdict v;
    int unknown_meter = 0;
    size_t dropped_by = 0;
    ps_status st = ps_row_evaluate(&rules, row, field_col, arena, rec, &chk, &v, &unknown_meter,
                                   &dropped_by, err);
    if (st != PS_OK)
        return st;
    count_meter(r, unknown_meter);
    switch (v) {
    case PS_VERDICT_BLANK:
        res->blank++;
        return PS_OK;
    case PS_VERDICT_FILTERED:
        res->filtered++;
        if (dropped_by < res->nfilters)
            res->filtered_by[dropped_by]++;
        return PS_OK;
    case PS_VERDICT_DUPLICATE:
        res->duplicates++;
        return PS_OK;
    case PS_VERDICT_REJECTED:
        return reject_row(r, row, hdr, field_col, chk.errors, chk.n_errors, err);
    case PS_VERDICT_ACCEPTED:
        break;
    }
    if (chk.n_warnings > 0) {
        res->warnings++;
        for (int i = 0; i < chk.n_warnings; i++)
            count_code(res->warnings_by_code, chk.warnings[i].code);
        if (r->opt->on_problem)
            r->opt->on_problem(r->opt->on_problem_ctx, res->name, row->line, chk.warnings,
                               chk.n_warnings, 1, r->record_shape ? NULL : field_col);
        if (r->warnings) {
            st = ps_rowlog_warnings(r->warnings, res->name, row->line, rec->field[PS_F_ID].ptr,
                                    chk.warnings, chk.n_warnings, err);
            if (st != PS_OK)
                return st;
        }
    }
    res->accepted++;
    *accepted = 1;
    return PS_OK;
}

static ps_status process_row(ds_run *r, const ps_row *row, unsigned row_flags,
                             const ps_dedup_hint *id_hint, ps_arena *arena, ps_record *rec,
                             int *accepted, ps_error *err)
{
    row_header hdr = {r->info.header, r->info.ncolumns};
    return process_cells(r, row, row_flags, id_hint, r->map.field_col, &hdr, arena, rec, accepted,
                         err);
}

/* The dedup key of row i's ID cell (none when the row or the cell does not exist, or the ID
 * is not mapped to a column), with the duplicate table's memory for it prefetched: the table
 * is large, so the row's check ID_AHEAD rows later finds it loaded. */
#define ID_AHEAD 8
static void id_hint_for(const ds_run *r, const ps_row_batch *rb, int idcol, size_t i,
                        ps_dedup_hint *h)
{
    h->text = NULL;
    if (idcol < 0 || i >= rb->count || (uint32_t)idcol >= rb->rows[i].ncells ||
        !rb->rows[i].cells[idcol].text)
        return;
    const ps_cell *c = &rb->rows[i].cells[idcol];
    h->text = c->text;
    h->len = c->len;
    h->key = ps_dedup_key(c->text, c->len);
    ps_dedup_prefetch_key(r->dedup, h->key);
}

/* A record of a record-shaped provider goes through the same checks as a row (see
 * ps_record_as_row): its paths are the row's header. */
static ps_status process_record(ds_run *r, const ps_keyed_row *kr, ps_arena *arena, ps_record *rec,
                                int *accepted, ps_error *err)
{
    ps_row row;
    ps_cell *paths;
    int field_col[PS_FIELD_COUNT];
    ps_status st = ps_record_as_row(kr, r->paths, arena, &row, &paths, field_col, err);
    if (st != PS_OK)
        return st;
    row_header hdr = {paths, row.ncells};
    return process_cells(r, &row, 0, NULL, field_col, &hdr, arena, rec, accepted, err);
}

/* "1:05:07", "4:09" (whole seconds). */
static void format_eta(int64_t ms, char *buf, size_t cap)
{
    int64_t s = (ms + 999) / 1000;
    if (s >= 3600)
        snprintf(buf, cap, "%" PRId64 ":%02d:%02d", s / 3600, (int)(s / 60 % 60), (int)(s % 60));
    else
        snprintf(buf, cap, "%d:%02d", (int)(s / 60), (int)(s % 60));
}

/* The progress line on a terminal, at most every 500 ms: "NAME: 42% (12000 rows, 8000
 * rows/s), ETA 0:12" when the provider tells how far it is (ps_row_batch.progress_*), else
 * "NAME: 12000 rows, 8000 rows/s". */
static void show_progress(ds_run *r, int64_t start)
{
    int64_t now = ps_monotonic_ms();
    if (r->last_progress_shown && now - r->last_progress < 500)
        return; /* the first batch always shows one */
    r->last_progress = now;
    r->last_progress_shown = 1;
    double secs = (double)(now - start) / 1000.0; /* display only */
    double rate = secs > 0 ? (double)r->res->read / secs : 0.0;
    uint64_t done = r->progress_done, total = r->progress_total;
    char line[240];
    if (total > 0 && done <= total) {
        char eta[32] = "--";
        if (done > 0 && now > start)
            format_eta((int64_t)((double)(now - start) * (double)(total - done) / (double)done),
                       eta, sizeof eta);
        snprintf(line, sizeof line, "%s: %d%% (%" PRIu64 " rows, %.0f rows/s), ETA %s",
                 r->res->name, (int)((double)done * 100.0 / (double)total), r->res->read, rate,
                 eta);
    } else {
        snprintf(line, sizeof line, "%s: %" PRIu64 " rows, %.0f rows/s", r->res->name, r->res->read,
                 rate);
    }
    ps_log_progress(line);
}

static ps_status open_writers(ds_run *r, ps_error *err)
{
    const ps_dataset_def *d = r->plan->def;
    if (r->opt->dry_run)
        return PS_OK;
    if (d->rejects) {
        ps_status st = ps_rowlog_open(d->rejects, &r->rejects, err);
        if (st != PS_OK)
            return st;
    }
    if (d->warnings)
        return ps_rowlog_open(d->warnings, &r->warnings, err);
    return PS_OK;
}

/* An error a provider returned, wrapped with `what`. PS_RETRY (temporary) fails the dataset
 * like a source error for now, saying so. */
static ps_status source_failed(ps_status st, const ps_error *e, const char *what, ps_error *err)
{
    if (st != PS_RETRY)
        return ps_error_setf(err, st, "%s: %s", what, e->message);
    char after[64] = "";
    if (e->retry_after_ms > 0)
        snprintf(after, sizeof after, " (retry after %" PRId64 " ms)", e->retry_after_ms);
    return ps_error_setf(err, PS_ERR_SOURCE, "%s: temporary failure, a later run may succeed%s: %s",
                         what, after, e->message);
}

/* A source that failed once the run was stopped (SIGTERM/SIGINT): the host cancelled its HTTP
 * request in flight (http_client.h, ps_http_stop_all), or it failed for another reason. */
static ps_status stopped_reading(uint64_t rows, const ps_error *e, ps_error *err)
{
    return ps_error_setf(err, PS_ERR_SOURCE,
                         "interrupted by a signal after %" PRIu64 " rows while the source was "
                         "reading (%s); nothing was committed, the next run starts again from "
                         "the last commit",
                         rows, e->message);
}

/* Logs the source's columns (or record keys) that map to no field. */
static void warn_unknown(ds_run *r, const char *what)
{
    if (r->res->nunknown == 0)
        return;
    char list[1024];
    size_t pos = 0;
    list[0] = '\0';
    for (size_t i = 0; i < r->res->nunknown && pos < sizeof list - 8; i++) {
        int w = snprintf(list + pos, sizeof list - pos, "%s'%s'", i ? ", " : "",
                         r->res->unknown_columns[i]);
        if (w < 0 || (size_t)w >= sizeof list - pos)
            break;
        pos += (size_t)w;
    }
    ps_log(PS_LOG_WARN, r->plan->label, "ignoring %zu unknown %s(s): %s", r->res->nunknown, what,
           list);
}

/* verify_meters: reads the dataset's meter list once for this run. */
static ps_status load_meters(ds_run *r, ps_error *err)
{
    ps_ds_plan *p = r->plan;
    char what[300];
    const char *desc =
        ps_options_is_set(p->mopts, "path") ? ps_options_string(p->mopts, "path") : NULL;
    if (desc)
        snprintf(what, sizeof what, "verify_meters: the meter list '%s'", desc);
    else
        snprintf(what, sizeof what, "verify_meters: the meter list (%s)", p->def->meters.plugin);
    ps_status st = ps_meterlist_load(p->mplugin->desc, p->minst, p->def->meters_column, what,
                                     p->def->name, &r->meters, err);
    if (st != PS_OK)
        return st;
    r->res->meters_checked = 1;
    r->res->meters_listed = ps_meterset_count(r->meters);
    ps_log(PS_LOG_INFO, p->label, "%s: %zu meters", what, ps_meterset_count(r->meters));
    return PS_OK;
}

static ps_status open_source(ds_run *r, ps_arena *run_arena, char *cursor, ps_error *err)
{
    ps_ds_plan *p = r->plan;
    ps_open_args args = {.struct_size = sizeof args,
                         .dataset = p->def->name,
                         .cursor_json = cursor,
                         .run_arena = run_arena,
                         .batch_rows =
                             r->opt->batch_rows ? r->opt->batch_rows : DEFAULT_BATCH_ROWS};
    ps_error e = {0};
    r->info.struct_size = sizeof r->info;
    ps_status st = p->plugin->desc->provider->open(p->inst, &args, &r->info, &e);
    if (st != PS_OK)
        return r->opt->stop && *r->opt->stop
                   ? stopped_reading(0, &e, err)
                   : source_failed(st, &e, "reading the source failed", err);
    r->provider_open = 1;
    r->record_shape = p->plugin->desc->provider->shape == PS_SHAPE_RECORD;
    if (!r->record_shape) {
        st = ps_protocol_check_header(p->plugin->desc->name, &r->info, err);
        if (st != PS_OK)
            return st;
    }
    if (r->info.time_zone && r->info.time_zone[0]) {
        if (ps_tz_load(r->info.time_zone, &r->source_zone, &e) != PS_OK)
            return ps_error_setf(err, PS_ERR_SOURCE, "source time zone: %s", e.message);
    }
    if (r->record_shape) {
        /* keys are mapped as records arrive; unknown ones are reported at the end */
        if (!(r->paths = ps_path_map_new(&p->mspec)))
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        if (p->rowfilter)
            ps_rowfilter_bind_records(p->rowfilter, p->defaults);
    } else {
        st = ps_mapping_build(&p->mspec, r->info.header, r->info.ncolumns, &r->map, &e);
        if (st != PS_OK)
            return ps_error_setf(err, st, "header (row %" PRIu64 "): %s", r->info.header_line,
                                 e.message);
        r->unnamed = ps_unnamed_new(r->info.header, r->info.ncolumns, r->map.field_col);
        if (!r->unnamed)
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        if (p->rowfilter) {
            st = ps_rowfilter_bind(p->rowfilter, r->info.header, r->info.ncolumns, r->map.field_col,
                                   p->defaults, err);
            if (st != PS_OK)
                return st;
            /* columns that filters and extract rules read are not unknown */
            size_t keep = 0;
            for (size_t i = 0; i < r->map.nunknown; i++) {
                int used = 0;
                for (uint32_t c = 0; c < r->info.ncolumns && !used; c++)
                    used = r->map.col_field[c] < 0 &&
                           strcmp(r->info.header[c].text, r->map.unknown[i]) == 0 &&
                           ps_rowfilter_uses_column(p->rowfilter, (int)c);
                if (used)
                    free(r->map.unknown[i]);
                else
                    r->map.unknown[keep++] = r->map.unknown[i];
            }
            r->map.nunknown = keep;
        }
        r->res->unknown_columns = r->map.unknown;
        r->res->nunknown = r->map.nunknown;
        r->map.unknown = NULL;
        r->map.nunknown = 0;
        warn_unknown(r, "column");
        int tc = r->map.field_col[PS_F_TRANSACTION_TYPE];
        if (tc >= 0)
            snprintf(r->res->txtype_column, sizeof r->res->txtype_column, "%s",
                     r->info.header[tc].text);
        int sc = r->map.field_col[PS_F_STATUS];
        if (sc >= 0)
            snprintf(r->res->status_column, sizeof r->res->status_column, "%s",
                     r->info.header[sc].text);
        const char *xc = ps_rowfilter_field_column(p->rowfilter, PS_F_STATUS);
        if (sc < 0 && xc)
            snprintf(r->res->status_column, sizeof r->res->status_column, "%s%s", xc,
                     PS_STATUS_VIA_EXTRACT);
    }
    ps_validate_config vc;
    ps_plan_validate_config(p, r->source_zone, &vc);
    st = ps_validator_new(&vc, &r->validator, &e);
    if (st != PS_OK)
        return ps_error_setf(err, st, "%s", e.message);
    r->dedup = ps_dedup_new();
    if (!r->dedup)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    r->phones = ps_phonecache_new(0, 0);
    if (!r->phones)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    return PS_OK;
}

static ps_status open_sinks(ds_run *r, ps_error *err)
{
    ps_ds_plan *p = r->plan;
    ps_sink_open_args sa = {.struct_size = sizeof sa,
                            .dataset = p->def->name,
                            .target_level = p->def->target_level,
                            .target_id = p->def->target_id,
                            .run_id = r->res->run_id,
                            .started_ms = r->res->started_ms};
    for (size_t i = 0; i < p->nsinks; i++) {
        ps_sink_inst *s = p->sinks[i];
        ps_error e = {0};
        ps_status st = s->plugin->desc->sink->open(s->inst, &sa, &e);
        if (st != PS_OK)
            return ps_error_setf(err, st, "%s: %s", s->label, e.message);
        r->sinks_open = i + 1;
    }
    return PS_OK;
}

static ps_status write_sinks(ds_run *r, const ps_record_batch *b, ps_error *err)
{
    if (b->count == 0)
        return PS_OK;
    for (size_t i = 0; i < r->sinks_open; i++) {
        ps_sink_inst *s = r->plan->sinks[i];
        ps_error e = {0};
        ps_status st = s->plugin->desc->sink->write_batch(s->inst, b, &e);
        if (st != PS_OK)
            return ps_error_setf(err, st, "%s: %s", s->label, e.message);
    }
    return PS_OK;
}

/* The vanish guard, before any sink commits: asks the dataset's store how many of its stored
 * payments this run would mark vanished and fails the dataset (vanish_guard) over the limit. */
static ps_status check_vanish(ds_run *r, ps_error *err)
{
    ps_ds_plan *p = r->plan;
    ps_sink_inst *ss = p->state_sink;
    int open = 0;
    for (size_t i = 0; i < r->sinks_open; i++)
        open |= p->sinks[i] == ss;
    if (!ss || !open)
        return PS_OK;
    /* A windowed source (ABI 2.3) read only the payments whose TIMESTAMP is in its window:
     * only stored payments inside it can vanish and count for the guard (docs/connectors.md). */
    ps_vanish_guard *g = &r->res->guard;
    if (PS_HAS_MEMBER(ps_table_info, window_to_ms, r->info.struct_size) && r->info.windowed) {
        g->windowed = 1;
        g->window_from_ms = r->info.window_from_ms;
        g->window_to_ms = r->info.window_to_ms;
        ps_store_set_window(ss->plugin->desc->name, ss->inst, g->window_from_ms, g->window_to_ms);
    }
    uint64_t stored = 0, vanishing = 0;
    ps_error e = {0};
    ps_status st =
        ps_store_pending_vanish(ss->plugin->desc->name, ss->inst, &stored, &vanishing, &e);
    if (st == PS_END)
        return PS_OK;
    if (st != PS_OK)
        return ps_error_setf(err, st, "%s: %s", ss->label, e.message);
    ps_dataset_result *res = r->res;
    char msg[sizeof err->message];
    int empty = res->read == res->blank;
    if (ps_vanish_guard_decide(&res->guard, &p->def->max_vanished, r->opt->allow_vanish, stored,
                               vanishing, empty, msg, sizeof msg) != PS_GUARD_TRIPPED) {
        if (g->windowed) {
            char a[32], b[32];
            ps_log(PS_LOG_INFO, p->label,
                   "windowed source: TIMESTAMP %s to %s read, %" PRIu64
                   " stored payments in it, %" PRIu64 " vanish; payments outside the window are "
                   "not touched",
                   ps_vanish_window_text(g->window_from_ms, a, sizeof a),
                   ps_vanish_window_text(g->window_to_ms, b, sizeof b), stored, vanishing);
        }
        if (res->guard.outcome == PS_GUARD_ALLOWED)
            ps_log(PS_LOG_WARN, p->label,
                   "vanish guard: %" PRIu64 " of %" PRIu64 " stored payments vanish (%s)",
                   vanishing, stored,
                   r->opt->allow_vanish ? "allowed by --allow-vanish" : "max_vanished: unlimited");
        return PS_OK;
    }
    snprintf(res->error_code, sizeof res->error_code, "%s", PS_VANISH_GUARD_CODE);
    return ps_error_setf(err, PS_ERR_DATA, "%s", msg);
}

/* The column_missing check (docs/data-model.md), with the dataset's store open: compares this
 * run's header with the last successful run's, warns about each mapped column that is gone
 * (the run still commits: an optional column may be removed) and hands the store this
 * header to record with the run. Tabular sources only; nothing without a store. */
static ps_status check_columns(ds_run *r, ps_error *err)
{
    ps_ds_plan *p = r->plan;
    ps_sink_inst *ss = p->state_sink;
    int open = 0;
    for (size_t i = 0; i < r->sinks_open; i++)
        open |= p->sinks[i] == ss;
    if (!ss || !open || r->record_shape)
        return PS_OK;
    const char *store = ss->plugin->desc->name;
    char **prev = NULL;
    size_t nprev = 0;
    ps_error e = {0};
    ps_status st = ps_store_previous_columns(store, ss->inst, &prev, &nprev, &e);
    if (st == PS_END)
        return PS_OK;
    if (st != PS_OK)
        return ps_error_setf(err, st, "%s: %s", ss->label, e.message);
    ps_dataset_result *res = r->res;
    size_t ncols = r->info.ncolumns;
    char **cols = calloc(ncols + 1, sizeof *cols);
    const char **missing = calloc(nprev + 1, sizeof *missing);
    int *fields = calloc(nprev + 1, sizeof *fields);
    res->missing_columns = calloc(nprev + 1, sizeof *res->missing_columns);
    res->missing_fields = fields;
    st = cols && missing && fields && res->missing_columns ? PS_OK : PS_ERR_NOMEM;
    for (size_t k = 0; st == PS_OK && k < ncols; k++)
        if (!(cols[k] = ps_utf8_repair(r->info.header[k].text, r->info.header[k].len)))
            st = PS_ERR_NOMEM;
    size_t nm = 0;
    if (st == PS_OK)
        nm = ps_columns_missing(&p->mspec, (const char *const *)prev, nprev, &r->map, missing,
                                fields);
    for (size_t k = 0; st == PS_OK && k < nm; k++) {
        if (!(res->missing_columns[k] = strdup(missing[k]))) {
            st = PS_ERR_NOMEM;
            break;
        }
        res->nmissing = k + 1;
        count_code(res->warnings_by_code, PS_COLUMN_MISSING_CODE);
        char name[256];
        snprintf(name, sizeof name, "%s", missing[k]);
        ps_text_sanitize(name);
        ps_log(PS_LOG_WARN, p->label,
               PS_COLUMN_MISSING_CODE ": column '%s' (%s) was in the header of the last "
                                      "successful run and is gone; the run goes on without %s "
                                      "(an optional column may be removed)",
               name, ps_field_name(fields[k]), ps_field_name(fields[k]));
    }
    if (st == PS_OK)
        st = ps_store_record_columns(store, ss->inst, (const char *const *)cols, ncols,
                                     (const char *const *)res->missing_columns, res->nmissing, &e);
    if (st == PS_ERR_NOMEM)
        ps_error_setf(err, st, "out of memory");
    else if (st != PS_OK && st != PS_END)
        ps_error_setf(err, st, "%s: %s", ss->label, e.message);
    ps_store_names_free(cols, ncols);
    ps_store_names_free(prev, nprev);
    free(missing);
    return st == PS_END ? PS_OK : st;
}

/* The sinks commit_all tracks (the config caps sinks per dataset below this). */
#define COMMIT_SINKS_MAX 256

/* Splits a result's table of counts by code (ending at the first NULL code, PS_MAX_CODES at
 * most) into the parallel arrays of ps_commit_info. Returns how many codes. */
static size_t split_codes(const ps_code_count *by_code, const char **codes, uint64_t *counts)
{
    size_t n = 0;
    for (; n < PS_MAX_CODES && by_code[n].code; n++) {
        codes[n] = by_code[n].code;
        counts[n] = by_code[n].count;
    }
    return n;
}

/* After sink `failed`'s commit failed: aborts every open sink not committed (done[k] == 0)
 * but that one, with its message; no sink is open after. */
static void abort_uncommitted(ds_run *r, const unsigned char *done, size_t failed,
                              const char *message)
{
    for (size_t k = 0; k < r->sinks_open && k < COMMIT_SINKS_MAX; k++) {
        const ps_sink_ops *ops = r->plan->sinks[k]->plugin->desc->sink;
        if (!done[k] && k != failed && ops->abort)
            ops->abort(r->plan->sinks[k]->inst, message);
    }
    r->sinks_open = 0;
}

/* Commits every sink: stateless ones first, then the state-keeping one with the cursor, then
 * the sinks that read the store after it (PS_SINK_AFTER_STORE, with ci.stored_payments). */
static ps_status commit_all(ds_run *r, ps_error *err)
{
    ps_ds_plan *p = r->plan;
    ps_dataset_result *res = r->res;
    const ps_provider_ops *pops = p->plugin->desc->provider;
    ps_commit_info ci = {.struct_size = sizeof ci,
                         .dataset = p->def->name,
                         .run_id = res->run_id,
                         .cursor_json = pops->cursor ? pops->cursor(p->inst) : NULL,
                         .started_ms = res->started_ms,
                         .finished_ms = ps_now_ms(),
                         .read = res->read,
                         .accepted = res->accepted,
                         .rejected = res->rejected,
                         .blank = res->blank,
                         .duplicates = res->duplicates,
                         .warnings = res->warnings,
                         .filtered = res->filtered};
    const char *codes[PS_MAX_CODES], *wcodes[PS_MAX_CODES];
    uint64_t code_counts[PS_MAX_CODES], wcounts[PS_MAX_CODES];
    ci.n_reject_codes = split_codes(res->rejected_by_code, codes, code_counts);
    ci.reject_codes = codes;
    ci.reject_code_counts = code_counts;
    ci.n_warning_codes = split_codes(res->warnings_by_code, wcodes, wcounts);
    ci.warning_codes = wcodes;
    ci.warning_code_counts = wcounts;
    unsigned char done[COMMIT_SINKS_MAX] = {0}; /* committed sinks */
    ps_store_feed feed = {.cfg = r->cfg, .def = p->def};
    int store_done = 0;
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 2 && store_done) {
            ci.stored_payments = ps_store_feed_payments;
            ci.store_ctx = &feed;
        }
        for (size_t i = 0; i < r->sinks_open && i < sizeof done; i++) {
            ps_sink_inst *s = p->sinks[i];
            int after = s != p->state_sink && (s->plugin->desc->flags & PS_SINK_AFTER_STORE);
            if (pass != (s == p->state_sink ? 1 : after ? 2 : 0))
                continue;
            ps_error e = {0};
            ps_change_counts ch = {.struct_size = sizeof ch};
            ps_status st = s->plugin->desc->sink->commit(s->inst, &ci, &ch, &e);
            if (st != PS_OK && pass == 2 && store_done) {
                /* The store and the sinks before this one hold the run: nothing to undo. */
                abort_uncommitted(r, done, i, e.message);
                r->store_committed = 1;
                return ps_error_setf(err, st,
                                     "%s: commit failed after the store committed this run "
                                     "(the store keeps it; the next run brings %s up to date): "
                                     "%s",
                                     s->label, s->label, e.message);
            }
            if (st != PS_OK) {
                /* Committed stateless sinks publish nothing: the dataset is marked failed and
                 * finish(all_ok = 0) discards their run output. Abort the others. */
                abort_uncommitted(r, done, i, e.message);
                return ps_error_setf(err, st, "%s: commit failed: %s", s->label, e.message);
            }
            done[i] = 1;
            store_done |= s == p->state_sink;
            if (ch.valid && !res->changes.valid)
                res->changes = ch;
        }
    }
    r->sinks_open = 0;
    return PS_OK;
}

static void fail_cleanup(ds_run *r, const char *message)
{
    ps_ds_plan *p = r->plan;
    for (size_t i = 0; i < r->sinks_open; i++) {
        ps_sink_inst *s = p->sinks[i];
        if (s->plugin->desc->sink->abort)
            s->plugin->desc->sink->abort(s->inst, message);
    }
    r->sinks_open = 0;
    /* after the store committed, the sinks that committed with it publish the run */
    for (size_t i = 0; i < p->nsinks && !r->store_committed; i++)
        p->sinks[i]->failed = 1;
    ps_rowlog_abort(r->rejects);
    ps_rowlog_abort(r->warnings);
    r->rejects = r->warnings = NULL;
    if (!r->opt->dry_run && !r->store_committed && p->state_sink &&
        p->state_sink->plugin->desc->sink->record_failure) {
        ps_dataset_result *res = r->res;
        ps_commit_info ci = {.struct_size = sizeof ci,
                             .dataset = p->def->name,
                             .run_id = res->run_id,
                             .started_ms = res->started_ms,
                             .finished_ms = ps_now_ms(),
                             .read = res->read,
                             .accepted = res->accepted,
                             .rejected = res->rejected,
                             .blank = res->blank,
                             .duplicates = res->duplicates,
                             .warnings = res->warnings,
                             .filtered = res->filtered};
        p->state_sink->plugin->desc->sink->record_failure(p->state_sink->inst, &ci, message);
    }
}

/* One unnamed_column warning per column without a header that held values. */
static void report_unnamed(ds_run *r)
{
    ps_unnamed *u = r->unnamed;
    ps_dataset_result *res = r->res;
    if (!u)
        return;
    for (size_t i = 0; i < u->ncols && res->nunnamed < PS_UNNAMED_MAX; i++) {
        ps_problem p = {.field = -1, .code = "unnamed_column", .raw = NULL};
        ps_unnamed_message(u, i, p.message, sizeof p.message);
        res->unnamed[res->nunnamed] = u->cols[i];
        res->unnamed_message[res->nunnamed++] = strdup(p.message);
        count_code(res->warnings_by_code, p.code);
        ps_log(PS_LOG_WARN, r->plan->label, "unnamed_column: %s", p.message);
        if (r->opt->on_problem)
            r->opt->on_problem(r->opt->on_problem_ctx, res->name, u->cols[i].first_row, &p, 1, 1,
                               NULL);
    }
    if (u->other_values)
        ps_log(PS_LOG_WARN, r->plan->label,
               "unnamed_column: %" PRIu64 " more values under further columns without a header",
               u->other_values);
}

/* Most items one next_batch call may report as filtered by the provider itself. */
#define PS_MAX_PROVIDER_FILTERED 1000000000ULL

static ps_status run_loop(ds_run *r, ps_arena *batch_arena, ps_error *err)
{
    ps_ds_plan *p = r->plan;
    const ps_provider_ops *pops = p->plugin->desc->provider;
    int64_t start = ps_monotonic_ms();
    for (;;) {
        ps_row_batch rb = {.struct_size = sizeof rb};
        ps_error e = {0};
        ps_status st = pops->next_batch(p->inst, batch_arena, &rb, &e);
        if (st == PS_OK) {
            r->progress_done = rb.progress_done;
            r->progress_total = rb.progress_total;
        }
        if ((st == PS_OK || st == PS_END) && rb.filtered) {
            /* items the provider left out itself (ABI 2.1): read and filtered, bounded */
            uint64_t f =
                rb.filtered > PS_MAX_PROVIDER_FILTERED ? PS_MAX_PROVIDER_FILTERED : rb.filtered;
            r->res->read += f;
            r->res->filtered += f;
            r->res->filtered_source += f;
        }
        if (st == PS_END) {
            if (r->record_shape) {
                r->res->unknown_columns = ps_path_map_take_unknown(r->paths, &r->res->nunknown);
                warn_unknown(r, "record key");
            }
            report_unnamed(r);
            return PS_OK;
        }
        if (st != PS_OK && r->opt->stop && *r->opt->stop)
            return stopped_reading(r->res->read, &e, err);
        if (st != PS_OK) {
            char what[96];
            snprintf(what, sizeof what, "reading the source failed after %" PRIu64 " rows",
                     r->res->read);
            return source_failed(st, &e, what, err);
        }
        st = r->record_shape ? ps_protocol_check_records(p->plugin->desc->name, &rb, err)
                             : ps_protocol_check_batch(p->plugin->desc->name, &rb, err);
        if (st != PS_OK)
            return st;
        ps_record *recs = ps_arena_alloc(batch_arena, (rb.count ? rb.count : 1) * sizeof *recs);
        if (!recs)
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        /* the provider's row flags (ABI 2.5), and the record flags they give: a plain row's
         * record is plain when no filter rewrote its cells and every default is plain (the
         * validator's own values are); every record's numbers are the validator's canonical
         * texts, JSON numbers (PS_RECF_NUMBERS, ABI 2.7) */
        const uint8_t *row_flags = rb.row_flags;
        uint8_t *rec_flags = NULL;
        uint8_t plain_out = r->plan->rowfilter == NULL && ps_validator_defaults_plain(r->validator)
                                ? PS_RECF_PLAIN
                                : 0;
        if (row_flags && !r->record_shape &&
            !(rec_flags = ps_arena_alloc(batch_arena, rb.count ? rb.count : 1)))
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        size_t n = 0;
        int idcol = r->record_shape ? -1 : r->map.field_col[PS_F_ID];
        /* the ID cell's dedup key of the rows ID_AHEAD ahead, computed once: the prefetch of
         * its slot uses it now, the row's duplicate check later (ps_dedup_hint) */
        ps_dedup_hint ahead[ID_AHEAD];
        for (size_t i = 0; i < ID_AHEAD; i++)
            id_hint_for(r, &rb, idcol, i, &ahead[i]);
        for (size_t i = 0; i < rb.count; i++) {
            int accepted = 0;
            if (r->record_shape) {
                st = process_record(r, &rb.records[i], batch_arena, &recs[n], &accepted, err);
                if (st != PS_OK)
                    return st;
                n += (size_t)accepted;
                continue;
            }
            ps_dedup_hint hint = ahead[i % ID_AHEAD];
            id_hint_for(r, &rb, idcol, i + ID_AHEAD, &ahead[i % ID_AHEAD]);
            unsigned rf = rec_flags ? row_flags[i] : 0;
            st = process_row(r, &rb.rows[i], rf, &hint, batch_arena, &recs[n], &accepted, err);
            if (st != PS_OK)
                return st;
            if (rec_flags)
                rec_flags[n] = (uint8_t)(((rf & PS_ROWF_PLAIN) ? plain_out : 0) | PS_RECF_NUMBERS);
            n += (size_t)accepted;
        }
        ps_record_batch b = {
            .struct_size = sizeof b, .count = n, .records = recs, .record_flags = rec_flags};
        st = write_sinks(r, &b, err);
        if (st != PS_OK)
            return st;
        ps_crash_point("batch-written");
        ps_arena_reset(batch_arena);
        if (r->opt->stop && *r->opt->stop)
            return ps_error_setf(err, PS_ERR_SOURCE,
                                 "interrupted by a signal after %" PRIu64 " rows; nothing was "
                                 "committed, the next run starts again from the last commit",
                                 r->res->read);
        if (r->opt->progress)
            show_progress(r, start);
    }
}

/* Writes the dataset's attempt to the run state file beside its store (store/run_state.h):
 * "running" before the store is touched, then the outcome, so that a run the store could not
 * record still shows in status, /healthz and /metrics. Best effort: a failure is logged. */
static void record_attempt(const char *store, const char *dataset, const char *label,
                           const char *run_id, int64_t started_ms, const char *outcome,
                           const char *error)
{
    if (!store)
        return;
    ps_run_attempt a;
    memset(&a, 0, sizeof a);
    snprintf(a.run_id, sizeof a.run_id, "%s", run_id);
    a.started_ms = started_ms;
    a.finished_ms = strcmp(outcome, "running") == 0 ? 0 : ps_now_ms();
    a.pid = (long)getpid();
    ps_proc_start_time(a.pid, &a.pid_start);
    snprintf(a.outcome, sizeof a.outcome, "%s", outcome);
    snprintf(a.error, sizeof a.error, "%s", error ? error : "");
    ps_error e = {0};
    if (ps_run_state_record(store, dataset, &a, &e) != PS_OK)
        ps_log(PS_LOG_WARN, label, "cannot record the run's state: %s", e.message);
}

static void note_attempt(const char *store, const ps_ds_plan *p, const ps_dataset_result *res,
                         const char *outcome, const char *error)
{
    record_attempt(store, p->def->name, p->label, res->run_id, res->started_ms, outcome, error);
}

/* A run that fails before any dataset starts (a plugin or sink cannot be set up): each
 * selected dataset that keeps its state in a file store gets a failed attempt in the run state
 * file beside it, where that file can be written, so that status, /healthz and /metrics show
 * the failure and not the last good run. The message and exit code say it in any case. */
static void note_setup_failure(const ps_config *cfg, const ps_run_options *opt, const char *message)
{
    int64_t now = ps_now_ms();
    char run_id[64];
    make_run_id(run_id, sizeof run_id, now);
    char error[1024];
    snprintf(error, sizeof error, "the run could not start: %s", message);
    for (size_t i = 0; i < cfg->ndatasets; i++) {
        const ps_dataset_def *d = &cfg->datasets[i];
        int selected = opt->nonly == 0;
        for (size_t k = 0; k < opt->nonly && !selected; k++)
            selected = strcmp(opt->only[k], d->name) == 0;
        ps_store_ref ref;
        ps_error le = {0};
        if (!selected || ps_store_locate(cfg, d, &ref, &le) != PS_OK)
            continue;
        record_attempt(ps_store_state_location(&ref), d->name, d->name, run_id, now, "failed",
                       error);
        ps_store_ref_free(&ref);
    }
}

static ps_status run_dataset(const ps_config *cfg, ps_ds_plan *p, const ps_run_options *opt,
                             ps_dataset_result *res)
{
    ds_run r;
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    r.plan = p;
    r.opt = opt;
    r.res = res;
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        r.map.field_col[f] = -1;
    snprintf(res->name, sizeof res->name, "%s", p->def->name);
    res->ran = 1;
    size_t nf = ps_rowfilter_count(p->rowfilter);
    if (nf) {
        res->filter_desc = calloc(nf, sizeof *res->filter_desc);
        res->filtered_by = calloc(nf, sizeof *res->filtered_by);
        if (res->filter_desc && res->filtered_by) {
            /* a description that could not be copied shows as "?" */
            for (size_t i = 0; i < nf; i++) {
                char d[200];
                res->filter_desc[i] = strdup(ps_rowfilter_describe(p->rowfilter, i, d, sizeof d));
            }
            res->nfilters = nf;
        } else {
            free(res->filter_desc);
            free(res->filtered_by);
            res->filter_desc = NULL;
            res->filtered_by = NULL;
        }
    }
    res->started_ms = ps_now_ms();
    make_run_id(res->run_id, sizeof res->run_id, res->started_ms);
    int64_t t0 = ps_monotonic_ms();
    ps_log(PS_LOG_INFO, p->label, "run %s started%s", res->run_id,
           opt->dry_run ? " (dry run)" : "");
    char *state_store = NULL; /* the store whose state file records this attempt */
    if (!opt->dry_run && p->state_sink) {
        ps_store_ref ref;
        ps_error le = {0};
        if (ps_store_locate(cfg, p->def, &ref, &le) == PS_OK) {
            if (ps_store_state_location(&ref))
                state_store = ref.location;
            else
                ps_store_ref_free(&ref); /* a database server: no state file */
        }
    }
    note_attempt(state_store, p, res, "running", NULL);

    ps_error err = {0};
    ps_arena *run_arena = ps_arena_create(0);
    /* one block holds a whole default batch (about 2 MB of it touched): no page faults per
     * batch; its untouched part costs no memory */
    ps_arena *batch_arena = ps_arena_create(8 << 20);
    char *cursor = NULL;
    ps_status st =
        (!run_arena || !batch_arena) ? ps_error_setf(&err, PS_ERR_NOMEM, "out of memory") : PS_OK;
    if (st == PS_OK && !opt->dry_run && p->state_sink &&
        p->state_sink->plugin->desc->sink->load_cursor)
        cursor = p->state_sink->plugin->desc->sink->load_cursor(p->state_sink->inst, p->def->name);
    if (st == PS_OK && p->minst)
        st = load_meters(&r, &err);
    if (st == PS_OK)
        st = open_source(&r, run_arena, cursor, &err);
    if (st == PS_OK)
        st = open_writers(&r, &err);
    if (st == PS_OK && !opt->dry_run)
        st = open_sinks(&r, &err);
    if (st == PS_OK && !opt->dry_run)
        st = check_columns(&r, &err);
    if (st == PS_OK)
        st = run_loop(&r, batch_arena, &err);
    if (opt->progress)
        ps_log_progress(NULL);
    if (st == PS_OK && r.res->read != r.res->accepted + r.res->rejected + r.res->blank +
                                          r.res->duplicates + r.res->filtered)
        st = ps_error_setf(&err, PS_ERR_INTERNAL,
                           "internal error: counts do not add up (read %" PRIu64
                           " != accepted %" PRIu64 " + rejected %" PRIu64 " + blank %" PRIu64
                           " + duplicates %" PRIu64 " + filtered %" PRIu64
                           "); nothing was committed, please report this",
                           r.res->read, r.res->accepted, r.res->rejected, r.res->blank,
                           r.res->duplicates, r.res->filtered);
    ps_value_counts_sort(&res->status_values);
    ps_value_counts_sort(&res->txtype_values);
    if (st == PS_OK && !opt->dry_run)
        st = check_vanish(&r, &err);
    if (st == PS_OK && !opt->dry_run)
        st = commit_all(&r, &err);
    if (st != PS_OK && r.store_committed) {
        /* the run is in the store: its rejects and warnings files go with it */
        ps_error e2 = {0};
        if (r.rejects && ps_rowlog_commit(r.rejects, &e2) != PS_OK)
            ps_log(PS_LOG_ERROR, p->label, "%s", e2.message);
        if (r.warnings && ps_rowlog_commit(r.warnings, &e2) != PS_OK)
            ps_log(PS_LOG_ERROR, p->label, "%s", e2.message);
        r.rejects = r.warnings = NULL;
        res->store_committed = 1;
    }
    if (st == PS_OK && r.rejects) {
        st = ps_rowlog_commit(r.rejects, &err);
        r.rejects = NULL;
    }
    if (st == PS_OK && r.warnings) {
        st = ps_rowlog_commit(r.warnings, &err);
        r.warnings = NULL;
    }
    if (st != PS_OK)
        fail_cleanup(&r, err.message);
    if (r.provider_open && p->plugin->desc->provider->close)
        p->plugin->desc->provider->close(p->inst);
    res->finished_ms = ps_now_ms();
    res->elapsed_ms = ps_monotonic_ms() - t0;
    res->ok = st == PS_OK;
    res->status = st;
    note_attempt(state_store, p, res, st == PS_OK ? "ok" : "failed", err.message);
    free(state_store);
    if (st != PS_OK) {
        snprintf(res->error, sizeof res->error, "%s", err.message);
        if (r.store_committed)
            ps_log(PS_LOG_ERROR, p->label, "run failed after the store committed: %s", err.message);
        else
            ps_log(PS_LOG_ERROR, p->label, "run failed, nothing was committed: %s", err.message);
    } else {
        ps_log(PS_LOG_INFO, p->label,
               "run %s committed: read %" PRIu64 ", accepted %" PRIu64 ", rejected %" PRIu64
               ", blank %" PRIu64 ", duplicates %" PRIu64 ", filtered %" PRIu64,
               res->run_id, res->read, res->accepted, res->rejected, res->blank, res->duplicates,
               res->filtered);
    }
    free(cursor);
    ps_validator_free(r.validator);
    ps_dedup_free(r.dedup);
    ps_phonecache_free(r.phones);
    ps_meterset_free(r.meters);
    ps_mapping_free(&r.map);
    ps_path_map_free(r.paths);
    ps_unnamed_free(r.unnamed);
    ps_tz_free(r.source_zone);
    ps_arena_destroy(run_arena);
    ps_arena_destroy(batch_arena);
    return st;
}

ps_status ps_run(const ps_config *cfg, ps_registry *reg, const ps_run_options *opt,
                 ps_run_result *res, ps_error *err)
{
    memset(res, 0, sizeof *res);
    /* A shared file sink is replaced by every run: refuse a selection that leaves out some of
     * its datasets (a dry run writes nothing). */
    if (!opt->dry_run) {
        ps_status cs = ps_file_sinks_check_selection(cfg, opt->only, opt->nonly, err);
        if (cs != PS_OK)
            return cs;
    }
    ps_plan plan;
    ps_status st = ps_plan_build(cfg, reg, opt->only, opt->nonly, opt->dry_run, &plan, err);
    if (st != PS_OK) {
        if (!opt->dry_run)
            note_setup_failure(cfg, opt, err->message);
        return st;
    }
    res->datasets = calloc(plan.nds + 1, sizeof *res->datasets);
    if (!res->datasets) {
        ps_plan_free(&plan);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    res->count = plan.nds;
    ps_status overall = PS_OK;
    for (size_t i = 0; i < plan.nds; i++) {
        if (opt->stop && *opt->stop) {
            snprintf(res->datasets[i].name, sizeof res->datasets[i].name, "%s",
                     plan.ds[i].def->name);
            if (overall == PS_OK) {
                overall = PS_ERR_SOURCE;
                ps_error_setf(err, overall, "interrupted by a signal before dataset '%s'",
                              plan.ds[i].def->name);
            }
            continue;
        }
        st = run_dataset(cfg, &plan.ds[i], opt, &res->datasets[i]);
        if (st != PS_OK && overall == PS_OK) {
            overall = st;
            ps_error_setf(err, st, "dataset '%s' failed: %s", res->datasets[i].name,
                          res->datasets[i].error);
        }
    }
    for (size_t i = 0; i < plan.nsinks; i++) {
        ps_sink_inst *s = &plan.sinks[i];
        if (!s->used || !s->inst || !s->plugin->desc->sink->finish)
            continue;
        ps_error e = {0};
        st = s->plugin->desc->sink->finish(s->inst, !s->failed, &e);
        if (st != PS_OK) {
            ps_log(PS_LOG_ERROR, s->label, "publishing failed: %s", e.message);
            for (size_t k = 0; k < plan.nds; k++) {
                for (size_t j = 0; j < plan.ds[k].nsinks; j++) {
                    if (plan.ds[k].sinks[j] != s || !res->datasets[k].ok)
                        continue;
                    res->datasets[k].ok = 0;
                    res->datasets[k].status = st;
                    snprintf(res->datasets[k].error, sizeof res->datasets[k].error,
                             "%s: publishing failed: %s", s->label, e.message);
                }
            }
            if (overall == PS_OK) {
                overall = st;
                ps_error_setf(err, st, "%s: publishing failed: %s", s->label, e.message);
            }
        } else if (s->failed) {
            ps_log(PS_LOG_WARN, s->label,
                   "previous output kept: a dataset writing to this sink failed");
        }
    }
    ps_plan_free(&plan);
    return overall;
}

ps_status ps_check(const ps_config *cfg, ps_registry *reg, char *const *only, size_t nonly,
                   ps_error *err)
{
    ps_plan plan;
    ps_status st = ps_plan_build(cfg, reg, only, nonly, 0, &plan, err);
    if (st != PS_OK)
        return st;
    for (size_t i = 0; i < plan.nds && st == PS_OK; i++) {
        ps_ds_plan *p = &plan.ds[i];
        ps_error e = {0};
        if (p->plugin->desc->check && (st = p->plugin->desc->check(p->inst, &e)) != PS_OK)
            ps_error_setf(err, st, "dataset '%s' source: %s", p->def->name, e.message);
        else
            ps_log(PS_LOG_INFO, p->label, "source ok (%s %s)", p->plugin->desc->name,
                   p->plugin->desc->version);
        if (st == PS_OK && p->minst && p->mplugin->desc->check &&
            (st = p->mplugin->desc->check(p->minst, &e)) != PS_OK)
            ps_error_setf(err, st, "dataset '%s' verify_meters: %s", p->def->name, e.message);
        else if (st == PS_OK && p->minst)
            ps_log(PS_LOG_INFO, p->label, "verify_meters ok (%s %s)", p->mplugin->desc->name,
                   p->mplugin->desc->version);
    }
    for (size_t i = 0; i < plan.nsinks && st == PS_OK; i++) {
        ps_sink_inst *s = &plan.sinks[i];
        ps_error e = {0};
        if (!s->used)
            continue;
        if (s->plugin->desc->check && (st = s->plugin->desc->check(s->inst, &e)) != PS_OK)
            ps_error_setf(err, st, "%s: %s", s->label, e.message);
        else
            ps_log(PS_LOG_INFO, s->label, "ok (%s %s)", s->plugin->desc->name,
                   s->plugin->desc->version);
    }
    ps_plan_free(&plan);
    return st;
}

void ps_run_result_free(ps_run_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->count; i++) {
        for (size_t k = 0; k < res->datasets[i].nunknown; k++)
            free(res->datasets[i].unknown_columns[k]);
        free(res->datasets[i].unknown_columns);
        for (size_t k = 0; k < res->datasets[i].nunnamed; k++)
            free(res->datasets[i].unnamed_message[k]);
        ps_store_names_free(res->datasets[i].missing_columns, res->datasets[i].nmissing);
        free(res->datasets[i].missing_fields);
        for (size_t k = 0; res->datasets[i].filter_desc && k < res->datasets[i].nfilters; k++)
            free(res->datasets[i].filter_desc[k]);
        free(res->datasets[i].filter_desc);
        free(res->datasets[i].filtered_by);
    }
    free(res->datasets);
    memset(res, 0, sizeof *res);
}
