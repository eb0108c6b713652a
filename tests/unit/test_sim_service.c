/* test_sim_service.c - toa-simllm's answers without HTTP: routing, error
 * shapes, injected faults (forced and at configured rates), latency, n,
 * seeds, reward endpoints and counters. Each server's own answers (the
 * personalities) are tested in test_sim_personality.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/knowledge.h"
#include "sim/service.h"

static const char *s_question = "Tom has 5 boxes of 12 pencils and gives away 17. How many are left?";

typedef struct {
    toa_sim_model_config_t models[2];
    toa_sim_config_t config;
    toa_sim_knowledge_t *knowledge;
    toa_sim_service_t *service;
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *f = calloc (1, sizeof *f);
    f->models[0].model_id = "fast";
    f->models[0].slots = 4;
    f->models[0].math_skill = 0.5;
    f->models[0].skill_spread = 0.2;
    f->models[0].retry_after_s = 3;
    f->models[0].personality = "openai";
    f->models[0].context_tokens = 4096;
    f->models[1] = f->models[0];
    f->models[1].model_id = "slow";
    f->models[1].latency_ms = 100;
    f->models[1].jitter_ms = 20;
    f->models[1].per_token_ms = 1;
    f->models[1].personality = "vllm";
    f->config.hang_ms = 1234;
    f->config.threads = 1;
    f->config.models = f->models;
    f->config.n_models = 2;
    f->knowledge = toa_sim_knowledge_new ();
    toa_sim_knowledge_add (f->knowledge, s_question, "43", NULL, NULL);
    f->service = toa_sim_service_new (&f->config, f->knowledge, 7);
    assert_non_null (f->service);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *f = *state;
    toa_sim_service_destroy (&f->service);
    toa_sim_service_destroy (&f->service);
    toa_sim_knowledge_destroy (&f->knowledge);
    free (f);
    return 0;
}

/* Handles a request; returns the reply's JSON body (NULL if not JSON). */
static json_t *
s_call (s_fixture_t *f, const char *method, const char *path, const char *body,
        const char *fault, toa_sim_reply_t *reply)
{
    assert_int_equal (toa_sim_service_handle (f->service, method, path, body,
                                              body ? strlen (body) : 0, fault, reply), 0);
    json_t *root = reply->body ? json_loadb (reply->body, reply->body_length, 0, NULL) : NULL;
    toa_sim_service_done (f->service, reply);
    return root;
}

static char *
s_chat_body (const char *model, const char *extra)
{
    char *body = malloc (1024);
    snprintf (body, 1024, "{\"model\": \"%s\", \"messages\": [{\"role\": \"user\", \"content\": "
              "\"%s\"}]%s%s}", model, s_question, extra ? ", " : "", extra ? extra : "");
    return body;
}

static const char *
s_error_field (json_t *root, const char *field)
{
    return json_string_value (json_object_get (json_object_get (root, "error"), field));
}

static void
test_routes_and_errors (void **state)
{
    s_fixture_t *f = *state;
    toa_sim_reply_t reply;
    json_t *root = s_call (f, "GET", "/health", NULL, NULL, &reply);
    assert_int_equal (reply.status, 200);
    assert_string_equal (json_string_value (json_object_get (root, "status")), "ok");
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "GET", "/v1/models", NULL, NULL, &reply);
    assert_int_equal (reply.status, 200);
    assert_string_equal (json_string_value (json_object_get (root, "object")), "list");
    json_t *data = json_object_get (root, "data");
    assert_int_equal (json_array_size (data), 2);
    assert_string_equal (json_string_value (json_object_get (json_array_get (data, 1), "id")),
                         "slow");
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "GET", "/nowhere", NULL, NULL, &reply);
    assert_int_equal (reply.status, 404);
    assert_non_null (s_error_field (root, "message"));
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "GET", "/v1/chat/completions", NULL, NULL, &reply);
    assert_int_equal (reply.status, 405);
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/v1/chat/completions", "{\"model\": ", NULL, &reply);
    assert_int_equal (reply.status, 400);
    assert_string_equal (s_error_field (root, "type"), "invalid_request_error");
    json_decref (root);
    toa_sim_reply_clear (&reply);
    char *body = s_chat_body ("nope", NULL);
    root = s_call (f, "POST", "/v1/chat/completions", body, NULL, &reply);
    assert_int_equal (reply.status, 404);
    assert_string_equal (s_error_field (root, "code"), "model_not_found");
    assert_int_equal (reply.model, -1);
    json_decref (root);
    toa_sim_reply_clear (&reply);
    free (body);
    body = s_chat_body ("slow", "\"n\": 2");
    root = s_call (f, "POST", "/v1/chat/completions", body, NULL, &reply);
    assert_int_equal (reply.status, 200);
    assert_int_equal (json_array_size (json_object_get (root, "choices")), 2);
    json_decref (root);
    toa_sim_reply_clear (&reply);
    free (body);
}

