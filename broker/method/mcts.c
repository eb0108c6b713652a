/* mcts.c - the TOA Monte Carlo Tree Search of one prompt (see mcts.h).
 *
 * Nodes live in one growable array and refer to each other by index. The
 * root's and each response's children are contiguous runs of n_models nodes
 * (first_child, and afresh_first once created); an action node's responses,
 * its top-k by reward and its best reward live in a side record that exists
 * only once the action has a response (most action nodes are leaves). */
#include "broker/method/mcts.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int parent;              /* -1 for the root */
    int layer;
    int model;               /* action: model; response: its action's model; root: -1 */
    int j;                   /* action and response: input response g or -1 */
    int g;                   /* response: generation index; others -1 */
    int visits;
    int n_rewards;
    int first_child;         /* root, response: first of n_models children */
    int afresh_first;        /* response: first afresh child, -1 until created */
    int slot;                /* action: index in actions[], -1 while it has no response */
    int virtual_loss;        /* selections in flight through it (parallel expansions) */
    double reward_sum;       /* sequential sum of the reward list */
    double raw, reward;      /* response: raw and normalized reward */
    toa_mcts_kind_t kind;
} s_node_t;

typedef struct {
    int *responses;          /* response node ids, in generation order */
    int n_responses, cap_responses;
    int *top;                /* the best min(k, n) responses, by reward descending */
    int n_top, cap_top;
    double max_reward;       /* normalized reward of the best response */
} s_action_t;

struct toa_mcts_s {
    toa_mcts_params_t params;
    int budget;              /* samples x n_models */
    s_node_t *nodes;
    int n_nodes, cap_nodes;
    s_action_t *actions;
    int n_actions, cap_actions;
    int *gens;               /* g -> response node id */
    int n_gens, cap_gens;
    int *layer_count;        /* responses per layer */
    int cap_layers;
    int *scratch;            /* responses whose afresh children an apply creates */
    int cap_scratch;
    int best_g;
    toa_mcts_stats_t stats;
    char error[256];
};

static int
s_fail (toa_mcts_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
s_fail (toa_mcts_t *self, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->error, sizeof self->error, fmt, args);
    va_end (args);
    return -1;
}

/* Returns ARRAY (capacity *CAP elements of SIZE bytes) with room for NEED
 * >= 1 elements, moved if it grew (growth zero-filled), or NULL when out of
 * memory (ARRAY intact and still the caller's). */
static void *
s_grow (void *array, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return array;
    int64_t wanted = *cap > 0 ? *cap : 8;
    while (wanted < need)
        wanted *= 2;
    if (wanted > INT_MAX)
        wanted = INT_MAX;
    char *grown = realloc (array, (size_t) wanted * size);
    if (!grown)
        return NULL;
    memset (grown + (size_t) *cap * size, 0, (size_t) (wanted - *cap) * size);
    *cap = (int) wanted;
    return grown;
}

/* Grows OWNER->FIELD (capacity OWNER->CAP) to NEED elements, or returns -1
 * from the calling function. */
#define S_GROW(owner, field, cap, need) \
    do { \
        void *grown_ = s_grow ((owner)->field, &(owner)->cap, (need), sizeof *(owner)->field); \
        if (!grown_) \
            return -1; \
        (owner)->field = grown_; \
    } while (0)

static int
s_validate (const toa_mcts_params_t *params, char *err, size_t err_size)
{
    const char *why = NULL;
    char text[160];
    if (!params)
        why = "no parameters";
    else if (params->n_models < 1 || params->n_models > TOA_MCTS_MAX_MODELS) {
        snprintf (text, sizeof text, "n_models %d is outside 1..%d", params->n_models,
                  TOA_MCTS_MAX_MODELS);
        why = text;
    }
    else if (params->samples < 1) {
        snprintf (text, sizeof text, "samples %d is below 1", params->samples);
        why = text;
    }
    else if (params->width < params->n_models) {
        snprintf (text, sizeof text,
                  "width %d is below the number of models %d (the reference search "
                  "fails there)", params->width, params->n_models);
        why = text;
    }
    else if (params->topk_child < 1) {
        snprintf (text, sizeof text, "topk_child %d is below 1", params->topk_child);
        why = text;
    }
    else if (!isfinite (params->alpha) || params->alpha < 0)
        why = "alpha must be a finite number >= 0";
    else if (!isfinite (params->tau) || params->tau <= 0)
        why = "tau must be a finite number > 0";
    else {
        int64_t budget = (int64_t) params->samples * params->n_models;
        int64_t max_nodes = 1 + params->n_models + budget * (1 + 2 * (int64_t) params->n_models);
        if (max_nodes > INT_MAX) {
            snprintf (text, sizeof text, "samples x n_models = %lld is too large",
                      (long long) budget);
            why = text;
        }
    }
    if (!why)
        return 0;
    if (err && err_size)
        snprintf (err, err_size, "mcts: %s", why);
    return -1;
}

