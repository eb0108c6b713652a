/* worker.c - the generation worker's loop: broker connection, HTTP engine
 * and generation tasks in one zmq_poll loop; orderly drain on stop (see
 * worker.h). */
#include "worker/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/log.h"
#include "common/peer.h"
#include "common/util.h"
#include "worker/gen.h"

struct toa_worker_s {
    toa_worker_options_t options;
    void *context;
    toa_http_t *http;
    toa_gen_t *gen;
    toa_peer_t *peer;
    zmq_pollitem_t *items;
    size_t items_capacity;
};

static void
s_on_task (void *arg, toa_msg_t *task, uint64_t session)
{
    toa_worker_t *self = arg;
    toa_gen_start (self->gen, task, session);
}

static void
s_on_lost (void *arg, size_t tasks, const char *why)
{
    toa_worker_t *self = arg;
    (void) tasks;
    (void) why;
    size_t dropped = toa_gen_cancel_all (self->gen);
    if (dropped)
        toa_warn ("worker: dropped %zu task(s) in progress; the broker re-issues them",
                  dropped);
}

static void
s_answer (void *arg, uint64_t session, const toa_msg_t *answer)
{
    toa_worker_t *self = arg;
    if (toa_peer_answer (self->peer, session, answer) == 1)
        toa_debug ("worker: answer for a task of an older connection dropped");
}

toa_worker_t *
toa_worker_new (const toa_worker_options_t *options, toa_errors_t *errors)
{
    if (!options || !options->config)
        return NULL;
    const toa_config_t *config = options->config;
    toa_worker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->options = *options;
    if (self->options.grace_ms <= 0)
        self->options.grace_ms = 10000;
    self->context = zmq_ctx_new ();
    self->http = toa_http_new (&options->http);
    if (!self->context || !self->http) {
        toa_errors_add (errors, "worker: cannot set up ZeroMQ or libcurl");
        toa_worker_destroy (&self);
        return NULL;
    }
    self->gen = toa_gen_new (self->http, config, options->models, options->n_models,
                             s_answer, self, errors);
    if (!self->gen) {
        toa_worker_destroy (&self);
        return NULL;
    }
    size_t n_serves;
    const char *const *serves = toa_gen_models (self->gen, &n_serves);
    toa_peer_options_t peer = {
        .endpoint = options->endpoint ? options->endpoint : config->broker.worker_endpoint,
        .kind = TOA_PEER_WORKER,
        .name = options->name,
        .serves = serves,
        .n_serves = n_serves,
        .credit = options->max_tasks > 0 ? options->max_tasks : config->worker.max_tasks,
        .heartbeat_ms = config->worker.heartbeat_ms,
        .broker_heartbeat_ms = config->broker.heartbeat_ms,
        .liveness = 3,
        .reconnect_min_ms = options->reconnect_min_ms,
        .reconnect_max_ms = options->reconnect_max_ms,
        .max_message = config->broker.max_message_bytes,
    };
    self->peer = toa_peer_new (self->context, &peer, s_on_task, s_on_lost, self);
    if (!self->peer) {
        toa_errors_add (errors, "worker: cannot connect to %s", peer.endpoint);
        toa_worker_destroy (&self);
        return NULL;
    }
    return self;
}

void
toa_worker_destroy (toa_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_worker_t *self = *self_p;
    toa_gen_destroy (&self->gen);            /* cancels its requests first */
    toa_peer_destroy (&self->peer);
    toa_http_destroy (&self->http);
    if (self->context)
        zmq_ctx_term (self->context);        /* waits for a goodbye's linger */
    free (self->items);
    free (self);
    *self_p = NULL;
}

/* One zmq_poll over the broker socket and the HTTP sockets, waiting at most
 * MAX_WAIT_MS, then the work it makes ready. Returns 0, or -1 on a poll
 * error other than a signal. */
static int
s_poll_once (toa_worker_t *self, long max_wait_ms)
{
    size_t need = 1 + toa_http_poll_count (self->http);
    if (need > self->items_capacity) {
        size_t capacity = need * 2;
        zmq_pollitem_t *items = realloc (self->items, capacity * sizeof *items);
        if (!items)
            return -1;
        self->items = items;
        self->items_capacity = capacity;
    }
    size_t n_peer = toa_peer_poll_fill (self->peer, &self->items[0]);
    size_t n_http = toa_http_poll_fill (self->http, self->items + n_peer,
                                        self->items_capacity - n_peer);
    long wait = max_wait_ms;
    long peer_wait = toa_peer_poll_timeout (self->peer);
    long http_wait = toa_http_poll_timeout (self->http);
    if (peer_wait >= 0 && peer_wait < wait)
        wait = peer_wait;
    if (http_wait >= 0 && http_wait < wait)
        wait = http_wait;
    if (zmq_poll (self->items, (int) (n_peer + n_http), wait) < 0) {
        if (errno != EINTR) {
            toa_error ("worker: zmq_poll failed: %s", zmq_strerror (errno));
            return -1;
        }
        for (size_t i = 0; i < n_peer + n_http; i++)
            self->items[i].revents = 0;
    }
    if (toa_http_process (self->http, self->items + n_peer, n_http) != 0)
        toa_warn ("worker: curl multi reported an error");
    toa_peer_process (self->peer, n_peer ? &self->items[0] : NULL);
    return 0;
}

static void
s_log_summary (const toa_worker_t *self)
{
    toa_gen_stats_t gen = toa_gen_stats (self->gen);
    toa_http_stats_t http = toa_http_stats (self->http);
    toa_peer_stats_t peer = toa_peer_stats (self->peer);
    toa_info ("worker: tasks %llu taken, %llu done, %llu failed transient, %llu failed "
              "permanent, %llu dropped, %llu split; http %llu attempts, %llu retries, %llu "
              "cool-downs; broker %llu connects, %llu lost, %llu bad messages",
              (unsigned long long) gen.started, (unsigned long long) gen.succeeded,
              (unsigned long long) gen.failed_transient,
              (unsigned long long) gen.failed_permanent, (unsigned long long) gen.cancelled,
              (unsigned long long) gen.split, (unsigned long long) http.attempts,
              (unsigned long long) http.retries, (unsigned long long) http.cooldowns,
              (unsigned long long) peer.connects, (unsigned long long) peer.lost,
              (unsigned long long) peer.bad_messages);
}

int
toa_worker_run (toa_worker_t *self, volatile sig_atomic_t *stop)
{
    if (!self || !stop)
        return -1;
    while (!*stop)
        if (s_poll_once (self, 1000) != 0)
            return -1;

    size_t active = toa_gen_active (self->gen);
    toa_info ("worker: stopping; %zu task(s) in progress get up to %lld ms", active,
              (long long) self->options.grace_ms);
    toa_peer_drain (self->peer);
    int64_t deadline = toa_now_ms () + self->options.grace_ms;
    sig_atomic_t signals = *stop;
    while (toa_gen_active (self->gen) > 0 && *stop == signals) {
        int64_t left = deadline - toa_now_ms ();
        if (left <= 0 || s_poll_once (self, (long) (left < 1000 ? left : 1000)) != 0)
            break;
    }
    size_t failed = toa_gen_fail_all (self->gen, "worker shutting down");
    if (failed)
        toa_warn ("worker: %zu task(s) unfinished at shutdown, reported as transient failures",
                  failed);
    toa_peer_goodbye (self->peer, "worker shutting down", 1000);
    s_log_summary (self);
    return 0;
}
