/* test_openai.c - unit tests of common/openai: request bodies, replies, both
 * error shapes, quota and n>1 rejection detection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "common/openai.h"

static toa_chat_message_t s_messages[] = {
    {"system", "Be brief."},
    {"user", "What is 2+2?"},
};

static json_t *
s_body_json (const toa_openai_chat_request_t *request)
{
    char *text = toa_openai_chat_body (request);
    assert_non_null (text);
    json_t *body = json_loads (text, 0, NULL);
    free (text);
    assert_non_null (body);
    return body;
}

static void
test_body_fields (void **state)
{
    (void) state;
    const char *model_stop[] = {"</s>", "###"};
    const char *task_stop[] = {"###", "END"};
    toa_openai_chat_request_t request = {
        .model_id = "llama-3", .messages = s_messages, .n_messages = 2,
        .temperature = 0.7, .top_p = 0.9, .max_tokens = 256,
        .stop = model_stop, .n_stop = 2, .extra_stop = task_stop, .n_extra_stop = 2,
        .has_seed = true, .seed = 42, .n = 3,
    };
    json_t *body = s_body_json (&request);
    assert_string_equal (json_string_value (json_object_get (body, "model")), "llama-3");
    json_t *messages = json_object_get (body, "messages");
    assert_int_equal (json_array_size (messages), 2);
    assert_string_equal (json_string_value (json_object_get (json_array_get (messages, 1), "role")), "user");
    assert_string_equal (json_string_value (json_object_get (json_array_get (messages, 1), "content")),
                         "What is 2+2?");
    assert_true (json_real_value (json_object_get (body, "temperature")) > 0.69);
    assert_true (json_real_value (json_object_get (body, "top_p")) > 0.89);
    assert_int_equal (json_integer_value (json_object_get (body, "max_tokens")), 256);
    assert_int_equal (json_integer_value (json_object_get (body, "seed")), 42);
    assert_int_equal (json_integer_value (json_object_get (body, "n")), 3);
    json_t *stop = json_object_get (body, "stop");
    assert_int_equal (json_array_size (stop), 3);          /* "###" once */
    assert_string_equal (json_string_value (json_array_get (stop, 2)), "END");
    json_decref (body);
}

static void
test_body_omits_optional (void **state)
{
    (void) state;
    toa_openai_chat_request_t request = {
        .model_id = "m", .messages = s_messages, .n_messages = 1,
        .temperature = 0, .top_p = 1, .n = 1,
    };
    json_t *body = s_body_json (&request);
    assert_null (json_object_get (body, "seed"));
    assert_null (json_object_get (body, "n"));
    assert_null (json_object_get (body, "stop"));
    assert_null (json_object_get (body, "max_tokens"));
    json_decref (body);

    request.has_seed = true;
    request.seed = UINT64_MAX;                              /* sent as 63 bits */
    body = s_body_json (&request);
    assert_true (json_integer_value (json_object_get (body, "seed")) == INT64_MAX);
    json_decref (body);

    request.model_id = NULL;
    assert_null (toa_openai_chat_body (&request));
}

