/* test_format.c - the hot paths' formatting of common/util.h.
 * toa_format_int64 writes what printf's "%" PRId64 writes (every digit
 * count, both signs, the extremes). toa_template_render replaces {name}
 * placeholders (repeated, unknown, unterminated, at either end).
 * toa_format_real writes exactly what
 * jansson writes for a real at a given precision (JSON_REAL_PRECISION):
 * random bit patterns, random values in the range rewards take (0..1,
 * averages k/n), integers, powers of ten and their neighbours, exact decimal
 * ties (rounded to even as printf does), signs and zeros, at precisions 1 to
 * 17 (15 and 17 are the broker's). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "common/util.h"

static uint64_t s_state = 0x9e3779b97f4a7c15ull;

static uint64_t
s_random (void)
{
    s_state += 0x9e3779b97f4a7c15ull;
    uint64_t z = s_state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Fails with VALUE and both texts when ours differs from jansson's. */
static void
s_check (double value, int precision)
{
    if (!isfinite (value))
        return;         /* json_real refuses it; toa_json_real writes null */
    char ours[48];
    size_t length = toa_format_real (ours, value, precision);
    assert_true (length > 0 && length < sizeof ours);
    ours[length] = '\0';
    json_t *real = json_real (value);
    char *theirs = json_dumps (real, JSON_ENCODE_ANY | JSON_REAL_PRECISION (precision));
    json_decref (real);
    assert_non_null (theirs);
    if (strcmp (ours, theirs) != 0)
        fail_msg ("%.17g at precision %d: ours %s, jansson %s", value, precision, ours, theirs);
    free (theirs);
}

static void
s_check_all (double value)
{
    s_check (value, 15);
    s_check (value, 17);
    s_check (-value, 15);
    s_check (value, (int) (s_random () % 17) + 1);
}

static void
test_random_bit_patterns (void **state)
{
    (void) state;
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = s_random ();
        double value;
        memcpy (&value, &bits, sizeof value);
        if (isfinite (value))
            s_check_all (value);
    }
}

static void
test_rewards_and_averages (void **state)
{
    (void) state;
    for (int i = 0; i < 100000; i++)
        s_check_all ((double) (s_random () >> 11) / 9007199254740992.0);
    for (int n = 1; n <= 200; n++)
        for (int k = 0; k <= n; k++)
            s_check_all ((double) k / n);
    for (int i = 0; i < 20000; i++) {
        double scale = pow (10.0, (double) ((int) (s_random () % 40) - 20));
        s_check_all ((double) (s_random () >> 11) / 9007199254740992.0 * scale);
    }
}

static void
test_integers_powers_and_edges (void **state)
{
    (void) state;
    double cases[] = {0.0, -0.0, 1.0, 2.0, 10.0, 0.1, 0.2, 0.3, 0.1 + 0.2, 0.812, 1.0 / 3.0,
                      123456789.0, 1e15, 1e16, 1e17, 9007199254740991.0, 4503599627370496.0,
                      1e-4, 1e-5, 0.00012345, 1.5e-7, 1e-8, 1e-9, 1e20, -1e300, 5e-324,
                      2.2250738585072014e-308, 1.7976931348623157e308, 0.9999999999999999,
                      0.99999999999999994, 9.9999999999999995e-5, 999999999999999.9};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int precision = 1; precision <= 17; precision++) {
            s_check (cases[i], precision);
            s_check (-cases[i], precision);
            s_check (nextafter (cases[i], 0.0), precision);
            s_check (nextafter (cases[i], INFINITY), precision);
        }
    for (int64_t v = -2000; v <= 2000; v++)
        s_check_all ((double) v);
    for (int e = -30; e <= 30; e++)
        s_check_all (pow (10.0, e));
}

static void
test_ties_round_to_even (void **state)
{
    (void) state;
    /* Exact binary fractions that sit halfway between two decimals. */
    double ties[] = {0.5, 1.5, 2.5, 0.25, 0.75, 0.125, 0.375, 0.0625, 1.0625, 2.675};
    for (size_t i = 0; i < sizeof ties / sizeof *ties; i++)
        for (int precision = 1; precision <= 17; precision++)
            s_check (ties[i], precision);
    for (int i = 0; i < 20000; i++) {
        /* k / 2^j: few digits, many exact ties at low precisions. */
        double value = ldexp ((double) (s_random () % 100000), -(int) (s_random () % 20));
        for (int precision = 1; precision <= 6; precision++)
            s_check (value, precision);
    }
    char text[48];
    size_t length = toa_format_real (text, 2.5, 1);
    text[length] = '\0';
    assert_string_equal (text, "2.0");
    length = toa_format_real (text, 0.125, 2);
    text[length] = '\0';
    assert_string_equal (text, "0.12");
    length = toa_format_real (text, 1e-5, 15);
    text[length] = '\0';
    assert_string_equal (text, "1e-5");
}

static void
test_int64_matches_printf (void **state)
{
    (void) state;
    int64_t cases[] = {0, 1, -1, 9, 10, 11, 99, 100, 101, -9, -10, -99, -100, 999, 1000,
                       123456789, -123456789, INT64_MAX, INT64_MIN, INT64_MAX - 1,
                       INT64_MIN + 1, 1000000000000000000, -1000000000000000000};
    char ours[32], theirs[32];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t length = toa_format_int64 (ours, cases[i]);
        ours[length] = '\0';
        snprintf (theirs, sizeof theirs, "%" PRId64, cases[i]);
        assert_string_equal (ours, theirs);
    }
    for (int i = 0; i < 100000; i++) {
        int64_t value = (int64_t) s_random () >> (s_random () % 64);
        size_t length = toa_format_int64 (ours, value);
        ours[length] = '\0';
        snprintf (theirs, sizeof theirs, "%" PRId64, value);
        assert_string_equal (ours, theirs);
    }
}

static void
s_check_render (const char *template_text, const char *expected)
{
    const char *names[] = {"question", "response", "empty"};
    const char *values[] = {"Q?", "the {question} R", NULL};
    char *text = toa_template_render (template_text, names, values, 3);
    assert_non_null (text);
    assert_string_equal (text, expected);
    free (text);
}

static void
test_template_render (void **state)
{
    (void) state;
    s_check_render ("", "");
    s_check_render ("plain text", "plain text");
    s_check_render ("{question}", "Q?");
    s_check_render ("A {question} B {response} C {question}", "A Q? B the {question} R C Q?");
    s_check_render ("{unknown} {question", "{unknown} {question");
    s_check_render ("{{question}}", "{Q?}");
    s_check_render ("x{empty}y{", "xy{");
    s_check_render ("{", "{");
    s_check_render ("}{question}{", "}Q?{");
    /* Values larger than the template, repeated: the buffer grows. */
    const char *names[] = {"v"};
    char big[5000];
    memset (big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *values[] = {big};
    char *text = toa_template_render ("{v}{v}{v}-", names, values, 1);
    assert_non_null (text);
    assert_int_equal (strlen (text), 3 * (sizeof big - 1) + 1);
    assert_int_equal (text[3 * (sizeof big - 1)], '-');
    free (text);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_int64_matches_printf),
        cmocka_unit_test (test_template_render),
        cmocka_unit_test (test_random_bit_patterns),
        cmocka_unit_test (test_rewards_and_averages),
        cmocka_unit_test (test_integers_powers_and_edges),
        cmocka_unit_test (test_ties_round_to_even),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
