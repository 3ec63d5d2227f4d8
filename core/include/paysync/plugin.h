/* paysync plugin ABI 2.6 (2.0 plus ps_commit_info.filtered and warning codes, and
 * ps_row_batch.filtered (2.1); sinks that commit after the store and read it (2.2);
 * ps_table_info's time window (2.3); ps_http_request.cancelled (2.4); ps_row_batch.row_flags,
 * ps_record_batch.record_flags and the host's csv_record_flags (2.5); the row flag
 * PS_ROWF_ASCII (2.6)). A plugin is a shared object exporting one function,
 *     const ps_plugin_descriptor *paysync_plugin_entry(void);
 * returning a descriptor with static storage. See docs/plugin-abi.md.
 *
 * Versioning rule: every table the core and a plugin exchange starts with
 * `size_t struct_size` (sizeof the struct as the writer compiled it). Members are only ever
 * appended, and appending is a minor bump (PS_ABI_MINOR); removing or changing a member is a
 * major bump and the loader refuses plugins of any other major. For tables a plugin fills
 * (descriptor, provider ops, sink ops) the core reads only the members inside the plugin's
 * struct_size (later ones count as NULL/0) and refuses a struct_size of 0 or below the 2.0
 * size. For tables the core passes (host, ctx, args, batches, infos) the core sets
 * struct_size; a plugin built against a newer minor must check it before reading a member
 * appended after 2.0 (PS_HAS_MEMBER). */
#ifndef PAYSYNC_PLUGIN_H
#define PAYSYNC_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "paysync/arena.h"
#include "paysync/model.h"
#include "paysync/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PS_ABI_MAJOR 2
#define PS_ABI_MINOR 7

/* 1 when a table whose struct_size is `size` contains `member` of struct `type`. */
#define PS_HAS_MEMBER(type, member, size)                                                   \
    ((size_t)(size) >= offsetof(type, member) + sizeof(((type *)0)->member))

#define PS_PLUGIN_ENTRY_NAME "paysync_plugin_entry"

#if defined(__GNUC__)
#define PS_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define PS_PLUGIN_EXPORT
#endif

typedef enum ps_plugin_kind { PS_PLUGIN_PROVIDER = 1, PS_PLUGIN_SINK = 2 } ps_plugin_kind;

/* ---- typed options ------------------------------------------------------------------- */

typedef enum ps_option_type {
    PS_OPT_STRING = 1,
    PS_OPT_INT = 2,      /* signed 64-bit decimal */
    PS_OPT_BOOL = 3,     /* true/false/yes/no/on/off/1/0 */
    PS_OPT_PATH = 4,     /* string; relative paths resolved against the config file's folder */
    PS_OPT_ENUM = 5,     /* one of `choices` (matched case-insensitively) */
    PS_OPT_DURATION = 6, /* "500ms", "90s", "10m", "1h30m", "2d"; value in milliseconds */
    PS_OPT_SIZE = 7      /* bytes: "512", "64KiB" = "64k" (x1024), "10MB" (x1000^2), "1G" */
} ps_option_type;

/* ps_option_spec.flags */
enum {
    PS_OPTF_MIN = 1,           /* `min` applies (INT, DURATION, SIZE) */
    PS_OPTF_MAX = 2,           /* `max` applies (INT, DURATION, SIZE) */
    PS_OPTF_RANGE = 3,         /* both */
    PS_OPTF_PLAIN_SECONDS = 4, /* DURATION: a plain number ("30") means seconds */
    PS_OPTF_PLAIN_MS = 8       /* DURATION: a plain number ("5000") means milliseconds */
};

/* One option of a plugin. The core checks every value against it (type, bounds, choices)
 * before create, so plugins never re-check. Tables are arrays terminated by an entry whose
 * name is NULL, walked with the descriptor's option_spec_size as the stride: members are only
 * appended, so write entries with designated initializers ({.name = "x", .type = ...}). */
