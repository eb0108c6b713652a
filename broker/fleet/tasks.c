/* tasks.c - the task table: ids, leases, exactly-once matching (see tasks.h). */
#include "broker/fleet/tasks.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct toa_tasks_s {
    toa_task_t **buckets;    /* chained hash on the id */
    size_t n_buckets;        /* a power of two */
    size_t count;
    uint64_t key[2];         /* SipHash key of the ids */
    uint64_t counter;        /* ids made so far */
    int64_t lease_ms;
    toa_tasks_stats_t stats;
};

static size_t
s_bucket (const toa_tasks_t *self, uint64_t id)
{
    return (size_t) (toa_splitmix64 (id) & (self->n_buckets - 1));
}

toa_tasks_t *
toa_tasks_new (const uint64_t key[2], int64_t lease_ms)
{
    toa_tasks_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->n_buckets = 256;
    self->buckets = calloc (self->n_buckets, sizeof *self->buckets);
    if (!self->buckets) {
        free (self);
        return NULL;
    }
    self->key[0] = key[0];
    self->key[1] = key[1];
    self->lease_ms = lease_ms > 0 ? lease_ms : 1;
    return self;
}

void
toa_tasks_destroy (toa_tasks_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_tasks_t *self = *self_p;
    for (size_t b = 0; b < self->n_buckets; b++)
        for (toa_task_t *task = self->buckets[b], *next; task; task = next) {
            next = task->hash_next;
            free (task);
        }
    free (self->buckets);
    free (self);
    *self_p = NULL;
}

/* Doubles the bucket array when the table is full; a failed grow is harmless. */
static void
s_grow (toa_tasks_t *self)
{
    if (self->count < self->n_buckets)
        return;
    size_t n_buckets = self->n_buckets * 2;
    toa_task_t **buckets = calloc (n_buckets, sizeof *buckets);
    if (!buckets)
        return;
    for (size_t b = 0; b < self->n_buckets; b++)
        for (toa_task_t *task = self->buckets[b], *next; task; task = next) {
            next = task->hash_next;
            size_t to = (size_t) (toa_splitmix64 (task->id) & (n_buckets - 1));
            task->hash_next = buckets[to];
            buckets[to] = task;
        }
    free (self->buckets);
    self->buckets = buckets;
    self->n_buckets = n_buckets;
}

toa_task_t *
toa_tasks_add (toa_tasks_t *self, toa_task_kind_t kind)
{
    toa_task_t *task = calloc (1, sizeof *task);
    if (!task)
        return NULL;
    s_grow (self);
    do {
        self->counter++;
        task->id = toa_siphash (self->key, &self->counter, sizeof self->counter);
    } while (task->id == 0 || toa_tasks_find (self, task->id));
    task->kind = kind;
    task->state = TOA_TASK_QUEUED;
    task->peer = -1;
    task->counted_peer = -1;
    task->route = -1;
    task->response = -1;
    size_t b = s_bucket (self, task->id);
    task->hash_next = self->buckets[b];
    self->buckets[b] = task;
    self->count++;
    self->stats.created++;
    return task;
}

toa_task_t *
toa_tasks_find (const toa_tasks_t *self, uint64_t id)
{
    for (toa_task_t *task = self->buckets[s_bucket (self, id)]; task; task = task->hash_next)
        if (task->id == id)
            return task;
    return NULL;
}

void
toa_tasks_remove (toa_tasks_t *self, toa_task_t *task)
{
    toa_task_t **link = &self->buckets[s_bucket (self, task->id)];
    while (*link && *link != task)
        link = &(*link)->hash_next;
    if (*link) {
        *link = task->hash_next;
        self->count--;
    }
    free (task);
}

void
toa_tasks_lease (toa_tasks_t *self, toa_task_t *task, int peer, int64_t now)
{
    task->attempt++;
    task->state = TOA_TASK_LEASED;
    task->peer = peer;
    task->deadline_ms = now + self->lease_ms;
}

toa_tasks_match_t
toa_tasks_match (toa_tasks_t *self, uint64_t id, int64_t attempt, int peer,
                 toa_task_t **task)
{
    *task = toa_tasks_find (self, id);
    if (!*task) {
        self->stats.unknown++;
        return TOA_TASKS_UNKNOWN;
    }
    if ((*task)->state != TOA_TASK_LEASED || (*task)->attempt != attempt) {
        self->stats.stale++;
        return TOA_TASKS_STALE;
    }
    if (peer < 0 || (*task)->peer != peer) {
        self->stats.foreign++;
        return TOA_TASKS_FOREIGN;
    }
    return TOA_TASKS_CURRENT;
}

void
toa_tasks_count_stale (toa_tasks_t *self)
{
    self->stats.stale++;
}

void
toa_tasks_applied (toa_tasks_t *self, toa_task_t *task)
{
    (void) task;
    self->stats.applied++;
}

void
toa_tasks_each (toa_tasks_t *self, void (*fn) (toa_task_t *task, void *arg), void *arg)
{
    for (size_t b = 0; b < self->n_buckets; b++)
        for (toa_task_t *task = self->buckets[b]; task; task = task->hash_next)
            fn (task, arg);
}

size_t
toa_tasks_due (toa_tasks_t *self, int64_t now, toa_task_t **out, size_t max)
{
    size_t count = 0;
    for (size_t b = 0; b < self->n_buckets && count < max; b++)
        for (toa_task_t *task = self->buckets[b]; task && count < max;
             task = task->hash_next) {
            bool due = task->state == TOA_TASK_LEASED
                           ? task->deadline_ms <= now
                           : task->state == TOA_TASK_BACKOFF && task->ready_ms <= now;
            if (due) {
                if (task->state == TOA_TASK_LEASED)
                    self->stats.expired++;
                out[count++] = task;
            }
        }
    return count;
}

size_t
toa_tasks_count (const toa_tasks_t *self)
{
    return self->count;
}

void
toa_tasks_stats (const toa_tasks_t *self, toa_tasks_stats_t *out)
{
    *out = self->stats;
}

int64_t
toa_tasks_lease_ms (const toa_tasks_t *self)
{
    return self->lease_ms;
}
