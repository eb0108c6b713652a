/* test_redact.c - common/redact: excerpts of outside bodies scrubbed of
 * registered secrets and of Bearer / sk- tokens, cut short, and the
 * openai error description and log lines that use them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/openai.h"
#include "common/redact.h"

static const char s_key[] = "my-very-secret-key-123";

static int
s_setup (void **state)
{
    (void) state;
    toa_redact_reset ();
    assert_int_equal (toa_redact_add (s_key), 0);
    assert_int_equal (toa_redact_add ("abc"), 0);     /* too short: ignored */
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    toa_redact_reset ();
    return 0;
}

static void
test_scrub (void **state)
{
    (void) state;
    char text[512];
    snprintf (text, sizeof text, "bad key %s; Authorization: Bearer %s; also sk-%s x-sk-abc "
              "BEARER tok_en.Value-1 abc", s_key, "eyJhbGciOiJIUzI1NiJ9.payload.sig",
              "proj-AAAAbbbbCCCCdddd");
    toa_redact_scrub (text);
    assert_null (strstr (text, s_key));
    assert_null (strstr (text, "eyJhbGci"));
    assert_null (strstr (text, "proj-AAAA"));
    assert_null (strstr (text, "tok_en"));
    assert_non_null (strstr (text, "bad key (hidden);"));
    assert_non_null (strstr (text, "Authorization: Bearer (hidden);"));
    assert_non_null (strstr (text, "also sk-(hidden) x-sk-abc"));   /* short: not a key */
    assert_non_null (strstr (text, " abc"));                        /* short secret not kept */
    /* Ordinary words stay. */
    snprintf (text, sizeof text, "the risk-averse bearer of news; task-12345678");
    toa_redact_scrub (text);
    assert_string_equal (text, "the risk-averse bearer of news; task-12345678");
    toa_redact_scrub (NULL);
}

static void
test_excerpt (void **state)
{
    (void) state;
    /* A long body: cut to TOA_REDACT_EXCERPT bytes plus "...", control bytes
     * as spaces, and a secret straddling the cut is not left in part. */
    char body[4096];
    memset (body, 'x', sizeof body);
    memcpy (body, "line\none\t", 9);
    memcpy (body + TOA_REDACT_EXCERPT - 5, s_key, strlen (s_key));
    char out[TOA_REDACT_EXCERPT + 4];
    toa_redact_excerpt (body, sizeof body, out, sizeof out);
    assert_int_equal (strlen (out), TOA_REDACT_EXCERPT + 3);
    assert_memory_equal (out, "line one ", 9);
    assert_null (strstr (out, "my-ve"));
    assert_string_equal (out + strlen (out) - 3, "...");
    /* Small buffers and short bodies. */
    char tiny[6];
    toa_redact_excerpt (body + 20, 100, tiny, sizeof tiny);
    assert_string_equal (tiny, "xx...");
    toa_redact_excerpt ("ok", 2, tiny, sizeof tiny);
    assert_string_equal (tiny, "ok");
    toa_redact_excerpt (NULL, 5, tiny, sizeof tiny);
    assert_string_equal (tiny, "");
    /* Never cut inside a UTF-8 character. */
    char utf8[300];
    for (int i = 0; i < 150; i++)
        memcpy (utf8 + 2 * i, "\xc3\xa9", 2);
    toa_redact_excerpt (utf8, sizeof utf8, out, sizeof out);
    assert_int_equal ((strlen (out) - 3) % 2, 0);
    char *copy = toa_redact_excerpt_dup (body, 50);
    assert_int_equal (strlen (copy), 50);
    free (copy);
}

/* An endpoint that echoes the Authorization header in its error body: the
 * description (the worker's failure reason) holds no key. */
static void
test_openai_error_echo (void **state)
{
    (void) state;
    char body[1024];
    snprintf (body, sizeof body, "{\"error\": {\"message\": \"Incorrect API key: Bearer %s\", "
              "\"type\": \"invalid_request_error\", \"code\": \"%s\"}}", s_key, s_key);
    toa_openai_error_t error;
    assert_int_equal (toa_openai_parse_error (body, strlen (body), &error), 0);
    char text[512];
    toa_openai_error_describe (401, &error, text, sizeof text);
    assert_null (strstr (text, s_key));
    assert_non_null (strstr (text, "HTTP 401: Incorrect API key: Bearer (hidden) [(hidden)]"));
    toa_openai_error_clear (&error);
    /* Not an error object: the excerpt of the body, scrubbed. */
    snprintf (body, sizeof body, "<html>Authorization: Bearer sk-%s</html>", "live1234567890abcd");
    assert_int_equal (toa_openai_parse_error (body, strlen (body), &error), -1);
    assert_null (strstr (error.message, "live1234"));
    toa_openai_error_clear (&error);
    /* A reply that is not JSON: jansson's quote of it is scrubbed too. */
    toa_openai_reply_t reply;
    char why[256];
    snprintf (body, sizeof body, "%s", s_key);
    assert_int_equal (toa_openai_parse_reply (body, strlen (body), &reply, why, sizeof why), -1);
    assert_null (strstr (why, s_key));
}

/* Whatever a caller passes, a log line carries no registered secret. */
static void
test_log_lines (void **state)
{
    (void) state;
    char path[] = "/tmp/toa-test-redact-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (toa_log_set_file (path), 0);
    toa_warn ("the server said: key %s is wrong (Bearer abcdefghijkl)", s_key);
    toa_log_set_file ("/dev/null");
    close (fd);
    char text[1024] = "";
    FILE *in = fopen (path, "r");
    size_t n = fread (text, 1, sizeof text - 1, in);
    text[n] = 0;
    fclose (in);
    unlink (path);
    assert_non_null (strstr (text, "the server said: key (hidden) is wrong (Bearer (hidden))"));
    assert_null (strstr (text, s_key));
}

/* The config's secrets: API keys from the environment, the Redis password
 * from its 0600 file. */
static void
test_config_secrets (void **state)
{
    (void) state;
    char path[] = "/tmp/toa-test-redact-pw-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, "redis-pass-0042\n", 16), 16);
    close (fd);
    setenv ("TOA_TEST_REDACT_KEY", "model-key-9f8e7d", 1);
    char text[1024];
    snprintf (text, sizeof text,
              "{\"redis\": {\"password_file\": \"%s\"}, \"models\": [{\"name\": \"m\", "
              "\"base_url\": \"http://127.0.0.1:1/v1\", \"api_key_env\": \"TOA_TEST_REDACT_KEY\"}]}",
              path);
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *config = toa_config_parse (text, "test", NULL, 0, &errors);
    toa_errors_print (&errors, stderr);
    assert_non_null (config);
    assert_int_equal (toa_redact_add_config (config), 0);
    snprintf (text, sizeof text, "AUTH redis-pass-0042 failed; key model-key-9f8e7d");
    toa_redact_scrub (text);
    assert_string_equal (text, "AUTH (hidden) failed; key (hidden)");
    toa_config_destroy (&config);
    toa_errors_clear (&errors);
    unlink (path);
    unsetenv ("TOA_TEST_REDACT_KEY");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_scrub, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_excerpt, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_openai_error_echo, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_log_lines, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_config_secrets, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
