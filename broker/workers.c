/* workers.c - the worker/scorer conversation and task dispatch (see workers.h). */
#include "broker/workers.h"

#include <errno.h>
#include <inttypes.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/observe.h"
#include "broker/search.h"
#include "common/log.h"
#include "common/util.h"
#include "common/redact.h"

#define S_DUE_EVERY_MS 50
#define S_DUE_BATCH 256
#define S_STALL_EVERY_MS 250
#define S_DROPPED_LOG_EVERY_MS 1000   /* "dropped an answer" at most once a second */

static const char *
s_peer_text (const toa_peer_id_t *id, char *buffer, size_t size)
{
    return toa_peer_id_text (id, buffer, size);
}

static void
s_send_disconnect (toa_broker_t *b, const toa_peer_id_t *to, const char *reason)
{
    toa_msg_t msg = {.type = TOA_MSG_DISCONNECT};
    msg.u.disconnect.reason = (char *) reason;
    if (toa_transport_send (b->workers, to, &msg) != 0)
        toa_debug ("disconnect to a peer not sent: %s", strerror (errno));
}

typedef struct {
    toa_task_t **items;
    size_t count, capacity;
    int peer;
} s_leases_t;

/* Appends TASK to LEASES (dropped when out of memory: a later walk finds it). */
static void
s_leases_push (s_leases_t *leases, toa_task_t *task)
{
    if (leases->count == leases->capacity) {
        size_t capacity = leases->capacity ? leases->capacity * 2 : 16;
        toa_task_t **items = realloc (leases->items, capacity * sizeof *items);
        if (!items)
            return;
        leases->items = items;
        leases->capacity = capacity;
    }
    leases->items[leases->count++] = task;
}

static void
s_collect_leases (toa_task_t *task, void *arg)
{
    s_leases_t *leases = arg;
    if (task->state == TOA_TASK_LEASED && task->peer == leases->peer)
        s_leases_push (leases, task);
}

/* The peer in SLOT is gone: its tasks go back to the queues. */
static void
s_peer_lost (toa_broker_t *b, int slot, const char *why)
{
    toa_broker_peer_t *peer = toa_peers_get (b->peers, slot);
    if (!peer)
        return;
    s_leases_t leases = {.peer = slot};
    toa_tasks_each (b->tasks, s_collect_leases, &leases);
    toa_info ("%s %s is gone (%s); %zu of its tasks go back to the queue",
              peer->kind == TOA_PEER_WORKER ? "worker" : "scorer", peer->name, why,
              leases.count);
    b->stats.dead_peers++;
    toa_peers_remove (b->peers, slot);
    for (size_t i = 0; i < leases.count; i++)
        toa_search_requeue (b, leases.items[i]);
    free (leases.items);
}

static void
s_ready (toa_broker_t *b, int slot, const toa_peer_id_t *from, const toa_msg_ready_t *ready,
         int64_t now)
{
    if (slot >= 0)
        s_peer_lost (b, slot, "sent ready again");
    toa_peers_admitted_t admitted;
    slot = toa_peers_add (b->peers, from, ready, now, &admitted);
    if (slot == -2) {
        b->stats.refused_peers++;
        char reason[96];
        snprintf (reason, sizeof reason, "too many peers (broker.max_peers is %d)",
                  toa_peers_limits (b->peers)->max_peers);
        toa_debug ("a ready was refused: %s", reason);
        s_send_disconnect (b, from, reason);
        return;
    }
    if (slot < 0) {
        toa_error ("out of memory adding a peer");
        return;
    }
    const toa_broker_peer_t *peer = toa_peers_get (b->peers, slot);
    char list[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < peer->n_serves && used < sizeof list; i++)
        used += (size_t) snprintf (list + used, sizeof list - used, "%s%s", i ? " " : "",
                                   peer->serves[i]);
    toa_info ("%s %s ready: serves [%s], credit %" PRId64 ", heartbeat %" PRId64 " ms",
              ready->kind == TOA_PEER_WORKER ? "worker" : "scorer", peer->name, list,
              peer->credit, peer->heartbeat_ms);
    if (admitted.serves_dropped > 1000)
        b->trim_due = true;          /* a huge list was decoded and dropped */
    if (admitted.serves_dropped || admitted.credit_capped || admitted.heartbeat_clamped)
        toa_warn ("%s %s asked for more than the broker allows:%s%s%s (see broker.max_serves, "
                  "worker.max_tasks, scorer.max_tasks, broker.peer_heartbeat_max_ms)",
                  ready->kind == TOA_PEER_WORKER ? "worker" : "scorer", peer->name,
                  admitted.serves_dropped ? " serves names not kept" : "",
                  admitted.credit_capped ? " credit capped" : "",
                  admitted.heartbeat_clamped ? " heartbeat clamped" : "");
}

