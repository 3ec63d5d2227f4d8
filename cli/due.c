/* paysync CLI: `run --due` selects the datasets whose schedule is due (see due.h). */
#include "due.h"

#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config/schedule.h"
#include "ds_state.h"
#include "model/timestamp.h"
#include "plugin/host.h"
#include "util/log.h"
#include "util/pathtext.h"

/* 1 when name is among names[0..n). */
static int listed(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

int cli_due_filter(const ps_config *cfg, char ***names, size_t *n)
{
    int rc = cli_check_schedules(cfg);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < *n; i++) {
        if (!ps_config_dataset(cfg, (*names)[i])) {
            cli_error("%s: unknown dataset '%s'", PS_SHOWN(cfg->path), PS_SHOWN((*names)[i]));
            return PS_EXIT_USAGE;
        }
    }
    char **out = calloc(cfg->ndatasets + 1, sizeof *out);
    if (!out) {
        cli_error("out of memory");
        return PS_EXIT_FAILED;
    }
    size_t nout = 0;
    int64_t now = ps_now_ms();
    for (size_t i = 0; i < cfg->ndatasets; i++) {
        const ps_dataset_def *d = &cfg->datasets[i];
        if (*n > 0 && !listed(*names, *n, d->name))
            continue;
        ps_schedule s;
        if (cli_dataset_schedule(cfg, d, &s) != 0) {
            ps_log(PS_LOG_DEBUG, d->name, "no schedule: never due under --due");
            continue;
        }
        cli_ds_state st;
        cli_ds_state_load(cfg, d, &st);
        int due;
        if (!st.store_path) {
            ps_log(PS_LOG_WARN, d->name,
                   "no sqlite sink remembers this dataset's runs: it is due at every --due");
            due = 1;
        } else if (st.store_failed) {
            ps_log(PS_LOG_WARN, d->name, "cannot read the last run (%s): treating it as due",
                   st.error);
            due = 1;
        } else {
            const int64_t *last = st.has_last_ok ? &st.last_ok_started_ms : NULL;
            int64_t next = ps_schedule_next_due(&s, last, now);
            due = next <= now;
            char nbuf[32];
            ps_time_format(next, nbuf);
            ps_log(PS_LOG_DEBUG, d->name, "%s; last successful run %s; next due %s: %s", s.text,
                   st.has_last_ok ? st.last_ok_started : "never", nbuf, due ? "due" : "not due");
        }
        cli_ds_state_free(&st);
        if (due) {
            ps_log(PS_LOG_INFO, d->name, "due (%s)", s.text);
            out[nout++] = d->name;
        }
    }
    free(*names);
    *names = out;
    *n = nout;
    return 0;
}