/* Appends a node; the caller has reserved room. Returns its id. */
static int
s_node_add (toa_mcts_t *self, toa_mcts_kind_t kind, int parent, int layer, int model, int j)
{
    int id = self->n_nodes++;
    s_node_t *node = &self->nodes[id];
    memset (node, 0, sizeof *node);
    node->kind = kind;
    node->parent = parent;
    node->layer = layer;
    node->model = model;
    node->j = j;
    node->g = -1;
    node->visits = 1;
    node->first_child = -1;
    node->afresh_first = -1;
    node->slot = -1;
    node->raw = NAN;
    node->reward = NAN;
    return id;
}

/* Appends one action child per model under PARENT; room is reserved. */
static int
s_add_actions (toa_mcts_t *self, int parent, int j)
{
    int first = self->n_nodes;
    int layer = self->nodes[parent].layer + 1;
    for (int m = 0; m < self->params.n_models; m++)
        s_node_add (self, TOA_MCTS_ACTION, parent, layer, m, j);
    return first;
}

static int
s_reserve_initial (toa_mcts_t *self, int n_models)
{
    S_GROW (self, nodes, cap_nodes, 1 + n_models);
    S_GROW (self, layer_count, cap_layers, 8);
    return 0;
}

toa_mcts_t *
toa_mcts_new (const toa_mcts_params_t *params, char *err, size_t err_size)
{
    if (s_validate (params, err, err_size) != 0)
        return NULL;
    toa_mcts_t *self = calloc (1, sizeof *self);
    if (!self || s_reserve_initial (self, params->n_models) != 0) {
        if (err && err_size)
            snprintf (err, err_size, "mcts: out of memory");
        toa_mcts_destroy (&self);
        return NULL;
    }
    self->params = *params;
    self->budget = params->samples * params->n_models;
    self->best_g = -1;
    int root = s_node_add (self, TOA_MCTS_ROOT, -1, 0, -1, -1);
    self->nodes[root].first_child = s_add_actions (self, root, -1);
    return self;
}

void
toa_mcts_destroy (toa_mcts_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_mcts_t *self = *self_p;
    for (int i = 0; i < self->cap_actions; i++) {   /* spare records may hold arrays */
        free (self->actions[i].responses);
        free (self->actions[i].top);
    }
    free (self->actions);
    free (self->nodes);
    free (self->gens);
    free (self->layer_count);
    free (self->scratch);
    free (self);
    *self_p = NULL;
}

/* UCB of a child with these statistics: +inf while it has no reward.
 * Virtual loss counts as visits with a reward of 0 (none out: the
 * reference's score, computed the same way). */
static double
s_score (const s_node_t *child, double log_n, double alpha)
{
    int virtual_loss = child->virtual_loss;
    if (child->n_rewards + virtual_loss == 0)
        return INFINITY;
    if (virtual_loss == 0)
        return child->reward_sum / child->n_rewards
               + alpha * sqrt (2.0 * log_n / (double) child->visits);
    return child->reward_sum / (child->n_rewards + virtual_loss)
           + alpha * sqrt (2.0 * log_n / (double) (child->visits + virtual_loss));
}

static int
s_layer_count (const toa_mcts_t *self, int layer)
{
    return layer < self->cap_layers ? self->layer_count[layer] : 0;
}

/* The reference's fully_expanded() for action node ID, except that an action
 * node without responses is never fully expanded. */
