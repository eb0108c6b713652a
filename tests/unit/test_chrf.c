/* test_chrf.c - scorer/chrf against the reference table that
 * tests/unit/data/chrf/make_reference.py generated (sacreBLEU 2.x chrF
 * algorithm), plus edge cases and long inputs. Runs from the repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "scorer/chrf.h"

#define S_TABLE "tests/unit/data/chrf/reference.tsv"

/* The reference values come from the same IEEE double operations in the
 * same order, so they agree to the last bits; 1e-9 leaves room for nothing
 * but printing. (The brief asks for 1e-6.) */
#define S_TOLERANCE 1e-9

/* Undoes the table's escapes (\\ \t \n \r \xNN) of FIELD in place. */
static void
s_unescape (char *field)
{
    char *out = field;
    for (char *p = field; *p; p++) {
        if (*p != '\\' || !p [1]) {
            *out++ = *p;
            continue;
        }
        p++;
        if (*p == 't') *out++ = '\t';
        else
        if (*p == 'n') *out++ = '\n';
        else
        if (*p == 'r') *out++ = '\r';
        else
        if (*p == 'x' && p [1] && p [2]) {
            char hex [3] = { p [1], p [2], 0 };
            *out++ = (char) strtol (hex, NULL, 16);
            p += 2;
        }
        else
            *out++ = *p;
    }
    *out = 0;
}

static void
test_reference_table (void **state)
{
    (void) state;
    char *table = toa_read_file (S_TABLE, NULL);
    if (!table)
        fail_msg ("cannot read %s (run from the repository root)", S_TABLE);
    int rows = 0, failures = 0;
    char *save = NULL;
    for (char *line = strtok_r (table, "\n", &save); line;
         line = strtok_r (NULL, "\n", &save)) {
        if (line [0] == '#')
            continue;
        char *fields [4] = { line, NULL, NULL, NULL };
        for (int i = 1; i < 4; i++) {
            char *tab = strchr (fields [i - 1], '\t');
            assert_non_null (tab);
            *tab = 0;
            fields [i] = tab + 1;
        }
        double expected = strtod (fields [0], NULL);
        s_unescape (fields [1]);
        s_unescape (fields [2]);
        double got = toa_chrf (fields [1], fields [2]);
        if (fabs (got - expected) > S_TOLERANCE) {
            print_error ("row %d (%s): toa_chrf %.17g, reference %.17g\n",
                         rows + 1, fields [3], got, expected);
            failures++;
        }
        rows++;
    }
    free (table);
    assert_true (rows >= 30);
    assert_int_equal (failures, 0);
}

static void
test_edge_cases (void **state)
{
    (void) state;
    assert_true (toa_chrf (NULL, "a") < 0);
    assert_true (toa_chrf ("a", NULL) < 0);
    assert_true (toa_chrf ("", "") == 0.0);
    assert_true (toa_chrf ("same", "same") == 100.0);
    assert_true (toa_chrf ("abc", "xyz") == 0.0);
    /* Whitespace never counts, whatever kind it is. */
    assert_true (toa_chrf ("a b\tc\u3000d", "abcd") == 100.0);
    /* Recall weighs more than precision (beta = 2). */
    double long_hyp = toa_chrf ("the cat sat on the mat today", "the cat sat on the mat");
    double short_hyp = toa_chrf ("the cat sat", "the cat sat on the mat");
    assert_true (long_hyp > short_hyp);
    /* Every result is within 0..100, for stray bytes too. */
    const char *odd [] = { "\xff", "\xc3", "\xe4\xb8", "\xf4\x90\x80\x80", "\x80\x80", "a\xc0\xafz" };
    for (size_t i = 0; i < sizeof odd / sizeof odd [0]; i++)
        for (size_t j = 0; j < sizeof odd / sizeof odd [0]; j++) {
            double score = toa_chrf (odd [i], odd [j]);
            assert_true (score >= 0.0 && score <= 100.0);
            if (i == j)
                assert_true (score == 100.0);
        }
}

/* A deterministic text of LENGTH bytes: words from a small alphabet, so that
 * n-grams repeat a lot (a hard case for hashing). */
static char *
s_text (size_t length, uint64_t seed)
{
    char *text = malloc (length + 1);
    assert_non_null (text);
    uint64_t state = seed;
    for (size_t i = 0; i < length; i++) {
        uint64_t r = toa_splitmix64 (state++);
        text [i] = (r % 7 == 0) ? ' ' : (char) ('a' + r % 5);
    }
    text [length] = 0;
    return text;
}

static void
test_long_inputs (void **state)
{
    (void) state;
    size_t length = 100 * 1024;
    char *reference = s_text (length, 1);
    char *hypothesis = s_text (length, 1);
    clock_t start = clock ();
    assert_true (toa_chrf (hypothesis, reference) == 100.0);
    /* Damage one byte in a hundred: high, but below 100. */
    for (size_t i = 0; i < length; i += 100)
        hypothesis [i] = 'z';
    double damaged = toa_chrf (hypothesis, reference);
    assert_true (damaged > 50.0 && damaged < 100.0);
    /* One repeated character: every n-gram the same. */
    memset (hypothesis, 'a', length);
    memset (reference, 'a', length / 2);
    reference [length / 2] = 0;
    double repeated = toa_chrf (hypothesis, reference);
    assert_true (repeated > 0.0 && repeated < 100.0);
    double seconds = (double) (clock () - start) / CLOCKS_PER_SEC;
    print_message ("three 100 KB chrF scores in %.3f s CPU\n", seconds);
    free (hypothesis);
    free (reference);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_reference_table),
        cmocka_unit_test (test_edge_cases),
        cmocka_unit_test (test_long_inputs),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
