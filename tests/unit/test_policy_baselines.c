/* test_policy_baselines.c - unit tests of the baseline policies (ensemble,
 * PRS, sequential refine, MoA; broker/method/policy_baselines.c) driven directly
 * through their ops, no prompt machinery: how many generations each starts
 * and in what order, what each refinement or aggregation is built on,
 * determinism (same seed, same results -> same plans; replaying the applied
 * results rebuilds the same plan sequence), and that each is done after
 * exactly its budget. Then, through broker/method/prompt.c, that the rendered
 * prompts carry what the plans name: the previous response in a
 * seq-refine refinement, the previous layer's responses in a MoA
 * aggregation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "broker/method/policy.h"
#include "broker/method/prompt.h"
#include "broker/method/settings.h"
#include "tests/unit/support/prompt_fixture.h"

#define S_MAX 512

/* --- a driver: plays the worker and the scorer for one policy -------------- */

typedef double (*s_reward_fn) (int g, const toa_gen_plan_t *plan);

typedef struct {
    const toa_policy_ops_t *ops;
    toa_policy_t *policy;
    toa_gen_plan_t out[S_MAX];     /* started, not yet answered (in start order) */
    int n_out;
    toa_gen_plan_t started[S_MAX]; /* every plan, in start order */
    int started_after[S_MAX];      /* responses applied when it was started */
    int n_started;
    toa_gen_plan_t plan_of[S_MAX]; /* the plan response g answered */
    double raw[S_MAX];
    bool failed[S_MAX];
    int applied;                   /* responses applied */
    s_reward_fn reward;
    int fail_every;                /* > 0: every fail_every-th response fails */
    bool lifo;                     /* answer the newest plan first */
} s_drive_t;

static toa_policy_config_t
s_config (const char *name, int n_models, int samples)
{
    return (toa_policy_config_t) {
        .name = name, .n_models = n_models, .samples = samples, .alpha = 0.01, .tau = 0.1,
        .width = 1, .topk_child = 1, .prs_model = 0, .moa_n_iter = 2,
        .moa_aggregate = n_models, .seed = 0, .allow_n = false, .parallel_expansions = 1,
    };
}

/* Takes every plan the policy wants now (asking for at most 2 at a time, so
 * that batching across next() calls is exercised). */
static void
s_drain (s_drive_t *self)
{
    int count;
    do {
        toa_gen_plan_t batch[2];
        count = self->ops->next (self->policy, batch, 2);
        for (int i = 0; i < count; i++) {
            assert_true (self->n_out < S_MAX && self->n_started < S_MAX);
            assert_true (batch[i].n >= 1);
            self->out[self->n_out++] = batch[i];
            self->started_after[self->n_started] = self->applied;
            self->started[self->n_started++] = batch[i];
        }
    } while (count > 0);
}

static void
s_start (s_drive_t *self, const char *method, const toa_policy_config_t *config,
         uint64_t prompt_seed, s_reward_fn reward)
{
    memset (self, 0, sizeof *self);
    self->ops = toa_policy_find (method);
    assert_non_null (self->ops);
    char err[128] = "";
    self->policy = self->ops->create (config, prompt_seed, err, sizeof err);
    if (!self->policy)
        print_error ("%s\n", err);
    assert_non_null (self->policy);
    self->reward = reward;
    s_drain (self);
}

/* Answers one outstanding plan (every sample of it), then drains. Returns
 * false when nothing is outstanding. */
static bool
s_step (s_drive_t *self)
{
    if (self->n_out == 0)
        return false;
    int k = self->lifo ? self->n_out - 1 : 0;
    toa_gen_plan_t plan = self->out[k];
    memmove (&self->out[k], &self->out[k + 1], (size_t) (self->n_out - k - 1) * sizeof plan);
    self->n_out--;
    for (int i = 0; i < plan.n; i++) {
        int g = self->applied;
        bool failed = self->fail_every > 0 && (g + 1) % self->fail_every == 0;
        double raw = failed ? 0 : self->reward (g, &plan);
        assert_false (self->ops->done (self->policy));
        assert_int_equal (self->ops->apply (self->policy, &plan, g, raw, failed), 0);
        self->plan_of[g] = plan;
        self->raw[g] = raw;
        self->failed[g] = failed;
        self->applied++;
    }
    s_drain (self);
    return true;
}

static void
s_run_all (s_drive_t *self)
{
    while (s_step (self))
        assert_true (self->applied < S_MAX);
}

