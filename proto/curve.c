/* curve.c - CURVE certificates (czmq's zcert files) and the socket options
 * that turn CURVE on (see curve.h). */
#include "proto/curve.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_ZERO_KEY "0000000000000000000000000000000000000000"

/* Creates PATH empty with MODE; fails when it exists (or is a symlink). */
static int
s_create_new (const char *path, mode_t mode, char *err, size_t err_size)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
    if (fd < 0) {
        snprintf (err, err_size, "%s: %s", path,
                  errno == EEXIST ? "already exists (remove it first to make a new key)"
                                  : strerror (errno));
        return -1;
    }
    close (fd);
    return 0;
}

int
toa_curve_keygen (const char *path, char *public_key, char *err, size_t err_size)
{
    char secret_path[4096];
    if (!path || !*path
        || (size_t) snprintf (secret_path, sizeof secret_path, "%s_secret", path)
               >= sizeof secret_path) {
        snprintf (err, err_size, "no usable certificate path");
        return -1;
    }
    /* Both files exist, empty, with their final modes before any key is
     * written: zcert_save rewrites them in place. */
    if (s_create_new (secret_path, 0600, err, err_size) != 0)
        return -1;
    if (s_create_new (path, 0644, err, err_size) != 0) {
        unlink (secret_path);
        return -1;
    }
    zcert_t *cert = zcert_new ();
    if (!cert || zcert_save (cert, path) != 0 || chmod (secret_path, 0600) != 0) {
        snprintf (err, err_size, "%s: cannot write the key pair: %s", path, strerror (errno));
        zcert_destroy (&cert);
        unlink (secret_path);
        unlink (path);
        return -1;
    }
    if (public_key)
        snprintf (public_key, TOA_CURVE_KEY_TEXT, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);
    return 0;
}

/* A secret file must be a regular file only its owner can read. */
static int
s_check_secret_file (const char *path, char *err, size_t err_size)
{
    struct stat info;
    if (stat (path, &info) != 0) {
        snprintf (err, err_size, "%s: %s (the secret half of the certificate, from "
                  "toa keygen)", path, strerror (errno));
        return -1;
    }
    if (!S_ISREG (info.st_mode)) {
        snprintf (err, err_size, "%s: not a regular file", path);
        return -1;
    }
    if (info.st_mode & 077) {
        snprintf (err, err_size, "%s: readable by others (mode %04o): a secret key must be "
                  "private (chmod 600 %s)", path, (unsigned) (info.st_mode & 07777), path);
        return -1;
    }
    return 0;
}

int
toa_curve_load (const char *path, bool need_secret, toa_curve_pair_t *pair, char *err,
                size_t err_size)
{
    memset (pair, 0, sizeof *pair);
    char secret_path[4096];
    if (!path || !*path
        || (size_t) snprintf (secret_path, sizeof secret_path, "%s_secret", path)
               >= sizeof secret_path) {
        snprintf (err, err_size, "no certificate path");
        return -1;
    }
    if (need_secret && s_check_secret_file (secret_path, err, err_size) != 0)
        return -1;
    if (!need_secret && access (path, R_OK) != 0 && access (secret_path, R_OK) != 0) {
        snprintf (err, err_size, "%s: %s", path, strerror (errno));
        return -1;
    }
    /* zcert_load reads PATH_secret when it is there, else PATH. */
    zcert_t *cert = zcert_load (path);
    if (!cert) {
        snprintf (err, err_size, "%s: not a certificate (make one with toa keygen)", path);
        return -1;
    }
    const char *public_text = zcert_public_txt (cert);
    const char *secret_text = zcert_secret_txt (cert);
    int rc = 0;
    if (!public_text || strlen (public_text) != 40 || strcmp (public_text, S_ZERO_KEY) == 0) {
        snprintf (err, err_size, "%s: no public key in it", path);
        rc = -1;
    }
    else if (need_secret
             && (!secret_text || strlen (secret_text) != 40
                 || strcmp (secret_text, S_ZERO_KEY) == 0)) {
        snprintf (err, err_size, "%s: no secret key in it", secret_path);
        rc = -1;
    }
    else {
        snprintf (pair->public_key, sizeof pair->public_key, "%s", public_text);
        if (need_secret)
            snprintf (pair->secret_key, sizeof pair->secret_key, "%s", secret_text);
    }
    zcert_destroy (&cert);
    return rc;
}

