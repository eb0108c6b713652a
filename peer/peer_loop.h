/* peer_loop.h - the one event loop of a worker or scorer process: a ZeroMQ
 * context, the HTTP engine (common/http) and the broker connection
 * (common/peer) in one zmq_poll loop, with the program's tasks plugged in
 * as a *runner* (worker/gen, scorer/score); an orderly drain on stop.
 *
 * Life: toa_peer_loop_new() sets up the context and the HTTP engine; the
 * program makes its runner on toa_peer_loop_http(), with
 * toa_peer_loop_answer() as the runner's answer callback; then
 * toa_peer_loop_connect() opens the broker connection (READY) with the
 * runner plugged in, and toa_peer_loop_run() runs until told to stop. The
 * program destroys its runner first (it cancels its requests on the HTTP
 * engine), then the loop. */
#ifndef TOA_PEER_LOOP_H
#define TOA_PEER_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/errors.h"
#include "common/http.h"
#include "proto/proto.h"

typedef struct toa_peer_loop_s toa_peer_loop_t;

/* What a worker or scorer process may tune (the shared command-line flags). */
typedef struct {
    const char *endpoint;            /* NULL: config broker.worker_endpoint */
    const char *name;                /* NULL: host:pid */
    int64_t max_tasks;               /* credit; 0: the config's (worker / scorer .max_tasks) */
    int64_t reconnect_min_ms;        /* 0: 1000 */
    int64_t reconnect_max_ms;        /* 0: 32000 */
    int64_t grace_ms;                /* drain time on stop; 0: 10000 */
    toa_http_options_t http;         /* retry back-off, cool-down; zeros: defaults */
} toa_peer_loop_options_t;

/* The program's tasks, as the loop drives them. RUNNER is the pointer given
 * to toa_peer_loop_connect(). */
typedef struct {
    /* Takes a task from the broker (see toa_peer_task_fn). */
    void (*start) (void *runner, toa_msg_t *task, uint64_t session);
    /* Drops every task without an answer (the connection is gone); how many. */
    size_t (*cancel_all) (void *runner);
    /* Answers every task with a transient failure REASON; how many. */
    size_t (*fail_all) (void *runner, const char *reason);
    /* Tasks taken and not answered yet. */
    size_t (*active) (const void *runner);
    /* Optional: milliseconds until process() is due without any event, -1
     * when nothing is scheduled. */
    long (*timeout) (const void *runner);
    /* Optional: runs after every poll; DRAINING once the loop takes no more
     * tasks (send what waits now). */
    void (*process) (void *runner, bool draining);
    /* Writes the runner's counters for the summary logged at the end. */
    void (*describe) (const void *runner, char *text, size_t size);
} toa_peer_runner_t;

/* Sets up the ZeroMQ context and the HTTP engine with OPTIONS (copied; the
 * strings are borrowed). LABEL ("worker", "scorer"; borrowed) prefixes the
 * loop's log lines and its goodbye. Returns NULL with the problem in
 * ERRORS. */
toa_peer_loop_t *toa_peer_loop_new (const char *label, const toa_peer_loop_options_t *options,
                                    toa_errors_t *errors);

/* Closes the broker connection without a goodbye, frees the HTTP engine
 * (destroy the runner before), terminates the context; nulls *SELF_P; safe
 * on NULL. */
void toa_peer_loop_destroy (toa_peer_loop_t **self_p);

/* The HTTP engine, for the runner's requests. */
toa_http_t *toa_peer_loop_http (toa_peer_loop_t *self);

/* Connects to the broker (the options' endpoint, else CONFIG's
 * broker.worker_endpoint; heartbeats and message size from CONFIG) and sends
 * READY as KIND serving SERVES[0..N_SERVES) (copied) with CREDIT. From then
 * on the broker's tasks go to RUNNER (RUNNER_ARG, borrowed, must outlive the
 * loop's use of it). Returns 0, or -1 with the problem in ERRORS. */
int toa_peer_loop_connect (toa_peer_loop_t *self, const toa_config_t *config,
                           toa_peer_kind_t kind, const char *const *serves, size_t n_serves,
                           int64_t credit, const toa_peer_runner_t *runner, void *runner_arg,
                           toa_errors_t *errors);

/* The runner's answer callback (SELF is the loop, as a void pointer): sends
 * ANSWER for a task that came on SESSION; an answer for an older connection
 * is dropped (its task was re-issued). */
void toa_peer_loop_answer (void *self, uint64_t session, const toa_msg_t *answer);

/* Runs the loop until *STOP becomes non-zero (set it from a signal
 * handler), then takes no more tasks, lets the runner send what waits,
 * finishes the tasks in progress for up to grace_ms (a second signal cuts
 * it short), answers the unfinished ones as transient failures, says
 * DISCONNECT, logs a summary and returns 0; -1 on a fatal error of the
 * loop (or before toa_peer_loop_connect). */
int toa_peer_loop_run (toa_peer_loop_t *self, volatile sig_atomic_t *stop);

#endif
