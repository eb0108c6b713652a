/* zap.c - the broker's ZAP handler: one certificate directory per domain
 * (see zap.h). */
#include "broker/zap.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "proto/curve.h"
#include "common/util.h"

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_MAX_DOMAINS 8
#define S_MAX_FRAMES 8
#define S_FRAME_TEXT 256
#define S_NEW_KEY_EVERY_MS 100      /* a key not logged lately: at most 10 lines a second */
#define S_SAME_KEY_EVERY_MS 60000   /* the same key on the same endpoint: once a minute */
#define S_RECENT_KEYS 32

typedef struct {
    char *name;
    zcertstore_t *store;
} s_domain_t;

/* A refused key lately logged, so that its retries do not fill the log. */
typedef struct {
    char domain[S_FRAME_TEXT];
    char key[TOA_CURVE_KEY_TEXT];
    int64_t logged_ms;
} s_recent_t;

struct toa_zap_s {
    void *socket;                    /* REP bound to the ZAP endpoint */
    s_domain_t domains[S_MAX_DOMAINS];
    size_t n_domains;
    toa_zap_stats_t stats;
    toa_log_limit_t log_limit;       /* refusals of keys not logged lately */
    s_recent_t recent[S_RECENT_KEYS];
};

toa_zap_t *
toa_zap_new (void *context, char *err, size_t err_size)
{
    toa_zap_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    int linger = 0;
    self->socket = zmq_socket (context, ZMQ_REP);
    if (!self->socket || zmq_setsockopt (self->socket, ZMQ_LINGER, &linger, sizeof linger) != 0
        || zmq_bind (self->socket, S_ZAP_ENDPOINT) != 0) {
        snprintf (err, err_size, "ZAP handler: %s", zmq_strerror (zmq_errno ()));
        toa_zap_destroy (&self);
    }
    return self;
}

void
toa_zap_destroy (toa_zap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_zap_t *self = *self_p;
    if (self->socket)
        zmq_close (self->socket);
    for (size_t k = 0; k < self->n_domains; k++) {
        free (self->domains[k].name);
        zcertstore_destroy (&self->domains[k].store);
    }
    free (self);
    *self_p = NULL;
}

static s_domain_t *
s_find (toa_zap_t *self, const char *domain)
{
    for (size_t k = 0; self && domain && k < self->n_domains; k++)
        if (strcmp (self->domains[k].name, domain) == 0)
            return &self->domains[k];
    return NULL;
}

int
toa_zap_allow (toa_zap_t *self, const char *domain, const char *directory, char *err,
               size_t err_size)
{
    struct stat info;
    errno = 0;
    if (!domain || !directory || stat (directory, &info) != 0 || !S_ISDIR (info.st_mode)) {
        snprintf (err, err_size, "%s: %s", directory ? directory : "(none)",
                  directory && errno == 0 ? "not a directory"
                  : directory             ? strerror (errno)
                                          : "no directory");
        return -1;
    }
    if (s_find (self, domain) || self->n_domains == S_MAX_DOMAINS) {
        snprintf (err, err_size, "ZAP domain %s: given twice, or too many domains", domain);
        return -1;
    }
    s_domain_t *slot = &self->domains[self->n_domains];
    slot->name = toa_strdup (domain);
    slot->store = zcertstore_new (directory);
    if (!slot->name || !slot->store) {
        free (slot->name);
        zcertstore_destroy (&slot->store);
        slot->name = NULL;
        snprintf (err, err_size, "%s: cannot read certificates", directory);
        return -1;
    }
    self->n_domains++;
    return 0;
}

bool
toa_zap_knows (toa_zap_t *self, const char *domain, const char *key)
{
    s_domain_t *found = s_find (self, domain);
    return found && key && strlen (key) == 40 && zcertstore_lookup (found->store, key);
}

void *
toa_zap_socket (toa_zap_t *self)
{
    return self ? self->socket : NULL;
}

/* One ZAP request as received: its frames, text ones NUL-terminated. */
typedef struct {
    char text[S_MAX_FRAMES][S_FRAME_TEXT];
    size_t size[S_MAX_FRAMES];
    unsigned char key[32];           /* the CURVE credential frame */
    size_t n_frames;
    bool overflow;
} s_request_t;

