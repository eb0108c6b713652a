/* test_curve.c - unit tests of proto/curve.c and broker/zap.c: key pairs
 * written and read back (modes, no overwrite, public-only files, files that
 * are not certificates), which endpoints count as local, and real CURVE
 * handshakes on 127.0.0.1 through the ZAP handler: a listed key is admitted
 * and its messages carry it as User-Id; an unlisted key, a key listed for
 * another domain, and a client without CURVE get nothing through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "broker/zap.h"
#include "common/util.h"
#include "proto/curve.h"
#include "proto/transport.h"
#include "tests/unit/support/scratch.h"

static char s_dir[64];

static void
s_path (char *out, size_t size, const char *name)
{
    snprintf (out, size, "%s/%s", s_dir, name);
}

static int
s_setup (void **state)
{
    (void) state;
    return toa_test_scratch_make (s_dir, sizeof s_dir, "toa-curve");
}

static int
s_teardown (void **state)
{
    (void) state;
    return toa_test_scratch_remove (s_dir);
}

static void
test_keygen_and_load (void **state)
{
    (void) state;
    char path[128], secret[160], err[600], public_key[TOA_CURVE_KEY_TEXT];
    s_path (path, sizeof path, "a.key");
    snprintf (secret, sizeof secret, "%s_secret", path);
    assert_int_equal (toa_curve_keygen (path, public_key, err, sizeof err), 0);
    assert_int_equal (strlen (public_key), 40);
    struct stat info;
    assert_int_equal (stat (secret, &info), 0);
    assert_int_equal (info.st_mode & 0777, 0600);

    toa_curve_pair_t pair;
    assert_int_equal (toa_curve_load (path, true, &pair, err, sizeof err), 0);
    assert_string_equal (pair.public_key, public_key);
    assert_int_equal (strlen (pair.secret_key), 40);
    toa_curve_pair_wipe (&pair);
    assert_string_equal (pair.secret_key, "");
    assert_int_equal (toa_curve_load (path, false, &pair, err, sizeof err), 0);
    assert_string_equal (pair.public_key, public_key);
    assert_string_equal (pair.secret_key, "");

    /* Never overwritten. */
    assert_int_equal (toa_curve_keygen (path, NULL, err, sizeof err), -1);
    assert_non_null (strstr (err, "already exists"));

    /* A secret others can read is refused; the public half alone is not a pair. */
    chmod (secret, 0640);
    assert_int_equal (toa_curve_load (path, true, &pair, err, sizeof err), -1);
    assert_non_null (strstr (err, "readable by others (mode 0640)"));
    unlink (secret);
    assert_int_equal (toa_curve_load (path, false, &pair, err, sizeof err), 0);
    assert_int_equal (toa_curve_load (path, true, &pair, err, sizeof err), -1);
    assert_non_null (strstr (err, "a.key_secret"));

    /* Not a certificate, or not there. */
    char junk[128];
    s_path (junk, sizeof junk, "junk.key");
    FILE *file = fopen (junk, "w");
    assert_non_null (file);
    fputs ("hello\n", file);
    fclose (file);
    assert_int_equal (toa_curve_load (junk, false, &pair, err, sizeof err), -1);
    s_path (junk, sizeof junk, "missing.key");
    assert_int_equal (toa_curve_load (junk, false, &pair, err, sizeof err), -1);
    assert_non_null (strstr (err, "No such file"));
}

static void
test_endpoint_is_local (void **state)
{
    (void) state;
    const char *local[] = {"tcp://127.0.0.1:5555", "tcp://127.3.2.1:1", "tcp://localhost:5",
                           "tcp://[::1]:5555", "tcp://lo:5555", "ipc:///tmp/x",
                           "inproc://x"};
    const char *remote[] = {"tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://10.0.0.1:5555",
                            "tcp://eth0:5555", "tcp://127.0.0.1.evil.com:5",
                            "tcp://[::]:5555", "tcp://localhost.example:5", NULL};
    for (size_t k = 0; k < sizeof local / sizeof *local; k++)
        assert_true (toa_curve_endpoint_is_local (local[k]));
    for (size_t k = 0; k < sizeof remote / sizeof *remote; k++)
        assert_false (toa_curve_endpoint_is_local (remote[k]));
}

