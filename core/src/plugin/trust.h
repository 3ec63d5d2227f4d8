/* paysync core: StrictModes-style checks of a plugin file before it is loaded. */
#ifndef PS_PLUGIN_TRUST_H
#define PS_PLUGIN_TRUST_H

#include "paysync/status.h"

/* Opens plugin file `file` for loading after checking that only root or the running user can
 * replace it: the real path (symlinks resolved) must be a regular file owned by root or the
 * effective user and not writable by group or others, and every folder from it up to `/` must
 * be owned by root or the effective user and not writable by group or others unless it is
 * sticky (such as /tmp). The file is opened O_NOFOLLOW and checked through the descriptor, so
 * the file checked is the file returned. Returns the descriptor (O_RDONLY|O_CLOEXEC, caller
 * closes) or -1 with PS_ERR_PLUGIN in err naming `file`, the offending path, its mode in octal
 * and the fix. */
int ps_plugin_open_trusted(const char *file, ps_error *err);

/* Writes the name through which descriptor fd of an opened plugin can be dlopen'ed
 * ("/proc/self/fd/N") into buf; returns 0, or -1 when /proc is not mounted. */
int ps_plugin_fd_path(int fd, char *buf, size_t cap);

#endif
