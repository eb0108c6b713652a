/* router.c - queues per model/backend and the choice of peer (see router.h). */
#include "broker/fleet/router.h"

#include <stdlib.h>
#include <string.h>

/* A queue is one FIFO list per priority level; the head is the oldest task
 * of the highest level. */
#define S_LEVELS 256

typedef struct {
    toa_task_t *head, *tail;
} s_list_t;

typedef struct {
    toa_peer_kind_t kind;
    char *name;
    s_list_t *levels;        /* S_LEVELS lists, allocated with the queue */
    int top;                 /* no task above this level */
    size_t count;
    int *held;               /* tasks of this route each peer slot holds */
    int n_held;              /* slots in held */
} s_queue_t;

static int
s_level (const toa_task_t *task)
{
    return task->priority < 0 ? 0 : task->priority >= S_LEVELS ? S_LEVELS - 1 : task->priority;
}

struct toa_router_s {
    s_queue_t *queues;
    int count, capacity;
    int cursor[2];           /* per peer kind: the route after the last one leased
                              * (ties of held tasks go round from there) */
};

toa_router_t *
toa_router_new (void)
{
    return calloc (1, sizeof (toa_router_t));
}

void
toa_router_destroy (toa_router_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_router_t *self = *self_p;
    for (int i = 0; i < self->count; i++) {
        free (self->queues[i].name);
        free (self->queues[i].levels);
        free (self->queues[i].held);
    }
    free (self->queues);
    free (self);
    *self_p = NULL;
}

int
toa_router_route (toa_router_t *self, toa_peer_kind_t kind, const char *name)
{
    for (int i = 0; i < self->count; i++)
        if (self->queues[i].kind == kind && strcmp (self->queues[i].name, name) == 0)
            return i;
    if (self->count == self->capacity) {
        int capacity = self->capacity ? self->capacity * 2 : 8;
        s_queue_t *queues = realloc (self->queues, (size_t) capacity * sizeof *queues);
        if (!queues)
            return -1;
        self->queues = queues;
        self->capacity = capacity;
    }
    s_queue_t *queue = &self->queues[self->count];
    memset (queue, 0, sizeof *queue);
    queue->kind = kind;
    queue->name = strdup (name);
    queue->levels = calloc (S_LEVELS, sizeof *queue->levels);
    if (!queue->name || !queue->levels) {
        free (queue->name);
        free (queue->levels);
        return -1;
    }
    return self->count++;
}

static s_queue_t *
s_queue (const toa_router_t *self, int route)
{
    return route >= 0 && route < self->count ? &self->queues[route] : NULL;
}

/* Links TASK at the tail of its level in its route's queue, or at the head
 * of that level when FRONT. */
static void
s_enqueue (toa_router_t *self, toa_task_t *task, bool front)
{
    s_queue_t *queue = s_queue (self, task->route);
    if (!queue || task->in_queue)
        return;
    toa_router_release (self, task);
    task->state = TOA_TASK_QUEUED;
    task->peer = -1;
    task->in_queue = true;
    int level = s_level (task);
    s_list_t *list = &queue->levels[level];
    if (front) {
        task->queue_prev = NULL;
        task->queue_next = list->head;
        if (list->head)
            list->head->queue_prev = task;
        else
            list->tail = task;
        list->head = task;
    }
    else {
        task->queue_next = NULL;
        task->queue_prev = list->tail;
        if (list->tail)
            list->tail->queue_next = task;
        else
            list->head = task;
        list->tail = task;
    }
    if (level > queue->top)
        queue->top = level;
    queue->count++;
}

void
toa_router_push (toa_router_t *self, toa_task_t *task)
{
    s_enqueue (self, task, false);
}

void
toa_router_push_front (toa_router_t *self, toa_task_t *task)
{
    s_enqueue (self, task, true);
}

void
toa_router_unlink (toa_router_t *self, toa_task_t *task)
{
    toa_router_release (self, task);
    s_queue_t *queue = s_queue (self, task->route);
    if (!queue || !task->in_queue)
        return;
    s_list_t *list = &queue->levels[s_level (task)];
    if (task->queue_prev)
        task->queue_prev->queue_next = task->queue_next;
    else
        list->head = task->queue_next;
    if (task->queue_next)
        task->queue_next->queue_prev = task->queue_prev;
    else
        list->tail = task->queue_prev;
    task->queue_prev = task->queue_next = NULL;
    task->in_queue = false;
    queue->count--;
}

