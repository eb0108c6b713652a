/* broker.c - toa-broker's event loop (see broker.h).
 *
 * One pass: poll both ROUTERs; handle client and peer messages (which apply
 * results, queue Redis writes and queue new tasks); run timers (leases,
 * back-offs, liveness, heartbeats); admit prompts; flush Redis in one round
 * trip; only then dispatch queued tasks, and send progress and results. So
 * every state change is in Redis before any task it led to is issued.
 *
 * Redis failure: the state in memory may be ahead of Redis, so it is dropped
 * (leases stay charged to their peers), dispatching stops, and the broker
 * reconnects with back-off (100 ms doubling to 5 s), then rebuilds the state
 * from Redis exactly as at startup. */
#include "broker/broker.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "broker/clients.h"
#include "broker/context.h"
#include "broker/exporter.h"
#include "broker/observe.h"
#include "broker/search.h"
#include "broker/workers.h"
#include "common/log.h"
#include "common/util.h"
#include "proto/curve.h"

#define S_POLL_MAX_MS 50
#define S_DRAIN_MAX 1000     /* messages per socket per pass */
#define S_RECONNECT_FIRST_MS 100
#define S_RECONNECT_MAX_MS 5000
#define S_STATS_EVERY_MS 5000

/* Binds a ROUTER; with CURVE (PAIR not NULL) as a CURVE server whose
 * connections the ZAP handler checks under DOMAIN. */
