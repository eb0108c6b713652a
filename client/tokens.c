/* tokens.c - the client's job tokens (see tokens.h). */
#include "client/tokens.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The token directory into DIR, made (0700) when MAKE. Returns 0 or -1. */
static int
s_dir (char *dir, size_t size, int make)
{
    const char *env = getenv ("TOA_TOKEN_DIR"), *state = getenv ("XDG_STATE_HOME");
    const char *home = getenv ("HOME");
    int n;
    if (env && *env)
        n = snprintf (dir, size, "%s", env);
    else if (state && *state)
        n = snprintf (dir, size, "%s/toa/tokens", state);
    else if (home && *home)
        n = snprintf (dir, size, "%s/.local/state/toa/tokens", home);
    else {
        errno = ENOENT;
        return -1;
    }
    if (n < 0 || (size_t) n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!make)
        return 0;
    /* mkdir -p, each new level private */
    for (char *slash = strchr (dir + 1, '/');; slash = strchr (slash + 1, '/')) {
        if (slash)
            *slash = '\0';
        if (mkdir (dir, 0700) != 0 && errno != EEXIST)
            return -1;
        if (!slash)
            break;
        *slash = '/';
    }
    return 0;
}

int
toa_tokens_make (char token[TOA_TOKEN_SIZE])
{
    unsigned char bytes[16];
    FILE *random = fopen ("/dev/urandom", "rb");
    size_t got = random ? fread (bytes, 1, sizeof bytes, random) : 0;
    if (random)
        fclose (random);
    if (got != sizeof bytes)
        return -1;
    for (size_t k = 0; k < sizeof bytes; k++)
        snprintf (token + 2 * k, 3, "%02x", bytes[k]);
    return 0;
}

int
toa_tokens_save (const char *job, const char *token, char *path, size_t path_size)
{
    char dir[3000];
    if (s_dir (dir, sizeof dir, 1) != 0)
        return -1;
    if ((size_t) snprintf (path, path_size, "%s/%s", dir, job) >= path_size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    size_t length = strlen (token);
    bool ok = fchmod (fd, 0600) == 0 && write (fd, token, length) == (ssize_t) length
              && write (fd, "\n", 1) == 1;
    int saved = errno;
    close (fd);
    errno = saved;
    return ok ? 0 : -1;
}

int
toa_tokens_load (const char *job, char token[TOA_TOKEN_SIZE])
{
    char dir[3000], path[3200];
    if (s_dir (dir, sizeof dir, 0) != 0
        || (size_t) snprintf (path, sizeof path, "%s/%s", dir, job) >= sizeof path)
        return -1;
    int fd = open (path, O_RDONLY | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    ssize_t got = read (fd, token, TOA_TOKEN_SIZE - 1);
    close (fd);
    if (got <= 0)
        return -1;
    token[got] = '\0';
    token[strcspn (token, "\r\n")] = '\0';
    return token[0] ? 0 : -1;
}
