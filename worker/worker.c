/* worker.c - the generation worker: its generation tasks (worker/gen) as
 * the runner of the peer event loop (see worker.h). */
#include "worker/worker.h"

#include <stdio.h>
#include <stdlib.h>

#include "worker/gen.h"

struct toa_worker_s {
    toa_peer_loop_t *loop;
    toa_gen_t *gen;
};

/* ---------------------------------------------------------------- the runner */

static void
s_start (void *gen, toa_msg_t *task, uint64_t session)
{
    toa_gen_start (gen, task, session);
}

static size_t
s_cancel_all (void *gen)
{
    return toa_gen_cancel_all (gen);
}

static size_t
s_fail_all (void *gen, const char *reason)
{
    return toa_gen_fail_all (gen, reason);
}

static size_t
s_active (const void *gen)
{
    return toa_gen_active (gen);
}

static void
s_describe (const void *gen, char *text, size_t size)
{
    toa_gen_stats_t stats = toa_gen_stats (gen);
    snprintf (text, size, "tasks %llu taken, %llu done, %llu failed transient, %llu failed "
              "permanent, %llu dropped, %llu split",
              (unsigned long long) stats.started, (unsigned long long) stats.succeeded,
              (unsigned long long) stats.failed_transient,
              (unsigned long long) stats.failed_permanent,
              (unsigned long long) stats.cancelled, (unsigned long long) stats.split);
}

static const toa_peer_runner_t s_runner = {
    .start = s_start,
    .cancel_all = s_cancel_all,
    .fail_all = s_fail_all,
    .active = s_active,
    .describe = s_describe,
};

/* ---------------------------------------------------------------- the worker */

toa_worker_t *
toa_worker_new (const toa_worker_options_t *options, toa_errors_t *errors)
{
    if (!options || !options->config)
        return NULL;
    const toa_config_t *config = options->config;
    toa_worker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = toa_peer_loop_new ("worker", &options->loop, errors);
    if (self->loop)
        self->gen = toa_gen_new (toa_peer_loop_http (self->loop), config, options->models,
                                 options->n_models, toa_peer_loop_answer, self->loop, errors);
    if (!self->gen) {
        toa_worker_destroy (&self);
        return NULL;
    }
    size_t n_serves;
    const char *const *serves = toa_gen_models (self->gen, &n_serves);
    int64_t credit = options->loop.max_tasks > 0 ? options->loop.max_tasks
                                                 : config->worker.max_tasks;
    if (toa_peer_loop_connect (self->loop, config, TOA_PEER_WORKER, serves, n_serves, credit,
                               &s_runner, self->gen, errors) != 0)
        toa_worker_destroy (&self);
    return self;
}

void
toa_worker_destroy (toa_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_worker_t *self = *self_p;
    toa_gen_destroy (&self->gen);            /* cancels its requests first */
    toa_peer_loop_destroy (&self->loop);
    free (self);
    *self_p = NULL;
}

int
toa_worker_run (toa_worker_t *self, volatile sig_atomic_t *stop)
{
    return self ? toa_peer_loop_run (self->loop, stop) : -1;
}
