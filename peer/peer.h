/* peer.h - the worker/scorer side of the connection to the broker, whatever
 * the tasks are: a DEALER socket, READY, heartbeats, the broker's liveness,
 * reconnection with back-off, credit accounting and an orderly goodbye.
 *
 * Life: toa_peer_new() connects and sends READY. The owner's zmq_poll loop
 * adds toa_peer_poll_fill()'s item, bounds its timeout with
 * toa_peer_poll_timeout(), and calls toa_peer_process() after every poll.
 * Tasks (gen-task, score-task) go to the task callback. When the broker is
 * silent for LIVENESS of its heartbeat intervals, or says DISCONNECT, the
 * socket is closed, the lost callback is told that every task received so far
 * is void (the broker re-issues them), and after a back-off (reconnect_min_ms
 * doubling to reconnect_max_ms, with jitter) a new socket connects and sends
 * READY again. A bad message from the broker is logged and counted. */
#ifndef TOA_PEER_H
#define TOA_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "proto/curve.h"
#include "proto/proto.h"

typedef struct toa_peer_s toa_peer_t;

typedef struct {
    const char *endpoint;            /* the broker's worker ROUTER, tcp://... */
    toa_peer_kind_t kind;
    const char *name;                /* for the broker's logs; NULL: "host:pid" */
    const char *const *serves;       /* model or backend names (copied) */
    size_t n_serves;
    int64_t credit;                  /* tasks taken at once, >= 1 */
    int64_t heartbeat_ms;            /* our interval, announced in READY (default 1000) */
    int64_t broker_heartbeat_ms;     /* the broker's interval (default heartbeat_ms) */
    int liveness;                    /* silent intervals before the broker is dead (default 3) */
    int64_t reconnect_min_ms;        /* first back-off (default 1000) */
    int64_t reconnect_max_ms;        /* back-off cap (default 32000) */
    size_t max_message;              /* ZMQ_MAXMSGSIZE (0: TOA_PROTO_MAX_MESSAGE) */
    const toa_curve_client_t *curve; /* CURVE keys (copied); NULL or off: no CURVE */
} toa_peer_options_t;

typedef struct {
    uint64_t connects;               /* sockets opened (READY sent) */
    uint64_t lost;                   /* connections given up (silence or DISCONNECT) */
    uint64_t tasks;                  /* tasks received */
    uint64_t answers;                /* results and failures sent */
    uint64_t refused;                /* tasks refused while draining */
    uint64_t dropped;                /* tasks voided by a lost connection */
    uint64_t bad_messages;           /* undecodable or unexpected messages */
    uint64_t over_credit;            /* tasks received beyond the credit */
    uint64_t send_errors;            /* messages that could not be queued */
} toa_peer_stats_t;

/* A task arrived (TASK->type is TOA_MSG_GEN_TASK or TOA_MSG_SCORE_TASK). The
 * callback owns what TASK holds and must toa_msg_clear() it; SESSION
 * identifies the connection it came on (see toa_peer_answer). */
typedef void (toa_peer_task_fn) (void *arg, toa_msg_t *task, uint64_t session);

/* The connection was lost (WHY says how); the TASKS tasks not yet answered
 * on it are void: the owner should stop working on them. */
typedef void (toa_peer_lost_fn) (void *arg, size_t tasks, const char *why);

/* Creates the peer on CONTEXT (a zmq context the caller keeps alive), opens
 * the socket and sends READY. Returns NULL on bad options (logged) or when
 * out of memory. */
toa_peer_t *toa_peer_new (void *context, const toa_peer_options_t *options,
                          toa_peer_task_fn *on_task, toa_peer_lost_fn *on_lost, void *arg);

/* Closes the socket without a goodbye, frees everything, nulls *SELF_P. */
void toa_peer_destroy (toa_peer_t **self_p);

/* Fills ITEM with the broker socket; returns 1, or 0 while waiting to
 * reconnect (no socket to poll). */
size_t toa_peer_poll_fill (const toa_peer_t *self, zmq_pollitem_t *item);

/* Milliseconds until the next heartbeat, liveness check or reconnection. */
long toa_peer_poll_timeout (const toa_peer_t *self);

/* Reads every waiting message (when ITEM, as filled and polled, is readable;
 * ITEM may be NULL), then runs the timers. Callbacks run from here. */
void toa_peer_process (toa_peer_t *self, const zmq_pollitem_t *item);

/* Sends ANSWER (gen-result, score-result or task-failure) for a task of
 * SESSION and gives back its credit. An answer for an older session is
 * dropped (its task was voided). Returns 0 when queued for sending, 1 when
 * dropped as stale, -1 on a send error (counted and logged). */
int toa_peer_answer (toa_peer_t *self, uint64_t session, const toa_msg_t *answer);

/* Sends a heartbeat carrying STATS[0..N_STATS) (borrowed), the program's
 * figures for the broker's metrics (proto/README.md, heartbeat). Returns 0
 * when queued, -1 when there is no connection or the send failed (the
 * caller keeps the counts for the next report). */
int toa_peer_report (toa_peer_t *self, const toa_peer_stat_t *stats, size_t n_stats);

/* From now on every task is refused at once with a transient task-failure
 * ("shutting down"), so that the broker gives it to another peer, and a lost
 * connection is not re-opened. */
void toa_peer_drain (toa_peer_t *self);

/* Sends DISCONNECT with REASON and closes the socket, keeping up to
 * LINGER_MS to deliver what is still queued (answers included). */
void toa_peer_goodbye (toa_peer_t *self, const char *reason, int linger_ms);

/* The current session (changes at every reconnection); 0 while waiting. */
uint64_t toa_peer_session (const toa_peer_t *self);

/* Tasks received on the current session and not answered yet. */
size_t toa_peer_outstanding (const toa_peer_t *self);

toa_peer_stats_t toa_peer_stats (const toa_peer_t *self);

/* The back-off before reconnection number ATTEMPT (1 = first): MIN_MS doubled
 * per attempt up to MAX_MS, times a jitter factor 0.8 + 0.4 * UNIFORM. Pure. */
int64_t toa_peer_backoff_ms (int attempt, int64_t min_ms, int64_t max_ms, double uniform);

#endif
