/* settings.h - a job's settings: the JSON object a client submits with a job
 * (models, method, sampling, templates, reward), parsed, defaulted and
 * validated. Stored verbatim in Redis with the job, so a restarted broker
 * parses the same text into the same settings. Pure: no I/O. */
#ifndef TOA_BROKER_SETTINGS_H
#define TOA_BROKER_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/method/policy.h"
#include "common/errors.h"

#define TOA_SETTINGS_MAX_MODELS 64

typedef struct {
    char **models;           /* model names, unique, in the job's order */
    size_t n_models;
    char *method;            /* policy name (toa_policy_find knows it) */
    int samples;             /* generations per model per prompt */
    double alpha, tau;       /* TOA */
    int width;               /* TOA, defaulted to models * samples / 3 */
    int topk_child;          /* TOA */
    int parallel_expansions; /* TOA expansions in flight per prompt */
    bool tau_auto;           /* TOA: tau from the spread of rewards seen ("auto") */
    toa_reward_stats_t *job_rewards; /* tau auto: the rewards the job's prompts saw so
                                        far (not a setting: state the prompts share) */
    int budget;              /* a prompt's share: method.budget, else samples x models */
    bool job_budget;         /* method.budget given: saved generations go to other prompts */
    int max_per_prompt;      /* job-wide budget: cap per prompt (default 4 x budget) */
    bool early_stop;         /* method.stop_at_reward given */
    double stop_at_reward;   /* a prompt stops once a response reaches it */
    int prs_model;           /* PRS: index of its model */
    int moa_n_iter, moa_aggregate;
    uint64_t method_seed;
    double temperature, top_p;
    int max_tokens;
    bool has_seed;           /* send a per-generation seed derived from seed */
    uint64_t sampling_seed;
    bool allow_n;            /* one request may ask for n > 1 samples */
    char *system;            /* system message added to generation prompts, or NULL */
    char *refine;            /* {question} {response} */
    char *aggregate;         /* {question} {responses} */
    char *reward_backend;    /* scorer backend every response is scored with */
    char *reference_field;   /* input field passed to the scorer as reference, or NULL */
} toa_job_settings_t;

/* Parses settings TEXT for a job submitted with METHOD (NULL: take it from
 * the settings' method.name). Returns the settings, or NULL with every
 * problem appended to ERRORS as "settings: path: reason". */
toa_job_settings_t *toa_job_settings_parse (const char *text, const char *method,
                                            toa_errors_t *errors);

/* Frees everything; nulls *SELF_P; safe on NULL. */
void toa_job_settings_destroy (toa_job_settings_t **self_p);

/* The index of model NAME in SELF, or -1. */
int toa_job_settings_model_index (const toa_job_settings_t *self, const char *name);

/* Fills CONFIG for the policy (names point into SELF). */
void toa_job_settings_policy_config (const toa_job_settings_t *self,
                                     toa_policy_config_t *config);

/* The TOA width used when none is set: models * samples / 3, but at least
 * the number of models (toa_config_method_width). */
int toa_job_settings_default_width (int n_models, int samples);

#endif