static bool
s_fully_expanded (const toa_mcts_t *self, int id)
{
    const s_node_t *node = &self->nodes[id];
    if (s_layer_count (self, node->layer + 1) < self->params.width || node->slot < 0)
        return false;
    const s_node_t *parent = &self->nodes[node->parent];
    if (parent->kind == TOA_MCTS_ROOT)
        return true;
    return self->actions[node->slot].max_reward > parent->reward;
}

static void
s_action_fill (const toa_mcts_t *self, int node, int parent, int model, toa_mcts_action_t *action)
{
    const s_node_t *up = &self->nodes[parent];
    action->node = node;
    action->parent = parent;
    action->parent_g = up->kind == TOA_MCTS_RESPONSE ? up->g : -1;
    action->model = model;
    action->layer_id = up->layer + 1;
    action->depth = up->layer / 2;
    action->j = node >= 0 ? self->nodes[node].j : -1;
}

/* Among the action children of root or response ID (available models only),
 * the best by UCB, the first on ties. Afresh children not created yet are
 * scored with the root's child for their model, which they would copy.
 * Returns the child id, or -(model + 2) for such a pending afresh child, or
 * INT_MIN when no child is available. */
static int
s_best_action (toa_mcts_t *self, int id, const bool *available, double log_n)
{
    const s_node_t *node = &self->nodes[id];
    const s_node_t *root = &self->nodes[0];
    int n_models = self->params.n_models;
    int best = INT_MIN;
    double best_score = 0;
    int runs = node->kind == TOA_MCTS_RESPONSE ? 2 : 1;
    for (int run = 0; run < runs; run++) {
        for (int m = 0; m < n_models; m++) {
            if (available && !available[m])
                continue;
            int child;
            const s_node_t *stats;
            if (run == 0)
                child = node->first_child + m;
            else if (node->afresh_first >= 0)
                child = node->afresh_first + m;
            else
                child = -(m + 2);
            stats = &self->nodes[child >= 0 ? child : root->first_child + m];
            double score = s_score (stats, log_n, self->params.alpha);
            self->stats.last_candidates++;
            if (best == INT_MIN || score > best_score) {
                best = child;
                best_score = score;
            }
        }
    }
    return best;
}

/* Among the responses of action node ID (which has some), the eligible one
 * with the best UCB, scanned in numpy argpartition's order (see mcts.h). */
static int
s_best_response (toa_mcts_t *self, int id, double log_n)
{
    const s_action_t *action = &self->actions[self->nodes[id].slot];
    int n = action->n_responses;
    int k = self->params.topk_child;
    int count = n <= k ? n : k;
    int lowest = 0;
    if (n <= k) {
        for (int i = 1; i < n; i++)
            if (self->nodes[action->responses[i]].reward
                < self->nodes[action->responses[lowest]].reward)
                lowest = i;
    }
    int best = -1;
    double best_score = 0;
    for (int p = 0; p < count; p++) {
        int child;
        if (n <= k)
            child = action->responses[p == 0 ? lowest : p == lowest ? 0 : p];
        else
            child = action->top[k - 1 - p];
        double score = s_score (&self->nodes[child], log_n, self->params.alpha);
        self->stats.last_candidates++;
        if (best < 0 || score > best_score) {
            best = child;
            best_score = score;
        }
    }
    return best;
}

static int
s_select (toa_mcts_t *self, const bool *available, toa_mcts_action_t *action)
{
    if (!action)
        return s_fail (self, "select: no action to write");
    if (self->n_gens >= self->budget)
        return TOA_MCTS_DONE;
    if (available) {
        int m = 0;
        while (m < self->params.n_models && !available[m])
            m++;
        if (m == self->params.n_models)
            return TOA_MCTS_WAIT;
    }
    self->stats.selects++;
    self->stats.last_steps = 0;
    self->stats.last_candidates = 0;
    double log_n = log ((double) (self->n_gens + 1));
    int current = 0;
    int rc = TOA_MCTS_SELECTED;
    for (;;) {
        self->stats.last_steps++;
        const s_node_t *node = &self->nodes[current];
        if (node->kind != TOA_MCTS_ACTION) {
            int child = s_best_action (self, current, available, log_n);
            if (child == INT_MIN) {
                rc = s_fail (self, "select: node %d has no available child", current);
                break;
            }
            if (child < 0) {
                s_action_fill (self, -1, current, -child - 2, action);
                break;
            }
            current = child;
        }
        else if (!s_fully_expanded (self, current)) {
            s_action_fill (self, current, node->parent, node->model, action);
            break;
        }
        else
            current = s_best_response (self, current, log_n);
    }
    self->stats.steps += self->stats.last_steps;
    self->stats.candidates += self->stats.last_candidates;
    if (self->stats.last_candidates > self->stats.max_candidates)
        self->stats.max_candidates = self->stats.last_candidates;
    return rc;
}

