/* policy_toa.c - TOA as a policy: adapts the pure MCTS core (broker/method/mcts.h)
 * to policy.h. By default one expansion in flight per prompt (the
 * reference's flow): next() selects, the generation and its scoring happen,
 * apply() commits the response to the tree, then next() selects again. With
 * parallel_expansions = k > 1, up to k selections are out at once, each
 * holding a virtual loss on its path until its result comes back.
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

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/method/mcts.h"

/* Rewards a prompt needs before tau "auto" uses its own (else the job's). */
#define S_TAU_MIN_REWARDS 4
/* tau "auto" before any reward spread is known (the reference's default). */
#define S_TAU_DEFAULT 0.1

/* One selection out, waiting for its apply. */
typedef struct {
    toa_mcts_action_t action;
    uint64_t tag;
    bool virtual_loss;       /* holds a virtual loss on its path */
} s_pending_t;

struct toa_policy_s {
    toa_mcts_t *mcts;
    int budget;              /* generations this prompt may start */
    int capacity;            /* room in the per-response arrays (budget + 1 at least) */
    int applied;             /* responses applied to the tree */
    int failed;              /* generations that failed (count against budget) */
    int parallel;            /* selections out at once, at most */
    s_pending_t *pending;    /* selections out (parallel of them at most) */
    int n_pending;
    uint64_t tag;            /* tag of the latest selection */
    int *response_of_g;      /* tree g -> broker response index */
    int *depth_of_response;  /* broker response index -> its depth (0: an answer) */
    int *g_of_response;      /* broker response index -> tree g, -1: none (restore) */
    double *tau_of_response; /* broker response index -> tau it was normalized with */
    bool *available;         /* per model: may be selected */
    bool waiting;            /* the last next() found no available model */
    bool tau_auto;
    toa_reward_stats_t rewards;      /* this prompt's raw rewards (tau auto) */
    toa_reward_stats_t *job_rewards; /* the job's (tau auto), or NULL */
};

/* Makes room for responses 0..BUDGET. Returns 0 or -1 (out of memory). */
static int
s_reserve (toa_policy_t *self, int budget)
{
    int need = budget + 1;
    if (need <= self->capacity)
        return 0;
    int *a = realloc (self->response_of_g, (size_t) need * sizeof *a);
    if (a)
        self->response_of_g = a;
    int *b = a ? realloc (self->depth_of_response, (size_t) need * sizeof *b) : NULL;
    if (b)
        self->depth_of_response = b;
    int *c = b ? realloc (self->g_of_response, (size_t) need * sizeof *c) : NULL;
    if (c)
        self->g_of_response = c;
    double *d = c ? realloc (self->tau_of_response, (size_t) need * sizeof *d) : NULL;
    if (!d)
        return -1;
    self->tau_of_response = d;
    for (int r = self->capacity; r < need; r++) {
        self->response_of_g[r] = 0;
        self->depth_of_response[r] = 0;
        self->g_of_response[r] = -1;
        self->tau_of_response[r] = 0;
    }
    self->capacity = need;
    return 0;
}

static void s_destroy (toa_policy_t **self_p);

static toa_policy_t *
s_create (const toa_policy_config_t *config, uint64_t prompt_seed, char *err,
          size_t err_size)
{
    (void) prompt_seed;      /* TOA's selection is deterministic: no randomness */
    int budget = config->budget > 0 ? config->budget : config->n_models * config->samples;
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
    self->budget = budget;
    self->parallel = config->parallel_expansions > 1 ? config->parallel_expansions : 1;
    self->tau_auto = config->tau_auto;
    self->job_rewards = config->job_rewards;
    self->mcts = toa_mcts_new (&params, err, err_size);
    if (self->mcts && toa_mcts_set_budget (self->mcts, budget) != 0) {
        snprintf (err, err_size, "%s", toa_mcts_error (self->mcts));
        toa_mcts_destroy (&self->mcts);
    }
    if (!self->mcts) {
        s_destroy (&self);
        return NULL;
    }
    self->pending = calloc ((size_t) self->parallel, sizeof *self->pending);
    self->available = calloc ((size_t) config->n_models + 1, sizeof (bool));
    if (!self->pending || !self->available || s_reserve (self, budget) != 0) {
        snprintf (err, err_size, "out of memory");
        s_destroy (&self);
        return NULL;
    }
    for (int m = 0; m < config->n_models; m++)
        self->available[m] = true;
    return self;
}

