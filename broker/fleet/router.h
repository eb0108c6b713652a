/* router.h - where tasks wait and which peer gets them.
 *
 * One queue per route: a model name for generation tasks (served by
 * workers), a backend name for scoring tasks (served by scorers). A queue
 * hands out its highest task->priority first (0..255; the broker gives a
 * task its prompt's remaining generations, so the longest chains go first
 * and a batch's last prompts do not run alone at its end), FIFO within a
 * priority. A task goes
 * to a live peer of the right kind that serves its route and has free credit,
 * the one with the most free credit first; never beyond a peer's credit. A
 * route no live peer serves keeps its tasks waiting. Pure: no I/O. */
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

/* Takes TASK out of its queue when it is in one (state unchanged). */
void toa_router_unlink (toa_router_t *self, toa_task_t *task);

/* The first task of ROUTE, or NULL. */
toa_task_t *toa_router_head (const toa_router_t *self, int route);

/* Tasks waiting in ROUTE. */
size_t toa_router_queued (const toa_router_t *self, int route);

int toa_router_routes (const toa_router_t *self);
const char *toa_router_name (const toa_router_t *self, int route);
toa_peer_kind_t toa_router_kind (const toa_router_t *self, int route);

/* The peer slot that should get the next task of (KIND, NAME) at NOW: live,
 * serving it, with free credit, the most free credit first (the lowest slot
 * on ties); -1 when none. */
int toa_router_pick (const toa_peers_t *peers, toa_peer_kind_t kind, const char *name,
                     int64_t now);

/* True when some live peer of KIND serves NAME (with or without credit). */
bool toa_router_served (const toa_peers_t *peers, toa_peer_kind_t kind, const char *name,
                        int64_t now);

#endif
