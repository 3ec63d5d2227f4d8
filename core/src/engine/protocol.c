/* paysync core: provider protocol guards (protocol.h). */
#include "engine/protocol.h"

#include <inttypes.h>

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
