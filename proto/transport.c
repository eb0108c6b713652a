/* transport.c - sends and receives toa messages on raw libzmq sockets: one
 * frame per message from a DEALER, [routing id][message] on a ROUTER (see
 * transport.h). Never blocks; bad frames are drained and reported. */
#include "proto/transport.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int
toa_transport_configure (void *socket, size_t max_message)
{
    int type = 0;
    size_t type_size = sizeof type;
    int64_t limit = (int64_t) (max_message ? max_message : TOA_PROTO_MAX_MESSAGE);
    int linger = 0, mandatory = 1;
    if (zmq_getsockopt (socket, ZMQ_TYPE, &type, &type_size) != 0
        || zmq_setsockopt (socket, ZMQ_MAXMSGSIZE, &limit, sizeof limit) != 0
        || zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof linger) != 0)
        return -1;
    if (type == ZMQ_ROUTER
        && zmq_setsockopt (socket, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory) != 0)
        return -1;
    return 0;
}

static void
s_free_buffer (void *data, void *hint)
{
    (void) hint;
    free (data);
}

int
toa_transport_send (void *socket, const toa_peer_id_t *peer, const toa_msg_t *msg)
{
    char *data;
    size_t size;
    if (peer && (peer->size == 0 || peer->size > sizeof peer->data)) {
        errno = EINVAL;
        return -1;
    }
    if (toa_proto_encode (msg, &data, &size) != 0) {
        errno = ENOMEM;
        return -1;
    }
    /* A ROUTER checks the routing id (and its peer's queue) on the first
     * frame; once that is taken the rest of the message goes too. */
    if (peer && zmq_send (socket, peer->data, peer->size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        int saved = errno;
        free (data);
        errno = saved;
        return -1;
    }
    zmq_msg_t frame;
    if (zmq_msg_init_data (&frame, data, size, s_free_buffer, NULL) != 0) {
        int saved = errno;
        free (data);
        errno = saved;
        return -1;
    }
    if (zmq_msg_send (&frame, socket, ZMQ_DONTWAIT) < 0) {
        int saved = errno;
        zmq_msg_close (&frame);
        errno = saved;
        return -1;
    }
    return 0;
}

/* Receives the rest of a multipart message and drops it. */
static void
s_drain (void *socket)
{
    bool more = true;
    while (more) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        more = zmq_msg_recv (&frame, socket, ZMQ_DONTWAIT) >= 0 && zmq_msg_more (&frame);
        zmq_msg_close (&frame);
    }
}

static int
s_bad (toa_proto_error_t *error, toa_proto_status_t status, const char *field)
{
    if (error) {
        error->status = status;
        snprintf (error->field, sizeof error->field, "%s", field);
    }
    return 1;
}

int
toa_transport_recv (void *socket, toa_peer_id_t *peer, toa_msg_t *msg,
                    toa_proto_error_t *error)
{
    toa_proto_error_t local;
    if (!error)
        error = &local;
    error->status = TOA_PROTO_OK;
    error->field[0] = '\0';
    memset (msg, 0, sizeof *msg);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    if (zmq_msg_recv (&frame, socket, ZMQ_DONTWAIT) < 0) {
        int saved = errno;
        zmq_msg_close (&frame);
        errno = saved;
        return -1;
    }
    if (peer) {
        /* The routing id; the message frame follows it. */
        bool more = zmq_msg_more (&frame);
        size_t id_size = zmq_msg_size (&frame);
        peer->size = id_size <= sizeof peer->data ? id_size : 0;
        peer->user_id[0] = '\0';
        memcpy (peer->data, zmq_msg_data (&frame), peer->size);
        zmq_msg_close (&frame);
        zmq_msg_init (&frame);
        if (!more)
            return s_bad (error, TOA_PROTO_ERR_MALFORMED, "frames");
        if (zmq_msg_recv (&frame, socket, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&frame);
            return s_bad (error, TOA_PROTO_ERR_MALFORMED, "frames");
        }
    }
    if (peer) {
        /* Every frame of a connection carries its ZAP metadata. */
        const char *user_id = zmq_msg_gets (&frame, "User-Id");
        snprintf (peer->user_id, sizeof peer->user_id, "%s",
                  user_id && strlen (user_id) < sizeof peer->user_id ? user_id : "");
    }
    if (zmq_msg_more (&frame)) {
        zmq_msg_close (&frame);
        s_drain (socket);
        return s_bad (error, TOA_PROTO_ERR_MALFORMED, "frames");
    }
    toa_proto_status_t status =
        toa_proto_decode (zmq_msg_data (&frame), zmq_msg_size (&frame), msg, error);
    zmq_msg_close (&frame);
    return status == TOA_PROTO_OK ? 0 : 1;
}

const char *
toa_peer_id_text (const toa_peer_id_t *peer, char *buf, size_t buf_size)
{
    static const char digits[] = "0123456789abcdef";
    if (!buf || buf_size == 0)
        return "";
    size_t used = 0;
    for (size_t k = 0; peer && k < peer->size && k < sizeof peer->data && used + 2 < buf_size;
         k++) {
        buf[used++] = digits[peer->data[k] >> 4];
        buf[used++] = digits[peer->data[k] & 0x0f];
    }
    buf[used] = '\0';
    return buf;
}