static void
s_finish (s_drive_t *self)
{
    self->ops->destroy (&self->policy);
    assert_null (self->policy);
    self->ops->destroy (&self->policy);     /* safe twice */
}

/* Rewards: a fixed pseudo-random value per response index. */
static double
s_reward_hash (int g, const toa_gen_plan_t *plan)
{
    (void) plan;
    uint64_t x = (uint64_t) g * 0x9E3779B97F4A7C15ULL + 12345;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 32;
    return (double) (x % 1000) / 1000.0;
}

/* Rewards: all the same (ties). */
static double
s_reward_flat (int g, const toa_gen_plan_t *plan)
{
    (void) g;
    (void) plan;
    return 0.5;
}

/* Rewards from a table, by response index. */
static const double *s_table;
static double
s_reward_table (int g, const toa_gen_plan_t *plan)
{
    (void) plan;
    return s_table[g];
}

/* The same plan (everything a plan says). */
static bool
s_same_plan (const toa_gen_plan_t *a, const toa_gen_plan_t *b)
{
    if (a->kind != b->kind || a->model != b->model || a->depth != b->depth || a->n != b->n
        || a->tag != b->tag || a->n_inputs != b->n_inputs)
        return false;
    for (int i = 0; i < a->n_inputs; i++)
        if (a->inputs[i] != b->inputs[i])
            return false;
    return true;
}

/* --- ensemble -------------------------------------------------------------- */

static void
test_ensemble (void **state)
{
    (void) state;
    toa_policy_config_t config = s_config ("ensemble", 3, 4);
    s_drive_t drive;
    s_start (&drive, "ensemble", &config, 77, s_reward_hash);
    /* All 12 start at once: every model 4 times, every plan an answer. */
    assert_int_equal (drive.n_started, 12);
    int per_model[3] = {0};
    bool sorted = true;
    for (int i = 0; i < 12; i++) {
        const toa_gen_plan_t *plan = &drive.started[i];
        assert_int_equal (plan->kind, TOA_GEN_ANSWER);
        assert_int_equal (plan->depth, 0);
        assert_int_equal (plan->n_inputs, 0);
        assert_int_equal (plan->n, 1);
        assert_true (plan->model >= 0 && plan->model < 3);
        per_model[plan->model]++;
        if (i > 0 && plan->model < drive.started[i - 1].model)
            sorted = false;
    }
    assert_true (per_model[0] == 4 && per_model[1] == 4 && per_model[2] == 4);
    assert_false (sorted);                  /* interleaved, not model by model */
    s_run_all (&drive);
    assert_int_equal (drive.applied, 12);
    assert_true (drive.ops->done (drive.policy));
    assert_int_equal (drive.n_started, 12);
    /* Another prompt seed, another order; the same seed, the same order. */
    bool differs = false;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        s_drive_t other, again;
        s_start (&other, "ensemble", &config, seed, s_reward_hash);
        s_start (&again, "ensemble", &config, seed, s_reward_hash);
        for (int i = 0; i < 12; i++) {
            differs = differs || other.started[i].model != drive.started[i].model;
            assert_true (s_same_plan (&other.started[i], &again.started[i]));
        }
        s_finish (&other);
        s_finish (&again);
    }
    assert_true (differs);
    /* A plan it did not issue is refused. */
    toa_gen_plan_t foreign = drive.started[0];
    foreign.tag = 999;
    assert_int_equal (drive.ops->apply (drive.policy, &foreign, 12, 0, false), -1);
    s_finish (&drive);
}

/* --- PRS ------------------------------------------------------------------- */

