/* paysync provider "sdkdemo": the smallest out-of-tree provider, built against an installed
 * paysync by tests/integration/test_sdk.sh (once with find_package, once with pkg-config).
 * It yields the three payments of a fixed table, in one batch. */
#include <stdlib.h>

#include <paysync/plugin.h>

#define NCOLS 9
#define NROWS 3

static const ps_cell header[NCOLS] = {
    {"ID", 2, PS_CELL_TEXT},
    {"TIMESTAMP", 9, PS_CELL_TEXT},
    {"PAYMENT_AMOUNT", 14, PS_CELL_TEXT},
    {"PAYMENT_CURRENCY", 16, PS_CELL_TEXT},
    {"TRANSACTION_TYPE", 16, PS_CELL_TEXT},
    {"CUSTOMER_ID", 11, PS_CELL_TEXT},
    {"METER_ID", 8, PS_CELL_TEXT},
    {"CUSTOMER_NAME", 13, PS_CELL_TEXT},
    {"CUSTOMER_CATEGORY", 17, PS_CELL_TEXT},
};

static const ps_cell cells[NROWS][NCOLS] = {
    {{"SDK-1", 5, 0},
     {"2024-03-05T14:16:01Z", 20, 0},
     {"1500.50", 7, PS_CELL_NUMBER},
     {"NGN", 3, 0},
     {"FULL_PAYMENT", 12, 0},
     {"C1", 2, 0},
     {"M1", 2, 0},
     {"Amina", 5, 0},
     {"Residential", 11, 0}},
    {{"SDK-2", 5, 0},
     {"2024-03-06T09:00:00Z", 20, 0},
     {"200", 3, PS_CELL_NUMBER},
     {"NGN", 3, 0},
     {"FULL_PAYMENT", 12, 0},
     {"C2", 2, 0},
     {"M2", 2, 0},
     {"Bola", 4, 0},
     {"Residential", 11, 0}},
    {{"SDK-3", 5, 0},
     {"2024-03-07T18:30:00Z", 20, 0},
     {"75.25", 5, PS_CELL_NUMBER},
     {"NGN", 3, 0},
     {"FULL_PAYMENT", 12, 0},
     {"C3", 2, 0},
     {"M3", 2, 0},
     {"Chidi", 5, 0},
     {"Residential", 11, 0}},
};

typedef struct demo {
    ps_row rows[NROWS];
    int done;
} demo;

static ps_status demo_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    (void)ctx;
    demo *d = calloc(1, sizeof *d);
    if (!d)
        return ps_error_setf(err, PS_ERR_NOMEM, "sdkdemo: out of memory");
    for (int i = 0; i < NROWS; i++)
        d->rows[i] = (ps_row){.line = (uint64_t)i + 2, .ncells = NCOLS, .cells = cells[i]};
    *inst = d;
    return PS_OK;
}

static void demo_destroy(void *inst)
{
    free(inst);
}

static ps_status demo_open(void *inst, const ps_open_args *args, ps_table_info *info, ps_error *err)
{
    (void)args;
    (void)err;
    ((demo *)inst)->done = 0;
    info->ncolumns = NCOLS;
    info->header = header;
    info->header_line = 1;
    info->time_zone = NULL;
    info->source_desc = "three fixed payments";
    return PS_OK;
}

static ps_status demo_next(void *inst, ps_arena *arena, ps_row_batch *batch, ps_error *err)
{
    (void)arena;
    (void)err;
    demo *d = inst;
    if (d->done)
        return PS_END;
    batch->rows = d->rows;
    batch->count = NROWS;
    d->done = 1;
    return PS_OK;
}

static const ps_provider_ops demo_ops = {
    .struct_size = sizeof(ps_provider_ops), .open = demo_open, .next_batch = demo_next};

static const ps_plugin_descriptor demo_desc = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .name = "sdkdemo",
    .version = "1.0",
    .description = "three fixed payments (SDK test)",
    .kind = PS_PLUGIN_PROVIDER,
    .create = demo_create,
    .destroy = demo_destroy,
    .provider = &demo_ops,
};

PS_PLUGIN_DEFINE(sdkdemo, demo_desc)
