/* submit.h - `toa submit`: checks the prompt file locally (nothing is sent
 * when a line is bad), builds the settings from the config and the flags,
 * picks a job id, sends the batch and follows the job to the end
 * (client/receive.h). */
#ifndef TOA_CLIENT_SUBMIT_H
#define TOA_CLIENT_SUBMIT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct {
    const char *config_path;     /* NULL: built-in defaults */
    const char *input_path;
    const char *output_path;
    const char *method;          /* --method, or NULL */
    const char *samples;         /* --samples, or NULL */
    const char *const *sets;     /* --set path=value */
    size_t n_sets;
    const char *endpoint;        /* --endpoint, or NULL: the config's */
    const char *job;             /* --job, or NULL: a new id */
    int timeout_ms;              /* longest wait for the broker's answer */
    int give_up_ms;              /* a broker silent this long is lost (0: default) */
    bool quiet;                  /* --quiet: errors and warnings only */
    bool say_submitted;          /* "job J submitted" even when quiet (toa compare) */
    volatile sig_atomic_t *interrupted;
} toa_submit_options_t;

/* Runs the command; messages go to stderr. Returns the exit code
 * (client/exit_codes.h). */
int toa_submit_run (const toa_submit_options_t *options);

/* Writes a job id "YYYYMMDD-HHMMSS-xxxxxx" (UTC time WHEN, 6 hex digits of
 * RANDOM) into BUF (at least 23 bytes). Returns BUF. */
char *toa_submit_job_id (time_t when, uint32_t random, char *buf, size_t size);

/* True when JOB is a valid job id: [A-Za-z0-9_.-]{1,64}. */
bool toa_submit_job_id_valid (const char *job);

#endif
