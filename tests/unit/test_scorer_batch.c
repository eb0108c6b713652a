/* test_scorer_batch.c - the batch-closing rule: on size, on wait, on flush,
 * arrival order kept, removal, and growth past the first ring. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>

#include "scorer/batch.h"

static int s_items[100];

static void
test_closes_on_size (void **state)
{
    (void) state;
    toa_batcher_t *batcher = toa_batcher_new (4, 1000);
    void *out[4];
    for (int i = 0; i < 3; i++)
        assert_int_equal (toa_batcher_add (batcher, &s_items[i], 100), 0);
    assert_int_equal (toa_batcher_take (batcher, 100, false, out), 0);
    assert_int_equal (toa_batcher_timeout (batcher, 100), 1000);
    assert_int_equal (toa_batcher_add (batcher, &s_items[3], 150), 0);
    assert_int_equal (toa_batcher_timeout (batcher, 150), 0);
    assert_int_equal (toa_batcher_take (batcher, 150, false, out), 4);
    for (int i = 0; i < 4; i++)
        assert_ptr_equal (out[i], &s_items[i]);
    assert_int_equal (toa_batcher_take (batcher, 150, false, out), 0);
    assert_int_equal (toa_batcher_timeout (batcher, 150), -1);
    assert_int_equal (toa_batcher_waiting (batcher), 0);
    toa_batcher_destroy (&batcher);
    assert_null (batcher);
    toa_batcher_destroy (&batcher);
}

static void
test_closes_on_wait (void **state)
{
    (void) state;
    toa_batcher_t *batcher = toa_batcher_new (8, 20);
    void *out[8];
    toa_batcher_add (batcher, &s_items[0], 1000);
    toa_batcher_add (batcher, &s_items[1], 1015);
    assert_int_equal (toa_batcher_timeout (batcher, 1010), 10);
    assert_int_equal (toa_batcher_take (batcher, 1019, false, out), 0);
    /* the oldest has waited 20 ms: everything waiting goes */
    assert_int_equal (toa_batcher_take (batcher, 1020, false, out), 2);
    assert_ptr_equal (out[0], &s_items[0]);
    assert_ptr_equal (out[1], &s_items[1]);
    /* a clock far past the deadline: timeout 0, never negative */
    toa_batcher_add (batcher, &s_items[2], 2000);
    assert_int_equal (toa_batcher_timeout (batcher, 5000), 0);
    toa_batcher_destroy (&batcher);
}

static void
test_size_then_rest (void **state)
{
    (void) state;
    /* 10 at once with size 4: two full batches now, the last 2 after the wait */
    toa_batcher_t *batcher = toa_batcher_new (4, 50);
    void *out[4];
    for (int i = 0; i < 10; i++)
        toa_batcher_add (batcher, &s_items[i], 0);
    assert_int_equal (toa_batcher_take (batcher, 0, false, out), 4);
    assert_ptr_equal (out[0], &s_items[0]);
    assert_int_equal (toa_batcher_take (batcher, 0, false, out), 4);
    assert_ptr_equal (out[0], &s_items[4]);
    assert_int_equal (toa_batcher_take (batcher, 49, false, out), 0);
    assert_int_equal (toa_batcher_take (batcher, 50, false, out), 2);
    assert_ptr_equal (out[1], &s_items[9]);
    toa_batcher_destroy (&batcher);
}

static void
test_zero_wait_and_flush (void **state)
{
    (void) state;
    toa_batcher_t *batcher = toa_batcher_new (16, 0);
    void *out[16];
    toa_batcher_add (batcher, &s_items[0], 7);
    toa_batcher_add (batcher, &s_items[1], 7);
    assert_int_equal (toa_batcher_timeout (batcher, 7), 0);
    assert_int_equal (toa_batcher_take (batcher, 7, false, out), 2);
    toa_batcher_destroy (&batcher);

    batcher = toa_batcher_new (16, 60000);
    toa_batcher_add (batcher, &s_items[0], 7);
    assert_int_equal (toa_batcher_take (batcher, 8, false, out), 0);
    assert_int_equal (toa_batcher_take (batcher, 8, true, out), 1);
    assert_int_equal (toa_batcher_take (batcher, 8, true, out), 0);
    toa_batcher_destroy (&batcher);
}

static void
test_remove_and_growth (void **state)
{
    (void) state;
    toa_batcher_t *batcher = toa_batcher_new (100, 10);
    void *out[100];
    /* wrap the ring first, then grow it past its first capacity */
    for (int i = 0; i < 10; i++)
        toa_batcher_add (batcher, &s_items[i], 0);
    toa_batcher_take (batcher, 10, false, out);
    for (int i = 0; i < 60; i++)
        assert_int_equal (toa_batcher_add (batcher, &s_items[i], 20 + i), 0);
    assert_int_equal (toa_batcher_remove (batcher, &s_items[0]), 0);
    assert_int_equal (toa_batcher_remove (batcher, &s_items[30]), 0);
    assert_int_equal (toa_batcher_remove (batcher, &s_items[30]), -1);
    assert_int_equal (toa_batcher_waiting (batcher), 58);
    /* the oldest is now item 1, which arrived at 21 */
    assert_int_equal (toa_batcher_timeout (batcher, 21), 10);
    assert_int_equal (toa_batcher_take (batcher, 31, false, out), 58);
    for (int i = 0, expected = 1; i < 58; i++, expected++) {
        if (expected == 30)
            expected++;
        assert_ptr_equal (out[i], &s_items[expected]);
    }
    toa_batcher_destroy (&batcher);
}

static void
test_bad_arguments (void **state)
{
    (void) state;
    assert_null (toa_batcher_new (0, 10));
    assert_null (toa_batcher_new (1, -1));
    toa_batcher_t *batcher = toa_batcher_new (1, 0);
    assert_int_equal (toa_batcher_add (batcher, NULL, 0), -1);
    assert_int_equal (toa_batcher_timeout (NULL, 0), -1);
    assert_int_equal (toa_batcher_take (NULL, 0, true, NULL), 0);
    toa_batcher_destroy (&batcher);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_closes_on_size),
        cmocka_unit_test (test_closes_on_wait),
        cmocka_unit_test (test_size_then_rest),
        cmocka_unit_test (test_zero_wait_and_flush),
        cmocka_unit_test (test_remove_and_growth),
        cmocka_unit_test (test_bad_arguments),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
