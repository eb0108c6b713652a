/* observe.c - the broker's Prometheus metrics: event hooks, gauges read at
 * scrape time, the page (see observe.h; names in docs/metrics.md). */
#include "broker/observe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/context.h"
#include "broker/exporter.h"
#include "broker/metrics.h"
#include "common/log.h"
#include "common/util.h"

/* Families, indexed by s_family_t (keep the two in step). */
typedef enum {
    S_GENERATIONS, S_SCORES, S_TOKENS, S_TASK_FAILURES, S_TASK_SECONDS,
    S_UPSTREAM_ATTEMPTS, S_UPSTREAM_RETRIES, S_UPSTREAM_IN_FLIGHT,
    S_REDIS_SECONDS, S_REDIS_ERRORS, S_REDIS_UP,
    S_JOBS, S_PROMPTS_ACTIVE, S_PROMPTS_QUEUED, S_TASKS_QUEUED, S_TASKS_IN_FLIGHT,
    S_TASKS_BACKOFF, S_PEERS, S_PEER_CREDIT, S_PEER_HELD, S_MODEL_UP, S_RESULTS_WAITING,
    S_RETRIES, S_FAILED, S_LEASES_EXPIRED, S_REQUEUED, S_DROPPED, S_BAD_MESSAGES,
    S_PEERS_LOST, S_PROMPTS_FINISHED, S_WITHDRAWN,
    S_FAMILIES
} s_family_t;

static const double s_task_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                        2.5, 5, 10, 30, 60, 120, 300, 600};
static const double s_redis_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                         0.01, 0.025, 0.05, 0.1, 0.25, 1};
#define S_N(a) (sizeof a / sizeof a[0])

