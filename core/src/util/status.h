/* paysync core: status names (internal). */
#ifndef PS_UTIL_STATUS_H
#define PS_UTIL_STATUS_H

#include "paysync/status.h"

/* Short lower-case name of a status ("ok", "config", "retry", ...). Static storage. */
const char *ps_status_name(ps_status s);

#endif
