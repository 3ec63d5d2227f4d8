/* paysync store: decoding the readers' rows (store_rows.h). */
#include "store/store_rows.h"

#include <stdio.h>
#include <string.h>

#include "store/store_schema.h"

/* Columns of the payment query: dataset, the fields, then these. */
enum {
    PC_FIELD0 = 1,
    PC_TIMESTAMP_MS = PC_FIELD0 + PS_FIELD_COUNT,
    PC_AMOUNT_UNITS,
    PC_AMOUNT_SCALE,
    PC_TARGET_LEVEL,
    PC_TARGET_ID,
    PC_SOURCE_ROW,
    PC_FIRST_SEEN,
    PC_LAST_SEEN,
    PC_VANISHED
};

size_t ps_store_payment_select(char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "SELECT dataset");
    for (int f = 0; f < PS_FIELD_COUNT && n < cap; f++)
        n += (size_t)snprintf(buf + n, cap - n, ", %s", ps_store_field_column(f));
    if (n < cap)
        n += (size_t)snprintf(
            buf + n, cap - n,
            ", timestamp_ms, amount_units, amount_scale, target_level, target_id,"
            " source_row, first_seen_run,"
            /* the writer leaves an unchanged payment untouched: a present one was seen by
             * the dataset's last successful run (the run of its cursor row) */
            " CASE WHEN vanished_run IS NULL THEN coalesce((SELECT c.run_id"
            " FROM " PS_STORE_T_CURSORS " c WHERE c.dataset = " PS_STORE_T_PAYMENTS ".dataset),"
            " last_seen_run) ELSE last_seen_run END, vanished_run");
    return n;
}

int64_t ps_store_text_i64(const char *p)
{
    if (!p)
        return 0;
    int neg = *p == '-';
    p += neg;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return neg ? (int64_t)(0 - v) : (int64_t)v;
}

static const char *text(const ps_store_row *row, int c)
{
    return row->text(row->ctx, c);
}

static int64_t i64(const ps_store_row *row, int c)
{
    return row->i64(row->ctx, c);
}

static uint64_t u64(const ps_store_row *row, int c)
{
    int64_t v = row->i64(row->ctx, c);
    return v < 0 ? 0 : (uint64_t)v;
}

void ps_store_row_run(const ps_store_row *row, int c, ps_store_run *r)
{
    memset(r, 0, sizeof *r);
    r->run_id = text(row, c);
    r->dataset = text(row, c + 1);
    r->started = text(row, c + 2);
    r->finished = text(row, c + 3);
    r->outcome = text(row, c + 4);
    r->error = text(row, c + 5);
    r->started_ms = i64(row, c + 6);
    r->finished_ms = i64(row, c + 7);
    uint64_t *counts[6] = {&r->read,  &r->accepted,   &r->rejected,
                           &r->blank, &r->duplicates, &r->warnings};
    for (int i = 0; i < 6; i++)
        *counts[i] = u64(row, c + 8 + i);
    r->has_changes = text(row, c + 14) != NULL;
    r->inserted = u64(row, c + 14);
    r->changed = u64(row, c + 15);
    r->unchanged = u64(row, c + 16);
    r->vanished = u64(row, c + 17);
    r->filtered = u64(row, c + 18);
}

void ps_store_row_dataset(const ps_store_row *row, ps_store_dataset *out)
{
    memset(out, 0, sizeof *out);
    out->name = text(row, 0);
    out->payments = u64(row, 1);
    out->vanished = u64(row, 2);
    out->last_ok_finished = text(row, 3);
    const char *has = text(row, 4); /* t/f (PostgreSQL) or 1/0 (SQLite) */
    out->has_run = has && (has[0] == 't' || has[0] == '1');
    if (out->has_run)
        ps_store_row_run(row, 5, &out->last_run);
}

void ps_store_row_payment(const ps_store_row *row, ps_store_payment *out)
{
    memset(out, 0, sizeof *out);
    out->dataset = text(row, 0);
    for (int f = 0; f < PS_FIELD_COUNT; f++)
        out->field[f] = text(row, PC_FIELD0 + f);
    out->timestamp_ms = i64(row, PC_TIMESTAMP_MS);
    out->amount.units = i64(row, PC_AMOUNT_UNITS);
    int64_t scale = i64(row, PC_AMOUNT_SCALE);
    out->amount.scale = (uint8_t)(scale < 0 ? 0 : scale > 255 ? 255 : scale);
    out->target_level = ps_store_target_level_parse(text(row, PC_TARGET_LEVEL));
    out->target_id = text(row, PC_TARGET_ID);
    out->source_row = u64(row, PC_SOURCE_ROW);
    out->first_seen_run = text(row, PC_FIRST_SEEN);
    out->last_seen_run = text(row, PC_LAST_SEEN);
    out->vanished_run = text(row, PC_VANISHED);
}
