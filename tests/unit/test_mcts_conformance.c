/* test_mcts_conformance.c - replays the reference TOA search's golden traces
 * (tests/unit/data/conformance/toa-mcts-*.json, read from the repository
 * root as tests/run.sh runs it) with broker/mcts and requires the same plays,
 * rewards, best response and final tree. One test per trace file; a missing
 * file fails its test. The reward function is the traces' own (the folder's
 * README.md, "Reward function"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "broker/method/mcts.h"
#include "common/util.h"

#define N_FILES 18
#define TOLERANCE 1e-12

typedef struct {
    char name[64];           /* "A-seed1" */
    char path[1200];
} s_trace_t;

typedef struct {
    json_t *root;
    toa_mcts_t *mcts;
    double *raw;             /* by g */
    const char *const *names;
    int n_models;
    char message[1024];
} s_run_t;

/* Relative to the repository root, where tests/run.sh runs the tests. */
#define S_DIR "tests/unit/data/conformance"
static s_trace_t s_traces[N_FILES];

static int
s_failf (s_run_t *run, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
s_failf (s_run_t *run, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (run->message, sizeof run->message, fmt, args);
    va_end (args);
    return -1;
}

/* The traces' reward for generation G by model I refining J (-1: afresh). */
static double
s_trace_raw (uint64_t seed, int g, int i, int j, const double *skill, const double *raw)
{
    uint64_t key = seed + 1000003ULL * (uint64_t) g + 1009ULL * (uint64_t) (i + 1)
                   + (uint64_t) (int64_t) (j + 2);
    double u = (double) (toa_splitmix64 (key) >> 11) * 0x1.0p-53;
    double t = skill[i];
    if (j >= 0)
        t = t + 0.5 * raw[j];
    return t + (u - 0.5);
}

static int
s_model_index (s_run_t *run, json_t *name)
{
    if (!json_is_string (name))
        return -1;
    json_t *models = json_object_get (json_object_get (run->root, "params"), "models");
    for (int m = 0; m < (int) json_array_size (models); m++)
        if (strcmp (json_string_value (json_array_get (models, m)), json_string_value (name)) == 0)
            return m;
    return -1;
}

/* Compares reference tree node REF (at PATH) with node ID, recursively. */
static int
s_compare_tree (s_run_t *run, json_t *ref, int id, char *path, size_t path_len)
{
    toa_mcts_node_t node;
    if (toa_mcts_node (run->mcts, id, &node) != 0)
        return s_failf (run, "tree %s: node %d missing", path, id);
    const char *kind = json_string_value (json_object_get (ref, "kind"));
    const char *kinds[] = {"root", "action", "response"};
    if (!kind || strcmp (kind, kinds[node.kind]) != 0)
        return s_failf (run, "tree %s: kind %s, expected %s", path, kinds[node.kind],
                        kind ? kind : "?");
    int layer = (int) json_integer_value (json_object_get (ref, "layer_id"));
    int visits = (int) json_integer_value (json_object_get (ref, "visits"));
    int n_rewards = (int) json_integer_value (json_object_get (ref, "n_rewards"));
    if (node.layer_id != layer)
        return s_failf (run, "tree %s: layer_id %d, expected %d", path, node.layer_id, layer);
    if (node.visits != visits)
        return s_failf (run, "tree %s: visits %d, expected %d", path, node.visits, visits);
    if (node.n_rewards != n_rewards)
        return s_failf (run, "tree %s: n_rewards %d, expected %d", path, node.n_rewards,
                        n_rewards);
    json_t *mean = json_object_get (ref, "mean_reward");
    if (json_is_null (mean) != (node.n_rewards == 0))
        return s_failf (run, "tree %s: mean_reward presence differs", path);
    if (!json_is_null (mean) && fabs (node.mean_reward - json_number_value (mean)) > TOLERANCE)
        return s_failf (run, "tree %s: mean_reward %.17g, expected %.17g", path,
                        node.mean_reward, json_number_value (mean));
    if (node.kind == TOA_MCTS_ACTION) {
        int model = s_model_index (run, json_object_get (ref, "model"));
        int j = (int) json_integer_value (json_object_get (ref, "j"));
        if (node.model != model || node.j != j)
            return s_failf (run, "tree %s: action (model %d, j %d), expected (%d, %d)", path,
                            node.model, node.j, model, j);
    }
    if (node.kind == TOA_MCTS_RESPONSE) {
        int g = (int) json_integer_value (json_object_get (ref, "g"));
        double reward = json_number_value (json_object_get (ref, "response_reward"));
        if (node.g != g)
            return s_failf (run, "tree %s: response g %d, expected %d", path, node.g, g);
        if (fabs (node.reward - reward) > TOLERANCE)
            return s_failf (run, "tree %s: response_reward %.17g, expected %.17g", path,
                            node.reward, reward);
    }
    json_t *children = json_object_get (ref, "children");
    if ((int) json_array_size (children) != node.n_children)
        return s_failf (run, "tree %s: %d children, expected %zu", path, node.n_children,
                        json_array_size (children));
    size_t used = strlen (path);
    for (int c = 0; c < node.n_children; c++) {
        snprintf (path + used, path_len - used, "/%d", c);
        if (s_compare_tree (run, json_array_get (children, (size_t) c),
                            toa_mcts_child (run->mcts, id, c), path, path_len) != 0)
            return -1;
    }
    path[used] = '\0';
    return 0;
}

/* Plays the whole trace. Returns 0, or -1 with run->message. */
static int
s_run_trace (s_run_t *run)
{
    json_t *params = json_object_get (run->root, "params");
    json_t *plays = json_object_get (run->root, "plays");
    json_t *skill_json = json_object_get (params, "skill");
    if (!params || !json_is_array (plays) || !json_is_integer (json_object_get (run->root, "seed")))
        return s_failf (run, "not a golden trace (no params, plays or seed)");
    uint64_t seed = (uint64_t) json_integer_value (json_object_get (run->root, "seed"));
    toa_mcts_params_t p = {
        .n_models = (int) json_integer_value (json_object_get (params, "M")),
        .samples = (int) json_integer_value (json_object_get (params, "samples")),
        .width = (int) json_integer_value (json_object_get (params, "width")),
        .topk_child = (int) json_integer_value (json_object_get (params, "topk_child")),
        .alpha = json_number_value (json_object_get (params, "alpha")),
        .tau = json_number_value (json_object_get (params, "tau")),
    };
    int total = (int) json_integer_value (json_object_get (run->root, "total_plays"));
    if ((int) json_array_size (skill_json) != p.n_models || total != p.samples * p.n_models
        || (int) json_array_size (plays) != total)
        return s_failf (run, "inconsistent params: M %d, skill %zu, total_plays %d, plays %zu",
                        p.n_models, json_array_size (skill_json), total,
                        json_array_size (plays));
    double skill[TOA_MCTS_MAX_MODELS];
    for (int m = 0; m < p.n_models; m++)
        skill[m] = json_number_value (json_array_get (skill_json, (size_t) m));
    char err[256] = "";
    run->mcts = toa_mcts_new (&p, err, sizeof err);
    if (!run->mcts)
        return s_failf (run, "toa_mcts_new: %s", err);
    run->raw = calloc ((size_t) total, sizeof (double));
    if (!run->raw)
        return s_failf (run, "out of memory");
    int bound = 2 * p.n_models > p.topk_child ? 2 * p.n_models : p.topk_child;

    for (int g = 0; g < total; g++) {
        json_t *play = json_array_get (plays, (size_t) g);
        int want_model = (int) json_integer_value (json_object_get (play, "model_index"));
        int want_layer = (int) json_integer_value (json_object_get (play, "layer_id"));
        int want_j = (int) json_integer_value (json_object_get (play, "j"));
        int want_n = (int) json_integer_value (json_object_get (play, "n_played"));
        double want_raw = json_number_value (json_object_get (play, "raw"));
        double want_reward = json_number_value (json_object_get (play, "reward"));
        if (toa_mcts_n_played (run->mcts) != want_n)
            return s_failf (run, "play %d: n_played %d, expected %d", g,
                            toa_mcts_n_played (run->mcts), want_n);
        toa_mcts_action_t action;
        int rc = toa_mcts_select (run->mcts, &action);
        if (rc != TOA_MCTS_SELECTED)
            return s_failf (run, "play %d: select returned %d (%s)", g, rc,
                            toa_mcts_error (run->mcts));
        if (action.model != want_model)
            return s_failf (run, "play %d: model_index %d, expected %d (layer %d/%d, j %d/%d)",
                            g, action.model, want_model, action.layer_id, want_layer,
                            action.j, want_j);
        if (action.layer_id != want_layer)
            return s_failf (run, "play %d: layer_id %d, expected %d", g, action.layer_id,
                            want_layer);
        if (action.j != want_j)
            return s_failf (run, "play %d: j %d, expected %d", g, action.j, want_j);
        toa_mcts_stats_t stats;
        toa_mcts_stats (run->mcts, &stats);
        if (stats.last_candidates > stats.last_steps * (uint64_t) bound)
            return s_failf (run, "play %d: selection scored %llu children over %llu steps",
                            g, (unsigned long long) stats.last_candidates,
                            (unsigned long long) stats.last_steps);
        double raw = s_trace_raw (seed, g, action.model, action.j, skill, run->raw);
        if (fabs (raw - want_raw) > TOLERANCE)
            return s_failf (run, "play %d: raw %.17g, expected %.17g (reward function)", g,
                            raw, want_raw);
        double reward = 0;
        int applied = toa_mcts_apply (run->mcts, &action, raw, &reward);
        if (applied != g)
            return s_failf (run, "play %d: apply returned %d (%s)", g, applied,
                            toa_mcts_error (run->mcts));
        run->raw[g] = raw;
        if (fabs (reward - want_reward) > TOLERANCE)
            return s_failf (run, "play %d: reward %.17g, expected %.17g", g, reward,
                            want_reward);
    }
    toa_mcts_action_t action;
    if (toa_mcts_select (run->mcts, &action) != TOA_MCTS_DONE)
        return s_failf (run, "after %d plays: select does not report the budget spent", total);
    int want_best = (int) json_integer_value (
        json_object_get (json_object_get (run->root, "best"), "index"));
    if (toa_mcts_best (run->mcts) != want_best)
        return s_failf (run, "best.index %d, expected %d", toa_mcts_best (run->mcts), want_best);
    char path[4096] = "root";
    return s_compare_tree (run, json_object_get (run->root, "tree"), 0, path, sizeof path);
}

static void
test_trace (void **state)
{
    const s_trace_t *trace = *state;
    s_run_t run;
    memset (&run, 0, sizeof run);
    json_error_t error;
    run.root = json_load_file (trace->path, 0, &error);
    int rc = run.root ? s_run_trace (&run)
                      : s_failf (&run, "cannot read: line %d: %s (run from the repository "
                                 "root)", error.line, error.text);
    json_decref (run.root);
    toa_mcts_destroy (&run.mcts);
    toa_mcts_destroy (&run.mcts);
    free (run.raw);
    if (rc != 0)
        fail_msg ("%s: %s", trace->path, run.message);
}

int
main (void)
{
    struct CMUnitTest tests[N_FILES];
    for (int i = 0; i < N_FILES; i++) {
        s_trace_t *trace = &s_traces[i];
        char name[32];
        snprintf (name, sizeof name, "toa-mcts-%c-seed%d", 'A' + i / 3, i % 3 + 1);
        snprintf (trace->name, sizeof trace->name, "%s", name);
        snprintf (trace->path, sizeof trace->path, S_DIR "/%s.json", name);
        tests[i] = (struct CMUnitTest) {trace->name, test_trace, NULL, NULL, trace};
    }
    return cmocka_run_group_tests_name ("mcts_conformance", tests, NULL, NULL);
}
