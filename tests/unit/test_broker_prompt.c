/* test_broker_prompt.c - unit tests of the broker's pure parts around one
 * prompt: job settings (defaults, every error at once), the policy registry,
 * best-of-n plan counts, the TOA adapter, the baselines (ensemble, PRS,
 * sequential refine, MoA), generation records (JSON round
 * trip), task messages from templates, result lines, and replay (a prompt
 * rebuilt from its records continues exactly like the original). */
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

#include "broker/method/policy.h"
#include "broker/method/prompt.h"
#include "broker/method/record.h"
#include "broker/method/render.h"
#include "broker/method/result.h"
#include "broker/method/settings.h"
#include "tests/unit/support/prompt_fixture.h"

/* --- helpers --------------------------------------------------------------- */

static uint64_t
s_hash (const char *text, uint64_t seed)
{
    uint64_t hash = 1469598103934665603ULL ^ seed;
    for (const unsigned char *c = (const unsigned char *) text; *c; c++)
        hash = (hash ^ *c) * 1099511628211ULL;
    return hash;
}

static double
s_reward (const char *text)
{
    return (double) (s_hash (text, 3) % 2001) / 1000.0 - 1.0;
}

/* Plays a worker and a scorer for a prompt: pending generations and scorings
 * are answered in order (scorings first). */
typedef struct {
    toa_gen_plan_t plans[256];
    int n_plans;
    int scores[256];
    int n_scores;
    int events;
    /* When set: plays the broker's Redis for this prompt, fields g:<g> in
     * gen[g] and s:<g> in settle[g] (toa_prompt_record_update). */
    toa_prompt_t *stored;
    char *gen[256], *settle[256];
} s_world_t;

static void
s_world_free (s_world_t *world)
{
    for (int g = 0; g < 256; g++) {
        free (world->gen[g]);
        free (world->settle[g]);
    }
}

static void
s_take (s_world_t *world, toa_prompt_work_t *work)
{
    for (size_t i = 0; world->stored && i < work->n_persist; i++) {
        int g = work->persist[i];
        bool settle;
        char *text = toa_prompt_record_update (world->stored, g, &settle);
        assert_non_null (text);
        assert_true (g < 256);
        char **field = settle ? &world->settle[g] : &world->gen[g];
        free (*field);
        *field = text;
    }
    for (size_t i = 0; i < work->n_plans; i++)
        world->plans[world->n_plans++] = work->plans[i];
    for (size_t i = 0; i < work->n_score; i++)
        world->scores[world->n_scores++] = work->score[i];
    toa_prompt_work_reset (work);
}

/* Runs up to MAX_EVENTS answers; FAIL_EVERY > 0 makes every FAIL_EVERY-th
 * generation fail for good. */
static void
s_run (toa_prompt_t *prompt, s_world_t *world, toa_prompt_work_t *work, int max_events,
       int fail_every)
{
    s_take (world, work);
    for (int e = 0; e < max_events && (world->n_plans || world->n_scores); e++) {
        world->events++;
        if (world->n_scores) {
            int g = world->scores[0];
            memmove (world->scores, world->scores + 1, (size_t) --world->n_scores * sizeof (int));
            const toa_gen_record_t *record = toa_prompt_record (prompt, g);
            assert_non_null (record);
            assert_int_equal (toa_prompt_scored (prompt, g, s_reward (record->text), work), 0);
        }
        else {
            toa_gen_plan_t plan = world->plans[0];
            memmove (world->plans, world->plans + 1,
                     (size_t) --world->n_plans * sizeof (toa_gen_plan_t));
            if (fail_every > 0 && world->events % fail_every == 0) {
                assert_int_equal (toa_prompt_generation_failed (prompt, &plan, "boom", work), 0);
            }
            else {
                toa_chat_list_t messages = {0};
                char err[128];
                assert_int_equal (toa_prompt_render (prompt, &plan, &messages, err, sizeof err), 0);
                toa_gen_output_t outputs[16];
                char texts[16][64];
                uint64_t base = toa_prompt_plan_seed (prompt, &plan);
                for (size_t m = 0; m < messages.count; m++)
                    base ^= s_hash (messages.items[m].content, m);
                for (int i = 0; i < plan.n; i++) {
                    snprintf (texts[i], sizeof texts[i], "m%d text %llx", plan.model,
                              (unsigned long long) (base + (uint64_t) i));
                    outputs[i] = (toa_gen_output_t) {texts[i], "stop", 10, 5};
                }
                toa_chat_list_clear (&messages);
                assert_int_equal (toa_prompt_generated (prompt, &plan, outputs, (size_t) plan.n,
                                                        work), 0);
            }
        }
        s_take (world, work);
    }
}

static const char *S_LINE = "{\"id\": 7, \"instruction\": \"What is 6*7?\", \"gold\": 42}";

/* --- settings -------------------------------------------------------------- */

static void
test_settings_defaults (void **state)
{
    (void) state;
    toa_job_settings_t *s = toa_test_settings (
        "{\"models\": [\"a\", \"b\", \"c\"], \"method\": {\"name\": \"toa\"},"
        " \"reward\": {\"backend\": \"math-verify\", \"reference_field\": \"gold\"}}");
    assert_int_equal (s->n_models, 3);
    assert_string_equal (s->method, "toa");
    assert_int_equal (s->samples, 4);
    assert_int_equal (s->width, 4);          /* 3 * 4 / 3 */
    assert_int_equal (s->topk_child, 1);
    assert_true (fabs (s->alpha - 0.01) < 1e-12 && fabs (s->tau - 0.1) < 1e-12);
    assert_true (fabs (s->temperature - 0.7) < 1e-12 && fabs (s->top_p - 1.0) < 1e-12);
    assert_int_equal (s->max_tokens, 1024);
    assert_false (s->has_seed);
    assert_false (s->allow_n);
    assert_null (s->system);
    assert_non_null (strstr (s->refine, "{response}"));
    assert_string_equal (s->reward_backend, "math-verify");
    assert_string_equal (s->reference_field, "gold");
    assert_int_equal (toa_job_settings_model_index (s, "c"), 2);
    assert_int_equal (toa_job_settings_model_index (s, "d"), -1);
    toa_policy_config_t config;
    toa_job_settings_policy_config (s, &config);
    assert_int_equal (config.n_models, 3);
    assert_int_equal (config.width, 4);
    toa_job_settings_destroy (&s);
    assert_null (s);
}

