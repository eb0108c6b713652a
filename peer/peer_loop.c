/* peer_loop.c - the worker's and scorer's event loop: broker connection,
 * HTTP engine and the program's runner in one zmq_poll loop; orderly drain
 * on stop (see peer_loop.h). */
#include "peer/peer_loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/log.h"
#include "peer/peer.h"
#include "common/util.h"

struct toa_peer_loop_s {
    const char *label;               /* "worker", "scorer" */
    toa_peer_loop_options_t options;
    void *context;
    toa_http_t *http;
    toa_peer_t *peer;
    const toa_peer_runner_t *runner;
    void *runner_arg;
    bool draining;                   /* stopped taking tasks */
    zmq_pollitem_t *items;
    size_t items_capacity;
    int64_t report_every_ms;         /* figures to the broker (the heartbeat interval) */
    int64_t next_report_ms;
    toa_http_group_stats_t *reported; /* per HTTP group: counts already reported */
    size_t n_reported;
};

toa_peer_loop_t *
toa_peer_loop_new (const char *label, const toa_peer_loop_options_t *options,
                   toa_errors_t *errors)
{
    if (!label || !options)
        return NULL;
    toa_peer_loop_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->label = label;
    self->options = *options;
    if (self->options.grace_ms <= 0)
        self->options.grace_ms = 10000;
    self->context = zmq_ctx_new ();
    self->http = toa_http_new (&options->http);
    if (!self->context || !self->http) {
        toa_errors_add (errors, "%s: cannot set up ZeroMQ or libcurl", label);
        toa_peer_loop_destroy (&self);
    }
    return self;
}

void
toa_peer_loop_destroy (toa_peer_loop_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_peer_loop_t *self = *self_p;
    toa_peer_destroy (&self->peer);
    toa_http_destroy (&self->http);
    if (self->context)
        zmq_ctx_term (self->context);        /* waits for a goodbye's linger */
    free (self->items);
    free (self->reported);
    free (self);
    *self_p = NULL;
}

toa_http_t *
toa_peer_loop_http (toa_peer_loop_t *self)
{
    return self ? self->http : NULL;
}

static void
s_on_task (void *arg, toa_msg_t *task, uint64_t session)
{
    toa_peer_loop_t *self = arg;
    self->runner->start (self->runner_arg, task, session);
}

static void
s_on_lost (void *arg, size_t tasks, const char *why)
{
    toa_peer_loop_t *self = arg;
    (void) tasks;
    (void) why;
    size_t dropped = self->runner->cancel_all (self->runner_arg);
    if (dropped)
        toa_warn ("%s: dropped %zu task(s) in progress; the broker re-issues them", self->label,
                  dropped);
}

int
toa_peer_loop_connect (toa_peer_loop_t *self, const toa_config_t *config,
                       toa_peer_kind_t kind, const char *const *serves, size_t n_serves,
                       int64_t credit, const toa_peer_runner_t *runner, void *runner_arg,
                       toa_errors_t *errors)
{
    if (!self || !config || !runner || self->peer)
        return -1;
    self->runner = runner;
    self->runner_arg = runner_arg;
    toa_curve_client_t curve;
    char why[800];
    if (toa_curve_client_setup (config->curve.broker_key, config->curve.peer_key,
                                "curve.peer_key", "curve.peer_keys_dir", &curve, why,
                                sizeof why) != 0) {
        toa_errors_add (errors, "%s: %s: %s", config->path, self->label, why);
        return -1;
    }
    toa_peer_options_t peer = {
        .endpoint = self->options.endpoint ? self->options.endpoint
                                           : config->broker.worker_endpoint,
        .kind = kind,
        .name = self->options.name,
        .serves = serves,
        .n_serves = n_serves,
        .credit = credit,
        .heartbeat_ms = config->worker.heartbeat_ms,
        .broker_heartbeat_ms = config->broker.heartbeat_ms,
        .liveness = 3,
        .reconnect_min_ms = self->options.reconnect_min_ms,
        .reconnect_max_ms = self->options.reconnect_max_ms,
        .max_message = config->broker.max_message_bytes,
        .curve = &curve,
    };
    self->report_every_ms = peer.heartbeat_ms > 0 ? peer.heartbeat_ms : 1000;
    self->peer = toa_peer_new (self->context, &peer, s_on_task, s_on_lost, self);
    toa_curve_pair_wipe (&curve.own);
    if (!self->peer) {
        toa_errors_add (errors, "%s: cannot connect to %s", self->label,
                        peer.endpoint ? peer.endpoint : "(no endpoint)");
        return -1;
    }
    return 0;
}

