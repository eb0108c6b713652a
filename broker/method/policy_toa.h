/* policy_toa.h - the TOA MCTS policy (see policy.h, broker/method/mcts.h). */
#ifndef TOA_POLICY_TOA_H
#define TOA_POLICY_TOA_H

#include "broker/method/policy.h"

extern const toa_policy_ops_t toa_policy_toa;

#endif
