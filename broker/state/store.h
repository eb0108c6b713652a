/* store.h - the broker's Redis: the key layout of docs/jobs.md and the
 * pipelined writes and reads on it. The only file that knows key names.
 *
 * Writes are queued (hiredis' output buffer) and sent with toa_store_flush in
 * one round trip; a reply that is an error, or a lost connection, fails the
 * flush and leaves the store disconnected until toa_store_connect succeeds
 * again. Reads flush what is queued first, then pipeline their own commands.
 * Synchronous, with socket timeouts, so a hung Redis cannot hang the broker
 * forever. The password is never logged. */
#ifndef TOA_BROKER_STORE_H
#define TOA_BROKER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct toa_store_s toa_store_t;

/* A job's hash (toa:job:{J}). */
typedef struct {
    char *method;
    char *settings;          /* JSON text */
    char *state;             /* running, searched, done, cancelled */
    int64_t total, created_ms, admitted, done, next_seq, acked, generations, failed;
    int64_t spare;           /* budget: generations saved and not given out */
    char *owner;             /* the submitter's CURVE key, or NULL */
} toa_store_job_t;

/* A store for URL (redis://host[:port][/db]) authenticating with PASSWORD
 * (may be NULL). Does not connect. NULL with a reason in ERR when the URL is
 * bad. */
toa_store_t *toa_store_new (const char *url, const char *password, char *err,
                            size_t err_size);

/* Closes and frees; nulls *SELF_P; safe on NULL. */
void toa_store_destroy (toa_store_t **self_p);

/* (Re)connects, authenticates, selects the database. Queued writes of a
 * broken connection are lost. Returns 0, or -1 (reason in toa_store_error). */
int toa_store_connect (toa_store_t *self);

bool toa_store_connected (const toa_store_t *self);

/* The latest failure, "" if none. */
const char *toa_store_error (const toa_store_t *self);

/* Commands queued and not yet flushed. */
size_t toa_store_pending (const toa_store_t *self);

/* Sends every queued command and reads every reply. Returns 0, or -1 when
 * the connection failed or any reply is an error (the store is then
 * disconnected). */
int toa_store_flush (toa_store_t *self);

/* Round trips so far (flushes and reads that reached Redis). */
uint64_t toa_store_round_trips (const toa_store_t *self);

/* Called after every round trip with its duration in seconds (from the
 * first reply awaited to the last read) and whether it succeeded. */
typedef void (toa_store_observe_fn) (void *arg, double seconds, bool ok);

/* Sets the round-trip observer (NULL: none); ARG is borrowed. */
void toa_store_set_observer (toa_store_t *self, toa_store_observe_fn *fn, void *arg);

/* --- queued writes --------------------------------------------------------- */

/* A new job (one MULTI/EXEC): its hash, its N input LINES (line i is prompt
 * i), and its id in toa:jobs. */
void toa_store_job_create (toa_store_t *self, const char *job, const char *method,
                           const char *settings, int64_t created_ms,
                           const char *const *lines, size_t n);

/* Sets an integer field of the job hash. */
void toa_store_job_set (toa_store_t *self, const char *job, const char *field, int64_t value);

/* Sets the job's state. */
void toa_store_job_state (toa_store_t *self, const char *job, const char *state);

/* Records the job's owner (the submitter's CURVE key); nothing when OWNER is "". */
void toa_store_job_owner (toa_store_t *self, const char *job, const char *owner);

/* Adds DELTA to an integer field of the job hash. */
void toa_store_job_add (toa_store_t *self, const char *job, const char *field, int64_t delta);

/* Prompt INDEX enters search: added to the active set, admitted = ADMITTED. */
void toa_store_admit (toa_store_t *self, const char *job, int64_t index, int64_t admitted);

/* Writes COUNT generation records of prompt INDEX and its record count N,
 * in one HSET: TEXTS[i] to field g:<G[i]> (a whole record), or to field
 * s:<G[i]> when SETTLE[i] (its settle part; SETTLE may be NULL: none). */
void toa_store_records (toa_store_t *self, const char *job, int64_t index, int64_t n,
                        const int *g, const bool *settle, char *const *texts,
                        size_t count);

/* Deletes the records of prompt INDEX (it restarts from scratch). */
void toa_store_records_reset (toa_store_t *self, const char *job, int64_t index);

/* Prompt INDEX finished (one MULTI/EXEC): its RESULT stored as result SEQ,
 * done = DONE, next_seq = SEQ + 1, removed from active, its records and its
 * input line deleted, and SPARE generations it did not spend added to the
 * job's spare (budget; 0: none). */