int
toa_mcts_select (toa_mcts_t *self, toa_mcts_action_t *action)
{
    return s_select (self, NULL, action);
}

int
toa_mcts_select_masked (toa_mcts_t *self, const bool *model_available,
                        toa_mcts_action_t *action)
{
    if (!model_available)
        return s_fail (self, "select: no availability mask");
    return s_select (self, model_available, action);
}

/* Resolves ACTION to its parent and action node (-1: afresh, not created
 * yet). Returns 0, or -1 with the reason when it is not an action here. */
static int
s_resolve (toa_mcts_t *self, const toa_mcts_action_t *action, int *node_out)
{
    int parent = action->parent;
    if (parent < 0 || parent >= self->n_nodes
        || self->nodes[parent].kind == TOA_MCTS_ACTION)
        return s_fail (self, "apply: parent %d is not the root or a response", parent);
    if (action->model < 0 || action->model >= self->params.n_models)
        return s_fail (self, "apply: model %d out of range", action->model);
    const s_node_t *up = &self->nodes[parent];
    if (action->layer_id != up->layer + 1)
        return s_fail (self, "apply: layer %d does not hang under node %d at layer %d",
                       action->layer_id, parent, up->layer);
    int node;
    if (up->kind == TOA_MCTS_ROOT && action->j == -1)
        node = up->first_child + action->model;
    else if (up->kind == TOA_MCTS_RESPONSE && action->j == up->g)
        node = up->first_child + action->model;
    else if (up->kind == TOA_MCTS_RESPONSE && action->j == -1)
        node = up->afresh_first >= 0 ? up->afresh_first + action->model : -1;
    else
        return s_fail (self, "apply: no action with j %d under node %d", action->j, parent);
    if (action->node >= 0 && action->node != node)
        return s_fail (self, "apply: action node %d is not (model %d, j %d) under node %d",
                       action->node, action->model, action->j, parent);
    *node_out = node;
    return 0;
}

/* Reserves everything applying to action NODE (-1: afresh under PARENT)
 * needs, so that the change itself cannot fail. Lists in scratch the
 * responses on the path whose afresh children must be created, deepest
 * first; returns their count, or -1 when out of memory. */
static int
s_prepare (toa_mcts_t *self, int node, int parent)
{
    int n_chain = 0;
    for (int r = parent; r > 0; r = self->nodes[self->nodes[r].parent].parent) {
        if (self->nodes[r].afresh_first >= 0)
            continue;
        S_GROW (self, scratch, cap_scratch, n_chain + 1);
        self->scratch[n_chain++] = r;
    }
    int n_models = self->params.n_models;
    S_GROW (self, nodes, cap_nodes, self->n_nodes + (n_chain + 1) * n_models + 1);
    S_GROW (self, gens, cap_gens, self->n_gens + 1);
    S_GROW (self, layer_count, cap_layers, self->nodes[parent].layer + 3);
    S_GROW (self, actions, cap_actions, self->n_actions + 1);
    /* The action's own arrays last: nothing after this can fail. */
    int slot = node >= 0 ? self->nodes[node].slot : -1;
    s_action_t *record = &self->actions[slot >= 0 ? slot : self->n_actions];
    int k = self->params.topk_child;
    S_GROW (record, responses, cap_responses, record->n_responses + 1);
    S_GROW (record, top, cap_top, record->n_top < k ? record->n_top + 1 : k);
    return n_chain;
}

