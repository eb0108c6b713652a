/* test_transport.c - unit tests of proto/transport.c over real ZeroMQ
 * sockets on 127.0.0.1: a ROUTER and a DEALER exchange messages both ways,
 * unknown peers fail with EHOSTUNREACH, bad frames come back as bad messages,
 * and an oversized message is refused by the socket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/util.h"
#include "proto/transport.h"
#include "tests/fuzz/samples.h"

typedef struct {
    void *context;
    void *router;
    void *dealer;
    char endpoint[256];
} s_pair_t;

/* A ROUTER bound to an ephemeral port and a DEALER (routing id ID)
 * connected to it, both configured with MAX_MESSAGE. */
static void
s_pair_open (s_pair_t *pair, const char *id, size_t max_message)
{
    pair->context = zmq_ctx_new ();
    assert_non_null (pair->context);
    pair->router = zmq_socket (pair->context, ZMQ_ROUTER);
    pair->dealer = zmq_socket (pair->context, ZMQ_DEALER);
    assert_int_equal (toa_transport_configure (pair->router, max_message), 0);
    assert_int_equal (toa_transport_configure (pair->dealer, max_message), 0);
    assert_int_equal (zmq_bind (pair->router, "tcp://127.0.0.1:*"), 0);
    size_t size = sizeof pair->endpoint;
    assert_int_equal (zmq_getsockopt (pair->router, ZMQ_LAST_ENDPOINT, pair->endpoint, &size), 0);
    assert_int_equal (zmq_setsockopt (pair->dealer, ZMQ_ROUTING_ID, id, strlen (id)), 0);
    assert_int_equal (zmq_connect (pair->dealer, pair->endpoint), 0);
}

static void
s_pair_close (s_pair_t *pair)
{
    zmq_close (pair->dealer);
    zmq_close (pair->router);
    zmq_ctx_term (pair->context);
}

/* toa_transport_recv, waiting up to TIMEOUT_MS for something to arrive.
 * Returns its result, or -1 on timeout. */
static int
s_recv_wait (void *socket, toa_peer_id_t *peer, toa_msg_t *msg, toa_proto_error_t *error,
             int timeout_ms)
{
    int64_t deadline = toa_now_ms () + timeout_ms;
    for (;;) {
        int rc = toa_transport_recv (socket, peer, msg, error);
        if (rc >= 0 || errno != EAGAIN)
            return rc;
        int64_t left = deadline - toa_now_ms ();
        if (left <= 0)
            return -1;
        zmq_pollitem_t item = { socket, 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, (long) left);
    }
}

static void
test_configure_sets_options (void **state)
{
    (void) state;
    void *context = zmq_ctx_new ();
    void *dealer = zmq_socket (context, ZMQ_DEALER);
    int64_t limit = 0;
    int linger = -1;
    size_t size = sizeof limit;
    assert_int_equal (toa_transport_configure (dealer, 0), 0);
    assert_int_equal (zmq_getsockopt (dealer, ZMQ_MAXMSGSIZE, &limit, &size), 0);
    assert_int_equal (limit, TOA_PROTO_MAX_MESSAGE);
    assert_int_equal (toa_transport_configure (dealer, 4096), 0);
    assert_int_equal (zmq_getsockopt (dealer, ZMQ_MAXMSGSIZE, &limit, &size), 0);
    assert_int_equal (limit, 4096);
    size = sizeof linger;
    assert_int_equal (zmq_getsockopt (dealer, ZMQ_LINGER, &linger, &size), 0);
    assert_int_equal (linger, 0);
    zmq_close (dealer);
    zmq_ctx_term (context);
}

