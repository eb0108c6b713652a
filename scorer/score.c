/* score.c - score tasks against the configured backend: built-in verifiers
 * at once, batched reward servers one call per batch, the LLM judge one
 * call per task (see score.h). */
#include "scorer/score.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/openai.h"
#include "peer/peer_tasks.h"
#include "common/util.h"
#include "scorer/backend.h"
#include "scorer/batch.h"
#include "scorer/chrf.h"
#include "scorer/judge.h"
#include "scorer/math_verify.h"
#include "scorer/rm.h"

#define S_JUDGE_MAX_TOKENS 2048      /* room for the judge's explanation */
#define S_JUDGE_RETRY_TEMPERATURE 0.7 /* a re-issued judge task samples anew */

typedef struct s_task_s s_task_t;
typedef struct s_call_s s_call_t;

struct s_task_s {
    toa_peer_task_t base;            /* first: the score-task, its session, the list */
    toa_score_t *score;
    s_call_t *call;                  /* its request in flight; NULL while batching */
};

/* One backend request: a batch of tasks, or one judge task. */
struct s_call_s {
    toa_score_t *score;
    s_task_t **tasks;
    size_t n;
    bool single;                     /* a part of a split batch: not split again */
    uint64_t http_id;
    double *rewards;                 /* from the last 2xx attempt */
    bool *have;
    char why[300];                   /* why some tasks got no reward */
    char *judge_reply;               /* llm-judge: the reply's text */
    s_call_t *prev, *next;
};

struct toa_score_s {
    toa_http_t *http;
    const toa_reward_config_t *reward;
    toa_backend_t backend;
    int group;                       /* HTTP group of reward.url; -1 for built-ins */
    const char *path;                /* appended to reward.url */
    char *authorization;             /* "Authorization: Bearer ..." or NULL: a secret */
    char scale[32];                  /* judge_scale_max as text */
    toa_batcher_t *batcher;
    void **scratch;                  /* batch_size slots for toa_batcher_take */
    toa_peer_tasks_t tasks;          /* taken, not answered */
    s_call_t *calls;                 /* in flight */
    uint64_t n_calls;                /* backend HTTP requests made */
    uint64_t n_splits;               /* batches re-sent one task per request */
};

static void s_task_release (toa_peer_task_t *base);

/* ---------------------------------------------------------------- setup */

/* The path to append to URL for BACKEND: "" when URL already ends with it. */
static const char *
s_path (toa_backend_t backend, const char *url)
{
    const char *path = backend == TOA_BACKEND_VLLM_CLASSIFY ? "/classify"
                     : backend == TOA_BACKEND_VLLM_POOLING ? "/pooling"
                     : backend == TOA_BACKEND_LLM_JUDGE ? "/chat/completions" : "";
    size_t url_length = strlen (url), path_length = strlen (path);
    if (url_length >= path_length && strcmp (url + url_length - path_length, path) == 0)
        return "";
    return path;
}

static int
s_setup_http (toa_score_t *self, int max_concurrent, toa_errors_t *errors)
{
    const toa_reward_config_t *reward = self->reward;
    if (!reward->url || !*reward->url) {
        toa_errors_add (errors, "reward.url: required by backend '%s'", reward->backend);
        return -1;
    }
    char *url = strdup (reward->url);
    if (!url)
        return -1;
    size_t length = strlen (url);
    while (length > 0 && url[length - 1] == '/' && self->backend != TOA_BACKEND_HTTP_REWARD)
        url[--length] = 0;
    self->path = s_path (self->backend, url);
    const char *urls[1] = {url};
    self->group = toa_http_add_group (self->http, reward->backend, urls, 1,
                                      max_concurrent > 0 ? max_concurrent : 1);
    free (url);
    if (self->group < 0) {
        toa_errors_add (errors, "reward.url: cannot set up the HTTP client");
        return -1;
    }
    if (reward->api_key_env && *reward->api_key_env) {
        const char *key = toa_config_api_key (reward->api_key_env);
        if (!key || !*key)
            toa_warn ("reward: environment variable %s is not set; sending no API key",
                      reward->api_key_env);
        else if (!(self->authorization = toa_http_bearer_header (key)))
            return -1;
    }
    return 0;
}

