/* input.c - the prompt file, line by line (see input.h). */
#include "client/input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/prompts.h"

#define S_READ_BYTES (64u * 1024)    /* one read */

struct toa_input_s {
    char *path;
    FILE *file;
    char *buffer;            /* lines being read: [start, end) */
    size_t capacity, start, end;
    size_t line_no;          /* lines returned so far */
    bool eof;
};

toa_input_t *
toa_input_open (const char *path, toa_errors_t *errors)
{
    toa_input_t *self = calloc (1, sizeof *self);
    if (!self || !(self->path = strdup (path))) {
        toa_errors_add (errors, "%s: out of memory", path);
        toa_input_destroy (&self);
        return NULL;
    }
    if (!(self->file = fopen (path, "r"))) {
        toa_errors_add (errors, "%s: cannot open: %s", path, strerror (errno));
        toa_input_destroy (&self);
        return NULL;
    }
    return self;
}

void
toa_input_destroy (toa_input_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_input_t *self = *self_p;
    if (self->file)
        fclose (self->file);
    free (self->buffer);
    free (self->path);
    free (self);
    *self_p = NULL;
}

/* Reads more of the file after what is buffered (moved to the front), growing
 * the buffer up to one longest line. Returns 0, or -1 (ERRORS). */
static int
s_fill (toa_input_t *self, toa_errors_t *errors)
{
    if (self->start > 0) {
        memmove (self->buffer, self->buffer + self->start, self->end - self->start);
        self->end -= self->start;
        self->start = 0;
    }
    if (self->capacity - self->end < S_READ_BYTES + 1) {
        size_t capacity = self->capacity ? self->capacity * 2 : 4 * S_READ_BYTES;
        if (capacity < self->end + S_READ_BYTES + 1)
            capacity = self->end + S_READ_BYTES + 1;
        char *buffer = realloc (self->buffer, capacity);
        if (!buffer) {
            toa_errors_add (errors, "%s: out of memory", self->path);
            return -1;
        }
        self->buffer = buffer;
        self->capacity = capacity;
    }
    size_t got = fread (self->buffer + self->end, 1, self->capacity - self->end - 1, self->file);
    self->end += got;
    if (got == 0) {
        if (ferror (self->file)) {
            toa_errors_add (errors, "%s: read error: %s", self->path, strerror (errno));
            return -1;
        }
        self->eof = true;
    }
    return 0;
}

int
toa_input_next (toa_input_t *self, const char **text, size_t *length, size_t *line_no,
                toa_errors_t *errors)
{
    for (;;) {
        char *begin = self->buffer + self->start;
        size_t buffered = self->end - self->start;
        char *newline = buffered ? memchr (begin, '\n', buffered) : NULL;
        size_t size = newline ? (size_t) (newline - begin) : buffered;
        if (size > TOA_PROMPTS_MAX_LINE) {
            toa_errors_add (errors, "%s:%zu: line longer than %u bytes (no newline within "
                            "them); is this a JSONL file?", self->path, self->line_no + 1,
                            TOA_PROMPTS_MAX_LINE);
            return -1;
        }
        if (newline || (self->eof && buffered > 0)) {
            begin[size] = '\0';          /* the newline, or the room s_fill keeps */
            self->start += newline ? size + 1 : size;
            *text = begin;
            *length = size;
            *line_no = ++self->line_no;
            return 1;
        }
        if (self->eof)
            return 0;
        if (s_fill (self, errors) != 0)
            return -1;
    }
}

bool
toa_input_blank (const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
            return false;
    return true;
}

long
toa_input_check_file (const char *path, size_t *largest, toa_errors_t *errors)
{
    toa_input_t *input = toa_input_open (path, errors);
    toa_prompt_checker_t *checker = toa_prompt_checker_new ();
    if (!input || !checker) {
        if (input && !checker)
            toa_errors_add (errors, "%s: out of memory", path);
        toa_input_destroy (&input);
        toa_prompt_checker_destroy (&checker);
        return -1;
    }
    long count = 0, bad = 0;
    const char *text;
    size_t length, line_no;
    int rc;
    *largest = 0;
    while ((rc = toa_input_next (input, &text, &length, &line_no, errors)) == 1) {
        char reason[512];
        json_t *prompt = NULL;
        int valid = toa_prompts_validate_line (text, length, line_no, checker, &prompt, reason,
                                               sizeof reason);
        json_decref (prompt);
        if (valid < 0 && ++bad <= TOA_INPUT_MAX_ERRORS)
            toa_errors_add (errors, "%s:%zu: %s", path, line_no, reason);
        else if (valid > 0)
            count++;
        if (length > *largest)
            *largest = length;
    }
    if (bad > TOA_INPUT_MAX_ERRORS)
        toa_errors_add (errors, "%s: %ld more bad lines not listed", path,
                        bad - TOA_INPUT_MAX_ERRORS);
    if (rc == 0 && bad == 0 && count == 0)
        toa_errors_add (errors, "%s: no prompt in the file", path);
    toa_prompt_checker_destroy (&checker);
    toa_input_destroy (&input);
    return rc == 0 && bad == 0 && count > 0 ? count : -1;
}
