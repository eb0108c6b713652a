/* curve.h - CURVE keys for toa's ZeroMQ sockets: certificate files (czmq's
 * zcert format, made by `toa keygen`), and the socket options that turn
 * CURVE on for the broker's ROUTERs (server side) and for every DEALER that
 * connects to them (client side).
 *
 * A certificate NAME holds the public key in NAME and the pair in
 * NAME_secret (mode 0600). Keys travel as Z85 text (40 characters). */
#ifndef TOA_CURVE_H
#define TOA_CURVE_H

#include <stdbool.h>
#include <stddef.h>

#define TOA_CURVE_KEY_TEXT 41      /* 40 Z85 characters and a NUL */

typedef struct {
    char public_key[TOA_CURVE_KEY_TEXT];
    char secret_key[TOA_CURVE_KEY_TEXT];   /* "" when only the public part was read */
} toa_curve_pair_t;

/* What a connecting socket (worker, scorer, client) needs: its own pair and
 * the broker's public key. ON is false when CURVE is off. */
typedef struct {
    bool on;
    toa_curve_pair_t own;
    char server_key[TOA_CURVE_KEY_TEXT];
} toa_curve_client_t;

/* Writes a new key pair: PATH (public) and PATH_secret (mode 0600). Refuses
 * to overwrite either. PUBLIC_KEY (TOA_CURVE_KEY_TEXT bytes) gets the new
 * public key when not NULL. Returns 0, or -1 with the reason in ERR. */
int toa_curve_keygen (const char *path, char *public_key, char *err, size_t err_size);

/* Reads the certificate PATH. With NEED_SECRET the pair is read from
 * PATH_secret, which must exist and be readable by its owner only (like an
 * ssh key); otherwise only the public key is needed (PATH, or PATH_secret
 * when PATH is missing). Returns 0, or -1 with the reason in ERR. */
int toa_curve_load (const char *path, bool need_secret, toa_curve_pair_t *pair,
                    char *err, size_t err_size);

/* Makes SOCKET a CURVE server with SERVER's pair, its connections checked by
 * the ZAP handler under DOMAIN. Call before zmq_bind. Returns 0 or -1 (errno). */
int toa_curve_server (void *socket, const toa_curve_pair_t *server, const char *domain);

/* Makes SOCKET a CURVE client of the server whose public key CLIENT holds.
 * Does nothing when CLIENT is NULL or off. Call before zmq_connect.
 * Returns 0 or -1 (errno). */
int toa_curve_client (void *socket, const toa_curve_client_t *client);

/* Fills CLIENT from two certificate files: OWN_PATH (a pair) and
 * SERVER_PATH (the broker's public key). Returns 0, or -1 with the reason
 * in ERR. */
int toa_curve_client_load (const char *own_path, const char *server_path,
                           toa_curve_client_t *client, char *err, size_t err_size);

/* The keys of a connecting program from its config's curve section: CURVE
 * off (CLIENT->on false) when BROKER_KEY is NULL; otherwise OWN_KEY, the
 * config field OWN_FIELD (e.g. "curve.peer_key"), is required, and the error
 * says that its public half belongs in the broker's LIST_FIELD. Returns 0, or
 * -1 with the reason in ERR. */
int toa_curve_client_setup (const char *broker_key, const char *own_key, const char *own_field,
                            const char *list_field, toa_curve_client_t *client, char *err,
                            size_t err_size);

/* Overwrites the secret keys in memory. */
void toa_curve_pair_wipe (toa_curve_pair_t *pair);

/* True when ENDPOINT can only be reached from this machine: ipc://,
 * inproc://, or tcp:// on 127.0.0.0/8, ::1, localhost or the interface lo. */
bool toa_curve_endpoint_is_local (const char *endpoint);

#endif