static void
test_chat_latency_and_seed (void **state)
{
    s_fixture_t *f = *state;
    toa_sim_reply_t reply;
    char *body = s_chat_body ("slow", "\"seed\": 5");
    json_t *first = s_call (f, "POST", "/v1/chat/completions", body, NULL, &reply);
    assert_int_equal (reply.status, 200);
    assert_int_equal (reply.pool, 1);
    int64_t tokens = json_integer_value (
        json_object_get (json_object_get (first, "usage"), "completion_tokens"));
    assert_true (tokens > 10);
    assert_true (reply.delay_ms >= 80 + tokens && reply.delay_ms <= 120 + tokens);
    toa_sim_reply_clear (&reply);
    json_t *second = s_call (f, "POST", "/v1/chat/completions", body, NULL, &reply);
    toa_sim_reply_clear (&reply);
    json_t *c1 = json_array_get (json_object_get (first, "choices"), 0);
    json_t *c2 = json_array_get (json_object_get (second, "choices"), 0);
    assert_true (json_equal (c1, c2));
    assert_string_not_equal (json_string_value (json_object_get (first, "id")),
                             json_string_value (json_object_get (second, "id")));
    json_decref (first);
    json_decref (second);
    free (body);
    /* unseeded requests vary */
    body = s_chat_body ("fast", NULL);
    json_t *texts = json_array ();
    for (int i = 0; i < 20; i++) {
        json_t *root = s_call (f, "POST", "/v1/chat/completions", body, NULL, &reply);
        assert_int_equal (reply.delay_ms, 0);
        json_array_append (texts, json_object_get (json_object_get (
            json_array_get (json_object_get (root, "choices"), 0), "message"), "content"));
        json_decref (root);
        toa_sim_reply_clear (&reply);
    }
    int differ = 0;
    for (size_t i = 1; i < 20; i++)
        differ += !json_equal (json_array_get (texts, 0), json_array_get (texts, i));
    assert_true (differ > 0);
    json_decref (texts);
    free (body);
}

static void
test_forced_faults (void **state)
{
    s_fixture_t *f = *state;
    toa_sim_reply_t reply;
    char *body = s_chat_body ("fast", NULL);
    json_t *root = s_call (f, "POST", "/v1/chat/completions", body, "500", &reply);
    assert_int_equal (reply.status, 500);
    assert_string_equal (s_error_field (root, "type"), "server_error");
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/v1/chat/completions", body, "429", &reply);
    assert_int_equal (reply.status, 429);
    assert_int_equal (reply.retry_after_s, 3);
    assert_string_equal (s_error_field (root, "code"), "rate_limit_exceeded");
    assert_string_equal (s_error_field (root, "type"), "requests");
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/v1/chat/completions", body, "quota", &reply);
    assert_int_equal (reply.status, 429);
    assert_int_equal (reply.retry_after_s, -1);
    assert_string_equal (s_error_field (root, "code"), "insufficient_quota");
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/v1/chat/completions", body, "context", &reply);
    assert_int_equal (reply.status, 400);
    assert_string_equal (s_error_field (root, "code"), "context_length_exceeded");
    assert_non_null (strstr (s_error_field (root, "message"), "maximum context length"));
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/v1/chat/completions", body, "hang", &reply);
    assert_null (root);
    assert_true (reply.drop);
    assert_int_equal (reply.delay_ms, 1234);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/v1/chat/completions", body, "malformed", &reply);
    assert_int_equal (reply.status, 200);
    assert_null (root);
    assert_true (reply.body_length > 10);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/v1/chat/completions", body, "none", &reply);
    assert_int_equal (reply.status, 200);
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/v1/chat/completions", body, "explode", &reply);
    assert_int_equal (reply.status, 400);
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/reward", "{\"query\": [\"a\"]}", "500", &reply);
    assert_int_equal (reply.status, 500);
    json_decref (root);
    toa_sim_reply_clear (&reply);
    free (body);
    root = s_call (f, "GET", "/stats", NULL, NULL, &reply);
    json_t *faults = json_object_get (root, "faults");
    assert_int_equal (json_integer_value (json_object_get (faults, "500")), 2);
    assert_int_equal (json_integer_value (json_object_get (faults, "hang")), 1);
    assert_int_equal (json_integer_value (json_object_get (faults, "malformed")), 1);
    assert_int_equal (json_integer_value (json_object_get (faults, "quota")), 1);
    assert_int_equal (json_integer_value (json_object_get (faults, "context")), 1);
    json_t *fast = json_object_get (json_object_get (root, "models"), "fast");
    /* "explode" was refused before the model was looked at */
    assert_int_equal (json_integer_value (json_object_get (fast, "requests")), 7);
    assert_int_equal (json_integer_value (json_object_get (fast, "in_flight")), 0);
    json_decref (root);
    toa_sim_reply_clear (&reply);
}

