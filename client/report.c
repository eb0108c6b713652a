/* report.c - `toa report`: a results file summarized (see report.h). */
#include "client/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/exit_codes.h"
#include "client/gnuplot.h"
#include "client/results.h"

toa_report_t *
toa_report_new (void)
{
    return calloc (1, sizeof (toa_report_t));
}

void
toa_report_destroy (toa_report_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_report_t *self = *self_p;
    for (size_t i = 0; i < self->n_models; i++) {
        free (self->models[i].name);
        free (self->models[i].rewards);
    }
    free (self->models);
    free (self);
    *self_p = NULL;
}

/* The model NAME, added when new; NULL when out of memory. */
static toa_report_model_t *
s_model (toa_report_t *self, const char *name)
{
    for (size_t i = 0; i < self->n_models; i++)
        if (strcmp (self->models[i].name, name) == 0)
            return &self->models[i];
    if (self->n_models == self->models_capacity) {
        size_t capacity = self->models_capacity ? self->models_capacity * 2 : 8;
        toa_report_model_t *models = realloc (self->models, capacity * sizeof *models);
        if (!models)
            return NULL;
        self->models = models;
        self->models_capacity = capacity;
    }
    toa_report_model_t *model = &self->models[self->n_models];
    memset (model, 0, sizeof *model);
    if (!(model->name = strdup (name)))
        return NULL;
    self->n_models++;
    return model;
}

static int
s_add_reward (toa_report_model_t *model, double reward)
{
    if (model->n_rewards == model->rewards_capacity) {
        size_t capacity = model->rewards_capacity ? model->rewards_capacity * 2 : 16;
        double *rewards = realloc (model->rewards, capacity * sizeof *rewards);
        if (!rewards)
            return -1;
        model->rewards = rewards;
        model->rewards_capacity = capacity;
    }
    model->rewards[model->n_rewards++] = reward;
    return 0;
}

/* Counts the failures of RESULT by stage. */
static void
s_add_failures (toa_report_t *self, const json_t *result)
{
    const json_t *failures = json_object_get (result, "failures");
    size_t index;
    const json_t *failure;
    json_array_foreach (failures, index, failure) {
        const char *stage = json_string_value (json_object_get (failure, "stage"));
        self->failures++;
        if (stage && strcmp (stage, "generation") == 0)
            self->failures_generation++;
        else if (stage && strcmp (stage, "scoring") == 0)
            self->failures_scoring++;
        else
            self->failures_prompt++;
    }
    if (json_array_size (failures) > 0)
        self->prompts_with_failures++;
}

/* TOA: the tree's depth (1 + the deepest response node), 0 without one. */
static size_t
s_tree_depth (const json_t *result)
{
    const json_t *nodes = json_object_get (json_object_get (result, "tree"), "nodes");
    size_t index, depth = 0;
    const json_t *node;
    json_array_foreach (nodes, index, node) {
        const char *kind = json_string_value (json_object_get (node, "kind"));
        const json_t *d = json_object_get (node, "depth");
        if (kind && strcmp (kind, "response") == 0 && json_is_integer (d)
            && json_integer_value (d) >= 0 && (size_t) json_integer_value (d) + 1 > depth)
            depth = (size_t) json_integer_value (d) + 1;
    }
    return depth;
}

