/* reward.h - toa-simllm's deterministic reward model: scores a response the
 * way a reward server would, for /reward, /classify, /pooling and the
 * simulated LLM judge. Pure functions of their inputs. */
#ifndef TOA_SIM_REWARD_H
#define TOA_SIM_REWARD_H

#include <stddef.h>
#include <stdint.h>

#include "sim/knowledge.h"

/* Scores QUERY (the prompt and response joined, OpenRLHF-style) in [-1, 1].
 * PROMPT (or NULL) is the prompt part: when QUERY starts with it the rest is
 * the response. LABEL (or NULL): a number is compared with the response's
 * final answer ("#### N" or last number): equal 1.0, else -1.0; other text
 * is compared word by word (2 * F1 - 1). Without a label, a known question
 * in the prompt scores the response against its gold answer or reference
 * (graded: right math answers in [0.6, 1], wrong in [-1, -0.6]); anything
 * else gets a hash of the text in [-1, 1]. */
double toa_sim_reward_score (const toa_sim_knowledge_t *knowledge, const char *query,
                             size_t query_length, const char *prompt, const char *label);

/* Word-level F1 (case-insensitive, punctuation ignored) of A against B, in [0, 1]. */
double toa_sim_reward_word_f1 (const char *a, size_t a_length, const char *b, size_t b_length);

/* Hash of one word with case and punctuation ignored; 0 if it has no
 * letter or digit. */
uint64_t toa_sim_reward_word_hash (const char *word, size_t length);

#endif
