/* paysync core: mapping.extract and mapping.filters (see rowfilter.h). */
#include "engine/rowfilter.h"

#include <stdlib.h>
#include <string.h>

#include "model/model_fields.h"
#include "model/space.h"
#include "util/regex.h"
#include "util/suggest.h"

#define HDR_MAX 256

typedef struct rf_filter {
    const ps_filter_def *def;
    ps_regex *re;
    int col; /* bound column (tabular), or -1 */
} rf_filter;

typedef struct rf_extract {
    const ps_extract_def *def;
    ps_regex *re;
    int col;
    uint32_t ngroups;
    int group_field[PS_REGEX_MAX_GROUPS + 1]; /* field filled by group g, or -1 */
} rf_extract;

struct ps_rowfilter {
    const char *cfg_path;
    const ps_dataset_def *d;
    rf_filter *f;
    size_t nf;
    rf_extract *x;
    size_t nx;
    unsigned char extracted[PS_FIELD_COUNT];
    int records;
    const char *const *defaults;
};

void ps_rowfilter_free(ps_rowfilter *rf)
{
    if (!rf)
        return;
    for (size_t i = 0; i < rf->nf; i++)
        ps_regex_free(rf->f[i].re);
    for (size_t i = 0; i < rf->nx; i++)
        ps_regex_free(rf->x[i].re);
    free(rf->f);
    free(rf->x);
    free(rf);
}

