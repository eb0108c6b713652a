/* test_broker_budget.c - unit tests of spending compute where it still buys
 * something (one prompt, pure): early stop (a prompt stops at
 * stop_at_reward and says how many generations it used), the job-wide
 * budget's per-prompt side (a prompt that spent its share is extended by
 * whole chunks, and a replay with its allowance rebuilds it exactly), that
 * a job-wide budget with early stop off changes no result, parallel TOA
 * expansions with virtual loss (MCTS core and policy), and tau "auto". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "broker/method/mcts.h"
#include "broker/method/policy.h"
#include "broker/method/prompt.h"
#include "broker/method/settings.h"
#include "tests/unit/support/prompt_fixture.h"

static const char *S_LINE = "{\"id\": 7, \"instruction\": \"What is 6*7?\", \"gold\": 42}";
static const char *S_METHODS[] = {"toa", "best-of-n", "ensemble", "prs", "seq-refine", "moa"};
#define S_N_METHODS (sizeof S_METHODS / sizeof *S_METHODS)

static toa_job_settings_t *
s_settings (const char *method, const char *extra)
{
    char text[1024];
    snprintf (text, sizeof text, "{\"models\": [\"a\", \"b\", \"c\"], \"reward\": "
              "{\"backend\": \"x\"}, \"method\": {\"name\": \"%s\", \"samples\": 2, "
              "\"seed\": 3%s%s}}", method, extra && *extra ? ", " : "", extra ? extra : "");
    return toa_test_settings (text);
}

/* Rewards by generation index; generations beyond the table score 0.1 x g
 * modulo 0.5 (graded, never 1). */
typedef struct {
    const double *rewards;
    int n_rewards;
    toa_gen_plan_t plans[512];
    int n_plans;
    int scores[512];
    int n_scores;
    int max_out;             /* most generations out at once seen */
    bool lifo;               /* answer the latest plan first (out of order) */
} s_world_t;

static double
s_reward (const s_world_t *world, int g)
{
    return g < world->n_rewards ? world->rewards[g] : fmod (0.1 * g, 0.5);
}

static void
s_take (s_world_t *world, toa_prompt_work_t *work)
{
    for (size_t i = 0; i < work->n_plans; i++)
        world->plans[world->n_plans++] = work->plans[i];
    for (size_t i = 0; i < work->n_score; i++)
        world->scores[world->n_scores++] = work->score[i];
    toa_prompt_work_reset (work);
    if (world->n_plans > world->max_out)
        world->max_out = world->n_plans;
}

/* Answers everything out until nothing is, or MAX_EVENTS. */
static void
s_run (toa_prompt_t *prompt, s_world_t *world, toa_prompt_work_t *work, int max_events)
{
    s_take (world, work);
    for (int e = 0; e < max_events && (world->n_plans || world->n_scores); e++) {
        if (world->n_scores) {
            int g = world->scores[0];
            memmove (world->scores, world->scores + 1, (size_t) --world->n_scores * sizeof (int));
            assert_int_equal (toa_prompt_scored (prompt, g, s_reward (world, g), work), 0);
        }
        else {
            int at = world->lifo ? world->n_plans - 1 : 0;
            toa_gen_plan_t plan = world->plans[at];
            memmove (world->plans + at, world->plans + at + 1,
                     (size_t) (--world->n_plans - at) * sizeof (toa_gen_plan_t));
            toa_gen_output_t outputs[16];
            char texts[16][64];
            for (int i = 0; i < plan.n; i++) {
                snprintf (texts[i], sizeof texts[i], "m%d %llx", plan.model,
                          (unsigned long long) (toa_prompt_plan_seed (prompt, &plan) + (uint64_t) i));
                outputs[i] = (toa_gen_output_t) {texts[i], "stop", 10, 5};
            }
            assert_int_equal (toa_prompt_generated (prompt, &plan, outputs, (size_t) plan.n,
                                                    work), 0);
        }
        s_take (world, work);
    }
}