static const toa_metric_family_t s_families[S_FAMILIES] = {
    [S_GENERATIONS] = {"toa_generations_total", "Generation answers applied, by model and "
                       "outcome (ok: responses received; else the failure class)",
                       TOA_METRIC_COUNTER, NULL, 0},
    [S_SCORES] = {"toa_scores_total", "Scoring answers applied, by reward backend, model of "
                  "the response and outcome", TOA_METRIC_COUNTER, NULL, 0},
    [S_TOKENS] = {"toa_generation_tokens_total", "Tokens of the responses received, by model "
                  "and type (prompt, completion)", TOA_METRIC_COUNTER, NULL, 0},
    [S_TASK_FAILURES] = {"toa_task_failures_total", "Task failures reported by workers and "
                         "scorers, by kind, model or backend, class and permanence",
                         TOA_METRIC_COUNTER, NULL, 0},
    [S_TASK_SECONDS] = {"toa_task_duration_seconds", "Time from sending a task to its "
                        "successful answer, by kind (generation, scoring) and model or backend",
                        TOA_METRIC_HISTOGRAM, s_task_buckets, S_N (s_task_buckets)},
    [S_UPSTREAM_ATTEMPTS] = {"toa_upstream_attempts_total", "HTTP attempts of workers "
                             "(models) and scorers (reward backends), by outcome, as they "
                             "report them", TOA_METRIC_COUNTER, NULL, 0},
    [S_UPSTREAM_RETRIES] = {"toa_upstream_retries_total", "HTTP attempts retried by workers "
                            "and scorers, by the outcome that caused the retry",
                            TOA_METRIC_COUNTER, NULL, 0},
    [S_UPSTREAM_IN_FLIGHT] = {"toa_upstream_in_flight", "HTTP requests in flight at workers "
                              "and scorers, as last reported", TOA_METRIC_GAUGE, NULL, 0},
    [S_REDIS_SECONDS] = {"toa_redis_round_trip_seconds", "Redis round trips (a pipelined "
                         "flush or a read)", TOA_METRIC_HISTOGRAM, s_redis_buckets,
                         S_N (s_redis_buckets)},
    [S_REDIS_ERRORS] = {"toa_redis_errors_total", "Redis flushes or reads that failed",
                        TOA_METRIC_COUNTER, NULL, 0},
    [S_REDIS_UP] = {"toa_redis_up", "1 when the broker's state mirrors Redis (dispatching), "
                    "0 while it reconnects", TOA_METRIC_GAUGE, NULL, 0},
    [S_JOBS] = {"toa_jobs", "Jobs the broker holds, by state", TOA_METRIC_GAUGE, NULL, 0},
    [S_PROMPTS_ACTIVE] = {"toa_prompts_active", "Prompts in search now", TOA_METRIC_GAUGE,
                          NULL, 0},
    [S_PROMPTS_QUEUED] = {"toa_prompts_queued", "Prompts of running jobs not admitted yet",
                          TOA_METRIC_GAUGE, NULL, 0},
    [S_TASKS_QUEUED] = {"toa_tasks_queued", "Tasks waiting for a peer, by kind and model or "
                        "backend", TOA_METRIC_GAUGE, NULL, 0},
    [S_TASKS_IN_FLIGHT] = {"toa_tasks_in_flight", "Tasks leased to a peer and not answered, "
                           "by kind and model or backend", TOA_METRIC_GAUGE, NULL, 0},
    [S_TASKS_BACKOFF] = {"toa_tasks_backoff", "Tasks waiting out a retry delay",
                         TOA_METRIC_GAUGE, NULL, 0},
    [S_PEERS] = {"toa_peers", "Connected workers and scorers", TOA_METRIC_GAUGE, NULL, 0},
    [S_PEER_CREDIT] = {"toa_peer_credit", "Credit a connected peer has now (what it announced, "
                       "capped by the config, halved while it stalls)", TOA_METRIC_GAUGE, NULL, 0},
    [S_PEER_HELD] = {"toa_peer_tasks_held", "Tasks a connected peer holds against its credit",
                     TOA_METRIC_GAUGE, NULL, 0},
    [S_MODEL_UP] = {"toa_model_up", "0 while a model is down (failing), else 1",
                    TOA_METRIC_GAUGE, NULL, 0},
    [S_RESULTS_WAITING] = {"toa_results_waiting", "Finished prompts whose result no client "
                           "has acknowledged yet", TOA_METRIC_GAUGE, NULL, 0},
    [S_RETRIES] = {"toa_task_retries_total", "Transient task failures the broker retried",
                   TOA_METRIC_COUNTER, NULL, 0},
    [S_FAILED] = {"toa_tasks_failed_total", "Tasks failed for good (recorded in the results)",
                  TOA_METRIC_COUNTER, NULL, 0},
    [S_LEASES_EXPIRED] = {"toa_leases_expired_total", "Leases that ran out without an answer",
                          TOA_METRIC_COUNTER, NULL, 0},
    [S_REQUEUED] = {"toa_tasks_requeued_total", "Tasks given to another peer (lease expiry, "
                    "peer lost)", TOA_METRIC_COUNTER, NULL, 0},
    [S_DROPPED] = {"toa_results_dropped_total", "Answers dropped (stale or unknown lease)",
                   TOA_METRIC_COUNTER, NULL, 0},
    [S_BAD_MESSAGES] = {"toa_bad_messages_total", "Undecodable or unexpected messages",
                        TOA_METRIC_COUNTER, NULL, 0},
    [S_PEERS_LOST] = {"toa_peers_lost_total", "Workers and scorers lost (silent, "
                      "disconnected, unreachable)", TOA_METRIC_COUNTER, NULL, 0},
    [S_PROMPTS_FINISHED] = {"toa_prompts_finished_total", "Prompts whose search finished",
                            TOA_METRIC_COUNTER, NULL, 0},
    [S_WITHDRAWN] = {"toa_plans_withdrawn_total", "TOA plans of a down model withdrawn",
                     TOA_METRIC_COUNTER, NULL, 0},
};

/* The latest in-flight figures of one peer. */
typedef struct {
    toa_peer_id_t id;
    char *target;
    int64_t value;
} s_in_flight_t;

typedef struct {
    toa_metrics_t *metrics;
    toa_exporter_t *exporter;
    s_in_flight_t *in_flight;
    size_t n_in_flight, in_flight_capacity;
} s_state_t;

static const char *
s_kind (toa_peer_kind_t kind)
{
    return kind == TOA_PEER_SCORER ? "scorer" : "worker";
}

