/* paysync core: the plugin conformance kit: check runner and report. */
#include "kit/kit.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kit/kit_checks.h"

void ps_kit_add(ps_kit_report *rep, const char *check, ps_kit_outcome outcome, const char *fmt, ...)
{
    if (rep->n >= PS_KIT_MAX_RESULTS)
        return;
    ps_kit_result *r = &rep->results[rep->n++];
    snprintf(r->check, sizeof r->check, "%s", check);
    r->outcome = outcome;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
    if (outcome == PS_KIT_PASS)
        rep->passed++;
    else if (outcome == PS_KIT_FAIL)
        rep->failed++;
    else
        rep->skipped++;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs fn in a child process: a crash, an exit or a hang becomes the check's failure. */
static void run_isolated(ps_kit_ctx *k, const char *name, ps_kit_check_fn fn, ps_kit_report *rep)
{
    ps_kit_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.check, sizeof r.check, "%s", name);
    int fds[2];
    if (pipe(fds) != 0) {
        ps_kit_add(rep, name, PS_KIT_FAIL, "kit: pipe: %s", strerror(errno));
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        ps_kit_add(rep, name, PS_KIT_FAIL, "kit: fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        fn(k, &r);
        const char *p = (const char *)&r;
        size_t left = sizeof r;
        while (left > 0) {
            ssize_t w = write(fds[1], p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                _exit(3);
            p += w;
            left -= (size_t)w;
        }
        _exit(0);
    }
    close(fds[1]);
    unsigned timeout_s = k->opts.timeout_s ? k->opts.timeout_s : 60;
    int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
    size_t got = 0;
    int timed_out = 0;
    char *dst = (char *)&r;
    while (got < sizeof r) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        ssize_t n = read(fds[0], dst + got, sizeof r - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
        ps_kit_add(rep, name, PS_KIT_FAIL,
                   "did not finish within %u s (a hang, e.g. PS_OK without rows for ever; "
                   "--timeout raises the limit for slow sources)",
                   timeout_s);
        return;
    }
    if (WIFSIGNALED(status)) {
        ps_kit_add(rep, name, PS_KIT_FAIL, "crashed with signal %d (%s)", WTERMSIG(status),
                   strsignal(WTERMSIG(status)));
        return;
    }
    if (got != sizeof r || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        ps_kit_add(rep, name, PS_KIT_FAIL,
                   "the plugin ended the process (exit status %d) before the check finished",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return;
    }
    r.check[sizeof r.check - 1] = '\0';
    r.detail[sizeof r.detail - 1] = '\0';
    ps_kit_add(rep, name, r.outcome, "%s", r.detail);
}

void ps_kit_run(const ps_plugin_descriptor *d, const ps_kit_options *o, ps_kit_report *rep)
{
    ps_kit_ctx k;
    memset(&k, 0, sizeof k);
    k.desc = d;
    if (o)
        k.opts = *o;
    if (!k.opts.dataset)
        k.opts.dataset = "kit";
    if (!k.opts.batch_rows)
        k.opts.batch_rows = 100;
    const ps_kit_check *checks =
        d->kind == PS_PLUGIN_PROVIDER ? ps_kit_provider_checks : ps_kit_sink_checks;
    for (size_t i = 0; checks[i].name; i++)
        run_isolated(&k, checks[i].name, checks[i].fn, rep);
}

static const char *outcome_word(ps_kit_outcome o)
{
    return o == PS_KIT_PASS ? "pass" : o == PS_KIT_FAIL ? "FAIL" : "skip";
}

void ps_kit_print(const ps_kit_report *rep, FILE *out)
{
    size_t w = 5;
    for (size_t i = 0; i < rep->n; i++)
        if (strlen(rep->results[i].check) > w)
            w = strlen(rep->results[i].check);
    fprintf(out, "  %-*s  %-6s %s\n", (int)w, "check", "result", "detail");
    for (size_t i = 0; i < rep->n; i++) {
        const ps_kit_result *r = &rep->results[i];
        fprintf(out, "  %-*s  %-6s %s\n", (int)w, r->check, outcome_word(r->outcome), r->detail);
    }
    fprintf(out, "%zu passed, %zu failed, %zu skipped\n", rep->passed, rep->failed, rep->skipped);
}
