/* compare.c - `toa compare`: every method at every budget through `toa
 * submit`, measured from the results files (see compare.h). */
#include "client/compare.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "client/control.h"
#include "client/exit_codes.h"
#include "client/gnuplot.h"
#include "client/submit.h"
#include "common/config.h"
#include "common/util.h"

/* Table order: the search first, then the baselines. */
static const char *const s_methods[] = {"toa", "best-of-n", "ensemble", "prs", "seq-refine",
                                        "moa"};
#define S_N_METHODS (sizeof s_methods / sizeof s_methods[0])
#define S_MAX_SETS 256

const char *
toa_compare_all_methods (void)
{
    return "toa best-of-n ensemble prs seq-refine moa";
}

/* --- parsing --------------------------------------------------------------- */

int
toa_compare_parse_budgets (const char *text, int *budgets, toa_errors_t *errors)
{
    int count = 0;
    const char *at = text ? text : "";
    while (true) {
        char *end;
        errno = 0;
        long value = strtol (at, &end, 10);
        if (end == at || (*end && *end != ',') || errno || value < 1 || value > 100000) {
            toa_errors_add (errors, "toa compare: --budgets '%s': expected whole numbers "
                            "from 1 to 100000 separated by commas, e.g. 1,2,4,8",
                            text ? text : "");
            return -1;
        }
        for (int i = 0; i < count; i++)
            if (budgets[i] == (int) value) {
                toa_errors_add (errors, "toa compare: --budgets '%s': %ld appears twice", text,
                                value);
                return -1;
            }
        if (count == TOA_COMPARE_MAX_BUDGETS) {
            toa_errors_add (errors, "toa compare: --budgets '%s': at most %d budgets", text,
                            TOA_COMPARE_MAX_BUDGETS);
            return -1;
        }
        budgets[count++] = (int) value;
        if (!*end)
            return count;
        at = end + 1;
    }
}

int
toa_compare_parse_methods (const char *text, const char **methods, toa_errors_t *errors)
{
    if (!text || !*text) {
        toa_errors_add (errors, "toa compare: --methods: empty (all, or some of: %s)",
                        toa_compare_all_methods ());
        return -1;
    }
    if (strcmp (text, "all") == 0) {
        for (size_t i = 0; i < S_N_METHODS; i++)
            methods[i] = s_methods[i];
        return (int) S_N_METHODS;
    }
    int count = 0;
    const char *at = text;
    while (true) {
        size_t length = strcspn (at, ",");
        const char *known = NULL;
        for (size_t i = 0; i < S_N_METHODS; i++)
            if (strlen (s_methods[i]) == length && strncmp (s_methods[i], at, length) == 0)
                known = s_methods[i];
        if (!known) {
            toa_errors_add (errors, "toa compare: --methods '%s': unknown method '%.*s' "
                            "(all, or some of: %s)", text, (int) length, at,
                            toa_compare_all_methods ());
            return -1;
        }
        for (int i = 0; i < count; i++)
            if (methods[i] == known) {
                toa_errors_add (errors, "toa compare: --methods '%s': %s appears twice", text,
                                known);
                return -1;
            }
        methods[count++] = known;
        if (!at[length])
            return count;
        at += length + 1;
    }
}

static const char *const s_mode_names[] = {"fixed", "stop", "job"};

const char *
toa_compare_mode_name (toa_compare_mode_t mode)
{
    return mode <= TOA_COMPARE_JOB ? s_mode_names[mode] : "?";
}

int
toa_compare_parse_modes (const char *text, toa_compare_mode_t *modes, toa_errors_t *errors)
{
    int count = 0;
    const char *at = text ? text : "";
    while (true) {
        size_t length = strcspn (at, ",");
        int known = -1;
        for (int i = 0; i < TOA_COMPARE_MAX_MODES; i++)
            if (strlen (s_mode_names[i]) == length && strncmp (s_mode_names[i], at, length) == 0)
                known = i;
        if (known < 0) {
            toa_errors_add (errors, "toa compare: --budget-modes '%s': unknown mode '%.*s' "
                            "(some of: fixed stop job)", text ? text : "", (int) length, at);
            return -1;
        }
        for (int i = 0; i < count; i++)
            if (modes[i] == (toa_compare_mode_t) known) {
                toa_errors_add (errors, "toa compare: --budget-modes '%s': %s appears twice",
                                text, s_mode_names[known]);
                return -1;
            }
        modes[count++] = (toa_compare_mode_t) known;
        if (!at[length])
            return count;
        at += length + 1;
    }
}

