/* test_client_compare.c - unit tests of `toa compare`'s pure parts
 * (client/compare.c): budget and method lists, measuring a results file,
 * quality, the table, the CSV and the gnuplot script. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/compare.h"

static void
test_parse_budgets (void **state)
{
    (void) state;
    int budgets[TOA_COMPARE_MAX_BUDGETS];
    toa_errors_t errors = TOA_ERRORS_INIT;
    assert_int_equal (toa_compare_parse_budgets ("1,2,4,8,16", budgets, &errors), 5);
    assert_int_equal (budgets[0], 1);
    assert_int_equal (budgets[4], 16);
    assert_int_equal (toa_compare_parse_budgets ("3", budgets, &errors), 1);
    assert_int_equal (errors.count, 0);
    const char *bad[] = {"", "0", "1,,2", "1,2,", "a", "-1", "1,1", "100001", "2 ,3", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal (toa_compare_parse_budgets (bad[i], budgets, &errors), -1);
        assert_int_equal (errors.count, i + 1);
    }
    assert_non_null (strstr (errors.messages[6], "appears twice"));
    toa_errors_clear (&errors);
}

static void
test_parse_methods (void **state)
{
    (void) state;
    const char *methods[TOA_COMPARE_MAX_METHODS];
    toa_errors_t errors = TOA_ERRORS_INIT;
    assert_int_equal (toa_compare_parse_methods ("all", methods, &errors), 6);
    assert_string_equal (methods[0], "toa");
    assert_string_equal (methods[5], "moa");
    assert_int_equal (toa_compare_parse_methods ("moa,prs", methods, &errors), 2);
    assert_string_equal (methods[0], "moa");
    assert_string_equal (methods[1], "prs");
    assert_int_equal (errors.count, 0);
    assert_int_equal (toa_compare_parse_methods ("toa,tao", methods, &errors), -1);
    assert_non_null (strstr (errors.messages[0], "unknown method 'tao'"));
    assert_int_equal (toa_compare_parse_methods ("toa,toa", methods, &errors), -1);
    assert_int_equal (toa_compare_parse_methods ("", methods, &errors), -1);
    assert_int_equal (toa_compare_parse_methods ("toa,", methods, &errors), -1);
    assert_int_equal (errors.count, 4);
    toa_errors_clear (&errors);
}

static char *
s_temp_file (const char *content)
{
    char *path = strdup ("/tmp/test_client_compare.XXXXXX");
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, content, strlen (content)), (ssize_t) strlen (content));
    close (fd);
    return path;
}

static void
test_measure (void **state)
{
    (void) state;
    /* Three prompts: 3 + 3 + 2 responses; one unscored; best rewards 1, 0.5
     * and none. */
    char *path = s_temp_file (
        "{\"id\":1,\"responses\":[\"a\",\"b\",\"c\"],\"rewards\":[1.0,0.0,-1.0],"
        "\"best_reward\":1.0}\n"
        "\n"
        "{\"id\":2,\"responses\":[\"a\",\"b\",\"c\"],\"rewards\":[0.5,null,0.25],"
        "\"best_reward\":0.5}\n"
        "{\"id\":3,\"responses\":[null,null],\"rewards\":[null,null],\"best_reward\":null}\n");
    toa_compare_row_t row = {.method = "toa", .budget = 1, .wall_s = 2.5};
    toa_errors_t errors = TOA_ERRORS_INIT;
    assert_int_equal (toa_compare_measure (path, &row, &errors), 0);
    assert_int_equal (row.prompts, 3);
    assert_true (row.generations > 2.66 && row.generations < 2.67);
    assert_int_equal (row.best_correct, 1);
    assert_int_equal (row.unscored, 3);
    assert_true (row.mean_best_reward == 0.75);
    assert_true (row.mean_reward == 0.15);   /* (1 + 0 - 1 + 0.5 + 0.25) / 5 */
    assert_true (toa_compare_quality (&row, true) > 0.333
                 && toa_compare_quality (&row, true) < 0.334);
    assert_true (toa_compare_quality (&row, false) == 0.75);
    assert_string_equal (row.method, "toa");
    assert_true (row.wall_s == 2.5);
    unlink (path);
    free (path);
    /* A line that is not a result, and a missing file. */
    path = s_temp_file ("{\"id\":1,\"responses\":[],\"rewards\":[]}\nnot json\n");
    assert_int_equal (toa_compare_measure (path, &row, &errors), -1);
    assert_non_null (strstr (errors.messages[0], ":2: not a result line"));
    unlink (path);
    assert_int_equal (toa_compare_measure (path, &row, &errors), -1);
    assert_int_equal (errors.count, 2);
    free (path);
    toa_errors_clear (&errors);
}

/* The output of EMIT as a string (malloc'd). */
static char *
s_capture (int (*emit) (FILE *, const toa_compare_row_t *, size_t, bool),
           const toa_compare_row_t *rows, size_t n, bool accuracy)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&buf, &size);
    assert_non_null (out);
    assert_int_equal (emit (out, rows, n, accuracy), 0);
    fclose (out);
    return buf;
}

static int
s_table (FILE *out, const toa_compare_row_t *rows, size_t n, bool accuracy)
{
    toa_compare_print_table (out, rows, n, accuracy);
    return 0;
}

static const toa_compare_row_t s_rows[] = {
    {.method = "toa", .budget = 1, .prompts = 4, .generations = 3, .best_correct = 1,
     .mean_best_reward = 0.5, .mean_reward = 0.25, .wall_s = 1.25},
    {.method = "toa", .budget = 2, .prompts = 4, .generations = 6, .best_correct = 3,
     .mean_best_reward = 0.75, .mean_reward = 0.5, .wall_s = 2},
    {.method = "prs", .budget = 1, .prompts = 4, .generations = 3, .best_correct = 2,
     .mean_best_reward = 0.6, .mean_reward = 0.3, .wall_s = 1},
    {.method = "moa", .budget = 1, .prompts = 0, .exit_code = 3},
};

