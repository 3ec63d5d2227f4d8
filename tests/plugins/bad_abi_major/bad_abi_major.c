/* Test plugin: abi_major 2 (refused) (loader tests). */
#define EP_NAME "bad_abi_major"
#define EP_ABI_MAJOR 2
#include "../empty_provider.h"

PS_PLUGIN_DEFINE(bad_abi_major, ep_desc)