int
toa_curve_server (void *socket, const toa_curve_pair_t *server, const char *domain)
{
    int on = 1;
    if (!server || strlen (server->secret_key) != 40 || !domain) {
        errno = EINVAL;
        return -1;
    }
    if (zmq_setsockopt (socket, ZMQ_ZAP_DOMAIN, domain, strlen (domain)) != 0
        || zmq_setsockopt (socket, ZMQ_CURVE_SERVER, &on, sizeof on) != 0
        || zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, server->secret_key, 40) != 0)
        return -1;
    return 0;
}

int
toa_curve_client (void *socket, const toa_curve_client_t *client)
{
    if (!client || !client->on)
        return 0;
    if (zmq_setsockopt (socket, ZMQ_CURVE_SERVERKEY, client->server_key, 40) != 0
        || zmq_setsockopt (socket, ZMQ_CURVE_PUBLICKEY, client->own.public_key, 40) != 0
        || zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, client->own.secret_key, 40) != 0)
        return -1;
    return 0;
}

int
toa_curve_client_load (const char *own_path, const char *server_path,
                       toa_curve_client_t *client, char *err, size_t err_size)
{
    memset (client, 0, sizeof *client);
    toa_curve_pair_t server;
    if (toa_curve_load (server_path, false, &server, err, err_size) != 0
        || toa_curve_load (own_path, true, &client->own, err, err_size) != 0) {
        toa_curve_pair_wipe (&client->own);
        return -1;
    }
    snprintf (client->server_key, sizeof client->server_key, "%s", server.public_key);
    client->on = true;
    return 0;
}

int
toa_curve_client_setup (const char *broker_key, const char *own_key, const char *own_field,
                        const char *list_field, toa_curve_client_t *client, char *err,
                        size_t err_size)
{
    memset (client, 0, sizeof *client);
    if (!broker_key)
        return 0;
    if (!own_key) {
        snprintf (err, err_size, "%s: required when curve.broker_key is set (make a pair with "
                  "toa keygen and have its public half listed in the broker's %s)",
                  own_field, list_field);
        return -1;
    }
    char why[600];
    if (toa_curve_client_load (own_key, broker_key, client, why, sizeof why) != 0) {
        snprintf (err, err_size, "curve: %s", why);
        return -1;
    }
    return 0;
}

void
toa_curve_pair_wipe (toa_curve_pair_t *pair)
{
    if (pair) {
        volatile char *p = pair->secret_key;
        for (size_t k = 0; k < sizeof pair->secret_key; k++)
            p[k] = 0;
    }
}

bool
toa_curve_endpoint_is_local (const char *endpoint)
{
    if (!endpoint)
        return false;
    if (strncmp (endpoint, "ipc://", 6) == 0 || strncmp (endpoint, "inproc://", 9) == 0)
        return true;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return false;
    const char *host = endpoint + 6;
    const char *colon = strrchr (host, ':');
    size_t length = colon ? (size_t) (colon - host) : strlen (host);
    if (length == 9 && strncmp (host, "localhost", 9) == 0)
        return true;
    if (length == 2 && strncmp (host, "lo", 2) == 0)
        return true;
    if (length == 5 && strncmp (host, "[::1]", 5) == 0)
        return true;
    if (length >= 4 && strncmp (host, "127.", 4) == 0) {
        for (size_t k = 4; k < length; k++)
            if (!(host[k] == '.' || (host[k] >= '0' && host[k] <= '9')))
                return false;
        return true;
    }
    return false;
}
