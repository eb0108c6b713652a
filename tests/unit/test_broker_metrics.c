/* test_broker_metrics.c - the Prometheus registry and text format
 * (broker/metrics.c), the failure classes of task-failures
 * (broker/observe.c) and of HTTP attempts (common/http.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "broker/metrics.h"
#include "broker/observe.h"
#include "common/http.h"

static const double s_buckets[] = {0.1, 1, 10};
static const toa_metric_family_t s_families[] = {
    {"toa_things_total", "Things.", TOA_METRIC_COUNTER, NULL, 0},
    {"toa_level", "A level.", TOA_METRIC_GAUGE, NULL, 0},
    {"toa_wait_seconds", "Waits.", TOA_METRIC_HISTOGRAM, s_buckets, 3},
};

static void
test_render (void **state)
{
    (void) state;
    toa_metrics_t *m = toa_metrics_new (s_families, 3);
    assert_non_null (m);
    char labels[128];
    toa_metrics_labels (labels, sizeof labels, "model", "a\"b\\c\nd", "outcome", "ok", NULL);
    assert_string_equal (labels, "model=\"a\\\"b\\\\c\\nd\",outcome=\"ok\"");
    assert_int_equal (toa_metrics_add (m, 0, labels, 2), 0);
    assert_int_equal (toa_metrics_add (m, 0, labels, 3), 0);
    assert_int_equal (toa_metrics_add (m, 0, labels, -1), -1);      /* counters only grow */
    assert_int_equal (toa_metrics_observe (m, 0, labels, 1), -1);   /* not a histogram */
    assert_int_equal (toa_metrics_set (m, 1, "", -2.5), 0);
    assert_int_equal (toa_metrics_observe (m, 2, "kind=\"x\"", 0.05), 0);
    assert_int_equal (toa_metrics_observe (m, 2, "kind=\"x\"", 1), 0);
    assert_int_equal (toa_metrics_observe (m, 2, "kind=\"x\"", 50), 0);
    assert_true (toa_metrics_value (m, 0, labels) == 5);
    assert_true (toa_metrics_value (m, 2, "kind=\"x\"") == 3);
    size_t length = 0;
    char *text = toa_metrics_render (m, &length);
    assert_non_null (text);
    assert_int_equal (strlen (text), length);
    const char *expected =
        "# HELP toa_things_total Things.\n"
        "# TYPE toa_things_total counter\n"
        "toa_things_total{model=\"a\\\"b\\\\c\\nd\",outcome=\"ok\"} 5\n"
        "# HELP toa_level A level.\n"
        "# TYPE toa_level gauge\n"
        "toa_level -2.5\n"
        "# HELP toa_wait_seconds Waits.\n"
        "# TYPE toa_wait_seconds histogram\n"
        "toa_wait_seconds_bucket{kind=\"x\",le=\"0.1\"} 1\n"
        "toa_wait_seconds_bucket{kind=\"x\",le=\"1\"} 2\n"
        "toa_wait_seconds_bucket{kind=\"x\",le=\"10\"} 2\n"
        "toa_wait_seconds_bucket{kind=\"x\",le=\"+Inf\"} 3\n"
        "toa_wait_seconds_sum{kind=\"x\"} 51.05\n"
        "toa_wait_seconds_count{kind=\"x\"} 3\n";
    assert_string_equal (text, expected);
    free (text);
    toa_metrics_reset (m, 1);
    text = toa_metrics_render (m, NULL);
    assert_null (strstr (text, "toa_level -2.5"));
    assert_non_null (strstr (text, "# TYPE toa_level gauge"));
    free (text);
    toa_metrics_destroy (&m);
    toa_metrics_destroy (&m);
    assert_null (m);
}

static void
test_labels_cut (void **state)
{
    (void) state;
    char small[20];
    toa_metrics_labels (small, sizeof small, "a", "1", "bbbbbbbb", "22222222", NULL);
    assert_string_equal (small, "a=\"1\"");            /* the second pair does not fit */
}

static void
test_failure_class (void **state)
{
    (void) state;
    assert_string_equal (toa_observe_failure_class (429, "rate"), "429");
    assert_string_equal (toa_observe_failure_class (503, ""), "5xx");
    assert_string_equal (toa_observe_failure_class (408, ""), "timeout");
    assert_string_equal (toa_observe_failure_class (400, "context"), "4xx");
    assert_string_equal (toa_observe_failure_class (200, "HTTP 200 with a malformed reply"),
                         "malformed");
    assert_string_equal (toa_observe_failure_class (
                             0, "gave up after 3 attempts: Operation timed out after 100 ms"),
                         "timeout");
    assert_string_equal (toa_observe_failure_class (0, "Failed to connect to 127.0.0.1"),
                         "refused");
    assert_string_equal (toa_observe_failure_class (0, "shutting down"), "refused_by_peer");
    assert_string_equal (toa_observe_failure_class (0, "something else"), "other");
}

static void
test_http_outcome (void **state)
{
    (void) state;
    assert_int_equal (toa_http_outcome (200, CURLE_OK, TOA_HTTP_DONE), TOA_HTTP_OUTCOME_OK);
    assert_int_equal (toa_http_outcome (200, CURLE_OK, TOA_HTTP_RETRY),
                      TOA_HTTP_OUTCOME_MALFORMED);
    assert_int_equal (toa_http_outcome (429, CURLE_OK, TOA_HTTP_RETRY), TOA_HTTP_OUTCOME_429);
    assert_int_equal (toa_http_outcome (502, CURLE_OK, TOA_HTTP_RETRY), TOA_HTTP_OUTCOME_5XX);
    assert_int_equal (toa_http_outcome (404, CURLE_OK, TOA_HTTP_FAIL), TOA_HTTP_OUTCOME_4XX);
    assert_int_equal (toa_http_outcome (0, CURLE_OPERATION_TIMEDOUT, TOA_HTTP_RETRY),
                      TOA_HTTP_OUTCOME_TIMEOUT);
    assert_int_equal (toa_http_outcome (0, CURLE_COULDNT_CONNECT, TOA_HTTP_RETRY),
                      TOA_HTTP_OUTCOME_REFUSED);
    assert_string_equal (toa_http_outcome_name (TOA_HTTP_OUTCOME_5XX), "5xx");
    assert_string_equal (toa_http_outcome_name (TOA_HTTP_OUTCOME_REFUSED), "refused");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_render),
        cmocka_unit_test (test_labels_cut),
        cmocka_unit_test (test_failure_class),
        cmocka_unit_test (test_http_outcome),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