static void
test_settings_every_error (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_job_settings_t *s = toa_job_settings_parse (
        "{\"models\": [\"a\", \"a\", 3], \"method\": {\"name\": \"best-of-n\", \"samples\": 0,"
        " \"tau\": 0}, \"sampling\": {\"top_p\": 2}, \"templates\": {\"refine\": \"no slot\"}}",
        "toa", &errors);
    assert_null (s);
    const char *expected[] = {"listed twice", "models.2", "differs from the submitted",
                              "method.samples", "method.tau", "sampling.top_p",
                              "templates.refine", "reward.backend"};
    for (size_t e = 0; e < sizeof expected / sizeof *expected; e++) {
        bool found = false;
        for (size_t i = 0; i < errors.count; i++)
            found = found || strstr (errors.messages[i], expected[e]);
        if (!found)
            print_error ("missing error about %s\n", expected[e]);
        assert_true (found);
    }
    toa_errors_clear (&errors);
    assert_null (toa_job_settings_parse ("not json", "toa", &errors));
    assert_int_equal (errors.count, 1);
    toa_errors_clear (&errors);
    assert_null (toa_job_settings_parse ("{\"models\": [\"a\"], \"reward\": {\"backend\": \"x\"}}",
                                         "no-such-method", &errors));
    assert_non_null (strstr (errors.messages[0], "unknown method"));
    toa_errors_clear (&errors);
}

static void
test_settings_toa_width (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    /* 2 models x 2 samples / 3 = 1 < 2 models (the reference would crash):
     * the default is raised to the number of models... */
    toa_job_settings_t *s = toa_job_settings_parse (
        "{\"models\": [\"a\", \"b\"], \"method\": {\"samples\": 2},"
        " \"reward\": {\"backend\": \"x\"}}", "toa", &errors);
    assert_non_null (s);
    assert_int_equal (s->width, 2);
    toa_job_settings_destroy (&s);
    /* ... and a width set below it is an error. */
    assert_null (toa_job_settings_parse (
        "{\"models\": [\"a\", \"b\"], \"method\": {\"samples\": 2, \"width\": 1},"
        " \"reward\": {\"backend\": \"x\"}}", "toa", &errors));
    assert_int_equal (errors.count, 1);
    assert_non_null (strstr (errors.messages[0], "method.width: 1 is less than the number of models (2)"));
    toa_errors_clear (&errors);
    s = toa_job_settings_parse (
        "{\"models\": [\"a\", \"b\"], \"method\": {\"samples\": 2, \"width\": 2},"
        " \"reward\": {\"backend\": \"x\"}}", "toa", &errors);
    assert_non_null (s);
    assert_int_equal (s->width, 2);
    toa_job_settings_destroy (&s);
    s = toa_job_settings_parse (
        "{\"models\": [\"a\"], \"method\": {\"parallel_expansions\": 2},"
        " \"reward\": {\"backend\": \"x\"}}", "toa", &errors);
    assert_non_null (s);
    assert_int_equal (s->parallel_expansions, 2);
    toa_job_settings_destroy (&s);
}

/* --- policies -------------------------------------------------------------- */

static void
test_policy_registry (void **state)
{
    (void) state;
    assert_non_null (toa_policy_find ("toa"));
    assert_string_equal (toa_policy_find ("best-of-n")->name, "best-of-n");
    assert_null (toa_policy_find ("nope"));
    assert_null (toa_policy_find (NULL));
    assert_non_null (strstr (toa_policy_names (), "best-of-n"));
    const char *names[] = {"prs", "ensemble", "seq-refine", "moa"};
    for (size_t i = 0; i < 4; i++) {
        assert_non_null (toa_policy_find (names[i]));
        assert_non_null (strstr (toa_policy_names (), names[i]));
    }
}

static void
s_check_best_of_n (bool allow_n, int n_models, int samples)
{
    const toa_policy_ops_t *ops = toa_policy_find ("best-of-n");
    toa_policy_config_t config = {.name = "best-of-n", .n_models = n_models,
                                  .samples = samples, .allow_n = allow_n};
    char err[128];
    toa_policy_t *policy = ops->create (&config, 1, err, sizeof err);
    assert_non_null (policy);
    toa_gen_plan_t plans[64];
    int count = ops->next (policy, plans, 3);
    count += ops->next (policy, plans + count, 64 - count);
    int expected_plans = allow_n && samples > 1 ? n_models : n_models * samples;
    assert_int_equal (count, expected_plans);
    assert_int_equal (ops->next (policy, plans + count, 64 - count), 0);
    int per_model[8] = {0}, response = 0;
    for (int p = 0; p < count; p++) {
        assert_int_equal (plans[p].kind, TOA_GEN_ANSWER);
        assert_int_equal (plans[p].n_inputs, 0);
        per_model[plans[p].model] += plans[p].n;
        for (int k = 0; k < plans[p].n; k++) {
            assert_false (ops->done (policy));
            assert_int_equal (ops->apply (policy, &plans[p], response++, 0.5, k == 0), 0);
        }
    }
    for (int m = 0; m < n_models; m++)
        assert_int_equal (per_model[m], samples);
    assert_true (ops->done (policy));
    assert_int_equal (ops->apply (policy, &plans[0], response, 0.5, false), -1);
    assert_null (ops->tree);     /* best-of-n has no tree */
    ops->destroy (&policy);
    assert_null (policy);
}