int
toa_report_add (toa_report_t *self, const json_t *result)
{
    const json_t *actions = json_object_get (result, "actions");
    const json_t *responses = json_object_get (result, "responses");
    const json_t *rewards = json_object_get (result, "rewards");
    const json_t *prompt_tokens = json_object_get (result, "n_prompt_tokens");
    const json_t *completion_tokens = json_object_get (result, "n_completion_tokens");
    const char *method = json_string_value (json_object_get (result, "method"));
    bool toa = method && strcmp (method, "toa") == 0;
    size_t generations = json_array_size (actions);
    self->prompts++;
    self->generations += generations;
    if (self->prompts == 1 || generations < self->min_generations)
        self->min_generations = generations;
    if (generations > self->max_generations)
        self->max_generations = generations;
    for (size_t i = 0; i < generations; i++) {
        const json_t *action = json_array_get (actions, i);
        const char *name = json_string_value (json_object_get (action, "model"));
        toa_report_model_t *model = s_model (self, name ? name : "?");
        if (!model)
            return -1;
        model->generations++;
        if (json_is_string (json_array_get (responses, i))) {
            model->responses++;
            self->responses++;
        }
        const json_t *reward = json_array_get (rewards, i);
        if (json_is_number (reward)) {
            self->scored++;
            if (s_add_reward (model, json_number_value (reward)) != 0)
                return -1;
        }
        const json_t *p = json_array_get (prompt_tokens, i);
        const json_t *c = json_array_get (completion_tokens, i);
        if (json_is_integer (p) || json_is_integer (c)) {
            model->has_tokens = true;
            model->prompt_tokens += json_is_integer (p) ? json_integer_value (p) : 0;
            model->completion_tokens += json_is_integer (c) ? json_integer_value (c) : 0;
        }
        if (toa) {
            self->toa_actions++;
            const json_t *depth = json_object_get (action, "depth");
            if (json_is_integer (depth) && json_integer_value (depth) > 0)
                self->toa_refinements++;
        }
    }
    const char *best = json_string_value (json_object_get (result, "best_model"));
    if (best) {
        toa_report_model_t *model = s_model (self, best);
        if (!model)
            return -1;
        model->best++;
        self->with_best++;
    }
    s_add_failures (self, result);
    if (toa) {
        self->toa_prompts++;
        size_t depth = s_tree_depth (result);
        if (depth > 0) {
            self->toa_trees++;
            self->toa_depth_sum += depth;
        }
    }
    return 0;
}

static int
s_compare_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y ? 1 : 0;
}

void
toa_report_finish (toa_report_t *self)
{
    for (size_t i = 0; i < self->n_models; i++)
        qsort (self->models[i].rewards, self->models[i].n_rewards, sizeof (double),
               s_compare_double);
}

double
toa_report_quantile (const double *sorted, size_t n, double q)
{
    if (n == 0)
        return NAN;
    if (q <= 0)
        return sorted[0];
    if (q >= 1)
        return sorted[n - 1];
    double at = q * (double) (n - 1);
    size_t low = (size_t) floor (at);
    double fraction = at - (double) low;
    if (low + 1 >= n)
        return sorted[n - 1];
    return sorted[low] + fraction * (sorted[low + 1] - sorted[low]);
}

static int
s_add_one (void *arg, const json_t *result, long line)
{
    (void) line;
    return toa_report_add (arg, result) != 0 ? 1 : 0;
}

int
toa_report_read (toa_report_t *self, const char *input, toa_errors_t *errors)
{
    toa_results_counts_t lines;
    int rc = toa_results_each (input, s_add_one, self, &lines, errors);
    if (rc > 0)
        toa_errors_add (errors, "%s: out of memory", input);
    self->duplicates += lines.duplicates;
    self->bad += lines.bad;
    toa_report_finish (self);
    return rc != 0 ? -1 : 0;
}

/* --- output ---------------------------------------------------------------- */

static const double s_quantiles[] = {0.10, 0.25, 0.50, 0.75, 0.90};
static const char *const s_quantile_names[] = {"p10", "p25", "p50", "p75", "p90"};
#define S_N_QUANTILES (sizeof s_quantiles / sizeof *s_quantiles)

static double
s_share (size_t part, size_t whole)
{
    return whole ? (double) part / (double) whole : 0;
}

static double
s_mean (const double *values, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += values[i];
    return n ? sum / (double) n : NAN;
}

/* A number, or null when it is not finite (no rewards). */
static json_t *
s_real (double value)
{
    return isfinite (value) ? json_real (value) : json_null ();
}

static json_t *
s_model_json (const toa_report_t *self, const toa_report_model_t *model)
{
    json_t *rewards = json_pack ("{s:I, s:o, s:o, s:o}", "n", (json_int_t) model->n_rewards,
                                 "min", s_real (toa_report_quantile (model->rewards,
                                                                     model->n_rewards, 0)),
                                 "max", s_real (toa_report_quantile (model->rewards,
                                                                     model->n_rewards, 1)),
                                 "mean", s_real (s_mean (model->rewards, model->n_rewards)));
    for (size_t q = 0; rewards && q < S_N_QUANTILES; q++)
        json_object_set_new (rewards, s_quantile_names[q],
                             s_real (toa_report_quantile (model->rewards, model->n_rewards,
                                                          s_quantiles[q])));
    return json_pack ("{s:s, s:I, s:I, s:f, s:I, s:f, s:o, s:o, s:o}", "model", model->name,
                      "generations", (json_int_t) model->generations,
                      "responses", (json_int_t) model->responses,
                      "share_of_responses", s_share (model->responses, self->responses),
                      "best", (json_int_t) model->best,
                      "share_of_best", s_share (model->best, self->with_best),
                      "rewards", rewards,
                      "prompt_tokens", model->has_tokens
                                           ? json_integer (model->prompt_tokens) : json_null (),
                      "completion_tokens", model->has_tokens
                                               ? json_integer (model->completion_tokens)
                                               : json_null ());
}

