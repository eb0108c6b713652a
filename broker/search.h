/* search.h - prompts in search, inside the broker's event loop: admission,
 * turning a prompt's work into tasks and Redis writes, applying results and
 * failures, finishing prompts into result lines, cancelling and forgetting
 * jobs, and rebuilding all of it from Redis (at start and after Redis came
 * back). Private to broker/. */
#ifndef TOA_BROKER_SEARCH_H
#define TOA_BROKER_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/context.h"

/* Admits prompts up to the active limit (at most one batch per call).
 * Returns how many, or -1 when Redis failed (state must be rebuilt). */
int toa_search_admit (toa_broker_t *b);

/* The generation of TASK (its current lease) came back. Frees TASK. */
void toa_search_generated (toa_broker_t *b, toa_task_t *task, const toa_msg_gen_result_t *msg);

/* The scoring of TASK (its current lease) came back with REWARD. Frees TASK. */
void toa_search_scored (toa_broker_t *b, toa_task_t *task, double reward);

/* TASK (its current lease, already released from its peer) failed: a
 * transient failure is retried after a back-off until max_attempts, then it
 * fails for good like a permanent one (recorded in the prompt's result).
 * A generation's failure with HTTP_STATUS 0, 408, 429 or 5xx counts against
 * its model's health (broker/fleet/health.h); when the model is down, a transient
 * failure of a method that can pick another model (TOA) withdraws the plan
 * and the search selects again among the models that are up. */
void toa_search_failed (toa_broker_t *b, toa_task_t *task, bool permanent, const char *reason,
                        int64_t http_status, int64_t now);

/* Model health at NOW: when a model's down period ends, prompts waiting for
 * a model plan again; a generation task of a method that cannot pick another
 * model, waiting for a model that has been down for model_down_fail_ms,
 * fails for good ("model X is down ..."). Cheap to call every pass. */
void toa_search_health_tick (toa_broker_t *b, int64_t now);

/* TASK's lease ran out at NOW: its peer keeps the charge, the task goes to
 * another peer (or fails for good after max_attempts). For a generation it
 * counts against its model's health like a failure with no HTTP status (a
 * TOA plan of a model that is then down is withdrawn). */
void toa_search_expired (toa_broker_t *b, toa_task_t *task, int64_t now);

/* TASK's peer is gone: the task waits for another peer (counted as a failed
 * attempt). */
void toa_search_requeue (toa_broker_t *b, toa_task_t *task);

/* Stops JOB: its tasks are dropped (peers keep charges for leased ones), its
 * keys deleted, the job forgotten. */
void toa_search_cancel (toa_broker_t *b, toa_job_t *job, int64_t now);

/* How long a done job's hash stays in Redis (attach and status report it). */
#define TOA_SEARCH_RETIRED_KEEP_S (7 * 24 * 3600)

/* Forgets a searched job whose results are all acknowledged: it is done; its
 * keys are deleted but for its hash, kept TOA_SEARCH_RETIRED_KEEP_S. */
void toa_search_forget (toa_broker_t *b, toa_job_t *job);

/* Drops every job, prompt and task from memory (leased tasks stay charged to
 * their peers) and remembers client attachments for the rebuild. */
void toa_search_drop_state (toa_broker_t *b, int64_t now);

/* Rebuilds jobs, prompts and tasks from Redis (replaying each active
 * prompt's records) and restores remembered attachments. Returns 0, or -1
 * when Redis failed (the caller drops the state and retries later). */
int toa_search_reload (toa_broker_t *b);

/* Job-wide budgets: the prompts that spent their allowance unsolved in this
 * loop pass get one more chunk each from their job's spare, in order of
 * expected gain, or finish (docs/methods.md "Budget"). Call once per pass,
 * before the Redis flush. */
void toa_search_budget_tick (toa_broker_t *b, int64_t now);

/* Why JOB is not progressing ("" when it is), into BUFFER: models no worker
 * serves, models that are down, Redis away, admission full. */
const char *toa_search_waiting (toa_broker_t *b, toa_job_t *job, int64_t now, char *buffer,
                                size_t size);

#endif
