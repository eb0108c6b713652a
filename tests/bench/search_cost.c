/* search_cost.c - the cost of one MCTS selection against the size of the
 * tree: builds a TOA tree of N responses (3 models, rewards from a fixed
 * hash, each response refining or sampling afresh as selection decides),
 * then times K selections on it (toa_mcts_select is pure: the same tree
 * every time) and K more select + apply steps that grow it. Prints one JSON
 * line: responses, nodes, the tree's depth, CPU nanoseconds per selection
 * and per select + apply, and the nodes descended and children scored per
 * selection (toa_mcts_stats).
 *   usage: search_cost N [K] [WIDTH]   (WIDTH 0: the default, models x samples / 3)
 * Run by tests/bench/bench_search.sh (natively and under callgrind). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "broker/method/mcts.h"
#include "broker/method/settings.h"
#include "common/util.h"

#define S_MODELS 3

static double
s_cpu_ns (void)
{
    struct timespec t;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double) t.tv_sec * 1e9 + (double) t.tv_nsec;
}

/* A reward in [-1, 1] for response G of MODEL refining J (fixed, spread). */
static double
s_raw (int g, int model, int j)
{
    uint64_t h = toa_splitmix64 ((uint64_t) g * 1000003u + (uint64_t) model * 7919u
                                 + (uint64_t) (j + 2));
    return (double) (h >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

/* Selects and applies one response; returns 0, or -1 (reported). */
static int
s_grow (toa_mcts_t *mcts, int g)
{
    toa_mcts_action_t action;
    if (toa_mcts_select (mcts, &action) != 0) {
        fprintf (stderr, "search_cost: select failed at %d: %s\n", g, toa_mcts_error (mcts));
        return -1;
    }
    if (toa_mcts_apply (mcts, &action, s_raw (g, action.model, action.j), NULL) < 0) {
        fprintf (stderr, "search_cost: apply failed at %d: %s\n", g, toa_mcts_error (mcts));
        return -1;
    }
    return 0;
}

/* K selections on the same tree (callgrind counts this function alone with
 * --toggle-collect=s_measure_selects). Returns 0 or -1. */
static __attribute__ ((noinline)) int
s_measure_selects (toa_mcts_t *mcts, int k)
{
    toa_mcts_action_t action;
    for (int i = 0; i < k; i++)
        if (toa_mcts_select (mcts, &action) != 0)
            return -1;
    return 0;
}

/* The deepest response's depth (layers of response nodes from the root). */
static int
s_depth (const toa_mcts_t *mcts)
{
    int depth = 0;
    for (int id = 0; id < toa_mcts_n_nodes (mcts); id++) {
        toa_mcts_node_t node;
        if (toa_mcts_node (mcts, id, &node) == 0 && node.kind == TOA_MCTS_RESPONSE
            && node.layer_id / 2 > depth)
            depth = node.layer_id / 2;
    }
    return depth;
}

int
main (int argc, char **argv)
{
    int n = argc > 1 ? atoi (argv[1]) : 1000;
    int k = argc > 2 ? atoi (argv[2]) : 1000;
    int width = argc > 3 ? atoi (argv[3]) : 0;
    if (n < 1 || k < 1 || width < 0) {
        fprintf (stderr, "usage: search_cost N [K] [WIDTH]\n");
        return 2;
    }
    int samples = (n + k + S_MODELS - 1) / S_MODELS + 1;
    toa_mcts_params_t params = {
        .n_models = S_MODELS, .samples = samples,
        .width = width ? width : toa_job_settings_default_width (S_MODELS, samples),
        .topk_child = 1, .alpha = 0.01, .tau = 0.1,
    };
    char err[256] = "";
    toa_mcts_t *mcts = toa_mcts_new (&params, err, sizeof err);
    if (!mcts) {
        fprintf (stderr, "search_cost: %s\n", err);
        return 1;
    }
    int rc = 0;
    for (int g = 0; g < n && rc == 0; g++)
        rc = s_grow (mcts, g);
    int nodes = toa_mcts_n_nodes (mcts), depth = s_depth (mcts);
    toa_mcts_stats_t before, after;
    toa_mcts_stats (mcts, &before);
    double start = s_cpu_ns ();
    if (rc == 0)
        rc = s_measure_selects (mcts, k);
    double select_ns = (s_cpu_ns () - start) / k;
    toa_mcts_stats (mcts, &after);
    double steps = (double) (after.steps - before.steps) / k;
    double candidates = (double) (after.candidates - before.candidates) / k;
    start = s_cpu_ns ();
    for (int g = n; g < n + k && rc == 0; g++)
        rc = s_grow (mcts, g);
    double grow_ns = (s_cpu_ns () - start) / k;
    if (rc == 0)
        printf ("{\"responses\": %d, \"width\": %d, \"nodes\": %d, \"depth\": %d, "
                "\"select_ns\": %.0f, \"select_apply_ns\": %.0f, "
                "\"steps_per_select\": %.2f, \"candidates_per_select\": %.2f}\n",
                n, params.width, nodes, depth, select_ns, grow_ns, steps,
                candidates);
    toa_mcts_destroy (&mcts);
    return rc == 0 ? 0 : 1;
}
