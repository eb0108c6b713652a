/* policy_baselines.c - ensemble, PRS, sequential refine and MoA (see
 * policy_baselines.h). Each is deterministic given its seed and the results
 * applied, so replay rebuilds it (policy.h).
 *
 * Each spends a budget of generations (samples x models unless the job set
 * one) and goes on in its own way when extend() adds more: ensemble with
 * more waves of the models in a random order, PRS with more refinements of
 * the best so far, seq-refine with more rounds, MoA with more layers. A
 * plan's shape never depends on how much budget is left beyond it, so a
 * replay that extends at the same points plans the same. */
#include "broker/method/policy_baselines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/method/policy_common.h"
#include "common/util.h"

/* One struct for the four methods; each uses the fields it needs. */
struct toa_policy_s {
    int n_models, samples, budget;
    int capacity;            /* room in order, previous, current */
    int units;               /* generations planned so far (seq-refine, moa) */
    int n_classic;           /* ensemble: plans in the classic full shuffle */
    int layer_size;          /* moa: plans of the current layer */
    bool allow_n;
    uint64_t seed;
    toa_policy_responses_t responses;
    int *order;              /* ensemble: model of each plan; seq-refine: this round's
                                order; prs: 0..budget-1 (candidates for the best) */
    int issued;              /* plans issued (ensemble, prs phases) */
    /* prs */
    int model, first;        /* its model; responses of the sampling half */
    int phase;               /* 0 sampling, 1 refining once the samples are back */
    /* seq-refine */
    bool pending;            /* a generation is out (seq-refine, prs refining) */
    int round, position;     /* round and place in it */
    int last;                /* seq-refine: last scored response of this round;
                                prs: the response refined last; -1: none */
    uint64_t tag;            /* seq-refine, prs: tag of the plan out */
    /* moa */
    int n_iter, aggregate;
    int layer;               /* current layer (0 .. samples-1) */
    bool layer_out;          /* its plans are issued */
    int *previous, n_previous; /* responses of the previous layer */
    int *current, n_current;   /* responses of this layer (prs: of the sampling half) */
};

