/* test_sim_personality.c - every row of docs/servers.md against toa-simllm's
 * personalities: for each server (openai, vllm, sglang, llamacpp, tgi) and
 * each case (n > 1, prompt over the context, max_tokens over the context,
 * a generation running out of context, rate limit, overload, bad request,
 * unknown model) the status, retry headers and body shape it answers. */
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
#include "sim/personality.h"
#include "sim/service.h"

#define S_CONTEXT 64

typedef struct {
    toa_sim_model_config_t model;
    toa_sim_config_t config;
    toa_sim_knowledge_t *knowledge;
    toa_sim_service_t *service;
} s_server_t;

/* A service with one model "m" of PERSONALITY and a context of CONTEXT. */
static s_server_t *
s_server_new (const char *personality, int context)
{
    s_server_t *s = calloc (1, sizeof *s);
    s->model.model_id = "m";
    s->model.slots = 1;
    s->model.retry_after_s = 2;
    s->model.personality = (char *) personality;
    s->model.context_tokens = context;
    s->config.hang_ms = 10;
    s->config.threads = 1;
    s->config.models = &s->model;
    s->config.n_models = 1;
    s->knowledge = toa_sim_knowledge_new ();
    s->service = toa_sim_service_new (&s->config, s->knowledge, 1);
    assert_non_null (s->service);
    return s;
}

static void
s_server_destroy (s_server_t *s)
{
    toa_sim_service_destroy (&s->service);
    toa_sim_knowledge_destroy (&s->knowledge);
    free (s);
}

/* What one request got. */
typedef struct {
    int status;
    int retry_after_s;
    int64_t retry_after_ms;
    json_t *body;
    char *text;
} s_answer_t;

static s_answer_t
s_ask (const char *personality, int context, const char *body, const char *fault)
{
    s_server_t *s = s_server_new (personality, context);
    toa_sim_reply_t reply;
    assert_int_equal (toa_sim_service_handle (s->service, "POST", "/v1/chat/completions", body,
                                              strlen (body), fault, &reply), 0);
    s_answer_t answer = {
        .status = reply.status, .retry_after_s = reply.retry_after_s,
        .retry_after_ms = reply.retry_after_ms,
        .body = reply.body ? json_loadb (reply.body, reply.body_length, 0, NULL) : NULL,
        .text = reply.body ? strndup (reply.body, reply.body_length) : strdup (""),
    };
    toa_sim_service_done (s->service, &reply);
    toa_sim_reply_clear (&reply);
    s_server_destroy (s);
    return answer;
}

static void
s_answer_clear (s_answer_t *answer)
{
    json_decref (answer->body);
    free (answer->text);
}

static const char *s_short = "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", "
                             "\"content\": \"Say hello.\"}]";

/* A request body: the short prompt plus EXTRA members. */
static char *
s_body (const char *extra)
{
    char *body = malloc (4096);
    snprintf (body, 4096, "%s%s%s}", s_short, extra ? ", " : "", extra ? extra : "");
    return body;
}

/* A prompt of about 200 tokens. */
static char *
s_long_body (void)
{
    char *body = malloc (8192);
    int at = snprintf (body, 8192, "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", "
                       "\"content\": \"");
    for (int i = 0; i < 200; i++)
        at += snprintf (body + at, 8192 - (size_t) at, "word ");
    snprintf (body + at, 8192 - (size_t) at, "\"}]}");
    return body;
}

/* The message of any shape: error.message, message (flat) or error (TGI). */
static const char *
s_message (json_t *body)
{
    json_t *error = json_object_get (body, "error");
    if (json_is_string (error))
        return json_string_value (error);
    if (json_is_object (error))
        return json_string_value (json_object_get (error, "message"));
    return json_string_value (json_object_get (body, "message"));
}

static void
s_expect (s_answer_t *a, int status, const char *shape_path, const char *shape_value,
          const char *message_part)
{
    if (a->status != status)
        fail_msg ("expected HTTP %d, got %d: %s", status, a->status, a->text);
    if (shape_path) {
        /* "error.type", "type", "error_type" ... */
        char path[64];
        snprintf (path, sizeof path, "%s", shape_path);
        char *dot = strchr (path, '.');
        json_t *value = dot ? (*dot = 0, json_object_get (json_object_get (a->body, path),
                                                         dot + 1))
                            : json_object_get (a->body, path);
        char text[64];
        if (json_is_integer (value))
            snprintf (text, sizeof text, "%lld", (long long) json_integer_value (value));
        else
            snprintf (text, sizeof text, "%s", json_is_string (value)
                                               ? json_string_value (value) : "(none)");
        if (strcmp (text, shape_value) != 0)
            fail_msg ("%s: expected %s, got %s in %s", shape_path, shape_value, text, a->text);
    }
    if (message_part && (!s_message (a->body) || !strstr (s_message (a->body), message_part)))
        fail_msg ("expected a message with \"%s\" in %s", message_part, a->text);
}

