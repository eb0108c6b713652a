/* test_config.c - unit tests of common/config: every field read, defaults,
 * the demo config, every kind of problem with its exact message, overrides,
 * the effective JSON. Run from the repository root (tests/run.sh does). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"

#define DATA "tests/unit/data/config/"

/* Parses TEXT (named "fleet.json") with OVERRIDES; fails the test on any
 * error. */
static toa_config_t *
s_parse_ok (const char *text, const char *const *overrides, size_t n_overrides)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *config = toa_config_parse (text, "fleet.json", overrides,
                                             n_overrides, &errors);
    if (!config || errors.count) {
        toa_errors_print (&errors, stderr);
        fail_msg ("expected the config to parse");
    }
    toa_errors_clear (&errors);
    return config;
}

/* Checks that the problems found are exactly EXPECTED, in order. */
static void
s_check_errors (toa_config_t *config, toa_errors_t *errors,
                const char *const *expected, size_t n_expected)
{
    bool same = !config && errors->count == n_expected;
    for (size_t i = 0; same && i < n_expected; i++)
        same = strcmp (errors->messages[i], expected[i]) == 0;
    if (!same) {
        fprintf (stderr, "expected:\n");
        for (size_t i = 0; i < n_expected; i++)
            fprintf (stderr, "  %s\n", expected[i]);
        fprintf (stderr, "got%s:\n", config ? " a config and" : "");
        for (size_t i = 0; i < errors->count; i++)
            fprintf (stderr, "  %s\n", errors->messages[i]);
    }
    toa_config_destroy (&config);
    toa_errors_clear (errors);
    assert_true (same);
}

static void
s_expect (const char *text, const char *const *overrides, size_t n_overrides,
          const char *const *expected, size_t n_expected)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *config = toa_config_parse (text, "fleet.json", overrides,
                                             n_overrides, &errors);
    s_check_errors (config, &errors, expected, n_expected);
}

/* One problem, no overrides. */
static void
s_expect_one (const char *text, const char *message)
{
    s_expect (text, NULL, 0, &message, 1);
}

/* One override problem on TEXT. */
static void
s_expect_override (const char *text, const char *override, const char *message)
{
    s_expect (text, &override, 1, &message, 1);
}

static const char s_three_models[] =
    "{\"models\": ["
    "{\"name\": \"a\", \"base_url\": \"http://127.0.0.1:8000/v1\"},"
    "{\"name\": \"b\", \"base_url\": \"http://127.0.0.1:8000/v1\"},"
    "{\"name\": \"c\", \"base_url\": \"http://127.0.0.1:8000/v1\"}]}";

/* ------------------------------------------------------------ good files */