static toa_prompt_t *
s_prompt (const toa_job_settings_t *settings)
{
    return toa_test_prompt (settings, S_LINE);
}

/* Runs a prompt to its end, extending it by whole chunks while it can, up to
 * CAP generations. Returns its result line (parsed). */
static json_t *
s_full (const toa_job_settings_t *settings, s_world_t *world, int cap, int *extensions)
{
    toa_prompt_t *prompt = s_prompt (settings);
    toa_prompt_work_t work = {0};
    assert_int_equal (toa_prompt_start (prompt, &work), 0);
    int extended = 0;
    for (;;) {
        s_run (prompt, world, &work, 100000);
        bool stuck = true;
        assert_true (toa_prompt_finished (prompt, &stuck));
        assert_false (stuck);
        int chunk = toa_prompt_chunk (prompt);
        if (!toa_prompt_can_extend (prompt) || toa_prompt_allowance (prompt) + chunk > cap)
            break;
        assert_int_equal (toa_prompt_extend (prompt, chunk, &work), 0);
        extended++;
    }
    assert_true (toa_prompt_used (prompt) <= toa_prompt_allowance (prompt));
    if (extensions)
        *extensions = extended;
    char *line = toa_prompt_result_line (prompt);
    json_t *result = json_loads (line, 0, NULL);
    free (line);
    toa_prompt_destroy (&prompt);
    toa_prompt_work_clear (&work);
    assert_non_null (result);
    return result;
}

static size_t
s_responses (json_t *result)
{
    return json_array_size (json_object_get (result, "responses"));
}

/* --- early stop ------------------------------------------------------------ */

static void
test_early_stop_every_method (void **state)
{
    (void) state;
    /* The third response reaches the stop reward: sequential methods stop
     * right there; the others finish the wave they had out. */
    const double rewards[] = {0.2, 0.3, 1.0, 0.1};
    for (size_t m = 0; m < S_N_METHODS; m++) {
        toa_job_settings_t *s = s_settings (S_METHODS[m], "\"stop_at_reward\": 1");
        s_world_t world = {.rewards = rewards, .n_rewards = 4};
        json_t *result = s_full (s, &world, 0, NULL);
        size_t n = s_responses (result);
        json_int_t used = json_integer_value (json_object_get (result, "generations"));
        if (n > 3 + 2)
            print_error ("%s used %zu generations\n", S_METHODS[m], n);
        assert_true (n >= 3 && n <= 5);     /* a wave is at most 3 (the models) */
        assert_true (n < 6);                /* below the budget of 2 x 3 */
        assert_int_equal (used, (json_int_t) n);
        assert_true (json_is_true (json_object_get (result, "stopped_early")));
        assert_true (world.max_out <= 3);
        assert_null (json_object_get (result, "allowance"));   /* fixed budget */
        assert_true (json_real_value (json_object_get (result, "best_reward")) == 1.0);
        json_decref (result);
        /* Never reached: the whole budget, not stopped. */
        s_world_t none = {0};
        result = s_full (s, &none, 0, NULL);
        assert_int_equal (s_responses (result), 6);
        assert_true (json_is_false (json_object_get (result, "stopped_early")));
        json_decref (result);
        toa_job_settings_destroy (&s);
    }
}

/* --- the job-wide budget, per prompt --------------------------------------- */

/* Drops the fields only a budgeted job's result has. */
static char *
s_plain (json_t *result)
{
    json_object_del (result, "generations");
    json_object_del (result, "stopped_early");
    json_object_del (result, "allowance");
    return json_dumps (result, JSON_COMPACT | JSON_SORT_KEYS);
}

