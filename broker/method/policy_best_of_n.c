/* policy_best_of_n.c - best-of-N (random sampling): SAMPLES answers from each
 * model to the original prompt, all started at once. With allow_n, one
 * request per model asks for all its samples (n = samples); otherwise each
 * sample is its own request. No search, no tree. */
#include "broker/method/policy_best_of_n.h"

#include <stdio.h>
#include <stdlib.h>

struct toa_policy_s {
    int n_models;
    int samples;
    bool allow_n;
    int n_plans;             /* plans in the whole budget */
    int issued;              /* plans returned by next() so far */
    int applied;             /* responses applied */
    int budget;              /* samples x models */
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
    self->budget = config->n_models * config->samples;
    self->n_plans = self->allow_n ? config->n_models : self->budget;
    return self;
}

static int
s_next (toa_policy_t *self, toa_gen_plan_t *plans, int max)
{
    int count = 0;
    while (count < max && self->issued < self->n_plans) {
        toa_gen_plan_t *plan = &plans[count++];
        int index = self->issued++;
        *plan = (toa_gen_plan_t) {
            .kind = TOA_GEN_ANSWER,
            .model = self->allow_n ? index : index / self->samples,
            .depth = 0,
            .n_inputs = 0,
            .n = self->allow_n ? self->samples : 1,
            .tag = (uint64_t) index,
        };
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
};
