/* paysync core: status names. */
#include "util/status.h"

const char *ps_status_name(ps_status s)
{
    switch (s) {
    case PS_OK: return "ok";
    case PS_END: return "end";
    case PS_ERR_USAGE: return "usage";
    case PS_ERR_CONFIG: return "config";
    case PS_ERR_PLUGIN: return "plugin";
    case PS_ERR_IO: return "io";
    case PS_ERR_NOMEM: return "nomem";
    case PS_ERR_DATA: return "data";
    case PS_ERR_SOURCE: return "source";
    case PS_ERR_SINK: return "sink";
    case PS_ERR_NETWORK: return "network";
    case PS_ERR_AUTH: return "auth";
    case PS_ERR_INTERNAL: return "internal";
    case PS_RETRY: return "retry";
    }
    return "unknown";
}