static void
test_job_budget_without_stop_changes_nothing (void **state)
{
    (void) state;
    for (size_t m = 0; m < S_N_METHODS; m++) {
        toa_job_settings_t *fixed = s_settings (S_METHODS[m], "");
        toa_job_settings_t *pooled = s_settings (S_METHODS[m], "\"budget\": 6");
        assert_true (pooled->job_budget);
        assert_int_equal (pooled->max_per_prompt, 24);
        s_world_t a = {0}, b = {0};
        json_t *one = s_full (fixed, &a, 0, NULL);
        json_t *two = s_full (pooled, &b, 6, NULL);   /* no spare: no extension */
        assert_int_equal (json_integer_value (json_object_get (two, "allowance")), 6);
        char *x = s_plain (one), *y = s_plain (two);
        assert_string_equal (x, y);
        free (x);
        free (y);
        json_decref (one);
        json_decref (two);
        toa_job_settings_destroy (&fixed);
        toa_job_settings_destroy (&pooled);
    }
}

static void
test_extend_by_chunks (void **state)
{
    (void) state;
    for (size_t m = 0; m < S_N_METHODS; m++) {
        toa_job_settings_t *s = s_settings (S_METHODS[m], "\"budget\": 6, "
                                            "\"stop_at_reward\": 1");
        s_world_t world = {0};
        int extensions = 0;
        json_t *result = s_full (s, &world, 15, &extensions);
        size_t n = s_responses (result);
        int chunk = strcmp (S_METHODS[m], "best-of-n") == 0 || strcmp (S_METHODS[m], "ensemble") == 0
                            || strcmp (S_METHODS[m], "moa") == 0 ? 3 : 1;
        /* Extended in whole chunks up to the cap: 6 + k chunks <= 15. */
        assert_int_equal (n, (size_t) (6 + extensions * chunk));
        assert_true (n <= 15 && n + (size_t) chunk > 15);
        assert_int_equal (json_integer_value (json_object_get (result, "allowance")), (json_int_t) n);
        json_decref (result);
        /* A reward of 1 at generation 8: it stops inside its second chunk. */
        double rewards[9] = {0};
        rewards[8] = 1;
        s_world_t late = {.rewards = rewards, .n_rewards = 9};
        result = s_full (s, &late, 15, NULL);
        assert_true (json_is_true (json_object_get (result, "stopped_early")));
        assert_true (s_responses (result) >= 9 && s_responses (result) <= 11);
        json_decref (result);
        toa_job_settings_destroy (&s);
    }
}

/* Answers up to MAX_EVENTS, extending the prompt by a chunk whenever it
 * spent its allowance unsolved, up to CAP generations. */
static void
s_run_extending (toa_prompt_t *prompt, s_world_t *world, toa_prompt_work_t *work,
                 int max_events, int cap)
{
    for (int e = 0; e < max_events; e++) {
        s_take (world, work);
        if (!world->n_plans && !world->n_scores) {
            if (!toa_prompt_can_extend (prompt)
                || toa_prompt_allowance (prompt) + toa_prompt_chunk (prompt) > cap)
                return;
            assert_int_equal (toa_prompt_extend (prompt, toa_prompt_chunk (prompt), work), 0);
            continue;
        }
        s_run (prompt, world, work, 1);
    }
    s_take (world, work);
}

/* A prompt extended live is cut after CUT events; a copy replayed from its
 * records with its allowance wants what the original has out and ends
 * with the same result. With parallel expansions (not EXACT) the plans out
 * were selected on older trees than the records give: the copy selects
 * again, so only the counts and the replayed records must agree. */
