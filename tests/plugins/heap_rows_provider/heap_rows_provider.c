/* Broken test plugin: builds each batch's rows with malloc instead of the arena paysync passes,
 * and keeps them until destroy: 100 batches of 1 MiB, so its memory grows with the source
 * (the conformance kit's "arena use only" check fails it). The rows themselves are valid. */
#include <stdlib.h>
#include <string.h>

#include "paysync/plugin.h"

#define HR_NCOLS 9
#define HR_BATCHES 100
#define HR_CHUNK ((size_t)1 << 20)

static const char *const hr_header_names[HR_NCOLS] = {
    "ID",          "TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE",
    "CUSTOMER_ID", "METER_ID",  "CUSTOMER_NAME",  "CUSTOMER_CATEGORY"};
static const char *const hr_values[HR_NCOLS] = {
    "H1",  "2024-03-05T14:16:01Z", "100.50", "NGN", "FULL_PAYMENT", "C1", "M1",
    "Ada", "Residential"};

typedef struct hr {
    ps_cell header[HR_NCOLS];
    char *chunks[HR_BATCHES]; /* one malloc'd block per batch, freed only in destroy */
    int batches;
} hr;

static void hr_set(ps_cell *c, const char *s)
{
    c->text = s;
    c->len = (uint32_t)strlen(s);
    c->kind = PS_CELL_TEXT;
}

static ps_status hr_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    (void)ctx;
    hr *p = calloc(1, sizeof *p);
    if (!p)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    *inst = p;
    return PS_OK;
}

static void hr_destroy(void *inst)
{
    hr *p = inst;
    for (int i = 0; i < p->batches; i++)
        free(p->chunks[i]);
    free(p);
}

static ps_status hr_open(void *inst, const ps_open_args *args, ps_table_info *info, ps_error *err)
{
    hr *p = inst;
    (void)args;
    (void)err;
    for (int i = 0; i < HR_NCOLS; i++)
        hr_set(&p->header[i], hr_header_names[i]);
    info->ncolumns = HR_NCOLS;
    info->header = p->header;
    info->header_line = 1;
    info->source_desc = "heap rows";
    return PS_OK;
}

static ps_status hr_next(void *inst, ps_arena *arena, ps_row_batch *batch, ps_error *err)
{
    hr *p = inst;
    (void)arena; /* the break: rows come from malloc */
    if (p->batches == HR_BATCHES)
        return PS_END;
    char *chunk = malloc(HR_CHUNK);
    if (!chunk)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    memset(chunk, 0, HR_CHUNK); /* touch it: the heap really holds it */
    p->chunks[p->batches++] = chunk;
    ps_row *row = (ps_row *)(void *)chunk;
    ps_cell *cells = (ps_cell *)(void *)(chunk + sizeof(ps_row) * 2);
    for (int i = 0; i < HR_NCOLS; i++)
        hr_set(&cells[i], i == 0 ? "H1" : hr_values[i]);
    row->line = (uint64_t)p->batches + 1;
    row->ncells = HR_NCOLS;
    row->cells = cells;
    batch->count = 1;
    batch->rows = row;
    return PS_OK;
}

static const ps_provider_ops hr_ops = {
    .struct_size = sizeof(ps_provider_ops),
    .open = hr_open,
    .next_batch = hr_next,
};

static const ps_option_spec hr_options[] = {
    {0},
};

static const ps_plugin_descriptor hr_desc = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .name = "heap_rows_provider",
    .version = "1.0",
    .description = "broken test provider: rows from malloc, not the batch arena",
    .kind = PS_PLUGIN_PROVIDER,
    .options = hr_options,
    .option_spec_size = sizeof(ps_option_spec),
    .create = hr_create,
    .destroy = hr_destroy,
    .provider = &hr_ops,
};

PS_PLUGIN_DEFINE(heap_rows_provider, hr_desc)