static void
test_full_file_every_value (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *c = toa_config_load (DATA "full.json", NULL, 0, &errors);
    toa_errors_print (&errors, stderr);
    assert_non_null (c);
    assert_int_equal (errors.count, 0);
    assert_string_equal (c->path, DATA "full.json");
    assert_true (json_is_object (c->root));

    assert_string_equal (c->broker.client_endpoint, "tcp://127.0.0.1:6001");
    assert_string_equal (c->broker.worker_endpoint, "ipc:///tmp/toa-workers");
    assert_int_equal (c->broker.heartbeat_ms, 250);
    assert_int_equal (c->broker.max_active_prompts, 1000);
    assert_int_equal (c->broker.task_timeout_ms, 90000);
    assert_int_equal (c->broker.max_message_bytes, 1048576);
    assert_int_equal (c->broker.max_peers, 32);
    assert_int_equal (c->broker.max_serves, 8);
    assert_int_equal (c->broker.peer_heartbeat_max_ms, 20000);
    assert_true (c->broker.stall_fraction == 0.25);
    assert_string_equal (c->broker.log_file, "/tmp/toa-broker.log");
    assert_true (c->broker.insecure);
    assert_int_equal (c->broker.max_jobs_per_client, 7);
    assert_int_equal (c->broker.max_prompts_per_client, 5000);
    assert_string_equal (c->curve.broker_key, "keys/broker.key");
    assert_string_equal (c->curve.peer_key, "keys/worker.key");
    assert_string_equal (c->curve.client_key, "keys/alice.key");
    assert_string_equal (c->curve.peer_keys_dir, "keys/peers");
    assert_string_equal (c->curve.client_keys_dir, "keys/clients");
    assert_string_equal (c->curve.admin_keys_dir, "keys/admins");

    assert_string_equal (c->redis.url, "redis://10.0.0.5:6380/2");
    assert_string_equal (c->redis.password_env, "TOA_REDIS_PASSWORD");
    assert_true (c->redis.managed);
    assert_string_equal (c->redis.data_dir, "/var/lib/toa/redis");

    assert_int_equal (c->n_models, 2);
    const toa_model_config_t *llama = &c->models[0];
    assert_string_equal (llama->name, "llama");
    assert_string_equal (llama->model_id, "meta-llama/Llama-3.1-8B-Instruct");
    assert_int_equal (llama->n_base_urls, 2);
    assert_string_equal (llama->base_urls[0], "http://10.0.0.1:8000/v1");
    assert_string_equal (llama->base_urls[1], "http://10.0.0.2:8000/v1");
    assert_string_equal (llama->api_key_env, "LLAMA_KEY");
    assert_int_equal (llama->max_concurrent, 32);
    assert_int_equal (llama->n_stop, 2);
    assert_string_equal (llama->stop[0], "</s>");
    assert_string_equal (llama->stop[1], "<|eot_id|>");
    assert_int_equal (llama->timeout_ms, 120000);
    assert_int_equal (llama->max_retries, 2);
    assert_false (llama->simulated);
    const toa_model_config_t *qwen = &c->models[1];
    assert_string_equal (qwen->name, "qwen");
    assert_string_equal (qwen->model_id, "qwen");          /* defaults to name */
    assert_int_equal (qwen->n_base_urls, 1);
    assert_string_equal (qwen->base_urls[0], "https://api.example.com/v1");
    assert_null (qwen->api_key_env);
    assert_int_equal (qwen->max_concurrent, 16);
    assert_int_equal (qwen->n_stop, 1);                    /* one string */
    assert_string_equal (qwen->stop[0], "###");
    assert_int_equal (qwen->timeout_ms, 60000);
    assert_int_equal (qwen->max_retries, 5);
    assert_true (qwen->simulated);
    assert_ptr_equal (toa_config_model (c, "qwen"), qwen);
    assert_null (toa_config_model (c, "gpt"));

    assert_string_equal (c->reward.backend, "llm-judge");
    assert_string_equal (c->reward.url, "https://judge.example.com/v1");
    assert_string_equal (c->reward.model_id, "judge-70b");
    assert_string_equal (c->reward.api_key_env, "JUDGE_KEY");
    assert_string_equal (c->reward.reference_field, "reference");
    assert_string_equal (c->reward.query_template, "Q: {prompt}\nA: {response}");
    assert_string_equal (c->reward.judge_template, "Rate 1 to 5: {prompt} / {response}");
    assert_true (c->reward.judge_scale_max == 5.0);
    assert_int_equal (c->reward.batch_size, 8);
    assert_int_equal (c->reward.batch_wait_ms, 50);
    assert_int_equal (c->reward.timeout_ms, 30000);
    assert_int_equal (c->reward.max_retries, 1);

    assert_true (c->sampling.temperature == 1.2);
    assert_true (c->sampling.top_p == 0.95);
    assert_int_equal (c->sampling.max_tokens, 2048);
    assert_true (c->sampling.has_seed);
    assert_int_equal (c->sampling.seed, 1234);

    assert_string_equal (c->method.name, "moa");
    assert_int_equal (c->method.samples, 6);
    assert_true (c->method.alpha == 0.5);
    assert_true (c->method.tau == 0.2);
    assert_int_equal (c->method.width, 5);
    assert_int_equal (toa_config_effective_width (c), 5);
    assert_int_equal (c->method.topk_child, 2);
    assert_int_equal (c->method.parallel_expansions, 3);
    assert_string_equal (c->method.prs_model, "qwen");
    assert_int_equal (c->method.moa_n_iter, 3);
    assert_int_equal (c->method.moa_aggregate, 2);
    assert_int_equal (c->method.seed, 99);

    assert_string_equal (c->templates.system, "You are helpful.");
    assert_string_equal (c->templates.refine, "Improve: {question} / {response}");
    assert_string_equal (c->templates.aggregate, "Combine: {question} / {responses}");

    assert_int_equal (c->worker.max_tasks, 128);
    assert_int_equal (c->worker.heartbeat_ms, 500);
    assert_int_equal (c->worker.count, 4);
    assert_int_equal (c->scorer.count, 2);
    assert_int_equal (c->scorer.max_tasks, 32);

    assert_string_equal (c->sim.listen, "0.0.0.0:9000");
    assert_int_equal (c->sim.n_data_files, 2);
    assert_string_equal (c->sim.data_files[1], "b.jsonl");
    assert_int_equal (c->sim.hang_ms, 5000);
    assert_int_equal (c->sim.threads, 8);
    assert_int_equal (c->sim.n_models, 1);
    const toa_sim_model_config_t *sim = &c->sim.models[0];
    assert_string_equal (sim->model_id, "qwen");
    assert_true (sim->latency_ms == 40 && sim->jitter_ms == 10 && sim->per_token_ms == 0.5);
    assert_int_equal (sim->slots, 4);
    assert_true (sim->fault_500 == 0.1 && sim->fault_429 == 0.05);
    assert_int_equal (sim->retry_after_s, 2);
    assert_true (sim->fault_hang == 0.01 && sim->fault_malformed == 0.02);
    assert_true (sim->math_skill == 0.6 && sim->skill_spread == 0.1);
    assert_true (sim->fix_prob == 0.4 && sim->spoil_prob == 0.1);
    assert_true (sim->translation_noise == 0.2 && sim->refine_gain == 0.7);
    assert_string_equal (sim->personality, "llamacpp");
    assert_int_equal (sim->context_tokens, 2048);

    toa_config_destroy (&c);
    assert_null (c);
    toa_config_destroy (&c);             /* safe twice */
}

