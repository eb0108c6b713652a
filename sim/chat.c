/* chat.c - OpenAI chat completion requests and responses (see chat.h). */
#include "sim/chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sim/tokens.h"

#define S_PER_MESSAGE_TOKENS 4
#define S_PRIMING_TOKENS 3

void
toa_sim_chat_request_clear (toa_sim_chat_request_t *request)
{
    if (!request)
        return;
    json_decref (request->root);
    free (request->owned_system);
    free (request->owned_user);
    memset (request, 0, sizeof *request);
}

void
toa_sim_chat_result_clear (toa_sim_chat_result_t *result)
{
    if (!result)
        return;
    free (result->body);
    memset (result, 0, sizeof *result);
}

/* The text of a message's content: a string, or the "text" parts of an
 * array joined. *OWNED gets a buffer to free when one was made. Returns
 * NULL (with *VALID false) if the content has another shape. */
static const char *
s_content_text (json_t *content, char **owned, size_t *length, bool *valid)
{
    *owned = NULL;
    *valid = true;
    *length = 0;
    if (!content || json_is_null (content))
        return "";
    if (json_is_string (content)) {
        *length = json_string_length (content);
        return json_string_value (content);
    }
    if (!json_is_array (content)) {
        *valid = false;
        return NULL;
    }
    size_t total = 0, i;
    json_t *part;
    json_array_foreach (content, i, part) {
        const char *type = json_string_value (json_object_get (part, "type"));
        json_t *text = json_object_get (part, "text");
        if (!type) {
            *valid = false;
            return NULL;
        }
        if (strcmp (type, "text") == 0) {
            if (!json_is_string (text)) {
                *valid = false;
                return NULL;
            }
            total += json_string_length (text) + 1;
        }
    }
    char *joined = malloc (total + 1);
    if (!joined) {
        *valid = false;
        return NULL;
    }
    size_t used = 0;
    json_array_foreach (content, i, part) {
        json_t *text = json_object_get (part, "text");
        if (strcmp (json_string_value (json_object_get (part, "type")), "text") != 0)
            continue;
        if (used > 0)
            joined[used++] = '\n';
        memcpy (joined + used, json_string_value (text), json_string_length (text));
        used += json_string_length (text);
    }
    joined[used] = '\0';
    *owned = joined;
    *length = used;
    return joined;
}

/* Appends TEXT to the growing buffer *BUFFER (joined with newlines). */
static int
s_join (char **buffer, size_t *used, const char *text, size_t length)
{
    char *bigger = realloc (*buffer, *used + length + 2);
    if (!bigger)
        return -1;
    *buffer = bigger;
    if (*used > 0)
        bigger[(*used)++] = '\n';
    memcpy (bigger + *used, text, length);
    *used += length;
    bigger[*used] = '\0';
    return 0;
}

static int
s_parse_messages (toa_sim_chat_request_t *request, json_t *messages, char *error,
                  size_t error_size)
{
    if (!json_is_array (messages) || json_array_size (messages) == 0) {
        snprintf (error, error_size, "'messages' must be a non-empty array");
        return -1;
    }
    size_t system_used = 0, i;
    json_t *message;
    const char *user = NULL;
    size_t user_length = 0;
    char *user_owned = NULL;
    uint64_t hash = 0x6d65737361676573ULL;
    size_t tokens = S_PRIMING_TOKENS;
    json_array_foreach (messages, i, message) {
        const char *role = json_string_value (json_object_get (message, "role"));
        if (!json_is_object (message) || !role) {
            snprintf (error, error_size, "messages[%zu]: must be an object with a 'role'", i);
            free (user_owned);
            return -1;
        }
        char *owned;
        size_t length;
        bool valid;
        const char *text = s_content_text (json_object_get (message, "content"), &owned,
                                           &length, &valid);
        if (!valid) {
            snprintf (error, error_size,
                      "messages[%zu].content: must be a string or an array of text parts", i);
            free (user_owned);
            return -1;
        }
        tokens += S_PER_MESSAGE_TOKENS + toa_sim_tokens_count (text, length);
        hash = toa_sim_hash (role, strlen (role), hash);
        hash = toa_sim_hash (text, length, hash);
        if (strcmp (role, "system") == 0 || strcmp (role, "developer") == 0) {
            if (s_join (&request->owned_system, &system_used, text, length) != 0) {
                free (owned);
                free (user_owned);
                snprintf (error, error_size, "out of memory");
                return -1;
            }
            free (owned);
        }
        else if (strcmp (role, "user") == 0 || !user) {
            free (user_owned);
            user_owned = owned;
            user = text;
            user_length = length;
        }
        else
            free (owned);
    }
    request->owned_user = user_owned;
    request->prompt.user = user ? user : "";
    request->prompt.user_length = user_length;
    request->prompt.system = request->owned_system;
    request->prompt.system_length = system_used;
    request->prompt_tokens = tokens;
    request->hash = hash;
    return 0;
}

