/* service.h - what toa-simllm answers to each HTTP request, without the HTTP:
 * routing, validation, injected faults (configured rates or X-Sim-Fault),
 * each model's personality (the real server whose answers it gives, see
 * sim/personality.h), latency to wait and the slot to hold, the
 * reward endpoints and the counters. The server module moves the bytes.
 *
 * Endpoints: POST /v1/chat/completions, GET /v1/models, GET /health,
 * POST /reward (also /get_reward), POST /classify (also /v1/classify),
 * POST /pooling (also /v1/pooling), GET /stats, POST /stats/reset. */
#ifndef TOA_SIM_SERVICE_H
#define TOA_SIM_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "common/config.h"
#include "sim/knowledge.h"
#include "sim/sched.h"
#include "sim/stats.h"

typedef struct {
    int status;              /* HTTP status */
    char *body;              /* JSON (or, for "malformed", broken JSON); free() */
    size_t body_length;
    int retry_after_s;       /* >= 0: send a Retry-After header */
    int64_t retry_after_ms;  /* >= 0: send a retry-after-ms header */
    int64_t delay_ms;        /* how long to wait before answering */
    int pool;                /* model whose slot the wait holds, or -1 */
    bool drop;               /* close the connection without an answer (hang) */
    int model;               /* model counted in flight, or -1 */
    size_t prompt_tokens;
    size_t completion_tokens;
} toa_sim_reply_t;

typedef struct toa_sim_service_s toa_sim_service_t;

/* A service for the models of CONFIG (kept by reference; must outlive the
 * service), answering from KNOWLEDGE (likewise), with faults and unseeded
 * requests drawn from a stream seeded by SEED. NULL when out of memory. */
toa_sim_service_t *toa_sim_service_new (const toa_sim_config_t *config,
                                        const toa_sim_knowledge_t *knowledge, uint64_t seed);

/* Frees everything; nulls *SELF_P; safe on NULL. */
void toa_sim_service_destroy (toa_sim_service_t **self_p);

/* Lets GET /stats report the slots of SCHED (may be NULL). */
void toa_sim_service_attach_sched (toa_sim_service_t *self, toa_sim_sched_t *sched);

/* Answers one request: METHOD and PATH (query string ignored), the BODY of
 * LENGTH bytes, the X-Sim-Fault header value or NULL. Fills REPLY. Returns
 * 0, or -1 when out of memory (REPLY then holds a 500 without body). Thread-safe. */
int toa_sim_service_handle (toa_sim_service_t *self, const char *method, const char *path,
                            const char *body, size_t length, const char *fault,
                            toa_sim_reply_t *reply);

/* Called once per handled request when its answer is sent or its
 * connection closed (counters in flight). */
void toa_sim_service_done (toa_sim_service_t *self, const toa_sim_reply_t *reply);

/* Sets REPLY to STATUS with ROOT dumped as its body (ROOT is consumed; NULL
 * means out of memory: REPLY becomes a 500 without body and -1 is returned). */
int toa_sim_reply_json (toa_sim_reply_t *reply, int status, json_t *root);

/* Frees REPLY's body; safe twice. */
void toa_sim_reply_clear (toa_sim_reply_t *reply);

/* Index of the model served as MODEL_ID, or -1. */
int toa_sim_service_model_index (const toa_sim_service_t *self, const char *model_id);

#endif
