/* Test plugin: abi_minor newer than the core (refused) (loader tests). */
#define EP_NAME "newer_abi_minor"
#define EP_ABI_MINOR (PS_ABI_MINOR + 1)
#include "../empty_provider.h"

PS_PLUGIN_DEFINE(newer_abi_minor, ep_desc)
