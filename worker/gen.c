/* gen.c - generation tasks as chat/completions requests: one request with n
 * choices, or one request per choice for replicas that refuse n > 1 (seeds
 * seed, seed+1, ...), merged into one gen-result (see gen.h). */
#include "worker/gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/openai.h"
#include "peer/peer_tasks.h"
#include "common/util.h"

#define S_MAX_CHOICES 1024           /* n of one task */
#define S_MAX_FINISH_REASON 64       /* bytes kept of a finish_reason */

typedef struct {
    const toa_model_config_t *config;
    int group;                       /* HTTP group of its base URLs */
    char *authorization;             /* "Authorization: Bearer ..." or NULL: a secret */
    uint64_t all_replicas;           /* bit per base URL */
    uint64_t rejects_n;              /* replicas that refused n > 1 */
} s_model_t;

typedef struct s_task_s s_task_t;
typedef struct s_part_s s_part_t;

/* One HTTP request of a task: choices [first, first + n). */
struct s_part_s {
    s_task_t *task;
    size_t first;
    int64_t n;
    uint64_t http_id;
    toa_openai_reply_t reply;        /* of the last 2xx attempt */
    bool rejected_n;                 /* the last attempt was an answer refusing n */
    s_part_t *next;
};

struct s_task_s {
    toa_peer_task_t base;            /* first: the gen-task, its session, the list */
    toa_gen_t *gen;
    s_model_t *model;
    int64_t received_ms;
    toa_gen_output_t *outputs;       /* base.msg.u.gen_task.n of them */
    s_part_t *parts;                 /* requests in progress */
};

struct toa_gen_s {
    toa_http_t *http;
    s_model_t *models;
    size_t n_models;
    const char **names;              /* served model names */
    toa_peer_tasks_t tasks;          /* in progress */
    uint64_t split;                  /* tasks served with one request per choice */
    bool affinity;                   /* worker.prefix_affinity: pass the tasks' key on */
};

static void s_task_release (toa_peer_task_t *base);

/* ---------------------------------------------------------------- setup */

static int
s_model_setup (toa_gen_t *self, s_model_t *model, const toa_model_config_t *config,
               toa_errors_t *errors)
{
    model->config = config;
    const char *const *urls = (const char *const *) config->base_urls;
    model->group = toa_http_add_group (self->http, config->name, urls, config->n_base_urls,
                                       config->max_concurrent);
    if (model->group < 0) {
        toa_errors_add (errors, "models.%s: cannot set up its %zu base URL(s) (at most 64)",
                        config->name, config->n_base_urls);
        return -1;
    }
    model->all_replicas = config->n_base_urls >= 64 ? UINT64_MAX
                        : (UINT64_C (1) << config->n_base_urls) - 1;
    if (config->api_key_env && *config->api_key_env) {
        const char *key = toa_config_api_key (config->api_key_env);
        if (!key || !*key)
            toa_warn ("model %s: environment variable %s is not set; sending no API key",
                      config->name, config->api_key_env);
        else if (!(model->authorization = toa_http_bearer_header (key)))
            return -1;
    }
    return 0;
}

toa_gen_t *
toa_gen_new (toa_http_t *http, const toa_config_t *config, const char *const *models,
             size_t n_models, toa_gen_answer_fn *answer, void *arg, toa_errors_t *errors)
{
    if (!http || !config || !answer)
        return NULL;
    size_t count = n_models ? n_models : config->n_models;
    if (count == 0) {
        toa_errors_add (errors, "%s: models: no model to serve", config->path);
        return NULL;
    }
    toa_gen_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->http = http;
    self->affinity = config->worker.prefix_affinity;
    toa_peer_tasks_init (&self->tasks, answer, arg, s_task_release);
    self->models = calloc (count, sizeof *self->models);
    self->names = calloc (count, sizeof *self->names);
    if (!self->models || !self->names) {
        toa_gen_destroy (&self);
        return NULL;
    }
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        const toa_model_config_t *model = n_models ? toa_config_model (config, models[i])
                                                   : &config->models[i];
        if (!model) {
            toa_errors_add (errors, "--model %s: no such model in %s", models[i], config->path);
            rc = -1;
            continue;
        }
        bool duplicate = false;
        for (size_t j = 0; j < self->n_models; j++)
            duplicate |= self->models[j].config == model;
        if (duplicate)
            continue;
        s_model_t *slot = &self->models[self->n_models++];
        if (s_model_setup (self, slot, model, errors) != 0)
            rc = -1;
        self->names[self->n_models - 1] = model->name;
    }
    if (rc != 0)
        toa_gen_destroy (&self);
    return self;
}

