/* test_scorer_judge.c - the LLM judge's rating parser: a table of good and
 * bad replies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scorer/judge.h"

typedef struct {
    const char *reply;
    double scale;
    int rc;              /* 0: parses to SCORE; -1: fails with WHY containing TEXT */
    double score;
    const char *text;
} s_case_t;

static const s_case_t s_cases[] = {
    /* good */
    {"The answer is correct and well explained.\nRating: [[7]]", 10, 0, 7, NULL},
    {"[[ 9 ]]", 10, 0, 9, NULL},
    {"Rating: 7", 10, 0, 7, NULL},
    {"Score: 7.5", 10, 0, 7.5, NULL},
    {"**Score:** 8\nThe response is fine.", 10, 0, 8, NULL},
    {"Overall I would give it a rating of... Rating = [6]", 10, 0, 6, NULL},
    {"The final score is 4/5.", 5, 0, 4, NULL},
    {"I give this response 7/10.", 10, 0, 7, NULL},
    {"Solid work: 3 out of 5", 5, 0, 3, NULL},
    {"8", 10, 0, 8, NULL},
    {"  **9.** \n", 10, 0, 9, NULL},
    {"Grade: 1", 10, 0, 1, NULL},
    {"Step 1 is right, step 2 is wrong (3/4 of the work). Rating: [[5]]", 10, 0, 5, NULL},
    {"Rating: [[10]] (repeated: [[10]])", 10, 0, 10, NULL},
    {"rating: 100", 100, 0, 100, NULL},
    /* bad */
    {"The response is helpful and accurate.", 10, -1, 0, "no rating"},
    {"", 10, -1, 0, "no rating"},
    {"Rating: [[11]]", 10, -1, 0, "outside 1..10"},
    {"Rating: 0", 10, -1, 0, "outside 1..10"},
    {"First impression [[3]], after checking again [[8]]", 10, -1, 0, "ambiguous"},
    {"Score: 7/100", 10, -1, 0, "out of 100"},
    {"Rating: [[rating]]", 10, -1, 0, "no rating"},
    {"It solves 3/4 of the problem.", 10, -1, 0, "no rating"},
    {"Scores: seven", 10, -1, 0, "no rating"},
    {"Rating: 6 for style. Rating: 9 for accuracy.", 10, -1, 0, "ambiguous"},
    {"-3", 10, -1, 0, "no rating"},
    {"7 apples", 10, -1, 0, "no rating"},
};

static void
test_table (void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        const s_case_t *c = &s_cases[i];
        double score = -42;
        char why[200] = "";
        int rc = toa_judge_parse_score (c->reply, c->scale, &score, why, sizeof why);
        if (rc != c->rc)
            fail_msg ("case %zu \"%s\": rc %d, expected %d (why: %s)", i, c->reply, rc, c->rc,
                      why);
        if (c->rc == 0 && score != c->score)
            fail_msg ("case %zu \"%s\": score %g, expected %g", i, c->reply, score, c->score);
        if (c->rc != 0 && !strstr (why, c->text))
            fail_msg ("case %zu \"%s\": reason \"%s\" lacks \"%s\"", i, c->reply, why, c->text);
        if (c->rc != 0 && score != -42)
            fail_msg ("case %zu: score written on failure", i);
    }
}

static void
test_bad_arguments (void **state)
{
    (void) state;
    double score;
    char why[8];
    assert_int_equal (toa_judge_parse_score (NULL, 10, &score, why, sizeof why), -1);
    assert_int_equal (toa_judge_parse_score ("7", 0.5, &score, why, sizeof why), -1);
    assert_int_equal (toa_judge_parse_score ("7", 10, NULL, why, sizeof why), -1);
    /* a tiny WHY buffer is cut, not overrun; none at all is fine */
    assert_int_equal (toa_judge_parse_score ("nothing", 10, &score, why, sizeof why), -1);
    assert_int_equal (strlen (why), sizeof why - 1);
    assert_int_equal (toa_judge_parse_score ("nothing", 10, &score, NULL, 0), -1);
}

static void
test_long_reply (void **state)
{
    (void) state;
    /* a long explanation full of digits and brackets, the rating at the end */
    static char reply[200000];
    size_t used = 0;
    while (used + 40 < sizeof reply - 100)
        used += (size_t) snprintf (reply + used, sizeof reply - used, "step 12 of 345 [[x]] ");
    snprintf (reply + used, sizeof reply - used, "Rating: [[6]]");
    double score = 0;
    assert_int_equal (toa_judge_parse_score (reply, 10, &score, NULL, 0), 0);
    assert_true (score == 6);
}

/* Runs of more digits than a rating can have (issue 12: the fraction finder
 * looped forever on more than 30 in a row) are skipped; a rating after them
 * is still found. SIGALRM ends the test if a parser loops. */
static void
test_long_digit_runs (void **state)
{
    (void) state;
    alarm (10);
    static const size_t lengths[] = {29, 30, 31, 32, 63, 64, 65, 200, 5000};
    static char reply[6000];
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        memset (reply, '7', lengths[i]);
        reply[lengths[i]] = 0;
        double score = 0;
        /* a bare long number: a rating only when it is short and in range */
        assert_int_equal (toa_judge_parse_score (reply, 10, &score, NULL, 0), -1);
        snprintf (reply + lengths[i], sizeof reply - lengths[i], " and then 8/10");
        assert_int_equal (toa_judge_parse_score (reply, 10, &score, NULL, 0), 0);
        assert_true (score == 8);
        /* a long decimal part, and a long number as the scale */
        snprintf (reply, sizeof reply, "1.");
        memset (reply + 2, '5', lengths[i]);
        snprintf (reply + 2 + lengths[i], sizeof reply - 2 - lengths[i], "/10, 9/");
        memset (reply + strlen (reply), '1', 40);
        reply[strlen ("1.") + lengths[i] + strlen ("/10, 9/") + 40] = 0;
        assert_int_equal (toa_judge_parse_score (reply, 10, &score, NULL, 0),
                          lengths[i] + 2 < 64 ? 0 : -1);
    }
    alarm (0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_table),
        cmocka_unit_test (test_bad_arguments),
        cmocka_unit_test (test_long_reply),
        cmocka_unit_test (test_long_digit_runs),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
