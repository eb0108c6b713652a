/* policy_baselines.h - the baseline methods of DESIGN.md as policies (see
 * policy.h), all at the same budget of samples x models generations:
 *   ensemble    best-of-N with the models' samples interleaved at random;
 *   prs         one model: the first ceil(budget/2) answer the prompt, then
 *               the rest refine, one at a time, the best response so far;
 *   seq-refine  rounds over the models in a shuffled order: the first of a
 *               round answers, each next one refines the previous response;
 *   moa         layers of every model: the first layer of a round answers,
 *               each next layer aggregates the previous layer's (best
 *               moa_aggregate) responses; rounds of moa_n_iter layers until
 *               the budget is spent. */
#ifndef TOA_POLICY_BASELINES_H
#define TOA_POLICY_BASELINES_H

#include "broker/method/policy.h"

extern const toa_policy_ops_t toa_policy_ensemble;
extern const toa_policy_ops_t toa_policy_prs;
extern const toa_policy_ops_t toa_policy_seq_refine;
extern const toa_policy_ops_t toa_policy_moa;

#endif
