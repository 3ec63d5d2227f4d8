/* Test plugin: option table with a duplicate name (refused) (loader tests). */
#include "paysync/plugin.h"

static const ps_option_spec bad_options_table[] = {
    {.name = "path", .type = PS_OPT_PATH, .required = 1, .description = "file to read"},
    {.name = "path", .type = PS_OPT_INT, .default_value = "10", .description = "rows"},
    {.name = "header", .type = PS_OPT_BOOL, .default_value = "true", .description = "has a header"},
    {.name = "token", .type = PS_OPT_STRING, .secret = 1, .description = "secret token"},
    {0},
};

#define EP_NAME "bad_options"
#define EP_OPTIONS bad_options_table
#include "../empty_provider.h"

PS_PLUGIN_DEFINE(bad_options, ep_desc)