static void
s_check_replay_extended (const char *method, const char *extra, int cut, bool exact)
{
    toa_job_settings_t *s = s_settings (method, extra);
    toa_prompt_t *live = s_prompt (s);
    toa_prompt_work_t work = {0};
    assert_int_equal (toa_prompt_start (live, &work), 0);
    s_world_t world = {0};
    s_run_extending (live, &world, &work, cut, 24);
    size_t n;
    char **texts = toa_test_record_texts (live, &n);
    toa_prompt_t *copy = s_prompt (s);
    toa_prompt_work_t copy_work = {0};
    toa_test_replay (copy, texts, n, toa_prompt_allowance (live), &copy_work);
    assert_int_equal (copy_work.n_plans, world.n_plans);
    for (int p = 0; exact && p < world.n_plans; p++) {
        assert_int_equal (copy_work.plans[p].kind, world.plans[p].kind);
        assert_int_equal (copy_work.plans[p].model, world.plans[p].model);
    }
    assert_int_equal (toa_prompt_allowance (copy), toa_prompt_allowance (live));
    assert_int_equal (toa_prompt_used (copy), toa_prompt_used (live));
    for (size_t g = 0; g < n; g++) {
        char *x = toa_prompt_record_json (copy, (int) g);
        json_t *one = json_loads (x, 0, NULL), *two = json_loads (texts[g], 0, NULL);
        json_object_del (one, "applied");   /* the copy applies them in its own order */
        json_object_del (two, "applied");
        assert_true (json_equal (one, two));
        json_decref (one);
        json_decref (two);
        free (x);
    }
    s_world_t copy_world = {0};
    s_run_extending (copy, &copy_world, &copy_work, 100000, 24);
    s_run_extending (live, &world, &work, 100000, 24);
    char *a = toa_prompt_result_line (live), *b = toa_prompt_result_line (copy);
    if (exact)
        assert_string_equal (a, b);
    assert_int_equal (toa_prompt_used (copy), toa_prompt_used (live));
    assert_int_equal (toa_prompt_allowance (copy), toa_prompt_allowance (live));
    free (a);
    free (b);
    toa_test_texts_free (texts, n);
    toa_prompt_destroy (&live);
    toa_prompt_destroy (&copy);
    toa_prompt_work_clear (&work);
    toa_prompt_work_clear (&copy_work);
    toa_job_settings_destroy (&s);
}

static void
test_replay_extended (void **state)
{
    (void) state;
    for (size_t m = 0; m < S_N_METHODS; m++)
        for (int cut = 8; cut <= 40; cut += 8)
            s_check_replay_extended (S_METHODS[m], "\"budget\": 6, \"stop_at_reward\": 1", cut,
                                     true);
    for (int cut = 8; cut <= 40; cut += 8)
        s_check_replay_extended ("toa", "\"budget\": 6, \"stop_at_reward\": 1, "
                                 "\"parallel_expansions\": 3", cut, false);
}

/* --- virtual loss ---------------------------------------------------------- */

