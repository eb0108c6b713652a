/* peers.h - the workers and scorers connected to the broker: what each
 * serves, its credit and the tasks it holds, and its liveness.
 *
 * A peer exists once it has sent READY. Any message from it counts as a
 * heartbeat; a peer silent for 3 of its heartbeat intervals is dead. Peers
 * live in slots (indexes stay valid until the peer is removed). Pure: no
 * I/O. */
#ifndef TOA_BROKER_PEERS_H
#define TOA_BROKER_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"
#include "proto/transport.h"

/* What a peer may claim in READY. Zero fields take the defaults. */
typedef struct {
    int max_peers;            /* peers registered at once (1024) */
    size_t max_serves;        /* names kept from a peer's serves list (64) */
    int64_t max_credit;       /* credit a worker may announce (64) */
    int64_t max_scorer_credit;/* credit a scorer may announce (64) */
    int64_t heartbeat_max_ms; /* longest heartbeat interval accepted (60000) */
    const char *const *models;/* a worker's serves keeps these names only (NULL:
                               * any name); borrowed, must outlive the table */
    size_t n_models;
} toa_peers_limits_t;

#define TOA_PEERS_HEARTBEAT_MIN_MS 10

/* What toa_peers_add changed in a READY to fit the limits. */
typedef struct {
    size_t serves_dropped;    /* names not kept: unknown models, duplicates, past the cap */
    bool credit_capped;       /* credit lowered to the cap */
    bool heartbeat_clamped;   /* heartbeat moved into [10 ms, heartbeat_max_ms] */
} toa_peers_admitted_t;

/* Credit still used by a lease that ended without an answer (expired, or
 * its prompt is gone): the peer may still be working on it. */
typedef struct {
    uint64_t task;
    int64_t attempt;
    int64_t forget_ms;       /* released then even without an answer */
} toa_broker_peer_charge_t;

typedef struct {
    bool used;               /* the slot holds a peer */
    toa_peer_id_t id;        /* ZeroMQ routing id */
    toa_peer_kind_t kind;
    char *name;              /* for logs */
    char **serves;           /* model names (workers) or backends (scorers) */
    size_t n_serves;
    int64_t credit;          /* tasks it takes at once now (shrinks when it stalls) */
    int64_t announced;       /* credit it announced (capped): credit grows back to it */
    int64_t held;            /* tasks it holds: live leases + charges */
    toa_broker_peer_charge_t *charges; /* ended leases still holding credit */
    size_t n_charges, charges_capacity;
    int64_t heartbeat_ms;    /* its heartbeat interval */
    int64_t last_seen_ms;    /* last message from it */
    int64_t last_sent_ms;    /* last message to it (heartbeats fill silences) */
    int64_t last_answer_ms;  /* last answer to a task from it (or READY) */
    uint64_t tasks_sent;     /* for stats */
} toa_broker_peer_t;

typedef struct toa_peers_s toa_peers_t;

/* A table of peers within LIMITS (NULL: defaults), or NULL (out of memory). */
toa_peers_t *toa_peers_new (const toa_peers_limits_t *limits);

/* Frees every peer; nulls *SELF_P; safe on NULL. */
void toa_peers_destroy (toa_peers_t **self_p);

/* The slot of the peer with routing id ID, or -1. */
int toa_peers_find (const toa_peers_t *self, const toa_peer_id_t *id);

/* Adds the peer ID that sent READY at NOW, within the limits: its serves
 * list keeps only allowed names (a worker: the configured models, when there
 * are any), each once, at most max_serves of them; its credit is capped at
 * max_credit (a scorer's at max_scorer_credit) and its heartbeat interval clamped into [10 ms,
 * heartbeat_max_ms]; *ADMITTED (may be NULL) says what changed. The caller
 * removed any earlier peer with the same id first. Returns its slot, -1 when
 * out of memory, or -2 when max_peers are registered already. */
int toa_peers_add (toa_peers_t *self, const toa_peer_id_t *id, const toa_msg_ready_t *ready,
                   int64_t now, toa_peers_admitted_t *admitted);

/* The limits in force (defaults filled in). */
const toa_peers_limits_t *toa_peers_limits (const toa_peers_t *self);

/* SLOT answered a task at NOW: its progress clock restarts and a credit it
 * lost by stalling grows back by one. */
void toa_peers_answered (toa_peers_t *self, int slot, int64_t now);

/* SLOT held tasks without answering: its credit halves (at least 1). Returns
 * the new credit. */
int64_t toa_peers_stalled (toa_peers_t *self, int slot);

/* Frees slot SLOT (its tasks must have been taken back). */
void toa_peers_remove (toa_peers_t *self, int slot);

/* The peer in SLOT, or NULL when the slot is free or out of range. */
toa_broker_peer_t *toa_peers_get (const toa_peers_t *self, int slot);

/* Number of slots to scan (used or not). */
int toa_peers_slots (const toa_peers_t *self);

/* Number of peers. */
int toa_peers_count (const toa_peers_t *self);

/* Marks SLOT as heard from at NOW. */
void toa_peers_seen (toa_peers_t *self, int slot, int64_t now);

/* True when the peer has been silent for 3 of its heartbeat intervals. */
bool toa_broker_peer_is_dead (const toa_broker_peer_t *peer, int64_t now);

/* True when PEER is of KIND and serves NAME. */
bool toa_broker_peer_serves (const toa_broker_peer_t *peer, toa_peer_kind_t kind, const char *name);

/* The lease (TASK, ATTEMPT) of SLOT ended unanswered: its credit stays
 * held until the peer answers it or FORGET_MS passes. Returns 0 or -1 (out
 * of memory: the credit is released instead). */
int toa_peers_keep_charge (toa_peers_t *self, int slot, uint64_t task, int64_t attempt,
                           int64_t forget_ms);

/* An answer for (TASK, ATTEMPT) came from SLOT: releases a kept charge.
 * Returns true when there was one. */
bool toa_peers_release_charge (toa_peers_t *self, int slot, uint64_t task, int64_t attempt);

/* Releases charges whose time passed by NOW. Returns how many. */
size_t toa_peers_expire_charges (toa_peers_t *self, int64_t now);

/* Credit left: credit - held (never below 0). */
int64_t toa_broker_peer_free_credit (const toa_broker_peer_t *peer);

#endif
