/* search.c - prompts in search inside the event loop (see search.h). */
#include "broker/search.h"

#include "broker/clients.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/method/input.h"
#include "common/log.h"
#include "common/util.h"

#define S_ADMIT_BATCH 64
#define S_BACKOFF_FIRST_MS 100
#define S_BACKOFF_MAX_MS 5000
#define S_HEALTH_EVERY_MS 100
#define S_ADMIT_EVERY_MS 10      /* admission looks at the active prompts this often */
#define S_ADMIT_MIN_CREDIT 64    /* credit assumed while fewer workers are connected */
#define S_ADMIT_CHUNK 8          /* admit at least this many at once (one Redis read) */

/* --- tasks ----------------------------------------------------------------- */

static void
s_add_task (toa_broker_t *b, toa_job_t *job, toa_prompt_t *prompt, toa_task_kind_t kind,
            const toa_gen_plan_t *plan, int response)
{
    const char *route_name = kind == TOA_TASK_GEN ? job->settings->models[plan->model]
                                                  : job->settings->reward_backend;
    int route = toa_router_route (b->router, kind == TOA_TASK_GEN ? TOA_PEER_WORKER
                                                                  : TOA_PEER_SCORER,
                                  route_name);
    toa_task_t *task = route >= 0 ? toa_tasks_add (b->tasks, kind) : NULL;
    if (!task) {
        /* Out of memory: nothing sensible to do but say so; the prompt will
         * look stuck and be finished with what it has. */
        toa_error ("job %s prompt %" PRId64 ": out of memory creating a task", job->id,
                   toa_prompt_index (prompt));
        return;
    }
    task->job = job;
    task->prompt = prompt;
    task->route = route;
    if (plan)
        task->plan = *plan;
    task->response = response;
    /* The longest remaining chains go first (router.h). */
    int budget = job->settings->samples * (int) job->settings->n_models;
    task->priority = budget - (int) toa_prompt_n_records (prompt);
    toa_router_push (b->router, task);
}

/* Takes TASK out of its queue (if queued) and its peer's count, and out of
 * the table. */
static void
s_remove_task (toa_broker_t *b, toa_task_t *task)
{
    toa_router_unlink (b->router, task);
    toa_tasks_remove (b->tasks, task);
}

/* Removes TASK as s_remove_task does; a leased task leaves a charge on its
 * peer. */
static void
s_drop_task (toa_broker_t *b, toa_task_t *task, int64_t now)
{
    if (task->state == TOA_TASK_LEASED
        && toa_peers_keep_charge (b->peers, task->peer, task->id, task->attempt,
                                  now + 2 * toa_tasks_lease_ms (b->tasks)) != 0)
        toa_debug ("task %" PRIu64 ": its peer's credit is released now", task->id);
    s_remove_task (b, task);
}

/* --- model health ---------------------------------------------------------- */

/* Tells PROMPT which of JOB's models are up at NOW (before anything that
 * may make it plan). */
static void
s_sync (toa_broker_t *b, toa_job_t *job, toa_prompt_t *prompt, int64_t now)
{
    size_t n = job->settings->n_models;
    bool on_stack[64] = {false};
    bool *available = n <= 64 ? on_stack : calloc (n, sizeof *available);
    if (!available)
        return;              /* out of memory: the last mask stays */
    for (size_t m = 0; m < n; m++)
        available[m] = !toa_health_blocked (b->health, job->settings->models[m], now);
    toa_prompt_set_available (prompt, available);
    if (available != on_stack)
        free (available);
}

/* --- prompts --------------------------------------------------------------- */

static void s_finish (toa_broker_t *b, toa_job_t *job, toa_prompt_t *prompt, bool stuck);

/* --- budget ---------------------------------------------------------------- */

/* True when PROMPT spent its allowance without reaching stop_at_reward and
 * its job's budget is job-wide: it may get more from the job's spare (one
 * chunk at a time, up to max_per_prompt). */
static bool
s_wants_budget (const toa_job_t *job, const toa_prompt_t *prompt)
{
    const toa_job_settings_t *settings = job->settings;
    return settings->job_budget && job->state == TOA_JOB_RUNNING
           && toa_prompt_can_extend (prompt)
           && toa_prompt_allowance (prompt) + toa_prompt_chunk (prompt)
                  <= settings->max_per_prompt;
}

/* Generations PROMPT leaves of its allowance: the job's spare gets them. */
static int64_t
s_unspent (const toa_prompt_t *prompt)
{
    int64_t left = (int64_t) toa_prompt_allowance (prompt) - toa_prompt_used (prompt);
    return left > 0 ? left : 0;
}

/* Sorts and dedupes the persist list of WORK. */
static size_t
s_unique (int *items, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < kept && !seen; j++)
            seen = items[j] == items[i];
        if (!seen)
            items[kept++] = items[i];
    }
    return kept;
}

/* Turns the work of PROMPT into Redis writes and tasks, then finishes the
 * prompt when it is done. PROMPT may be destroyed on return. */
