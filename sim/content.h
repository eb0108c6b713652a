/* content.h - what a simulated model answers: a pure function of the model's
 * settings, the known questions, the prompt and a seed.
 *
 * - Known math question: a short chain of thought ending in "#### N", right
 *   with probability p(m,q) = clamp(math_skill + skill_spread * h(m,q),
 *   0.02, 0.98), h a per-(model, question) hash in [-1, 1]; a wrong answer is
 *   the gold answer plus a small nonzero offset.
 * - Refinement or aggregation (the prompt holds a known question and earlier
 *   "#### N" answers): starts from the majority earlier answer; a wrong one is
 *   fixed with fix_prob, a right one spoiled with spoil_prob.
 * - Known translation: the reference with each word dropped, replaced or
 *   misspelled with probability translation_noise; when the prompt holds an
 *   earlier translation the noise is translation_noise * (1 - refine_gain),
 *   halved for words the earlier attempt had and raised by half for words it
 *   missed.
 * - A judge prompt ("on a scale of 1 to N", "[[rating]]", "rate the
 *   response"): "Rating: [[R]]", R in 1..N (default 10) from the simulated
 *   reward model (reward.h), give or take one.
 * - Anything else: filler text of a plausible length. */
#ifndef TOA_SIM_CONTENT_H
#define TOA_SIM_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "sim/knowledge.h"

typedef struct {
    const char *system;      /* system messages joined, or NULL */
    size_t system_length;
    const char *user;        /* the last user message */
    size_t user_length;
} toa_sim_prompt_t;

/* The response text of MODEL to PROMPT, deterministic in SEED. Returns a
 * new string (free()), or NULL when out of memory. */
char *toa_sim_content_generate (const toa_sim_model_config_t *model,
                                const toa_sim_knowledge_t *knowledge,
                                const toa_sim_prompt_t *prompt, uint64_t seed);

/* p(m,q): the chance that MODEL answers math QUESTION right. */
double toa_sim_content_math_skill (const toa_sim_model_config_t *model,
                                   const toa_sim_question_t *question);

#endif
