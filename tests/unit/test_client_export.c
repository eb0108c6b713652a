/* test_client_export.c - SFT and DPO lines from result lines: shapes TRL
 * reads, best/worst choice, ties, margin, failed generations, files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/export.h"
#include "common/util.h"

static json_t *
s_parse (const char *text)
{
    json_error_t error;
    json_t *value = json_loads (text, 0, &error);
    if (!value)
        fail_msg ("bad test JSON: %s", error.text);
    return value;
}

static void
s_assert_json (const json_t *actual, const char *expected_text)
{
    json_t *expected = s_parse (expected_text);
    if (!json_equal (actual, expected)) {
        char *got = json_dumps (actual, JSON_COMPACT);
        fail_msg ("got %s\nexpected %s", got, expected_text);
    }
    json_decref (expected);
}

static void
test_instruction_pair (void **state)
{
    (void) state;
    json_t *result = s_parse (
        "{\"id\": 7, \"instruction\": \"Say hi\", \"responses\": [\"hey\", \"hello\", \"yo\"],"
        " \"rewards\": [0.5, 0.9, 0.1], \"best_response\": \"hello\"}");
    json_t *sft, *dpo;
    assert_int_equal (toa_export_result (result, 0, &sft, &dpo), TOA_EXPORT_PAIR);
    s_assert_json (sft, "{\"messages\": [{\"role\": \"user\", \"content\": \"Say hi\"},"
                        " {\"role\": \"assistant\", \"content\": \"hello\"}]}");
    s_assert_json (dpo, "{\"prompt\": [{\"role\": \"user\", \"content\": \"Say hi\"}],"
                        " \"chosen\": [{\"role\": \"assistant\", \"content\": \"hello\"}],"
                        " \"rejected\": [{\"role\": \"assistant\", \"content\": \"yo\"}]}");
    json_decref (sft);
    json_decref (dpo);
    json_decref (result);
}

static void
test_messages_prompt_and_failed_generations (void **state)
{
    (void) state;
    /* null rewards are failed generations: never chosen nor rejected */
    json_t *result = s_parse (
        "{\"id\": \"a\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief\"},"
        " {\"role\": \"user\", \"content\": \"2+2?\"}],"
        " \"responses\": [\"\", \"4\", \"5\", \"\"], \"rewards\": [null, 1.0, 0.0, null]}");
    json_t *sft, *dpo;
    assert_int_equal (toa_export_result (result, 0, &sft, &dpo), TOA_EXPORT_PAIR);
    s_assert_json (sft, "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief\"},"
                        " {\"role\": \"user\", \"content\": \"2+2?\"},"
                        " {\"role\": \"assistant\", \"content\": \"4\"}]}");
    s_assert_json (dpo, "{\"prompt\": [{\"role\": \"system\", \"content\": \"Be brief\"},"
                        " {\"role\": \"user\", \"content\": \"2+2?\"}],"
                        " \"chosen\": [{\"role\": \"assistant\", \"content\": \"4\"}],"
                        " \"rejected\": [{\"role\": \"assistant\", \"content\": \"5\"}]}");
    json_decref (sft);
    json_decref (dpo);
    json_decref (result);
}

static void
test_ties_and_margin (void **state)
{
    (void) state;
    json_t *sft, *dpo;
    json_t *equal = s_parse ("{\"id\": 1, \"instruction\": \"q\", \"responses\": [\"a\", \"b\"],"
                             " \"rewards\": [0.3, 0.3]}");
    assert_int_equal (toa_export_result (equal, 0, &sft, &dpo), TOA_EXPORT_TIE);
    assert_non_null (sft);
    assert_null (dpo);
    s_assert_json (sft, "{\"messages\": [{\"role\": \"user\", \"content\": \"q\"},"
                        " {\"role\": \"assistant\", \"content\": \"a\"}]}");  /* first of equals */
    json_decref (sft);

    json_t *close = s_parse ("{\"id\": 2, \"instruction\": \"q\", \"responses\": [\"a\", \"b\"],"
                             " \"rewards\": [0.30, 0.35]}");
    assert_int_equal (toa_export_result (close, 0.1, &sft, &dpo), TOA_EXPORT_TIE);
    assert_null (dpo);
    json_decref (sft);
    assert_int_equal (toa_export_result (close, 0.01, &sft, &dpo), TOA_EXPORT_PAIR);
    assert_non_null (dpo);
    json_decref (sft);
    json_decref (dpo);

    /* same text, different rewards: not a preference */
    json_t *same = s_parse ("{\"id\": 3, \"instruction\": \"q\", \"responses\": [\"a\", \"a\"],"
                            " \"rewards\": [0.1, 0.9]}");
    assert_int_equal (toa_export_result (same, 0, &sft, &dpo), TOA_EXPORT_TIE);
    assert_null (dpo);
    json_decref (sft);
    json_decref (equal);
    json_decref (close);
    json_decref (same);
}