static void
s_process (toa_broker_t *b, toa_job_t *job, toa_prompt_t *prompt)
{
    toa_prompt_work_t *work = &b->work;
    size_t n_persist = s_unique (work->persist, work->n_persist);
    if (n_persist > 0) {
        /* A record's text is written once; its settling later writes s:<g>. */
        char **texts = calloc (n_persist, sizeof *texts);
        bool *settle = calloc (n_persist, sizeof *settle);
        size_t count = 0;
        for (size_t i = 0; texts && settle && i < n_persist; i++) {
            texts[count] = toa_prompt_record_update (prompt, work->persist[i], &settle[count]);
            if (texts[count])
                work->persist[count++] = work->persist[i];
        }
        if (count != n_persist)
            toa_error ("job %s prompt %" PRId64 ": out of memory encoding records", job->id,
                       toa_prompt_index (prompt));
        toa_store_records (b->store, job->id, toa_prompt_index (prompt),
                           (int64_t) toa_prompt_n_records (prompt), work->persist, settle,
                           texts, count);
        toa_store_strings_free (texts, count);
        free (settle);
    }
    for (size_t i = 0; i < work->n_score; i++)
        s_add_task (b, job, prompt, TOA_TASK_SCORE, NULL, work->score[i]);
    for (size_t i = 0; i < work->n_plans; i++)
        s_add_task (b, job, prompt, TOA_TASK_GEN, &work->plans[i], -1);
    toa_prompt_work_reset (work);
    bool stuck;
    if (!toa_prompt_finished (prompt, &stuck))
        return;
    if (s_wants_budget (job, prompt)) {
        b->budget_due = true;   /* toa_search_budget_tick gives it more, or finishes it */
        return;
    }
    s_finish (b, job, prompt, stuck);
}

/* A result line for a prompt that could not be searched at all. */
static char *
s_broken_line (const char *line, const char *method, const char *reason)
{
    json_t *object = line ? json_loads (line, 0, NULL) : NULL;
    if (!json_is_object (object)) {
        json_decref (object);
        object = json_object ();
    }
    json_object_set_new (object, "responses", json_array ());
    json_object_set_new (object, "actions", json_array ());
    json_object_set_new (object, "rewards", json_array ());
    json_object_set_new (object, "failures",
                         json_pack ("[{s:n, s:n, s:s, s:s}]", "index", "model", "stage",
                                    "prompt", "reason", reason));
    json_object_set_new (object, "best_response", json_null ());
    json_object_set_new (object, "best_model", json_null ());
    json_object_set_new (object, "best_reward", json_null ());
    json_object_set_new (object, "method", json_string (method));
    char *text = json_dumps (object, JSON_COMPACT);
    json_decref (object);
    return text;
}

/* Writes result LINE of prompt INDEX and counts the prompt done; SPARE
 * generations it did not spend go to the job's spare. */
static void
s_store_result (toa_broker_t *b, toa_job_t *job, int64_t index, const char *line,
                int64_t spare)
{
    int64_t seq = job->next_seq++;
    job->done++;
    job->spare += spare;
    toa_store_finish (b->store, job->id, index, seq, line ? line : "{}", job->done, spare);
    /* Sent from memory (after the flush) rather than read back from Redis. */
    if (job->attached && line && seq < job->acked + TOA_JOB_RECENT) {
        char *copy = strdup (line);
        if (copy)
            toa_job_keep_result (job, seq, copy);
    }
    job->progress_due = true;
    b->stats.prompts_finished++;
    if (job->done >= job->total && job->state == TOA_JOB_RUNNING) {
        job->state = TOA_JOB_SEARCHED;
        toa_store_job_state (b->store, job->id, "searched");
        toa_info ("job %s: all %" PRId64 " prompts finished (%" PRId64 " generations, %"
                  PRId64 " of the budget unspent)", job->id, job->total, job->generations,
                  job->spare);
    }
}

static void
s_finish (toa_broker_t *b, toa_job_t *job, toa_prompt_t *prompt, bool stuck)
{
    int64_t index = toa_prompt_index (prompt);
    if (stuck)
        toa_error ("job %s prompt %" PRId64 ": the %s policy stopped before its budget; "
                   "finishing with %zu responses", job->id, index, job->method,
                   toa_prompt_n_records (prompt));
    char *line = toa_prompt_result_line (prompt);
    if (!line)
        toa_error ("job %s prompt %" PRId64 ": out of memory building its result", job->id,
                   index);
    s_store_result (b, job, index, line, s_unspent (prompt));
    free (line);
    toa_job_remove_prompt (b->jobs, job, prompt);
}

/* Prompt INDEX of JOB cannot be searched: it gets a result that says why.
 * UNSPENT: generations of its budget it gives back (its share when it never
 * started; 0 when it was reloaded, as it may have spent some). */
static void
s_finish_broken (toa_broker_t *b, toa_job_t *job, int64_t index, const char *line,
                 const char *reason, int64_t unspent)
{
    toa_error ("job %s prompt %" PRId64 ": %s", job->id, index, reason);
    char *result = s_broken_line (line, job->method, reason);
    s_store_result (b, job, index, result, unspent);
    free (result);
}

