/* test_client_report.c - `toa report`'s core: quantiles as numpy computes
 * them, counts of one hand-made result (failures, tokens, TOA depth and
 * refinements, best shares), the JSON shape. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "client/report.h"

static void
test_quantile (void **state)
{
    (void) state;
    const double v[] = {1, 2, 3, 4, 10};
    /* numpy.quantile([1,2,3,4,10], [0, .1, .25, .5, .9, 1]) */
    assert_true (toa_report_quantile (v, 5, 0) == 1);
    assert_true (fabs (toa_report_quantile (v, 5, 0.1) - 1.4) < 1e-12);
    assert_true (toa_report_quantile (v, 5, 0.25) == 2);
    assert_true (toa_report_quantile (v, 5, 0.5) == 3);
    assert_true (fabs (toa_report_quantile (v, 5, 0.9) - 7.6) < 1e-12);
    assert_true (toa_report_quantile (v, 5, 1) == 10);
    assert_true (toa_report_quantile (v, 1, 0.5) == 1);
    assert_true (isnan (toa_report_quantile (v, 0, 0.5)));
}

static void
test_counts (void **state)
{
    (void) state;
    json_error_t error;
    json_t *a = json_loads (
        "{\"id\": 1, \"method\": \"toa\", \"responses\": [\"x\", null, \"z\", \"w\"],"
        " \"actions\": [{\"model\": \"m1\", \"depth\": 0}, {\"model\": \"m2\", \"depth\": 0},"
        "  {\"model\": \"m1\", \"depth\": 1}, {\"model\": \"m2\", \"depth\": 2}],"
        " \"rewards\": [0.5, null, 0.9, null],"
        " \"n_prompt_tokens\": [10, 0, 20, 30], \"n_completion_tokens\": [1, 0, 2, 3],"
        " \"failures\": [{\"index\": 1, \"stage\": \"generation\"},"
        "  {\"index\": 3, \"stage\": \"scoring\"}],"
        " \"best_model\": \"m1\","
        " \"tree\": {\"nodes\": [{\"kind\": \"root\"}, {\"kind\": \"response\", \"depth\": 0},"
        "  {\"kind\": \"response\", \"depth\": 2}, {\"kind\": \"action\", \"depth\": 5}]}}",
        0, &error);
    json_t *b = json_loads (
        "{\"id\": 2, \"method\": \"best-of-n\", \"responses\": [\"p\", \"q\"],"
        " \"actions\": [{\"model\": \"m2\", \"depth\": 0}, {\"model\": \"m2\", \"depth\": 0}],"
        " \"rewards\": [0.1, 0.3], \"best_model\": \"m2\"}", 0, &error);
    assert_non_null (a);
    assert_non_null (b);
    toa_report_t *report = toa_report_new ();
    assert_int_equal (toa_report_add (report, a), 0);
    assert_int_equal (toa_report_add (report, b), 0);
    toa_report_finish (report);
    assert_int_equal (report->prompts, 2);
    assert_int_equal (report->generations, 6);
    assert_int_equal (report->responses, 5);
    assert_int_equal (report->scored, 4);
    assert_int_equal (report->min_generations, 2);
    assert_int_equal (report->max_generations, 4);
    assert_int_equal (report->failures, 2);
    assert_int_equal (report->failures_generation, 1);
    assert_int_equal (report->failures_scoring, 1);
    assert_int_equal (report->prompts_with_failures, 1);
    assert_int_equal (report->toa_prompts, 1);
    assert_int_equal (report->toa_depth_sum, 3);     /* deepest response node: depth 2 */
    assert_int_equal (report->toa_actions, 4);
    assert_int_equal (report->toa_refinements, 2);
    assert_int_equal (report->n_models, 2);
    const toa_report_model_t *m1 = &report->models[0], *m2 = &report->models[1];
    assert_string_equal (m1->name, "m1");
    assert_int_equal (m1->responses, 2);
    assert_int_equal (m1->best, 1);
    assert_int_equal (m1->n_rewards, 2);
    assert_true (m1->rewards[0] == 0.5 && m1->rewards[1] == 0.9);
    assert_int_equal (m1->prompt_tokens, 30);
    assert_int_equal (m2->responses, 3);
    assert_int_equal (m2->generations, 4);
    assert_int_equal (m2->completion_tokens, 3);
    json_t *json = toa_report_json (report);
    assert_non_null (json);
    assert_true (json_real_value (json_object_get (json_array_get (
                     json_object_get (json, "models"), 1), "share_of_responses")) == 0.6);
    json_t *rewards = json_object_get (json_array_get (json_object_get (json, "models"), 0),
                                       "rewards");
    assert_true (fabs (json_real_value (json_object_get (rewards, "p50")) - 0.7) < 1e-12);
    assert_int_equal (json_integer_value (json_object_get (rewards, "n")), 2);
    json_decref (json);
    toa_report_destroy (&report);
    assert_null (report);
    json_decref (a);
    json_decref (b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_quantile),
        cmocka_unit_test (test_counts),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
