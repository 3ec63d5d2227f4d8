/* Test plugin: a provider built for plugin ABI 1.0, whose descriptor starts with
 * uint32 abi_major = 1, uint32 abi_minor = 0, then struct_size (refused by a 2.x core with
 * both versions named) (loader tests). The 1.0 layout is spelled out here. */
#include <stddef.h>
#include <stdint.h>

#include "paysync/plugin.h"

typedef struct v1_descriptor {
    uint32_t abi_major;
    uint32_t abi_minor;
    size_t struct_size;
    const char *name;
    const char *version;
    const char *description;
    int kind;
    unsigned flags;
    const void *options;
    void *create, *check, *destroy;
    const void *provider, *sink;
} v1_descriptor;

static const v1_descriptor v1_desc = {1,
                                      0,
                                      sizeof(v1_descriptor),
                                      "bad_abi_major",
                                      "1.0",
                                      "test provider built for ABI 1.0",
                                      PS_PLUGIN_PROVIDER,
                                      0,
                                      NULL,
                                      NULL,
                                      NULL,
                                      NULL,
                                      NULL,
                                      NULL};

PS_PLUGIN_EXPORT const void *paysync_plugin_entry(void);
PS_PLUGIN_EXPORT const void *paysync_plugin_entry(void)
{
    return &v1_desc;
}