/* Creates the afresh children of response R, copying the root's children. */
static void
s_add_afresh (toa_mcts_t *self, int r)
{
    int first = s_add_actions (self, r, -1);
    int root_first = self->nodes[0].first_child;
    for (int m = 0; m < self->params.n_models; m++) {
        s_node_t *copy = &self->nodes[first + m];
        const s_node_t *from = &self->nodes[root_first + m];
        copy->visits = from->visits;
        copy->n_rewards = from->n_rewards;
        copy->reward_sum = from->reward_sum;
    }
    self->nodes[r].afresh_first = first;
}

/* Adds response RESPONSE to action NODE's record (reserved by s_prepare). */
static void
s_action_add (toa_mcts_t *self, int node, int response)
{
    s_node_t *action_node = &self->nodes[node];
    if (action_node->slot < 0)
        action_node->slot = self->n_actions++;
    s_action_t *record = &self->actions[action_node->slot];
    double reward = self->nodes[response].reward;
    if (record->n_responses == 0 || reward > record->max_reward)
        record->max_reward = reward;
    record->responses[record->n_responses++] = response;
    int k = self->params.topk_child;
    int at = record->n_top;          /* insert after equal rewards: the earlier stays ahead */
    while (at > 0 && self->nodes[record->top[at - 1]].reward < reward)
        at--;
    if (at >= k)
        return;
    int last = record->n_top < k ? record->n_top : k - 1;
    memmove (&record->top[at + 1], &record->top[at], (size_t) (last - at) * sizeof (int));
    record->top[at] = response;
    if (record->n_top < k)
        record->n_top++;
}

static int
s_apply (toa_mcts_t *self, const toa_mcts_action_t *action, double raw, double tau,
         double *normalized_out)
{
    if (!action)
        return s_fail (self, "apply: no action");
    if (!isfinite (raw))
        return s_fail (self, "apply: raw reward is not a finite number");
    if (!isfinite (tau) || tau <= 0)
        return s_fail (self, "apply: tau must be a finite number > 0");
    if (self->n_gens >= self->budget)
        return s_fail (self, "apply: the budget of %d responses is already applied",
                       self->budget);
    int node = -1;
    if (s_resolve (self, action, &node) != 0)
        return -1;
    int n_chain = s_prepare (self, node, action->parent);
    if (n_chain < 0)
        return s_fail (self, "apply: out of memory");
    for (int i = n_chain - 1; i >= 0; i--)
        s_add_afresh (self, self->scratch[i]);
    if (node < 0)
        node = self->nodes[action->parent].afresh_first + action->model;

    double reward = 1.0 / (1.0 + exp (-raw / tau));
    int g = self->n_gens;
    const s_node_t *made_by = &self->nodes[node];
    int response = s_node_add (self, TOA_MCTS_RESPONSE, node, made_by->layer + 1,
                               made_by->model, made_by->j);
    s_node_t *added = &self->nodes[response];
    added->g = g;
    added->raw = raw;
    added->reward = reward;
    added->first_child = s_add_actions (self, response, g);
    s_action_add (self, node, response);
    self->layer_count[self->nodes[response].layer]++;
    for (int up = node; up >= 0; up = self->nodes[up].parent) {
        self->nodes[up].visits++;
        self->nodes[up].n_rewards++;
        self->nodes[up].reward_sum += reward;
    }
    self->gens[self->n_gens++] = response;
    if (self->best_g < 0 || raw > self->nodes[self->gens[self->best_g]].raw)
        self->best_g = g;
    if (normalized_out)
        *normalized_out = reward;
    return g;
}

int
toa_mcts_apply (toa_mcts_t *self, const toa_mcts_action_t *action, double raw,
                double *normalized_out)
{
    return s_apply (self, action, raw, self->params.tau, normalized_out);
}

int
toa_mcts_apply_tau (toa_mcts_t *self, const toa_mcts_action_t *action, double raw,
                    double tau, double *normalized_out)
{
    return s_apply (self, action, raw, tau, normalized_out);
}

int
toa_mcts_set_budget (toa_mcts_t *self, int budget)
{
    int64_t max_nodes = 1 + self->params.n_models
                        + (int64_t) budget * (1 + 2 * (int64_t) self->params.n_models);
    if (budget < self->n_gens || max_nodes > INT_MAX)
        return s_fail (self, "budget: %d responses is below those applied (%d) or too large",
                       budget, self->n_gens);
    self->budget = budget;
    return 0;
}

