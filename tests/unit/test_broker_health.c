/* test_broker_health.c - model health rules (broker/fleet/health.c): failures in
 * a row take a model down, down periods double up to a cap, a success ends
 * the outage, request errors (4xx) do not count. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "broker/fleet/health.h"

static toa_health_t *
s_new (int after, int64_t down_ms, int64_t max_ms)
{
    toa_health_options_t options = {after, down_ms, max_ms};
    toa_health_t *health = toa_health_new (&options);
    assert_non_null (health);
    return health;
}

static void
test_counts (void **state)
{
    (void) state;
    assert_true (toa_health_counts (false, 0));
    assert_true (toa_health_counts (false, 500));
    assert_true (toa_health_counts (false, 503));
    assert_true (toa_health_counts (false, 429));
    assert_true (toa_health_counts (false, 408));
    assert_false (toa_health_counts (false, 400));
    assert_false (toa_health_counts (false, 401));
    assert_false (toa_health_counts (false, 404));
    assert_false (toa_health_counts (false, 200));
    /* permanent: the answer blamed the request, even with a 500 (llama.cpp's
     * "context shift is disabled"); an exhausted quota still counts */
    assert_false (toa_health_counts (true, 500));
    assert_false (toa_health_counts (true, 0));
    assert_false (toa_health_counts (true, 400));
    assert_true (toa_health_counts (true, 429));
}

static void
test_down_after_k (void **state)
{
    (void) state;
    toa_health_t *health = s_new (3, 1000, 8000);
    assert_false (toa_health_down (health, "m", 0));
    assert_null (toa_health_get (health, "m"));
    assert_int_equal (toa_health_failure (health, "m", 10), TOA_HEALTH_NO_CHANGE);
    assert_int_equal (toa_health_failure (health, "m", 20), TOA_HEALTH_NO_CHANGE);
    assert_false (toa_health_down (health, "m", 20));
    assert_false (toa_health_any_out (health));
    assert_int_equal (toa_health_failure (health, "m", 30), TOA_HEALTH_WENT_DOWN);
    assert_true (toa_health_down (health, "m", 30));
    assert_true (toa_health_down (health, "m", 1029));
    assert_false (toa_health_down (health, "m", 1030));
    assert_false (toa_health_down (health, "other", 30));
    assert_true (toa_health_any_out (health));
    const toa_health_model_t *m = toa_health_get (health, "m");
    assert_int_equal (m->failures, 3);
    assert_int_equal (m->down_since_ms, 30);
    assert_int_equal (m->retry_at_ms, 1030);
    /* a late failure of a task sent before changes nothing */
    assert_int_equal (toa_health_failure (health, "m", 500), TOA_HEALTH_NO_CHANGE);
    assert_int_equal (m->retry_at_ms, 1030);
    toa_health_destroy (&health);
    toa_health_destroy (&health);
    assert_null (health);
}

static void
test_backoff_doubles_to_cap (void **state)
{
    (void) state;
    toa_health_t *health = s_new (2, 1000, 3000);
    toa_health_failure (health, "m", 0);
    assert_int_equal (toa_health_failure (health, "m", 0), TOA_HEALTH_WENT_DOWN);
    const toa_health_model_t *m = toa_health_get (health, "m");
    assert_int_equal (m->period_ms, 1000);
    /* the probe after the period fails: twice as long */
    assert_int_equal (toa_health_failure (health, "m", 1000), TOA_HEALTH_WENT_DOWN);
    assert_int_equal (m->period_ms, 2000);
    assert_int_equal (m->retry_at_ms, 3000);
    assert_int_equal (toa_health_failure (health, "m", 3000), TOA_HEALTH_WENT_DOWN);
    assert_int_equal (m->period_ms, 3000);      /* capped */
    assert_int_equal (toa_health_failure (health, "m", 6000), TOA_HEALTH_WENT_DOWN);
    assert_int_equal (m->period_ms, 3000);
    assert_int_equal (m->down_since_ms, 0);     /* one outage all along */
    toa_health_destroy (&health);
}