/* Creates prompt INDEX from LINE, adds it to JOB and starts it (or replays
 * RECORDS and their SETTLES parts when N_RECORDS > 0, with the ALLOWANCE it
 * was given, 0: its share). */
static void
s_start_prompt (toa_broker_t *b, toa_job_t *job, int64_t index, const char *line,
                bool planned, char **records, char **settles, size_t n_records,
                int64_t allowance)
{
    char err[256];
    toa_prompt_t *prompt = line ? toa_prompt_new (job->settings, index, line, err, sizeof err)
                                : NULL;
    if (!line)
        snprintf (err, sizeof err, "its input line is missing from Redis");
    if (!prompt || toa_job_add_prompt (b->jobs, job, prompt, planned) != 0) {
        if (prompt)
            snprintf (err, sizeof err, "out of memory");
        toa_prompt_destroy (&prompt);
        if (planned)
            toa_jobs_unadmit (b->jobs);
        s_finish_broken (b, job, index, line, err, planned ? job->settings->budget : 0);
        return;
    }
    toa_prompt_work_reset (&b->work);
    s_sync (b, job, prompt, toa_now_ms ());
    if (n_records > 0
        && toa_prompt_replay_split (prompt, (const char *const *) records,
                                    (const char *const *) settles, n_records,
                                    allowance > 0 && allowance <= job->settings->max_per_prompt
                                        ? (int) allowance : 0,
                                    &b->work, err, sizeof err) != 0) {
        /* Records this policy cannot replay: start the prompt afresh. */
        toa_error ("job %s prompt %" PRId64 ": cannot replay its records (%s); restarting it",
                   job->id, index, err);
        toa_job_remove_prompt (b->jobs, job, prompt);
        toa_store_records_reset (b->store, job->id, index);
        s_start_prompt (b, job, index, line, false, NULL, NULL, 0, 0);
        return;
    }
    if (n_records == 0 && toa_prompt_start (prompt, &b->work) != 0)
        toa_error ("job %s prompt %" PRId64 ": out of memory starting it", job->id, index);
    s_process (b, job, prompt);
}

/* How many prompts to admit now. Admission is by work, not by count: the
 * active prompts' remaining generations are kept at or above the workers'
 * credit x the longest chain (generations per prompt) of the jobs that
 * wait, so the slots stay full until a prompt admitted now has run its
 * whole chain; new prompts enter as the work drains, not in waves, and
 * their tasks go first (router priority), so a batch's last prompts do not
 * run alone at its end. broker.max_active_prompts, when set, caps the count
 * (toa_jobs_plan_admission). See docs/scaling.md. */
static size_t
s_admit_room (toa_broker_t *b, int64_t now)
{
    if (now < b->next_admit_ms)
        return 0;
    b->next_admit_ms = now + S_ADMIT_EVERY_MS;
    int64_t credit = 0, chain = 0, remaining = 0, waiting = 0;
    for (int slot = 0; slot < toa_peers_slots (b->peers); slot++) {
        const toa_broker_peer_t *peer = toa_peers_get (b->peers, slot);
        if (peer && peer->kind == TOA_PEER_WORKER && !toa_broker_peer_is_dead (peer, now))
            credit += peer->credit;
    }
    if (credit < S_ADMIT_MIN_CREDIT)
        credit = S_ADMIT_MIN_CREDIT;
    for (size_t j = 0; j < toa_jobs_count (b->jobs); j++) {
        const toa_job_t *job = toa_jobs_at (b->jobs, j);
        int64_t budget = (int64_t) job->settings->samples * (int64_t) job->settings->n_models;
        if (job->state == TOA_JOB_RUNNING && job->admitted < job->total) {
            waiting += job->total - job->admitted;
            chain = budget > chain ? budget : chain;
        }
        for (size_t i = 0; i < job->n_active; i++) {
            int64_t left = budget - (int64_t) toa_prompt_n_records (job->active[i]);
            remaining += left > 0 ? left : 0;
        }
    }
    if (waiting == 0 || chain <= 0)
        return 0;
    int64_t room = (credit * chain - remaining + chain - 1) / chain;
    /* Each admission reads its input lines from Redis: a few at a time. */
    if (room < S_ADMIT_CHUNK && room < waiting)
        return 0;
    return room > S_ADMIT_BATCH ? S_ADMIT_BATCH : (size_t) room;
}

int
toa_search_admit (toa_broker_t *b)
{
    toa_admission_t plan[S_ADMIT_BATCH];
    size_t room = s_admit_room (b, toa_now_ms ());
    size_t n = room ? toa_jobs_plan_admission (b->jobs, plan, room) : 0;
    int64_t indexes[S_ADMIT_BATCH];
    bool handled[S_ADMIT_BATCH] = {false};
    for (size_t i = 0; i < n; i++) {
        if (handled[i])
            continue;
        toa_job_t *job = plan[i].job;
        size_t count = 0;
        for (size_t k = i; k < n; k++)
            if (plan[k].job == job)
                indexes[count++] = plan[k].index;
        char **lines = NULL;
        if (toa_store_lines (b->store, job->id, indexes, count, &lines) != 0) {
            for (size_t k = i; k < n; k++)
                toa_jobs_unadmit (b->jobs);
            return -1;
        }
        size_t at = 0;
        for (size_t k = i; k < n; k++)
            if (plan[k].job == job) {
                handled[k] = true;
                toa_store_admit (b->store, job->id, plan[k].index, plan[k].index + 1);
                s_start_prompt (b, job, plan[k].index, lines[at++], true, NULL, NULL, 0, 0);
            }
        toa_store_strings_free (lines, count);
    }
    return (int) n;
}