static void
test_virtual_loss_core (void **state)
{
    (void) state;
    toa_mcts_params_t params = {3, 4, 4, 1, 0.01, 0.1};
    toa_mcts_t *mcts = toa_mcts_new (&params, NULL, 0);
    assert_non_null (mcts);
    /* Every root child is +inf before rewards; the first wins. A virtual
     * loss on it makes the next selection take another model. */
    toa_mcts_action_t a, b, c, again;
    assert_int_equal (toa_mcts_select (mcts, &a), TOA_MCTS_SELECTED);
    assert_int_equal (a.model, 0);
    toa_mcts_virtual_add (mcts, &a);
    assert_int_equal (toa_mcts_select (mcts, &b), TOA_MCTS_SELECTED);
    assert_int_equal (b.model, 1);
    toa_mcts_virtual_add (mcts, &b);
    assert_int_equal (toa_mcts_select (mcts, &c), TOA_MCTS_SELECTED);
    assert_int_equal (c.model, 2);
    /* The virtual loss is visible in selection only: the node keeps its
     * real statistics. */
    toa_mcts_node_t node;
    assert_int_equal (toa_mcts_node (mcts, a.node, &node), 0);
    assert_int_equal (node.visits, 1);
    assert_int_equal (node.n_rewards, 0);
    /* Removed, selection is the reference's again. */
    toa_mcts_virtual_remove (mcts, &b);
    toa_mcts_virtual_remove (mcts, &a);
    assert_int_equal (toa_mcts_select (mcts, &again), TOA_MCTS_SELECTED);
    assert_int_equal (again.model, 0);
    /* Applied in another order than selected: the tree is the one a plain
     * run with that order gives. */
    assert_true (toa_mcts_apply (mcts, &b, 0.3, NULL) == 0);
    assert_true (toa_mcts_apply (mcts, &a, 0.1, NULL) == 1);
    assert_true (toa_mcts_apply (mcts, &c, 0.2, NULL) == 2);
    toa_mcts_t *plain = toa_mcts_new (&params, NULL, 0);
    toa_mcts_action_t x;
    assert_int_equal (toa_mcts_locate (plain, 1, 1, -1, -1, &x), 0);
    toa_mcts_apply (plain, &x, 0.3, NULL);
    assert_int_equal (toa_mcts_locate (plain, 0, 1, -1, -1, &x), 0);
    toa_mcts_apply (plain, &x, 0.1, NULL);
    assert_int_equal (toa_mcts_locate (plain, 2, 1, -1, -1, &x), 0);
    toa_mcts_apply (plain, &x, 0.2, NULL);
    json_t *one = toa_mcts_to_json (mcts, NULL), *two = toa_mcts_to_json (plain, NULL);
    char *p = json_dumps (one, JSON_COMPACT), *q = json_dumps (two, JSON_COMPACT);
    assert_string_equal (p, q);
    free (p);
    free (q);
    json_decref (one);
    json_decref (two);
    /* A virtual loss lowers a path's score: with rewards in, a path with
     * selections out is picked less. */
    toa_mcts_action_t best, next;
    assert_int_equal (toa_mcts_select (mcts, &best), TOA_MCTS_SELECTED);
    for (int i = 0; i < 3; i++)
        toa_mcts_virtual_add (mcts, &best);
    assert_int_equal (toa_mcts_select (mcts, &next), TOA_MCTS_SELECTED);
    assert_true (next.model != best.model || next.node != best.node
                 || next.parent != best.parent);
    for (int i = 0; i < 3; i++)
        toa_mcts_virtual_remove (mcts, &best);
    assert_int_equal (toa_mcts_select (mcts, &next), TOA_MCTS_SELECTED);
    assert_int_equal (next.model, best.model);
    assert_int_equal (next.node, best.node);
    toa_mcts_destroy (&mcts);
    toa_mcts_destroy (&plain);
}

static void
test_parallel_policy (void **state)
{
    (void) state;
    const toa_policy_ops_t *ops = toa_policy_find ("toa");
    toa_policy_config_t config = {.name = "toa", .n_models = 3, .samples = 4, .width = 4,
                                  .topk_child = 1, .alpha = 0.01, .tau = 0.1,
                                  .parallel_expansions = 2};
    char err[128];
    toa_policy_t *policy = ops->create (&config, 0, err, sizeof err);
    assert_non_null (policy);
    toa_gen_plan_t plans[4];
    /* Two out at once, of different models (virtual loss). */
    assert_int_equal (ops->next (policy, plans, 4), 2);
    assert_int_not_equal (plans[0].model, plans[1].model);
    assert_int_equal (ops->next (policy, plans + 2, 2), 0);
    /* Answered out of order; each answer lets one more out. */
    assert_int_equal (ops->apply (policy, &plans[1], 0, 0.2, false), 0);
    assert_int_equal (ops->next (policy, plans + 2, 2), 1);
    assert_int_equal (ops->apply (policy, &plans[0], 1, 0.1, false), 0);
    assert_int_equal (ops->apply (policy, &plans[0], 1, 0.1, false), -1);   /* twice */
    int response = 2;
    toa_gen_plan_t out[2] = {plans[2]};
    int n_out = 1;
    while (!ops->done (policy) || n_out > 0) {
        n_out += ops->next (policy, out + n_out, 2 - n_out);
        assert_true (n_out >= 1 && n_out <= 2);
        toa_gen_plan_t answered = out[n_out - 1];      /* the latest first */
        n_out--;
        assert_int_equal (ops->apply (policy, &answered, response, 0.05 * response, false), 0);
        response++;
    }
    assert_int_equal (response, 12);
    ops->destroy (&policy);
    /* parallel_expansions = 1 is the sequential search: the same plans as
     * a policy without the setting. */
    config.parallel_expansions = 1;
    toa_policy_t *one = ops->create (&config, 0, err, sizeof err);
    config.parallel_expansions = 0;
    toa_policy_t *two = ops->create (&config, 0, err, sizeof err);
    for (int r = 0; r < 12; r++) {
        toa_gen_plan_t p, q;
        assert_int_equal (ops->next (one, &p, 1), 1);
        assert_int_equal (ops->next (two, &q, 1), 1);
        assert_int_equal (ops->next (one, &q, 1), 0);
        assert_int_equal (p.model, q.model);
        assert_int_equal (p.layer, q.layer);
        assert_int_equal (p.inputs[0], q.inputs[0]);
        ops->apply (one, &p, r, 0.07 * (r % 5), false);
        ops->apply (two, &q, r, 0.07 * (r % 5), false);
    }
    ops->destroy (&one);
    ops->destroy (&two);
}

