/* test_prompts.c - unit tests of common/prompts: line rules with their exact
 * messages, ids, whole files, and the chat-message helpers. Run from the
 * repository root (tests/run.sh does); a whole file of 100 problems comes
 * from the simulator's generator (sim/problems). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/prompts.h"
#include "sim/problems.h"
#include "tests/unit/support/scratch.h"

static char s_dir[64];

static int
s_setup (void **state)
{
    (void) state;
    return toa_test_scratch_make (s_dir, sizeof s_dir, "toa-test-prompts");
}

static int
s_teardown (void **state)
{
    (void) state;
    return toa_test_scratch_remove (s_dir);
}

/* Writes TEXT to a file in the test directory; returns its path (static). */
static const char *
s_write (const char *name, const char *text)
{
    static char path[128];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *file = fopen (path, "wb");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
    return path;
}

/* Checks that LINE is rejected with exactly MESSAGE. */
static void
s_expect_bad (const char *line, const char *message)
{
    char reason[1024];
    json_t *prompt = (json_t *) 1;
    int rc = toa_prompts_validate_line (line, strlen (line), 1, NULL, &prompt,
                                        reason, sizeof reason);
    if (rc != -1 || strcmp (reason, message) != 0)
        fprintf (stderr, "line: %s\nexpected: %s\ngot (%d): %s\n", line, message, rc,
                 rc == -1 ? reason : "");
    assert_int_equal (rc, -1);
    assert_null (prompt);
    assert_string_equal (reason, message);
}

static json_t *
s_expect_good (const char *line)
{
    char reason[1024] = "";
    json_t *prompt = NULL;
    int rc = toa_prompts_validate_line (line, strlen (line), 1, NULL, &prompt,
                                        reason, sizeof reason);
    if (rc != 1)
        fprintf (stderr, "line: %s\nrejected: %s\n", line, reason);
    assert_int_equal (rc, 1);
    assert_true (json_is_object (prompt));
    return prompt;
}

static void
test_good_lines_keep_fields (void **state)
{
    (void) state;
    json_t *prompt = s_expect_good ("{\"id\": 7, \"instruction\": \"What is 2+2?\", "
                                    "\"gold_answer\": \"4\", \"meta\": {\"x\": [1]}}\n");
    assert_int_equal (json_integer_value (json_object_get (prompt, "id")), 7);
    assert_string_equal (json_string_value (json_object_get (prompt, "gold_answer")), "4");
    assert_non_null (json_object_get (prompt, "meta"));
    json_decref (prompt);
    prompt = s_expect_good ("{\"id\": \"q-1\", \"messages\": [{\"role\": \"system\", "
                            "\"content\": \"Be brief.\"}, {\"role\": \"user\", "
                            "\"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": "
                            "\"Hello\"}, {\"role\": \"user\", \"content\": \"Bye?\"}], "
                            "\"en\": \"ref\"}\r\n");
    assert_string_equal (toa_prompt_question (prompt), "Bye?");
    json_decref (prompt);
}

static void
test_not_json_or_not_object (void **state)
{
    (void) state;
    s_expect_bad ("{\"id\": 1, \"instruction\": }",
                  "JSON syntax error at column 26: unexpected token near '}'");
    s_expect_bad ("hello", "JSON syntax error at column 5: invalid token near 'hello'");
    s_expect_bad ("{\"id\": 1} {\"id\": 2}",
                  "JSON syntax error at column 11: end of file expected near '{'");
    s_expect_bad ("[1, 2]", "must be a JSON object, got an array");
    s_expect_bad ("\"text\"", "must be a JSON object, got \"text\"");
    s_expect_bad ("{\"id\": 1, \"id\": 2, \"instruction\": \"x\"}",
                  "JSON syntax error at column 14: duplicate object key near '\"id\"'");
}

