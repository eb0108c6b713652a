/* scorer.h - the scoring worker process: one zmq_poll loop over its broker
 * connection (common/peer), its HTTP requests (common/http) and its batch
 * timers, running score tasks (scorer/score) until told to stop, then
 * draining. */
#ifndef TOA_SCORER_H
#define TOA_SCORER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/errors.h"
#include "common/http.h"

typedef struct toa_scorer_s toa_scorer_t;

typedef struct {
    const toa_config_t *config;      /* borrowed; must outlive the scorer */
    const char *endpoint;            /* NULL: config broker.worker_endpoint */
    const char *name;                /* NULL: host:pid */
    int64_t max_tasks;               /* credit; 0: config scorer.max_tasks */
    int64_t reconnect_min_ms;        /* 0: 1000 */
    int64_t reconnect_max_ms;        /* 0: 32000 */
    int64_t grace_ms;                /* drain time on stop; 0: 10000 */
    toa_http_options_t http;         /* retry back-off, cool-down; zeros: defaults */
} toa_scorer_options_t;

/* Sets up the backend of the config's reward section, the HTTP engine and
 * the broker connection (READY is sent, serving the backend's name).
 * Returns NULL with the problems in ERRORS. */
toa_scorer_t *toa_scorer_new (const toa_scorer_options_t *options, toa_errors_t *errors);

/* Frees everything (no goodbye); nulls *SELF_P; safe on NULL. */
void toa_scorer_destroy (toa_scorer_t **self_p);

/* Runs the loop until *STOP becomes non-zero (set it from a signal
 * handler), then stops taking tasks, sends what waits in batches at once,
 * finishes the calls in flight for up to grace_ms (a second signal cuts it
 * short), answers every task (unfinished ones as transient failures), says
 * DISCONNECT and returns 0; -1 on a fatal error of the loop. */
int toa_scorer_run (toa_scorer_t *self, volatile sig_atomic_t *stop);

#endif