/* --- results --------------------------------------------------------------- */

void
toa_search_generated (toa_broker_t *b, toa_task_t *task, const toa_msg_gen_result_t *msg)
{
    toa_job_t *job = task->job;
    toa_prompt_t *prompt = task->prompt;
    toa_gen_plan_t plan = task->plan;
    toa_tasks_applied (b->tasks, task);
    s_remove_task (b, task);
    const char *model = job->settings->models[plan.model];
    if (toa_health_success (b->health, model) == TOA_HEALTH_CAME_UP)
        toa_info ("model %s is up again", model);
    s_sync (b, job, prompt, toa_now_ms ());
    int wanted = plan.n > 0 ? plan.n : 1;
    int64_t made = msg->n_outputs < (size_t) wanted ? (int64_t) msg->n_outputs : wanted;
    job->generations += made;
    toa_store_job_add (b->store, job->id, "generations", made);
    if (made < wanted) {
        job->failed += wanted - made;
        toa_store_job_add (b->store, job->id, "failed", wanted - made);
    }
    if (toa_prompt_generated (prompt, &plan, msg->outputs, msg->n_outputs, &b->work) != 0)
        toa_error ("job %s prompt %" PRId64 ": could not record a generation", job->id,
                   toa_prompt_index (prompt));
    s_process (b, job, prompt);
}

void
toa_search_scored (toa_broker_t *b, toa_task_t *task, double reward)
{
    toa_job_t *job = task->job;
    toa_prompt_t *prompt = task->prompt;
    int g = task->response;
    toa_tasks_applied (b->tasks, task);
    s_remove_task (b, task);
    s_sync (b, job, prompt, toa_now_ms ());
    if (toa_prompt_scored (prompt, g, reward, &b->work) != 0)
        toa_error ("job %s prompt %" PRId64 ": could not apply the reward of response %d",
                   job->id, toa_prompt_index (prompt), g);
    s_process (b, job, prompt);
}

/* TASK failed for good: recorded in its prompt, counted in its job. */
static void
s_fail_for_good (toa_broker_t *b, toa_task_t *task, const char *reason)
{
    toa_job_t *job = task->job;
    toa_prompt_t *prompt = task->prompt;
    toa_gen_plan_t plan = task->plan;
    int g = task->response;
    toa_task_kind_t kind = task->kind;
    s_remove_task (b, task);
    b->stats.failed_tasks++;
    int count = kind == TOA_TASK_GEN ? (plan.n > 0 ? plan.n : 1) : 1;
    job->failed += count;
    toa_store_job_add (b->store, job->id, "failed", count);
    toa_warn ("job %s prompt %" PRId64 ": %s task failed: %s", job->id,
              toa_prompt_index (prompt), kind == TOA_TASK_GEN ? "generation" : "scoring",
              reason);
    s_sync (b, job, prompt, toa_now_ms ());
    int rc = kind == TOA_TASK_GEN
                 ? toa_prompt_generation_failed (prompt, &plan, reason, &b->work)
                 : toa_prompt_scoring_failed (prompt, g, reason, &b->work);
    if (rc != 0)
        toa_error ("job %s prompt %" PRId64 ": could not record a failure", job->id,
                   toa_prompt_index (prompt));
    s_process (b, job, prompt);
}

/* Withdraws generation TASK (not leased, or its lease answered) when its
 * method can pick another model: no record, no budget; the prompt plans
 * again among the models that are up. Returns true when withdrawn. */
static bool
s_withdraw (toa_broker_t *b, toa_task_t *task, int64_t now)
{
    toa_job_t *job = task->job;
    toa_prompt_t *prompt = task->prompt;
    if (task->kind != TOA_TASK_GEN || !toa_prompt_can_withdraw (prompt))
        return false;
    toa_gen_plan_t plan = task->plan;
    s_remove_task (b, task);
    b->stats.withdrawn++;
    toa_debug ("job %s prompt %" PRId64 ": a generation of %s is withdrawn (model down)",
               job->id, toa_prompt_index (prompt), job->settings->models[plan.model]);
    s_sync (b, job, prompt, now);
    if (toa_prompt_withdraw (prompt, &plan, &b->work) != 0)
        toa_error ("job %s prompt %" PRId64 ": could not withdraw a generation", job->id,
                   toa_prompt_index (prompt));
    s_process (b, job, prompt);
    return true;
}

