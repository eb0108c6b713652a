/* test_http_retry.c - unit tests of the pure retry policies: common/http's
 * (which outcomes are retried, Retry-After / retry-after-ms parsing, backoff)
 * and common/peer's reconnection back-off. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "common/http.h"
#include "peer/peer.h"

static void
test_classify_status (void **state)
{
    (void) state;
    long retried[] = {408, 409, 429, 500, 502, 503, 504, 599};
    long failed[] = {400, 401, 403, 404, 413, 422, 301, 600};
    long done[] = {200, 201, 204};
    for (size_t i = 0; i < sizeof retried / sizeof retried[0]; i++)
        assert_int_equal (toa_http_classify (retried[i], CURLE_OK), TOA_HTTP_RETRY);
    for (size_t i = 0; i < sizeof failed / sizeof failed[0]; i++)
        assert_int_equal (toa_http_classify (failed[i], CURLE_OK), TOA_HTTP_FAIL);
    for (size_t i = 0; i < sizeof done / sizeof done[0]; i++)
        assert_int_equal (toa_http_classify (done[i], CURLE_OK), TOA_HTTP_DONE);
}

static void
test_classify_transport (void **state)
{
    (void) state;
    int retried[] = {CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR,
                     CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
                     CURLE_COULDNT_RESOLVE_HOST};
    int failed[] = {CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_WRITE_ERROR,
                    CURLE_OUT_OF_MEMORY};
    for (size_t i = 0; i < sizeof retried / sizeof retried[0]; i++)
        assert_int_equal (toa_http_classify (0, retried[i]), TOA_HTTP_RETRY);
    for (size_t i = 0; i < sizeof failed / sizeof failed[0]; i++)
        assert_int_equal (toa_http_classify (0, failed[i]), TOA_HTTP_FAIL);
    /* a transport error wins over whatever status was seen before it */
    assert_int_equal (toa_http_classify (200, CURLE_OPERATION_TIMEDOUT), TOA_HTTP_RETRY);
}

static void
test_retry_after_seconds (void **state)
{
    (void) state;
    assert_int_equal (toa_http_parse_retry_after (NULL, "2", 0), 2000);
    assert_int_equal (toa_http_parse_retry_after (NULL, " 0 ", 0), 0);
    assert_int_equal (toa_http_parse_retry_after (NULL, "1.5", 0), 1500);
    assert_int_equal (toa_http_parse_retry_after (NULL, NULL, 0), -1);
    assert_int_equal (toa_http_parse_retry_after (NULL, "soon", 0), -1);
    assert_int_equal (toa_http_parse_retry_after (NULL, "-3", 0), -1);
    assert_int_equal (toa_http_parse_retry_after (NULL, "3s", 0), -1);
    assert_int_equal (toa_http_parse_retry_after (NULL, "", 0), -1);
}

static void
test_retry_after_ms (void **state)
{
    (void) state;
    assert_int_equal (toa_http_parse_retry_after ("250", NULL, 0), 250);
    assert_int_equal (toa_http_parse_retry_after ("20.2", NULL, 0), 21);
    /* retry-after-ms wins over Retry-After */
    assert_int_equal (toa_http_parse_retry_after ("100", "5", 0), 100);
    /* an invalid retry-after-ms falls back to Retry-After */
    assert_int_equal (toa_http_parse_retry_after ("abc", "5", 0), 5000);
    assert_int_equal (toa_http_parse_retry_after ("abc", NULL, 0), -1);
}

static void
test_retry_after_date (void **state)
{
    (void) state;
    /* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 s since the epoch */
    int64_t date_ms = INT64_C (784111777) * 1000;
    assert_int_equal (toa_http_parse_retry_after (NULL, "Sun, 06 Nov 1994 08:49:37 GMT",
                                                  date_ms - 3000), 3000);
    assert_int_equal (toa_http_parse_retry_after (NULL, "Sunday, 06-Nov-94 08:49:37 GMT",
                                                  date_ms - 1000), 1000);
    assert_int_equal (toa_http_parse_retry_after (NULL, "Sun Nov  6 08:49:37 1994",
                                                  date_ms - 500), 500);
    /* a date in the past means now */
    assert_int_equal (toa_http_parse_retry_after (NULL, "Sun, 06 Nov 1994 08:49:37 GMT",
                                                  date_ms + 60000), 0);
    assert_int_equal (toa_http_parse_retry_after (NULL, "Sun, 06 Nov 1994 08:49:37 GMT junk",
                                                  0), -1);
    assert_int_equal (toa_http_parse_retry_after (NULL, "Sun, 32 Nov 1994 08:49:37 GMT", 0), -1);
}

static void
test_backoff (void **state)
{
    (void) state;
    /* equal jitter: [d/2, d) with d = base * 2^(attempt-1), capped */
    assert_int_equal (toa_http_backoff_ms (1, 100, 10000, 0.0), 50);
    assert_true (toa_http_backoff_ms (1, 100, 10000, 0.99) < 100);
    assert_true (toa_http_backoff_ms (1, 100, 10000, 0.99) >= 99);
    assert_int_equal (toa_http_backoff_ms (2, 100, 10000, 0.0), 100);
    assert_int_equal (toa_http_backoff_ms (4, 100, 10000, 0.0), 400);
    assert_int_equal (toa_http_backoff_ms (30, 100, 10000, 0.0), 5000);   /* capped */
    assert_true (toa_http_backoff_ms (30, 100, 10000, 0.999) <= 10000);
    assert_int_equal (toa_http_backoff_ms (1000000, 100, 10000, 0.0), 5000);
    assert_int_equal (toa_http_backoff_ms (0, 100, 10000, 0.0), 50);      /* clamped */
    /* every step grows, up to the cap */
    int64_t previous = 0;
    for (int attempt = 1; attempt <= 10; attempt++) {
        int64_t delay = toa_http_backoff_ms (attempt, 100, 30000, 0.5);
        assert_true (delay >= previous);
        previous = delay;
    }
}

static void
test_reconnect_backoff (void **state)
{
    (void) state;
    /* 1 s doubling to 32 s, times a jitter factor in [0.8, 1.2) */
    assert_int_equal (toa_peer_backoff_ms (1, 1000, 32000, 0.5), 1000);
    assert_int_equal (toa_peer_backoff_ms (2, 1000, 32000, 0.5), 2000);
    assert_int_equal (toa_peer_backoff_ms (6, 1000, 32000, 0.5), 32000);
    assert_int_equal (toa_peer_backoff_ms (7, 1000, 32000, 0.5), 32000);
    assert_int_equal (toa_peer_backoff_ms (100, 1000, 32000, 0.5), 32000);
    assert_int_equal (toa_peer_backoff_ms (1, 1000, 32000, 0.0), 800);
    assert_true (toa_peer_backoff_ms (1, 1000, 32000, 0.999) < 1200);
    assert_true (toa_peer_backoff_ms (1, 1000, 32000, 0.999) >= 1199);
    assert_int_equal (toa_peer_backoff_ms (3, 100, 50, 0.5), 100);    /* max below min */
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_classify_status),
        cmocka_unit_test (test_classify_transport),
        cmocka_unit_test (test_retry_after_seconds),
        cmocka_unit_test (test_retry_after_ms),
        cmocka_unit_test (test_retry_after_date),
        cmocka_unit_test (test_backoff),
        cmocka_unit_test (test_reconnect_backoff),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
