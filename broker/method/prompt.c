/* prompt.c - one prompt in search: policy, records, work (see prompt.h). */
#include "broker/method/prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/method/result.h"
#include "broker/method/input.h"
#include "common/util.h"

#define S_NEXT_BATCH 16

struct toa_prompt_s {
    const toa_job_settings_t *settings;
    int64_t index;
    json_t *input;               /* the input line */
    toa_chat_list_t messages;    /* the original prompt as chat messages */
    char *question;              /* its question text, for templates */
    char *reference;             /* for the scorer, or NULL */
    const toa_policy_ops_t *ops;
    toa_policy_t *policy;
    toa_gen_record_t *records;   /* in generation order */
    toa_gen_plan_t *plans;       /* plans[g]: the plan record g answered */
    bool *matched;               /* replay: records[g] has its plan */
    size_t n_records, capacity;
    int n_applied;               /* records applied to the policy */
    int gens_in_flight;          /* plans started, no generation back yet */
    int scores_in_flight;        /* records waiting for their reward */
    int units;                   /* generations started (records + in flight) */
    int allowance;               /* generations it may start: its share + grants */
    int wave;                    /* early stop: generations out at once, at most */
    bool stopped;                /* a response reached stop_at_reward */
};

/* --- work ------------------------------------------------------------------ */

static int
s_grow (void **items, size_t *capacity, size_t needed, size_t item_size)
{
    if (needed <= *capacity)
        return 0;
    size_t bigger = *capacity ? *capacity * 2 : 16;
    while (bigger < needed)
        bigger *= 2;
    void *grown = realloc (*items, bigger * item_size);
    if (!grown)
        return -1;
    *items = grown;
    *capacity = bigger;
    return 0;
}

static int
s_work_plan (toa_prompt_work_t *work, const toa_gen_plan_t *plan)
{
    if (s_grow ((void **) &work->plans, &work->plans_capacity, work->n_plans + 1,
                sizeof *work->plans) != 0)
        return -1;
    work->plans[work->n_plans++] = *plan;
    return 0;
}

static int
s_work_int (int **items, size_t *count, size_t *capacity, int value)
{
    if (s_grow ((void **) items, capacity, *count + 1, sizeof **items) != 0)
        return -1;
    (*items)[(*count)++] = value;
    return 0;
}

void
toa_prompt_work_reset (toa_prompt_work_t *work)
{
    work->n_plans = work->n_score = work->n_persist = 0;
}

void
toa_prompt_work_clear (toa_prompt_work_t *work)
{
    free (work->plans);
    free (work->score);
    free (work->persist);
    memset (work, 0, sizeof *work);
}

/* --- creation -------------------------------------------------------------- */

/* The reference field of INPUT as text (numbers as JSON numbers), or NULL. */
static char *
s_reference (json_t *input, const char *field)
{
    json_t *value = field ? json_object_get (input, field) : NULL;
    if (!value || json_is_null (value))
        return NULL;
    if (json_is_string (value))
        return strdup (json_string_value (value));
    return json_dumps (value, JSON_ENCODE_ANY | JSON_COMPACT);
}

