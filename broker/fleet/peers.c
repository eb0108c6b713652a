/* peers.c - workers and scorers: slots, credit, liveness (see peers.h). */
#include "broker/fleet/peers.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct toa_peers_s {
    toa_broker_peer_t *slots;
    int n_slots;
    int count;
};

toa_peers_t *
toa_peers_new (void)
{
    return calloc (1, sizeof (toa_peers_t));
}

static void
s_clear (toa_broker_peer_t *peer)
{
    free (peer->name);
    for (size_t i = 0; i < peer->n_serves; i++)
        free (peer->serves[i]);
    free (peer->serves);
    free (peer->charges);
    memset (peer, 0, sizeof *peer);
}

void
toa_peers_destroy (toa_peers_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_peers_t *self = *self_p;
    for (int i = 0; i < self->n_slots; i++)
        s_clear (&self->slots[i]);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

int
toa_peers_find (const toa_peers_t *self, const toa_peer_id_t *id)
{
    for (int i = 0; i < self->n_slots; i++) {
        const toa_broker_peer_t *peer = &self->slots[i];
        if (peer->used && peer->id.size == id->size
            && memcmp (peer->id.data, id->data, id->size) == 0)
            return i;
    }
    return -1;
}

/* A free slot (growing the array), or -1. */
static int
s_free_slot (toa_peers_t *self)
{
    for (int i = 0; i < self->n_slots; i++)
        if (!self->slots[i].used)
            return i;
    int n_slots = self->n_slots ? self->n_slots * 2 : 8;
    toa_broker_peer_t *slots = realloc (self->slots, (size_t) n_slots * sizeof *slots);
    if (!slots)
        return -1;
    memset (slots + self->n_slots, 0, (size_t) (n_slots - self->n_slots) * sizeof *slots);
    int slot = self->n_slots;
    self->slots = slots;
    self->n_slots = n_slots;
    return slot;
}

int
toa_peers_add (toa_peers_t *self, const toa_peer_id_t *id, const toa_msg_ready_t *ready,
               int64_t now)
{
    int slot = s_free_slot (self);
    if (slot < 0)
        return -1;
    toa_broker_peer_t *peer = &self->slots[slot];
    peer->id = *id;
    peer->kind = ready->kind;
    peer->name = strdup (ready->name ? ready->name : "?");
    peer->serves = calloc (ready->n_serves + 1, sizeof *peer->serves);
    if (!peer->name || !peer->serves) {
        s_clear (peer);
        return -1;
    }
    for (size_t i = 0; i < ready->n_serves; i++) {
        peer->serves[i] = strdup (ready->serves[i]);
        if (!peer->serves[i]) {
            peer->n_serves = i;
            s_clear (peer);
            return -1;
        }
    }
    peer->n_serves = ready->n_serves;
    peer->credit = ready->credit > 0 ? ready->credit : 1;
    peer->heartbeat_ms = ready->heartbeat_ms > 0 ? ready->heartbeat_ms : 1000;
    peer->last_seen_ms = now;
    peer->last_sent_ms = now;
    peer->used = true;
    self->count++;
    return slot;
}

void
toa_peers_remove (toa_peers_t *self, int slot)
{
    if (slot < 0 || slot >= self->n_slots || !self->slots[slot].used)
        return;
    s_clear (&self->slots[slot]);
    self->count--;
}

toa_broker_peer_t *
toa_peers_get (const toa_peers_t *self, int slot)
{
    if (slot < 0 || slot >= self->n_slots || !self->slots[slot].used)
        return NULL;
    return &self->slots[slot];
}

int
toa_peers_slots (const toa_peers_t *self)
{
    return self->n_slots;
}

int
toa_peers_count (const toa_peers_t *self)
{
    return self->count;
}

void
toa_peers_seen (toa_peers_t *self, int slot, int64_t now)
{
    toa_broker_peer_t *peer = toa_peers_get (self, slot);
    if (peer)
        peer->last_seen_ms = now;
}

bool
toa_broker_peer_is_dead (const toa_broker_peer_t *peer, int64_t now)
{
    return now - peer->last_seen_ms > 3 * peer->heartbeat_ms;
}

bool
toa_broker_peer_serves (const toa_broker_peer_t *peer, toa_peer_kind_t kind, const char *name)
{
    if (peer->kind != kind)
        return false;
    for (size_t i = 0; i < peer->n_serves; i++)
        if (strcmp (peer->serves[i], name) == 0)
            return true;
    return false;
}

int64_t
toa_broker_peer_free_credit (const toa_broker_peer_t *peer)
{
    return peer->credit > peer->held ? peer->credit - peer->held : 0;
}

int
toa_peers_keep_charge (toa_peers_t *self, int slot, uint64_t task, int64_t attempt,
                       int64_t forget_ms)
{
    toa_broker_peer_t *peer = toa_peers_get (self, slot);
    if (!peer)
        return -1;
    if (peer->n_charges == peer->charges_capacity) {
        size_t capacity = peer->charges_capacity ? peer->charges_capacity * 2 : 4;
        toa_broker_peer_charge_t *charges = realloc (peer->charges, capacity * sizeof *charges);
        if (!charges) {
            if (peer->held > 0)
                peer->held--;
            return -1;
        }
        peer->charges = charges;
        peer->charges_capacity = capacity;
    }
    peer->charges[peer->n_charges++] = (toa_broker_peer_charge_t) {task, attempt, forget_ms};
    return 0;
}

bool
toa_peers_release_charge (toa_peers_t *self, int slot, uint64_t task, int64_t attempt)
{
    toa_broker_peer_t *peer = toa_peers_get (self, slot);
    if (!peer)
        return false;
    for (size_t i = 0; i < peer->n_charges; i++)
        if (peer->charges[i].task == task && peer->charges[i].attempt == attempt) {
            peer->charges[i] = peer->charges[--peer->n_charges];
            if (peer->held > 0)
                peer->held--;
            return true;
        }
    return false;
}

size_t
toa_peers_expire_charges (toa_peers_t *self, int64_t now)
{
    size_t released = 0;
    for (int slot = 0; slot < self->n_slots; slot++) {
        toa_broker_peer_t *peer = &self->slots[slot];
        for (size_t i = 0; peer->used && i < peer->n_charges;) {
            if (peer->charges[i].forget_ms <= now) {
                peer->charges[i] = peer->charges[--peer->n_charges];
                if (peer->held > 0)
                    peer->held--;
                released++;
            }
            else
                i++;
        }
    }
    return released;
}