static void
test_send_recv_both_ways (void **state)
{
    (void) state;
    s_pair_t pair;
    s_pair_open (&pair, "worker-1", 0);
    toa_msg_t msg, got;
    toa_proto_error_t error;
    toa_peer_id_t peer;

    /* Nothing yet: -1 with EAGAIN, without blocking. */
    assert_int_equal (toa_transport_recv (pair.router, &peer, &got, &error), -1);
    assert_int_equal (errno, EAGAIN);

    sample_build (TOA_MSG_READY, &msg);
    assert_int_equal (toa_transport_send (pair.dealer, NULL, &msg), 0);
    toa_msg_clear (&msg);
    assert_int_equal (s_recv_wait (pair.router, &peer, &got, &error, 30000), 0);
    assert_int_equal (got.type, TOA_MSG_READY);
    assert_string_equal (got.u.ready.name, "host-3:4242");
    assert_int_equal (got.u.ready.n_serves, 2);
    assert_int_equal (got.u.ready.credit, 64);
    assert_int_equal (peer.size, 8);
    assert_memory_equal (peer.data, "worker-1", 8);
    char text[2 * sizeof peer.data + 1];
    assert_string_equal (toa_peer_id_text (&peer, text, sizeof text), "776f726b65722d31");
    char small[5];
    assert_string_equal (toa_peer_id_text (&peer, small, sizeof small), "776f");
    toa_msg_clear (&got);

    sample_build (TOA_MSG_GEN_TASK, &msg);
    assert_int_equal (toa_transport_send (pair.router, &peer, &msg), 0);
    assert_int_equal (s_recv_wait (pair.dealer, NULL, &got, &error, 30000), 0);
    assert_int_equal (got.type, TOA_MSG_GEN_TASK);
    assert_true (got.u.gen_task.task == msg.u.gen_task.task);
    assert_string_equal (got.u.gen_task.model, msg.u.gen_task.model);
    assert_int_equal (got.u.gen_task.n_messages, msg.u.gen_task.n_messages);
    assert_string_equal (got.u.gen_task.messages[1].content, msg.u.gen_task.messages[1].content);
    toa_msg_clear (&msg);
    toa_msg_clear (&got);
    s_pair_close (&pair);
}

static void
test_unknown_peer_unreachable (void **state)
{
    (void) state;
    s_pair_t pair;
    s_pair_open (&pair, "worker-1", 0);
    toa_peer_id_t nobody = { .size = 6 };
    memcpy (nobody.data, "nobody", 6);
    toa_msg_t msg;
    sample_build (TOA_MSG_HEARTBEAT, &msg);
    errno = 0;
    assert_int_equal (toa_transport_send (pair.router, &nobody, &msg), -1);
    assert_int_equal (errno, EHOSTUNREACH);
    toa_peer_id_t empty = { .size = 0 };
    assert_int_equal (toa_transport_send (pair.router, &empty, &msg), -1);
    assert_int_equal (errno, EINVAL);
    s_pair_close (&pair);
}

static void
test_bad_frames_reported (void **state)
{
    (void) state;
    s_pair_t pair;
    s_pair_open (&pair, "w2", 0);
    toa_msg_t got;
    toa_proto_error_t error;
    toa_peer_id_t peer;

    /* Not msgpack. */
    assert_int_equal (zmq_send (pair.dealer, "\xc1garbage", 8, 0), 8);
    assert_int_equal (s_recv_wait (pair.router, &peer, &got, &error, 30000), 1);
    assert_int_equal (error.status, TOA_PROTO_ERR_MALFORMED);
    assert_int_equal (got.type, TOA_MSG_NONE);
    assert_int_equal (peer.size, 2);
    assert_memory_equal (peer.data, "w2", 2);

    /* Valid msgpack, not a message. */
    assert_int_equal (zmq_send (pair.dealer, "\x93\x01\x02\x03", 4, 0), 4);
    assert_int_equal (s_recv_wait (pair.router, &peer, &got, &error, 30000), 1);
    assert_int_equal (error.status, TOA_PROTO_ERR_NOT_MAP);

    /* Three frames (a REQ-style empty delimiter): drained, reported, and the
     * next message still arrives whole. */
    char *data;
    size_t size;
    toa_msg_t msg;
    sample_build (TOA_MSG_HEARTBEAT, &msg);
    assert_int_equal (toa_proto_encode (&msg, &data, &size), 0);
    assert_int_equal (zmq_send (pair.dealer, "", 0, ZMQ_SNDMORE), 0);
    assert_int_equal (zmq_send (pair.dealer, data, size, ZMQ_SNDMORE), (int) size);
    assert_int_equal (zmq_send (pair.dealer, data, size, 0), (int) size);
    free (data);
    assert_int_equal (s_recv_wait (pair.router, &peer, &got, &error, 30000), 1);
    assert_int_equal (error.status, TOA_PROTO_ERR_MALFORMED);
    assert_string_equal (error.field, "frames");
    assert_int_equal (toa_transport_send (pair.dealer, NULL, &msg), 0);
    assert_int_equal (s_recv_wait (pair.router, &peer, &got, &error, 30000), 0);
    assert_int_equal (got.type, TOA_MSG_HEARTBEAT);

    /* The DEALER side too: two frames after the routing id. */
    assert_int_equal (zmq_send (pair.router, peer.data, peer.size, ZMQ_SNDMORE), (int) peer.size);
    assert_int_equal (zmq_send (pair.router, "a", 1, ZMQ_SNDMORE), 1);
    assert_int_equal (zmq_send (pair.router, "b", 1, 0), 1);
    assert_int_equal (s_recv_wait (pair.dealer, NULL, &got, &error, 30000), 1);
    assert_string_equal (error.field, "frames");
    assert_int_equal (toa_transport_send (pair.router, &peer, &msg), 0);
    assert_int_equal (s_recv_wait (pair.dealer, NULL, &got, &error, 30000), 0);
    assert_int_equal (got.type, TOA_MSG_HEARTBEAT);
    s_pair_close (&pair);
}

