/* stats.h - toa-simllm's counters (requests per endpoint and model, faults
 * injected, requests in flight), updated lock-free from every HTTP thread and
 * rendered as the JSON of GET /stats. */
#ifndef TOA_SIM_STATS_H
#define TOA_SIM_STATS_H

#include <jansson.h>
#include <stddef.h>

#include "sim/sched.h"

typedef enum {
    TOA_SIM_ENDPOINT_CHAT = 0,
    TOA_SIM_ENDPOINT_MODELS,
    TOA_SIM_ENDPOINT_HEALTH,
    TOA_SIM_ENDPOINT_REWARD,
    TOA_SIM_ENDPOINT_CLASSIFY,
    TOA_SIM_ENDPOINT_POOLING,
    TOA_SIM_ENDPOINT_STATS,
    TOA_SIM_ENDPOINT_OTHER,
    TOA_SIM_ENDPOINT_COUNT
} toa_sim_endpoint_t;

typedef enum {
    TOA_SIM_FAULT_NONE = 0,
    TOA_SIM_FAULT_500,
    TOA_SIM_FAULT_429,
    TOA_SIM_FAULT_HANG,
    TOA_SIM_FAULT_MALFORMED,
    TOA_SIM_FAULT_QUOTA,
    TOA_SIM_FAULT_CONTEXT,
    TOA_SIM_FAULT_OVERLOAD,
    TOA_SIM_FAULT_BAD_REQUEST,
    TOA_SIM_FAULT_COUNT
} toa_sim_fault_t;

/* JSON names: "chat_completions", "models", ... and "500", "429", "hang", ... */
const char *toa_sim_endpoint_name (toa_sim_endpoint_t endpoint);
const char *toa_sim_fault_name (toa_sim_fault_t fault);

/* Parses a fault name as sent in X-Sim-Fault ("none" too). Returns 0 or -1. */
int toa_sim_fault_parse (const char *text, toa_sim_fault_t *fault);

typedef struct toa_sim_stats_s toa_sim_stats_t;

/* Counters for N_MODELS models, all zero. NULL when out of memory. */
toa_sim_stats_t *toa_sim_stats_new (size_t n_models);

/* Frees everything; nulls *SELF_P; safe on NULL. */
void toa_sim_stats_destroy (toa_sim_stats_t **self_p);

void toa_sim_stats_endpoint (toa_sim_stats_t *self, toa_sim_endpoint_t endpoint);
void toa_sim_stats_fault (toa_sim_stats_t *self, toa_sim_fault_t fault);

/* A request for MODEL starts (counted, in flight). */
void toa_sim_stats_model_begin (toa_sim_stats_t *self, int model);

/* A request for MODEL ends with HTTP STATUS (0: connection dropped). */
void toa_sim_stats_model_end (toa_sim_stats_t *self, int model, int status,
                              size_t prompt_tokens, size_t completion_tokens);

/* Zeroes every counter except those in flight. */
void toa_sim_stats_reset (toa_sim_stats_t *self);

/* The counters as JSON: {"requests", "in_flight", "endpoints": {...},
 * "faults": {...}, "models": {ID: {"requests", "ok", "errors", "in_flight",
 * "max_in_flight", "prompt_tokens", "completion_tokens", and from SCHED
 * (may be NULL) "slots", "active", "queued", "max_active", "max_queued"}}}.
 * NULL when out of memory. */
json_t *toa_sim_stats_json (toa_sim_stats_t *self, const char *const *model_ids,
                            toa_sim_sched_t *sched);

#endif
