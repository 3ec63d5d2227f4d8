/* Test plugin: option table with a duplicate name (refused) (loader tests). */
#include <stdlib.h>

#include "paysync/plugin.h"

static ps_status gp_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    (void)ctx;
    (void)err;
    *inst = malloc(1);
    return *inst ? PS_OK : PS_ERR_NOMEM;
}

static void gp_destroy(void *inst)
{
    free(inst);
}

static ps_status gp_open(void *inst, const ps_open_args *args, ps_table_info *info, ps_error *err)
{
    (void)inst;
    (void)args;
    (void)err;
    info->ncolumns = 0;
    info->header = NULL;
    info->header_line = 1;
    info->time_zone = NULL;
    info->source_desc = "nothing";
    return PS_OK;
}

static ps_status gp_next(void *inst, ps_arena *arena, ps_row_batch *batch, ps_error *err)
{
    (void)inst;
    (void)arena;
    (void)err;
    batch->count = 0;
    return PS_END;
}

static const ps_provider_ops gp_ops = {gp_open, gp_next, NULL, NULL};

static const ps_option_spec gp_options[] = {
    {"path", PS_OPT_PATH, NULL, 1, 0, "file to read"},
    {"path", PS_OPT_INT, "10", 0, 0, "rows"},
    {"header", PS_OPT_BOOL, "true", 0, 0, "has a header"},
    {"token", PS_OPT_STRING, NULL, 0, 1, "secret token"},
    {NULL, 0, NULL, 0, 0, NULL},
};

static const ps_plugin_descriptor gp_desc = {PS_ABI_MAJOR,
                                             PS_ABI_MINOR,
                                             sizeof(ps_plugin_descriptor),
                                             "bad_options",
                                             "1.0",
                                             "test provider",
                                             PS_PLUGIN_PROVIDER,
                                             0,
                                             gp_options,
                                             gp_create,
                                             NULL,
                                             gp_destroy,
                                             &gp_ops,
                                             NULL};

PS_PLUGIN_DEFINE(bad_options, gp_desc)
