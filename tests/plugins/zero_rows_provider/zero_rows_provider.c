/* Broken test plugin: next_batch returns PS_OK with count 0 (it must return PS_END). A host
 * that looped on it would spin for ever; paysync fails the dataset with a protocol error. */
#define BP_NAME "zero_rows_provider"
#define BP_BREAK(p, batch) ((void)(p), (batch)->count = 0, (batch)->rows = NULL)
#include "../broken_provider.h"

static const ps_option_spec zr_options[] = {
    {0},
};

static const ps_plugin_descriptor zr_desc = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .name = "zero_rows_provider",
    .version = "1.0",
    .description = "broken test provider: PS_OK with no rows",
    .kind = PS_PLUGIN_PROVIDER,
    .options = zr_options,
    .option_spec_size = sizeof(ps_option_spec),
    .create = bp_create,
    .destroy = bp_destroy,
    .provider = &bp_ops,
};

PS_PLUGIN_DEFINE(zero_rows_provider, zr_desc)
