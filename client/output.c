/* output.c - the client's append-only results file with dedupe by prompt id,
 * batched fsync, an exclusive lock and the state file that tells toa's own
 * incomplete last line from anyone else's (see output.h). */
#include "client/output.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/prompts.h"

struct toa_output_s {
    char *path;
    char *state_path;        /* PATH.toa-state */
    int state_fd;            /* open while the output is: rewritten in place */
    FILE *file;              /* append stream */
    dev_t dev;               /* the file's identity, recorded in the state file */
    ino_t ino;
    off_t synced;            /* bytes on disk after the last fsync (all whole lines) */
    off_t whole_end;         /* bytes of whole lines written (flushed to the kernel) */
    bool failed;             /* a write or sync failed: the tail may be cut */
    bool stream;             /* "-": standard output (a pipe): no ids read, no lock,
                                no state file; synced = written to it */
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
s_read_ids (toa_output_t *self, int fd, off_t *good_end, long *lines, toa_errors_t *errors)
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
        *lines = number;
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

/* Records in the state file that toa has the file open, with SYNCED bytes
 * on disk. One fixed-width pwrite at offset 0: it needs no new disk block
 * once the file exists (so it works on a full disk) and a kill leaves it
 * whole. Returns 0 or -1 (errno). */
static int
s_state_write (toa_output_t *self, off_t synced)
{
    char text[128];
    int length = snprintf (text, sizeof text, "toa-output 1 dev %20ju ino %20ju synced %20jd\n",
                           (uintmax_t) self->dev, (uintmax_t) self->ino, (intmax_t) synced);
    if (length <= 0 || (size_t) length >= sizeof text)
        return -1;
    return pwrite (self->state_fd, text, (size_t) length, 0) == (ssize_t) length ? 0 : -1;
}

/* The bytes toa had synced when it last had the file open, or -1 when the
 * state file was absent or is about another file (so nothing past the last
 * newline is known to be toa's). */
static off_t
s_state_read (const toa_output_t *self)
{
    char text[128];
    ssize_t got = pread (self->state_fd, text, sizeof text - 1, 0);
    if (got <= 0)
        return -1;
    text[got] = '\0';
    uintmax_t dev = 0, ino = 0;
    intmax_t synced = -1;
    if (sscanf (text, "toa-output 1 dev %ju ino %ju synced %jd", &dev, &ino, &synced) != 3
        || dev != (uintmax_t) self->dev || ino != (uintmax_t) self->ino)
        return -1;
    return (off_t) synced;
}

/* Opens PATH.toa-state (not through a symbolic link). Returns 0 or -1. */
static int
s_state_open (toa_output_t *self, toa_errors_t *errors)
{
    self->state_fd = open (self->state_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (self->state_fd < 0) {
        toa_errors_add (errors, "%s: cannot open its state file %s: %s", self->path,
                        self->state_path, strerror (errno));
        return -1;
    }
    return 0;
}

/* Cuts an incomplete last line (SIZE > GOOD_END) when toa wrote it: it lies
 * past what toa had synced (a write cut short by a crash or a full disk;
 * never acknowledged, so the broker sends that result again). Anyone else's
 * incomplete line is an error: toa cuts no bytes it did not write. */
static int
s_repair_tail (toa_output_t *self, int fd, off_t good_end, off_t size, long lines,
               toa_errors_t *errors)
{
    off_t synced = s_state_read (self);
    if (synced < 0 || good_end < synced) {
        toa_errors_add (errors, "%s:%ld: the last line is incomplete (%jd bytes without a "
                        "newline) and toa did not write it; complete or remove it, then run "
                        "again", self->path, lines, (intmax_t) (size - good_end));
        return -1;
    }
    if (ftruncate (fd, good_end) != 0) {
        toa_errors_add (errors, "%s: cannot cut off its incomplete last line: %s", self->path,
                        strerror (errno));
        return -1;
    }
    self->removed_tail = (size_t) (size - good_end);
    return 0;
}

/* Opens PATH: a regular file, not through a symbolic link, locked. */
static int
s_open_file (toa_output_t *self, toa_errors_t *errors)
{
    int fd = open (self->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        if (errno == ELOOP)
            toa_errors_add (errors, "%s: is a symbolic link; toa writes results only to a "
                            "regular file named directly", self->path);
        else
            toa_errors_add (errors, "%s: cannot open: %s", self->path, strerror (errno));
        return -1;
    }
    struct stat info;
    int fstat_rc = fstat (fd, &info);
    if (fstat_rc != 0 || !S_ISREG (info.st_mode)) {
        toa_errors_add (errors, "%s: %s", self->path,
                        fstat_rc != 0 ? strerror (errno) : "not a regular file");
        close (fd);
        return -1;
    }
    if (flock (fd, LOCK_EX | LOCK_NB) != 0) {
        toa_errors_add (errors, "%s: %s", self->path,
                        errno == EWOULDBLOCK ? "in use by another toa (locked); one client "
                                               "writes a results file at a time"
                                             : strerror (errno));
        close (fd);
        return -1;
    }
    self->dev = info.st_dev;
    self->ino = info.st_ino;
    return fd;
}

toa_output_t *
toa_output_open (const char *path, toa_errors_t *errors)
{
    toa_output_t *self = calloc (1, sizeof *self);
    if (self)
        self->state_fd = -1;
    size_t state_size = strlen (path) + sizeof ".toa-state";
    if (!self || !(self->path = strdup (path)) || !(self->ids = json_object ())
        || !(self->state_path = malloc (state_size))) {
        toa_errors_add (errors, "%s: out of memory", path);
        toa_output_destroy (&self);
        return NULL;
    }
    snprintf (self->state_path, state_size, "%s.toa-state", path);
    if (strcmp (path, "-") == 0) {
        self->stream = true;
        self->file = stdout;
        return self;
    }
    int fd = s_open_file (self, errors);
    if (fd < 0) {
        toa_output_destroy (&self);
        return NULL;
    }
    off_t good_end = 0;
    long lines = 0;
    struct stat info;
    int rc = s_read_ids (self, fd, &good_end, &lines, errors);
    if (rc == 0 && fstat (fd, &info) != 0) {
        toa_errors_add (errors, "%s: %s", path, strerror (errno));
        rc = -1;
    }
    if (rc == 0)
        rc = s_state_open (self, errors);
    if (rc == 0 && info.st_size > good_end)
        rc = s_repair_tail (self, fd, good_end, info.st_size, lines, errors);
    if (rc == 0 && s_state_write (self, good_end) != 0) {
        toa_errors_add (errors, "%s: cannot write its state file %s: %s", path,
                        self->state_path, strerror (errno));
        rc = -1;
    }
    if (rc == 0 && !(self->file = fdopen (fd, "a"))) {
        toa_errors_add (errors, "%s: %s", path, strerror (errno));
        rc = -1;
    }
    if (rc != 0) {
        close (fd);
        if (self->state_fd >= 0 && s_state_read (self) < 0)
            unlink (self->state_path);   /* made by this open: no trace */
        toa_output_destroy (&self);
        return NULL;
    }
    self->synced = self->whole_end = good_end;
    self->count_at_open = json_object_size (self->ids);
    return self;
}

void
toa_output_destroy (toa_output_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_output_t *self = *self_p;
    if (self->stream)
        fflush (self->file);
    else if (self->file) {
        bool whole = !self->failed && fflush (self->file) == 0
                     && (!self->unsynced || fsync (fileno (self->file)) == 0);
        /* A clean end removes the state file: then an incomplete last line is
         * no longer toa's. After a failure it stays, so that the next open
         * cuts the partial line this run may have left. */
        if (whole)
            unlink (self->state_path);
        else if (self->state_fd >= 0)
            s_state_write (self, self->whole_end);
        fclose (self->file);         /* releases the lock */
    }
    if (self->state_fd >= 0)
        close (self->state_fd);
    json_decref (self->ids);
    free (self->state_path);
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
        self->failed = true;
        rc = -1;
    }
    else {
        self->whole_end += (off_t) length + 1;
        if (s_remember (self, result) != 0) {
            toa_errors_add (errors, "%s: out of memory", self->path);
            self->failed = true;     /* written, but no longer deduplicated */
            rc = -1;
        }
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

/* fsync; standard output only when it is a regular file (a pipe's reader
 * owns what it reads). */
static int
s_fsync (toa_output_t *self)
{
    struct stat info;
    if (self->stream && (fstat (fileno (self->file), &info) != 0 || !S_ISREG (info.st_mode)))
        return 0;
    return fsync (fileno (self->file));
}

int
toa_output_sync (toa_output_t *self, toa_errors_t *errors)
{
    /* After a failed write only the whole lines before it are synced (the
     * stream's buffer may hold the start of the failed one: not flushed). */
    if ((!self->failed && fflush (self->file) != 0)
        || (self->unsynced && s_fsync (self) != 0)) {
        toa_errors_add (errors, "%s: cannot sync: %s", self->path, strerror (errno));
        self->failed = true;
        return -1;
    }
    if (self->unsynced && !self->stream) {
        if (s_state_write (self, self->whole_end) != 0) {
            toa_errors_add (errors, "%s: cannot record its state in %s: %s", self->path,
                            self->state_path, strerror (errno));
            self->failed = true;
            return -1;
        }
        self->synced = self->whole_end;
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
