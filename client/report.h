/* report.h - `toa report`: what a results file holds, for the people who
 * train on it: prompts, responses, generations per prompt, failures, each
 * model's share of the best responses and of all responses, the reward
 * distribution per model (quantiles), tokens per model, and for TOA results
 * the mean tree depth and the share of refinements. As text, as JSON, and
 * as a gnuplot PNG (reward distribution per model and best-response share).
 *
 * Definitions (docs in client/README.md):
 *  - generations: entries of "actions" (failed ones included); responses:
 *    entries of "responses" that are text; scored: responses with a
 *    numeric reward. Rewards are the raw rewards of "rewards".
 *  - best share: prompts whose best_model is the model / prompts with a
 *    best response.
 *  - quantiles: linear interpolation between order statistics (the
 *    default of numpy.quantile): q * (n - 1) in the sorted rewards.
 *  - tree depth of a TOA result: 1 + the largest "depth" of its tree's
 *    response nodes (1 = every response answers the prompt); refinements:
 *    TOA actions with depth > 0 over all TOA actions.
 * A prompt id seen twice is counted once (as toa export does). The core
 * (toa_report_add) is pure. */
#ifndef TOA_CLIENT_REPORT_H
#define TOA_CLIENT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "common/errors.h"

typedef struct {
    char *name;
    size_t generations;          /* actions of this model */
    size_t responses;            /* of those, with a text */
    size_t best;                 /* prompts whose best response it made */
    double *rewards;             /* raw rewards of its scored responses (sorted by
                                  * toa_report_finish) */
    size_t n_rewards, rewards_capacity;
    int64_t prompt_tokens, completion_tokens;
    bool has_tokens;             /* some result carried token counts for it */
} toa_report_model_t;

typedef struct {
    size_t prompts;              /* results counted */
    size_t duplicates;           /* results of an id seen before (not counted) */
    size_t bad;                  /* lines that are not result objects */
    size_t generations, responses, scored;
    size_t min_generations, max_generations;  /* per prompt */
    size_t with_best;            /* prompts that have a best response */
    size_t failures, failures_generation, failures_scoring, failures_prompt;
    size_t prompts_with_failures;
    size_t toa_prompts, toa_trees;  /* TOA results, and those with a tree */
    size_t toa_depth_sum;        /* tree depths summed over toa_trees */
    size_t toa_actions, toa_refinements;
    toa_report_model_t *models;  /* in order of first appearance */
    size_t n_models, models_capacity;
} toa_report_t;

/* An empty report, or NULL when out of memory. */
toa_report_t *toa_report_new (void);

/* Frees it; nulls *SELF_P; safe on NULL. */
void toa_report_destroy (toa_report_t **self_p);

/* Counts one RESULT (a parsed result line). Returns 0, or -1 when out of
 * memory. */
int toa_report_add (toa_report_t *self, const json_t *result);

/* Sorts each model's rewards; call once after the last add. */
void toa_report_finish (toa_report_t *self);

/* Reads the results file INPUT into SELF (then finishes it). Lines that
 * are not JSON objects are counted in bad and reported in ERRORS as
 * "FILE:LINE: reason". Returns 0, or -1 when INPUT cannot be read. */
int toa_report_read (toa_report_t *self, const char *input, toa_errors_t *errors);

/* The Q-quantile (0..1) of SORTED[0..N), linear between order statistics;
 * NaN when N is 0. Pure. */
double toa_report_quantile (const double *sorted, size_t n, double q);

/* The report as a JSON object (new reference; NULL when out of memory). */
json_t *toa_report_json (const toa_report_t *self);

/* The report as text for a terminal. Returns 0, or -1 on a write error. */
int toa_report_write_text (const toa_report_t *self, const char *input, FILE *out);

/* A gnuplot script drawing PNG_PATH with TERMINAL (pngcairo, png): reward
 * quantiles per model as boxes (p10..p90 whiskers, p25..p75 box, median)
 * and the share of best responses per model as bars, TITLE above. Returns
 * 0, or -1 on a write error. */
int toa_report_write_plot (const toa_report_t *self, FILE *out, const char *terminal,
                           const char *png_path, const char *title);

/* Writes PNG_PATH.gp and runs gnuplot on it (pngcairo, else png) to draw
 * PNG_PATH. Returns 0, or -1 with the reason in ERRORS (gnuplot missing
 * or failing, a file that cannot be written). */
int toa_report_png (const toa_report_t *self, const char *png_path, const char *title,
                    toa_errors_t *errors);

/* `toa report` with the command's ARGV (ARGV[0] is "report"): prints the
 * report or its JSON, draws the PNG. Returns the exit status (0; 1 for an
 * I/O error or a failed plot; 2 for a bad command line or unreadable
 * file). */
int toa_report_command (int argc, char **argv);

#endif
