/* personality.h - how each real OpenAI-compatible server answers the cases a
 * client must tell apart (n > 1 refused, prompt over the context, max_tokens
 * over the context, rate limit, overload, bad request, unknown model): the
 * status, headers and body as vLLM, SGLang, llama.cpp's server, TGI's
 * OpenAI route and OpenAI itself send them (docs/servers.md cites the
 * sources). toa-simllm gives each model one personality. Pure: no I/O. */
#ifndef TOA_SIM_PERSONALITY_H
#define TOA_SIM_PERSONALITY_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/service.h"

typedef enum {
    TOA_SIM_OPENAI = 0,
    TOA_SIM_VLLM,
    TOA_SIM_SGLANG,
    TOA_SIM_LLAMACPP,
    TOA_SIM_TGI,
    TOA_SIM_PERSONALITY_COUNT
} toa_sim_personality_t;

typedef enum {
    TOA_SIM_CASE_N,                  /* a request asks for n > 1 choices */
    TOA_SIM_CASE_PROMPT_TOO_LONG,    /* prompt tokens >= the context */
    TOA_SIM_CASE_MAX_TOKENS_TOO_LONG,/* prompt + max_tokens > the context */
    TOA_SIM_CASE_RUNS_OUT,           /* the generation itself reaches the context */
    TOA_SIM_CASE_RATE_LIMIT,
    TOA_SIM_CASE_OVERLOAD,
    TOA_SIM_CASE_BAD_REQUEST,
    TOA_SIM_CASE_MODEL_NOT_FOUND
} toa_sim_case_t;

typedef struct {
    const char *model;       /* the model name the request asked for */
    const char *message;     /* bad request: what was wrong (NULL: a typical one) */
    long prompt_tokens;
    long max_tokens;         /* -1: none asked */
    long context_tokens;
    int retry_after_s;       /* rate limit: the wait to ask for */
} toa_sim_case_args_t;

/* Parses NAME ("openai", "vllm", "sglang", "llamacpp", "tgi"). 0 or -1. */
int toa_sim_personality_parse (const char *name, toa_sim_personality_t *personality);

const char *toa_sim_personality_name (toa_sim_personality_t personality);

/* Whether PERSONALITY serves the request anyway in CASE: vLLM, SGLang and
 * OpenAI serve n > 1; TGI ignores n (one choice); SGLang, llama.cpp and TGI
 * answer for whatever model name is asked; vLLM, SGLang and llama.cpp queue
 * when busy; only OpenAI rate-limits; llama.cpp (with context shift off)
 * fails a generation that runs out of context, the others refuse up front. */
bool toa_sim_personality_serves (toa_sim_personality_t personality, toa_sim_case_t which);

/* Sets REPLY's status, body and retry headers to PERSONALITY's answer in
 * CASE (one toa_sim_personality_serves says it refuses). Returns 0, or -1
 * when out of memory (REPLY is then a 500 without body). */
int toa_sim_personality_answer (toa_sim_personality_t personality, toa_sim_case_t which,
                                const toa_sim_case_args_t *args, toa_sim_reply_t *reply);

#endif
