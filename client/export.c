/* export.c - SFT and DPO training sets from toa result lines (see export.h). */
#include "client/export.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/results.h"

/* The prompt as chat messages: a copy of "messages", or one user message
 * with "instruction". NULL when the result has neither. */
static json_t *
s_prompt_messages (const json_t *result)
{
    json_t *messages = json_object_get (result, "messages");
    if (json_is_array (messages) && json_array_size (messages) > 0)
        return json_deep_copy (messages);
    json_t *instruction = json_object_get (result, "instruction");
    if (!json_is_string (instruction))
        return NULL;
    return json_pack ("[{s:s, s:O}]", "role", "user", "content", instruction);
}

static json_t *
s_assistant (const json_t *text)
{
    return json_pack ("{s:s, s:O}", "role", "assistant", "content", text);
}

int
toa_export_parse_rejected (const char *rule, toa_export_options_t *options)
{
    char *end = NULL;
    if (strcmp (rule, "paper") == 0)
        options->rejected = TOA_EXPORT_REJECT_PAPER;
    else if (strcmp (rule, "worst") == 0)
        options->rejected = TOA_EXPORT_REJECT_WORST;
    else if (strncmp (rule, "rank:", 5) == 0) {
        errno = 0;
        long k = strtol (rule + 5, &end, 10);
        if (errno || end == rule + 5 || *end || k < 2)
            return -1;
        options->rejected = TOA_EXPORT_REJECT_RANK;
        options->rank = k;
    }
    else if (strncmp (rule, "quantile:", 9) == 0) {
        double q = strtod (rule + 9, &end);
        if (end == rule + 9 || *end || !(q > 0 && q <= 1))
            return -1;
        options->rejected = TOA_EXPORT_REJECT_QUANTILE;
        options->quantile = q;
    }
    else
        return -1;
    return 0;
}

size_t
toa_export_rejected_rank (const toa_export_options_t *options, size_t n)
{
    if (n < 2)
        return 1;
    double k;
    switch (options->rejected) {
    case TOA_EXPORT_REJECT_WORST: k = (double) n; break;
    case TOA_EXPORT_REJECT_RANK: k = (double) options->rank; break;
    case TOA_EXPORT_REJECT_QUANTILE: k = 1 + ceil (options->quantile * (double) (n - 1) - 1e-9);
        break;
    default: k = ceil ((double) n * 30.0 / 160.0 - 1e-9); break;
    }
    if (k < 2)
        k = 2;
    return k > (double) n ? n : (size_t) k;
}

typedef struct {
    size_t index;            /* in responses */
    double reward;
} s_ranked_t;

