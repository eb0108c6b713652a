/* tasks.h - the broker's task table: every generation and scoring task with
 * its id, attempt and lease, and the rule that applies a result exactly once.
 *
 * A task is QUEUED (waiting in a router queue), BACKOFF (waiting out a retry
 * delay) or LEASED (sent to a peer: attempt n, deadline, peer). A result is
 * applied only when it names a LEASED task and its current attempt and comes
 * from the peer that holds that lease; anything else is dropped and counted.
 * (A lease that ended without an answer still holds its peer's credit: see
 * toa_peers_keep_charge.) Ids are unguessable: SipHash of a counter under a
 * key the broker draws at start, so a peer cannot name a task it was not
 * sent, and a restarted broker (new key) never reuses an id an old worker may
 * still answer. Pure: no I/O. */
#ifndef TOA_BROKER_TASKS_H
#define TOA_BROKER_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/method/policy.h"

typedef enum { TOA_TASK_GEN = 0, TOA_TASK_SCORE = 1 } toa_task_kind_t;

typedef enum {
    TOA_TASK_QUEUED = 0,
    TOA_TASK_BACKOFF,
    TOA_TASK_LEASED
} toa_task_state_t;

typedef struct toa_task_s toa_task_t;
struct toa_task_s {
    uint64_t id;
    int64_t attempt;         /* of the current (or last) lease; 0 before the first */
    toa_task_kind_t kind;
    toa_task_state_t state;
    void *job;               /* the job it belongs to */
    void *prompt;            /* the prompt it works for */
    toa_gen_plan_t plan;     /* GEN: what to generate */
    int response;            /* SCORE: the record to score */
    int route;               /* router queue it waits in */
    int priority;            /* higher first in its queue (the prompt's remaining work) */
    int retries;             /* failures so far (transient, lost leases) */
    int64_t ready_ms;        /* BACKOFF: when it may be queued again */
    int64_t deadline_ms;     /* LEASED: lease expiry */
    int peer;                /* LEASED: peer slot, else -1 */
    int counted_peer;        /* the peer slot its lease is counted against in
                              * its route (toa_router_leased), else -1 */
    bool in_queue;           /* linked in its router queue */
    toa_task_t *queue_prev, *queue_next; /* router queue links */
    toa_task_t *hash_next;   /* table chain */
};

/* What a result's (task, attempt) names. */
typedef enum {
    TOA_TASKS_CURRENT = 0,   /* the current lease: apply it */
    TOA_TASKS_STALE,         /* a known task, but not this attempt's lease: drop */
    TOA_TASKS_UNKNOWN,       /* no such task (applied already, or another broker's) */
    TOA_TASKS_FOREIGN        /* the current lease, but held by another peer: drop */
} toa_tasks_match_t;

typedef struct {
    uint64_t created, applied, stale, unknown, foreign, expired;
} toa_tasks_stats_t;

typedef struct toa_tasks_s toa_tasks_t;

/* A table whose ids are keyed by KEY (128 random bits; tests may pass a
 * fixed one) and whose leases last LEASE_MS. NULL when out of memory. */
toa_tasks_t *toa_tasks_new (const uint64_t key[2], int64_t lease_ms);

/* Frees every task; nulls *SELF_P; safe on NULL. */
void toa_tasks_destroy (toa_tasks_t **self_p);

/* A new QUEUED task of KIND with a fresh id (never 0, never one in the
 * table; peer -1, attempt 0), or NULL. */
toa_task_t *toa_tasks_add (toa_tasks_t *self, toa_task_kind_t kind);

/* The task with ID, or NULL. */
toa_task_t *toa_tasks_find (const toa_tasks_t *self, uint64_t id);

/* Removes and frees TASK (the caller unlinked it from any queue). */
void toa_tasks_remove (toa_tasks_t *self, toa_task_t *task);

/* Leases TASK to PEER at NOW: attempt + 1, deadline NOW + lease. */
void toa_tasks_lease (toa_tasks_t *self, toa_task_t *task, int peer, int64_t now);

/* Classifies a result for (ID, ATTEMPT) sent by peer slot PEER (-1: an
 * unregistered sender, never CURRENT) and counts it (CURRENT is counted by
 * toa_tasks_applied). CURRENT, STALE and FOREIGN set *TASK. */
toa_tasks_match_t toa_tasks_match (toa_tasks_t *self, uint64_t id, int64_t attempt, int peer,
                                   toa_task_t **task);

/* Counts a result dropped without a lookup (e.g. for a lease that ended). */
void toa_tasks_count_stale (toa_tasks_t *self);

/* Marks the current-lease TASK as applied: counted, caller removes it. */
void toa_tasks_applied (toa_tasks_t *self, toa_task_t *task);

/* Calls FN for every task (FN may not add or remove tasks). */
void toa_tasks_each (toa_tasks_t *self, void (*fn) (toa_task_t *task, void *arg), void *arg);

/* Writes up to MAX tasks whose lease or backoff ended by NOW (LEASED past
 * deadline, BACKOFF past ready_ms) into OUT. Returns how many. */
size_t toa_tasks_due (toa_tasks_t *self, int64_t now, toa_task_t **out, size_t max);

/* Number of tasks in the table (any state). */
size_t toa_tasks_count (const toa_tasks_t *self);

/* Counters since creation. */
void toa_tasks_stats (const toa_tasks_t *self, toa_tasks_stats_t *out);

/* The lease length. */
int64_t toa_tasks_lease_ms (const toa_tasks_t *self);

#endif
