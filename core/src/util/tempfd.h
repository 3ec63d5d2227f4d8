/* paysync: the temporary files of a run (the in-run duplicate check's spilled IDs, a first
 * load's sorted meter keys): created exclusively, never named on disk once open. */
#ifndef PS_TEMPFD_H
#define PS_TEMPFD_H

#include <stddef.h>

/* Writes the folder for temporary files into out (cap bytes): given when not NULL or "",
 * else $TMPDIR when set and not empty, else /tmp. */
void ps_temp_dir(const char *given, char *out, size_t cap);

/* A new, empty temporary file in folder dir, named prefix + 6 random characters, created with
 * O_EXCL (a symlink at the name is never followed) and mode 0600, then unlinked: the file
 * goes when the descriptor is closed. The descriptor, or -1 with errno set. */
int ps_temp_fd(const char *dir, const char *prefix);

#endif
