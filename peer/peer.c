/* peer.c - a worker's or scorer's connection to the broker: READY,
 * heartbeats, liveness, reconnection with back-off, credit (see peer.h). */
#include "peer/peer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "proto/transport.h"

#define S_MAX_READS_PER_PROCESS 1000

struct toa_peer_s {
    void *context;
    char *endpoint;
    toa_peer_kind_t kind;
    char *name;
    char **serves;
    size_t n_serves;
    int64_t credit;
    int64_t heartbeat_ms;
    int64_t silence_limit_ms;        /* liveness * broker heartbeat */
    int64_t reconnect_min_ms, reconnect_max_ms;
    size_t max_message;
    toa_curve_client_t curve;        /* off when not configured */
    toa_peer_task_fn *on_task;
    toa_peer_lost_fn *on_lost;
    void *arg;

    void *socket;                    /* NULL while waiting to reconnect */
    uint64_t session;                /* of the open socket; sessions only grow */
    int64_t last_send_ms;
    int64_t last_recv_ms;
    int64_t reconnect_at_ms;         /* while socket == NULL */
    int failed_connects;             /* in a row, for the back-off */
    bool heard;                      /* the broker spoke on this session */
    size_t outstanding;
    bool draining;
    uint64_t rng;
    toa_peer_stats_t stats;
};

int64_t
toa_peer_backoff_ms (int attempt, int64_t min_ms, int64_t max_ms, double uniform)
{
    if (min_ms < 1)
        min_ms = 1;
    if (max_ms < min_ms)
        max_ms = min_ms;
    int64_t delay = min_ms;
    for (int i = 1; i < attempt && delay < max_ms; i++)
        delay *= 2;
    if (delay > max_ms)
        delay = max_ms;
    return (int64_t) ((double) delay * (0.8 + 0.4 * uniform));
}

static const char *
s_kind_name (toa_peer_kind_t kind)
{
    return kind == TOA_PEER_SCORER ? "scorer" : "worker";
}

/* Sends MSG on the open socket; counts the traffic. 0 or -1. */
static int
s_send (toa_peer_t *self, const toa_msg_t *msg)
{
    if (!self->socket)
        return -1;
    if (toa_transport_send (self->socket, NULL, msg) != 0) {
        self->last_send_ms = toa_now_ms ();  /* a heartbeat waits its next turn */
        self->stats.send_errors++;
        toa_warn ("peer: cannot send %s to the broker: %s", toa_msg_type_name (msg->type),
                  zmq_strerror (errno));
        return -1;
    }
    self->last_send_ms = toa_now_ms ();
    return 0;
}

static int
s_send_ready (toa_peer_t *self)
{
    toa_msg_t msg = {.type = TOA_MSG_READY};
    msg.u.ready.kind = self->kind;
    msg.u.ready.name = self->name;
    msg.u.ready.serves = self->serves;
    msg.u.ready.n_serves = self->n_serves;
    msg.u.ready.credit = self->credit;
    msg.u.ready.heartbeat_ms = self->heartbeat_ms;
    return s_send (self, &msg);
}

/* Opens a new socket, connects it and sends READY. 0 or -1. */
static int
s_connect (toa_peer_t *self)
{
    void *socket = zmq_socket (self->context, ZMQ_DEALER);
    if (!socket) {
        toa_error ("peer: cannot create a socket: %s", zmq_strerror (errno));
        return -1;
    }
    if (toa_transport_configure (socket, self->max_message) != 0
        || toa_curve_client (socket, &self->curve) != 0
        || zmq_connect (socket, self->endpoint) != 0) {
        toa_error ("peer: cannot connect to %s: %s", self->endpoint, zmq_strerror (errno));
        zmq_close (socket);
        return -1;
    }
    self->socket = socket;
    self->session++;
    self->outstanding = 0;
    self->heard = false;
    self->last_recv_ms = toa_now_ms ();
    self->stats.connects++;
    if (s_send_ready (self) != 0)
        return 0;                            /* liveness will retry */
    toa_info ("peer: connected to %s as %s %s (credit %lld, session %llu)", self->endpoint,
              s_kind_name (self->kind), self->name, (long long) self->credit,
              (unsigned long long) self->session);
    return 0;
}

/* Closes the socket and schedules the next connection. */
static void
s_lose (toa_peer_t *self, const char *why)
{
    size_t voided = self->outstanding;
    if (self->socket) {
        zmq_close (self->socket);
        self->socket = NULL;
    }
    self->stats.lost++;
    self->stats.dropped += voided;
    self->outstanding = 0;
    if (self->heard)
        self->failed_connects = 0;
    self->failed_connects++;
    int64_t delay = toa_peer_backoff_ms (self->failed_connects, self->reconnect_min_ms,
                                         self->reconnect_max_ms,
                                         toa_random_uniform (&self->rng));
    self->reconnect_at_ms = toa_now_ms () + delay;
    toa_warn ("peer: lost the broker at %s (%s); %zu task(s) dropped; reconnecting in %lld ms",
              self->endpoint, why, voided, (long long) delay);
    if (self->on_lost)
        self->on_lost (self->arg, voided, why);
}