json_t *
toa_report_json (const toa_report_t *self)
{
    json_t *models = json_array ();
    for (size_t i = 0; models && i < self->n_models; i++)
        json_array_append_new (models, s_model_json (self, &self->models[i]));
    json_t *toa = self->toa_prompts == 0 ? json_null () : json_pack (
        "{s:I, s:o, s:I, s:I, s:f}", "prompts", (json_int_t) self->toa_prompts,
        "mean_tree_depth", self->toa_trees ? json_real ((double) self->toa_depth_sum
                                                        / (double) self->toa_trees)
                                           : json_null (),
        "actions", (json_int_t) self->toa_actions,
        "refinements", (json_int_t) self->toa_refinements,
        "refinement_share", s_share (self->toa_refinements, self->toa_actions));
    return json_pack (
        "{s:I, s:I, s:I, s:I, s:I, s:{s:f, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I}, s:I, "
        "s:o, s:o}",
        "prompts", (json_int_t) self->prompts, "generations", (json_int_t) self->generations,
        "responses", (json_int_t) self->responses, "scored", (json_int_t) self->scored,
        "duplicates", (json_int_t) self->duplicates,
        "generations_per_prompt",
        "mean", self->prompts ? (double) self->generations / (double) self->prompts : 0.0,
        "min", (json_int_t) self->min_generations, "max", (json_int_t) self->max_generations,
        "failures", "total", (json_int_t) self->failures,
        "generation", (json_int_t) self->failures_generation,
        "scoring", (json_int_t) self->failures_scoring,
        "prompt", (json_int_t) self->failures_prompt,
        "prompts_with_failures", (json_int_t) self->prompts_with_failures,
        "prompts_with_best", (json_int_t) self->with_best, "toa", toa, "models", models);
}

/* "  0.123" or "      -" for a missing value, in WIDTH columns. */
static void
s_cell (FILE *out, double value, int width)
{
    if (isfinite (value))
        fprintf (out, " %*.3g", width, value);
    else
        fprintf (out, " %*s", width, "-");
}

int
toa_report_write_text (const toa_report_t *self, const char *input, FILE *out)
{
    fprintf (out, "results:            %s\n", input);
    fprintf (out, "prompts:            %zu", self->prompts);
    if (self->duplicates)
        fprintf (out, " (%zu duplicate lines not counted)", self->duplicates);
    fprintf (out, "\ngenerations:        %zu (%.2f per prompt, min %zu, max %zu)\n",
             self->generations,
             self->prompts ? (double) self->generations / (double) self->prompts : 0.0,
             self->min_generations, self->max_generations);
    fprintf (out, "responses:          %zu (%zu scored)\n", self->responses, self->scored);
    fprintf (out, "failures:           %zu in %zu prompts (generation %zu, scoring %zu, "
                  "prompt %zu)\n", self->failures, self->prompts_with_failures,
             self->failures_generation, self->failures_scoring, self->failures_prompt);
    if (self->toa_prompts) {
        fprintf (out, "TOA:                %zu prompts, mean tree depth ", self->toa_prompts);
        if (self->toa_trees)
            fprintf (out, "%.2f", (double) self->toa_depth_sum / (double) self->toa_trees);
        else
            fprintf (out, "-");
        fprintf (out, ", refinements %zu of %zu actions (%.0f%%)\n", self->toa_refinements,
                 self->toa_actions, 100 * s_share (self->toa_refinements, self->toa_actions));
    }
    fprintf (out, "\n%-20s %9s %6s %5s %6s %7s", "model", "responses", "share", "best",
             "share", "scored");
    for (size_t q = 0; q < S_N_QUANTILES; q++)
        fprintf (out, " %7s", s_quantile_names[q]);
    fprintf (out, " %7s %11s %11s\n", "mean", "prompt_tok", "complet_tok");
    for (size_t i = 0; i < self->n_models; i++) {
        const toa_report_model_t *m = &self->models[i];
        fprintf (out, "%-20s %9zu %5.0f%% %5zu %5.0f%% %7zu", m->name, m->responses,
                 100 * s_share (m->responses, self->responses), m->best,
                 100 * s_share (m->best, self->with_best), m->n_rewards);
        for (size_t q = 0; q < S_N_QUANTILES; q++)
            s_cell (out, toa_report_quantile (m->rewards, m->n_rewards, s_quantiles[q]), 7);
        s_cell (out, s_mean (m->rewards, m->n_rewards), 7);
        if (m->has_tokens)
            fprintf (out, " %11lld %11lld\n", (long long) m->prompt_tokens,
                     (long long) m->completion_tokens);
        else
            fprintf (out, " %11s %11s\n", "-", "-");
    }
    return ferror (out) ? -1 : 0;
}

