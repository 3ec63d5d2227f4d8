/* paysync CLI: signal self-pipe and child spawning for the daemon (see daemon_proc.h). */
#include "daemon_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int sig_wfd = -1;
static const int handled[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD};
#define NHANDLED (sizeof handled / sizeof handled[0])

/* Async-signal-safe: one write of one byte, errno preserved. */
static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t r = write(sig_wfd, &b, 1);
    (void)r; /* a full pipe already holds a wake-up */
    errno = saved;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    int fd_fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fd_fl < 0)
        return -1;
    if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, fd_fl | FD_CLOEXEC) < 0)
        return -1;
    return 0;
}

int cli_sigpipe_install(void)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    if (set_flags(p[0]) != 0 || set_flags(p[1]) != 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        errno = e;
        return -1;
    }
    sig_wfd = p[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < NHANDLED; i++) {
        int flags = handled[i] == SIGCHLD ? SA_RESTART | SA_NOCLDSTOP : SA_RESTART;
        sa.sa_flags = flags;
        if (sigaction(handled[i], &sa, NULL) != 0)
            return -1;
    }
    return p[0];
}

void cli_sigpipe_drain(int fd, cli_sigs *s)
{
    unsigned char buf[64];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == SIGTERM || buf[i] == SIGINT)
                s->term = 1;
            else if (buf[i] == SIGHUP)
                s->hup = 1;
            else if (buf[i] == SIGCHLD)
                s->chld = 1;
        }
    }
}

const char *ps_daemon_self_exe(void)
{
    static char path[4096];
    if (!path[0]) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0 || (size_t)n >= sizeof path - 1)
            snprintf(path, sizeof path, "/proc/self/exe");
        else
            path[n] = '\0';
    }
    return path;
}

pid_t cli_spawn_self(char *const argv[], int die_with_parent)
{
    pid_t parent = getpid();
    sigset_t all, old;
    sigfillset(&all);
    /* No handler may run in the child between fork and the reset below. */
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < NHANDLED; i++)
            sigaction(handled[i], &sa, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0); /* a terminal's Ctrl-C reaches the daemon only; it forwards SIGTERM */
        if (die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent))
            _exit(127); /* the daemon is already gone */
        execv(ps_daemon_self_exe(), argv);
        char msg[256];
        int n = snprintf(msg, sizeof msg, "paysync daemon: cannot execute %s: %s\n",
                         ps_daemon_self_exe(), strerror(errno));
        if (n > 0) {
            ssize_t w = write(STDERR_FILENO, msg, (size_t)n);
            (void)w;
        }
        _exit(127);
    }
    int e = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid > 0)
        setpgid(pid, pid); /* also from here: no race with a kill right after the fork */
    errno = e;
    return pid;
}

void cli_describe_wait(int status, char *buf, size_t cap)
{
    if (WIFEXITED(status)) {
        snprintf(buf, cap, "exit status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char *name = strsignal(sig);
        snprintf(buf, cap, "killed by signal %d (%s)%s", sig, name ? name : "?",
#ifdef WCOREDUMP
                 WCOREDUMP(status) ? ", core dumped" : ""
#else
                 ""
#endif
        );
    } else {
        snprintf(buf, cap, "wait status %d", status);
    }
}