static void
test_best_of_n_plan_counts (void **state)
{
    (void) state;
    s_check_best_of_n (false, 3, 4);
    s_check_best_of_n (true, 3, 4);
    s_check_best_of_n (true, 2, 1);
    s_check_best_of_n (false, 1, 1);
}

static void
test_toa_policy_sequential (void **state)
{
    (void) state;
    const toa_policy_ops_t *ops = toa_policy_find ("toa");
    toa_policy_config_t config = {.name = "toa", .n_models = 2, .samples = 3, .width = 2,
                                  .topk_child = 1, .alpha = 0.01, .tau = 0.1};
    char err[128];
    toa_policy_t *policy = ops->create (&config, 0, err, sizeof err);
    assert_non_null (policy);
    toa_gen_plan_t plan, extra;
    int response = 0, refines = 0;
    while (!ops->done (policy)) {
        assert_int_equal (ops->next (policy, &plan, 1), 1);
        assert_int_equal (ops->next (policy, &extra, 1), 0);   /* one in flight */
        if (plan.kind == TOA_GEN_REFINE) {
            refines++;
            assert_true (plan.inputs[0] >= 0 && plan.inputs[0] < response);
            assert_true (plan.depth >= 1);
        }
        else
            assert_int_equal (plan.depth, 0);
        /* The third generation fails: it counts against the budget. */
        assert_int_equal (ops->apply (policy, &plan, response, 0.1 * response, response == 2), 0);
        response++;
    }
    assert_int_equal (response, 6);
    assert_true (refines > 0);
    assert_int_equal (ops->next (policy, &plan, 1), 0);
    json_t *tree = ops->tree (policy, (const char *const[]) {"a", "b"});
    assert_non_null (tree);
    /* Responses in the tree carry broker indexes: the failed one (2) is absent. */
    size_t index;
    json_t *node;
    int responses = 0;
    json_array_foreach (json_object_get (tree, "nodes"), index, node) {
        json_t *g = json_object_get (node, "g");
        if (json_is_integer (g)) {
            responses++;
            assert_int_not_equal (json_integer_value (g), 2);
        }
    }
    assert_int_equal (responses, 5);
    json_decref (tree);
    ops->destroy (&policy);
}

/* --- records, messages, result lines ---------------------------------------- */

static void
test_record_round_trip (void **state)
{
    (void) state;
    const char *models[] = {"a", "b"};
    toa_gen_record_t record = {.kind = TOA_GEN_REFINE, .model = 1, .depth = 2,
                               .inputs = {3}, .n_inputs = 1, .text = "hi \"there\"\n",
                               .finish_reason = "length", .prompt_tokens = 12,
                               .completion_tokens = 34, .scored = true,
                               .raw = 0.1 + 0.2, .applied = 4, .layer = 5, .parent_g = 3};
    char *text = toa_gen_record_encode (&record, models);
    assert_non_null (text);
    /* With its text kept escaped (as a live record has it): the same JSON. */
    assert_int_equal (toa_gen_record_keep_text_json (&record), 0);
    assert_non_null (record.text_json);
    char *kept = toa_gen_record_encode (&record, models);
    assert_string_equal (kept, text);
    free (kept);
    free (record.text_json);
    record.text_json = NULL;
    toa_gen_record_t back;
    memset (&back, 0, sizeof back);
    char err[128];
    assert_int_equal (toa_gen_record_decode (text, models, 2, &back, err, sizeof err), 0);
    assert_int_equal (back.kind, TOA_GEN_REFINE);
    assert_int_equal (back.model, 1);
    assert_int_equal (back.depth, 2);
    assert_int_equal (back.n_inputs, 1);
    assert_int_equal (back.inputs[0], 3);
    assert_string_equal (back.text, record.text);
    assert_string_equal (back.finish_reason, "length");
    assert_int_equal (back.completion_tokens, 34);
    assert_true (back.scored);
    assert_true (back.raw == record.raw);   /* exact: replay depends on it */
    assert_int_equal (back.applied, 4);
    assert_int_equal (back.layer, 5);
    assert_int_equal (back.parent_g, 3);
    assert_false (back.failed);
    toa_gen_record_clear (&back);
    free (text);
    /* Failed, unscored; an unknown model is an error. */
    toa_gen_record_t failed = {.model = 0, .failed = true, .reason = "timeout", .applied = -1};
    text = toa_gen_record_encode (&failed, models);
    assert_int_equal (toa_gen_record_decode (text, models, 2, &back, err, sizeof err), 0);
    assert_true (back.failed && !back.scored && back.text == NULL);
    assert_string_equal (back.reason, "timeout");
    assert_int_equal (back.applied, -1);
    toa_gen_record_clear (&back);
    assert_int_equal (toa_gen_record_decode (text, (const char *const[]) {"x"}, 1, &back, err,
                                             sizeof err), -1);
    free (text);
    assert_int_equal (toa_gen_record_decode ("[1]", models, 2, &back, err, sizeof err), -1);
}

/* A record written before it was scored, then its settle part (s:<g>):
 * together they decode to the whole record, exact reals included. */
