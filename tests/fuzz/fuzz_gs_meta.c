/* Fuzz target: spreadsheet metadata JSON and tab selection of plugins/gsheet (gs_meta.c).
 * Input: "SHEET\n" (the `sheet` option; may be empty) then the metadata JSON. */
#include <jansson.h>
#include <string.h>

#include "../../plugins/gsheet/gs_meta.h"
#include "fuzz.h"

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    if (!nl)
        return 0;
    size_t slen = (size_t)(nl - (const char *)data);
    char *sheet = malloc(slen + 1);
    PS_FUZZ_CHECK(sheet);
    memcpy(sheet, data, slen);
    sheet[slen] = '\0';
    json_t *root = json_loadb(nl + 1, size - slen - 1, 0, NULL);
    if (!root) {
        free(sheet);
        return 0;
    }
    ps_gs_meta m;
    ps_error err;
    memset(&m, 0, sizeof m);
    if (ps_gs_meta_from_json(root, &m, &err) == PS_OK) {
        const ps_gs_tab *t = NULL;
        int64_t gid = slen ? (int64_t)(unsigned char)sheet[0] - 64 : -1;
        ps_status st = ps_gs_meta_pick(&m, sheet, gid, &t, &err);
        if (st == PS_OK)
            PS_FUZZ_CHECK(t && t >= m.tabs && t < m.tabs + m.ntabs);
        else
            PS_FUZZ_CHECK(err.message[0]);
        st = ps_gs_meta_pick(&m, NULL, -1, &t, &err);
        if (st == PS_OK)
            PS_FUZZ_CHECK(t && t->grid);
        char *list = ps_gs_meta_tab_list(&m);
        PS_FUZZ_CHECK(list);
        free(list);
        ps_gs_meta_free(&m);
    } else {
        PS_FUZZ_CHECK(err.message[0]);
        ps_gs_meta_free(&m);
    }
    json_decref(root);
    free(sheet);
    return 0;
}