/* Index of the pending selection with PLAN's tag and model, or -1. */
static int
s_find_pending (const toa_policy_t *self, const toa_gen_plan_t *plan)
{
    for (int i = 0; i < self->n_pending; i++)
        if (self->pending[i].tag == plan->tag && self->pending[i].action.model == plan->model)
            return i;
    return -1;
}

/* Takes pending selection I out (its virtual loss too); keeps the order. */
static void
s_drop_pending (toa_policy_t *self, int i)
{
    if (self->pending[i].virtual_loss)
        toa_mcts_virtual_remove (self->mcts, &self->pending[i].action);
    memmove (&self->pending[i], &self->pending[i + 1],
             (size_t) (self->n_pending - i - 1) * sizeof *self->pending);
    self->n_pending--;
}

/* Puts ACTION out as pending with a new tag; k > 1: with a virtual loss. */
static uint64_t
s_add_pending (toa_policy_t *self, const toa_mcts_action_t *action)
{
    s_pending_t *slot = &self->pending[self->n_pending++];
    slot->action = *action;
    slot->tag = ++self->tag;
    slot->virtual_loss = self->parallel > 1;
    if (slot->virtual_loss)
        toa_mcts_virtual_add (self->mcts, action);
    return slot->tag;
}

static int
s_next (toa_policy_t *self, toa_gen_plan_t *plans, int max)
{
    int count = 0;
    while (count < max && self->n_pending < self->parallel
           && self->applied + self->failed + self->n_pending < self->budget) {
        toa_mcts_action_t action;
        int rc = toa_mcts_select_masked (self->mcts, self->available, &action);
        self->waiting = rc == TOA_MCTS_WAIT;
        if (rc != TOA_MCTS_SELECTED)
            break;
        int input = -1;
        if (action.j >= 0) {
            if (action.j >= self->applied)
                break;       /* cannot happen: j is an applied response */
            input = self->response_of_g[action.j];
        }
        int parent = action.parent_g >= 0 && action.parent_g < self->applied
                         ? self->response_of_g[action.parent_g] : -1;
        uint64_t tag = s_add_pending (self, &action);
        plans[count] = (toa_gen_plan_t) {
            .kind = input >= 0 ? TOA_GEN_REFINE : TOA_GEN_ANSWER,
            .model = action.model,
            /* Depth as the result reports it: 0 answers the prompt (afresh
             * samples too), d refines a response of depth d - 1. */
            .depth = input >= 0 ? self->depth_of_response[input] + 1 : 0,
            .n_inputs = input >= 0 ? 1 : 0,
            .n = 1,
            .tag = tag,
            .layer = action.layer_id,
            .parent_g = parent,
        };
        plans[count].inputs[0] = input;
        count++;
    }
    return count;
}

/* Tree response G is the prompt's response RESPONSE, made at DEPTH. */
static void
s_applied (toa_policy_t *self, int g, int response, int depth, double tau)
{
    self->applied++;
    self->response_of_g[g] = response;
    self->g_of_response[response] = g;
    self->depth_of_response[response] = depth;
    self->tau_of_response[response] = tau;
}

static double
s_rms (const toa_reward_stats_t *stats)
{
    return stats->n > 0 ? sqrt (stats->sum_squares / (double) stats->n) : 0;
}

/* tau "auto" for a new reward RAW (counted first): the root mean square of
 * the prompt's raw rewards (their spread around 0, the sigmoid's centre)
 * once it has S_TAU_MIN_REWARDS of them, else the job's while the job has
 * that many, else the prompt's; S_TAU_DEFAULT while every reward is 0. */
