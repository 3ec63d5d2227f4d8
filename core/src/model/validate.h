/* paysync core: row validation and normalisation to ps_record (spec "Validation and
 * normalisation rules"). Thread-safe: a validator is immutable after creation. */
#ifndef PS_VALIDATE_H
#define PS_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "model/timestamp.h"
#include "paysync/model.h"
#include "paysync/plugin.h"
#include "paysync/status.h"
#include "util/arena.h"

typedef struct ps_validate_config {
    const char *dataset; /* used for derived IDs */
    ps_profile profile;
    const ps_tz *naive_zone;       /* zone of timestamps written without offset; NULL = UTC */
    const ps_tz *serial_zone;      /* zone of date serials (number cells); NULL = naive_zone */
    const char *const *ts_formats; /* extra strptime-style formats, tried after ISO */
    size_t n_ts_formats;
    const char *phone_country_code; /* e.g. "234": country NG unless `country` is set */
    const char *country;            /* ISO 3166 alpha-2 ("NG"): national phone numbers -> E.164 */
    const char *const *txtype_alias_from; /* e.g. "PAY" (matched like the enum) */
    const char *const *txtype_alias_to;   /* e.g. "FULL_PAYMENT" */
    size_t n_txtype_aliases;
    const char *defaults[PS_FIELD_COUNT]; /* value used when the cell is absent or empty */
} ps_validate_config;

typedef struct ps_validator ps_validator;

/* Builds a validator (copies what it needs from cfg). Errors: PS_ERR_CONFIG for a bad alias
 * target or default (message names it). Free with ps_validator_free. */
ps_status ps_validator_new(const ps_validate_config *cfg, ps_validator **out, ps_error *err);
void ps_validator_free(ps_validator *v);

/* One problem found in a row. `code` is a static machine code from the spec
 * (missing_required, bad_timestamp, bad_amount, unknown_currency, unknown_transaction_type,
 * bad_utf8, duplicate_id_conflict, ...). */
typedef struct ps_problem {
    int field; /* ps_field, or -1 for the whole row */
    const char *code;
    char message[200];
    const char *raw; /* the offending raw value (arena or cell storage), may be NULL */
} ps_problem;

#define PS_MAX_PROBLEMS 24

typedef struct ps_row_check {
    int n_errors;
    int n_warnings;
    ps_problem errors[PS_MAX_PROBLEMS];
    ps_problem warnings[PS_MAX_PROBLEMS];
} ps_row_check;

typedef enum ps_row_outcome { PS_ROW_ACCEPTED = 0, PS_ROW_REJECTED = 1 } ps_row_outcome;

/* Validates one non-blank row. by_field[f] is the row's cell for field f, or NULL when the
 * dataset has no column for f (or the ragged row is shorter). Canonical strings go to arena.
 * On ACCEPTED *out is complete (ID derived when absent, content_hash set) and chk may hold
 * warnings (their optional fields cleared); on REJECTED chk->errors says why. */
ps_row_outcome ps_validate_row(const ps_validator *v, const ps_cell *const by_field[PS_FIELD_COUNT],
                               uint64_t source_row, ps_arena *arena, ps_record *out,
                               ps_row_check *chk);

/* ps_validate_row with a run's memo of phone verdicts (model/phonecache.h; NULL = none):
 * same results, CUSTOMER_PHONE checked through the memo. */
typedef struct ps_phonecache ps_phonecache;
ps_row_outcome ps_validate_row_memo(const ps_validator *v, ps_phonecache *phones,
                                    const ps_cell *const by_field[PS_FIELD_COUNT],
                                    uint64_t source_row, ps_arena *arena, ps_record *out,
                                    ps_row_check *chk);

/* ps_validate_row_memo given the row's PS_ROWF_* bits (paysync/plugin.h; 0 = nothing known):
 * with PS_ROWF_ASCII and PS_ROWF_NO_NUL both set, the cells are taken to be ASCII without NUL
 * (the caller vouches for it; a cell that is not gives unspecified values, never a crash) and
 * are not checked for UTF-8 again. Same results as ps_validate_row_memo for such rows. */
ps_row_outcome ps_validate_row_flags(const ps_validator *v, ps_phonecache *phones,
                                     const ps_cell *const by_field[PS_FIELD_COUNT],
                                     unsigned row_flags, uint64_t source_row, ps_arena *arena,
                                     ps_record *out, ps_row_check *chk);

/* The cell of column col of a row of ncells cells: cells + col, or NULL when col is -1 (the
 * field is not mapped) or not below ncells (the row is shorter). The one lookup of a field's
 * cell by its column, for the validator and rowcheck. */
static inline const ps_cell *ps_field_cell(const ps_cell *cells, uint32_t ncells, int col)
{
    uint32_t c = (uint32_t)col; /* -1 is above any ncells */
    return c < ncells ? cells + c : NULL;
}

/* ps_validate_row_flags with field f's cell ps_field_cell(cells, ncells, field_col[f]),
 * without a by_field table: the same results. */