toa_score_t *
toa_score_new (toa_http_t *http, const toa_reward_config_t *reward, int max_concurrent,
               toa_score_answer_fn *answer, void *arg, toa_errors_t *errors)
{
    if (!http || !reward || !answer)
        return NULL;
    int backend = toa_backend_parse (reward->backend);
    if (backend < 0) {
        toa_errors_add (errors, "reward.backend: unknown backend '%s'",
                        reward->backend ? reward->backend : "");
        return NULL;
    }
    if (backend == TOA_BACKEND_LLM_JUDGE && !reward->model_id) {
        toa_errors_add (errors, "reward.model_id: required by backend 'llm-judge'");
        return NULL;
    }
    toa_score_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->http = http;
    self->reward = reward;
    self->backend = (toa_backend_t) backend;
    self->group = -1;
    toa_peer_tasks_init (&self->tasks, answer, arg, s_task_release);
    snprintf (self->scale, sizeof self->scale, "%g", reward->judge_scale_max);
    int rc = 0;
    if (toa_backend_is_http (self->backend))
        rc = s_setup_http (self, max_concurrent, errors);
    if (rc == 0 && toa_backend_batches (self->backend)) {
        size_t size = reward->batch_size > 0 ? (size_t) reward->batch_size : 1;
        self->batcher = toa_batcher_new (size, reward->batch_wait_ms);
        self->scratch = calloc (size, sizeof *self->scratch);
        rc = self->batcher && self->scratch ? 0 : -1;
    }
    if (rc != 0) {
        toa_errors_add (errors, "reward: cannot set up backend '%s'", reward->backend);
        toa_score_destroy (&self);
    }
    return self;
}

void
toa_score_destroy (toa_score_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_score_t *self = *self_p;
    toa_score_cancel_all (self);
    toa_http_secret_free (&self->authorization);
    toa_batcher_destroy (&self->batcher);
    free (self->scratch);
    free (self);
    *self_p = NULL;
}

const char *
toa_score_backend (const toa_score_t *self)
{
    return self ? toa_backend_name (self->backend) : NULL;
}

size_t
toa_score_active (const toa_score_t *self)
{
    return self ? self->tasks.count : 0;
}

toa_score_stats_t
toa_score_stats (const toa_score_t *self)
{
    toa_score_stats_t stats = {0};
    if (self) {
        const toa_peer_tasks_stats_t *tasks = &self->tasks.stats;
        stats = (toa_score_stats_t) {tasks->started, tasks->succeeded, tasks->failed_transient,
                                     tasks->failed_permanent, tasks->cancelled, self->n_calls,
                                     self->n_splits};
    }
    return stats;
}

int64_t
toa_score_timeout (const toa_score_t *self, int64_t now_ms)
{
    return self ? toa_batcher_timeout (self->batcher, now_ms) : -1;
}

/* ---------------------------------------------------------------- answers */

/* Unlinks TASK (from its batch too, if it waits in one) and frees it (a
 * toa_peer_tasks_release_fn). Its call, if any, is the caller's business. */
static void
s_task_release (toa_peer_task_t *base)
{
    s_task_t *task = (s_task_t *) base;
    toa_score_t *self = task->score;
    if (!task->call)
        toa_batcher_remove (self->batcher, task);
    toa_peer_tasks_free (&self->tasks, base);
}

/* Answers TASK with a failure and frees it. */
static void
s_task_fail (s_task_t *task, toa_failure_class_t failure_class, const char *reason,
             long http_status)
{
    toa_peer_tasks_fail (&task->score->tasks, &task->base, failure_class, reason, http_status);
    s_task_release (&task->base);
}

/* A readable reply without a reward for TASK: transient the first time, so
 * that the broker asks again, permanent after that. */
static void
s_task_unusable (s_task_t *task, const char *reason)
{
    bool first = task->base.msg.u.score_task.attempt <= 1;
    s_task_fail (task, first ? TOA_FAILURE_TRANSIENT : TOA_FAILURE_PERMANENT, reason, 0);
}

/* Answers TASK with REWARD and frees it. */
static void
s_task_succeed (s_task_t *task, double reward)
{
    const toa_msg_score_task_t *score = &task->base.msg.u.score_task;
    toa_msg_t msg = {.type = TOA_MSG_SCORE_RESULT};
    msg.u.score_result.task = score->task;
    msg.u.score_result.attempt = score->attempt;
    msg.u.score_result.reward = reward;
    toa_debug ("task %llu/%lld (%s): reward %.6g", (unsigned long long) score->task,
               (long long) score->attempt, score->backend, reward);
    toa_peer_tasks_succeed (&task->score->tasks, &task->base, &msg);
    s_task_release (&task->base);
}

/* ---------------------------------------------------------------- calls */

/* Unlinks CALL, cancels its request if still pending, frees it (not its
 * tasks, which are detached from it). */
