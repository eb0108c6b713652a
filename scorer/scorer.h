/* scorer.h - the scoring worker process: score tasks (scorer/score) and
 * their batch timers plugged into the peer event loop (common/peer_loop:
 * the broker connection and the HTTP engine), run until told to stop, then
 * drained. */
#ifndef TOA_SCORER_H
#define TOA_SCORER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/errors.h"
#include "peer/peer_loop.h"

typedef struct toa_scorer_s toa_scorer_t;

typedef struct {
    const toa_config_t *config;      /* borrowed; must outlive the scorer */
    toa_peer_loop_options_t loop;    /* endpoint, name, credit (0: config scorer.max_tasks),
                                        back-offs, grace */
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
