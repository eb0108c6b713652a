/* prompt.h - one prompt in search: its input, its policy, its generation
 * records, and what the broker must do next for it.
 *
 * Pure: no sockets, no Redis, no clock. Every operation appends the work it
 * causes to a toa_prompt_work_t (generations to start, responses to score,
 * records to persist); the broker turns that work into tasks and Redis
 * writes. The policy is driven the same way live and in replay: next() is
 * drained when the prompt starts and after every apply, so replaying the
 * records in their apply order rebuilds the same policy (see policy.h). */
#ifndef TOA_BROKER_PROMPT_H
#define TOA_BROKER_PROMPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "broker/method/policy.h"
#include "broker/method/record.h"
#include "broker/method/render.h"
#include "broker/method/settings.h"
#include "proto/proto.h"

typedef struct toa_prompt_s toa_prompt_t;

/* What an operation on a prompt asks the broker to do. */
typedef struct {
    toa_gen_plan_t *plans;   /* generations to start (new tasks) */
    size_t n_plans, plans_capacity;
    int *score;              /* records to score (new scoring tasks) */
    size_t n_score, score_capacity;
    int *persist;            /* records to write to Redis */
    size_t n_persist, persist_capacity;
} toa_prompt_work_t;

/* Empties WORK, keeping its memory. */
void toa_prompt_work_reset (toa_prompt_work_t *work);

/* Frees WORK's arrays. */
void toa_prompt_work_clear (toa_prompt_work_t *work);

/* Creates prompt INDEX of a job with SETTINGS (borrowed: must outlive the
 * prompt) from its input LINE (a JSON object with id and instruction or
 * messages). Does not start it. Returns NULL with a reason in ERR. */
toa_prompt_t *toa_prompt_new (const toa_job_settings_t *settings, int64_t index,
                              const char *line, char *err, size_t err_size);

/* Frees the prompt; nulls *SELF_P; safe on NULL. */
void toa_prompt_destroy (toa_prompt_t **self_p);

/* Starts a new prompt: the policy's first plans go to WORK. Returns 0, or -1
 * when out of memory. */
int toa_prompt_start (toa_prompt_t *self, toa_prompt_work_t *work);

/* Rebuilds a prompt from its persisted records (TEXTS, N of them, record g
 * at TEXTS[g]) and starts it, with ALLOWANCE generations (its share plus
 * what a job-wide budget gave it, extended where the live prompt was): records are replayed through the policy in
 * their apply order (a method with restore(), e.g. TOA, is rebuilt from
 * each record's action, exact even when selection was masked; the others
 * by replaying next() and apply()); plans the policy wants that no record answers go to
 * WORK as generations to start, records not yet scored as responses to
 * score. Returns 0, or -1 with a reason in ERR (a record that does not
 * decode or does not fit the policy). */
int toa_prompt_replay (toa_prompt_t *self, const char *const *texts, size_t n,
                       int allowance, toa_prompt_work_t *work, char *err, size_t err_size);

/* toa_prompt_replay with the records' settle parts: SETTLES[g] (may be
 * NULL, as SETTLES itself), field s:<g>, is applied over record g. */
int toa_prompt_replay_split (toa_prompt_t *self, const char *const *texts,
                             const char *const *settles, size_t n, int allowance,
                             toa_prompt_work_t *work, char *err, size_t err_size);

/* PLAN's generation came back with N OUTPUTS: records are appended (fewer
 * outputs than plan->n: the missing ones are failed records), persisted, and
 * queued for scoring. Returns 0 or -1 (out of memory, or PLAN not in flight). */
int toa_prompt_generated (toa_prompt_t *self, const toa_gen_plan_t *plan,
                          const toa_gen_output_t *outputs, size_t n,
                          toa_prompt_work_t *work);

/* PLAN's generation failed for good: plan->n failed records with REASON are
 * appended, applied and persisted. Returns 0 or -1. */
int toa_prompt_generation_failed (toa_prompt_t *self, const toa_gen_plan_t *plan,
                                  const char *reason, toa_prompt_work_t *work);

/* Record G was scored RAW: it is applied to the policy and persisted; new
 * plans go to WORK. Returns 0, or -1 when G is not waiting for a score. */
int toa_prompt_scored (toa_prompt_t *self, int g, double raw, toa_prompt_work_t *work);

/* Scoring record G failed for good: it keeps no reward, is applied as failed
 * and persisted. Returns 0 or -1. */
int toa_prompt_scoring_failed (toa_prompt_t *self, int g, const char *reason,
                               toa_prompt_work_t *work);

