/* Broken test plugin: a row whose cell 3 has text NULL (break: text, the default). Other
 * breaks of the same contract: `len` (cell 3's len larger than its text), `rows` (count 1 with
 * rows NULL): paysync fails the dataset with a protocol error naming the plugin and row. And
 * `flags`: a row flagged PS_ROWF_PLAIN whose cell 8 holds quotes, and `ascii`: a row flagged
 * PS_ROWF_ASCII | PS_ROWF_NO_NUL whose cell 8 holds a non-ASCII letter, which the core takes on
 * trust (docs/plugin-abi.md) and `paysync test-plugin` refuses. */
#include <string.h>

#include "paysync/plugin.h"

#define BP_NAME "null_cell_provider"
#define BP_BREAK(p, batch) nc_break(p, batch)
struct bp;
static void nc_break(struct bp *p, ps_row_batch *batch);
#include "../broken_provider.h"

static void nc_break(struct bp *p, ps_row_batch *batch)
{
    const char *how = p->host->opt_string(p->options, "break");
    if (!how || strcmp(how, "text") == 0) {
        p->cells[2].text = NULL;
    } else if (strcmp(how, "len") == 0) {
        /* "100.50" claimed as 8 bytes: text[len] is not its NUL. The bytes after the NUL
         * belong to the same array, so the host's check reads inside it (a len running off
         * the end of the text's memory could not be checked without reading out of bounds;
         * ASan builds would rightly stop there). */
        static const char longer[] = "100.50\0xy";
        p->cells[2].text = longer;
        p->cells[2].len = 8;
    } else if (strcmp(how, "flags") == 0) {
        /* a quote in CUSTOMER_NAME, yet the row is flagged plain (ABI 2.5) */
        static const uint8_t plain[1] = {PS_ROWF_PLAIN};
        p->cells[7].text = "Ada \"Lovelace\"";
        p->cells[7].len = (uint32_t)strlen(p->cells[7].text);
        if (PS_HAS_MEMBER(ps_row_batch, row_flags, batch->struct_size))
            batch->row_flags = plain;
    } else if (strcmp(how, "ascii") == 0) {
        /* an e with acute accent in CUSTOMER_NAME, yet the row is flagged ASCII (ABI 2.6) */
        static const uint8_t ascii[1] = {PS_ROWF_ASCII | PS_ROWF_NO_NUL};
        p->cells[7].text = "Ad\xc3\xa9";
        p->cells[7].len = (uint32_t)strlen(p->cells[7].text);
        if (PS_HAS_MEMBER(ps_row_batch, row_flags, batch->struct_size))
            batch->row_flags = ascii;
    } else {
        batch->rows = NULL;
    }
}

static const char *const nc_breaks[] = {"text", "len", "rows", "flags", "ascii", NULL};
static const ps_option_spec nc_options[] = {
    {.name = "break",
     .type = PS_OPT_ENUM,
     .default_value = "text",
     .choices = nc_breaks,
     .description = "what to break"},
    {0},
};

static const ps_plugin_descriptor nc_desc = {
    .struct_size = sizeof(ps_plugin_descriptor),
    .abi_major = PS_ABI_MAJOR,
    .abi_minor = PS_ABI_MINOR,
    .name = "null_cell_provider",
    .version = "1.0",
    .description = "broken test provider: a NULL cell text (or a wrong len, or NULL rows)",
    .kind = PS_PLUGIN_PROVIDER,
    .options = nc_options,
    .option_spec_size = sizeof(ps_option_spec),
    .create = bp_create,
    .destroy = bp_destroy,
    .provider = &bp_ops,
};

PS_PLUGIN_DEFINE(null_cell_provider, nc_desc)
