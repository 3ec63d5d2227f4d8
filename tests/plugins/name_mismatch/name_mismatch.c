/* Test plugin: descriptor name differs from the file name (refused) (loader tests). */
#define EP_NAME "other_name"
#include "../empty_provider.h"

PS_PLUGIN_DEFINE(name_mismatch, ep_desc)
