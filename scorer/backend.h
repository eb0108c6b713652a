/* backend.h - the reward backends a scorer can serve, by name, and what
 * each one needs: an HTTP endpoint, batches, a reference. */
#ifndef TOA_SCORER_BACKEND_H
#define TOA_SCORER_BACKEND_H

#include <stdbool.h>

typedef enum {
    TOA_BACKEND_HTTP_REWARD = 0,     /* "http-reward": OpenRLHF-style remote reward */
    TOA_BACKEND_VLLM_CLASSIFY,       /* "vllm-classify": vLLM /classify, probs[0] */
    TOA_BACKEND_VLLM_POOLING,        /* "vllm-pooling": vLLM /pooling, data */
    TOA_BACKEND_LLM_JUDGE,           /* "llm-judge": chat model rates 1..scale_max */
    TOA_BACKEND_MATH_VERIFY,         /* "math-verify": built in, 1 or 0 */
    TOA_BACKEND_CHRF,                /* "chrf": built in, 0..100 */
    TOA_BACKEND_COUNT
} toa_backend_t;

/* The backend called NAME; -1 when there is none. */
int toa_backend_parse (const char *name);

/* "http-reward", ...; NULL for an invalid value. */
const char *toa_backend_name (toa_backend_t backend);

/* Calls a server over HTTP. */
bool toa_backend_is_http (toa_backend_t backend);

/* Takes several tasks in one call (http-reward and the vLLM endpoints). */
bool toa_backend_batches (toa_backend_t backend);

/* Cannot score without the task's reference (math-verify, chrf). */
bool toa_backend_needs_reference (toa_backend_t backend);

#endif
