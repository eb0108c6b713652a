/* defaults.h - the one definition of a job's default settings: what a job
 * gets for a setting it leaves out. The config schema (common/config.c),
 * from which `toa submit` fills the settings it sends, and the broker
 * (broker/settings.c), which fills what a client leaves out, both take
 * them from here, so any client that omits a setting gets what `toa submit`
 * gets (tests/unit/test_job_defaults.c). Defaults that depend on the job
 * (method.width, method.moa_aggregate, method.prs_model,
 * reward.reference_field) are computed the same way on both sides:
 * toa_config_method_width, the number of models, the first model,
 * toa_default_reference_field. */
#ifndef TOA_DEFAULTS_H
#define TOA_DEFAULTS_H

#define TOA_DEFAULT_SAMPLES 4                 /* method.samples */
#define TOA_DEFAULT_ALPHA 0.01                /* method.alpha */
#define TOA_DEFAULT_TAU 0.1                   /* method.tau */
#define TOA_DEFAULT_TOPK_CHILD 1              /* method.topk_child */
#define TOA_DEFAULT_PARALLEL_EXPANSIONS 1     /* method.parallel_expansions */
#define TOA_DEFAULT_MOA_N_ITER 2              /* method.moa_n_iter */
#define TOA_DEFAULT_TEMPERATURE 0.7           /* sampling.temperature */
#define TOA_DEFAULT_TOP_P 1.0                 /* sampling.top_p */
#define TOA_DEFAULT_MAX_TOKENS 1024           /* sampling.max_tokens */
#define TOA_DEFAULT_ALLOW_N 0                 /* sampling.allow_n */

/* reward.reference_field when none is set: the input field the BACKEND's
 * verifier needs ("gold_answer" for math-verify, "en" for chrf), else NULL. */
const char *toa_default_reference_field (const char *backend);

/* templates.refine: {question} and {response} are filled in. */
extern const char toa_default_refine_template[];

/* templates.aggregate: {question} and {responses} are filled in. */
extern const char toa_default_aggregate_template[];

#endif