static void
test_prs_refines_the_best_so_far (void **state)
{
    (void) state;
    /* 3 models x 2 samples = 6 generations, all of model 2: 3 samples, then
     * 3 refinements one at a time. */
    static const double table[] = {0.2, 0.9, 0.5, 0.95, 0.1, 0.3};
    s_table = table;
    toa_policy_config_t config = s_config ("prs", 3, 2);
    config.prs_model = 2;
    s_drive_t drive;
    s_start (&drive, "prs", &config, 5, s_reward_table);
    assert_int_equal (drive.n_started, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (drive.started[i].kind, TOA_GEN_ANSWER);
        assert_int_equal (drive.started[i].model, 2);
        assert_int_equal (drive.started[i].depth, 0);
    }
    /* Nothing more until every sample is back. */
    assert_true (s_step (&drive));
    assert_true (s_step (&drive));
    assert_int_equal (drive.n_started, 3);
    assert_true (s_step (&drive));
    assert_int_equal (drive.n_started, 4);
    /* The best sample (response 1, 0.9) is refined first. */
    const toa_gen_plan_t *r1 = &drive.started[3];
    assert_int_equal (r1->kind, TOA_GEN_REFINE);
    assert_int_equal (r1->model, 2);
    assert_int_equal (r1->n_inputs, 1);
    assert_int_equal (r1->inputs[0], 1);
    assert_int_equal (r1->depth, 1);
    /* One at a time; its answer (response 3, 0.95) beats it: refined next. */
    assert_int_equal (drive.n_out, 1);
    assert_true (s_step (&drive));
    assert_int_equal (drive.n_started, 5);
    assert_int_equal (drive.started[4].inputs[0], 3);
    assert_int_equal (drive.started[4].depth, 2);
    /* Response 4 scores 0.1: the best so far is still response 3. */
    assert_true (s_step (&drive));
    assert_int_equal (drive.started[5].inputs[0], 3);
    assert_int_equal (drive.started[5].depth, 2);
    assert_true (s_step (&drive));
    assert_false (s_step (&drive));
    assert_int_equal (drive.applied, 6);
    assert_int_equal (drive.n_started, 6);
    assert_true (drive.ops->done (drive.policy));
    s_finish (&drive);
}

static void
test_prs_ties_odd_budget_and_failures (void **state)
{
    (void) state;
    /* Budget 5 (1 model x 5): 3 samples (ceil(5/2)), 2 refinements; on ties
     * the first response wins. */
    toa_policy_config_t config = s_config ("prs", 1, 5);
    s_drive_t drive;
    s_start (&drive, "prs", &config, 1, s_reward_flat);
    assert_int_equal (drive.n_started, 3);
    s_run_all (&drive);
    assert_int_equal (drive.applied, 5);
    assert_int_equal (drive.n_started, 5);
    assert_int_equal (drive.started[3].inputs[0], 0);
    assert_int_equal (drive.started[4].inputs[0], 0);
    assert_true (drive.ops->done (drive.policy));
    s_finish (&drive);
    /* Every sample fails: the refinements have nothing to refine and answer
     * the prompt afresh; failures still count against the budget. */
    config = s_config ("prs", 2, 2);
    s_start (&drive, "prs", &config, 1, s_reward_hash);
    drive.fail_every = 1;
    for (int i = 0; i < 2; i++)
        assert_true (s_step (&drive));
    drive.fail_every = 0;
    s_run_all (&drive);
    assert_int_equal (drive.applied, 4);
    assert_int_equal (drive.started[2].kind, TOA_GEN_ANSWER);
    assert_int_equal (drive.started[2].depth, 0);
    /* ... and once one is scored it is what gets refined. */
    assert_int_equal (drive.started[3].kind, TOA_GEN_REFINE);
    assert_int_equal (drive.started[3].inputs[0], 2);
    assert_true (drive.ops->done (drive.policy));
    s_finish (&drive);
}

/* --- sequential refine ----------------------------------------------------- */

static void
test_seq_refine_chains (void **state)
{
    (void) state;
    toa_policy_config_t config = s_config ("seq-refine", 3, 4);
    s_drive_t drive;
    s_start (&drive, "seq-refine", &config, 11, s_reward_hash);
    assert_int_equal (drive.n_started, 1);   /* one at a time */
    s_run_all (&drive);
    assert_int_equal (drive.applied, 12);
    assert_int_equal (drive.n_started, 12);
    assert_true (drive.ops->done (drive.policy));
    bool orders_differ = false;
    for (int round = 0; round < 4; round++) {
        int seen = 0;
        for (int k = 0; k < 3; k++) {
            int i = round * 3 + k;
            const toa_gen_plan_t *plan = &drive.started[i];
            assert_int_equal (drive.started_after[i], i);   /* after the previous */
            seen |= 1 << plan->model;
            assert_int_equal (plan->depth, k);
            if (k == 0) {
                assert_int_equal (plan->kind, TOA_GEN_ANSWER);
                assert_int_equal (plan->n_inputs, 0);
            }
            else {
                assert_int_equal (plan->kind, TOA_GEN_REFINE);
                assert_int_equal (plan->n_inputs, 1);
                assert_int_equal (plan->inputs[0], i - 1);   /* the previous response */
            }
            if (round > 0 && plan->model != drive.started[k].model)
                orders_differ = true;
        }
        assert_int_equal (seen, 7);          /* every model once a round */
    }
    assert_true (orders_differ);             /* a new shuffle each round */
    s_finish (&drive);
    /* A failed response is skipped: the next refines the last good one. */
    s_start (&drive, "seq-refine", &config, 11, s_reward_hash);
    drive.fail_every = 2;                    /* responses 1, 3, 5, ... fail */
    s_run_all (&drive);
    assert_int_equal (drive.applied, 12);
    assert_int_equal (drive.started[2].inputs[0], 0);   /* 1 failed */
    assert_true (drive.ops->done (drive.policy));
    s_finish (&drive);
}