/* True when TEXT contains WORD (ASCII, any case). */
static bool
s_contains (const char *text, const char *word)
{
    size_t n = strlen (word);
    for (; *text; text++)
        if (strncasecmp (text, word, n) == 0)
            return true;
    return false;
}

const char *
toa_observe_failure_class (int64_t http_status, const char *reason)
{
    if (http_status == 408)
        return "timeout";
    if (http_status == 429)
        return "429";
    if (http_status >= 500 && http_status < 600)
        return "5xx";
    if (http_status >= 400 && http_status < 500)
        return "4xx";
    if (http_status >= 200 && http_status < 300)
        return "malformed";
    const char *r = reason ? reason : "";
    static const char *const timeouts[] = {"timed out", "timeout"};
    static const char *const refusals[] = {"connect", "resolve", "refused", "empty reply",
                                           "recv failure", "send failure", "reset"};
    static const char *const local[] = {"shutting down", "out of memory", "not served"};
    for (size_t i = 0; i < S_N (local); i++)
        if (s_contains (r, local[i]))
            return "refused_by_peer";
    for (size_t i = 0; i < S_N (timeouts); i++)
        if (s_contains (r, timeouts[i]))
            return "timeout";
    for (size_t i = 0; i < S_N (refusals); i++)
        if (s_contains (r, refusals[i]))
            return "refused";
    if (s_contains (r, "malformed") || s_contains (r, "not a reply")
        || s_contains (r, "larger than"))
        return "malformed";
    return "other";
}

/* The model (generation) or backend (scoring) TASK is for, and for a
 * scoring task the model of the response it scores (else ""). */
static void
s_task_names (const toa_task_t *task, const char **route, const char **model)
{
    const toa_job_t *job = task->job;
    if (task->kind == TOA_TASK_GEN) {
        *route = job->settings->models[task->plan.model];
        *model = *route;
        return;
    }
    *route = job->settings->reward_backend;
    const toa_gen_record_t *record = toa_prompt_record (task->prompt, task->response);
    *model = record && record->model >= 0 ? job->settings->models[record->model] : "";
}

void
toa_observe_answer (toa_broker_t *b, const toa_task_t *task, const toa_msg_t *msg, int64_t now)
{
    s_state_t *state = b->observe;
    if (!state)
        return;
    toa_metrics_t *m = state->metrics;
    const char *route, *model;
    s_task_names (task, &route, &model);
    bool gen = task->kind == TOA_TASK_GEN;
    char labels[512];
    if (msg->type == TOA_MSG_TASK_FAILURE) {
        const toa_msg_task_failure_t *failure = &msg->u.task_failure;
        const char *class = toa_observe_failure_class (failure->http_status, failure->reason);
        bool permanent = failure->failure_class == TOA_FAILURE_PERMANENT;
        toa_metrics_add (m, S_TASK_FAILURES, toa_metrics_labels (
            labels, sizeof labels, "kind", gen ? "generation" : "scoring", "model", route,
            "class", class, "permanent", permanent ? "true" : "false", NULL), 1);
        if (gen)
            toa_metrics_add (m, S_GENERATIONS, toa_metrics_labels (
                labels, sizeof labels, "model", model, "outcome", class, NULL), 1);
        else
            toa_metrics_add (m, S_SCORES, toa_metrics_labels (
                labels, sizeof labels, "backend", route, "model", model, "outcome", class,
                NULL), 1);
        return;
    }
    double seconds = (double) (now - (task->deadline_ms - toa_tasks_lease_ms (b->tasks))) / 1e3;
    toa_metrics_observe (m, S_TASK_SECONDS, toa_metrics_labels (
        labels, sizeof labels, "kind", gen ? "generation" : "scoring", "model", route, NULL),
        seconds < 0 ? 0 : seconds);
    if (msg->type == TOA_MSG_GEN_RESULT && gen) {
        const toa_msg_gen_result_t *result = &msg->u.gen_result;
        int64_t wanted = task->plan.n > 0 ? task->plan.n : 1;
        int64_t made = (int64_t) result->n_outputs < wanted ? (int64_t) result->n_outputs
                                                             : wanted;
        int64_t prompt_tokens = 0, completion_tokens = 0;
        for (int64_t i = 0; i < made; i++) {
            prompt_tokens += result->outputs[i].prompt_tokens;
            completion_tokens += result->outputs[i].completion_tokens;
        }
        toa_metrics_add (m, S_GENERATIONS, toa_metrics_labels (
            labels, sizeof labels, "model", model, "outcome", "ok", NULL), (double) made);
        if (made < wanted)
            toa_metrics_add (m, S_GENERATIONS, toa_metrics_labels (
                labels, sizeof labels, "model", model, "outcome", "missing", NULL),
                (double) (wanted - made));
        toa_metrics_add (m, S_TOKENS, toa_metrics_labels (
            labels, sizeof labels, "model", model, "type", "prompt", NULL),
            (double) prompt_tokens);
        toa_metrics_add (m, S_TOKENS, toa_metrics_labels (
            labels, sizeof labels, "model", model, "type", "completion", NULL),
            (double) completion_tokens);
    }
    else if (msg->type == TOA_MSG_SCORE_RESULT && !gen)
        toa_metrics_add (m, S_SCORES, toa_metrics_labels (
            labels, sizeof labels, "backend", route, "model", model, "outcome", "ok", NULL),
            1);
}