/* The name a row goes by in the plot: its method, and its mode unless fixed. */
static void
s_label (const toa_compare_row_t *row, char *out, size_t size)
{
    static const char *const shown[] = {"", " (early stop)", " (job-wide budget)"};
    snprintf (out, size, "%s%s", row->method, row->mode <= TOA_COMPARE_JOB ? shown[row->mode] : "");
}

/* --- measuring ------------------------------------------------------------- */

int
toa_compare_measure (const char *path, toa_compare_row_t *row, toa_errors_t *errors)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        toa_errors_add (errors, "%s: %s", path, strerror (errno));
        return -1;
    }
    row->prompts = row->best_correct = row->unscored = 0;
    row->generations = row->mean_best_reward = row->mean_reward = 0;
    int64_t responses = 0, scored = 0, with_best = 0, line_no = 0;
    double reward_sum = 0, best_sum = 0;
    char *line = NULL;
    size_t capacity = 0;
    int rc = 0;
    while (rc == 0 && getline (&line, &capacity, file) >= 0) {
        line_no++;
        if (strspn (line, " \t\r\n") == strlen (line))
            continue;
        json_t *result = json_loads (line, 0, NULL);
        json_t *rewards = json_object_get (result, "rewards");
        json_t *list = json_object_get (result, "responses");
        if (!json_is_array (rewards) || !json_is_array (list)) {
            toa_errors_add (errors, "%s:%lld: not a result line (no responses and rewards)",
                            path, (long long) line_no);
            rc = -1;
        }
        else {
            row->prompts++;
            responses += (int64_t) json_array_size (list);
            size_t i;
            json_t *reward;
            json_array_foreach (rewards, i, reward) {
                if (json_is_number (reward)) {
                    reward_sum += json_number_value (reward);
                    scored++;
                }
                else
                    row->unscored++;
            }
            json_t *best = json_object_get (result, "best_reward");
            if (json_is_number (best)) {
                best_sum += json_number_value (best);
                with_best++;
                row->best_correct += json_number_value (best) >= 1.0;
            }
        }
        json_decref (result);
    }
    if (rc == 0 && ferror (file)) {
        toa_errors_add (errors, "%s: %s", path, strerror (errno));
        rc = -1;
    }
    free (line);
    fclose (file);
    if (row->prompts > 0)
        row->generations = (double) responses / (double) row->prompts;
    if (with_best > 0)
        row->mean_best_reward = best_sum / (double) with_best;
    if (scored > 0)
        row->mean_reward = reward_sum / (double) scored;
    return rc;
}

double
toa_compare_quality (const toa_compare_row_t *row, bool accuracy)
{
    if (!accuracy)
        return row->mean_best_reward;
    return row->prompts > 0 ? (double) row->best_correct / (double) row->prompts : 0;
}

/* --- reporting ------------------------------------------------------------- */

void
toa_compare_print_table (FILE *out, const toa_compare_row_t *rows, size_t n, bool accuracy)
{
    bool modes = false;
    for (size_t i = 0; i < n; i++)
        modes = modes || rows[i].mode != TOA_COMPARE_FIXED;
    fprintf (out, "%-11s %s%6s %7s %11s %12s %11s %8s\n", "method", modes ? "mode  " : "",
             "budget", "prompts", "gens/prompt", accuracy ? "best correct" : "best reward",
             "mean reward", "wall s");
    for (size_t i = 0; i < n; i++) {
        const toa_compare_row_t *row = &rows[i];
        char quality[32];
        if (accuracy)
            snprintf (quality, sizeof quality, "%.1f%%", 100 * toa_compare_quality (row, true));
        else
            snprintf (quality, sizeof quality, "%.4f", row->mean_best_reward);
        fprintf (out, "%-11s ", row->method);
        if (modes)
            fprintf (out, "%-5s ", toa_compare_mode_name (row->mode));
        fprintf (out, "%6d %7lld %11.2f %12s %11.4f %8.1f%s\n", row->budget,
                 (long long) row->prompts, row->generations, quality, row->mean_reward,
                 row->wall_s, row->exit_code ? "  (run failed)" : "");
    }
}