static void
test_success_resets (void **state)
{
    (void) state;
    toa_health_t *health = s_new (3, 1000, 8000);
    toa_health_failure (health, "m", 0);
    toa_health_failure (health, "m", 0);
    assert_int_equal (toa_health_success (health, "m"), TOA_HEALTH_NO_CHANGE);
    toa_health_failure (health, "m", 0);
    toa_health_failure (health, "m", 0);
    assert_false (toa_health_down (health, "m", 0));   /* the count restarted */
    assert_int_equal (toa_health_failure (health, "m", 0), TOA_HEALTH_WENT_DOWN);
    assert_int_equal (toa_health_failure (health, "m", 1000), TOA_HEALTH_WENT_DOWN);
    assert_int_equal (toa_health_success (health, "m"), TOA_HEALTH_CAME_UP);
    assert_false (toa_health_down (health, "m", 1001));
    assert_false (toa_health_any_out (health));
    /* a new outage starts again from the first period */
    for (int i = 0; i < 2; i++)
        toa_health_failure (health, "m", 5000);
    assert_int_equal (toa_health_failure (health, "m", 5000), TOA_HEALTH_WENT_DOWN);
    assert_int_equal (toa_health_get (health, "m")->period_ms, 1000);
    assert_int_equal (toa_health_get (health, "m")->down_since_ms, 5000);
    assert_int_equal (toa_health_success (health, "never"), TOA_HEALTH_NO_CHANGE);
    toa_health_destroy (&health);
}

static void
test_poll_reports_each_end_once (void **state)
{
    (void) state;
    toa_health_t *health = s_new (1, 100, 1000);
    toa_health_failure (health, "a", 0);
    toa_health_failure (health, "b", 50);
    const char *names[4];
    assert_int_equal (toa_health_poll (health, 99, names, 4), 0);
    assert_int_equal (toa_health_poll (health, 100, names, 4), 1);
    assert_string_equal (names[0], "a");
    assert_int_equal (toa_health_poll (health, 120, names, 4), 0);
    assert_int_equal (toa_health_poll (health, 150, names, 4), 1);
    assert_string_equal (names[0], "b");
    /* a failed probe starts a new period, reported again when it ends */
    assert_int_equal (toa_health_failure (health, "a", 200), TOA_HEALTH_WENT_DOWN);
    assert_int_equal (toa_health_poll (health, 399, NULL, 0), 0);
    assert_int_equal (toa_health_poll (health, 400, NULL, 0), 1);
    toa_health_destroy (&health);
}

static void
test_one_probe_at_a_time (void **state)
{
    (void) state;
    toa_health_t *health = s_new (1, 100, 1000);
    assert_false (toa_health_blocked (health, "m", 0));
    toa_health_probe_sent (health, "m", 0, 50);          /* healthy: no probe */
    assert_false (toa_health_blocked (health, "m", 1));
    toa_health_failure (health, "m", 0);
    assert_true (toa_health_blocked (health, "m", 99));
    assert_false (toa_health_blocked (health, "m", 100)); /* the period is over */
    toa_health_probe_sent (health, "m", 100, 50);
    assert_true (toa_health_blocked (health, "m", 120));  /* its probe is out */
    assert_false (toa_health_down (health, "m", 120));
    toa_health_probe_sent (health, "m", 120, 500);        /* not a second probe */
    assert_false (toa_health_blocked (health, "m", 150)); /* allowance over */
    toa_health_probe_sent (health, "m", 150, 50);
    toa_health_probe_over (health, "m");                  /* e.g. a 400 */
    assert_false (toa_health_blocked (health, "m", 151));
    toa_health_probe_sent (health, "m", 160, 50);
    assert_int_equal (toa_health_failure (health, "m", 170), TOA_HEALTH_WENT_DOWN);
    assert_true (toa_health_blocked (health, "m", 369));
    assert_false (toa_health_blocked (health, "m", 370));  /* probe cleared */
    toa_health_probe_sent (health, "m", 370, 50);
    assert_int_equal (toa_health_success (health, "m"), TOA_HEALTH_CAME_UP);
    assert_false (toa_health_blocked (health, "m", 371));
    toa_health_destroy (&health);
}

static void
test_defaults (void **state)
{
    (void) state;
    toa_health_t *health = toa_health_new (NULL);
    assert_non_null (health);
    toa_health_failure (health, "m", 0);
    toa_health_failure (health, "m", 0);
    assert_false (toa_health_down (health, "m", 0));
    assert_int_equal (toa_health_failure (health, "m", 0), TOA_HEALTH_WENT_DOWN);
    assert_int_equal (toa_health_get (health, "m")->retry_at_ms, 30000);
    for (int64_t t = 30000; t < 2000000; t = toa_health_get (health, "m")->retry_at_ms)
        toa_health_failure (health, "m", t);
    assert_int_equal (toa_health_get (health, "m")->period_ms, 300000);
    toa_health_destroy (&health);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_counts),
        cmocka_unit_test (test_down_after_k),
        cmocka_unit_test (test_backoff_doubles_to_cap),
        cmocka_unit_test (test_success_resets),
        cmocka_unit_test (test_poll_reports_each_end_once),
        cmocka_unit_test (test_one_probe_at_a_time),
        cmocka_unit_test (test_defaults),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
