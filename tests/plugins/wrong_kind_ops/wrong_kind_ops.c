/* Test plugin: a provider without its ops table (refused) (loader tests). */
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

static const ps_option_spec gp_options[] = {
    {"path", PS_OPT_PATH, NULL, 1, 0, "file to read"},
    {"limit", PS_OPT_INT, "10", 0, 0, "rows"},
    {"header", PS_OPT_BOOL, "true", 0, 0, "has a header"},
    {"token", PS_OPT_STRING, NULL, 0, 1, "secret token"},
    {NULL, 0, NULL, 0, 0, NULL},
};

static const ps_plugin_descriptor gp_desc = {PS_ABI_MAJOR,
                                             PS_ABI_MINOR,
                                             sizeof(ps_plugin_descriptor),
                                             "wrong_kind_ops",
                                             "1.0",
                                             "test provider",
                                             PS_PLUGIN_PROVIDER,
                                             0,
                                             gp_options,
                                             gp_create,
                                             NULL,
                                             gp_destroy,
                                             NULL,
                                             NULL};

PS_PLUGIN_DEFINE(wrong_kind_ops, gp_desc)
