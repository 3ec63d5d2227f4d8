/* paysync core: atomically published output file (see outfile.h). */
#include "util/outfile.h"

#include "util/crashpoint.h"
#include "util/mkdirs.h"
#include "util/pathtext.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define OUTFILE_BUF (1u << 20)

/* A path in a message is cut in the middle when long (util/pathtext.h). */
#define SHORT(p) PS_SHOWN(p)

static int is_stdout(const ps_outfile *o)
{
    return strcmp(o->target, "-") == 0;
}

static const char *shown(const ps_outfile *o)
{
    return is_stdout(o) ? "<stdout>" : o->target;
}

ps_status ps_outfile_init(ps_outfile *o, const char *path, int do_fsync, ps_error *err)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->do_fsync = do_fsync;
    o->target = strdup(path);
    o->buf = malloc(OUTFILE_BUF);
    if (!o->target || !o->buf) {
        free(o->target);
        free(o->buf);
        o->target = o->buf = NULL;
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    }
    o->cap = OUTFILE_BUF;
    return PS_OK;
}

ps_outfile *ps_outfile_new(const char *path, int do_fsync, ps_error *err)
{
    if (!path || !*path) {
        ps_error_setf(err, PS_ERR_USAGE, "outfile_new: no path");
        return NULL;
    }
    ps_outfile *o = malloc(sizeof *o);
    if (!o) {
        ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (ps_outfile_init(o, path, do_fsync, err) != PS_OK) {
        free(o);
        return NULL;
    }
    return o;
}

void ps_outfile_delete(ps_outfile *o)
{
    if (!o)
        return;
    ps_outfile_free(o);
    free(o);
}

void ps_outfile_advance(ps_outfile *o, size_t used)
{
    if (used > o->cap - o->len) { /* more than reserved: a caller bug, never publish */
        o->io_errno = EOVERFLOW;
        return;
    }
    o->len += used;
}

void ps_remove_dead_temps(const char *path, const char *pre, const char *post)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) : 0;
    const char *base = slash ? slash + 1 : path;
    char dir[4096];
    if (dirlen >= sizeof dir)
        return;
    if (!slash)
        strcpy(dir, ".");
    else if (dirlen == 0)
        strcpy(dir, "/");
    else {
        memcpy(dir, path, dirlen);
        dir[dirlen] = '\0';
    }
    char prefix[1024];
    int plen = snprintf(prefix, sizeof prefix, "%s%s%s", pre, base, post);
    if (plen <= 0 || (size_t)plen >= sizeof prefix)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, (size_t)plen) != 0)
            continue;
        char *end = NULL;
        long pid = strtol(e->d_name + plen, &end, 10);
        if (!end || (*end != '\0' && *end != '-') || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        unlink(full);
    }
    closedir(d);
}

static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    return "not a regular file";
}