/* --- MoA ------------------------------------------------------------------- */

/* Checks that plan P aggregates the top K of responses FROM..FROM+COUNT-1 by
 * reward, listed in generation order. */
static void
s_check_aggregate (const s_drive_t *drive, const toa_gen_plan_t *p, int from, int count, int k)
{
    assert_int_equal (p->kind, TOA_GEN_AGGREGATE);
    assert_int_equal (p->n_inputs, k < count ? k : count);
    for (int i = 0; i < p->n_inputs; i++) {
        int r = p->inputs[i];
        assert_true (r >= from && r < from + count);
        if (i > 0)
            assert_true (p->inputs[i - 1] < r);
        /* Fewer than K responses of the layer beat it. */
        int better = 0;
        for (int j = from; j < from + count; j++)
            better += drive->raw[j] > drive->raw[r];
        assert_true (better < k);
    }
}

static void
test_moa_layers (void **state)
{
    (void) state;
    /* 3 models, 4 samples = 4 layers of 3; rounds of 2 layers; 2 aggregated. */
    toa_policy_config_t config = s_config ("moa", 3, 4);
    config.moa_aggregate = 2;
    s_drive_t drive;
    s_start (&drive, "moa", &config, 3, s_reward_hash);
    assert_int_equal (drive.n_started, 3);   /* layer 0 at once */
    for (int m = 0; m < 3; m++) {
        assert_int_equal (drive.started[m].kind, TOA_GEN_ANSWER);
        assert_int_equal (drive.started[m].model, m);
    }
    assert_true (s_step (&drive));
    assert_true (s_step (&drive));
    assert_int_equal (drive.n_started, 3);   /* a layer waits for the whole previous */
    s_run_all (&drive);
    assert_int_equal (drive.applied, 12);
    assert_int_equal (drive.n_started, 12);
    assert_true (drive.ops->done (drive.policy));
    for (int layer = 0; layer < 4; layer++)
        for (int m = 0; m < 3; m++) {
            int i = layer * 3 + m;
            const toa_gen_plan_t *plan = &drive.started[i];
            assert_int_equal (plan->model, m);
            assert_int_equal (drive.started_after[i], layer * 3);
            if (layer % 2 == 0) {            /* a round starts: answers */
                assert_int_equal (plan->kind, TOA_GEN_ANSWER);
                assert_int_equal (plan->depth, 0);
            }
            else {
                assert_int_equal (plan->depth, 1);
                s_check_aggregate (&drive, plan, (layer - 1) * 3, 3, 2);
            }
        }
    s_finish (&drive);
    /* Default aggregate (every model) lists the whole previous layer; with
     * n_iter 3, layer 2 aggregates layer 1 (depth 2). */
    config = s_config ("moa", 3, 3);
    config.moa_n_iter = 3;
    s_start (&drive, "moa", &config, 3, s_reward_hash);
    drive.lifo = true;                       /* answers come back in any order */
    s_run_all (&drive);
    assert_int_equal (drive.applied, 9);
    for (int m = 0; m < 3; m++) {
        s_check_aggregate (&drive, &drive.started[3 + m], 0, 3, 3);
        s_check_aggregate (&drive, &drive.started[6 + m], 3, 3, 3);
        assert_int_equal (drive.started[6 + m].depth, 2);
    }
    s_finish (&drive);
}