/* Asks PERSONALITY (its context, BODY, FAULT) and checks the answer as
 * s_expect does. */
static void
s_check (const char *personality, int context, const char *body, const char *fault, int status,
         const char *shape_path, const char *shape_value, const char *message_part)
{
    s_answer_t a = s_ask (personality, context, body, fault);
    s_expect (&a, status, shape_path, shape_value, message_part);
    s_answer_clear (&a);
}

static size_t
s_choices (s_answer_t *a)
{
    return json_array_size (json_object_get (a->body, "choices"));
}

static void
test_n_above_one (void **state)
{
    (void) state;
    char *body = s_body ("\"n\": 3");
    const char *serve[] = {"openai", "vllm", "sglang"};
    for (size_t i = 0; i < 3; i++) {
        s_answer_t a = s_ask (serve[i], 4096, body, NULL);
        s_expect (&a, 200, NULL, NULL, NULL);
        assert_int_equal (s_choices (&a), 3);
        s_answer_clear (&a);
    }
    s_answer_t a = s_ask ("llamacpp", 4096, body, NULL);
    s_expect (&a, 500, "error.type", "server_error", "Only one completion choice is allowed");
    s_expect (&a, 500, "error.code", "500", NULL);
    s_answer_clear (&a);
    a = s_ask ("tgi", 4096, body, NULL);           /* n ignored: one choice */
    s_expect (&a, 200, NULL, NULL, NULL);
    assert_int_equal (s_choices (&a), 1);
    s_answer_clear (&a);
    free (body);
}

static void
test_prompt_over_context (void **state)
{
    (void) state;
    char *body = s_long_body ();
    s_answer_t a;
    s_check ("openai", S_CONTEXT, body, NULL, 400, "error.code", "context_length_exceeded",
             "This model's maximum context length is 64 tokens. However, your messages "
             "resulted in");
    a = s_ask ("vllm", S_CONTEXT, body, NULL);
    s_expect (&a, 400, "error.type", "BadRequestError", "However, your request has");
    s_expect (&a, 400, "error.code", "400", NULL);
    s_answer_clear (&a);
    s_check ("sglang", S_CONTEXT, body, NULL, 400, "object", "error",
             "is longer than the model's context length (64");
    a = s_ask ("llamacpp", S_CONTEXT, body, NULL);
    s_expect (&a, 400, "error.type", "exceed_context_size_error",
              "exceeds the available context size (64 tokens)");
    s_expect (&a, 400, "error.n_ctx", "64", NULL);
    s_answer_clear (&a);
    s_check ("tgi", S_CONTEXT, body, NULL, 422, "error_type", "validation",
             "`inputs` must have less than 64 tokens");
    /* the forced fault says the same as a long prompt */
    char *short_body = s_body (NULL);
    s_check ("sglang", 4096, short_body, "context", 400, "type", "BadRequestError",
             "is longer than the model's context length");
    free (short_body);
    free (body);
}

static void
test_max_tokens_over_context (void **state)
{
    (void) state;
    char *body = s_body ("\"max_tokens\": 100");
    s_check ("openai", S_CONTEXT, body, NULL, 400, "error.code", "context_length_exceeded",
             "in the completion");
    s_check ("vllm", S_CONTEXT, body, NULL, 400, "error.type", "BadRequestError",
             "'max_tokens' or 'max_completion_tokens' is too large: 100");
    s_check ("sglang", S_CONTEXT, body, NULL, 400, "code", "400",
             "Requested token count exceeds the model's maximum");
    s_check ("tgi", S_CONTEXT, body, NULL, 422, "error_type", "validation",
             "`inputs` tokens + `max_new_tokens` must be <= 64");
    /* llama.cpp takes it and fails only when the generation reaches the end */
    s_check ("llamacpp", 4096, body, NULL, 200, NULL, NULL, NULL);
    free (body);
}

static void
test_generation_runs_out (void **state)
{
    (void) state;
    char *body = s_body (NULL);      /* ~10 prompt tokens, a longer answer */
    s_check ("llamacpp", 14, body, NULL, 500, "error.type", "server_error",
             "context shift is disabled");
    const char *others[] = {"openai", "vllm", "sglang", "tgi"};
    for (size_t i = 0; i < 4; i++) {
        s_check (others[i], 14, body, NULL, 200, NULL, NULL, NULL);
    }
    free (body);
}

