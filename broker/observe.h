/* observe.h - what the broker counts for Prometheus, and the page it
 * serves: the event hooks the loop modules call where things happen (an
 * answer applied, a peer's report, a Redis round trip), and the gauges read
 * from the broker's state at each scrape (jobs, prompts, queues, peers,
 * model health, results waiting). The metric names and their meaning are
 * in docs/metrics.md. Off (every hook a no-op) unless
 * broker.metrics_listen is set. */
#ifndef TOA_BROKER_OBSERVE_H
#define TOA_BROKER_OBSERVE_H

#include <stdint.h>

#include "broker/broker.h"
#include "broker/fleet/tasks.h"
#include "proto/proto.h"

/* Starts the metrics of B and the endpoint on LISTEN ("host:port"); also
 * registers the Redis round-trip observer. Returns 0, or -1 with the reason
 * in ERR. */
int toa_observe_start (toa_broker_t *b, const char *listen, char *err, size_t err_size);

/* Stops the endpoint and frees the metrics; safe when never started. */
void toa_observe_stop (toa_broker_t *b);

/* An answer (gen-result, score-result or task-failure) that matches the
 * current lease of TASK arrived at NOW; called before it is applied. */
void toa_observe_answer (toa_broker_t *b, const toa_task_t *task, const toa_msg_t *msg,
                         int64_t now);

/* Peer SLOT sent a heartbeat with figures (proto/README.md, heartbeat). */
void toa_observe_report (toa_broker_t *b, int slot, const toa_msg_heartbeat_t *heartbeat);

/* The endpoint, for the loop's poll (NULL when metrics are off). */
struct toa_exporter_s *toa_observe_exporter (toa_broker_t *b);

/* The metrics page as served (new memory, free()); for the endpoint and
 * tests. */
char *toa_observe_render (toa_broker_t *b, size_t *length);

/* The failure class of a task-failure, for metrics: "timeout", "429",
 * "5xx", "4xx", "malformed", "refused", "refused_by_peer", "other". Pure. */
const char *toa_observe_failure_class (int64_t http_status, const char *reason);

#endif