static toa_policy_t *
s_new (const toa_policy_config_t *config, uint64_t prompt_seed, char *err, size_t err_size)
{
    if (config->n_models < 1 || config->samples < 1) {
        snprintf (err, err_size, "%s needs at least one model and one sample", config->name);
        return NULL;
    }
    toa_policy_t *self = calloc (1, sizeof *self);
    int budget = config->budget > 0 ? config->budget : config->n_models * config->samples;
    int capacity = budget > config->n_models ? budget : config->n_models;
    if (!self || toa_policy_responses_init (&self->responses, budget) != 0
        || !(self->order = calloc ((size_t) capacity, sizeof *self->order))
        || !(self->previous = calloc ((size_t) capacity, sizeof *self->previous))
        || !(self->current = calloc ((size_t) capacity, sizeof *self->current))) {
        if (self) {
            toa_policy_responses_clear (&self->responses);
            free (self->order);
            free (self->previous);
            free (self);
        }
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->n_models = config->n_models;
    self->samples = config->samples;
    self->budget = budget;
    self->capacity = capacity;
    self->allow_n = config->allow_n;
    self->seed = prompt_seed;
    self->last = -1;
    self->model = config->prs_model >= 0 && config->prs_model < config->n_models
                      ? config->prs_model : 0;
    self->first = (budget + 1) / 2;
    self->n_iter = config->moa_n_iter > 0 ? config->moa_n_iter : 2;
    self->aggregate = config->moa_aggregate > 0 ? config->moa_aggregate : config->n_models;
    if (self->aggregate > TOA_POLICY_MAX_INPUTS)
        self->aggregate = TOA_POLICY_MAX_INPUTS;
    return self;
}

static bool
s_done (const toa_policy_t *self)
{
    return self->responses.applied >= self->budget;
}

static void
s_destroy (toa_policy_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_policy_t *self = *self_p;
    toa_policy_responses_clear (&self->responses);
    free (self->order);
    free (self->previous);
    free (self->current);
    free (self);
    *self_p = NULL;
}

/* Grows the arrays for BUDGET generations; new order entries are their
 * own indexes (PRS's candidates). */
static int
s_grow (toa_policy_t *self, int budget)
{
    if (toa_policy_responses_grow (&self->responses, budget) != 0)
        return -1;
    if (budget <= self->capacity)
        return 0;
    int *order = realloc (self->order, (size_t) budget * sizeof *order);
    if (order)
        self->order = order;
    int *previous = order ? realloc (self->previous, (size_t) budget * sizeof *previous) : NULL;
    if (previous)
        self->previous = previous;
    int *current = previous ? realloc (self->current, (size_t) budget * sizeof *current) : NULL;
    if (!current)
        return -1;
    self->current = current;
    for (int i = self->capacity; i < budget; i++)
        self->order[i] = i;
    self->capacity = budget;
    return 0;
}

static int
s_extend (toa_policy_t *self, int extra)
{
    if (extra < 0 || s_grow (self, self->budget + extra) != 0)
        return -1;
    self->budget += extra;
    return 0;
}

static int
s_chunk_one (const toa_policy_t *self)
{
    (void) self;
    return 1;
}

static int
s_chunk_models (const toa_policy_t *self)
{
    return self->n_models;
}

static toa_gen_plan_t
s_plan (toa_gen_kind_t kind, int model, int depth, int n, uint64_t tag)
{
    toa_gen_plan_t plan;
    memset (&plan, 0, sizeof plan);
    plan.kind = kind;
    plan.model = model;
    plan.depth = depth;
    plan.n = n;
    plan.tag = tag;
    return plan;
}

/* --- ensemble -------------------------------------------------------------- */

static toa_policy_t *
s_ensemble_create (const toa_policy_config_t *config, uint64_t prompt_seed, char *err,
                   size_t err_size)
{
    toa_policy_t *self = s_new (config, prompt_seed, err, err_size);
    if (!self)
        return NULL;
    /* The classic layout: every model SAMPLES times, one shuffle of it all
     * (with early stop too: the prompt takes it a wave at a time, so until
     * it stops it draws exactly what a fixed budget draws). With another
     * budget, and for plans an extension adds: waves of every model once,
     * each wave in its own random order. */
    if (self->budget == self->n_models * self->samples) {
        self->n_classic = self->budget;
        for (int i = 0; i < self->budget; i++)
            self->order[i] = i / self->samples;
        toa_policy_shuffle (self->order, self->budget, prompt_seed);
    }
    return self;
}

/* The model of plan INDEX. */
static int
s_ensemble_model (const toa_policy_t *self, int index)
{
    if (index < self->n_classic)
        return self->order[index];
    int wave = (index - self->n_classic) / self->n_models;
    int models[TOA_POLICY_MAX_INPUTS * 4];
    int n = self->n_models < (int) (sizeof models / sizeof *models)
                ? self->n_models : (int) (sizeof models / sizeof *models);
    for (int m = 0; m < n; m++)
        models[m] = m;
    toa_policy_shuffle (models, n, self->seed ^ toa_splitmix64 ((uint64_t) wave + 7));
    return models[(index - self->n_classic) % n];
}

static int
s_ensemble_next (toa_policy_t *self, toa_gen_plan_t *plans, int max)
{
    int count = 0;
    while (count < max && self->issued < self->budget) {
        plans[count++] = s_plan (TOA_GEN_ANSWER, s_ensemble_model (self, self->issued), 0, 1,
                                 (uint64_t) self->issued);
        self->issued++;
    }
    return count;
}

static int
s_ensemble_apply (toa_policy_t *self, const toa_gen_plan_t *plan, int response, double raw,
                  bool failed)
{
    if (plan->tag >= (uint64_t) self->issued
        || plan->model != s_ensemble_model (self, (int) plan->tag))
        return -1;
    return toa_policy_responses_apply (&self->responses, plan, response, raw, failed);
}

const toa_policy_ops_t toa_policy_ensemble = {
    "ensemble", s_ensemble_create, s_ensemble_next, s_ensemble_apply, s_done, NULL, s_destroy,
    NULL, NULL, NULL, NULL, NULL, s_extend, s_chunk_models, NULL, NULL,
};

/* --- PRS ------------------------------------------------------------------- */

/* The first ceil(budget / 2) plans answer the prompt, all at once (tags
 * 0..first-1). Once every one of them is back, the rest refine one at a
 * time, each the best response so far (largest raw reward over every
 * scored response of the prompt, the first on ties; tags S_PRS_REFINE_TAG +
 * k), so a refinement that beats its input is what the next one improves.
 * With no scored response at all, the plan answers the prompt afresh. */
#define S_PRS_REFINE_TAG 1000000u

static toa_policy_t *
s_prs_create (const toa_policy_config_t *config, uint64_t prompt_seed, char *err,
              size_t err_size)
{
    toa_policy_t *self = s_new (config, prompt_seed, err, err_size);
    if (!self)
        return NULL;
    for (int i = 0; i < self->capacity; i++) /* every response, in generation order */
        self->order[i] = i;
    return self;
}

static int
s_prs_next (toa_policy_t *self, toa_gen_plan_t *plans, int max)
{
    int made = 0;
    if (self->phase == 0) {
        while (made < max && self->issued < self->first) {
            int n = self->allow_n ? self->first - self->issued : 1;
            plans[made++] = s_plan (TOA_GEN_ANSWER, self->model, 0, n,
                                    (uint64_t) self->issued);
            self->issued += n;
        }
        if (self->issued >= self->first) {
            self->phase = 1;
            self->issued = 0;
        }
        return made;
    }
    int rest = self->budget - self->first;
    if (max < 1 || self->n_current < self->first || self->pending || self->issued >= rest)
        return 0;
    self->last = toa_policy_best (&self->responses, self->order, self->budget);
    self->tag = S_PRS_REFINE_TAG + (uint64_t) self->issued++;
    if (self->last >= 0) {
        plans[0] = s_plan (TOA_GEN_REFINE, self->model, self->responses.depth[self->last] + 1,
                           1, self->tag);
        plans[0].inputs[0] = self->last;
        plans[0].n_inputs = 1;
    }
    else
        plans[0] = s_plan (TOA_GEN_ANSWER, self->model, 0, 1, self->tag);
    self->pending = true;
    return 1;
}

static int
s_prs_apply (toa_policy_t *self, const toa_gen_plan_t *plan, int response, double raw,
             bool failed)
{
    bool sampling = plan->tag < S_PRS_REFINE_TAG;
    if (plan->model != self->model
        || (sampling && self->n_current >= self->first)
        || (!sampling && (!self->pending || plan->tag != self->tag))
        || toa_policy_responses_apply (&self->responses, plan, response, raw, failed) != 0)
        return -1;
    if (sampling)
        self->current[self->n_current++] = response;
    else
        self->pending = false;
    return 0;
}

const toa_policy_ops_t toa_policy_prs = {
    "prs", s_prs_create, s_prs_next, s_prs_apply, s_done, NULL, s_destroy,
    NULL, NULL, NULL, NULL, NULL, s_extend, s_chunk_one, NULL, NULL,
};

/* --- sequential refine ----------------------------------------------------- */

static int
s_seq_next (toa_policy_t *self, toa_gen_plan_t *plans, int max)
{
    if (max < 1 || self->pending || self->units >= self->budget)
        return 0;
    if (self->position == 0) {
        for (int m = 0; m < self->n_models; m++)
            self->order[m] = m;
        toa_policy_shuffle (self->order, self->n_models,
                            self->seed ^ toa_splitmix64 ((uint64_t) self->round + 1));
    }
    int model = self->order[self->position];
    self->tag++;
    if (self->last >= 0) {
        plans[0] = s_plan (TOA_GEN_REFINE, model, self->responses.depth[self->last] + 1, 1,
                           self->tag);
        plans[0].inputs[0] = self->last;
        plans[0].n_inputs = 1;
    }
    else
        plans[0] = s_plan (TOA_GEN_ANSWER, model, 0, 1, self->tag);
    self->pending = true;
    self->units++;
    return 1;
}

static int
s_seq_apply (toa_policy_t *self, const toa_gen_plan_t *plan, int response, double raw,
             bool failed)
{
    if (!self->pending || plan->tag != self->tag
        || toa_policy_responses_apply (&self->responses, plan, response, raw, failed) != 0)
        return -1;
    self->pending = false;
    if (!failed)
        self->last = response;
    if (++self->position == self->n_models) {
        self->position = 0;
        self->round++;
        self->last = -1;
    }
    return 0;
}

const toa_policy_ops_t toa_policy_seq_refine = {
    "seq-refine", s_new, s_seq_next, s_seq_apply, s_done, NULL, s_destroy,
    NULL, NULL, NULL, NULL, NULL, s_extend, s_chunk_one, NULL, NULL,
};

/* --- MoA ------------------------------------------------------------------- */

/* Keeps the AGGREGATE best scored responses of the previous layer, in
 * generation order, into PLAN's inputs. */
static void
s_moa_inputs (const toa_policy_t *self, toa_gen_plan_t *plan)
{
    int chosen[TOA_POLICY_MAX_INPUTS], n_chosen = 0;
    int pool[TOA_POLICY_MAX_INPUTS * 4], n_pool = 0;
    for (int i = 0; i < self->n_previous && n_pool < (int) (sizeof pool / sizeof *pool); i++)
        if (self->responses.ok[self->previous[i]])
            pool[n_pool++] = self->previous[i];
    while (n_chosen < self->aggregate && n_pool > 0) {
        int best = toa_policy_best (&self->responses, pool, n_pool);
        chosen[n_chosen++] = best;
        for (int i = 0; i < n_pool; i++)
            if (pool[i] == best) {
                pool[i] = pool[--n_pool];
                break;
            }
    }
    for (int i = 1; i < n_chosen; i++)     /* generation order */
        for (int k = i; k > 0 && chosen[k - 1] > chosen[k]; k--) {
            int swap = chosen[k];
            chosen[k] = chosen[k - 1];
            chosen[k - 1] = swap;
        }
    memcpy (plan->inputs, chosen, (size_t) n_chosen * sizeof *chosen);
    plan->n_inputs = n_chosen;
}

static int
s_moa_next (toa_policy_t *self, toa_gen_plan_t *plans, int max)
{
    if (self->layer_out && self->n_current == self->layer_size) {
        memcpy (self->previous, self->current, (size_t) self->n_current * sizeof (int));
        self->n_previous = self->n_current;
        self->n_current = 0;
        self->layer++;
        self->layer_out = false;
        self->issued = 0;
    }
    if (!self->layer_out && self->issued == 0) {
        int left = self->budget - self->units;
        self->layer_size = left < self->n_models ? left : self->n_models;
    }
    if (self->layer_out || self->layer_size <= 0)
        return 0;
    int in_round = self->layer % self->n_iter;
    bool any = false;
    for (int i = 0; i < self->n_previous; i++)
        any = any || self->responses.ok[self->previous[i]];
    bool aggregate = in_round > 0 && any;
    int made = 0;
    while (made < max && self->issued < self->layer_size) {
        int m = self->issued++;
        self->units++;
        plans[made] = s_plan (aggregate ? TOA_GEN_AGGREGATE : TOA_GEN_ANSWER, m,
                              aggregate ? in_round : 0, 1,
                              (uint64_t) self->layer * 100000u + (uint64_t) m);
        if (aggregate)
            s_moa_inputs (self, &plans[made]);
        made++;
    }
    self->layer_out = self->issued >= self->layer_size;
    return made;
}

static int
s_moa_apply (toa_policy_t *self, const toa_gen_plan_t *plan, int response, double raw,
             bool failed)
{
    if (plan->tag / 100000u != (uint64_t) self->layer
        || self->n_current >= self->layer_size
        || toa_policy_responses_apply (&self->responses, plan, response, raw, failed) != 0)
        return -1;
    self->current[self->n_current++] = response;
    return 0;
}

const toa_policy_ops_t toa_policy_moa = {
    "moa", s_new, s_moa_next, s_moa_apply, s_done, NULL, s_destroy,
    NULL, NULL, NULL, NULL, NULL, s_extend, s_chunk_models, NULL, NULL,
};