static char *
s_default_name (void)
{
    char host[256] = "localhost";
    if (gethostname (host, sizeof host - 1) != 0)
        snprintf (host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    char name[300];
    snprintf (name, sizeof name, "%s:%d", host, (int) getpid ());
    return strdup (name);
}

toa_peer_t *
toa_peer_new (void *context, const toa_peer_options_t *options,
              toa_peer_task_fn *on_task, toa_peer_lost_fn *on_lost, void *arg)
{
    if (!context || !options || !options->endpoint || !on_task || options->credit < 1
        || options->n_serves == 0) {
        toa_error ("peer: an endpoint, a task callback, credit >= 1 and something to serve "
                   "are required");
        return NULL;
    }
    toa_peer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->context = context;
    self->endpoint = strdup (options->endpoint);
    self->name = options->name ? strdup (options->name) : s_default_name ();
    self->serves = calloc (options->n_serves, sizeof *self->serves);
    bool ok = self->endpoint && self->name && self->serves;
    for (size_t i = 0; ok && i < options->n_serves; i++) {
        ok = options->serves[i] && (self->serves[i] = strdup (options->serves[i]));
        self->n_serves = i + 1;
    }
    if (!ok) {
        toa_peer_destroy (&self);
        return NULL;
    }
    self->kind = options->kind;
    self->credit = options->credit;
    if (options->curve)
        self->curve = *options->curve;
    self->heartbeat_ms = options->heartbeat_ms > 0 ? options->heartbeat_ms : 1000;
    int64_t broker_heartbeat = options->broker_heartbeat_ms > 0 ? options->broker_heartbeat_ms
                                                                : self->heartbeat_ms;
    self->silence_limit_ms = broker_heartbeat * (options->liveness > 0 ? options->liveness : 3);
    self->reconnect_min_ms = options->reconnect_min_ms > 0 ? options->reconnect_min_ms : 1000;
    self->reconnect_max_ms = options->reconnect_max_ms > 0 ? options->reconnect_max_ms : 32000;
    if (self->reconnect_max_ms < self->reconnect_min_ms)
        self->reconnect_max_ms = self->reconnect_min_ms;
    self->max_message = options->max_message;
    self->on_task = on_task;
    self->on_lost = on_lost;
    self->arg = arg;
    self->rng = (uint64_t) getpid () ^ (uint64_t) toa_wall_ms ();
    if (s_connect (self) != 0)
        self->reconnect_at_ms = toa_now_ms () + self->reconnect_min_ms;
    return self;
}

void
toa_peer_destroy (toa_peer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_peer_t *self = *self_p;
    if (self->socket)
        zmq_close (self->socket);
    for (size_t i = 0; i < self->n_serves; i++)
        free (self->serves[i]);
    free (self->serves);
    free (self->name);
    free (self->endpoint);
    toa_curve_pair_wipe (&self->curve.own);
    free (self);
    *self_p = NULL;
}

size_t
toa_peer_poll_fill (const toa_peer_t *self, zmq_pollitem_t *item)
{
    if (!self || !self->socket)
        return 0;
    item->socket = self->socket;
    item->fd = 0;
    item->events = ZMQ_POLLIN;
    item->revents = 0;
    return 1;
}

long
toa_peer_poll_timeout (const toa_peer_t *self)
{
    if (!self)
        return -1;
    int64_t now = toa_now_ms ();
    int64_t deadline;
    if (!self->socket)
        deadline = self->reconnect_at_ms;
    else {
        deadline = self->last_send_ms + self->heartbeat_ms;
        if (self->last_recv_ms + self->silence_limit_ms < deadline)
            deadline = self->last_recv_ms + self->silence_limit_ms;
    }
    return deadline <= now ? 0 : (long) (deadline - now);
}

/* Answers a task at once with a transient failure (we are draining). */
static void
s_refuse (toa_peer_t *self, const toa_msg_t *task)
{
    toa_msg_t failure = {.type = TOA_MSG_TASK_FAILURE};
    failure.u.task_failure.task = task->type == TOA_MSG_GEN_TASK ? task->u.gen_task.task
                                                                  : task->u.score_task.task;
    failure.u.task_failure.attempt = task->type == TOA_MSG_GEN_TASK
                                         ? task->u.gen_task.attempt
                                         : task->u.score_task.attempt;
    failure.u.task_failure.failure_class = TOA_FAILURE_TRANSIENT;
    failure.u.task_failure.reason = "shutting down";
    failure.u.task_failure.http_status = 0;
    self->stats.refused++;
    s_send (self, &failure);
}

/* Handles one decoded message. Returns false when the connection was lost. */
static bool
s_handle (toa_peer_t *self, toa_msg_t *msg)
{
    switch (msg->type) {
    case TOA_MSG_HEARTBEAT:
        self->heard = true;
        break;
    case TOA_MSG_DISCONNECT: {
        char why[300];
        snprintf (why, sizeof why, "broker said disconnect: %s",
                  msg->u.disconnect.reason ? msg->u.disconnect.reason : "");
        toa_msg_clear (msg);
        s_lose (self, why);
        return false;
    }
    case TOA_MSG_GEN_TASK:
    case TOA_MSG_SCORE_TASK:
        self->heard = true;
        self->stats.tasks++;
        if (self->draining) {
            s_refuse (self, msg);
            break;
        }
        if ((int64_t) self->outstanding >= self->credit) {
            self->stats.over_credit++;
            toa_warn ("peer: the broker sent a task beyond our credit of %lld",
                      (long long) self->credit);
        }
        self->outstanding++;
        self->on_task (self->arg, msg, self->session);   /* takes the contents */
        return true;
    default:
        self->stats.bad_messages++;
        toa_warn ("peer: unexpected %s from the broker, ignored",
                  toa_msg_type_name (msg->type) ? toa_msg_type_name (msg->type) : "message");
        break;
    }
    toa_msg_clear (msg);
    return true;
}

static void
s_read (toa_peer_t *self)
{
    for (int i = 0; i < S_MAX_READS_PER_PROCESS && self->socket; i++) {
        toa_msg_t msg;
        toa_proto_error_t error;
        int rc = toa_transport_recv (self->socket, NULL, &msg, &error);
        if (rc < 0) {
            if (errno != EAGAIN)
                toa_warn ("peer: receive failed: %s", zmq_strerror (errno));
            return;
        }
        self->last_recv_ms = toa_now_ms ();
        if (rc == 1) {
            self->stats.bad_messages++;
            toa_warn ("peer: bad message from the broker (%s%s%s), dropped",
                      toa_proto_status_text (error.status), *error.field ? " at " : "",
                      error.field);
            continue;
        }
        if (!s_handle (self, &msg))
            return;
    }
}

void
toa_peer_process (toa_peer_t *self, const zmq_pollitem_t *item)
{
    if (!self)
        return;
    if (self->socket && (!item || (item->socket == self->socket && (item->revents & ZMQ_POLLIN))))
        s_read (self);
    int64_t now = toa_now_ms ();
    if (!self->socket) {
        if (self->draining)
            return;                          /* no new connection to take tasks on */
        if (now >= self->reconnect_at_ms && s_connect (self) != 0)
            self->reconnect_at_ms = now + self->reconnect_max_ms;
        return;
    }
    if (now - self->last_recv_ms > self->silence_limit_ms) {
        char why[200];
        /* A CURVE server that refuses our key says nothing at all. */
        snprintf (why, sizeof why, "silent for %lld ms%s", (long long) (now - self->last_recv_ms),
                  self->curve.on && !self->heard
                      ? "; with CURVE, check that our public key is in the broker's "
                        "curve.peer_keys_dir and that curve.broker_key is the broker's"
                      : "");
        s_lose (self, why);
        return;
    }
    if (now - self->last_send_ms >= self->heartbeat_ms) {
        toa_msg_t heartbeat = {.type = TOA_MSG_HEARTBEAT};
        s_send (self, &heartbeat);
    }
}

int
toa_peer_report (toa_peer_t *self, const toa_peer_stat_t *stats, size_t n_stats)
{
    if (!self || !self->socket)
        return -1;
    toa_msg_t heartbeat = {.type = TOA_MSG_HEARTBEAT};
    heartbeat.u.heartbeat.stats = (toa_peer_stat_t *) stats;
    heartbeat.u.heartbeat.n_stats = n_stats;
    return s_send (self, &heartbeat);
}

int
toa_peer_answer (toa_peer_t *self, uint64_t session, const toa_msg_t *answer)
{
    if (!self || !answer)
        return -1;
    if (session != self->session || !self->socket)
        return 1;
    if (self->outstanding > 0)
        self->outstanding--;
    if (s_send (self, answer) != 0)
        return -1;
    self->stats.answers++;
    return 0;
}

void
toa_peer_drain (toa_peer_t *self)
{
    if (self)
        self->draining = true;
}

void
toa_peer_goodbye (toa_peer_t *self, const char *reason, int linger_ms)
{
    if (!self || !self->socket)
        return;
    toa_msg_t msg = {.type = TOA_MSG_DISCONNECT};
    msg.u.disconnect.reason = (char *) (reason ? reason : "");
    s_send (self, &msg);
    zmq_setsockopt (self->socket, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    zmq_close (self->socket);
    self->socket = NULL;
    self->reconnect_at_ms = INT64_MAX;       /* no reconnection after a goodbye */
}

uint64_t
toa_peer_session (const toa_peer_t *self)
{
    return self && self->socket ? self->session : 0;
}

size_t
toa_peer_outstanding (const toa_peer_t *self)
{
    return self ? self->outstanding : 0;
}

toa_peer_stats_t
toa_peer_stats (const toa_peer_t *self)
{
    toa_peer_stats_t none = {0};
    return self ? self->stats : none;
}
