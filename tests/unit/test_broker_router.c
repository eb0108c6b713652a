/* test_broker_router.c - the router's queues hand out the highest priority
 * first and are FIFO within a priority; push_front keeps a task's turn
 * within its priority; priorities outside 0..255 are clamped. The next send
 * spreads a worker's credit evenly over the models it serves, and an
 * answered task's credit goes to a task of the same model (its slot's next
 * request waits in the worker); a peer with less credit than models serves
 * them in turn. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>

#include "broker/fleet/peers.h"
#include "broker/fleet/router.h"
#include "broker/fleet/tasks.h"

static const uint64_t s_key[2] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};

static void
test_priority_order (void **state)
{
    (void) state;
    toa_router_t *router = toa_router_new ();
    toa_tasks_t *tasks = toa_tasks_new (s_key, 500);
    assert_non_null (router);
    assert_non_null (tasks);
    int route = toa_router_route (router, TOA_PEER_WORKER, "m");
    int priorities[6] = {3, 10, 3, 0, 10, 1000};
    toa_task_t *t[6];
    for (int i = 0; i < 6; i++) {
        t[i] = toa_tasks_add (tasks, TOA_TASK_GEN);
        t[i]->route = route;
        t[i]->priority = priorities[i];
        toa_router_push (router, t[i]);
    }
    assert_int_equal (toa_router_queued (router, route), 6);
    /* 1000 is clamped to the top level, then 10 (FIFO), 3 (FIFO), 0. */
    int expected[6] = {5, 1, 4, 0, 2, 3};
    for (int k = 0; k < 6; k++) {
        toa_task_t *head = toa_router_head (router, route);
        assert_ptr_equal (head, t[expected[k]]);
        toa_router_unlink (router, head);
        if (k == 1) {
            /* A failed send puts it back in front of its own level only. */
            toa_router_push_front (router, head);
            assert_ptr_equal (toa_router_head (router, route), t[1]);
            toa_router_unlink (router, head);
        }
    }
    assert_null (toa_router_head (router, route));
    assert_int_equal (toa_router_queued (router, route), 0);
    /* A lower level queued after the top emptied is found again. */
    t[3]->priority = 2;
    toa_router_push (router, t[3]);
    assert_ptr_equal (toa_router_head (router, route), t[3]);
    toa_router_unlink (router, t[3]);
    toa_router_destroy (&router);
    toa_tasks_destroy (&tasks);
}

/* What the broker does when it sends: lease the head of ROUTE to SLOT. */
static toa_task_t *
s_send (toa_router_t *router, toa_tasks_t *tasks, toa_peers_t *peers, int route, int slot)
{
    toa_task_t *task = toa_router_head (router, route);
    assert_non_null (task);
    toa_router_unlink (router, task);
    toa_tasks_lease (tasks, task, slot, 0);
    toa_router_leased (router, task);
    toa_peers_get (peers, slot)->held++;
    return task;
}

static void
test_credit_spread_over_models (void **state)
{
    (void) state;
    static const uint64_t key[2] = {1, 2};
    toa_router_t *router = toa_router_new ();
    toa_tasks_t *tasks = toa_tasks_new (key, 500);
    toa_peers_t *peers = toa_peers_new (NULL);
    char *all[] = {"m0", "m1", "m2"}, *first[] = {"m0"}, *backend[] = {"math"};
    toa_peer_id_t ids[3] = {{.size = 1, .data = {'w'}}, {.size = 1, .data = {'v'}},
                            {.size = 1, .data = {'s'}}};
    toa_msg_ready_t rw = {TOA_PEER_WORKER, "w", all, 3, 6, 1000};
    toa_msg_ready_t rv = {TOA_PEER_WORKER, "v", first, 1, 2, 1000};
    toa_msg_ready_t rs = {TOA_PEER_SCORER, "s", backend, 1, 2, 1000};
    int w = toa_peers_add (peers, &ids[0], &rw, 0, NULL);
    int v = toa_peers_add (peers, &ids[1], &rv, 0, NULL);
    int sc = toa_peers_add (peers, &ids[2], &rs, 0, NULL);
    int routes[3], score = toa_router_route (router, TOA_PEER_SCORER, "math");
    for (int m = 0; m < 3; m++) {
        routes[m] = toa_router_route (router, TOA_PEER_WORKER, all[m]);
        for (int i = 0; i < 10; i++) {
            toa_task_t *task = toa_tasks_add (tasks, TOA_TASK_GEN);
            task->route = routes[m];
            toa_router_push (router, task);
        }
    }
    /* Fill: the most free credit first, each time from the model that peer
     * holds fewest of: w gets 2 of each model, v (m0 only) 2 of m0. */
    int route, slot, sends = 0;
    toa_task_t *sent[8];
    while ((slot = toa_router_next (router, peers, NULL, 0, &route)) >= 0) {
        assert_true (sends < 8);
        assert_true (slot == w || slot == v);
        sent[sends++] = s_send (router, tasks, peers, route, slot);
    }
    assert_int_equal (sends, 8);
    for (int m = 0; m < 3; m++)
        assert_int_equal (toa_router_held (router, routes[m], w), 2);
    assert_int_equal (toa_router_held (router, routes[0], v), 2);
    assert_int_equal (toa_router_held (router, routes[1], v), 0);
    /* w answers a task of m1: its credit goes to m1 again, not to the
     * queue whose turn it would be. */
    toa_task_t *answered = NULL;
    for (int i = 0; i < sends && !answered; i++)
        if (sent[i]->route == routes[1] && sent[i]->peer == w)
            answered = sent[i];
    assert_non_null (answered);
    toa_router_unlink (router, answered);
    toa_tasks_remove (tasks, answered);
    toa_peers_get (peers, w)->held--;
    assert_int_equal (toa_router_held (router, routes[1], w), 1);
    assert_int_equal (toa_router_next (router, peers, NULL, 0, &route), w);
    assert_int_equal (route, routes[1]);
    /* A closed route (its model down) is left out: the credit goes to
     * another model; with every route of w closed, nothing is sent. */
    bool closed[4] = {false};
    closed[routes[1]] = true;
    assert_int_equal (toa_router_next (router, peers, closed, 0, &route), w);
    assert_true (route == routes[0] || route == routes[2]);
    closed[routes[0]] = closed[routes[2]] = true;
    assert_int_equal (toa_router_next (router, peers, closed, 0, &route), -1);
    assert_int_equal (route, -1);
    /* A lease that ends back in the queue (re-issued) is no longer held. */
    toa_task_t *requeued = sent[0];
    int held = toa_router_held (router, requeued->route, requeued->peer);
    int from = requeued->peer;
    toa_router_push_front (router, requeued);
    assert_int_equal (toa_router_held (router, requeued->route, from), held - 1);
    /* Scoring tasks go to scorers only. */
    toa_task_t *scoring = toa_tasks_add (tasks, TOA_TASK_SCORE);
    scoring->route = score;
    toa_router_push (router, scoring);
    toa_peers_get (peers, w)->held = 6;
    toa_peers_get (peers, v)->held = 2;
    assert_int_equal (toa_router_next (router, peers, NULL, 0, &route), sc);
    assert_int_equal (route, score);
    toa_router_destroy (&router);
    toa_tasks_destroy (&tasks);
    toa_peers_destroy (&peers);
}