/* A gen-result, score-result or task-failure for (ID, ATTEMPT) from SLOT
 * (-1: a sender that never sent READY). Applied only when SLOT holds the
 * task's current lease; anything else is dropped and counted. */
static void
s_answer (toa_broker_t *b, int slot, uint64_t id, int64_t attempt, const toa_msg_t *msg,
          int64_t now)
{
    if (slot >= 0 && toa_peers_release_charge (b->peers, slot, id, attempt)) {
        toa_peers_answered (b->peers, slot, now);
        toa_tasks_count_stale (b->tasks);
        b->stats.dropped_results++;
        toa_info ("dropped a late answer for task %" PRIu64 " attempt %" PRId64
                  " (that lease had ended: the task was re-issued or dropped)", id, attempt);
        return;
    }
    toa_task_t *task;
    toa_tasks_match_t match = toa_tasks_match (b->tasks, id, attempt, slot, &task);
    if (match == TOA_TASKS_FOREIGN) {
        /* Debug only: a forger must not be able to flood the log; the stats
         * line counts these (foreign=). */
        b->stats.dropped_results++;
        toa_debug ("dropped an answer for task %" PRIu64 " from a peer that does not hold "
                   "its lease", id);
        return;
    }
    uint64_t unlogged;
    if (match != TOA_TASKS_CURRENT) {
        b->stats.dropped_results++;
        /* A registered peer can send these at will: rate-limited, counted. */
        if (slot >= 0
            && toa_log_limit_pass (&b->dropped_log, now, S_DROPPED_LOG_EVERY_MS, &unlogged)) {
            char more[80];
            toa_log_limit_note (more, sizeof more, unlogged, "such answers");
            toa_info ("dropped an answer for %s task %" PRIu64 " attempt %" PRId64 "%s",
                      match == TOA_TASKS_STALE ? "a re-issued" : "an unknown", id, attempt, more);
        }
        return;
    }
    toa_observe_answer (b, task, msg, now);
    toa_broker_peer_t *leaser = toa_peers_get (b->peers, task->peer);
    if (leaser && leaser->held > 0)
        leaser->held--;
    toa_peers_answered (b->peers, slot, now);
    bool gen = task->kind == TOA_TASK_GEN;
    if (msg->type == TOA_MSG_TASK_FAILURE) {
        const toa_msg_task_failure_t *failure = &msg->u.task_failure;
        /* The reason goes to logs and results: scrubbed of credentials,
         * whatever the peer (or the server behind it) put in it. */
        char reason[TOA_PROTO_MAX_NAME + 1];
        snprintf (reason, sizeof reason, "%s", failure->reason ? failure->reason : "failed");
        toa_redact_scrub (reason);
        toa_search_failed (b, task, failure->failure_class == TOA_FAILURE_PERMANENT, reason,
                           failure->http_status, now);
    }
    else if (msg->type == TOA_MSG_GEN_RESULT && gen)
        toa_search_generated (b, task, &msg->u.gen_result);
    else if (msg->type == TOA_MSG_SCORE_RESULT && !gen)
        toa_search_scored (b, task, msg->u.score_result.reward);
    else {
        b->stats.bad_messages++;
        toa_search_failed (b, task, false, "the peer answered with the wrong message type",
                           -1, now);
    }
}

