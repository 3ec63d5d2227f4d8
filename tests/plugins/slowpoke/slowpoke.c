/* Test plugin: a provider that yields `rows` valid payments, one per batch, sleeping
 * `sleep_ms` before each batch (daemon shutdown tests: a run that is surely in flight). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "paysync/plugin.h"

#define NCOLS 9

static const char *const header_names[NCOLS] = {
    "ID",          "TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE",
    "CUSTOMER_ID", "METER_ID",  "CUSTOMER_NAME",  "CUSTOMER_CATEGORY"};

typedef struct slow {
    int64_t rows, sleep_ms, done;
    ps_cell header[NCOLS];
    ps_cell cells[NCOLS];
    ps_row row;
    char id[32];
} slow;

static void set_cell(ps_cell *c, const char *s)
{
    c->text = s;
    c->len = (uint32_t)strlen(s);
    c->kind = PS_CELL_TEXT;
}

static ps_status sp_create(const ps_plugin_ctx *ctx, void **inst, ps_error *err)
{
    slow *s = calloc(1, sizeof *s);
    if (!s)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    s->rows = ctx->host->opt_int(ctx->options, "rows");
    s->sleep_ms = ctx->host->opt_int(ctx->options, "sleep_ms");
    *inst = s;
    return PS_OK;
}

static void sp_destroy(void *inst)
{
    free(inst);
}

static ps_status sp_open(void *inst, const ps_open_args *args, ps_table_info *info, ps_error *err)
{
    slow *s = inst;
    (void)args;
    (void)err;
    for (int i = 0; i < NCOLS; i++)
        set_cell(&s->header[i], header_names[i]);
    s->done = 0;
    info->ncolumns = NCOLS;
    info->header = s->header;
    info->header_line = 1;
    info->time_zone = NULL;
    info->source_desc = "slowpoke";
    return PS_OK;
}

static ps_status sp_next(void *inst, ps_arena *arena, ps_row_batch *batch, ps_error *err)
{
    slow *s = inst;
    (void)arena;
    (void)err;
    if (s->done >= s->rows) {
        batch->count = 0;
        return PS_END;
    }
    struct timespec ts = {(time_t)(s->sleep_ms / 1000), (long)(s->sleep_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    s->done++;
    snprintf(s->id, sizeof s->id, "SLOW-%lld", (long long)s->done);
    static const char *const fixed[NCOLS] = {
        NULL,  "2024-03-05T14:16:01Z", "100.50", "NGN", "FULL_PAYMENT", "C1", "M1",
        "Ada", "Residential"};
    set_cell(&s->cells[0], s->id);
    for (int i = 1; i < NCOLS; i++)
        set_cell(&s->cells[i], fixed[i]);
    s->row.line = (uint64_t)s->done + 1;
    s->row.ncells = NCOLS;
    s->row.cells = s->cells;
    batch->count = 1;
    batch->rows = &s->row;
    return PS_OK;
}

static const ps_provider_ops sp_ops = {.struct_size = sizeof(ps_provider_ops),
                                       .open = sp_open,
                                       .next_batch = sp_next,
                                       .cursor = NULL,
                                       .close = NULL};

static const ps_option_spec sp_options[] = {
    {.name = "rows",
     .type = PS_OPT_INT,
     .default_value = "10",
     .description = "payments to yield, one per batch"},
    {.name = "sleep_ms",
     .type = PS_OPT_INT,
     .default_value = "200",
     .description = "pause before each batch"},
    {0},
};

static const ps_plugin_descriptor sp_desc = {sizeof(ps_plugin_descriptor),
                                             PS_ABI_MAJOR,
                                             PS_ABI_MINOR,
                                             "slowpoke",
                                             "1.0",
                                             "test provider yielding one row per slow batch",
                                             PS_PLUGIN_PROVIDER,
                                             0,
                                             sp_options,
                                             sp_create,
                                             NULL,
                                             sp_destroy,
                                             &sp_ops,
                                             NULL,
                                             sizeof(ps_option_spec)};

PS_PLUGIN_DEFINE(slowpoke, sp_desc)