/* Best first; equal rewards in generation order. */
static int
s_by_reward (const void *a, const void *b)
{
    const s_ranked_t *x = a, *y = b;
    if (x->reward != y->reward)
        return x->reward > y->reward ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The scored responses (a text and a numeric reward), best first, in new
 * memory; their number in *N. NULL when none (or out of memory). */
static s_ranked_t *
s_rank (const json_t *responses, const json_t *rewards, size_t *n)
{
    *n = 0;
    size_t count = json_array_size (responses);
    if (json_array_size (rewards) < count)
        count = json_array_size (rewards);
    s_ranked_t *ranked = count ? malloc (count * sizeof *ranked) : NULL;
    for (size_t i = 0; ranked && i < count; i++) {
        json_t *reward = json_array_get (rewards, i);
        if (json_is_number (reward) && json_is_string (json_array_get (responses, i)))
            ranked[(*n)++] = (s_ranked_t) {i, json_number_value (reward)};
    }
    if (ranked && *n == 0) {
        free (ranked);
        return NULL;
    }
    if (ranked)
        qsort (ranked, *n, sizeof *ranked, s_by_reward);
    return ranked;
}

static json_t *
s_sft_line (const json_t *prompt, const json_t *best_text)
{
    json_t *messages = json_deep_copy (prompt);
    json_t *line = NULL;
    if (messages && json_array_append_new (messages, s_assistant (best_text)) == 0)
        line = json_pack ("{s:O}", "messages", messages);
    json_decref (messages);
    return line;
}

/* The model of response I ("actions"[I].model), or null. */
static json_t *
s_model_of (const json_t *result, size_t i)
{
    json_t *model = json_object_get (json_array_get (json_object_get (result, "actions"), i),
                                     "model");
    return json_is_string (model) ? json_incref (model) : json_null ();
}

static json_t *
s_dpo_line (const json_t *result, const json_t *prompt, const s_ranked_t *chosen,
            const s_ranked_t *rejected)
{
    const json_t *responses = json_object_get (result, "responses");
    return json_pack ("{s:O, s:[o], s:[o], s:f, s:f, s:o, s:o}", "prompt", prompt,
                      "chosen", s_assistant (json_array_get (responses, chosen->index)),
                      "rejected", s_assistant (json_array_get (responses, rejected->index)),
                      "chosen_rating", chosen->reward, "rejected_rating", rejected->reward,
                      "chosen_model", s_model_of (result, chosen->index),
                      "rejected_model", s_model_of (result, rejected->index));
}

toa_export_outcome_t
toa_export_result (const json_t *result, const toa_export_options_t *options, json_t **sft,
                   json_t **dpo)
{
    *sft = *dpo = NULL;
    json_t *prompt = s_prompt_messages (result);
    if (!prompt)
        return TOA_EXPORT_BAD;
    json_t *responses = json_object_get (result, "responses");
    json_t *rewards = json_object_get (result, "rewards");
    size_t scored = 0;
    s_ranked_t *ranked = s_rank (responses, rewards, &scored);
    toa_export_outcome_t outcome;
    if (!ranked) {
        /* no per-response data: SFT from best_response when there is one */
        json_t *best_text = json_object_get (result, "best_response");
        if (json_is_string (best_text) && !json_is_array (responses)) {
            *sft = s_sft_line (prompt, best_text);
            outcome = TOA_EXPORT_SINGLE;
        }
        else
            outcome = TOA_EXPORT_NO_RESPONSE;
        json_decref (prompt);
        return outcome;
    }
    const s_ranked_t *chosen = &ranked[0];
    const s_ranked_t *rejected = &ranked[toa_export_rejected_rank (options, scored) - 1];
    json_t *chosen_text = json_array_get (responses, chosen->index);
    *sft = s_sft_line (prompt, chosen_text);
    if (scored < 2)
        outcome = TOA_EXPORT_SINGLE;
    else if (!(chosen->reward - rejected->reward > options->min_margin)
             || json_equal (chosen_text, json_array_get (responses, rejected->index)))
        outcome = TOA_EXPORT_TIE;
    else {
        *dpo = s_dpo_line (result, prompt, chosen, rejected);
        outcome = TOA_EXPORT_PAIR;
    }
    free (ranked);
    json_decref (prompt);
    return outcome;
}

/* Writes LINE (may be NULL: nothing to write) to FILE. Returns 0 or -1. */
static int
s_write_line (FILE *file, const json_t *line, size_t *count)
{
    if (!file || !line)
        return 0;
    char *text = json_dumps (line, JSON_COMPACT);
    int rc = text && fputs (text, file) != EOF && fputc ('\n', file) != EOF ? 0 : -1;
    free (text);
    if (rc == 0)
        (*count)++;
    return rc;
}

/* What the export of one file needs for each result. */
typedef struct {
    const char *input;
    const toa_export_options_t *options;
    FILE *sft_file, *dpo_file;
    toa_export_counts_t *counts;
    toa_errors_t *errors;
} s_export_t;

/* Exports one result (a toa_results_fn); 1 on a write error. */
static int
s_export_one (void *arg, const json_t *result, long number)
{
    s_export_t *export = arg;
    toa_export_counts_t *counts = export->counts;
    json_t *sft = NULL, *dpo = NULL;
    switch (toa_export_result (result, export->options, &sft, &dpo)) {
    case TOA_EXPORT_PAIR: break;
    case TOA_EXPORT_TIE: counts->ties++; break;
    case TOA_EXPORT_SINGLE: counts->single++; break;
    case TOA_EXPORT_NO_RESPONSE: counts->no_response++; break;
    case TOA_EXPORT_BAD:
        toa_errors_add (export->errors, "%s:%ld: no \"messages\" or \"instruction\"; skipped",
                        export->input, number);
        counts->bad++;
        break;
    }
    int rc = s_write_line (export->sft_file, sft, &counts->sft)
             | s_write_line (export->dpo_file, dpo, &counts->dpo);
    json_decref (sft);
    json_decref (dpo);
    return rc != 0 ? 1 : 0;
}

/* One output: written to TMP beside PATH, moved into place when complete. */
typedef struct {
    const char *path;        /* NULL: not wanted */
    char *tmp;
    FILE *file;
} s_out_t;

/* Opens the temporary file of OUT->path. Returns 0 or -1 (reported). */
static int
s_out_open (s_out_t *out, bool force, toa_errors_t *errors)
{
    if (!out->path)
        return 0;
    struct stat st;
    if (lstat (out->path, &st) == 0) {
        if (S_ISDIR (st.st_mode)) {
            toa_errors_add (errors, "%s: is a directory", out->path);
            return -1;
        }
        if (!force) {
            toa_errors_add (errors, "%s: exists; not replaced (use --force to replace it)",
                            out->path);
            return -1;
        }
    }
    size_t size = strlen (out->path) + sizeof ".tmp.XXXXXX";
    if (!(out->tmp = malloc (size))) {
        toa_errors_add (errors, "out of memory");
        return -1;
    }
    snprintf (out->tmp, size, "%s.tmp.XXXXXX", out->path);
    int fd = mkstemp (out->tmp);
    if (fd < 0) {
        toa_errors_add (errors, "%s: cannot write beside it: %s", out->path, strerror (errno));
        free (out->tmp);
        out->tmp = NULL;
        return -1;
    }
    mode_t mask = umask (0);
    umask (mask);
    if (fchmod (fd, 0666 & ~mask) != 0 || !(out->file = fdopen (fd, "w"))) {
        toa_errors_add (errors, "%s: %s", out->tmp, strerror (errno));
        close (fd);
        return -1;
    }
    return 0;
}

/* Flushes, syncs and closes OUT's temporary file. Returns RC, or -1 when
 * that fails (reported). */
static int
s_out_close (s_out_t *out, int rc, toa_errors_t *errors)
{
    if (!out->file)
        return rc;
    if (rc == 0 && (fflush (out->file) != 0 || fsync (fileno (out->file)) != 0)) {
        toa_errors_add (errors, "%s: write failed: %s", out->path, strerror (errno));
        rc = -1;
    }
    if (fclose (out->file) != 0 && rc == 0) {
        toa_errors_add (errors, "%s: write failed: %s", out->path, strerror (errno));
        rc = -1;
    }
    out->file = NULL;
    return rc;
}

/* Moves OUT's temporary file into place when RC is 0 (replacing the path,
 * itself and never what a symlink points to, only when FORCE), and removes
 * it otherwise. Returns RC, or -1 when the move fails (reported). */
static int
s_out_publish (s_out_t *out, int rc, bool force, toa_errors_t *errors)
{
    if (!out->tmp)
        return rc;
    if (rc == 0) {
        /* link() refuses an existing path: no clobbering between the check
         * at open and now */
        int moved = force ? rename (out->tmp, out->path) : link (out->tmp, out->path);
        if (moved != 0) {
            toa_errors_add (errors, "%s: %s", out->path,
                            errno == EEXIST ? "appeared meanwhile; not replaced (use --force)"
                                            : strerror (errno));
            rc = -1;
        }
    }
    if (rc != 0 || !force)
        unlink (out->tmp);
    free (out->tmp);
    out->tmp = NULL;
    return rc;
}

int
toa_export_files (const char *input, const char *sft_path, const char *dpo_path,
                  const toa_export_options_t *options, toa_export_counts_t *counts,
                  toa_errors_t *errors)
{
    memset (counts, 0, sizeof *counts);
    if (sft_path && dpo_path && strcmp (sft_path, dpo_path) == 0) {
        toa_errors_add (errors, "%s: named for both SFT and DPO", sft_path);
        return -1;
    }
    if (access (input, R_OK) != 0) {
        toa_errors_add (errors, "%s: cannot read: %s", input, strerror (errno));
        return -1;
    }
    s_out_t sft = {.path = sft_path}, dpo = {.path = dpo_path};
    int rc = s_out_open (&sft, options->force, errors) != 0
             || s_out_open (&dpo, options->force, errors) != 0 ? -1 : 0;
    if (rc == 0) {
        s_export_t export = {input, options, sft.file, dpo.file, counts, errors};
        toa_results_counts_t lines;
        rc = toa_results_each (input, s_export_one, &export, &lines, errors);
        if (rc > 0)
            toa_errors_add (errors, "%s: write failed: %s", sft_path ? sft_path : dpo_path,
                            strerror (errno));
        rc = rc != 0 ? -1 : 0;
        counts->results = lines.objects;
        counts->duplicates = lines.duplicates;
        counts->bad += lines.bad;
    }
    rc = s_out_close (&sft, rc, errors);
    rc = s_out_close (&dpo, rc, errors);
    rc = s_out_publish (&sft, rc, options->force, errors);
    rc = s_out_publish (&dpo, rc, options->force, errors);
    return rc;
}
