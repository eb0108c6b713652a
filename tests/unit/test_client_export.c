/* test_client_export.c - SFT and DPO lines from result lines: shapes TRL
 * reads, the rejected rules (the paper's K/N = 30/160, worst, rank:K,
 * quantile:Q) with known numbers, ties, margin, failed generations; files
 * written through a temporary file, existing ones kept without force. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/export.h"
#include "common/util.h"

static const toa_export_options_t s_worst = {.rejected = TOA_EXPORT_REJECT_WORST};

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
    assert_int_equal (toa_export_result (result, &s_worst, &sft, &dpo), TOA_EXPORT_PAIR);
    s_assert_json (sft, "{\"messages\": [{\"role\": \"user\", \"content\": \"Say hi\"},"
                        " {\"role\": \"assistant\", \"content\": \"hello\"}]}");
    s_assert_json (dpo, "{\"prompt\": [{\"role\": \"user\", \"content\": \"Say hi\"}],"
                        " \"chosen\": [{\"role\": \"assistant\", \"content\": \"hello\"}],"
                        " \"rejected\": [{\"role\": \"assistant\", \"content\": \"yo\"}],"
                        " \"chosen_rating\": 0.9, \"rejected_rating\": 0.1,"
                        " \"chosen_model\": null, \"rejected_model\": null}");
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
    assert_int_equal (toa_export_result (result, &s_worst, &sft, &dpo), TOA_EXPORT_PAIR);
    s_assert_json (sft, "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief\"},"
                        " {\"role\": \"user\", \"content\": \"2+2?\"},"
                        " {\"role\": \"assistant\", \"content\": \"4\"}]}");
    s_assert_json (dpo, "{\"prompt\": [{\"role\": \"system\", \"content\": \"Be brief\"},"
                        " {\"role\": \"user\", \"content\": \"2+2?\"}],"
                        " \"chosen\": [{\"role\": \"assistant\", \"content\": \"4\"}],"
                        " \"rejected\": [{\"role\": \"assistant\", \"content\": \"5\"}],"
                        " \"chosen_rating\": 1.0, \"rejected_rating\": 0.0,"
                        " \"chosen_model\": null, \"rejected_model\": null}");
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
    assert_int_equal (toa_export_result (equal, &s_worst, &sft, &dpo), TOA_EXPORT_TIE);
    assert_non_null (sft);
    assert_null (dpo);
    s_assert_json (sft, "{\"messages\": [{\"role\": \"user\", \"content\": \"q\"},"
                        " {\"role\": \"assistant\", \"content\": \"a\"}]}");  /* first of equals */
    json_decref (sft);

    json_t *close = s_parse ("{\"id\": 2, \"instruction\": \"q\", \"responses\": [\"a\", \"b\"],"
                             " \"rewards\": [0.30, 0.35]}");
    toa_export_options_t margin = s_worst;
    margin.min_margin = 0.1;
    assert_int_equal (toa_export_result (close, &margin, &sft, &dpo), TOA_EXPORT_TIE);
    assert_null (dpo);
    json_decref (sft);
    margin.min_margin = 0.01;
    assert_int_equal (toa_export_result (close, &margin, &sft, &dpo), TOA_EXPORT_PAIR);
    assert_non_null (dpo);
    json_decref (sft);
    json_decref (dpo);

    /* same text, different rewards: not a preference */
    json_t *same = s_parse ("{\"id\": 3, \"instruction\": \"q\", \"responses\": [\"a\", \"a\"],"
                            " \"rewards\": [0.1, 0.9]}");
    assert_int_equal (toa_export_result (same, &s_worst, &sft, &dpo), TOA_EXPORT_TIE);
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
    assert_int_equal (toa_export_result (single, &s_worst, &sft, &dpo), TOA_EXPORT_SINGLE);
    assert_non_null (sft);
    assert_null (dpo);
    json_decref (sft);
    json_t *none = s_parse ("{\"id\": 1, \"instruction\": \"q\", \"responses\": [\"a\"],"
                            " \"rewards\": [null], \"best_response\": null}");
    assert_int_equal (toa_export_result (none, &s_worst, &sft, &dpo), TOA_EXPORT_NO_RESPONSE);
    assert_null (sft);
    assert_null (dpo);
    json_t *legacy = s_parse ("{\"id\": 1, \"instruction\": \"q\", \"best_response\": \"a\"}");
    assert_int_equal (toa_export_result (legacy, &s_worst, &sft, &dpo), TOA_EXPORT_SINGLE);
    assert_non_null (sft);
    json_decref (sft);
    json_t *bad = s_parse ("{\"id\": 1, \"responses\": [\"a\", \"b\"], \"rewards\": [1, 0]}");
    assert_int_equal (toa_export_result (bad, &s_worst, &sft, &dpo), TOA_EXPORT_BAD);
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
    assert_int_equal (toa_export_files (input, sft_path, dpo_path, &s_worst, &counts, &errors),
                      0);
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
        "\"rejected\":[{\"role\":\"assistant\",\"content\":\"y\"}],"
        "\"chosen_rating\":1.0,\"rejected_rating\":0.0,\"chosen_model\":null,"
        "\"rejected_model\":null}\n"
        "{\"prompt\":[{\"role\":\"user\",\"content\":\"c\"}],"
        "\"chosen\":[{\"role\":\"assistant\",\"content\":\"y\"}],"
        "\"rejected\":[{\"role\":\"assistant\",\"content\":\"\xc3\xa9t\xc3\xa9\"}],"
        "\"chosen_rating\":1.0,\"rejected_rating\":0.0,\"chosen_model\":null,"
        "\"rejected_model\":null}\n");
    free (dpo);
    toa_errors_clear (&errors);
    /* a missing input is an error that names the file */
    assert_int_equal (toa_export_files ("/nonexistent/in.jsonl", sft_path, NULL, &s_worst,
                                        &counts, &errors), -1);
    assert_non_null (strstr (errors.messages[0], "/nonexistent/in.jsonl"));
    toa_errors_clear (&errors);
    unlink (input);
    unlink (sft_path);
    unlink (dpo_path);
}

