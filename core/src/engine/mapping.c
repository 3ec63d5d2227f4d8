/* paysync core: header -> field mapping. */
#include "engine/mapping.h"

#include <stdlib.h>
#include <string.h>

#include "model/model_fields.h"
#include "model/space.h"

#define HDR_MAX 256

int ps_mapping_match(const ps_mapping_spec *spec, const char *name, size_t len)
{
    char norm[HDR_MAX];
    size_t n = ps_header_normalise(name, len, norm, sizeof norm);
    if (n == 0)
        return -1;
    if (spec) {
        for (size_t i = 0; i < spec->n_aliases; i++) {
            char a[HDR_MAX];
            const char *h = spec->alias_header[i];
            size_t col;
            if (ps_column_ref(h, &col) != 0)
                continue; /* a column reference, not a header name */
            if (h[0] == '@')
                h++; /* "@@x" names the header "@x" */
            size_t an = ps_header_normalise(h, strlen(h), a, sizeof a);
            if (an == n && memcmp(a, norm, n) == 0)
                return spec->alias_field[i];
        }
    }
    return ps_field_lookup(name, len);
}

const char *ps_column_letters(size_t index, char *buf)
{
    char tmp[8];
    size_t n = 0;
    index += 1;
    while (index > 0 && n < sizeof tmp) {
        size_t rem = (index - 1) % 26;
        tmp[n++] = (char)('A' + rem);
        index = (index - 1) / 26;
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return buf;
}

void ps_mapping_free(ps_mapping *m)
{
    if (!m)
        return;
    free(m->col_field);
    for (size_t i = 0; i < m->nunknown; i++)
        free(m->unknown[i]);
    free(m->unknown);
    memset(m, 0, sizeof *m);
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        m->field_col[f] = -1;
}

ps_status ps_mapping_build(const ps_mapping_spec *spec, const ps_cell *header, size_t ncols,
                           ps_mapping *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        out->field_col[f] = -1;
    out->col_field = calloc(ncols ? ncols : 1, sizeof *out->col_field);
    out->unknown = calloc(ncols ? ncols : 1, sizeof *out->unknown);
    if (!out->col_field || !out->unknown) {
        ps_mapping_free(out);
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory building the column map");
    }
    out->ncols = ncols;
    for (size_t c = 0; c < ncols; c++)
        out->col_field[c] = -1;
    /* columns mapped by letter or position first: their header does not matter */
    for (size_t i = 0; spec && i < spec->n_aliases; i++) {
        size_t c;
        if (ps_column_ref(spec->alias_header[i], &c) != 1)
            continue;
        int f = spec->alias_field[i];
        char l1[8], l2[8];
        if (out->field_col[f] >= 0 || (c < ncols && out->col_field[c] >= 0)) {
            ps_status st = ps_error_setf(
                err, PS_ERR_DATA,
                out->field_col[f] >= 0 ? "mapping.columns maps columns %s and %s both to field %s"
                                       : "mapping.columns maps column %s twice (%s)",
                ps_column_letters(out->field_col[f] >= 0 ? (size_t)out->field_col[f] : c, l1),
                out->field_col[f] >= 0 ? ps_column_letters(c, l2) : spec->alias_header[i],
                ps_field_name(f));
            ps_mapping_free(out);
            return st;
        }
        out->field_col[f] = (int)c;
        if (c < ncols)
            out->col_field[c] = f;
    }
    for (size_t c = 0; c < ncols; c++) {
        if (out->col_field[c] >= 0 || ps_text_is_blank(header[c].text, header[c].len))
            continue;
        int f = ps_mapping_match(spec, header[c].text, header[c].len);
        if (f < 0) {
            out->unknown[out->nunknown] = strndup(header[c].text, header[c].len);
            if (!out->unknown[out->nunknown]) {
                ps_mapping_free(out);
                return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
            }
            out->nunknown++;
            continue;
        }
        if (out->field_col[f] >= 0) {
            char l1[8], l2[8], l3[8];
            int first = out->field_col[f];
            ps_status st = ps_error_setf(
                err, PS_ERR_DATA,
                "columns '%s' (column %s) and '%s' (column %s) both map to field %s; remove one, "
                "or tell them apart by column letter or position in mapping.columns, e.g. "
                "{\"@%s\": %s, \"@%s\": NOTES}",
                (size_t)first < ncols ? header[first].text : "",
                ps_column_letters((size_t)first, l1), header[c].text, ps_column_letters(c, l2),
                ps_field_name(f), ps_column_letters((size_t)first, l3), ps_field_name(f), l2);
            ps_mapping_free(out);
            return st;
        }
        out->field_col[f] = (int)c;
        out->col_field[c] = f;
    }
    ps_profile profile = spec ? spec->profile : PS_PROFILE_STANDARD;
    for (int f = 0; f < PS_FIELD_COUNT; f++) {
        if (out->field_col[f] >= 0 || !ps_field_required(f, profile))
            continue;
        if (spec && spec->defaults && spec->defaults[f])
            continue;
        if (spec && spec->provided && spec->provided[f])
            continue;
        char seen[600];
        size_t pos = 0;
        seen[0] = '\0';
        for (size_t c = 0; c < ncols && pos + 4 < sizeof seen; c++) {
            int w = snprintf(seen + pos, sizeof seen - pos, "%s'%s'", c ? ", " : "", header[c].text);
            if (w < 0 || (size_t)w >= sizeof seen - pos) {
                snprintf(seen + (sizeof seen - 5), 5, "...");
                break;
            }
            pos += (size_t)w;
        }
        ps_status st = ps_error_setf(
            err, PS_ERR_DATA,
            "required field %s has no column and no default (header: %s); add the column, map "
            "one with mapping.columns, or set mapping.defaults.%s",
            ps_field_name(f), ncols ? seen : "(empty)", ps_field_name(f));
        ps_mapping_free(out);
        return st;
    }
    return PS_OK;
}

/* ---- record keys ------------------------------------------------------------------------ */

int ps_mapping_match_path(const ps_mapping_spec *spec, const char *path, size_t len)
{
    if (len < 2 || path[0] != '/')
        return -1;
    if (spec) {
        for (size_t i = 0; i < spec->n_aliases; i++) {
            const char *h = spec->alias_header[i];
            if (h[0] == '/' && strlen(h) == len && memcmp(h, path, len) == 0)
                return spec->alias_field[i];
        }
    }
    if (memchr(path + 1, '/', len - 1) || memchr(path + 1, '~', len - 1))
        return -1; /* nested (or escaped) keys map only through mapping.columns */
    return ps_mapping_match(spec, path + 1, len - 1);
}

typedef struct path_slot {
    char *path; /* NULL = empty */
    size_t len;
    int field;
} path_slot;

struct ps_path_map {
    const ps_mapping_spec *spec;
    path_slot slots[2 * PS_PATH_CACHE_MAX]; /* open addressing, at most half full */
    size_t used;
    char *unknown[PS_PATH_UNKNOWN_MAX];
    size_t nunknown;
};

ps_path_map *ps_path_map_new(const ps_mapping_spec *spec)
{
    ps_path_map *m = calloc(1, sizeof *m);
    if (m)
        m->spec = spec;
    return m;
}

void ps_path_map_free(ps_path_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < 2 * PS_PATH_CACHE_MAX; i++)
        free(m->slots[i].path);
    for (size_t i = 0; i < m->nunknown; i++)
        free(m->unknown[i]);
    free(m);
}

