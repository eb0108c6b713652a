/* personality.c - the real servers' answers, case by case (see personality.h
 * and docs/servers.md for where each body comes from). */
#include "sim/personality.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const s_names[TOA_SIM_PERSONALITY_COUNT] = {
    "openai", "vllm", "sglang", "llamacpp", "tgi",
};

int
toa_sim_personality_parse (const char *name, toa_sim_personality_t *personality)
{
    for (int i = 0; name && i < TOA_SIM_PERSONALITY_COUNT; i++)
        if (strcmp (name, s_names[i]) == 0) {
            *personality = (toa_sim_personality_t) i;
            return 0;
        }
    return -1;
}

const char *
toa_sim_personality_name (toa_sim_personality_t personality)
{
    return personality < TOA_SIM_PERSONALITY_COUNT ? s_names[personality] : "openai";
}

bool
toa_sim_personality_serves (toa_sim_personality_t personality, toa_sim_case_t which)
{
    switch (which) {
    case TOA_SIM_CASE_N:
        return personality != TOA_SIM_LLAMACPP;
    case TOA_SIM_CASE_MAX_TOKENS_TOO_LONG:
        return personality == TOA_SIM_LLAMACPP;
    case TOA_SIM_CASE_RUNS_OUT:
        return personality != TOA_SIM_LLAMACPP;
    case TOA_SIM_CASE_RATE_LIMIT:
        return personality != TOA_SIM_OPENAI;
    case TOA_SIM_CASE_OVERLOAD:
        return personality == TOA_SIM_VLLM || personality == TOA_SIM_SGLANG;
    case TOA_SIM_CASE_MODEL_NOT_FOUND:
        return personality != TOA_SIM_OPENAI && personality != TOA_SIM_VLLM;
    case TOA_SIM_CASE_PROMPT_TOO_LONG:
    case TOA_SIM_CASE_BAD_REQUEST:
    default:
        return false;
    }
}

/* The body of each shape; MESSAGE is copied. */

/* OpenAI: {"error": {"message", "type", "param", "code"}}; PARAM and CODE
 * may be NULL (null). */
static json_t *
s_openai (const char *message, const char *type, const char *param, const char *code)
{
    return json_pack ("{s:{s:s, s:s, s:s*, s:s*}}", "error", "message", message, "type", type,
                      "param", param, "code", code);
}

/* vLLM (current): OpenAI's shape with the HTTP status as the code. */
static json_t *
s_vllm (const char *message, const char *type, const char *param, int status)
{
    return json_pack ("{s:{s:s, s:s, s:s*, s:i}}", "error", "message", message, "type", type,
                      "param", param, "code", status);
}

/* SGLang (and vLLM before 0.10): the flat ErrorResponse. */
static json_t *
s_sglang (const char *message, int status)
{
    return json_pack ("{s:s, s:s, s:s, s:n, s:i}", "object", "error", "message", message,
                      "type", "BadRequestError", "param", "code", status);
}

/* llama.cpp's server: {"error": {"code", "message", "type"}}. */
static json_t *
s_llamacpp (const char *message, const char *type, int status)
{
    return json_pack ("{s:{s:i, s:s, s:s}}", "error", "code", status, "message", message,
                      "type", type);
}

/* TGI: {"error": "...", "error_type": "..."}. */
static json_t *
s_tgi (const char *message, const char *type)
{
    return json_pack ("{s:s, s:s}", "error", message, "error_type", type);
}

static void
s_prompt_too_long (toa_sim_personality_t personality, const toa_sim_case_args_t *a,
                   char *text, size_t size, int *status, json_t **body)
{
    long p = a->prompt_tokens, c = a->context_tokens;
    *status = 400;
    switch (personality) {
    case TOA_SIM_VLLM:
        snprintf (text, size, "This model's maximum context length is %ld tokens. However, "
                  "your request has %ld input tokens. Please reduce the length of the input "
                  "messages.", c, p);
        *body = s_vllm (text, "BadRequestError", NULL, 400);
        break;
    case TOA_SIM_SGLANG:
        snprintf (text, size, "The input (%ld tokens) is longer than the model's context "
                  "length (%ld tokens).", p, c);
        *body = s_sglang (text, 400);
        break;
    case TOA_SIM_LLAMACPP:
        snprintf (text, size, "request (%ld tokens) exceeds the available context size "
                  "(%ld tokens), try increasing it", p, c);
        *body = s_llamacpp (text, "exceed_context_size_error", 400);
        if (*body) {
            json_t *error = json_object_get (*body, "error");
            json_object_set_new (error, "n_prompt_tokens", json_integer (p));
            json_object_set_new (error, "n_ctx", json_integer (c));
        }
        break;
    case TOA_SIM_TGI:
        *status = 422;
        snprintf (text, size, "Input validation error: `inputs` must have less than %ld "
                  "tokens. Given: %ld", c, p);
        *body = s_tgi (text, "validation");
        break;
    default:
        snprintf (text, size, "This model's maximum context length is %ld tokens. However, "
                  "your messages resulted in %ld tokens. Please reduce the length of the "
                  "messages.", c, p);
        *body = s_openai (text, "invalid_request_error", "messages", "context_length_exceeded");
        break;
    }
}

