/* progress.h - a job's progress as the client shows it: the latest status
 * from the broker, the generation rate over a sliding window, the ETA, and
 * their text (a one-line bar for terminals, a plain line for logs).
 * Pure: times are passed in, text is written to caller buffers. */
#ifndef TOA_CLIENT_PROGRESS_H
#define TOA_CLIENT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#define TOA_PROGRESS_SAMPLES   32       /* samples kept for the rate */
#define TOA_PROGRESS_WINDOW_MS 20000    /* the rate looks this far back */
#define TOA_PROGRESS_SPACING_MS 250     /* closer samples replace the newest */

typedef struct {
    int64_t t_ms;
    int64_t generations;
    int64_t done;
    int64_t written;
} toa_progress_sample_t;

typedef struct {
    int64_t start_ms;             /* when the client started watching */
    int64_t budget_per_prompt;    /* generations per prompt, 0 = unknown */
    bool have_status;             /* a status arrived */
    int64_t total, done, active, generations, failed;
    int64_t written;              /* results stored by the client (on disk, or acked before) */
    int64_t budget, spare;        /* the job's generations in all; unspent so far */
    char job[72];
    char state[16];               /* "running", "done", ... */
    char waiting[256];            /* why the job waits, "" if it does not */
    toa_progress_sample_t samples[TOA_PROGRESS_SAMPLES];  /* ring, oldest first */
    size_t n_samples, first;
} toa_progress_t;

/* Starts tracking at NOW_MS. BUDGET_PER_PROMPT (samples x models) makes the
 * ETA count generations; 0 makes it count prompts. */
void toa_progress_init (toa_progress_t *self, int64_t now_ms, int64_t budget_per_prompt);

/* Records STATUS as received at NOW_MS (monotonic). */
void toa_progress_update (toa_progress_t *self, const toa_job_status_t *status, int64_t now_ms);

/* Results stored so far (0..WRITTEN-1 on disk or acknowledged before); the
 * next toa_progress_update samples it. */
void toa_progress_set_written (toa_progress_t *self, int64_t written);

/* Generations per second over the last TOA_PROGRESS_WINDOW_MS (0 when fewer
 * than two samples a second or more apart). */
double toa_progress_rate (const toa_progress_t *self);

/* Seconds until every result is written, or -1 when unknown; 0 once they
 * are. While prompts are searched: the search's time left (the generation
 * rate and the generations left when the budget is known, else the rate at
 * which prompts finish), or the writing's when that is longer; once every
 * prompt is searched: the results left over the rate they are written. */
double toa_progress_eta (const toa_progress_t *self);

/* "45s", "1m23s", "2h05m", "3d04h"; "?" for a negative SECONDS. Returns BUF. */
char *toa_progress_duration (double seconds, char *buf, size_t size);

/* The terminal line: "[#####     ] 12/100 written  15 searched  34.5 gen/s  ETA 1m23s" (the bar fills with results written) plus "  waiting: ..." when
 * the job waits; at most WIDTH - 1 characters (the bar shrinks, then the line
 * is cut). Returns BUF. */
char *toa_progress_bar (const toa_progress_t *self, int width, char *buf, size_t size);

/* The log line: "12/100 results written (12%), 15 prompts searched, 340
 * generations, 2 failed, 34.5 gen/s, ETA 1m23s, elapsed 40s[, waiting: ...]".
 * Returns BUF. */
char *toa_progress_plain (const toa_progress_t *self, int64_t now_ms, char *buf, size_t size);

#endif
