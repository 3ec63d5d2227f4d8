/* Test plugin: no entry function (refused) (loader tests). */
#define EP_NAME "no_entry"
#include "../empty_provider.h"

PS_PLUGIN_EXPORT const ps_plugin_descriptor *not_the_entry(void);
PS_PLUGIN_EXPORT const ps_plugin_descriptor *not_the_entry(void)
{
    return &ep_desc;
}
