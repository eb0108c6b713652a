/* test_sim_problems.c - sim/problems, the generated math problems the tests
 * and the demo run on: line shape, arithmetic that holds in every step,
 * distinct questions the simulator knows, determinism per seed, and bad
 * counts refused with a reason (the verifier's side is in test_math_verify). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/knowledge.h"
#include "sim/problems.h"

#define S_COUNT 500

/* The problems of SEED as one string (free()). */
static char *
s_generate (size_t count, uint64_t seed)
{
    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream (&text, &length);
    assert_non_null (out);
    char reason[128] = "";
    assert_int_equal (toa_sim_problems_write (out, count, seed, reason, sizeof reason), 0);
    assert_int_equal (fclose (out), 0);
    return text;
}

/* Every "<<x OP y=z>>" of RESPONSE holds; returns how many there are. */
static int
s_check_steps (const char *response)
{
    int steps = 0;
    for (const char *at = strstr (response, "<<"); at; at = strstr (at + 2, "<<")) {
        long x, y, z;
        char op;
        assert_int_equal (sscanf (at, "<<%ld%c%ld=%ld>>", &x, &op, &y, &z), 4);
        long want = op == '*' ? x * y : op == '+' ? x + y : op == '-' ? x - y : x / y;
        if (op == '/')
            assert_int_equal (x % y, 0);
        assert_int_equal (z, want);
        steps++;
    }
    return steps;
}

static void
test_lines (void **state)
{
    (void) state;
    char *text = s_generate (S_COUNT, 1);
    size_t id = 0;
    char *save = NULL;
    for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        json_error_t error;
        json_t *record = json_loads (line, 0, &error);
        assert_non_null (record);
        assert_int_equal (json_integer_value (json_object_get (record, "id")), ++id);
        const char *question = json_string_value (json_object_get (record, "instruction"));
        const char *gold = json_string_value (json_object_get (record, "gold_answer"));
        const char *response = json_string_value (json_object_get (record, "gold_response"));
        assert_non_null (question);
        assert_non_null (gold);
        assert_non_null (response);
        assert_true (strtol (gold, NULL, 10) > 0);
        assert_int_equal (s_check_steps (response), 2);
        char marker[40];
        snprintf (marker, sizeof marker, "\n#### %s", gold);
        assert_non_null (strstr (response, marker));
        json_decref (record);
    }
    assert_int_equal (id, S_COUNT);
    free (text);
}

/* The simulator loads them all as distinct math questions. */
static void
test_known_to_the_simulator (void **state)
{
    (void) state;
    char path[] = "/tmp/toa-problems-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    char *text = s_generate (S_COUNT, 2);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    close (fd);
    toa_sim_knowledge_t *knowledge = toa_sim_knowledge_new ();
    toa_errors_t errors = TOA_ERRORS_INIT;
    assert_int_equal (toa_sim_knowledge_load (knowledge, path, &errors), S_COUNT);
    assert_int_equal (errors.count, 0);
    for (size_t i = 0; i < S_COUNT; i++)
        assert_int_equal (toa_sim_knowledge_get (knowledge, i)->kind, TOA_SIM_QUESTION_MATH);
    toa_sim_knowledge_destroy (&knowledge);
    unlink (path);
    free (text);
}

static void
test_deterministic (void **state)
{
    (void) state;
    char *first = s_generate (50, 7), *again = s_generate (50, 7), *other = s_generate (50, 8);
    assert_string_equal (first, again);
    assert_string_not_equal (first, other);
    free (first);
    free (again);
    free (other);
}

static void
test_bad_count (void **state)
{
    (void) state;
    char reason[128] = "";
    assert_int_equal (toa_sim_problems_write (stdout, 0, 1, reason, sizeof reason), -1);
    assert_non_null (strstr (reason, "must be 1..100000, not 0"));
    assert_int_equal (toa_sim_problems_write (stdout, TOA_SIM_PROBLEMS_MAX + 1, 1, NULL, 0), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_lines),
        cmocka_unit_test (test_known_to_the_simulator),
        cmocka_unit_test (test_deterministic),
        cmocka_unit_test (test_bad_count),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
