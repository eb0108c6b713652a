/* test_sim_sched.c - toa-simllm's scheduler: slots held for a duration, FIFO
 * queues, timers on one thread, abort on close. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "sim/sched.h"

typedef struct {
    toa_sim_wait_t wait;
    int id;
    atomic_int done;         /* 1 ready, 2 aborted */
    atomic_llong at_ms;
    bool suspended;
} s_item_t;

static atomic_int s_order[64];
static atomic_int s_order_count;

static void
s_ready (toa_sim_wait_t *wait, bool aborted, void *arg)
{
    (void) arg;
    s_item_t *item = wait->user;
    atomic_store (&item->at_ms, toa_now_ms ());
    atomic_store (&item->done, aborted ? 2 : 1);
    int slot = atomic_fetch_add (&s_order_count, 1);
    if (slot < 64)
        atomic_store (&s_order[slot], item->id);
}

static void
s_on_wait (void *user)
{
    ((s_item_t *) user)->suspended = true;
}

static void
s_wait_all (s_item_t *items, int n, int64_t limit_ms)
{
    int64_t start = toa_now_ms ();
    for (;;) {
        int done = 0;
        for (int i = 0; i < n; i++)
            done += atomic_load (&items[i].done) != 0;
        if (done == n || toa_now_ms () - start > limit_ms)
            return;
        struct timespec pause = {0, 2 * 1000 * 1000};
        nanosleep (&pause, NULL);
    }
}

static void
test_slots_fifo (void **state)
{
    (void) state;
    atomic_store (&s_order_count, 0);
    int slots[] = {2};
    toa_sim_sched_t *sched = toa_sim_sched_new (1, slots, s_ready, NULL);
    assert_non_null (sched);
    s_item_t items[5];
    memset (items, 0, sizeof items);
    int64_t start = toa_now_ms ();
    for (int i = 0; i < 5; i++) {
        items[i].id = i;
        items[i].wait.user = &items[i];
        assert_int_equal (toa_sim_sched_submit (sched, &items[i].wait, 0, 100, s_on_wait), 1);
        assert_true (items[i].suspended);
    }
    toa_sim_pool_info_t info;
    assert_int_equal (toa_sim_sched_pool_info (sched, 0, &info), 0);
    assert_int_equal (info.active, 2);
    assert_int_equal (info.queued, 3);
    s_wait_all (items, 5, 30000);
    for (int i = 0; i < 5; i++)
        assert_int_equal (atomic_load (&items[i].done), 1);
    /* two per 100 ms: 0,1 at ~100; 2,3 at ~200; 4 at ~300. Only lower bounds
     * (a loaded host fires late, never early); that two run at once is
     * max_active below, not a wall-clock upper bound. */
    assert_true (items[1].at_ms - start >= 95);
    assert_true (items[2].at_ms - start >= 195);
    assert_true (items[4].at_ms - start >= 295);
    for (int i = 0; i < 5; i++)
        assert_int_equal (atomic_load (&s_order[i]), i);
    assert_int_equal (toa_sim_sched_pool_info (sched, 0, &info), 0);
    assert_int_equal (info.active, 0);
    assert_int_equal (info.queued, 0);
    assert_int_equal (info.max_active, 2);
    assert_int_equal (info.max_queued, 3);
    toa_sim_sched_reset_max (sched);
    assert_int_equal (toa_sim_sched_pool_info (sched, 0, &info), 0);
    assert_int_equal (info.max_active, 0);
    assert_int_equal (toa_sim_sched_pool_info (sched, 1, &info), -1);
    toa_sim_sched_destroy (&sched);
    toa_sim_sched_destroy (&sched);
    assert_null (sched);
}

static void
test_immediate_and_timers (void **state)
{
    (void) state;
    int slots[] = {1, 1};
    toa_sim_sched_t *sched = toa_sim_sched_new (2, slots, s_ready, NULL);
    s_item_t items[4];
    memset (items, 0, sizeof items);
    atomic_store (&s_order_count, 0);
    for (int i = 0; i < 4; i++) {
        items[i].wait.user = &items[i];
        items[i].id = i;
    }
    /* zero duration and a free slot: answer now */
    assert_int_equal (toa_sim_sched_submit (sched, &items[0].wait, 0, 0, s_on_wait), 0);
    assert_false (items[0].suspended);
    /* no pool: just a timer; later deadlines fire later */
    int64_t start = toa_now_ms ();
    assert_int_equal (toa_sim_sched_submit (sched, &items[1].wait, -1, 120, s_on_wait), 1);
    assert_int_equal (toa_sim_sched_submit (sched, &items[2].wait, -1, 40, s_on_wait), 1);
    /* pool 1 busy: a zero-duration request queues behind it */
    assert_int_equal (toa_sim_sched_submit (sched, &items[3].wait, 1, 0, s_on_wait), 0);
    s_item_t holder;
    memset (&holder, 0, sizeof holder);
    holder.wait.user = &holder;
    assert_int_equal (toa_sim_sched_submit (sched, &holder.wait, 1, 60, s_on_wait), 1);
    s_item_t queued;
    memset (&queued, 0, sizeof queued);
    queued.wait.user = &queued;
    assert_int_equal (toa_sim_sched_submit (sched, &queued.wait, 1, 0, s_on_wait), 1);
    s_wait_all (items + 1, 2, 30000);
    s_wait_all (&queued, 1, 30000);
    /* in deadline order (a late wake-up may fire both in one millisecond) */
    int first = -1;
    for (int k = 0; k < atomic_load (&s_order_count) && first < 0; k++)
        if (atomic_load (&s_order[k]) == 1 || atomic_load (&s_order[k]) == 2)
            first = atomic_load (&s_order[k]);
    assert_int_equal (first, 2);
    assert_true (items[2].at_ms <= items[1].at_ms);
    assert_true (items[1].at_ms - start >= 115);
    assert_true (queued.at_ms >= holder.at_ms && queued.at_ms - start >= 55);
    toa_sim_sched_destroy (&sched);
}

static void
test_close_aborts (void **state)
{
    (void) state;
    int slots[] = {1};
    toa_sim_sched_t *sched = toa_sim_sched_new (1, slots, s_ready, NULL);
    s_item_t items[3];
    memset (items, 0, sizeof items);
    for (int i = 0; i < 3; i++) {
        items[i].wait.user = &items[i];
        assert_int_equal (toa_sim_sched_submit (sched, &items[i].wait, i == 2 ? -1 : 0, 60000,
                                                s_on_wait), 1);
    }
    toa_sim_sched_close (sched);
    for (int i = 0; i < 3; i++)
        assert_int_equal (atomic_load (&items[i].done), 2);
    s_item_t late;
    memset (&late, 0, sizeof late);
    late.wait.user = &late;
    assert_int_equal (toa_sim_sched_submit (sched, &late.wait, 0, 10, s_on_wait), -1);
    assert_false (late.suspended);
    toa_sim_pool_info_t info;
    assert_int_equal (toa_sim_sched_pool_info (sched, 0, &info), 0);
    assert_int_equal (info.active, 0);
    assert_int_equal (info.queued, 0);
    toa_sim_sched_close (sched);
    toa_sim_sched_destroy (&sched);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_slots_fifo),
        cmocka_unit_test (test_immediate_and_timers),
        cmocka_unit_test (test_close_aborts),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
