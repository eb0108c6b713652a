/* errors.c - a list of "where: why" messages (see errors.h). */
#include "common/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int
toa_errors_add (toa_errors_t *self, const char *fmt, ...)
{
    size_t limit = self->limit ? self->limit : 1000;
    if (self->count >= limit) {
        self->dropped++;
        return 0;
    }
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 8;
        char **messages = realloc (self->messages, capacity * sizeof *messages);
        if (!messages)
            return -1;
        self->messages = messages;
        self->capacity = capacity;
    }
    va_list args;
    va_start (args, fmt);
    int length = vsnprintf (NULL, 0, fmt, args);
    va_end (args);
    if (length < 0)
        return -1;
    char *message = malloc ((size_t) length + 1);
    if (!message)
        return -1;
    va_start (args, fmt);
    vsnprintf (message, (size_t) length + 1, fmt, args);
    va_end (args);
    self->messages[self->count++] = message;
    return 0;
}

void
toa_errors_print (const toa_errors_t *self, void *stream)
{
    for (size_t i = 0; i < self->count; i++)
        fprintf ((FILE *) stream, "%s\n", self->messages[i]);
    if (self->dropped)
        fprintf ((FILE *) stream, "(and %zu more errors)\n", self->dropped);
}

void
toa_errors_clear (toa_errors_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        free (self->messages[i]);
    free (self->messages);
    self->messages = NULL;
    self->count = self->capacity = self->dropped = 0;
}