/* Tasks gathered from the task table (it may not change while it is walked),
 * with the filter of the walk that gathers them. */
typedef struct {
    toa_task_t **items;
    size_t count, capacity;
    const char *model;       /* s_collect_waiting: this model only (NULL: any) */
    const toa_job_t *job;    /* s_collect: this job only (NULL: every task) */
} s_task_list_t;

/* Appends TASK to LIST (dropped when out of memory: the caller's next pass
 * sees it again). */
static void
s_task_list_push (s_task_list_t *list, toa_task_t *task)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 64;
        toa_task_t **items = realloc (list->items, capacity * sizeof *items);
        if (!items)
            return;
        list->items = items;
        list->capacity = capacity;
    }
    list->items[list->count++] = task;
}

static void
s_collect_waiting (toa_task_t *task, void *arg)
{
    s_task_list_t *list = arg;
    if (task->kind != TOA_TASK_GEN || task->state == TOA_TASK_LEASED)
        return;
    const toa_job_t *job = task->job;
    if (list->model && strcmp (job->settings->models[task->plan.model], list->model) != 0)
        return;
    s_task_list_push (list, task);
}

/* Writes "HH:MM:SSZ" of monotonic time AT (UTC) into BUFFER. */
static const char *
s_clock_text (int64_t at, int64_t now, char *buffer, size_t size)
{
    time_t wall = (time_t) ((toa_wall_ms () + (at - now)) / 1000);
    struct tm tm;
    if (!gmtime_r (&wall, &tm) || strftime (buffer, size, "%H:%M:%SZ", &tm) == 0)
        snprintf (buffer, size, "?");
    return buffer;
}

/* MODEL just went down: its generation tasks not yet sent are withdrawn
 * where the method can pick another model (the others wait). */
static void
s_model_down (toa_broker_t *b, const char *model, int64_t now)
{
    const toa_health_model_t *state = toa_health_get (b->health, model);
    char at[32];
    toa_warn ("model %s is down (%d failures in a row); no tasks for it until %s "
              "(%" PRId64 " s)", model, state->failures,
              s_clock_text (state->retry_at_ms, now, at, sizeof at),
              state->period_ms / 1000);
    s_task_list_t list = {.model = model};
    toa_tasks_each (b->tasks, s_collect_waiting, &list);
    for (size_t i = 0; i < list.count; i++)
        s_withdraw (b, list.items[i], now);
    free (list.items);
}

void
toa_search_failed (toa_broker_t *b, toa_task_t *task, bool permanent, const char *reason,
                   int64_t http_status, int64_t now)
{
    /* A worker's own refusals (draining, out of memory) carry no HTTP status
     * either, but say nothing about the model: the protocol has no field for
     * that, so they are told apart by their reason. */
    bool local = reason && http_status == 0
                 && (strcmp (reason, "shutting down") == 0
                     || strncmp (reason, "out of memory", 13) == 0);
    if (task->kind == TOA_TASK_GEN) {
        const toa_job_t *job = task->job;
        const char *model = job->settings->models[task->plan.model];
        if (local || !toa_health_counts (permanent, http_status))
            toa_health_probe_over (b->health, model);
        else {
            if (toa_health_failure (b->health, model, now) == TOA_HEALTH_WENT_DOWN)
                s_model_down (b, model, now);
            if (!permanent && toa_health_down (b->health, model, now)
                && s_withdraw (b, task, now))
                return;
        }
    }
    task->retries++;
    if (permanent || task->retries >= b->options.max_attempts) {
        char why[512];
        snprintf (why, sizeof why, "%s%s", reason ? reason : "failed",
                  permanent ? "" : " (retries exhausted)");
        s_fail_for_good (b, task, why);
        return;
    }
    b->stats.retries++;
    int64_t delay = (int64_t) S_BACKOFF_FIRST_MS << (task->retries - 1 < 6 ? task->retries - 1 : 6);
    toa_router_unlink (b->router, task);
    task->state = TOA_TASK_BACKOFF;
    task->peer = -1;
    task->ready_ms = now + (delay < S_BACKOFF_MAX_MS ? delay : S_BACKOFF_MAX_MS);
}

void
toa_search_expired (toa_broker_t *b, toa_task_t *task, int64_t now)
{
    b->stats.lease_expired++;
    toa_peers_keep_charge (b->peers, task->peer, task->id, task->attempt,
                           now + 2 * toa_tasks_lease_ms (b->tasks));
    if (task->kind == TOA_TASK_GEN) {
        /* No answer within the lease counts against the model (a server
         * that hangs, or a worker holding its requests for it). */
        const toa_job_t *job = task->job;
        const char *model = job->settings->models[task->plan.model];
        if (toa_health_failure (b->health, model, now) == TOA_HEALTH_WENT_DOWN)
            s_model_down (b, model, now);
        if (toa_health_down (b->health, model, now) && s_withdraw (b, task, now))
            return;
    }
    task->retries++;
    if (task->retries >= b->options.max_attempts) {
        char why[128];
        snprintf (why, sizeof why, "no answer within the task timeout (%d attempts)",
                  task->retries);
        s_fail_for_good (b, task, why);
        return;
    }
    b->stats.requeued++;
    toa_router_push_front (b->router, task);
}

