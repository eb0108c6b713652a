/* test_broker_jobs.c - unit tests of broker/jobs: admission stays within the
 * active limit across jobs, goes round-robin over jobs with prompts left,
 * and admits the next prompt as one finishes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "broker/state/jobs.h"

static toa_job_t *
s_job (toa_jobs_t *jobs, const char *id, int64_t total)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    const char *text = "{\"models\": [\"a\"], \"method\": {\"name\": \"best-of-n\", \"samples\": 1},"
                       " \"reward\": {\"backend\": \"x\"}}";
    toa_job_settings_t *settings = toa_job_settings_parse (text, NULL, &errors);
    assert_non_null (settings);
    toa_job_t *job = toa_jobs_add (jobs, id, "best-of-n", text, settings);
    assert_non_null (job);
    job->total = total;
    return job;
}

static void
test_admission_round_robin_within_limit (void **state)
{
    (void) state;
    toa_jobs_t *jobs = toa_jobs_new (5);
    toa_job_t *a = s_job (jobs, "a", 10), *b = s_job (jobs, "b", 2), *c = s_job (jobs, "c", 10);
    assert_ptr_equal (toa_jobs_find (jobs, "b"), b);
    assert_string_equal (toa_job_state_name (a), "queued");
    toa_admission_t plan[16];
    size_t n = toa_jobs_plan_admission (jobs, plan, 16);
    assert_int_equal (n, 5);
    assert_int_equal (toa_jobs_active (jobs), 5);
    /* a b c a b: one each in turn. */
    const toa_job_t *order[] = {a, b, c, a, b};
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal (plan[i].job, order[i]);
    assert_int_equal (plan[3].index, 1);
    assert_int_equal (a->admitted, 2);
    assert_string_equal (toa_job_state_name (a), "running");
    assert_int_equal (toa_jobs_plan_admission (jobs, plan, 16), 0);
    /* Prompts start; one finishes: exactly one more is admitted, b has none left. */
    char err[128];
    toa_prompt_t *prompt = toa_prompt_new (a->settings, 0, "{\"id\": 1, \"instruction\": \"x\"}",
                                           err, sizeof err);
    assert_non_null (prompt);
    assert_int_equal (toa_job_add_prompt (jobs, a, prompt, true), 0);
    assert_int_equal (a->n_active, 1);
    toa_job_remove_prompt (jobs, a, prompt);
    assert_int_equal (a->n_active, 0);
    assert_int_equal (toa_jobs_active (jobs), 4);
    n = toa_jobs_plan_admission (jobs, plan, 16);
    assert_int_equal (n, 1);
    assert_ptr_not_equal (plan[0].job, b);
    toa_jobs_unadmit (jobs);
    assert_int_equal (toa_jobs_active (jobs), 4);
    /* A removed job's slot goes to the others; cancelled jobs are not admitted. */
    c->state = TOA_JOB_CANCELLED;
    assert_string_equal (toa_job_state_name (c), "cancelled");
    toa_jobs_remove (jobs, b);
    assert_null (toa_jobs_find (jobs, "b"));
    assert_int_equal (toa_jobs_count (jobs), 2);
    n = toa_jobs_plan_admission (jobs, plan, 16);
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal (plan[i].job, a);
    toa_jobs_destroy (&jobs);
    assert_null (jobs);
}

static void
test_reloaded_prompts_count (void **state)
{
    (void) state;
    toa_jobs_t *jobs = toa_jobs_new (1);
    toa_job_t *a = s_job (jobs, "a", 3);
    char err[128];
    for (int i = 0; i < 2; i++) {
        toa_prompt_t *prompt = toa_prompt_new (a->settings, i, "{\"id\": 1, \"instruction\": \"x\"}",
                                               err, sizeof err);
        assert_int_equal (toa_job_add_prompt (jobs, a, prompt, false), 0);
    }
    a->admitted = 2;
    assert_int_equal (toa_jobs_active (jobs), 2);
    toa_admission_t plan[4];
    assert_int_equal (toa_jobs_plan_admission (jobs, plan, 4), 0);
    toa_jobs_clear (jobs);
    assert_int_equal (toa_jobs_active (jobs), 0);
    assert_int_equal (toa_jobs_count (jobs), 0);
    toa_jobs_destroy (&jobs);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_admission_round_robin_within_limit),
        cmocka_unit_test (test_reloaded_prompts_count),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
