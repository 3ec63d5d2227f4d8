/* Test plugin: a provider without its ops table (refused) (loader tests). */
#define EP_NAME "wrong_kind_ops"
#define EP_NO_OPS
#include "../empty_provider.h"

PS_PLUGIN_DEFINE(wrong_kind_ops, ep_desc)