static void
test_record_settle_part (void **state)
{
    (void) state;
    const char *models[] = {"a", "b"};
    toa_gen_record_t record = {.kind = TOA_GEN_ANSWER, .model = 0, .text = "x",
                               .applied = -1, .layer = 1, .parent_g = -1};
    char *generation = toa_gen_record_encode (&record, models);
    record.scored = true;
    record.raw = 1.0 / 3.0;
    record.tau = 0.1 + 0.2;
    record.applied = 7;
    char *settle = toa_gen_record_encode_settle (&record);
    char *whole = toa_gen_record_encode (&record, models);
    assert_non_null (generation);
    assert_non_null (settle);
    assert_null (strstr (settle, "\"x\""));     /* no text in it */
    toa_gen_record_t back;
    memset (&back, 0, sizeof back);
    char err[128];
    assert_int_equal (toa_gen_record_decode (generation, models, 2, &back, err, sizeof err), 0);
    assert_false (back.scored);
    assert_int_equal (toa_gen_record_decode_settle (settle, &back, err, sizeof err), 0);
    char *joined = toa_gen_record_encode (&back, models);
    assert_string_equal (joined, whole);
    assert_true (back.raw == record.raw && back.tau == record.tau);
    free (joined);
    free (settle);
    /* A scoring that failed carries its reason; the record's text stays. */
    record.scored = false;
    record.score_failed = true;
    record.reason = "scorer said no";
    record.tau = 0;
    settle = toa_gen_record_encode_settle (&record);
    assert_int_equal (toa_gen_record_decode_settle (settle, &back, err, sizeof err), 0);
    assert_true (back.score_failed);
    assert_string_equal (back.reason, "scorer said no");
    assert_string_equal (back.text, "x");
    free (settle);
    /* Bad settle parts are refused and change nothing. */
    assert_int_equal (toa_gen_record_decode_settle ("[1]", &back, err, sizeof err), -1);
    assert_int_equal (toa_gen_record_decode_settle ("{\"applied\": \"7\"}", &back, err,
                                                    sizeof err), -1);
    assert_int_equal (toa_gen_record_decode_settle ("{\"applied\": 1, \"raw\": \"x\"}", &back,
                                                    err, sizeof err), -1);
    assert_int_equal (back.applied, 7);
    toa_gen_record_clear (&back);
    free (generation);
    free (whole);
}

static void
test_render_messages (void **state)
{
    (void) state;
    toa_job_settings_t *s = toa_test_settings (
        "{\"models\": [\"a\"], \"method\": {\"name\": \"best-of-n\"}, \"reward\": {\"backend\": \"x\"},"
        " \"templates\": {\"system\": \"Be brief.\", \"refine\": \"Q={question} R={response}!\","
        " \"aggregate\": \"Q={question}\\n{responses}\"}}");
    toa_chat_list_t prompt = {0}, out = {0};
    toa_chat_list_add (&prompt, "user", "What?");
    toa_gen_record_t records[2] = {{.text = "first"}, {.text = "second"}};
    char err[128];
    toa_gen_plan_t answer = {.kind = TOA_GEN_ANSWER, .n = 1};
    assert_int_equal (toa_render_generation (s, &prompt, "What?", &answer, records, 2, &out,
                                             err, sizeof err), 0);
    assert_int_equal (out.count, 2);
    assert_string_equal (out.items[0].role, "system");
    assert_string_equal (out.items[0].content, "Be brief.");
    assert_string_equal (out.items[1].content, "What?");
    toa_gen_plan_t refine = {.kind = TOA_GEN_REFINE, .inputs = {1}, .n_inputs = 1, .n = 1};
    assert_int_equal (toa_render_generation (s, &prompt, "What?", &refine, records, 2, &out,
                                             err, sizeof err), 0);
    assert_int_equal (out.count, 2);
    assert_string_equal (out.items[1].role, "user");
    assert_string_equal (out.items[1].content, "Q=What? R=second!");
    toa_gen_plan_t aggregate = {.kind = TOA_GEN_AGGREGATE, .inputs = {0, 1}, .n_inputs = 2};
    assert_int_equal (toa_render_generation (s, &prompt, "What?", &aggregate, records, 2, &out,
                                             err, sizeof err), 0);
    assert_string_equal (out.items[1].content,
                         "Q=What?\nResponse 1:\nfirst\n\nResponse 2:\nsecond");
    /* A prompt with its own system message keeps it alone. */
    toa_chat_list_t own = {0};
    toa_chat_list_add (&own, "system", "Mine.");
    toa_chat_list_add (&own, "user", "Hi");
    assert_int_equal (toa_render_generation (s, &own, "Hi", &answer, records, 2, &out, err,
                                             sizeof err), 0);
    assert_int_equal (out.count, 2);
    assert_string_equal (out.items[0].content, "Mine.");
    /* An input that is not a response is an error. */
    refine.inputs[0] = 5;
    assert_int_equal (toa_render_generation (s, &prompt, "What?", &refine, records, 2, &out,
                                             err, sizeof err), -1);
    assert_int_equal (out.count, 0);
    toa_chat_list_clear (&prompt);
    toa_chat_list_clear (&own);
    toa_chat_list_clear (&out);
    toa_job_settings_destroy (&s);
}