void toa_store_finish (toa_store_t *self, const char *job, int64_t index, int64_t seq,
                       const char *result, int64_t done, int64_t spare);

/* A job-wide budget gives prompt INDEX EXTRA generations from the job's
 * spare (one MULTI/EXEC): spare -= EXTRA, the prompt's allowance =
 * ALLOWANCE (field `allowance` of toa:prompt:{J/I}). */
void toa_store_grant (toa_store_t *self, const char *job, int64_t index, int64_t extra,
                      int64_t allowance);

/* Results FROM .. TO-1 are acknowledged: deleted, acked = TO. */
void toa_store_acked (toa_store_t *self, const char *job, int64_t from, int64_t to);

/* Deletes every key of the job, including the records of the N prompts in
 * ACTIVE, and removes it from toa:jobs. */
void toa_store_job_delete (toa_store_t *self, const char *job, const int64_t *active,
                           size_t n);

/* --- a submission streamed in chunks (docs/jobs.md) ------------------------ */

/* A submission begins (one MULTI/EXEC): the job hash with state "loading"
 * (total 0) and its id in toa:jobs, so the id is taken and a broker that
 * restarts before the end deletes what was staged. */
void toa_store_submit_begin (toa_store_t *self, const char *job, const char *method,
                             const char *settings, int64_t created_ms);

/* Stores N prompt lines as prompts FIRST..FIRST+N-1 (when STORE_LINES) and
 * records their ids (IDS[i], of input line LINE_NOS[i]) in toa:job:{J}:ids,
 * in one round trip. DUP_OF[i] gets 0, or the input line of an earlier
 * prompt with the same id. Returns 0 or -1 (store disconnected). */
int toa_store_submit_chunk (toa_store_t *self, const char *job, int64_t first,
                            const char *const *lines, const char *const *ids,
                            const int64_t *line_nos, size_t n, bool store_lines,
                            int64_t *dup_of);

/* The submission is whole (one MULTI/EXEC): state running, total TOTAL, the
 * ids deleted. */
void toa_store_submit_commit (toa_store_t *self, const char *job, int64_t total);

/* A done job (every result acknowledged) is retired (one MULTI/EXEC): its
 * prompts, active set and results deleted, its hash kept with state "done"
 * for KEEP_S seconds (EXPIRE), so that attach and status can still say it is
 * done and how many results it had; removed from toa:jobs. */
void toa_store_job_retire (toa_store_t *self, const char *job, int64_t keep_s);

/* --- reads (flush first; -1 on failure, store disconnected) ---------------- */

/* The allowance prompt INDEX was given (toa_store_grant), 0 when none.
 * Returns 0 or -1. */
int toa_store_allowance (toa_store_t *self, const char *job, int64_t index,
                         int64_t *allowance);

/* 1 when the job exists (in toa:jobs or its hash), 0 when not, -1. */
int toa_store_job_exists (toa_store_t *self, const char *job);

/* The ids in toa:jobs. Returns 0 with *IDS (toa_store_strings_free) or -1. */
int toa_store_job_ids (toa_store_t *self, char ***ids, size_t *n);

/* The job's hash. Returns 0, 1 when the hash is missing or incomplete, -1. */
int toa_store_job_load (toa_store_t *self, const char *job, toa_store_job_t *out);

/* Frees what OUT owns and zeroes it. */
void toa_store_job_clear (toa_store_job_t *out);

/* The job's active prompt indexes (sorted). Returns 0 with *INDEXES (free) or -1. */
int toa_store_active (toa_store_t *self, const char *job, int64_t **indexes, size_t *n);

/* The input lines of the N prompts INDEXES (NULL for a missing one).
 * Returns 0 with *LINES (toa_store_strings_free, N entries) or -1. */
int toa_store_lines (toa_store_t *self, const char *job, const int64_t *indexes, size_t n,
                     char ***lines);

/* The records of prompt INDEX in g order (*N = its count field; a missing
 * record is NULL) and their settle parts (fields s:<g>; NULL where none).
 * Returns 0 with *TEXTS and *SETTLES (toa_store_strings_free each, N
 * entries) or -1. */
int toa_store_records_load (toa_store_t *self, const char *job, int64_t index,
                            char ***texts, char ***settles, size_t *n);

/* Results FROM .. FROM+N-1 (NULL for a missing one). Returns 0 with *LINES
 * (toa_store_strings_free, N entries) or -1. */
int toa_store_results (toa_store_t *self, const char *job, int64_t from, size_t n,
                       char ***lines);

/* Frees a list of N strings (entries may be NULL). */
void toa_store_strings_free (char **list, size_t n);

#endif