static void
test_reply_ok (void **state)
{
    (void) state;
    const char *body =
        "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":["
        "{\"index\":1,\"message\":{\"role\":\"assistant\",\"content\":\"second\"},\"finish_reason\":\"length\"},"
        "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"first\"},\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":30,\"total_tokens\":42}}";
    toa_openai_reply_t reply;
    char why[128];
    assert_int_equal (toa_openai_parse_reply (body, strlen (body), &reply, why, sizeof why), 0);
    assert_int_equal (reply.n_choices, 2);
    assert_string_equal (reply.choices[0].content, "first");
    assert_string_equal (reply.choices[0].finish_reason, "stop");
    assert_string_equal (reply.choices[1].content, "second");
    assert_string_equal (reply.choices[1].finish_reason, "length");
    assert_int_equal (reply.prompt_tokens, 12);
    assert_int_equal (reply.completion_tokens, 30);
    assert_int_equal (reply.total_tokens, 42);
    toa_openai_reply_clear (&reply);
    toa_openai_reply_clear (&reply);                        /* safe twice */
}

static void
test_reply_without_usage (void **state)
{
    (void) state;
    const char *body = "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],"
                       "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}";
    toa_openai_reply_t reply;
    char why[128];
    assert_int_equal (toa_openai_parse_reply (body, strlen (body), &reply, why, sizeof why), 0);
    assert_string_equal (reply.choices[0].finish_reason, "");
    assert_int_equal (reply.total_tokens, 4);
    toa_openai_reply_clear (&reply);
}

static void
test_reply_bad (void **state)
{
    (void) state;
    const char *bodies[] = {
        "<html>Bad Gateway</html>",                               /* not JSON */
        "{\"choices\":[{\"message\":{\"content\":\"cut",          /* truncated */
        "[1,2]",                                                  /* not an object */
        "{\"id\":\"x\"}",                                         /* no choices */
        "{\"choices\":[]}",                                       /* empty choices */
        "{\"choices\":[{\"message\":{\"role\":\"assistant\"}}]}", /* no content */
        "{\"choices\":[{\"message\":{\"content\":null}}]}",       /* null content */
        "{\"choices\":[{\"message\":{\"content\":\"a\"}},7]}",    /* choice not object */
        "",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        toa_openai_reply_t reply;
        char why[128] = "";
        assert_int_equal (toa_openai_parse_reply (bodies[i], strlen (bodies[i]), &reply, why,
                                                  sizeof why), -1);
        assert_true (strlen (why) > 0);
        assert_int_equal (reply.n_choices, 0);
        assert_null (reply.choices);
    }
    toa_openai_reply_t reply;
    char why[128];
    assert_int_equal (toa_openai_parse_reply (NULL, 0, &reply, why, sizeof why), -1);
    const char *missing = "{\"id\":\"x\"}";
    toa_openai_parse_reply (missing, strlen (missing), &reply, why, sizeof why);
    assert_string_equal (why, "reply has no choices");
}

static void
test_error_openai_shape (void **state)
{
    (void) state;
    const char *body = "{\"error\":{\"message\":\"You exceeded your current quota\","
                       "\"type\":\"insufficient_quota\",\"param\":null,\"code\":\"insufficient_quota\"}}";
    toa_openai_error_t error;
    assert_int_equal (toa_openai_parse_error (body, strlen (body), &error), 0);
    assert_string_equal (error.message, "You exceeded your current quota");
    assert_string_equal (error.type, "insufficient_quota");
    assert_true (toa_openai_error_is_quota (&error));
    toa_openai_error_clear (&error);
    toa_openai_error_clear (&error);

    body = "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}";
    assert_int_equal (toa_openai_parse_error (body, strlen (body), &error), 0);
    assert_false (toa_openai_error_is_quota (&error));
    assert_string_equal (error.code, "rate_limit_exceeded");
    toa_openai_error_clear (&error);
}

static void
test_error_vllm_shape (void **state)
{
    (void) state;
    const char *body = "{\"object\":\"error\",\"message\":\"This model's maximum context length is 4096 tokens.\","
                       "\"type\":\"BadRequestError\",\"param\":null,\"code\":400}";
    toa_openai_error_t error;
    assert_int_equal (toa_openai_parse_error (body, strlen (body), &error), 0);
    assert_string_equal (error.message, "This model's maximum context length is 4096 tokens.");
    assert_string_equal (error.type, "BadRequestError");
    assert_string_equal (error.code, "400");
    assert_false (toa_openai_error_is_quota (&error));
    assert_false (toa_openai_error_rejects_n (400, &error));
    toa_openai_error_clear (&error);
}

static void
test_error_not_json (void **state)
{
    (void) state;
    const char *body = "upstream connect error\n";
    toa_openai_error_t error;
    assert_int_equal (toa_openai_parse_error (body, strlen (body), &error), -1);
    assert_string_equal (error.message, "upstream connect error ");
    assert_string_equal (error.type, "");
    toa_openai_error_clear (&error);
    assert_int_equal (toa_openai_parse_error (NULL, 0, &error), -1);
    assert_string_equal (error.message, "empty body");
    toa_openai_error_clear (&error);
    body = "{\"error\":\"model not found\"}";
    assert_int_equal (toa_openai_parse_error (body, strlen (body), &error), 0);
    assert_string_equal (error.message, "model not found");
    toa_openai_error_clear (&error);
}

static void
test_error_rejects_n (void **state)
{
    (void) state;
    /* refusals of n > 1 at 400 (and 422), and the strong ones at 500 too */
    const char *yes[] = {
        "{\"error\":{\"message\":\"Only one completion choice is allowed\",\"type\":\"invalid_request_error\"}}",
        "{\"object\":\"error\",\"message\":\"'n' must be 1 for this model\",\"type\":\"BadRequestError\"}",
        "{\"error\":{\"message\":\"n > 1 is not supported\"}}",
    };
    const bool strong[] = {true, true, false};
    const char *no[] = {
        "{\"error\":{\"message\":\"max_tokens is too large\"}}",
        "{\"error\":{\"message\":\"Invalid n-gram setting\"}}",
        "{\"error\":{\"message\":\"CUDA error in n layer\"}}",
    };
    toa_openai_error_t error;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (toa_openai_parse_error (yes[i], strlen (yes[i]), &error), 0);
        assert_true (toa_openai_error_rejects_n (400, &error));
        assert_true (toa_openai_error_rejects_n (422, &error));
        assert_int_equal (toa_openai_error_rejects_n (500, &error), strong[i]);
        assert_false (toa_openai_error_rejects_n (200, &error));
        toa_openai_error_clear (&error);
    }
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (toa_openai_parse_error (no[i], strlen (no[i]), &error), 0);
        if (i < 2)       /* a lone n at 400 does name the parameter */
            assert_false (toa_openai_error_rejects_n (400, &error));
        assert_false (toa_openai_error_rejects_n (500, &error));
        toa_openai_error_clear (&error);
    }
    /* llama.cpp, as it really answers (docs/servers.md) */
    const char *llamacpp = "{\"error\":{\"code\":500,\"message\":\"Only one completion choice "
                           "is allowed\",\"type\":\"server_error\"}}";
    assert_int_equal (toa_openai_parse_error (llamacpp, strlen (llamacpp), &error), 0);
    assert_true (toa_openai_error_rejects_n (500, &error));
    toa_openai_error_clear (&error);
}

