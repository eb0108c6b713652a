/* openai.c - chat/completions bodies, replies and error bodies (see openai.h). */
#include "common/openai.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "common/json.h"
#include "common/redact.h"

/* True when STOP is already one of the N strings of SEEN. */
static bool
s_seen (const char *const *seen, size_t n, const char *stop)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (seen[i], stop) == 0)
            return true;
    return false;
}

char *
toa_openai_chat_body (const toa_openai_chat_request_t *request)
{
    /* Written directly (no jansson tree): one body per request on the
     * worker's hot path. Same text as json_dumps (JSON_COMPACT) of the
     * object {model, messages, temperature, top_p[, max_tokens][, stop]
     * [, seed][, n]}. */
    if (!request || !request->model_id)
        return NULL;
    size_t bytes = 256;
    for (size_t i = 0; i < request->n_messages; i++) {
        if (!request->messages[i].role || !request->messages[i].content)
            return NULL;
        bytes += 32 + strlen (request->messages[i].content);
    }
    toa_json_writer_t w = TOA_JSON_WRITER_INIT;
    toa_json_writer_reserve (&w, bytes);
    toa_json_lit (&w, "{\"model\":");
    toa_json_string (&w, request->model_id);
    toa_json_lit (&w, ",\"messages\":[");
    for (size_t i = 0; i < request->n_messages; i++) {
        toa_json_lit (&w, i ? ",{\"role\":" : "{\"role\":");
        toa_json_string (&w, request->messages[i].role);
        toa_json_lit (&w, ",\"content\":");
        toa_json_string (&w, request->messages[i].content);
        toa_json_lit (&w, "}");
    }
    toa_json_lit (&w, "],\"temperature\":");
    toa_json_real (&w, request->temperature, 17);
    toa_json_lit (&w, ",\"top_p\":");
    toa_json_real (&w, request->top_p, 17);
    if (request->max_tokens > 0) {
        toa_json_lit (&w, ",\"max_tokens\":");
        toa_json_int (&w, request->max_tokens);
    }
    /* The model's stop strings, then the task's; empty ones and repeats
     * left out. */
    size_t n_all = request->n_stop + request->n_extra_stop, n_seen = 0;
    const char **seen = n_all ? malloc (n_all * sizeof *seen) : NULL;
    if (n_all && !seen) {
        toa_json_writer_clear (&w);
        return NULL;
    }
    for (size_t i = 0; i < n_all; i++) {
        const char *stop = i < request->n_stop ? request->stop[i]
                                               : request->extra_stop[i - request->n_stop];
        if (!stop || !*stop || s_seen (seen, n_seen, stop))
            continue;
        toa_json_lit (&w, n_seen ? "," : ",\"stop\":[");
        toa_json_string (&w, stop);
        seen[n_seen++] = stop;
    }
    if (n_seen)
        toa_json_lit (&w, "]");
    free (seen);
    if (request->has_seed) {
        toa_json_lit (&w, ",\"seed\":");
        toa_json_int (&w, (int64_t) (request->seed & INT64_MAX));
    }
    if (request->n > 1) {
        toa_json_lit (&w, ",\"n\":");
        toa_json_int (&w, request->n);
    }
    toa_json_lit (&w, "}");
    return toa_json_writer_take (&w);
}

static int64_t
s_usage_field (toa_json_read_t field)
{
    int64_t value;
    return toa_json_read_int (field, &value) && value >= 0 ? value : -1;
}

/* A choice in the reply's order: its "index" (0 when it has none, as
 * before) and its place, so that equal indices keep the reply's order. */
typedef struct {
    int64_t index;
    size_t place;
    toa_json_read_t message;
    toa_json_read_t finish_reason;
} s_choice_ref_t;

static int
s_compare_index (const void *a, const void *b)
{
    const s_choice_ref_t *x = a, *y = b;
    if (x->index != y->index)
        return (x->index > y->index) - (x->index < y->index);
    return (x->place > y->place) - (x->place < y->place);
}

/* Fills REPLY's choices from the "choices" array (N items). 0, or -1 with WHY. */
static int
s_parse_choices (toa_json_read_t choices, size_t n, toa_openai_reply_t *reply, char *why,
                 size_t why_size)
{
    s_choice_ref_t *sorted = malloc (n * sizeof *sorted);
    reply->choices = calloc (n, sizeof *reply->choices);
    if (!sorted || !reply->choices) {
        free (sorted);
        snprintf (why, why_size, "out of memory");
        return -1;
    }
    const char *cursor = NULL;
    toa_json_read_t item;
    static const char *const keys[] = {"index", "message", "finish_reason"};
    toa_json_read_t fields[3];
    for (size_t i = 0; i < n && toa_json_read_item (choices, &cursor, &item); i++) {
        toa_json_read_members (item, keys, 3, fields);
        int64_t index = 0;
        if (!toa_json_read_int (fields[0], &index))
            index = 0;
        sorted[i] = (s_choice_ref_t) {index, i, fields[1], fields[2]};
    }
    qsort (sorted, n, sizeof *sorted, s_compare_index);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        toa_json_read_t content = toa_json_read_member (sorted[i].message, "content");
        toa_json_read_t finish = sorted[i].finish_reason;
        if (toa_json_read_kind (content) != '"') {
            snprintf (why, why_size, "choice %zu has no message content", i);
            rc = -1;
            break;
        }
        toa_openai_choice_t *choice = &reply->choices[reply->n_choices++];
        choice->content = toa_json_read_string_dup (content, NULL);
        choice->finish_reason = toa_json_read_kind (finish) == '"'
                              ? toa_json_read_string_dup (finish, NULL) : strdup ("");
        if (!choice->content || !choice->finish_reason) {
            snprintf (why, why_size, "out of memory");
            rc = -1;
        }
    }
    free (sorted);
    return rc;
}

