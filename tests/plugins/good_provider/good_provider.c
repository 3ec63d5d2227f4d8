/* Test plugin: a well-formed provider yielding no rows (loader tests). */
#define EP_NAME "good_provider"
#include "../empty_provider.h"

PS_PLUGIN_DEFINE(good_provider, ep_desc)