void
toa_workers_handle (toa_broker_t *b, const toa_peer_id_t *from, int status,
                    const toa_msg_t *msg, const toa_proto_error_t *error, int64_t now)
{
    int slot = toa_peers_find (b->peers, from);
    char id_text[2 * sizeof from->data + 1];
    if (status != 0) {
        b->stats.bad_messages++;
        char reason[256];
        toa_proto_error_text (error, reason, sizeof reason);
        toa_warn ("peer %s: %s; told to disconnect", s_peer_text (from, id_text, sizeof id_text),
                  reason);
        s_send_disconnect (b, from, reason);
        if (slot >= 0)
            s_peer_lost (b, slot, "sent a bad message");
        return;
    }
    if (slot >= 0)
        toa_peers_seen (b->peers, slot, now);
    switch (msg->type) {
    case TOA_MSG_READY:
        s_ready (b, slot, from, &msg->u.ready, now);
        return;
    case TOA_MSG_HEARTBEAT:
        if (slot >= 0)
            toa_observe_report (b, slot, &msg->u.heartbeat);
        break;
    case TOA_MSG_GEN_RESULT:
        s_answer (b, slot, msg->u.gen_result.task, msg->u.gen_result.attempt, msg, now);
        break;
    case TOA_MSG_SCORE_RESULT:
        s_answer (b, slot, msg->u.score_result.task, msg->u.score_result.attempt, msg, now);
        break;
    case TOA_MSG_TASK_FAILURE:
        s_answer (b, slot, msg->u.task_failure.task, msg->u.task_failure.attempt, msg, now);
        break;
    case TOA_MSG_DISCONNECT:
        if (slot >= 0)
            s_peer_lost (b, slot, msg->u.disconnect.reason ? msg->u.disconnect.reason
                                                          : "disconnected");
        return;
    default:
        b->stats.bad_messages++;
        toa_warn ("peer %s sent %s on the worker socket; told to disconnect",
                  s_peer_text (from, id_text, sizeof id_text), toa_msg_type_name (msg->type));
        s_send_disconnect (b, from, "unexpected command on the worker socket");
        if (slot >= 0)
            s_peer_lost (b, slot, "sent an unexpected command");
        return;
    }
    if (slot < 0)
        s_send_disconnect (b, from, "unknown peer: send ready first");
}

/* --- timers ---------------------------------------------------------------- */

static void
s_due_tasks (toa_broker_t *b, int64_t now)
{
    toa_task_t *due[S_DUE_BATCH];
    size_t n;
    do {
        n = toa_tasks_due (b->tasks, now, due, S_DUE_BATCH);
        for (size_t i = 0; i < n; i++) {
            if (due[i]->state == TOA_TASK_LEASED) {
                toa_broker_peer_t *peer = toa_peers_get (b->peers, due[i]->peer);
                toa_info ("task %" PRIu64 " attempt %" PRId64 ": no answer from %s within "
                          "%" PRId64 " ms; re-issuing it", due[i]->id, due[i]->attempt,
                          peer ? peer->name : "its peer", toa_tasks_lease_ms (b->tasks));
                toa_search_expired (b, due[i], now);
            }
            else
                toa_router_push (b->router, due[i]);
        }
    } while (n == S_DUE_BATCH);
    toa_peers_expire_charges (b->peers, now);
}

/* A walk for leases held by peers that stopped answering. */
typedef struct {
    s_leases_t leases;
    const toa_peers_t *peers;
    int64_t now, stall_ms, lease_ms;
} s_stall_walk_t;

