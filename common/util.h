/* util.h - small helpers every component uses: clocks, deterministic random
 * numbers, strings and files. */
#ifndef TOA_UTIL_H
#define TOA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds on a monotonic clock (for timeouts and intervals). */
int64_t toa_now_ms (void);

/* Milliseconds since the Unix epoch (for records users read). */
int64_t toa_wall_ms (void);

/* splitmix64 of X (the conformance traces' reward function uses it). */
uint64_t toa_splitmix64 (uint64_t x);

/* SipHash-2-4 of DATA (SIZE bytes) under the 128-bit KEY: a keyed hash
 * whose outputs cannot be predicted without the key (unguessable ids). */
uint64_t toa_siphash (const uint64_t key[2], const void *data, size_t size);

/* Fills BUFFER with SIZE bytes from the kernel's random source (getrandom,
 * else /dev/urandom). Returns 0, or -1 with errno set. */
int toa_random_bytes (void *buffer, size_t size);

/* A uniform double in [0, 1) from 53 bits of splitmix64(*STATE), advancing it. */
double toa_random_uniform (uint64_t *state);

/* printf-formats a reason into OUT (SIZE bytes); does nothing when OUT is
 * NULL or SIZE is 0, so callers may pass an optional reason buffer. */
void toa_format_reason (char *out, size_t size, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Writes the decimal digits of VALUE at OUT (room for 20; no NUL) and
 * returns how many: the integer formatting of hot paths, without printf. */
size_t toa_format_int64 (char *out, int64_t value);

/* Writes finite VALUE at OUT (room for 40; no NUL) as jansson writes a real
 * with PRECISION (1..31; below 1: 17) significant digits: the text of printf's "%.*g",
 * with ".0" added when it has no '.' or exponent, and the exponent without
 * '+' or leading zeros ("1e-5"). Returns the length. Exact (the digits are
 * the correctly rounded ones, ties to even, as glibc's printf); values
 * between about 1e-8 and 1e15 (precision up to 17) take an integer path
 * without printf. */
size_t toa_format_real (char *out, double value, int precision);

/* strdup that returns NULL for NULL. */
char *toa_strdup (const char *text);

/* Reads a whole file into a NUL-terminated buffer. Returns it (free()), or
 * NULL with errno set; *LENGTH gets the size if LENGTH is not NULL. */
char *toa_read_file (const char *path, size_t *length);

/* Replaces every "{NAME}" in TEMPLATE by the matching value. Returns a new
 * string (free()), or NULL when out of memory. Unknown names stay as they are. */
char *toa_template_render (const char *template_text, const char *const *names,
                           const char *const *values, size_t n);

/* Splits LISTEN "host:port" ("[v6]:port" too; port 0..65535, digits
 * only) into HOST and PORT. Returns 0, or -1 when it is not that. */
int toa_split_listen (const char *listen, char *host, size_t host_size, char *port,
                      size_t port_size);

/* Resolves LISTEN "host:port" into the address to bind a TCP server to
 * (*ADDRESS, freeaddrinfo() it) and its port number (*PORT). Returns 0, or -1 with WHY ("\"x\" is not
 * host:port", or the resolver's message); the caller names the setting. */
struct addrinfo;
int toa_resolve_listen (const char *listen, struct addrinfo **address, int *port, char *why,
                        size_t why_size);

#endif
