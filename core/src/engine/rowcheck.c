/* paysync core: the verdict on one source row (rowcheck.h). */
#include "engine/rowcheck.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/space.h"
#include "util/bytescan.h"

/* Length of the longest prefix of s (n bytes) of at most max bytes that ends on a UTF-8
 * boundary. */
static size_t utf8_prefix(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

static void problem(ps_row_check *chk, int field, const char *code, const char *msg)
{
    if (chk->n_errors >= PS_MAX_PROBLEMS)
        return;
    ps_problem *p = &chk->errors[chk->n_errors++];
    p->field = field;
    p->code = code;
    p->raw = NULL;
    snprintf(p->message, sizeof p->message, "%s", msg);
}

/* A NUL byte inside any cell (a CSV file may hold one; a sheet sends it as \u0000) is text no
 * field may hold: one bad_text problem per such cell, naming the row, the column letter and
 * its header. Returns the number found. */
static int nul_cells(const ps_row_rules *rules, const ps_row *row, const int *field_col,
                     ps_row_check *chk)
{
    int found = 0;
    for (uint32_t c = 0; c < row->ncells; c++) {
        const ps_cell *cell = &row->cells[c];
        if (!ps_has_nul(cell->text, cell->len))
            continue;
        int field = -1;
        for (int f = 0; f < PS_FIELD_COUNT && field < 0; f++)
            if (field_col[f] == (int)c)
                field = f;
        char letters[8], m[200];
        const char *h = c < rules->ncolumns && rules->header ? rules->header[c].text : "";
        int hl = (int)utf8_prefix(h, strlen(h), 60);
        snprintf(m, sizeof m,
                 "row %" PRIu64 ", column %s%s%.*s%s: the cell holds a NUL byte (U+0000), "
                 "which text may not contain",
                 row->line, ps_column_letters(c, letters), hl ? " ('" : "", hl, h, hl ? "')" : "");
        problem(chk, field, "bad_text", m);
        found++;
    }
    return found;
}

ps_unnamed *ps_unnamed_new(const ps_cell *header, uint32_t ncolumns, const int *field_col)
{
    ps_unnamed *u = calloc(1, sizeof *u);
    if (!u || !(u->blank = calloc(ncolumns ? ncolumns : 1, sizeof *u->blank))) {
        free(u);
        return NULL;
    }
    u->ncolumns = ncolumns;
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        u->field_col[f] = field_col ? field_col[f] : -1;
    for (uint32_t c = 0; c < ncolumns; c++) {
        int mapped = 0;
        for (int f = 0; f < PS_FIELD_COUNT; f++)
            mapped |= u->field_col[f] == (int)c;
        if (!mapped && ps_text_is_blank(header[c].text, header[c].len))
            u->blank[u->nblank++] = c;
    }
    return u;
}

void ps_unnamed_free(ps_unnamed *u)
{
    if (!u)
        return;
    free(u->blank);
    free(u);
}

static void unnamed_value(ps_unnamed *u, uint32_t c, uint64_t line)
{
    for (size_t i = 0; i < u->ncols; i++) {
        if (u->cols[i].col == c) {
            u->cols[i].values++;
            return;
        }
    }
    if (u->ncols == PS_UNNAMED_MAX) {
        u->other_values++;
        return;
    }
    u->cols[u->ncols++] = (ps_unnamed_col){c, 1, line};
}

/* Counts the row's values under unnamed columns. */
static void count_unnamed(ps_unnamed *u, const ps_row *row)
{
    for (uint32_t k = 0; k < u->nblank && u->blank[k] < row->ncells; k++) {
        const ps_cell *cell = &row->cells[u->blank[k]];
        if (!ps_text_is_blank(cell->text, cell->len))
            unnamed_value(u, u->blank[k], row->line);
    }
    for (uint32_t c = u->ncolumns; c < row->ncells; c++) {
        if (ps_text_is_blank(row->cells[c].text, row->cells[c].len))
            continue;
        int mapped = 0;
        for (int f = 0; f < PS_FIELD_COUNT; f++)
            mapped |= u->field_col[f] == (int)c;
        if (!mapped)
            unnamed_value(u, c, row->line);
    }
}

void ps_unnamed_message(const ps_unnamed *u, size_t i, char *out, size_t cap)
{
    const ps_unnamed_col *c = &u->cols[i];
    char letters[8];
    ps_column_letters(c->col, letters);
    snprintf(out, cap,
             "column %s has no header but holds %" PRIu64 " value%s (first in row %" PRIu64
             "), not read: name the column or map it with mapping.columns {\"@%s\": FIELD}%s",
             letters, c->values, c->values == 1 ? "" : "s", c->first_row, letters,
             c->col >= u->ncolumns ? " (past the header: in CSV, maybe an unquoted delimiter)"
                                   : "");
}

/* verify_meters: 0 when the record's METER_ID is in the meter list; else *p is set (code
 * unknown_meter, the near miss named in the message when there is one) and the result is 1,
 * or 2 for a near miss. */
static int check_meter(const ps_meterset *meters, const ps_record *rec, ps_problem *p)
{
    const char *m = rec->field[PS_F_METER_ID].ptr;
    size_t n = rec->field[PS_F_METER_ID].len;
    if (!m || ps_meterset_has(meters, m, n))
        return 0;
    *p = (ps_problem){.field = PS_F_METER_ID, .code = "unknown_meter", .raw = m};
    int ml = (int)utf8_prefix(m, n, 60);
    size_t nl = 0;
    const char *near = ps_meterset_near(meters, m, n, &nl);
    if (near) {
        int nn = (int)utf8_prefix(near, nl, 60);
        snprintf(p->message, sizeof p->message,
                 "%.*s%s not in the meter list; did you mean %.*s%s?", ml, m,
                 (size_t)ml < n ? "..." : "", nn, near, (size_t)nn < nl ? "..." : "");
    } else {
        snprintf(p->message, sizeof p->message,
                 "%.*s%s not in the meter list (Odyssey verifies a payment only when its "
                 "METER_ID is a connection's external_id)",
                 ml, m, (size_t)ml < n ? "..." : "");
    }
    return near ? 2 : 1;
}

static void count_value(const ps_row_rules *rules, ps_value_counts *vc, const ps_cell *c)
{
    if (!vc)
        return;
    if (c)
        ps_value_counts_add(vc, c->text, c->len);
    else if (!rules->status_skip_absent)
        ps_value_counts_add(vc, "", 0);
}

/* Field f's cell of row (NULL when f is not mapped or the row is shorter). */
static inline const ps_cell *cell_of(const ps_row *row, const int *field_col, int f)
{
    return ps_field_cell(row->cells, row->ncells, field_col[f]);
}

/* Counts the row's STATUS and TRANSACTION_TYPE values (see ps_row_rules.status_counts). */
static void count_status(const ps_row_rules *rules, const ps_row *row, const int *field_col)
{
    count_value(rules, rules->status_counts, cell_of(row, field_col, PS_F_STATUS));
    count_value(rules, rules->txtype_counts, cell_of(row, field_col, PS_F_TRANSACTION_TYPE));
}

#define MAX_NOTES 8

ps_status ps_row_evaluate(const ps_row_rules *rules, const ps_row *row, const int *field_col,
                          ps_arena *arena, ps_record *rec, ps_row_check *chk,
                          ps_row_verdict *verdict, int *unknown_meter, size_t *dropped_by,
                          ps_error *err)
{
    int meter_dummy;
    if (!unknown_meter)
        unknown_meter = &meter_dummy;
    *unknown_meter = 0;
    chk->n_errors = 0;
    chk->n_warnings = 0;
    if (ps_row_is_blank(row->cells, row->ncells)) {
        *verdict = PS_VERDICT_BLANK;
        return PS_OK;
    }
    *verdict = PS_VERDICT_REJECTED;
    if (rules->unnamed)
        count_unnamed(rules->unnamed, row);
    if (!(rules->row_flags & PS_ROWF_NO_NUL) && nul_cells(rules, row, field_col, chk)) {
        count_status(rules, row, field_col);
        return PS_OK;
    }
    /* mapping.extract, then mapping.filters: a dropped row is counted, never validated */
    ps_problem notes[MAX_NOTES];
    int nnotes = 0;
    ps_row_outcome outcome;
    if (rules->filter) {
        const ps_cell *by_field[PS_FIELD_COUNT];
        for (int f = 0; f < PS_FIELD_COUNT; f++)
            by_field[f] = cell_of(row, field_col, f);
        size_t idx = 0;
        ps_rf_outcome fo = ps_rowfilter_apply(rules->filter, row->cells, row->ncells, rules->header,
                                              by_field, arena, notes, MAX_NOTES, &nnotes, &idx);
        count_status(rules, row, field_col);
        if (fo == PS_RF_DROP) {
            if (dropped_by)
                *dropped_by = idx;
            *verdict = PS_VERDICT_FILTERED;
            return PS_OK;
        }
        if (fo == PS_RF_REJECT) {
            for (int i = 0; i < nnotes && chk->n_errors < PS_MAX_PROBLEMS; i++)
                chk->errors[chk->n_errors++] = notes[i];
            return PS_OK;
        }
        /* the provider's ASCII and NO_NUL bits hold for the cells, not for what a filter put
         * in their place */
        outcome = ps_validate_row_flags(rules->validator, rules->phones, by_field, 0, row->line,
                                        arena, rec, chk);
    } else {
        count_status(rules, row, field_col);
        outcome = ps_validate_row_cols(rules->validator, rules->phones, row->cells, row->ncells,
                                       field_col, rules->row_flags, row->line, arena, rec, chk);
    }
    if (outcome == PS_ROW_REJECTED) {
        /* extract_no_match first: it says why the extracted required fields are missing */
        if (nnotes > 0) {
            int keep =
                chk->n_errors + nnotes > PS_MAX_PROBLEMS ? PS_MAX_PROBLEMS - nnotes : chk->n_errors;
            memmove(&chk->errors[nnotes], &chk->errors[0], (size_t)keep * sizeof chk->errors[0]);
            memcpy(&chk->errors[0], notes, (size_t)nnotes * sizeof notes[0]);
            chk->n_errors = keep + nnotes;
        }
        return PS_OK;
    }
    for (int i = 0; i < nnotes && chk->n_warnings < PS_MAX_PROBLEMS; i++)
        chk->warnings[chk->n_warnings++] = notes[i];
    ps_problem meter_problem;
    int meter = rules->meters ? check_meter(rules->meters, rec, &meter_problem) : 0;
    if (meter && rules->strict) {
        *unknown_meter = meter;
        chk->n_warnings = 0;
        chk->errors[chk->n_errors++] = meter_problem;
        return PS_OK;
    }
    if (!rules->dedup)
        goto accepted;
    uint64_t first = 0;
    const char *rid = rec->field[PS_F_ID].ptr;
    size_t rlen = rec->field[PS_F_ID].len;
    const ps_dedup_hint *hint = rules->id_hint;
    uint64_t key = hint && hint->text && hint->len == rlen &&
                           (hint->text == rid || memcmp(hint->text, rid, rlen) == 0)
                       ? hint->key
                       : ps_dedup_key(rid, rlen);
    ps_dedup_result d = ps_dedup_check_key(rules->dedup, key, rec->content_hash, row->line, &first);
    if (d == PS_DEDUP_ERROR)
        return ps_error_setf(err, PS_ERR_NOMEM,
                             "cannot track IDs for duplicate detection at row %" PRIu64
                             " (out of memory, or no space for temporary files in $TMPDIR)",
                             row->line);
    if (d == PS_DEDUP_DUPLICATE) {
        *verdict = PS_VERDICT_DUPLICATE;
        return PS_OK;
    }
    if (d == PS_DEDUP_CONFLICT) {
        const char *id = rec->field[PS_F_ID].ptr;
        int idlen = (int)utf8_prefix(id, rec->field[PS_F_ID].len, 80);
        char m[200];
        snprintf(m, sizeof m,
                 "ID '%.*s%s' was already used by row %" PRIu64 " with different content", idlen,
                 id, id[idlen] ? "..." : "", first);
        chk->n_warnings = 0;
        problem(chk, PS_F_ID, "duplicate_id_conflict", m);
        return PS_OK;
    }
accepted:
    if (meter && chk->n_warnings < PS_MAX_PROBLEMS) {
        *unknown_meter = meter;
        chk->warnings[chk->n_warnings++] = meter_problem;
    }
    *verdict = PS_VERDICT_ACCEPTED;
    return PS_OK;
}

ps_status ps_record_as_row(const ps_keyed_row *kr, ps_path_map *pm, ps_arena *arena, ps_row *row,
                           ps_cell **paths_out, int field_col[PS_FIELD_COUNT], ps_error *err)
{
    uint32_t n = kr->nvalues;
    ps_cell *cells = ps_arena_alloc(arena, (2 * (size_t)n + 1) * sizeof *cells);
    if (!cells)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    ps_cell *paths = cells + n;
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        field_col[f] = -1;
    for (uint32_t k = 0; k < n; k++) {
        const ps_value *v = &kr->values[k];
        cells[k] = (ps_cell){v->text, v->len, v->type == PS_VAL_BOOL ? PS_CELL_BOOL : PS_CELL_TEXT};
        paths[k] = (ps_cell){v->path, v->path_len, PS_CELL_TEXT};
        int f = ps_path_map_field(pm, v->path, v->path_len);
        if (f >= 0 && field_col[f] < 0)
            field_col[f] = (int)k;
    }
    *row = (ps_row){.line = kr->line, .ncells = n, .cells = cells};
    *paths_out = paths;
    return PS_OK;
}
