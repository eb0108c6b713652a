/* rm.c - request bodies and replies of the batched reward backends (see
 * rm.h). */
#include "scorer/rm.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "common/redact.h"
#include "common/util.h"

char *
toa_rm_prompt_text (const toa_chat_message_t *messages, size_t n_messages)
{
    size_t turns = 0, last = 0, size = 1;
    for (size_t i = 0; i < n_messages; i++) {
        const char *role = messages[i].role ? messages[i].role : "";
        size += strlen (role) + (messages[i].content ? strlen (messages[i].content) : 0) + 4;
        if (strcmp (role, "system") != 0) {
            turns++;
            last = i;
        }
    }
    if (turns == 1 && messages[last].role && strcmp (messages[last].role, "user") == 0)
        return strdup (messages[last].content ? messages[last].content : "");
    char *text = malloc (size);
    if (!text)
        return NULL;
    size_t used = 0;
    text[0] = 0;
    for (size_t i = 0; i < n_messages; i++) {
        const char *role = messages[i].role ? messages[i].role : "";
        if (turns > 0 && strcmp (role, "system") == 0)
            continue;                        /* only a lone system message is kept */
        int wrote = snprintf (text + used, size - used, "%s%c%s: %s", used ? "\n\n" : "",
                              toupper ((unsigned char) role[0]), *role ? role + 1 : "",
                              messages[i].content ? messages[i].content : "");
        if (wrote < 0 || (size_t) wrote >= size - used)
            break;                           /* cannot happen: SIZE counts it all */
        used += (size_t) wrote;
    }
    return text;
}

char *
toa_rm_query_text (const char *template_text, const char *prompt_text, const char *response)
{
    const char *names[] = {"prompt", "response"};
    const char *values[] = {prompt_text ? prompt_text : "", response ? response : ""};
    return toa_template_render (template_text ? template_text : "{prompt}{response}", names,
                                values, 2);
}

/* A JSON array of N strings (NULL: ""), or NULL. */
static json_t *
s_strings (const char *const *texts, size_t n)
{
    json_t *array = json_array ();
    for (size_t i = 0; array && i < n; i++)
        if (json_array_append_new (array, json_string (texts && texts[i] ? texts[i] : "")) != 0) {
            json_decref (array);
            return NULL;
        }
    return array;
}

/* Dumps BODY compactly and drops it; NULL when BODY is NULL. */
static char *
s_dump (json_t *body)
{
    char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
    json_decref (body);
    return text;
}

char *
toa_rm_http_reward_body (const char *const *queries, const char *const *prompts,
                         const char *const *labels, size_t n)
{
    json_t *query = s_strings (queries, n);
    json_t *prompt = s_strings (prompts, n);
    json_t *label = s_strings (labels, n);
    if (!query || !prompt || !label) {
        json_decref (query);
        json_decref (prompt);
        json_decref (label);
        return NULL;
    }
    return s_dump (json_pack ("{s:o, s:o, s:o}", "query", query, "prompts", prompt, "labels",
                              label));
}

char *
toa_rm_vllm_body (const char *model_id, const char *const *inputs, size_t n)
{
    json_t *input = s_strings (inputs, n);
    if (!input)
        return NULL;
    json_t *body = json_pack ("{s:o}", "input", input);
    if (body && model_id && json_object_set_new (body, "model", json_string (model_id)) != 0) {
        json_decref (body);
        return NULL;
    }
    return s_dump (body);
}

/* A finite number from VALUE; false when it is not one. */
static bool
s_number (const json_t *value, double *out)
{
    if (!json_is_number (value))
        return false;
    double number = json_number_value (value);
    if (!isfinite (number))
        return false;
    *out = number;
    return true;
}

/* Counts HAVE and clears REWARDS of queries without one. */
static int
s_count (size_t n, double *rewards, const bool *have)
{
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        if (have[i])
            count++;
        else
            rewards[i] = 0.0;
    }
    return count;
}