static void
s_call_free (s_call_t *call)
{
    toa_score_t *self = call->score;
    if (call->http_id)
        toa_http_cancel (self->http, call->http_id);
    if (call->prev)
        call->prev->next = call->next;
    else
        self->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    for (size_t i = 0; i < call->n; i++)
        if (call->tasks[i] && call->tasks[i]->call == call)
            call->tasks[i]->call = NULL;
    free (call->tasks);
    free (call->rewards);
    free (call->have);
    free (call->judge_reply);
    free (call);
}

/* The JSON body of CALL's request, or NULL when out of memory. */
static char *
s_batch_body (toa_score_t *self, s_call_t *call)
{
    char **prompts = calloc (call->n, sizeof *prompts);
    char **queries = calloc (call->n, sizeof *queries);
    const char **labels = calloc (call->n, sizeof *labels);
    char *body = NULL;
    bool ok = prompts && queries && labels;
    for (size_t i = 0; ok && i < call->n; i++) {
        const toa_msg_score_task_t *task = &call->tasks[i]->base.msg.u.score_task;
        prompts[i] = toa_rm_prompt_text (task->messages, task->n_messages);
        queries[i] = prompts[i] ? toa_rm_query_text (self->reward->query_template, prompts[i],
                                                     task->response)
                                : NULL;
        labels[i] = task->reference ? task->reference : "";
        ok = queries[i] != NULL;
    }
    if (ok && self->backend == TOA_BACKEND_HTTP_REWARD)
        body = toa_rm_http_reward_body ((const char *const *) queries,
                                        (const char *const *) prompts, labels, call->n);
    else if (ok)
        body = toa_rm_vllm_body (self->reward->model_id, (const char *const *) queries,
                                 call->n);
    for (size_t i = 0; i < call->n && prompts && queries; i++) {
        free (prompts[i]);
        free (queries[i]);
    }
    free (prompts);
    free (queries);
    free (labels);
    return body;
}

/* The chat/completions body asking the judge to rate TASK, or NULL. */
static char *
s_judge_body (toa_score_t *self, const s_task_t *task)
{
    const toa_msg_score_task_t *score = &task->base.msg.u.score_task;
    char *prompt = toa_rm_prompt_text (score->messages, score->n_messages);
    if (!prompt)
        return NULL;
    const char *names[] = {"prompt", "response", "scale", "scale_max"};
    const char *values[] = {prompt, score->response ? score->response : "", self->scale,
                            self->scale};
    char *content = toa_template_render (self->reward->judge_template, names, values, 4);
    free (prompt);
    if (!content)
        return NULL;
    toa_chat_message_t message = {.role = "user", .content = content};
    toa_openai_chat_request_t request = {
        .model_id = self->reward->model_id,
        .messages = &message,
        .n_messages = 1,
        .temperature = score->attempt <= 1 ? 0.0 : S_JUDGE_RETRY_TEMPERATURE,
        .top_p = 1.0,
        .max_tokens = S_JUDGE_MAX_TOKENS,
        .n = 1,
    };
    char *body = toa_openai_chat_body (&request);
    free (content);
    return body;
}

static toa_http_verdict_t s_classify (void *arg, const toa_http_response_t *response,
                                      toa_http_verdict_t suggested, char *reason,
                                      size_t reason_size);
static void s_call_done (void *arg, const toa_http_result_t *result);

/* A new call for TASKS[0..N), linked into SELF's calls, the tasks pointing
 * to it; NULL when out of memory. */
static s_call_t *
s_call_new (toa_score_t *self, s_task_t *const *tasks, size_t n, bool single)
{
    s_call_t *call = calloc (1, sizeof *call);
    if (!call)
        return NULL;
    call->tasks = calloc (n, sizeof *call->tasks);
    call->rewards = calloc (n, sizeof *call->rewards);
    call->have = calloc (n, sizeof *call->have);
    if (!call->tasks || !call->rewards || !call->have) {
        free (call->tasks);
        free (call->rewards);
        free (call->have);
        free (call);
        return NULL;
    }
    call->score = self;
    call->n = n;
    call->single = single || n == 1;
    memcpy (call->tasks, tasks, n * sizeof *tasks);
    for (size_t i = 0; i < n; i++)
        tasks[i]->call = call;
    call->next = self->calls;
    if (self->calls)
        self->calls->prev = call;
    self->calls = call;
    return call;
}

/* Sends TASKS[0..N) in one request (SINGLE: never split it). When that
 * cannot be done every task is answered with a transient failure. */
