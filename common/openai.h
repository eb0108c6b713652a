/* openai.h - the OpenAI-compatible chat/completions API as pure functions:
 * building a request body, parsing a reply and parsing an error body (both
 * the OpenAI shape {"error":{...}} and vLLM's flat {"object":"error",...}).
 * No I/O here; the HTTP engine (common/http.h) moves the bytes. */
#ifndef TOA_OPENAI_H
#define TOA_OPENAI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/chat.h"

#define TOA_OPENAI_MESSAGE_MAX 300   /* bytes of a server's error message kept */

/* What one chat/completions request asks for. Strings are borrowed. */
typedef struct {
    const char *model_id;                 /* "model" */
    const toa_chat_message_t *messages;
    size_t n_messages;
    double temperature;
    double top_p;
    int64_t max_tokens;                   /* omitted when <= 0 */
    const char *const *stop;              /* e.g. the model's stop strings */
    size_t n_stop;
    const char *const *extra_stop;        /* e.g. the task's; merged, duplicates dropped */
    size_t n_extra_stop;
    bool has_seed;
    uint64_t seed;                        /* sent as its low 63 bits */
    int64_t n;                            /* choices; "n" is sent only when > 1 */
} toa_openai_chat_request_t;

typedef struct {
    char *content;
    char *finish_reason;                  /* "" when the server sent none */
} toa_openai_choice_t;

typedef struct {
    toa_openai_choice_t *choices;         /* in "index" order */
    size_t n_choices;
    int64_t prompt_tokens;                /* 0 when the server sent no usage */
    int64_t completion_tokens;
    int64_t total_tokens;                 /* prompt + completion when absent */
} toa_openai_reply_t;

typedef struct {
    char *message;                        /* never NULL after a parse */
    char *type;                           /* "" when absent */
    char *code;                           /* "" when absent; numbers as text */
} toa_openai_error_t;

/* The JSON text of REQUEST's body (free() it), or NULL when out of memory or
 * a required field (model_id, a message's role/content) is NULL. */
char *toa_openai_chat_body (const toa_openai_chat_request_t *request);

/* Parses a 200 reply of SIZE bytes into REPLY (zeroed first). Returns 0, or -1
 * with a short reason in WHY (not JSON, no choices, a choice without string
 * content, ...); REPLY is then empty. Choices are ordered by their "index". */
int toa_openai_parse_reply (const char *body, size_t size, toa_openai_reply_t *reply,
                            char *why, size_t why_size);

/* Frees what REPLY owns and zeroes it; safe twice. */
void toa_openai_reply_clear (toa_openai_reply_t *reply);

/* Parses an error body into ERROR (zeroed first). Returns 0 when BODY holds
 * either error shape; otherwise -1, and ERROR->message is still set to a
 * printable excerpt of the body (or "empty body"). Returns -2 when out of
 * memory. */
int toa_openai_parse_error (const char *body, size_t size, toa_openai_error_t *error);

/* Writes "HTTP <HTTP_STATUS>: <message> [<code, else type>]" (no brackets
 * when ERROR has neither) into TEXT of SIZE bytes: why a reply failed, for
 * a task-failure. The server's message is cut to TOA_OPENAI_MESSAGE_MAX
 * bytes (with "..."), after secrets and Bearer/sk- tokens are scrubbed from
 * it and from the label (common/redact.h): it ends up in result lines and logs. */
void toa_openai_error_describe (long http_status, const toa_openai_error_t *error, char *text,
                                size_t size);

/* Frees what ERROR owns and zeroes it; safe twice. */
void toa_openai_error_clear (toa_openai_error_t *error);

/* True when ERROR is an exhausted quota (type or code "insufficient_quota"):
 * a 429 that must not be retried. */
bool toa_openai_error_is_quota (const toa_openai_error_t *error);

/* True when an error answer (any 4xx or 5xx) says the server serves only one
 * choice per request, however it says it: llama.cpp's HTTP 500 "Only one
 * completion choice is allowed", a 400 "n must be 1", "'n' > 1 is not
 * supported"... (a 5xx must name the choices or quote 'n'). */
bool toa_openai_error_rejects_n (long http_status, const toa_openai_error_t *error);

/* True when an error answer blames the request rather than the server: a
 * 400, 413 or 422, or a 5xx whose message says the request cannot be
 * served (llama.cpp answers a prompt or generation over its context, "context
 * shift is disabled", and a bad parameter, "Unsupported param: ...", with
 * 500). Such a request fails for good, and says nothing about the server's
 * health (docs/servers.md). */
bool toa_openai_error_blames_request (long http_status, const toa_openai_error_t *error);

#endif