static void
test_defaults_without_file (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *c = toa_config_load (NULL, NULL, 0, &errors);
    assert_non_null (c);
    assert_int_equal (errors.count, 0);
    assert_string_equal (c->path, "<defaults>");
    assert_string_equal (c->broker.client_endpoint, "tcp://127.0.0.1:5555");
    assert_string_equal (c->broker.worker_endpoint, "tcp://127.0.0.1:5556");
    assert_int_equal (c->broker.heartbeat_ms, 1000);
    assert_int_equal (c->broker.max_active_prompts, 0);  /* no cap: admission by work */
    assert_int_equal (c->broker.task_timeout_ms, 600000);
    assert_int_equal (c->broker.max_message_bytes, 256u * 1024 * 1024);
    assert_null (c->broker.log_file);
    assert_string_equal (c->redis.url, "redis://127.0.0.1:6379/0");
    assert_null (c->redis.password_env);
    assert_false (c->redis.managed);
    assert_int_equal (c->n_models, 0);
    assert_string_equal (c->reward.backend, "math-verify");
    assert_string_equal (c->reward.reference_field, "gold_answer");
    assert_non_null (strstr (c->reward.judge_template, "scale of 1 to 10 "));
    assert_null (strstr (c->reward.judge_template, "{scale_max}"));
    assert_true (c->reward.judge_scale_max == 10);
    assert_int_equal (c->reward.batch_size, 16);
    assert_int_equal (c->reward.batch_wait_ms, 20);
    assert_int_equal (c->reward.max_retries, 3);
    assert_true (c->sampling.temperature == 0.7 && c->sampling.top_p == 1.0);
    assert_int_equal (c->sampling.max_tokens, 1024);
    assert_false (c->sampling.has_seed);
    assert_string_equal (c->method.name, "toa");
    assert_int_equal (c->method.samples, 4);
    assert_true (c->method.alpha == 0.01 && c->method.tau == 0.1);
    assert_int_equal (c->method.width, 0);
    assert_int_equal (c->method.topk_child, 1);
    assert_int_equal (c->method.parallel_expansions, 1);
    assert_null (c->method.prs_model);
    assert_int_equal (c->method.moa_n_iter, 2);
    assert_null (c->templates.system);
    assert_non_null (strstr (c->templates.refine, "{question}"));
    assert_non_null (strstr (c->templates.refine, "{response}"));
    assert_non_null (strstr (c->templates.aggregate, "{responses}"));
    assert_non_null (strstr (c->templates.aggregate, "synthesize"));
    assert_int_equal (c->worker.max_tasks, 64);
    assert_int_equal (c->worker.count, 1);
    assert_int_equal (c->scorer.count, 1);
    assert_string_equal (c->sim.listen, "127.0.0.1:8000");
    assert_int_equal (c->sim.hang_ms, 120000);
    assert_int_equal (c->sim.threads, 4);
    assert_int_equal (toa_config_effective_width (c), 1);
    toa_config_destroy (&c);

    /* An empty object is the same as no file. */
    c = s_parse_ok ("{}", NULL, 0);
    assert_string_equal (c->path, "fleet.json");
    assert_int_equal (c->n_models, 0);
    toa_config_destroy (&c);
}

static void
test_dependent_defaults (void **state)
{
    (void) state;
    toa_config_t *c = s_parse_ok ("{\"reward\": {\"backend\": \"chrf\"}}", NULL, 0);
    assert_string_equal (c->reward.reference_field, "en");
    toa_config_destroy (&c);
    c = s_parse_ok ("{\"reward\": {\"backend\": \"vllm-pooling\", "
                    "\"url\": \"http://127.0.0.1:9000\"}}", NULL, 0);
    assert_null (c->reward.reference_field);
    toa_config_destroy (&c);
    /* prs_model and moa_aggregate follow the models; automatic width never
     * below the number of models. */
    c = s_parse_ok (s_three_models, NULL, 0);
    assert_string_equal (c->method.prs_model, "a");
    assert_int_equal (c->method.moa_aggregate, 3);
    assert_int_equal (toa_config_effective_width (c), 4);     /* 3 * 4 / 3 */
    toa_config_destroy (&c);
    const char *one_sample = "method.samples=1";
    c = s_parse_ok (s_three_models, &one_sample, 1);
    assert_int_equal (toa_config_effective_width (c), 3);     /* not 1 */
    toa_method_config_t method = {.samples = 30};
    assert_int_equal (toa_config_method_width (&method, 2), 20);
    toa_config_destroy (&c);
}

static void
test_demo_config (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *c = toa_config_load ("examples/sim.json", NULL, 0, &errors);
    toa_errors_print (&errors, stderr);
    assert_non_null (c);
    assert_int_equal (c->n_models, 3);
    assert_int_equal (c->sim.n_models, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_true (c->models[i].simulated);
        assert_string_equal (c->models[i].base_urls[0], "http://127.0.0.1:8000/v1");
        assert_string_equal (c->models[i].model_id, c->sim.models[i].model_id);
        assert_int_equal (c->sim.models[i].slots, 8);
    }
    assert_true (c->sim.models[0].math_skill != c->sim.models[1].math_skill);
    assert_string_equal (c->reward.backend, "math-verify");
    assert_string_equal (c->method.name, "toa");
    assert_int_equal (c->method.samples, 4);
    assert_string_equal (c->redis.url, "redis://127.0.0.1:6390/0");
    assert_true (c->redis.managed);
    assert_int_equal (c->worker.count, 2);
    assert_int_equal (c->scorer.count, 1);
    assert_string_equal (c->sim.listen, "127.0.0.1:8000");
    assert_string_equal (c->sim.data_files[0], "examples/prompts-math.jsonl");
    toa_config_destroy (&c);
}