static size_t path_hash(const char *s, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
    return (size_t)(h ^ (h >> 29));
}

int ps_path_map_field(ps_path_map *m, const char *path, size_t len)
{
    const size_t cap = 2 * PS_PATH_CACHE_MAX;
    size_t i = path_hash(path, len) & (cap - 1);
    for (; m->slots[i].path; i = (i + 1) & (cap - 1))
        if (m->slots[i].len == len && memcmp(m->slots[i].path, path, len) == 0)
            return m->slots[i].field;
    int f = ps_mapping_match_path(m->spec, path, len);
    if (m->used < PS_PATH_CACHE_MAX) {
        char *copy = strndup(path, len);
        if (copy) {
            m->slots[i] = (path_slot){copy, len, f};
            m->used++;
            if (f < 0 && m->nunknown < PS_PATH_UNKNOWN_MAX &&
                (m->unknown[m->nunknown] = strndup(path, len)))
                m->nunknown++;
        }
    }
    return f;
}

char **ps_path_map_take_unknown(ps_path_map *m, size_t *n)
{
    *n = 0;
    if (!m || m->nunknown == 0)
        return NULL;
    char **out = calloc(m->nunknown, sizeof *out);
    if (!out)
        return NULL;
    memcpy(out, m->unknown, m->nunknown * sizeof *out);
    *n = m->nunknown;
    m->nunknown = 0;
    return out;
}
