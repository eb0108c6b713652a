/* test_scorer_rm.c - the batched reward backends' wire formats: prompt and
 * query texts, request bodies, and replies (good, malformed, short, long,
 * shuffled, duplicated). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "scorer/rm.h"

static void
test_prompt_text (void **state)
{
    (void) state;
    toa_chat_message_t one[] = {{"system", "Be brief."}, {"user", "What is 2+2?"}};
    char *text = toa_rm_prompt_text (one, 2);
    assert_string_equal (text, "What is 2+2?");
    free (text);
    text = toa_rm_prompt_text (one + 1, 1);
    assert_string_equal (text, "What is 2+2?");
    free (text);
    toa_chat_message_t turns[] = {
        {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "2+2?"}};
    text = toa_rm_prompt_text (turns, 4);
    assert_string_equal (text, "User: Hi\n\nAssistant: Hello!\n\nUser: 2+2?");
    free (text);
    toa_chat_message_t lone[] = {{"system", "Only a system message"}};
    text = toa_rm_prompt_text (lone, 1);
    assert_string_equal (text, "System: Only a system message");
    free (text);
    text = toa_rm_prompt_text (NULL, 0);
    assert_string_equal (text, "");
    free (text);
}

static void
test_query_text (void **state)
{
    (void) state;
    char *text = toa_rm_query_text ("{prompt}\n\n{response}", "Q?", "A.");
    assert_string_equal (text, "Q?\n\nA.");
    free (text);
    /* values are not expanded again; unknown names stay */
    text = toa_rm_query_text ("<u>{prompt}</u><a>{response}</a>{other}", "{response}", "x");
    assert_string_equal (text, "<u>{response}</u><a>x</a>{other}");
    free (text);
    text = toa_rm_query_text (NULL, "P", "R");
    assert_string_equal (text, "PR");
    free (text);
}

static void
test_bodies (void **state)
{
    (void) state;
    const char *queries[] = {"Q1 A1", "Q2 \"A2\""};
    const char *prompts[] = {"Q1", "Q2"};
    const char *labels[] = {"42", NULL};
    char *body = toa_rm_http_reward_body (queries, prompts, labels, 2);
    json_t *root = json_loads (body, 0, NULL);
    assert_non_null (root);
    assert_string_equal (json_string_value (json_array_get (json_object_get (root, "query"), 1)),
                         "Q2 \"A2\"");
    assert_string_equal (json_string_value (json_array_get (json_object_get (root, "prompts"), 0)),
                         "Q1");
    assert_string_equal (json_string_value (json_array_get (json_object_get (root, "labels"), 0)),
                         "42");
    assert_string_equal (json_string_value (json_array_get (json_object_get (root, "labels"), 1)),
                         "");
    json_decref (root);
    free (body);

    body = toa_rm_vllm_body ("Skywork/Skywork-Reward", queries, 2);
    root = json_loads (body, 0, NULL);
    assert_string_equal (json_string_value (json_object_get (root, "model")),
                         "Skywork/Skywork-Reward");
    assert_int_equal (json_array_size (json_object_get (root, "input")), 2);
    json_decref (root);
    free (body);
    body = toa_rm_vllm_body (NULL, queries, 1);
    root = json_loads (body, 0, NULL);
    assert_null (json_object_get (root, "model"));
    json_decref (root);
    free (body);
}

/* Parses BODY as http-reward (POOLING < 0) or vLLM for N queries. */
static int
s_parse (const char *body, int pooling, size_t n, double *rewards, bool *have, char *why)
{
    why[0] = 0;
    if (pooling < 0)
        return toa_rm_parse_http_reward (body, strlen (body), n, rewards, have, why, 200);
    return toa_rm_parse_vllm (body, strlen (body), pooling == 1, n, rewards, have, why, 200);
}

static void
test_http_reward_replies (void **state)
{
    (void) state;
    double r[3];
    bool have[3];
    char why[200];
    assert_int_equal (s_parse ("{\"rewards\": [0.5, -1.25, 3]}", -1, 3, r, have, why), 3);
    assert_true (r[0] == 0.5 && r[1] == -1.25 && r[2] == 3.0);
    assert_true (have[0] && have[1] && have[2]);
    /* short and long arrays: positions cannot be trusted, nobody gets one */
    assert_int_equal (s_parse ("{\"rewards\": [0.5, 1]}", -1, 3, r, have, why), -1);
    assert_non_null (strstr (why, "2 rewards for 3 queries"));
    assert_false (have[0] || have[1] || have[2]);
    assert_int_equal (s_parse ("{\"rewards\": [1, 2, 3, 4]}", -1, 3, r, have, why), -1);
    /* a non-number entry fails only its query */
    assert_int_equal (s_parse ("{\"rewards\": [1, null, \"2\"]}", -1, 3, r, have, why), 1);
    assert_true (have[0] && !have[1] && !have[2]);
    assert_true (r[1] == 0 && r[2] == 0);
    assert_non_null (strstr (why, "not a number"));
    /* malformed */
    assert_int_equal (s_parse ("<html>502 Bad Gateway</html>", -1, 3, r, have, why), -1);
    assert_non_null (strstr (why, "not JSON"));
    assert_int_equal (s_parse ("{\"scores\": [1, 2, 3]}", -1, 3, r, have, why), -1);
    assert_non_null (strstr (why, "no \"rewards\""));
    assert_int_equal (s_parse ("[1, 2, 3]", -1, 3, r, have, why), -1);
    assert_int_equal (s_parse ("", -1, 3, r, have, why), -1);
    assert_int_equal (s_parse ("{\"rewards\": 1}", -1, 1, r, have, why), -1);
}