static void
s_call_submit (toa_score_t *self, s_task_t *const *tasks, size_t n, bool single)
{
    s_call_t *call = s_call_new (self, tasks, n, single);
    char *body = !call ? NULL
               : self->backend == TOA_BACKEND_LLM_JUDGE ? s_judge_body (self, tasks[0])
               : s_batch_body (self, call);
    if (body) {
        const char *headers[1] = {self->authorization};
        toa_http_request_t spec = {
            .group = self->group,
            .path = self->path,
            .body = body,
            .body_size = strlen (body),
            .headers = headers,
            .n_headers = self->authorization ? 1 : 0,
            .timeout_ms = self->reward->timeout_ms,
            .max_retries = self->reward->max_retries,
            .classify = s_classify,
            .done = s_call_done,
            .arg = call,
        };
        call->http_id = toa_http_submit (self->http, &spec);
        free (body);
        if (call->http_id) {
            self->n_calls++;
            toa_debug ("reward: %s call with %zu task(s)", toa_backend_name (self->backend), n);
            return;
        }
    }
    if (call)
        s_call_free (call);                  /* detaches the tasks */
    for (size_t i = 0; i < n; i++)
        s_task_fail (tasks[i], TOA_FAILURE_TRANSIENT, "out of memory building the request", 0);
}

static toa_http_verdict_t
s_classify (void *arg, const toa_http_response_t *response, toa_http_verdict_t suggested,
            char *reason, size_t reason_size)
{
    s_call_t *call = arg;
    toa_score_t *self = call->score;
    free (call->judge_reply);
    call->judge_reply = NULL;
    call->why[0] = 0;
    if (response->status == 0)
        return suggested;                    /* transport error: curl's reason */
    if (suggested == TOA_HTTP_DONE) {
        char why[300] = "";
        int rc;
        if (self->backend == TOA_BACKEND_LLM_JUDGE) {
            toa_openai_reply_t reply;
            rc = toa_openai_parse_reply (response->body, response->body_size, &reply, why,
                                         sizeof why);
            if (rc == 0) {
                call->judge_reply = strdup (reply.choices[0].content);
                rc = call->judge_reply ? 0 : -1;
                if (rc != 0)
                    snprintf (why, sizeof why, "out of memory");
                toa_openai_reply_clear (&reply);
            }
        }
        else if (self->backend == TOA_BACKEND_HTTP_REWARD)
            rc = toa_rm_parse_http_reward (response->body, response->body_size, call->n,
                                           call->rewards, call->have, call->why,
                                           sizeof call->why);
        else
            rc = toa_rm_parse_vllm (response->body, response->body_size,
                                    self->backend == TOA_BACKEND_VLLM_POOLING, call->n,
                                    call->rewards, call->have, call->why, sizeof call->why);
        if (rc >= 0)
            return TOA_HTTP_DONE;
        snprintf (reason, reason_size, "HTTP %ld with an unusable reply: %s", response->status,
                  *why ? why : call->why);
        return TOA_HTTP_RETRY;               /* never an empty success */
    }
    toa_openai_error_t error;
    if (toa_openai_parse_error (response->body, response->body_size, &error) == -2)
        return suggested;
    toa_openai_error_describe (response->status, &error, reason, reason_size);
    toa_http_verdict_t verdict = suggested;
    if (response->status == 429 && toa_openai_error_is_quota (&error))
        verdict = TOA_HTTP_FAIL;
    toa_openai_error_clear (&error);
    return verdict;
}

/* Answers the tasks of a call whose reply was read. */
static void
s_call_answer (s_call_t *call)
{
    toa_score_t *self = call->score;
    for (size_t i = 0; i < call->n; i++) {
        s_task_t *task = call->tasks[i];
        call->tasks[i] = NULL;
        task->call = NULL;
        if (self->backend == TOA_BACKEND_LLM_JUDGE) {
            char why[200], reason[300];
            double rating;
            if (toa_judge_parse_score (call->judge_reply, self->reward->judge_scale_max,
                                       &rating, why, sizeof why) == 0)
                s_task_succeed (task, rating);
            else {
                snprintf (reason, sizeof reason, "judge: %s", why);
                s_task_unusable (task, reason);
            }
        }
        else if (call->have[i])
            s_task_succeed (task, call->rewards[i]);
        else {
            char reason[400];
            snprintf (reason, sizeof reason, "no reward for this task in the reply: %s",
                      call->why);
            s_task_unusable (task, reason);
        }
    }
}

/* A status that may come from one bad input of a batch (too long, say),
 * rather than from the request as a whole (auth, quota). */