static void *
s_bind (void *zmq, const char *endpoint, size_t max_message, const toa_curve_pair_t *pair,
        const char *domain, char *err, size_t err_size)
{
    void *socket = zmq_socket (zmq, ZMQ_ROUTER);
    if (!socket || toa_transport_configure (socket, max_message) != 0
        || (pair && toa_curve_server (socket, pair, domain) != 0)
        || zmq_bind (socket, endpoint) != 0) {
        snprintf (err, err_size, "bind %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        if (socket)
            zmq_close (socket);
        return NULL;
    }
    return socket;
}

/* Without CURVE anyone who reaches an endpoint may use it: only loopback,
 * ipc:// and inproc:// then, unless the config says insecure. The metrics
 * page is plain HTTP, which CURVE does not cover: loopback only unless
 * insecure, whatever the curve section says. */
static int
s_check_exposure (const toa_broker_options_t *options, char *err, size_t err_size)
{
    if (options->insecure)
        return 0;
    if (options->metrics_listen) {
        char endpoint[300];
        snprintf (endpoint, sizeof endpoint, "tcp://%s", options->metrics_listen);
        if (!toa_curve_endpoint_is_local (endpoint)) {
            snprintf (err, err_size,
                      "broker.metrics_listen %s can be reached from other machines and "
                      "/metrics has no authentication (CURVE covers only the ZeroMQ "
                      "endpoints): serve it on 127.0.0.1 and scrape it from this host (or "
                      "through a tunnel), or set broker.insecure to true on a network you "
                      "trust",
                      options->metrics_listen);
            return -1;
        }
    }
    const char *endpoints[] = {options->client_endpoint, options->worker_endpoint};
    const char *fields[] = {"broker.client_endpoint", "broker.worker_endpoint"};
    if (options->curve_key)
        return 0;
    for (size_t k = 0; k < 2; k++)
        if (!toa_curve_endpoint_is_local (endpoints[k])) {
            snprintf (err, err_size,
                      "%s %s can be reached from other machines and CURVE is off "
                      "(curve.broker_key is not set): whoever reaches it could submit, read "
                      "and cancel any job or forge results. Make keys with toa keygen and set "
                      "the curve section (docs/config.md), or set broker.insecure to true to "
                      "run without authentication on a network you trust",
                      fields[k], endpoints[k]);
            return -1;
        }
    return 0;
}

/* Reads the broker's key pair and starts the ZAP handler, before any bind. */
static int
s_start_curve (toa_broker_t *self, toa_curve_pair_t *pair, char *err, size_t err_size)
{
    const toa_broker_options_t *options = &self->options;
    if (!options->peer_keys_dir || !options->client_keys_dir) {
        snprintf (err, err_size, "curve.peer_keys_dir and curve.client_keys_dir are required "
                  "when curve.broker_key is set (the keys the broker admits)");
        return -1;
    }
    char why[600];
    if (toa_curve_load (options->curve_key, true, pair, why, sizeof why) != 0) {
        snprintf (err, err_size, "curve.broker_key: %s", why);
        return -1;
    }
    struct { const char *domain, *dir, *field; } lists[] = {
        {TOA_ZAP_PEERS, options->peer_keys_dir, "curve.peer_keys_dir"},
        {TOA_ZAP_CLIENTS, options->client_keys_dir, "curve.client_keys_dir"},
        {TOA_ZAP_ADMINS, options->admin_keys_dir, "curve.admin_keys_dir"},
    };
    if (!(self->zap = toa_zap_new (self->zmq, err, err_size)))
        return -1;
    for (size_t k = 0; k < sizeof lists / sizeof *lists; k++)
        if (lists[k].dir
            && toa_zap_allow (self->zap, lists[k].domain, lists[k].dir, why, sizeof why) != 0) {
            snprintf (err, err_size, "%s: %s", lists[k].field, why);
            return -1;
        }
    return 0;
}

/* Starts CURVE when configured, then binds both ROUTERs. */
static int
s_open_sockets (toa_broker_t *self, char *err, size_t err_size)
{
    const toa_broker_options_t *options = &self->options;
    toa_curve_pair_t pair;
    memset (&pair, 0, sizeof pair);
    toa_curve_pair_t *curve = options->curve_key ? &pair : NULL;
    int rc = -1;
    if (s_check_exposure (options, err, err_size) != 0)
        return -1;
    if (!(self->zmq = zmq_ctx_new ())) {
        snprintf (err, err_size, "cannot create a ZeroMQ context");
        return -1;
    }
    if ((!curve || s_start_curve (self, curve, err, err_size) == 0)
        && (self->clients = s_bind (self->zmq, options->client_endpoint, options->max_message,
                                    curve, TOA_ZAP_CLIENTS, err, err_size))
        && (self->workers = s_bind (self->zmq, options->worker_endpoint, options->max_message,
                                    curve, TOA_ZAP_PEERS, err, err_size)))
        rc = 0;
    toa_curve_pair_wipe (&pair);
    return rc;
}

toa_broker_t *
toa_broker_new (const toa_broker_options_t *options, char *err, size_t err_size)
{
    toa_broker_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->options = *options;
    if (self->options.heartbeat_ms <= 0)
        self->options.heartbeat_ms = 1000;
    if (self->options.task_timeout_ms <= 0)
        self->options.task_timeout_ms = 300000;
    if (self->options.max_active <= 0)
        self->options.max_active = INT_MAX / 2;  /* no cap: the work rule of search.c */
    if (self->options.max_attempts <= 0)
        self->options.max_attempts = 5;
    if (self->options.model_down_fail_ms <= 0)
        self->options.model_down_fail_ms = 60000;
    if (!(self->options.stall_fraction > 0 && self->options.stall_fraction <= 1))
        self->options.stall_fraction = 0.5;
    toa_health_options_t health = {
        .down_after = self->options.model_down_after,
        .down_ms = self->options.model_down_ms,
        .down_max_ms = self->options.model_down_max_ms,
    };
    self->health = toa_health_new (&health);
    self->client_endpoint = toa_strdup (options->client_endpoint);
    self->worker_endpoint = toa_strdup (options->worker_endpoint);
    self->redis_url = toa_strdup (options->redis_url);
    self->redis_password = toa_strdup (options->redis_password);
    self->options.client_endpoint = self->client_endpoint;
    self->options.worker_endpoint = self->worker_endpoint;
    self->options.redis_url = self->redis_url;
    self->options.redis_password = self->redis_password;
    /* Task ids are keyed by random bits: no peer can guess the id of a task
     * it was not sent, and a restarted broker never reuses the id of a task
     * an old worker may still answer. */
    uint64_t key[2];
    if (toa_random_bytes (key, sizeof key) != 0) {
        snprintf (err, err_size, "cannot read random bytes for task ids: %s", strerror (errno));
        toa_broker_destroy (&self);
        return NULL;
    }
    self->tasks = toa_tasks_new (key, self->options.task_timeout_ms);
    self->jobs = toa_jobs_new (self->options.max_active);
    toa_peers_limits_t limits = {
        .max_peers = options->max_peers,
        .max_serves = options->max_serves > 0 ? (size_t) options->max_serves : 0,
        .max_credit = options->max_worker_credit,
        .max_scorer_credit = options->max_scorer_credit,
        .heartbeat_max_ms = options->peer_heartbeat_max_ms,
        .models = options->models,
        .n_models = options->n_models,
    };
    self->peers = toa_peers_new (&limits);
    self->router = toa_router_new ();
    self->store = toa_store_new (options->redis_url, options->redis_password, err, err_size);
    if (!self->tasks || !self->jobs || !self->peers || !self->router || !self->store
        || !self->health) {
        if (self->store)
            snprintf (err, err_size, "out of memory");
        toa_broker_destroy (&self);
        return NULL;
    }
    if (s_open_sockets (self, err, err_size) != 0) {
        toa_broker_destroy (&self);
        return NULL;
    }
    if (options->metrics_listen
        && toa_observe_start (self, options->metrics_listen, err, err_size) != 0) {
        toa_broker_destroy (&self);
        return NULL;
    }
    /* The key paths are read; nothing keeps pointing into the caller's config. */
    self->options.curve_key = self->options.peer_keys_dir = NULL;
    self->options.client_keys_dir = self->options.admin_keys_dir = NULL;
    return self;
}

void
toa_broker_destroy (toa_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_broker_t *self = *self_p;
    toa_observe_stop (self);
    if (self->clients)
        zmq_close (self->clients);
    if (self->workers)
        zmq_close (self->workers);
    toa_zap_destroy (&self->zap);
    if (self->zmq)
        zmq_ctx_term (self->zmq);
    toa_clients_destroy (self);
    toa_jobs_destroy (&self->jobs);
    toa_tasks_destroy (&self->tasks);
    toa_peers_destroy (&self->peers);
    toa_router_destroy (&self->router);
    toa_health_destroy (&self->health);
    toa_store_destroy (&self->store);
    toa_prompt_work_clear (&self->work);
    free (self->saved);
    free (self->deferred);
    free (self->client_endpoint);
    free (self->worker_endpoint);
    free (self->redis_url);
    if (self->redis_password) {
        memset (self->redis_password, 0, strlen (self->redis_password));
        free (self->redis_password);
    }
    free (self);
    *self_p = NULL;
}

/* --- Redis state ----------------------------------------------------------- */

/* Redis failed: drop what memory holds and plan a reconnect. */
static void
s_lose_state (toa_broker_t *b, int64_t now)
{
    b->stats.store_failures++;
    if (b->state_ok)
        toa_error ("redis: %s; dispatching stops until it is back",
                   toa_store_error (b->store));
    b->state_ok = false;
    toa_search_drop_state (b, now);
    if (b->reconnect_delay_ms <= 0)
        b->reconnect_delay_ms = S_RECONNECT_FIRST_MS;
    b->reconnect_at_ms = now + b->reconnect_delay_ms;
}

/* Reconnects when due and rebuilds the state from Redis. */
static void
s_recover (toa_broker_t *b, int64_t now)
{
    if (now < b->reconnect_at_ms)
        return;
    if (toa_store_connect (b->store) == 0) {
        if (toa_search_reload (b) == 0 && toa_store_flush (b->store) == 0) {
            b->state_ok = true;
            b->reconnect_delay_ms = 0;
            b->stats.reloads++;
            toa_info ("redis: connected; %zu jobs, %d prompts in search",
                      toa_jobs_count (b->jobs), toa_jobs_active (b->jobs));
            return;
        }
    }
    toa_warn ("redis: %s; retrying in %" PRId64 " ms", toa_store_error (b->store),
              b->reconnect_delay_ms ? b->reconnect_delay_ms : S_RECONNECT_FIRST_MS);
    toa_search_drop_state (b, now);
    b->reconnect_delay_ms = b->reconnect_delay_ms ? b->reconnect_delay_ms * 2
                                                  : S_RECONNECT_FIRST_MS;
    if (b->reconnect_delay_ms > S_RECONNECT_MAX_MS)
        b->reconnect_delay_ms = S_RECONNECT_MAX_MS;
    b->reconnect_at_ms = now + b->reconnect_delay_ms;
}

/* --- loop ------------------------------------------------------------------ */

static void
s_drain (toa_broker_t *b, void *socket, bool clients, int64_t now)
{
    for (int i = 0; i < S_DRAIN_MAX; i++) {
        toa_peer_id_t from;
        toa_msg_t msg;
        toa_proto_error_t error;
        int status = toa_transport_recv (socket, &from, &msg, &error);
        if (status < 0)
            return;
        if (clients)
            toa_clients_handle (b, &from, status, &msg, &error, now);
        else
            toa_workers_handle (b, &from, status, &msg, &error, now);
        toa_msg_clear (&msg);
    }
}

static void
s_log_stats (toa_broker_t *b, int64_t now, bool force)
{
    toa_tasks_stats_t tasks;
    toa_tasks_stats (b->tasks, &tasks);
    const toa_broker_stats_t *s = &b->stats;
    uint64_t hash = tasks.applied * 31 + s->dropped_results * 37 + s->bad_messages * 41
                    + s->requeued * 43 + s->failed_tasks * 47 + s->store_failures * 53
                    + s->prompts_finished * 59 + s->dead_peers * 61 + s->withdrawn * 67
                    + s->stalled * 71 + s->refused_peers * 73;
    if (!force && (now < b->next_stats_ms || hash == b->stats_logged_hash))
        return;
    b->next_stats_ms = now + S_STATS_EVERY_MS;
    b->stats_logged_hash = hash;
    toa_info ("stats: jobs=%zu active=%d tasks=%zu peers=%d applied=%" PRIu64
              " dropped_results=%" PRIu64 " (stale=%" PRIu64 " unknown=%" PRIu64
              " foreign=%" PRIu64 ")"
              " lease_expired=%" PRIu64 " requeued=%" PRIu64 " retries=%" PRIu64
              " failed_tasks=%" PRIu64 " bad_messages=%" PRIu64 " dead_peers=%" PRIu64
              " prompts_finished=%" PRIu64 " withdrawn=%" PRIu64 " stalled=%" PRIu64
              " refused_peers=%" PRIu64 " redis_failures=%" PRIu64
              " round_trips=%" PRIu64,
              toa_jobs_count (b->jobs), toa_jobs_active (b->jobs), toa_tasks_count (b->tasks),
              toa_peers_count (b->peers), tasks.applied, s->dropped_results, tasks.stale,
              tasks.unknown, tasks.foreign, s->lease_expired, s->requeued, s->retries, s->failed_tasks,
              s->bad_messages, s->dead_peers, s->prompts_finished, s->withdrawn,
              s->stalled, s->refused_peers, s->store_failures,
              toa_store_round_trips (b->store));
}

/* One pass of the loop. */
static void
s_pass (toa_broker_t *b)
{
    zmq_pollitem_t items[4] = {
        {b->clients, 0, ZMQ_POLLIN, 0},
        {b->workers, 0, ZMQ_POLLIN, 0},
    };
    int n_items = 2, zap_item = -1;
    toa_exporter_t *exporter = toa_observe_exporter (b);
    if (exporter)
        toa_exporter_poll_fill (exporter, &items[n_items++]);
    if (b->zap) {
        zap_item = n_items++;
        items[zap_item] = (zmq_pollitem_t) {toa_zap_socket (b->zap), 0, ZMQ_POLLIN, 0};
    }
    if (zmq_poll (items, n_items, S_POLL_MAX_MS) < 0 && zmq_errno () != EINTR)
        toa_warn ("poll: %s", zmq_strerror (zmq_errno ()));
    int64_t now = toa_now_ms ();
    if (exporter)
        toa_exporter_process (exporter);
    if (zap_item >= 0 && (items[zap_item].revents & ZMQ_POLLIN))
        toa_zap_handle (b->zap);
    if (items[0].revents & ZMQ_POLLIN)
        s_drain (b, b->clients, true, now);
    if (items[1].revents & ZMQ_POLLIN)
        s_drain (b, b->workers, false, now);
    toa_workers_tick (b, now);
    if (b->state_ok && !b->stopping)
        toa_search_health_tick (b, now);
    if (b->state_ok && !b->stopping && toa_search_admit (b) < 0)
        s_lose_state (b, now);
    if (b->state_ok && !b->stopping)
        toa_search_budget_tick (b, now);
    if (b->state_ok && toa_store_flush (b->store) != 0)
        s_lose_state (b, now);
    if (!b->state_ok) {
        if (!b->stopping)
            s_recover (b, now);
    }
    else {
        toa_workers_dispatch (b, now);
        if (toa_clients_tick (b, now) != 0)
            s_lose_state (b, now);
    }
    s_log_stats (b, now, false);
}

int
toa_broker_run (toa_broker_t *self, volatile sig_atomic_t *stop)
{
    toa_info ("listening: clients %s, workers %s; redis %s; CURVE %s",
              self->options.client_endpoint, self->options.worker_endpoint,
              self->options.redis_url, self->zap ? "on" : "off");
    self->reconnect_at_ms = 0;
    s_recover (self, toa_now_ms ());   /* before any client is answered */
    while (!*stop)
        s_pass (self);
    self->stopping = true;
    if (self->state_ok && toa_store_flush (self->store) != 0)
        toa_error ("redis: last flush failed: %s (the next broker resumes from what Redis "
                   "holds)", toa_store_error (self->store));
    toa_workers_disconnect_all (self, "broker shutting down");
    s_log_stats (self, toa_now_ms (), true);
    toa_info ("stopped");
    return 0;
}
