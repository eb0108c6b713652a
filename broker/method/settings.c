/* settings.c - a job's settings JSON: parse, default, validate (see settings.h). */
#include "broker/method/settings.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/defaults.h"
#include "common/util.h"

/* Reads an optional member of OBJECT; on a wrong type records an error. */
static json_t *
s_member (json_t *object, const char *section, const char *key, int type_mask,
          const char *type_name, toa_errors_t *errors)
{
    json_t *value = object ? json_object_get (object, key) : NULL;
    if (!value || json_is_null (value))
        return NULL;
    int type = json_typeof (value);
    if (!(type_mask & (1 << type))) {
        toa_errors_add (errors, "settings: %s%s%s: must be %s", section,
                        *section ? "." : "", key, type_name);
        return NULL;
    }
    return value;
}

#define S_STRING (1 << JSON_STRING)
#define S_NUMBER ((1 << JSON_INTEGER) | (1 << JSON_REAL))
#define S_INTEGER (1 << JSON_INTEGER)
#define S_BOOL ((1 << JSON_TRUE) | (1 << JSON_FALSE))
#define S_ARRAY (1 << JSON_ARRAY)
#define S_OBJECT (1 << JSON_OBJECT)

static int
s_int (json_t *object, const char *section, const char *key, int fallback, int min,
       int max, toa_errors_t *errors)
{
    json_t *value = s_member (object, section, key, S_INTEGER, "an integer", errors);
    if (!value)
        return fallback;
    json_int_t number = json_integer_value (value);
    if (number < min || number > max) {
        toa_errors_add (errors, "settings: %s.%s: %lld is out of range [%d, %d]", section,
                        key, (long long) number, min, max);
        return fallback;
    }
    return (int) number;
}

static double
s_double (json_t *object, const char *section, const char *key, double fallback,
          double min, double max, bool min_exclusive, toa_errors_t *errors)
{
    json_t *value = s_member (object, section, key, S_NUMBER, "a number", errors);
    if (!value)
        return fallback;
    double number = json_number_value (value);
    if (!isfinite (number) || number < min || number > max
        || (min_exclusive && number <= min)) {
        toa_errors_add (errors, "settings: %s.%s: %g is out of range %s%g, %g]", section, key,
                        number, min_exclusive ? "(" : "[", min, max);
        return fallback;
    }
    return number;
}

static char *
s_string (json_t *object, const char *section, const char *key, const char *fallback,
          toa_errors_t *errors)
{
    json_t *value = s_member (object, section, key, S_STRING, "a string", errors);
    return toa_strdup (value ? json_string_value (value) : fallback);
}

static uint64_t
s_seed (json_t *object, const char *section, const char *key, bool *present,
        toa_errors_t *errors)
{
    json_t *value = s_member (object, section, key, S_INTEGER, "an integer", errors);
    if (present)
        *present = value != NULL;
    return value ? (uint64_t) json_integer_value (value) : 0;
}

static void
s_parse_models (toa_job_settings_t *self, json_t *root, toa_errors_t *errors)
{
    json_t *models = s_member (root, "", "models", S_ARRAY, "an array of model names",
                               errors);
    if (!models) {
        if (!json_object_get (root, "models"))
            toa_errors_add (errors, "settings: models: missing (a list of model names)");
        return;
    }
    size_t count = json_array_size (models);
    if (count == 0 || count > TOA_SETTINGS_MAX_MODELS) {
        toa_errors_add (errors, "settings: models: must list 1 to %d models",
                        TOA_SETTINGS_MAX_MODELS);
        return;
    }
    self->models = calloc (count, sizeof *self->models);
    if (!self->models) {
        toa_errors_add (errors, "settings: out of memory");
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const char *name = json_string_value (json_array_get (models, i));
        if (!name || !*name || strlen (name) > 256) {
            toa_errors_add (errors, "settings: models.%zu: must be a non-empty name", i);
            continue;
        }
        if (toa_job_settings_model_index (self, name) >= 0) {
            toa_errors_add (errors, "settings: models.%zu: \"%s\" is listed twice", i, name);
            continue;
        }
        self->models[self->n_models++] = strdup (name);
    }
}