static void
test_ids (void **state)
{
    (void) state;
    s_expect_bad ("{\"instruction\": \"x\"}", "id: required field missing");
    s_expect_bad ("{\"id\": 1.5, \"instruction\": \"x\"}",
                  "id: must be a string or an integer, got 1.5");
    s_expect_bad ("{\"id\": null, \"instruction\": \"x\"}",
                  "id: must be a string or an integer, got null");
    s_expect_bad ("{\"id\": \"\", \"instruction\": \"x\"}", "id: must not be empty");
    s_expect_bad ("{\"id\": \"a\\nb\", \"instruction\": \"x\"}",
                  "id: must not contain control characters");
    char line[600];
    snprintf (line, sizeof line, "{\"id\": \"%0257d\", \"instruction\": \"x\"}", 0);
    s_expect_bad (line, "id: must be at most 256 bytes, got 257");
    snprintf (line, sizeof line, "{\"id\": \"%0256d\", \"instruction\": \"x\"}", 0);
    json_decref (s_expect_good (line));
    /* Without room for the reason the line is still rejected. */
    json_t *rejected = NULL;
    assert_int_equal (toa_prompts_validate_line ("{\"id\": 1}", 9, 1, NULL, &rejected,
                                                 NULL, 0), -1);
    assert_null (rejected);
    json_t *prompt = s_expect_good ("{\"id\": -12, \"instruction\": \"x\"}");
    char text[TOA_PROMPTS_MAX_ID + 1];
    assert_string_equal (toa_prompt_id_text (prompt, text, sizeof text), "-12");
    json_decref (prompt);
}

static void
test_duplicate_ids (void **state)
{
    (void) state;
    toa_prompt_checker_t *checker = toa_prompt_checker_new ();
    assert_non_null (checker);
    const char *lines[] = {
        "{\"id\": 7, \"instruction\": \"a\"}",
        "{\"id\": \"x\", \"instruction\": \"b\"}",
        "{\"id\": 8, \"instruction\": \"c\"}",
        "{\"id\": 7, \"instruction\": \"d\"}",
        "{\"id\": \"7\", \"instruction\": \"e\"}",
        "{\"id\": \"x\", \"instruction\": \"f\"}",
    };
    int expected_rc[] = {1, 1, 1, -1, -1, -1};
    const char *expected_reason[] = {
        NULL, NULL, NULL,
        "id: duplicate id 7 (first on line 1)",
        "id: duplicate id \"7\" (first on line 1)",
        "id: duplicate id \"x\" (first on line 2)",
    };
    for (size_t i = 0; i < 6; i++) {
        char reason[256];
        json_t *prompt = NULL;
        int rc = toa_prompts_validate_line (lines[i], strlen (lines[i]), i + 1, checker,
                                            &prompt, reason, sizeof reason);
        assert_int_equal (rc, expected_rc[i]);
        if (rc < 0)
            assert_string_equal (reason, expected_reason[i]);
        json_decref (prompt);
    }
    toa_prompt_checker_destroy (&checker);
    assert_null (checker);
    toa_prompt_checker_destroy (&checker);
}

static void
test_instruction_and_messages_rules (void **state)
{
    (void) state;
    s_expect_bad ("{\"id\": 1}",
                  "needs \"instruction\" (a string) or \"messages\" (an array of chat "
                  "messages)");
    s_expect_bad ("{\"id\": 1, \"instruction\": \"x\", \"messages\": []}",
                  "has both \"instruction\" and \"messages\"; give one");
    s_expect_bad ("{\"id\": 1, \"instruction\": \"\"}",
                  "instruction: must be a non-empty string, got \"\"");
    s_expect_bad ("{\"id\": 1, \"instruction\": [\"x\"]}",
                  "instruction: must be a non-empty string, got an array");
    s_expect_bad ("{\"id\": 1, \"messages\": []}",
                  "messages: must be a non-empty array, got []");
    s_expect_bad ("{\"id\": 1, \"messages\": \"hi\"}",
                  "messages: must be a non-empty array, got \"hi\"");
    s_expect_bad ("{\"id\": 1, \"messages\": [\"hi\"]}",
                  "messages[0]: must be an object, got \"hi\"");
    s_expect_bad ("{\"id\": 1, \"messages\": [{\"role\": \"bot\", \"content\": \"x\"}]}",
                  "messages[0].role: must be \"system\", \"user\" or \"assistant\", got "
                  "\"bot\"");
    s_expect_bad ("{\"id\": 1, \"messages\": [{\"content\": \"x\"}]}",
                  "messages[0].role: must be \"system\", \"user\" or \"assistant\", got "
                  "nothing");
    s_expect_bad ("{\"id\": 1, \"messages\": [{\"role\": \"user\", \"content\": "
                  "[{\"type\": \"text\"}]}]}",
                  "messages[0].content: must be a string, got an array");
    s_expect_bad ("{\"id\": 1, \"messages\": [{\"role\": \"user\", \"content\": \"q\"}, "
                  "{\"role\": \"assistant\", \"content\": \"a\"}]}",
                  "messages: the last message must be from the user, got role "
                  "\"assistant\"");
    s_expect_bad ("{\"id\": 1, \"messages\": [{\"role\": \"user\", \"content\": \"\"}]}",
                  "messages[0].content: the user's question must not be empty");
    /* Several problems of one line are all named. */
    s_expect_bad ("{\"id\": 2.5, \"messages\": [{\"role\": \"bot\", \"content\": 1}]}",
                  "id: must be a string or an integer, got 2.5; messages[0].role: must be "
                  "\"system\", \"user\" or \"assistant\", got \"bot\"; messages[0].content: "
                  "must be a string, got 1");
}

