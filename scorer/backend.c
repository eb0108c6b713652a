/* backend.c - the reward backends' names and traits (see backend.h). */
#include "scorer/backend.h"

#include <string.h>

static const char *const s_names[TOA_BACKEND_COUNT] = {
    "http-reward", "vllm-classify", "vllm-pooling", "llm-judge", "math-verify", "chrf",
};

int
toa_backend_parse (const char *name)
{
    for (int i = 0; name && i < TOA_BACKEND_COUNT; i++)
        if (strcmp (name, s_names[i]) == 0)
            return i;
    return -1;
}

const char *
toa_backend_name (toa_backend_t backend)
{
    return backend >= 0 && backend < TOA_BACKEND_COUNT ? s_names[backend] : NULL;
}

bool
toa_backend_is_http (toa_backend_t backend)
{
    return backend <= TOA_BACKEND_LLM_JUDGE;
}

bool
toa_backend_batches (toa_backend_t backend)
{
    return backend <= TOA_BACKEND_VLLM_POOLING;
}

bool
toa_backend_needs_reference (toa_backend_t backend)
{
    return backend == TOA_BACKEND_MATH_VERIFY || backend == TOA_BACKEND_CHRF;
}
