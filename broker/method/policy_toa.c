/* policy_toa.c - TOA as a policy: adapts the pure MCTS core (broker/method/mcts.h)
 * to policy.h. One expansion in flight per prompt (the reference's flow):
 * next() selects, the generation and its scoring happen, apply() commits the
 * response to the tree, then next() selects again.
 *
 * The broker numbers responses in generation order, failed ones included;
 * the tree numbers only the responses applied to it (g). This adapter maps
 * between the two: plans carry response indexes, the tree's j and g are
 * translated back in tree(). A failed generation abandons its selection
 * (the tree is unchanged) and counts against the budget.
 *
 * Models that are down (set_available) are masked out of selection
 * (toa_mcts_select_masked); a selection of a model that went down before
 * its task was sent is withdrawn (no trace, no budget) and the search
 * selects again. Because masked histories cannot be rebuilt by replaying
 * selection, restore() rebuilds the tree from each record's action
 * (model, layer, j, parent) with toa_mcts_locate + toa_mcts_apply. */
#include "broker/method/policy_toa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/method/mcts.h"

struct toa_policy_s {
    toa_mcts_t *mcts;
    int budget;              /* samples x models */
    int applied;             /* responses applied to the tree */
    int failed;              /* generations that failed (count against budget) */
    bool pending;            /* a selection is out, waiting for its apply */
    toa_mcts_action_t action;/* that selection */
    uint64_t tag;            /* plan tag of that selection */
    int *response_of_g;      /* tree g -> broker response index */
    int *depth_of_response;  /* broker response index -> its depth (0: an answer) */
    int *g_of_response;      /* broker response index -> tree g, -1: none (restore) */
    bool *available;         /* per model: may be selected */
    bool waiting;            /* the last next() found no available model */
};

static toa_policy_t *
s_create (const toa_policy_config_t *config, uint64_t prompt_seed, char *err,
          size_t err_size)
{
    (void) prompt_seed;      /* TOA's selection is deterministic: no randomness */
    toa_mcts_params_t params = {
        .n_models = config->n_models,
        .samples = config->samples,
        .width = config->width,
        .topk_child = config->topk_child,
        .alpha = config->alpha,
        .tau = config->tau,
    };
    toa_policy_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->budget = config->n_models * config->samples;
    self->mcts = toa_mcts_new (&params, err, err_size);
    self->response_of_g = calloc ((size_t) self->budget + 1, sizeof (int));
    self->depth_of_response = calloc ((size_t) self->budget + 1, sizeof (int));
    self->g_of_response = calloc ((size_t) self->budget + 1, sizeof (int));
    self->available = calloc ((size_t) config->n_models + 1, sizeof (bool));
    if (!self->mcts || !self->response_of_g || !self->depth_of_response
        || !self->g_of_response || !self->available) {
        if (self->mcts)
            snprintf (err, err_size, "out of memory");
        toa_mcts_destroy (&self->mcts);
        free (self->response_of_g);
        free (self->depth_of_response);
        free (self->g_of_response);
        free (self->available);
        free (self);
        return NULL;
    }
    for (int m = 0; m < config->n_models; m++)
        self->available[m] = true;
    for (int r = 0; r <= self->budget; r++)
        self->g_of_response[r] = -1;
    return self;
}

static int
s_next (toa_policy_t *self, toa_gen_plan_t *plans, int max)
{
    if (max < 1 || self->pending || self->applied + self->failed >= self->budget)
        return 0;
    toa_mcts_action_t action;
    int rc = toa_mcts_select_masked (self->mcts, self->available, &action);
    self->waiting = rc == TOA_MCTS_WAIT;
    if (rc != TOA_MCTS_SELECTED)
        return 0;
    int input = -1;
    if (action.j >= 0) {
        if (action.j >= self->applied)
            return 0;        /* cannot happen: j is an applied response */
        input = self->response_of_g[action.j];
    }
    int parent = action.parent_g >= 0 && action.parent_g < self->applied
                     ? self->response_of_g[action.parent_g] : -1;
    self->pending = true;
    self->action = action;
    self->tag++;
    plans[0] = (toa_gen_plan_t) {
        .kind = input >= 0 ? TOA_GEN_REFINE : TOA_GEN_ANSWER,
        .model = action.model,
        /* Depth as the result reports it: 0 answers the prompt (afresh
         * samples too), d refines a response of depth d - 1. */
        .depth = input >= 0 ? self->depth_of_response[input] + 1 : 0,
        .n_inputs = input >= 0 ? 1 : 0,
        .n = 1,
        .tag = self->tag,
        .layer = action.layer_id,
        .parent_g = parent,
    };
    plans[0].inputs[0] = input;
    return 1;
}

