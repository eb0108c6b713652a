/* broker.h - toa-broker: one event loop (zmq_poll) over the client ROUTER
 * and the worker ROUTER, with Redis (pipelined, synchronous) as the state
 * that survives it. See docs/jobs.md for what clients and Redis see. */
#ifndef TOA_BROKER_H
#define TOA_BROKER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *client_endpoint;  /* ROUTER for clients */
    const char *worker_endpoint;  /* ROUTER for workers and scorers */
    int heartbeat_ms;             /* heartbeats to peers, progress to clients */
    int max_active;               /* prompts in search at once, across jobs */
    int task_timeout_ms;          /* lease of a task */
    size_t max_message;           /* ZMQ_MAXMSGSIZE */
    const char *redis_url;
    const char *redis_password;   /* may be NULL; never logged */
    int max_attempts;             /* failures of a task before it fails for good */
    /* Model health (broker/fleet/health.h; 0 takes the default). */
    int model_down_after;         /* failures in a row that take a model down (3) */
    int model_down_ms;            /* its first down period (30000), doubling */
    int model_down_max_ms;        /* up to this (300000) */
    int model_down_fail_ms;       /* a task of a method that cannot pick another
                                   * model fails for good once its model has been
                                   * down this long (60000) */
    int submit_idle_ms;           /* a submission (in chunks) whose client sends
                                   * nothing this long is dropped (0: 60000) */
    const char *metrics_listen;   /* host:port of GET /metrics; NULL: off */
    /* What a peer may claim (broker/fleet/peers.h; 0 takes the default). */
    int max_peers;                /* workers and scorers at once (1024) */
    int max_serves;               /* names kept from a peer's serves (64) */
    int max_worker_credit;        /* credit a worker may announce (64) */
    int max_scorer_credit;        /* credit a scorer may announce (64) */
    int peer_heartbeat_max_ms;    /* longest peer heartbeat interval (60000) */
    double stall_fraction;        /* a peer holding tasks this fraction of the
                                   * lease without answering any loses them (0.5) */
    const char *const *models;    /* a worker's serves keeps these only (NULL: any) */
    size_t n_models;
    /* CURVE (docs/config.md, section curve); curve_key NULL = off. */
    const char *curve_key;        /* the broker's certificate (reads its _secret) */
    const char *peer_keys_dir;    /* public certificates of admitted workers, scorers */
    const char *client_keys_dir;  /* public certificates of admitted clients */
    const char *admin_keys_dir;   /* clients that may see every job; may be NULL */
    bool insecure;                /* may bind a non-loopback endpoint without CURVE */
    int max_jobs_per_client;      /* live jobs per client key (0: no limit) */
    int64_t max_prompts_per_client; /* unfinished prompts per client key (0: no limit) */
} toa_broker_options_t;

typedef struct toa_broker_s toa_broker_t;

/* Binds both sockets (Redis is connected by toa_broker_run, which retries).
 * With CURVE, starts the ZAP handler first: the peer endpoint admits the keys
 * of peer_keys_dir, the client endpoint those of client_keys_dir. Without
 * CURVE, refuses an endpoint other machines can reach unless INSECURE.
 * Returns the broker, or NULL with the reason in ERR. */
toa_broker_t *toa_broker_new (const toa_broker_options_t *options, char *err, size_t err_size);

/* Runs until *STOP becomes non-zero, then stops dispatching, flushes Redis,
 * tells peers to disconnect and returns 0. */
int toa_broker_run (toa_broker_t *self, volatile sig_atomic_t *stop);

/* Closes sockets and frees everything; nulls *SELF_P; safe on NULL. */
void toa_broker_destroy (toa_broker_t **self_p);

#endif