/* Answers that blame the request, by what they say rather than by status
 * alone: the bodies of docs/servers.md. */
static void
test_error_blames_request (void **state)
{
    (void) state;
    static const struct {
        long status;
        const char *body;
        bool request;
    } cases[] = {
        {500, "{\"error\":{\"code\":500,\"message\":\"context shift is disabled\","
              "\"type\":\"server_error\"}}", true},
        {500, "{\"error\":{\"code\":500,\"message\":\"Unsupported param: best_of\","
              "\"type\":\"server_error\"}}", true},
        {500, "{\"error\":{\"code\":500,\"message\":\"[json.exception.type_error.302] type "
              "must be number, but is string\",\"type\":\"server_error\"}}", true},
        {400, "{\"error\":{\"code\":400,\"message\":\"request (5000 tokens) exceeds the "
              "available context size (4096 tokens), try increasing it\",\"type\":"
              "\"exceed_context_size_error\",\"n_prompt_tokens\":5000,\"n_ctx\":4096}}", true},
        {422, "{\"error\":\"Input validation error: `inputs` tokens + `max_new_tokens` must be "
              "<= 4096. Given: 17 `inputs` tokens and 10000 `max_new_tokens`\",\"error_type\":"
              "\"validation\"}", true},
        {400, "{\"object\":\"error\",\"message\":\"The input (5000 tokens) is longer than "
              "the model's context length (4096 tokens).\",\"type\":\"BadRequestError\","
              "\"param\":null,\"code\":400}", true},
        {500, "{\"error\":{\"message\":\"The server had an error while processing your "
              "request. Sorry about that!\",\"type\":\"server_error\"}}", false},
        {503, "{\"error\":{\"code\":503,\"message\":\"Loading model\",\"type\":"
              "\"unavailable_error\"}}", false},
        {429, "{\"error\":\"Model is overloaded\",\"error_type\":\"overloaded\"}", false},
        {404, "{\"error\":{\"message\":\"The model `x` does not exist.\",\"type\":"
              "\"NotFoundError\",\"param\":\"model\",\"code\":404}}", false},
        {502, "<html>bad gateway</html>", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        toa_openai_error_t error;
        assert_true (toa_openai_parse_error (cases[i].body, strlen (cases[i].body), &error) >= -1);
        if (toa_openai_error_blames_request (cases[i].status, &error) != cases[i].request)
            fail_msg ("case %zu: HTTP %ld %s: expected %s", i, cases[i].status, cases[i].body,
                      cases[i].request ? "the request" : "the server");
        toa_openai_error_clear (&error);
    }
    /* TGI's shape: its error_type is the type */
    toa_openai_error_t error;
    const char *tgi = "{\"error\":\"Model is overloaded\",\"error_type\":\"overloaded\"}";
    assert_int_equal (toa_openai_parse_error (tgi, strlen (tgi), &error), 0);
    assert_string_equal (error.message, "Model is overloaded");
    assert_string_equal (error.type, "overloaded");
    toa_openai_error_clear (&error);
}

/* A long server message is cut to an excerpt, at a UTF-8 boundary. */
static void
test_error_describe_short (void **state)
{
    (void) state;
    char message[1200];
    size_t at = 0;
    while (at + 2 < 1000) {            /* "é" is two bytes */
        message[at++] = (char) 0xc3;
        message[at++] = (char) 0xa9;
    }
    message[at] = 0;
    toa_openai_error_t error = {.message = message, .type = "", .code = ""};
    char text[2048];
    toa_openai_error_describe (500, &error, text, sizeof text);
    assert_true (strlen (text) < 8 + 10 + TOA_OPENAI_MESSAGE_MAX + 4);
    assert_non_null (strstr (text, "..."));
    const char *dots = strstr (text, "...");
    assert_true (((unsigned char) dots[-1] & 0xc0) == 0x80);   /* ends a whole "é" */
    assert_int_equal ((unsigned char) dots[-2], 0xc3);
    error.message = "short";
    error.type = "server_error";
    toa_openai_error_describe (500, &error, text, sizeof text);
    assert_string_equal (text, "HTTP 500: short [server_error]");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_body_fields),
        cmocka_unit_test (test_body_omits_optional),
        cmocka_unit_test (test_reply_ok),
        cmocka_unit_test (test_reply_without_usage),
        cmocka_unit_test (test_reply_bad),
        cmocka_unit_test (test_error_openai_shape),
        cmocka_unit_test (test_error_vllm_shape),
        cmocka_unit_test (test_error_not_json),
        cmocka_unit_test (test_error_rejects_n),
        cmocka_unit_test (test_error_blames_request),
        cmocka_unit_test (test_error_describe_short),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
