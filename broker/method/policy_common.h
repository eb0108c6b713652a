/* policy_common.h - bookkeeping the baseline policies share: what each
 * response scored, and a seeded shuffle. Pure. */
#ifndef TOA_POLICY_COMMON_H
#define TOA_POLICY_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/method/policy.h"

/* The responses of one prompt as the policy saw them applied. */
typedef struct {
    int budget;              /* samples x models: responses expected */
    int applied;             /* responses applied so far */
    double *raw;             /* [response] raw reward (valid when ok) */
    bool *ok;                /* [response] generated and scored */
    int *depth;              /* [response] depth of its plan */
} toa_policy_responses_t;

/* Allocates room for BUDGET responses. Returns 0 or -1 (out of memory). */
int toa_policy_responses_init (toa_policy_responses_t *self, int budget);

void toa_policy_responses_clear (toa_policy_responses_t *self);

/* Makes room for BUDGET responses in all (a larger budget; new ones unset).
 * Returns 0, or -1 when out of memory (SELF unchanged). */
int toa_policy_responses_grow (toa_policy_responses_t *self, int budget);

/* Records RESPONSE of PLAN. Returns 0, or -1 when RESPONSE is out of range
 * or the budget is already applied. */
int toa_policy_responses_apply (toa_policy_responses_t *self, const toa_gen_plan_t *plan,
                                int response, double raw, bool failed);

/* The scored response among the N CANDIDATES with the largest raw reward
 * (the first on ties), or -1 when none is scored. */
int toa_policy_best (const toa_policy_responses_t *self, const int *candidates, int n);

/* Shuffles N ITEMS in place (Fisher-Yates) from SEED. */
void toa_policy_shuffle (int *items, int n, uint64_t seed);

#endif