/* Parses a reply body and returns its array KEY, with the parsed document in
 * *ROOT (the caller json_decref()s it); NULL with the reason in WHY when the
 * body is not JSON or has no such array (nothing to free then). */
static json_t *
s_reply_array (const char *body, size_t size, const char *key, json_t **root, char *why,
               size_t why_size)
{
    json_error_t error;
    *root = json_loadb (body ? body : "", size, 0, &error);
    if (!*root) {
        toa_format_reason (why, why_size, "reply is not JSON: %s", error.text);
        toa_redact_scrub (why);      /* jansson quotes the bytes it stopped at */
        return NULL;
    }
    json_t *array = json_object_get (*root, key);
    if (!json_is_array (array)) {
        toa_format_reason (why, why_size, "reply has no \"%s\" array", key);
        json_decref (*root);
        *root = NULL;
        return NULL;
    }
    return array;
}

int
toa_rm_parse_http_reward (const char *body, size_t size, size_t n, double *rewards,
                          bool *have, char *why, size_t why_size)
{
    memset (have, 0, n * sizeof *have);
    json_t *root = NULL;
    json_t *array = s_reply_array (body, size, "rewards", &root, why, why_size);
    if (!array)
        return -1;
    if (json_array_size (array) != n) {
        toa_format_reason (why, why_size, "reply has %zu rewards for %zu queries", json_array_size (array),
               n);
        json_decref (root);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        have[i] = s_number (json_array_get (array, i), &rewards[i]);
        if (!have[i])
            toa_format_reason (why, why_size, "reward %zu of the reply is not a number", i);
    }
    json_decref (root);
    return s_count (n, rewards, have);
}

/* The reward in one vLLM data entry. */
static bool
s_vllm_value (const json_t *entry, bool pooling, double *value)
{
    if (!pooling)
        return s_number (json_array_get (json_object_get (entry, "probs"), 0), value);
    const json_t *data = json_object_get (entry, "data");
    if (s_number (data, value))
        return true;
    const json_t *first = json_array_get (data, 0);
    if (json_is_array (first)) {             /* one row per token: the last one */
        const json_t *row = json_array_get (data, json_array_size (data) - 1);
        return s_number (json_array_get (row, 0), value);
    }
    return s_number (first, value);
}

int
toa_rm_parse_vllm (const char *body, size_t size, bool pooling, size_t n, double *rewards,
                   bool *have, char *why, size_t why_size)
{
    memset (have, 0, n * sizeof *have);
    json_t *root = NULL;
    json_t *data = s_reply_array (body, size, "data", &root, why, why_size);
    if (!data)
        return -1;
    unsigned char *seen = calloc (n ? n : 1, 1);   /* 1 once, 2 more than once */
    if (!seen) {
        json_decref (root);
        toa_format_reason (why, why_size, "out of memory");
        return -1;
    }
    size_t position;
    json_t *entry;
    json_array_foreach (data, position, entry) {
        json_t *index_value = json_object_get (entry, "index");
        json_int_t index = json_is_integer (index_value) ? json_integer_value (index_value)
                         : index_value ? -1 : (json_int_t) position;
        if (index < 0 || (uint64_t) index >= n) {
            toa_format_reason (why, why_size, "reply entry %zu has no valid index", position);
            continue;
        }
        if (seen[index]) {
            seen[index] = 2;
            have[index] = false;
            toa_format_reason (why, why_size, "reply has index %lld twice", (long long) index);
            continue;
        }
        seen[index] = 1;
        have[index] = s_vllm_value (entry, pooling, &rewards[index]);
        if (!have[index])
            toa_format_reason (why, why_size, "reply entry %lld has no numeric %s", (long long) index,
                   pooling ? "data" : "probs[0]");
    }
    for (size_t i = 0; i < n; i++)
        if (!seen[i])
            toa_format_reason (why, why_size, "reply has %zu entries for %zu inputs",
                   json_array_size (data), n);
    free (seen);
    json_decref (root);
    return s_count (n, rewards, have);
}
