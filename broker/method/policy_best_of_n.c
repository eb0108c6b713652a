/* policy_best_of_n.c - best-of-N (random sampling): SAMPLES answers from each
 * model to the original prompt, all started at once. With allow_n, one
 * request per model asks for all its samples (n = samples); otherwise each
 * sample is its own request. No search, no tree.
 *
 * Budgets other than samples x models, early stop and extensions (a
 * job-wide budget): answers go round-robin over the models, one request
 * each (the prompt starts one wave at a time when it may stop early). */
#include "broker/method/policy_best_of_n.h"

#include <stdio.h>
#include <stdlib.h>

struct toa_policy_s {
    int n_models;
    int samples;
    bool allow_n;
    int n_plans;             /* plans of the classic layout (model-major) */
    int issued;              /* plans returned by next() so far */
    int units;               /* generations those plans ask for */
    int applied;             /* responses applied */
    int budget;              /* generations this prompt may start */
};

static toa_policy_t *
s_create (const toa_policy_config_t *config, uint64_t prompt_seed, char *err,
          size_t err_size)
{
    (void) prompt_seed;
    if (config->n_models < 1 || config->samples < 1) {
        snprintf (err, err_size, "best-of-n needs at least one model and one sample");
        return NULL;
    }
    toa_policy_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->n_models = config->n_models;
    self->samples = config->samples;
    self->allow_n = config->allow_n && config->samples > 1;
    int classic = config->n_models * config->samples;
    self->budget = config->budget > 0 ? config->budget : classic;
    if (config->early_stop || self->budget != classic) {
        self->allow_n = false;
        self->n_plans = 0;   /* round-robin from the start */
    }
    else
        self->n_plans = self->allow_n ? config->n_models : self->budget;
    return self;
}

static int
s_next (toa_policy_t *self, toa_gen_plan_t *plans, int max)
{
    int count = 0;
    while (count < max && self->units < self->budget) {
        toa_gen_plan_t *plan = &plans[count++];
        int index = self->issued++;
        bool classic = index < self->n_plans;
        *plan = (toa_gen_plan_t) {
            .kind = TOA_GEN_ANSWER,
            .model = !classic ? self->units % self->n_models
                     : self->allow_n ? index : index / self->samples,
            .depth = 0,
            .n_inputs = 0,
            .n = classic && self->allow_n ? self->samples : 1,
            .tag = (uint64_t) index,
        };
        self->units += plan->n;
    }
    return count;
}

static int
s_apply (toa_policy_t *self, const toa_gen_plan_t *plan, int response, double raw,
         bool failed)
{
    (void) response;
    (void) raw;
    (void) failed;
    if (plan->kind != TOA_GEN_ANSWER || plan->tag >= (uint64_t) self->issued
        || plan->model < 0 || plan->model >= self->n_models
        || self->applied >= self->budget)
        return -1;
    self->applied++;
    return 0;
}

static bool
s_done (const toa_policy_t *self)
{
    return self->applied >= self->budget;
}

static int
s_extend (toa_policy_t *self, int extra)
{
    self->budget += extra;
    return 0;
}

static int
s_chunk (const toa_policy_t *self)
{
    return self->n_models;   /* a wave: one answer per model */
}

static void
s_destroy (toa_policy_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

const toa_policy_ops_t toa_policy_best_of_n = {
    .name = "best-of-n",
    .create = s_create,
    .next = s_next,
    .apply = s_apply,
    .done = s_done,
    .tree = NULL,            /* no tree */
    .destroy = s_destroy,
    .extend = s_extend,
    .chunk = s_chunk,
};