int
toa_compare_write_csv (FILE *out, const toa_compare_row_t *rows, size_t n, bool accuracy)
{
    fprintf (out, "method,budget,prompts,generations_per_prompt,metric,quality,best_correct,"
             "mean_best_reward,mean_reward,unscored,wall_seconds,exit_code,mode\n");
    for (size_t i = 0; i < n; i++) {
        const toa_compare_row_t *row = &rows[i];
        fprintf (out, "%s,%d,%lld,%.4f,%s,%.6f,%lld,%.6f,%.6f,%lld,%.3f,%d,%s\n", row->method,
                 row->budget, (long long) row->prompts, row->generations,
                 accuracy ? "best_correct_share" : "mean_best_reward",
                 toa_compare_quality (row, accuracy), (long long) row->best_correct,
                 row->mean_best_reward, row->mean_reward, (long long) row->unscored,
                 row->wall_s, row->exit_code, toa_compare_mode_name (row->mode));
    }
    return ferror (out) ? -1 : 0;
}

/* "set xtics (...)" at the generations per prompt the rows measured. */
static void
s_plot_xtics (FILE *out, const toa_compare_row_t *rows, size_t n)
{
    double ticks[TOA_COMPARE_MAX_BUDGETS * TOA_COMPARE_MAX_METHODS];
    size_t n_ticks = 0;
    for (size_t i = 0; i < n && n_ticks < sizeof ticks / sizeof *ticks; i++) {
        bool seen = rows[i].prompts == 0;
        for (size_t k = 0; k < n_ticks && !seen; k++)
            seen = ticks[k] > rows[i].generations - 0.005
                   && ticks[k] < rows[i].generations + 0.005;
        if (!seen)
            ticks[n_ticks++] = rows[i].generations;
    }
    if (n_ticks == 0)
        return;
    fprintf (out, "set xtics (");
    for (size_t k = 0; k < n_ticks; k++)
        fprintf (out, "%s\"%g\" %.4f", k ? ", " : "", ticks[k], ticks[k]);
    fprintf (out, ")\n");
}

int
toa_compare_write_plot (FILE *out, const toa_compare_row_t *rows, size_t n, bool accuracy,
                        const char *terminal, const char *png_path, const char *title)
{
    fprintf (out, "# gnuplot script written by toa compare: gnuplot THIS_FILE\n");
    fprintf (out, "set terminal %s size 960,600 noenhanced\nset output ", terminal);
    toa_gnuplot_quote (out, png_path);
    fprintf (out, "\nset title ");
    toa_gnuplot_quote (out, title);
    fprintf (out, "\nset xlabel 'generations per prompt'\nset ylabel '%s'\n",
             accuracy ? "share of prompts whose best response is correct"
                      : "mean reward of the best response");
    fprintf (out, "set logscale x 2\nset grid\nset key outside right top\n"
                  "set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05\n");
    if (accuracy)
        fprintf (out, "set yrange [0:1]\n");
    s_plot_xtics (out, rows, n);
    /* One data block per method (and budget mode) that has a finished run. */
    char plotted[TOA_COMPARE_MAX_METHODS * TOA_COMPARE_MAX_MODES][64];
    size_t n_plotted = 0;
    for (size_t i = 0; i < n; i++) {
        char label[64], other[64];
        s_label (&rows[i], label, sizeof label);
        bool seen = false;
        for (size_t k = 0; k < n_plotted; k++)
            seen = seen || strcmp (plotted[k], label) == 0;
        if (seen || n_plotted == sizeof plotted / sizeof *plotted)
            continue;
        bool any = false;
        for (size_t j = i; j < n; j++) {
            s_label (&rows[j], other, sizeof other);
            any = any || (strcmp (other, label) == 0 && rows[j].prompts > 0);
        }
        if (!any)
            continue;
        fprintf (out, "$d%zu << EOD\n", n_plotted);
        for (size_t j = i; j < n; j++) {
            s_label (&rows[j], other, sizeof other);
            if (strcmp (other, label) == 0 && rows[j].prompts > 0)
                fprintf (out, "%.4f %.6f\n", rows[j].generations,
                         toa_compare_quality (&rows[j], accuracy));
        }
        fprintf (out, "EOD\n");
        snprintf (plotted[n_plotted++], sizeof plotted[0], "%s", label);
    }
    if (n_plotted == 0)
        fprintf (out, "set label 'no finished run' at graph 0.4, graph 0.5\n"
                      "set xrange [1:2]\nplot NaN notitle\n");
    for (size_t k = 0; k < n_plotted; k++) {
        fprintf (out, "%s$d%zu using 1:2 with linespoints linewidth 2 pointtype %zu%s title ",
                 k ? ", \\\n     " : "plot ", k, k + 4,
                 strstr (plotted[k], " (") ? " dashtype 2" : "");
        toa_gnuplot_quote (out, plotted[k]);
    }
    fprintf (out, "\n");
    return ferror (out) ? -1 : 0;
}