static double
s_auto_tau (toa_policy_t *self, double raw)
{
    self->rewards.n++;
    self->rewards.sum_squares += raw * raw;
    if (self->job_rewards) {
        self->job_rewards->n++;
        self->job_rewards->sum_squares += raw * raw;
    }
    double tau = s_rms (&self->rewards);
    if (self->rewards.n < S_TAU_MIN_REWARDS && self->job_rewards
        && self->job_rewards->n >= S_TAU_MIN_REWARDS)
        tau = s_rms (self->job_rewards);
    return tau > 1e-12 && isfinite (tau) ? tau : S_TAU_DEFAULT;
}

/* Applies RAW to ACTION: with the fixed tau, or tau auto (KEPT > 0: the
 * tau a restored record was normalized with). Returns the g or -1. */
static int
s_commit (toa_policy_t *self, const toa_mcts_action_t *action, double raw, double kept,
          double *tau_out)
{
    *tau_out = 0;
    if (!self->tau_auto)
        return toa_mcts_apply (self->mcts, action, raw, NULL);
    double tau = s_auto_tau (self, raw);
    if (kept > 0)
        tau = kept;
    *tau_out = tau;
    return toa_mcts_apply_tau (self->mcts, action, raw, tau, NULL);
}

static int
s_apply (toa_policy_t *self, const toa_gen_plan_t *plan, int response, double raw,
         bool failed)
{
    int i = s_find_pending (self, plan);
    if (i < 0 || response < 0 || response >= self->capacity)
        return -1;
    toa_mcts_action_t action = self->pending[i].action;
    s_drop_pending (self, i);
    if (failed) {
        self->failed++;
        return 0;
    }
    double tau;
    int g = s_commit (self, &action, raw, 0, &tau);
    if (g < 0)
        return -1;
    s_applied (self, g, response, plan->depth, tau);
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
    int i = s_find_pending (self, plan);
    if (i < 0)
        return -1;
    s_drop_pending (self, i);/* selection changes nothing: no trace left */
    if (plan->tag == self->tag)
        self->tag--;         /* nor in the tags: the next plan takes this one's, as
                              * restore() numbers plans by their records */
    return 0;
}

static bool
s_waiting (const toa_policy_t *self)
{
    return self->waiting && self->n_pending == 0
           && self->applied + self->failed < self->budget;
}

/* The tree g of broker response RESPONSE, -1 for none (-1), or -2 when it
 * names no applied response. */
static int
s_tree_g (const toa_policy_t *self, int response)
{
    if (response < 0)
        return -1;
    if (response >= self->capacity || self->g_of_response[response] < 0)
        return -2;
    return self->g_of_response[response];
}

static int
s_restore (toa_policy_t *self, toa_gen_plan_t *plan, int response, double raw, bool failed,
           bool settled)
{
    if (self->n_pending >= self->parallel || response < 0 || response >= self->capacity
        || self->applied + self->failed + self->n_pending >= self->budget)
        return -1;
    if (settled && failed) {
        plan->tag = ++self->tag;
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
        plan->tag = s_add_pending (self, &action);
        return 0;
    }
    plan->tag = ++self->tag;
    double tau;
    int g = s_commit (self, &action, raw, plan->tau, &tau);
    if (g < 0)
        return -1;
    s_applied (self, g, response, plan->depth, tau);
    return 0;
}

static bool
s_done (const toa_policy_t *self)
{
    return self->applied + self->failed >= self->budget;
}

static int
s_extend (toa_policy_t *self, int extra)
{
    if (extra < 0 || s_reserve (self, self->budget + extra) != 0
        || toa_mcts_set_budget (self->mcts, self->budget + extra) != 0)
        return -1;
    self->budget += extra;
    return 0;
}

static int
s_chunk (const toa_policy_t *self)
{
    return self->parallel;
}

static double
s_gain (const toa_policy_t *self)
{
    return toa_mcts_root_gain (self->mcts);
}

static double
s_response_tau (const toa_policy_t *self, int response)
{
    return response >= 0 && response < self->capacity ? self->tau_of_response[response] : 0;
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
    free (self->pending);
    free (self->response_of_g);
    free (self->depth_of_response);
    free (self->g_of_response);
    free (self->tau_of_response);
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
    .extend = s_extend,
    .chunk = s_chunk,
    .gain = s_gain,
    .response_tau = s_response_tau,
};
