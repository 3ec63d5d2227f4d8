/* paysync: the electricity-payment model (../shared/spec/electricity-payments.md). */
#ifndef PAYSYNC_MODEL_H
#define PAYSYNC_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "paysync/decimal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The 21 fields in the spec's order (the platform's CSV column order). */
typedef enum ps_field {
    PS_F_ID = 0,
    PS_F_TIMESTAMP,
    PS_F_PAYMENT_AMOUNT,
    PS_F_PAYMENT_CURRENCY,
    PS_F_TRANSACTION_TYPE,
    PS_F_TRANSACTION_CHARGES,
    PS_F_REFERENCE_ID,
    PS_F_CUSTOMER_ID,
    PS_F_METER_ID,
    PS_F_CUSTOMER_NAME,
    PS_F_CUSTOMER_PHONE,
    PS_F_CUSTOMER_CATEGORY,
    PS_F_FINANCING_ID,
    PS_F_AGENT_ID,
    PS_F_LATITUDE,
    PS_F_LONGITUDE,
    PS_F_UTILITY_ID,
    PS_F_FAILED_BATTERY_CAPACITY_COUNT,
    PS_F_ACCOUNT_TYPE,
    PS_F_STATUS,
    PS_F_NOTES,
    PS_FIELD_COUNT
} ps_field;

typedef enum ps_profile { PS_PROFILE_STANDARD = 0, PS_PROFILE_STRICT = 1 } ps_profile;

typedef enum ps_target_level { PS_TARGET_PROJECT = 0, PS_TARGET_PROGRAM = 1 } ps_target_level;

/* A read-only string: ptr[0..len) followed by a NUL (ptr[len] == '\0'), so ptr is usable as
 * a C string too. ptr NULL (len 0) means absent. */
typedef struct ps_str {
    const char *ptr;
    uint32_t len;
} ps_str;

/* A ps_str over a NUL-terminated s (NULL gives the absent value). */
static inline ps_str ps_str_from(const char *s)
{
    ps_str v = {s, s ? (uint32_t)strlen(s) : 0};
    return v;
}

/* One accepted, normalised payment. Values are NUL-terminated canonical text with their
 * length, living in the batch arena; field[i].ptr is NULL when the optional field is absent.
 * field[PS_F_ID] and the required fields are never absent. */
typedef struct ps_record {
    ps_str field[PS_FIELD_COUNT];
    uint64_t source_row;  /* row number as the user sees it (header = 1) */
    int64_t timestamp_ms; /* TIMESTAMP as ms since the epoch, UTC */
    ps_decimal amount;    /* PAYMENT_AMOUNT */
    ps_decimal charges;   /* TRANSACTION_CHARGES, valid when has_charges */
    int has_charges;
    int id_derived;        /* 1 when ID was derived (the source had none) */
    uint64_t content_hash; /* 64-bit word hash of every canonical field except ID (definition
                            * in docs/data-model.md); stable across runs */
} ps_record;

/* A batch of accepted records handed to sinks; valid only during the write_batch call. */
typedef struct ps_record_batch {
    size_t struct_size; /* set by the core */
    size_t count;
    const ps_record *records;
    /* ABI 2.5: NULL (nothing known), or count PS_RECF_* bits, one a record. Read it only when
     * PS_HAS_MEMBER(ps_record_batch, record_flags, batch->struct_size) (paysync/plugin.h). */
    const uint8_t *record_flags;
} ps_record_batch;

/* ps_record_batch.record_flags bits (ABI 2.5; PS_RECF_NUMBERS 2.7). */
enum {
    PS_RECF_PLAIN = 1,  /* no field value holds a byte below 0x20, '"' or '\\': each value is
                         * a JSON string body as it is */
    PS_RECF_NUMBERS = 2 /* each present PAYMENT_AMOUNT, TRANSACTION_CHARGES, LATITUDE,
                         * LONGITUDE and FAILED_BATTERY_CAPACITY_COUNT value is the text of a
                         * JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)? */
};

#ifdef __cplusplus
}
#endif
#endif