/* A CURVE ROUTER under DOMAIN with a ZAP handler admitting the keys of
 * peers/ (domain "peers") and clients/ (domain "clients"). */
typedef struct {
    void *context;
    toa_zap_t *zap;
    void *router;
    char endpoint[128];
    toa_curve_pair_t server;
} s_server_t;

static void
s_server_open (s_server_t *server, const char *domain)
{
    char path[128], dir[128], err[600];
    server->context = zmq_ctx_new ();
    server->zap = toa_zap_new (server->context, err, sizeof err);
    assert_non_null (server->zap);
    s_path (dir, sizeof dir, "peers");
    assert_int_equal (toa_zap_allow (server->zap, TOA_ZAP_PEERS, dir, err, sizeof err), 0);
    s_path (dir, sizeof dir, "clients");
    assert_int_equal (toa_zap_allow (server->zap, TOA_ZAP_CLIENTS, dir, err, sizeof err), 0);
    s_path (dir, sizeof dir, "no-such-dir");
    assert_int_equal (toa_zap_allow (server->zap, TOA_ZAP_ADMINS, dir, err, sizeof err), -1);
    s_path (path, sizeof path, "server.key");
    assert_int_equal (toa_curve_load (path, true, &server->server, err, sizeof err), 0);
    server->router = zmq_socket (server->context, ZMQ_ROUTER);
    assert_int_equal (toa_transport_configure (server->router, 0), 0);
    assert_int_equal (toa_curve_server (server->router, &server->server, domain), 0);
    assert_int_equal (zmq_bind (server->router, "tcp://127.0.0.1:*"), 0);
    size_t size = sizeof server->endpoint;
    zmq_getsockopt (server->router, ZMQ_LAST_ENDPOINT, server->endpoint, &size);
}

static void
s_server_close (s_server_t *server)
{
    zmq_close (server->router);
    toa_zap_destroy (&server->zap);
    zmq_ctx_term (server->context);
}

/* Connects a DEALER with the pair NAME (NULL: no CURVE), sends a heartbeat
 * and runs the server side for up to WAIT_MS. Returns true when the ROUTER
 * got it; USER_ID gets what the message carried. */
static bool
s_try_for (s_server_t *server, const char *name, char *user_id, int64_t wait_ms)
{
    char path[128], err[600], server_path[128];
    toa_curve_client_t client;
    memset (&client, 0, sizeof client);
    if (name) {
        s_path (path, sizeof path, name);
        s_path (server_path, sizeof server_path, "server.key");
        assert_int_equal (toa_curve_client_load (path, server_path, &client, err, sizeof err), 0);
    }
    void *dealer = zmq_socket (server->context, ZMQ_DEALER);
    assert_int_equal (toa_transport_configure (dealer, 0), 0);
    assert_int_equal (toa_curve_client (dealer, &client), 0);
    assert_int_equal (zmq_connect (dealer, server->endpoint), 0);
    toa_msg_t msg = {.type = TOA_MSG_HEARTBEAT};
    toa_transport_send (dealer, NULL, &msg);
    bool got = false;
    int64_t deadline = toa_now_ms () + wait_ms;
    while (!got && toa_now_ms () < deadline) {
        zmq_pollitem_t items[] = {{server->router, 0, ZMQ_POLLIN, 0},
                                  {toa_zap_socket (server->zap), 0, ZMQ_POLLIN, 0}};
        zmq_poll (items, 2, 20);
        if (items[1].revents & ZMQ_POLLIN)
            toa_zap_handle (server->zap);
        toa_peer_id_t from;
        toa_msg_t in;
        if (toa_transport_recv (server->router, &from, &in, NULL) == 0) {
            got = in.type == TOA_MSG_HEARTBEAT;
            snprintf (user_id, TOA_CURVE_KEY_TEXT, "%s", from.user_id);
            toa_msg_clear (&in);
        }
    }
    zmq_close (dealer);
    toa_curve_pair_wipe (&client.own);
    return got;
}