static bool
s_same_id (const toa_peer_id_t *a, const toa_peer_id_t *b)
{
    return a->size == b->size && memcmp (a->data, b->data, a->size) == 0;
}

/* Keeps VALUE as peer ID's latest in-flight figure for TARGET. */
static void
s_keep_in_flight (s_state_t *state, const toa_peer_id_t *id, const char *target, int64_t value)
{
    for (size_t i = 0; i < state->n_in_flight; i++) {
        s_in_flight_t *item = &state->in_flight[i];
        if (s_same_id (&item->id, id) && strcmp (item->target, target) == 0) {
            item->value = value;
            return;
        }
    }
    if (state->n_in_flight == state->in_flight_capacity) {
        size_t capacity = state->in_flight_capacity ? state->in_flight_capacity * 2 : 16;
        s_in_flight_t *items = realloc (state->in_flight, capacity * sizeof *items);
        if (!items)
            return;
        state->in_flight = items;
        state->in_flight_capacity = capacity;
    }
    char *copy = strdup (target);
    if (!copy)
        return;
    state->in_flight[state->n_in_flight++] = (s_in_flight_t) {*id, copy, value};
}

void
toa_observe_report (toa_broker_t *b, int slot, const toa_msg_heartbeat_t *heartbeat)
{
    s_state_t *state = b->observe;
    const toa_broker_peer_t *peer = toa_peers_get (b->peers, slot);
    if (!state || !peer || heartbeat->n_stats == 0)
        return;
    const char *kind = s_kind (peer->kind);
    char labels[512];
    for (size_t i = 0; i < heartbeat->n_stats; i++) {
        const toa_peer_stat_t *stat = &heartbeat->stats[i];
        int family = strcmp (stat->name, "upstream_attempts") == 0 ? S_UPSTREAM_ATTEMPTS
                   : strcmp (stat->name, "upstream_retries") == 0 ? S_UPSTREAM_RETRIES
                   : strcmp (stat->name, "upstream_in_flight") == 0 ? S_UPSTREAM_IN_FLIGHT
                                                                  : -1;
        if (family == S_UPSTREAM_IN_FLIGHT)
            s_keep_in_flight (state, &peer->id, stat->target, stat->value);
        else if (family >= 0)
            toa_metrics_add (state->metrics, family, toa_metrics_labels (
                labels, sizeof labels, "kind", kind, "target", stat->target, "outcome",
                stat->outcome, NULL), (double) stat->value);
        /* other names: from a newer peer; ignored */
    }
}

static void
s_on_redis (void *arg, double seconds, bool ok)
{
    s_state_t *state = arg;
    toa_metrics_observe (state->metrics, S_REDIS_SECONDS, "", seconds);
    (void) ok;               /* failures are counted by the broker (store_failures) */
}

