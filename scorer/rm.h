/* rm.h - the wire formats of the reward backends that take batches, and
 * the texts sent to every HTTP backend. Pure: builds request bodies and
 * parses replies; no I/O (scorer/score.c moves the bytes).
 *
 *   http-reward   (OpenRLHF remote reward model)
 *                 POST url  {"query": [Q...], "prompts": [P...], "labels": [L...]}
 *                 reply     {"rewards": [r...]}  one number per query, in order
 *   vllm-classify POST url/classify  {"model": M, "input": [Q...]}
 *                 reply     {"data": [{"index": i, "probs": [r, ...]}, ...]}
 *   vllm-pooling  POST url/pooling   {"model": M, "input": [Q...]}
 *                 reply     {"data": [{"index": i, "data": [r, ...]}, ...]}
 *                 ("data" may also be one number, or one row per token
 *                 [[r], ...]: the last token's first value is the reward)
 *
 * P is the prompt as text (toa_rm_prompt_text), Q the query
 * (toa_rm_query_text: the query template with {prompt} and {response}), L
 * the task's reference or "". vLLM's endpoints also take chat "messages",
 * but only one conversation per request; the text input takes a whole batch,
 * so the chat is rendered with the query template, which can spell out the
 * reward model's own chat format.
 *
 * A reply never yields an invented reward: a missing, duplicated or
 * non-numeric entry leaves that query without a reward (its task fails), and
 * a "rewards" array of another length than the queries leaves every query
 * without one (positions cannot be trusted then). */
#ifndef TOA_SCORER_RM_H
#define TOA_SCORER_RM_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/proto.h"

/* The prompt of MESSAGES as one text: the content of the user's message
 * when the conversation is (after any system messages) one user message;
 * otherwise every non-system message as "User: ..." or "Assistant: ...",
 * separated by blank lines. System messages are left out: they instruct the
 * generator and are not what is judged. Returns a new string (free()) or
 * NULL when out of memory. */
char *toa_rm_prompt_text (const toa_chat_message_t *messages, size_t n_messages);

/* TEMPLATE with {prompt} replaced by PROMPT_TEXT and {response} by
 * RESPONSE. Returns a new string (free()) or NULL when out of memory. */
char *toa_rm_query_text (const char *template_text, const char *prompt_text,
                         const char *response);

/* The http-reward body for N queries: QUERIES[i], PROMPTS[i] and LABELS[i]
 * (NULL label: ""). Returns JSON text (free()) or NULL. */
char *toa_rm_http_reward_body (const char *const *queries, const char *const *prompts,
                               const char *const *labels, size_t n);

/* The vllm-classify / vllm-pooling body: MODEL_ID (may be NULL: no "model")
 * and N input texts. Returns JSON text (free()) or NULL. */
char *toa_rm_vllm_body (const char *model_id, const char *const *inputs, size_t n);

/* Parses an http-reward reply of SIZE bytes for N queries into REWARDS[i]
 * with HAVE[i] true for each query that got a reward. Returns how many got
 * one (0..N), or -1 when the body is unusable as a whole (not JSON, no
 * "rewards" array, an array of another length), with WHY filled. When some
 * but not all got one, WHY says why the others did not. */
int toa_rm_parse_http_reward (const char *body, size_t size, size_t n, double *rewards,
                              bool *have, char *why, size_t why_size);

/* The same for a vLLM reply: POOLING false reads data[i].probs[0], true
 * reads data[i].data (see above). Entries are matched by their "index"
 * (by position when they carry none). */
int toa_rm_parse_vllm (const char *body, size_t size, bool pooling, size_t n, double *rewards,
                       bool *have, char *why, size_t why_size);

#endif
