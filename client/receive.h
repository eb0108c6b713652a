/* receive.h - the loop that follows a job for `toa submit` (after sending
 * the submit) and `toa attach` (after sending attach): it appends each
 * result to the output file unless the prompt is already there, syncs in
 * batches and acknowledges only what is on disk, shows progress, notices a
 * silent broker (and re-attaches, so a restarted broker resends what was
 * not acknowledged), and detaches on Ctrl-C. Protocol: docs/jobs.md. */
#ifndef TOA_CLIENT_RECEIVE_H
#define TOA_CLIENT_RECEIVE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/conn.h"
#include "client/output.h"

#define TOA_RECEIVE_GIVE_UP_MS 600000  /* default: a broker silent 10 min is lost */

typedef enum {
    TOA_RECEIVE_SUBMIT,      /* the first answer is accept, reject or error */
    TOA_RECEIVE_ATTACH       /* the first answer is progress, result or error */
} toa_receive_mode_t;

typedef struct {
    toa_receive_mode_t mode;
    const char *job;
    const char *input_path;  /* submit: names rejected lines (FILE:LINE) */
    const char *output_path; /* for messages */
    const char *resume_flags;/* appended to the resume hint, e.g. " --config f" ("" or NULL) */
    int heartbeat_ms;        /* the broker's; silent for 3 of them = silent */
    int timeout_ms;          /* longest wait for the first answer */
    int give_up_ms;          /* a broker silent this long is lost (0: TOA_RECEIVE_GIVE_UP_MS) */
    int64_t budget_per_prompt; /* for the ETA, 0 = unknown */
    bool quiet;              /* no progress and no summary */
    volatile sig_atomic_t *interrupted;  /* set by the SIGINT handler */
    const toa_msg_t *first;  /* a message already received (e.g. an error that
                                ended a streamed submit), handled first; or NULL */
} toa_receive_options_t;

/* What happened, for the caller and for tests. */
typedef struct {
    int64_t results;         /* result messages received */
    int64_t written;         /* lines appended */
    int64_t duplicates;      /* results skipped: prompt already in the file */
    int64_t invalid;         /* results that were not JSON objects */
    int64_t acked;           /* highest seq acknowledged, -1 = none */
    int64_t acked_before;    /* results acknowledged before this run (attach) */
    int64_t total;           /* results of the job (prompts), -1 = not known yet */
    int64_t reattached;      /* attach re-sent after silence or a gap */
} toa_receive_stats_t;

/* Follows OPTIONS->job on CONN, writing to OUTPUT, until the job is done
 * (state "done": every result acknowledged), fails or is cancelled, the
 * broker is lost, writing fails, or *INTERRUPTED is set. A job that is only
 * "searched" is followed on: its unacknowledged results still come. Returns
 * TOA_EXIT_OK only when every result of the job is acknowledged, by this run
 * (each on disk, fsync'd, before its ack) or before it (attach). On any
 * other end it says how many results are stored and that `toa attach`
 * fetches the rest. Messages go to stderr. Returns the exit code
 * (client/exit_codes.h) and fills STATS when not NULL. */
int toa_receive_run (toa_conn_t *conn, toa_output_t *output,
                     const toa_receive_options_t *options, toa_receive_stats_t *stats);

#endif
