/* paysync: create the folders an output path needs: the one `mkdir -p` of paysync (the
 * SQLite store, output files, rejects/warnings files and the run report). */
#ifndef PS_MKDIRS_H
#define PS_MKDIRS_H

#include <sys/types.h>

/* mkdir -p of the folders above path with mode (less the umask); the last component is not
 * created. Returns 0, or -1 with errno set (ENOMEM, or mkdir's error other than EEXIST). */
int ps_make_parents_mode(const char *path, mode_t mode);

/* ps_make_parents_mode(path, 0777). */
int ps_make_parents(const char *path);

#endif
