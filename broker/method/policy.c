/* policy.c - the registry of search methods (see policy.h). */
#include "broker/method/policy.h"

#include <string.h>

#include "broker/method/policy_baselines.h"
#include "broker/method/policy_best_of_n.h"
#include "broker/method/policy_toa.h"

static const toa_policy_ops_t *const s_policies[] = {
    &toa_policy_toa,
    &toa_policy_best_of_n,
    &toa_policy_prs,
    &toa_policy_ensemble,
    &toa_policy_seq_refine,
    &toa_policy_moa,
};
#define S_COUNT (sizeof s_policies / sizeof s_policies[0])

const toa_policy_ops_t *
toa_policy_find (const char *method)
{
    if (!method)
        return NULL;
    for (size_t i = 0; i < S_COUNT; i++)
        if (strcmp (s_policies[i]->name, method) == 0)
            return s_policies[i];
    return NULL;
}

const char *
toa_policy_names (void)
{
    return "toa best-of-n prs ensemble seq-refine moa";
}
