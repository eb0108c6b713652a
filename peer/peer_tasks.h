/* peer_tasks.h - the tasks a worker or scorer has taken from the broker and
 * not answered yet: each with the session (connection) it came on, every
 * answer (result, failure, refusal) sent through one callback, and the
 * counters every peer keeps. Knows nothing of sockets or HTTP.
 *
 * The owner (worker/gen, scorer/score) keeps its own state per task in a
 * struct whose first member is a toa_peer_task_t; toa_peer_tasks_take()
 * allocates that struct, so a toa_peer_task_t pointer from the list can be
 * cast back to it. */
#ifndef TOA_PEER_TASKS_H
#define TOA_PEER_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

typedef struct toa_peer_task_s toa_peer_task_t;

struct toa_peer_task_s {
    toa_msg_t msg;                   /* the gen-task or score-task, owned */
    uint64_t session;                /* the connection it came on */
    toa_peer_task_t *prev, *next;
};

/* An answer (a result or a task-failure) for a task that came on SESSION. */
typedef void (toa_peer_tasks_answer_fn) (void *arg, uint64_t session, const toa_msg_t *answer);

/* Frees what the owner hung on TASK, then calls toa_peer_tasks_free(). */
typedef void (toa_peer_tasks_release_fn) (toa_peer_task_t *task);

typedef struct {
    uint64_t started;                /* tasks taken */
    uint64_t succeeded;              /* results sent */
    uint64_t failed_transient;       /* task-failures sent, by class */
    uint64_t failed_permanent;
    uint64_t cancelled;              /* tasks dropped without an answer */
} toa_peer_tasks_stats_t;

/* A list of tasks, kept by value in its owner (no new/destroy: it owns
 * only its tasks, which the owner releases). */
typedef struct {
    toa_peer_task_t *head;           /* newest first */
    size_t count;
    toa_peer_tasks_answer_fn *answer;
    void *arg;
    toa_peer_tasks_release_fn *release;
    toa_peer_tasks_stats_t stats;
} toa_peer_tasks_t;

/* An empty list whose answers go to ANSWER (with ARG) and whose tasks are
 * freed by RELEASE. */
void toa_peer_tasks_init (toa_peer_tasks_t *self, toa_peer_tasks_answer_fn *answer, void *arg,
                          toa_peer_tasks_release_fn *release);

/* The task id and attempt of MSG (a gen-task or score-task; 0 otherwise). */
void toa_peer_tasks_identify (const toa_msg_t *msg, uint64_t *task, int64_t *attempt);

/* Allocates SIZE bytes (the owner's struct, toa_peer_task_t first; zeroed),
 * moves MSG into it (MSG is left cleared), links it and counts it started.
 * When out of memory MSG is refused as a transient failure and NULL is
 * returned. */
toa_peer_task_t *toa_peer_tasks_take (toa_peer_tasks_t *self, size_t size, toa_msg_t *msg,
                                      uint64_t session);

/* Unlinks TASK, clears its message and frees it (the owner's struct). */
void toa_peer_tasks_free (toa_peer_tasks_t *self, toa_peer_task_t *task);

/* Sends RESULT (a gen-result or score-result) for TASK and counts it; the
 * caller then releases TASK. */
void toa_peer_tasks_succeed (toa_peer_tasks_t *self, const toa_peer_task_t *task,
                             const toa_msg_t *result);

/* Logs and sends a task-failure (FAILURE_CLASS, REASON, HTTP_STATUS or 0)
 * for TASK and counts it; the caller then releases TASK. */
void toa_peer_tasks_fail (toa_peer_tasks_t *self, const toa_peer_task_t *task,
                          toa_failure_class_t failure_class, const char *reason,
                          long http_status);

/* Answers MSG, a task not taken, from SESSION with a task-failure
 * (FAILURE_CLASS, REASON), logged, and clears MSG. */
void toa_peer_tasks_refuse (toa_peer_tasks_t *self, toa_msg_t *msg, uint64_t session,
                            toa_failure_class_t failure_class, const char *reason);

/* Releases every task without an answer (their connection is gone);
 * returns how many. */
size_t toa_peer_tasks_cancel_all (toa_peer_tasks_t *self);

/* Answers every task with a transient failure (REASON) and releases it;
 * returns how many. */
size_t toa_peer_tasks_fail_all (toa_peer_tasks_t *self, const char *reason);

#endif
