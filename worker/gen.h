/* gen.h - runs generation tasks: turns a gen-task into chat/completions
 * requests on the HTTP engine, splits n > 1 into single requests for servers
 * that refuse n, merges the choices and answers with a gen-result or a
 * task-failure. Knows nothing of sockets: answers go to a callback. */
#ifndef TOA_WORKER_GEN_H
#define TOA_WORKER_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/errors.h"
#include "common/http.h"
#include "proto/proto.h"

typedef struct toa_gen_s toa_gen_t;

/* An answer (gen-result or task-failure) for a task that came on SESSION. */
typedef void (toa_gen_answer_fn) (void *arg, uint64_t session, const toa_msg_t *answer);

typedef struct {
    uint64_t started;            /* tasks taken */
    uint64_t succeeded;          /* gen-results sent */
    uint64_t failed_transient;   /* task-failures sent, by class */
    uint64_t failed_permanent;
    uint64_t cancelled;          /* tasks dropped without an answer */
    uint64_t split;              /* tasks served with one request per choice */
} toa_gen_stats_t;

/* Sets up the models of CONFIG named in MODELS (all when N_MODELS is 0): one
 * HTTP group each on HTTP (borrowed, as is CONFIG), with the API key of the
 * model's api_key_env. Problems go to ERRORS; returns NULL then. */
toa_gen_t *toa_gen_new (toa_http_t *http, const toa_config_t *config,
                        const char *const *models, size_t n_models,
                        toa_gen_answer_fn *answer, void *arg, toa_errors_t *errors);

/* Cancels every task without an answer and frees everything; nulls *SELF_P. */
void toa_gen_destroy (toa_gen_t **self_p);

/* The names of the models served (valid while SELF lives). */
const char *const *toa_gen_models (const toa_gen_t *self, size_t *count);

/* Takes TASK (a gen-task or score-task; its contents are moved out and TASK
 * is left cleared) from SESSION. A task this worker cannot serve is answered
 * at once with a permanent failure. */
void toa_gen_start (toa_gen_t *self, toa_msg_t *task, uint64_t session);

/* Drops every task without answering (their connection is gone). Returns how
 * many. */
size_t toa_gen_cancel_all (toa_gen_t *self);

/* Answers every task with a transient failure (REASON) and drops it. Returns
 * how many. */
size_t toa_gen_fail_all (toa_gen_t *self, const char *reason);

/* Tasks in progress. */
size_t toa_gen_active (const toa_gen_t *self);

toa_gen_stats_t toa_gen_stats (const toa_gen_t *self);

#endif