/* The effective JSON holds every field and reads back to the same thing. */
static void
test_effective_json_round_trip (void **state)
{
    (void) state;
    const char *paths[] = {DATA "full.json", "examples/sim.json", NULL};
    for (size_t i = 0; i < 3; i++) {
        toa_errors_t errors = TOA_ERRORS_INIT;
        toa_config_t *c = toa_config_load (paths[i], NULL, 0, &errors);
        assert_non_null (c);
        json_t *models = json_object_get (c->root, "models");
        if (json_array_size (models) > 0) {
            assert_null (json_object_get (json_array_get (models, 0), "base_url"));
            assert_non_null (json_object_get (json_array_get (models, 0), "base_urls"));
        }
        assert_true (json_is_integer (json_object_get (
            json_object_get (c->root, "broker"), "heartbeat_ms")));
        char *text = json_dumps (c->root, 0);
        toa_config_t *again = s_parse_ok (text, NULL, 0);
        assert_true (json_equal (c->root, again->root));
        free (text);
        toa_config_destroy (&again);
        toa_config_destroy (&c);
    }
}

static void
test_comments_ignored (void **state)
{
    (void) state;
    toa_config_t *c = s_parse_ok ("{\"_comment\": 1, \"method\": {\"_why\": \"x\", "
                                  "\"samples\": 2}}", NULL, 0);
    assert_int_equal (c->method.samples, 2);
    assert_null (json_object_get (c->root, "_comment"));
    toa_config_destroy (&c);
}

static void
test_api_key_from_environment (void **state)
{
    (void) state;
    unsetenv ("TOA_TEST_CONFIG_KEY");
    assert_null (toa_config_api_key ("TOA_TEST_CONFIG_KEY"));
    assert_null (toa_config_api_key (NULL));
    setenv ("TOA_TEST_CONFIG_KEY", "", 1);
    assert_null (toa_config_api_key ("TOA_TEST_CONFIG_KEY"));
    setenv ("TOA_TEST_CONFIG_KEY", "sk-test-123", 1);
    assert_string_equal (toa_config_api_key ("TOA_TEST_CONFIG_KEY"), "sk-test-123");
    unsetenv ("TOA_TEST_CONFIG_KEY");
}

/* ------------------------------------------------------------- bad files */

static void
test_syntax_error_line_and_column (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *c = toa_config_load (DATA "syntax.json", NULL, 0, &errors);
    const char *expected = DATA "syntax.json:4:13: JSON syntax error: ':' expected near '1'";
    s_check_errors (c, &errors, &expected, 1);
    s_expect_one ("{\"a\": 1,\n \"a\": 2}",
                  "fleet.json:2:4: JSON syntax error: duplicate object key near '\"a\"'");
    s_expect_one ("", "fleet.json:1:0: JSON syntax error: '[' or '{' expected near "
                      "end of file");
    c = toa_config_load (DATA "garbage.json", NULL, 0, &errors);
    expected = DATA "garbage.json:1:3: JSON syntax error: '[' or '{' expected near 'not'";
    s_check_errors (c, &errors, &expected, 1);
}

static void
test_missing_file (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *c = toa_config_load (DATA "no-such-file.json", NULL, 0, &errors);
    const char *expected = DATA "no-such-file.json: cannot read: No such file or directory";
    s_check_errors (c, &errors, &expected, 1);
}

static void
test_top_level_not_object (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *c = toa_config_load (DATA "array.json", NULL, 0, &errors);
    const char *expected = DATA "array.json: the top level must be a JSON object, got an array";
    s_check_errors (c, &errors, &expected, 1);
    s_expect_one ("{\"sampling\": [1]}", "fleet.json: sampling: must be an object, got an array");
}

static void
test_unknown_fields (void **state)
{
    (void) state;
    s_expect_one ("{\"models\": [{\"name\": \"a\", \"base_url\": \"http://h/v1\", "
                  "\"temprature\": 1}]}",
                  "fleet.json: models[0].temprature: unknown field");
    s_expect_one ("{\"sampling\": {\"temprature\": 1}}",
                  "fleet.json: sampling.temprature: unknown field (did you mean "
                  "'temperature'?)");
    s_expect_one ("{\"simllm\": {\"models\": [{\"model_id\": \"m\", \"faults\": "
                  "{\"http500\": 0.1}}]}}",
                  "fleet.json: simllm.models[0].faults.http500: unknown field (did "
                  "you mean 'http_500'?)");
    s_expect_one ("{\"verbose\": true}", "fleet.json: verbose: unknown field");
}