static void
test_blank_and_long_lines (void **state)
{
    (void) state;
    const char *blanks[] = {"", "\n", "   \t \r\n", "\r"};
    for (size_t i = 0; i < 4; i++) {
        char reason[64];
        json_t *prompt = NULL;
        assert_int_equal (toa_prompts_validate_line (blanks[i], strlen (blanks[i]), 1,
                                                     NULL, &prompt, reason, sizeof reason),
                          0);
        assert_null (prompt);
    }
    size_t length = TOA_PROMPTS_MAX_LINE + 1;
    char *line = malloc (length);
    assert_non_null (line);
    memset (line, ' ', length);
    char reason[128];
    json_t *prompt = NULL;
    assert_int_equal (toa_prompts_validate_line (line, length, 1, NULL, &prompt, reason,
                                                 sizeof reason), -1);
    assert_string_equal (reason, "the line is longer than 16 MiB (16777217 bytes)");
    free (line);
}

static void
test_read_good_file (void **state)
{
    (void) state;
    const char *path = s_write ("good.jsonl",
                                "\xEF\xBB\xBF{\"id\": 1, \"instruction\": \"a\"}\n"
                                "\n"
                                "   \n"
                                "{\"id\": 2, \"instruction\": \"b\", \"x\": 1}\r\n"
                                "{\"id\": \"three\", \"messages\": [{\"role\": \"user\", "
                                "\"content\": \"c\"}]}");
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_prompt_file_t *file = toa_prompts_read_file (path, &errors);
    toa_errors_print (&errors, stderr);
    assert_non_null (file);
    assert_int_equal (errors.count, 0);
    assert_int_equal (file->count, 3);
    assert_int_equal (file->lines[0].line_no, 1);
    assert_string_equal (file->lines[0].text, "{\"id\": 1, \"instruction\": \"a\"}");
    assert_int_equal (file->lines[1].line_no, 4);
    assert_string_equal (file->lines[1].text, "{\"id\": 2, \"instruction\": \"b\", \"x\": 1}");
    assert_int_equal (file->lines[1].length, strlen (file->lines[1].text));
    assert_int_equal (file->lines[2].line_no, 5);
    toa_prompt_file_destroy (&file);
    assert_null (file);
    toa_prompt_file_destroy (&file);
}