static void
test_rate_limit (void **state)
{
    (void) state;
    char *body = s_body (NULL);
    s_answer_t a = s_ask ("openai", 4096, body, "429");
    s_expect (&a, 429, "error.code", "rate_limit_exceeded", "Please try again in 2s");
    assert_int_equal (a.retry_after_s, 2);
    assert_int_equal (a.retry_after_ms, 2000);
    s_answer_clear (&a);
    /* the others have no rate limit: a proxy in front sends Retry-After */
    const char *others[] = {"vllm", "sglang", "llamacpp", "tgi"};
    for (size_t i = 0; i < 4; i++) {
        a = s_ask (others[i], 4096, body, "429");
        s_expect (&a, 429, "error.code", "rate_limit_exceeded", NULL);
        assert_int_equal (a.retry_after_s, 2);
        assert_int_equal (a.retry_after_ms, -1);
        s_answer_clear (&a);
    }
    free (body);
}

static void
test_overload (void **state)
{
    (void) state;
    char *body = s_body (NULL);
    s_answer_t a;
    s_check ("openai", 4096, body, "overload", 503, "error.type", "server_error", "overloaded");
    a = s_ask ("tgi", 4096, body, "overload");
    s_expect (&a, 429, "error_type", "overloaded", "Model is overloaded");
    assert_int_equal (a.retry_after_s, -1);
    s_answer_clear (&a);
    s_check ("llamacpp", 4096, body, "overload", 503, "error.type", "unavailable_error",
             "Loading model");
    const char *queue[] = {"vllm", "sglang"};     /* they queue: served */
    for (size_t i = 0; i < 2; i++) {
        s_check (queue[i], 4096, body, "overload", 200, NULL, NULL, NULL);
    }
    free (body);
}

static void
test_bad_request (void **state)
{
    (void) state;
    const char *body = "{\"model\": \"m\", \"messages\": \"hello\"}";
    s_check ("openai", 4096, body, NULL, 400, "error.type", "invalid_request_error", "messages");
    s_check ("vllm", 4096, body, NULL, 400, "error.type", "BadRequestError", "messages");
    s_check ("sglang", 4096, body, NULL, 400, "object", "error", "messages");
    s_check ("llamacpp", 4096, body, NULL, 500, "error.type", "server_error", "messages");
    s_check ("tgi", 4096, body, NULL, 422, "error_type", "validation", "Input validation error");
    /* the forced fault gives each server's typical complaint */
    char *good = s_body (NULL);
    s_check ("llamacpp", 4096, good, "bad_request", 500, "error.type", "server_error",
             "Unsupported param: best_of");
    s_check ("openai", 4096, good, "bad_request", 400, "error.type", "invalid_request_error",
             "Unrecognized request argument");
    free (good);
}

static void
test_model_not_found (void **state)
{
    (void) state;
    const char *body = "{\"model\": \"other\", \"messages\": [{\"role\": \"user\", "
                       "\"content\": \"Say hello.\"}]}";
    s_answer_t a;
    s_check ("openai", 4096, body, NULL, 404, "error.code", "model_not_found",
             "The model `other` does not exist or you do not have access to it.");
    a = s_ask ("vllm", 4096, body, NULL);
    s_expect (&a, 404, "error.type", "NotFoundError", "The model `other` does not exist.");
    s_expect (&a, 404, "error.param", "model", NULL);
    s_answer_clear (&a);
    const char *any[] = {"sglang", "llamacpp", "tgi"};    /* the name is not checked */
    for (size_t i = 0; i < 3; i++) {
        s_check (any[i], 4096, body, NULL, 200, NULL, NULL, NULL);
    }
}

static void
test_names (void **state)
{
    (void) state;
    toa_sim_personality_t p;
    for (int i = 0; i < TOA_SIM_PERSONALITY_COUNT; i++) {
        assert_int_equal (toa_sim_personality_parse (
            toa_sim_personality_name ((toa_sim_personality_t) i), &p), 0);
        assert_int_equal (p, i);
    }
    assert_int_equal (toa_sim_personality_parse ("ollama", &p), -1);
    assert_int_equal (toa_sim_personality_parse (NULL, &p), -1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_n_above_one),
        cmocka_unit_test (test_prompt_over_context),
        cmocka_unit_test (test_max_tokens_over_context),
        cmocka_unit_test (test_generation_runs_out),
        cmocka_unit_test (test_rate_limit),
        cmocka_unit_test (test_overload),
        cmocka_unit_test (test_bad_request),
        cmocka_unit_test (test_model_not_found),
        cmocka_unit_test (test_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
