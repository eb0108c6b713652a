/* scorer.c - the scorer: its score tasks and batch timers (scorer/score)
 * as the runner of the peer event loop (see scorer.h). */
#include "scorer/scorer.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"
#include "scorer/score.h"

struct toa_scorer_s {
    toa_peer_loop_t *loop;
    toa_score_t *score;
};

/* ---------------------------------------------------------------- the runner */

static void
s_start (void *score, toa_msg_t *task, uint64_t session)
{
    toa_score_start (score, task, session);
}

static size_t
s_cancel_all (void *score)
{
    return toa_score_cancel_all (score);
}

static size_t
s_fail_all (void *score, const char *reason)
{
    return toa_score_fail_all (score, reason);
}

static size_t
s_active (const void *score)
{
    return toa_score_active (score);
}

/* A batch closes: time to send it. */
static long
s_timeout (const void *score)
{
    return (long) toa_score_timeout (score, toa_now_ms ());
}

/* Sends the closed batches; every waiting one once draining. */
static void
s_process (void *score, bool draining)
{
    toa_score_process (score, toa_now_ms (), draining);
}

static void
s_describe (const void *score, char *text, size_t size)
{
    toa_score_stats_t stats = toa_score_stats (score);
    snprintf (text, size, "tasks %llu taken, %llu scored, %llu failed transient, %llu failed "
              "permanent, %llu dropped; backend %llu calls, %llu splits",
              (unsigned long long) stats.started, (unsigned long long) stats.succeeded,
              (unsigned long long) stats.failed_transient,
              (unsigned long long) stats.failed_permanent,
              (unsigned long long) stats.cancelled, (unsigned long long) stats.calls,
              (unsigned long long) stats.splits);
}

static const toa_peer_runner_t s_runner = {
    .start = s_start,
    .cancel_all = s_cancel_all,
    .fail_all = s_fail_all,
    .active = s_active,
    .timeout = s_timeout,
    .process = s_process,
    .describe = s_describe,
};

/* ---------------------------------------------------------------- the scorer */

toa_scorer_t *
toa_scorer_new (const toa_scorer_options_t *options, toa_errors_t *errors)
{
    if (!options || !options->config)
        return NULL;
    const toa_config_t *config = options->config;
    toa_scorer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    int64_t credit = options->loop.max_tasks > 0 ? options->loop.max_tasks
                                                 : config->scorer.max_tasks;
    self->loop = toa_peer_loop_new ("scorer", &options->loop, errors);
    if (self->loop)
        self->score = toa_score_new (toa_peer_loop_http (self->loop), &config->reward,
                                     (int) credit, toa_peer_loop_answer, self->loop, errors);
    if (!self->score) {
        toa_scorer_destroy (&self);
        return NULL;
    }
    const char *serves[1] = {toa_score_backend (self->score)};
    if (toa_peer_loop_connect (self->loop, config, TOA_PEER_SCORER, serves, 1, credit, &s_runner,
                               self->score, errors) != 0)
        toa_scorer_destroy (&self);
    return self;
}

void
toa_scorer_destroy (toa_scorer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_scorer_t *self = *self_p;
    toa_score_destroy (&self->score);        /* cancels its requests first */
    toa_peer_loop_destroy (&self->loop);
    free (self);
    *self_p = NULL;
}

int
toa_scorer_run (toa_scorer_t *self, volatile sig_atomic_t *stop)
{
    if (!self || !stop)
        return -1;
    toa_info ("scorer: serving %s", toa_score_backend (self->score));
    return toa_peer_loop_run (self->loop, stop);
}
