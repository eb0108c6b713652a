/* conn.c - the client's DEALER connection to the broker (see conn.h). */
#include "client/conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "client/tokens.h"
#include "proto/curve.h"
#include "proto/transport.h"

struct toa_conn_s {
    void *context;
    void *socket;
    char *endpoint;
    size_t bad;
    toa_curve_client_t curve;        /* off unless the config sets curve.broker_key */
    char token[TOA_TOKEN_SIZE];      /* without CURVE: the job's token, "" = none */
};

/* Opens a configured DEALER connected to the endpoint. Returns 0 or -1. */
static int
s_open_socket (toa_conn_t *self, toa_errors_t *errors)
{
    self->socket = zmq_socket (self->context, ZMQ_DEALER);
    int linger = TOA_CONN_LINGER_MS;
    if (!self->socket || toa_transport_configure (self->socket, 0) != 0
        || toa_curve_client (self->socket, &self->curve) != 0
        || zmq_setsockopt (self->socket, ZMQ_LINGER, &linger, sizeof linger) != 0
        || zmq_connect (self->socket, self->endpoint) != 0) {
        if (errors)
            toa_errors_add (errors, "%s: cannot connect: %s", self->endpoint,
                            zmq_strerror (zmq_errno ()));
        if (self->socket)
            zmq_close (self->socket);
        self->socket = NULL;
        return -1;
    }
    return 0;
}

/* Makes the connection; CURVE may be NULL (off). */
static toa_conn_t *
s_new (const char *endpoint, const toa_curve_client_t *curve, toa_errors_t *errors)
{
    toa_conn_t *self = calloc (1, sizeof *self);
    if (!self || !(self->endpoint = strdup (endpoint)) || !(self->context = zmq_ctx_new ())) {
        toa_errors_add (errors, "%s: out of memory", endpoint);
        toa_conn_destroy (&self);
        return NULL;
    }
    if (curve)
        self->curve = *curve;
    if (s_open_socket (self, errors) != 0)
        toa_conn_destroy (&self);
    return self;
}

toa_conn_t *
toa_conn_new (const char *endpoint, toa_errors_t *errors)
{
    return s_new (endpoint, NULL, errors);
}

toa_conn_t *
toa_conn_open (const char *endpoint, const toa_config_t *config)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_curve_client_t curve;
    toa_conn_t *self = NULL;
    char why[800];
    if (toa_curve_client_setup (config->curve.broker_key, config->curve.client_key,
                                "curve.client_key", "curve.client_keys_dir", &curve, why,
                                sizeof why) != 0)
        toa_errors_add (&errors, "%s: %s", config->path, why);
    else
        self = s_new (endpoint ? endpoint : config->broker.client_endpoint, &curve, &errors);
    toa_curve_pair_wipe (&curve.own);
    if (!self)
        toa_errors_print (&errors, stderr);
    toa_errors_clear (&errors);
    return self;
}

bool
toa_conn_curve (const toa_conn_t *self)
{
    return self && self->curve.on;
}

void
toa_conn_destroy (toa_conn_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_conn_t *self = *self_p;
    if (self->socket)
        zmq_close (self->socket);
    if (self->context)
        zmq_ctx_term (self->context);
    free (self->endpoint);
    toa_curve_pair_wipe (&self->curve.own);
    free (self);
    *self_p = NULL;
}

const char *
toa_conn_endpoint (const toa_conn_t *self)
{
    return self->endpoint;
}

int
toa_conn_claim_job (toa_conn_t *self, const char *job, bool submitting)
{
    self->token[0] = '\0';
    if (self->curve.on || !job || !*job)
        return 0;              /* with CURVE the key is the owner */
    if (!submitting) {
        if (toa_tokens_load (job, self->token) != 0)
            self->token[0] = '\0';      /* none kept: a job without an owner, or not ours */
        return 0;
    }
    char path[3300];
    if (toa_tokens_make (self->token) != 0
        || toa_tokens_save (job, self->token, path, sizeof path) != 0) {
        fprintf (stderr, "toa: cannot keep the job's token: %s\n", strerror (errno));
        self->token[0] = '\0';
        return -1;
    }
    return 0;
}

int
toa_conn_send (toa_conn_t *self, const toa_msg_t *msg)
{
    if (!self->socket) {
        errno = ENOTSOCK;
        return -1;
    }
    if (!self->token[0])
        return toa_transport_send (self->socket, NULL, msg);
    /* The job's token goes with every request about it (borrowed). */
    toa_msg_t copy = *msg;
    switch (copy.type) {
    case TOA_MSG_SUBMIT:
    case TOA_MSG_SUBMIT_BEGIN:
        copy.u.submit.token = self->token;
        break;
    case TOA_MSG_RESULT_ACK:
        copy.u.result_ack.token = self->token;
        break;
    case TOA_MSG_ATTACH:
    case TOA_MSG_CANCEL:
    case TOA_MSG_STATUS_REQUEST:
        copy.u.job_ref.token = self->token;
        break;
    default:
        break;
    }
    return toa_transport_send (self->socket, NULL, &copy);
}

int
toa_conn_send_job_ref (toa_conn_t *self, toa_msg_type_t type, const char *job)
{
    toa_msg_t msg;
    memset (&msg, 0, sizeof msg);
    msg.type = type;
    msg.u.job_ref.job = (char *) job;     /* borrowed: not cleared */
    return toa_conn_send (self, &msg);
}

int
toa_conn_recv (toa_conn_t *self, toa_msg_t *msg, int timeout_ms)
{
    memset (msg, 0, sizeof *msg);
    if (!self->socket) {
        errno = ENOTSOCK;
        return -1;
    }
    zmq_pollitem_t item = {self->socket, 0, ZMQ_POLLIN, 0};
    int ready = zmq_poll (&item, 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (ready < 0)
        return -1;                        /* errno EINTR (a signal) or a zmq error */
    if (ready == 0) {
        errno = EAGAIN;
        return -1;
    }
    toa_proto_error_t error;
    int rc = toa_transport_recv (self->socket, NULL, msg, &error);
    if (rc == 1)
        self->bad++;
    return rc;
}

int
toa_conn_reconnect (toa_conn_t *self)
{
    if (self->socket) {
        int linger = 0;
        zmq_setsockopt (self->socket, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close (self->socket);
        self->socket = NULL;
    }
    return s_open_socket (self, NULL);
}

size_t
toa_conn_bad_messages (const toa_conn_t *self)
{
    return self->bad;
}
