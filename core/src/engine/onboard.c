/* paysync core: onboarding help (see onboard.h). */
#include "engine/onboard.h"

#include <stdlib.h>
#include <string.h>

#include "engine/mapping.h"
#include "model/field_hint.h"
#include "model/model_fields.h"
#include "util/log.h"

static int has_default(const ps_dataset_def *def, int f)
{
    for (size_t k = 0; k < def->ndefaults; k++)
        if (ps_field_lookup(def->defaults[k].key, strlen(def->defaults[k].key)) == f)
            return 1;
    return 0;
}

typedef struct hint {
    int field, col, score;
} hint;

static int hint_cmp(const void *a, const void *b)
{
    const hint *x = a, *y = b;
    if (x->score != y->score)
        return y->score - x->score;
    if (x->field != y->field)
        return x->field - y->field;
    return x->col - y->col;
}

void ps_onboard_build(const ps_dataset_def *def, const ps_cell *header, size_t ncols,
                      const int *col_field, const unsigned char *extracted, ps_onboard *out)
{
    memset(out, 0, sizeof *out);
    int filled[PS_FIELD_COUNT] = {0};
    for (size_t c = 0; col_field && c < ncols; c++)
        if (col_field[c] >= 0 && col_field[c] < PS_FIELD_COUNT)
            filled[col_field[c]] = 1;
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        out->pick[f] = -1;
        if (ps_field_required(f, def->profile) && !filled[f] && !has_default(def, f) &&
            !(extracted && extracted[f]))
            out->missing[out->nmissing++] = f;
    }
    if (out->nmissing == 0)
        return;
    hint *h = calloc(out->nmissing * ncols + 1, sizeof *h);
    size_t nh = 0;
    for (size_t m = 0; h && m < out->nmissing; m++) {
        int f = out->missing[m];
        for (size_t c = 0; c < ncols; c++) {
            if ((col_field && col_field[c] >= 0) || header[c].len == 0)
                continue;
            int s = ps_field_hint_score(f, header[c].text, header[c].len);
            if (s >= PS_FIELD_HINT_MIN)
                h[nh++] = (hint){f, (int)c, s};
        }
    }
    if (!h)
        return;
    qsort(h, nh, sizeof *h, hint_cmp);
    unsigned char *used = calloc(ncols + 1, 1);
    for (size_t i = 0; i < nh; i++) {
        int f = h[i].field;
        if (out->ncand[f] < PS_ONBOARD_HINTS)
            out->cand[f][out->ncand[f]++] = h[i].col;
        if (used && out->pick[f] < 0 && !used[h[i].col]) {
            out->pick[f] = h[i].col;
            used[h[i].col] = 1;
        }
    }
    free(used);
    free(h);
}

void ps_onboard_print_missing(FILE *out, const ps_onboard *ob, const ps_cell *header)
{
    if (ob->nmissing == 0)
        return;
    fprintf(out, "missing required fields (%zu), with the columns that look like them:\n",
            ob->nmissing);
    for (size_t m = 0; m < ob->nmissing; m++) {
        int f = ob->missing[m];
        fprintf(out, "  %-18s ", ps_field_name(f));
        if (ob->ncand[f] == 0) {
            fprintf(out,
                    "no column looks like it: map one in mapping.columns or set "
                    "mapping.defaults.%s\n",
                    ps_field_name(f));
            continue;
        }
        for (size_t i = 0; i < ob->ncand[f]; i++) {
            char letters[8];
            int c = ob->cand[f][i];
            char shown[130];
            snprintf(shown, sizeof shown, "%.*s", (int)(header[c].len < 120 ? header[c].len : 120),
                     header[c].text);
            ps_text_sanitize(shown);
            fprintf(out, "%s'%s' (column %s)?", i ? ", " : "", shown,
                    ps_column_letters((size_t)c, letters));
        }
        fputc('\n', out);
    }
}

/* s as a YAML double-quoted scalar. */
static void yaml_quoted(FILE *out, const char *s, size_t len)
{
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static int header_unique(const ps_cell *header, size_t ncols, size_t c)
{
    if (header[c].len == 0 || header[c].text[0] == '@')
        return 0;
    char a[256], b[256];
    ps_header_normalise(header[c].text, header[c].len, a, sizeof a);
    for (size_t i = 0; i < ncols; i++) {
        if (i == c)
            continue;
        ps_header_normalise(header[i].text, header[i].len, b, sizeof b);
        if (strcmp(a, b) == 0)
            return 0;
    }
    return 1;
}

void ps_onboard_print_mapping(FILE *out, const ps_dataset_def *def, const ps_cell *header,
                              size_t ncols, const ps_onboard *ob, int indent)
{
    if (indent < 0 || indent > 40)
        indent = 4;
    fprintf(out, "%*smapping:\n%*s  columns:\n", indent, "", indent, "");
    size_t ncol = 0;
    for (size_t k = 0; k < def->ncolumns; k++, ncol++) {
        fprintf(out, "%*s    ", indent, "");
        yaml_quoted(out, def->columns[k].key, strlen(def->columns[k].key));
        fprintf(out, ": %s\n", def->columns[k].value);
    }
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        int c = ob->pick[f];
        if (c < 0)
            continue;
        fprintf(out, "%*s    ", indent, "");
        if (header_unique(header, ncols, (size_t)c)) {
            yaml_quoted(out, header[c].text, header[c].len);
        } else {
            char letters[8], ref[12];
            snprintf(ref, sizeof ref, "@%s", ps_column_letters((size_t)c, letters));
            yaml_quoted(out, ref, strlen(ref));
        }
        fprintf(out, ": %s\n", ps_field_name(f));
        ncol++;
    }
    if (ncol == 0)
        fprintf(out, "%*s    # (no column to map: every field is named by its header already)\n",
                indent, "");
    int defaults = def->ndefaults > 0;
    for (size_t m = 0; m < ob->nmissing && !defaults; m++)
        defaults = ob->pick[ob->missing[m]] < 0;
    if (defaults)
        fprintf(out, "%*s  defaults:\n", indent, "");
    for (size_t k = 0; k < def->ndefaults; k++) {
        fprintf(out, "%*s    %s: ", indent, "", def->defaults[k].key);
        yaml_quoted(out, def->defaults[k].value, strlen(def->defaults[k].value));
        fputc('\n', out);
    }
    for (size_t m = 0; m < ob->nmissing; m++)
        if (ob->pick[ob->missing[m]] < 0)
            fprintf(out, "%*s    # %s: \"...\"   (no column found: map one above or set a value)\n",
                    indent, "", ps_field_name(ob->missing[m]));
    char others[200] = "";
    size_t n = 0;
#define OTHER(cond, name)                                                                          \
    if (cond)                                                                                      \
    n += (size_t)snprintf(others + n, n < sizeof others ? sizeof others - n : 0, "%s%s",           \
                          n ? ", " : "", name)
    OTHER(def->n_ts_formats || def->utc_offset || def->time_zone, "timestamp");
    OTHER(def->ntxtype_aliases, "transaction_types");
    OTHER(def->phone_country_code, "phone_country_code");
    OTHER(def->country, "country");
    OTHER(def->nextracts, "extract");
    OTHER(def->nfilters, "filters");
#undef OTHER
    if (n)
        fprintf(out, "%*s  # keep the dataset's other mapping keys as they are: %s\n", indent, "",
                others);
}