static int
s_parse_options (toa_sim_chat_request_t *request, json_t *root, char *error, size_t error_size)
{
    json_t *n = json_object_get (root, "n");
    request->n = 1;
    if (n && !json_is_null (n)) {
        if (!json_is_integer (n) || json_integer_value (n) < 1
            || json_integer_value (n) > TOA_SIM_CHAT_MAX_N) {
            snprintf (error, error_size, "'n' must be an integer from 1 to %d", TOA_SIM_CHAT_MAX_N);
            return -1;
        }
        request->n = (int) json_integer_value (n);
    }
    json_t *max_tokens = json_object_get (root, "max_completion_tokens");
    if (!max_tokens || json_is_null (max_tokens))
        max_tokens = json_object_get (root, "max_tokens");
    request->max_tokens = -1;
    if (max_tokens && !json_is_null (max_tokens)) {
        if (!json_is_integer (max_tokens) || json_integer_value (max_tokens) < 1) {
            snprintf (error, error_size, "'max_tokens' must be a positive integer");
            return -1;
        }
        request->max_tokens = (long) json_integer_value (max_tokens);
    }
    json_t *temperature = json_object_get (root, "temperature");
    request->temperature = -1;
    if (temperature && !json_is_null (temperature)) {
        if (!json_is_number (temperature) || json_number_value (temperature) < 0
            || json_number_value (temperature) > 2) {
            snprintf (error, error_size, "'temperature' must be a number from 0 to 2");
            return -1;
        }
        request->temperature = json_number_value (temperature);
    }
    json_t *top_p = json_object_get (root, "top_p");
    if (top_p && !json_is_null (top_p)
        && (!json_is_number (top_p) || json_number_value (top_p) < 0
            || json_number_value (top_p) > 1)) {
        snprintf (error, error_size, "'top_p' must be a number from 0 to 1");
        return -1;
    }
    json_t *seed = json_object_get (root, "seed");
    if (seed && !json_is_null (seed)) {
        if (!json_is_integer (seed)) {
            snprintf (error, error_size, "'seed' must be an integer");
            return -1;
        }
        request->has_seed = true;
        request->seed = (uint64_t) json_integer_value (seed);
    }
    json_t *stop = json_object_get (root, "stop");
    if (json_is_string (stop))
        request->stop[request->n_stop++] = json_string_value (stop);
    else if (json_is_array (stop)) {
        size_t i;
        json_t *one;
        json_array_foreach (stop, i, one) {
            if (!json_is_string (one) || request->n_stop == TOA_SIM_CHAT_MAX_STOP) {
                snprintf (error, error_size,
                          "'stop' must be a string or up to %d strings", TOA_SIM_CHAT_MAX_STOP);
                return -1;
            }
            request->stop[request->n_stop++] = json_string_value (one);
        }
    }
    else if (stop && !json_is_null (stop)) {
        snprintf (error, error_size, "'stop' must be a string or an array of strings");
        return -1;
    }
    if (json_is_true (json_object_get (root, "stream"))) {
        snprintf (error, error_size, "'stream' is not supported by toa-simllm");
        return -1;
    }
    return 0;
}