void
toa_gen_destroy (toa_gen_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_gen_t *self = *self_p;
    toa_gen_cancel_all (self);
    for (size_t i = 0; i < self->n_models; i++)
        toa_http_secret_free (&self->models[i].authorization);
    free (self->models);
    free (self->names);
    free (self);
    *self_p = NULL;
}

const char *const *
toa_gen_models (const toa_gen_t *self, size_t *count)
{
    *count = self ? self->n_models : 0;
    return self ? (const char *const *) self->names : NULL;
}

size_t
toa_gen_active (const toa_gen_t *self)
{
    return self ? self->tasks.count : 0;
}

toa_gen_stats_t
toa_gen_stats (const toa_gen_t *self)
{
    toa_gen_stats_t stats = {0};
    if (self) {
        const toa_peer_tasks_stats_t *tasks = &self->tasks.stats;
        stats = (toa_gen_stats_t) {tasks->started, tasks->succeeded, tasks->failed_transient,
                                   tasks->failed_permanent, tasks->cancelled, self->split};
    }
    return stats;
}

/* ---------------------------------------------------------------- tasks */

static void
s_part_free (s_part_t *part)
{
    toa_openai_reply_clear (&part->reply);
    free (part);
}

/* Unlinks PART from its task and frees it. */
static void
s_part_remove (s_task_t *task, s_part_t *part)
{
    for (s_part_t **link = &task->parts; *link; link = &(*link)->next)
        if (*link == part) {
            *link = part->next;
            break;
        }
    s_part_free (part);
}

/* Cancels the task's requests, frees its outputs, unlinks it from the
 * worker and frees it (a toa_peer_tasks_release_fn). */
static void
s_task_release (toa_peer_task_t *base)
{
    s_task_t *task = (s_task_t *) base;
    toa_gen_t *self = task->gen;
    while (task->parts) {
        s_part_t *part = task->parts;
        task->parts = part->next;
        if (part->http_id)
            toa_http_cancel (self->http, part->http_id);
        s_part_free (part);
    }
    for (int64_t i = 0; task->outputs && i < base->msg.u.gen_task.n; i++) {
        free (task->outputs[i].text);
        free (task->outputs[i].finish_reason);
    }
    free (task->outputs);
    toa_peer_tasks_free (&self->tasks, base);
}

/* Answers TASK with a failure and frees it (its other requests cancelled). */
static void
s_task_fail (s_task_t *task, toa_failure_class_t failure_class, const char *reason,
             long http_status)
{
    toa_peer_tasks_fail (&task->gen->tasks, &task->base, failure_class, reason, http_status);
    s_task_release (&task->base);
}

/* Answers TASK with its outputs and frees it. */
static void
s_task_succeed (s_task_t *task)
{
    const toa_msg_gen_task_t *gen = &task->base.msg.u.gen_task;
    toa_msg_t msg = {.type = TOA_MSG_GEN_RESULT};
    msg.u.gen_result.task = gen->task;
    msg.u.gen_result.attempt = gen->attempt;
    msg.u.gen_result.outputs = task->outputs;
    msg.u.gen_result.n_outputs = (size_t) gen->n;
    msg.u.gen_result.latency_ms = toa_now_ms () - task->received_ms;
    toa_debug ("task %llu/%lld (%s): %lld output(s) in %lld ms", (unsigned long long) gen->task,
               (long long) gen->attempt, gen->model, (long long) gen->n,
               (long long) msg.u.gen_result.latency_ms);
    toa_peer_tasks_succeed (&task->gen->tasks, &task->base, &msg);
    s_task_release (&task->base);
}

