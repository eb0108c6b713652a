/* problems.h - generated math word problems with gold answers: the
 * project's own test and demo data (`toa-simllm --write-problems N`), in the
 * shape of the GSM8K lines the fleet reads (id, instruction, gold_answer,
 * gold_response with "<<a*b=c>>" steps and a final "#### N"). Two steps of
 * integer arithmetic each; deterministic for a seed; no two questions alike. */
#ifndef TOA_SIM_PROBLEMS_H
#define TOA_SIM_PROBLEMS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Most problems one call writes (the templates give far more distinct ones). */
#define TOA_SIM_PROBLEMS_MAX 100000

/* Writes COUNT problems (ids 1..COUNT) as JSONL lines to OUT, the same lines
 * for the same SEED. Returns 0, or -1 if COUNT is 0 or above
 * TOA_SIM_PROBLEMS_MAX, out of memory, or a write failed (REASON, SIZE bytes,
 * says which when not NULL). */
int toa_sim_problems_write (FILE *out, size_t count, uint64_t seed, char *reason, size_t size);

#endif
