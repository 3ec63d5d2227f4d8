/* paysync core: the vanish guard's decision (vanish_guard.h). */
#include "engine/vanish_guard.h"

#include <inttypes.h>
#include <stdio.h>

const char *ps_vanish_guard_outcome_name(ps_guard_outcome o)
{
    switch (o) {
    case PS_GUARD_PASSED:
        return "passed";
    case PS_GUARD_ALLOWED:
        return "allowed";
    case PS_GUARD_TRIPPED:
        return "tripped";
    case PS_GUARD_NOT_CHECKED:
    default:
        return "not_checked";
    }
}

ps_guard_outcome ps_vanish_guard_decide(ps_vanish_guard *g, const ps_vanish_limit *limit, int allow,
                                        uint64_t stored, uint64_t vanishing, int empty_source,
                                        char *msg, size_t msglen)
{
    g->stored = stored;
    g->vanishing = vanishing;
    g->limit = ps_vanish_limit_of(limit, stored);
    g->empty_source = empty_source && stored > 0;
    int unlimited = limit->kind == PS_VANISH_UNLIMITED;
    /* An emptied source passes only `unlimited` or --allow-vanish, whatever the percentage. */
    int over = vanishing > g->limit || (g->empty_source && vanishing > 0);
    if (!over) {
        g->outcome = PS_GUARD_PASSED;
        return g->outcome;
    }
    if (allow || unlimited) {
        g->outcome = PS_GUARD_ALLOWED;
        return g->outcome;
    }
    g->outcome = PS_GUARD_TRIPPED;
    char lim[32];
    ps_vanish_limit_text(limit, lim, sizeof lim);
    snprintf(msg, msglen,
             PS_VANISH_GUARD_CODE ": %sthis run would vanish %" PRIu64 " of %" PRIu64
                                  " stored payments, limit %" PRIu64 " (max_vanished %s%s); "
                                  "nothing was committed. %s",
             g->empty_source ? "the source has a header but no data row: " : "", vanishing, stored,
             g->limit, lim, g->empty_source ? "; an emptied source passes only with unlimited" : "",
             g->empty_source
                 ? "If the source really is empty now, run again with --allow-vanish, or set "
                   "the dataset's max_vanished: unlimited"
                 : "If they really were removed from the source, run again with "
                   "--allow-vanish, or raise the dataset's max_vanished (a percentage such as "
                   "25%, a count such as 500, or unlimited)");
    return g->outcome;
}