void
toa_peer_loop_answer (void *arg, uint64_t session, const toa_msg_t *answer)
{
    toa_peer_loop_t *self = arg;
    if (toa_peer_answer (self->peer, session, answer) == 1)
        toa_debug ("%s: answer for a task of an older connection dropped", self->label);
}

/* Makes room for N poll items. 0 or -1. */
static int
s_reserve_items (toa_peer_loop_t *self, size_t n)
{
    if (n <= self->items_capacity)
        return 0;
    size_t capacity = n * 2;
    zmq_pollitem_t *items = realloc (self->items, capacity * sizeof *items);
    if (!items)
        return -1;
    self->items = items;
    self->items_capacity = capacity;
    return 0;
}

/* The poll timeout: MAX_WAIT_MS, or less when a part of the loop is due
 * sooner. */
static long
s_wait_ms (const toa_peer_loop_t *self, long max_wait_ms)
{
    long waits[3] = {toa_peer_poll_timeout (self->peer), toa_http_poll_timeout (self->http),
                     self->runner->timeout ? self->runner->timeout (self->runner_arg) : -1};
    long wait = max_wait_ms;
    for (int i = 0; i < 3; i++)
        if (waits[i] >= 0 && waits[i] < wait)
            wait = waits[i];
    return wait;
}

/* Appends one figure to STATS (room for it was made by the caller). */
static void
s_stat (toa_peer_stat_t *stats, size_t *n, const char *name, const char *target,
        const char *outcome, int64_t value)
{
    stats[*n] = (toa_peer_stat_t) {(char *) name, (char *) target, (char *) outcome, value};
    (*n)++;
}

/* Every report interval: the HTTP engine's counts since the last report
 * and its requests in flight, per group, in a heartbeat to the broker. */
static void
s_report (toa_peer_loop_t *self)
{
    int64_t now = toa_now_ms ();
    size_t n_groups = toa_http_groups (self->http);
    if (now < self->next_report_ms || n_groups == 0 || !toa_peer_session (self->peer))
        return;
    self->next_report_ms = now + self->report_every_ms;
    if (self->n_reported < n_groups) {
        toa_http_group_stats_t *reported = realloc (self->reported,
                                                    n_groups * sizeof *reported);
        if (!reported)
            return;
        memset (reported + self->n_reported, 0,
                (n_groups - self->n_reported) * sizeof *reported);
        self->reported = reported;
        self->n_reported = n_groups;
    }
    size_t max = n_groups * (2 * TOA_HTTP_OUTCOMES + 1), n = 0;
    toa_peer_stat_t *stats = calloc (max, sizeof *stats);
    toa_http_group_stats_t *now_stats = calloc (n_groups, sizeof *now_stats);
    if (!stats || !now_stats) {
        free (stats);
        free (now_stats);
        return;
    }
    for (size_t g = 0; g < n_groups; g++) {
        const char *target = toa_http_group_name (self->http, (int) g);
        now_stats[g] = toa_http_group_stats (self->http, (int) g);
        for (int o = 0; o < TOA_HTTP_OUTCOMES; o++) {
            const char *outcome = toa_http_outcome_name ((toa_http_outcome_t) o);
            uint64_t attempts = now_stats[g].attempts[o] - self->reported[g].attempts[o];
            uint64_t retries = now_stats[g].retries[o] - self->reported[g].retries[o];
            if (attempts)
                s_stat (stats, &n, "upstream_attempts", target, outcome, (int64_t) attempts);
            if (retries)
                s_stat (stats, &n, "upstream_retries", target, outcome, (int64_t) retries);
        }
        s_stat (stats, &n, "upstream_in_flight", target, "", now_stats[g].in_flight);
    }
    if (toa_peer_report (self->peer, stats, n) == 0)
        memcpy (self->reported, now_stats, n_groups * sizeof *now_stats);
    free (stats);
    free (now_stats);
}