/* Adds DELTA virtual loss on the path of ACTION (see mcts.h). */
static void
s_virtual (toa_mcts_t *self, const toa_mcts_action_t *action, int delta)
{
    int start = action->node >= 0 ? action->node : action->parent;
    if (start < 0 || start >= self->n_nodes)
        return;
    for (int up = start; up >= 0; up = self->nodes[up].parent) {
        self->nodes[up].virtual_loss += delta;
        if (self->nodes[up].virtual_loss < 0)
            self->nodes[up].virtual_loss = 0;
    }
}

void
toa_mcts_virtual_add (toa_mcts_t *self, const toa_mcts_action_t *action)
{
    if (action)
        s_virtual (self, action, 1);
}

void
toa_mcts_virtual_remove (toa_mcts_t *self, const toa_mcts_action_t *action)
{
    if (action)
        s_virtual (self, action, -1);
}

double
toa_mcts_root_gain (const toa_mcts_t *self)
{
    double log_n = log ((double) (self->n_gens + 1));
    const s_node_t *root = &self->nodes[0];
    double best = -INFINITY;
    for (int m = 0; m < self->params.n_models; m++) {
        double score = s_score (&self->nodes[root->first_child + m], log_n, self->params.alpha);
        if (score > best)
            best = score;
    }
    return best;
}

int
toa_mcts_locate (toa_mcts_t *self, int model, int layer_id, int j, int parent_g,
                 toa_mcts_action_t *action)
{
    if (!action)
        return s_fail (self, "locate: no action to write");
    if (model < 0 || model >= self->params.n_models)
        return s_fail (self, "locate: model %d out of range", model);
    if (layer_id < 1 || layer_id % 2 == 0)
        return s_fail (self, "locate: layer %d is not an action layer", layer_id);
    if (parent_g != TOA_MCTS_PARENT_UNKNOWN && (parent_g < -1 || parent_g >= self->n_gens))
        return s_fail (self, "locate: parent response %d does not exist", parent_g);
    if (j < -1 || j >= self->n_gens)
        return s_fail (self, "locate: input response %d does not exist", j);
    int parent;
    if (layer_id == 1) {
        if (j != -1 || parent_g >= 0)
            return s_fail (self, "locate: a layer 1 action answers the prompt under the root");
        parent = 0;
    }
    else if (j >= 0) {
        if (parent_g != TOA_MCTS_PARENT_UNKNOWN && parent_g != j)
            return s_fail (self, "locate: refine action of response %d under response %d",
                           j, parent_g);
        parent = self->gens[j];
    }
    else {
        if (parent_g < 0)
            return s_fail (self, "locate: an afresh action at layer %d needs its parent "
                           "response", layer_id);
        parent = self->gens[parent_g];
    }
    const s_node_t *up = &self->nodes[parent];
    if (up->layer + 1 != layer_id)
        return s_fail (self, "locate: node %d at layer %d has no children at layer %d",
                       parent, up->layer, layer_id);
    int node;
    if (up->kind == TOA_MCTS_ROOT || j >= 0)
        node = up->first_child + model;
    else
        node = up->afresh_first >= 0 ? up->afresh_first + model : -1;
    s_action_fill (self, node, parent, model, action);
    return 0;
}

int
toa_mcts_replay_check (toa_mcts_t *self, const toa_mcts_action_t *action,
                       int model, int layer_id, int j)
{
    if (!action)
        return s_fail (self, "replay: no action");
    if (action->model == model && action->layer_id == layer_id && action->j == j)
        return 0;
    return s_fail (self, "replay: generation %d was (model %d, layer %d, j %d) but the "
                   "search selects (model %d, layer %d, j %d)", self->n_gens, model,
                   layer_id, j, action->model, action->layer_id, action->j);
}

int
toa_mcts_best (const toa_mcts_t *self)
{
    return self->best_g;
}