/* An admitted key gets through: the handshake may take long on a loaded
 * host (up to 20 s; it returns as soon as the message arrives). */
static bool
s_admitted (s_server_t *server, const char *name, char *user_id)
{
    return s_try_for (server, name, user_id, 20000);
}

/* A refused key gets nothing within 600 ms (a refusal has no answer). */
static bool
s_refused (s_server_t *server, const char *name, char *user_id)
{
    return !s_try_for (server, name, user_id, 600);
}

/* Polls until the key NAME is admitted (a directory the store re-reads once
 * its time changed: at most 20 s). */
static bool
s_admitted_soon (s_server_t *server, const char *name, char *user_id)
{
    int64_t deadline = toa_now_ms () + 20000;
    while (toa_now_ms () < deadline) {
        if (s_try_for (server, name, user_id, 200))
            return true;
    }
    return false;
}

static void
test_zap_admits_listed_keys_per_domain (void **state)
{
    (void) state;
    char path[128], dir[128], err[600], worker_key[TOA_CURVE_KEY_TEXT];
    char client_key[TOA_CURVE_KEY_TEXT], user_id[TOA_CURVE_KEY_TEXT];
    const char *names[] = {"server.key", "worker.key", "client.key", "rogue.key"};
    for (size_t k = 0; k < 4; k++) {
        s_path (path, sizeof path, names[k]);
        assert_int_equal (toa_curve_keygen (path, k == 1   ? worker_key
                                                  : k == 2 ? client_key
                                                           : NULL,
                                            err, sizeof err),
                          0);
    }
    /* Public halves in the domain directories (as an operator copies them). */
    char command[512];
    snprintf (command, sizeof command,
              "mkdir -p %1$s/peers %1$s/clients && cp %1$s/worker.key %1$s/peers/ && "
              "cp %1$s/client.key %1$s/clients/",
              s_dir);
    assert_int_equal (system (command), 0);

    s_server_t server;
    s_server_open (&server, TOA_ZAP_PEERS);
    assert_true (s_admitted (&server, "worker.key", user_id));
    assert_string_equal (user_id, worker_key);
    assert_true (s_refused (&server, "rogue.key", user_id));
    assert_true (s_refused (&server, "client.key", user_id));   /* another domain's key */
    assert_true (s_refused (&server, NULL, user_id));           /* no CURVE at all */
    assert_true (toa_zap_knows (server.zap, TOA_ZAP_CLIENTS, client_key));
    assert_false (toa_zap_knows (server.zap, TOA_ZAP_PEERS, client_key));
    assert_false (toa_zap_knows (server.zap, TOA_ZAP_ADMINS, client_key));
    toa_zap_stats_t stats;
    toa_zap_stats (server.zap, &stats);
    assert_int_equal (stats.admitted, 1);
    assert_int_equal (stats.refused, 2);
    /* A key added to the directory is admitted without a restart. */
    snprintf (command, sizeof command, "cp %1$s/rogue.key %1$s/peers/", s_dir);
    assert_int_equal (system (command), 0);
    assert_true (s_admitted_soon (&server, "rogue.key", user_id));
    s_server_close (&server);

    s_server_open (&server, TOA_ZAP_CLIENTS);
    assert_true (s_admitted (&server, "client.key", user_id));
    assert_string_equal (user_id, client_key);
    assert_true (s_refused (&server, "worker.key", user_id));
    s_server_close (&server);
    (void) dir;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_keygen_and_load),
        cmocka_unit_test (test_endpoint_is_local),
        cmocka_unit_test (test_zap_admits_listed_keys_per_domain),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
