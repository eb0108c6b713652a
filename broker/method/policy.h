/* policy.h - a search method as a policy: for one prompt, which generations
 * to start next, and what to learn from each scored response.
 *
 * The broker's job machinery (admission, tasks, scoring, Redis, routing) is
 * the same for every method; a method is only this interface. A policy is a
 * pure, deterministic function of its configuration, its seed and the
 * sequence of results applied to it: that is what lets a restarted broker
 * rebuild it by replaying the generation records kept in Redis (see
 * docs/jobs.md). Any randomness comes from the seed passed at creation. */
#ifndef TOA_POLICY_H
#define TOA_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "common/json.h"

#define TOA_POLICY_MAX_INPUTS 64

typedef enum {
    TOA_GEN_ANSWER = 0,      /* answer the original prompt */
    TOA_GEN_REFINE = 1,      /* refine inputs[0] (refine template) */
    TOA_GEN_AGGREGATE = 2    /* aggregate inputs[] (aggregate template) */
} toa_gen_kind_t;

/* One generation the policy wants. */
typedef struct {
    toa_gen_kind_t kind;
    int model;               /* index into the job's models */
    int depth;               /* 0 = answers the prompt; d = built on depth d-1 */
    int inputs[TOA_POLICY_MAX_INPUTS]; /* response indexes fed to the template */
    int n_inputs;
    int n;                   /* samples in one request (>= 1) */
    uint64_t tag;            /* the policy's own reference (e.g. MCTS node) */
    int layer;               /* TOA: layer of the action node (odd); 0 otherwise */
    int parent_g;            /* TOA (layer > 0): response the action hangs under, -1 root */
    double tau;              /* TOA restore with tau auto: the temperature the
                                response was normalized with (0: none kept) */
} toa_gen_plan_t;

/* Raw rewards seen, for tau "auto" (TOA): their count and sum of squares. */
typedef struct {
    int64_t n;
    double sum_squares;
} toa_reward_stats_t;

typedef struct {
    const char *name;        /* method name */
    int n_models;
    int samples;             /* per model: budget = samples x n_models */
    double alpha, tau;       /* TOA */
    int width, topk_child;   /* TOA (width already defaulted) */
    int prs_model;           /* PRS: index of its one model */
    int moa_n_iter;          /* MoA */
    int moa_aggregate;       /* MoA */
    uint64_t seed;           /* method seed mixed with the prompt index */
    bool allow_n;            /* plans may ask for n > 1 samples in one request */
    int parallel_expansions; /* TOA: expansions in flight per prompt (>= 1) */
    int budget;              /* generations this prompt may start at first
                                (0: samples x n_models); extend() adds more */
    bool early_stop;         /* the prompt may stop early: best-of-n and ensemble
                                plan the models interleaved (one wave at a time) */
    bool tau_auto;           /* TOA: tau from the spread of rewards (see mcts.h) */
    toa_reward_stats_t *job_rewards; /* TOA, tau auto: the job's rewards (shared,
                                updated by the policy; NULL: this prompt's only) */
} toa_policy_config_t;

typedef struct toa_policy_s toa_policy_t;

typedef struct {
    const char *name;
    /* Returns a new policy for one prompt, or NULL with a reason in ERR. */
    toa_policy_t *(*create) (const toa_policy_config_t *config, uint64_t prompt_seed,
                             char *err, size_t err_size);
    /* Writes up to MAX plans to start now; returns how many (0: wait for
     * outstanding results, or done). Each plan is started exactly once. */
    int (*next) (toa_policy_t *self, toa_gen_plan_t *plans, int max);
    /* One response of PLAN was generated and scored (RAW) or failed
     * (FAILED true, RAW ignored). RESPONSE is its index in generation order.
     * A plan with n > 1 is applied n times. Returns 0, or -1 if PLAN is not
     * one this policy issued. */
    int (*apply) (toa_policy_t *self, const toa_gen_plan_t *plan, int response,
                  double raw, bool failed);
    /* True once the whole budget has been applied. */
    bool (*done) (const toa_policy_t *self);
    /* The search tree for the result line, or NULL. Methods without a tree
     * leave this member NULL. */
    json_t *(*tree) (const toa_policy_t *self, const char *const *model_names);
    void (*destroy) (toa_policy_t **self_p);

    /* The members below are optional (NULL: the method does not do it). A
     * method that has them picks other models when one is down (see
     * broker/fleet/health.h); the others keep their plans and wait. */

    /* From now on next() plans only for models with AVAILABLE[m] true (an
     * array of n_models, copied). Every model is available at creation. */
    void (*set_available) (toa_policy_t *self, const bool *available);
    /* PLAN (issued, never applied) is abandoned without a result: it does not
     * count against the budget and next() plans again. Returns 0, or -1 if
     * PLAN is not one this policy has out. */
    int (*withdraw) (toa_policy_t *self, const toa_gen_plan_t *plan);
    /* True when next() gives nothing only because no model it could use is
     * available (the budget is not spent). */
    bool (*waiting) (const toa_policy_t *self);
    /* Rebuilds the policy from one persisted generation without planning
     * (restore after a restart; exact for any history, availability masks
     * included). PLAN holds the record's request (kind, model, depth,
     * inputs, layer, parent_g; n = 1); the policy sets its tag. SETTLED: the
     * response was scored (RAW) or failed (FAILED) and is applied; else it
     * is the plan out, waiting for its score. Generations are given in their
     * apply order, unsettled ones last. Returns 0, or -1 when the record
     * does not fit this policy. A method with restore is rebuilt only this
     * way (prompt.c); the others by replaying next() and apply(). */
    int (*restore) (toa_policy_t *self, toa_gen_plan_t *plan, int response, double raw,
                    bool failed, bool settled);
    /* The tree of tree() appended to W as JSON text, reals with PRECISION
     * significant digits: result lines without building a jansson tree. */
    void (*write_tree) (const toa_policy_t *self, const char *const *model_names,
                        int precision, toa_json_writer_t *w);

    /* Budget (every method has these two). */

    /* EXTRA more generations may be started (a job-wide budget gave them).
     * Returns 0, or -1 when out of memory (nothing changed). */
    int (*extend) (toa_policy_t *self, int extra);
    /* Generations the method wants per extension: extensions come in whole
     * chunks (MoA: a layer), so a replay extends at the same points. */
    int (*chunk) (const toa_policy_t *self);

    /* Optional. What another generation is expected to gain, higher first
     * (TOA: from the root's statistics); NULL: fewest generations first. */
    double (*gain) (const toa_policy_t *self);
    /* Optional. The temperature response RESPONSE was normalized with (TOA,
     * tau auto), kept in its record so a restore normalizes it the same. */
    double (*response_tau) (const toa_policy_t *self, int response);
} toa_policy_ops_t;

/* The policy for METHOD ("toa", "best-of-n", ...), or NULL if unknown. */
const toa_policy_ops_t *toa_policy_find (const char *method);

/* Space-separated list of method names, for messages. */
const char *toa_policy_names (void);

#endif
