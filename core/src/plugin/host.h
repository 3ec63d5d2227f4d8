/* paysync core: the host API table handed to plugins. */
#ifndef PS_HOST_H
#define PS_HOST_H

#include "engine/mapping.h"
#include "paysync/plugin.h"

/* The core's view of one plugin instance (what host callbacks receive as env). */
struct ps_env {
    const char *name;              /* instance name used as the log component */
    const ps_mapping_spec *mapping; /* dataset mapping for match_header; may be NULL */
};

/* The process-wide host table (static storage, immutable). */
const ps_host *ps_host_get(void);

/* Wall and monotonic clocks in ms: util/clock.h's (tests fake them, see there). */
int64_t ps_now_ms(void);
int64_t ps_monotonic_ms(void);

#endif
