/* workers.h - the broker's side of the worker/scorer conversation
 * (proto/README.md): READY, heartbeats both ways, liveness, results and
 * failures matched against leases, and the dispatch of queued tasks to peers
 * within their credit. Private to broker/. */
#ifndef TOA_BROKER_WORKERS_H
#define TOA_BROKER_WORKERS_H

#include <stdint.h>

#include "broker/context.h"

/* Handles one message MSG from peer FROM on the worker socket (STATUS is the
 * transport's verdict: 1 = undecodable, ERROR says why). */
void toa_workers_handle (toa_broker_t *b, const toa_peer_id_t *from, int status,
                         const toa_msg_t *msg, const toa_proto_error_t *error, int64_t now);

/* Timers: dead peers lose their tasks, expired leases and back-offs move
 * tasks, charges of unanswered leases are released, heartbeats go out. */
void toa_workers_tick (toa_broker_t *b, int64_t now);

/* Sends queued tasks to peers (never beyond credit). Only call once the
 * pass's Redis writes are flushed. Failures found while building messages
 * are applied after the loop (their new tasks wait for the next pass). */
void toa_workers_dispatch (toa_broker_t *b, int64_t now);

/* Tells every peer to disconnect (shutdown). */
void toa_workers_disconnect_all (toa_broker_t *b, const char *reason);

#endif