/* Waits up to TIMEOUT_MS for EVENT on a monitor PAIR socket. */
static bool
s_wait_event (void *monitor, int event, int timeout_ms)
{
    int64_t deadline = toa_now_ms () + timeout_ms;
    while (toa_now_ms () < deadline) {
        zmq_pollitem_t item = { monitor, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, (long) (deadline - toa_now_ms ())) <= 0)
            continue;
        uint8_t head[6];
        char endpoint[256];
        int rc = zmq_recv (monitor, head, sizeof head, 0);
        zmq_recv (monitor, endpoint, sizeof endpoint, 0);
        uint16_t got;
        memcpy (&got, head, sizeof got);
        if (rc >= 2 && got == event)
            return true;
    }
    return false;
}

static void
test_oversized_message_refused (void **state)
{
    (void) state;
    s_pair_t pair;
    s_pair_open (&pair, "big", 1000);
    assert_int_equal (zmq_socket_monitor (pair.router, "inproc://router-events",
                                          ZMQ_EVENT_DISCONNECTED), 0);
    void *monitor = zmq_socket (pair.context, ZMQ_PAIR);
    assert_int_equal (zmq_connect (monitor, "inproc://router-events"), 0);

    /* A valid message of about 1.1 kB: over the ROUTER's 1000 bytes. */
    toa_msg_t msg, got;
    toa_proto_error_t error;
    toa_peer_id_t peer;
    memset (&msg, 0, sizeof msg);
    msg.type = TOA_MSG_DISCONNECT;
    msg.u.disconnect.reason = malloc (TOA_PROTO_MAX_NAME + 1);
    memset (msg.u.disconnect.reason, 'r', TOA_PROTO_MAX_NAME);
    msg.u.disconnect.reason[TOA_PROTO_MAX_NAME] = '\0';
    assert_int_equal (toa_transport_send (pair.dealer, NULL, &msg), 0);
    toa_msg_clear (&msg);

    /* The ROUTER drops the connection instead of delivering it. */
    assert_true (s_wait_event (monitor, ZMQ_EVENT_DISCONNECTED, 30000));
    assert_int_equal (toa_transport_recv (pair.router, &peer, &got, &error), -1);

    /* The DEALER reconnects by itself; small messages get through, the big
     * one never shows up. */
    sample_build (TOA_MSG_HEARTBEAT, &msg);
    int rc = -1;
    for (int attempt = 0; attempt < 300 && rc != 0; attempt++) {
        toa_transport_send (pair.dealer, NULL, &msg);
        rc = s_recv_wait (pair.router, &peer, &got, &error, 100);
        if (rc == 0)
            assert_int_equal (got.type, TOA_MSG_HEARTBEAT);
        assert_int_not_equal (rc, 1);
        toa_msg_clear (&got);
    }
    assert_int_equal (rc, 0);
    zmq_close (monitor);
    s_pair_close (&pair);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_configure_sets_options),
        cmocka_unit_test (test_send_recv_both_ways),
        cmocka_unit_test (test_unknown_peer_unreachable),
        cmocka_unit_test (test_bad_frames_reported),
        cmocka_unit_test (test_oversized_message_refused),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
