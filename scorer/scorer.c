/* scorer.c - the scorer's loop: broker connection, HTTP engine, batch
 * timers and score tasks in one zmq_poll loop; orderly drain on stop (see
 * scorer.h). */
#include "scorer/scorer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/log.h"
#include "common/peer.h"
#include "common/util.h"
#include "scorer/score.h"

struct toa_scorer_s {
    toa_scorer_options_t options;
    void *context;
    toa_http_t *http;
    toa_score_t *score;
    toa_peer_t *peer;
    zmq_pollitem_t *items;
    size_t items_capacity;
};

static void
s_on_task (void *arg, toa_msg_t *task, uint64_t session)
{
    toa_scorer_t *self = arg;
    toa_score_start (self->score, task, session);
}

static void
s_on_lost (void *arg, size_t tasks, const char *why)
{
    toa_scorer_t *self = arg;
    (void) tasks;
    (void) why;
    size_t dropped = toa_score_cancel_all (self->score);
    if (dropped)
        toa_warn ("scorer: dropped %zu task(s) in progress; the broker re-issues them",
                  dropped);
}

static void
s_answer (void *arg, uint64_t session, const toa_msg_t *answer)
{
    toa_scorer_t *self = arg;
    if (toa_peer_answer (self->peer, session, answer) == 1)
        toa_debug ("scorer: answer for a task of an older connection dropped");
}

toa_scorer_t *
toa_scorer_new (const toa_scorer_options_t *options, toa_errors_t *errors)
{
    if (!options || !options->config)
        return NULL;
    const toa_config_t *config = options->config;
    toa_scorer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->options = *options;
    if (self->options.grace_ms <= 0)
        self->options.grace_ms = 10000;
    int64_t credit = options->max_tasks > 0 ? options->max_tasks : config->scorer.max_tasks;
    self->context = zmq_ctx_new ();
    self->http = toa_http_new (&options->http);
    if (!self->context || !self->http) {
        toa_errors_add (errors, "scorer: cannot set up ZeroMQ or libcurl");
        toa_scorer_destroy (&self);
        return NULL;
    }
    self->score = toa_score_new (self->http, &config->reward, (int) credit, s_answer, self,
                                 errors);
    if (!self->score) {
        toa_scorer_destroy (&self);
        return NULL;
    }
    const char *serves[1] = {toa_score_backend (self->score)};
    toa_peer_options_t peer = {
        .endpoint = options->endpoint ? options->endpoint : config->broker.worker_endpoint,
        .kind = TOA_PEER_SCORER,
        .name = options->name,
        .serves = serves,
        .n_serves = 1,
        .credit = credit,
        .heartbeat_ms = config->worker.heartbeat_ms,
        .broker_heartbeat_ms = config->broker.heartbeat_ms,
        .liveness = 3,
        .reconnect_min_ms = options->reconnect_min_ms,
        .reconnect_max_ms = options->reconnect_max_ms,
        .max_message = config->broker.max_message_bytes,
    };
    self->peer = toa_peer_new (self->context, &peer, s_on_task, s_on_lost, self);
    if (!self->peer) {
        toa_errors_add (errors, "scorer: cannot connect to %s",
                        peer.endpoint ? peer.endpoint : "(no endpoint)");
        toa_scorer_destroy (&self);
        return NULL;
    }
    return self;
}

void
toa_scorer_destroy (toa_scorer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_scorer_t *self = *self_p;
    toa_score_destroy (&self->score);        /* cancels its requests first */
    toa_peer_destroy (&self->peer);
    toa_http_destroy (&self->http);
    if (self->context)
        zmq_ctx_term (self->context);        /* waits for a goodbye's linger */
    free (self->items);
    free (self);
    *self_p = NULL;
}

/* One zmq_poll over the broker socket and the HTTP sockets, waiting at most
 * MAX_WAIT_MS (less when a batch closes sooner), then the work it makes
 * ready; FLUSH sends every waiting batch. Returns 0, or -1 on a poll error
 * other than a signal. */
static int
s_poll_once (toa_scorer_t *self, long max_wait_ms, bool flush)
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
    long waits[3] = {toa_peer_poll_timeout (self->peer), toa_http_poll_timeout (self->http),
                     (long) toa_score_timeout (self->score, toa_now_ms ())};
    for (int i = 0; i < 3; i++)
        if (waits[i] >= 0 && waits[i] < wait)
            wait = waits[i];
    if (zmq_poll (self->items, (int) (n_peer + n_http), wait) < 0) {
        if (errno != EINTR) {
            toa_error ("scorer: zmq_poll failed: %s", zmq_strerror (errno));
            return -1;
        }
        for (size_t i = 0; i < n_peer + n_http; i++)
            self->items[i].revents = 0;
    }
    if (toa_http_process (self->http, self->items + n_peer, n_http) != 0)
        toa_warn ("scorer: curl multi reported an error");
    toa_peer_process (self->peer, n_peer ? &self->items[0] : NULL);
    toa_score_process (self->score, toa_now_ms (), flush);
    return 0;
}

static void
s_log_summary (const toa_scorer_t *self)
{
    toa_score_stats_t score = toa_score_stats (self->score);
    toa_http_stats_t http = toa_http_stats (self->http);
    toa_peer_stats_t peer = toa_peer_stats (self->peer);
    toa_info ("scorer: tasks %llu taken, %llu scored, %llu failed transient, %llu failed "
              "permanent, %llu dropped; backend %llu calls, %llu splits; http %llu attempts, "
              "%llu retries, %llu cool-downs; broker %llu connects, %llu lost, %llu bad "
              "messages",
              (unsigned long long) score.started, (unsigned long long) score.succeeded,
              (unsigned long long) score.failed_transient,
              (unsigned long long) score.failed_permanent,
              (unsigned long long) score.cancelled, (unsigned long long) score.calls,
              (unsigned long long) score.splits, (unsigned long long) http.attempts,
              (unsigned long long) http.retries, (unsigned long long) http.cooldowns,
              (unsigned long long) peer.connects, (unsigned long long) peer.lost,
              (unsigned long long) peer.bad_messages);
}

int
toa_scorer_run (toa_scorer_t *self, volatile sig_atomic_t *stop)
{
    if (!self || !stop)
        return -1;
    toa_info ("scorer: serving %s", toa_score_backend (self->score));
    while (!*stop)
        if (s_poll_once (self, 1000, false) != 0)
            return -1;

    size_t active = toa_score_active (self->score);
    toa_info ("scorer: stopping; %zu task(s) in progress get up to %lld ms", active,
              (long long) self->options.grace_ms);
    toa_peer_drain (self->peer);
    toa_score_process (self->score, toa_now_ms (), true);
    int64_t deadline = toa_now_ms () + self->options.grace_ms;
    sig_atomic_t signals = *stop;
    while (toa_score_active (self->score) > 0 && *stop == signals) {
        int64_t left = deadline - toa_now_ms ();
        if (left <= 0 || s_poll_once (self, (long) (left < 1000 ? left : 1000), true) != 0)
            break;
    }
    size_t failed = toa_score_fail_all (self->score, "scorer shutting down");
    if (failed)
        toa_warn ("scorer: %zu task(s) unfinished at shutdown, reported as transient failures",
                  failed);
    toa_peer_goodbye (self->peer, "scorer shutting down", 1000);
    s_log_summary (self);
    return 0;
}
