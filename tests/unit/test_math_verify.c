/* test_math_verify.c - scorer/math_verify: answer extraction, number
 * parsing, verification against gold answers (a table of cases), hostile
 * 1 MB inputs, and the GSM8K-style gold responses ("<<12*33=396>>396",
 * "$<<...>>", "#### N") of 500 problems from the simulator's generator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "scorer/math_verify.h"
#include "sim/problems.h"

typedef struct {
    const char *response;
    const char *gold;
    double expected;
} verify_case_t;

static const verify_case_t s_verify_cases [] = {
    /* GSM8K "####" */
    { "#### 42", "42", 1 },
    { "3 * 14 = 42\n#### 42", "42", 1 },
    { "First try #### 41\nOops, fixed:\n#### 42", "42", 1 },    /* last #### */
    { "First try #### 41\nOops, fixed:\n#### 42", "41", 0 },
    { "#### $1,234.00", "1234", 1 },
    { "#### 1,234", "1,234", 1 },                                  /* gold with comma */
    { "#### 1,234,567", "1234567", 1 },
    { "#### -3", "-3", 1 },
    { "#### +7", "7", 1 },
    { "#### 5", "5.00", 1 },
    { "#### 42 apples", "42", 1 },
    { "#### 42", "43", 0 },
    { "#### 1000001", "1000000", 0 },                              /* integers exact */
    { "#### 7\nso the answer is \\boxed{8}", "7", 1 },             /* #### beats \boxed */
    { "#### Step 1\nWe get 3.\n#### Result\n\\boxed{3}", "3", 1 }, /* headings are no answers */
    /* \boxed */
    { "\\boxed{42}", "42", 1 },
    { "Thus $\\boxed{\\frac{1}{2}}$.", "0.5", 1 },
    { "\\boxed{\\dfrac{3}{4}}", "0.75", 1 },
    { "\\boxed{\\frac{1}{3}}", "0.333333333", 1 },
    { "\\boxed{0.33}", "1/3", 0 },
    { "\\boxed{1{,}000}", "1000", 1 },
    { "\\boxed{12.5\\%}", "12.5", 1 },
    { "\\boxed{x = 5}", "5", 1 },
    { "\\boxed{\\text{5 dollars}}", "5", 1 },
    { "\\boxed{\\$18}", "18", 1 },
    { "First \\boxed{3}, corrected: \\boxed{4}", "4", 1 },         /* last \boxed */
    { "\\boxed{8}\nThe answer is 9", "8", 1 },                     /* \boxed beats phrase */
    { "\\boxed{}\nThe answer is 3", "3", 1 },                      /* empty \boxed skipped */
    { "\\boxed{12", "12", 1 },                 /* unbalanced: falls to the last number */
    { "\\boxed{1,5}", "1.5", 0 },              /* no decimal commas */
    { "\\boxed{\\text{Paris}}", "paris", 1 },
    { "\\boxed{x + 1}", "x+1", 1 },
    /* phrases */
    { "The answer is 42.", "42", 1 },
    { "So the final answer is: $42$", "42", 1 },
    { "Answer: 42", "42", 1 },
    { "ANSWER: 42", "42", 1 },
    { "**Answer:** 17", "17", 1 },
    { "The answer is -3.", "-3", 1 },
    { "The answer is 5.0", "5", 1 },
    { "The answer is $\\frac{3}{4}$", "3/4", 1 },
    { "The answer is 7. Check: 3 + 4 = 7, and 7 * 2 = 14.", "7", 1 },  /* phrase beats later numbers */
    { "The answer is 7. Check: 3 + 4 = 7, and 7 * 2 = 14.", "14", 0 },
    { "The answer is 5. Wait, the answer is 6.", "6", 1 },        /* last phrase */
    { "3 - 4 = -1, so the answer is 1", "1", 1 },
    { "The answer is B.", "B", 1 },
    { "Answer: yes", "Yes.", 1 },
    { "The answer is Lyon", "Paris", 0 },
    { "The answer isn't 5, it is 6", "6", 1 },                    /* "isn't" is no phrase */
    /* last number */
    { "She has 12.5% left", "12.5", 1 },
    { "So x = -3", "-3", 1 },
    { "She ate 3/4 of the pie", "0.75", 1 },
    { "It costs $1,234.50 in total", "1234.5", 1 },
    { "The result is 1,000 apples", "1000", 1 },
    { "Add 1\\frac{1}{2} cups", "1.5", 1 },
    { "Temperature: \xe2\x88\x92" "5 degrees", "-5", 1 },          /* U+2212 minus */
    { "The range is 3-4", "4", 1 },                                /* "-" after a digit is no sign */
    { "The range is 3-4", "-4", 0 },
    { "#### 0.5", "\\frac{1}{2}", 1 },
    /* nothing to find */
    { "no numbers here", "5", 0 },
    { "", "5", 0 },
    { "", "", 0 },
    { "42", "", 0 },
};

