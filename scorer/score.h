/* score.h - runs score tasks against the configured reward backend: the
 * built-in verifiers answer at once, the batched HTTP backends gather tasks
 * into batches (scorer/batch) and make one call per batch, the LLM judge
 * makes one chat request per task; every task is answered with a
 * score-result or a task-failure, never with a made-up reward. Knows
 * nothing of sockets: answers go to a callback.
 *
 * Failure classes (TASK_FAILURE):
 *   - no reference for math-verify or chrf, a task for another backend, a
 *     4xx from the server other than 408/409/429 (for a batch refused with
 *     400, 413 or 422: after each of its tasks was tried alone), an
 *     exhausted quota: permanent;
 *   - HTTP 5xx, 408, 409, 429, timeouts, connection errors and 2xx replies
 *     that cannot be read as a whole, once reward.max_retries retries are
 *     used up: transient (the broker may re-issue the task);
 *   - a reply that is readable but gives this task no reward (an unparsable
 *     judge rating, a missing or non-numeric entry): transient on the task's
 *     first attempt, permanent from its second attempt on. */
#ifndef TOA_SCORER_SCORE_H
#define TOA_SCORER_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/errors.h"
#include "common/http.h"
#include "proto/proto.h"

typedef struct toa_score_s toa_score_t;

/* An answer (score-result or task-failure) for a task that came on SESSION. */
typedef void (toa_score_answer_fn) (void *arg, uint64_t session, const toa_msg_t *answer);

typedef struct {
    uint64_t started;            /* tasks taken */
    uint64_t succeeded;          /* score-results sent */
    uint64_t failed_transient;   /* task-failures sent, by class */
    uint64_t failed_permanent;
    uint64_t cancelled;          /* tasks dropped without an answer */
    uint64_t calls;              /* backend HTTP requests made (batches, judge calls) */
    uint64_t splits;             /* batches re-sent one task per request after a 4xx */
} toa_score_stats_t;

/* Sets up REWARD's backend (borrowed, must outlive SELF) on HTTP (borrowed):
 * one HTTP group of its URL taking MAX_CONCURRENT requests at once, with the
 * API key of reward.api_key_env. Problems go to ERRORS; returns NULL then. */
toa_score_t *toa_score_new (toa_http_t *http, const toa_reward_config_t *reward,
                            int max_concurrent, toa_score_answer_fn *answer, void *arg,
                            toa_errors_t *errors);

/* Cancels every task without an answer, frees everything; nulls *SELF_P. */
void toa_score_destroy (toa_score_t **self_p);

/* The name of the backend served ("http-reward", ...). */
const char *toa_score_backend (const toa_score_t *self);

/* Takes TASK (its contents are moved out and TASK is left cleared) from
 * SESSION. A task this scorer cannot serve is answered at once. */
void toa_score_start (toa_score_t *self, toa_msg_t *task, uint64_t session);

/* Sends the batches that are closed at NOW_MS (all waiting tasks when FLUSH).
 * Call after every toa_score_start burst and when toa_score_timeout says. */
void toa_score_process (toa_score_t *self, int64_t now_ms, bool flush);

/* Milliseconds from NOW_MS until a batch closes; -1 when none waits. */
int64_t toa_score_timeout (const toa_score_t *self, int64_t now_ms);

/* Drops every task without answering (their connection is gone). Returns
 * how many. */
size_t toa_score_cancel_all (toa_score_t *self);

/* Answers every task with a transient failure (REASON) and drops it.
 * Returns how many. */
size_t toa_score_fail_all (toa_score_t *self, const char *reason);

/* Tasks taken and not answered yet (waiting in a batch or in flight). */
size_t toa_score_active (const toa_score_t *self);

toa_score_stats_t toa_score_stats (const toa_score_t *self);

#endif
