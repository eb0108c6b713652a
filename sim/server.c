/* server.c - libmicrohttpd glue of toa-simllm (see server.h). */
#include "sim/server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "sim/sched.h"

#define S_MAX_BODY (16 * 1024 * 1024)
#define S_CONNECTION_LIMIT 16384

typedef enum {
    S_STATE_NEW = 0,
    S_STATE_WAITING,
    S_STATE_READY,
    S_STATE_ABORTED,
    S_STATE_ANSWERED
} s_state_t;

struct toa_sim_server_s {
    toa_sim_service_t *service;
    toa_sim_sched_t *sched;
    struct MHD_Daemon *daemon;
    int port;
    atomic_long suspended;   /* requests suspended and not yet completed */
};

typedef struct {
    toa_sim_server_t *server;
    struct MHD_Connection *connection;
    char *body;
    size_t length;
    size_t capacity;
    bool too_large;
    bool handled;            /* service_handle was called: service_done is owed */
    bool suspended;          /* was suspended: counted in server->suspended until done */
    _Atomic int state;
    toa_sim_reply_t reply;
    toa_sim_wait_t wait;
} s_request_t;

static void
s_mhd_log (void *arg, const char *fmt, va_list args)
{
    (void) arg;
    char line[512];
    toa_log_vline (line, sizeof line, fmt, args);
    /* a hang fault closes its connection on purpose: not worth a warning */
    if (strstr (line, "Application reported internal error"))
        toa_debug ("libmicrohttpd: %s", line);
    else
        toa_warn ("libmicrohttpd: %s", line);
}