static void
test_verify_table (void **state)
{
    (void) state;
    size_t count = sizeof s_verify_cases / sizeof s_verify_cases [0];
    int failures = 0;
    for (size_t i = 0; i < count; i++) {
        const verify_case_t *c = &s_verify_cases [i];
        double got = toa_math_verify (c->response, c->gold);
        if (got != c->expected) {
            char answer [256];
            toa_math_extract_answer (c->response, answer, sizeof answer);
            print_error ("case %zu: verify (\"%s\", \"%s\") = %g, expected %g (extracted \"%s\")\n",
                         i, c->response, c->gold, got, c->expected, answer);
            failures++;
        }
    }
    assert_true (count >= 40);
    assert_int_equal (failures, 0);
}

static void
s_expect_extract (const char *response, const char *expected)
{
    char answer [256];
    int rc = toa_math_extract_answer (response, answer, sizeof answer);
    if (!expected) {
        assert_int_equal (rc, -1);
        assert_string_equal (answer, "");
    }
    else {
        assert_int_equal (rc, 0);
        assert_string_equal (answer, expected);
    }
}

static void
test_extract (void **state)
{
    (void) state;
    s_expect_extract ("#### $1,234.00", "$1,234.00");
    s_expect_extract ("a #### 1\nb #### 2\n", "2");
    s_expect_extract ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}");
    s_expect_extract ("\\boxed{\\frac{\\sqrt{3}}{2}} and more", "\\frac{\\sqrt{3}}{2}");
    s_expect_extract ("\\boxed{ 1{,}000 }", "1{,}000");
    s_expect_extract ("so \\boxed 7 it is", "7");
    s_expect_extract ("The answer is 7. Then 14.", "7");
    s_expect_extract ("the final answer is: $42$.", "$42");
    s_expect_extract ("Answer:\n  **-12**", "-12");
    s_expect_extract ("Answer: B.", "B");
    s_expect_extract ("So 3/4", "3/4");
    s_expect_extract ("up 12.5% this year", "12.5%");
    s_expect_extract ("pages 10-12 of 30.", "30");
    s_expect_extract ("pages 10-12", "12");
    s_expect_extract ("no numbers", NULL);
    s_expect_extract ("", NULL);
    s_expect_extract ("\\boxed{", NULL);
    /* Does not fit: -1 and an empty string. */
    char small [4] = "xyz";
    assert_int_equal (toa_math_extract_answer ("#### 12345", small, sizeof small), -1);
    assert_string_equal (small, "");
    assert_int_equal (toa_math_extract_answer ("#### 123", small, sizeof small), 0);
    assert_string_equal (small, "123");
    assert_int_equal (toa_math_extract_answer (NULL, small, sizeof small), -1);
    assert_int_equal (toa_math_extract_answer ("1", NULL, 10), -1);
    assert_int_equal (toa_math_extract_answer ("1", small, 0), -1);
}

