/* worker.h - the generation worker process: generation tasks (worker/gen)
 * plugged into the peer event loop (common/peer_loop: the broker
 * connection and the HTTP engine), run until told to stop, then drained. */
#ifndef TOA_WORKER_H
#define TOA_WORKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/errors.h"
#include "peer/peer_loop.h"

typedef struct toa_worker_s toa_worker_t;

typedef struct {
    const toa_config_t *config;      /* borrowed; must outlive the worker */
    const char *const *models;       /* model names served; N_MODELS 0 = all */
    size_t n_models;
    toa_peer_loop_options_t loop;    /* endpoint, name, credit (0: config worker.max_tasks),
                                        back-offs, grace */
} toa_worker_options_t;

/* Sets up the models, the HTTP engine and the broker connection (READY is
 * sent). Returns NULL with the problems in ERRORS. */
toa_worker_t *toa_worker_new (const toa_worker_options_t *options, toa_errors_t *errors);

/* Frees everything (no goodbye); nulls *SELF_P; safe on NULL. */
void toa_worker_destroy (toa_worker_t **self_p);

/* Runs the loop until *STOP becomes non-zero (set it from a signal handler),
 * then stops taking tasks, finishes the tasks in progress for up to
 * grace_ms, answers them, says DISCONNECT and returns 0; -1 on a fatal
 * error of the loop. */
int toa_worker_run (toa_worker_t *self, volatile sig_atomic_t *stop);

#endif