static void
test_classify_replies (void **state)
{
    (void) state;
    double r[3];
    bool have[3];
    char why[200];
    const char *good =
        "{\"id\":\"classify-1\",\"object\":\"list\",\"data\":["
        "{\"index\":0,\"label\":\"LABEL_0\",\"probs\":[2.5],\"num_classes\":1},"
        "{\"index\":1,\"label\":\"LABEL_0\",\"probs\":[-0.75, 0.1],\"num_classes\":2},"
        "{\"index\":2,\"label\":\"LABEL_0\",\"probs\":[0],\"num_classes\":1}]}";
    assert_int_equal (s_parse (good, 0, 3, r, have, why), 3);
    assert_true (r[0] == 2.5 && r[1] == -0.75 && r[2] == 0);
    /* entries matched by index, in any order */
    const char *shuffled = "{\"data\":[{\"index\":2,\"probs\":[3]},{\"index\":0,\"probs\":[1]},"
                           "{\"index\":1,\"probs\":[2]}]}";
    assert_int_equal (s_parse (shuffled, 0, 3, r, have, why), 3);
    assert_true (r[0] == 1 && r[1] == 2 && r[2] == 3);
    /* no index: by position */
    assert_int_equal (s_parse ("{\"data\":[{\"probs\":[7]},{\"probs\":[8]}]}", 0, 2, r, have,
                               why), 2);
    assert_true (r[0] == 7 && r[1] == 8);
    /* short: the missing one fails */
    assert_int_equal (s_parse ("{\"data\":[{\"index\":0,\"probs\":[1]},{\"index\":2,"
                               "\"probs\":[3]}]}", 0, 3, r, have, why), 2);
    assert_true (have[0] && !have[1] && have[2]);
    assert_non_null (strstr (why, "2 entries for 3 inputs"));
    /* duplicate index: neither is trusted; out of range index ignored */
    assert_int_equal (s_parse ("{\"data\":[{\"index\":0,\"probs\":[1]},{\"index\":0,"
                               "\"probs\":[5]},{\"index\":1,\"probs\":[2]},{\"index\":9,"
                               "\"probs\":[9]},{\"index\":\"2\",\"probs\":[3]}]}",
                               0, 3, r, have, why), 1);
    assert_true (!have[0] && have[1] && !have[2]);
    /* non-numeric probs, empty probs */
    assert_int_equal (s_parse ("{\"data\":[{\"index\":0,\"probs\":[\"x\"]},{\"index\":1,"
                               "\"probs\":[]},{\"index\":2}]}", 0, 3, r, have, why), 0);
    assert_non_null (strstr (why, "probs[0]"));
    /* malformed as a whole */
    assert_int_equal (s_parse ("{\"object\":\"error\",\"message\":\"boom\"}", 0, 3, r, have,
                               why), -1);
    assert_int_equal (s_parse ("{\"data\":", 0, 3, r, have, why), -1);
    assert_int_equal (s_parse ("{\"data\":[]}", 0, 3, r, have, why), 0);
}

static void
test_pooling_replies (void **state)
{
    (void) state;
    double r[3];
    bool have[3];
    char why[200];
    const char *flat = "{\"object\":\"list\",\"data\":[{\"index\":0,\"object\":\"pooling\","
                       "\"data\":[0.25, 9]},{\"index\":1,\"object\":\"pooling\",\"data\":-2},"
                       "{\"index\":2,\"object\":\"pooling\",\"data\":[[0.1],[0.2],[0.9]]}]}";
    assert_int_equal (s_parse (flat, 1, 3, r, have, why), 3);
    assert_true (r[0] == 0.25);
    assert_true (r[1] == -2);
    assert_true (r[2] == 0.9);            /* per token: the last token's value */
    /* classify shape given to the pooling parser: no "data" in entries */
    assert_int_equal (s_parse ("{\"data\":[{\"index\":0,\"probs\":[1]}]}", 1, 1, r, have, why),
                      0);
    assert_false (have[0]);
    assert_int_equal (s_parse ("{\"data\":[{\"index\":0,\"data\":[]}]}", 1, 1, r, have, why), 0);
    assert_int_equal (s_parse ("{\"data\":[{\"index\":0,\"data\":[[]]}]}", 1, 1, r, have, why),
                      0);
    /* a pooling reply to the classify parser */
    assert_int_equal (s_parse (flat, 0, 3, r, have, why), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_prompt_text),
        cmocka_unit_test (test_query_text),
        cmocka_unit_test (test_bodies),
        cmocka_unit_test (test_http_reward_replies),
        cmocka_unit_test (test_classify_replies),
        cmocka_unit_test (test_pooling_replies),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