static void
s_collect_stalled (toa_task_t *task, void *arg)
{
    s_stall_walk_t *walk = arg;
    if (task->state != TOA_TASK_LEASED)
        return;
    const toa_broker_peer_t *peer = toa_peers_get (walk->peers, task->peer);
    int64_t leased_at = task->deadline_ms - walk->lease_ms;
    if (peer && walk->now - leased_at >= walk->stall_ms
        && walk->now - peer->last_answer_ms >= walk->stall_ms)
        s_leases_push (&walk->leases, task);
}

/* A peer that has held a task for stall_fraction of the lease without
 * answering any task loses its tasks (they go to other peers at once) and
 * half its credit: a peer that takes work and sits on it cannot stall the
 * fleet until the lease runs out. Its leases become charges, so it gets
 * nothing new until it answers them or they are forgotten. */
static void
s_reclaim_stalled (toa_broker_t *b, int64_t now)
{
    s_stall_walk_t walk = {.peers = b->peers, .now = now,
                           .lease_ms = toa_tasks_lease_ms (b->tasks)};
    walk.stall_ms = (int64_t) ((double) walk.lease_ms * b->options.stall_fraction);
    if (walk.stall_ms < 1)
        walk.stall_ms = 1;
    toa_tasks_each (b->tasks, s_collect_stalled, &walk);
    for (int slot = 0; walk.leases.count > 0 && slot < toa_peers_slots (b->peers); slot++) {
        size_t taken = 0;
        for (size_t i = 0; i < walk.leases.count; i++) {
            toa_task_t *task = walk.leases.items[i];
            if (!task || task->peer != slot)
                continue;
            walk.leases.items[i] = NULL;
            taken++;
            b->stats.stalled++;
            toa_peers_keep_charge (b->peers, slot, task->id, task->attempt,
                                   now + 2 * walk.lease_ms);
            toa_search_requeue (b, task);
        }
        if (taken == 0)
            continue;
        toa_broker_peer_t *peer = toa_peers_get (b->peers, slot);
        int64_t credit = toa_peers_stalled (b->peers, slot);
        toa_warn ("%s %s answered nothing for %" PRId64 " ms while holding tasks; %zu of them "
                  "go to other peers, its credit is now %" PRId64,
                  peer->kind == TOA_PEER_WORKER ? "worker" : "scorer", peer->name,
                  now - peer->last_answer_ms, taken, credit);
        /* Its clock restarts: the next reclaim needs another stall period. */
        peer->last_answer_ms = now;
    }
    free (walk.leases.items);
}

void
toa_workers_tick (toa_broker_t *b, int64_t now)
{
#ifdef __GLIBC__
    /* Huge READYs (a flood of serves lists) leave freed memory that glibc
     * keeps; give it back so that they leave no trace, at most once a second. */
    if (b->trim_due && now >= b->next_trim_ms) {
        b->trim_due = false;
        b->next_trim_ms = now + 1000;
        malloc_trim (0);
    }
#endif
    if (now >= b->next_stall_ms) {
        b->next_stall_ms = now + S_STALL_EVERY_MS;
        s_reclaim_stalled (b, now);
    }
    if (now >= b->next_due_ms) {
        b->next_due_ms = now + S_DUE_EVERY_MS;
        s_due_tasks (b, now);
    }
    for (int slot = 0; slot < toa_peers_slots (b->peers); slot++) {
        toa_broker_peer_t *peer = toa_peers_get (b->peers, slot);
        if (!peer)
            continue;
        if (toa_broker_peer_is_dead (peer, now)) {
            s_peer_lost (b, slot, "silent for 3 heartbeat intervals");
            continue;
        }
        if (now - peer->last_sent_ms < b->options.heartbeat_ms)
            continue;
        toa_msg_t msg = {.type = TOA_MSG_HEARTBEAT};
        if (toa_transport_send (b->workers, &peer->id, &msg) == 0)
            peer->last_sent_ms = now;
        else if (errno == EHOSTUNREACH)
            s_peer_lost (b, slot, "unreachable");
    }
}

