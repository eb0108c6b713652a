/* test_client_tree.c - drawing a TOA result's tree: text layout, dot output,
 * malformed trees, results without a tree, finding a result by id. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/tree.h"

static const char *s_result_text =
    "{\"id\": 830, \"method\": \"toa\","
    " \"responses\": [\"It is 4.\", \"Four\\nfor sure\", \"The answer is definitely four, and here "
    "is a very long explanation \\u00e9\\u00e9\\u00e9\\u00e9\"],"
    " \"rewards\": [0.5, 0.9, 0.2],"
    " \"tree\": {\"nodes\": ["
    "{\"id\": 0, \"parent\": null, \"kind\": \"root\", \"visits\": 4, \"mean_reward\": 0.6},"
    "{\"id\": 1, \"parent\": 0, \"kind\": \"action\", \"model\": \"alpha\", \"depth\": 0, \"j\": -1,"
    " \"visits\": 3, \"mean_reward\": 0.55},"
    "{\"id\": 2, \"parent\": 0, \"kind\": \"action\", \"model\": \"beta\", \"depth\": 0, \"j\": -1,"
    " \"visits\": 1, \"mean_reward\": null},"
    "{\"id\": 3, \"parent\": 1, \"kind\": \"response\", \"model\": \"alpha\", \"depth\": 0,"
    " \"g\": 0, \"raw\": 0.5, \"reward\": 0.99, \"visits\": 2, \"mean_reward\": 0.7},"
    "{\"id\": 4, \"parent\": 3, \"kind\": \"action\", \"model\": \"alpha\", \"depth\": 1, \"j\": 0,"
    " \"visits\": 2, \"mean_reward\": 0.9},"
    "{\"id\": 5, \"parent\": 3, \"kind\": \"action\", \"model\": \"beta\", \"depth\": 1, \"j\": -1,"
    " \"visits\": 1, \"mean_reward\": null},"
    "{\"id\": 6, \"parent\": 4, \"kind\": \"response\", \"model\": \"alpha\", \"depth\": 1,"
    " \"g\": 1, \"raw\": 0.9, \"reward\": 0.999, \"visits\": 1, \"mean_reward\": null},"
    "{\"id\": 7, \"parent\": 2, \"kind\": \"response\", \"model\": \"beta\", \"depth\": 0,"
    " \"g\": 2, \"raw\": 0.2, \"reward\": 0.88, \"visits\": 1, \"mean_reward\": null},"
    "{\"id\": 8, \"parent\": 6, \"kind\": \"action\", \"model\": \"alpha\", \"depth\": 2, \"j\": 1,"
    " \"visits\": 1, \"mean_reward\": null},"
    "{\"id\": 9, \"parent\": 6, \"kind\": \"action\", \"model\": \"beta\", \"depth\": 2, \"j\": 1,"
    " \"visits\": 1, \"mean_reward\": null}"
    "]}}";

static json_t *
s_parse (const char *text)
{
    json_t *value = json_loads (text, 0, NULL);
    assert_non_null (value);
    return value;
}

/* Runs WRITE on RESULT into a string. */
static char *
s_render (int (*write) (const json_t *, FILE *, toa_errors_t *), const json_t *result, int *rc,
          toa_errors_t *errors)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    *rc = write (result, out, errors);
    fclose (out);
    return text;
}

static void
test_text_tree (void **state)
{
    (void) state;
    json_t *result = s_parse (s_result_text);
    toa_errors_t errors = TOA_ERRORS_INIT;
    int rc;
    char *text = s_render (toa_tree_write_text, result, &rc, &errors);
    assert_int_equal (rc, 0);
    const char *expected =
        "root  visits 4  mean 0.600\n"
        "+-- alpha answer  visits 3  mean 0.550\n"
        "|   `-- #0 alpha  raw 0.500  reward 0.990  visits 2  \"It is 4.\"\n"
        "|       +-- alpha refine #0  visits 2  mean 0.900\n"
        "|       |   `-- #1 alpha  raw 0.900  reward 0.999  visits 1  (best)  \"Four for sure\"\n"
        "|       |       `-- untried: alpha refine #1, beta refine #1\n"
        "|       `-- untried: beta answer afresh\n"
        "`-- beta answer  visits 1  mean -\n"
        "    `-- #2 beta  raw 0.200  reward 0.880  visits 1  \"The answer is definitely four, "
        "and here is a ver...\"\n";
    assert_string_equal (text, expected);
    free (text);
    json_decref (result);
}