ps_status ps_rowfilter_new(const char *cfg_path, const ps_dataset_def *d, ps_rowfilter **out,
                           ps_error *err)
{
    *out = NULL;
    if (d->nfilters == 0 && d->nextracts == 0)
        return PS_OK;
    ps_rowfilter *rf = calloc(1, sizeof *rf);
    if (!rf || !(rf->f = calloc(d->nfilters + 1, sizeof *rf->f)) ||
        !(rf->x = calloc(d->nextracts + 1, sizeof *rf->x))) {
        ps_rowfilter_free(rf);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    rf->cfg_path = cfg_path;
    rf->d = d;
    ps_error e = {0};
    for (size_t i = 0; i < d->nfilters; i++) {
        const ps_filter_def *fd = &d->filters[i];
        rf_filter *f = &rf->f[rf->nf++];
        f->def = fd;
        f->col = -1;
        if ((fd->op == PS_FILTER_MATCHES || fd->op == PS_FILTER_NOT_MATCHES) &&
            ps_regex_compile(fd->values[0], fd->case_insensitive, &f->re, &e) != PS_OK) {
            ps_rowfilter_free(rf);
            return ps_error_setf(err, e.code, "%s:%d:%d: datasets[%s].mapping.filters[%zu]: %s",
                                 cfg_path, fd->line, fd->col, d->name, i, e.message);
        }
    }
    for (size_t i = 0; i < d->nextracts; i++) {
        const ps_extract_def *xd = &d->extracts[i];
        rf_extract *x = &rf->x[rf->nx++];
        x->def = xd;
        x->col = -1;
        if (ps_regex_compile(xd->pattern, xd->case_insensitive, &x->re, &e) != PS_OK) {
            ps_rowfilter_free(rf);
            return ps_error_setf(err, e.code, "%s:%d:%d: datasets[%s].mapping.extract[%zu]: %s",
                                 cfg_path, xd->line, xd->col, d->name, i, e.message);
        }
        x->ngroups = ps_regex_groups(x->re);
        for (uint32_t g = 0; g <= PS_REGEX_MAX_GROUPS; g++)
            x->group_field[g] = -1;
        if (xd->fields) {
            for (size_t k = 0; k < xd->nfields && k < x->ngroups; k++)
                x->group_field[k + 1] = xd->fields[k];
        } else {
            for (size_t k = 0; k < ps_regex_names(x->re); k++) {
                uint32_t g = 0;
                const char *name = ps_regex_name_at(x->re, k, &g);
                int fld = ps_field_lookup(name, strlen(name));
                if (g <= PS_REGEX_MAX_GROUPS && fld >= 0)
                    x->group_field[g] = fld;
            }
        }
        for (uint32_t g = 1; g <= x->ngroups && g <= PS_REGEX_MAX_GROUPS; g++)
            if (x->group_field[g] >= 0)
                rf->extracted[x->group_field[g]] = 1;
    }
    *out = rf;
    return PS_OK;
}

void ps_rowfilter_extracted(const ps_rowfilter *rf, unsigned char flags[PS_FIELD_COUNT])
{
    memset(flags, 0, PS_FIELD_COUNT);
    if (rf)
        memcpy(flags, rf->extracted, PS_FIELD_COUNT);
}

size_t ps_rowfilter_count(const ps_rowfilter *rf)
{
    return rf ? rf->nf : 0;
}

/* The header cell that `name` designates (compared after header normalisation), or -1. */
static int find_column(const char *name, const ps_cell *header, size_t ncols)
{
    char want[HDR_MAX], have[HDR_MAX];
    size_t wn = ps_header_normalise(name, strlen(name), want, sizeof want);
    if (wn == 0)
        return -1;
    for (size_t c = 0; c < ncols; c++) {
        size_t hn = ps_header_normalise(header[c].text, header[c].len, have, sizeof have);
        if (hn == wn && memcmp(want, have, wn) == 0)
            return (int)c;
    }
    return -1;
}

static ps_status unknown_column(const ps_rowfilter *rf, const char *what, size_t idx,
                                const char *column, int line, int col, const ps_cell *header,
                                size_t ncols, ps_error *err)
{
    const char **names = calloc(ncols + 1, sizeof *names);
    char list[400] = "";
    size_t pos = 0;
    for (size_t c = 0; c < ncols; c++) {
        if (names)
            names[c] = header[c].text;
        if (pos + 8 < sizeof list) {
            int w =
                snprintf(list + pos, sizeof list - pos, "%s'%s'", c ? ", " : "", header[c].text);
            if (w < 0 || (size_t)w >= sizeof list - pos)
                snprintf(list + (sizeof list - 5), 5, "...");
            else
                pos += (size_t)w;
        }
    }
    const char *s = names ? ps_suggest(column, names, ncols) : NULL;
    ps_status st = ps_error_setf(err, PS_ERR_CONFIG,
                                 "%s:%d:%d: datasets[%s].mapping.%s[%zu].column: no column '%s' in "
                                 "the source's header%s%s%s "
                                 "(columns: %s)",
                                 rf->cfg_path, line, col, rf->d->name, what, idx, column,
                                 s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "",
                                 ncols ? list : "none");
    free(names);
    return st;
}

ps_status ps_rowfilter_bind(ps_rowfilter *rf, const ps_cell *header, size_t ncols,
                            const int *field_col, const char *const *defaults, ps_error *err)
{
    rf->records = 0;
    rf->defaults = defaults;
    for (size_t i = 0; i < rf->nx; i++) {
        rf_extract *x = &rf->x[i];
        const ps_extract_def *xd = x->def;
        x->col = find_column(xd->column, header, ncols);
        if (x->col < 0)
            return unknown_column(rf, "extract", i, xd->column, xd->column_line, xd->column_col,
                                  header, ncols, err);
        for (uint32_t g = 1; g <= x->ngroups && g <= PS_REGEX_MAX_GROUPS; g++) {
            int f = x->group_field[g];
            if (f < 0 || field_col[f] < 0)
                continue;
            return ps_error_setf(err, PS_ERR_CONFIG,
                                 "%s:%d:%d: datasets[%s].mapping.extract[%zu]: field %s is "
                                 "filled by this rule and also by column '%s'; map that column "
                                 "elsewhere with mapping.columns or drop the field from the rule",
                                 rf->cfg_path, xd->line, xd->col, rf->d->name, i, ps_field_name(f),
                                 header[field_col[f]].text);
        }
    }
    for (size_t i = 0; i < rf->nf; i++) {
        rf_filter *f = &rf->f[i];
        const ps_filter_def *fd = f->def;
        if (fd->column) {
            f->col = find_column(fd->column, header, ncols);
            if (f->col < 0)
                return unknown_column(rf, "filters", i, fd->column, fd->what_line, fd->what_col,
                                      header, ncols, err);
            continue;
        }
        int fld = fd->field;
        if (field_col[fld] >= 0 || rf->extracted[fld] || (defaults && defaults[fld]))
            continue;
        return ps_error_setf(err, PS_ERR_CONFIG,
                             "%s:%d:%d: datasets[%s].mapping.filters[%zu].field: field %s has no "
                             "column in the source's header, no extract rule and no default; "
                             "filter on a column instead (column: NAME)",
                             rf->cfg_path, fd->what_line, fd->what_col, rf->d->name, i,
                             ps_field_name(fld));
    }
    return PS_OK;
}

const char *ps_rowfilter_field_column(const ps_rowfilter *rf, int f)
{
    for (size_t i = 0; rf && i < rf->nx; i++)
        for (uint32_t g = 1; g <= rf->x[i].ngroups && g <= PS_REGEX_MAX_GROUPS; g++)
            if (rf->x[i].group_field[g] == f)
                return rf->x[i].def->column;
    return NULL;
}

int ps_rowfilter_uses_column(const ps_rowfilter *rf, int col)
{
    for (size_t i = 0; rf && i < rf->nx; i++)
        if (rf->x[i].col == col)
            return 1;
    for (size_t i = 0; rf && i < rf->nf; i++)
        if (rf->f[i].col == col)
            return 1;
    return 0;
}

void ps_rowfilter_bind_records(ps_rowfilter *rf, const char *const *defaults)
{
    rf->records = 1;
    rf->defaults = defaults;
}

/* ---- per row ------------------------------------------------------------------------------ */

/* Trims whitespace at both ends (as validation does: model/space.h). */
static void trim(const char **ps, size_t *plen)
{
    ps_space_trim(ps, plen);
}

/* The cell of a record named by `column` (a path, or a top-level key compared like a header),
 * or NULL. */
static const ps_cell *record_cell(const char *column, const ps_cell *cells, uint32_t ncells,
                                  const ps_cell *names)
{
    if (column[0] == '/') {
        size_t l = strlen(column);
        for (uint32_t k = 0; k < ncells; k++)
            if (names[k].len == l && memcmp(names[k].text, column, l) == 0)
                return &cells[k];
        return NULL;
    }
    char want[HDR_MAX], have[HDR_MAX];
    size_t wn = ps_header_normalise(column, strlen(column), want, sizeof want);
    for (uint32_t k = 0; wn && k < ncells; k++) {
        if (names[k].len < 2 || names[k].text[0] != '/' ||
            memchr(names[k].text + 1, '/', names[k].len - 1))
            continue;
        size_t hn = ps_header_normalise(names[k].text + 1, names[k].len - 1, have, sizeof have);
        if (hn == wn && memcmp(want, have, wn) == 0)
            return &cells[k];
    }
    return NULL;
}

static const ps_cell *column_cell(const ps_rowfilter *rf, int col, const char *column,
                                  const ps_cell *cells, uint32_t ncells, const ps_cell *names)
{
    if (rf->records)
        return record_cell(column, cells, ncells, names);
    return (col >= 0 && (uint32_t)col < ncells) ? &cells[col] : NULL;
}

static int ascii_eq(const char *a, size_t an, const char *b, size_t bn, int ci)
{
    if (an != bn)
        return 0;
    if (!ci)
        return memcmp(a, b, an) == 0;
    for (size_t i = 0; i < an; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return 0;
    }
    return 1;
}

static void note(ps_problem *notes, int max_notes, int *nnotes, int field, const char *code,
                 const char *raw, const char *fmt, const char *a, size_t b)
{
    if (*nnotes >= max_notes)
        return;
    ps_problem *p = &notes[(*nnotes)++];
    p->field = field;
    p->code = code;
    p->raw = raw;
    snprintf(p->message, sizeof p->message, fmt, a, b);
}

ps_rf_outcome ps_rowfilter_apply(ps_rowfilter *rf, const ps_cell *cells, uint32_t ncells,
                                 const ps_cell *names, const ps_cell **by_field, ps_arena *arena,
                                 ps_problem *notes, int max_notes, int *nnotes, size_t *dropped_by)
{
    *nnotes = 0;
    *dropped_by = 0;
    size_t span[2 * (PS_REGEX_MAX_GROUPS + 1)];
    for (size_t i = 0; i < rf->nx; i++) {
        rf_extract *x = &rf->x[i];
        const ps_cell *c = column_cell(rf, x->col, x->def->column, cells, ncells, names);
        const char *s = c ? c->text : "";
        size_t len = c ? c->len : 0;
        trim(&s, &len);
        if (len == 0)
            continue; /* an empty cell fills nothing: the fields are simply absent */
        ps_regex_result m = ps_regex_match(x->re, s, len, span, x->ngroups + 1);
        if (m == PS_REGEX_NOMATCH) {
            note(notes, max_notes, nnotes, -1, "extract_no_match", c->text,
                 "column '%s' does not match the pattern of mapping.extract[%zu]; its fields "
                 "stay empty",
                 x->def->column, i);
            continue;
        }
        if (m != PS_REGEX_MATCH) {
            *nnotes = 0;
            note(notes, max_notes, nnotes, -1, "regex_limit", c->text,
                 "column '%s': the pattern of mapping.extract[%zu] hit the matching limits "
                 "(simplify it); the row is rejected",
                 x->def->column, i);
            return PS_RF_REJECT;
        }
        for (uint32_t g = 1; g <= x->ngroups; g++) {
            int f = x->group_field[g];
            if (f < 0 || span[2 * g] == SIZE_MAX)
                continue;
            size_t glen = span[2 * g + 1] - span[2 * g];
            ps_cell *nc = ps_arena_alloc(arena, sizeof *nc);
            char *t = nc ? ps_arena_strndup(arena, s + span[2 * g], glen) : NULL;
            if (!t) {
                *nnotes = 0;
                note(notes, max_notes, nnotes, f, "out_of_memory", NULL,
                     "out of memory extracting column '%s' (mapping.extract[%zu])", x->def->column,
                     i);
                return PS_RF_REJECT;
            }
            *nc = (ps_cell){t, (uint32_t)glen, PS_CELL_TEXT};
            by_field[f] = nc;
        }
    }
    for (size_t i = 0; i < rf->nf; i++) {
        rf_filter *f = &rf->f[i];
        const ps_filter_def *fd = f->def;
        const char *s = "";
        size_t len = 0;
        const ps_cell *c;
        if (fd->column) {
            c = column_cell(rf, f->col, fd->column, cells, ncells, names);
        } else {
            c = by_field[fd->field];
        }
        if (c) {
            s = c->text;
            len = c->len;
            trim(&s, &len);
        }
        if (len == 0 && !fd->column && rf->defaults && rf->defaults[fd->field]) {
            s = rf->defaults[fd->field];
            len = strlen(s);
            trim(&s, &len);
        }
        int holds = 0;
        switch (fd->op) {
        case PS_FILTER_EQUALS:
        case PS_FILTER_NOT_EQUALS:
        case PS_FILTER_IN:
        case PS_FILTER_NOT_IN:
            for (size_t k = 0; k < fd->nvalues && !holds; k++) {
                const char *v = fd->values[k];
                size_t vl = strlen(v);
                trim(&v, &vl);
                holds = ascii_eq(s, len, v, vl, fd->case_insensitive);
            }
            if (fd->op == PS_FILTER_NOT_EQUALS || fd->op == PS_FILTER_NOT_IN)
                holds = !holds;
            break;
        case PS_FILTER_MATCHES:
        case PS_FILTER_NOT_MATCHES: {
            ps_regex_result m = ps_regex_match(f->re, s, len, NULL, 0);
            if (m != PS_REGEX_MATCH && m != PS_REGEX_NOMATCH) {
                *nnotes = 0;
                note(notes, max_notes, nnotes, fd->column ? -1 : fd->field, "regex_limit",
                     c ? c->text : NULL,
                     "%s: the pattern of mapping.filters[%zu] hit the matching limits (simplify "
                     "it); the row is rejected rather than kept or dropped unchecked",
                     fd->column ? fd->column : ps_field_name(fd->field), i);
                return PS_RF_REJECT;
            }
            holds = (m == PS_REGEX_MATCH) == (fd->op == PS_FILTER_MATCHES);
            break;
        }
        }
        if (!holds) {
            *dropped_by = i;
            return PS_RF_DROP;
        }
    }
    return PS_RF_KEEP;
}

const char *ps_rowfilter_describe(const ps_rowfilter *rf, size_t i, char *buf, size_t cap)
{
    if (!rf || i >= rf->nf) {
        snprintf(buf, cap, "?");
        return buf;
    }
    const ps_filter_def *fd = rf->f[i].def;
    char vals[120];
    size_t pos = 0;
    vals[0] = '\0';
    for (size_t k = 0; k < fd->nvalues && pos + 8 < sizeof vals; k++) {
        int w = snprintf(vals + pos, sizeof vals - pos, "%s'%s'", k ? ", " : "", fd->values[k]);
        if (w < 0 || (size_t)w >= sizeof vals - pos) {
            snprintf(vals + (sizeof vals - 5), 5, "...");
            break;
        }
        pos += (size_t)w;
    }
    int list = fd->op == PS_FILTER_IN || fd->op == PS_FILTER_NOT_IN;
    snprintf(buf, cap, "%s '%s' %s %s%s%s%s", fd->column ? "column" : "field",
             fd->column ? fd->column : ps_field_name(fd->field), ps_filter_op_name(fd->op),
             list ? "[" : "", vals, list ? "]" : "", fd->case_insensitive ? " (any case)" : "");
    return buf;
}