static toa_http_verdict_t s_classify (void *arg, const toa_http_response_t *response,
                                      toa_http_verdict_t suggested, char *reason,
                                      size_t reason_size);
static void s_part_done (void *arg, const toa_http_result_t *result);

/* Submits a request for choices [FIRST, FIRST + N) of TASK on the replicas
 * of MASK (0: any). Returns 0 or -1. */
static int
s_submit (s_task_t *task, size_t first, int64_t n, uint64_t mask)
{
    const toa_msg_gen_task_t *gen = &task->base.msg.u.gen_task;
    const toa_model_config_t *model = task->model->config;
    s_part_t *part = calloc (1, sizeof *part);
    if (!part)
        return -1;
    toa_openai_chat_request_t request = {
        .model_id = model->model_id ? model->model_id : model->name,
        .messages = gen->messages,
        .n_messages = gen->n_messages,
        .temperature = gen->temperature,
        .top_p = gen->top_p,
        .max_tokens = gen->max_tokens,
        .stop = (const char *const *) model->stop,
        .n_stop = model->n_stop,
        .extra_stop = (const char *const *) gen->stop,
        .n_extra_stop = gen->n_stop,
        .has_seed = gen->has_seed,
        .seed = gen->seed + first,
        .n = n,
    };
    char *body = toa_openai_chat_body (&request);
    if (!body) {
        free (part);
        return -1;
    }
    const char *headers[1] = {task->model->authorization};
    toa_http_request_t spec = {
        .group = task->model->group,
        .path = "/chat/completions",
        .body = body,
        .body_size = strlen (body),
        .take_body = true,
        .headers = headers,
        .n_headers = task->model->authorization ? 1 : 0,
        .timeout_ms = model->timeout_ms,
        .max_retries = model->max_retries,
        .replica_mask = mask,
        .affinity = task->gen->affinity ? gen->affinity : 0,
        .classify = s_classify,
        .done = s_part_done,
        .arg = part,
    };
    part->task = task;
    part->first = first;
    part->n = n;
    part->next = task->parts;
    task->parts = part;
    part->http_id = toa_http_submit (task->gen->http, &spec);   /* takes BODY */
    if (part->http_id == 0) {
        s_part_remove (task, part);
        return -1;
    }
    return 0;
}

/* Submits one request per choice of [FIRST, FIRST + N). 0 or -1. */
static int
s_submit_singles (s_task_t *task, size_t first, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (s_submit (task, first + (size_t) i, 1, 0) != 0)
            return -1;
    return 0;
}

/* Submits choices [FIRST, FIRST + N) as the model's replicas allow. 0 or -1. */
static int
s_submit_choices (s_task_t *task, size_t first, int64_t n)
{
    uint64_t allowed = task->model->all_replicas & ~task->model->rejects_n;
    if (n == 1)
        return s_submit (task, first, 1, 0);
    if (allowed == 0) {
        task->gen->split++;
        return s_submit_singles (task, first, n);
    }
    return s_submit (task, first, n, allowed == task->model->all_replicas ? 0 : allowed);
}

static void
s_note_rejects_n (s_model_t *model, int replica, const char *how)
{
    if (replica < 0 || replica >= 64 || (model->rejects_n & (UINT64_C (1) << replica)))
        return;
    model->rejects_n |= UINT64_C (1) << replica;
    toa_info ("model %s: %s (%s) %s; tasks with n > 1 go there as one request per choice",
              model->config->name, model->config->base_urls[replica],
              model->config->model_id ? model->config->model_id : model->config->name, how);
}

