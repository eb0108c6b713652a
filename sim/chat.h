/* chat.h - the OpenAI chat completions body of toa-simllm: parses and
 * validates a request, and builds the response from the content generator,
 * honouring n, max_tokens (finish_reason "length"), stop strings and seed.
 * No I/O. */
#ifndef TOA_SIM_CHAT_H
#define TOA_SIM_CHAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "sim/content.h"
#include "sim/knowledge.h"

#define TOA_SIM_CHAT_MAX_N 128
#define TOA_SIM_CHAT_MAX_STOP 16

typedef struct {
    json_t *root;            /* the parsed body (owned) */
    const char *model;       /* points into ROOT */
    toa_sim_prompt_t prompt; /* the system messages and last user message */
    char *owned_system;      /* buffers behind PROMPT when they had to be joined */
    char *owned_user;
    size_t prompt_tokens;
    int n;                   /* choices (default 1) */
    long max_tokens;         /* -1: no limit */
    bool has_seed;
    uint64_t seed;
    double temperature;      /* -1 when absent */
    const char *stop[TOA_SIM_CHAT_MAX_STOP];   /* point into ROOT */
    size_t n_stop;
    uint64_t hash;           /* of the messages: same request, same hash */
} toa_sim_chat_request_t;

typedef struct {
    char *body;              /* the JSON response (free()) */
    size_t length;
    size_t prompt_tokens;
    size_t completion_tokens;        /* all choices */
    size_t max_choice_tokens;        /* the longest choice (for latency) */
} toa_sim_chat_result_t;

/* Parses BODY into REQUEST. Returns 0, or -1 with a message for a 400
 * answer in ERROR (REQUEST is then cleared). */
int toa_sim_chat_parse (const char *body, size_t length, toa_sim_chat_request_t *request,
                        char *error, size_t error_size);

/* Frees what REQUEST holds; safe twice. */
void toa_sim_chat_request_clear (toa_sim_chat_request_t *request);

/* Builds the response of MODEL to REQUEST. Choice i's text is generated with
 * a seed mixed from SEED, the model, the request's hash and i. ID is the
 * response id ("chatcmpl-..."), CREATED its Unix time. Returns 0, or -1 when
 * out of memory. */
int toa_sim_chat_respond (const toa_sim_chat_request_t *request,
                          const toa_sim_model_config_t *model,
                          const toa_sim_knowledge_t *knowledge, uint64_t seed,
                          const char *id, int64_t created, toa_sim_chat_result_t *result);

/* Frees RESULT's body; safe twice. */
void toa_sim_chat_result_clear (toa_sim_chat_result_t *result);

/* Cuts TEXT (LENGTH bytes) before the first occurrence of any of the N_STOP
 * STOP strings. Returns the new length (LENGTH if none occurs). */
size_t toa_sim_chat_apply_stop (const char *text, size_t length, const char *const *stop,
                                size_t n_stop);

#endif