/* Tree response G is the prompt's response RESPONSE, made at DEPTH. */
static void
s_applied (toa_policy_t *self, int g, int response, int depth)
{
    self->applied++;
    self->response_of_g[g] = response;
    self->g_of_response[response] = g;
    self->depth_of_response[response] = depth;
}

static int
s_apply (toa_policy_t *self, const toa_gen_plan_t *plan, int response, double raw,
         bool failed)
{
    if (!self->pending || plan->tag != self->tag || plan->model != self->action.model
        || response < 0 || response > self->budget)
        return -1;
    if (failed) {
        self->failed++;
        self->pending = false;
        return 0;
    }
    int g = toa_mcts_apply (self->mcts, &self->action, raw, NULL);
    if (g < 0)
        return -1;
    self->pending = false;
    s_applied (self, g, response, plan->depth);
    return 0;
}

static void
s_set_available (toa_policy_t *self, const bool *available)
{
    const toa_mcts_params_t *params = toa_mcts_params (self->mcts);
    for (int m = 0; m < params->n_models; m++)
        self->available[m] = available[m];
}

static int
s_withdraw (toa_policy_t *self, const toa_gen_plan_t *plan)
{
    if (!self->pending || plan->tag != self->tag || plan->model != self->action.model)
        return -1;
    self->pending = false;   /* selection changes nothing: no trace left */
    self->tag--;             /* nor in the tags: the next plan takes this one's, as
                              * restore() numbers plans by their records */
    return 0;
}

static bool
s_waiting (const toa_policy_t *self)
{
    return self->waiting && !self->pending && self->applied + self->failed < self->budget;
}

/* The tree g of broker response RESPONSE, -1 for none (-1), or -2 when it
 * names no applied response. */
static int
s_tree_g (const toa_policy_t *self, int response)
{
    if (response < 0)
        return -1;
    if (response > self->budget || self->g_of_response[response] < 0)
        return -2;
    return self->g_of_response[response];
}

static int
s_restore (toa_policy_t *self, toa_gen_plan_t *plan, int response, double raw, bool failed,
           bool settled)
{
    if (self->pending || response < 0 || response > self->budget
        || self->applied + self->failed >= self->budget)
        return -1;
    plan->tag = ++self->tag;
    if (settled && failed) {
        self->failed++;
        return 0;
    }
    int j = plan->n_inputs > 0 ? s_tree_g (self, plan->inputs[0]) : -1;
    int parent_g = s_tree_g (self, plan->parent_g);
    if (j == -2 || parent_g == -2 || plan->layer < 1)
        return -1;
    toa_mcts_action_t action;
    if (toa_mcts_locate (self->mcts, plan->model, plan->layer, j, parent_g, &action) != 0)
        return -1;
    if (!settled) {
        self->pending = true;
        self->action = action;
        return 0;
    }
    int g = toa_mcts_apply (self->mcts, &action, raw, NULL);
    if (g < 0)
        return -1;
    s_applied (self, g, response, plan->depth);
    return 0;
}

static bool
s_done (const toa_policy_t *self)
{
    return self->applied + self->failed >= self->budget;
}

/* Rewrites a tree g (or j) field of NODE into the broker's response index. */
static void
s_translate (const toa_policy_t *self, json_t *node, const char *key)
{
    json_t *value = json_object_get (node, key);
    if (!json_is_integer (value))
        return;
    json_int_t g = json_integer_value (value);
    if (g >= 0 && g < self->applied)
        json_object_set_new (node, key, json_integer (self->response_of_g[g]));
}

static json_t *
s_tree (const toa_policy_t *self, const char *const *model_names)
{
    json_t *tree = toa_mcts_to_json (self->mcts, model_names);
    json_t *nodes = json_object_get (tree, "nodes");
    size_t index;
    json_t *node;
    json_array_foreach (nodes, index, node) {
        s_translate (self, node, "g");
        s_translate (self, node, "j");
    }
    return tree;
}

static void
s_write_tree (const toa_policy_t *self, const char *const *model_names, int precision,
              toa_json_writer_t *w)
{
    toa_mcts_write_json (self->mcts, model_names, self->response_of_g, self->applied,
                         precision, w);
}

static void
s_destroy (toa_policy_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_policy_t *self = *self_p;
    toa_mcts_destroy (&self->mcts);
    free (self->response_of_g);
    free (self->depth_of_response);
    free (self->g_of_response);
    free (self->available);
    free (self);
    *self_p = NULL;
}

const toa_policy_ops_t toa_policy_toa = {
    .name = "toa",
    .create = s_create,
    .next = s_next,
    .apply = s_apply,
    .done = s_done,
    .tree = s_tree,
    .write_tree = s_write_tree,
    .destroy = s_destroy,
    .set_available = s_set_available,
    .withdraw = s_withdraw,
    .waiting = s_waiting,
    .restore = s_restore,
};