ps_status ps_outfile_check_target(const char *target, ps_error *err)
{
    struct stat st;
    if (lstat(target, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return PS_OK; /* absent (a missing folder is reported when the temp file is made) */
        return ps_error_setf(err, PS_ERR_SINK, "cannot check '%s': %s", SHORT(target),
                             strerror(errno));
    }
    if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
        return PS_OK; /* a symlink is replaced by the new file, never written through */
    return ps_error_setf(err, PS_ERR_SINK,
                         "refusing to replace '%s': it is %s, not a regular file (name a file "
                         "path%s)",
                         SHORT(target), file_kind(st.st_mode),
                         S_ISCHR(st.st_mode) ? ", or '-' for standard output where supported" : "");
}

ps_status ps_outfile_open_temp(const char *target, int make_parents, int *fd, char **tmp,
                               ps_error *err)
{
    *fd = -1;
    *tmp = NULL;
    ps_status cst = ps_outfile_check_target(target, err);
    if (cst != PS_OK)
        return cst;
    if (make_parents && ps_make_parents(target) != 0)
        return ps_error_setf(err, PS_ERR_SINK, "cannot create the folder of '%s': %s",
                             SHORT(target), strerror(errno));
    const char *slash = strrchr(target, '/');
    size_t dirlen = slash ? (size_t)(slash - target) + 1 : 0;
    const char *base = target + dirlen;
    size_t n = strlen(target) + 40;
    char *t = malloc(n);
    if (!t)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
    ps_remove_dead_temps(target, ".", ".tmp-");
    /* ".NAME.tmp-PID": a later run can tell a killed run's leftovers by the dead PID. */
    snprintf(t, n, "%.*s.%s.tmp-%ld", (int)dirlen, target, base, (long)getpid());
    int f = open(t, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (f < 0 && errno == EEXIST) { /* ours from an earlier writer, or planted: never reused */
        snprintf(t, n, "%.*s.%s.tmp-%ld-XXXXXX", (int)dirlen, target, base, (long)getpid());
        f = mkstemp(t); /* O_EXCL: a symlink at the name is never followed */
        if (f >= 0)
            (void)fcntl(f, F_SETFD, FD_CLOEXEC);
    }
    if (f < 0) {
        int e = errno;
        free(t);
        return ps_error_setf(err, PS_ERR_SINK, "cannot create a temporary file next to '%s': %s",
                             SHORT(target), strerror(e));
    }
    /* 0600 until now: take the previous output's mode (regular files only), else rw-r--r--. */
    struct stat st;
    mode_t mode = 0644;
    if (lstat(target, &st) == 0 && S_ISREG(st.st_mode))
        mode = st.st_mode & 07777;
    (void)fchmod(f, mode);
    *fd = f;
    *tmp = t;
    return PS_OK;
}

/* After the temp file is written and closed: re-check, crash point, rename, fsync folder. */
static ps_status rename_into_place(ps_status st, const char *tmp, const char *target, int do_fsync,
                                   const char *before_rename, ps_error *err)
{
    if (st == PS_OK)
        st = ps_outfile_check_target(target, err); /* replaced by a FIFO/device meanwhile? */
    if (st == PS_OK && before_rename)
        ps_crash_point(before_rename); /* the temp file is complete */
    if (st == PS_OK && rename(tmp, target) != 0)
        st = ps_error_setf(err, PS_ERR_SINK, "cannot rename '%s' to '%s': %s", SHORT(tmp),
                           SHORT(target), strerror(errno));
    if (st != PS_OK) {
        unlink(tmp);
        return st;
    }
    if (do_fsync)
        ps_outfile_fsync_parent(target);
    return PS_OK;
}

ps_status ps_outfile_publish_temp(int fd, const char *tmp, const char *target, int do_fsync,
                                  const char *before_rename, ps_error *err)
{
    ps_status st = PS_OK;
    if (do_fsync && fsync(fd) != 0)
        st = ps_error_setf(err, PS_ERR_SINK, "cannot write '%s' (fsync of %s): %s", SHORT(target),
                           SHORT(tmp), strerror(errno));
    if (close(fd) != 0 && st == PS_OK)
        st = ps_error_setf(err, PS_ERR_SINK, "cannot write '%s' (closing %s): %s", SHORT(target),
                           SHORT(tmp), strerror(errno));
    return rename_into_place(st, tmp, target, do_fsync, before_rename, err);
}

ps_status ps_outfile_publish_file(FILE *f, const char *tmp, const char *target,
                                  const char *before_rename, ps_error *err)
{
    ps_status st = PS_OK;
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)
        st = ps_error_setf(err, PS_ERR_SINK, "cannot write '%s' (temporary file %s): %s",
                           SHORT(target), SHORT(tmp), strerror(errno ? errno : EIO));
    if (fclose(f) != 0 && st == PS_OK)
        st = ps_error_setf(err, PS_ERR_SINK, "cannot write '%s' (closing %s): %s", SHORT(target),
                           SHORT(tmp), strerror(errno));
    return rename_into_place(st, tmp, target, 1, before_rename, err);
}

FILE *ps_outfile_fopen_temp(const char *target, int make_parents, char **tmp, ps_error *err)
{
    int fd;
    if (ps_outfile_open_temp(target, make_parents, &fd, tmp, err) != PS_OK)
        return NULL;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        ps_error_setf(err, PS_ERR_NOMEM, "cannot open a stream on %s: %s", *tmp, strerror(errno));
        close(fd);
        unlink(*tmp);
        free(*tmp);
        *tmp = NULL;
    }
    return f;
}

static ps_status create_temp(ps_outfile *o, ps_error *err)
{
    if (is_stdout(o)) {
        const char *dir = getenv("TMPDIR");
        if (!dir || !*dir)
            dir = "/tmp";
        size_t n = strlen(dir) + 32;
        char *t = malloc(n);
        if (!t)
            return ps_error_setf(err, PS_ERR_NOMEM, "out of memory");
        snprintf(t, n, "%s/paysync-out-XXXXXX", dir);
        o->fd = mkstemp(t);
        int e = errno;
        if (o->fd >= 0)
            unlink(t);
        free(t);
        if (o->fd < 0)
            return ps_error_setf(err, PS_ERR_SINK,
                                 "cannot create a temporary file in '%s' for stdout output: %s",
                                 dir, strerror(e));
        return PS_OK;
    }
    return ps_outfile_open_temp(o->target, 1, &o->fd, &o->tmp_path, err);
}

