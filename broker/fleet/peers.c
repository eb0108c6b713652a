/* peers.c - workers and scorers: slots, credit, liveness (see peers.h). */
#include "broker/fleet/peers.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct toa_peers_s {
    toa_broker_peer_t *slots;
    int n_slots;
    int count;
    toa_peers_limits_t limits;
};

toa_peers_t *
toa_peers_new (const toa_peers_limits_t *limits)
{
    toa_peers_t *self = calloc (1, sizeof (toa_peers_t));
    if (!self)
        return NULL;
    if (limits)
        self->limits = *limits;
    if (self->limits.max_peers <= 0)
        self->limits.max_peers = 1024;
    if (self->limits.max_serves == 0)
        self->limits.max_serves = 64;
    if (self->limits.max_credit <= 0)
        self->limits.max_credit = 64;
    if (self->limits.max_scorer_credit <= 0)
        self->limits.max_scorer_credit = 64;
    if (self->limits.heartbeat_max_ms < TOA_PEERS_HEARTBEAT_MIN_MS)
        self->limits.heartbeat_max_ms = 60000;
    if (!self->limits.models)
        self->limits.n_models = 0;
    return self;
}

const toa_peers_limits_t *
toa_peers_limits (const toa_peers_t *self)
{
    return &self->limits;
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

/* True when NAME may stay in a peer of KIND's serves list (KEPT names so far). */
static bool
s_keep_name (const toa_peers_t *self, toa_peer_kind_t kind, const char *name,
             char *const *kept, size_t n_kept)
{
    if (!name || !*name)
        return false;
    for (size_t i = 0; i < n_kept; i++)
        if (strcmp (kept[i], name) == 0)
            return false;
    if (kind != TOA_PEER_WORKER || self->limits.n_models == 0)
        return true;
    for (size_t i = 0; i < self->limits.n_models; i++)
        if (strcmp (self->limits.models[i], name) == 0)
            return true;
    return false;
}

int
toa_peers_add (toa_peers_t *self, const toa_peer_id_t *id, const toa_msg_ready_t *ready,
               int64_t now, toa_peers_admitted_t *admitted)
{
    toa_peers_admitted_t changed = {0};
    if (admitted)
        *admitted = changed;
    if (self->count >= self->limits.max_peers)
        return -2;
    int slot = s_free_slot (self);
    if (slot < 0)
        return -1;
    toa_broker_peer_t *peer = &self->slots[slot];
    peer->id = *id;
    peer->kind = ready->kind;
    peer->name = strdup (ready->name ? ready->name : "?");
    size_t cap = ready->n_serves < self->limits.max_serves ? ready->n_serves
                                                            : self->limits.max_serves;
    peer->serves = calloc (cap + 1, sizeof *peer->serves);
    if (!peer->name || !peer->serves) {
        s_clear (peer);
        return -1;
    }
    for (size_t i = 0; i < ready->n_serves; i++) {
        if (peer->n_serves == cap
            || !s_keep_name (self, ready->kind, ready->serves[i], peer->serves, peer->n_serves)) {
            changed.serves_dropped++;
            continue;
        }
        peer->serves[peer->n_serves] = strdup (ready->serves[i]);
        if (!peer->serves[peer->n_serves]) {
            s_clear (peer);
            return -1;
        }
        peer->n_serves++;
    }
    int64_t credit = ready->credit > 0 ? ready->credit : 1;
    int64_t max_credit = ready->kind == TOA_PEER_SCORER ? self->limits.max_scorer_credit
                                                        : self->limits.max_credit;
    changed.credit_capped = credit > max_credit;
    peer->credit = peer->announced = changed.credit_capped ? max_credit : credit;
    int64_t heartbeat = ready->heartbeat_ms > 0 ? ready->heartbeat_ms : 1000;
    if (heartbeat < TOA_PEERS_HEARTBEAT_MIN_MS || heartbeat > self->limits.heartbeat_max_ms) {
        changed.heartbeat_clamped = true;
        heartbeat = heartbeat < TOA_PEERS_HEARTBEAT_MIN_MS ? TOA_PEERS_HEARTBEAT_MIN_MS
                                                           : self->limits.heartbeat_max_ms;
    }
    peer->heartbeat_ms = heartbeat;
    peer->last_seen_ms = now;
    peer->last_sent_ms = now;
    peer->last_answer_ms = now;
    peer->used = true;
    self->count++;
    if (admitted)
        *admitted = changed;
    return slot;
}

void
toa_peers_answered (toa_peers_t *self, int slot, int64_t now)
{
    toa_broker_peer_t *peer = toa_peers_get (self, slot);
    if (!peer)
        return;
    peer->last_answer_ms = now;
    if (peer->credit < peer->announced)
        peer->credit++;
}

int64_t
toa_peers_stalled (toa_peers_t *self, int slot)
{
    toa_broker_peer_t *peer = toa_peers_get (self, slot);
    if (!peer)
        return 0;
    peer->credit = peer->credit / 2 > 1 ? peer->credit / 2 : 1;
    return peer->credit;
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
