/* exporter.c - GET /metrics over libmicrohttpd in the broker's loop (see
 * exporter.h). */
#include "broker/exporter.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/util.h"

#define S_CONNECTION_LIMIT 64
#define S_CONNECTION_TIMEOUT_S 10

struct toa_exporter_s {
    struct MHD_Daemon *daemon;
    int epoll_fd;
    int port;
    toa_exporter_render_fn *render;
    void *arg;
    unsigned long scrapes;
};

static void
s_mhd_log (void *arg, const char *fmt, va_list args)
{
    (void) arg;
    char line[512];
    toa_log_vline (line, sizeof line, fmt, args);
    toa_warn ("metrics endpoint: %s", line);
}

static enum MHD_Result
s_reply (struct MHD_Connection *connection, unsigned int status, const char *type, char *body,
         size_t length, bool owned)
{
    struct MHD_Response *response = MHD_create_response_from_buffer (
        length, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!response) {
        if (owned)
            free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

static enum MHD_Result
s_access (void *arg, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size,
          void **con_cls)
{
    (void) version;
    (void) upload_data;
    toa_exporter_t *self = arg;
    if (*con_cls == NULL) {                /* headers only so far */
        *con_cls = self;
        return MHD_YES;
    }
    if (*upload_data_size) {               /* a body is ignored */
        *upload_data_size = 0;
        return MHD_YES;
    }
    static char text_plain[] = "text/plain; charset=utf-8";
    if (strcmp (url, "/metrics") != 0) {
        static char missing[] = "not found: the metrics are at /metrics\n";
        return s_reply (connection, MHD_HTTP_NOT_FOUND, text_plain, missing,
                        strlen (missing), false);
    }
    if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0) {
        static char wrong[] = "only GET\n";
        return s_reply (connection, MHD_HTTP_METHOD_NOT_ALLOWED, text_plain, wrong,
                        strlen (wrong), false);
    }
    size_t length = 0;
    char *page = self->render (self->arg, &length);
    if (!page) {
        static char failed[] = "out of memory\n";
        return s_reply (connection, MHD_HTTP_INTERNAL_SERVER_ERROR, text_plain, failed,
                        strlen (failed), false);
    }
    self->scrapes++;
    return s_reply (connection, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", page,
                    length, true);
}

toa_exporter_t *
toa_exporter_new (const char *listen, toa_exporter_render_fn *render, void *arg, char *err,
                  size_t err_size)
{
    struct addrinfo *address = NULL;
    char why[400];
    int port = 0;
    if (!render) {
        snprintf (err, err_size, "metrics_listen: no page to serve");
        return NULL;
    }
    if (toa_resolve_listen (listen, &address, &port, why, sizeof why) != 0) {
        snprintf (err, err_size, "metrics_listen: %s", why);
        return NULL;
    }
    toa_exporter_t *self = calloc (1, sizeof *self);
    if (!self) {
        freeaddrinfo (address);
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->render = render;
    self->arg = arg;
    unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (address->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    self->daemon = MHD_start_daemon (
        flags, 0, NULL, NULL, s_access, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, address->ai_addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) S_CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) S_CONNECTION_TIMEOUT_S,
        MHD_OPTION_END);
    freeaddrinfo (address);
    const union MHD_DaemonInfo *info = self->daemon
        ? MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!info) {
        snprintf (err, err_size, "metrics_listen: cannot serve on %s (address in use?)", listen);
        toa_exporter_destroy (&self);
        return NULL;
    }
    self->epoll_fd = info->epoll_fd;
    info = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : port;
    return self;
}

void
toa_exporter_destroy (toa_exporter_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_exporter_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    free (self);
    *self_p = NULL;
}

int
toa_exporter_port (const toa_exporter_t *self)
{
    return self ? self->port : -1;
}

void
toa_exporter_poll_fill (const toa_exporter_t *self, zmq_pollitem_t *item)
{
    memset (item, 0, sizeof *item);
    item->fd = self->epoll_fd;
    item->events = ZMQ_POLLIN;
}

void
toa_exporter_process (toa_exporter_t *self)
{
    if (self && MHD_run (self->daemon) != MHD_YES)
        toa_debug ("metrics endpoint: MHD_run failed");
}

unsigned long
toa_exporter_scrapes (const toa_exporter_t *self)
{
    return self ? self->scrapes : 0;
}