typedef struct ps_option_spec {
    const char *name;
    ps_option_type type;
    const char *default_value; /* text form, NULL = none; must pass the same checks */
    int required;              /* 1: config must set it (default_value then ignored) */
    int secret;                /* 1: value never logged, reported or put in messages */
    const char *description;
    unsigned flags;             /* PS_OPTF_* */
    int64_t min;                /* with PS_OPTF_MIN: INT number, DURATION ms, SIZE bytes */
    int64_t max;                /* with PS_OPTF_MAX: likewise */
    const char *const *choices; /* ENUM: the accepted values, NULL-terminated (1..64) */
} ps_option_spec;

/* Validated option values of one plugin instance, owned by the core. */
typedef struct ps_options ps_options;

/* ---- cells: what tabular providers yield ------------------------------------------------ */

typedef enum ps_cell_kind {
    PS_CELL_TEXT = 0,   /* text as typed */
    PS_CELL_NUMBER = 1, /* exact decimal text of a number cell (a date serial in TIMESTAMP) */
    PS_CELL_BOOL = 2    /* "TRUE" / "FALSE" */
} ps_cell_kind;

typedef struct ps_cell {
    const char *text; /* NUL-terminated; "" for an empty cell; never NULL */
    uint32_t len;
    uint8_t kind;     /* ps_cell_kind */
} ps_cell;

/* ---- host API: core services handed to plugins ---------------------------------------- */

enum { PS_LOG_ERROR = 0, PS_LOG_WARN = 1, PS_LOG_INFO = 2, PS_LOG_DEBUG = 3 };

typedef struct ps_env ps_env; /* the core's view of one plugin instance */
typedef struct ps_plugin_ctx ps_plugin_ctx;

/* A growable CSV reader (RFC 4180) the core shares with tabular providers. */
typedef struct ps_csv_reader ps_csv_reader;

/* ---- host services: HTTP client, atomic output files (see docs/plugin-abi.md) ---------- */

/* One HTTP client per plugin instance: a libcurl handle (connections kept alive between
 * requests), its retry policy, its pacing and its registered secrets. */
typedef struct ps_http_client ps_http_client;

/* Client settings. A member left 0 takes the default in brackets. */
typedef struct ps_http_config {
    size_t struct_size;          /* sizeof(ps_http_config) the plugin was built with */
    int64_t connect_timeout_ms;  /* TCP + TLS connect [30000; never above timeout_ms] */
    int64_t timeout_ms;          /* one whole exchange [120000] */
    int64_t low_speed_time_ms;   /* abort when slower than low_speed_bytes for this long
                                  * [60000; -1 = off] */
    int64_t low_speed_bytes;     /* bytes per second [1] */
    int max_attempts;            /* tries per request, first one included [4; -1 = 1] */
    int64_t backoff_base_ms;     /* retry n waits min(base * 2^n + jitter(0..base), cap)
                                  * [1000] */
    int64_t backoff_cap_ms;      /* [32000] */
    int64_t retry_after_cap_ms;  /* longest Retry-After honoured [64000] */
    int64_t min_interval_ms;     /* pacing: least time between request starts [0 = none] */
    int requests_per_minute;     /* pacing, alternative form: 60000 / rpm ms [0 = none] */
    int64_t max_body_bytes;      /* bigger responses fail [64 MiB] */
    const char *ca_file;         /* PEM bundle of trusted CAs [NULL = system store] */
    int insecure;                /* 1: skip TLS verification (logs a warning) */
    const char *user_agent;      /* [NULL = "paysync/VERSION"] */
} ps_http_config;

/* A response. body is malloc'd and NUL-terminated (empty when it went to a body sink);
 * a caller may take it (set body NULL) and free() it itself. */
typedef struct ps_http_response {
    size_t struct_size;        /* set by the host */
    long status;               /* HTTP status */
    char content_type[128];    /* "" when absent */
    char *body;
    size_t len;
    int64_t retry_after_ms;    /* Retry-After (seconds or HTTP-date), capped; -1 = absent */
} ps_http_response;