/* Cuts TEXT before a UTF-8 sequence that snprintf may have truncated. */
static void
s_trim_utf8 (char *text)
{
    size_t length = strlen (text), start = length;
    while (start > 0 && ((unsigned char) text[start - 1] & 0xc0) == 0x80)
        start--;                                 /* continuation bytes */
    if (start == 0 || (unsigned char) text[start - 1] < 0xc0)
        return;                                  /* ASCII last: complete */
    unsigned char lead = (unsigned char) text[start - 1];
    size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    if (length - (start - 1) < need)
        text[start - 1] = 0;
}

/* Whether every choice of REPLY fits in a gen-result. */
static bool
s_reply_fits (const toa_openai_reply_t *reply)
{
    for (size_t i = 0; i < reply->n_choices; i++)
        if (strlen (reply->choices[i].content) > TOA_PROTO_MAX_TEXT)
            return false;
    return true;
}

static toa_http_verdict_t
s_classify (void *arg, const toa_http_response_t *response, toa_http_verdict_t suggested,
            char *reason, size_t reason_size)
{
    s_part_t *part = arg;
    toa_openai_reply_clear (&part->reply);
    part->rejected_n = false;
    if (response->status == 0 || response->curl_code != 0)
        return suggested;                        /* transport error: curl's reason */
    if (suggested == TOA_HTTP_DONE) {
        char why[200];
        if (toa_openai_parse_reply (response->body, response->body_size, &part->reply, why,
                                    sizeof why) == 0) {
            if (s_reply_fits (&part->reply))
                return TOA_HTTP_DONE;
            snprintf (reason, reason_size, "a choice is longer than %u bytes",
                      TOA_PROTO_MAX_TEXT);
            toa_openai_reply_clear (&part->reply);
            return TOA_HTTP_FAIL;
        }
        snprintf (reason, reason_size, "HTTP %ld with a malformed reply: %s", response->status,
                  why);
        return TOA_HTTP_RETRY;                   /* never an empty success */
    }
    toa_openai_error_t error;
    if (toa_openai_parse_error (response->body, response->body_size, &error) == -2)
        return suggested;
    toa_openai_error_describe (response->status, &error, reason, reason_size);
    s_trim_utf8 (reason);
    toa_http_verdict_t verdict = suggested;
    if (response->status == 429 && toa_openai_error_is_quota (&error))
        verdict = TOA_HTTP_FAIL;
    if (part->n > 1 && toa_openai_error_rejects_n (response->status, &error)) {
        part->rejected_n = true;
        verdict = TOA_HTTP_FAIL;
    }
    else if (toa_openai_error_blames_request (response->status, &error))
        verdict = TOA_HTTP_FAIL;         /* permanent; not the replica's health either */
    toa_openai_error_clear (&error);
    return verdict;
}

/* Moves PART's choices into its task's outputs; returns how many it got. */
static size_t
s_take_choices (s_part_t *part)
{
    s_task_t *task = part->task;
    toa_openai_reply_t *reply = &part->reply;
    size_t got = reply->n_choices < (size_t) part->n ? reply->n_choices : (size_t) part->n;
    for (size_t i = 0; i < got; i++) {
        toa_gen_output_t *output = &task->outputs[part->first + i];
        output->text = reply->choices[i].content;
        output->finish_reason = reply->choices[i].finish_reason;
        if (strlen (output->finish_reason) > S_MAX_FINISH_REASON) {
            output->finish_reason[S_MAX_FINISH_REASON] = 0;
            s_trim_utf8 (output->finish_reason);
        }
        reply->choices[i].content = NULL;
        reply->choices[i].finish_reason = NULL;
        /* usage covers every choice: the prompt once, completions summed */
        output->prompt_tokens = reply->prompt_tokens;
        output->completion_tokens = reply->completion_tokens / (int64_t) got
                                  + ((int64_t) i < reply->completion_tokens % (int64_t) got);
    }
    return got;
}