static void
test_table_and_csv (void **state)
{
    (void) state;
    char *table = s_capture (s_table, s_rows, 4, true);
    assert_non_null (strstr (table, "best correct"));
    assert_non_null (strstr (table, "75.0%"));
    assert_non_null (strstr (table, "(run failed)"));
    free (table);
    table = s_capture (s_table, s_rows, 4, false);
    assert_non_null (strstr (table, "best reward"));
    assert_non_null (strstr (table, "0.7500"));
    free (table);
    char *csv = s_capture (toa_compare_write_csv, s_rows, 4, true);
    char *lines[8];
    int n = 0;
    for (char *save = NULL, *line = strtok_r (csv, "\n", &save); line && n < 8;
         line = strtok_r (NULL, "\n", &save))
        lines[n++] = line;
    assert_int_equal (n, 5);
    assert_string_equal (lines[0], "method,budget,prompts,generations_per_prompt,metric,quality,"
                                   "best_correct,mean_best_reward,mean_reward,unscored,"
                                   "wall_seconds,exit_code,mode");
    assert_string_equal (lines[2], "toa,2,4,6.0000,best_correct_share,0.750000,3,0.750000,"
                                   "0.500000,0,2.000,0,fixed");
    assert_string_equal (lines[4], "moa,1,0,0.0000,best_correct_share,0.000000,0,0.000000,"
                                   "0.000000,0,0.000,3,fixed");
    free (csv);
    csv = s_capture (toa_compare_write_csv, s_rows, 1, false);
    assert_non_null (strstr (csv, "toa,1,4,3.0000,mean_best_reward,0.500000,"));
    free (csv);
}

static void
test_budget_modes (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_compare_mode_t modes[TOA_COMPARE_MAX_MODES];
    assert_int_equal (toa_compare_parse_modes ("fixed,job", modes, &errors), 2);
    assert_int_equal (modes[0], TOA_COMPARE_FIXED);
    assert_int_equal (modes[1], TOA_COMPARE_JOB);
    assert_int_equal (toa_compare_parse_modes ("stop", modes, &errors), 1);
    assert_int_equal (modes[0], TOA_COMPARE_STOP);
    assert_int_equal (toa_compare_parse_modes ("job,job", modes, &errors), -1);
    assert_int_equal (toa_compare_parse_modes ("fixed,pooled", modes, &errors), -1);
    assert_int_equal (errors.count, 2);
    assert_non_null (strstr (errors.messages[1], "unknown mode 'pooled'"));
    toa_errors_clear (&errors);
    /* Fixed against job-wide: a mode column, a CSV mode, a line each. */
    toa_compare_row_t rows[] = {
        {.method = "toa", .budget = 1, .prompts = 4, .generations = 3, .best_correct = 2},
        {.method = "toa", .budget = 1, .mode = TOA_COMPARE_JOB, .prompts = 4,
         .generations = 2.5, .best_correct = 3},
    };
    char *table = s_capture (s_table, rows, 2, true);
    assert_non_null (strstr (table, "mode"));
    assert_non_null (strstr (table, "toa         job        1"));
    free (table);
    char *csv = s_capture (toa_compare_write_csv, rows, 2, true);
    assert_non_null (strstr (csv, ",0,job\n"));
    free (csv);
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&buf, &size);
    assert_int_equal (toa_compare_write_plot (out, rows, 2, true, "png", "x.png", "t"), 0);
    fclose (out);
    assert_non_null (strstr (buf, "$d1 << EOD\n2.5000 0.750000\nEOD\n"));
    assert_non_null (strstr (buf, "title 'toa (job-wide budget)'"));
    assert_non_null (strstr (buf, "dashtype 2"));
    free (buf);
}

static void
test_plot_script (void **state)
{
    (void) state;
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&buf, &size);
    assert_int_equal (toa_compare_write_plot (out, s_rows, 4, true, "pngcairo", "d/it's.png",
                                              "gsm8k"), 0);
    fclose (out);
    assert_non_null (strstr (buf, "set terminal pngcairo"));
    assert_non_null (strstr (buf, "set output 'd/it''s.png'"));
    /* One block per method with a finished run: toa (2 points), prs; not moa. */
    assert_non_null (strstr (buf, "$d0 << EOD\n3.0000 0.250000\n6.0000 0.750000\nEOD\n"));
    assert_non_null (strstr (buf, "$d1 << EOD\n3.0000 0.500000\nEOD\n"));
    assert_null (strstr (buf, "$d2"));
    assert_non_null (strstr (buf, "title 'toa'"));
    assert_non_null (strstr (buf, "title 'prs'"));
    assert_null (strstr (buf, "'moa'"));
    free (buf);
    /* Nothing finished: still a valid script. */
    buf = NULL;
    out = open_memstream (&buf, &size);
    assert_int_equal (toa_compare_write_plot (out, s_rows + 3, 1, false, "png", "x.png", "t"),
                      0);
    fclose (out);
    assert_non_null (strstr (buf, "plot NaN"));
    assert_non_null (strstr (buf, "mean reward of the best response"));
    free (buf);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_budgets),
        cmocka_unit_test (test_parse_methods),
        cmocka_unit_test (test_measure),
        cmocka_unit_test (test_table_and_csv),
        cmocka_unit_test (test_plot_script),
        cmocka_unit_test (test_budget_modes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
