/* test_json_reader.c - the JSON reader of common/json.h: its check accepts
 * and refuses what jansson's json_loadb does (grammar, escapes, surrogates,
 * UTF-8, control bytes, text after the value), says where, and never
 * quotes the text; nesting is bounded; members (the last of repeated
 * names, escaped names), items, decoded strings and int64 bounds read as
 * jansson reads them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "common/json.h"

static bool
s_reader_accepts (const char *text, size_t size)
{
    char why[160] = "";
    toa_json_doc_t doc;
    int rc = toa_json_read_check (&doc, text, size, why, sizeof why);
    if (rc != 0)
        assert_true (strlen (why) > 0);
    return rc == 0;
}

static bool
s_jansson_accepts (const char *text, size_t size)
{
    json_t *value = json_loadb (text, size, JSON_DECODE_ANY, NULL);
    json_decref (value);
    return value != NULL;
}

static void
test_check_matches_jansson (void **state)
{
    (void) state;
    const char *cases[] = {
        /* accepted */
        "{}", "[]", " \t\r\n{ \"a\" : [ 1 , -2.5e+3 , 0.5E-2, true , false , null , \"x\" ] } \n",
        "\"\\u00e9\\ud83d\\ude00 \\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "1", "-0", "0.5", "1e5",
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "[[[[]]]]", "{\"a\":{\"b\":{}}}",
        "\"a longer string, long enough for the scan that reads eight bytes at a time\"",
        "\"\x7f\"",
        /* refused */
        "", " ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "[1,]", "[,1]", "{\"a\":1,}",
        "{1:2}", "[01]", "[1.]", "[.5]", "[-]", "[1e]", "[1e+]", "[+1]", "[1 2]", "tru",
        "nul", "falsey", "[true false]", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\"",
        "\"\\ud800\\u0041\"", "\"\\ud800x\"", "\"\\x\"", "\"\\u12G4\"", "\"\\u12\"",
        "\"a\x01\"", "\"tab\tinside\"", "\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "\"\x80\"", "\"\xff\"", "[1] x", "[\"abc",
        "\"abc", "\"abc\\", "\xef\xbb\xbf{}", "[1]]", "{\"a\":1}}", "'x'", "[NaN]",
        "[Infinity]", "{\"a\":1 \"b\":2}",
        "\"a string long enough to be read eight bytes at a time, then cut",
        "\"eight bytes then a control byte: 12345678\x02\"",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t size = strlen (cases[i]);
        if (s_reader_accepts (cases[i], size) != s_jansson_accepts (cases[i], size))
            fail_msg ("case %zu (%s): the reader %s it, jansson does not", i, cases[i],
                      s_reader_accepts (cases[i], size) ? "accepts" : "refuses");
    }
    /* A NUL byte inside the text: refused, as jansson does. */
    assert_false (s_reader_accepts ("\"a\0b\"", 5));
    assert_false (s_jansson_accepts ("\"a\0b\"", 5));
    assert_false (s_reader_accepts (NULL, 0));
}

static void
test_check_says_where (void **state)
{
    (void) state;
    char why[160];
    toa_json_doc_t doc;
    const char *text = "{\"secret-looking-text\": 12x}";
    assert_int_equal (toa_json_read_check (&doc, text, strlen (text), why, sizeof why), -1);
    assert_string_equal (why, "',' or '}' expected at byte 26");
    assert_null (strstr (why, "secret"));
    text = "{\"a\": \"cut";
    assert_int_equal (toa_json_read_check (&doc, text, strlen (text), why, sizeof why), -1);
    assert_string_equal (why, "a string not closed, but the text ends (byte 10)");
    text = "[\"\xc3(\"]";
    assert_int_equal (toa_json_read_check (&doc, text, strlen (text), why, sizeof why), -1);
    assert_string_equal (why, "invalid UTF-8 in a string at byte 2");
    char tiny[8];
    assert_int_equal (toa_json_read_check (&doc, text, strlen (text), tiny, sizeof tiny), -1);
    assert_int_equal (strlen (tiny), sizeof tiny - 1);       /* cut, terminated */
}

static void
test_nesting_is_bounded (void **state)
{
    (void) state;
    size_t depth = 100000;
    char *text = malloc (2 * depth);
    assert_non_null (text);
    memset (text, '[', depth);
    memset (text + depth, ']', depth);
    char why[160];
    toa_json_doc_t doc;
    assert_int_equal (toa_json_read_check (&doc, text, 2 * depth, why, sizeof why), -1);
    assert_non_null (strstr (why, "nested deeper than 128 levels"));
    /* 128 levels pass */
    memset (text, '[', 128);
    memset (text + 128, ']', 128);
    assert_int_equal (toa_json_read_check (&doc, text, 256, why, sizeof why), 0);
    /* 129 do not */
    memset (text, '[', 129);
    memset (text + 129, ']', 129);
    assert_int_equal (toa_json_read_check (&doc, text, 258, why, sizeof why), -1);
    free (text);
}