ps_row_outcome ps_validate_row_cols(const ps_validator *v, ps_phonecache *phones,
                                    const ps_cell *cells, uint32_t ncells,
                                    const int field_col[PS_FIELD_COUNT], unsigned row_flags,
                                    uint64_t source_row, ps_arena *arena, ps_record *out,
                                    ps_row_check *chk);

/* 1 when every cell is empty or only whitespace (model/space.h): the one blank-row rule. */
int ps_row_is_blank(const ps_cell *cells, size_t n);

/* ---- duplicate / conflict detection within one run -------------------------------------- */

typedef struct ps_dedup ps_dedup;
typedef enum ps_dedup_result {
    PS_DEDUP_NEW = 0,
    PS_DEDUP_DUPLICATE = 1,
    PS_DEDUP_CONFLICT = 2,
    PS_DEDUP_ERROR = 3 /* added: out of memory or NULL argument */
} ps_dedup_result;

/* NULL on allocation failure. Memory stays bounded (about 12 MiB at most, see dedup.c):
 * beyond about 91,000 IDs older IDs go to sorted runs in unlinked temporary files in
 * $TMPDIR (or /tmp). */
ps_dedup *ps_dedup_new(void);
/* As ps_dedup_new with explicit limits (tests): the in-memory table's largest size in slots
 * (rounded up to a power of two, at least 64), the Bloom filter's largest size in bytes (it
 * starts at a quarter of it and grows with the IDs, see dedup.c) and the folder for temporary
 * files (NULL = $TMPDIR or /tmp). */
ps_dedup *ps_dedup_new_bounded(size_t table_slots, size_t filter_bytes, const char *tmpdir);
void ps_dedup_free(ps_dedup *d);
/* Records (id, content_hash, row). For a repeat, *first_row is the row that first held id.
 * PS_DEDUP_ERROR: NULL argument, out of memory, or a temporary file could not be created,
 * written or read (errno tells which). The same as ps_dedup_check_key with
 * ps_dedup_key(id, strlen(id)). */
ps_dedup_result ps_dedup_check(ps_dedup *d, const char *id, uint64_t content_hash, uint64_t row,
                               uint64_t *first_row);
/* The 64-bit key the dedup keeps for the ID id[0..len) (need not be NUL-terminated); never 0.
 * IDs of the same length that differ within one aligned 8-byte word (e.g. in one byte) never
 * share a key; others do with chance 2^-64. Not stable across builds (never stored). */
uint64_t ps_dedup_key(const char *id, size_t len);
/* ps_dedup_check for an ID whose key (ps_dedup_key) the caller already has: hash once, use the
 * key for ps_dedup_prefetch_key and here. PS_DEDUP_ERROR also for key 0. */
ps_dedup_result ps_dedup_check_key(ps_dedup *d, uint64_t key, uint64_t content_hash, uint64_t row,
                                   uint64_t *first_row);
/* A hint: the caller will soon check the ID with this key. Starts loading the memory that the
 * check will touch; no effect otherwise. */
void ps_dedup_prefetch_key(const ps_dedup *d, uint64_t key);
/* ps_dedup_prefetch_key(d, ps_dedup_key(id, len)); nothing when d or id is NULL. */
void ps_dedup_prefetch(const ps_dedup *d, const char *id, size_t len);
/* A row's raw ID cell and its key, computed ahead (with the prefetch) by a caller that then
 * checks the row: the check reuses key when the record's ID is these same bytes. */
typedef struct ps_dedup_hint {
    const char *text; /* NULL: no hint */
    size_t len;
    uint64_t key; /* ps_dedup_key(text, len) */
} ps_dedup_hint;
/* Number of distinct IDs recorded. */
size_t ps_dedup_count(const ps_dedup *d);
/* Number of sorted runs currently on disk (0 while every ID fits in memory; tests). */
size_t ps_dedup_runs(const ps_dedup *d);
/* Number of entries merges have written so far (their rewriting cost; tests). */
size_t ps_dedup_rewritten(const ps_dedup *d);

/* ---- helpers shared with sinks and tests (added by the model module) ------------------- */

/* 64-bit hash, 8 bytes a step, over every canonical field except ID, in field order
 * TIMESTAMP..NOTES; each field contributes byte 0x00 when absent, else byte 0x01, its bytes
 * and byte 0x00 (values never contain NUL). The exact definition is in docs/data-model.md. */
uint64_t ps_record_content_hash(const ps_record *r);

/* Returns len when s[0..len) is valid UTF-8 without NUL bytes, else the offset of the first
 * offending byte (overlong forms, surrogates and code points above U+10FFFF are invalid). */
size_t ps_utf8_check(const char *s, size_t len);

/* 1 when no configured default holds a byte below 0x20, '"' or '\\' (0 for NULL). Then every
 * value an accepted record gets from cells without such bytes (PS_ROWF_PLAIN) is a JSON string
 * body as it is: the values the validator makes itself (canonical timestamps, amounts,
 * currency codes, E.164 numbers, type names, coordinates, counts, derived IDs) never hold one,
 * and text fields are trimmed cells. */
int ps_validator_defaults_plain(const ps_validator *v);

#endif
