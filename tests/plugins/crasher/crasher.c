/* Test plugin: a provider whose next_batch calls abort() (daemon crash-isolation tests).
 * open succeeds with a header naming every required field, so the run reaches next_batch. */
#include <stdlib.h>

#include "paysync/plugin.h"

static const char *const header_names[] = {
    "ID",          "TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE",
    "CUSTOMER_ID", "METER_ID",  "CUSTOMER_NAME",  "CUSTOMER_CATEGORY"};
#define NCOLS (sizeof header_names / sizeof header_names[0])

static ps_cell header[NCOLS];

static ps_status cr_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    (void)ctx;
    (void)err;
    *inst = malloc(1);
    return *inst ? PS_OK : PS_ERR_NOMEM;
}

static void cr_destroy(void *inst)
{
    free(inst);
}

static ps_status cr_open(void *inst, const ps_open_args *args, ps_table_info *info, ps_error *err)
{
    (void)inst;
    (void)args;
    (void)err;
    for (size_t i = 0; i < NCOLS; i++) {
        const char *s = header_names[i];
        uint32_t n = 0;
        while (s[n])
            n++;
        header[i].text = s;
        header[i].len = n;
        header[i].kind = PS_CELL_TEXT;
    }
    info->ncolumns = (uint32_t)NCOLS;
    info->header = header;
    info->header_line = 1;
    info->time_zone = NULL;
    info->source_desc = "crasher (aborts on the first batch)";
    return PS_OK;
}

static ps_status cr_next(void *inst, ps_arena *arena, ps_row_batch *batch, ps_error *err)
{
    (void)inst;
    (void)arena;
    (void)batch;
    (void)err;
    abort();
}

static const ps_provider_ops cr_ops = {.struct_size = sizeof(ps_provider_ops),
                                       .open = cr_open,
                                       .next_batch = cr_next,
                                       .cursor = NULL,
                                       .close = NULL};

static const ps_option_spec cr_options[] = {
    {0},
};

static const ps_plugin_descriptor cr_desc = {sizeof(ps_plugin_descriptor),
                                             PS_ABI_MAJOR,
                                             PS_ABI_MINOR,
                                             "crasher",
                                             "1.0",
                                             "test provider that aborts in next_batch",
                                             PS_PLUGIN_PROVIDER,
                                             0,
                                             cr_options,
                                             cr_create,
                                             NULL,
                                             cr_destroy,
                                             &cr_ops,
                                             NULL,
                                             sizeof(ps_option_spec)};

PS_PLUGIN_DEFINE(crasher, cr_desc)