static void
test_members_and_items (void **state)
{
    (void) state;
    const char *text = " { \"a\" : 1, \"b\" : { \"a\" : [ 10 , \"x]\" , { } , -3 ] },"
                       " \"cho\\u0069ces\" : \"escaped name\", \"a\" : 2 } ";
    size_t size = strlen (text);
    toa_json_doc_t doc;
    assert_int_equal (toa_json_read_check (&doc, text, size, NULL, 0), 0);
    toa_json_read_t root = toa_json_read_root (&doc);
    assert_int_equal (toa_json_read_kind (root), '{');
    int64_t value = 0;
    assert_true (toa_json_read_int (toa_json_read_member (root, "a"), &value));
    assert_int_equal (value, 2);                          /* the last "a" */
    char *name = toa_json_read_string_dup (toa_json_read_member (root, "choices"), NULL);
    assert_string_equal (name, "escaped name");
    free (name);
    assert_int_equal (toa_json_read_kind (toa_json_read_member (root, "missing")), 0);
    assert_int_equal (toa_json_read_kind (toa_json_read_member (root, "cho")), 0);
    toa_json_read_t inner = toa_json_read_member (root, "b");
    toa_json_read_t array = toa_json_read_member (inner, "a");
    assert_int_equal (toa_json_read_kind (array), '[');
    const char *cursor = NULL;
    toa_json_read_t item;
    char kinds[8] = "";
    size_t n = 0;
    while (toa_json_read_item (array, &cursor, &item) && n < 7)
        kinds[n++] = toa_json_read_kind (item);
    assert_string_equal (kinds, "0\"{0");
    /* not containers: nothing */
    assert_int_equal (toa_json_read_kind (toa_json_read_member (array, "a")), 0);
    cursor = NULL;
    assert_false (toa_json_read_item (inner, &cursor, &item));
    cursor = NULL;
    assert_int_equal (toa_json_read_check (&doc, "[ ]", 3, NULL, 0), 0);
    toa_json_read_t empty = toa_json_read_root (&doc);
    assert_false (toa_json_read_item (empty, &cursor, &item));
}

/* More large values than the table of ends holds: every member still
 * reads as jansson reads it. */
static void
test_many_large_values (void **state)
{
    (void) state;
    json_t *object = json_object ();
    char key[32], value[80];
    for (int i = 0; i < 300; i++) {
        snprintf (key, sizeof key, "k%d", i);
        snprintf (value, sizeof value, "value %d, long enough to be remembered \\ \"%d\"", i, i);
        if (i % 3 == 0)
            json_object_set_new (object, key, json_pack ("{s:s,s:[s,i]}", "t", value, "a", value, i));
        else
            json_object_set_new (object, key, json_string (value));
    }
    char *text = json_dumps (object, JSON_COMPACT);
    assert_non_null (text);
    toa_json_doc_t doc;
    assert_int_equal (toa_json_read_check (&doc, text, strlen (text), NULL, 0), 0);
    toa_json_read_t root = toa_json_read_root (&doc);
    for (int i = 299; i >= 0; i--) {
        snprintf (key, sizeof key, "k%d", i);
        json_t *expected = json_object_get (object, key);
        toa_json_read_t member = toa_json_read_member (root, key);
        if (i % 3 == 0) {
            member = toa_json_read_member (member, "t");
            expected = json_object_get (expected, "t");
        }
        char *got = toa_json_read_string_dup (member, NULL);
        assert_non_null (got);
        assert_string_equal (got, json_string_value (expected));
        free (got);
    }
    free (text);
    json_decref (object);
}

static void
test_strings_decode_as_jansson (void **state)
{
    (void) state;
    const char *cases[] = {
        "\"plain\"", "\"\"", "\"\\u00e9\\u20ac\\ud83d\\ude00\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
        "\"caf\xc3\xa9 and \\u0041\"", "\"\\u007f\\u0080\\u07ff\\u0800\\uffff\"",
        "\"long enough to be scanned eight bytes at a time, with \\n an escape in it\"",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t size = strlen (cases[i]);
        toa_json_doc_t doc;
        assert_int_equal (toa_json_read_check (&doc, cases[i], size, NULL, 0), 0);
        json_t *expected = json_loadb (cases[i], size, JSON_DECODE_ANY, NULL);
        assert_non_null (expected);
        size_t length = 0;
        char *text = toa_json_read_string_dup (toa_json_read_root (&doc), &length);
        assert_non_null (text);
        assert_int_equal (length, json_string_length (expected));
        assert_memory_equal (text, json_string_value (expected), length);
        free (text);
        json_decref (expected);
    }
    toa_json_doc_t doc;
    assert_int_equal (toa_json_read_check (&doc, "12", 2, NULL, 0), 0);
    assert_null (toa_json_read_string_dup (toa_json_read_root (&doc), NULL));
}

static void
test_int_bounds (void **state)
{
    (void) state;
    struct { const char *text; bool ok; int64_t value; } cases[] = {
        {"0", true, 0}, {"-0", true, 0}, {"42", true, 42},
        {"9223372036854775807", true, INT64_MAX}, {"-9223372036854775808", true, INT64_MIN},
        {"9223372036854775808", false, 0}, {"-9223372036854775809", false, 0},
        {"99999999999999999999999", false, 0}, {"1.0", false, 0}, {"1e2", false, 0},
        {"\"1\"", false, 0}, {"true", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t value = -1;
        toa_json_doc_t doc;
        assert_int_equal (toa_json_read_check (&doc, cases[i].text, strlen (cases[i].text), NULL,
                                               0), 0);
        bool ok = toa_json_read_int (toa_json_read_root (&doc), &value);
        assert_int_equal (ok, cases[i].ok);
        if (ok)
            assert_int_equal (value, cases[i].value);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_check_matches_jansson),
        cmocka_unit_test (test_check_says_where),
        cmocka_unit_test (test_nesting_is_bounded),
        cmocka_unit_test (test_members_and_items),
        cmocka_unit_test (test_many_large_values),
        cmocka_unit_test (test_strings_decode_as_jansson),
        cmocka_unit_test (test_int_bounds),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