static bool
s_blames_input (long status)
{
    return status == 400 || status == 413 || status == 422;
}

static void
s_call_done (void *arg, const toa_http_result_t *result)
{
    s_call_t *call = arg;
    toa_score_t *self = call->score;
    call->http_id = 0;
    long status = result->response ? result->response->status : 0;
    if (result->verdict == TOA_HTTP_DONE)
        s_call_answer (call);
    else if (!result->exhausted && s_blames_input (status) && !call->single) {
        /* one bad text (too long, say) should not fail its whole batch */
        toa_info ("reward: batch of %zu refused (%s); sending its tasks one by one", call->n,
                  result->reason);
        self->n_splits++;
        for (size_t i = 0; i < call->n; i++) {
            s_task_t *task = call->tasks[i];
            call->tasks[i] = NULL;
            task->call = NULL;
            s_call_submit (self, &task, 1, true);
        }
    }
    else {
        char reason[700];
        toa_http_result_describe (result, reason, sizeof reason);
        for (size_t i = 0; i < call->n; i++) {
            s_task_t *task = call->tasks[i];
            call->tasks[i] = NULL;
            task->call = NULL;
            s_task_fail (task, result->exhausted ? TOA_FAILURE_TRANSIENT : TOA_FAILURE_PERMANENT,
                         reason, status);
        }
    }
    s_call_free (call);
}

/* ---------------------------------------------------------------- tasks */

/* Scores TASK with a built-in verifier and answers it. */
static void
s_builtin (toa_score_t *self, s_task_t *task)
{
    const toa_msg_score_task_t *score = &task->base.msg.u.score_task;
    if (!score->reference || !*score->reference) {
        s_task_fail (task, TOA_FAILURE_PERMANENT, "no reference", 0);
        return;
    }
    const char *response = score->response ? score->response : "";
    double reward = self->backend == TOA_BACKEND_CHRF ? toa_chrf (response, score->reference)
                                                      : toa_math_verify (response,
                                                                         score->reference);
    if (reward < 0)
        s_task_fail (task, TOA_FAILURE_TRANSIENT, "out of memory scoring", 0);
    else
        s_task_succeed (task, reward);
}

/* Answers a task this scorer cannot take with a permanent failure. */
static void
s_refuse (toa_score_t *self, toa_msg_t *msg, uint64_t session, const char *reason)
{
    toa_peer_tasks_refuse (&self->tasks, msg, session, TOA_FAILURE_PERMANENT, reason);
}

void
toa_score_start (toa_score_t *self, toa_msg_t *msg, uint64_t session)
{
    if (!self || !msg)
        return;
    if (msg->type != TOA_MSG_SCORE_TASK) {
        s_refuse (self, msg, session, "this is a scorer (generation tasks go to workers)");
        return;
    }
    const char *ours = toa_backend_name (self->backend);
    if (!msg->u.score_task.backend || strcmp (msg->u.score_task.backend, ours) != 0) {
        char why[400];
        snprintf (why, sizeof why, "backend %.200s is not served by this scorer (it serves %s)",
                  msg->u.score_task.backend ? msg->u.score_task.backend : "(none)", ours);
        s_refuse (self, msg, session, why);
        return;
    }
    s_task_t *task = (s_task_t *) toa_peer_tasks_take (&self->tasks, sizeof *task, msg, session);
    if (!task)
        return;
    task->score = self;
    if (!toa_backend_is_http (self->backend))
        s_builtin (self, task);
    else if (self->backend == TOA_BACKEND_LLM_JUDGE)
        s_call_submit (self, &task, 1, true);
    else if (toa_batcher_add (self->batcher, task, toa_now_ms ()) != 0)
        s_task_fail (task, TOA_FAILURE_TRANSIENT, "out of memory", 0);
}

void
toa_score_process (toa_score_t *self, int64_t now_ms, bool flush)
{
    if (!self || !self->batcher)
        return;
    size_t n;
    while ((n = toa_batcher_take (self->batcher, now_ms, flush, self->scratch)) > 0)
        s_call_submit (self, (s_task_t *const *) self->scratch, n, false);
}

size_t
toa_score_cancel_all (toa_score_t *self)
{
    if (!self)
        return 0;
    while (self->calls)
        s_call_free (self->calls);
    return toa_peer_tasks_cancel_all (&self->tasks);
}

size_t
toa_score_fail_all (toa_score_t *self, const char *reason)
{
    if (!self)
        return 0;
    while (self->calls)
        s_call_free (self->calls);
    return toa_peer_tasks_fail_all (&self->tasks, reason);
}
