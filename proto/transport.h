/* transport.h - moves toa_msg_t over ZeroMQ sockets (raw libzmq handles).
 *
 * Frames: a DEALER sends one frame, the encoded message; the ROUTER sees
 * [routing id][message] and answers the same way. No empty delimiter frame.
 * Sends never block (ZMQ_DONTWAIT); ROUTER sockets are set ROUTER_MANDATORY so
 * that a message to a gone peer fails with EHOSTUNREACH instead of vanishing. */
#ifndef TOA_TRANSPORT_H
#define TOA_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/proto.h"

typedef struct {
    unsigned char data[256];
    size_t size;
    char user_id[41];        /* with CURVE: the sender's public key (Z85), set by
                                the broker's ZAP handler; "" without CURVE */
} toa_peer_id_t;

/* Sets ZMQ_MAXMSGSIZE (MAX_MESSAGE bytes, 0 = TOA_PROTO_MAX_MESSAGE),
 * ZMQ_LINGER 0 and, for ROUTER sockets, ZMQ_ROUTER_MANDATORY. Returns 0 or -1. */
int toa_transport_configure (void *socket, size_t max_message);

/* Encodes and sends MSG; to PEER first when PEER is not NULL (ROUTER side).
 * Returns 0, or -1 with errno from zmq (EAGAIN: would block, EHOSTUNREACH:
 * peer gone) or ENOMEM. */
int toa_transport_send (void *socket, const toa_peer_id_t *peer, const toa_msg_t *msg);

/* Receives one message without blocking. When PEER is not NULL (ROUTER side)
 * the routing id frame is read into it, and the connection's ZAP user id
 * into PEER->user_id. Returns:
 *    0  MSG decoded (caller toa_msg_clear()s it),
 *    1  a message arrived but was bad: ERROR says why, MSG is empty
 *       (the caller counts it and may tell the peer to disconnect),
 *   -1  nothing received (errno EAGAIN) or a zmq error. */
int toa_transport_recv (void *socket, toa_peer_id_t *peer, toa_msg_t *msg,
                        toa_proto_error_t *error);

/* Printable form of a routing id (hex), for logs. BUF must hold 2*size+1. */
const char *toa_peer_id_text (const toa_peer_id_t *peer, char *buf, size_t buf_size);

#endif