static void
test_moa_failed_layer (void **state)
{
    (void) state;
    /* A failed response of the previous layer is not listed. */
    toa_policy_config_t config = s_config ("moa", 3, 2);
    s_drive_t drive;
    s_start (&drive, "moa", &config, 3, s_reward_hash);
    drive.fail_every = 2;                    /* response 1 fails */
    s_run_all (&drive);
    assert_int_equal (drive.applied, 6);
    for (int m = 0; m < 3; m++) {
        const toa_gen_plan_t *plan = &drive.started[3 + m];
        assert_int_equal (plan->n_inputs, 2);
        assert_int_equal (plan->inputs[0], 0);
        assert_int_equal (plan->inputs[1], 2);
    }
    s_finish (&drive);
}

/* --- every method: budget, determinism, replay ----------------------------- */

static const char *s_methods[] = {"ensemble", "prs", "seq-refine", "moa", "best-of-n"};
#define S_N_METHODS (sizeof s_methods / sizeof s_methods[0])

static void
test_budgets (void **state)
{
    (void) state;
    for (size_t m = 0; m < S_N_METHODS; m++)
        for (int models = 1; models <= 4; models++)
            for (int samples = 1; samples <= 5; samples++) {
                toa_policy_config_t config = s_config (s_methods[m], models, samples);
                s_drive_t drive;
                s_start (&drive, s_methods[m], &config, 9, s_reward_hash);
                drive.fail_every = (models + samples) % 3 == 0 ? 4 : 0;
                s_run_all (&drive);
                if (drive.applied != models * samples)
                    print_error ("%s %dx%d: %d responses\n", s_methods[m], models, samples,
                                 drive.applied);
                assert_int_equal (drive.applied, models * samples);
                assert_true (drive.ops->done (drive.policy));
                toa_gen_plan_t more[4];
                assert_int_equal (drive.ops->next (drive.policy, more, 4), 0);
                s_finish (&drive);
            }
}

/* Runs METHOD live, then feeds a fresh policy the same results in the same
 * order, draining next() after each apply as the broker does on replay: the
 * same plans come out at the same points. */
static void
test_determinism_and_replay (void **state)
{
    (void) state;
    for (size_t m = 0; m < S_N_METHODS; m++) {
        toa_policy_config_t config = s_config (s_methods[m], 3, 3);
        config.moa_aggregate = 2;
        s_drive_t live, twin;
        s_start (&live, s_methods[m], &config, 42, s_reward_hash);
        live.lifo = true;
        live.fail_every = 5;
        s_run_all (&live);
        s_start (&twin, s_methods[m], &config, 42, s_reward_hash);
        twin.lifo = true;
        twin.fail_every = 5;
        s_run_all (&twin);
        assert_int_equal (live.n_started, twin.n_started);
        for (int i = 0; i < live.n_started; i++)
            assert_true (s_same_plan (&live.started[i], &twin.started[i]));
        /* Replay: apply live's results, response by response. */
        char err[128];
        toa_policy_t *replay = live.ops->create (&config, 42, err, sizeof err);
        assert_non_null (replay);
        toa_gen_plan_t plans[S_MAX];
        int n_plans = 0;
        int count;
        while ((count = live.ops->next (replay, plans + n_plans, 4)) > 0)
            n_plans += count;
        for (int g = 0; g < live.applied; g++) {
            assert_int_equal (live.ops->apply (replay, &live.plan_of[g], g, live.raw[g],
                                               live.failed[g]), 0);
            while ((count = live.ops->next (replay, plans + n_plans, 4)) > 0)
                n_plans += count;
        }
        assert_int_equal (n_plans, live.n_started);
        for (int i = 0; i < n_plans; i++)
            assert_true (s_same_plan (&plans[i], &live.started[i]));
        assert_true (live.ops->done (replay));
        live.ops->destroy (&replay);
        s_finish (&live);
        s_finish (&twin);
    }
}

/* --- rendered prompts, through broker/method/prompt.c ----------------------------- */

static toa_job_settings_t *
s_settings (const char *method)
{
    char text[512];
    snprintf (text, sizeof text,
              "{\"models\": [\"a\", \"b\", \"c\"], \"reward\": {\"backend\": \"x\"},"
              " \"method\": {\"name\": \"%s\", \"samples\": 2, \"moa_aggregate\": 2},"
              " \"templates\": {\"refine\": \"Q: {question}\\nImprove: {response}\","
              " \"aggregate\": \"Q: {question}\\nCandidates:\\n{responses}\"}}", method);
    return toa_test_settings (text);
}

/* Runs a prompt of METHOD: every generation answers "text-G" (G its record
 * index) scored REWARDS[G]; every rendered user message is checked with
 * CHECK. */
