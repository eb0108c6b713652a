/* conn.h - the client's connection to the broker: one DEALER socket to
 * broker.client_endpoint, sending and receiving toa messages with a
 * timeout, and replacing the socket when the broker went silent (a new
 * socket drops whatever was queued for the old peer, so a restarted broker
 * gets one fresh attach instead of a backlog). */
#ifndef TOA_CLIENT_CONN_H
#define TOA_CLIENT_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"
#include "common/errors.h"
#include "proto/proto.h"

#define TOA_CONN_LINGER_MS 500   /* a last ack may leave after close */

typedef struct toa_conn_s toa_conn_t;

/* Connects to ENDPOINT ("tcp://host:port"; the broker need not be up yet).
 * Returns the connection, or NULL with the reason in ERRORS. */
toa_conn_t *toa_conn_new (const char *endpoint, toa_errors_t *errors);

/* Connects to ENDPOINT, or to CONFIG's broker.client_endpoint when ENDPOINT
 * is NULL, with CURVE when CONFIG's curve section asks for it. Returns the connection, or NULL with the reason printed on stderr.
 * toa_conn_endpoint tells which endpoint it is. */
toa_conn_t *toa_conn_open (const char *endpoint, const toa_config_t *config);

/* True when the connection uses CURVE (the broker then knows the client by
 * its key; without CURVE jobs are reached with their token). */
bool toa_conn_curve (const toa_conn_t *self);

/* Without CURVE, the token of JOB goes with every request about it from
 * now on (client/tokens.h): a new one, kept on disk, when SUBMITTING; else
 * the one kept, if any. Does nothing with CURVE. Returns 0, or -1 (printed)
 * when a new token cannot be kept. */
int toa_conn_claim_job (toa_conn_t *self, const char *job, bool submitting);

/* Closes the socket and the context; nulls *SELF_P; safe on NULL. */
void toa_conn_destroy (toa_conn_t **self_p);

const char *toa_conn_endpoint (const toa_conn_t *self);

/* Sends MSG without blocking. Returns 0, or -1 with errno. */
int toa_conn_send (toa_conn_t *self, const toa_msg_t *msg);

/* Sends a message carrying only a job id: attach, cancel, status-request. */
int toa_conn_send_job_ref (toa_conn_t *self, toa_msg_type_t type, const char *job);

/* Waits up to TIMEOUT_MS (0: just look) for a message. Returns 0 with MSG
 * filled (toa_msg_clear it), 1 when a message arrived but did not decode
 * (counted; see toa_conn_bad_messages), or -1 when none arrived (errno
 * EAGAIN on timeout, EINTR when a signal interrupted the wait). */
int toa_conn_recv (toa_conn_t *self, toa_msg_t *msg, int timeout_ms);

/* Replaces the socket by a new one connected to the same endpoint.
 * Returns 0 or -1. */
int toa_conn_reconnect (toa_conn_t *self);

/* Messages received that did not decode. */
size_t toa_conn_bad_messages (const toa_conn_t *self);

#endif
