/* mcts.h - the TOA Monte Carlo Tree Search of one prompt, as a pure core.
 *
 * No I/O, no clock, no randomness: the tree is a function of its parameters
 * and of the ordered list of results applied to it. It reproduces the
 * reference code (github.com/oceanypt/TOA code/ensemble_methods.py, see
 * tests/unit/data/conformance/README.md) play by play:
 *
 *  - Layers: the root is 0, action nodes ("model m generates, refining
 *    response j or answering afresh") are odd, responses are even.
 *  - The root has one action child per model. A response gets one refine
 *    child per model (j = its g) when it is created, and one "afresh" child
 *    per model (j = -1) the first time a selection passes through it; an
 *    afresh child starts with the visits and rewards of the root's child for
 *    that model at that moment. Refine children come first.
 *  - Every node starts with visits = 1 and no rewards. A result's normalized
 *    reward 1 / (1 + exp(-raw / tau)) is added to every node from the
 *    expanded action node up to the root (visits + 1 each).
 *  - Selection walks from the root. An action node at layer L is returned
 *    for expansion unless the tree holds >= width responses at layer L + 1
 *    and either its parent is the root or one of its responses has a
 *    normalized reward strictly above its parent response's. Elsewhere the
 *    walk takes the child with the highest mean + alpha*sqrt(2 ln N / visits)
 *    (N = responses applied + 1; +inf for a child with no rewards); the first
 *    of equal scores wins. Among an action node's responses only the
 *    topk_child best by reward are candidates, ordered as numpy's
 *    argpartition orders them (see toa_mcts_select).
 *
 * Two deliberate differences from the reference, neither visible when
 * results are applied one at a time in selection order:
 *  - Selection changes nothing. The afresh children a selection walks
 *    through are scored from the root's children and created by
 *    toa_mcts_apply when it commits that action, copying the root's children
 *    as they are then. Applied right after its selection (the reference's
 *    only flow) that is the very moment the reference copies them; an
 *    abandoned selection (a failed generation, a masked retry) leaves no
 *    trace, which is what makes replay exact.
 *  - An action node with no response is always expanded. The reference
 *    crashes there (IndexError) when width < n_models; toa_mcts_new rejects
 *    width < n_models, so this only matters after masked selections let some
 *    models fill a layer while another model was unavailable.
 *
 * Cost: one selection scans at most 2 x n_models children per root or
 * response on its path and at most topk_child responses per action node,
 * whatever the tree's size: responses per layer are counted as they are
 * added, and each action node keeps its best reward and its top-k.
 *
 * Replay contract (restoring a tree after a restart): because selection is
 * pure, applying the same actions with the same raw rewards in the same order
 * to a new tree with the same parameters rebuilds it exactly (same nodes,
 * ids, statistics, toa_mcts_to_json output). For each persisted generation,
 * in generation order, either
 *  (a) toa_mcts_locate (model, layer_id, j, parent_g), then toa_mcts_apply:
 *      exact for any history, masked selections included; parent_g (the g of
 *      the response the action hangs under, toa_mcts_response_t.parent_g) is
 *      needed only for afresh actions below the root; or
 *  (b) toa_mcts_select, toa_mcts_replay_check (model, layer_id, j), then
 *      toa_mcts_apply: needs only (model, layer_id, j) but holds only when
 *      the original run used unmasked selection; a mismatch is an error
 *      (the records do not belong to this search, or were made with masks).
 * Generation indexes g count applied responses only (a generation that
 * failed and was never applied has no g here). */
#ifndef TOA_MCTS_H
#define TOA_MCTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "common/json.h"

#define TOA_MCTS_MAX_MODELS 256

/* Return codes of selection (besides -1 = error). */
#define TOA_MCTS_SELECTED 0     /* an action was written */
#define TOA_MCTS_WAIT 1         /* no model is available: nothing to do now */
#define TOA_MCTS_DONE 2         /* samples x n_models responses are applied */

/* toa_mcts_locate's parent_g when it is not known. */
#define TOA_MCTS_PARENT_UNKNOWN (-2)

typedef struct {
    int n_models;            /* 1 .. TOA_MCTS_MAX_MODELS */
    int samples;             /* per model: budget = samples x n_models */
    int width;               /* >= n_models */
    int topk_child;          /* >= 1 */
    double alpha;            /* exploration weight, >= 0 */
    double tau;              /* reward temperature, > 0 */
} toa_mcts_params_t;

typedef enum {
    TOA_MCTS_ROOT = 0,
    TOA_MCTS_ACTION = 1,
    TOA_MCTS_RESPONSE = 2
} toa_mcts_kind_t;

/* An action to expand: "model generates", from the prompt (j = -1) or
 * refining response j. Identified by (parent, model, j); node is a hint. */
