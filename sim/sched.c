/* sched.c - per-model slots, FIFO queues and timers on one thread (see sched.h). */
#include "sim/sched.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
    toa_sim_pool_info_t info;
    toa_sim_wait_t *head;    /* FIFO of requests waiting for a slot */
    toa_sim_wait_t *tail;
} s_pool_t;

struct toa_sim_sched_s {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool thread_started;
    bool closed;
    s_pool_t *pools;
    size_t n_pools;
    toa_sim_wait_t **heap;   /* timers, earliest deadline first */
    size_t heap_count;
    size_t heap_capacity;
    uint64_t next_order;
    toa_sim_sched_ready_fn *ready;
    void *arg;
};

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static bool
s_before (const toa_sim_wait_t *a, const toa_sim_wait_t *b)
{
    return a->deadline_ms < b->deadline_ms
           || (a->deadline_ms == b->deadline_ms && a->order < b->order);
}

static int
s_heap_push (toa_sim_sched_t *self, toa_sim_wait_t *wait)
{
    if (self->heap_count == self->heap_capacity) {
        size_t capacity = self->heap_capacity ? self->heap_capacity * 2 : 1024;
        toa_sim_wait_t **heap = realloc (self->heap, capacity * sizeof *heap);
        if (!heap)
            return -1;
        self->heap = heap;
        self->heap_capacity = capacity;
    }
    wait->order = self->next_order++;
    size_t at = self->heap_count++;
    while (at > 0) {
        size_t parent = (at - 1) / 2;
        if (!s_before (wait, self->heap[parent]))
            break;
        self->heap[at] = self->heap[parent];
        at = parent;
    }
    self->heap[at] = wait;
    return 0;
}

static toa_sim_wait_t *
s_heap_pop (toa_sim_sched_t *self)
{
    toa_sim_wait_t *top = self->heap[0];
    toa_sim_wait_t *last = self->heap[--self->heap_count];
    size_t at = 0;
    for (;;) {
        size_t child = 2 * at + 1;
        if (child >= self->heap_count)
            break;
        if (child + 1 < self->heap_count && s_before (self->heap[child + 1], self->heap[child]))
            child++;
        if (!s_before (self->heap[child], last))
            break;
        self->heap[at] = self->heap[child];
        at = child;
    }
    if (self->heap_count > 0)
        self->heap[at] = last;
    return top;
}

static void
s_note_active (s_pool_t *pool, int delta)
{
    pool->info.active += delta;
    if (pool->info.active > pool->info.max_active)
        pool->info.max_active = pool->info.active;
}

/* Starts WAIT's duration holding a slot of its pool, or makes it ready now
 * (appended to *READY) when it has none. Lock held. */
static int
s_start (toa_sim_sched_t *self, toa_sim_wait_t *wait, int64_t now, toa_sim_wait_t **ready)
{
    s_pool_t *pool = wait->pool >= 0 ? &self->pools[wait->pool] : NULL;
    if (wait->duration_ms <= 0) {
        if (pool) {
            s_note_active (pool, 1);
            s_note_active (pool, -1);
        }
        wait->holds_slot = false;
        wait->next = *ready;
        *ready = wait;
        return 0;
    }
    wait->deadline_ms = now + wait->duration_ms;
    wait->holds_slot = pool != NULL;
    if (s_heap_push (self, wait) != 0)
        return -1;
    if (pool)
        s_note_active (pool, 1);
    return 0;
}

/* Frees WAIT's slot and starts queued requests of its pool that now fit. */
static void
s_release (toa_sim_sched_t *self, toa_sim_wait_t *wait, int64_t now, toa_sim_wait_t **ready)
{
    s_pool_t *pool = &self->pools[wait->pool];
    s_note_active (pool, -1);
    while (pool->head && pool->info.active < pool->info.slots) {
        toa_sim_wait_t *next = pool->head;
        pool->head = next->next;
        if (!pool->head)
            pool->tail = NULL;
        pool->info.queued--;
        if (s_start (self, next, now, ready) != 0) {
            /* out of memory for the timer: answer it now rather than lose it */
            next->holds_slot = false;
            next->next = *ready;
            *ready = next;
        }
    }
}

/* Reverses a ready list so that requests answer in the order they became ready. */
static toa_sim_wait_t *
s_reverse (toa_sim_wait_t *list)
{
    toa_sim_wait_t *reversed = NULL;
    while (list) {
        toa_sim_wait_t *next = list->next;
        list->next = reversed;
        reversed = list;
        list = next;
    }
    return reversed;
}

static void
s_deliver (toa_sim_sched_t *self, toa_sim_wait_t *list, bool aborted)
{
    list = s_reverse (list);
    while (list) {
        toa_sim_wait_t *next = list->next;
        list->next = NULL;
        self->ready (list, aborted, self->arg);
        list = next;
    }
}