/* One request and how to judge its responses. */
typedef struct ps_http_request {
    size_t struct_size;           /* sizeof(ps_http_request) the plugin was built with */
    const char *method;           /* "GET" (NULL) or "POST" */
    const char *url;              /* http:// or https:// only */
    const char *const *headers;   /* "Name: value" strings, NULL-terminated; may be NULL */
    const char *body;             /* POST body (copied by libcurl), body_len bytes */
    size_t body_len;
    const char *what;             /* for messages, "reading metadata"; NULL = "HTTP request" */
    int follow_redirects;         /* 1: follow up to 5 redirects (http/https only) */
    int unpaced;                  /* 1: this request skips the client's pacing */
    /* Optional: receives the body of 2xx responses instead of memory. Called with data NULL,
     * n 0 before every attempt (start over, e.g. truncate a file). Returns 0, or -1 to abort
     * the request with PS_ERR_IO. */
    int (*body_sink)(void *ctx, const char *data, size_t n);
    /* Optional: judges every response that arrived. Returns PS_OK (hand it to the caller),
     * PS_RETRY (retry, like a 5xx: err says why, and is the final error when the attempts
     * run out; reason, when filled, is logged with the retry instead), or any error status
     * (the request fails with err; no retry). Without it: 2xx is PS_OK, 408, 429 and 5xx
     * are retried, anything else fails with a message naming the status. PS_RETRY for a 4xx
     * other than 408/429 is taken as a failure: those are never retried. The callback may
     * take resp->body. */
    ps_status (*check)(void *ctx, ps_http_response *resp, char *reason, size_t reason_cap,
                       ps_error *err);
    /* Optional: called before retry number attempt (1-based); may return a new URL (copied
     * by the host; the pointer must stay valid until the next call) or NULL to keep it. */
    const char *(*before_retry)(void *ctx, int attempt);
    void *ctx;                    /* passed to the callbacks */
    /* Optional (ABI 2.4): returns nonzero when the caller no longer wants the answer. Polled
     * before every attempt, during the pacing and backoff waits (every 100 ms at most) and
     * during the transfer (libcurl's progress callback: about once a second while nothing
     * arrives). The request then fails at once with PS_ERR_NETWORK "WHAT: cancelled", never
     * retried. Called on the thread running the request; lets a plugin stop its own fetch
     * thread's request (docs/plugin-abi.md, "Threads and state"). */
    int (*cancelled)(void *ctx);
} ps_http_request;

/* An output file published atomically (temp file next to the target + rename). */
typedef struct ps_outfile ps_outfile;