static void
s_part_done (void *arg, const toa_http_result_t *result)
{
    s_part_t *part = arg;
    s_task_t *task = part->task;
    part->http_id = 0;
    int replica = result->response ? result->response->replica : -1;
    if (result->verdict == TOA_HTTP_DONE) {
        size_t got = s_take_choices (part);
        size_t first = part->first;
        int64_t missing = part->n - (int64_t) got;
        s_part_remove (task, part);
        if (missing > 0) {
            s_note_rejects_n (task->model, replica, "answered fewer choices than n");
            if (s_submit_choices (task, first + got, missing) != 0) {
                s_task_fail (task, TOA_FAILURE_TRANSIENT, "out of memory", 0);
                return;
            }
        }
        if (!task->parts)
            s_task_succeed (task);
        return;
    }
    if (part->rejected_n) {
        s_note_rejects_n (task->model, replica, "refuses n > 1");
        size_t first = part->first;
        int64_t n = part->n;
        s_part_remove (task, part);
        if (s_submit_choices (task, first, n) != 0)
            s_task_fail (task, TOA_FAILURE_TRANSIENT, "out of memory", 0);
        return;
    }
    char reason[700];
    toa_http_result_describe (result, reason, sizeof reason);
    s_trim_utf8 (reason);
    s_task_fail (task, result->exhausted ? TOA_FAILURE_TRANSIENT : TOA_FAILURE_PERMANENT,
                 reason, result->response ? result->response->status : 0);
}

static s_model_t *
s_find_model (toa_gen_t *self, const char *name)
{
    for (size_t i = 0; name && i < self->n_models; i++)
        if (strcmp (self->models[i].config->name, name) == 0)
            return &self->models[i];
    return NULL;
}

/* Answers a task this worker cannot take with a permanent failure. */
static void
s_refuse (toa_gen_t *self, toa_msg_t *msg, uint64_t session, const char *reason)
{
    toa_peer_tasks_refuse (&self->tasks, msg, session, TOA_FAILURE_PERMANENT, reason);
}

void
toa_gen_start (toa_gen_t *self, toa_msg_t *msg, uint64_t session)
{
    if (msg->type != TOA_MSG_GEN_TASK) {
        s_refuse (self, msg, session, "this worker only generates (score tasks go to scorers)");
        return;
    }
    const toa_msg_gen_task_t *gen = &msg->u.gen_task;
    char why[TOA_PROTO_MAX_NAME + 64];
    s_model_t *model = s_find_model (self, gen->model);
    if (!model) {
        snprintf (why, sizeof why, "model %s is not served by this worker", gen->model);
        s_refuse (self, msg, session, why);
        return;
    }
    if (gen->n < 1 || gen->n > S_MAX_CHOICES || gen->n_messages == 0) {
        snprintf (why, sizeof why, "n must be 1..%d and messages not empty", S_MAX_CHOICES);
        s_refuse (self, msg, session, why);
        return;
    }
    s_task_t *task = (s_task_t *) toa_peer_tasks_take (&self->tasks, sizeof *task, msg, session);
    if (!task)
        return;
    task->gen = self;
    task->model = model;
    task->received_ms = toa_now_ms ();
    gen = &task->base.msg.u.gen_task;
    task->outputs = calloc ((size_t) gen->n, sizeof *task->outputs);
    if (!task->outputs) {
        s_task_fail (task, TOA_FAILURE_TRANSIENT, "out of memory", 0);
        return;
    }
    toa_debug ("task %llu/%lld (%s): n %lld", (unsigned long long) gen->task,
               (long long) gen->attempt, model->config->name, (long long) gen->n);
    if (s_submit_choices (task, 0, gen->n) != 0)
        s_task_fail (task, TOA_FAILURE_TRANSIENT, "out of memory building the request", 0);
}

size_t
toa_gen_cancel_all (toa_gen_t *self)
{
    return self ? toa_peer_tasks_cancel_all (&self->tasks) : 0;
}

size_t
toa_gen_fail_all (toa_gen_t *self, const char *reason)
{
    return self ? toa_peer_tasks_fail_all (&self->tasks, reason) : 0;
}