/* --- running --------------------------------------------------------------- */

/* Writes DIR/compare.gp and draws DIR/compare.png (pngcairo, else png). */
static void
s_plot (const char *dir, const toa_compare_row_t *rows, size_t n, bool accuracy,
        const char *title)
{
    char script[4096], png[4096];
    snprintf (script, sizeof script, "%s/compare.gp", dir);
    snprintf (png, sizeof png, "%s/compare.png", dir);
    const char *terminals[] = {"pngcairo", "png"};
    for (size_t t = 0; t < 2; t++) {
        FILE *out = fopen (script, "w");
        if (!out) {
            fprintf (stderr, "toa compare: %s: %s; no plot\n", script, strerror (errno));
            return;
        }
        int rc = toa_compare_write_plot (out, rows, n, accuracy, terminals[t], png, title);
        if (fclose (out) != 0 || rc != 0) {
            fprintf (stderr, "toa compare: %s: write error; no plot\n", script);
            return;
        }
        int status = toa_gnuplot_run (script);
        if (status == 0) {
            fprintf (stderr, "toa compare: plot in %s\n", png);
            return;
        }
        if (status < 0) {
            fprintf (stderr, "toa compare: cannot run gnuplot (%s); no plot (the script is "
                     "%s)\n", strerror (errno), script);
            return;
        }
    }
    fprintf (stderr, "toa compare: gnuplot failed on %s; no plot\n", script);
}

/* Creates DIR when missing. Returns 0 or -1 (message printed). */
static int
s_make_dir (const char *dir)
{
    if (mkdir (dir, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat (dir, &st) == 0 && S_ISDIR (st.st_mode))
            return 0;
        errno = ENOTDIR;
    }
    fprintf (stderr, "toa compare: --output-dir %s: %s\n", dir, strerror (errno));
    return -1;
}

/* Loads the config (with the runs' overrides) to learn the reward backend;
 * prints problems. Returns 0, or -1. */
static int
s_reward_is_accuracy (const toa_compare_options_t *options, const char *const *sets,
                      size_t n_sets, bool *accuracy, int *n_models)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_config_t *config = toa_config_load (options->config_path, sets, n_sets, &errors);
    if (!config) {
        toa_errors_print (&errors, stderr);
        toa_errors_clear (&errors);
        return -1;
    }
    toa_errors_clear (&errors);
    *accuracy = config->reward.backend && strcmp (config->reward.backend, "math-verify") == 0;
    *n_models = (int) config->n_models;
    toa_config_destroy (&config);
    return 0;
}

/* Cancels JOB after Ctrl-C detached from it, so that the fleet stops
 * working for a comparison nobody waits for. */
static void
s_cancel (const toa_compare_options_t *options, const char *job)
{
    static volatile sig_atomic_t not_interrupted = 0;
    toa_control_options_t cancel = {
        .job = job,
        .config_path = options->config_path,
        .endpoint = options->endpoint,
        .timeout_ms = options->timeout_ms,
        .interrupted = &not_interrupted,
    };
    fprintf (stderr, "toa compare: interrupted; cancelling job %s\n", job);
    toa_control_cancel (&cancel);
}

/* A run's mode as overrides after SETS (the --set flags): early stop at
 * STOP, and for the job-wide mode method.budget = BUDGET x N_MODELS. */