typedef struct {
    int node;                /* action node id, -1: an afresh child apply creates */
    int parent;              /* id of the root or response it hangs under */
    int parent_g;            /* g of that response, -1 for the root */
    int model;               /* model index */
    int layer_id;            /* odd: 1 under the root */
    int depth;               /* refine depth (layer_id - 1) / 2 */
    int j;                   /* g of the response to refine, or -1 */
} toa_mcts_action_t;

/* One applied response. */
typedef struct {
    int g;                   /* generation index (order of apply) */
    int node;                /* its node id */
    int model;               /* the model that generated it */
    int layer_id;            /* even, >= 2 */
    int depth;               /* depth of its action: (layer_id - 2) / 2 */
    int j;                   /* g of the response it refined, -1: answered the prompt */
    int action;              /* id of the action node that generated it */
    int parent_g;            /* g of the response above that action, -1: root */
    double raw;              /* reward as scored */
    double reward;           /* normalized: 1 / (1 + exp(-raw / tau)) */
} toa_mcts_response_t;

/* One node as it stands. */
typedef struct {
    toa_mcts_kind_t kind;
    int id;
    int parent;              /* -1 for the root */
    int layer_id;
    int model;               /* action: its model; response: the model that made it; root: -1 */
    int j;                   /* action: input response g or -1; others -1 */
    int g;                   /* response: generation index; others -1 */
    int visits;
    int n_rewards;
    double reward_sum;       /* sequential sum of the reward list */
    double mean_reward;      /* reward_sum / n_rewards, NAN when n_rewards == 0 */
    double raw, reward;      /* response only (NAN otherwise) */
    int n_children;
} toa_mcts_node_t;

/* Counters of selection work, for tests of its cost. */
typedef struct {
    uint64_t selects;        /* walks run (a DONE or WAIT answer walks nothing) */
    uint64_t steps;          /* nodes all walks descended through */
    uint64_t candidates;     /* children scored, over all selections */
    uint64_t last_steps;     /* of the latest selection */
    uint64_t last_candidates;
    uint64_t max_candidates; /* largest last_candidates seen */
} toa_mcts_stats_t;

typedef struct toa_mcts_s toa_mcts_t;

/* Returns a new tree (the root and its action children), or NULL with the
 * reason in ERR (when not NULL): bad or inconsistent parameters (width below
 * n_models, where the reference crashes), or out of memory. */
toa_mcts_t *toa_mcts_new (const toa_mcts_params_t *params, char *err, size_t err_size);

/* Frees the tree and nulls *SELF_P; safe on NULL and twice. */
void toa_mcts_destroy (toa_mcts_t **self_p);

/* Runs the reference's selection from the root and writes the action to
 * expand. Changes no node (see "Selection changes nothing" above). Among the
 * n responses of an action node, with k = topk_child, the candidates are
 * scanned in this order (numpy argpartition(rewards, -k)[-k:]):
 *   n <= k: creation order with the first lowest-reward response swapped to
 *           the front; k = 1: the best; k = 2: [second best, best];
 *   k >= 3 and n > k: ascending reward (numpy's introselect order is not
 *           reproduced; it decides only ties between unvisited responses).
 * Returns TOA_MCTS_SELECTED, TOA_MCTS_DONE when the budget is applied, or -1
 * (reason in toa_mcts_error). */
int toa_mcts_select (toa_mcts_t *self, toa_mcts_action_t *action);

/* As toa_mcts_select, but an action node whose model has
 * MODEL_AVAILABLE[model] false (an array of n_models) is never chosen: at the
 * root and at every response the walk takes the best-scoring child among the
 * available models; the rest of the walk is unchanged. Every response has a
 * child per model, so this finds an action whenever one model is available.
 * Returns TOA_MCTS_SELECTED, TOA_MCTS_WAIT when no model is available,
 * TOA_MCTS_DONE, or -1. With every model available it equals
 * toa_mcts_select. */
int toa_mcts_select_masked (toa_mcts_t *self, const bool *model_available,
                            toa_mcts_action_t *action);

/* Applies a generated and scored response to ACTION (from select or
 * locate, on this tree): creates the afresh children its selection passed
 * through, adds the response (g = responses applied so far) with its refine
 * children, and backs the normalized reward up from the action node to the
 * root. Writes the normalized reward to *NORMALIZED_OUT when not NULL.
 * Returns the new g, or -1 (nothing changed; reason in toa_mcts_error) when
 * ACTION is not an action of this tree, RAW is not finite, or the budget is
 * already applied. */
int toa_mcts_apply (toa_mcts_t *self, const toa_mcts_action_t *action, double raw,
                    double *normalized_out);

/* As toa_mcts_apply, normalizing with TAU (> 0) instead of the tree's tau
 * (tau "auto": the temperature changes as rewards come in; each response
 * keeps the normalized reward it was applied with). */