int
toa_sim_chat_parse (const char *body, size_t length, toa_sim_chat_request_t *request,
                    char *error, size_t error_size)
{
    memset (request, 0, sizeof *request);
    json_error_t json_error;
    request->root = json_loadb (body ? body : "", length, 0, &json_error);
    if (!request->root) {
        snprintf (error, error_size,
                  "We could not parse the JSON body of your request: %s (line %d)",
                  json_error.text, json_error.line);
        return -1;
    }
    int rc = -1;
    if (!json_is_object (request->root))
        snprintf (error, error_size, "The request body must be a JSON object");
    else if (!(request->model = json_string_value (json_object_get (request->root, "model"))))
        snprintf (error, error_size, "You must provide a model parameter");
    else if (s_parse_messages (request, json_object_get (request->root, "messages"), error,
                               error_size) == 0
             && s_parse_options (request, request->root, error, error_size) == 0)
        rc = 0;
    if (rc != 0)
        toa_sim_chat_request_clear (request);
    return rc;
}

size_t
toa_sim_chat_apply_stop (const char *text, size_t length, const char *const *stop,
                         size_t n_stop)
{
    size_t cut = length;
    for (size_t s = 0; s < n_stop; s++) {
        size_t stop_length = strlen (stop[s]);
        if (stop_length == 0 || stop_length > cut)
            continue;
        for (size_t at = 0; at + stop_length <= cut; at++) {
            const char *found = memchr (text + at, stop[s][0], cut - stop_length + 1 - at);
            if (!found)
                break;
            at = (size_t) (found - text);
            if (memcmp (found, stop[s], stop_length) == 0) {
                cut = at;
                break;
            }
        }
    }
    return cut;
}

/* A JSON string of TEXT; bytes that are not valid UTF-8 become '?'. */
static json_t *
s_json_text (char *text, size_t length)
{
    json_t *string = json_stringn (text, length);
    if (string)
        return string;
    for (size_t i = 0; i < length; i++)
        if ((unsigned char) text[i] >= 0x80)
            text[i] = '?';
    return json_stringn (text, length);
}

int
toa_sim_chat_respond (const toa_sim_chat_request_t *request,
                      const toa_sim_model_config_t *model,
                      const toa_sim_knowledge_t *knowledge, uint64_t seed, const char *id,
                      int64_t created, toa_sim_chat_result_t *result)
{
    memset (result, 0, sizeof *result);
    const char *model_id = model->model_id ? model->model_id : request->model;
    uint64_t base = toa_splitmix64 (seed ^ toa_sim_hash (model_id, strlen (model_id),
                                                         request->hash));
    json_t *choices = json_array ();
    if (!choices)
        return -1;
    for (int i = 0; i < request->n; i++) {
        uint64_t choice_seed = toa_splitmix64 (base + (uint64_t) i * 0x9e3779b97f4a7c15ULL);
        char *text = toa_sim_content_generate (model, knowledge, &request->prompt, choice_seed);
        if (!text) {
            json_decref (choices);
            return -1;
        }
        size_t length = toa_sim_chat_apply_stop (text, strlen (text), request->stop,
                                                 request->n_stop);
        size_t tokens = toa_sim_tokens_count (text, length);
        const char *finish = "stop";
        if (request->max_tokens >= 0 && tokens > (size_t) request->max_tokens) {
            length = toa_sim_tokens_prefix (text, length, (size_t) request->max_tokens);
            tokens = (size_t) request->max_tokens;
            finish = "length";
        }
        json_t *choice = json_pack ("{s:i, s:{s:s, s:o}, s:n, s:s}", "index", i,
                                    "message", "role", "assistant",
                                    "content", s_json_text (text, length),
                                    "logprobs", "finish_reason", finish);
        free (text);
        if (!choice || json_array_append_new (choices, choice) != 0) {
            json_decref (choices);
            return -1;
        }
        result->completion_tokens += tokens;
        if (tokens > result->max_choice_tokens)
            result->max_choice_tokens = tokens;
    }
    result->prompt_tokens = request->prompt_tokens;
    json_t *root = json_pack (
        "{s:s, s:s, s:I, s:s, s:o, s:{s:I, s:I, s:I}, s:n}", "id", id, "object",
        "chat.completion", "created", (json_int_t) created, "model", request->model, "choices",
        choices, "usage", "prompt_tokens", (json_int_t) result->prompt_tokens,
        "completion_tokens", (json_int_t) result->completion_tokens, "total_tokens",
        (json_int_t) (result->prompt_tokens + result->completion_tokens), "system_fingerprint");
    if (!root)
        return -1;
    result->body = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    if (!result->body)
        return -1;
    result->length = strlen (result->body);
    return 0;
}