static void
test_result_line (void **state)
{
    (void) state;
    const char *models[] = {"a", "b"};
    json_t *input = json_loads ("{\"id\": \"x1\", \"instruction\": \"Q\", \"gold\": 3}", 0, NULL);
    toa_gen_record_t records[4] = {
        {.model = 0, .text = "one", .prompt_tokens = 3, .completion_tokens = 4, .scored = true,
         .raw = 0.5},
        {.model = 1, .failed = true, .reason = "HTTP 400"},
        {.model = 1, .kind = TOA_GEN_REFINE, .depth = 1, .inputs = {0}, .n_inputs = 1,
         .text = "three", .prompt_tokens = 9, .completion_tokens = 2, .scored = true, .raw = 0.5},
        {.model = 0, .text = "four", .score_failed = true, .reason = "scorer down"},
    };
    char *text = toa_result_line (input, "toa", models, records, 4, NULL);
    json_t *line = json_loads (text, 0, NULL);
    assert_non_null (line);
    assert_string_equal (json_string_value (json_object_get (line, "id")), "x1");
    assert_int_equal (json_integer_value (json_object_get (line, "gold")), 3);
    assert_int_equal (json_array_size (json_object_get (line, "responses")), 4);
    assert_true (json_is_null (json_array_get (json_object_get (line, "responses"), 1)));
    json_t *rewards = json_object_get (line, "rewards");
    assert_true (json_is_null (json_array_get (rewards, 1)));
    assert_true (json_is_null (json_array_get (rewards, 3)));
    json_t *action = json_array_get (json_object_get (line, "actions"), 2);
    assert_string_equal (json_string_value (json_object_get (action, "model")), "b");
    assert_int_equal (json_integer_value (json_object_get (action, "depth")), 1);
    assert_int_equal (json_integer_value (json_array_get (json_object_get (line, "total_tokens"),
                                                         2)), 11);
    /* Ties: the first. */
    assert_string_equal (json_string_value (json_object_get (line, "best_response")), "one");
    assert_string_equal (json_string_value (json_object_get (line, "best_model")), "a");
    assert_true (json_real_value (json_object_get (line, "best_reward")) == 0.5);
    json_t *failures = json_object_get (line, "failures");
    assert_int_equal (json_array_size (failures), 2);
    assert_int_equal (json_integer_value (json_object_get (json_array_get (failures, 0),
                                                           "index")), 1);
    assert_string_equal (json_string_value (json_object_get (json_array_get (failures, 1),
                                                             "stage")), "scoring");
    assert_string_equal (json_string_value (json_object_get (line, "method")), "toa");
    assert_null (json_object_get (line, "tree"));
    json_decref (line);
    free (text);
    /* Nothing scored: best fields are null; no failures field when none. */
    text = toa_result_line (input, "best-of-n", models, records + 3, 0, NULL);
    line = json_loads (text, 0, NULL);
    assert_true (json_is_null (json_object_get (line, "best_response")));
    assert_null (json_object_get (line, "failures"));
    json_decref (line);
    free (text);
    json_decref (input);
}

/* --- prompts and replay ---------------------------------------------------- */

static void
test_prompt_best_of_n_lifecycle (void **state)
{
    (void) state;
    toa_job_settings_t *s = toa_test_settings (
        "{\"models\": [\"a\", \"b\"], \"method\": {\"name\": \"best-of-n\", \"samples\": 3},"
        " \"sampling\": {\"allow_n\": true, \"seed\": 9},"
        " \"reward\": {\"backend\": \"x\", \"reference_field\": \"gold\"}}");
    toa_prompt_t *prompt = toa_test_prompt (s, S_LINE);
    assert_string_equal (toa_prompt_reference (prompt), "42");
    assert_int_equal (toa_prompt_original_messages (prompt)->count, 1);
    toa_prompt_work_t work = {0};
    assert_int_equal (toa_prompt_start (prompt, &work), 0);
    assert_int_equal (work.n_plans, 2);          /* one request of n = 3 per model */
    assert_int_equal (work.plans[0].n, 3);
    s_world_t world = {0};
    s_run (prompt, &world, &work, 1000, 0);
    assert_int_equal (toa_prompt_n_records (prompt), 6);
    bool stuck = true;
    assert_true (toa_prompt_finished (prompt, &stuck));
    assert_false (stuck);
    char *line = toa_prompt_result_line (prompt);
    json_t *result = json_loads (line, 0, NULL);
    assert_int_equal (json_array_size (json_object_get (result, "responses")), 6);
    assert_int_equal (json_integer_value (json_object_get (result, "id")), 7);
    json_decref (result);
    free (line);
    /* Not in flight: a result for nothing is refused. */
    assert_int_equal (toa_prompt_scored (prompt, 0, 0.1, &work), -1);
    assert_int_equal (toa_prompt_scored (prompt, 99, 0.1, &work), -1);
    toa_prompt_destroy (&prompt);
    toa_prompt_work_clear (&work);
    toa_job_settings_destroy (&s);
}

static void
test_prompt_missing_outputs_fail (void **state)
{
    (void) state;
    toa_job_settings_t *s = toa_test_settings (
        "{\"models\": [\"a\"], \"method\": {\"name\": \"best-of-n\", \"samples\": 3},"
        " \"sampling\": {\"allow_n\": true}, \"reward\": {\"backend\": \"x\"}}");
    toa_prompt_t *prompt = toa_test_prompt (s, S_LINE);
    toa_prompt_work_t work = {0};
    toa_prompt_start (prompt, &work);
    toa_gen_plan_t plan = work.plans[0];
    toa_prompt_work_reset (&work);
    toa_gen_output_t one = {"only one", "stop", 1, 1};
    assert_int_equal (toa_prompt_generated (prompt, &plan, &one, 1, &work), 0);
    assert_int_equal (toa_prompt_n_records (prompt), 3);
    assert_int_equal (work.n_score, 1);
    assert_int_equal (work.n_persist, 3);
    assert_true (toa_prompt_record (prompt, 2)->failed);
    assert_int_equal (toa_prompt_in_flight (prompt), 1);
    assert_int_equal (toa_prompt_scoring_failed (prompt, 0, "scorer gone", &work), 0);
    bool stuck;
    assert_true (toa_prompt_finished (prompt, &stuck));
    assert_false (stuck);
    toa_prompt_destroy (&prompt);
    toa_prompt_work_clear (&work);
    toa_job_settings_destroy (&s);
}

static void
test_prompt_bad_line (void **state)
{
    (void) state;
    toa_job_settings_t *s = toa_test_settings (
        "{\"models\": [\"a\"], \"method\": {\"name\": \"best-of-n\"}, \"reward\": {\"backend\": \"x\"}}");
    char err[128];
    assert_null (toa_prompt_new (s, 0, "{\"id\": 1}", err, sizeof err));
    assert_null (toa_prompt_new (s, 0, "nope", err, sizeof err));
    toa_job_settings_destroy (&s);
}

/* Runs a prompt for CUT events, rebuilds a second one from its records, then
 * runs both to the end: the results must be identical. */