int
toa_mcts_response (const toa_mcts_t *self, int g, toa_mcts_response_t *out)
{
    if (!out || g < 0 || g >= self->n_gens)
        return -1;
    const s_node_t *node = &self->nodes[self->gens[g]];
    const s_node_t *up = &self->nodes[self->nodes[node->parent].parent];
    out->g = g;
    out->node = self->gens[g];
    out->model = node->model;
    out->layer_id = node->layer;
    out->depth = (node->layer - 2) / 2;
    out->j = node->j;
    out->action = node->parent;
    out->parent_g = up->kind == TOA_MCTS_RESPONSE ? up->g : -1;
    out->raw = node->raw;
    out->reward = node->reward;
    return 0;
}

static int
s_n_children (const toa_mcts_t *self, const s_node_t *node)
{
    switch (node->kind) {
        case TOA_MCTS_ROOT:
            return self->params.n_models;
        case TOA_MCTS_RESPONSE:
            return self->params.n_models * (node->afresh_first >= 0 ? 2 : 1);
        default:
            return node->slot >= 0 ? self->actions[node->slot].n_responses : 0;
    }
}

int
toa_mcts_node (const toa_mcts_t *self, int id, toa_mcts_node_t *out)
{
    if (!out || id < 0 || id >= self->n_nodes)
        return -1;
    const s_node_t *node = &self->nodes[id];
    out->kind = node->kind;
    out->id = id;
    out->parent = node->parent;
    out->layer_id = node->layer;
    out->model = node->model;
    out->j = node->kind == TOA_MCTS_ROOT ? -1 : node->j;
    out->g = node->g;
    out->visits = node->visits;
    out->n_rewards = node->n_rewards;
    out->reward_sum = node->reward_sum;
    out->mean_reward = node->n_rewards ? node->reward_sum / node->n_rewards : NAN;
    out->raw = node->raw;
    out->reward = node->reward;
    out->n_children = s_n_children (self, node);
    return 0;
}

int
toa_mcts_child (const toa_mcts_t *self, int id, int index)
{
    if (id < 0 || id >= self->n_nodes)
        return -1;
    const s_node_t *node = &self->nodes[id];
    int n_models = self->params.n_models;
    if (index < 0 || index >= s_n_children (self, node))
        return -1;
    if (node->kind == TOA_MCTS_ACTION)
        return self->actions[node->slot].responses[index];
    return index < n_models ? node->first_child + index : node->afresh_first + index - n_models;
}

int
toa_mcts_n_nodes (const toa_mcts_t *self)
{
    return self->n_nodes;
}

int
toa_mcts_n_responses (const toa_mcts_t *self)
{
    return self->n_gens;
}

int
toa_mcts_remaining (const toa_mcts_t *self)
{
    return self->budget - self->n_gens;
}

int
toa_mcts_n_played (const toa_mcts_t *self)
{
    return self->n_gens + 1;
}

const toa_mcts_params_t *
toa_mcts_params (const toa_mcts_t *self)
{
    return &self->params;
}

const char *
toa_mcts_error (const toa_mcts_t *self)
{
    return self->error;
}

void
toa_mcts_stats (const toa_mcts_t *self, toa_mcts_stats_t *out)
{
    if (out)
        *out = self->stats;
}

/* Sets KEY of OBJECT to VALUE (stolen). Returns 0, or -1 on failure. */
static int
s_set (json_t *object, const char *key, json_t *value)
{
    return value && json_object_set_new (object, key, value) == 0 ? 0 : -1;
}

static json_t *
s_model_json (int model, const char *const *model_names)
{
    if (model_names && model_names[model])
        return json_string (model_names[model]);
    return json_integer (model);
}

static json_t *
s_node_json (const toa_mcts_t *self, int id, const char *const *model_names)
{
    const s_node_t *node = &self->nodes[id];
    static const char *const kinds[] = {"root", "action", "response"};
    json_t *object = json_object ();
    if (!object)
        return NULL;
    int rc = s_set (object, "id", json_integer (id));
    rc |= s_set (object, "parent", node->parent >= 0 ? json_integer (node->parent) : json_null ());
    rc |= s_set (object, "kind", json_string (kinds[node->kind]));
    rc |= s_set (object, "layer", json_integer (node->layer));
    rc |= s_set (object, "visits", json_integer (node->visits));
    rc |= s_set (object, "n_rewards", json_integer (node->n_rewards));
    rc |= s_set (object, "mean_reward", node->n_rewards
                 ? json_real (node->reward_sum / node->n_rewards) : json_null ());
    if (node->kind == TOA_MCTS_ACTION) {
        rc |= s_set (object, "model", s_model_json (node->model, model_names));
        rc |= s_set (object, "depth", json_integer ((node->layer - 1) / 2));
        rc |= s_set (object, "j", json_integer (node->j));
    }
    else if (node->kind == TOA_MCTS_RESPONSE) {
        rc |= s_set (object, "model", s_model_json (node->model, model_names));
        rc |= s_set (object, "depth", json_integer ((node->layer - 2) / 2));
        rc |= s_set (object, "g", json_integer (node->g));
        rc |= s_set (object, "raw", json_real (node->raw));
        rc |= s_set (object, "reward", json_real (node->reward));
    }
    if (rc != 0)
        json_decref (object);
    return rc != 0 ? NULL : object;
}

