/* compare.h - `toa compare`: runs several methods at several budgets on the
 * same prompts against a running fleet (each run is a plain `toa submit`,
 * client/submit.h), then measures every run from its results file and
 * reports one table: generations per prompt, best-response quality, mean
 * reward, wall time. Budget modes (--budget-modes) run each method also
 * with early stop, or with a job-wide budget and early stop, at the same
 * mean generations per prompt. Writes DIR/<method>-<budget>[-<mode>].jsonl (the results),
 * DIR/compare.csv, and DIR/compare.png drawn by gnuplot (DIR/compare.gp is
 * the script). Ctrl-C (*interrupted) cancels the running job. */
#ifndef TOA_CLIENT_COMPARE_H
#define TOA_CLIENT_COMPARE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/errors.h"

#define TOA_COMPARE_MAX_BUDGETS 32
#define TOA_COMPARE_MAX_METHODS 16

typedef struct {
    const char *config_path;
    const char *input_path;
    const char *budgets;         /* "1,2,4": samples per model */
    const char *modes;           /* "fixed,job": budget modes (NULL: fixed) */
    const char *stop_at_reward;  /* stop/job modes: the reward that stops a prompt
                                    (NULL: 1 with math-verify, else required) */
    const char *methods;         /* "all" or "m1,m2" */
    const char *output_dir;      /* created if missing */
    const char *reference_field; /* reward.reference_field override, or NULL */
    const char *const *sets;     /* --set path=value, passed to every run */
    size_t n_sets;
    const char *endpoint;        /* NULL: the config's */
    int timeout_ms;              /* longest wait for the broker's answer */
    volatile sig_atomic_t *interrupted;
} toa_compare_options_t;

/* What one run's results file shows. */
/* Budget modes: how a run spends samples x models generations per prompt. */
typedef enum {
    TOA_COMPARE_FIXED = 0,       /* every prompt its own budget (today's) */
    TOA_COMPARE_STOP,            /* the same with early stop: the rest unspent */
    TOA_COMPARE_JOB,             /* job-wide budget with early stop: saved generations
                                    go to unsolved prompts (method.budget) */
} toa_compare_mode_t;

#define TOA_COMPARE_MAX_MODES 3

typedef struct {
    char method[32];
    toa_compare_mode_t mode;
    int budget;                  /* samples per model */
    int64_t prompts;             /* result lines */
    double generations;          /* responses per prompt (mean) */
    int64_t best_correct;        /* prompts whose best reward is >= 1 */
    double mean_best_reward;     /* over prompts with a scored response */
    double mean_reward;          /* over every scored response */
    int64_t unscored;            /* responses without a reward */
    double wall_s;               /* the run's wall time */
    int exit_code;               /* of its submit */
} toa_compare_row_t;

/* Runs the command; the table goes to stdout, messages to stderr. Returns
 * the exit code (client/exit_codes.h): 0 when every run finished. */
int toa_compare_run (const toa_compare_options_t *options);

/* Parses "1,2,4" into BUDGETS (at most TOA_COMPARE_MAX_BUDGETS, each 1 to
 * 100000, no repeats). Returns the count, or -1 with a reason in ERRORS. */
int toa_compare_parse_budgets (const char *text, int *budgets, toa_errors_t *errors);

/* Parses "all" or "m1,m2" (each a known method, no repeats) into METHODS
 * (pointers to static names, at most TOA_COMPARE_MAX_METHODS). Returns the
 * count, or -1 with a reason in ERRORS. */
int toa_compare_parse_methods (const char *text, const char **methods, toa_errors_t *errors);

/* Parses "fixed,stop,job" (no repeats) into MODES. Returns the count, or -1
 * with a reason in ERRORS. */
int toa_compare_parse_modes (const char *text, toa_compare_mode_t *modes, toa_errors_t *errors);

/* "fixed", "stop", "job". */
const char *toa_compare_mode_name (toa_compare_mode_t mode);

/* Every method, in table order, space separated. */
const char *toa_compare_all_methods (void);

/* Fills ROW's counts from the results file PATH (method, budget, wall time
 * and exit code are left as they are). Returns 0, or -1 with a reason in
 * ERRORS (unreadable file, a line that is not a result). */
int toa_compare_measure (const char *path, toa_compare_row_t *row, toa_errors_t *errors);

/* The quality of a row: the share of prompts whose best response is correct
 * when ACCURACY (a 0/1 verifier), else the mean best reward. */
double toa_compare_quality (const toa_compare_row_t *row, bool accuracy);

/* Writes the table (ACCURACY: see toa_compare_quality) to OUT. */
void toa_compare_print_table (FILE *out, const toa_compare_row_t *rows, size_t n,
                              bool accuracy);

/* Writes the CSV (a header, then one line per row) to OUT. Returns 0 or -1
 * (write error). */
int toa_compare_write_csv (FILE *out, const toa_compare_row_t *rows, size_t n, bool accuracy);

/* Writes a gnuplot script to OUT that draws quality against generations per
 * prompt, one line per method, into PNG_PATH with TERMINAL ("pngcairo" or
 * "png"). TITLE names the data. Returns 0 or -1. */
int toa_compare_write_plot (FILE *out, const toa_compare_row_t *rows, size_t n, bool accuracy,
                            const char *terminal, const char *png_path, const char *title);

#endif
