/* test_client_settings.c - the submit settings JSON from a config, with the
 * --method / --samples / --set overrides applied through toa_config_parse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "client/settings.h"

static const char *s_config =
    "{\"models\": ["
    "  {\"name\": \"sim-alpha\", \"base_url\": \"http://127.0.0.1:8000/v1\"},"
    "  {\"name\": \"sim-beta\", \"base_url\": \"http://127.0.0.1:8000/v1\"},"
    "  {\"name\": \"sim-gamma\", \"base_url\": \"http://127.0.0.1:8000/v1\"}],"
    " \"reward\": {\"backend\": \"math-verify\", \"reference_field\": \"gold_answer\"},"
    " \"sampling\": {\"temperature\": 0.7, \"max_tokens\": 512},"
    " \"method\": {\"name\": \"toa\", \"samples\": 4}}";

static toa_config_t *
s_load (const char *const *overrides, size_t n)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *config = toa_config_parse (s_config, "test.json", overrides, n, &errors);
    if (!config) {
        toa_errors_print (&errors, stderr);
        fail_msg ("config did not load");
    }
    toa_errors_clear (&errors);
    return config;
}

static void
test_defaults_from_config (void **state)
{
    (void) state;
    toa_config_t *config = s_load (NULL, 0);
    json_t *settings = toa_settings_build (config);
    assert_non_null (settings);
    json_t *models = json_object_get (settings, "models");
    assert_int_equal (json_array_size (models), 3);
    assert_string_equal (json_string_value (json_array_get (models, 1)), "sim-beta");
    json_t *method = json_object_get (settings, "method");
    assert_string_equal (json_string_value (json_object_get (method, "name")), "toa");
    assert_int_equal (json_integer_value (json_object_get (method, "samples")), 4);
    assert_int_equal (json_integer_value (json_object_get (method, "width")), 4);  /* 3*4/3 */
    assert_true (json_real_value (json_object_get (method, "alpha")) == 0.01);
    assert_true (json_real_value (json_object_get (method, "tau")) == 0.1);
    assert_int_equal (json_integer_value (json_object_get (method, "topk_child")), 1);
    /* the config defaults PRS to the first model */
    assert_string_equal (json_string_value (json_object_get (method, "prs_model")), "sim-alpha");
    json_t *sampling = json_object_get (settings, "sampling");
    assert_true (json_real_value (json_object_get (sampling, "temperature")) == 0.7);
    assert_true (json_real_value (json_object_get (sampling, "top_p")) == 1.0);
    assert_int_equal (json_integer_value (json_object_get (sampling, "max_tokens")), 512);
    assert_true (json_is_null (json_object_get (sampling, "seed")));
    assert_true (json_is_false (json_object_get (sampling, "allow_n")));
    json_t *templates = json_object_get (settings, "templates");
    assert_true (json_is_null (json_object_get (templates, "system")));
    assert_non_null (strstr (json_string_value (json_object_get (templates, "refine")),
                             "{response}"));
    assert_non_null (strstr (json_string_value (json_object_get (templates, "aggregate")),
                             "{responses}"));
    json_t *reward = json_object_get (settings, "reward");
    assert_string_equal (json_string_value (json_object_get (reward, "backend")), "math-verify");
    assert_string_equal (json_string_value (json_object_get (reward, "reference_field")),
                         "gold_answer");
    assert_int_equal (toa_settings_budget (config), 12);
    json_decref (settings);
    toa_config_destroy (&config);
}

static void
test_flag_overrides (void **state)
{
    (void) state;
    const char *sets[] = {"sampling.temperature=0.2", "templates.system=Be brief.",
                          "sampling.seed=42", "method.prs_model=sim-gamma",
                          "sampling.allow_n=true"};
    char *overrides[8];
    int n = toa_settings_overrides ("prs", "6", sets, 5, overrides);
    assert_int_equal (n, 7);
    assert_string_equal (overrides[0], "method.name=prs");
    assert_string_equal (overrides[1], "method.samples=6");
    assert_string_equal (overrides[5], "method.prs_model=sim-gamma");
    toa_config_t *config = s_load ((const char *const *) overrides, (size_t) n);
    for (int i = 0; i < n; i++)
        free (overrides[i]);
    char *text = toa_settings_text (config);
    assert_non_null (text);
    assert_null (strchr (text, '\n'));
    json_t *settings = json_loads (text, 0, NULL);
    free (text);
    json_t *method = json_object_get (settings, "method");
    assert_string_equal (json_string_value (json_object_get (method, "name")), "prs");
    assert_int_equal (json_integer_value (json_object_get (method, "samples")), 6);
    assert_int_equal (json_integer_value (json_object_get (method, "width")), 6);  /* 3*6/3 */
    assert_string_equal (json_string_value (json_object_get (method, "prs_model")), "sim-gamma");
    json_t *sampling = json_object_get (settings, "sampling");
    assert_true (json_real_value (json_object_get (sampling, "temperature")) == 0.2);
    assert_int_equal (json_integer_value (json_object_get (sampling, "seed")), 42);
    assert_true (json_is_true (json_object_get (sampling, "allow_n")));
    assert_string_equal (json_string_value (json_object_get (json_object_get (settings,
                         "templates"), "system")), "Be brief.");
    assert_int_equal (toa_settings_budget (config), 18);
    json_decref (settings);
    toa_config_destroy (&config);
}

static void
test_bad_override_is_reported (void **state)
{
    (void) state;
    const char *overrides[] = {"method.samples=zero"};
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *config = toa_config_parse (s_config, "test.json", overrides, 1, &errors);
    assert_null (config);
    assert_true (errors.count >= 1);
    assert_non_null (strstr (errors.messages[0], "method.samples"));
    toa_errors_clear (&errors);
    /* no flags: no overrides */
    char *out[2];
    assert_int_equal (toa_settings_overrides (NULL, NULL, NULL, 0, out), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_defaults_from_config),
        cmocka_unit_test (test_flag_overrides),
        cmocka_unit_test (test_bad_override_is_reported),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
