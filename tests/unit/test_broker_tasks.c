/* test_broker_tasks.c - unit tests of broker/tasks (ids, leases, the
 * exactly-once rule), broker/router (queues, credit, choice of peer) and
 * broker/peers (liveness, charges of unanswered leases). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "broker/fleet/peers.h"
#include "broker/fleet/router.h"
#include "broker/fleet/tasks.h"
#include "common/util.h"

static const uint64_t s_key[2] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};

static int
s_compare_ids (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

/* Ids are unique, never 0, and look random: no two consecutive ids are
 * neighbours, and another key gives other ids. */
static void
test_ids_unique_and_unguessable (void **state)
{
    (void) state;
    toa_tasks_t *tasks = toa_tasks_new (s_key, 500);
    assert_non_null (tasks);
    enum { N = 5001 };
    static uint64_t ids[N];
    toa_task_t *first = toa_tasks_add (tasks, TOA_TASK_GEN);
    ids[0] = first->id;
    for (int i = 1; i < N; i++) {
        toa_task_t *task = toa_tasks_add (tasks, TOA_TASK_SCORE);
        assert_non_null (task);
        ids[i] = task->id;
        assert_true (task->id != 0);
        uint64_t gap = task->id > ids[i - 1] ? task->id - ids[i - 1] : ids[i - 1] - task->id;
        assert_true (gap > 1000000);
    }
    assert_int_equal (toa_tasks_count (tasks), N);
    assert_ptr_equal (toa_tasks_find (tasks, first->id), first);
    toa_task_t *last = toa_tasks_find (tasks, ids[N - 1]);
    assert_non_null (last);
    assert_int_equal (last->kind, TOA_TASK_SCORE);
    assert_null (toa_tasks_find (tasks, ids[N - 1] + 1));
    qsort (ids, N, sizeof ids[0], s_compare_ids);
    for (int i = 1; i < N; i++)
        assert_true (ids[i] != ids[i - 1]);
    uint64_t removed = first->id;
    toa_tasks_remove (tasks, first);
    assert_null (toa_tasks_find (tasks, removed));
    assert_int_equal (toa_tasks_count (tasks), N - 1);
    toa_tasks_destroy (&tasks);
    assert_null (tasks);
    toa_tasks_destroy (&tasks);
    /* Same key, same ids (restarts draw a new key); another key, others. */
    const uint64_t other[2] = {1, 2};
    toa_tasks_t *a = toa_tasks_new (s_key, 500), *b = toa_tasks_new (other, 500);
    uint64_t id_a = toa_tasks_add (a, TOA_TASK_GEN)->id, id_b = toa_tasks_add (b, TOA_TASK_GEN)->id;
    assert_true (id_a != id_b);
    toa_tasks_destroy (&a);
    a = toa_tasks_new (s_key, 500);
    assert_true (toa_tasks_add (a, TOA_TASK_GEN)->id == id_a);
    toa_tasks_destroy (&a);
    toa_tasks_destroy (&b);
    /* The ids' keyed hash is SipHash-2-4: the reference vector (key 00..0f,
     * message 00..0e) gives a129ca6149be45e5. */
    uint64_t key[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    unsigned char message[15];
    for (int i = 0; i < 15; i++)
        message[i] = (unsigned char) i;
    assert_true (toa_siphash (key, message, sizeof message) == 0xa129ca6149be45e5ULL);
    assert_true (toa_siphash (key, message, 0) == 0x726fdb47dd0e0e31ULL);
}

static void
test_lease_and_exactly_once (void **state)
{
    (void) state;
    toa_tasks_t *tasks = toa_tasks_new (s_key, 500);
    toa_task_t *task = toa_tasks_add (tasks, TOA_TASK_GEN), *found;
    uint64_t id = task->id;
    /* Not leased yet: any answer is stale. */
    assert_int_equal (toa_tasks_match (tasks, id, 1, 3, &found), TOA_TASKS_STALE);
    toa_tasks_lease (tasks, task, 3, 10000);
    assert_int_equal (task->attempt, 1);
    assert_int_equal (task->deadline_ms, 10500);
    assert_int_equal (task->peer, 3);
    /* Lease ran out; re-issued as attempt 2. */
    toa_task_t *due[4];
    assert_int_equal (toa_tasks_due (tasks, 10499, due, 4), 0);
    assert_int_equal (toa_tasks_due (tasks, 10500, due, 4), 1);
    toa_tasks_lease (tasks, task, 4, 10600);
    assert_int_equal (task->attempt, 2);
    /* The late answer to attempt 1 is dropped, attempt 2 is the one. */
    assert_int_equal (toa_tasks_match (tasks, id, 1, 4, &found), TOA_TASKS_STALE);
    assert_int_equal (toa_tasks_match (tasks, id, 3, 4, &found), TOA_TASKS_STALE);
    /* Only the peer holding the lease may answer it; an unregistered sender
     * (-1) never. */
    assert_int_equal (toa_tasks_match (tasks, id, 2, 3, &found), TOA_TASKS_FOREIGN);
    assert_int_equal (toa_tasks_match (tasks, id, 2, -1, &found), TOA_TASKS_FOREIGN);
    assert_int_equal (toa_tasks_match (tasks, id, 2, 4, &found), TOA_TASKS_CURRENT);
    assert_ptr_equal (found, task);
    toa_tasks_applied (tasks, task);
    toa_tasks_remove (tasks, task);
    /* A duplicate after it was applied is unknown. */
    assert_int_equal (toa_tasks_match (tasks, id, 2, 4, &found), TOA_TASKS_UNKNOWN);
    assert_int_equal (toa_tasks_match (tasks, 999999, 1, 4, &found), TOA_TASKS_UNKNOWN);
    toa_tasks_stats_t stats;
    toa_tasks_stats (tasks, &stats);
    assert_int_equal (stats.applied, 1);
    assert_int_equal (stats.stale, 3);
    assert_int_equal (stats.unknown, 2);
    assert_int_equal (stats.foreign, 2);
    assert_int_equal (stats.expired, 1);
    toa_tasks_destroy (&tasks);
}

static void
test_backoff_due (void **state)
{
    (void) state;
    toa_tasks_t *tasks = toa_tasks_new (s_key, 500);
    toa_task_t *task = toa_tasks_add (tasks, TOA_TASK_SCORE), *due[2];
    task->state = TOA_TASK_BACKOFF;
    task->ready_ms = 200;
    assert_int_equal (toa_tasks_due (tasks, 199, due, 2), 0);
    assert_int_equal (toa_tasks_due (tasks, 200, due, 2), 1);
    assert_ptr_equal (due[0], task);
    toa_tasks_destroy (&tasks);
}

static toa_msg_ready_t
s_ready (toa_peer_kind_t kind, char **serves, size_t n, int64_t credit)
{
    toa_msg_ready_t ready = {kind, "peer", serves, n, credit, 100};
    return ready;
}

static toa_peer_id_t
s_id (int n)
{
    toa_peer_id_t id = {.size = 2};
    id.data[0] = 'p';
    id.data[1] = (unsigned char) n;
    return id;
}

/* The peer toa_router_next picks for a task of (KIND, NAME) at NOW, when
 * that is the only route with a task queued; -1 when none. */
static int
s_pick (const toa_peers_t *peers, toa_peer_kind_t kind, const char *name, int64_t now)
{
    toa_router_t *router = toa_router_new ();
    toa_tasks_t *tasks = toa_tasks_new (s_key, 500);
    toa_router_route (router, TOA_PEER_WORKER, "a");   /* empty routes of other names */
    toa_router_route (router, TOA_PEER_SCORER, "b");
    toa_task_t *task = toa_tasks_add (tasks, kind == TOA_PEER_WORKER ? TOA_TASK_GEN
                                                                     : TOA_TASK_SCORE);
    task->route = toa_router_route (router, kind, name);
    toa_router_push (router, task);
    int route = -2;
    int slot = toa_router_next (router, peers, NULL, now, &route);
    assert_int_equal (route, slot >= 0 ? task->route : -1);
    toa_router_unlink (router, task);
    toa_router_destroy (&router);
    toa_tasks_destroy (&tasks);
    return slot;
}

static void
test_pick_respects_credit_and_kind (void **state)
{
    (void) state;
    toa_peers_t *peers = toa_peers_new (NULL);
    char *ab[] = {"a", "b"}, *a[] = {"a"}, *rm[] = {"a"};
    toa_peer_id_t id0 = s_id (0), id1 = s_id (1), id2 = s_id (2);
    toa_msg_ready_t r0 = s_ready (TOA_PEER_WORKER, ab, 2, 1);
    toa_msg_ready_t r1 = s_ready (TOA_PEER_WORKER, a, 1, 3);
    toa_msg_ready_t r2 = s_ready (TOA_PEER_SCORER, rm, 1, 10);
    int p0 = toa_peers_add (peers, &id0, &r0, 0, NULL);
    int p1 = toa_peers_add (peers, &id1, &r1, 0, NULL);
    int p2 = toa_peers_add (peers, &id2, &r2, 0, NULL);
    assert_int_equal (toa_peers_find (peers, &id1), p1);
    /* Most free credit first; scorers never get worker tasks. */
    assert_int_equal (s_pick (peers, TOA_PEER_WORKER, "a", 10), p1);
    assert_int_equal (s_pick (peers, TOA_PEER_WORKER, "b", 10), p0);
    assert_int_equal (s_pick (peers, TOA_PEER_SCORER, "a", 10), p2);
    assert_int_equal (s_pick (peers, TOA_PEER_WORKER, "c", 10), -1);
    /* Never beyond credit. */
    toa_peers_get (peers, p1)->held = 3;
    assert_int_equal (s_pick (peers, TOA_PEER_WORKER, "a", 10), p0);
    toa_peers_get (peers, p0)->held = 1;
    assert_int_equal (s_pick (peers, TOA_PEER_WORKER, "a", 10), -1);
    assert_int_equal (s_pick (peers, TOA_PEER_WORKER, "b", 10), -1);
    assert_true (toa_router_served (peers, TOA_PEER_WORKER, "b", 10));
    /* A peer silent for 3 heartbeats (100 ms) is dead: neither picked nor serving. */
    toa_peers_get (peers, p0)->held = 0;
    assert_false (toa_broker_peer_is_dead (toa_peers_get (peers, p0), 300));
    assert_true (toa_broker_peer_is_dead (toa_peers_get (peers, p0), 301));
    assert_int_equal (s_pick (peers, TOA_PEER_WORKER, "b", 301), -1);
    assert_false (toa_router_served (peers, TOA_PEER_WORKER, "b", 301));
    toa_peers_seen (peers, p0, 301);
    assert_int_equal (s_pick (peers, TOA_PEER_WORKER, "b", 350), p0);
    toa_peers_remove (peers, p0);
    assert_int_equal (toa_peers_find (peers, &id0), -1);
    assert_int_equal (toa_peers_count (peers), 2);
    toa_peers_destroy (&peers);
    assert_null (peers);
}

static void
test_charges_hold_credit_until_answer (void **state)
{
    (void) state;
    toa_peers_t *peers = toa_peers_new (NULL);
    char *a[] = {"a"};
    toa_peer_id_t id = s_id (7);
    toa_msg_ready_t ready = s_ready (TOA_PEER_WORKER, a, 1, 1);
    int slot = toa_peers_add (peers, &id, &ready, 0, NULL);
    toa_broker_peer_t *peer = toa_peers_get (peers, slot);
    peer->held = 1;                       /* a lease */
    assert_int_equal (toa_peers_keep_charge (peers, slot, 42, 1, 1000), 0);
    assert_int_equal (toa_broker_peer_free_credit (peer), 0);
    assert_int_equal (s_pick (peers, TOA_PEER_WORKER, "a", 10), -1);
    assert_false (toa_peers_release_charge (peers, slot, 42, 2));
    assert_true (toa_peers_release_charge (peers, slot, 42, 1));
    assert_false (toa_peers_release_charge (peers, slot, 42, 1));
    assert_int_equal (toa_broker_peer_free_credit (peer), 1);
    /* A charge nobody answers is released after its time. */
    peer->held = 1;
    toa_peers_keep_charge (peers, slot, 43, 1, 1000);
    assert_int_equal (toa_peers_expire_charges (peers, 999), 0);
    assert_int_equal (toa_peers_expire_charges (peers, 1000), 1);
    assert_int_equal (peer->held, 0);
    toa_peers_destroy (&peers);
}

/* What a READY may claim: peers, serves (configured models only, once each,
 * capped), credit (per kind), heartbeat (clamped: no overflow); a stalled
 * peer's credit halves and grows back one per answer. */
static void
test_peer_limits (void **state)
{
    (void) state;
    const char *const models[] = {"a", "b", "c"};
    toa_peers_limits_t limits = {.max_peers = 2, .max_serves = 2, .max_credit = 8,
                                 .max_scorer_credit = 3, .heartbeat_max_ms = 5000,
                                 .models = models, .n_models = 3};
    toa_peers_t *peers = toa_peers_new (&limits);
    char *serves[] = {"zz", "a", "a", "c", "b", "x"};
    toa_msg_ready_t ready = s_ready (TOA_PEER_WORKER, serves, 6, 100000);
    ready.heartbeat_ms = INT64_MAX;
    toa_peer_id_t id0 = s_id (0), id1 = s_id (1), id2 = s_id (2);
    toa_peers_admitted_t admitted;
    int p0 = toa_peers_add (peers, &id0, &ready, 0, &admitted);
    assert_true (p0 >= 0);
    toa_broker_peer_t *peer = toa_peers_get (peers, p0);
    assert_int_equal (peer->n_serves, 2);
    assert_string_equal (peer->serves[0], "a");
    assert_string_equal (peer->serves[1], "c");
    assert_int_equal (admitted.serves_dropped, 4);
    assert_true (admitted.credit_capped);
    assert_int_equal (peer->credit, 8);
    assert_true (admitted.heartbeat_clamped);
    assert_int_equal (peer->heartbeat_ms, 5000);
    assert_false (toa_broker_peer_is_dead (peer, 15000));
    assert_true (toa_broker_peer_is_dead (peer, 15001));
    /* A scorer keeps any backend name; its credit has its own cap. */
    char *backends[] = {"fake", "math-verify", "chrf"};
    toa_msg_ready_t scorer = s_ready (TOA_PEER_SCORER, backends, 3, 50);
    scorer.heartbeat_ms = 1;
    int p1 = toa_peers_add (peers, &id1, &scorer, 0, &admitted);
    assert_true (p1 >= 0);
    assert_int_equal (toa_peers_get (peers, p1)->n_serves, 2);
    assert_int_equal (toa_peers_get (peers, p1)->credit, 3);
    assert_int_equal (toa_peers_get (peers, p1)->heartbeat_ms, TOA_PEERS_HEARTBEAT_MIN_MS);
    /* Full. */
    assert_int_equal (toa_peers_add (peers, &id2, &scorer, 0, &admitted), -2);
    assert_int_equal (toa_peers_count (peers), 2);
    /* Stalls halve the credit down to 1; answers grow it back one at a time. */
    assert_int_equal (toa_peers_stalled (peers, p0), 4);
    assert_int_equal (toa_peers_stalled (peers, p0), 2);
    assert_int_equal (toa_peers_stalled (peers, p0), 1);
    assert_int_equal (toa_peers_stalled (peers, p0), 1);
    toa_peers_answered (peers, p0, 700);
    assert_int_equal (peer->credit, 2);
    assert_int_equal (peer->last_answer_ms, 700);
    for (int i = 0; i < 20; i++)
        toa_peers_answered (peers, p0, 800);
    assert_int_equal (peer->credit, 8);
    toa_peers_remove (peers, p1);
    assert_true (toa_peers_add (peers, &id2, &scorer, 0, NULL) >= 0);
    toa_peers_destroy (&peers);
    /* With no configured models a worker keeps any names (still capped). */
    peers = toa_peers_new (NULL);
    assert_int_equal (toa_peers_limits (peers)->max_serves, 64);
    assert_int_equal (toa_peers_limits (peers)->max_credit, 64);
    p0 = toa_peers_add (peers, &id0, &ready, 0, &admitted);
    assert_int_equal (toa_peers_get (peers, p0)->n_serves, 5);
    assert_int_equal (toa_peers_get (peers, p0)->heartbeat_ms, 60000);
    toa_peers_destroy (&peers);
}

static void
test_router_queues_fifo (void **state)
{
    (void) state;
    toa_router_t *router = toa_router_new ();
    toa_tasks_t *tasks = toa_tasks_new (s_key, 500);
    int ra = toa_router_route (router, TOA_PEER_WORKER, "a");
    int rs = toa_router_route (router, TOA_PEER_SCORER, "a");
    assert_int_not_equal (ra, rs);
    assert_int_equal (toa_router_route (router, TOA_PEER_WORKER, "a"), ra);
    assert_string_equal (toa_router_name (router, rs), "a");
    assert_int_equal (toa_router_kind (router, rs), TOA_PEER_SCORER);
    toa_task_t *t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = toa_tasks_add (tasks, TOA_TASK_GEN);
        t[i]->route = ra;
        toa_router_push (router, t[i]);
    }
    toa_router_push (router, t[1]);       /* already queued: no change */
    assert_int_equal (toa_router_queued (router, ra), 4);
    toa_router_unlink (router, t[1]);
    toa_router_unlink (router, t[1]);
    assert_int_equal (toa_router_queued (router, ra), 3);
    assert_ptr_equal (toa_router_head (router, ra), t[0]);
    toa_router_unlink (router, t[0]);
    assert_ptr_equal (toa_router_head (router, ra), t[2]);
    toa_router_push_front (router, t[0]);  /* a failed send keeps its turn */
    assert_ptr_equal (toa_router_head (router, ra), t[0]);
    toa_router_unlink (router, t[0]);
    toa_router_unlink (router, t[2]);
    toa_router_unlink (router, t[3]);
    assert_null (toa_router_head (router, ra));
    assert_int_equal (toa_router_queued (router, ra), 0);
    toa_router_destroy (&router);
    toa_tasks_destroy (&tasks);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ids_unique_and_unguessable),
        cmocka_unit_test (test_lease_and_exactly_once),
        cmocka_unit_test (test_backoff_due),
        cmocka_unit_test (test_pick_respects_credit_and_kind),
        cmocka_unit_test (test_charges_hold_credit_until_answer),
        cmocka_unit_test (test_peer_limits),
        cmocka_unit_test (test_router_queues_fifo),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