typedef void (*s_check_fn) (const toa_gen_plan_t *plan, const char *user);

static void
s_run_prompt (const char *method, const double *rewards, s_check_fn check)
{
    toa_job_settings_t *settings = s_settings (method);
    char err[128];
    toa_prompt_t *prompt = toa_prompt_new (settings, 0,
                                           "{\"id\": 1, \"instruction\": \"What is 2+2?\"}",
                                           err, sizeof err);
    assert_non_null (prompt);
    toa_prompt_work_t work = {0};
    assert_int_equal (toa_prompt_start (prompt, &work), 0);
    toa_gen_plan_t pending[64];
    int n_pending = 0;
    for (int guard = 0; guard < 100; guard++) {
        for (size_t i = 0; i < work.n_plans; i++)
            pending[n_pending++] = work.plans[i];
        int score[64];
        size_t n_score = work.n_score;
        for (size_t i = 0; i < n_score; i++)
            score[i] = work.score[i];
        toa_prompt_work_reset (&work);
        for (size_t i = 0; i < n_score; i++)
            assert_int_equal (toa_prompt_scored (prompt, score[i], rewards[score[i]], &work), 0);
        if (n_score > 0)
            continue;
        if (n_pending == 0)
            break;
        toa_gen_plan_t plan = pending[0];
        memmove (pending, pending + 1, (size_t) --n_pending * sizeof plan);
        toa_chat_list_t messages = {0};
        assert_int_equal (toa_prompt_render (prompt, &plan, &messages, err, sizeof err), 0);
        check (&plan, messages.items[messages.count - 1].content);
        toa_chat_list_clear (&messages);
        char text[32];
        snprintf (text, sizeof text, "text-%zu", toa_prompt_n_records (prompt));
        toa_gen_output_t output = {text, "stop", 3, 2};
        assert_int_equal (toa_prompt_generated (prompt, &plan, &output, 1, &work), 0);
    }
    bool stuck = true;
    assert_true (toa_prompt_finished (prompt, &stuck));
    assert_false (stuck);
    assert_int_equal (toa_prompt_n_records (prompt), 6);
    toa_prompt_destroy (&prompt);
    toa_prompt_work_clear (&work);
    toa_job_settings_destroy (&settings);
}

static int s_refines_seen, s_aggregates_seen;

static void
s_check_seq (const toa_gen_plan_t *plan, const char *user)
{
    if (plan->kind == TOA_GEN_ANSWER) {
        assert_string_equal (user, "What is 2+2?");
        return;
    }
    assert_int_equal (plan->kind, TOA_GEN_REFINE);
    char expected[64];
    snprintf (expected, sizeof expected, "Q: What is 2+2?\nImprove: text-%d", plan->inputs[0]);
    assert_string_equal (user, expected);
    s_refines_seen++;
}

static void
s_check_moa (const toa_gen_plan_t *plan, const char *user)
{
    if (plan->kind == TOA_GEN_ANSWER)
        return;
    assert_int_equal (plan->kind, TOA_GEN_AGGREGATE);
    /* Layer 0 scored 0.1 0.9 0.5: the two best, 1 and 2, in that order. */
    assert_string_equal (user, "Q: What is 2+2?\nCandidates:\nResponse 1:\ntext-1\n\n"
                               "Response 2:\ntext-2");
    assert_null (strstr (user, "text-0"));
    s_aggregates_seen++;
}

static void
test_rendered_prompts (void **state)
{
    (void) state;
    static const double rewards[] = {0.1, 0.9, 0.5, 0.3, 0.2, 0.4};
    s_refines_seen = 0;
    s_run_prompt ("seq-refine", rewards, s_check_seq);
    assert_int_equal (s_refines_seen, 4);    /* 2 rounds of 3: 2 refinements each */
    s_aggregates_seen = 0;
    s_run_prompt ("moa", rewards, s_check_moa);
    assert_int_equal (s_aggregates_seen, 3);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ensemble),
        cmocka_unit_test (test_prs_refines_the_best_so_far),
        cmocka_unit_test (test_prs_ties_odd_budget_and_failures),
        cmocka_unit_test (test_seq_refine_chains),
        cmocka_unit_test (test_moa_layers),
        cmocka_unit_test (test_moa_failed_layer),
        cmocka_unit_test (test_budgets),
        cmocka_unit_test (test_determinism_and_replay),
        cmocka_unit_test (test_rendered_prompts),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