ps_status ps_outfile_begin(ps_outfile *o, const char *preamble, size_t n, ps_error *err)
{
    if (o->ds_open)
        return ps_error_setf(err, PS_ERR_INTERNAL,
                             "sink for '%s': a dataset was opened before the previous one "
                             "was committed or aborted",
                             shown(o));
    if (o->fd < 0) {
        ps_status st = create_temp(o, err);
        if (st != PS_OK)
            return st;
        o->flushed = 0;
        o->len = 0;
        o->io_errno = 0;
        if (n > 0 && ps_outfile_put(o, preamble, n) != 0)
            return ps_outfile_check(o, err);
    }
    o->ds_open = 1;
    o->ds_start = o->flushed + o->len;
    return PS_OK;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int flush_buf(ps_outfile *o)
{
    if (o->io_errno)
        return -1;
    if (o->len == 0)
        return 0;
    if (write_all(o->fd, o->buf, o->len) != 0) {
        o->io_errno = errno ? errno : EIO;
        return -1;
    }
    o->flushed += o->len;
    o->len = 0;
    return 0;
}

char *ps_outfile_reserve(ps_outfile *o, size_t n)
{
    if (o->io_errno)
        return NULL;
    if (o->cap - o->len >= n)
        return o->buf + o->len;
    if (flush_buf(o) != 0)
        return NULL;
    if (n > o->cap) {
        char *nb = realloc(o->buf, n);
        if (!nb) {
            o->io_errno = ENOMEM;
            return NULL;
        }
        o->buf = nb;
        o->cap = n;
    }
    return o->buf;
}

int ps_outfile_put(ps_outfile *o, const char *s, size_t n)
{
    char *p = ps_outfile_reserve(o, n);
    if (!p)
        return -1;
    memcpy(p, s, n);
    o->len += n;
    return 0;
}

ps_status ps_outfile_check(ps_outfile *o, ps_error *err)
{
    if (!o->io_errno)
        return PS_OK;
    if (o->io_errno == ENOMEM)
        return ps_error_setf(err, PS_ERR_NOMEM, "out of memory writing '%s'", shown(o));
    return ps_error_setf(err, PS_ERR_SINK, "cannot write '%s' (temporary file %s): %s",
                         SHORT(shown(o)), o->tmp_path ? SHORT(o->tmp_path) : "in $TMPDIR",
                         strerror(o->io_errno));
}

ps_status ps_outfile_commit(ps_outfile *o, ps_error *err)
{
    if (!o->ds_open)
        return ps_error_setf(err, PS_ERR_INTERNAL, "sink for '%s': commit without open", shown(o));
    flush_buf(o);
    ps_status st = ps_outfile_check(o, err);
    if (st != PS_OK)
        return st;
    o->ds_open = 0;
    return PS_OK;
}

void ps_outfile_abort(ps_outfile *o)
{
    if (!o->ds_open)
        return;
    o->ds_open = 0;
    if (o->ds_start >= o->flushed) {
        o->len = (size_t)(o->ds_start - o->flushed);
        return;
    }
    o->len = 0;
    if (ftruncate(o->fd, (off_t)o->ds_start) != 0 ||
        lseek(o->fd, (off_t)o->ds_start, SEEK_SET) < 0) {
        o->io_errno = errno ? errno : EIO;
        return;
    }
    o->flushed = o->ds_start;
}

static void discard(ps_outfile *o)
{
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    if (o->tmp_path) {
        unlink(o->tmp_path);
        free(o->tmp_path);
        o->tmp_path = NULL;
    }
    o->len = 0;
    o->flushed = 0;
    o->ds_open = 0;
    o->io_errno = 0;
}

static ps_status copy_to_stdout(ps_outfile *o, ps_error *err)
{
    if (lseek(o->fd, 0, SEEK_SET) < 0)
        return ps_error_setf(err, PS_ERR_SINK, "cannot rewind the stdout temporary file: %s",
                             strerror(errno));
    fflush(stdout);
    for (;;) {
        ssize_t r = read(o->fd, o->buf, o->cap);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ps_error_setf(err, PS_ERR_SINK, "cannot read the stdout temporary file: %s",
                                 strerror(errno));
        if (r == 0)
            return PS_OK;
        if (write_all(STDOUT_FILENO, o->buf, (size_t)r) != 0)
            return ps_error_setf(err, PS_ERR_SINK, "cannot write to stdout: %s", strerror(errno));
    }
}

void ps_outfile_fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
    if (!dir)
        return;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(dir);
}

ps_status ps_outfile_finish(ps_outfile *o, int all_ok, ps_error *err)
{
    if (o->fd < 0)
        return PS_OK; /* no dataset began: nothing to publish or discard */
    if (o->ds_open)
        ps_outfile_abort(o);
    if (!all_ok) {
        discard(o);
        return PS_OK;
    }
    flush_buf(o);
    ps_status st = ps_outfile_check(o, err);
    if (st == PS_OK && is_stdout(o)) {
        st = copy_to_stdout(o, err);
    } else if (st == PS_OK) {
        int fd = o->fd;
        o->fd = -1; /* closed by publish */
        st = ps_outfile_publish_temp(fd, o->tmp_path, o->target, o->do_fsync,
                                     "outfile-before-rename", err);
        free(o->tmp_path);
        o->tmp_path = NULL; /* renamed, or unlinked on failure */
        if (st == PS_OK)
            ps_crash_point("outfile-after-rename");
    }
    discard(o);
    return st;
}

void ps_outfile_free(ps_outfile *o)
{
    discard(o);
    free(o->target);
    free(o->buf);
    o->target = o->buf = NULL;
}
