/* paysync store: see store_kind.h. The list matches the backends of store_api.c (a unit test
 * checks both ways). */
#include "store/store_kind.h"

#include <stddef.h>
#include <string.h>

static const char *const kinds[] = {PS_SQLITE_PLUGIN, PS_POSTGRES_PLUGIN};

int ps_store_kind_known(const char *plugin)
{
    for (size_t i = 0; plugin && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i], plugin) == 0)
            return 1;
    return 0;
}

const char *ps_store_kinds(void)
{
    return PS_SQLITE_PLUGIN " or " PS_POSTGRES_PLUGIN;
}
