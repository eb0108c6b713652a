/* test_client_output.c - the client's results file: dedupe by id across
 * reopen, incomplete last line (cut when toa wrote it, an error when not),
 * no symbolic links, one writer at a time, rewrite of multi-line JSON, fsync
 * batching. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/output.h"
#include "common/util.h"

static char s_path[256], s_state[300], s_link[300];

static int
s_setup (void **state)
{
    (void) state;
    snprintf (s_path, sizeof s_path, "/tmp/test_client_output.%d.jsonl", (int) getpid ());
    snprintf (s_state, sizeof s_state, "%s.toa-state", s_path);
    snprintf (s_link, sizeof s_link, "%s.link", s_path);
    unlink (s_path);
    unlink (s_state);
    unlink (s_link);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    unlink (s_path);
    unlink (s_state);
    unlink (s_link);
    return 0;
}

static void
s_write_file (const char *text)
{
    FILE *file = fopen (s_path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
}

static int
s_append (toa_output_t *output, const char *line, int64_t now)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    int rc = toa_output_append (output, line, strlen (line), now, &errors);
    toa_errors_clear (&errors);
    return rc;
}

static void
test_dedupe_within_and_across_runs (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_output_t *output = toa_output_open (s_path, &errors);
    assert_non_null (output);
    assert_int_equal (toa_output_count_at_open (output), 0);
    assert_int_equal (s_append (output, "{\"id\": 1, \"best_response\": \"a\"}", 0), 1);
    /* 7 and "7" are the same prompt (common/prompts.h) */
    assert_int_equal (s_append (output, "{\"id\": \"1\", \"best_response\": \"b\"}", 0), 0);
    assert_int_equal (s_append (output, "{\"id\": \"x\", \"best_response\": \"b\"}", 0), 1);
    assert_int_equal (s_append (output, "{\"id\": 1, \"best_response\": \"again\"}", 0), 0);
    assert_int_equal (toa_output_count (output), 2);
    assert_int_equal (toa_output_sync (output, &errors), 0);
    toa_output_destroy (&output);
    assert_null (output);
    toa_output_destroy (&output);            /* safe twice */

    output = toa_output_open (s_path, &errors);
    assert_non_null (output);
    assert_int_equal (toa_output_count_at_open (output), 2);
    json_t *one = json_pack ("{s:i}", "id", 1);
    json_t *two = json_pack ("{s:s}", "id", "2");
    assert_true (toa_output_has (output, one));
    assert_false (toa_output_has (output, two));
    assert_int_equal (s_append (output, "{\"id\": 1}", 0), 0);
    assert_int_equal (s_append (output, "{\"id\": 2}", 0), 1);
    json_decref (one);
    json_decref (two);
    toa_output_destroy (&output);

    size_t length = 0;
    char *text = toa_read_file (s_path, &length);
    assert_non_null (text);
    assert_string_equal (text, "{\"id\": 1, \"best_response\": \"a\"}\n"
                               "{\"id\": \"x\", \"best_response\": \"b\"}\n"
                               "{\"id\": 2}\n");
    free (text);
    assert_int_equal (errors.count, 0);
}

static void
test_foreign_incomplete_last_line_is_an_error (void **state)
{
    (void) state;
    const char *text = "{\"id\": 1}\n\n{\"id\": 2}\n{\"id\": 3, \"resp";
    s_write_file (text);
    toa_errors_t errors = TOA_ERRORS_INIT;
    assert_null (toa_output_open (s_path, &errors));
    assert_int_equal (errors.count, 1);
    char expected[300];
    snprintf (expected, sizeof expected, "%s:4: the last line is incomplete", s_path);
    assert_memory_equal (errors.messages[0], expected, strlen (expected));
    toa_errors_clear (&errors);
    char *after = toa_read_file (s_path, NULL);
    assert_string_equal (after, text);         /* not a byte cut */
    free (after);
}