/* --- dispatch -------------------------------------------------------------- */

/* Builds TASK's message for the peer; MESSAGES holds what must outlive it. */
static int
s_build (toa_broker_t *b, toa_task_t *task, toa_msg_t *msg, toa_chat_list_t *messages)
{
    (void) b;
    toa_job_t *job = task->job;
    toa_prompt_t *prompt = task->prompt;
    if (task->kind == TOA_TASK_GEN) {
        char err[256];
        if (toa_prompt_render (prompt, &task->plan, messages, err, sizeof err) != 0) {
            toa_error ("job %s prompt %" PRId64 ": cannot build a generation: %s", job->id,
                       toa_prompt_index (prompt), err);
            return -1;
        }
        toa_msg_gen_task_t *gen = &msg->u.gen_task;
        msg->type = TOA_MSG_GEN_TASK;
        gen->job = job->id;
        gen->model = job->settings->models[task->plan.model];
        gen->messages = messages->items;
        gen->n_messages = messages->count;
        gen->temperature = job->settings->temperature;
        gen->top_p = job->settings->top_p;
        gen->max_tokens = job->settings->max_tokens;
        gen->has_seed = job->settings->has_seed;
        gen->seed = job->settings->has_seed ? toa_prompt_plan_seed (prompt, &task->plan) : 0;
        gen->n = task->plan.n > 0 ? task->plan.n : 1;
        /* One key per prompt: its workers keep it on one replica (prefix caches). */
        uint64_t key = 1469598103934665603u;
        for (const char *c = job->id; *c; c++)
            key = (key ^ (uint8_t) *c) * 1099511628211u;
        gen->affinity = toa_splitmix64 (key ^ (uint64_t) toa_prompt_index (prompt)) | 1;
        return 0;
    }
    const toa_gen_record_t *record = toa_prompt_record (prompt, task->response);
    if (!record || !record->text) {
        toa_error ("job %s prompt %" PRId64 ": response %d has nothing to score", job->id,
                   toa_prompt_index (prompt), task->response);
        return -1;
    }
    const toa_chat_list_t *original = toa_prompt_original_messages (prompt);
    toa_msg_score_task_t *score = &msg->u.score_task;
    msg->type = TOA_MSG_SCORE_TASK;
    score->job = job->id;
    score->backend = job->settings->reward_backend;
    score->messages = original->items;
    score->n_messages = original->count;
    score->response = record->text;
    score->reference = (char *) toa_prompt_reference (prompt);
    return 0;
}

typedef enum { S_SENT, S_BUILD_FAILED, S_WOULD_BLOCK, S_GONE } s_send_t;

static s_send_t
s_send_task (toa_broker_t *b, toa_task_t *task, int slot, int64_t now)
{
    toa_broker_peer_t *peer = toa_peers_get (b->peers, slot);
    toa_msg_t msg;
    memset (&msg, 0, sizeof msg);
    toa_chat_list_t messages = {0};
    if (s_build (b, task, &msg, &messages) != 0)
        return S_BUILD_FAILED;
    /* The lease's attempt goes into the message. */
    int64_t attempt = task->attempt + 1;
    if (msg.type == TOA_MSG_GEN_TASK) {
        msg.u.gen_task.task = task->id;
        msg.u.gen_task.attempt = attempt;
    }
    else {
        msg.u.score_task.task = task->id;
        msg.u.score_task.attempt = attempt;
    }
    int rc = toa_transport_send (b->workers, &peer->id, &msg);
    int saved = errno;
    toa_chat_list_clear (&messages);
    if (rc != 0) {
        b->stats.send_failures++;
        return saved == EHOSTUNREACH ? S_GONE : saved == EAGAIN ? S_WOULD_BLOCK
                                                                : S_BUILD_FAILED;
    }
    toa_tasks_lease (b->tasks, task, slot, now);
    toa_router_leased (b->router, task);
    peer->held++;
    peer->tasks_sent++;
    peer->last_sent_ms = now;
    return S_SENT;
}

