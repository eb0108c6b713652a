/* test_json_writer.c - the JSON writer of common/json.h writes what
 * json_dumps (JSON_COMPACT) writes for strings (escapes, UTF-8, control
 * bytes), integers and reals; invalid UTF-8 still gives valid JSON; and the
 * broker's result line written with it parses, with input fields kept and
 * the colliding ones replaced. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "broker/method/mcts.h"
#include "broker/method/record.h"
#include "broker/method/result.h"
#include "common/json.h"
#include "common/openai.h"

/* What jansson writes for VALUE (taken). */
static char *
s_jansson (json_t *value, size_t flags)
{
    char *text = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY | flags);
    json_decref (value);
    return text;
}

static void
test_strings_match_jansson (void **state)
{
    (void) state;
    const char *cases[] = {
        "", "plain", "quote \" and backslash \\", "lines\nand\ttabs\r\b\f",
        "control \x01\x1f\x7f", "utf-8: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        "slash / stays", "#### 42\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        toa_json_writer_t w = TOA_JSON_WRITER_INIT;
        toa_json_string (&w, cases[i]);
        char *ours = toa_json_writer_take (&w);
        char *theirs = s_jansson (json_string (cases[i]), 0);
        assert_non_null (ours);
        assert_non_null (theirs);
        assert_string_equal (ours, theirs);
        free (ours);
        free (theirs);
    }
    toa_json_writer_t w = TOA_JSON_WRITER_INIT;
    toa_json_string (&w, NULL);
    char *null = toa_json_writer_take (&w);
    assert_string_equal (null, "null");
    free (null);
}

/* Random strings of the bytes that matter (quotes, backslashes, control
 * bytes, UTF-8, plain ASCII) at every length and offset around the writer's
 * eight-byte steps: the same text as jansson's. */
static void
test_random_strings_match_jansson (void **state)
{
    (void) state;
    static const char *pieces[] = {"a", "bc", "\"", "\\", "\n", "\x01", "\x1f", " ",
                                   "\x7f", "caf\xc3\xa9", "\xe2\x82\xac", "0123456789"};
    uint64_t seed = 42;
    for (int round = 0; round < 5000; round++) {
        char text[256];
        size_t length = 0;
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t parts = (size_t) (seed >> 59);
        for (size_t p = 0; p < parts; p++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            /* Mostly plain runs, so the fast path runs and then stops. */
            const char *piece = (seed >> 60) < 10 ? "abcdefghijklmnop" : pieces[(seed >> 33) % 12];
            size_t n = strlen (piece);
            if (length + n >= sizeof text)
                break;
            memcpy (text + length, piece, n);
            length += n;
        }
        text[length] = '\0';
        toa_json_writer_t w = TOA_JSON_WRITER_INIT;
        toa_json_string (&w, text);
        char *ours = toa_json_writer_take (&w);
        char *theirs = s_jansson (json_string (text), 0);
        assert_non_null (ours);
        assert_non_null (theirs);
        assert_string_equal (ours, theirs);
        free (ours);
        free (theirs);
    }
}

static void
test_invalid_utf8_stays_valid_json (void **state)
{
    (void) state;
    /* A lone continuation byte, an overlong form, a cut sequence, a surrogate. */
    const char *cases[] = {"a\x80z", "\xc0\xaf", "end \xe2\x82", "\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        toa_json_writer_t w = TOA_JSON_WRITER_INIT;
        toa_json_string (&w, cases[i]);
        char *text = toa_json_writer_take (&w);
        json_error_t error;
        json_t *back = json_loads (text, JSON_DECODE_ANY, &error);
        assert_non_null (back);
        assert_true (json_is_string (back));
        assert_non_null (strstr (text, "\\ufffd"));
        json_decref (back);
        free (text);
    }
}

static void
test_numbers_match_jansson (void **state)
{
    (void) state;
    int64_t ints[] = {0, 7, -1, 1234567890123LL, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        toa_json_writer_t w = TOA_JSON_WRITER_INIT;
        toa_json_int (&w, ints[i]);
        char *ours = toa_json_writer_take (&w);
        char *theirs = s_jansson (json_integer (ints[i]), 0);
        assert_string_equal (ours, theirs);
        free (ours);
        free (theirs);
    }
    double reals[] = {0.0, 1.0, -2.5, 0.812, 1.0 / 3.0, 1e20, 1.5e-7, -1e300, 123456789.0};
    int precisions[] = {15, 17};
    for (size_t p = 0; p < 2; p++)
        for (size_t i = 0; i < sizeof reals / sizeof *reals; i++) {
            toa_json_writer_t w = TOA_JSON_WRITER_INIT;
            toa_json_real (&w, reals[i], precisions[p]);
            char *ours = toa_json_writer_take (&w);
            char *theirs = s_jansson (json_real (reals[i]),
                                      JSON_REAL_PRECISION (precisions[p]));
            assert_string_equal (ours, theirs);
            free (ours);
            free (theirs);
        }
    toa_json_writer_t w = TOA_JSON_WRITER_INIT;
    toa_json_real (&w, NAN, 17);
    toa_json_lit (&w, ",");
    toa_json_bool (&w, true);
    toa_json_lit (&w, ",");
    toa_json_value (&w, NULL, 0);
    char *text = toa_json_writer_take (&w);
    assert_string_equal (text, "null,true,null");
    free (text);
}