/* Twelve scored responses (rewards 12 down to 1 in a shuffled order, one
 * failed generation) from three models. */
static const char *s_twelve =
    "{\"id\": 9, \"instruction\": \"q\","
    " \"responses\": [\"r7\", \"r12\", null, \"r1\", \"r9\", \"r3\", \"r10\", \"r5\","
    " \"r11\", \"r2\", \"r8\", \"r4\", \"r6\"],"
    " \"rewards\": [7, 12, null, 1, 9, 3, 10, 5, 11, 2, 8, 4, 6],"
    " \"actions\": [{\"model\": \"a\"}, {\"model\": \"b\"}, {\"model\": \"c\"},"
    " {\"model\": \"a\"}, {\"model\": \"b\"}, {\"model\": \"c\"}, {\"model\": \"a\"},"
    " {\"model\": \"b\"}, {\"model\": \"c\"}, {\"model\": \"a\"}, {\"model\": \"b\"},"
    " {\"model\": \"c\"}, {\"model\": \"a\"}]}";

/* The rejected response of S_TWELVE under RULE: its text, rating, model. */
static void
s_expect_rejected (const char *rule, const char *text, double rating, const char *model)
{
    toa_export_options_t options = {0};
    if (rule)
        assert_int_equal (toa_export_parse_rejected (rule, &options), 0);
    json_t *result = s_parse (s_twelve);
    json_t *sft, *dpo;
    assert_int_equal (toa_export_result (result, &options, &sft, &dpo), TOA_EXPORT_PAIR);
    assert_string_equal (json_string_value (json_object_get (
                             json_array_get (json_object_get (dpo, "chosen"), 0), "content")),
                         "r12");
    assert_true (json_real_value (json_object_get (dpo, "chosen_rating")) == 12);
    assert_string_equal (json_string_value (json_object_get (dpo, "chosen_model")), "b");
    assert_string_equal (json_string_value (json_object_get (
                             json_array_get (json_object_get (dpo, "rejected"), 0), "content")),
                         text);
    assert_true (json_real_value (json_object_get (dpo, "rejected_rating")) == rating);
    assert_string_equal (json_string_value (json_object_get (dpo, "rejected_model")), model);
    json_decref (sft);
    json_decref (dpo);
    json_decref (result);
}

static void
test_rejected_rules (void **state)
{
    (void) state;
    /* the paper's: K = ceil(12 x 30/160) = ceil(2.25) = 3: the third best, 10 */
    s_expect_rejected (NULL, "r10", 10, "a");
    s_expect_rejected ("paper", "r10", 10, "a");
    s_expect_rejected ("worst", "r1", 1, "a");
    s_expect_rejected ("rank:5", "r8", 8, "b");
    s_expect_rejected ("rank:40", "r1", 1, "a");           /* fewer than K: the worst */
    /* quantile: rank 1 + ceil(Q x 11): 0.5 -> 7 (reward 6), 0.01 -> 2, 1 -> 12 */
    s_expect_rejected ("quantile:0.5", "r6", 6, "a");
    s_expect_rejected ("quantile:0.01", "r11", 11, "c");
    s_expect_rejected ("quantile:1", "r1", 1, "a");
    /* the margin applies to chosen - rejected: 12 - 10 = 2 */
    toa_export_options_t options = {.min_margin = 2};
    json_t *result = s_parse (s_twelve);
    json_t *sft, *dpo;
    assert_int_equal (toa_export_result (result, &options, &sft, &dpo), TOA_EXPORT_TIE);
    assert_null (dpo);
    json_decref (sft);
    options.min_margin = 1.99;
    assert_int_equal (toa_export_result (result, &options, &sft, &dpo), TOA_EXPORT_PAIR);
    json_decref (sft);
    json_decref (dpo);
    json_decref (result);
}

