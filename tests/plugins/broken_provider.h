/* Shared body of the deliberately broken providers (host guard tests and the conformance
 * kit): a header of the nine required columns and one valid payment row per batch, broken
 * in one way chosen by the including file:
 *   BP_NAME (required), BP_BREAK(p, batch) - a function body statement run on each batch
 *   just before it is returned (may change p->cells, p->row, batch). */
#ifndef PS_TEST_BROKEN_PROVIDER_H
#define PS_TEST_BROKEN_PROVIDER_H

#include <stdlib.h>
#include <string.h>

#include "paysync/plugin.h"

#define BP_NCOLS 9

static const char *const bp_header_names[BP_NCOLS] = {
    "ID",          "TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE",
    "CUSTOMER_ID", "METER_ID",  "CUSTOMER_NAME",  "CUSTOMER_CATEGORY"};
static const char *const bp_values[BP_NCOLS] = {
    "B1",  "2024-03-05T14:16:01Z", "100.50", "NGN", "FULL_PAYMENT", "C1", "M1",
    "Ada", "Residential"};

typedef struct bp {
    const ps_host *host;
    const ps_options *options;
    ps_cell header[BP_NCOLS];
    ps_cell cells[BP_NCOLS];
    ps_row row;
    int calls;
} bp;

static void bp_set(ps_cell *c, const char *s)
{
    c->text = s;
    c->len = (uint32_t)strlen(s);
    c->kind = PS_CELL_TEXT;
}

static ps_status bp_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    bp *p = calloc(1, sizeof *p);
    if (!p)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    p->host = ctx->host;
    p->options = ctx->options;
    *inst = p;
    return PS_OK;
}

static void bp_destroy(void *inst)
{
    free(inst);
}

static ps_status bp_open(void *inst, const ps_open_args *args, ps_table_info *info, ps_error *err)
{
    bp *p = inst;
    (void)args;
    (void)err;
    for (int i = 0; i < BP_NCOLS; i++)
        bp_set(&p->header[i], bp_header_names[i]);
    p->calls = 0;
    info->ncolumns = BP_NCOLS;
    info->header = p->header;
    info->header_line = 1;
    info->time_zone = NULL;
    info->source_desc = BP_NAME;
    return PS_OK;
}

static ps_status bp_next(void *inst, ps_arena *arena, ps_row_batch *batch, ps_error *err)
{
    bp *p = inst;
    (void)arena;
    (void)err;
    if (p->calls++ >= 3) { /* a well-behaved end, in case the host ever lets the break pass */
        batch->count = 0;
        return PS_END;
    }
    for (int i = 0; i < BP_NCOLS; i++)
        bp_set(&p->cells[i], bp_values[i]);
    p->row.line = (uint64_t)p->calls + 1;
    p->row.ncells = BP_NCOLS;
    p->row.cells = p->cells;
    batch->count = 1;
    batch->rows = &p->row;
    BP_BREAK(p, batch);
    return PS_OK;
}

static const ps_provider_ops bp_ops = {
    .struct_size = sizeof(ps_provider_ops),
    .open = bp_open,
    .next_batch = bp_next,
    .cursor = NULL,
    .close = NULL,
};

#endif
