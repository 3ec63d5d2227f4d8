/* Shared body of the loader's test plugins: a provider that yields no rows. A test plugin
 * defines what it breaks, then includes this file:
 *   EP_NAME (required), EP_ABI_MAJOR, EP_ABI_MINOR, EP_OPTIONS (an option table),
 *   EP_NO_OPS (no provider ops table), EP_NO_ENTRY (export another symbol instead). */
#ifndef PS_TEST_EMPTY_PROVIDER_H
#define PS_TEST_EMPTY_PROVIDER_H

#include <stdlib.h>

#include "paysync/plugin.h"

#ifndef EP_ABI_MAJOR
#define EP_ABI_MAJOR PS_ABI_MAJOR
#endif
#ifndef EP_ABI_MINOR
#define EP_ABI_MINOR PS_ABI_MINOR
#endif

static ps_status ep_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    (void)ctx;
    (void)err;
    *inst = malloc(1);
    return *inst ? PS_OK : PS_ERR_NOMEM;
}

static void ep_destroy(void *inst)
{
    free(inst);
}

#ifndef EP_NO_OPS
static ps_status ep_open(void *inst, const ps_open_args *args, ps_table_info *info, ps_error *err)
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

static ps_status ep_next(void *inst, ps_arena *arena, ps_row_batch *batch, ps_error *err)
{
    (void)inst;
    (void)arena;
    (void)err;
    batch->count = 0;
    return PS_END;
}

static const ps_provider_ops ep_ops = {.struct_size = sizeof(ps_provider_ops),
                                       .open = ep_open,
                                       .next_batch = ep_next,
                                       .cursor = NULL,
                                       .close = NULL};
#define EP_OPS_PTR (&ep_ops)
#else
#define EP_OPS_PTR NULL
#endif

#ifndef EP_OPTIONS
static const ps_option_spec ep_options[] = {
    {.name = "path", .type = PS_OPT_PATH, .required = 1, .description = "file to read"},
    {.name = "limit", .type = PS_OPT_INT, .default_value = "10", .description = "rows"},
    {.name = "header", .type = PS_OPT_BOOL, .default_value = "true", .description = "has a header"},
    {.name = "token", .type = PS_OPT_STRING, .secret = 1, .description = "secret token"},
    {0},
};
#define EP_OPTIONS ep_options
#endif

static const ps_plugin_descriptor ep_desc = {sizeof(ps_plugin_descriptor),
                                             EP_ABI_MAJOR,
                                             EP_ABI_MINOR,
                                             EP_NAME,
                                             "1.0",
                                             "test provider",
                                             PS_PLUGIN_PROVIDER,
                                             0,
                                             EP_OPTIONS,
                                             ep_create,
                                             NULL,
                                             ep_destroy,
                                             EP_OPS_PTR,
                                             NULL,
                                             sizeof(ps_option_spec)};

#endif