int
toa_openai_parse_reply (const char *body, size_t size, toa_openai_reply_t *reply,
                        char *why, size_t why_size)
{
    /* Read in place (common/json.h's reader), not as a jansson tree: a
     * reply is parsed per generation on the worker's hot path. The check
     * is as strict as json_loadb was. */
    memset (reply, 0, sizeof *reply);
    char error[160];
    toa_json_doc_t doc;
    if (toa_json_read_check (&doc, body, size, error, sizeof error) != 0) {
        snprintf (why, why_size, "reply is not JSON: %s", error);
        return -1;
    }
    toa_json_read_t root = toa_json_read_root (&doc);
    static const char *const keys[] = {"choices", "usage"};
    toa_json_read_t fields[2];
    toa_json_read_members (root, keys, 2, fields);
    toa_json_read_t choices = fields[0];
    size_t n = 0;
    const char *cursor = NULL;
    toa_json_read_t item;
    while (toa_json_read_item (choices, &cursor, &item))
        n++;
    int rc = -1;
    if (toa_json_read_kind (root) != '{')
        snprintf (why, why_size, "reply is not a JSON object");
    else if (n == 0)
        snprintf (why, why_size, "reply has no choices");
    else
        rc = s_parse_choices (choices, n, reply, why, why_size);
    if (rc == 0) {
        static const char *const names[] = {"prompt_tokens", "completion_tokens",
                                            "total_tokens"};
        toa_json_read_t usage[3];
        toa_json_read_members (fields[1], names, 3, usage);
        int64_t prompt = s_usage_field (usage[0]);
        int64_t completion = s_usage_field (usage[1]);
        int64_t total = s_usage_field (usage[2]);
        reply->prompt_tokens = prompt < 0 ? 0 : prompt;
        reply->completion_tokens = completion < 0 ? 0 : completion;
        reply->total_tokens = total < 0 ? reply->prompt_tokens + reply->completion_tokens : total;
    }
    else
        toa_openai_reply_clear (reply);
    return rc;
}

void
toa_openai_reply_clear (toa_openai_reply_t *reply)
{
    if (!reply)
        return;
    for (size_t i = 0; i < reply->n_choices; i++) {
        free (reply->choices[i].content);
        free (reply->choices[i].finish_reason);
    }
    free (reply->choices);
    memset (reply, 0, sizeof *reply);
}

/* A string field as text: strings as they are, numbers printed, else "". */
static char *
s_field_text (json_t *object, const char *key)
{
    json_t *value = json_object_get (object, key);
    char number[32];
    if (json_is_string (value))
        return strdup (json_string_value (value));
    if (json_is_integer (value)) {
        snprintf (number, sizeof number, "%lld", (long long) json_integer_value (value));
        return strdup (number);
    }
    return strdup ("");
}

/* A printable excerpt of a body that is not an error object, scrubbed. */
static char *
s_excerpt (const char *body, size_t size)
{
    if (!body || size == 0)
        return strdup ("empty body");
    return toa_redact_excerpt_dup (body, size);
}

int
toa_openai_parse_error (const char *body, size_t size, toa_openai_error_t *error)
{
    memset (error, 0, sizeof *error);
    json_t *root = body && size ? json_loadb (body, size, 0, NULL) : NULL;
    json_t *object = json_object_get (root, "error");
    if (!json_is_object (object)) {
        /* vLLM's flat shape, or {"error": "text"} from some servers */
        json_t *flat_object = json_object_get (root, "object");
        if (json_is_string (flat_object) && strcmp (json_string_value (flat_object), "error") == 0)
            object = root;
        else if (json_is_string (object) || json_is_string (json_object_get (root, "message")))
            object = root;
        else
            object = NULL;
    }
    int rc = object ? 0 : -1;
    if (object) {
        json_t *message = json_object_get (object, "message");
        if (!json_is_string (message))
            message = json_object_get (root, "error");   /* {"error": "text"} */
        error->message = json_is_string (message) ? strdup (json_string_value (message))
                                                  : strdup ("");
        error->type = s_field_text (object, "type");
        if (error->type && !*error->type) {     /* TGI: {"error": "...", "error_type": ...} */
            free (error->type);
            error->type = s_field_text (object, "error_type");
        }
        error->code = s_field_text (object, "code");
    }
    else {
        error->message = s_excerpt (body, size);
        error->type = strdup ("");
        error->code = strdup ("");
    }
    json_decref (root);
    if (!error->message || !error->type || !error->code) {
        toa_openai_error_clear (error);
        return -2;
    }
    return rc;
}

