/* paysync core: the scalar key/value pair of a parsed config (kept apart from config.h so
 * that consumers such as schedule.h need not depend on the whole config). */
#ifndef PS_KV_H
#define PS_KV_H

/* A scalar key/value with where it was written (1-based line and column). */
typedef struct ps_kv {
    char *key;
    char *value; /* after ${VAR} substitution */
    int line, col;
} ps_kv;

#endif
