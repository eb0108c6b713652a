/* context.h - private to broker/: the state one broker process shares
 * between its event-loop modules (broker.c, search.c, workers.c,
 * clients.c). Not a public API. */
#ifndef TOA_BROKER_CONTEXT_H
#define TOA_BROKER_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/broker.h"
#include "broker/zap.h"
#include "broker/fleet/health.h"
#include "broker/state/jobs.h"
#include "broker/fleet/peers.h"
#include "broker/method/prompt.h"
#include "broker/fleet/router.h"
#include "broker/state/store.h"
#include "broker/fleet/tasks.h"
#include "common/log.h"

typedef struct {
    uint64_t bad_messages;        /* undecodable or unexpected messages */
    uint64_t dropped_results;     /* results/failures not applied (stale, unknown) */
    uint64_t lease_expired;       /* leases that ran out */
    uint64_t requeued;            /* tasks given to another peer (expiry, death, send) */
    uint64_t retries;             /* transient failures retried */
    uint64_t failed_tasks;        /* tasks failed for good */
    uint64_t dead_peers;
    uint64_t send_failures;
    uint64_t store_failures;      /* Redis flushes or reads that failed */
    uint64_t reloads;             /* state rebuilt from Redis */
    uint64_t prompts_finished;
    uint64_t withdrawn;           /* plans of a down model withdrawn (TOA picks again) */
    uint64_t refused_peers;       /* READYs refused: broker.max_peers reached */
    uint64_t stalled;             /* tasks taken from a peer that answered nothing */
} toa_broker_stats_t;

/* A submission streamed in chunks, until its end (clients.c). */
typedef struct toa_submission_s toa_submission_t;

/* A client attachment kept across a rebuild of the state from Redis. */
typedef struct {
    char job[80];
    toa_peer_id_t client;
} toa_broker_attachment_t;

struct toa_broker_s {
    toa_broker_options_t options;
    char *client_endpoint, *worker_endpoint, *redis_url, *redis_password;
    void *zmq;                    /* libzmq context */
    void *clients;                /* ROUTER for clients */
    void *workers;                /* ROUTER for workers and scorers */
    toa_zap_t *zap;               /* CURVE admission; NULL when CURVE is off */
    const char *request_token;    /* the token the client message being handled
                                   * carries (NULL: none); broker/owners.h */
    toa_store_t *store;
    toa_jobs_t *jobs;
    toa_submission_t *submissions; /* submits being streamed (clients.c) */
    toa_tasks_t *tasks;
    toa_peers_t *peers;
    toa_router_t *router;
    toa_health_t *health;         /* which models are down */
    int64_t next_health_ms;       /* next sweep of tasks waiting on a down model */
    int64_t next_admit_ms;        /* next look at the active prompts' remaining work */
    toa_prompt_work_t work;       /* scratch for prompt operations */
    bool budget_due;              /* a prompt may get more of its job's budget */
    bool state_ok;                /* memory mirrors Redis; dispatching allowed */
    bool stopping;
    int64_t reconnect_at_ms, reconnect_delay_ms;
    int64_t next_heartbeat_ms, next_due_ms, next_stats_ms, next_stall_ms;
    bool trim_due;                /* freed memory to give back (workers.c) */
    int64_t next_trim_ms;
    toa_broker_attachment_t *saved; /* attachments to restore after a rebuild */
    size_t n_saved;
    toa_task_t **deferred;        /* tasks that failed while dispatching */
    size_t n_deferred, deferred_capacity;
    toa_broker_stats_t stats;
    void *observe;                /* metrics (broker/observe.c); NULL when off */
    uint64_t stats_logged_hash;   /* to log stats only when they change */
    toa_log_limit_t dropped_log;  /* "dropped an answer" lines: a peer may send
                                   * answers for unknown tasks at will */
    toa_log_limit_t refused_log;  /* "not its owner" lines: a client may ask
                                   * for another's job at will */
};

#endif