void
toa_openai_error_describe (long http_status, const toa_openai_error_t *error, char *text,
                           size_t size)
{
    /* A short excerpt of what the server said, never its whole body, and
     * scrubbed of secrets (common/redact.h) before it is cut, so that no
     * part of a key survives: the one place a server's message enters a
     * reason. */
    char *message = strdup (error->message ? error->message : "");
    char *label = strdup (error->code && *error->code ? error->code
                          : error->type ? error->type : "");
    if (!message || !label) {
        snprintf (text, size, "HTTP %ld", http_status);
        free (message);
        free (label);
        return;
    }
    toa_redact_scrub (message);
    toa_redact_scrub (label);
    int length = (int) strnlen (message, TOA_OPENAI_MESSAGE_MAX + 1);
    bool cut = length > TOA_OPENAI_MESSAGE_MAX;
    if (cut) {
        length = TOA_OPENAI_MESSAGE_MAX;
        while (length > 0 && ((unsigned char) message[length] & 0xc0) == 0x80)
            length--;                           /* not inside a UTF-8 sequence */
    }
    snprintf (text, size, "HTTP %ld: %.*s%s%s%.64s%s", http_status,
              length, message, cut ? "..." : "",
              *label ? " [" : "", label, *label ? "]" : "");
    free (message);
    free (label);
}

void
toa_openai_error_clear (toa_openai_error_t *error)
{
    if (!error)
        return;
    free (error->message);
    free (error->type);
    free (error->code);
    memset (error, 0, sizeof *error);
}

bool
toa_openai_error_is_quota (const toa_openai_error_t *error)
{
    return error
        && ((error->type && strcmp (error->type, "insufficient_quota") == 0)
            || (error->code && strcmp (error->code, "insufficient_quota") == 0));
}

/* Case-insensitive substring search. */
static bool
s_contains (const char *text, const char *needle)
{
    size_t n = strlen (needle);
    for (; *text; text++)
        if (strncasecmp (text, needle, n) == 0)
            return true;
    return false;
}

static bool
s_word_char (char c)
{
    return isalnum ((unsigned char) c) || c == '_' || c == '-';
}

/* True when TEXT names the parameter n as a word: 'n', "n", `n`, n>1, n must,
 * n = 1 (a lone 'n' between non-alphanumeric characters). */
static bool
s_mentions_n (const char *text)
{
    for (size_t i = 0; text[i]; i++) {
        if (text[i] != 'n' && text[i] != 'N')
            continue;
        bool left = i == 0 || !s_word_char (text[i - 1]);
        bool right = !s_word_char (text[i + 1]);
        if (left && right)
            return true;
    }
    return false;
}

/* True when TEXT quotes the parameter n: 'n', "n" or `n`. */
static bool
s_quotes_n (const char *text)
{
    return s_contains (text, "'n'") || s_contains (text, "\"n\"") || s_contains (text, "`n`");
}

bool
toa_openai_error_rejects_n (long http_status, const toa_openai_error_t *error)
{
    if (http_status < 400 || http_status > 599 || !error || !error->message)
        return false;
    if (s_contains (error->message, "completion choice"))
        return true;
    if (http_status >= 500)        /* a server's own failure may say anything: be strict */
        return s_quotes_n (error->message);
    return s_mentions_n (error->message) || (error->code && strcmp (error->code, "n") == 0);
}

/* What 5xx answers say when the request itself cannot be served. */
static const char *const s_request_faults[] = {
    "context shift is disabled",      /* llama.cpp: the generation ran out of context */
    "context size",                   /* llama.cpp: exceeds the available context size */
    "exceed_context_size",
    "context length",                 /* vLLM, SGLang, OpenAI */
    "context window",
    "maximum context",
    "max_new_tokens",                 /* TGI */
    "input validation error",
    "unsupported param",              /* llama.cpp: a parameter it does not take */
    "illegal param",
    "only no echo",
    "json.exception",                 /* llama.cpp: a field of the wrong type */
    "is required",
    "must be",
};

bool
toa_openai_error_blames_request (long http_status, const toa_openai_error_t *error)
{
    if (http_status == 400 || http_status == 413 || http_status == 422)
        return true;
    if (http_status < 500 || http_status > 599 || !error)
        return false;
    for (size_t i = 0; i < sizeof s_request_faults / sizeof *s_request_faults; i++)
        if ((error->message && s_contains (error->message, s_request_faults[i]))
            || (error->type && s_contains (error->type, s_request_faults[i])))
            return true;
    return false;
}
