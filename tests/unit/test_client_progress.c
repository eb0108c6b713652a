/* test_client_progress.c - the client's progress: rate over the window, ETA
 * by generations, by prompts and by results written, durations, bar and
 * plain lines (results written and prompts searched). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "client/progress.h"

static void
s_update (toa_progress_t *progress, int64_t t, int64_t done, int64_t generations,
          const char *state, const char *waiting)
{
    toa_job_status_t status = {0};
    status.job = (char *) "20260101-000000-abcdef";
    status.state = (char *) state;
    status.method = (char *) "toa";
    status.total = 100;
    status.done = done;
    status.active = 8;
    status.generations = generations;
    status.failed = 2;
    status.waiting = (char *) waiting;
    toa_progress_update (progress, &status, t);
}

/* A job shorter than the rate window: the plain line shows its average rate
 * since the first status (not 0.0, and not counting generations made before
 * the client started watching). */
static void
test_plain_line_of_a_short_job (void **state)
{
    (void) state;
    toa_progress_t progress;
    toa_progress_init (&progress, 0, 12);
    s_update (&progress, 0, 0, 100, "running", "");        /* attached late */
    s_update (&progress, 500, 100, 300, "done", "");
    char line[512];
    toa_progress_plain (&progress, 500, line, sizeof line);
    assert_non_null (strstr (line, "400 gen/s"));          /* 200 in 0.5 s */
}

static void
test_rate_needs_a_second (void **state)
{
    (void) state;
    toa_progress_t progress;
    toa_progress_init (&progress, 0, 12);
    assert_true (toa_progress_rate (&progress) == 0);
    assert_true (toa_progress_eta (&progress) < 0);       /* no status yet */
    s_update (&progress, 0, 0, 0, "running", "");
    s_update (&progress, 500, 0, 10, "running", "");
    assert_true (toa_progress_rate (&progress) == 0);      /* 0.5 s says nothing */
    s_update (&progress, 2000, 1, 40, "running", "");
    assert_true (fabs (toa_progress_rate (&progress) - 20.0) < 1e-9);
}

static void
test_eta_by_generations (void **state)
{
    (void) state;
    toa_progress_t progress;
    toa_progress_init (&progress, 0, 12);                  /* 100 prompts x 12 = 1200 */
    s_update (&progress, 0, 0, 0, "running", "");
    s_update (&progress, 10000, 5, 200, "running", "");    /* 20 gen/s */
    assert_true (fabs (toa_progress_rate (&progress) - 20.0) < 1e-9);
    assert_true (fabs (toa_progress_eta (&progress) - 50.0) < 1e-9);   /* 1000 / 20 */
}

static void
test_eta_by_prompts_when_budget_unknown (void **state)
{
    (void) state;
    toa_progress_t progress;
    toa_progress_init (&progress, 0, 0);
    s_update (&progress, 0, 10, 100, "running", "");
    assert_true (toa_progress_eta (&progress) < 0);
    s_update (&progress, 5000, 20, 200, "running", "");    /* 2 prompts/s, 80 left */
    assert_true (fabs (toa_progress_eta (&progress) - 40.0) < 1e-9);
    s_update (&progress, 6000, 100, 900, "done", "");
    assert_true (toa_progress_eta (&progress) == 0);
}

/* Every prompt searched, results still being written (a slow client, or
 * results waiting in Redis): the ETA is about the results left. */
static void
test_eta_by_results_written (void **state)
{
    (void) state;
    toa_progress_t progress;
    toa_progress_init (&progress, 0, 12);
    toa_progress_set_written (&progress, 20);
    s_update (&progress, 0, 90, 1080, "running", "");
    toa_progress_set_written (&progress, 40);
    s_update (&progress, 4000, 100, 1200, "searched", "");  /* 5 written/s, 60 left */
    assert_true (fabs (toa_progress_eta (&progress) - 12.0) < 1e-9);
    /* still searching, but writing is the slower: its time counts */
    toa_progress_init (&progress, 0, 12);
    toa_progress_set_written (&progress, 0);
    s_update (&progress, 0, 0, 0, "running", "");
    toa_progress_set_written (&progress, 10);
    s_update (&progress, 10000, 50, 600, "running", "");    /* search 10 s, writing 18 s */
    assert_true (fabs (toa_progress_eta (&progress) - 90.0) < 1e-9);
    toa_progress_set_written (&progress, 100);
    s_update (&progress, 11000, 100, 1200, "searched", "");
    assert_true (toa_progress_eta (&progress) == 0);
}