static void
test_fault_rates (void **state)
{
    s_fixture_t *f = *state;
    f->models[0].fault_500 = 0.3;
    f->models[0].fault_429 = 0.2;
    f->models[0].fault_malformed = 0.1;
    toa_sim_reply_t reply;
    char *body = s_chat_body ("fast", NULL);
    int counts[4] = {0};
    int n = 1000;
    for (int i = 0; i < n; i++) {
        json_t *root = s_call (f, "POST", "/v1/chat/completions", body, NULL, &reply);
        if (reply.status == 500)
            counts[0]++;
        else if (reply.status == 429)
            counts[1]++;
        else if (reply.status == 200 && !root)
            counts[2]++;
        else if (reply.status == 200)
            counts[3]++;
        json_decref (root);
        toa_sim_reply_clear (&reply);
    }
    f->models[0].fault_500 = f->models[0].fault_429 = f->models[0].fault_malformed = 0;
    assert_true (counts[0] > 250 && counts[0] < 350);
    assert_true (counts[1] > 160 && counts[1] < 240);
    assert_true (counts[2] > 70 && counts[2] < 130);
    assert_int_equal (counts[0] + counts[1] + counts[2] + counts[3], n);
    free (body);
}

static void
test_reward_endpoints (void **state)
{
    s_fixture_t *f = *state;
    toa_sim_reply_t reply;
    json_t *root = s_call (f, "POST", "/reward",
                           "{\"query\": [\"x #### 43\", \"x #### 42\", \"whatever\"],"
                           " \"labels\": [\"43\", 43, null]}", NULL, &reply);
    assert_int_equal (reply.status, 200);
    json_t *rewards = json_object_get (root, "rewards");
    assert_int_equal (json_array_size (rewards), 3);
    assert_true (json_real_value (json_array_get (rewards, 0)) == 1.0);
    assert_true (json_real_value (json_array_get (rewards, 1)) == -1.0);
    double hashed = json_real_value (json_array_get (rewards, 2));
    assert_true (hashed >= -1.0 && hashed <= 1.0);
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/reward", "{\"query\": 5}", NULL, &reply);
    assert_int_equal (reply.status, 400);
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/classify", "{\"model\": \"rm\", \"input\": [\"a\", \"b c\"]}",
                   NULL, &reply);
    assert_int_equal (reply.status, 200);
    json_t *data = json_object_get (root, "data");
    assert_int_equal (json_array_size (data), 2);
    json_t *item = json_array_get (data, 1);
    assert_int_equal (json_integer_value (json_object_get (item, "index")), 1);
    double p = json_real_value (json_array_get (json_object_get (item, "probs"), 0));
    assert_true (p >= 0 && p <= 1);
    assert_string_equal (json_string_value (json_object_get (root, "object")), "list");
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/pooling", "{\"model\": \"rm\", \"input\": \"a\"}", NULL, &reply);
    assert_int_equal (reply.status, 200);
    item = json_array_get (json_object_get (root, "data"), 0);
    assert_string_equal (json_string_value (json_object_get (item, "object")), "pooling");
    assert_int_equal (json_array_size (json_object_get (item, "data")), 1);
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/pooling", "{\"input\": \"a\"}", NULL, &reply);
    assert_int_equal (reply.status, 400);
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "POST", "/stats/reset", "", NULL, &reply);
    assert_int_equal (reply.status, 200);
    json_decref (root);
    toa_sim_reply_clear (&reply);
    root = s_call (f, "GET", "/stats", NULL, NULL, &reply);
    assert_int_equal (json_integer_value (json_object_get (root, "requests")), 1);
    json_decref (root);
    toa_sim_reply_clear (&reply);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_routes_and_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_chat_latency_and_seed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_forced_faults, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_fault_rates, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_reward_endpoints, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