static void
s_check_replay (const char *settings_text, int cut, int fail_every)
{
    toa_job_settings_t *s = toa_test_settings (settings_text);
    toa_prompt_t *live = toa_test_prompt (s, S_LINE);
    toa_prompt_work_t work = {0};
    assert_int_equal (toa_prompt_start (live, &work), 0);
    s_world_t world = {.stored = live};
    s_run (live, &world, &work, cut, fail_every);
    size_t n;
    char **texts = toa_test_record_texts (live, &n);
    /* Replayed from the records as the broker writes them (a text once, its
     * settle part apart), the prompt wants the same as from whole records. */
    toa_prompt_t *split = toa_test_prompt (s, S_LINE);
    toa_prompt_work_t split_work = {0};
    char err[256] = "";
    int rc = toa_prompt_replay_split (split, (const char *const *) world.gen,
                                      (const char *const *) world.settle, n, 0, &split_work,
                                      err, sizeof err);
    if (rc != 0)
        print_error ("split replay: %s\n", err);
    assert_int_equal (rc, 0);
    for (size_t g = 0; g < n; g++) {
        char *whole = toa_prompt_record_json (split, (int) g);
        assert_string_equal (whole, texts[g]);
        free (whole);
    }
    toa_prompt_t *copy = toa_test_prompt (s, S_LINE);
    toa_prompt_work_t copy_work = {0};
    toa_test_replay (copy, texts, n, 0, &copy_work);
    assert_int_equal (split_work.n_plans, copy_work.n_plans);
    assert_int_equal (split_work.n_score, copy_work.n_score);
    toa_prompt_destroy (&split);
    toa_prompt_work_clear (&split_work);
    /* The copy wants exactly what is in flight for the original. */
    assert_int_equal (copy_work.n_plans, world.n_plans);
    for (int p = 0; p < world.n_plans; p++) {
        assert_int_equal (copy_work.plans[p].kind, world.plans[p].kind);
        assert_int_equal (copy_work.plans[p].model, world.plans[p].model);
        assert_int_equal (copy_work.plans[p].n_inputs, world.plans[p].n_inputs);
        if (world.plans[p].n_inputs)
            assert_int_equal (copy_work.plans[p].inputs[0], world.plans[p].inputs[0]);
    }
    assert_int_equal (copy_work.n_score, world.n_scores);
    assert_int_equal (toa_prompt_in_flight (copy), toa_prompt_in_flight (live));
    s_world_t copy_world = {.events = world.events};
    s_run (copy, &copy_world, &copy_work, 100000, fail_every);
    s_run (live, &world, &work, 100000, fail_every);
    bool stuck;
    assert_true (toa_prompt_finished (live, &stuck));
    assert_false (stuck);
    assert_true (toa_prompt_finished (copy, &stuck));
    char *a = toa_prompt_result_line (live), *b = toa_prompt_result_line (copy);
    assert_string_equal (a, b);
    free (a);
    free (b);
    toa_test_texts_free (texts, n);
    s_world_free (&world);
    toa_prompt_destroy (&live);
    toa_prompt_destroy (&copy);
    toa_prompt_work_clear (&work);
    toa_prompt_work_clear (&copy_work);
    toa_job_settings_destroy (&s);
}

static void
test_replay_toa (void **state)
{
    (void) state;
    const char *settings = "{\"models\": [\"a\", \"b\", \"c\"], \"method\": {\"name\": \"toa\","
                           " \"samples\": 4, \"width\": 4, \"alpha\": 0.5},"
                           " \"reward\": {\"backend\": \"x\"}}";
    for (int cut = 0; cut <= 24; cut += 3)
        s_check_replay (settings, cut, 0);
    for (int cut = 1; cut <= 24; cut += 4)
        s_check_replay (settings, cut, 5);    /* with failed generations */
}

static void
test_replay_best_of_n (void **state)
{
    (void) state;
    const char *settings = "{\"models\": [\"a\", \"b\"], \"method\": {\"name\": \"best-of-n\","
                           " \"samples\": 3}, \"reward\": {\"backend\": \"x\"}}";
    for (int cut = 0; cut <= 12; cut += 2)
        s_check_replay (settings, cut, 0);
    s_check_replay (settings, 5, 3);
}


/* Sets AVAILABLE on PROMPT and withdraws the plans in flight in WORLD whose
 * model is unavailable (what the broker does when a model goes down). */
static int
s_mask (toa_prompt_t *prompt, s_world_t *world, toa_prompt_work_t *work,
        const bool *available)
{
    toa_prompt_set_available (prompt, available);
    int withdrawn = 0;
    for (int p = 0; p < world->n_plans;) {
        if (available[world->plans[p].model]) {
            p++;
            continue;
        }
        toa_gen_plan_t plan = world->plans[p];
        memmove (world->plans + p, world->plans + p + 1,
                 (size_t) (--world->n_plans - p) * sizeof plan);
        assert_int_equal (toa_prompt_withdraw (prompt, &plan, work), 0);
        withdrawn++;
        s_take (world, work);
    }
    return withdrawn;
}

/* TOA with a masked history (model b down for a while, its plan withdrawn):
 * a prompt restored from the records has the identical tree and result,
 * wants the same next plan, and ends the same. */