static void
test_parallel_prompt_lifo (void **state)
{
    (void) state;
    /* A whole TOA prompt with 3 expansions out, answered latest first: it
     * spends exactly its budget, never more than 3 out. */
    toa_job_settings_t *s = s_settings ("toa", "\"parallel_expansions\": 3");
    s_world_t world = {.lifo = true};
    json_t *result = s_full (s, &world, 0, NULL);
    assert_int_equal (s_responses (result), 6);
    assert_true (world.max_out == 3);
    json_decref (result);
    toa_job_settings_destroy (&s);
}

/* --- tau auto -------------------------------------------------------------- */

static void
test_tau_auto (void **state)
{
    (void) state;
    /* A reward model scoring 1..4: with tau 0.1 every normalized reward is
     * ~1; with tau auto they stay apart. */
    const double rewards[] = {1, 4, 2, 3, 1.5, 3.5};
    toa_job_settings_t *fixed = s_settings ("toa", "");
    toa_job_settings_t *automatic = s_settings ("toa", "\"tau\": \"auto\"");
    assert_true (automatic->tau_auto);
    s_world_t a = {.rewards = rewards, .n_rewards = 6}, b = {.rewards = rewards, .n_rewards = 6};
    json_t *one = s_full (fixed, &a, 0, NULL), *two = s_full (automatic, &b, 0, NULL);
    double lo[2] = {2, 2}, hi[2] = {-1, -1};
    json_t *results[2] = {one, two};
    for (int r = 0; r < 2; r++) {
        size_t index;
        json_t *node;
        json_array_foreach (json_object_get (json_object_get (results[r], "tree"), "nodes"),
                            index, node) {
            json_t *reward = json_object_get (node, "reward");
            if (!json_is_number (reward))
                continue;
            double value = json_number_value (reward);
            lo[r] = value < lo[r] ? value : lo[r];
            hi[r] = value > hi[r] ? value : hi[r];
        }
    }
    assert_true (hi[0] - lo[0] < 1e-4);      /* tau 0.1: all ~1 */
    assert_true (hi[1] - lo[1] > 0.15);      /* auto: apart */
    assert_true (lo[1] > 0.5 && hi[1] < 1);
    json_decref (one);
    json_decref (two);
    /* Restore keeps each response's tau: a replay gives the same tree. */
    toa_prompt_t *live = s_prompt (automatic);
    toa_prompt_work_t work = {0};
    toa_prompt_start (live, &work);
    s_world_t w = {.rewards = rewards, .n_rewards = 6};
    s_run (live, &w, &work, 7);
    size_t n = toa_prompt_n_records (live);
    char *texts[16];
    for (size_t g = 0; g < n; g++) {
        texts[g] = toa_prompt_record_json (live, (int) g);
        json_t *record = json_loads (texts[g], 0, NULL);
        if (json_is_number (json_object_get (record, "raw")))
            assert_true (json_number_value (json_object_get (record, "tau")) > 0);
        json_decref (record);
    }
    toa_prompt_t *copy = s_prompt (automatic);
    toa_prompt_work_t copy_work = {0};
    char err[256];
    assert_int_equal (toa_prompt_replay (copy, (const char *const *) texts, n, 0, &copy_work,
                                         err, sizeof err), 0);
    s_world_t cw = {.rewards = rewards, .n_rewards = 6};
    s_run (copy, &cw, &copy_work, 100000);
    s_run (live, &w, &work, 100000);
    char *x = toa_prompt_result_line (live), *y = toa_prompt_result_line (copy);
    assert_string_equal (x, y);
    free (x);
    free (y);
    for (size_t g = 0; g < n; g++)
        free (texts[g]);
    toa_prompt_destroy (&live);
    toa_prompt_destroy (&copy);
    toa_prompt_work_clear (&work);
    toa_prompt_work_clear (&copy_work);
    toa_job_settings_destroy (&fixed);
    toa_job_settings_destroy (&automatic);
}