void
toa_search_requeue (toa_broker_t *b, toa_task_t *task)
{
    b->stats.requeued++;
    task->retries++;
    if (task->retries >= b->options.max_attempts) {
        s_fail_for_good (b, task, "its workers kept disappearing");
        return;
    }
    toa_router_push_front (b->router, task);
}

/* --- jobs ------------------------------------------------------------------ */

static void
s_collect (toa_task_t *task, void *arg)
{
    s_task_list_t *list = arg;
    if (list->job && task->job != list->job)
        return;
    s_task_list_push (list, task);
}

/* Drops every task of JOB (NULL: of every job). */
static void
s_drop_tasks (toa_broker_t *b, const toa_job_t *job, int64_t now)
{
    s_task_list_t list = {.job = job};
    toa_tasks_each (b->tasks, s_collect, &list);
    for (size_t i = 0; i < list.count; i++)
        s_drop_task (b, list.items[i], now);
    free (list.items);
}

static void
s_delete_job (toa_broker_t *b, toa_job_t *job)
{
    int64_t *active = calloc (job->n_active + 1, sizeof *active);
    size_t n = 0;
    for (size_t i = 0; active && i < job->n_active; i++)
        active[n++] = toa_prompt_index (job->active[i]);
    toa_store_job_delete (b->store, job->id, active, n);
    free (active);
    toa_jobs_remove (b->jobs, job);
}

void
toa_search_cancel (toa_broker_t *b, toa_job_t *job, int64_t now)
{
    toa_info ("job %s: cancelled (%" PRId64 " of %" PRId64 " prompts done)", job->id, job->done,
              job->total);
    s_drop_tasks (b, job, now);
    s_delete_job (b, job);
}

void
toa_search_forget (toa_broker_t *b, toa_job_t *job)
{
    toa_info ("job %s: done, all %" PRId64 " results acknowledged; retired", job->id,
              job->total);
    toa_store_job_retire (b->store, job->id, TOA_SEARCH_RETIRED_KEEP_S);
    toa_jobs_remove (b->jobs, job);
}

void
toa_search_drop_state (toa_broker_t *b, int64_t now)
{
    /* Attachments of an earlier drop stay until a rebuild has used them. */
    size_t n_jobs = toa_jobs_count (b->jobs);
    toa_broker_attachment_t *saved = n_jobs ? realloc (b->saved, (b->n_saved + n_jobs)
                                                                     * sizeof *saved)
                                            : NULL;
    if (saved) {
        b->saved = saved;
        for (size_t i = 0; i < n_jobs; i++) {
            toa_job_t *job = toa_jobs_at (b->jobs, i);
            if (!job->attached)
                continue;
            snprintf (saved[b->n_saved].job, sizeof saved[b->n_saved].job, "%s", job->id);
            saved[b->n_saved++].client = job->client;
        }
    }
    s_drop_tasks (b, NULL, now);
    toa_jobs_clear (b->jobs);
    b->n_deferred = 0;
}

/* --- rebuild from Redis ---------------------------------------------------- */

static void
s_restore_attachment (toa_broker_t *b, toa_job_t *job)
{
    for (size_t i = 0; i < b->n_saved; i++)
        if (strcmp (b->saved[i].job, job->id) == 0) {
            job->attached = true;
            job->client = b->saved[i].client;
        }
}

/* Loads the active prompts of JOB and replays them. */
static int
s_reload_prompts (toa_broker_t *b, toa_job_t *job)
{
    int64_t *active = NULL;
    size_t n = 0;
    char **lines = NULL;
    if (toa_store_active (b->store, job->id, &active, &n) != 0
        || toa_store_lines (b->store, job->id, active, n, &lines) != 0) {
        free (active);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char **records = NULL, **settles = NULL;
        size_t n_records = 0;
        int64_t allowance = 0;
        if (toa_store_records_load (b->store, job->id, active[i], &records, &settles,
                                    &n_records) != 0
            || (job->settings->job_budget
                && toa_store_allowance (b->store, job->id, active[i], &allowance) != 0)) {
            toa_store_strings_free (records, n_records);
            toa_store_strings_free (settles, n_records);
            rc = -1;
            break;
        }
        s_start_prompt (b, job, active[i], lines[i], false, records, settles, n_records,
                        allowance);
        toa_store_strings_free (records, n_records);
        toa_store_strings_free (settles, n_records);
    }
    toa_store_strings_free (lines, n);
    free (active);
    return rc;
}