static void
test_restore_toa_masked (void **state)
{
    (void) state;
    const char *settings = "{\"models\": [\"a\", \"b\", \"c\"], \"method\": {\"name\": \"toa\","
                           " \"samples\": 4, \"width\": 4, \"alpha\": 0.5},"
                           " \"reward\": {\"backend\": \"x\"}}";
    const bool all[3] = {true, true, true}, no_b[3] = {true, false, true};
    int total_withdrawn = 0;
    for (int before = 0; before <= 8; before += 2) {
        for (int during = 2; during <= 10; during += 4) {
            toa_job_settings_t *s = toa_test_settings (settings);
            toa_prompt_t *live = toa_test_prompt (s, S_LINE);
            toa_prompt_work_t work = {0};
            assert_int_equal (toa_prompt_start (live, &work), 0);
            s_world_t world = {0};
            s_run (live, &world, &work, before, 0);
            total_withdrawn += s_mask (live, &world, &work, no_b);
            s_run (live, &world, &work, during, 0);
            for (size_t g = 0; g < toa_prompt_n_records (live); g++)
                if (toa_prompt_record (live, (int) g)->applied >= before)
                    assert_int_not_equal (toa_prompt_record (live, (int) g)->model, 1);
            size_t n;
            char **texts = toa_test_record_texts (live, &n);
            toa_prompt_t *copy = toa_test_prompt (s, S_LINE);
            toa_prompt_set_available (copy, no_b);
            toa_prompt_work_t copy_work = {0};
            toa_test_replay (copy, texts, n, 0, &copy_work);
            /* identical tree (the result line carries it) */
            char *a = toa_prompt_result_line (live), *b = toa_prompt_result_line (copy);
            assert_string_equal (a, b);
            free (a);
            free (b);
            /* the same next plan */
            assert_int_equal (copy_work.n_plans, world.n_plans);
            for (int p = 0; p < world.n_plans; p++) {
                assert_int_equal (copy_work.plans[p].model, world.plans[p].model);
                assert_int_equal (copy_work.plans[p].layer, world.plans[p].layer);
                assert_int_equal (copy_work.plans[p].parent_g, world.plans[p].parent_g);
                assert_int_equal (copy_work.plans[p].n_inputs, world.plans[p].n_inputs);
                assert_true (copy_work.plans[p].tag == world.plans[p].tag);
            }
            assert_int_equal (copy_work.n_score, world.n_scores);
            /* b is back: both end the same */
            s_world_t copy_world = {.events = world.events};
            toa_prompt_set_available (live, all);
            toa_prompt_set_available (copy, all);
            s_run (copy, &copy_world, &copy_work, 100000, 0);
            s_run (live, &world, &work, 100000, 0);
            bool stuck;
            assert_true (toa_prompt_finished (live, &stuck));
            assert_false (stuck);
            assert_true (toa_prompt_finished (copy, &stuck));
            assert_false (stuck);
            a = toa_prompt_result_line (live);
            b = toa_prompt_result_line (copy);
            assert_string_equal (a, b);
            json_t *ra = json_loads (a, 0, NULL);
            assert_int_equal (json_array_size (json_object_get (ra, "responses")), 12);
            json_decref (ra);
            free (a);
            free (b);
            toa_test_texts_free (texts, n);
            toa_prompt_destroy (&live);
            toa_prompt_destroy (&copy);
            toa_prompt_work_clear (&work);
            toa_prompt_work_clear (&copy_work);
            toa_job_settings_destroy (&s);
        }
    }
    assert_true (total_withdrawn > 0);     /* some histories were masked for real */
}

/* Every model down: TOA waits (not finished, not stuck) and goes on when one
 * comes back. */
static void
test_toa_waits_for_a_model (void **state)
{
    (void) state;
    toa_job_settings_t *s = toa_test_settings (
        "{\"models\": [\"a\", \"b\"], \"method\": {\"name\": \"toa\", \"samples\": 2},"
        " \"reward\": {\"backend\": \"x\"}}");
    toa_prompt_t *prompt = toa_test_prompt (s, S_LINE);
    toa_prompt_work_t work = {0};
    assert_int_equal (toa_prompt_start (prompt, &work), 0);
    s_world_t world = {0};
    s_run (prompt, &world, &work, 3, 0);
    const bool none[2] = {false, false}, only_a[2] = {true, false};
    s_mask (prompt, &world, &work, none);
    s_run (prompt, &world, &work, 100, 0);     /* drains what is in flight */
    assert_int_equal (world.n_plans, 0);
    bool stuck = true;
    assert_true (toa_prompt_waiting (prompt));
    assert_false (toa_prompt_finished (prompt, &stuck));
    size_t made = toa_prompt_n_records (prompt);
    assert_true (made < 4);
    toa_prompt_set_available (prompt, only_a);
    assert_int_equal (toa_prompt_kick (prompt, &work), 0);
    s_run (prompt, &world, &work, 100000, 0);
    assert_false (toa_prompt_waiting (prompt));
    assert_true (toa_prompt_finished (prompt, &stuck));
    assert_false (stuck);
    assert_int_equal (toa_prompt_n_records (prompt), 4);
    for (size_t g = made; g < 4; g++)
        assert_int_equal (toa_prompt_record (prompt, (int) g)->model, 0);
    /* best-of-n cannot withdraw */
    toa_job_settings_t *s2 = toa_test_settings (
        "{\"models\": [\"a\"], \"method\": {\"name\": \"best-of-n\"}, \"reward\": {\"backend\": \"x\"}}");
    toa_prompt_t *bon = toa_test_prompt (s2, S_LINE);
    assert_false (toa_prompt_can_withdraw (bon));
    assert_true (toa_prompt_can_withdraw (prompt));
    toa_prompt_destroy (&bon);
    toa_job_settings_destroy (&s2);
    toa_prompt_destroy (&prompt);
    toa_prompt_work_clear (&work);
    toa_job_settings_destroy (&s);
}


/* Runs a whole prompt of SETTINGS and returns its result line (parsed). */
static json_t *
s_full_run (const char *settings_text, int fail_every)
{
    toa_job_settings_t *s = toa_test_settings (settings_text);
    toa_prompt_t *prompt = toa_test_prompt (s, S_LINE);
    toa_prompt_work_t work = {0};
    assert_int_equal (toa_prompt_start (prompt, &work), 0);
    s_world_t world = {0};
    s_run (prompt, &world, &work, 100000, fail_every);
    bool stuck = true;
    assert_true (toa_prompt_finished (prompt, &stuck));
    assert_false (stuck);
    char *line = toa_prompt_result_line (prompt);
    json_t *result = json_loads (line, 0, NULL);
    free (line);
    toa_prompt_destroy (&prompt);
    toa_prompt_work_clear (&work);
    toa_job_settings_destroy (&s);
    assert_non_null (result);
    return result;
}

