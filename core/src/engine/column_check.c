/* paysync core: the column_missing check (column_check.h). */
#include "engine/column_check.h"

#include <string.h>

#include "paysync/model.h"

size_t ps_columns_missing(const ps_mapping_spec *spec, const char *const *prev, size_t nprev,
                          const ps_mapping *cur, const char **missing, int *fields)
{
    size_t n = 0;
    unsigned char seen[PS_FIELD_COUNT] = {0};
    for (size_t i = 0; i < nprev; i++) {
        if (!prev[i])
            continue;
        int f = ps_mapping_match(spec, prev[i], strlen(prev[i]));
        if (f < 0 || f >= PS_FIELD_COUNT || seen[f] || cur->field_col[f] >= 0)
            continue;
        seen[f] = 1;
        missing[n] = prev[i];
        fields[n] = f;
        n++;
    }
    return n;
}