/* TEXT as a double-quoted gnuplot data column (quotes and newlines dropped). */
static void
s_gp_column (FILE *out, const char *text)
{
    fputc ('"', out);
    for (const char *c = text; *c; c++)
        if (*c != '"' && *c != '\n' && *c != '\r')
            fputc (*c, out);
    fputc ('"', out);
}

int
toa_report_write_plot (const toa_report_t *self, FILE *out, const char *terminal,
                       const char *png_path, const char *title)
{
    fprintf (out, "# gnuplot script written by toa report: gnuplot THIS_FILE\n");
    fprintf (out, "set terminal %s size 1100,520 noenhanced\nset output ", terminal);
    toa_gnuplot_quote (out, png_path);
    fprintf (out, "\n$d << EOD\n");
    size_t rows = 0;
    for (size_t i = 0; i < self->n_models; i++) {
        const toa_report_model_t *m = &self->models[i];
        s_gp_column (out, m->name);
        fprintf (out, " %.6g", 100 * s_share (m->best, self->with_best));
        for (size_t q = 0; q < S_N_QUANTILES; q++) {
            double value = toa_report_quantile (m->rewards, m->n_rewards, s_quantiles[q]);
            fprintf (out, isfinite (value) ? " %.6g" : " NaN", value);
        }
        fprintf (out, "\n");
        rows++;
    }
    fprintf (out, "EOD\n");
    fprintf (out, "set multiplot layout 1,2 title ");
    toa_gnuplot_quote (out, title);
    fprintf (out, "\nset grid ytics\nset xrange [-0.6:%zu.6]\nset boxwidth 0.5\n"
                  "set style fill solid 0.4 border -1\nset xtics rotate by -30\n",
             rows ? rows - 1 : 0);
    if (rows == 0)
        fprintf (out, "set label 'no responses' at graph 0.4, graph 0.5\n");
    fprintf (out, "set title 'reward per model (p10, p25, median, p75, p90)'\n"
                  "set ylabel 'raw reward'\nset offsets 0, 0, graph 0.05, graph 0.05\n"
                  "plot $d using 0:4:3:7:6:xtic(1) with candlesticks whiskerbars "
                  "linecolor rgb '#4477aa' notitle, \\\n"
                  "     $d using 0:5:5:5:5 with candlesticks linewidth 2 "
                  "linecolor rgb 'black' notitle\n");
    fprintf (out, "set title 'share of best responses'\nset ylabel 'percent of prompts'\n"
                  "set yrange [0:100]\nset offsets 0, 0, 0, 0\n"
                  "plot $d using 0:2:xtic(1) with boxes linecolor rgb '#228833' notitle, \\\n"
                  "     $d using 0:2:(sprintf('%%.0f%%%%', $2)) with labels offset 0,1 "
                  "notitle\n");
    fprintf (out, "unset multiplot\n");
    return ferror (out) ? -1 : 0;
}

