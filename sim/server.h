/* server.h - toa-simllm's HTTP server: libmicrohttpd with a thread pool,
 * answering through the service module. A request that must wait (latency,
 * a busy slot, a hang) is suspended and handed to the scheduler, so waiting
 * requests hold no thread and thousands can wait at once. */
#ifndef TOA_SIM_SERVER_H
#define TOA_SIM_SERVER_H

#include "common/errors.h"
#include "sim/service.h"

typedef struct toa_sim_server_s toa_sim_server_t;

/* Starts serving SERVICE (kept by reference) on LISTEN ("host:port"; port 0
 * picks a free one) with THREADS HTTP threads (< 1 means 1). N_MODELS and
 * SLOTS give each model's slots. Returns NULL with the reason in ERRORS. */
toa_sim_server_t *toa_sim_server_new (toa_sim_service_t *service, const char *listen,
                                      int threads, size_t n_models, const int *slots,
                                      toa_errors_t *errors);

/* The TCP port served. */
int toa_sim_server_port (const toa_sim_server_t *self);

/* Answers every waiting request (connections closed), stops the threads,
 * frees everything; nulls *SELF_P; safe on NULL. */
void toa_sim_server_destroy (toa_sim_server_t **self_p);

#endif