/* One zmq_poll over the broker socket and the HTTP sockets, waiting at most
 * MAX_WAIT_MS, then the work it makes ready. Returns 0, or -1 on a poll
 * error other than a signal. */
static int
s_poll_once (toa_peer_loop_t *self, long max_wait_ms)
{
    if (s_reserve_items (self, 1 + toa_http_poll_count (self->http)) != 0)
        return -1;
    size_t n_peer = toa_peer_poll_fill (self->peer, &self->items[0]);
    size_t n_http = toa_http_poll_fill (self->http, self->items + n_peer,
                                        self->items_capacity - n_peer);
    if (zmq_poll (self->items, (int) (n_peer + n_http), s_wait_ms (self, max_wait_ms)) < 0) {
        if (errno != EINTR) {
            toa_error ("%s: zmq_poll failed: %s", self->label, zmq_strerror (errno));
            return -1;
        }
        for (size_t i = 0; i < n_peer + n_http; i++)
            self->items[i].revents = 0;
    }
    if (toa_http_process (self->http, self->items + n_peer, n_http) != 0)
        toa_warn ("%s: curl multi reported an error", self->label);
    toa_peer_process (self->peer, n_peer ? &self->items[0] : NULL);
    s_report (self);
    if (self->runner->process)
        self->runner->process (self->runner_arg, self->draining);
    return 0;
}

static void
s_log_summary (const toa_peer_loop_t *self)
{
    char tasks[512] = "";
    self->runner->describe (self->runner_arg, tasks, sizeof tasks);
    toa_http_stats_t http = toa_http_stats (self->http);
    toa_peer_stats_t peer = toa_peer_stats (self->peer);
    toa_info ("%s: %s; http %llu attempts, %llu retries, %llu cool-downs; broker %llu "
              "connects, %llu lost, %llu bad messages",
              self->label, tasks, (unsigned long long) http.attempts,
              (unsigned long long) http.retries, (unsigned long long) http.cooldowns,
              (unsigned long long) peer.connects, (unsigned long long) peer.lost,
              (unsigned long long) peer.bad_messages);
}

/* Stops taking tasks and gives those in progress up to grace_ms, or until
 * the signal count in *STOP changes. */
static void
s_drain (toa_peer_loop_t *self, volatile sig_atomic_t *stop)
{
    toa_info ("%s: stopping; %zu task(s) in progress get up to %lld ms", self->label,
              self->runner->active (self->runner_arg), (long long) self->options.grace_ms);
    toa_peer_drain (self->peer);
    self->draining = true;
    if (self->runner->process)
        self->runner->process (self->runner_arg, true);
    int64_t deadline = toa_now_ms () + self->options.grace_ms;
    sig_atomic_t signals = *stop;
    while (self->runner->active (self->runner_arg) > 0 && *stop == signals) {
        int64_t left = deadline - toa_now_ms ();
        if (left <= 0 || s_poll_once (self, (long) (left < 1000 ? left : 1000)) != 0)
            break;
    }
}

int
toa_peer_loop_run (toa_peer_loop_t *self, volatile sig_atomic_t *stop)
{
    if (!self || !stop || !self->peer)
        return -1;
    while (!*stop)
        if (s_poll_once (self, 1000) != 0)
            return -1;
    s_drain (self, stop);
    char reason[64];
    snprintf (reason, sizeof reason, "%s shutting down", self->label);
    size_t failed = self->runner->fail_all (self->runner_arg, reason);
    if (failed)
        toa_warn ("%s: %zu task(s) unfinished at shutdown, reported as transient failures",
                  self->label, failed);
    toa_peer_goodbye (self->peer, reason, 1000);
    s_log_summary (self);
    return 0;
}