/* Models the policy may plan for from now on (AVAILABLE: one per model of
 * the job, copied). Methods without availability ignore it. */
void toa_prompt_set_available (toa_prompt_t *self, const bool *available);

/* True when the method can withdraw a plan (and plan another model). */
bool toa_prompt_can_withdraw (const toa_prompt_t *self);

/* PLAN (in flight, never sent or its answer not applied) is withdrawn: no
 * record, no budget spent; the policy plans again (new plans to WORK).
 * Returns 0, or -1 when the method cannot withdraw or PLAN is not out. */
int toa_prompt_withdraw (toa_prompt_t *self, const toa_gen_plan_t *plan,
                         toa_prompt_work_t *work);

/* Asks the policy again for plans (after availability changed) into WORK.
 * Returns 0 or -1 (out of memory). */
int toa_prompt_kick (toa_prompt_t *self, toa_prompt_work_t *work);

/* True when nothing is in flight and the policy waits only for a model to
 * become available (its budget is not spent). */
bool toa_prompt_waiting (const toa_prompt_t *self);

/* True when nothing is in flight and the policy is done (or can go no
 * further: then STUCK, if not NULL, is set true). A prompt waiting for a
 * model (toa_prompt_waiting) is not finished. */
bool toa_prompt_finished (const toa_prompt_t *self, bool *stuck);

/* --- budget: early stop and the job-wide budget ---------------------------
 * A prompt may start `allowance` generations: its share (the job's budget
 * per prompt) plus what toa_prompt_extend gave it. With stop_at_reward set,
 * it stops planning once a scored response reaches it, and keeps at most a
 * wave (max(models, parallel_expansions)) of generations out at once. */

/* True once a response reached the job's stop_at_reward. */
bool toa_prompt_stopped (const toa_prompt_t *self);

/* Generations started (records and those in flight). */
int toa_prompt_used (const toa_prompt_t *self);

/* Generations it may start in all. */
int toa_prompt_allowance (const toa_prompt_t *self);

/* True when its allowance is spent, nothing is in flight and it did not
 * stop: more generations would go on searching (toa_prompt_extend). */
bool toa_prompt_can_extend (const toa_prompt_t *self);

/* Generations its method takes per extension (MoA: a layer). */
int toa_prompt_chunk (const toa_prompt_t *self);

/* What one more generation is expected to gain, higher first (TOA: from
 * its root; the others: fewer generations so far first). */
double toa_prompt_gain (const toa_prompt_t *self);

/* EXTRA more generations (when toa_prompt_can_extend); new plans to WORK.
 * Returns 0, or -1 (not extendable, out of memory). */
int toa_prompt_extend (toa_prompt_t *self, int extra, toa_prompt_work_t *work);

/* The result line (malloc'd JSON text), or NULL when out of memory. With
 * early stop or a job-wide budget it adds `generations`, `stopped_early`
 * and (job-wide) `allowance`. */
char *toa_prompt_result_line (const toa_prompt_t *self);

/* The persisted JSON of record G (malloc'd), or NULL: the whole record. */
char *toa_prompt_record_json (const toa_prompt_t *self, int g);

/* What to write for record G now (malloc'd, or NULL): its whole JSON the
 * first time (field g:<g>, *SETTLE false), after that only its settle part
 * (field s:<g>, *SETTLE true: applied, raw, a scoring failure, tau), so a
 * scored record does not write its text again. Marks the record written. */
char *toa_prompt_record_update (toa_prompt_t *self, int g, bool *settle);

/* Messages of PLAN's generation task into OUT. Returns 0 or -1 with ERR. */
int toa_prompt_render (const toa_prompt_t *self, const toa_gen_plan_t *plan,
                       toa_chat_list_t *out, char *err, size_t err_size);

/* The seed for PLAN's generation request (sampling seed mixed with the
 * prompt index and plan tag). */
uint64_t toa_prompt_plan_seed (const toa_prompt_t *self, const toa_gen_plan_t *plan);

int64_t toa_prompt_index (const toa_prompt_t *self);
/* The original prompt's messages (for scoring tasks). */
const toa_chat_list_t *toa_prompt_original_messages (const toa_prompt_t *self);
/* The reference the scorer gets (the reference field as text), or NULL. */
const char *toa_prompt_reference (const toa_prompt_t *self);
/* The record G (NULL when out of range). */
const toa_gen_record_t *toa_prompt_record (const toa_prompt_t *self, int g);
size_t toa_prompt_n_records (const toa_prompt_t *self);
/* Generations and scorings in flight. */
int toa_prompt_in_flight (const toa_prompt_t *self);

#endif
