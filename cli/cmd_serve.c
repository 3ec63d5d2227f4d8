/* paysync serve CONFIG [--listen ADDR:PORT]: the platform's pull API (docs/serve.md). */
#include <signal.h>
#include <string.h>

#include "commands.h"
#include "util/log.h"
#include "serve/serve.h"

static const char usage[] =
    "usage: paysync serve CONFIG [--listen ADDR:PORT]\n"
    "\n"
    "Serves the sqlite store named by serve.store as GET /api/odyssey/payments (bearer keys\n"
    "from serve.keys), GET /healthz and GET /metrics until SIGTERM or SIGINT.\n"
    "\n"
    "  --listen ADDR:PORT   override serve.listen (port 0 = any free port); the bound\n"
    "                       address is logged as \"listening on http://ADDR:PORT\"\n"
    "\n"
    "exit codes: 0 stopped by a signal, 1 could not listen, 2 usage or configuration error.\n";

int cmd_serve(int argc, char **argv)
{
    const char *path = NULL, *listen = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return cli_usage(usage, 1);
        if (strcmp(a, "--listen") == 0 || strncmp(a, "--listen=", 9) == 0) {
            listen = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!listen || !*listen) {
                cli_error("--listen takes ADDR:PORT");
                return PS_EXIT_USAGE;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            cli_error("serve: unknown option '%s'", a);
            return cli_usage(usage, 0);
        } else if (!path) {
            path = a;
        } else {
            cli_error("serve: unexpected argument '%s'", a);
            return cli_usage(usage, 0);
        }
    }
    if (!path)
        return cli_usage(usage, 0);

    ps_config *cfg = NULL;
    ps_error err = {0};
    if (ps_config_load(path, &cfg, &err) != PS_OK) {
        cli_error("%s", err.message);
        return PS_EXIT_USAGE;
    }
    cli_warn_config_perms(cfg);

    /* Signals are taken synchronously by this thread; the server threads inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    ps_server *srv = NULL;
    ps_status st = ps_serve_start(cfg, listen, &srv, &err);
    ps_config_free(cfg);
    if (st != PS_OK) {
        cli_error("%s", err.message);
        return st == PS_ERR_IO ? PS_EXIT_FAILED : cli_exit_for(st);
    }
    ps_log(PS_LOG_INFO, "serve", "listening on %s", ps_serve_url(srv));
    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
    ps_log(PS_LOG_INFO, "serve", "%s received: finishing in-flight requests",
           sig == SIGTERM ? "SIGTERM" : "SIGINT");
    ps_serve_stop(srv);
    ps_log(PS_LOG_INFO, "serve", "stopped");
    return PS_EXIT_OK;
}