/* Loads job ID. Returns 0 (loaded or skipped) or -1 (Redis failed). */
static int
s_reload_job (toa_broker_t *b, const char *id)
{
    toa_store_job_t stored;
    int rc = toa_store_job_load (b->store, id, &stored);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        toa_warn ("job %s: listed in toa:jobs but its hash is missing; removing it", id);
        toa_store_job_delete (b->store, id, NULL, 0);
        return 0;
    }
    if (strcmp (stored.state, "loading") == 0 && toa_clients_submitting (b, id)) {
        toa_store_job_clear (&stored);
        return 0;            /* being submitted: clients.c owns it */
    }
    if (strcmp (stored.state, "cancelled") == 0 || strcmp (stored.state, "loading") == 0) {
        /* cancelled, or a submission cut off by a restart: nothing to keep */
        toa_store_job_delete (b->store, id, NULL, 0);
        toa_store_job_clear (&stored);
        return 0;
    }
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_job_settings_t *settings = toa_job_settings_parse (stored.settings, stored.method,
                                                           &errors);
    if (!settings) {
        toa_error ("job %s: its stored settings are invalid (%s); leaving it alone", id,
                   errors.count ? errors.messages[0] : "?");
        toa_errors_clear (&errors);
        toa_store_job_clear (&stored);
        return 0;
    }
    toa_job_t *job = toa_jobs_add (b->jobs, id, stored.method, stored.settings, settings);
    if (!job) {
        toa_store_job_clear (&stored);
        return -1;
    }
    job->total = stored.total;
    job->created_ms = stored.created_ms;
    job->admitted = stored.admitted;
    job->done = stored.done;
    job->next_seq = stored.next_seq;
    job->acked = stored.acked;
    job->sent = stored.acked;
    job->generations = stored.generations;
    job->failed = stored.failed;
    job->spare = stored.spare;
    snprintf (job->owner, sizeof job->owner, "%s", stored.owner ? stored.owner : "");
    /* "done" in toa:jobs: a job searched by a broker of before "searched" */
    job->state = strcmp (stored.state, "searched") == 0 || strcmp (stored.state, "done") == 0
                     ? TOA_JOB_SEARCHED : TOA_JOB_RUNNING;
    toa_store_job_clear (&stored);
    s_restore_attachment (b, job);
    if (job->state == TOA_JOB_SEARCHED && job->acked >= job->total)
        return 0;            /* retired by toa_clients_tick */
    rc = s_reload_prompts (b, job);
    if (rc == 0)
        toa_info ("job %s: reloaded (%" PRId64 " of %" PRId64 " done, %zu in search)",
                  job->id, job->done, job->total, job->n_active);
    return rc;
}

