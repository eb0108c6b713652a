/* test_mcts.c - unit tests of broker/mcts beyond the golden traces: tree
 * shape, parameter checks, masked selection, apply validation, replay
 * restore, best response, top-k order and the cost of one selection. */
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
#include "common/util.h"

static toa_mcts_t *
s_new (int n_models, int samples, int width, int topk)
{
    toa_mcts_params_t params = {n_models, samples, width, topk, 0.5, 0.2};
    char err[256] = "";
    toa_mcts_t *mcts = toa_mcts_new (&params, err, sizeof err);
    if (!mcts)
        print_error ("toa_mcts_new: %s\n", err);
    assert_non_null (mcts);
    return mcts;
}

/* A deterministic reward in about [-1, 1] for generation G of MODEL. */
static double
s_raw (uint64_t seed, int g, int model, int j)
{
    uint64_t key = seed * 7919 + (uint64_t) g * 1000003 + (uint64_t) model * 1009 + (uint64_t) (j + 2);
    return (double) (toa_splitmix64 (key) >> 11) * 0x1.0p-53 * 2.0 - 1.0 + 0.1 * model;
}

static bool
s_same_tree (const toa_mcts_t *a, const toa_mcts_t *b)
{
    json_t *ja = toa_mcts_to_json (a, NULL);
    json_t *jb = toa_mcts_to_json (b, NULL);
    assert_non_null (ja);
    assert_non_null (jb);
    bool same = json_equal (ja, jb);
    json_decref (ja);
    json_decref (jb);
    return same;
}

/* Locates action (MODEL, LAYER, J, PARENT_G) and applies RAW to it; returns g. */
static int
s_apply_at (toa_mcts_t *mcts, int model, int layer, int j, int parent_g, double raw)
{
    toa_mcts_action_t action;
    assert_int_equal (toa_mcts_locate (mcts, model, layer, j, parent_g, &action), 0);
    int g = toa_mcts_apply (mcts, &action, raw, NULL);
    assert_true (g >= 0);
    return g;
}

static void
test_initial_shape (void **state)
{
    (void) state;
    toa_mcts_t *mcts = s_new (3, 4, 4, 1);
    assert_int_equal (toa_mcts_n_nodes (mcts), 4);
    assert_int_equal (toa_mcts_n_responses (mcts), 0);
    assert_int_equal (toa_mcts_n_played (mcts), 1);
    assert_int_equal (toa_mcts_remaining (mcts), 12);
    assert_int_equal (toa_mcts_best (mcts), -1);
    toa_mcts_node_t node;
    assert_int_equal (toa_mcts_node (mcts, 0, &node), 0);
    assert_int_equal (node.kind, TOA_MCTS_ROOT);
    assert_int_equal (node.parent, -1);
    assert_int_equal (node.visits, 1);
    assert_int_equal (node.n_rewards, 0);
    assert_true (isnan (node.mean_reward));
    assert_int_equal (node.n_children, 3);
    for (int m = 0; m < 3; m++) {
        int child = toa_mcts_child (mcts, 0, m);
        assert_int_equal (toa_mcts_node (mcts, child, &node), 0);
        assert_int_equal (node.kind, TOA_MCTS_ACTION);
        assert_int_equal (node.parent, 0);
        assert_int_equal (node.layer_id, 1);
        assert_int_equal (node.model, m);
        assert_int_equal (node.j, -1);
        assert_int_equal (node.visits, 1);
        assert_int_equal (node.n_children, 0);
    }
    assert_int_equal (toa_mcts_child (mcts, 0, 3), -1);
    assert_int_equal (toa_mcts_node (mcts, 4, &node), -1);

    /* The first plays go to the root's children in model order (+inf ties). */
    for (int m = 0; m < 3; m++) {
        toa_mcts_action_t action;
        assert_int_equal (toa_mcts_select (mcts, &action), TOA_MCTS_SELECTED);
        assert_int_equal (action.model, m);
        assert_int_equal (action.layer_id, 1);
        assert_int_equal (action.depth, 0);
        assert_int_equal (action.j, -1);
        assert_int_equal (action.parent, 0);
        assert_int_equal (action.parent_g, -1);
        assert_int_equal (action.node, 1 + m);
        double normalized = 0;
        assert_int_equal (toa_mcts_apply (mcts, &action, 0.1 * m, &normalized), m);
        assert_true (fabs (normalized - 1.0 / (1.0 + exp (-0.1 * m / 0.2))) < 1e-15);
    }
    /* A response gets a refine child per model (j = its g), no afresh yet. */
    toa_mcts_response_t response;
    assert_int_equal (toa_mcts_response (mcts, 1, &response), 0);
    assert_int_equal (toa_mcts_node (mcts, response.node, &node), 0);
    assert_int_equal (node.kind, TOA_MCTS_RESPONSE);
    assert_int_equal (node.layer_id, 2);
    assert_int_equal (node.g, 1);
    assert_int_equal (node.model, 1);
    assert_int_equal (node.visits, 1);
    assert_int_equal (node.n_rewards, 0);
    assert_int_equal (node.n_children, 3);
    for (int m = 0; m < 3; m++) {
        toa_mcts_node_t child;
        assert_int_equal (toa_mcts_node (mcts, toa_mcts_child (mcts, response.node, m), &child), 0);
        assert_int_equal (child.j, 1);
        assert_int_equal (child.model, m);
        assert_int_equal (child.layer_id, 3);
    }
    assert_int_equal (toa_mcts_node (mcts, 0, &node), 0);
    assert_int_equal (node.visits, 4);
    assert_int_equal (node.n_rewards, 3);
    toa_mcts_destroy (&mcts);
    toa_mcts_destroy (&mcts);
    assert_null (mcts);
}