static void
test_result_line (void **state)
{
    (void) state;
    json_t *input = json_pack ("{s:i, s:s, s:s, s:f, s:s}", "id", 3, "instruction", "2+2?",
                               "responses", "theirs", "weight", 0.25, "gold_answer", "4");
    const char *models[] = {"alpha", "beta"};
    toa_gen_record_t records[2] = {
        {.model = 0, .depth = 1, .text = "it is \"4\"\n#### 4", .prompt_tokens = 5,
         .completion_tokens = 6, .scored = true, .raw = 0.75, .applied = 0},
        {.model = 1, .depth = 1, .failed = true, .reason = "500: server error",
         .applied = 1},
    };
    const char *tree = "{\"children\":[1]}";
    char *line = toa_result_line (input, "toa", models, records, 2, tree);
    assert_non_null (line);
    json_error_t error;
    json_t *back = json_loads (line, 0, &error);
    assert_non_null (back);
    assert_int_equal (json_integer_value (json_object_get (back, "id")), 3);
    assert_string_equal (json_string_value (json_object_get (back, "gold_answer")), "4");
    assert_true (fabs (json_real_value (json_object_get (back, "weight")) - 0.25) < 1e-12);
    json_t *responses = json_object_get (back, "responses");
    assert_int_equal (json_array_size (responses), 2);
    assert_string_equal (json_string_value (json_array_get (responses, 0)), records[0].text);
    assert_true (json_is_null (json_array_get (responses, 1)));
    assert_string_equal (json_string_value (json_object_get (back, "best_model")), "alpha");
    assert_true (fabs (json_real_value (json_object_get (back, "best_reward")) - 0.75) < 1e-12);
    json_t *failures = json_object_get (back, "failures");
    assert_int_equal (json_array_size (failures), 1);
    assert_string_equal (json_string_value (json_object_get (json_array_get (failures, 0),
                                                             "stage")), "generation");
    assert_string_equal (json_string_value (json_object_get (back, "method")), "toa");
    assert_int_equal (json_array_size (json_object_get (json_object_get (back, "tree"),
                                                        "children")), 1);
    assert_int_equal (json_integer_value (json_array_get (json_object_get (
                          back, "total_tokens"), 0)), 11);
    /* "responses" appears once: the input's own value is replaced. */
    assert_non_null (strstr (line, "\"responses\":["));
    assert_null (strstr (line, "theirs"));
    json_decref (back);
    json_decref (input);
    free (line);
}

static void
test_record_round_trip (void **state)
{
    (void) state;
    const char *models[] = {"alpha", "beta"};
    toa_gen_record_t record = {
        .kind = TOA_GEN_REFINE, .model = 1, .depth = 2, .inputs = {4, 1}, .n_inputs = 2,
        .layer = 3, .parent_g = 4, .text = "caf\xc3\xa9\n#### 7", .finish_reason = "stop",
        .prompt_tokens = 9, .completion_tokens = 10, .scored = true, .raw = 1.0 / 3.0,
        .applied = 5,
    };
    char *text = toa_gen_record_encode (&record, models);
    assert_non_null (text);
    toa_gen_record_t back = {0};
    char err[128];
    assert_int_equal (toa_gen_record_decode (text, models, 2, &back, err, sizeof err), 0);
    assert_int_equal (back.kind, TOA_GEN_REFINE);
    assert_int_equal (back.model, 1);
    assert_int_equal (back.n_inputs, 2);
    assert_int_equal (back.inputs[1], 1);
    assert_int_equal (back.parent_g, 4);
    assert_string_equal (back.text, record.text);
    assert_true (back.scored);
    assert_true (back.raw == record.raw);   /* 17 digits: exact */
    assert_int_equal (back.applied, 5);
    toa_gen_record_clear (&back);
    free (text);
}

