/* Fuzz target: what a record-shaped provider hands the host (core/src/engine/protocol.c:
 * ps_protocol_check_records) and the key-path mapping (core/src/engine/mapping.c). Input: lines
 * "T<path>\t<text>", T the value's type byte ('0'..'4'; anything else is a bad type). */
#include <stdlib.h>
#include <string.h>

#include "engine/mapping.h"
#include "engine/protocol.h"
#include "fuzz.h"

#define MAX_VALUES 64

static const char *const alias_header[] = {"/customer/phone", "Amount (NGN)", "/a~1b/0"};
static const int alias_field[] = {PS_F_CUSTOMER_PHONE, PS_F_PAYMENT_AMOUNT, PS_F_NOTES};
static const ps_mapping_spec spec = {.alias_header = alias_header,
                                     .alias_field = alias_field,
                                     .n_aliases = 3,
                                     .profile = PS_PROFILE_STANDARD};

int PS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PS_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    ps_value v[MAX_VALUES];
    uint32_t n = 0;
    char *p = buf, *end = buf + size;
    while (p < end && n < MAX_VALUES) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl ? nl : end;
        *line_end = '\0';
        if (line_end > p) {
            char *tab = memchr(p + 1, '\t', (size_t)(line_end - p - 1));
            char *path = p + 1, *text = tab ? tab + 1 : line_end;
            if (tab)
                *tab = '\0';
            v[n].type = (uint8_t)(p[0] - '0');
            v[n].path = path;
            v[n].path_len = (uint32_t)strlen(path);
            v[n].text = text;
            v[n].len = (uint32_t)strlen(text);
            n++;
        }
        p = line_end + 1;
    }
    ps_keyed_row row = {1, n, v};
    ps_row_batch b = {.struct_size = sizeof b, .count = 1, .records = &row};
    ps_error err = {0};
    ps_status st = ps_protocol_check_records("fuzz", &b, &err);
    PS_FUZZ_CHECK(st == PS_OK || (st == PS_ERR_SOURCE && strstr(err.message, "protocol error")));
    ps_path_map *m = ps_path_map_new(&spec);
    if (m) {
        for (int round = 0; round < 2; round++)
            for (uint32_t i = 0; i < n; i++) {
                int f = ps_path_map_field(m, v[i].path, v[i].path_len);
                PS_FUZZ_CHECK(f >= -1 && f < PS_FIELD_COUNT);
                PS_FUZZ_CHECK(f == ps_mapping_match_path(&spec, v[i].path, v[i].path_len));
                if (f >= 0)
                    PS_FUZZ_CHECK(v[i].path[0] == '/');
            }
        size_t nu = 0;
        char **unknown = ps_path_map_take_unknown(m, &nu);
        PS_FUZZ_CHECK(nu <= PS_PATH_UNKNOWN_MAX && nu <= n);
        for (size_t i = 0; i < nu; i++)
            free(unknown[i]);
        free(unknown);
        ps_path_map_free(m);
    }
    free(buf);
    return 0;
}