static void
test_wrong_types (void **state)
{
    (void) state;
    s_expect_one ("{\"sampling\": {\"max_tokens\": \"many\"}}",
                  "fleet.json: sampling.max_tokens: must be an integer >= 1, got \"many\"");
    s_expect_one ("{\"sampling\": {\"max_tokens\": 10.5}}",
                  "fleet.json: sampling.max_tokens: must be an integer >= 1, got 10.5");
    s_expect_one ("{\"redis\": {\"managed\": \"yes\"}}",
                  "fleet.json: redis.managed: must be true or false, got \"yes\"");
    s_expect_one ("{\"models\": {}}",
                  "fleet.json: models: must be an array of objects, got an object");
    s_expect_one ("{\"models\": [3]}", "fleet.json: models[0]: must be an object, got 3");
    s_expect_one ("{\"simllm\": {\"data_files\": [\"a\", 2]}}",
                  "fleet.json: simllm.data_files[1]: must be a non-empty string, got 2");
    s_expect_one ("{\"templates\": {\"system\": 7}}",
                  "fleet.json: templates.system: must be a string or null, got 7");
    s_expect_one ("{\"sampling\": {\"seed\": -1}}",
                  "fleet.json: sampling.seed: must be an integer >= 0 or null, got -1");
    s_expect_one ("{\"broker\": {\"heartbeat_ms\": 3000000000}}",
                  "fleet.json: broker.heartbeat_ms: must be at most 2147483647, got "
                  "3000000000");
}

static void
test_out_of_range (void **state)
{
    (void) state;
    s_expect_one ("{\"sampling\": {\"temperature\": 2.5}}",
                  "fleet.json: sampling.temperature: must be a number in [0, 2], got 2.5");
    s_expect_one ("{\"sampling\": {\"top_p\": 0}}",
                  "fleet.json: sampling.top_p: must be a number in (0, 1], got 0");
    s_expect_one ("{\"method\": {\"samples\": 0}}",
                  "fleet.json: method.samples: must be an integer >= 1, got 0");
    s_expect_one ("{\"method\": {\"topk_child\": 0}}",
                  "fleet.json: method.topk_child: must be an integer >= 1, got 0");
    s_expect_one ("{\"method\": {\"tau\": 0}}",
                  "fleet.json: method.tau: must be a number > 0 or \"auto\", got 0");
    s_expect_one ("{\"simllm\": {\"models\": [{\"model_id\": \"m\", \"fix_prob\": 1.5}]}}",
                  "fleet.json: simllm.models[0].fix_prob: must be a number in [0, 1], got 1.5");
    s_expect_one ("{\"models\": [{\"name\": \"a\", \"base_url\": \"http://h/v1\", "
                  "\"max_concurrent\": -3}]}",
                  "fleet.json: models[0].max_concurrent: must be an integer >= 1, got -3");
}

static void
test_models_problems (void **state)
{
    (void) state;
    s_expect_one ("{\"models\": [{\"name\": \"a\", \"base_url\": \"http://h/v1\"}, "
                  "{\"name\": \"a\", \"base_url\": \"http://h/v1\"}]}",
                  "fleet.json: models[1].name: duplicate model name 'a' (also models[0])");
    s_expect_one ("{\"models\": [{\"base_url\": \"http://h/v1\"}]}",
                  "fleet.json: models[0].name: required field missing");
    s_expect_one ("{\"models\": [{\"name\": \"a\"}]}",
                  "fleet.json: models[0].base_url: required field missing (or give "
                  "base_urls)");
    s_expect_one ("{\"models\": [{\"name\": \"a\", \"base_url\": \"http://h/v1\", "
                  "\"base_urls\": [\"http://h/v1\"]}]}",
                  "fleet.json: models[0]: give base_url or base_urls, not both");
    s_expect_one ("{\"models\": [{\"name\": \"a\", \"base_urls\": []}]}",
                  "fleet.json: models[0].base_urls: must be a non-empty array of "
                  "strings, got an array");
    s_expect_one ("{\"models\": [{\"name\": \"a\", \"base_url\": \"localhost:8000\"}]}",
                  "fleet.json: models[0].base_url: must be an http:// or https:// URL, "
                  "got \"localhost:8000\"");
    s_expect_one ("{\"models\": [{\"name\": \"a b\", \"base_url\": \"http://h/v1\"}]}",
                  "fleet.json: models[0].name: must not contain spaces, commas or "
                  "control characters, got \"a b\"");
    s_expect_one ("{\"models\": [{\"name\": \"a\", \"base_url\": \"http://h/v1\", "
                  "\"simulated\": true}], \"simllm\": {\"models\": [{\"model_id\": \"b\"}]}}",
                  "fleet.json: models[0].model_id: simulated model 'a' is not in "
                  "simllm.models");
}

/* A key pasted where the name of its variable belongs is never repeated. */
static void
test_secrets_not_repeated (void **state)
{
    (void) state;
    s_expect_one ("{\"models\": [{\"name\": \"a\", \"base_url\": \"http://h/v1\", "
                  "\"api_key_env\": \"sk-live-abcdef\"}]}",
                  "fleet.json: models[0].api_key_env: must be the name of an "
                  "environment variable such as OPENAI_API_KEY, not the secret itself");
    s_expect_one ("{\"redis\": {\"url\": \"redis://:hunter2@127.0.0.1:6379/0\"}}",
                  "fleet.json: redis.url: must not hold a password; name an environment "
                  "variable in redis.password_env instead");
    s_expect_override ("{}", "redis.password_env=hunter2!",
                       "override 'redis.password_env=(hidden)': redis.password_env: must "
                       "be the name of an environment variable such as OPENAI_API_KEY, "
                       "not the secret itself");
    s_expect_override ("{}", "models[0].api_key=sk-abc",
                       "override 'models[0].api_key=(hidden)': index 0 is out of range "
                       "(models has 0 elements)");
}

