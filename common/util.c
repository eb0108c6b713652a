/* util.c - clocks, deterministic random numbers, strings, files (see util.h). */
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>
#include <time.h>

int64_t
toa_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int64_t
toa_wall_ms (void)
{
    struct timeval now;
    gettimeofday (&now, NULL);
    return (int64_t) now.tv_sec * 1000 + now.tv_usec / 1000;
}

uint64_t
toa_splitmix64 (uint64_t x)
{
    uint64_t z = x + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#define S_ROTL(x, b) (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))
#define S_SIPROUND                                                                       \
    do {                                                                                 \
        v0 += v1; v1 = S_ROTL (v1, 13); v1 ^= v0; v0 = S_ROTL (v0, 32);                 \
        v2 += v3; v3 = S_ROTL (v3, 16); v3 ^= v2;                                        \
        v0 += v3; v3 = S_ROTL (v3, 21); v3 ^= v0;                                        \
        v2 += v1; v1 = S_ROTL (v1, 17); v1 ^= v2; v2 = S_ROTL (v2, 32);                 \
    } while (0)

uint64_t
toa_siphash (const uint64_t key[2], const void *data, size_t size)
{
    const unsigned char *in = data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ key[0], v1 = 0x646f72616e646f6dULL ^ key[1];
    uint64_t v2 = 0x6c7967656e657261ULL ^ key[0], v3 = 0x7465646279746573ULL ^ key[1];
    size_t whole = size - size % 8;
    for (size_t at = 0; at < whole; at += 8) {
        uint64_t m = 0;
        for (int i = 7; i >= 0; i--)
            m = (m << 8) | in[at + (size_t) i];
        v3 ^= m;
        S_SIPROUND;
        S_SIPROUND;
        v0 ^= m;
    }
    uint64_t last = (uint64_t) size << 56;
    for (size_t i = 0; i < size % 8; i++)
        last |= (uint64_t) in[whole + i] << (8 * i);
    v3 ^= last;
    S_SIPROUND;
    S_SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        S_SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

int
toa_random_bytes (void *buffer, size_t size)
{
    unsigned char *out = buffer;
    size_t got = 0;
    while (got < size) {
        ssize_t n = getrandom (out + got, size - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    if (got == size)
        return 0;
    int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (got < size) {
        ssize_t n = read (fd, out + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = n == 0 ? EIO : errno;
            close (fd);
            errno = saved;
            return -1;
        }
        got += (size_t) n;
    }
    close (fd);
    return 0;
}

double
toa_random_uniform (uint64_t *state)
{
    uint64_t value = toa_splitmix64 (*state);
    *state += 0x9e3779b97f4a7c15ULL;
    return (double) (value >> 11) * 0x1.0p-53;
}

void
toa_format_reason (char *out, size_t size, const char *fmt, ...)
{
    if (!out || size == 0)
        return;
    va_list args;
    va_start (args, fmt);
    vsnprintf (out, size, fmt, args);
    va_end (args);
}

size_t
toa_format_int64 (char *out, int64_t value)
{
    char digits[24];
    size_t at = sizeof digits;
    uint64_t magnitude = value < 0 ? (uint64_t) 0 - (uint64_t) value : (uint64_t) value;
    do {
        digits[--at] = (char) ('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0)
        digits[--at] = '-';
    memcpy (out, digits + at, sizeof digits - at);
    return sizeof digits - at;
}

char *
toa_strdup (const char *text)
{
    return text ? strdup (text) : NULL;
}

char *
toa_read_file (const char *path, size_t *length)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    size_t capacity = 65536, used = 0;
    char *buffer = malloc (capacity);
    while (buffer) {
        if (used + 1 >= capacity) {
            char *bigger = realloc (buffer, capacity * 2);
            if (!bigger) {
                free (buffer);
                buffer = NULL;
                errno = ENOMEM;
                break;
            }
            buffer = bigger;
            capacity *= 2;
        }
        size_t got = fread (buffer + used, 1, capacity - used - 1, file);
        used += got;
        if (got == 0) {
            if (ferror (file)) {
                int saved = errno;
                free (buffer);
                buffer = NULL;
                errno = saved;
            }
            break;
        }
    }
    fclose (file);
    if (buffer) {
        buffer[used] = '\0';
        if (length)
            *length = used;
    }
    return buffer;
}

char *
toa_template_render (const char *template_text, const char *const *names,
                     const char *const *values, size_t n)
{
    size_t capacity = strlen (template_text) + 1, used = 0;
    for (size_t i = 0; i < n; i++)
        capacity += values[i] ? strlen (values[i]) : 0;
    /* A name may appear several times: grow when needed. */
    char *out = malloc (capacity);
    if (!out)
        return NULL;
    const char *cursor = template_text;
    while (*cursor) {
        const char *value = NULL;
        size_t skip = 0;
        if (*cursor == '{') {
            for (size_t i = 0; i < n; i++) {
                size_t name_length = strlen (names[i]);
                if (strncmp (cursor + 1, names[i], name_length) == 0
                    && cursor[1 + name_length] == '}') {
                    value = values[i] ? values[i] : "";
                    skip = name_length + 2;
                    break;
                }
            }
        }
        const char *piece = value ? value : cursor;
        size_t piece_length = value ? strlen (value) : 1;
        if (used + piece_length + 1 > capacity) {
            capacity = (used + piece_length + 1) * 2;
            char *bigger = realloc (out, capacity);
            if (!bigger) {
                free (out);
                return NULL;
            }
            out = bigger;
        }
        memcpy (out + used, piece, piece_length);
        used += piece_length;
        cursor += value ? skip : 1;
    }
    out[used] = '\0';
    return out;
}

int
toa_split_listen (const char *listen, char *host, size_t host_size, char *port, size_t port_size)
{
    const char *colon = listen ? strrchr (listen, ':') : NULL;
    if (!colon || colon == listen || !colon[1])
        return -1;
    const char *start = listen, *end = colon;
    if (*start == '[' && end[-1] == ']') {
        start++;
        end--;
    }
    if ((size_t) (end - start) >= host_size || strlen (colon + 1) >= port_size)
        return -1;
    memcpy (host, start, (size_t) (end - start));
    host[end - start] = '\0';
    strcpy (port, colon + 1);
    for (const char *c = port; *c; c++)
        if (*c < '0' || *c > '9')
            return -1;
    return atoi (port) <= 65535 ? 0 : -1;
}

int
toa_resolve_listen (const char *listen, struct addrinfo **address, int *port, char *why,
                    size_t why_size)
{
    char host[256], service[16];
    *address = NULL;
    if (!listen || toa_split_listen (listen, host, sizeof host, service, sizeof service) != 0) {
        toa_format_reason (why, why_size, "\"%s\" is not host:port", listen ? listen : "");
        return -1;
    }
    struct addrinfo hints;
    memset (&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo (host, service, &hints, address);
    if (gai != 0) {
        *address = NULL;
        toa_format_reason (why, why_size, "%s: %s", listen, gai_strerror (gai));
        return -1;
    }
    *port = atoi (service);
    return 0;
}