int
toa_search_reload (toa_broker_t *b)
{
    char **ids = NULL;
    size_t n = 0;
    if (toa_store_job_ids (b->store, &ids, &n) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (ids[i])
            rc = s_reload_job (b, ids[i]);
    toa_store_strings_free (ids, n);
    if (rc == 0) {
        free (b->saved);
        b->saved = NULL;
        b->n_saved = 0;
    }
    return rc;
}

/* --- job-wide budget ------------------------------------------------------- */

typedef struct {
    toa_prompt_t *prompt;
    double gain;
} s_wanting_t;

/* Higher gain first; then the lower prompt index (a stable order). */
static int
s_compare_wanting (const void *a, const void *b)
{
    const s_wanting_t *x = a, *y = b;
    if (x->gain != y->gain)
        return x->gain < y->gain ? 1 : -1;
    int64_t i = toa_prompt_index (x->prompt), j = toa_prompt_index (y->prompt);
    return (i > j) - (i < j);
}

/* The prompts of JOB that spent their allowance unsolved: each gets one
 * chunk from the job's spare, in order of expected gain, while the spare
 * lasts; the others finish now (a simple rule: a prompt never waits for
 * spare that may come later). */
static void
s_budget_job (toa_broker_t *b, toa_job_t *job, int64_t now)
{
    size_t n = 0;
    s_wanting_t *wanting = calloc (job->n_active + 1, sizeof *wanting);
    if (!wanting)
        return;
    for (size_t i = 0; i < job->n_active; i++)
        if (toa_prompt_finished (job->active[i], NULL) && s_wants_budget (job, job->active[i])) {
            wanting[n].prompt = job->active[i];
            wanting[n++].gain = toa_prompt_gain (job->active[i]);
        }
    qsort (wanting, n, sizeof *wanting, s_compare_wanting);
    for (size_t i = 0; i < n; i++) {
        toa_prompt_t *prompt = wanting[i].prompt;
        int chunk = toa_prompt_chunk (prompt);
        int allowance = toa_prompt_allowance (prompt);
        if (job->spare < chunk) {
            s_finish (b, job, prompt, false);
            continue;
        }
        job->spare -= chunk;
        toa_store_grant (b->store, job->id, toa_prompt_index (prompt), chunk, allowance + chunk);
        toa_prompt_work_reset (&b->work);
        s_sync (b, job, prompt, now);
        if (toa_prompt_extend (prompt, chunk, &b->work) != 0)
            toa_error ("job %s prompt %" PRId64 ": could not extend its budget", job->id,
                       toa_prompt_index (prompt));
        s_process (b, job, prompt);
    }
    free (wanting);
}

void
toa_search_budget_tick (toa_broker_t *b, int64_t now)
{
    if (!b->budget_due)
        return;
    b->budget_due = false;
    for (size_t j = 0; j < toa_jobs_count (b->jobs); j++) {
        toa_job_t *job = toa_jobs_at (b->jobs, j);
        if (job->settings->job_budget && job->state == TOA_JOB_RUNNING && job->n_active > 0)
            s_budget_job (b, job, now);
    }
}

/* --- model health over time ------------------------------------------------ */

/* Prompts waiting for a model plan again (a down period ended). */
static void
s_kick_waiting (toa_broker_t *b, int64_t now)
{
    for (size_t j = 0; j < toa_jobs_count (b->jobs); j++) {
        toa_job_t *job = toa_jobs_at (b->jobs, j);
        if (job->state != TOA_JOB_RUNNING || job->n_active == 0)
            continue;
        toa_prompt_t **prompts = malloc (job->n_active * sizeof *prompts);
        if (!prompts)
            continue;
        size_t n = job->n_active;
        memcpy (prompts, job->active, n * sizeof *prompts);
        for (size_t i = 0; i < n; i++) {
            if (!toa_prompt_waiting (prompts[i]))
                continue;
            s_sync (b, job, prompts[i], now);
            toa_prompt_work_reset (&b->work);
            if (toa_prompt_kick (prompts[i], &b->work) != 0)
                toa_error ("job %s prompt %" PRId64 ": out of memory planning", job->id,
                           toa_prompt_index (prompts[i]));
            s_process (b, job, prompts[i]);
        }
        free (prompts);
    }
}

void
toa_search_health_tick (toa_broker_t *b, int64_t now)
{
    if (now < b->next_health_ms)
        return;
    b->next_health_ms = now + S_HEALTH_EVERY_MS;
    const char *names[16];
    size_t ended = toa_health_poll (b->health, now, names, 16);
    for (size_t i = 0; i < ended && i < 16; i++)
        toa_info ("model %s: its down period is over; trying it again", names[i]);
    /* A model may have become available (a down period over, a probe
     * answered, a success): prompts that wait for one plan again. */
    s_kick_waiting (b, now);
    if (!toa_health_any_out (b->health))
        return;
    /* Tasks waiting for a model that is down (e.g. a lease that expired
     * after it went down): TOA's are withdrawn now; those that cannot go to
     * another model fail for good once it has been down long enough, so that
     * their prompts finish. */
    s_task_list_t list = {.model = NULL};
    toa_tasks_each (b->tasks, s_collect_waiting, &list);
    for (size_t i = 0; i < list.count; i++) {
        toa_task_t *task = list.items[i];
        const toa_job_t *job = task->job;
        const char *model = job->settings->models[task->plan.model];
        const toa_health_model_t *state = toa_health_get (b->health, model);
        if (!toa_health_down (b->health, model, now) || s_withdraw (b, task, now)
            || now - state->down_since_ms < b->options.model_down_fail_ms)
            continue;
        char why[256];
        snprintf (why, sizeof why, "model %s is down (%d failures in a row, down for "
                  "%" PRId64 " s)", model, state->failures,
                  (now - state->down_since_ms) / 1000);
        s_fail_for_good (b, task, why);
    }
    free (list.items);
}

/* --- status ---------------------------------------------------------------- */

const char *
toa_search_waiting (toa_broker_t *b, toa_job_t *job, int64_t now, char *buffer, size_t size)
{
    size_t used = 0;
    buffer[0] = '\0';
    if (!b->state_ok) {
        snprintf (buffer, size, "redis unavailable");
        return buffer;
    }
    if (job->state != TOA_JOB_RUNNING)
        return buffer;
    for (size_t m = 0; m <= job->settings->n_models && used < size; m++) {
        bool scoring = m == job->settings->n_models;
        const char *name = scoring ? job->settings->reward_backend : job->settings->models[m];
        toa_peer_kind_t kind = scoring ? TOA_PEER_SCORER : TOA_PEER_WORKER;
        int route = toa_router_route (b->router, kind, name);
        if (route < 0 || toa_router_queued (b->router, route) == 0
            || toa_router_served (b->peers, kind, name, now))
            continue;
        int written = snprintf (buffer + used, size - used, "%sno %s serves %s %s",
                                used ? "; " : "", scoring ? "scorer" : "worker",
                                scoring ? "backend" : "model", name);
        used += written > 0 ? (size_t) written : 0;
    }
    for (size_t m = 0; m < job->settings->n_models && used < size; m++) {
        const char *name = job->settings->models[m];
        if (!toa_health_down (b->health, name, now))
            continue;
        const toa_health_model_t *state = toa_health_get (b->health, name);
        char at[32];
        int written = snprintf (buffer + used, size - used,
                                "%smodel %s is down (%d failures in a row), retrying at %s",
                                used ? "; " : "", name, state->failures,
                                s_clock_text (state->retry_at_ms, now, at, sizeof at));
        used += written > 0 ? (size_t) written : 0;
    }
    if (used == 0 && job->n_active == 0 && job->admitted < job->total
        && toa_jobs_active (b->jobs) >= b->options.max_active)
        snprintf (buffer, size, "queued behind other jobs (max active prompts reached)");
    return buffer;
}