static void
test_snippet_cuts_on_character_boundary (void **state)
{
    (void) state;
    /* 46 ASCII bytes then 2-byte characters: the 48-byte cut falls inside one */
    json_t *result = s_parse ("{\"id\": 1, \"responses\": [\"0123456789012345678901234567890123456"
                              "789012345\\u00e9\\u00e9\\u00e9\"], \"rewards\": [1],"
                              " \"actions\": [{\"model\": \"m\", \"depth\": 0}],"
                              " \"method\": \"best-of-n\"}");
    toa_errors_t errors = TOA_ERRORS_INIT;
    int rc;
    char *text = s_render (toa_tree_write_text, result, &rc, &errors);
    assert_int_equal (rc, 0);
    assert_string_equal (text, "method best-of-n: no tree; 1 generations\n"
                               "#0 m depth 0  raw 1.000  (best)  \"0123456789012345678901234567"
                               "890123456789012345\xc3\xa9...\"\n");
    free (text);
    /* no tree: dot is an error that says why */
    text = s_render (toa_tree_write_dot, result, &rc, &errors);
    assert_int_equal (rc, -1);
    assert_non_null (strstr (errors.messages[0], "no tree"));
    free (text);
    toa_errors_clear (&errors);
    json_decref (result);
}

static void
test_dot (void **state)
{
    (void) state;
    json_t *result = s_parse (s_result_text);
    toa_errors_t errors = TOA_ERRORS_INIT;
    int rc;
    char *text = s_render (toa_tree_write_dot, result, &rc, &errors);
    assert_int_equal (rc, 0);
    assert_memory_equal (text, "digraph toa {\n", 14);
    assert_non_null (strstr (text, "  n0 [label=\"root\\n visits 4  mean 0.600\"];\n"));
    assert_non_null (strstr (text, "  n4 [label=\"alpha refine #0\\n visits 2  mean 0.900\", "
                                   "shape=ellipse];\n  n3 -> n4;\n"));
    /* untried actions are dashed */
    assert_non_null (strstr (text, "  n5 [label=\"beta answer afresh\\n visits 1  mean -\", "
                                   "shape=ellipse, style=dashed];\n"));
    /* the best response is filled; quotes inside labels are escaped */
    assert_non_null (strstr (text, "n6 [label=\"#1 alpha\\n raw 0.900  reward 0.999  visits 1  "
                                   "(best)  \\\"Four for sure\\\"\", style=filled"));
    assert_int_equal (strcmp (text + strlen (text) - 2, "}\n"), 0);
    free (text);
    json_decref (result);
}

static void
test_malformed_trees (void **state)
{
    (void) state;
    const char *bad[] = {
        /* child before its parent */
        ("{\"tree\": {\"nodes\": [{\"id\": 0, \"parent\": null, \"kind\": \"root\"},"
         " {\"id\": 1, \"parent\": 2, \"kind\": \"action\"}, {\"id\": 2, \"parent\": 0}]}}"),
        /* first node is not the root */
        "{\"tree\": {\"nodes\": [{\"id\": 0, \"parent\": 3, \"kind\": \"root\"}]}}",
        /* a node that is not an object */
        "{\"tree\": {\"nodes\": [{\"id\": 0, \"parent\": null}, 5]}}",
        /* a cycle onto itself */
        "{\"tree\": {\"nodes\": [{\"id\": 0, \"parent\": null}, {\"id\": 1, \"parent\": 1}]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *result = s_parse (bad[i]);
        toa_errors_t errors = TOA_ERRORS_INIT;
        int rc;
        char *text = s_render (toa_tree_write_text, result, &rc, &errors);
        assert_int_equal (rc, -1);
        assert_int_equal (errors.count, 1);
        free (text);
        text = s_render (toa_tree_write_dot, result, &rc, &errors);
        assert_int_equal (rc, -1);
        free (text);
        toa_errors_clear (&errors);
        json_decref (result);
    }
}

static void
test_find_result (void **state)
{
    (void) state;
    char path[128];
    snprintf (path, sizeof path, "/tmp/test_client_tree.%d.jsonl", (int) getpid ());
    FILE *file = fopen (path, "w");
    fputs ("{\"id\": 8300, \"x\": 1}\n{\"id\": \"830\", \"x\": 2}\n{\"id\": 830, \"x\": 3}\n"
           "{\"id\": \"a b\", \"x\": 4}\n", file);
    fclose (file);
    toa_errors_t errors = TOA_ERRORS_INIT;
    json_t *found = toa_tree_find_result (path, "830", &errors);
    assert_non_null (found);
    assert_int_equal (json_integer_value (json_object_get (found, "x")), 2);
    json_decref (found);
    found = toa_tree_find_result (path, "\"830\"", &errors);
    assert_null (found);                  /* a string id is matched by its text */
    found = toa_tree_find_result (path, "a b", &errors);
    assert_int_equal (json_integer_value (json_object_get (found, "x")), 4);
    json_decref (found);
    assert_null (toa_tree_find_result (path, "831", &errors));
    assert_int_equal (errors.count, 2);
    assert_non_null (strstr (errors.messages[1], "no result with id 831"));
    toa_errors_clear (&errors);
    unlink (path);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_text_tree),
        cmocka_unit_test (test_snippet_cuts_on_character_boundary),
        cmocka_unit_test (test_dot),
        cmocka_unit_test (test_malformed_trees),
        cmocka_unit_test (test_find_result),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