/* A toa that synced two lines, wrote half a third and died (no destroy). */
static void
s_crashed_writer (void)
{
    pid_t child = fork ();
    assert_true (child >= 0);
    if (child == 0) {
        toa_errors_t errors = TOA_ERRORS_INIT;
        toa_output_t *output = toa_output_open (s_path, &errors);
        if (!output || s_append (output, "{\"id\": 1}", 0) != 1
            || s_append (output, "{\"id\": 2}", 0) != 1 || toa_output_sync (output, &errors))
            _exit (1);
        FILE *raw = fopen (s_path, "a");
        fputs ("{\"id\": 3, \"resp", raw);
        fclose (raw);
        _exit (0);
    }
    int status = 0;
    waitpid (child, &status, 0);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

static void
test_own_incomplete_last_line_is_cut (void **state)
{
    (void) state;
    s_crashed_writer ();
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_output_t *output = toa_output_open (s_path, &errors);
    assert_non_null (output);
    assert_int_equal (toa_output_count_at_open (output), 2);
    assert_int_equal (toa_output_removed_tail (output), strlen ("{\"id\": 3, \"resp"));
    assert_int_equal (s_append (output, "{\"id\": 3}", 0), 1);
    toa_output_destroy (&output);
    char *text = toa_read_file (s_path, NULL);
    assert_string_equal (text, "{\"id\": 1}\n{\"id\": 2}\n{\"id\": 3}\n");
    free (text);
    /* a clean end removes the state file: a later partial line is not toa's */
    assert_int_equal (access (s_state, F_OK), -1);
    FILE *raw = fopen (s_path, "a");
    fputs ("{\"id\": 4", raw);
    fclose (raw);
    assert_null (toa_output_open (s_path, &errors));
    toa_errors_clear (&errors);
}

static void
test_symbolic_link_is_refused (void **state)
{
    (void) state;
    s_write_file ("{\"id\": 1}\n");
    assert_int_equal (symlink (s_path, s_link), 0);
    toa_errors_t errors = TOA_ERRORS_INIT;
    assert_null (toa_output_open (s_link, &errors));
    assert_int_equal (errors.count, 1);
    assert_non_null (strstr (errors.messages[0], "symbolic link"));
    toa_errors_clear (&errors);
    assert_null (toa_output_open ("/dev/null", &errors));
    assert_non_null (strstr (errors.messages[0], "not a regular file"));
    toa_errors_clear (&errors);
}

static void
test_one_writer_at_a_time (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_output_t *first = toa_output_open (s_path, &errors);
    assert_non_null (first);
    assert_null (toa_output_open (s_path, &errors));
    assert_non_null (strstr (errors.messages[0], "in use by another toa"));
    toa_errors_clear (&errors);
    toa_output_destroy (&first);
    toa_output_t *again = toa_output_open (s_path, &errors);
    assert_non_null (again);
    toa_output_destroy (&again);
}

static void
test_bad_existing_line_names_file_and_line (void **state)
{
    (void) state;
    s_write_file ("{\"id\": 1}\nnot json\n");
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_output_t *output = toa_output_open (s_path, &errors);
    assert_null (output);
    assert_int_equal (errors.count, 1);
    char expected[300];
    snprintf (expected, sizeof expected, "%s:2: ", s_path);
    assert_memory_equal (errors.messages[0], expected, strlen (expected));
    toa_errors_clear (&errors);
}

static void
test_unopenable_path (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    assert_null (toa_output_open ("/nonexistent-dir/x.jsonl", &errors));
    assert_int_equal (errors.count, 1);
    assert_non_null (strstr (errors.messages[0], "/nonexistent-dir/x.jsonl"));
    toa_errors_clear (&errors);
}

static void
test_multiline_json_is_rewritten_on_one_line (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_output_t *output = toa_output_open (s_path, &errors);
    assert_int_equal (s_append (output, "{\"id\": 5,\n \"x\": [1,\n 2]}", 0), 1);
    assert_int_equal (s_append (output, "[1, 2]", 0), TOA_OUTPUT_INVALID);
    assert_int_equal (s_append (output, "{\"id\": 6", 0), TOA_OUTPUT_INVALID);
    toa_output_destroy (&output);
    char *text = toa_read_file (s_path, NULL);
    assert_string_equal (text, "{\"id\":5,\"x\":[1,2]}\n");
    free (text);
}

static void
test_sync_batching (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_output_t *output = toa_output_open (s_path, &errors);
    assert_int_equal (toa_output_sync_deadline (output), INT64_MAX);
    assert_false (toa_output_sync_due (output, 1000000));
    assert_int_equal (s_append (output, "{\"id\": 0}", 1000), 1);
    assert_int_equal (toa_output_sync_deadline (output), 1000 + TOA_OUTPUT_SYNC_MS);
    assert_false (toa_output_sync_due (output, 1099));
    assert_true (toa_output_sync_due (output, 1100));
    assert_int_equal (toa_output_sync (output, &errors), 0);
    assert_int_equal (toa_output_unsynced (output), 0);
    assert_int_equal (toa_output_sync_count (output), 1);

    /* 64 lines force a sync even before 100 ms have passed */
    char line[64];
    for (int i = 1; i <= TOA_OUTPUT_SYNC_LINES; i++) {
        snprintf (line, sizeof line, "{\"id\": %d}", i);
        assert_int_equal (s_append (output, line, 2000 + i), 1);
        if (i < TOA_OUTPUT_SYNC_LINES)
            assert_false (toa_output_sync_due (output, 2000 + i));
    }
    assert_true (toa_output_sync_due (output, 2000 + TOA_OUTPUT_SYNC_LINES));
    /* a duplicate does not count as a pending line */
    assert_int_equal (s_append (output, "{\"id\": 3}", 2100), 0);
    assert_int_equal (toa_output_unsynced (output), TOA_OUTPUT_SYNC_LINES);
    assert_int_equal (toa_output_sync (output, &errors), 0);
    assert_int_equal (toa_output_sync (output, &errors), 0);  /* nothing pending */
    assert_int_equal (toa_output_sync_count (output), 2);
    toa_output_destroy (&output);
    assert_int_equal (errors.count, 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_dedupe_within_and_across_runs, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_foreign_incomplete_last_line_is_an_error, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_own_incomplete_last_line_is_cut, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_symbolic_link_is_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_one_writer_at_a_time, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_existing_line_names_file_and_line, s_setup,
                                         s_teardown),
        cmocka_unit_test (test_unopenable_path),
        cmocka_unit_test_setup_teardown (test_multiline_json_is_rewritten_on_one_line, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_sync_batching, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