/* Reads every frame of one request. Returns 0, or -1 when nothing came. */
static int
s_receive (void *socket, s_request_t *request)
{
    memset (request, 0, sizeof *request);
    bool more = true;
    while (more) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, socket, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&frame);
            return request->n_frames ? 0 : -1;
        }
        more = zmq_msg_more (&frame);
        size_t n = request->n_frames++;
        size_t size = zmq_msg_size (&frame);
        if (n >= S_MAX_FRAMES || size >= S_FRAME_TEXT)
            request->overflow = true;
        else {
            memcpy (request->text[n], zmq_msg_data (&frame), size);
            request->size[n] = size;
            if (n == 6 && size == 32)
                memcpy (request->key, zmq_msg_data (&frame), 32);
        }
        zmq_msg_close (&frame);
    }
    return 0;
}

/* Sends the RFC 27 reply: version, request id, status, text, user id, metadata. */
static void
s_reply (void *socket, const s_request_t *request, const char *status, const char *text,
         const char *user_id)
{
    const char *sequence = request->n_frames > 1 && !request->overflow ? request->text[1] : "";
    zmq_send (socket, "1.0", 3, ZMQ_SNDMORE);
    zmq_send (socket, sequence, strlen (sequence), ZMQ_SNDMORE);
    zmq_send (socket, status, strlen (status), ZMQ_SNDMORE);
    zmq_send (socket, text, strlen (text), ZMQ_SNDMORE);
    zmq_send (socket, user_id, strlen (user_id), ZMQ_SNDMORE);
    zmq_send (socket, "", 0, 0);
}

/* Logs a refusal once for each key and endpoint (again after a minute), so
 * that every refused key shows even while another keeps retrying, and at
 * most ten lines a second however many keys a flood brings; each line says
 * how many refusals were not logged since the last. */
static void
s_log_refusal (toa_zap_t *self, const char *domain, const char *address, const char *key)
{
    int64_t now = toa_now_ms ();
    s_recent_t *slot = &self->recent[0];
    for (size_t i = 0; i < S_RECENT_KEYS; i++) {
        s_recent_t *recent = &self->recent[i];
        if (strcmp (recent->key, key) == 0 && strcmp (recent->domain, domain) == 0) {
            if (now - recent->logged_ms < S_SAME_KEY_EVERY_MS) {
                self->log_limit.dropped++;        /* counted with the next line */
                return;
            }
            slot = recent;
            break;
        }
        if (recent->logged_ms < slot->logged_ms)
            slot = recent;                        /* the oldest, to be replaced */
    }
    uint64_t unlogged;
    if (!toa_log_limit_pass (&self->log_limit, now, S_NEW_KEY_EVERY_MS, &unlogged))
        return;
    snprintf (slot->domain, sizeof slot->domain, "%s", domain);
    snprintf (slot->key, sizeof slot->key, "%s", key);
    slot->logged_ms = now;
    char more[80];
    toa_log_limit_note (more, sizeof more, unlogged, "refusals");
    toa_warn ("zap: refused a connection to the %s endpoint from %s: key %s is not in its "
              "directory%s", domain, address, key, more);
}

/* Decides one request; replies to every request, even a malformed one, so
 * that the REP socket stays in step. */
static void
s_decide (toa_zap_t *self, const s_request_t *request)
{
    /* version, id, domain, address, identity, mechanism, key */
    if (request->overflow || request->n_frames != 7 || strcmp (request->text[0], "1.0") != 0
        || strcmp (request->text[5], "CURVE") != 0 || request->size[6] != 32) {
        self->stats.bad_requests++;
        s_reply (self->socket, request, "400", "CURVE only", "");
        return;
    }
    const char *domain = request->text[2];
    s_domain_t *found = s_find (self, domain);
    char key[TOA_CURVE_KEY_TEXT];
    zmq_z85_encode (key, request->key, 32);
    if (!found) {
        self->stats.bad_requests++;
        s_reply (self->socket, request, "400", "unknown domain", "");
        return;
    }
    if (!zcertstore_lookup (found->store, key)) {
        self->stats.refused++;
        s_log_refusal (self, domain, request->text[3], key);
        s_reply (self->socket, request, "400", "key not admitted", "");
        return;
    }
    self->stats.admitted++;
    toa_debug ("zap: admitted key %s on the %s endpoint from %s", key, domain,
               request->text[3]);
    s_reply (self->socket, request, "200", "OK", key);
}

int
toa_zap_handle (toa_zap_t *self)
{
    int handled = 0;
    s_request_t request;
    while (self && s_receive (self->socket, &request) == 0) {
        s_decide (self, &request);
        handled++;
    }
    return handled;
}

void
toa_zap_stats (const toa_zap_t *self, toa_zap_stats_t *stats)
{
    memset (stats, 0, sizeof *stats);
    if (self)
        *stats = self->stats;
}
