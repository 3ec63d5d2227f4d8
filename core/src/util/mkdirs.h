/* paysync: create the folders an output path needs. Part of libpaysync (the SQLite store)
 * and compiled into each plugin that writes files (jsonl, csv) from this one source; it
 * includes nothing of the core. */
#ifndef PS_MKDIRS_H
#define PS_MKDIRS_H

/* mkdir -p of the folders above path (mode 0777 less the umask); the last component is not
 * created. Returns 0, or -1 with errno set (ENOMEM, or mkdir's error other than EEXIST). */
int ps_make_parents(const char *path);

#endif