static void
s_defer (toa_broker_t *b, toa_task_t *task)
{
    if (b->n_deferred == b->deferred_capacity) {
        size_t capacity = b->deferred_capacity ? b->deferred_capacity * 2 : 16;
        toa_task_t **items = realloc (b->deferred, capacity * sizeof *items);
        if (!items) {
            toa_router_push (b->router, task);
            return;
        }
        b->deferred = items;
        b->deferred_capacity = capacity;
    }
    task->state = TOA_TASK_BACKOFF;
    b->deferred[b->n_deferred++] = task;
}

/* Sends the head of ROUTE's queue to peer SLOT. Returns false when the
 * route should be left out for the rest of this pass (the peer's socket is
 * full). */
static bool
s_dispatch_one (toa_broker_t *b, int route, int slot, int64_t now)
{
    toa_task_t *task = toa_router_head (b->router, route);
    toa_router_unlink (b->router, task);
    switch (s_send_task (b, task, slot, now)) {
    case S_SENT:
        if (task->kind == TOA_TASK_GEN)
            toa_health_probe_sent (b->health, toa_router_name (b->router, route), now,
                                   toa_tasks_lease_ms (b->tasks));
        break;
    case S_BUILD_FAILED:
        s_defer (b, task);
        break;
    case S_WOULD_BLOCK:
        toa_router_push_front (b->router, task);
        return false;        /* its queue is full: try again next pass */
    case S_GONE:
        toa_router_push_front (b->router, task);
        s_peer_lost (b, slot, "unreachable");
        break;
    }
    return true;
}

void
toa_workers_dispatch (toa_broker_t *b, int64_t now)
{
    if (!b->state_ok || b->stopping)
        return;
    /* Each send goes to the peer with the most free credit, from the route
     * it holds fewest tasks of (router.h): a worker's credit beyond what it
     * runs at once is spread over its models, so each model has its next
     * task waiting in the worker when a request ends. (Handing out tasks by
     * queue in turn left that spare to chance: a model whose tasks ran out
     * in a worker waited a round trip for the next, its slots idle.) */
    int n_routes = toa_router_routes (b->router);
    bool on_stack[64];
    bool *closed = n_routes <= 64 ? on_stack : calloc ((size_t) n_routes, sizeof *closed);
    if (!closed)
        return;              /* out of memory: the next pass tries again */
    for (int r = 0; r < n_routes; r++)
        closed[r] = toa_router_kind (b->router, r) == TOA_PEER_WORKER
                    && toa_router_queued (b->router, r) > 0
                    && toa_health_blocked (b->health, toa_router_name (b->router, r), now);
    int route, slot;
    while ((slot = toa_router_next (b->router, b->peers, closed, now, &route)) >= 0) {
        if (!s_dispatch_one (b, route, slot, now))
            closed[route] = true;
        else if (toa_router_kind (b->router, route) == TOA_PEER_WORKER
                 && toa_health_any_out (b->health))   /* its probe may be out now */
            closed[route] = toa_health_blocked (b->health, toa_router_name (b->router, route),
                                                now);
    }
    if (closed != on_stack)
        free (closed);
    size_t n = b->n_deferred;
    b->n_deferred = 0;
    for (size_t i = 0; i < n; i++)
        toa_search_failed (b, b->deferred[i], true, "the broker could not build the task", -1,
                           now);
}

void
toa_workers_disconnect_all (toa_broker_t *b, const char *reason)
{
    for (int slot = 0; slot < toa_peers_slots (b->peers); slot++) {
        toa_broker_peer_t *peer = toa_peers_get (b->peers, slot);
        if (peer)
            s_send_disconnect (b, &peer->id, reason);
    }
}
