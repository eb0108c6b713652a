/* output.c - the client's append-only results file with dedupe by prompt id
 * and batched fsync (see output.h). */
#include "client/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/prompts.h"

struct toa_output_s {
    char *path;
    FILE *file;              /* append stream */
    json_t *ids;             /* object used as a set: id key -> true */
    size_t count_at_open;
    size_t removed_tail;     /* bytes of a cut-off incomplete last line */
    size_t unsynced;         /* lines appended since the last fsync */
    int64_t first_unsynced_ms;
    size_t syncs;
};

/* Adds the id of RESULT to the set; a result without a valid id is not
 * remembered. Returns 0 or -1 (no memory). */
static int
s_remember (toa_output_t *self, const json_t *result)
{
    char key[TOA_PROMPTS_MAX_ID + 1];
    if (!toa_prompt_id_text (result, key, sizeof key))
        return 0;
    return json_object_set_new (self->ids, key, json_true ());
}

/* Reads the ids of the complete lines of FD; sets *GOOD_END to the offset just
 * after the last complete line. Returns 0, or -1 with ERRORS filled. */
static int
s_read_ids (toa_output_t *self, int fd, off_t *good_end, toa_errors_t *errors)
{
    int copy = dup (fd);
    FILE *in = copy >= 0 ? fdopen (copy, "r") : NULL;
    if (!in) {
        toa_errors_add (errors, "%s: cannot read: %s", self->path, strerror (errno));
        if (copy >= 0)
            close (copy);
        return -1;
    }
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    off_t offset = 0;
    long number = 0;
    int rc = 0;
    *good_end = 0;
    while ((length = getline (&line, &capacity, in)) > 0) {
        number++;
        offset += length;
        if (line[length - 1] != '\n')
            break;                       /* incomplete last line */
        *good_end = offset;
        size_t start = strspn (line, " \t\r\n");
        if (line[start] == '\0')
            continue;
        json_error_t error;
        json_t *result = json_loadb (line, (size_t) length, 0, &error);
        if (!json_is_object (result)) {
            toa_errors_add (errors, "%s:%ld: not a JSON object (%s); is this a toa results file?",
                            self->path, number, result ? "other JSON value" : error.text);
            json_decref (result);
            rc = -1;
            break;
        }
        if (s_remember (self, result) != 0) {
            toa_errors_add (errors, "%s: out of memory", self->path);
            rc = -1;
        }
        json_decref (result);
        if (rc != 0)
            break;
    }
    if (rc == 0 && ferror (in)) {
        toa_errors_add (errors, "%s: read error: %s", self->path, strerror (errno));
        rc = -1;
    }
    free (line);
    fclose (in);
    return rc;
}

toa_output_t *
toa_output_open (const char *path, toa_errors_t *errors)
{
    toa_output_t *self = calloc (1, sizeof *self);
    if (!self || !(self->path = strdup (path)) || !(self->ids = json_object ())) {
        toa_errors_add (errors, "%s: out of memory", path);
        toa_output_destroy (&self);
        return NULL;
    }
    int fd = open (path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        toa_errors_add (errors, "%s: cannot open: %s", path, strerror (errno));
        toa_output_destroy (&self);
        return NULL;
    }
    off_t good_end = 0;
    struct stat info;
    if (s_read_ids (self, fd, &good_end, errors) != 0 || fstat (fd, &info) != 0) {
        if (errors->count == 0)
            toa_errors_add (errors, "%s: %s", path, strerror (errno));
        close (fd);
        toa_output_destroy (&self);
        return NULL;
    }
    if (info.st_size > good_end) {
        if (ftruncate (fd, good_end) != 0) {
            toa_errors_add (errors, "%s: cannot cut off its incomplete last line: %s", path,
                            strerror (errno));
            close (fd);
            toa_output_destroy (&self);
            return NULL;
        }
        self->removed_tail = (size_t) (info.st_size - good_end);
    }
    self->count_at_open = json_object_size (self->ids);
    self->file = fdopen (fd, "a");
    if (!self->file) {
        toa_errors_add (errors, "%s: %s", path, strerror (errno));
        close (fd);
        toa_output_destroy (&self);
        return NULL;
    }
    return self;
}

void
toa_output_destroy (toa_output_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_output_t *self = *self_p;
    if (self->file) {
        fflush (self->file);
        if (self->unsynced)
            fsync (fileno (self->file));
        fclose (self->file);
    }
    json_decref (self->ids);
    free (self->path);
    free (self);
    *self_p = NULL;
}

bool
toa_output_has (const toa_output_t *self, const json_t *result)
{
    char key[TOA_PROMPTS_MAX_ID + 1];
    return toa_prompt_id_text (result, key, sizeof key)
           && json_object_get (self->ids, key) != NULL;
}

size_t
toa_output_count (const toa_output_t *self)
{
    return json_object_size (self->ids);
}

size_t
toa_output_count_at_open (const toa_output_t *self)
{
    return self->count_at_open;
}

size_t
toa_output_removed_tail (const toa_output_t *self)
{
    return self->removed_tail;
}

int
toa_output_append (toa_output_t *self, const char *line, size_t length, int64_t now_ms,
                   toa_errors_t *errors)
{
    json_error_t error;
    json_t *result = json_loadb (line, length, 0, &error);
    if (!json_is_object (result)) {
        toa_errors_add (errors, "result is not a JSON object (%s)",
                        result ? "other JSON value" : error.text);
        json_decref (result);
        return TOA_OUTPUT_INVALID;
    }
    if (toa_output_has (self, result)) {
        json_decref (result);
        return 0;
    }
    char *compact = NULL;
    if (memchr (line, '\n', length) || memchr (line, '\r', length)) {
        compact = json_dumps (result, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!compact) {
            toa_errors_add (errors, "%s: out of memory", self->path);
            json_decref (result);
            return -1;
        }
        line = compact;
        length = strlen (compact);
    }
    int rc = 1;
    if (fwrite (line, 1, length, self->file) != length || fputc ('\n', self->file) == EOF
        || fflush (self->file) != 0) {
        toa_errors_add (errors, "%s: write failed: %s", self->path, strerror (errno));
        rc = -1;
    }
    else if (s_remember (self, result) != 0) {
        toa_errors_add (errors, "%s: out of memory", self->path);
        rc = -1;
    }
    if (rc == 1 && self->unsynced++ == 0)
        self->first_unsynced_ms = now_ms;
    free (compact);
    json_decref (result);
    return rc;
}

size_t
toa_output_unsynced (const toa_output_t *self)
{
    return self->unsynced;
}

int64_t
toa_output_sync_deadline (const toa_output_t *self)
{
    if (self->unsynced == 0)
        return INT64_MAX;
    if (self->unsynced >= TOA_OUTPUT_SYNC_LINES)
        return self->first_unsynced_ms;
    return self->first_unsynced_ms + TOA_OUTPUT_SYNC_MS;
}

bool
toa_output_sync_due (const toa_output_t *self, int64_t now_ms)
{
    return self->unsynced > 0 && now_ms >= toa_output_sync_deadline (self);
}

int
toa_output_sync (toa_output_t *self, toa_errors_t *errors)
{
    if (fflush (self->file) != 0 || (self->unsynced && fsync (fileno (self->file)) != 0)) {
        toa_errors_add (errors, "%s: cannot sync: %s", self->path, strerror (errno));
        return -1;
    }
    if (self->unsynced)
        self->syncs++;
    self->unsynced = 0;
    return 0;
}

size_t
toa_output_sync_count (const toa_output_t *self)
{
    return self->syncs;
}