/* --- gauges read at scrape time ------------------------------------------- */

typedef struct {
    toa_broker_t *b;
    int64_t *leased;         /* per route */
    int64_t backoff;
} s_task_count_t;

static void
s_count_task (toa_task_t *task, void *arg)
{
    s_task_count_t *count = arg;
    if (task->state == TOA_TASK_LEASED && task->route >= 0
        && task->route < toa_router_routes (count->b->router))
        count->leased[task->route]++;
    else if (task->state == TOA_TASK_BACKOFF)
        count->backoff++;
}

static void
s_collect_jobs (toa_broker_t *b, toa_metrics_t *m)
{
    static const char *const states[] = {"queued", "running", "searched", "done",
                                         "cancelled"};
    char labels[128];
    for (size_t s = 0; s < S_N (states); s++)
        toa_metrics_set (m, S_JOBS, toa_metrics_labels (labels, sizeof labels, "state",
                                                        states[s], NULL), 0);
    int64_t queued = 0, waiting = 0;
    for (size_t i = 0; i < toa_jobs_count (b->jobs); i++) {
        const toa_job_t *job = toa_jobs_at (b->jobs, i);
        toa_metrics_add (m, S_JOBS, toa_metrics_labels (labels, sizeof labels, "state",
                                                        toa_job_state_name (job), NULL), 1);
        if (job->state == TOA_JOB_RUNNING)
            queued += job->total - job->admitted;
        if (job->state != TOA_JOB_CANCELLED && job->done > job->acked)
            waiting += job->done - job->acked;
    }
    toa_metrics_set (m, S_PROMPTS_ACTIVE, "", toa_jobs_active (b->jobs));
    toa_metrics_set (m, S_PROMPTS_QUEUED, "", (double) queued);
    toa_metrics_set (m, S_RESULTS_WAITING, "", (double) waiting);
}

static void
s_collect_tasks (toa_broker_t *b, toa_metrics_t *m, int64_t now)
{
    int routes = toa_router_routes (b->router);
    s_task_count_t count = {b, calloc ((size_t) (routes > 0 ? routes : 1), sizeof (int64_t)), 0};
    if (count.leased)
        toa_tasks_each (b->tasks, s_count_task, &count);
    char labels[512];
    for (int r = 0; r < routes; r++) {
        toa_peer_kind_t kind = toa_router_kind (b->router, r);
        const char *name = toa_router_name (b->router, r);
        toa_metrics_labels (labels, sizeof labels, "kind",
                            kind == TOA_PEER_WORKER ? "generation" : "scoring", "model", name,
                            NULL);
        toa_metrics_set (m, S_TASKS_QUEUED, labels, (double) toa_router_queued (b->router, r));
        toa_metrics_set (m, S_TASKS_IN_FLIGHT, labels, count.leased ? count.leased[r] : 0);
        if (kind == TOA_PEER_WORKER)
            toa_metrics_set (m, S_MODEL_UP, toa_metrics_labels (labels, sizeof labels, "model",
                                                                name, NULL),
                             toa_health_down (b->health, name, now) ? 0 : 1);
    }
    toa_metrics_set (m, S_TASKS_BACKOFF, "", (double) count.backoff);
    free (count.leased);
}