static size_t
s_mode_sets (const char *const *sets, size_t n_sets, toa_compare_mode_t mode, const char *stop,
             int budget, int n_models, const char **out, char (*texts)[128])
{
    size_t n = 0;
    for (size_t i = 0; i < n_sets; i++)
        out[n++] = sets[i];
    if (mode == TOA_COMPARE_FIXED)
        return n;
    snprintf (texts[0], 128, "method.stop_at_reward=%s", stop);
    out[n++] = texts[0];
    if (mode == TOA_COMPARE_JOB) {
        snprintf (texts[1], 128, "method.budget=%d", budget * n_models);
        out[n++] = texts[1];
    }
    return n;
}

/* Runs METHOD at BUDGET in MODE into ROW. Returns the submit's exit code. */
static int
s_run_one (const toa_compare_options_t *options, const char *const *base_sets,
           size_t n_base_sets, const char *method, int budget, toa_compare_mode_t mode,
           const char *stop, int n_models, toa_compare_row_t *row)
{
    char path[4096], samples[16], mode_texts[2][128];
    const char *sets[S_MAX_SETS + 2];
    size_t n_sets = s_mode_sets (base_sets, n_base_sets, mode, stop, budget, n_models, sets,
                                 mode_texts);
    snprintf (path, sizeof path, "%s/%s-%d%s%s.jsonl", options->output_dir, method, budget,
              mode == TOA_COMPARE_FIXED ? "" : "-", mode == TOA_COMPARE_FIXED
                                                    ? "" : toa_compare_mode_name (mode));
    snprintf (samples, sizeof samples, "%d", budget);
    memset (row, 0, sizeof *row);
    snprintf (row->method, sizeof row->method, "%s", method);
    row->mode = mode;
    row->budget = budget;
    if (unlink (path) != 0 && errno != ENOENT) {
        fprintf (stderr, "toa compare: %s: %s\n", path, strerror (errno));
        return row->exit_code = TOA_EXIT_FAILED;
    }
    char stamp[32], job[96];
    uint64_t random = toa_splitmix64 ((uint64_t) toa_wall_ms () ^ ((uint64_t) getpid () << 32)
                                      ^ (uint64_t) budget);
    toa_submit_job_id (time (NULL), (uint32_t) random, stamp, sizeof stamp);
    snprintf (job, sizeof job, "compare-%s-%s-%d", stamp, method, budget);
    toa_submit_options_t submit = {
        .config_path = options->config_path,
        .job = job,
        .input_path = options->input_path,
        .output_path = path,
        .method = method,
        .samples = samples,
        .sets = sets,
        .n_sets = n_sets,
        .endpoint = options->endpoint,
        .timeout_ms = options->timeout_ms,
        .quiet = true,
        .say_submitted = true,       /* each run's job id, for status or cancel */
        .interrupted = options->interrupted,
    };
    int64_t start = toa_now_ms ();
    row->exit_code = toa_submit_run (&submit);
    row->wall_s = (double) (toa_now_ms () - start) / 1000.0;
    if (row->exit_code == TOA_EXIT_DETACHED)
        s_cancel (options, job);
    if (row->exit_code != TOA_EXIT_OK)
        return row->exit_code;
    toa_errors_t errors = TOA_ERRORS_INIT;
    if (toa_compare_measure (path, row, &errors) != 0) {
        toa_errors_print (&errors, stderr);
        row->exit_code = TOA_EXIT_FAILED;
    }
    toa_errors_clear (&errors);
    fprintf (stderr, "toa compare: %s at budget %d (%s): %lld prompts, %.2f generations/prompt, "
             "%.1f s\n", method, budget, toa_compare_mode_name (mode), (long long) row->prompts,
             row->generations, row->wall_s);
    return row->exit_code;
}

/* Writes DIR/compare.csv. Returns 0 or -1 (message printed). */
static int
s_write_csv (const char *dir, const toa_compare_row_t *rows, size_t n, bool accuracy)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/compare.csv", dir);
    FILE *out = fopen (path, "w");
    if (!out) {
        fprintf (stderr, "toa compare: %s: %s\n", path, strerror (errno));
        return -1;
    }
    int rc = toa_compare_write_csv (out, rows, n, accuracy);
    if (fclose (out) != 0 || rc != 0) {
        fprintf (stderr, "toa compare: %s: write error\n", path);
        return -1;
    }
    return 0;
}

