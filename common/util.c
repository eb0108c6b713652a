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

static const char s_two_digits[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

size_t
toa_format_int64 (char *out, int64_t value)
{
    uint64_t magnitude = value < 0 ? (uint64_t) 0 - (uint64_t) value : (uint64_t) value;
    size_t sign = value < 0;
    if (sign)
        *out++ = '-';
    if (magnitude < 10) {
        out[0] = (char) ('0' + magnitude);
        return sign + 1;
    }
    char digits[24];
    size_t at = sizeof digits;
    while (magnitude >= 100) {
        unsigned pair = (unsigned) (magnitude % 100);
        magnitude /= 100;
        at -= 2;
        memcpy (digits + at, s_two_digits + 2 * pair, 2);
    }
    if (magnitude >= 10) {
        at -= 2;
        memcpy (digits + at, s_two_digits + 2 * magnitude, 2);
    }
    else
        digits[--at] = (char) ('0' + magnitude);
    memcpy (out, digits + at, sizeof digits - at);
    return sign + sizeof digits - at;
}

/* toa_format_real without the integer path: printf's "%.*g", then jansson's
 * touches (".0" when integral, no '+' nor leading zeros in the exponent). */
static size_t
s_format_real_printf (char *out, double value, int precision)
{
    char text[40];
    int length = snprintf (text, sizeof text, "%.*g", precision, value);
    if (length <= 0 || (size_t) length >= sizeof text - 2)
        return 0;
    if (!strpbrk (text, ".eE")) {
        memcpy (text + length, ".0", 3);
        length += 2;
    }
    char *e = strchr (text, 'e');
    if (e) {
        char *from = e + 1, *to = e + 1;
        if (*from == '-')
            *to++ = *from++;
        else if (*from == '+')
            from++;
        while (*from == '0' && from[1])
            from++;
        memmove (to, from, strlen (from) + 1);
        length = (int) strlen (text);
    }
    memcpy (out, text, (size_t) length);
    return (size_t) length;
}

__extension__ typedef unsigned __int128 s_u128_t;

static const uint64_t s_pow10[20] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
    100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
    10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
    100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull,
};

size_t
toa_format_real (char *out, double value, int precision)
{
    if (precision < 1)
        precision = 17;
    if (precision > 17)
        return s_format_real_printf (out, value, precision);
    uint64_t bits;
    memcpy (&bits, &value, sizeof bits);
    char *at = out;
    if (bits >> 63)
        *at++ = '-';
    int field = (int) ((bits >> 52) & 0x7ff);
    uint64_t m = bits & ((1ull << 52) - 1);
    if (field == 0 && m == 0) {
        memcpy (at, "0.0", 3);
        return (size_t) (at + 3 - out);
    }
    /* value = m * 2^-shift exactly; outside the integer path's reach
     * (subnormals, |value| >= 2^52, tiny values): printf. */
    int shift = 1075 - field;
    if (field == 0 || field == 0x7ff || shift <= 0 || shift >= 128)
        return s_format_real_printf (out, value, precision);
    m |= 1ull << 52;
    /* x: the decimal exponent, estimated from the binary one and corrected
     * until round(value * 10^(precision - 1 - x)) has precision digits. */
    int e2 = field - 1023;
    int x = e2 >= 0 ? (e2 * 78913) >> 18 : -(((-e2) * 78913 + (1 << 18) - 1) >> 18);
    uint64_t low = s_pow10[precision - 1], high = s_pow10[precision], n = 0;
    bool found = false;
    for (int tries = 0; tries < 4 && !found; tries++) {
        int k = precision - 1 - x;
        if (k < 0 || k > 22)
            return s_format_real_printf (out, value, precision);
        s_u128_t scaled = (s_u128_t) m * s_pow10[k < 19 ? k : 19];
        if (k > 19)
            scaled *= s_pow10[k - 19];
        s_u128_t q = scaled >> shift;
        s_u128_t rest = scaled - (q << shift), half = (s_u128_t) 1 << (shift - 1);
        if (rest > half || (rest == half && (q & 1)))
            q++;
        if (q >= high)
            x++;
        else if (q < low)
            x--;
        else {
            n = (uint64_t) q;
            found = true;
        }
    }
    if (!found)
        return s_format_real_printf (out, value, precision);
    char digits[20];
    for (int i = precision - 1; i >= 0; i--) {
        digits[i] = (char) ('0' + n % 10);
        n /= 10;
    }
    int nd = precision;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (x < -4 || x >= precision) {
        *at++ = digits[0];
        if (nd > 1) {
            *at++ = '.';
            memcpy (at, digits + 1, (size_t) nd - 1);
            at += nd - 1;
        }
        *at++ = 'e';
        at += toa_format_int64 (at, x);
    }
    else if (x >= 0) {
        int whole = x + 1;
        if (nd <= whole) {
            memcpy (at, digits, (size_t) nd);
            at += nd;
            memset (at, '0', (size_t) (whole - nd));
            at += whole - nd;
            memcpy (at, ".0", 2);
            at += 2;
        }
        else {
            memcpy (at, digits, (size_t) whole);
            at += whole;
            *at++ = '.';
            memcpy (at, digits + whole, (size_t) (nd - whole));
            at += nd - whole;
        }
    }
    else {
        memcpy (at, "0.", 2);
        at += 2;
        memset (at, '0', (size_t) (-x - 1));
        at += -x - 1;
        memcpy (at, digits, (size_t) nd);
        at += nd;
    }
    return (size_t) (at - out);
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
        /* Text up to the next '{' goes as it is, in one piece. */
        const char *brace = strchr (cursor, '{');
        const char *value = NULL, *piece = cursor;
        size_t skip = 0, piece_length;
        if (brace != cursor) {
            piece_length = brace ? (size_t) (brace - cursor) : strlen (cursor);
            skip = piece_length;
        }
        else {
            for (size_t i = 0; i < n; i++) {
                size_t name_length = strlen (names[i]);
                if (strncmp (cursor + 1, names[i], name_length) == 0
                    && cursor[1 + name_length] == '}') {
                    value = values[i] ? values[i] : "";
                    skip = name_length + 2;
                    break;
                }
            }
            piece = value ? value : cursor;
            piece_length = value ? strlen (value) : 1;
            if (!value)
                skip = 1;
        }
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
        cursor += skip;
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