json_t *
toa_mcts_to_json (const toa_mcts_t *self, const char *const *model_names)
{
    json_t *nodes = json_array ();
    json_t *tree = json_object ();
    if (!nodes || !tree || json_object_set (tree, "nodes", nodes) != 0) {
        json_decref (nodes);
        json_decref (tree);
        return NULL;
    }
    for (int id = 0; id < self->n_nodes; id++) {
        json_t *node = s_node_json (self, id, model_names);
        if (!node || json_array_append_new (nodes, node) != 0) {
            json_decref (nodes);
            json_decref (tree);
            return NULL;
        }
    }
    json_decref (nodes);
    return tree;
}

static void
s_write_g (toa_json_writer_t *w, const char *key, int value, const int *map, int n_map)
{
    toa_json_lit (w, key);
    toa_json_int (w, map && value >= 0 && value < n_map ? map[value] : value);
}

static void
s_write_model (toa_json_writer_t *w, int model, const char *const *model_names)
{
    toa_json_lit (w, ",\"model\":");
    if (model_names && model_names[model])
        toa_json_string (w, model_names[model]);
    else
        toa_json_int (w, model);
}

void
toa_mcts_write_json (const toa_mcts_t *self, const char *const *model_names, const int *map,
                     int n_map, int precision, toa_json_writer_t *w)
{
    static const char *const kind_names[] = {
        ",\"kind\":\"root\"", ",\"kind\":\"action\"", ",\"kind\":\"response\""};
    toa_json_lit (w, "{\"nodes\":[");
    for (int id = 0; id < self->n_nodes; id++) {
        const s_node_t *node = &self->nodes[id];
        toa_json_lit (w, id ? ",{\"id\":" : "{\"id\":");
        toa_json_int (w, id);
        toa_json_lit (w, ",\"parent\":");
        if (node->parent >= 0)
            toa_json_int (w, node->parent);
        else
            toa_json_lit (w, "null");
        toa_json_lit (w, kind_names[node->kind]);
        toa_json_lit (w, ",\"layer\":");
        toa_json_int (w, node->layer);
        toa_json_lit (w, ",\"visits\":");
        toa_json_int (w, node->visits);
        toa_json_lit (w, ",\"n_rewards\":");
        toa_json_int (w, node->n_rewards);
        toa_json_lit (w, ",\"mean_reward\":");
        if (node->n_rewards)
            toa_json_real (w, node->reward_sum / node->n_rewards, precision);
        else
            toa_json_lit (w, "null");
        if (node->kind == TOA_MCTS_ACTION) {
            s_write_model (w, node->model, model_names);
            toa_json_lit (w, ",\"depth\":");
            toa_json_int (w, (node->layer - 1) / 2);
            s_write_g (w, ",\"j\":", node->j, map, n_map);
        }
        else if (node->kind == TOA_MCTS_RESPONSE) {
            s_write_model (w, node->model, model_names);
            toa_json_lit (w, ",\"depth\":");
            toa_json_int (w, (node->layer - 2) / 2);
            s_write_g (w, ",\"g\":", node->g, map, n_map);
            toa_json_lit (w, ",\"raw\":");
            toa_json_real (w, node->raw, precision);
            toa_json_lit (w, ",\"reward\":");
            toa_json_real (w, node->reward, precision);
        }
        toa_json_lit (w, "}");
    }
    toa_json_lit (w, "]}");
}