typedef struct ps_host {
    size_t struct_size; /* sizeof(ps_host) of the core; new members are only appended */
    uint32_t abi_major;
    uint32_t abi_minor;

    /* Logs a message prefixed with the instance name. */
    void (*log)(const ps_env *env, int level, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;
    /* Option values, already checked against the option table. String/path/enum values are
     * owned by the core; NULL when unset without default (enum: the choice as spelled in the
     * table). opt_int returns the number for INT, milliseconds for DURATION, bytes for SIZE
     * and the index into `choices` for ENUM; ints/bools return 0 when unset without default. */
    const char *(*opt_string)(const ps_options *o, const char *name);
    int64_t (*opt_int)(const ps_options *o, const char *name);
    int (*opt_bool)(const ps_options *o, const char *name);
    int (*opt_is_set)(const ps_options *o, const char *name); /* set in config (not default) */

    /* Arena allocation (see arena.h). */
    void *(*arena_alloc)(ps_arena *a, size_t size);
    char *(*arena_strndup)(ps_arena *a, const char *s, size_t len);

    /* The mapper: the model field a header cell maps to under this instance's dataset
     * mapping (aliases included), or -1. Used to auto-detect header rows. */
    int (*match_header)(const ps_env *env, const char *name, size_t len);
    /* The field's canonical name ("PAYMENT_AMOUNT"), NULL when out of range. */
    const char *(*field_name)(int field);

    /* A streaming RFC 4180 CSV reader over a pull callback. `read` fills buf with up to cap
     * bytes and returns the count, 0 at end of input or -1 on error. delimiter 0 means ','
     * ('"', CR and LF are refused: NULL). Quoted fields may hold delimiters, doubled quotes
     * and newlines; CRLF or LF line ends; a leading UTF-8 BOM is dropped. Text after a
     * closing quote is kept ("ab"c -> abc) and a quote inside an unquoted field is literal.
     * Memory is bounded by the longest record (limits: 64 MiB per field, 16384 columns).
     * NULL on allocation failure. Free with csv_free. */
    ps_csv_reader *(*csv_new)(long (*read)(void *ctx, char *buf, size_t cap), void *ctx,
                              char delimiter);
    /* Next record: cells (text in arena, NUL-terminated, kind PS_CELL_TEXT), count, and the
     * physical line (1-based) it started on. An empty line is a record of one empty cell.
     * Returns PS_OK, PS_END at end of input, PS_ERR_DATA with err naming the line
     * (unterminated quote, naming the line it opened on; field or row over the limits),
     * PS_ERR_IO when the read callback failed, or PS_ERR_NOMEM. Errors are sticky: every
     * later call returns the same error. */
    ps_status (*csv_next)(ps_csv_reader *r, ps_arena *arena, ps_cell **cells, size_t *ncells,
                          uint64_t *line, ps_error *err);
    void (*csv_free)(ps_csv_reader *r);

    /* Monotonic and wall clocks in ms (tests may fake them). */
    int64_t (*now_ms)(void);
    int64_t (*monotonic_ms)(void);

    /* ---- host services (members appended after csv/clock) ---------------------------- */
    /* Sleeps ms (nothing when <= 0) on the core's clock: tests make it virtual. */
    void (*sleep_ms)(int64_t ms);

    /* HTTP client for ctx's instance (logs go to its log). cfg may be NULL (defaults).
     * NULL with err set on failure. Thread-compatible: one thread at a time per client. */
    ps_http_client *(*http_new)(const ps_plugin_ctx *ctx, const ps_http_config *cfg,
                                ps_error *err);
    /* Frees the client and wipes its secrets. NULL is a no-op. */
    void (*http_free)(ps_http_client *c);
    /* Registers a secret (copied; its percent-encoded form too): it is replaced by "***" in
     * every message, log line and URL the client shows. Returns PS_OK or PS_ERR_NOMEM. */
    ps_status (*http_add_secret)(ps_http_client *c, const char *secret);
    /* Performs req with pacing, timeouts and retries (transport errors, 408, 429, 5xx and
     * what check says; Retry-After honoured). PS_OK: resp filled (free with
     * http_response_free). Otherwise err holds a message naming req->what, the HTTP status
     * in err->http_status, Retry-After in err->retry_after_ms (429/503) and, after retries
     * ran out, " [gave up after N attempts]"; resp is empty. */
    ps_status (*http_request)(ps_http_client *c, const ps_http_request *req,
                              ps_http_response *resp, ps_error *err);
    void (*http_response_free)(ps_http_response *resp);
    /* Replaces the client's secrets in text (NUL-terminated, edited in place). */
    void (*http_redact)(const ps_http_client *c, char *text);
    /* Requests sent and retries made by the client so far. */
    void (*http_stats)(const ps_http_client *c, uint64_t *requests, uint64_t *retries);

    /* Atomic output file; see docs/plugin-abi.md "Atomic output files" for the contract. */
    ps_outfile *(*outfile_new)(const char *path, int do_fsync, ps_error *err);
    ps_status (*outfile_begin)(ps_outfile *o, const char *preamble, size_t n, ps_error *err);
    char *(*outfile_reserve)(ps_outfile *o, size_t n);
    void (*outfile_advance)(ps_outfile *o, size_t used);
    int (*outfile_put)(ps_outfile *o, const char *s, size_t n);
    ps_status (*outfile_check)(ps_outfile *o, ps_error *err);
    ps_status (*outfile_commit)(ps_outfile *o, ps_error *err);
    void (*outfile_abort)(ps_outfile *o);
    ps_status (*outfile_finish)(ps_outfile *o, int all_ok, ps_error *err);
    void (*outfile_free)(ps_outfile *o);

    /* len when s[0..len) is valid UTF-8 without NUL bytes, else the first bad offset. */
    size_t (*utf8_check)(const char *s, size_t len);
    /* Formats ms since the epoch as "2024-01-31T12:00:00.000Z" into buf (cap >= 25);
     * returns the length, 0 when cap is too small. */
    size_t (*time_format)(int64_t ms, char *buf, size_t cap);

    /* ABI 2.5: what the record csv_next returned last is known to hold, PS_ROWF_* bits (for
     * ps_row_batch.row_flags); 0 says nothing (a record the reader's fast path did not take:
     * over 4,096 bytes, a line break or CR inside, text after a closing quote). Since 2.6 a
     * record with any bit set is known to be at most 4,096 bytes long (its line end not
     * counted), and so is each of its cells. Check
     * PS_HAS_MEMBER(ps_host, csv_record_flags, host->struct_size) first. */
    unsigned (*csv_record_flags)(const ps_csv_reader *r);
} ps_host;

/* Passed to create: how the plugin reaches the core. Valid for the instance's lifetime. */
typedef struct ps_plugin_ctx {
    size_t struct_size;         /* set by the core */
    const ps_host *host;
    const ps_env *env;          /* pass back to host->log / match_header */
    const ps_options *options;  /* validated against the descriptor's option table */
    const char *instance_name;  /* "source of 01_2024_Site" or the sink's config name */
    const char *config_dir;     /* folder of the config file, for resolving paths */
} ps_plugin_ctx;

/* ---- providers ------------------------------------------------------------------------ */

typedef struct ps_row {
    uint64_t line;    /* source row number as the user sees it (sheet row / file line) */
    uint32_t ncells;  /* may differ from the header width: the core pads and checks */
    const ps_cell *cells;
} ps_row;

/* ---- record-shaped providers (JSON APIs): named keys with typed values ------------------ */

/* A provider's shape (ps_provider_ops.shape). Tabular: a header row and rows of cells, mapped
 * by header name. Record: records of (path, type, value) triples, mapped by key path
 * (mapping.columns: {"/customer/phone": CUSTOMER_PHONE}); no header. */
typedef enum ps_provider_shape { PS_SHAPE_TABULAR = 0, PS_SHAPE_RECORD = 1 } ps_provider_shape;

/* The type of a record value; every value is text (exact, never a double). */
typedef enum ps_value_type {
    PS_VAL_NULL = 0,    /* JSON null: text "" (treated as an empty cell) */
    PS_VAL_TEXT = 1,    /* a string, as sent */
    PS_VAL_DECIMAL = 2, /* exact decimal text of a number: -?[0-9]+(.[0-9]+)? ("1500.50") */
    PS_VAL_INT = 3,     /* integer text: -?[0-9]+ */
    PS_VAL_BOOL = 4     /* "true" or "false" */
} ps_value_type;

/* One key of a record. `path` addresses it JSON-pointer style (RFC 6901): "/" before every
 * key, nested objects as "/customer/phone", array items by index ("/items/0/amount"), and
 * "~1" / "~0" for a '/' / '~' inside a key. path and text are NUL-terminated at [path_len]
 * and [len]. */
typedef struct ps_value {
    const char *path;
    uint32_t path_len;
    uint8_t type; /* ps_value_type */
    const char *text;
    uint32_t len;
} ps_value;

/* One record of a record-shaped provider. */
typedef struct ps_keyed_row {
    uint64_t line; /* record number as the user sees it (1-based) */
    uint32_t nvalues;
    const ps_value *values; /* a path appears at most once in a record */
} ps_keyed_row;

typedef struct ps_row_batch {
    size_t struct_size; /* set by the core before next_batch; the provider keeps it */
    size_t count;
    ps_row *rows;          /* tabular providers: count rows */
    ps_keyed_row *records; /* record providers: count records (rows stays NULL) */
    /* ABI 2.1: items the provider read in this call but left out as not payments (a
     * connector's own filters), with PS_OK or PS_END; the core counts them as read and
     * filtered. Set it only when PS_HAS_MEMBER(ps_row_batch, filtered, batch->struct_size). */
    uint64_t filtered;
    /* ABI 2.2, appended after filtered: how far the source has been read after this call and
     * how large it is, in one unit the provider picks (bytes of a file, rows of a sheet), for
     * the progress line `paysync run` shows on a terminal (percentage and time left);
     * progress_total 0 = unknown (the line shows rows/s only). Set them only when
     * PS_HAS_MEMBER(ps_row_batch, progress_total, batch->struct_size). */
    uint64_t progress_done;
    uint64_t progress_total;
    /* ABI 2.5: NULL (the core's default: nothing known), or count PS_ROWF_* bits, one a row, in
     * the batch's arena: what the provider knows of the row's cells without looking again (a
     * CSV reader sees every byte once: host csv_record_flags). The core then skips its own
     * per-cell NUL check and tells sinks which records need no JSON escaping. A bit set
     * wrongly lets bad text through: set only what is known. Set it only when
     * PS_HAS_MEMBER(ps_row_batch, row_flags, batch->struct_size). */
    const uint8_t *row_flags;
} ps_row_batch;

/* ps_row_batch.row_flags bits (ABI 2.5; PS_ROWF_ASCII 2.6: a core of 2.5 ignores it). */
enum {
    PS_ROWF_NO_NUL = 1, /* no cell of the row holds a NUL byte */
    PS_ROWF_PLAIN = 2,  /* no cell holds a byte below 0x20, '"' or '\\' (so no NUL either) */
    PS_ROWF_ASCII = 4   /* no cell holds a byte above 0x7f; with NO_NUL the core skips its
                         * UTF-8 check and trims only ASCII whitespace */
};

/* What a provider tells the core when it opens its source. */
typedef struct ps_table_info {
    size_t struct_size;      /* set by the core before open; the provider keeps it */
    uint32_t ncolumns;
    const ps_cell *header;   /* header cells, in run_arena */
    uint64_t header_line;    /* row number of the header as the user sees it */
    const char *time_zone;   /* source zone of date serials (IANA), NULL = unknown/UTC */
    const char *source_desc; /* human description, e.g. file path or sheet title; no secrets */
    /* ABI 2.3: the time window this run reads. A provider that reads only part of its source
     * by time (an API queried from a cursor) sets windowed 1 and the TIMESTAMP range
     * [window_from_ms, window_to_ms] (ms since the epoch, both inclusive) every payment of
     * which it returns: vanish detection and the vanish guard then consider only stored
     * payments whose TIMESTAMP is inside it. Left 0 (the core's default), the source counts
     * as read in full. Set them only when PS_HAS_MEMBER(ps_table_info, window_to_ms,
     * info->struct_size); see docs/plugin-abi.md "Windowed sources". */
    int windowed;
    int64_t window_from_ms;
    int64_t window_to_ms;
} ps_table_info;

typedef struct ps_open_args {
    size_t struct_size;      /* set by the core */
    const char *dataset;     /* dataset name */
    const char *cursor_json; /* cursor saved by the last successful run, or NULL */
    ps_arena *run_arena;     /* lives until close: header strings and the like */
    size_t batch_rows;       /* suggested rows per batch */
} ps_open_args;

typedef struct ps_provider_ops {
    size_t struct_size; /* sizeof(ps_provider_ops) the plugin was built with */
    /* Reads the source's metadata and header. Required. */
    ps_status (*open)(void *inst, const ps_open_args *args, ps_table_info *info, ps_error *err);
    /* Fills batch with up to args->batch_rows rows allocated in arena (reset by the core
     * after each batch). Returns PS_OK with count > 0, PS_END when done, or an error. */
    ps_status (*next_batch)(void *inst, ps_arena *arena, ps_row_batch *batch, ps_error *err);
    /* Optional: JSON cursor to save when the run commits (owned by inst, valid until close). */
    const char *(*cursor)(void *inst);
    /* Optional: releases what open acquired. */
    void (*close)(void *inst);
    /* ps_provider_shape; a table whose struct_size ends before it is tabular. A record
     * provider's open sets ncolumns 0 and header NULL, and next_batch fills batch->records. */
    uint32_t shape;
} ps_provider_ops;

/* ---- sinks ------------------------------------------------------------------------------ */

typedef struct ps_sink_open_args {
    size_t struct_size; /* set by the core */
    const char *dataset;
    ps_target_level target_level;
    const char *target_id;
    const char *run_id;       /* unique per dataset run, sortable */
    int64_t started_ms;
} ps_sink_open_args;

/* Counts the core passes at commit and the run outcome. */
typedef struct ps_commit_info {
    size_t struct_size; /* set by the core */
    const char *dataset;
    const char *run_id;
    const char *cursor_json;  /* provider cursor to persist with the data, or NULL */
    int64_t started_ms;
    int64_t finished_ms;
    uint64_t read, accepted, rejected, blank, duplicates, warnings;
    /* Rejected rows by problem code (a row counts once per code it has). */
    size_t n_reject_codes;
    const char *const *reject_codes;       /* machine codes such as "bad_amount" */
    const uint64_t *reject_code_counts;
    /* ABI 2.1: rows dropped by the dataset's mapping.filters (read = accepted + rejected +
     * blank + duplicates + filtered). Check PS_HAS_MEMBER(ps_commit_info, filtered,
     * info->struct_size) before reading it. */
    uint64_t filtered;
    /* ABI 2.1: rows with warnings by code (a row counts once per code it has), as the reject
     * codes above. Check PS_HAS_MEMBER(ps_commit_info, warning_code_counts,
     * info->struct_size) before reading them. */
    size_t n_warning_codes;
    const char *const *warning_codes; /* "unknown_meter", "bad_phone", ... */
    const uint64_t *warning_code_counts;
    /* ABI 2.2: for a sink flagged PS_SINK_AFTER_STORE, whose commit comes after the dataset's
     * store committed this run; NULL for other sinks and for datasets without a store. Calls
     * each(ctx, rec) for every present (not vanished) payment the store now holds for this
     * dataset, ordered by TIMESTAMP, then ID. rec and its text are valid during the call only;
     * rec->content_hash and rec->id_derived are 0. each returns 0 to go on; anything else
     * stops the walk, which then returns PS_ERR_SINK (err untouched, the caller fills it).
     * Errors: PS_ERR_IO naming the store when it cannot be read, PS_ERR_NOMEM. Check
     * PS_HAS_MEMBER(ps_commit_info, stored_payments, info->struct_size) first. */
    ps_status (*stored_payments)(const struct ps_commit_info *info,
                                 int (*each)(void *ctx, const ps_record *rec), void *ctx,
                                 ps_error *err);
    void *store_ctx; /* the core's; for stored_payments */
} ps_commit_info;

/* Change tracking a store may report at commit. */
typedef struct ps_change_counts {
    size_t struct_size; /* set by the core; the sink keeps it */
    int valid; /* set to 1 by sinks that track changes */
    uint64_t inserted, changed, unchanged, vanished;
} ps_change_counts;

typedef struct ps_sink_ops {
    size_t struct_size; /* sizeof(ps_sink_ops) the plugin was built with */
    /* Starts a dataset's transaction. Required. */
    ps_status (*open)(void *inst, const ps_sink_open_args *args, ps_error *err);
    /* Writes records; nothing is visible to readers before commit. Required. */
    ps_status (*write_batch)(void *inst, const ps_record_batch *batch, ps_error *err);
    /* Makes the dataset's records durable. Required. */
    ps_status (*commit)(void *inst, const ps_commit_info *info, ps_change_counts *changes,
                        ps_error *err);
    /* Discards the dataset's uncommitted records. Optional. */
    void (*abort)(void *inst, const char *reason);
    /* Called once after every dataset of the run: publishes (all_ok = 1) or discards the
     * run's output. Optional. */
    ps_status (*finish)(void *inst, int all_ok, ps_error *err);
    /* Optional: the cursor saved by the last successful run of dataset, malloc'd (caller
     * frees), NULL when none. Only for sinks that keep run state (flag PS_SINK_KEEPS_STATE). */
    char *(*load_cursor)(void *inst, const char *dataset);
    /* Optional: records a failed run (outcome only; data untouched). */
    void (*record_failure)(void *inst, const ps_commit_info *info, const char *message);
} ps_sink_ops;

/* Sink flags. PS_SINK_KEEPS_STATE: the dataset's store (status, export, cursors).
 * PS_SINK_AFTER_STORE (ABI 2.2): the sink commits after the dataset's store has committed and
 * reads the store's payments through ps_commit_info.stored_payments (a sheet kept equal to
 * the store). Its commit failing fails the run, but the store and the sinks before it keep
 * the run; the next run brings the sink up to date. */
enum { PS_SINK_KEEPS_STATE = 1, PS_SINK_AFTER_STORE = 2 };

/* ---- the descriptor ------------------------------------------------------------------- */

typedef struct ps_plugin_descriptor {
    size_t struct_size;  /* sizeof(ps_plugin_descriptor) the plugin was built with */
    uint32_t abi_major;  /* PS_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;  /* PS_ABI_MINOR the plugin was built with */
    const char *name;    /* unique, [a-z0-9_]+ */
    const char *version;
    const char *description;
    ps_plugin_kind kind;
    unsigned flags;      /* PS_SINK_KEEPS_STATE */
    const ps_option_spec *options; /* table terminated by an entry with name NULL */

    /* Creates an instance from validated options. Required. */
    ps_status (*create)(const ps_plugin_ctx *ctx, void **inst, ps_error *err);
    /* Checks reachability/credentials without reading data. Optional. */
    ps_status (*check)(void *inst, ps_error *err);
    /* Frees the instance. Required. */
    void (*destroy)(void *inst);

    const ps_provider_ops *provider; /* kind == PS_PLUGIN_PROVIDER */
    const ps_sink_ops *sink;         /* kind == PS_PLUGIN_SINK */

    size_t option_spec_size; /* sizeof(ps_option_spec): the stride of `options` */
} ps_plugin_descriptor;

typedef const ps_plugin_descriptor *(*ps_plugin_entry_fn)(void);

/* Plugins define their entry with PS_PLUGIN_DEFINE(name, descriptor). Built with
 * -DPS_PLUGIN_STATIC (the project's own unit tests), the entry is named
 * paysync_plugin_entry_<name> instead so that several plugins link into one test program,
 * which registers them with the core's internal static registry. */
#ifdef PS_PLUGIN_STATIC
#define PS_PLUGIN_DEFINE(pname, desc)                                                       \
    const ps_plugin_descriptor *paysync_plugin_entry_##pname(void);                         \
    const ps_plugin_descriptor *paysync_plugin_entry_##pname(void) { return &(desc); }
#else
#define PS_PLUGIN_DEFINE(pname, desc)                                                       \
    PS_PLUGIN_EXPORT const ps_plugin_descriptor *paysync_plugin_entry(void);                \
    PS_PLUGIN_EXPORT const ps_plugin_descriptor *paysync_plugin_entry(void) { return &(desc); }
#endif

#ifdef __cplusplus
}
#endif
#endif