static void
s_parse_method (toa_job_settings_t *self, json_t *root, const char *method,
                toa_errors_t *errors)
{
    json_t *section = s_member (root, "", "method", S_OBJECT, "an object", errors);
    json_t *name = s_member (section, "method", "name", S_STRING, "a string", errors);
    const char *settings_name = name ? json_string_value (name) : NULL;
    if (method && settings_name && strcmp (method, settings_name) != 0)
        toa_errors_add (errors, "settings: method.name: \"%s\" differs from the submitted "
                        "method \"%s\"", settings_name, method);
    const char *chosen = method ? method : settings_name;
    if (!chosen || !*chosen)
        toa_errors_add (errors, "settings: method.name: missing");
    else if (!toa_policy_find (chosen))
        toa_errors_add (errors, "settings: method.name: unknown method \"%s\" (known: %s)",
                        chosen, toa_policy_names ());
    self->method = toa_strdup (chosen ? chosen : "");
    self->samples = s_int (section, "method", "samples", TOA_DEFAULT_SAMPLES, 1, 100000,
                           errors);
    self->alpha = s_double (section, "method", "alpha", TOA_DEFAULT_ALPHA, 0, 1e9, false, errors);
    json_t *tau = json_object_get (section, "tau");
    self->tau_auto = json_is_string (tau) && strcmp (json_string_value (tau), "auto") == 0;
    self->tau = self->tau_auto ? TOA_DEFAULT_TAU
                               : s_double (section, "method", "tau", TOA_DEFAULT_TAU, 0, 1e9,
                                           true, errors);
    self->width = s_int (section, "method", "width", 0, 0, 1000000, errors);
    self->topk_child = s_int (section, "method", "topk_child", TOA_DEFAULT_TOPK_CHILD, 1,
                              1000000, errors);
    self->parallel_expansions = s_int (section, "method", "parallel_expansions",
                                       TOA_DEFAULT_PARALLEL_EXPANSIONS, 1, 1024, errors);
    self->budget = s_int (section, "method", "budget", 0, 0, 1000000, errors);
    self->job_budget = self->budget > 0;
    self->max_per_prompt = s_int (section, "method", "max_per_prompt", 0, 0, 4000000, errors);
    json_t *stop = s_member (section, "method", "stop_at_reward", S_NUMBER, "a number or null",
                             errors);
    self->early_stop = stop != NULL && isfinite (json_number_value (stop));
    self->stop_at_reward = stop ? json_number_value (stop) : 0;
    self->moa_n_iter = s_int (section, "method", "moa_n_iter", TOA_DEFAULT_MOA_N_ITER, 1,
                              1000, errors);
    self->moa_aggregate = s_int (section, "method", "moa_aggregate", 0, 0,
                                 TOA_POLICY_MAX_INPUTS, errors);
    self->method_seed = s_seed (section, "method", "seed", NULL, errors);
    json_t *prs = s_member (section, "method", "prs_model", S_STRING, "a model name", errors);
    self->prs_model = 0;
    if (prs && self->n_models) {
        self->prs_model = toa_job_settings_model_index (self, json_string_value (prs));
        if (self->prs_model < 0) {
            toa_errors_add (errors, "settings: method.prs_model: \"%s\" is not one of the "
                            "job's models", json_string_value (prs));
            self->prs_model = 0;
        }
    }
}

static void
s_parse_rest (toa_job_settings_t *self, json_t *root, toa_errors_t *errors)
{
    json_t *sampling = s_member (root, "", "sampling", S_OBJECT, "an object", errors);
    self->temperature = s_double (sampling, "sampling", "temperature",
                                  TOA_DEFAULT_TEMPERATURE, 0, 100, false, errors);
    self->top_p = s_double (sampling, "sampling", "top_p", TOA_DEFAULT_TOP_P, 0, 1, false,
                            errors);
    self->max_tokens = s_int (sampling, "sampling", "max_tokens", TOA_DEFAULT_MAX_TOKENS, 1,
                              10000000, errors);
    self->sampling_seed = s_seed (sampling, "sampling", "seed", &self->has_seed, errors);
    json_t *allow_n = s_member (sampling, "sampling", "allow_n", S_BOOL, "true or false",
                                errors);
    self->allow_n = allow_n ? json_is_true (allow_n) : TOA_DEFAULT_ALLOW_N;

    json_t *templates = s_member (root, "", "templates", S_OBJECT, "an object", errors);
    self->system = s_string (templates, "templates", "system", NULL, errors);
    self->refine = s_string (templates, "templates", "refine",
                             toa_default_refine_template, errors);
    self->aggregate = s_string (templates, "templates", "aggregate",
                                toa_default_aggregate_template,
                                errors);
    if (self->refine && !strstr (self->refine, "{response}"))
        toa_errors_add (errors, "settings: templates.refine: must contain {response}");
    if (self->aggregate && !strstr (self->aggregate, "{responses}"))
        toa_errors_add (errors, "settings: templates.aggregate: must contain {responses}");

    json_t *reward = s_member (root, "", "reward", S_OBJECT, "an object", errors);
    self->reward_backend = s_string (reward, "reward", "backend", NULL, errors);
    if (!self->reward_backend || !*self->reward_backend)
        toa_errors_add (errors, "settings: reward.backend: missing (the scorer backend, "
                        "e.g. math-verify)");
    self->reference_field = s_string (reward, "reward", "reference_field",
                                      toa_default_reference_field (self->reward_backend),
                                      errors);
}

