/* paysync core: provider protocol guards (protocol.h). */
#include "engine/protocol.h"

#include <inttypes.h>
#include <string.h>

/* NULL when c is well formed: text non-NULL and NUL at text[len]. (A NUL inside the value is
 * data - a CSV file may hold one - that the validator rejects row by row.) */
static const char *cell_problem(const ps_cell *c)
{
    if (!c->text)
        return "text is NULL";
    if (c->text[c->len] != '\0')
        return "len disagrees with the text (text[len] must be its terminating NUL)";
    return NULL;
}

ps_status ps_protocol_check_header(const char *plugin, const ps_table_info *info, ps_error *err)
{
    if (info->ncolumns > 0 && !info->header)
        return ps_error_setf(err, PS_ERR_SOURCE,
                             "protocol error: provider '%s' reported %u columns but no header",
                             plugin, info->ncolumns);
    for (uint32_t i = 0; i < info->ncolumns; i++) {
        const char *why = cell_problem(&info->header[i]);
        if (why)
            return ps_error_setf(err, PS_ERR_SOURCE,
                                 "protocol error: provider '%s' header (row %" PRIu64
                                 "), column %u: %s",
                                 plugin, info->header_line, i + 1, why);
    }
    return PS_OK;
}

ps_status ps_protocol_check_batch(const char *plugin, const ps_row_batch *rb, ps_error *err)
{
    if (rb->count == 0)
        return ps_error_setf(err, PS_ERR_SOURCE,
                             "protocol error: provider '%s' returned PS_OK with no rows (it "
                             "must return PS_END when done)",
                             plugin);
    if (!rb->rows)
        return ps_error_setf(err, PS_ERR_SOURCE,
                             "protocol error: provider '%s' returned %zu rows but rows is NULL",
                             plugin, rb->count);
    for (size_t i = 0; i < rb->count; i++) {
        const ps_row *row = &rb->rows[i];
        if (row->ncells > 0 && !row->cells)
            return ps_error_setf(err, PS_ERR_SOURCE,
                                 "protocol error: provider '%s' row %" PRIu64
                                 " has %u cells but cells is NULL",
                                 plugin, row->line, row->ncells);
        for (uint32_t c = 0; c < row->ncells; c++) {
            const char *why = cell_problem(&row->cells[c]);
            if (why)
                return ps_error_setf(err, PS_ERR_SOURCE,
                                     "protocol error: provider '%s' row %" PRIu64 ", cell %u: %s",
                                     plugin, row->line, c + 1, why);
        }
    }
    return PS_OK;
}

static int digits(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* NULL when v's text fits its type. */
static const char *value_problem(const ps_value *v)
{
    if (!v->path)
        return "path is NULL";
    if (v->path[v->path_len] != '\0' || v->path_len < 2 || v->path[0] != '/')
        return "path must start with '/' and end at path[path_len]";
    if (!v->text)
        return "text is NULL";
    if (v->text[v->len] != '\0')
        return "len disagrees with the text (text[len] must be its terminating NUL)";
    const char *s = v->text;
    size_t n = v->len;
    switch (v->type) {
    case PS_VAL_NULL:
        return n == 0 ? NULL : "a NULL value must have empty text";
    case PS_VAL_TEXT:
        return NULL;
    case PS_VAL_INT:
    case PS_VAL_DECIMAL: {
        if (n && s[0] == '-') {
            s++;
            n--;
        }
        const char *dot = v->type == PS_VAL_DECIMAL ? memchr(s, '.', n) : NULL;
        size_t ip = dot ? (size_t)(dot - s) : n;
        if (digits(s, ip) && (!dot || digits(dot + 1, n - ip - 1)))
            return NULL;
        return v->type == PS_VAL_INT
                   ? "an INT value is not -?[0-9]+"
                   : "a DECIMAL value is not exact decimal text -?[0-9]+(.[0-9]+)?";
    }
    case PS_VAL_BOOL:
        return (n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0)
                   ? NULL
                   : "a BOOL value is not true or false";
    default:
        return "type is not a ps_value_type";
    }
}

ps_status ps_protocol_check_records(const char *plugin, const ps_row_batch *rb, ps_error *err)
{
    if (rb->count == 0)
        return ps_error_setf(err, PS_ERR_SOURCE,
                             "protocol error: provider '%s' returned PS_OK with no rows (it "
                             "must return PS_END when done)",
                             plugin);
    if (!rb->records)
        return ps_error_setf(err, PS_ERR_SOURCE,
                             "protocol error: record provider '%s' returned %zu records but "
                             "records is NULL",
                             plugin, rb->count);
    for (size_t i = 0; i < rb->count; i++) {
        const ps_keyed_row *rec = &rb->records[i];
        if (rec->nvalues > 0 && !rec->values)
            return ps_error_setf(err, PS_ERR_SOURCE,
                                 "protocol error: provider '%s' record %" PRIu64
                                 " has %u values but values is NULL",
                                 plugin, rec->line, rec->nvalues);
        for (uint32_t k = 0; k < rec->nvalues; k++) {
            const ps_value *v = &rec->values[k];
            const char *why = value_problem(v);
            if (why)
                return ps_error_setf(err, PS_ERR_SOURCE,
                                     "protocol error: provider '%s' record %" PRIu64
                                     ", value %u%s%.*s%s: %s",
                                     plugin, rec->line, k + 1, v->path ? " ('" : "",
                                     v->path ? (int)(v->path_len > 80 ? 80 : v->path_len) : 0,
                                     v->path ? v->path : "", v->path ? "')" : "", why);
        }
    }
    return PS_OK;
}
