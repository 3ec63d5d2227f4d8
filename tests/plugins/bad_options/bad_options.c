/* Test plugin: option table with a duplicate name (refused) (loader tests). */
#include "paysync/plugin.h"

static const ps_option_spec bad_options_table[] = {
    {"path", PS_OPT_PATH, NULL, 1, 0, "file to read"},
    {"path", PS_OPT_INT, "10", 0, 0, "rows"},
    {"header", PS_OPT_BOOL, "true", 0, 0, "has a header"},
    {"token", PS_OPT_STRING, NULL, 0, 1, "secret token"},
    {NULL, 0, NULL, 0, 0, NULL},
};

#define EP_NAME "bad_options"
#define EP_OPTIONS bad_options_table
#include "../empty_provider.h"

PS_PLUGIN_DEFINE(bad_options, ep_desc)