static enum MHD_Result
s_send (s_request_t *request)
{
    toa_sim_reply_t *reply = &request->reply;
    struct MHD_Response *response = MHD_create_response_from_buffer (
        reply->body_length, reply->body ? reply->body : (void *) "",
        reply->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!response)
        return MHD_NO;
    reply->body = NULL;      /* the response owns it now */
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (reply->retry_after_s >= 0) {
        char seconds[24];
        snprintf (seconds, sizeof seconds, "%d", reply->retry_after_s);
        MHD_add_response_header (response, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    if (reply->retry_after_ms >= 0) {
        char milliseconds[24];
        snprintf (milliseconds, sizeof milliseconds, "%lld", (long long) reply->retry_after_ms);
        MHD_add_response_header (response, "retry-after-ms", milliseconds);
    }
    enum MHD_Result rc = MHD_queue_response (request->connection,
                                             (unsigned int) reply->status, response);
    MHD_destroy_response (response);
    atomic_store (&request->state, S_STATE_ANSWERED);
    return rc;
}

/* Under the scheduler's lock, in the access handler: park the connection. */
static void
s_on_wait (void *user)
{
    s_request_t *request = user;
    atomic_store (&request->state, S_STATE_WAITING);
    request->suspended = true;
    atomic_fetch_add (&request->server->suspended, 1);
    MHD_suspend_connection (request->connection);
}

/* On the scheduler's thread: the request's time is up (or the server stops). */
static void
s_on_ready (toa_sim_wait_t *wait, bool aborted, void *arg)
{
    (void) arg;
    s_request_t *request = wait->user;
    atomic_store (&request->state, aborted ? S_STATE_ABORTED : S_STATE_READY);
    MHD_resume_connection (request->connection);
}

static int
s_append_body (s_request_t *request, const char *data, size_t size)
{
    if (request->too_large || request->length + size > S_MAX_BODY) {
        request->too_large = true;
        return 0;
    }
    if (request->length + size + 1 > request->capacity) {
        size_t capacity = request->capacity ? request->capacity : 4096;
        while (capacity < request->length + size + 1)
            capacity *= 2;
        char *body = realloc (request->body, capacity);
        if (!body)
            return -1;
        request->body = body;
        request->capacity = capacity;
    }
    memcpy (request->body + request->length, data, size);
    request->length += size;
    request->body[request->length] = '\0';
    return 0;
}

static enum MHD_Result
s_handle_new (s_request_t *request, const char *url, const char *method)
{
    toa_sim_server_t *server = request->server;
    toa_sim_reply_t *reply = &request->reply;
    if (request->too_large) {
        memset (reply, 0, sizeof *reply);
        reply->retry_after_s = -1;
        reply->retry_after_ms = -1;
        reply->model = -1;
        reply->status = MHD_HTTP_CONTENT_TOO_LARGE;
        reply->body = strdup ("{\"error\":{\"message\":\"request body too large\","
                              "\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
        reply->body_length = reply->body ? strlen (reply->body) : 0;
        return s_send (request);
    }
    const char *fault = MHD_lookup_connection_value (request->connection, MHD_HEADER_KIND,
                                                     "X-Sim-Fault");
    toa_sim_service_handle (server->service, method, url, request->body, request->length,
                            fault, reply);
    request->handled = true;
    if (reply->delay_ms <= 0 && reply->pool < 0)
        return reply->drop ? MHD_NO : s_send (request);
    request->wait.user = request;
    int rc = toa_sim_sched_submit (server->sched, &request->wait, reply->pool, reply->delay_ms,
                                   s_on_wait);
    if (rc == 1)
        return MHD_YES;
    if (rc == 0)
        return reply->drop ? MHD_NO : s_send (request);
    /* shutting down */
    toa_sim_reply_clear (reply);
    reply->status = MHD_HTTP_SERVICE_UNAVAILABLE;
    reply->drop = false;
    reply->body = strdup ("{\"error\":{\"message\":\"server is shutting down\","
                          "\"type\":\"server_error\",\"param\":null,\"code\":null}}");
    reply->body_length = reply->body ? strlen (reply->body) : 0;
    return s_send (request);
}

static enum MHD_Result
s_access (void *arg, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size,
          void **con_cls)
{
    (void) version;
    toa_sim_server_t *server = arg;
    s_request_t *request = *con_cls;
    if (!request) {
        request = calloc (1, sizeof *request);
        if (!request)
            return MHD_NO;
        request->server = server;
        request->connection = connection;
        *con_cls = request;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (s_append_body (request, upload_data, *upload_data_size) != 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    switch (atomic_load (&request->state)) {
    case S_STATE_NEW:
        return s_handle_new (request, url, method);
    case S_STATE_READY:
        return request->reply.drop ? MHD_NO : s_send (request);
    case S_STATE_ABORTED:
        return MHD_NO;
    default:
        /* called again before the resume was seen: nothing to do yet */
        return MHD_YES;
    }
}

static void
s_completed (void *arg, struct MHD_Connection *connection, void **con_cls,
             enum MHD_RequestTerminationCode code)
{
    (void) connection;
    (void) code;
    toa_sim_server_t *server = arg;
    s_request_t *request = *con_cls;
    if (!request)
        return;
    if (request->handled)
        toa_sim_service_done (server->service, &request->reply);
    /* a resumed connection whose client is gone is closed without another
     * call of the handler: count it here */
    if (request->suspended)
        atomic_fetch_sub (&server->suspended, 1);
    toa_sim_reply_clear (&request->reply);
    free (request->body);
    free (request);
    *con_cls = NULL;
}

toa_sim_server_t *
toa_sim_server_new (toa_sim_service_t *service, const char *listen, int threads,
                    size_t n_models, const int *slots, toa_errors_t *errors)
{
    struct addrinfo *address = NULL;
    char why[400];
    int port = 0;
    if (toa_resolve_listen (listen, &address, &port, why, sizeof why) != 0) {
        toa_errors_add (errors, "listen: %s", why);
        return NULL;
    }
    toa_sim_server_t *self = calloc (1, sizeof *self);
    if (!self) {
        freeaddrinfo (address);
        toa_errors_add (errors, "out of memory");
        return NULL;
    }
    self->service = service;
    self->sched = toa_sim_sched_new (n_models, slots, s_on_ready, self);
    if (!self->sched) {
        freeaddrinfo (address);
        free (self);
        toa_errors_add (errors, "cannot start the scheduler thread");
        return NULL;
    }
    toa_sim_service_attach_sched (service, self->sched);
    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME
                         | MHD_USE_ERROR_LOG;
    if (address->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    self->daemon = MHD_start_daemon (
        flags, 0, NULL, NULL, s_access, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, address->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) (threads > 0 ? threads : 1),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) S_CONNECTION_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int) 4096,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 600,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
        MHD_OPTION_END);
    freeaddrinfo (address);
    if (!self->daemon) {
        toa_errors_add (errors, "listen: cannot serve on %s (address in use?)", listen);
        toa_sim_service_attach_sched (service, NULL);
        toa_sim_sched_destroy (&self->sched);
        free (self);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (self->daemon,
                                                            MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : port;
    return self;
}

int
toa_sim_server_port (const toa_sim_server_t *self)
{
    return self ? self->port : -1;
}

void
toa_sim_server_destroy (toa_sim_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_sim_server_t *self = *self_p;
    /* every waiting request is resumed (and closed) before the daemon stops:
     * stopping with suspended connections is not allowed */
    toa_sim_sched_close (self->sched);
    for (int i = 0; i < 500 && atomic_load (&self->suspended) > 0; i++) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep (&pause, NULL);
    }
    if (atomic_load (&self->suspended) > 0)
        toa_warn ("%ld connections still suspended at shutdown",
                  (long) atomic_load (&self->suspended));
    MHD_stop_daemon (self->daemon);
    toa_sim_service_attach_sched (self->service, NULL);
    toa_sim_sched_destroy (&self->sched);
    free (self);
    *self_p = NULL;
}
