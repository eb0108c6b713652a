/* output.h - the client's results file: append-only JSONL, one result per
 * prompt, deduplicated by prompt id, with batched fsync.
 *
 * The broker may deliver a result twice (after a crash of either side); the
 * file must still hold each prompt exactly once, so every id already in the
 * file (read when it is opened) and every id appended since is remembered.
 * A result is acknowledged to the broker only once it is on disk: callers
 * append, then toa_output_sync() when toa_output_sync_due() says so, and
 * only then acknowledge what they appended. */
#ifndef TOA_CLIENT_OUTPUT_H
#define TOA_CLIENT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "common/errors.h"

#define TOA_OUTPUT_SYNC_MS    100   /* longest a written line waits for fsync */
#define TOA_OUTPUT_SYNC_LINES 64    /* lines written before fsync is forced */
#define TOA_OUTPUT_INVALID    (-2)  /* toa_output_append: not a JSON object */

typedef struct toa_output_s toa_output_t;

/* Opens PATH for appending, creating it (mode 0644) when absent, and reads the
 * ids of the results it holds. PATH must be a regular file named directly
 * (no symbolic link); it is locked (flock) against a second writer. While
 * open, PATH.toa-state records the bytes toa has fsync'd (removed at a clean
 * destroy). An incomplete last line past that point is toa's own (a write
 * cut short by a kill or a full disk; never acknowledged, so the broker
 * sends it again) and is cut off (toa_output_removed_tail()); any other
 * incomplete last line is an error and nothing is cut. PATH "-" is standard
 * output (e.g. a pipe): no ids are read, a line counts as synced once
 * written to it. Returns the output, or NULL with the reason in ERRORS
 * ("FILE:LINE: reason" for a line that is not a JSON object or incomplete,
 * or "FILE: reason" for a system error). */
toa_output_t *toa_output_open (const char *path, toa_errors_t *errors);

/* Syncs what is pending (best effort), closes the file, frees everything;
 * nulls *SELF_P; safe on NULL. */
void toa_output_destroy (toa_output_t **self_p);

/* True when a result with the id of RESULT (a result or prompt object) is in
 * the file (read at open or appended). Ids compare as common/prompts.h
 * says (toa_prompt_id_text): 7 and "7" are the same prompt. */
bool toa_output_has (const toa_output_t *self, const json_t *result);

/* Ids known: read at open plus appended since. */
size_t toa_output_count (const toa_output_t *self);

/* Ids read from the file when it was opened. */
size_t toa_output_count_at_open (const toa_output_t *self);

/* Bytes of an incomplete last line cut off at open (0 if none). */
size_t toa_output_removed_tail (const toa_output_t *self);

/* Appends the result LINE (LENGTH bytes, a JSON object) followed by "\n" and
 * flushes it to the kernel, unless its "id" is already in the file. A line
 * that holds raw newlines is rewritten compactly first. NOW_MS (monotonic)
 * starts the sync clock of the first unsynced line. Returns 1 when appended,
 * 0 when skipped as a duplicate, TOA_OUTPUT_INVALID when LINE is not a JSON
 * object (nothing written), or -1 when writing failed; ERRORS gets the
 * reason of both. A result without an id cannot be deduplicated and is
 * appended. */
int toa_output_append (toa_output_t *self, const char *line, size_t length, int64_t now_ms,
                       toa_errors_t *errors);

/* Lines appended since the last sync. */
size_t toa_output_unsynced (const toa_output_t *self);

/* When the pending lines must be synced (monotonic ms), or INT64_MAX when
 * nothing is pending. */
int64_t toa_output_sync_deadline (const toa_output_t *self);

/* True when pending lines reached TOA_OUTPUT_SYNC_LINES or the oldest has
 * waited TOA_OUTPUT_SYNC_MS at NOW_MS. */
bool toa_output_sync_due (const toa_output_t *self, int64_t now_ms);

/* fflush + fsync. Returns 0 (nothing pending is success too), or -1 with the
 * reason in ERRORS. */
int toa_output_sync (toa_output_t *self, toa_errors_t *errors);

/* Number of fsync calls made (for tests and figures). */
size_t toa_output_sync_count (const toa_output_t *self);

#endif
