/* router.h - where tasks wait and which peer gets them.
 *
 * One queue per route: a model name for generation tasks (served by
 * workers), a backend name for scoring tasks (served by scorers). A queue
 * hands out its highest task->priority first (0..255; the broker gives a
 * task its prompt's remaining generations, so the longest chains go first
 * and a batch's last prompts do not run alone at its end), FIFO within a
 * priority.
 *
 * The router also counts the tasks each peer holds of each route (its
 * leases), and the next task goes to the live peer of the right kind with
 * the most free credit (the lowest slot on ties), from the route it serves
 * that it holds fewest tasks of (on ties, round from the route after the
 * last one leased to a peer of that kind, so a peer with less credit than
 * models still serves them all in turn); never beyond a peer's credit. A worker's credit exceeds what it runs at once (its
 * per-model max_concurrent): this spreads the tasks it holds beyond that
 * evenly over its models, so a request that ends finds the next one of the
 * same model waiting in the worker, not a round trip away. A route no live
 * peer serves keeps its tasks waiting. Pure: no I/O. */
#ifndef TOA_BROKER_ROUTER_H
#define TOA_BROKER_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/fleet/peers.h"
#include "broker/fleet/tasks.h"

typedef struct toa_router_s toa_router_t;

toa_router_t *toa_router_new (void);

/* Frees the queues (not the tasks); nulls *SELF_P; safe on NULL. */
void toa_router_destroy (toa_router_t **self_p);

/* The route of (KIND, NAME), created when new. Returns its index, or -1
 * when out of memory. */
int toa_router_route (toa_router_t *self, toa_peer_kind_t kind, const char *name);

/* Appends TASK to the queue of TASK->route (state becomes QUEUED, peer -1);
 * nothing when it is in a queue already. */
void toa_router_push (toa_router_t *self, toa_task_t *task);

/* Puts TASK first in its queue (a send that failed keeps its turn). */
void toa_router_push_front (toa_router_t *self, toa_task_t *task);

/* Takes TASK out of its queue when it is in one, and out of the counts of
 * held tasks (toa_router_release); state unchanged. Call it before a task
 * leaves the table or its lease ends. */
void toa_router_unlink (toa_router_t *self, toa_task_t *task);

/* The first task of ROUTE, or NULL. */
toa_task_t *toa_router_head (const toa_router_t *self, int route);

/* Tasks waiting in ROUTE. */
size_t toa_router_queued (const toa_router_t *self, int route);

int toa_router_routes (const toa_router_t *self);
const char *toa_router_name (const toa_router_t *self, int route);
toa_peer_kind_t toa_router_kind (const toa_router_t *self, int route);

/* TASK was just leased to TASK->peer: counted as held by that peer in its
 * route until toa_router_release (or its next push). */
void toa_router_leased (toa_router_t *self, toa_task_t *task);

/* TASK's lease ended (answered, failed, dropped): no longer counted. Safe
 * on a task that is not counted. */
void toa_router_release (toa_router_t *self, toa_task_t *task);

/* Tasks of ROUTE counted as held by peer SLOT. */
int toa_router_held (const toa_router_t *self, int route, int slot);

/* The next send at NOW: sets *ROUTE and returns the peer slot (see the top
 * of this file), or -1 when no queued task can go anywhere. CLOSED (NULL:
 * none) marks routes to leave out (a model that is down, a full socket). */
int toa_router_next (const toa_router_t *self, const toa_peers_t *peers, const bool *closed,
                     int64_t now, int *route);

/* True when some live peer of KIND serves NAME (with or without credit). */
bool toa_router_served (const toa_peers_t *peers, toa_peer_kind_t kind, const char *name,
                        int64_t now);

#endif
