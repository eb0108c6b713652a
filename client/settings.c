/* settings.c - the submit settings JSON from the client's config (see
 * settings.h and docs/jobs.md "Submit settings"). */
#include "client/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string, or null for NULL. */
static json_t *
s_string_or_null (const char *text)
{
    return text ? json_string (text) : json_null ();
}

static json_t *
s_models (const toa_config_t *config)
{
    json_t *models = json_array ();
    for (size_t i = 0; models && i < config->n_models; i++)
        if (json_array_append_new (models, json_string (config->models[i].name)) != 0) {
            json_decref (models);
            return NULL;
        }
    return models;
}

static json_t *
s_method (const toa_config_t *config)
{
    const toa_method_config_t *method = &config->method;
    json_t *object = json_pack ("{s:s, s:i, s:f, s:o, s:i, s:i, s:i, s:o, s:i, s:i, s:I}",
                                "name", method->name ? method->name : "toa",
                                "samples", method->samples,
                                "alpha", method->alpha,
                                "tau", method->tau_auto ? json_string ("auto")
                                                        : json_real (method->tau),
                                "width", toa_config_effective_width (config),
                                "topk_child", method->topk_child,
                                "parallel_expansions", method->parallel_expansions,
                                "prs_model", s_string_or_null (method->prs_model),
                                "moa_n_iter", method->moa_n_iter,
                                "moa_aggregate", method->moa_aggregate,
                                "seed", (json_int_t) method->seed);
    /* The budget fields only when set, so that a job without them sends
     * exactly what it did before they existed. */
    if (object && method->budget > 0)
        json_object_set_new (object, "budget", json_integer (method->budget));
    if (object && method->max_per_prompt > 0)
        json_object_set_new (object, "max_per_prompt", json_integer (method->max_per_prompt));
    if (object && method->has_stop_at_reward)
        json_object_set_new (object, "stop_at_reward", json_real (method->stop_at_reward));
    return object;
}

static json_t *
s_sampling (const toa_config_t *config)
{
    const toa_sampling_config_t *sampling = &config->sampling;
    return json_pack ("{s:f, s:f, s:i, s:b, s:o}",
                      "temperature", sampling->temperature,
                      "top_p", sampling->top_p,
                      "max_tokens", sampling->max_tokens,
                      "allow_n", sampling->allow_n,
                      "seed", sampling->has_seed ? json_integer ((json_int_t) sampling->seed)
                                                 : json_null ());
}

json_t *
toa_settings_build (const toa_config_t *config)
{
    const toa_templates_config_t *templates = &config->templates;
    return json_pack ("{s:o, s:o, s:o, s:{s:o, s:o, s:o}, s:{s:o, s:o}}",
                      "models", s_models (config),
                      "method", s_method (config),
                      "sampling", s_sampling (config),
                      "templates",
                      "system", s_string_or_null (templates->system),
                      "refine", s_string_or_null (templates->refine),
                      "aggregate", s_string_or_null (templates->aggregate),
                      "reward",
                      "backend", s_string_or_null (config->reward.backend),
                      "reference_field", s_string_or_null (config->reward.reference_field));
}

char *
toa_settings_text (const toa_config_t *config)
{
    json_t *settings = toa_settings_build (config);
    char *text = settings ? json_dumps (settings, JSON_COMPACT) : NULL;
    json_decref (settings);
    return text;
}

int64_t
toa_settings_budget (const toa_config_t *config)
{
    if (config->method.budget > 0)
        return config->method.budget;
    return (int64_t) config->method.samples * (int64_t) config->n_models;
}

/* Appends "PREFIX=VALUE" to OUT. Returns 0 or -1. */
static int
s_add (char **out, int *count, const char *prefix, const char *value)
{
    size_t size = strlen (prefix) + strlen (value) + 2;
    char *text = malloc (size);
    if (!text)
        return -1;
    snprintf (text, size, "%s=%s", prefix, value);
    out[(*count)++] = text;
    return 0;
}

int
toa_settings_overrides (const char *method, const char *samples, const char *const *sets,
                        size_t n_sets, char **out)
{
    int count = 0, rc = 0;
    if (method)
        rc |= s_add (out, &count, "method.name", method);
    if (samples && rc == 0)
        rc |= s_add (out, &count, "method.samples", samples);
    for (size_t i = 0; i < n_sets && rc == 0; i++) {
        char *copy = strdup (sets[i]);
        if (!copy)
            rc = -1;
        else
            out[count++] = copy;
    }
    if (rc != 0) {
        while (count > 0)
            free (out[--count]);
        return -1;
    }
    return count;
}
