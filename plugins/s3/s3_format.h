/* Object body formats of the s3 sink: csv (the 21 Electricity Payments columns in the model's
 * order, header row, RFC 4180 quoting, CRLF: the same bytes as the csv sink) and jsonl (one
 * object per payment, as the jsonl sink writes it, with DATASET). */
#ifndef PS_S3_FORMAT_H
#define PS_S3_FORMAT_H

#include <stddef.h>

#include "paysync/plugin.h"

/* The most bytes s3_format_record may write for rec (dataset included for jsonl). */
size_t s3_format_bound(const ps_record *rec, size_t dataset_len);

/* The csv header row (with CRLF) into out (room for 1024 bytes); returns its length. */
size_t s3_format_csv_header(const ps_host *host, char *out);

/* One record as a csv row (jsonl = 0) or a JSON line (jsonl = 1, dataset names DATASET) into
 * out, which has room for s3_format_bound bytes. Returns the bytes written. */
size_t s3_format_record(const ps_host *host, const ps_record *rec, int jsonl, const char *dataset,
                        char *out);

#endif