static void *
s_run (void *arg)
{
    toa_sim_sched_t *self = arg;
    pthread_mutex_lock (&self->lock);
    while (!self->closed) {
        int64_t now = s_now_ms ();
        toa_sim_wait_t *ready = NULL;
        while (self->heap_count > 0 && self->heap[0]->deadline_ms <= now) {
            toa_sim_wait_t *wait = s_heap_pop (self);
            wait->next = ready;
            ready = wait;
            if (wait->holds_slot) {
                wait->holds_slot = false;
                /* s_release may append zero-duration requests after WAIT */
                toa_sim_wait_t *more = NULL;
                s_release (self, wait, now, &more);
                while (more) {
                    toa_sim_wait_t *next = more->next;
                    more->next = ready;
                    ready = more;
                    more = next;
                }
                /* keep WAIT's own link intact */
            }
        }
        if (ready) {
            pthread_mutex_unlock (&self->lock);
            s_deliver (self, ready, false);
            pthread_mutex_lock (&self->lock);
            continue;
        }
        if (self->heap_count == 0)
            pthread_cond_wait (&self->wake, &self->lock);
        else {
            int64_t deadline = self->heap[0]->deadline_ms;
            struct timespec until = {(time_t) (deadline / 1000), (long) (deadline % 1000) * 1000000};
            pthread_cond_timedwait (&self->wake, &self->lock, &until);
        }
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

toa_sim_sched_t *
toa_sim_sched_new (size_t n_pools, const int *slots, toa_sim_sched_ready_fn *ready, void *arg)
{
    toa_sim_sched_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->pools = calloc (n_pools ? n_pools : 1, sizeof *self->pools);
    pthread_condattr_t attributes;
    bool attributes_made = pthread_condattr_init (&attributes) == 0;
    bool ok = self->pools && attributes_made
              && pthread_condattr_setclock (&attributes, CLOCK_MONOTONIC) == 0
              && pthread_mutex_init (&self->lock, NULL) == 0;
    if (ok && pthread_cond_init (&self->wake, &attributes) != 0) {
        pthread_mutex_destroy (&self->lock);
        ok = false;
    }
    if (attributes_made)
        pthread_condattr_destroy (&attributes);
    if (!ok) {
        free (self->pools);
        free (self);
        return NULL;
    }
    self->n_pools = n_pools;
    for (size_t i = 0; i < n_pools; i++)
        self->pools[i].info.slots = slots && slots[i] > 0 ? slots[i] : 1;
    self->ready = ready;
    self->arg = arg;
    if (pthread_create (&self->thread, NULL, s_run, self) != 0) {
        toa_sim_sched_destroy (&self);
        return NULL;
    }
    self->thread_started = true;
    return self;
}

void
toa_sim_sched_close (toa_sim_sched_t *self)
{
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    bool was_closed = self->closed;
    self->closed = true;
    pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
    if (self->thread_started && !was_closed)
        pthread_join (self->thread, NULL);
    self->thread_started = false;
    /* the thread is gone: nothing else touches the queues now */
    toa_sim_wait_t *aborted = NULL;
    pthread_mutex_lock (&self->lock);
    while (self->heap_count > 0) {
        toa_sim_wait_t *wait = s_heap_pop (self);
        if (wait->holds_slot)
            s_note_active (&self->pools[wait->pool], -1);
        wait->next = aborted;
        aborted = wait;
    }
    for (size_t i = 0; i < self->n_pools; i++) {
        s_pool_t *pool = &self->pools[i];
        while (pool->head) {
            toa_sim_wait_t *wait = pool->head;
            pool->head = wait->next;
            pool->info.queued--;
            wait->next = aborted;
            aborted = wait;
        }
        pool->tail = NULL;
    }
    pthread_mutex_unlock (&self->lock);
    s_deliver (self, aborted, true);
}

void
toa_sim_sched_destroy (toa_sim_sched_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_sim_sched_t *self = *self_p;
    toa_sim_sched_close (self);
    pthread_cond_destroy (&self->wake);
    pthread_mutex_destroy (&self->lock);
    free (self->heap);
    free (self->pools);
    free (self);
    *self_p = NULL;
}

int
toa_sim_sched_submit (toa_sim_sched_t *self, toa_sim_wait_t *wait, int pool_index,
                      int64_t duration_ms, toa_sim_sched_wait_fn *on_wait)
{
    if (!self || !wait || pool_index >= (int) self->n_pools)
        return -1;
    pthread_mutex_lock (&self->lock);
    if (self->closed) {
        pthread_mutex_unlock (&self->lock);
        return -1;
    }
    s_pool_t *pool = pool_index >= 0 ? &self->pools[pool_index] : NULL;
    wait->pool = pool_index;
    wait->duration_ms = duration_ms;
    wait->holds_slot = false;
    wait->next = NULL;
    bool slot_free = !pool || (pool->info.active < pool->info.slots && !pool->head);
    if (slot_free && duration_ms <= 0) {
        if (pool) {
            s_note_active (pool, 1);
            s_note_active (pool, -1);
        }
        pthread_mutex_unlock (&self->lock);
        return 0;
    }
    int rc = 1;
    if (slot_free) {
        toa_sim_wait_t *none = NULL;
        if (s_start (self, wait, s_now_ms (), &none) != 0)
            rc = -1;
        else if (self->heap[0] == wait)
            pthread_cond_signal (&self->wake);
    }
    else {
        if (pool->tail)
            pool->tail->next = wait;
        else
            pool->head = wait;
        pool->tail = wait;
        pool->info.queued++;
        if (pool->info.queued > pool->info.max_queued)
            pool->info.max_queued = pool->info.queued;
    }
    if (rc == 1 && on_wait)
        on_wait (wait->user);
    pthread_mutex_unlock (&self->lock);
    return rc;
}

int
toa_sim_sched_pool_info (toa_sim_sched_t *self, int pool, toa_sim_pool_info_t *info)
{
    if (!self || pool < 0 || pool >= (int) self->n_pools)
        return -1;
    pthread_mutex_lock (&self->lock);
    *info = self->pools[pool].info;
    pthread_mutex_unlock (&self->lock);
    return 0;
}

void
toa_sim_sched_reset_max (toa_sim_sched_t *self)
{
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->n_pools; i++) {
        self->pools[i].info.max_active = self->pools[i].info.active;
        self->pools[i].info.max_queued = self->pools[i].info.queued;
    }
    pthread_mutex_unlock (&self->lock);
}