int
toa_compare_run (const toa_compare_options_t *options)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    int budgets[TOA_COMPARE_MAX_BUDGETS];
    const char *methods[TOA_COMPARE_MAX_METHODS];
    int n_budgets = toa_compare_parse_budgets (options->budgets, budgets, &errors);
    int n_methods = n_budgets < 0 ? -1
                                  : toa_compare_parse_methods (options->methods, methods,
                                                               &errors);
    toa_compare_mode_t modes[TOA_COMPARE_MAX_MODES];
    int n_modes = n_methods < 0 ? -1 : toa_compare_parse_modes (options->modes ? options->modes
                                                                                : "fixed",
                                                                modes, &errors);
    if (n_budgets < 0 || n_methods < 0 || n_modes < 0 || options->n_sets > S_MAX_SETS - 1) {
        if (options->n_sets > S_MAX_SETS - 1)
            toa_errors_add (&errors, "toa compare: at most %d --set flags", S_MAX_SETS - 1);
        toa_errors_print (&errors, stderr);
        toa_errors_clear (&errors);
        return TOA_EXIT_USAGE;
    }
    /* The runs' overrides: --set flags, then the reference field. */
    const char *sets[S_MAX_SETS];
    char reference[512];
    size_t n_sets = 0;
    for (size_t i = 0; i < options->n_sets; i++)
        sets[n_sets++] = options->sets[i];
    if (options->reference_field) {
        snprintf (reference, sizeof reference, "reward.reference_field=%s",
                  options->reference_field);
        sets[n_sets++] = reference;
    }
    bool accuracy = false, early = false;
    int n_models = 0;
    for (int k = 0; k < n_modes; k++)
        early = early || modes[k] != TOA_COMPARE_FIXED;
    const char *stop = options->stop_at_reward;
    if (s_reward_is_accuracy (options, sets, n_sets, &accuracy, &n_models) != 0)
        return TOA_EXIT_USAGE;
    if (!stop && early && !accuracy) {
        fprintf (stderr, "toa compare: --budget-modes stop and job need --stop-at-reward "
                 "with a reward backend other than math-verify\n");
        return TOA_EXIT_USAGE;
    }
    if (!stop)
        stop = "1";
    if (s_make_dir (options->output_dir) != 0)
        return TOA_EXIT_USAGE;
    size_t n_rows = 0, total = (size_t) n_methods * (size_t) n_budgets * (size_t) n_modes;
    toa_compare_row_t *rows = calloc (total, sizeof *rows);
    if (!rows) {
        fprintf (stderr, "toa compare: out of memory\n");
        return TOA_EXIT_FAILED;
    }
    int code = TOA_EXIT_OK;
    for (int m = 0; m < n_methods; m++)
        for (int k = 0; k < n_modes; k++)
            for (int b = 0; b < n_budgets; b++) {
                int rc = s_run_one (options, sets, n_sets, methods[m], budgets[b], modes[k],
                                    stop, n_models, &rows[n_rows++]);
                if (rc == TOA_EXIT_OK)
                    continue;
                fprintf (stderr, "toa compare: %s at budget %d (%s) did not finish (exit %d)\n",
                         methods[m], budgets[b], toa_compare_mode_name (modes[k]), rc);
                if (code == TOA_EXIT_OK)
                    code = rc;
                if (rc == TOA_EXIT_DETACHED || rc == TOA_EXIT_NO_BROKER
                    || rc == TOA_EXIT_USAGE) {
                    code = rc;       /* Ctrl-C, or every later run would end the same way */
                    m = n_methods;
                    k = n_modes;
                    break;
                }
            }
    const char *slash = strrchr (options->input_path, '/');
    char title[512];
    snprintf (title, sizeof title, "%s: %s", slash ? slash + 1 : options->input_path,
              accuracy ? "best response correct (math-verify)" : "best response reward");
    printf ("%s\n", title);
    toa_compare_print_table (stdout, rows, n_rows, accuracy);
    fflush (stdout);
    if (n_rows > 0 && s_write_csv (options->output_dir, rows, n_rows, accuracy) != 0
        && code == TOA_EXIT_OK)
        code = TOA_EXIT_FAILED;
    if (n_rows > 0)
        s_plot (options->output_dir, rows, n_rows, accuracy, title);
    free (rows);
    return code;
}
