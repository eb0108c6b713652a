/* zap.h - the broker's ZAP handler (ZeroMQ RFC 27): decides, during the
 * CURVE handshake, which public keys may connect to which endpoint.
 *
 * Each ZAP domain (the broker uses "peers" for the worker endpoint and
 * "clients" for the client endpoint) admits the keys of one directory of
 * certificates (czmq's zcertstore: one public certificate per file, re-read
 * when the directory changes, so keys are added and removed without a
 * restart). A key admitted in one domain is refused in every other. An
 * admitted connection's messages carry the key as their ZAP "User-Id".
 *
 * czmq's zauth actor is not used because it has one allow-list per process
 * and ignores the domain; this handler uses the same certificate store and
 * runs inside the broker's loop (no thread): poll toa_zap_socket and call
 * toa_zap_handle when it is readable. Create it before binding any CURVE
 * socket: without a handler libzmq admits every key. */
#ifndef TOA_ZAP_H
#define TOA_ZAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The broker's domains; "admins" guards no socket: it lists client keys that
 * may see every job. */
#define TOA_ZAP_PEERS "peers"
#define TOA_ZAP_CLIENTS "clients"
#define TOA_ZAP_ADMINS "admins"

typedef struct toa_zap_s toa_zap_t;

typedef struct {
    uint64_t admitted;       /* handshakes allowed */
    uint64_t refused;        /* keys not in the domain's directory */
    uint64_t bad_requests;   /* malformed ZAP requests, unknown domains, non-CURVE */
} toa_zap_stats_t;

/* Binds the ZAP endpoint on the libzmq CONTEXT. Returns NULL with ERR set. */
toa_zap_t *toa_zap_new (void *context, char *err, size_t err_size);

void toa_zap_destroy (toa_zap_t **self_p);

/* Admits in DOMAIN the public keys of the certificates in DIRECTORY, which
 * must exist. Returns 0, or -1 with ERR set. */
int toa_zap_allow (toa_zap_t *self, const char *domain, const char *directory, char *err,
                   size_t err_size);

/* True when KEY (Z85 text) is in DOMAIN's directory (as it is now on disk).
 * A domain no socket uses works as a plain key list (the broker's admins). */
bool toa_zap_knows (toa_zap_t *self, const char *domain, const char *key);

/* The socket to poll for ZMQ_POLLIN. */
void *toa_zap_socket (toa_zap_t *self);

/* Answers every pending request without blocking. Returns how many. */
int toa_zap_handle (toa_zap_t *self);

void toa_zap_stats (const toa_zap_t *self, toa_zap_stats_t *stats);

#endif
