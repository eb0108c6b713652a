/* test_broker_router.c - the router's queues hand out the highest priority
 * first and are FIFO within a priority; push_front keeps a task's turn
 * within its priority; priorities outside 0..255 are clamped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

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

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_priority_order),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