/* The Redis password from a file: one of env and file, a private file, its
 * first line; CURVE is off by default. */
static void
test_redis_password_file (void **state)
{
    (void) state;
    s_expect_one ("{\"redis\": {\"password_env\": \"P\", \"password_file\": \"/x\"}}",
                  "fleet.json: redis.password_file: give password_env or password_file, "
                  "not both");
    char dir[] = "/tmp/toa-config-XXXXXX", path[64], override[96];
    assert_non_null (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/redis.pass", dir);
    snprintf (override, sizeof override, "redis.password_file=%s", path);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs ("s3cret-pass\nignored\n", file);
    fclose (file);
    const char *overrides[] = {override};
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *c = toa_config_parse ("{}", "fleet.json", overrides, 1, &errors);
    assert_non_null (c);
    assert_null (c->curve.broker_key);
    assert_false (c->broker.insecure);
    char *password = NULL;
    chmod (path, 0644);
    assert_int_equal (toa_config_redis_password (c, &password, &errors), -1);
    assert_null (password);
    assert_non_null (strstr (errors.messages[0], "readable by every user (mode 0644); chmod 600"));
    assert_null (strstr (errors.messages[0], "s3cret"));
    chmod (path, 0600);
    assert_int_equal (toa_config_redis_password (c, &password, &errors), 0);
    assert_string_equal (password, "s3cret-pass");
    free (password);
    toa_errors_clear (&errors);
    toa_config_destroy (&c);
    unlink (path);
    rmdir (dir);
}

static void
test_method_and_reward_problems (void **state)
{
    (void) state;
    const char *width = "method.width=2";
    const char *expected = "override 'method.width=2': method.width: width 2 is below "
                           "the number of models (3)";
    s_expect (s_three_models, &width, 1, &expected, 1);
    const char *other_method[] = {"method.width=2", "method.name=best-of-n"};
    toa_config_t *c = s_parse_ok (s_three_models, other_method, 2);
    toa_config_destroy (&c);
    s_expect_one ("{\"method\": {\"name\": \"beam\"}}",
                  "fleet.json: method.name: unknown method \"beam\"; valid methods: toa, "
                  "best-of-n, prs, ensemble, seq-refine, moa");
    s_expect_one ("{\"reward\": {\"backend\": \"bleu\"}}",
                  "fleet.json: reward.backend: unknown reward backend \"bleu\"; valid "
                  "backends: http-reward, vllm-classify, vllm-pooling, llm-judge, "
                  "math-verify, chrf");
    s_expect_one ("{\"reward\": {\"backend\": \"http-reward\"}}",
                  "fleet.json: reward.url: required by backend 'http-reward'");
    const char *judge[] = {"fleet.json: reward.url: required by backend 'llm-judge'",
                           "fleet.json: reward.model_id: required by backend 'llm-judge'"};
    s_expect ("{\"reward\": {\"backend\": \"llm-judge\"}}", NULL, 0, judge, 2);
    s_expect_one ("{\"method\": {\"prs_model\": \"zeta\"}}",
                  "fleet.json: method.prs_model: 'zeta' is not the name of a model in models");
    s_expect_one ("{\"templates\": {\"refine\": \"Improve {question}\"}}",
                  "fleet.json: templates.refine: must contain {response}");
    s_expect_one ("{\"broker\": {\"worker_endpoint\": \"tcp://127.0.0.1:5555\"}}",
                  "fleet.json: broker.worker_endpoint: must differ from client_endpoint");
    s_expect_one ("{\"broker\": {\"client_endpoint\": \"127.0.0.1:5555\"}}",
                  "fleet.json: broker.client_endpoint: must be a ZeroMQ endpoint such as "
                  "tcp://127.0.0.1:5555 (tcp://, ipc:// or inproc://), got \"127.0.0.1:5555\"");
}

static void
test_simllm_problems (void **state)
{
    (void) state;
    s_expect_one ("{\"simllm\": {\"models\": [{\"model_id\": \"m\", \"faults\": "
                  "{\"http_500\": 0.6, \"hang\": 0.6}}]}}",
                  "fleet.json: simllm.models[0].faults: the rates add up to 1.2; they must "
                  "add up to at most 1");
    s_expect_one ("{\"simllm\": {\"models\": [{\"model_id\": \"m\"}, {\"model_id\": \"m\"}]}}",
                  "fleet.json: simllm.models[1].model_id: duplicate model_id 'm' (also "
                  "simllm.models[0])");
    s_expect_one ("{\"simllm\": {\"listen\": \"127.0.0.1:99999\"}}",
                  "fleet.json: simllm.listen: must be host:port with a port up to 65535, "
                  "such as 127.0.0.1:8000, got \"127.0.0.1:99999\"");
    s_expect_one ("{\"simllm\": {\"models\": [{\"latency_ms\": 5}]}}",
                  "fleet.json: simllm.models[0].model_id: required field missing");
    s_expect_one ("{\"simllm\": {\"models\": [{\"model_id\": \"m\", "
                  "\"personality\": \"ollama\"}]}}",
                  "fleet.json: simllm.models[0].personality: unknown personality "
                  "\"ollama\"; valid: openai, vllm, sglang, llamacpp, tgi");
}

/* sampling.allow_n: false by default, true from the file or --set, and a
 * value that is not a boolean is refused. */
static void
test_allow_n (void **state)
{
    (void) state;
    toa_config_t *c = s_parse_ok ("{}", NULL, 0);
    assert_false (c->sampling.allow_n);
    toa_config_destroy (&c);
    c = s_parse_ok ("{\"sampling\": {\"allow_n\": true}}", NULL, 0);
    assert_true (c->sampling.allow_n);
    toa_config_destroy (&c);
    const char *on = "sampling.allow_n=true";
    c = s_parse_ok ("{}", &on, 1);
    assert_true (c->sampling.allow_n);
    toa_config_destroy (&c);
    const char *off = "sampling.allow_n=false";
    c = s_parse_ok ("{\"sampling\": {\"allow_n\": true}}", &off, 1);
    assert_false (c->sampling.allow_n);
    toa_config_destroy (&c);
    s_expect_override ("{}", "sampling.allow_n=maybe",
                       "override 'sampling.allow_n=maybe': sampling.allow_n: must be true "
                       "or false, got \"maybe\"");
    s_expect_one ("{\"sampling\": {\"allow_n\": 1}}",
                  "fleet.json: sampling.allow_n: must be true or false, got 1");
}

static void
test_many_errors_reported_together (void **state)
{
    (void) state;
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *c = toa_config_load (DATA "many-errors.json", NULL, 0, &errors);
    const char *expected[] = {
        DATA "many-errors.json: wroker: unknown field (did you mean 'broker'?)",
        DATA "many-errors.json: models[1].temprature: unknown field",
        DATA "many-errors.json: models[1].max_concurrent: must be an integer >= 1, got -3",
        DATA "many-errors.json: sampling.temperature: must be a number in [0, 2], got 3",
        DATA "many-errors.json: sampling.top_p: must be a number in (0, 1], got 0",
        DATA "many-errors.json: sampling.max_tokens: must be an integer >= 1, got \"many\"",
        DATA "many-errors.json: method.topk_child: must be an integer >= 1, got 0",
        DATA "many-errors.json: simllm.models[0].faults.http_500: must be a number in "
             "[0, 1], got 1.5",
        DATA "many-errors.json: models[2].name: duplicate model name 'a' (also models[0])",
        DATA "many-errors.json: reward.url: required by backend 'http-reward'",
        DATA "many-errors.json: method.width: width 2 is below the number of models (3)",
    };
    s_check_errors (c, &errors, expected, sizeof expected / sizeof *expected);
}

/* ------------------------------------------------------------- overrides */

static void
test_override_changes_values (void **state)
{
    (void) state;
    const char *overrides[] = {
        "models[0].max_concurrent=4",
        "models.1.max_concurrent=5",            /* dotted index */
        "sampling.temperature=0.3",
        "sampling.seed=42",
        "method.name=best-of-n",                /* not JSON: a string */
        "models[2].name=123",                   /* JSON, but a string field */
        "templates.system=null",
        "broker.log_file=\"/tmp/x.log\"",       /* a JSON string */
        "redis.managed=true",
        "worker={\"count\": 3}",                /* a whole section */
    };
    toa_config_t *c = s_parse_ok (s_three_models, overrides, 10);
    assert_int_equal (c->models[0].max_concurrent, 4);
    assert_int_equal (c->models[1].max_concurrent, 5);
    assert_true (c->sampling.temperature == 0.3);
    assert_true (c->sampling.has_seed);
    assert_int_equal (c->sampling.seed, 42);
    assert_string_equal (c->method.name, "best-of-n");
    assert_string_equal (c->models[2].name, "123");
    assert_null (c->templates.system);
    assert_string_equal (c->broker.log_file, "/tmp/x.log");
    assert_true (c->redis.managed);
    assert_int_equal (c->worker.count, 3);
    assert_int_equal (c->worker.max_tasks, 64);         /* default kept */
    /* the effective JSON shows the overrides */
    assert_int_equal (json_integer_value (json_object_get (json_array_get (
        json_object_get (c->root, "models"), 0), "max_concurrent")), 4);
    toa_config_destroy (&c);

    /* Later overrides win; a section that the file lacks is created. */
    const char *twice[] = {"method.samples=2", "method.samples=7"};
    c = s_parse_ok ("{}", twice, 2);
    assert_int_equal (c->method.samples, 7);
    toa_config_destroy (&c);
}

static void
test_override_arrays (void **state)
{
    (void) state;
    const char *overrides[] = {
        "models[0].base_urls=[\"http://10.0.0.1/v1\", \"http://10.0.0.2/v1\"]",
        "models[1].base_url=http://10.0.0.3/v1",
        "models[2].stop=[\"###\"]",
        "simllm.data_files=[\"a.jsonl\"]",
        "simllm.data_files[1]=b.jsonl",                 /* append */
        "models[3]={\"name\": \"d\", \"base_url\": \"http://h/v1\"}",   /* append */
        "models[0].base_urls.1=http://10.0.0.9/v1",     /* replace one */
    };
    toa_config_t *c = s_parse_ok (s_three_models, overrides, 7);
    assert_int_equal (c->n_models, 4);
    assert_int_equal (c->models[0].n_base_urls, 2);
    assert_string_equal (c->models[0].base_urls[1], "http://10.0.0.9/v1");
    assert_int_equal (c->models[1].n_base_urls, 1);
    assert_string_equal (c->models[1].base_urls[0], "http://10.0.0.3/v1");
    assert_int_equal (c->models[2].n_stop, 1);
    assert_int_equal (c->sim.n_data_files, 2);
    assert_string_equal (c->sim.data_files[1], "b.jsonl");
    assert_string_equal (c->models[3].name, "d");
    toa_config_destroy (&c);

    /* base_url replaces base_urls from the file (not "both given"). */
    const char *one = "models[0].base_url=http://10.0.0.7/v1";
    c = s_parse_ok ("{\"models\": [{\"name\": \"a\", \"base_urls\": [\"http://h/v1\"]}]}",
                    &one, 1);
    assert_int_equal (c->models[0].n_base_urls, 1);
    assert_string_equal (c->models[0].base_urls[0], "http://10.0.0.7/v1");
    toa_config_destroy (&c);
}

static void
test_override_bad_paths (void **state)
{
    (void) state;
    s_expect_override ("{}", "sampling.temperature",
                       "override 'sampling.temperature': expected path.to.field=value");
    s_expect_override ("{}", "=3", "override '=3': the path is empty");
    s_expect_override ("{}", "sampling.temprature=1",
                       "override 'sampling.temprature=1': sampling has no field "
                       "'temprature' (did you mean 'temperature'?)");
    s_expect_override ("{}", "nosuch.x=1",
                       "override 'nosuch.x=1': the top level has no field 'nosuch'");
    s_expect_override (s_three_models, "models[3].max_concurrent=2",
                       "override 'models[3].max_concurrent=2': index 3 is out of range "
                       "(models has 3 elements)");
    s_expect_override (s_three_models, "models[7]=2",
                       "override 'models[7]=2': index 7 is out of range (models has 3 "
                       "elements)");
    s_expect_override (s_three_models, "models.name=x",
                       "override 'models.name=x': models is an array: index it as "
                       "models[N]");
    s_expect_override (s_three_models, "models[x].name=x",
                       "override 'models[x].name=x': an index must be [N] with N a number");
    s_expect_override ("{}", "sampling.temperature.low=1",
                       "override 'sampling.temperature.low=1': sampling.temperature is "
                       "not an object or an array");
    s_expect_override ("{}", "sampling[0]=1",
                       "override 'sampling[0]=1': sampling is an object, not an array");
    s_expect_override ("{}", "sampling..top_p=1",
                       "override 'sampling..top_p=1': the path has an empty part");
    const char *top_p = "sampling.top_p=1";
    const char *both[] = {"override 'sampling.top_p=1': sampling in the file is not an object",
                          "fleet.json: sampling: must be an object, got 5"};
    s_expect ("{\"sampling\": 5}", &top_p, 1, both, 2);
}

/* A bad value set by an override is reported against the override. */
static void
test_override_bad_values (void **state)
{
    (void) state;
    s_expect_override ("{}", "sampling.temperature=hot",
                       "override 'sampling.temperature=hot': sampling.temperature: must "
                       "be a number in [0, 2], got \"hot\"");
    s_expect_override ("{}", "sampling={\"top_p\": 2}",
                       "override 'sampling={\"top_p\": 2}': sampling.top_p: must be a "
                       "number in (0, 1], got 2");
    const char *overrides[] = {"method.samples=0", "nope=1"};
    const char *expected[] = {
        "override 'nope=1': the top level has no field 'nope'",
        "override 'method.samples=0': method.samples: must be an integer >= 1, got 0",
    };
    s_expect ("{\"sampling\": {\"top_p\": 0.5}}", overrides, 2, expected, 2);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_full_file_every_value),
        cmocka_unit_test (test_defaults_without_file),
        cmocka_unit_test (test_dependent_defaults),
        cmocka_unit_test (test_demo_config),
        cmocka_unit_test (test_effective_json_round_trip),
        cmocka_unit_test (test_comments_ignored),
        cmocka_unit_test (test_api_key_from_environment),
        cmocka_unit_test (test_syntax_error_line_and_column),
        cmocka_unit_test (test_missing_file),
        cmocka_unit_test (test_top_level_not_object),
        cmocka_unit_test (test_unknown_fields),
        cmocka_unit_test (test_wrong_types),
        cmocka_unit_test (test_out_of_range),
        cmocka_unit_test (test_models_problems),
        cmocka_unit_test (test_secrets_not_repeated),
        cmocka_unit_test (test_method_and_reward_problems),
        cmocka_unit_test (test_simllm_problems),
        cmocka_unit_test (test_allow_n),
        cmocka_unit_test (test_many_errors_reported_together),
        cmocka_unit_test (test_override_changes_values),
        cmocka_unit_test (test_override_arrays),
        cmocka_unit_test (test_redis_password_file),
        cmocka_unit_test (test_override_bad_paths),
        cmocka_unit_test (test_override_bad_values),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
