/* clients.h - the broker's side of the client conversation (docs/jobs.md):
 * submit (validated as a whole; stored in one transaction or not at all),
 * attach, result-ack, status-request, cancel; progress and results, in seq
 * order within a window of unacknowledged results. Private to broker/. */
#ifndef TOA_BROKER_CLIENTS_H
#define TOA_BROKER_CLIENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/context.h"

/* Results sent and not yet acknowledged, at most. */
#define TOA_CLIENTS_WINDOW 64

/* A submission whose client sends nothing this long is dropped, unless
 * the broker's options say otherwise (toa-broker --submit-idle-ms). */
#define TOA_CLIENTS_SUBMIT_IDLE_MS 60000

/* Handles one message from client FROM (STATUS 1: undecodable, ERROR says why). */
void toa_clients_handle (toa_broker_t *b, const toa_peer_id_t *from, int status,
                         const toa_msg_t *msg, const toa_proto_error_t *error, int64_t now);

/* Sends due progress and the results the window allows (read from Redis),
 * and forgets jobs that are done with every result acknowledged. Call after
 * the pass's writes are flushed. Returns -1 when a Redis read failed. */
int toa_clients_tick (toa_broker_t *b, int64_t now);

/* True while job JOB is being submitted in chunks (its Redis keys are
 * staged, state "loading"). */
bool toa_clients_submitting (toa_broker_t *b, const char *job);

/* Frees the submissions in progress (their staged keys stay: a restarted
 * broker deletes them). */
void toa_clients_destroy (toa_broker_t *b);

#endif
