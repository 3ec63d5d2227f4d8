/* paysync CLI: process plumbing for the daemon - a signal self-pipe and child spawning. */
#ifndef PS_CLI_DAEMON_PROC_H
#define PS_CLI_DAEMON_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Signals seen since the last drain. */
typedef struct cli_sigs {
    int term; /* SIGTERM or SIGINT: stop */
    int hup;  /* SIGHUP: reload */
    int chld; /* SIGCHLD: reap */
} cli_sigs;

/* Creates a non-blocking, close-on-exec pipe and installs handlers for SIGTERM, SIGINT,
 * SIGHUP and SIGCHLD that only write the signal number into it. Returns the read end, or -1
 * with errno set. Call once. */
int cli_sigpipe_install(void);

/* Reads every pending signal number from fd into *s (flags are OR-ed in). */
void cli_sigpipe_drain(int fd, cli_sigs *s);

/* The path of the running paysync executable, resolved from /proc/self/exe on the first call
 * (call it before forking; falls back to "/proc/self/exe"). Static storage. */
const char *ps_daemon_self_exe(void);

/* Forks and executes ps_daemon_self_exe() with argv (argv[0] is just a name) in its own process
 * group, with default signal handling. die_with_parent: the child gets SIGKILL when the
 * daemon dies (a leased run: its lease is then taken over and the run redone, so this one
 * must not go on). Returns the child's pid, or -1 with errno set. If exec fails, the child
 * prints the reason and exits 127. */
pid_t cli_spawn_self(char *const argv[], int die_with_parent);

/* "exit status 1" or "killed by signal 6 (Aborted)" for a waitpid status. */
void cli_describe_wait(int status, char *buf, size_t cap);

#endif
