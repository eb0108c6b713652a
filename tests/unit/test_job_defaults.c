/* test_job_defaults.c - one source of job defaults: a client that leaves a
 * setting out gets exactly what `toa submit` sends for it. For every method,
 * the settings `toa submit` builds from a config that sets nothing but the
 * models and the reward (client/settings.c over common/config.c's defaults)
 * and the minimal settings another client may send ({models, method.name,
 * reward.backend}) are parsed by the broker (broker/method/settings.c) into
 * the same job settings, field by field. A new job setting belongs here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/method/settings.h"
#include "client/settings.h"
#include "common/config.h"
#include "common/defaults.h"

static const char *s_methods[] = {"toa", "best-of-n", "prs", "ensemble", "seq-refine", "moa"};

/* The broker's reading of TEXT for METHOD; fails the test on errors. */
static toa_job_settings_t *
s_parse (const char *text, const char *method)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_job_settings_t *settings = toa_job_settings_parse (text, method, &errors);
    if (!settings) {
        toa_errors_print (&errors, stderr);
        fail_msg ("settings do not parse: %s", text);
    }
    toa_errors_clear (&errors);
    return settings;
}

/* The settings `toa submit` sends for METHOD with N_MODELS models and
 * nothing else in its config. */
static char *
s_submit_text (const char *method, int n_models)
{
    char text[1024];
    int at = snprintf (text, sizeof text, "{\"models\": [");
    for (int i = 0; i < n_models; i++)
        at += snprintf (text + at, sizeof text - (size_t) at,
                        "%s{\"name\": \"m%d\", \"base_url\": \"http://127.0.0.1:9/v1\"}",
                        i ? ", " : "", i);
    snprintf (text + at, sizeof text - (size_t) at,
              "], \"reward\": {\"backend\": \"math-verify\"}, \"method\": {\"name\": \"%s\"}}",
              method);
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *config = toa_config_parse (text, "fleet.json", NULL, 0, &errors);
    if (!config) {
        toa_errors_print (&errors, stderr);
        fail_msg ("config does not parse: %s", text);
    }
    toa_errors_clear (&errors);
    char *settings = toa_settings_text (config);
    toa_config_destroy (&config);
    assert_non_null (settings);
    return settings;
}

static char *
s_minimal_text (int n_models)
{
    char *text = malloc (512);
    int at = snprintf (text, 512, "{\"models\": [");
    for (int i = 0; i < n_models; i++)
        at += snprintf (text + at, 512 - (size_t) at, "%s\"m%d\"", i ? ", " : "", i);
    snprintf (text + at, 512 - (size_t) at, "], \"reward\": {\"backend\": \"math-verify\"}}");
    return text;
}

static void
s_same_string (const char *what, const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp (a, b) != 0))
        fail_msg ("%s differs: toa submit sends \"%s\", a client that omits it gets \"%s\"",
                  what, a ? a : "(null)", b ? b : "(null)");
}

#define S_SAME(field) \
    do { \
        if (sent->field != omitted->field) \
            fail_msg ("%s: " #field " differs between toa submit and a client that omits it", \
                      method); \
    } while (0)

static void
s_compare (const char *method, int n_models)
{
    char *submit = s_submit_text (method, n_models);
    char *minimal = s_minimal_text (n_models);
    toa_job_settings_t *sent = s_parse (submit, method);
    toa_job_settings_t *omitted = s_parse (minimal, method);
    S_SAME (n_models);
    S_SAME (samples);
    S_SAME (alpha);
    S_SAME (tau);
    S_SAME (width);
    S_SAME (topk_child);
    S_SAME (parallel_expansions);
    S_SAME (prs_model);
    S_SAME (moa_n_iter);
    S_SAME (moa_aggregate);
    S_SAME (method_seed);
    S_SAME (temperature);
    S_SAME (top_p);
    S_SAME (max_tokens);
    S_SAME (has_seed);
    S_SAME (sampling_seed);
    S_SAME (allow_n);
    s_same_string ("method", sent->method, omitted->method);
    s_same_string ("templates.system", sent->system, omitted->system);
    s_same_string ("templates.refine", sent->refine, omitted->refine);
    s_same_string ("templates.aggregate", sent->aggregate, omitted->aggregate);
    s_same_string ("reward.backend", sent->reward_backend, omitted->reward_backend);
    s_same_string ("reward.reference_field", sent->reference_field, omitted->reference_field);
    toa_job_settings_destroy (&sent);
    toa_job_settings_destroy (&omitted);
    free (submit);
    free (minimal);
}

static void
test_omitted_equals_submitted (void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof s_methods / sizeof *s_methods; i++)
        for (int n_models = 1; n_models <= 5; n_models += 2)
            s_compare (s_methods[i], n_models);
}

/* The defaults are the documented ones (docs/jobs.md, docs/config.md). */
static void
test_documented_values (void **state)
{
    (void) state;
    char *minimal = s_minimal_text (3);
    toa_job_settings_t *settings = s_parse (minimal, "toa");
    assert_int_equal (settings->samples, 4);
    assert_true (settings->alpha == 0.01 && settings->tau == 0.1);
    assert_int_equal (settings->width, 4);             /* max(3 * 4 / 3, 3) */
    assert_int_equal (settings->topk_child, 1);
    assert_int_equal (settings->moa_n_iter, 2);
    assert_int_equal (settings->moa_aggregate, 3);
    assert_true (settings->temperature == 0.7 && settings->top_p == 1.0);
    assert_int_equal (settings->max_tokens, 1024);
    assert_false (settings->allow_n);
    assert_false (settings->has_seed);
    assert_null (settings->system);
    assert_string_equal (settings->refine, toa_default_refine_template);
    assert_string_equal (settings->aggregate, toa_default_aggregate_template);
    toa_job_settings_destroy (&settings);
    free (minimal);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_omitted_equals_submitted),
        cmocka_unit_test (test_documented_values),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