static void
s_expect_number (const char *text, double expected)
{
    double value = -12345.0;
    if (toa_math_parse_number (text, &value) != 0)
        fail_msg ("\"%s\" did not parse", text);
    if (fabs (value - expected) > 1e-12 * fmax (1.0, fabs (expected)))
        fail_msg ("\"%s\" parsed as %.17g, expected %.17g", text, value, expected);
}

static void
s_expect_no_number (const char *text)
{
    double value = -12345.0;
    if (toa_math_parse_number (text, &value) == 0)
        fail_msg ("\"%s\" parsed as %.17g", text, value);
    assert_true (value == -12345.0);
}

static void
test_parse_number (void **state)
{
    (void) state;
    s_expect_number ("42", 42);
    s_expect_number ("  42  ", 42);
    s_expect_number ("1,000", 1000);
    s_expect_number ("1,234,567.5", 1234567.5);
    s_expect_number ("1{,}000", 1000);
    s_expect_number ("1\\,000", 1000);
    s_expect_number ("$1,234.00", 1234);
    s_expect_number ("\\$18", 18);
    s_expect_number ("-$5", -5);
    s_expect_number ("$-5", -5);
    s_expect_number ("\xe2\x82\xac" "5", 5);        /* euro sign */
    s_expect_number ("+5", 5);
    s_expect_number ("-3", -3);
    s_expect_number ("\xe2\x88\x92" "3", -3);       /* U+2212 */
    s_expect_number ("5.00", 5);
    s_expect_number (".5", 0.5);
    s_expect_number ("42.", 42);
    s_expect_number ("3/4", 0.75);
    s_expect_number ("-3/4", -0.75);
    s_expect_number ("\\frac{3}{4}", 0.75);
    s_expect_number ("\\dfrac{3}{4}", 0.75);
    s_expect_number ("\\tfrac{3}{4}", 0.75);
    s_expect_number ("\\dfrac34", 0.75);
    s_expect_number ("-\\frac{3}{4}", -0.75);
    s_expect_number ("\\frac{-3}{4}", -0.75);
    s_expect_number ("\\frac{ 1.5 }{3}", 0.5);
    s_expect_number ("2\\frac{1}{2}", 2.5);
    s_expect_number ("12.5%", 12.5);
    s_expect_number ("12.5 \\%", 12.5);
    s_expect_number ("x = 5", 5);
    s_expect_number ("$5$", 5);
    s_expect_number ("$$\\frac{1}{4}$$", 0.25);
    s_expect_number ("\\(7\\)", 7);
    s_expect_number ("**9**", 9);
    s_expect_number ("{{10}}", 10);
    s_expect_number ("\\boxed{11}", 11);
    s_expect_number ("\\text{12 cm}", 12);
    s_expect_number ("5 dollars", 5);
    s_expect_number ("7\\text{ cm}", 7);
    s_expect_number ("-0", 0);
    s_expect_number ("123456789012345678901234567890", 123456789012345678901234567890.0);
    s_expect_no_number ("");
    s_expect_no_number ("   ");
    s_expect_no_number ("abc");
    s_expect_no_number ("seven");
    s_expect_no_number ("1 2");
    s_expect_no_number ("1,5");
    s_expect_no_number ("1234,567");
    s_expect_no_number ("1/0");
    s_expect_no_number ("\\frac{1}{0}");
    s_expect_no_number ("\\frac{x}{2}");
    s_expect_no_number ("5^2");
    s_expect_no_number ("1e5");
    s_expect_no_number ("x");
    s_expect_no_number ("$");
    s_expect_no_number ("-");
    s_expect_no_number ("1234567890123456789012345678901234567890123456789012345678901");
    double value;
    assert_int_equal (toa_math_parse_number (NULL, &value), -1);
    assert_int_equal (toa_math_parse_number ("1", NULL), -1);
}

/* A 1 MB string of PATTERN repeated, then TAIL. */
static char *
s_repeat (const char *pattern, const char *tail)
{
    size_t size = 1 << 20, length = strlen (pattern), tail_length = strlen (tail);
    char *text = malloc (size + tail_length + 1);
    assert_non_null (text);
    size_t used = 0;
    while (used + length <= size) {
        memcpy (text + used, pattern, length);
        used += length;
    }
    memcpy (text + used, tail, tail_length + 1);
    return text;
}

