/* scratch.c - a private scratch folder for a unit test file (see scratch.h). */
#include "tests/unit/support/scratch.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
toa_test_scratch_make (char *dir, size_t size, const char *prefix)
{
    int n = snprintf (dir, size, "/tmp/%s.XXXXXX", prefix);
    if (n < 0 || (size_t) n >= size)
        return -1;
    return mkdtemp (dir) ? 0 : -1;
}

int
toa_test_scratch_remove (const char *dir)
{
    char command[128];
    int n = snprintf (command, sizeof command, "rm -rf '%s'", dir);
    if (n < 0 || (size_t) n >= sizeof command)
        return -1;
    return system (command) == 0 ? 0 : -1;
}