int toa_mcts_apply_tau (toa_mcts_t *self, const toa_mcts_action_t *action, double raw,
                        double tau, double *normalized_out);

/* BUDGET responses may be applied in all (samples x n_models at creation;
 * another budget per prompt, or more that a job-wide budget gave). Returns
 * 0, or -1 when BUDGET is below the responses applied or too large. */
int toa_mcts_set_budget (toa_mcts_t *self, int budget);

/* Virtual loss, for parallel expansions (several selections in flight):
 * toa_mcts_virtual_add counts every node from ACTION's node (or, for an
 * afresh action not created yet, its parent) up to the root as visited once
 * more with a pessimistic normalized reward of 0, until
 * toa_mcts_virtual_remove takes the same away (before ACTION is applied or
 * abandoned). Selection scores a child with its real and virtual
 * statistics together; nothing else sees virtual loss (the afresh children
 * an apply creates copy the root's children without it, the result tree
 * shows none). With no virtual loss out the tree is exactly the reference's. */
void toa_mcts_virtual_add (toa_mcts_t *self, const toa_mcts_action_t *action);
void toa_mcts_virtual_remove (toa_mcts_t *self, const toa_mcts_action_t *action);

/* The best UCB among the root's action children as the next selection would
 * score them (+inf while a child has no reward): what the search still
 * expects from one more generation. */
double toa_mcts_root_gain (const toa_mcts_t *self);

/* Rebuilds the action (MODEL, LAYER_ID, J) that hangs under the response
 * PARENT_G (-1: the root) without selecting. For the root's children
 * (LAYER_ID 1) and refine actions (J >= 0, parent is response J) PARENT_G may
 * be TOA_MCTS_PARENT_UNKNOWN; an afresh action below the root (J = -1,
 * LAYER_ID >= 3) needs it. Returns 0, or -1 when no such action exists. */
int toa_mcts_locate (toa_mcts_t *self, int model, int layer_id, int j, int parent_g,
                     toa_mcts_action_t *action);

/* Returns 0 when ACTION (just selected) is the recorded (MODEL, LAYER_ID,
 * J), else -1 with both in toa_mcts_error. */
int toa_mcts_replay_check (toa_mcts_t *self, const toa_mcts_action_t *action,
                           int model, int layer_id, int j);

/* g of the response with the largest raw reward (the first on ties), or -1
 * when there is none. */
int toa_mcts_best (const toa_mcts_t *self);

/* Writes response G. Returns 0, or -1 when G is out of range. */
int toa_mcts_response (const toa_mcts_t *self, int g, toa_mcts_response_t *out);

/* Writes node ID. Returns 0, or -1 when ID is out of range. */
int toa_mcts_node (const toa_mcts_t *self, int id, toa_mcts_node_t *out);

/* Id of child INDEX of node ID in the reference's order (root: one per
 * model; response: refine children then afresh children; action: its
 * responses in generation order), or -1 when out of range. */
int toa_mcts_child (const toa_mcts_t *self, int id, int index);

int toa_mcts_n_nodes (const toa_mcts_t *self);
int toa_mcts_n_responses (const toa_mcts_t *self);
/* Responses still to apply (samples x n_models - applied). */
int toa_mcts_remaining (const toa_mcts_t *self);
/* N in ln N for the next selection: responses applied + 1. */
int toa_mcts_n_played (const toa_mcts_t *self);
const toa_mcts_params_t *toa_mcts_params (const toa_mcts_t *self);

/* The tree for a result's "tree" field: {"nodes": [...]} in id order (a
 * parent comes before its children; siblings are in toa_mcts_child order),
 * each {id, parent (null for the root), kind ("root"|"action"|"response"),
 * layer, visits, n_rewards, mean_reward (null when none)}, plus for actions
 * {model, depth, j} and for responses {model, depth, g, raw, reward}. model
 * is MODEL_NAMES[index] when MODEL_NAMES is not NULL, else the index.
 * Returns a new reference, or NULL when out of memory. */
json_t *toa_mcts_to_json (const toa_mcts_t *self, const char *const *model_names);

/* Appends to W the JSON text json_dumps (toa_mcts_to_json (...),
 * JSON_COMPACT | JSON_REAL_PRECISION (PRECISION)) would give, without
 * building it, with every g and j value v in [0, N_MAP) written as MAP[v]
 * (MAP may be NULL). For result lines: the hot path of a finished prompt. */
void toa_mcts_write_json (const toa_mcts_t *self, const char *const *model_names,
                          const int *map, int n_map, int precision, toa_json_writer_t *w);

/* The reason of the latest error ("" if none). */
const char *toa_mcts_error (const toa_mcts_t *self);

/* Writes the selection work counters. */
void toa_mcts_stats (const toa_mcts_t *self, toa_mcts_stats_t *out);

#endif
