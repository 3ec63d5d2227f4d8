/* paysync: canonical timestamp text (the parsers and formatter are internal to the core). */
#ifndef PAYSYNC_TIMESTAMP_H
#define PAYSYNC_TIMESTAMP_H

#ifdef __cplusplus
extern "C" {
#endif

/* Canonical text "yyyy-MM-ddTHH:mm:ss.SSSZ" is 24 chars; buffer size with NUL. */
#define PS_TIME_TEXT_MAX 32

#ifdef __cplusplus
}
#endif
#endif