static void
s_max_tokens_too_long (toa_sim_personality_t personality, const toa_sim_case_args_t *a,
                       char *text, size_t size, int *status, json_t **body)
{
    long p = a->prompt_tokens, m = a->max_tokens, c = a->context_tokens;
    *status = 400;
    switch (personality) {
    case TOA_SIM_VLLM:
        snprintf (text, size, "'max_tokens' or 'max_completion_tokens' is too large: %ld. "
                  "This model's maximum context length is %ld tokens and your request has "
                  "%ld input tokens (%ld > %ld - %ld).", m, c, p, m, c, p);
        *body = s_vllm (text, "BadRequestError", NULL, 400);
        break;
    case TOA_SIM_SGLANG:
        snprintf (text, size, "Requested token count exceeds the model's maximum context "
                  "length of %ld tokens. You requested a total of %ld tokens: %ld tokens "
                  "from the input messages and %ld tokens for the completion. Please reduce "
                  "the number of tokens in the input messages or the completion to fit "
                  "within the limit.", c, p + m, p, m);
        *body = s_sglang (text, 400);
        break;
    case TOA_SIM_TGI:
        *status = 422;
        snprintf (text, size, "Input validation error: `inputs` tokens + `max_new_tokens` "
                  "must be <= %ld. Given: %ld `inputs` tokens and %ld `max_new_tokens`",
                  c, p, m);
        *body = s_tgi (text, "validation");
        break;
    default:
        snprintf (text, size, "This model's maximum context length is %ld tokens. However, "
                  "you requested %ld tokens (%ld in the messages, %ld in the completion). "
                  "Please reduce the length of the messages or completion.", c, p + m, p, m);
        *body = s_openai (text, "invalid_request_error", "messages", "context_length_exceeded");
        break;
    }
}

static void
s_bad_request (toa_sim_personality_t personality, const toa_sim_case_args_t *a,
               char *text, size_t size, int *status, json_t **body)
{
    *status = 400;
    switch (personality) {
    case TOA_SIM_VLLM:
        *body = s_vllm (a->message ? a->message : "temperature must be non-negative, got -1.0.",
                        "BadRequestError", NULL, 400);
        break;
    case TOA_SIM_SGLANG:
        *body = s_sglang (a->message ? a->message : "temperature must be non-negative", 400);
        break;
    case TOA_SIM_LLAMACPP:
        /* llama.cpp's handlers turn a parse exception into a 500 */
        *status = 500;
        *body = s_llamacpp (a->message ? a->message : "Unsupported param: best_of",
                            "server_error", 500);
        break;
    case TOA_SIM_TGI:
        *status = 422;
        snprintf (text, size, "Input validation error: %s",
                  a->message ? a->message : "`temperature` must be strictly positive");
        *body = s_tgi (text, "validation");
        break;
    default:
        *body = s_openai (a->message ? a->message
                                     : "Unrecognized request argument supplied: best_of",
                          "invalid_request_error", NULL, NULL);
        break;
    }
}

int
toa_sim_personality_answer (toa_sim_personality_t personality, toa_sim_case_t which,
                            const toa_sim_case_args_t *args, toa_sim_reply_t *reply)
{
    char text[640];
    int status = 500;
    json_t *body = NULL;
    const char *model = args->model ? args->model : "";
    switch (which) {
    case TOA_SIM_CASE_N:
        body = s_llamacpp ("Only one completion choice is allowed", "server_error", 500);
        break;
    case TOA_SIM_CASE_PROMPT_TOO_LONG:
        s_prompt_too_long (personality, args, text, sizeof text, &status, &body);
        break;
    case TOA_SIM_CASE_MAX_TOKENS_TOO_LONG:
        s_max_tokens_too_long (personality, args, text, sizeof text, &status, &body);
        break;
    case TOA_SIM_CASE_RUNS_OUT:
        body = s_llamacpp ("context shift is disabled", "server_error", 500);
        break;
    case TOA_SIM_CASE_RATE_LIMIT:
        status = 429;
        snprintf (text, sizeof text, "Rate limit reached for %.200s (simulated by toa-simllm) "
                  "on requests per min (RPM): Limit 60, Used 60, Requested 1. Please try "
                  "again in %ds.", model, args->retry_after_s);
        body = s_openai (text, "requests", NULL, "rate_limit_exceeded");
        reply->retry_after_s = args->retry_after_s;
        reply->retry_after_ms = (int64_t) args->retry_after_s * 1000;
        break;
    case TOA_SIM_CASE_OVERLOAD:
        status = personality == TOA_SIM_TGI ? 429 : 503;
        body = personality == TOA_SIM_TGI ? s_tgi ("Model is overloaded", "overloaded")
             : personality == TOA_SIM_LLAMACPP
                 ? s_llamacpp ("Loading model", "unavailable_error", 503)
                 : s_openai ("The engine is currently overloaded, please try again later.",
                             "server_error", NULL, NULL);
        break;
    case TOA_SIM_CASE_BAD_REQUEST:
        s_bad_request (personality, args, text, sizeof text, &status, &body);
        break;
    case TOA_SIM_CASE_MODEL_NOT_FOUND:
        status = 404;
        if (personality == TOA_SIM_VLLM) {
            snprintf (text, sizeof text, "The model `%.200s` does not exist.", model);
            body = s_vllm (text, "NotFoundError", "model", 404);
        }
        else {
            snprintf (text, sizeof text, "The model `%.200s` does not exist or you do not "
                      "have access to it.", model);
            body = s_openai (text, "invalid_request_error", NULL, "model_not_found");
        }
        break;
    }
    return toa_sim_reply_json (reply, status, body);
}