static void
test_new_rejects_bad_params (void **state)
{
    (void) state;
    char err[256];
    toa_mcts_params_t good = {3, 4, 3, 1, 0.01, 0.1};
    toa_mcts_t *mcts = toa_mcts_new (&good, err, sizeof err);
    assert_non_null (mcts);
    toa_mcts_destroy (&mcts);

    toa_mcts_params_t bad[] = {
        {3, 4, 2, 1, 0.01, 0.1},     /* width < models: the reference crashes */
        {3, 4, 0, 1, 0.01, 0.1},
        {0, 4, 4, 1, 0.01, 0.1},
        {TOA_MCTS_MAX_MODELS + 1, 1, 1000, 1, 0.01, 0.1},
        {3, 0, 4, 1, 0.01, 0.1},
        {3, 4, 4, 0, 0.01, 0.1},
        {3, 4, 4, 1, -1, 0.1},
        {3, 4, 4, 1, NAN, 0.1},
        {3, 4, 4, 1, 0.01, 0},
        {3, 4, 4, 1, 0.01, INFINITY},
        {3, 1 << 30, 4, 1, 0.01, 0.1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_null (toa_mcts_new (&bad[i], err, sizeof err));
        assert_true (strncmp (err, "mcts: ", 6) == 0);
        assert_null (toa_mcts_new (&bad[i], NULL, 0));
    }
    assert_null (toa_mcts_new (&bad[0], err, sizeof err));
    assert_non_null (strstr (err, "width 2"));
    assert_null (toa_mcts_new (NULL, err, sizeof err));
}

static void
test_select_is_pure (void **state)
{
    (void) state;
    toa_mcts_t *mcts = s_new (3, 10, 4, 1);
    for (int g = 0; g < 12; g++) {
        json_t *before = toa_mcts_to_json (mcts, NULL);
        toa_mcts_action_t first, second;
        assert_int_equal (toa_mcts_select (mcts, &first), TOA_MCTS_SELECTED);
        bool mask[3] = {g % 3 != 0, true, g % 2 == 0};
        int rc = toa_mcts_select_masked (mcts, mask, &second);
        assert_int_equal (rc, TOA_MCTS_SELECTED);
        assert_int_equal (toa_mcts_select (mcts, &second), TOA_MCTS_SELECTED);
        assert_memory_equal (&first, &second, sizeof first);
        json_t *after = toa_mcts_to_json (mcts, NULL);
        assert_true (json_equal (before, after));
        json_decref (before);
        json_decref (after);
        assert_int_equal (toa_mcts_apply (mcts, &first, s_raw (1, g, first.model, first.j), NULL), g);
    }
    toa_mcts_destroy (&mcts);
}

static void
test_masked_selection (void **state)
{
    (void) state;
    toa_mcts_t *mcts = s_new (3, 20, 3, 1);
    toa_mcts_t *plain = s_new (3, 20, 3, 1);
    bool none[3] = {false, false, false};
    bool all[3] = {true, true, true};
    bool no_m2[3] = {true, true, false};
    toa_mcts_action_t action, other;
    assert_int_equal (toa_mcts_select_masked (mcts, none, &action), TOA_MCTS_WAIT);
    assert_int_equal (toa_mcts_select_masked (mcts, NULL, &action), -1);
    assert_non_null (strstr (toa_mcts_error (mcts), "mask"));

    /* Model 2 unavailable: models 0 and 1 fill layer 2 up to width. */
    for (int g = 0; g < 3; g++) {
        assert_int_equal (toa_mcts_select_masked (mcts, no_m2, &action), TOA_MCTS_SELECTED);
        assert_int_not_equal (action.model, 2);
        assert_int_equal (toa_mcts_apply (mcts, &action, 0.3, NULL), g);
    }
    /* Model 2 back: its root child has no response although layer 2 is full.
     * The reference would crash here; it is expanded instead. */
    assert_int_equal (toa_mcts_select_masked (mcts, all, &action), TOA_MCTS_SELECTED);
    assert_int_equal (toa_mcts_select (mcts, &other), TOA_MCTS_SELECTED);
    assert_memory_equal (&action, &other, sizeof action);
    assert_int_equal (action.model, 2);
    assert_int_equal (action.layer_id, 1);
    assert_int_equal (toa_mcts_apply (mcts, &action, 0.2, NULL), 3);

    /* With all available, masked equals unmasked step after step; a masked
     * model is never chosen anywhere in the tree. */
    for (int g = 0; g < 100; g++) {
        if (toa_mcts_select (plain, &action) == TOA_MCTS_DONE)
            break;
        assert_int_equal (toa_mcts_select_masked (plain, all, &other), TOA_MCTS_SELECTED);
        assert_memory_equal (&action, &other, sizeof action);
        assert_true (toa_mcts_apply (plain, &action, s_raw (2, g, action.model, action.j), NULL) >= 0);
    }
    assert_int_equal (toa_mcts_remaining (plain), 0);
    int chosen[3] = {0, 0, 0};
    for (int g = 4; g < 100; g++) {
        bool only[3] = {g % 3 == 0, g % 3 == 1, g % 3 == 2};
        if (toa_mcts_select_masked (mcts, only, &action) == TOA_MCTS_DONE)
            break;
        assert_true (only[action.model]);
        chosen[action.model]++;
        assert_true (toa_mcts_apply (mcts, &action, s_raw (3, g, action.model, action.j), NULL) >= 0);
    }
    assert_true (chosen[0] > 0 && chosen[1] > 0 && chosen[2] > 0);
    assert_int_equal (toa_mcts_select_masked (mcts, all, &action), TOA_MCTS_DONE);
    toa_mcts_destroy (&plain);
    toa_mcts_destroy (&mcts);
}

static void
test_apply_rejects_bad_actions (void **state)
{
    (void) state;
    toa_mcts_t *mcts = s_new (2, 2, 2, 1);
    toa_mcts_action_t good;
    assert_int_equal (toa_mcts_select (mcts, &good), TOA_MCTS_SELECTED);
    json_t *before = toa_mcts_to_json (mcts, NULL);
    toa_mcts_action_t bad;
    bad = good; bad.parent = 1;                     /* an action node */
    assert_int_equal (toa_mcts_apply (mcts, &bad, 0.1, NULL), -1);
    bad = good; bad.parent = 99;
    assert_int_equal (toa_mcts_apply (mcts, &bad, 0.1, NULL), -1);
    bad = good; bad.model = 2;
    assert_int_equal (toa_mcts_apply (mcts, &bad, 0.1, NULL), -1);
    bad = good; bad.j = 0;
    assert_int_equal (toa_mcts_apply (mcts, &bad, 0.1, NULL), -1);
    bad = good; bad.layer_id = 3;
    assert_int_equal (toa_mcts_apply (mcts, &bad, 0.1, NULL), -1);
    bad = good; bad.node = 2;                       /* model 1's node, model 0 */
    assert_int_equal (toa_mcts_apply (mcts, &bad, 0.1, NULL), -1);
    assert_non_null (strstr (toa_mcts_error (mcts), "action node 2"));
    assert_int_equal (toa_mcts_apply (mcts, &good, NAN, NULL), -1);
    assert_int_equal (toa_mcts_apply (mcts, NULL, 0.1, NULL), -1);
    json_t *after = toa_mcts_to_json (mcts, NULL);
    assert_true (json_equal (before, after));
    json_decref (before);
    json_decref (after);

    for (int g = 0; g < 4; g++) {
        toa_mcts_action_t action;
        assert_int_equal (toa_mcts_select (mcts, &action), TOA_MCTS_SELECTED);
        assert_int_equal (toa_mcts_apply (mcts, &action, 0.1 * g, NULL), g);
    }
    assert_int_equal (toa_mcts_select (mcts, &bad), TOA_MCTS_DONE);
    assert_int_equal (toa_mcts_apply (mcts, &good, 0.1, NULL), -1);
    assert_non_null (strstr (toa_mcts_error (mcts), "budget"));
    toa_mcts_destroy (&mcts);
}

typedef struct {
    int model, layer, j, parent_g;
    double raw;
} s_record_t;

/* Runs a search where some selections are abandoned and some masked, and
 * records what was applied. */
static toa_mcts_t *
s_run_messy (s_record_t *records, int *n_records)
{
    toa_mcts_t *mcts = s_new (3, 12, 4, 2);
    int g = 0;
    for (int step = 0; ; step++) {
        toa_mcts_action_t action;
        int rc;
        if (step % 5 == 1 && toa_mcts_remaining (mcts) > 0)   /* failed: never applied */
            assert_int_equal (toa_mcts_select (mcts, &action), TOA_MCTS_SELECTED);
        if (step % 3 == 2) {
            bool mask[3] = {true, true, true};
            mask[(step / 3) % 3] = false;
            rc = toa_mcts_select_masked (mcts, mask, &action);
        }
        else
            rc = toa_mcts_select (mcts, &action);
        if (rc == TOA_MCTS_DONE)
            break;
        assert_int_equal (rc, TOA_MCTS_SELECTED);
        double raw = s_raw (4, g, action.model, action.j);
        assert_int_equal (toa_mcts_apply (mcts, &action, raw, NULL), g);
        toa_mcts_response_t response;
        assert_int_equal (toa_mcts_response (mcts, g, &response), 0);
        assert_int_equal (response.model, action.model);
        assert_int_equal (response.layer_id, action.layer_id + 1);
        assert_int_equal (response.depth, action.depth);
        assert_int_equal (response.j, action.j);
        assert_int_equal (response.parent_g, action.parent_g);
        assert_true (response.raw == raw);
        records[g] = (s_record_t) {response.model, response.layer_id - 1, response.j,
                                   response.parent_g, response.raw};
        g++;
    }
    *n_records = g;
    return mcts;
}

static void
test_replay_restore (void **state)
{
    (void) state;
    s_record_t records[36];
    int n = 0;
    toa_mcts_t *original = s_run_messy (records, &n);
    assert_int_equal (n, 36);
    bool afresh_deep = false;
    for (int g = 0; g < n; g++)
        afresh_deep |= records[g].j == -1 && records[g].layer >= 3;
    assert_true (afresh_deep);          /* the hard case of locate is exercised */

    /* (a) locate + apply rebuilds any history, masks and abandoned selections included. */
    toa_mcts_t *copy = s_new (3, 12, 4, 2);
    for (int g = 0; g < n; g++) {
        toa_mcts_action_t action;
        assert_int_equal (toa_mcts_locate (copy, records[g].model, records[g].layer,
                                           records[g].j, records[g].parent_g, &action), 0);
        assert_int_equal (toa_mcts_apply (copy, &action, records[g].raw, NULL), g);
    }
    assert_true (s_same_tree (original, copy));
    assert_int_equal (toa_mcts_best (original), toa_mcts_best (copy));
    toa_mcts_destroy (&copy);
    toa_mcts_destroy (&original);

    /* (b) select + replay_check + apply rebuilds an unmasked history. */
    original = s_new (3, 12, 4, 2);
    for (int g = 0; g < 36; g++) {
        toa_mcts_action_t action;
        assert_int_equal (toa_mcts_select (original, &action), TOA_MCTS_SELECTED);
        records[g] = (s_record_t) {action.model, action.layer_id, action.j, action.parent_g,
                                   s_raw (5, g, action.model, action.j)};
        assert_int_equal (toa_mcts_apply (original, &action, records[g].raw, NULL), g);
    }
    copy = s_new (3, 12, 4, 2);
    for (int g = 0; g < 36; g++) {
        toa_mcts_action_t action;
        assert_int_equal (toa_mcts_select (copy, &action), TOA_MCTS_SELECTED);
        assert_int_equal (toa_mcts_replay_check (copy, &action, records[g].model,
                                                 records[g].layer, records[g].j), 0);
        assert_int_equal (toa_mcts_apply (copy, &action, records[g].raw, NULL), g);
        if (g == 20) {              /* a partial copy differs from the whole */
            assert_false (s_same_tree (original, copy));
        }
    }
    assert_true (s_same_tree (original, copy));
    toa_mcts_destroy (&copy);

    /* A record that does not match the search is an error. */
    copy = s_new (3, 12, 4, 2);
    toa_mcts_action_t action;
    assert_int_equal (toa_mcts_select (copy, &action), TOA_MCTS_SELECTED);
    assert_int_equal (toa_mcts_replay_check (copy, &action, 1, 1, -1), -1);
    assert_non_null (strstr (toa_mcts_error (copy), "model 1"));
    toa_mcts_destroy (&copy);
    toa_mcts_destroy (&original);
}

static void
test_locate (void **state)
{
    (void) state;
    toa_mcts_t *mcts = s_new (2, 10, 2, 1);
    toa_mcts_action_t action;
    assert_int_equal (toa_mcts_locate (mcts, 1, 1, -1, TOA_MCTS_PARENT_UNKNOWN, &action), 0);
    assert_int_equal (action.node, 2);
    assert_int_equal (action.parent, 0);
    s_apply_at (mcts, 0, 1, -1, -1, 0.5);           /* g 0 */
    s_apply_at (mcts, 1, 1, -1, -1, 0.1);           /* g 1 */
    s_apply_at (mcts, 1, 3, 0, TOA_MCTS_PARENT_UNKNOWN, 0.2);   /* g 2 refines g 0 */
    /* The path of g 2 passed response 0, so its afresh children exist now. */
    assert_int_equal (toa_mcts_locate (mcts, 0, 3, -1, 0, &action), 0);
    assert_true (action.node > 0);
    assert_int_equal (action.parent_g, 0);
    /* Response 1 was never passed through: its afresh child is pending. */
    assert_int_equal (toa_mcts_locate (mcts, 0, 3, -1, 1, &action), 0);
    assert_int_equal (action.node, -1);
    int nodes = toa_mcts_n_nodes (mcts);
    assert_int_equal (s_apply_at (mcts, 0, 3, -1, 1, 0.3), 3);
    assert_int_equal (toa_mcts_n_nodes (mcts), nodes + 2 + 1 + 2);
    toa_mcts_node_t node;
    toa_mcts_response_t response;
    assert_int_equal (toa_mcts_response (mcts, 3, &response), 0);
    assert_int_equal (response.j, -1);
    assert_int_equal (response.parent_g, 1);
    assert_int_equal (response.depth, 1);
    assert_int_equal (toa_mcts_node (mcts, response.action, &node), 0);
    /* Copied from the root's child 0 (visits 3, one reward of g 0 and one of
     * g 2) before this apply's own backup. */
    assert_int_equal (node.visits, 3 + 1);
    assert_int_equal (node.n_rewards, 2 + 1);

    assert_int_equal (toa_mcts_locate (mcts, 0, 3, -1, TOA_MCTS_PARENT_UNKNOWN, &action), -1);
    assert_non_null (strstr (toa_mcts_error (mcts), "parent"));
    assert_int_equal (toa_mcts_locate (mcts, 0, 3, 9, TOA_MCTS_PARENT_UNKNOWN, &action), -1);
    assert_int_equal (toa_mcts_locate (mcts, 0, 5, 0, TOA_MCTS_PARENT_UNKNOWN, &action), -1);
    assert_int_equal (toa_mcts_locate (mcts, 0, 3, 0, 1, &action), -1);
    assert_int_equal (toa_mcts_locate (mcts, 2, 1, -1, -1, &action), -1);
    assert_int_equal (toa_mcts_locate (mcts, 0, 2, -1, -1, &action), -1);
    assert_int_equal (toa_mcts_locate (mcts, 0, 1, 0, -1, &action), -1);
    toa_mcts_destroy (&mcts);
}

static void
test_best_ties (void **state)
{
    (void) state;
    toa_mcts_t *mcts = s_new (2, 10, 2, 1);
    s_apply_at (mcts, 0, 1, -1, -1, 0.25);
    assert_int_equal (toa_mcts_best (mcts), 0);
    s_apply_at (mcts, 1, 1, -1, -1, 0.25);
    assert_int_equal (toa_mcts_best (mcts), 0);     /* first on ties */
    s_apply_at (mcts, 1, 1, -1, -1, 0.5);
    assert_int_equal (toa_mcts_best (mcts), 2);
    s_apply_at (mcts, 0, 1, -1, -1, -3.0);
    s_apply_at (mcts, 0, 3, 2, TOA_MCTS_PARENT_UNKNOWN, 0.5);
    assert_int_equal (toa_mcts_best (mcts), 2);
    s_apply_at (mcts, 0, 3, 2, TOA_MCTS_PARENT_UNKNOWN, 0.5000001);
    assert_int_equal (toa_mcts_best (mcts), 5);
    toa_mcts_destroy (&mcts);
}

/* Three responses under the root's only action, rewards from RAWS, then
 * selection: which one does it refine? */
static int
s_refined_among_three (int topk, const double raws[3])
{
    toa_mcts_t *mcts = s_new (1, 10, 1, topk);
    for (int g = 0; g < 3; g++)
        s_apply_at (mcts, 0, 1, -1, -1, raws[g]);
    toa_mcts_action_t action;
    assert_int_equal (toa_mcts_select (mcts, &action), TOA_MCTS_SELECTED);
    assert_int_equal (action.layer_id, 3);
    assert_int_equal (action.parent_g, action.j);
    toa_mcts_destroy (&mcts);
    return action.j;
}

static void
test_topk_order (void **state)
{
    (void) state;
    /* All three are unvisited (+inf): the first eligible in scan order wins. */
    const double rising[3] = {0.1, 0.2, 0.3};
    const double dip[3] = {0.2, 0.1, 0.3};
    assert_int_equal (s_refined_among_three (1, rising), 2);    /* the best */
    assert_int_equal (s_refined_among_three (1, dip), 2);
    assert_int_equal (s_refined_among_three (2, rising), 1);    /* [second, best] */
    assert_int_equal (s_refined_among_three (2, dip), 0);
    assert_int_equal (s_refined_among_three (3, rising), 0);    /* first minimum to the front */
    assert_int_equal (s_refined_among_three (3, dip), 1);
    assert_int_equal (s_refined_among_three (5, dip), 1);
    assert_int_equal (s_refined_among_three (3, (const double[3]) {0.3, 0.2, 0.1}), 2);
}

/* Puts N responses under the root's child 0 and one under child 1, then
 * selects once; returns the selection's counters. */
static toa_mcts_stats_t
s_cost_with (int n, int topk)
{
    toa_mcts_params_t params = {2, n, 2, topk, 0.01, 0.2};
    toa_mcts_t *mcts = toa_mcts_new (&params, NULL, 0);
    assert_non_null (mcts);
    s_apply_at (mcts, 1, 1, -1, -1, -2.0);
    for (int g = 1; g < n; g++)
        s_apply_at (mcts, 0, 1, -1, -1, s_raw (6, g, 0, -1));
    toa_mcts_action_t action;
    assert_int_equal (toa_mcts_select (mcts, &action), TOA_MCTS_SELECTED);
    assert_int_equal (action.layer_id, 3);          /* through child 0 and a response */
    toa_mcts_stats_t stats;
    toa_mcts_stats (mcts, &stats);
    assert_int_equal (stats.selects, 1);
    toa_mcts_destroy (&mcts);
    return stats;
}

static void
test_selection_cost (void **state)
{
    (void) state;
    for (int topk = 1; topk <= 3; topk++) {
        toa_mcts_stats_t small = s_cost_with (10, topk);
        toa_mcts_stats_t large = s_cost_with (5000, topk);
        /* root (2 children), the action (topk of its responses), a response
         * (2 refine + 2 afresh), the refine action returned */
        assert_int_equal (small.last_steps, 4);
        assert_int_equal (large.last_steps, 4);
        assert_int_equal (small.last_candidates, 2 + (uint64_t) topk + 4);
        assert_int_equal (large.last_candidates, small.last_candidates);
    }
    /* A whole search: no selection scores more than the children it passes. */
    toa_mcts_t *mcts = s_new (3, 400, 30, 2);
    int g = 0;
    toa_mcts_action_t action;
    while (toa_mcts_select (mcts, &action) == TOA_MCTS_SELECTED) {
        toa_mcts_stats_t stats;
        toa_mcts_stats (mcts, &stats);
        assert_true (stats.last_candidates <= stats.last_steps * 6);
        assert_int_equal (toa_mcts_apply (mcts, &action, s_raw (7, g, action.model, action.j), NULL), g);
        g++;
    }
    assert_int_equal (g, 1200);
    toa_mcts_stats_t stats;
    toa_mcts_stats (mcts, &stats);
    assert_int_equal (stats.selects, 1200);    /* the last one, DONE, walks nothing */
    assert_true (stats.candidates <= stats.steps * 6);
    assert_true (stats.max_candidates > 0);
    toa_mcts_destroy (&mcts);
}

static void
test_json (void **state)
{
    (void) state;
    toa_mcts_t *mcts = s_new (2, 4, 2, 1);
    s_apply_at (mcts, 1, 1, -1, -1, 0.5);
    s_apply_at (mcts, 0, 3, 0, TOA_MCTS_PARENT_UNKNOWN, -0.5);
    const char *const names[] = {"alpha", "beta"};
    json_t *tree = toa_mcts_to_json (mcts, names);
    assert_non_null (tree);
    json_t *nodes = json_object_get (tree, "nodes");
    assert_int_equal (json_array_size (nodes), toa_mcts_n_nodes (mcts));
    json_t *root = json_array_get (nodes, 0);
    assert_true (json_is_null (json_object_get (root, "parent")));
    assert_string_equal (json_string_value (json_object_get (root, "kind")), "root");
    assert_int_equal (json_integer_value (json_object_get (root, "visits")), 3);
    assert_int_equal (json_integer_value (json_object_get (root, "n_rewards")), 2);
    for (size_t i = 0; i < json_array_size (nodes); i++) {
        json_t *node = json_array_get (nodes, i);
        assert_int_equal (json_integer_value (json_object_get (node, "id")), (json_int_t) i);
        if (i > 0)
            assert_true (json_integer_value (json_object_get (node, "parent")) < (json_int_t) i);
    }
    toa_mcts_response_t response;
    assert_int_equal (toa_mcts_response (mcts, 1, &response), 0);
    json_t *node = json_array_get (nodes, (size_t) response.node);
    assert_string_equal (json_string_value (json_object_get (node, "kind")), "response");
    assert_string_equal (json_string_value (json_object_get (node, "model")), "alpha");
    assert_int_equal (json_integer_value (json_object_get (node, "g")), 1);
    assert_int_equal (json_integer_value (json_object_get (node, "depth")), 1);
    assert_true (json_real_value (json_object_get (node, "raw")) == -0.5);
    assert_true (json_is_null (json_object_get (node, "mean_reward")));
    node = json_array_get (nodes, (size_t) response.action);
    assert_string_equal (json_string_value (json_object_get (node, "kind")), "action");
    assert_int_equal (json_integer_value (json_object_get (node, "j")), 0);
    assert_int_equal (json_integer_value (json_object_get (node, "layer")), 3);
    json_decref (tree);
    tree = toa_mcts_to_json (mcts, NULL);
    node = json_array_get (json_object_get (tree, "nodes"), (size_t) response.node);
    assert_int_equal (json_integer_value (json_object_get (node, "model")), 0);
    json_decref (tree);
    toa_mcts_destroy (&mcts);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_initial_shape),
        cmocka_unit_test (test_new_rejects_bad_params),
        cmocka_unit_test (test_select_is_pure),
        cmocka_unit_test (test_masked_selection),
        cmocka_unit_test (test_apply_rejects_bad_actions),
        cmocka_unit_test (test_replay_restore),
        cmocka_unit_test (test_locate),
        cmocka_unit_test (test_best_ties),
        cmocka_unit_test (test_topk_order),
        cmocka_unit_test (test_selection_cost),
        cmocka_unit_test (test_json),
    };
    return cmocka_run_group_tests_name ("mcts", tests, NULL, NULL);
}
