/* paysync core: the vanish guard's decision (vanish_guard.h). */
#include "engine/vanish_guard.h"

#include <inttypes.h>
#include <stdio.h>

#include "model/timestamp.h"

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

const char *ps_vanish_window_text(int64_t ms, char *buf, size_t cap)
{
    char t[40];
    if (ms == INT64_MIN)
        snprintf(buf, cap, "the start");
    else if (ms == INT64_MAX)
        snprintf(buf, cap, "the end");
    else if (ps_time_format(ms, t) > 0)
        snprintf(buf, cap, "%s", t);
    else
        snprintf(buf, cap, "%" PRId64 " ms", ms);
    return buf;
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
    char lim[32], scope[120] = "", a[32], b[32];
    ps_vanish_limit_text(limit, lim, sizeof lim);
    if (g->windowed)
        snprintf(scope, sizeof scope, " in the window read (TIMESTAMP %s to %s)",
                 ps_vanish_window_text(g->window_from_ms, a, sizeof a),
                 ps_vanish_window_text(g->window_to_ms, b, sizeof b));
    snprintf(msg, msglen,
             PS_VANISH_GUARD_CODE ": %sthis run would vanish %" PRIu64 " of %" PRIu64
                                  " stored payments%s, limit %" PRIu64 " (max_vanished %s%s); "
                                  "nothing was committed. %s",
             g->empty_source ? "the source has a header but no data row: " : "", vanishing, stored,
             scope, g->limit, lim,
             g->empty_source ? "; an emptied source passes only with unlimited" : "",
             g->empty_source
                 ? "If the source really is empty now, run again with --allow-vanish, or set "
                   "the dataset's max_vanished: unlimited"
                 : "If they really were removed from the source, run again with "
                   "--allow-vanish, or raise the dataset's max_vanished (a percentage such as "
                   "25%, a count such as 500, or unlimited)");
    return g->outcome;
}