/* The tree written directly is the tree jansson would dump. */
static void
test_mcts_tree_matches_jansson (void **state)
{
    (void) state;
    toa_mcts_params_t params = {3, 4, 4, 1, 0.5, 0.2};
    char err[256] = "";
    toa_mcts_t *mcts = toa_mcts_new (&params, err, sizeof err);
    assert_non_null (mcts);
    for (int g = 0; g < 12; g++) {
        toa_mcts_action_t action;
        assert_int_equal (toa_mcts_select (mcts, &action), 0);
        assert_true (toa_mcts_apply (mcts, &action, sin (g * 1.7) * 0.9, NULL) >= 0);
    }
    const char *const names[] = {"alpha", "beta", "gamma"};
    for (int named = 0; named < 2; named++) {
        json_t *tree = toa_mcts_to_json (mcts, named ? names : NULL);
        char *theirs = json_dumps (tree, JSON_COMPACT | JSON_REAL_PRECISION (15));
        toa_json_writer_t w = TOA_JSON_WRITER_INIT;
        toa_mcts_write_json (mcts, named ? names : NULL, NULL, 0, 15, &w);
        char *ours = toa_json_writer_take (&w);
        assert_string_equal (ours, theirs);
        free (ours);
        free (theirs);
        json_decref (tree);
    }
    /* With a map, g and j values are rewritten (identity + 100 here). */
    int map[12];
    for (int g = 0; g < 12; g++)
        map[g] = g + 100;
    toa_json_writer_t w = TOA_JSON_WRITER_INIT;
    toa_mcts_write_json (mcts, names, map, 12, 15, &w);
    char *mapped = toa_json_writer_take (&w);
    json_t *back = json_loads (mapped, 0, NULL);
    assert_non_null (back);
    size_t index;
    json_t *node;
    int responses = 0;
    json_array_foreach (json_object_get (back, "nodes"), index, node) {
        json_t *g = json_object_get (node, "g");
        if (g) {
            assert_true (json_integer_value (g) >= 100);
            responses++;
        }
    }
    assert_int_equal (responses, 12);
    json_decref (back);
    free (mapped);
    toa_mcts_destroy (&mcts);
}

/* A chat body written directly is what jansson wrote before. */
static void
test_chat_body_matches_jansson (void **state)
{
    (void) state;
    toa_chat_message_t messages[2] = {{"system", "Be brief."},
                                      {"user", "What is 6 x 7?\n\"Show\" work."}};
    const char *stop[] = {"###", "", "END"};
    const char *extra[] = {"END", "\n\n"};
    toa_openai_chat_request_t request = {
        .model_id = "m-1", .messages = messages, .n_messages = 2, .temperature = 0.7,
        .top_p = 1.0, .max_tokens = 512, .stop = stop, .n_stop = 3, .extra_stop = extra,
        .n_extra_stop = 2, .has_seed = true, .seed = UINT64_MAX, .n = 3,
    };
    char *ours = toa_openai_chat_body (&request);
    json_t *expected = json_pack ("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:f, s:f, s:i, "
                                  "s:[s, s, s], s:I, s:i}",
                                  "model", "m-1", "messages", "role", "system", "content",
                                  "Be brief.", "role", "user", "content", messages[1].content,
                                  "temperature", 0.7, "top_p", 1.0, "max_tokens", 512,
                                  "stop", "###", "END", "\n\n",
                                  "seed", (json_int_t) INT64_MAX, "n", 3);
    char *theirs = s_jansson (expected, 0);
    assert_non_null (ours);
    assert_string_equal (ours, theirs);
    free (ours);
    free (theirs);
    /* No stops, no seed, n 1, no max_tokens: those keys are left out. */
    request.n_stop = request.n_extra_stop = 0;
    request.has_seed = false;
    request.n = 1;
    request.max_tokens = 0;
    ours = toa_openai_chat_body (&request);
    assert_null (strstr (ours, "\"stop\""));
    assert_null (strstr (ours, "\"seed\""));
    assert_null (strstr (ours, "\"max_tokens\""));
    json_t *back = json_loads (ours, 0, NULL);
    assert_non_null (back);
    json_decref (back);
    free (ours);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_strings_match_jansson),
        cmocka_unit_test (test_random_strings_match_jansson),
        cmocka_unit_test (test_invalid_utf8_stays_valid_json),
        cmocka_unit_test (test_numbers_match_jansson),
        cmocka_unit_test (test_result_line),
        cmocka_unit_test (test_record_round_trip),
        cmocka_unit_test (test_mcts_tree_matches_jansson),
        cmocka_unit_test (test_chat_body_matches_jansson),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