int
toa_report_png (const toa_report_t *self, const char *png_path, const char *title,
                toa_errors_t *errors)
{
    size_t size = strlen (png_path) + 4;
    char *script = malloc (size);
    if (!script) {
        toa_errors_add (errors, "out of memory");
        return -1;
    }
    snprintf (script, size, "%s.gp", png_path);
    const char *terminals[] = {"pngcairo", "png"};
    int rc = -1;
    for (size_t t = 0; t < 2 && rc != 0; t++) {
        FILE *out = fopen (script, "w");
        if (!out) {
            toa_errors_add (errors, "%s: cannot write: %s", script, strerror (errno));
            break;
        }
        int written = toa_report_write_plot (self, out, terminals[t], png_path, title);
        if (fclose (out) != 0 || written != 0) {
            toa_errors_add (errors, "%s: write error", script);
            break;
        }
        int status = toa_gnuplot_run (script);
        if (status == 0)
            rc = 0;
        else if (status < 0) {
            toa_errors_add (errors, "cannot run gnuplot (%s): install gnuplot (Debian: "
                            "gnuplot-nox) for --png; the script is %s", strerror (errno),
                            script);
            break;
        }
        else if (t == 1)
            toa_errors_add (errors, "gnuplot failed on %s; no plot", script);
    }
    free (script);
    return rc;
}

/* --- the command ----------------------------------------------------------- */

static const char *s_usage =
    "usage: toa report RESULTS.jsonl [--png FILE] [--json]\n"
    "\n"
    "Summarizes a results file: prompts, generations per prompt, responses,\n"
    "failures by stage, and per model its responses and share of them, the\n"
    "prompts whose best response it made and that share, its raw rewards\n"
    "(count, p10, p25, median, p75, p90, mean; quantiles interpolated as\n"
    "numpy.quantile does) and tokens. For TOA results: the mean tree depth\n"
    "(1 + the deepest response's depth in the tree) and the share of actions\n"
    "that refine a response. A prompt id seen twice counts once.\n"
    "\n"
    "  --png FILE   also draw the reward distribution per model and the share of\n"
    "               best responses with gnuplot (the script is kept as FILE.gp)\n"
    "  --json       print the report as one JSON object instead of text\n";

int
toa_report_command (int argc, char **argv)
{
    const char *input = NULL, *png = NULL;
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0) {
            fputs (s_usage, stdout);
            return TOA_EXIT_OK;
        }
        if (strcmp (argv[i], "--json") == 0)
            as_json = true;
        else if (strcmp (argv[i], "--png") == 0 && i + 1 < argc)
            png = argv[++i];
        else if (strncmp (argv[i], "--png=", 6) == 0)
            png = argv[i] + 6;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf (stderr, "toa report: unknown option or missing value: %s\n\n%s", argv[i],
                     s_usage);
            return TOA_EXIT_USAGE;
        }
        else if (!input)
            input = argv[i];
        else {
            fprintf (stderr, "toa report: unexpected argument '%s'\n\n%s", argv[i], s_usage);
            return TOA_EXIT_USAGE;
        }
    }
    if (!input || (png && !*png)) {
        fprintf (stderr, "toa report: %s\n\n%s", input ? "--png needs a file name"
                                                       : "the RESULTS.jsonl file is required",
                 s_usage);
        return TOA_EXIT_USAGE;
    }
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_report_t *report = toa_report_new ();
    int code = TOA_EXIT_OK;
    if (!report || toa_report_read (report, input, &errors) != 0)
        code = report && report->prompts == 0 && report->bad == 0 ? TOA_EXIT_USAGE
                                                                   : TOA_EXIT_FAILED;
    else if (as_json) {
        json_t *json = toa_report_json (report);
        if (!json || json_dumpf (json, stdout, JSON_INDENT (1) | JSON_REAL_PRECISION (6)) != 0)
            code = TOA_EXIT_FAILED;
        fputc ('\n', stdout);
        json_decref (json);
    }
    else if (toa_report_write_text (report, input, stdout) != 0)
        code = TOA_EXIT_FAILED;
    if (code == TOA_EXIT_OK && png) {
        const char *base = strrchr (input, '/');
        char title[512];
        snprintf (title, sizeof title, "toa report: %s (%zu prompts)", base ? base + 1 : input,
                  report->prompts);
        if (toa_report_png (report, png, title, &errors) == 0)
            fprintf (stderr, "toa report: plot in %s\n", png);
        else
            code = TOA_EXIT_FAILED;
    }
    toa_errors_print (&errors, stderr);
    toa_errors_clear (&errors);
    toa_report_destroy (&report);
    return code;
}
