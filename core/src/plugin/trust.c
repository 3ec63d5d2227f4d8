/* paysync core: StrictModes-style checks of a plugin file before it is loaded (trust.h). */
#include "plugin/trust.h"
#include "util/pathtext.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int trusted_uid(uid_t u)
{
    return u == 0 || u == geteuid();
}

/* The full permission bits in octal, sticky/setuid/setgid included ("1777", "755"). */
static unsigned mode_bits(mode_t m)
{
    return (unsigned)(m & 07777);
}

/* Fills err with "FILE: refusing to load: SUBJECT WHERE PROBLEM; fix with: CMD 'PATH'", PATH
 * whole in the hint so that the command can be pasted (the subject then does not repeat it).
 * When that does not fit the message, PATH is named in the subject cut in the middle
 * (util/pathtext.h) and the hint goes without it: a cut path is never offered for pasting. */
static ps_status refuse(ps_error *err, const char *file, const char *subject, const char *path,
                        const char *where, const char *problem, const char *cmd)
{
    char whole[sizeof err->message + 1];
    int n = snprintf(whole, sizeof whole, "%s: refusing to load: %s%s %s; fix with: %s '%s'", file,
                     subject, where, problem, cmd, path);
    if (n >= 0 && (size_t)n < sizeof err->message)
        return ps_error_setf(err, PS_ERR_PLUGIN, "%s", whole);
    return ps_error_setf(err, PS_ERR_PLUGIN,
                         "%s: refusing to load: %s %s%s %s; fix with: %s on it (its path is too "
                         "long to show whole here)",
                         file, subject, PS_SHOWN(path), where, problem, cmd);
}

/* Checks folder dir (one of the folders holding the plugin's real path). above: 0 for the
 * plugin's own folder, 1 for a folder further up. */
/* file: the plugin as shown in messages (already cut, util/pathtext.h). */
static ps_status check_dir(const char *file, const char *dir, int above, ps_error *err)
{
    const char *which = above ? "the directory" : "its directory";
    const char *where = above ? " above it" : "";
    char problem[128];
    struct stat sd;
    if (lstat(dir, &sd) != 0)
        return ps_error_setf(err, PS_ERR_PLUGIN, "%s: refusing to load: cannot stat %s: %s",
                             file, PS_SHOWN(dir), strerror(errno));
    if (!S_ISDIR(sd.st_mode))
        return ps_error_setf(err, PS_ERR_PLUGIN,
                             "%s: refusing to load: %s changed while it was checked (no longer "
                             "a directory)",
                             file, PS_SHOWN(dir));
    if (!trusted_uid(sd.st_uid)) {
        snprintf(problem, sizeof problem, "is owned by uid %u (mode %03o), neither you nor root",
                 (unsigned)sd.st_uid, mode_bits(sd.st_mode));
        return refuse(err, file, which, dir, where, problem, "chown root");
    }
    /* A sticky folder is fine: only the owner of an entry (checked trusted one step below)
     * or root can remove or rename it. */
    if ((sd.st_mode & (S_IWGRP | S_IWOTH)) && !(sd.st_mode & S_ISVTX)) {
        snprintf(problem, sizeof problem, "is writable by group or others (mode %03o)",
                 mode_bits(sd.st_mode));
        return refuse(err, file, which, dir, where, problem, "chmod go-w");
    }
    return PS_OK;
}

int ps_plugin_open_trusted(const char *file, ps_error *err)
{
    char *real = realpath(file, NULL);
    if (!real) {
        ps_error_setf(err, PS_ERR_PLUGIN, "%s: cannot stat: %s", PS_SHOWN(file), strerror(errno));
        return -1;
    }
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        ps_error_setf(err, PS_ERR_PLUGIN, "%s: refusing to load: cannot open %s: %s", PS_SHOWN(file),
                      PS_SHOWN(real),
                      errno == ELOOP ? "it became a symlink while it was checked"
                                     : strerror(errno));
        free(real);
        return -1;
    }
    /* Name the real path in every message when it differs (a symlink was followed). */
    char shown[1024];
    if (strcmp(real, file) != 0)
        snprintf(shown, sizeof shown, "%s (real path %s)", PS_SHOWN(file), PS_SHOWN(real));
    else
        snprintf(shown, sizeof shown, "%s", PS_SHOWN(file));
    struct stat sf, sl;
    ps_status st = PS_OK;
    char problem[128];
    if (fstat(fd, &sf) != 0)
        st = ps_error_setf(err, PS_ERR_PLUGIN, "%s: cannot stat: %s", shown, strerror(errno));
    else if (!S_ISREG(sf.st_mode))
        st = ps_error_setf(err, PS_ERR_PLUGIN, "%s: refusing to load: not a regular file", shown);
    else if (sf.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(problem, sizeof problem, "is writable by group or others (mode %03o)",
                 mode_bits(sf.st_mode));
        st = refuse(err, shown, "the file", real, "", problem, "chmod go-w");
    } else if (!trusted_uid(sf.st_uid)) {
        snprintf(problem, sizeof problem, "is owned by uid %u, neither you nor root",
                 (unsigned)sf.st_uid);
        st = refuse(err, shown, "the file", real, "", problem, "chown root");
    }
    /* Every folder from the file's up to '/'. */
    int above = 0;
    for (char *slash = strrchr(real, '/'); st == PS_OK && slash; slash = strrchr(real, '/')) {
        int top = slash == real;
        *slash = '\0';
        st = check_dir(shown, top ? "/" : real, above++, err);
        if (top)
            break;
    }
    free(real);
    if (st == PS_OK && (stat(file, &sl) != 0 || sl.st_dev != sf.st_dev || sl.st_ino != sf.st_ino))
        st = ps_error_setf(err, PS_ERR_PLUGIN,
                           "%s: refusing to load: the file changed while it was checked", shown);
    if (st != PS_OK) {
        close(fd);
        return -1;
    }
    return fd;
}

int ps_plugin_fd_path(int fd, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "/proc/self/fd/%d", fd);
    if (n < 0 || (size_t)n >= cap || access(buf, F_OK) != 0)
        return -1;
    return 0;
}