toa_task_t *
toa_router_head (const toa_router_t *self, int route)
{
    s_queue_t *queue = s_queue (self, route);
    if (!queue || queue->count == 0)
        return NULL;
    while (queue->top > 0 && !queue->levels[queue->top].head)
        queue->top--;        /* levels above emptied since: lower the mark */
    return queue->levels[queue->top].head;
}

size_t
toa_router_queued (const toa_router_t *self, int route)
{
    s_queue_t *queue = s_queue (self, route);
    return queue ? queue->count : 0;
}

int
toa_router_routes (const toa_router_t *self)
{
    return self->count;
}

const char *
toa_router_name (const toa_router_t *self, int route)
{
    s_queue_t *queue = s_queue (self, route);
    return queue ? queue->name : NULL;
}

toa_peer_kind_t
toa_router_kind (const toa_router_t *self, int route)
{
    s_queue_t *queue = s_queue (self, route);
    return queue ? queue->kind : TOA_PEER_WORKER;
}

void
toa_router_leased (toa_router_t *self, toa_task_t *task)
{
    s_queue_t *queue = s_queue (self, task->route);
    toa_router_release (self, task);
    if (!queue || task->peer < 0)
        return;
    if (task->peer >= queue->n_held) {
        int n_held = task->peer + 16;
        int *held = realloc (queue->held, (size_t) n_held * sizeof *held);
        if (!held)
            return;          /* out of memory: not counted, dispatch a little less even */
        memset (held + queue->n_held, 0, (size_t) (n_held - queue->n_held) * sizeof *held);
        queue->held = held;
        queue->n_held = n_held;
    }
    queue->held[task->peer]++;
    task->counted_peer = task->peer;
    self->cursor[queue->kind == TOA_PEER_SCORER] = task->route + 1;
}

void
toa_router_release (toa_router_t *self, toa_task_t *task)
{
    s_queue_t *queue = s_queue (self, task->route);
    int slot = task->counted_peer;
    task->counted_peer = -1;
    if (queue && slot >= 0 && slot < queue->n_held && queue->held[slot] > 0)
        queue->held[slot]--;
}

int
toa_router_held (const toa_router_t *self, int route, int slot)
{
    s_queue_t *queue = s_queue (self, route);
    return queue && slot >= 0 && slot < queue->n_held ? queue->held[slot] : 0;
}

int
toa_router_next (const toa_router_t *self, const toa_peers_t *peers, const bool *closed,
                 int64_t now, int *route)
{
    int best = -1, best_route = -1;
    int64_t best_free = 0;
    for (int slot = 0; slot < toa_peers_slots (peers); slot++) {
        const toa_broker_peer_t *peer = toa_peers_get (peers, slot);
        int64_t free_credit = peer ? toa_broker_peer_free_credit (peer) : 0;
        if (free_credit <= best_free || toa_broker_peer_is_dead (peer, now))
            continue;
        int pick = -1, pick_held = 0, start = self->cursor[peer->kind == TOA_PEER_SCORER];
        for (int i = 0; i < self->count; i++) {
            int r = (start + i) % self->count;
            const s_queue_t *queue = &self->queues[r];
            if (queue->count == 0 || queue->kind != peer->kind || (closed && closed[r]))
                continue;
            int held = toa_router_held (self, r, slot);
            if ((pick < 0 || held < pick_held)
                && toa_broker_peer_serves (peer, queue->kind, queue->name)) {
                pick = r;
                pick_held = held;
            }
        }
        if (pick >= 0) {
            best = slot;
            best_route = pick;
            best_free = free_credit;
        }
    }
    if (route)
        *route = best_route;
    return best;
}

bool
toa_router_served (const toa_peers_t *peers, toa_peer_kind_t kind, const char *name,
                   int64_t now)
{
    for (int slot = 0; slot < toa_peers_slots (peers); slot++) {
        const toa_broker_peer_t *peer = toa_peers_get (peers, slot);
        if (peer && !toa_broker_peer_is_dead (peer, now) && toa_broker_peer_serves (peer, kind, name))
            return true;
    }
    return false;
}