static void
test_window_forgets_old_samples (void **state)
{
    (void) state;
    toa_progress_t progress;
    toa_progress_init (&progress, 0, 0);
    /* fast at first, then 1 gen/s for a long time: the rate follows */
    s_update (&progress, 0, 0, 0, "running", "");
    s_update (&progress, 1000, 0, 1000, "running", "");
    for (int64_t t = 2000; t <= 60000; t += 1000)
        s_update (&progress, t, 0, 1000 + (t - 1000) / 1000, "running", "");
    assert_true (fabs (toa_progress_rate (&progress) - 1.0) < 1e-9);
    /* updates closer than the spacing do not flush the ring */
    for (int i = 1; i <= 100; i++)
        s_update (&progress, 60000 + i, 0, 1059, "running", "");
    assert_true (progress.n_samples <= TOA_PROGRESS_SAMPLES);
    assert_true (toa_progress_rate (&progress) > 0.9);
}

static void
test_duration (void **state)
{
    (void) state;
    char buf[32];
    assert_string_equal (toa_progress_duration (-1, buf, sizeof buf), "?");
    assert_string_equal (toa_progress_duration (NAN, buf, sizeof buf), "?");
    assert_string_equal (toa_progress_duration (0, buf, sizeof buf), "0s");
    assert_string_equal (toa_progress_duration (44.6, buf, sizeof buf), "45s");
    assert_string_equal (toa_progress_duration (83, buf, sizeof buf), "1m23s");
    assert_string_equal (toa_progress_duration (7500, buf, sizeof buf), "2h05m");
    assert_string_equal (toa_progress_duration (273600, buf, sizeof buf), "3d04h");
}

static void
test_bar_and_plain_lines (void **state)
{
    (void) state;
    toa_progress_t progress;
    toa_progress_init (&progress, 0, 12);
    s_update (&progress, 0, 0, 0, "running", "");
    toa_progress_set_written (&progress, 40);
    s_update (&progress, 10000, 50, 200, "running", "no worker serves model sim-beta");
    char line[512];
    toa_progress_bar (&progress, 200, line, sizeof line);
    assert_string_equal (line, "[############>                 ] 40/100 written  50 searched  "
                               "20.0 gen/s  ETA 50s  waiting: no worker serves model sim-beta");
    /* 80 columns: a short bar, the waiting reason is cut, not the bar */
    toa_progress_bar (&progress, 80, line, sizeof line);
    assert_int_equal (strlen (line), 79);
    assert_memory_equal (line, "[####>     ] 40/100 written", 26);
    assert_non_null (strstr (line, "ETA 50s  waiting: no work"));
    /* a narrow terminal: no wrap, the line is cut to width - 1 */
    toa_progress_bar (&progress, 40, line, sizeof line);
    assert_int_equal (strlen (line), 39);
    assert_memory_equal (line, "40/100 written", 14);
    toa_progress_plain (&progress, 12000, line, sizeof line);
    assert_string_equal (line, "40/100 results written (40%), 50 prompts searched, 200 "
                               "generations, 2 failed, 20.0 gen/s, ETA 50s, elapsed 12s, "
                               "waiting: no worker serves model sim-beta");
    toa_progress_set_written (&progress, 100);
    s_update (&progress, 20000, 100, 1200, "done", "");
    toa_progress_bar (&progress, 80, line, sizeof line);
    assert_non_null (strstr (line, "#####] 100/100 written"));
    assert_non_null (strstr (line, "ETA 0s"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_rate_needs_a_second),
        cmocka_unit_test (test_plain_line_of_a_short_job),
        cmocka_unit_test (test_eta_by_generations),
        cmocka_unit_test (test_eta_by_prompts_when_budget_unknown),
        cmocka_unit_test (test_eta_by_results_written),
        cmocka_unit_test (test_window_forgets_old_samples),
        cmocka_unit_test (test_duration),
        cmocka_unit_test (test_bar_and_plain_lines),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