static void
s_collect_peers (toa_broker_t *b, s_state_t *state)
{
    toa_metrics_t *m = state->metrics;
    char labels[512];
    toa_metrics_set (m, S_PEERS, "kind=\"worker\"", 0);
    toa_metrics_set (m, S_PEERS, "kind=\"scorer\"", 0);
    for (int slot = 0; slot < toa_peers_slots (b->peers); slot++) {
        const toa_broker_peer_t *peer = toa_peers_get (b->peers, slot);
        if (!peer)
            continue;
        const char *kind = s_kind (peer->kind);
        toa_metrics_add (m, S_PEERS, toa_metrics_labels (labels, sizeof labels, "kind", kind,
                                                         NULL), 1);
        toa_metrics_labels (labels, sizeof labels, "kind", kind, "peer", peer->name, NULL);
        toa_metrics_set (m, S_PEER_CREDIT, labels, (double) peer->credit);
        toa_metrics_set (m, S_PEER_HELD, labels, (double) peer->held);
    }
    /* in flight upstream: the peers still connected, summed per target */
    size_t kept = 0;
    for (size_t i = 0; i < state->n_in_flight; i++) {
        s_in_flight_t *item = &state->in_flight[i];
        const toa_broker_peer_t *peer = toa_peers_get (b->peers,
                                                       toa_peers_find (b->peers, &item->id));
        if (!peer) {
            free (item->target);
            continue;
        }
        toa_metrics_add (m, S_UPSTREAM_IN_FLIGHT, toa_metrics_labels (
            labels, sizeof labels, "kind", s_kind (peer->kind), "target", item->target, NULL),
            (double) item->value);
        state->in_flight[kept++] = *item;
    }
    state->n_in_flight = kept;
}

static void
s_collect_stats (toa_broker_t *b, toa_metrics_t *m)
{
    const toa_broker_stats_t *s = &b->stats;
    const struct { int family; uint64_t value; } counters[] = {
        {S_REDIS_ERRORS, s->store_failures}, {S_RETRIES, s->retries},
        {S_FAILED, s->failed_tasks}, {S_LEASES_EXPIRED, s->lease_expired},
        {S_REQUEUED, s->requeued}, {S_DROPPED, s->dropped_results},
        {S_BAD_MESSAGES, s->bad_messages}, {S_PEERS_LOST, s->dead_peers},
        {S_PROMPTS_FINISHED, s->prompts_finished}, {S_WITHDRAWN, s->withdrawn},
    };
    for (size_t i = 0; i < S_N (counters); i++)
        toa_metrics_set (m, counters[i].family, "", (double) counters[i].value);
    toa_metrics_set (m, S_REDIS_UP, "", b->state_ok ? 1 : 0);
}

char *
toa_observe_render (toa_broker_t *b, size_t *length)
{
    s_state_t *state = b->observe;
    if (!state)
        return NULL;
    static const int gauges[] = {S_JOBS, S_TASKS_QUEUED, S_TASKS_IN_FLIGHT, S_PEERS,
                                 S_PEER_CREDIT, S_PEER_HELD, S_MODEL_UP, S_UPSTREAM_IN_FLIGHT};
    for (size_t i = 0; i < S_N (gauges); i++)
        toa_metrics_reset (state->metrics, gauges[i]);
    s_collect_jobs (b, state->metrics);
    s_collect_tasks (b, state->metrics, toa_now_ms ());
    s_collect_peers (b, state);
    s_collect_stats (b, state->metrics);
    return toa_metrics_render (state->metrics, length);
}

static char *
s_render (void *arg, size_t *length)
{
    return toa_observe_render (arg, length);
}

int
toa_observe_start (toa_broker_t *b, const char *listen, char *err, size_t err_size)
{
    s_state_t *state = calloc (1, sizeof *state);
    if (!state || !(state->metrics = toa_metrics_new (s_families, S_FAMILIES))) {
        free (state);
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    b->observe = state;
    if (listen && !(state->exporter = toa_exporter_new (listen, s_render, b, err, err_size))) {
        toa_observe_stop (b);
        return -1;
    }
    toa_store_set_observer (b->store, s_on_redis, state);
    if (state->exporter)
        toa_info ("metrics: http://%s/metrics (port %d)", listen,
                  toa_exporter_port (state->exporter));
    return 0;
}

void
toa_observe_stop (toa_broker_t *b)
{
    s_state_t *state = b->observe;
    if (!state)
        return;
    if (b->store)
        toa_store_set_observer (b->store, NULL, NULL);
    toa_exporter_destroy (&state->exporter);
    toa_metrics_destroy (&state->metrics);
    for (size_t i = 0; i < state->n_in_flight; i++)
        free (state->in_flight[i].target);
    free (state->in_flight);
    free (state);
    b->observe = NULL;
}

toa_exporter_t *
toa_observe_exporter (toa_broker_t *b)
{
    s_state_t *state = b->observe;
    return state ? state->exporter : NULL;
}