static int
s_load_input (toa_prompt_t *self, const char *line, char *err, size_t err_size)
{
    json_error_t json_error;
    self->input = json_loads (line, 0, &json_error);
    if (!json_is_object (self->input)) {
        snprintf (err, err_size, "input line is not a JSON object");
        return -1;
    }
    json_t *messages = toa_input_messages (self->input);
    const char *question = toa_input_question (self->input);
    if (!messages || !question) {
        json_decref (messages);
        snprintf (err, err_size, "input line has neither instruction nor messages");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size (messages); i++) {
        json_t *message = json_array_get (messages, i);
        rc = toa_chat_list_add (&self->messages,
                                json_string_value (json_object_get (message, "role")),
                                json_string_value (json_object_get (message, "content")));
    }
    json_decref (messages);
    self->question = strdup (question);
    self->reference = s_reference (self->input, self->settings->reference_field);
    if (rc != 0 || !self->question) {
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    return 0;
}

toa_prompt_t *
toa_prompt_new (const toa_job_settings_t *settings, int64_t index, const char *line,
                char *err, size_t err_size)
{
    toa_prompt_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->settings = settings;
    self->index = index;
    self->ops = toa_policy_find (settings->method);
    if (!self->ops) {
        snprintf (err, err_size, "unknown method %s", settings->method);
        toa_prompt_destroy (&self);
        return NULL;
    }
    if (s_load_input (self, line, err, err_size) != 0) {
        toa_prompt_destroy (&self);
        return NULL;
    }
    toa_policy_config_t config;
    toa_job_settings_policy_config (settings, &config);
    uint64_t prompt_seed = toa_splitmix64 (settings->method_seed
                                           ^ toa_splitmix64 ((uint64_t) index + 1));
    self->policy = self->ops->create (&config, prompt_seed, err, err_size);
    if (!self->policy)
        toa_prompt_destroy (&self);
    else {
        self->allowance = config.budget;
        self->wave = (int) settings->n_models > settings->parallel_expansions
                         ? (int) settings->n_models : settings->parallel_expansions;
    }
    return self;
}

void
toa_prompt_destroy (toa_prompt_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_prompt_t *self = *self_p;
    if (self->policy)
        self->ops->destroy (&self->policy);
    for (size_t g = 0; g < self->n_records; g++)
        toa_gen_record_clear (&self->records[g]);
    free (self->records);
    free (self->plans);
    free (self->matched);
    toa_chat_list_clear (&self->messages);
    free (self->question);
    free (self->reference);
    json_decref (self->input);
    free (self);
    *self_p = NULL;
}

/* --- policy driving -------------------------------------------------------- */

/* Drains the policy's next() into WORK: every plan is a generation in
 * flight. A prompt that stopped early plans nothing more; one that may stop
 * early has at most a wave of generations out (counted from what was
 * started and applied, so that a replay drains the same plans). */
static int
s_drain (toa_prompt_t *self, toa_prompt_work_t *work)
{
    toa_gen_plan_t batch[S_NEXT_BATCH];
    int count, room;
    do {
        room = S_NEXT_BATCH;
        if (self->stopped)
            return 0;
        if (self->settings->early_stop) {
            int left = self->wave - (self->units - self->n_applied);
            if (left <= 0)
                return 0;
            room = left < room ? left : room;
        }
        count = self->ops->next (self->policy, batch, room);
        for (int i = 0; i < count; i++) {
            if (s_work_plan (work, &batch[i]) != 0)
                return -1;
            self->gens_in_flight++;
            self->units += batch[i].n > 0 ? batch[i].n : 1;
        }
    } while (count == room);
    return 0;
}

/* A scored record G reached the job's stop_at_reward: the prompt stops. */
static void
s_check_stop (toa_prompt_t *self, int g)
{
    const toa_gen_record_t *record = &self->records[g];
    if (self->settings->early_stop && record->scored && !record->failed
        && !record->score_failed && record->raw >= self->settings->stop_at_reward)
        self->stopped = true;
}

/* Appends an empty record for PLAN; returns its g or -1. */
static int
s_add_record (toa_prompt_t *self, const toa_gen_plan_t *plan)
{
    size_t needed = self->n_records + 1, capacity = self->capacity;
    if (s_grow ((void **) &self->records, &capacity, needed, sizeof *self->records) != 0)
        return -1;
    capacity = self->capacity;
    if (s_grow ((void **) &self->plans, &capacity, needed, sizeof *self->plans) != 0)
        return -1;
    capacity = self->capacity;
    if (s_grow ((void **) &self->matched, &capacity, needed, sizeof *self->matched) != 0)
        return -1;
    self->capacity = capacity;
    int g = (int) self->n_records++;
    toa_gen_record_t *record = &self->records[g];
    memset (record, 0, sizeof *record);
    record->applied = -1;
    record->kind = plan->kind;
    record->model = plan->model;
    record->depth = plan->depth;
    record->n_inputs = plan->n_inputs;
    memcpy (record->inputs, plan->inputs, sizeof record->inputs);
    record->layer = plan->layer;
    record->parent_g = plan->layer > 0 ? plan->parent_g : -1;
    self->plans[g] = *plan;
    self->matched[g] = true;
    return g;
}

/* Applies settled record G to the policy. */
static int
s_apply (toa_prompt_t *self, int g)
{
    toa_gen_record_t *record = &self->records[g];
    record->applied = self->n_applied++;
    bool failed = record->failed || record->score_failed;
    int rc = self->ops->apply (self->policy, &self->plans[g], g, failed ? 0.0 : record->raw,
                               failed);
    if (rc == 0 && !failed && self->ops->response_tau && self->settings->tau_auto)
        record->tau = self->ops->response_tau (self->policy, g);
    s_check_stop (self, g);
    return rc;
}

int
toa_prompt_start (toa_prompt_t *self, toa_prompt_work_t *work)
{
    return s_drain (self, work);
}

static int
s_add_failed (toa_prompt_t *self, const toa_gen_plan_t *plan, const char *reason,
              toa_prompt_work_t *work)
{
    int g = s_add_record (self, plan);
    if (g < 0)
        return -1;
    toa_gen_record_t *record = &self->records[g];
    record->failed = true;
    record->reason = strdup (reason ? reason : "failed");
    if (!record->reason || s_work_int (&work->persist, &work->n_persist,
                                       &work->persist_capacity, g) != 0)
        return -1;
    int rc = s_apply (self, g);
    return s_drain (self, work) == 0 ? rc : -1;
}

int
toa_prompt_generated (toa_prompt_t *self, const toa_gen_plan_t *plan,
                      const toa_gen_output_t *outputs, size_t n, toa_prompt_work_t *work)
{
    if (self->gens_in_flight <= 0)
        return -1;
    self->gens_in_flight--;
    int wanted = plan->n > 0 ? plan->n : 1;
    for (int i = 0; i < wanted && (size_t) i < n; i++) {
        int g = s_add_record (self, plan);
        if (g < 0)
            return -1;
        toa_gen_record_t *record = &self->records[g];
        record->text = strdup (outputs[i].text ? outputs[i].text : "");
        if (record->text)      /* escaped once: the record and the result line copy it */
            toa_gen_record_keep_text_json (record);
        record->finish_reason = toa_strdup (outputs[i].finish_reason);
        record->prompt_tokens = outputs[i].prompt_tokens;
        record->completion_tokens = outputs[i].completion_tokens;
        if (!record->text
            || s_work_int (&work->persist, &work->n_persist, &work->persist_capacity, g) != 0
            || s_work_int (&work->score, &work->n_score, &work->score_capacity, g) != 0)
            return -1;
        self->scores_in_flight++;
    }
    if (n < (size_t) wanted) {
        char reason[128];
        snprintf (reason, sizeof reason, "the server returned %zu of %d samples", n, wanted);
        for (size_t i = n; i < (size_t) wanted; i++)
            if (s_add_failed (self, plan, reason, work) != 0)
                return -1;
    }
    return 0;
}

int
toa_prompt_generation_failed (toa_prompt_t *self, const toa_gen_plan_t *plan,
                              const char *reason, toa_prompt_work_t *work)
{
    if (self->gens_in_flight <= 0)
        return -1;
    self->gens_in_flight--;
    int wanted = plan->n > 0 ? plan->n : 1;
    for (int i = 0; i < wanted; i++)
        if (s_add_failed (self, plan, reason, work) != 0)
            return -1;
    return 0;
}

static int
s_settle (toa_prompt_t *self, int g, toa_prompt_work_t *work)
{
    self->scores_in_flight--;
    if (s_work_int (&work->persist, &work->n_persist, &work->persist_capacity, g) != 0)
        return -1;
    int rc = s_apply (self, g);
    return s_drain (self, work) == 0 ? rc : -1;
}

int
toa_prompt_scored (toa_prompt_t *self, int g, double raw, toa_prompt_work_t *work)
{
    if (g < 0 || (size_t) g >= self->n_records || toa_gen_record_settled (&self->records[g]))
        return -1;
    self->records[g].scored = true;
    self->records[g].raw = raw;
    return s_settle (self, g, work);
}

int
toa_prompt_scoring_failed (toa_prompt_t *self, int g, const char *reason,
                           toa_prompt_work_t *work)
{
    if (g < 0 || (size_t) g >= self->n_records || toa_gen_record_settled (&self->records[g]))
        return -1;
    toa_gen_record_t *record = &self->records[g];
    record->score_failed = true;
    free (record->reason);
    record->reason = strdup (reason ? reason : "scoring failed");
    return s_settle (self, g, work);
}

/* --- replay ---------------------------------------------------------------- */

static bool
s_same_request (const toa_gen_record_t *record, const toa_gen_plan_t *plan)
{
    if (record->kind != plan->kind || record->model != plan->model
        || record->n_inputs != plan->n_inputs || record->layer != plan->layer
        || (plan->layer > 0 && record->parent_g != plan->parent_g))
        return false;
    for (int i = 0; i < plan->n_inputs; i++)
        if (record->inputs[i] != plan->inputs[i])
            return false;
    return true;
}

/* Matches the plans WORK gained since FROM with unmatched records: a matched
 * plan is not in flight any more (its records are), so it leaves WORK. */
static void
s_match (toa_prompt_t *self, toa_prompt_work_t *work, size_t from)
{
    size_t kept = from;
    for (size_t p = from; p < work->n_plans; p++) {
        const toa_gen_plan_t *plan = &work->plans[p];
        int wanted = plan->n > 0 ? plan->n : 1, found = 0;
        for (size_t g = 0; g < self->n_records && found < wanted; g++)
            if (!self->matched[g] && s_same_request (&self->records[g], plan)) {
                self->matched[g] = true;
                self->plans[g] = *plan;
                found++;
            }
        if (found > 0)
            self->gens_in_flight--;
        else
            work->plans[kept++] = *plan;
    }
    work->n_plans = kept;
}

/* The matched, settled, not yet replayed record that comes next in apply
 * order (records never applied come last, by g), or -1. */
static int
s_next_to_apply (const toa_prompt_t *self, const bool *replayed)
{
    int best = -1;
    for (size_t g = 0; g < self->n_records; g++) {
        const toa_gen_record_t *record = &self->records[g];
        if (!self->matched[g] || replayed[g] || !toa_gen_record_settled (record))
            continue;
        unsigned order = record->applied < 0 ? (unsigned) -1 : (unsigned) record->applied;
        if (best < 0 || order < (self->records[best].applied < 0
                                     ? (unsigned) -1 : (unsigned) self->records[best].applied))
            best = (int) g;
    }
    return best;
}

static int
s_decode_all (toa_prompt_t *self, const char *const *texts, const char *const *settles,
              size_t n, char *err, size_t err_size)
{
    for (size_t g = 0; g < n; g++) {
        toa_gen_plan_t none = {0};
        if (s_add_record (self, &none) < 0) {
            snprintf (err, err_size, "out of memory");
            return -1;
        }
        self->matched[g] = false;
        char why[160];
        if (!texts[g] || toa_gen_record_decode (texts[g],
                                                (const char *const *) self->settings->models,
                                                self->settings->n_models, &self->records[g],
                                                why, sizeof why) != 0) {
            snprintf (err, err_size, "record g:%zu: %s", g, texts[g] ? why : "missing");
            return -1;
        }
        if (settles && settles[g]
            && toa_gen_record_decode_settle (settles[g], &self->records[g], why,
                                             sizeof why) != 0) {
            snprintf (err, err_size, "record s:%zu: %s", g, why);
            return -1;
        }
        self->records[g].stored = true;
    }
    return 0;
}

/* The position of record G in restore order: applied ones by their apply
 * order, then settled ones never applied, then unsettled ones (by g). */
static long
s_restore_rank (const toa_gen_record_t *record, int g)
{
    if (!toa_gen_record_settled (record))
        return 2000000000L + g;
    return record->applied >= 0 ? record->applied : 1000000000L + g;
}

/* Rebuilds a policy that has restore() from the decoded records. */
static int
s_restore_all (toa_prompt_t *self, size_t n, toa_prompt_work_t *work, char *err,
               size_t err_size)
{
    int *order = calloc (n + 1, sizeof *order);
    if (!order) {
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = (int) i;
    /* Insertion sort: records are few and nearly in order already. */
    for (size_t i = 1; i < n; i++) {
        int g = order[i];
        long rank = s_restore_rank (&self->records[g], g);
        size_t k = i;
        for (; k > 0 && s_restore_rank (&self->records[order[k - 1]], order[k - 1]) > rank; k--)
            order[k] = order[k - 1];
        order[k] = g;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int g = order[i];
        toa_gen_record_t *record = &self->records[g];
        bool settled = toa_gen_record_settled (record);
        bool failed = record->failed || record->score_failed;
        toa_gen_plan_t plan = {
            .kind = record->kind, .model = record->model, .depth = record->depth,
            .n_inputs = record->n_inputs, .n = 1, .layer = record->layer,
            .parent_g = record->layer > 0 ? record->parent_g : -1, .tau = record->tau,
        };
        memcpy (plan.inputs, record->inputs, sizeof plan.inputs);
        if (self->ops->restore (self->policy, &plan, g, failed ? 0.0 : record->raw, failed,
                                settled) != 0) {
            snprintf (err, err_size, "record g:%d does not fit the %s policy", g,
                      self->settings->method);
            rc = -1;
            break;
        }
        self->plans[g] = plan;
        self->matched[g] = true;
        self->units++;
        if (settled) {
            record->applied = self->n_applied++;
            s_check_stop (self, g);
        }
        else {
            if (s_work_int (&work->score, &work->n_score, &work->score_capacity, g) != 0)
                rc = -1;
            self->scores_in_flight++;
        }
    }
    free (order);
    if (rc == 0 && s_drain (self, work) != 0) {
        snprintf (err, err_size, "out of memory");
        rc = -1;
    }
    return rc;
}

/* Replay of a prompt that was given more than its share: the live prompt
 * got each chunk when its policy was done with nothing in flight, so the
 * replay extends at the same points (REPLAY_TARGET: its allowance then). */
static int
s_replay_extend (toa_prompt_t *self, int target, toa_prompt_work_t *work)
{
    while (!self->stopped && self->allowance < target && self->ops->done (self->policy)) {
        int chunk = self->ops->chunk ? self->ops->chunk (self->policy) : 1;
        if (chunk > target - self->allowance)
            chunk = target - self->allowance;
        size_t from = work->n_plans;
        if (self->ops->extend (self->policy, chunk) != 0)
            return -1;
        self->allowance += chunk;
        if (s_drain (self, work) != 0)
            return -1;
        s_match (self, work, from);
    }
    return 0;
}

int
toa_prompt_replay (toa_prompt_t *self, const char *const *texts, size_t n,
                   int allowance, toa_prompt_work_t *work, char *err, size_t err_size)
{
    return toa_prompt_replay_split (self, texts, NULL, n, allowance, work, err, err_size);
}

int
toa_prompt_replay_split (toa_prompt_t *self, const char *const *texts,
                         const char *const *settles, size_t n, int allowance,
                         toa_prompt_work_t *work, char *err, size_t err_size)
{
    if (s_decode_all (self, texts, settles, n, err, err_size) != 0)
        return -1;
    if (self->ops->restore) {
        /* TOA's restore puts records back by their actions: its budget
         * does not shape them, so the whole allowance is given first. */
        if (allowance > self->allowance) {
            if (self->ops->extend (self->policy, allowance - self->allowance) != 0) {
                snprintf (err, err_size, "out of memory");
                return -1;
            }
            self->allowance = allowance;
        }
        return s_restore_all (self, n, work, err, err_size);
    }
    bool *replayed = calloc (n + 1, sizeof *replayed);
    if (!replayed) {
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    int rc = 0;
    size_t from = work->n_plans;
    if (s_drain (self, work) != 0)
        rc = -1;
    s_match (self, work, from);
    int g;
    while (rc == 0 && (g = s_next_to_apply (self, replayed)) >= 0) {
        replayed[g] = true;
        if (s_apply (self, g) != 0) {
            snprintf (err, err_size, "record g:%d does not fit the %s policy", g,
                      self->settings->method);
            rc = -1;
            break;
        }
        from = work->n_plans;
        if (s_drain (self, work) != 0)
            rc = -1;
        s_match (self, work, from);
        if (rc == 0 && s_replay_extend (self, allowance, work) != 0)
            rc = -1;
    }
    for (size_t r = 0; rc == 0 && r < n; r++) {
        if (!self->matched[r]) {
            snprintf (err, err_size, "record g:%zu answers no plan of the %s policy", r,
                      self->settings->method);
            rc = -1;
        }
        else if (!toa_gen_record_settled (&self->records[r])) {
            if (s_work_int (&work->score, &work->n_score, &work->score_capacity, (int) r) != 0)
                rc = -1;
            self->scores_in_flight++;
        }
    }
    free (replayed);
    return rc;
}

/* --- model availability ---------------------------------------------------- */

void
toa_prompt_set_available (toa_prompt_t *self, const bool *available)
{
    if (self->ops->set_available)
        self->ops->set_available (self->policy, available);
}

bool
toa_prompt_can_withdraw (const toa_prompt_t *self)
{
    return self->ops->withdraw != NULL;
}

int
toa_prompt_withdraw (toa_prompt_t *self, const toa_gen_plan_t *plan, toa_prompt_work_t *work)
{
    if (!self->ops->withdraw || self->gens_in_flight <= 0
        || self->ops->withdraw (self->policy, plan) != 0)
        return -1;
    self->gens_in_flight--;
    self->units -= plan->n > 0 ? plan->n : 1;
    return s_drain (self, work);
}

int
toa_prompt_kick (toa_prompt_t *self, toa_prompt_work_t *work)
{
    return s_drain (self, work);
}

bool
toa_prompt_waiting (const toa_prompt_t *self)
{
    return self->ops->waiting && self->gens_in_flight == 0 && self->scores_in_flight == 0
           && self->ops->waiting (self->policy);
}

/* --- queries --------------------------------------------------------------- */

bool
toa_prompt_finished (const toa_prompt_t *self, bool *stuck)
{
    if (stuck)
        *stuck = false;
    if (self->gens_in_flight > 0 || self->scores_in_flight > 0)
        return false;
    if (toa_prompt_waiting (self))
        return false;        /* waits for a model to come back */
    if (!self->stopped && !self->ops->done (self->policy) && stuck)
        *stuck = true;
    return true;
}

/* --- budget ---------------------------------------------------------------- */

bool
toa_prompt_stopped (const toa_prompt_t *self)
{
    return self->stopped;
}

int
toa_prompt_used (const toa_prompt_t *self)
{
    return self->units;
}

int
toa_prompt_allowance (const toa_prompt_t *self)
{
    return self->allowance;
}

bool
toa_prompt_can_extend (const toa_prompt_t *self)
{
    return !self->stopped && self->gens_in_flight == 0 && self->scores_in_flight == 0
           && self->ops->done (self->policy);
}

int
toa_prompt_chunk (const toa_prompt_t *self)
{
    int chunk = self->ops->chunk ? self->ops->chunk (self->policy) : 1;
    return chunk > 0 ? chunk : 1;
}

double
toa_prompt_gain (const toa_prompt_t *self)
{
    if (self->ops->gain)
        return self->ops->gain (self->policy);
    return -(double) self->units;
}

int
toa_prompt_extend (toa_prompt_t *self, int extra, toa_prompt_work_t *work)
{
    if (extra <= 0 || !toa_prompt_can_extend (self) || !self->ops->extend
        || self->ops->extend (self->policy, extra) != 0)
        return -1;
    self->allowance += extra;
    return s_drain (self, work);
}

char *
toa_prompt_result_line (const toa_prompt_t *self)
{
    const char *const *models = (const char *const *) self->settings->models;
    char *tree = NULL;
    if (self->ops->write_tree) {
        toa_json_writer_t w = TOA_JSON_WRITER_INIT;
        toa_json_writer_reserve (&w, 512 + self->n_records * 320);  /* about a tree's size */
        self->ops->write_tree (self->policy, models, 15, &w);
        if (!(tree = toa_json_writer_take (&w)))
            return NULL;
    }
    else if (self->ops->tree) {
        json_t *object = self->ops->tree (self->policy, models);
        tree = object ? json_dumps (object, JSON_COMPACT | JSON_REAL_PRECISION (15)) : NULL;
        json_decref (object);
        if (!tree)
            return NULL;
    }
    json_t *extra = NULL;
    if (self->settings->early_stop || self->settings->job_budget) {
        /* Only then: a job without them gets exactly the line it always had. */
        extra = json_pack ("{s:i, s:b}", "generations", self->units,
                           "stopped_early", self->stopped);
        if (extra && self->settings->job_budget)
            json_object_set_new (extra, "allowance", json_integer (self->allowance));
    }
    char *line = toa_result_line_with (self->input, self->settings->method, models,
                                       self->records, self->n_records, tree, extra);
    json_decref (extra);
    free (tree);
    return line;
}

char *
toa_prompt_record_json (const toa_prompt_t *self, int g)
{
    if (g < 0 || (size_t) g >= self->n_records)
        return NULL;
    return toa_gen_record_encode (&self->records[g],
                                  (const char *const *) self->settings->models);
}

char *
toa_prompt_record_update (toa_prompt_t *self, int g, bool *settle)
{
    if (g < 0 || (size_t) g >= self->n_records)
        return NULL;
    toa_gen_record_t *record = &self->records[g];
    *settle = record->stored;
    char *text = record->stored
                     ? toa_gen_record_encode_settle (record)
                     : toa_gen_record_encode (record,
                                              (const char *const *) self->settings->models);
    if (text)
        record->stored = true;
    return text;
}

int
toa_prompt_render (const toa_prompt_t *self, const toa_gen_plan_t *plan,
                   toa_chat_list_t *out, char *err, size_t err_size)
{
    return toa_render_generation (self->settings, &self->messages, self->question, plan,
                                  self->records, self->n_records, out, err, err_size);
}

uint64_t
toa_prompt_plan_seed (const toa_prompt_t *self, const toa_gen_plan_t *plan)
{
    return toa_splitmix64 (self->settings->sampling_seed
                           ^ toa_splitmix64 ((uint64_t) self->index * 1000003u + plan->tag));
}

int64_t
toa_prompt_index (const toa_prompt_t *self)
{
    return self->index;
}

const toa_chat_list_t *
toa_prompt_original_messages (const toa_prompt_t *self)
{
    return &self->messages;
}

const char *
toa_prompt_reference (const toa_prompt_t *self)
{
    return self->reference;
}

const toa_gen_record_t *
toa_prompt_record (const toa_prompt_t *self, int g)
{
    return g >= 0 && (size_t) g < self->n_records ? &self->records[g] : NULL;
}

size_t
toa_prompt_n_records (const toa_prompt_t *self)
{
    return self->n_records;
}

int
toa_prompt_in_flight (const toa_prompt_t *self)
{
    return self->gens_in_flight + self->scores_in_flight;
}
