/* sched.h - when a simulated request may answer: per-model slots with a FIFO
 * queue, and timers, run by one thread.
 *
 * A request that must wait (for its latency, or for a slot and then its
 * latency) is handed over as a toa_sim_wait_t and costs no thread while it
 * waits; the scheduler's thread calls READY when its time is up. A request
 * holds its slot for its whole duration; when it ends, the oldest queued
 * request of that model takes the slot and starts its duration then. */
#ifndef TOA_SIM_SCHED_H
#define TOA_SIM_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct toa_sim_wait_s toa_sim_wait_t;
struct toa_sim_wait_s {
    void *user;              /* the caller's request */
    /* owned by the scheduler while the request waits */
    int64_t deadline_ms;
    int64_t duration_ms;
    uint64_t order;
    int pool;
    bool holds_slot;
    toa_sim_wait_t *next;
};

/* Called on the scheduler's thread (or in toa_sim_sched_close, with ABORTED
 * true) once per waiting request, without the scheduler's lock held. The
 * scheduler no longer touches WAIT afterwards. */
typedef void (toa_sim_sched_ready_fn) (toa_sim_wait_t *wait, bool aborted, void *arg);

/* Called under the scheduler's lock when a request starts to wait, before
 * READY can possibly run for it (to suspend its connection). */
typedef void (toa_sim_sched_wait_fn) (void *user);

typedef struct {
    int slots;
    int active;              /* requests holding a slot now */
    int queued;              /* requests waiting for a slot now */
    int max_active;          /* highest active seen */
    int max_queued;          /* highest queued seen */
} toa_sim_pool_info_t;

typedef struct toa_sim_sched_s toa_sim_sched_t;

/* A scheduler with N_POOLS pools of SLOTS[i] slots each (< 1 means 1), and
 * its thread started. Returns NULL on failure. */
toa_sim_sched_t *toa_sim_sched_new (size_t n_pools, const int *slots,
                                    toa_sim_sched_ready_fn *ready, void *arg);

/* Stops the thread after aborting every waiting request (READY with
 * ABORTED true), frees everything, nulls *SELF_P; safe on NULL. */
void toa_sim_sched_destroy (toa_sim_sched_t **self_p);

/* Stops accepting requests and aborts every waiting one. Safe to call twice. */
void toa_sim_sched_close (toa_sim_sched_t *self);

/* Admits a request taking DURATION_MS in POOL (-1: no slot needed).
 * Returns 0 if it may answer at once (no wait, a free slot; WAIT untouched),
 * 1 if it waits (ON_WAIT(WAIT->user) was called; READY will follow), or -1 if
 * the scheduler is closed or out of memory. */
int toa_sim_sched_submit (toa_sim_sched_t *self, toa_sim_wait_t *wait, int pool,
                          int64_t duration_ms, toa_sim_sched_wait_fn *on_wait);

/* A snapshot of POOL's counters. Returns 0, or -1 if POOL is out of range. */
int toa_sim_sched_pool_info (toa_sim_sched_t *self, int pool, toa_sim_pool_info_t *info);

/* Resets the max_active / max_queued counters of every pool to the current values. */
void toa_sim_sched_reset_max (toa_sim_sched_t *self);

#endif
