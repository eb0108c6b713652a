/* policy_best_of_n.h - the best-of-N policy (see policy.h). */
#ifndef TOA_POLICY_BEST_OF_N_H
#define TOA_POLICY_BEST_OF_N_H

#include "broker/method/policy.h"

extern const toa_policy_ops_t toa_policy_best_of_n;

#endif
