/* paysync store: the side file of a brand-new SQLite store (sqlite_build.h). */
#include "store/sqlite_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/crashpoint.h"
#include "util/outfile.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1 /* linux/fs.h */
#endif

/* PATH-build, malloc'd (NULL when out of memory). */
static char *side_path(const char *path)
{
    size_t n = strlen(path);
    char *s = malloc(n + sizeof "-build");
    if (s) {
        memcpy(s, path, n);
        memcpy(s + n, "-build", sizeof "-build");
    }
    return s;
}

/* Removes side's journal files (a killed build's, or a killed publish's WAL): SQLite would
 * otherwise apply them to the new file. */
static void drop_journals(const char *side)
{
    static const char *const ext[] = {"-journal", "-wal", "-shm"};
    size_t n = strlen(side);
    char *p = malloc(n + 16);
    if (!p)
        return;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(p, n + 16, "%s%s", side, ext[i]);
        (void)unlink(p);
    }
    free(p);
}

/* lock_side's results besides PS_SQLITE_BUILD_NONE / BUSY / ERROR */
enum { HELD = 1, AGAIN = 2 };

/* Opens side without following a symbolic link and takes its flock: HELD (fd in *fd), AGAIN
 * (the file was created, removed or replaced under us), or PS_SQLITE_BUILD_NONE (why set) /
 * BUSY / ERROR (errno set). */
static int lock_side(const char *side, int create, int *fd, char *why, size_t cap)
{
    int f = create ? open(side, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)
                   : open(side, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (f < 0) {
        if (errno == EEXIST || errno == ENOENT)
            return AGAIN;
        if (errno == ELOOP) {
            snprintf(why, cap, "'%s' is a symbolic link", side);
            return PS_SQLITE_BUILD_NONE;
        }
        return PS_SQLITE_BUILD_ERROR;
    }
    struct stat a, b;
    if (fstat(f, &a) != 0 || !S_ISREG(a.st_mode)) {
        close(f);
        snprintf(why, cap, "'%s' is not a regular file", side);
        return PS_SQLITE_BUILD_NONE;
    }
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(f);
        errno = e;
        return e == EWOULDBLOCK ? PS_SQLITE_BUILD_BUSY : PS_SQLITE_BUILD_ERROR;
    }
    /* the file still at side (a publish or a sweep moves it only while holding the lock) */
    if (lstat(side, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
        close(f);
        return AGAIN;
    }
    *fd = f;
    return HELD;
}

int ps_sqlite_build_take(const char *path, ps_sqlite_build *b, char *why, size_t cap)
{
    struct stat sb;
    b->side = NULL;
    b->fd = -1;
    why[0] = '\0';
    if (lstat(path, &sb) == 0 || errno != ENOENT)
        return PS_SQLITE_BUILD_NONE; /* the store exists (other errors surface at its open) */
    size_t n = strlen(path);
    char *wal = malloc(n + 8);
    if (!wal)
        return errno = ENOMEM, PS_SQLITE_BUILD_ERROR;
    snprintf(wal, n + 8, "%s-wal", path);
    int stale = lstat(wal, &sb) == 0;
    free(wal);
    if (stale) { /* a WAL without its store: left to SQLite's open, as before */
        snprintf(why, cap, "'%s-wal' exists", path);
        return PS_SQLITE_BUILD_NONE;
    }
    char *side = side_path(path);
    if (!side)
        return errno = ENOMEM, PS_SQLITE_BUILD_ERROR;
    int fd = -1, r = AGAIN;
    for (int tries = 0; tries < 8 && r == AGAIN; tries++) {
        r = lock_side(side, 1, &fd, why, cap);
        if (r != AGAIN)
            break;
        /* a killed build's (or any file there): once nobody holds it, removed with its
         * journals and created again. Never written in place: it could be a second name of
         * another file (a hard link), and every file paysync writes is created exclusively. */
        r = lock_side(side, 0, &fd, why, cap);
        if (r == HELD) {
            (void)unlink(side);
            drop_journals(side);
            close(fd);
            fd = -1;
            r = AGAIN;
        }
    }
    if (r == AGAIN) {
        snprintf(why, cap, "'%s' keeps changing", side);
        r = PS_SQLITE_BUILD_NONE;
    }
    if (r == HELD && lstat(path, &sb) == 0) { /* the store appeared meanwhile */
        (void)unlink(side);
        close(fd);
        r = PS_SQLITE_BUILD_NONE;
    }
    if (r != HELD) {
        free(side);
        return r;
    }
    drop_journals(side);
    b->side = side;
    b->fd = fd;
    return PS_SQLITE_BUILD_TAKEN;
}

static void release(ps_sqlite_build *b)
{
    if (b->fd >= 0)
        close(b->fd);
    b->fd = -1;
    free(b->side);
    b->side = NULL;
}

int ps_sqlite_build_publish(ps_sqlite_build *b, const char *path)
{
    if (fsync(b->fd) != 0)
        return errno;
    ps_crash_point("store-build-before-publish");
    /* never over a store that appeared meanwhile: rename without replace, or (a filesystem
     * without it) a second name, then the first removed */
    if (syscall(SYS_renameat2, AT_FDCWD, b->side, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
        if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
            return errno;
        if (link(b->side, path) != 0)
            return errno;
        (void)unlink(b->side);
    }
    ps_outfile_fsync_parent(path);
    release(b);
    return 0;
}

void ps_sqlite_build_discard(ps_sqlite_build *b)
{
    if (b->fd < 0)
        return;
    (void)unlink(b->side);
    drop_journals(b->side);
    release(b);
}

void ps_sqlite_build_sweep(const char *path)
{
    char *side = side_path(path);
    struct stat sb;
    if (side && lstat(side, &sb) == 0 && S_ISREG(sb.st_mode)) {
        char why[8];
        int fd = -1;
        if (lock_side(side, 0, &fd, why, sizeof why) == HELD) {
            (void)unlink(side);
            drop_journals(side);
            close(fd);
        }
    }
    free(side);
}
