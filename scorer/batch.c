/* batch.c - the batch-closing rule over a FIFO of waiting items (see
 * batch.h). */
#include "scorer/batch.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    void *item;
    int64_t arrived_ms;
} s_slot_t;

struct toa_batcher_s {
    size_t batch_size;
    int64_t wait_ms;
    s_slot_t *slots;         /* ring buffer */
    size_t capacity;
    size_t head;             /* oldest */
    size_t count;
};

toa_batcher_t *
toa_batcher_new (size_t batch_size, int64_t wait_ms)
{
    if (batch_size < 1 || wait_ms < 0)
        return NULL;
    toa_batcher_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->batch_size = batch_size;
    self->wait_ms = wait_ms;
    return self;
}

void
toa_batcher_destroy (toa_batcher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

static s_slot_t *
s_at (const toa_batcher_t *self, size_t i)
{
    return &self->slots[(self->head + i) % self->capacity];
}

/* Doubles the ring, keeping the order. 0 or -1. */
static int
s_grow (toa_batcher_t *self)
{
    size_t capacity = self->capacity ? self->capacity * 2 : 16;
    s_slot_t *slots = malloc (capacity * sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->count; i++)
        slots[i] = *s_at (self, i);
    free (self->slots);
    self->slots = slots;
    self->capacity = capacity;
    self->head = 0;
    return 0;
}

int
toa_batcher_add (toa_batcher_t *self, void *item, int64_t now_ms)
{
    if (!self || !item)
        return -1;
    if (self->count == self->capacity && s_grow (self) != 0)
        return -1;
    s_slot_t *slot = &self->slots[(self->head + self->count) % self->capacity];
    slot->item = item;
    slot->arrived_ms = now_ms;
    self->count++;
    return 0;
}

int64_t
toa_batcher_timeout (const toa_batcher_t *self, int64_t now_ms)
{
    if (!self || self->count == 0)
        return -1;
    if (self->count >= self->batch_size)
        return 0;
    int64_t left = s_at (self, 0)->arrived_ms + self->wait_ms - now_ms;
    return left > 0 ? left : 0;
}

size_t
toa_batcher_take (toa_batcher_t *self, int64_t now_ms, bool flush, void **items)
{
    if (!self || !items || self->count == 0)
        return 0;
    if (!flush && toa_batcher_timeout (self, now_ms) != 0)
        return 0;
    size_t n = self->count < self->batch_size ? self->count : self->batch_size;
    for (size_t i = 0; i < n; i++)
        items[i] = s_at (self, i)->item;
    self->head = (self->head + n) % self->capacity;
    self->count -= n;
    return n;
}

size_t
toa_batcher_waiting (const toa_batcher_t *self)
{
    return self ? self->count : 0;
}

int
toa_batcher_remove (toa_batcher_t *self, const void *item)
{
    if (!self)
        return -1;
    for (size_t i = 0; i < self->count; i++) {
        if (s_at (self, i)->item != item)
            continue;
        for (size_t j = i; j + 1 < self->count; j++)
            *s_at (self, j) = *s_at (self, j + 1);
        self->count--;
        return 0;
    }
    return -1;
}
