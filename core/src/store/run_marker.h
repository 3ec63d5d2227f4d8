/* paysync store: the start marker of a run (store_schema.h: PS_STORE_RUN_INTERRUPTED), read
 * by the reader (a run in progress is left out) and the writer (a dataset another live run is
 * writing is not touched). */
#ifndef PS_STORE_RUN_MARKER_H
#define PS_STORE_RUN_MARKER_H

/* 1 when error is a start marker whose writer process (pid and start time) still lives; its
 * pid in *pid when pid is not NULL. 0 otherwise (not a marker, or the writer is gone). */
int ps_store_marker_live(const char *error, long *pid);

#endif