/* A worker with less credit than models (credit 1, three models) serves
 * them in turn, also when scoring sends come in between: no model waits
 * for another's queue to drain. */
static void
test_small_credit_takes_turns (void **state)
{
    (void) state;
    static const uint64_t key[2] = {3, 4};
    toa_router_t *router = toa_router_new ();
    toa_tasks_t *tasks = toa_tasks_new (key, 500);
    toa_peers_t *peers = toa_peers_new (NULL);
    char *all[] = {"m0", "m1", "m2"}, *backend[] = {"math"};
    toa_peer_id_t ids[2] = {{.size = 1, .data = {'w'}}, {.size = 1, .data = {'s'}}};
    toa_msg_ready_t rw = {TOA_PEER_WORKER, "w", all, 3, 1, 1000};
    toa_msg_ready_t rs = {TOA_PEER_SCORER, "s", backend, 1, 2, 1000};
    int w = toa_peers_add (peers, &ids[0], &rw, 0, NULL);
    int sc = toa_peers_add (peers, &ids[1], &rs, 0, NULL);
    int routes[3];
    for (int m = 0; m < 3; m++)
        routes[m] = toa_router_route (router, TOA_PEER_WORKER, all[m]);
    int score = toa_router_route (router, TOA_PEER_SCORER, "math");
    for (int i = 0; i < 4; i++)
        for (int m = 0; m < 3; m++) {
            toa_task_t *task = toa_tasks_add (tasks, TOA_TASK_GEN);
            task->route = routes[m];
            toa_router_push (router, task);
        }
    int served[3] = {0};
    for (int k = 0; k < 9; k++) {
        int route;
        assert_int_equal (toa_router_next (router, peers, NULL, 0, &route), w);
        toa_task_t *task = s_send (router, tasks, peers, route, w);
        served[route == routes[0] ? 0 : route == routes[1] ? 1 : 2]++;
        /* each model once in every three sends */
        for (int m = 0; m < 3; m++)
            assert_int_equal (served[m], k / 3 + (m <= k % 3 ? 1 : 0));
        toa_router_unlink (router, task);
        toa_tasks_remove (tasks, task);
        toa_peers_get (peers, w)->held--;
        if (k % 2 == 0) {    /* a scoring task goes out and is answered */
            toa_task_t *scoring = toa_tasks_add (tasks, TOA_TASK_SCORE);
            scoring->route = score;
            toa_router_push (router, scoring);
            assert_int_equal (toa_router_next (router, peers, NULL, 0, &route), sc);
            scoring = s_send (router, tasks, peers, route, sc);
            toa_router_unlink (router, scoring);
            toa_tasks_remove (tasks, scoring);
            toa_peers_get (peers, sc)->held--;
        }
    }
    toa_router_destroy (&router);
    toa_tasks_destroy (&tasks);
    toa_peers_destroy (&peers);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_priority_order),
        cmocka_unit_test (test_credit_spread_over_models),
        cmocka_unit_test (test_small_credit_takes_turns),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
