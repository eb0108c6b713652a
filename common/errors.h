/* errors.h - a list of error messages collected while validating input
 * (config files, prompt files, wire messages), so that every problem is
 * reported at once with where and why. */
#ifndef TOA_ERRORS_H
#define TOA_ERRORS_H

#include <stddef.h>

typedef struct {
    char **messages;         /* owned, each "where: why" */
    size_t count;
    size_t capacity;
    size_t limit;            /* stop recording after this many (0 = 1000) */
    size_t dropped;          /* errors past the limit, counted only */
} toa_errors_t;

#define TOA_ERRORS_INIT {NULL, 0, 0, 0, 0}

/* Appends a printf-formatted message. Returns 0, or -1 when out of memory. */
int toa_errors_add (toa_errors_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Writes every message, one per line, to STREAM (a FILE *). */
void toa_errors_print (const toa_errors_t *self, void *stream);

/* Frees the messages; the list may be reused. */
void toa_errors_clear (toa_errors_t *self);

#endif