static int
s_action_int (json_t *result, size_t i, const char *key)
{
    return (int) json_integer_value (json_object_get (json_array_get (
        json_object_get (result, "actions"), i), key));
}

static const char *
s_action_model (json_t *result, size_t i)
{
    return json_string_value (json_object_get (json_array_get (
        json_object_get (result, "actions"), i), "model"));
}

static void
test_baselines_budget_and_shape (void **state)
{
    (void) state;
    const char *models = "\"models\": [\"a\", \"b\", \"c\"], \"reward\": {\"backend\": \"x\"}";
    char text[512];
    /* ensemble: 3 x 3, every model 3 times, all answers. */
    snprintf (text, sizeof text, "{%s, \"method\": {\"name\": \"ensemble\", \"samples\": 3}}", models);
    json_t *result = s_full_run (text, 0);
    int per_model[3] = {0};
    for (size_t i = 0; i < 9; i++) {
        per_model[s_action_model (result, i)[0] - 'a']++;
        assert_int_equal (s_action_int (result, i, "depth"), 0);
    }
    assert_int_equal (json_array_size (json_object_get (result, "responses")), 9);
    assert_true (per_model[0] == 3 && per_model[1] == 3 && per_model[2] == 3);
    json_decref (result);
    /* prs: one model (b), 5 samples then 4 refinements (each of the best so
     * far: depth 1 or more). */
    snprintf (text, sizeof text, "{%s, \"method\": {\"name\": \"prs\", \"samples\": 3,"
              " \"prs_model\": \"b\"}}", models);
    result = s_full_run (text, 0);
    assert_int_equal (json_array_size (json_object_get (result, "responses")), 9);
    for (size_t i = 0; i < 9; i++) {
        assert_string_equal (s_action_model (result, i), "b");
        if (i < 5)
            assert_int_equal (s_action_int (result, i, "depth"), 0);
        else
            assert_true (s_action_int (result, i, "depth") >= 1);
    }
    json_decref (result);
    /* seq-refine: 3 rounds; each has every model once, depths 0 1 2. */
    snprintf (text, sizeof text, "{%s, \"method\": {\"name\": \"seq-refine\", \"samples\": 3}}",
              models);
    result = s_full_run (text, 0);
    for (size_t round = 0; round < 3; round++) {
        int seen = 0;
        for (size_t k = 0; k < 3; k++) {
            assert_int_equal (s_action_int (result, round * 3 + k, "depth"), (int) k);
            seen |= 1 << (s_action_model (result, round * 3 + k)[0] - 'a');
        }
        assert_int_equal (seen, 7);
    }
    json_decref (result);
    /* moa, 2 layers a round, 4 layers: depths 0 1 0 1 per layer. */
    snprintf (text, sizeof text, "{%s, \"method\": {\"name\": \"moa\", \"samples\": 4,"
              " \"moa_aggregate\": 2}}", models);
    result = s_full_run (text, 0);
    assert_int_equal (json_array_size (json_object_get (result, "responses")), 12);
    int depths[12];
    for (size_t i = 0; i < 12; i++)
        depths[i] = s_action_int (result, i, "depth");
    int ones = 0;
    for (size_t i = 0; i < 12; i++)
        ones += depths[i];
    assert_int_equal (ones, 6);
    json_decref (result);
    /* Failures count against the budget and never stall. */
    const char *names[] = {"ensemble", "prs", "seq-refine", "moa", "best-of-n", "toa"};
    for (size_t m = 0; m < sizeof names / sizeof *names; m++) {
        snprintf (text, sizeof text, "{%s, \"method\": {\"name\": \"%s\", \"samples\": 3}}",
                  models, names[m]);
        result = s_full_run (text, 3);
        assert_int_equal (json_array_size (json_object_get (result, "responses")), 9);
        size_t failures = json_array_size (json_object_get (result, "failures")), nulls = 0;
        for (size_t i = 0; i < 9; i++)
            nulls += json_is_null (json_array_get (json_object_get (result, "rewards"), i));
        if (failures < 1)
            print_error ("%s: no failure\n", names[m]);
        assert_true (failures >= 1);
        assert_int_equal (failures, nulls);
        json_decref (result);
    }
}

static void
test_replay_baselines (void **state)
{
    (void) state;
    const char *names[] = {"ensemble", "prs", "seq-refine", "moa"};
    for (size_t m = 0; m < sizeof names / sizeof *names; m++) {
        char text[512];
        snprintf (text, sizeof text, "{\"models\": [\"a\", \"b\", \"c\"], \"reward\": "
                  "{\"backend\": \"x\"}, \"method\": {\"name\": \"%s\", \"samples\": 3,"
                  " \"seed\": 4}}", names[m]);
        for (int cut = 0; cut <= 18; cut += 3)
            s_check_replay (text, cut, 0);
        s_check_replay (text, 7, 4);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_settings_defaults),
        cmocka_unit_test (test_settings_every_error),
        cmocka_unit_test (test_settings_toa_width),
        cmocka_unit_test (test_policy_registry),
        cmocka_unit_test (test_best_of_n_plan_counts),
        cmocka_unit_test (test_toa_policy_sequential),
        cmocka_unit_test (test_record_round_trip),
        cmocka_unit_test (test_record_settle_part),
        cmocka_unit_test (test_render_messages),
        cmocka_unit_test (test_result_line),
        cmocka_unit_test (test_prompt_best_of_n_lifecycle),
        cmocka_unit_test (test_prompt_missing_outputs_fail),
        cmocka_unit_test (test_prompt_bad_line),
        cmocka_unit_test (test_replay_toa),
        cmocka_unit_test (test_replay_best_of_n),
        cmocka_unit_test (test_baselines_budget_and_shape),
        cmocka_unit_test (test_replay_baselines),
        cmocka_unit_test (test_restore_toa_masked),
        cmocka_unit_test (test_toa_waits_for_a_model),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