static void
test_hostile_inputs (void **state)
{
    (void) state;
    static const struct {
        const char *pattern, *tail, *gold;
        double expected;
    } cases [] = {
        { "1", "", "1", 0 },                      /* a million digits: no number */
        { "1,000", "", "1000", 0 },
        { "####", "", "1", 0 },
        { "#### x ", "#### 9", "9", 1 },
        { "\\boxed{", "", "1", 0 },
        { "\\boxed{", "}}} 5", "5", 1 },
        { "{", "\\boxed{3}", "3", 1 },
        { "}", "\\boxed{3}", "3", 1 },
        { "\\boxed", "", "1", 0 },
        { "\\frac{", "", "1", 0 },
        { "\\frac{1}", "{2}", "0.5", 1 },
        { "answer ", "", "1", 0 },
        { "answer is ", "42", "42", 1 },
        { "Answer", ": 8", "8", 1 },
        { "$ ", "", "1", 0 },
        { "-", "", "1", 0 },
        { "- $ ", "7", "7", 1 },
        { "1/", "", "1", 1 },                     /* 1/1/1/... ends in 1/1 */
        { " ", "", "1", 0 },
        { "x ", "#### 42", "42", 1 },
        { "x ", "The answer is 42", "42", 1 },
        { "\xff\xfe\x80", "", "1", 0 },
        { "**", "", "1", 0 },
        { "\\(", "", "1", 0 },
    };
    clock_t start = clock ();
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        char *text = s_repeat (cases [i].pattern, cases [i].tail);
        double got = toa_math_verify (text, cases [i].gold);
        char answer [64];
        toa_math_extract_answer (text, answer, sizeof answer);
        double value;
        toa_math_parse_number (text, &value);
        if (got != cases [i].expected)
            fail_msg ("1 MB of \"%s\" + \"%s\" against \"%s\": %g", cases [i].pattern,
                      cases [i].tail, cases [i].gold, got);
        free (text);
    }
    double seconds = (double) (clock () - start) / CLOCKS_PER_SEC;
    print_message ("%zu hostile 1 MB inputs in %.3f s CPU\n",
                   sizeof cases / sizeof cases [0], seconds);
    /* Linear work takes milliseconds each; a quadratic scan would take hours.
     * The bound is loose enough for valgrind. */
    assert_true (seconds < 60.0);
}

/* Every gold_response of 500 generated problems verifies against its
 * gold_answer, and a wrong gold does not. */
static void
test_generated_gold (void **state)
{
    (void) state;
    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream (&text, &length);
    assert_non_null (out);
    assert_int_equal (toa_sim_problems_write (out, 500, 3, NULL, 0), 0);
    assert_int_equal (fclose (out), 0);
    int lines = 0, failures = 0;
    char *save = NULL;
    for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        json_error_t error;
        json_t *record = json_loads (line, 0, &error);
        assert_non_null (record);
        const char *response = json_string_value (json_object_get (record, "gold_response"));
        const char *gold = json_string_value (json_object_get (record, "gold_answer"));
        assert_non_null (response);
        assert_non_null (gold);
        char wrong [64];
        snprintf (wrong, sizeof wrong, "%s1", gold);
        if (toa_math_verify (response, gold) != 1.0 || toa_math_verify (response, wrong) != 0.0) {
            print_error ("line %d: gold \"%s\" does not verify\n", lines + 1, gold);
            failures++;
        }
        json_decref (record);
        lines++;
    }
    free (text);
    assert_int_equal (lines, 500);
    assert_int_equal (failures, 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_verify_table),
        cmocka_unit_test (test_extract),
        cmocka_unit_test (test_parse_number),
        cmocka_unit_test (test_hostile_inputs),
        cmocka_unit_test (test_generated_gold),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
