/* paysync core: the FROM/TO window shared by export and serve (time_window.h). */
#include "model/time_window.h"

#include "model/timestamp.h"

const char *ps_time_window_order_message(void)
{
    return "FROM must not be after TO";
}

int ps_time_window_bound(const char *s, size_t len, int64_t *ms, int64_t *unit_ms)
{
    int64_t v;
    int rc = ps_time_parse_iso(s, len, NULL, &v);
    if (rc != PS_TIME_OK)
        return rc;
    /* The parser accepted YYYY-MM-DD[(T| )HH:MM[:SS[(.|,)F...]]][zone]. */
    int64_t unit = 1;
    if (len == 10)
        unit = INT64_C(86400000);
    else if (len < 17 || s[16] != ':')
        unit = 60000;
    else if (len < 20 || (s[19] != '.' && s[19] != ','))
        unit = 1000;
    *ms = v;
    *unit_ms = unit;
    return PS_TIME_OK;
}

int ps_time_window_close(int64_t from_ms, int64_t to_ms, int64_t to_unit_ms, int64_t *end_ms)
{
    if (from_ms > to_ms)
        return -1;
    if (to_unit_ms < 1)
        to_unit_ms = 1;
    *end_ms = to_ms > INT64_MAX - (to_unit_ms - 1) ? INT64_MAX : to_ms + (to_unit_ms - 1);
    return 0;
}
