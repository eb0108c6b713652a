/* spawn.c - runs a helper program and waits for it (see spawn.h). */
#include "client/spawn.h"

#include <errno.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>

extern char **environ;

int
toa_spawn_wait (char *const argv[])
{
    pid_t pid;
    int rc = posix_spawnp (&pid, argv[0], NULL, NULL, argv, environ);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    int status = 0;
    while (waitpid (pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED (status) ? WEXITSTATUS (status) : 1;
}
