/* exporter.h - the broker's HTTP endpoint for Prometheus (GET /metrics),
 * libmicrohttpd driven from the broker's own zmq_poll loop: no thread. The
 * daemon runs in epoll mode; its one epoll descriptor goes into the loop's
 * poll items, and toa_exporter_process() serves what is ready. A scrape
 * calls the RENDER callback from inside toa_exporter_process(), on the
 * loop's thread, so it may read the broker's state directly. */
#ifndef TOA_BROKER_EXPORTER_H
#define TOA_BROKER_EXPORTER_H

#include <stddef.h>
#include <zmq.h>

typedef struct toa_exporter_s toa_exporter_t;

/* Returns the page text in new memory (free()) and its length in *LENGTH;
 * NULL when out of memory (the scrape gets a 500). */
typedef char *(toa_exporter_render_fn) (void *arg, size_t *length);

/* Listens on LISTEN ("host:port", port 0 picks one) for GET /metrics,
 * answered with RENDER (ARG borrowed). NULL with the reason in ERR. */
toa_exporter_t *toa_exporter_new (const char *listen, toa_exporter_render_fn *render, void *arg,
                                  char *err, size_t err_size);

/* Stops the daemon; nulls *SELF_P; safe on NULL. */
void toa_exporter_destroy (toa_exporter_t **self_p);

/* The port it listens on. */
int toa_exporter_port (const toa_exporter_t *self);

/* Fills ITEM with the descriptor to poll for reading. */
void toa_exporter_poll_fill (const toa_exporter_t *self, zmq_pollitem_t *item);

/* Serves whatever is ready (call after every poll; cheap when idle). */
void toa_exporter_process (toa_exporter_t *self);

/* Scrapes served so far. */
unsigned long toa_exporter_scrapes (const toa_exporter_t *self);

#endif