static void
test_read_bad_file_reports_every_line (void **state)
{
    (void) state;
    const char *path = s_write ("bad.jsonl",
                                "{\"id\": 1, \"instruction\": \"a\"}\n"
                                "{\"id\": 1, \"instruction\": \"b\"}\n"
                                "not json\n"
                                "\n"
                                "{\"instruction\": \"c\"}\n"
                                "{\"id\": 4}\n"
                                "{\"id\": 5, \"instruction\": \"e\"}\n");
    char expected[5][256];
    snprintf (expected[0], 256, "%s:2: id: duplicate id 1 (first on line 1)", path);
    snprintf (expected[1], 256, "%s:3: JSON syntax error at column 3: invalid token near "
              "'not'", path);
    snprintf (expected[2], 256, "%s:5: id: required field missing", path);
    snprintf (expected[3], 256, "%s:6: needs \"instruction\" (a string) or \"messages\" "
              "(an array of chat messages)", path);
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_prompt_file_t *file = toa_prompts_read_file (path, &errors);
    assert_null (file);
    assert_int_equal (errors.count, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal (errors.messages[i], expected[i]);
    toa_errors_clear (&errors);
}

static void
test_empty_and_missing_files (void **state)
{
    (void) state;
    const char *texts[] = {"", "\n\n  \n"};
    for (size_t i = 0; i < 2; i++) {
        const char *path = s_write ("empty.jsonl", texts[i]);
        char expected[256];
        snprintf (expected, sizeof expected, "%s: no prompts (the file is empty or has "
                  "only blank lines)", path);
        toa_errors_t errors = TOA_ERRORS_INIT;
        assert_null (toa_prompts_read_file (path, &errors));
        assert_int_equal (errors.count, 1);
        assert_string_equal (errors.messages[0], expected);
        toa_errors_clear (&errors);
    }
    toa_errors_t errors = TOA_ERRORS_INIT;
    assert_null (toa_prompts_read_file ("tests/unit/data/no-such.jsonl", &errors));
    assert_int_equal (errors.count, 1);
    assert_string_equal (errors.messages[0], "tests/unit/data/no-such.jsonl: cannot read: "
                                             "No such file or directory");
    toa_errors_clear (&errors);
}

/* 100 generated math problems, GSM8K's shape, read as a prompt file. */
static void
test_generated_problems_file (void **state)
{
    (void) state;
    char path[128];
    snprintf (path, sizeof path, "%s/problems.jsonl", s_dir);
    FILE *out = fopen (path, "wb");
    assert_non_null (out);
    assert_int_equal (toa_sim_problems_write (out, 100, 1, NULL, 0), 0);
    assert_int_equal (fclose (out), 0);
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_prompt_file_t *file = toa_prompts_read_file (path, &errors);
    toa_errors_print (&errors, stderr);
    assert_non_null (file);
    assert_int_equal (file->count, 100);
    json_error_t error;
    json_t *first = json_loads (file->lines[0].text, 0, &error);
    assert_non_null (first);
    assert_non_null (toa_prompt_question (first));
    assert_true (json_is_string (json_object_get (first, "gold_answer")));
    json_decref (first);
    toa_prompt_file_destroy (&file);
}

static void
test_messages_and_question (void **state)
{
    (void) state;
    json_t *prompt = s_expect_good ("{\"id\": 1, \"instruction\": \"Add 2 and 2.\"}");
    assert_string_equal (toa_prompt_question (prompt), "Add 2 and 2.");
    json_t *messages = toa_prompt_messages (prompt, NULL);
    json_t *expected = json_loads ("[{\"role\": \"user\", \"content\": \"Add 2 and 2.\"}]",
                                   0, NULL);
    assert_true (json_equal (messages, expected));
    json_decref (messages);
    json_decref (expected);
    messages = toa_prompt_messages (prompt, "Be exact.");
    expected = json_loads ("[{\"role\": \"system\", \"content\": \"Be exact.\"}, "
                           "{\"role\": \"user\", \"content\": \"Add 2 and 2.\"}]", 0, NULL);
    assert_true (json_equal (messages, expected));
    json_decref (messages);
    json_decref (expected);
    json_decref (prompt);

    /* A chat prompt: its own system message wins over the template. */
    prompt = s_expect_good ("{\"id\": 2, \"messages\": [{\"role\": \"system\", \"content\": "
                            "\"S\"}, {\"role\": \"user\", \"content\": \"Q1\"}, {\"role\": "
                            "\"assistant\", \"content\": \"A1\", \"name\": \"x\"}, "
                            "{\"role\": \"user\", \"content\": \"Q2\"}]}");
    assert_string_equal (toa_prompt_question (prompt), "Q2");
    messages = toa_prompt_messages (prompt, "Be exact.");
    expected = json_loads ("[{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", "
                           "\"content\": \"Q1\"}, {\"role\": \"assistant\", \"content\": "
                           "\"A1\"}, {\"role\": \"user\", \"content\": \"Q2\"}]", 0, NULL);
    assert_true (json_equal (messages, expected));
    json_decref (messages);
    json_decref (expected);
    json_decref (prompt);

    prompt = s_expect_good ("{\"id\": 3, \"messages\": [{\"role\": \"user\", \"content\": "
                            "\"Q\"}]}");
    messages = toa_prompt_messages (prompt, "T");
    assert_int_equal (json_array_size (messages), 2);
    assert_string_equal (json_string_value (json_object_get (json_array_get (messages, 0),
                                                             "role")), "system");
    json_decref (messages);
    json_decref (prompt);

    json_t *empty = json_object ();
    assert_null (toa_prompt_messages (empty, NULL));
    assert_null (toa_prompt_question (empty));
    char text[16];
    assert_null (toa_prompt_id_text (empty, text, sizeof text));
    json_decref (empty);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_good_lines_keep_fields),
        cmocka_unit_test (test_not_json_or_not_object),
        cmocka_unit_test (test_ids),
        cmocka_unit_test (test_duplicate_ids),
        cmocka_unit_test (test_instruction_and_messages_rules),
        cmocka_unit_test (test_blank_and_long_lines),
        cmocka_unit_test (test_read_good_file),
        cmocka_unit_test (test_read_bad_file_reports_every_line),
        cmocka_unit_test (test_empty_and_missing_files),
        cmocka_unit_test (test_generated_problems_file),
        cmocka_unit_test (test_messages_and_question),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
