/* Test plugin: a constructor that creates the file named by $PS_CTOR_MARKER when the object
 * is mapped. The loader must refuse an untrusted copy before dlopen, so the marker never
 * appears; a trusted copy runs it (and is then refused: it has no entry function). */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void ctor_marker(void)
{
    const char *m = getenv("PS_CTOR_MARKER");
    if (!m)
        return;
    int fd = open(m, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}
