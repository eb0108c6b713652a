/* peer_tasks.c - a worker's or scorer's taken tasks and their answers
 * (see peer_tasks.h). */
#include "peer/peer_tasks.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

void
toa_peer_tasks_init (toa_peer_tasks_t *self, toa_peer_tasks_answer_fn *answer, void *arg,
                     toa_peer_tasks_release_fn *release)
{
    memset (self, 0, sizeof *self);
    self->answer = answer;
    self->arg = arg;
    self->release = release;
}

void
toa_peer_tasks_identify (const toa_msg_t *msg, uint64_t *task, int64_t *attempt)
{
    *task = 0;
    *attempt = 0;
    if (msg->type == TOA_MSG_GEN_TASK) {
        *task = msg->u.gen_task.task;
        *attempt = msg->u.gen_task.attempt;
    }
    else if (msg->type == TOA_MSG_SCORE_TASK) {
        *task = msg->u.score_task.task;
        *attempt = msg->u.score_task.attempt;
    }
}

/* What a task is for, in log lines: its model or its backend. */
static const char *
s_target (const toa_msg_t *msg)
{
    const char *target = msg->type == TOA_MSG_GEN_TASK ? msg->u.gen_task.model
                       : msg->type == TOA_MSG_SCORE_TASK ? msg->u.score_task.backend : NULL;
    return target ? target : "";
}

static void
s_send_failure (toa_peer_tasks_t *self, uint64_t session, const toa_msg_t *task,
                toa_failure_class_t failure_class, const char *reason, long http_status)
{
    toa_msg_t msg = {.type = TOA_MSG_TASK_FAILURE};
    toa_peer_tasks_identify (task, &msg.u.task_failure.task, &msg.u.task_failure.attempt);
    msg.u.task_failure.failure_class = failure_class;
    msg.u.task_failure.reason = (char *) reason;
    msg.u.task_failure.http_status = http_status;
    if (failure_class == TOA_FAILURE_TRANSIENT)
        self->stats.failed_transient++;
    else
        self->stats.failed_permanent++;
    self->answer (self->arg, session, &msg);
}

toa_peer_task_t *
toa_peer_tasks_take (toa_peer_tasks_t *self, size_t size, toa_msg_t *msg, uint64_t session)
{
    toa_peer_task_t *task = size >= sizeof *task ? calloc (1, size) : NULL;
    if (!task) {
        toa_peer_tasks_refuse (self, msg, session, TOA_FAILURE_TRANSIENT, "out of memory");
        return NULL;
    }
    task->msg = *msg;
    memset (msg, 0, sizeof *msg);
    task->session = session;
    task->next = self->head;
    if (self->head)
        self->head->prev = task;
    self->head = task;
    self->count++;
    self->stats.started++;
    return task;
}

void
toa_peer_tasks_free (toa_peer_tasks_t *self, toa_peer_task_t *task)
{
    if (task->prev)
        task->prev->next = task->next;
    else
        self->head = task->next;
    if (task->next)
        task->next->prev = task->prev;
    self->count--;
    toa_msg_clear (&task->msg);
    free (task);
}

void
toa_peer_tasks_succeed (toa_peer_tasks_t *self, const toa_peer_task_t *task,
                        const toa_msg_t *result)
{
    self->stats.succeeded++;
    self->answer (self->arg, task->session, result);
}

void
toa_peer_tasks_fail (toa_peer_tasks_t *self, const toa_peer_task_t *task,
                     toa_failure_class_t failure_class, const char *reason, long http_status)
{
    uint64_t id;
    int64_t attempt;
    toa_peer_tasks_identify (&task->msg, &id, &attempt);
    toa_warn ("task %llu/%lld (%s): %s failure: %s", (unsigned long long) id,
              (long long) attempt, s_target (&task->msg),
              failure_class == TOA_FAILURE_TRANSIENT ? "transient" : "permanent", reason);
    s_send_failure (self, task->session, &task->msg, failure_class, reason, http_status);
}

void
toa_peer_tasks_refuse (toa_peer_tasks_t *self, toa_msg_t *msg, uint64_t session,
                       toa_failure_class_t failure_class, const char *reason)
{
    uint64_t id;
    int64_t attempt;
    toa_peer_tasks_identify (msg, &id, &attempt);
    toa_warn ("task %llu/%lld refused: %s", (unsigned long long) id, (long long) attempt, reason);
    s_send_failure (self, session, msg, failure_class, reason, 0);
    toa_msg_clear (msg);
}

size_t
toa_peer_tasks_cancel_all (toa_peer_tasks_t *self)
{
    size_t count = 0;
    while (self->head) {
        self->release (self->head);
        self->stats.cancelled++;
        count++;
    }
    return count;
}

size_t
toa_peer_tasks_fail_all (toa_peer_tasks_t *self, const char *reason)
{
    size_t count = 0;
    while (self->head) {
        toa_peer_task_t *task = self->head;
        s_send_failure (self, task->session, &task->msg, TOA_FAILURE_TRANSIENT, reason, 0);
        self->release (task);
        count++;
    }
    return count;
}