/* Checks that need models and method together. */
static void
s_check_method (toa_job_settings_t *self, toa_errors_t *errors)
{
    if (!self->n_models)
        return;
    if (self->moa_aggregate == 0)
        self->moa_aggregate = (int) self->n_models;
    if (self->width == 0)
        self->width = toa_job_settings_default_width ((int) self->n_models, self->samples);
    if (self->budget == 0)
        self->budget = self->samples * (int) self->n_models;
    if (self->max_per_prompt == 0)
        self->max_per_prompt = 4 * self->budget;
    if (self->max_per_prompt < self->budget)
        toa_errors_add (errors, "settings: method.max_per_prompt: %d is below the budget per "
                        "prompt %d", self->max_per_prompt, self->budget);
    if (strcmp (self->method, "toa") == 0 && self->width < (int) self->n_models)
        toa_errors_add (errors, "settings: method.width: %d is less than the number of "
                        "models (%zu), which leaves the search stuck; set method.width "
                        ">= %zu", self->width, self->n_models, self->n_models);
}

toa_job_settings_t *
toa_job_settings_parse (const char *text, const char *method, toa_errors_t *errors)
{
    size_t errors_before = errors->count + errors->dropped;
    json_error_t json_error;
    json_t *root = json_loads (text ? text : "", JSON_REJECT_DUPLICATES, &json_error);
    if (!root || !json_is_object (root)) {
        toa_errors_add (errors, "settings: not a JSON object%s%s",
                        root ? "" : ": ", root ? "" : json_error.text);
        json_decref (root);
        return NULL;
    }
    toa_job_settings_t *self = calloc (1, sizeof *self);
    if (!self) {
        json_decref (root);
        toa_errors_add (errors, "settings: out of memory");
        return NULL;
    }
    self->job_rewards = calloc (1, sizeof *self->job_rewards);
    if (!self->job_rewards)
        toa_errors_add (errors, "settings: out of memory");
    s_parse_models (self, root, errors);
    s_parse_method (self, root, method, errors);
    s_parse_rest (self, root, errors);
    s_check_method (self, errors);
    json_decref (root);
    if (errors->count + errors->dropped != errors_before)
        toa_job_settings_destroy (&self);
    return self;
}

void
toa_job_settings_destroy (toa_job_settings_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_job_settings_t *self = *self_p;
    for (size_t i = 0; i < self->n_models; i++)
        free (self->models[i]);
    free (self->models);
    free (self->method);
    free (self->system);
    free (self->refine);
    free (self->aggregate);
    free (self->reward_backend);
    free (self->reference_field);
    free (self->job_rewards);
    free (self);
    *self_p = NULL;
}

int
toa_job_settings_model_index (const toa_job_settings_t *self, const char *name)
{
    for (size_t i = 0; i < self->n_models; i++)
        if (strcmp (self->models[i], name) == 0)
            return (int) i;
    return -1;
}

void
toa_job_settings_policy_config (const toa_job_settings_t *self, toa_policy_config_t *config)
{
    memset (config, 0, sizeof *config);
    config->name = self->method;
    config->n_models = (int) self->n_models;
    config->samples = self->samples;
    config->alpha = self->alpha;
    config->tau = self->tau;
    config->width = self->width;
    config->topk_child = self->topk_child;
    config->prs_model = self->prs_model;
    config->moa_n_iter = self->moa_n_iter;
    config->moa_aggregate = self->moa_aggregate;
    config->seed = self->method_seed;
    config->allow_n = self->allow_n;
    config->parallel_expansions = self->parallel_expansions;
    config->budget = self->budget;
    config->early_stop = self->early_stop;
    config->tau_auto = self->tau_auto;
    config->job_rewards = self->job_rewards;
}

int
toa_job_settings_default_width (int n_models, int samples)
{
    /* The fleet's one rule (common/config.c): models * samples / 3, never
     * below the number of models (a narrower width leaves the search stuck). */
    toa_method_config_t method = {.samples = samples};
    return toa_config_method_width (&method, n_models > 0 ? (size_t) n_models : 0);
}