static void
test_rejected_rank (void **state)
{
    (void) state;
    toa_export_options_t paper = {.rejected = TOA_EXPORT_REJECT_PAPER};
    assert_int_equal (toa_export_rejected_rank (&paper, 160), 30);
    assert_int_equal (toa_export_rejected_rank (&paper, 161), 31);
    assert_int_equal (toa_export_rejected_rank (&paper, 12), 3);
    assert_int_equal (toa_export_rejected_rank (&paper, 6), 2);
    assert_int_equal (toa_export_rejected_rank (&paper, 2), 2);
    assert_int_equal (toa_export_rejected_rank (&paper, 1), 1);
    toa_export_options_t options = {0};
    const char *bad[] = {"best", "rank:1", "rank:0", "rank:x", "rank:", "quantile:0",
                         "quantile:1.5", "quantile:-1", "quantile:", "worst "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal (toa_export_parse_rejected (bad[i], &options), -1);
    assert_int_equal (toa_export_parse_rejected ("quantile:0.25", &options), 0);
    assert_int_equal (toa_export_rejected_rank (&options, 9), 3);   /* 1 + ceil(0.25 x 8) */
}

/* True when some file in /tmp starts with PREFIX (a temporary left over). */
static bool
s_leftover (const char *prefix)
{
    char command[256];
    snprintf (command, sizeof command, "ls %s* >/dev/null 2>&1", prefix);
    return system (command) == 0;
}

static void
test_files_safety (void **state)
{
    (void) state;
    char input[128], out[128], other[128], link_path[128], bad[160];
    int pid = (int) getpid ();
    snprintf (input, sizeof input, "/tmp/test_export_safety.%d.in", pid);
    snprintf (out, sizeof out, "/tmp/test_export_safety.%d.out", pid);
    snprintf (other, sizeof other, "/tmp/test_export_safety.%d.other", pid);
    snprintf (link_path, sizeof link_path, "/tmp/test_export_safety.%d.link", pid);
    snprintf (bad, sizeof bad, "/tmp/test_export_safety.%d.missing/dpo.jsonl", pid);
    FILE *file = fopen (input, "w");
    for (int i = 0; i < 200; i++)
        fprintf (file, "{\"id\": %d, \"instruction\": \"q\", \"responses\": [\"x\", \"y\"],"
                 " \"rewards\": [1, 0]}\n", i);
    fclose (file);
    toa_export_options_t options = {0};
    toa_export_counts_t counts;
    toa_errors_t errors = TOA_ERRORS_INIT;

    /* an existing output is kept without force, replaced with it */
    file = fopen (out, "w");
    fputs ("keep me\n", file);
    fclose (file);
    assert_int_equal (toa_export_files (input, out, NULL, &options, &counts, &errors), -1);
    assert_non_null (strstr (errors.messages[0], "--force"));
    toa_errors_clear (&errors);
    char *text = toa_read_file (out, NULL);
    assert_string_equal (text, "keep me\n");
    free (text);
    options.force = true;
    assert_int_equal (toa_export_files (input, out, NULL, &options, &counts, &errors), 0);
    assert_int_equal (counts.sft, 200);

    /* a symlink is never written through: refused, or replaced itself */
    file = fopen (other, "w");
    fputs ("target\n", file);
    fclose (file);
    assert_int_equal (symlink (other, link_path), 0);
    options.force = false;
    assert_int_equal (toa_export_files (input, link_path, NULL, &options, &counts, &errors), -1);
    toa_errors_clear (&errors);
    options.force = true;
    assert_int_equal (toa_export_files (input, link_path, NULL, &options, &counts, &errors), 0);
    text = toa_read_file (other, NULL);
    assert_string_equal (text, "target\n");
    free (text);
    struct stat st;
    assert_int_equal (lstat (link_path, &st), 0);
    assert_true (S_ISREG (st.st_mode));

    /* one output that cannot be written: neither file appears */
    unlink (out);
    assert_int_equal (toa_export_files (input, out, bad, &options, &counts, &errors), -1);
    toa_errors_clear (&errors);
    assert_int_equal (access (out, F_OK), -1);

    /* a write that fails midway (file size limit) leaves no file at all */
    struct rlimit saved, small = {.rlim_cur = 1000, .rlim_max = RLIM_INFINITY};
    getrlimit (RLIMIT_FSIZE, &saved);
    small.rlim_max = saved.rlim_max;
    signal (SIGXFSZ, SIG_IGN);
    assert_int_equal (setrlimit (RLIMIT_FSIZE, &small), 0);
    int rc = toa_export_files (input, out, NULL, &options, &counts, &errors);
    setrlimit (RLIMIT_FSIZE, &saved);
    assert_int_equal (rc, -1);
    assert_true (errors.count > 0);
    toa_errors_clear (&errors);
    assert_int_equal (access (out, F_OK), -1);
    char prefix[160];
    snprintf (prefix, sizeof prefix, "%s.tmp.", out);
    assert_false (s_leftover (prefix));
    unlink (input);
    unlink (other);
    unlink (link_path);
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
        cmocka_unit_test (test_rejected_rules),
        cmocka_unit_test (test_rejected_rank),
        cmocka_unit_test (test_files_safety),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