static void
test_single_none_and_bad (void **state)
{
    (void) state;
    json_t *sft, *dpo;
    json_t *single = s_parse ("{\"id\": 1, \"instruction\": \"q\", \"responses\": [\"a\", \"b\"],"
                              " \"rewards\": [null, 2]}");
    assert_int_equal (toa_export_result (single, 0, &sft, &dpo), TOA_EXPORT_SINGLE);
    assert_non_null (sft);
    assert_null (dpo);
    json_decref (sft);
    json_t *none = s_parse ("{\"id\": 1, \"instruction\": \"q\", \"responses\": [\"a\"],"
                            " \"rewards\": [null], \"best_response\": null}");
    assert_int_equal (toa_export_result (none, 0, &sft, &dpo), TOA_EXPORT_NO_RESPONSE);
    assert_null (sft);
    assert_null (dpo);
    json_t *legacy = s_parse ("{\"id\": 1, \"instruction\": \"q\", \"best_response\": \"a\"}");
    assert_int_equal (toa_export_result (legacy, 0, &sft, &dpo), TOA_EXPORT_SINGLE);
    assert_non_null (sft);
    json_decref (sft);
    json_t *bad = s_parse ("{\"id\": 1, \"responses\": [\"a\", \"b\"], \"rewards\": [1, 0]}");
    assert_int_equal (toa_export_result (bad, 0, &sft, &dpo), TOA_EXPORT_BAD);
    assert_null (sft);
    json_decref (single);
    json_decref (none);
    json_decref (legacy);
    json_decref (bad);
}

static void
test_files (void **state)
{
    (void) state;
    char input[128], sft_path[128], dpo_path[128];
    snprintf (input, sizeof input, "/tmp/test_client_export.%d.in", (int) getpid ());
    snprintf (sft_path, sizeof sft_path, "/tmp/test_client_export.%d.sft", (int) getpid ());
    snprintf (dpo_path, sizeof dpo_path, "/tmp/test_client_export.%d.dpo", (int) getpid ());
    FILE *file = fopen (input, "w");
    fputs ("{\"id\": 1, \"instruction\": \"a\", \"responses\": [\"x\", \"y\"], \"rewards\": [1, 0]}\n"
           "\n"
           "{\"id\": 2, \"instruction\": \"b\", \"responses\": [\"x\", \"y\"], \"rewards\": [1, 1]}\n"
           "garbage\n"
           "{\"id\": 1, \"instruction\": \"a\", \"responses\": [\"x\", \"y\"], \"rewards\": [1, 0]}\n"
           "{\"id\": 3, \"instruction\": \"c\", \"responses\": [\"\\u00e9t\\u00e9\", \"y\"], "
           "\"rewards\": [0, 1]}\n", file);
    fclose (file);
    toa_export_counts_t counts;
    toa_errors_t errors = TOA_ERRORS_INIT;
    assert_int_equal (toa_export_files (input, sft_path, dpo_path, 0, &counts, &errors), 0);
    assert_int_equal (counts.results, 4);
    assert_int_equal (counts.sft, 3);
    assert_int_equal (counts.dpo, 2);
    assert_int_equal (counts.ties, 1);
    assert_int_equal (counts.duplicates, 1);
    assert_int_equal (counts.bad, 1);
    assert_int_equal (errors.count, 1);
    char where[160];
    snprintf (where, sizeof where, "%s:4: ", input);
    assert_memory_equal (errors.messages[0], where, strlen (where));
    char *dpo = toa_read_file (dpo_path, NULL);
    assert_string_equal (dpo,
        "{\"prompt\":[{\"role\":\"user\",\"content\":\"a\"}],"
        "\"chosen\":[{\"role\":\"assistant\",\"content\":\"x\"}],"
        "\"rejected\":[{\"role\":\"assistant\",\"content\":\"y\"}]}\n"
        "{\"prompt\":[{\"role\":\"user\",\"content\":\"c\"}],"
        "\"chosen\":[{\"role\":\"assistant\",\"content\":\"y\"}],"
        "\"rejected\":[{\"role\":\"assistant\",\"content\":\"\xc3\xa9t\xc3\xa9\"}]}\n");
    free (dpo);
    toa_errors_clear (&errors);
    /* a missing input is an error that names the file */
    assert_int_equal (toa_export_files ("/nonexistent/in.jsonl", sft_path, NULL, 0, &counts,
                                        &errors), -1);
    assert_non_null (strstr (errors.messages[0], "/nonexistent/in.jsonl"));
    toa_errors_clear (&errors);
    unlink (input);
    unlink (sft_path);
    unlink (dpo_path);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_instruction_pair),
        cmocka_unit_test (test_messages_prompt_and_failed_generations),
        cmocka_unit_test (test_ties_and_margin),
        cmocka_unit_test (test_single_none_and_bad),
        cmocka_unit_test (test_files),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