static void
test_tau_auto_job_fallback (void **state)
{
    (void) state;
    /* A prompt with fewer than 4 rewards normalizes with the job's spread:
     * the first prompt's rewards (2, 2, 2, 2 ...) set it for the second. */
    toa_job_settings_t *s = s_settings ("toa", "\"tau\": \"auto\"");
    const double twos[] = {2, 2, 2, 2, 2, 2};
    s_world_t first = {.rewards = twos, .n_rewards = 6};
    json_t *result = s_full (s, &first, 0, NULL);
    json_decref (result);
    assert_int_equal (s->job_rewards->n, 6);
    toa_prompt_t *second = s_prompt (s);
    toa_prompt_work_t work = {0};
    toa_prompt_start (second, &work);
    const double one[] = {1};
    s_world_t w = {.rewards = one, .n_rewards = 1};
    s_run (second, &w, &work, 2);                /* one generation, one score */
    const toa_gen_record_t *record = toa_prompt_record (second, 0);
    assert_non_null (record);
    /* The job's 7 rewards: sqrt ((6 x 4 + 1) / 7); the prompt alone would give 1. */
    assert_true (fabs (record->tau - sqrt (25.0 / 7.0)) < 1e-9);
    toa_prompt_destroy (&second);
    toa_prompt_work_clear (&work);
    toa_job_settings_destroy (&s);
}

static void
test_budget_settings (void **state)
{
    (void) state;
    toa_job_settings_t *s = s_settings ("moa", "");
    assert_int_equal (s->budget, 6);
    assert_false (s->job_budget);
    assert_false (s->early_stop);
    toa_job_settings_destroy (&s);
    s = s_settings ("toa", "\"budget\": 4, \"max_per_prompt\": 10, \"stop_at_reward\": 0.5");
    assert_int_equal (s->budget, 4);
    assert_true (s->job_budget);
    assert_int_equal (s->max_per_prompt, 10);
    assert_true (s->early_stop);
    assert_true (s->stop_at_reward == 0.5);
    toa_job_settings_destroy (&s);
    toa_errors_t errors = TOA_ERRORS_INIT;
    assert_null (toa_job_settings_parse ("{\"models\": [\"a\"], \"reward\": {\"backend\": \"x\"},"
                                         " \"method\": {\"name\": \"toa\", \"budget\": 8,"
                                         " \"max_per_prompt\": 4, \"stop_at_reward\": \"x\","
                                         " \"tau\": \"sometimes\"}}", NULL, &errors));
    assert_int_equal (errors.count, 3);
    toa_errors_clear (&errors);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_budget_settings),
        cmocka_unit_test (test_early_stop_every_method),
        cmocka_unit_test (test_job_budget_without_stop_changes_nothing),
        cmocka_unit_test (test_extend_by_chunks),
        cmocka_unit_test (test_replay_extended),
        cmocka_unit_test (test_virtual_loss_core),
        cmocka_unit_test (test_parallel_policy),
        cmocka_unit_test (test_parallel_prompt_lifo),
        cmocka_unit_test (test_tau_auto),
        cmocka_unit_test (test_tau_auto_job_fallback),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
