/* export.c - SFT and DPO training sets from toa result lines (see export.h). */
#include "client/export.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/prompts.h"

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

/* Indexes of the best and worst scored responses; false when none is scored. */
static bool
s_best_and_worst (const json_t *responses, const json_t *rewards, size_t *best,
                  size_t *worst, size_t *scored)
{
    *scored = 0;
    size_t n = json_array_size (responses);
    if (json_array_size (rewards) < n)
        n = json_array_size (rewards);
    for (size_t i = 0; i < n; i++) {
        json_t *reward = json_array_get (rewards, i);
        if (!json_is_number (reward) || !json_is_string (json_array_get (responses, i)))
            continue;
        double value = json_number_value (reward);
        if (*scored == 0 || value > json_number_value (json_array_get (rewards, *best)))
            *best = i;
        if (*scored == 0 || value < json_number_value (json_array_get (rewards, *worst)))
            *worst = i;
        (*scored)++;
    }
    return *scored > 0;
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

static json_t *
s_dpo_line (const json_t *prompt, const json_t *chosen, const json_t *rejected)
{
    return json_pack ("{s:O, s:[o], s:[o]}", "prompt", prompt, "chosen", s_assistant (chosen),
                      "rejected", s_assistant (rejected));
}

toa_export_outcome_t
toa_export_result (const json_t *result, double min_margin, json_t **sft, json_t **dpo)
{
    *sft = *dpo = NULL;
    json_t *prompt = s_prompt_messages (result);
    if (!prompt)
        return TOA_EXPORT_BAD;
    json_t *responses = json_object_get (result, "responses");
    json_t *rewards = json_object_get (result, "rewards");
    size_t best = 0, worst = 0, scored = 0;
    toa_export_outcome_t outcome;
    if (!s_best_and_worst (responses, rewards, &best, &worst, &scored)) {
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
    json_t *best_text = json_array_get (responses, best);
    json_t *worst_text = json_array_get (responses, worst);
    *sft = s_sft_line (prompt, best_text);
    double margin = json_number_value (json_array_get (rewards, best))
                    - json_number_value (json_array_get (rewards, worst));
    if (scored < 2)
        outcome = TOA_EXPORT_SINGLE;
    else if (!(margin > min_margin) || json_equal (best_text, worst_text))
        outcome = TOA_EXPORT_TIE;
    else {
        *dpo = s_dpo_line (prompt, best_text, worst_text);
        outcome = TOA_EXPORT_PAIR;
    }
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

/* Exports one line of the input; returns -1 on a write error. */
static int
s_export_line (const char *input, long number, const char *line, size_t length,
               double min_margin, json_t *seen, FILE *sft_file, FILE *dpo_file,
               toa_export_counts_t *counts, toa_errors_t *errors)
{
    json_error_t error;
    json_t *result = json_loadb (line, length, 0, &error);
    if (!json_is_object (result)) {
        toa_errors_add (errors, "%s:%ld: not a JSON object (%s)", input, number,
                        result ? "other JSON value" : error.text);
        counts->bad++;
        json_decref (result);
        return 0;
    }
    counts->results++;
    char key[TOA_PROMPTS_MAX_ID + 1];
    if (toa_prompt_id_text (result, key, sizeof key)) {
        if (json_object_get (seen, key)) {
            counts->duplicates++;
            json_decref (result);
            return 0;
        }
        json_object_set_new (seen, key, json_true ());
    }
    json_t *sft = NULL, *dpo = NULL;
    switch (toa_export_result (result, min_margin, &sft, &dpo)) {
    case TOA_EXPORT_PAIR: break;
    case TOA_EXPORT_TIE: counts->ties++; break;
    case TOA_EXPORT_SINGLE: counts->single++; break;
    case TOA_EXPORT_NO_RESPONSE: counts->no_response++; break;
    case TOA_EXPORT_BAD:
        toa_errors_add (errors, "%s:%ld: no \"messages\" or \"instruction\"; skipped", input,
                        number);
        counts->bad++;
        break;
    }
    int rc = s_write_line (sft_file, sft, &counts->sft) | s_write_line (dpo_file, dpo,
                                                                        &counts->dpo);
    json_decref (sft);
    json_decref (dpo);
    json_decref (result);
    return rc;
}

static FILE *
s_open_out (const char *path, toa_errors_t *errors)
{
    if (!path)
        return NULL;
    FILE *file = fopen (path, "w");
    if (!file)
        toa_errors_add (errors, "%s: cannot write: %s", path, strerror (errno));
    return file;
}

static int
s_close_out (FILE *file, const char *path, int rc, toa_errors_t *errors)
{
    if (!file)
        return rc;
    if (fclose (file) != 0 && rc == 0) {
        toa_errors_add (errors, "%s: write failed: %s", path, strerror (errno));
        rc = -1;
    }
    return rc;
}

int
toa_export_files (const char *input, const char *sft_path, const char *dpo_path,
                  double min_margin, toa_export_counts_t *counts, toa_errors_t *errors)
{
    memset (counts, 0, sizeof *counts);
    FILE *in = fopen (input, "r");
    if (!in) {
        toa_errors_add (errors, "%s: cannot read: %s", input, strerror (errno));
        return -1;
    }
    FILE *sft_file = s_open_out (sft_path, errors);
    FILE *dpo_file = s_open_out (dpo_path, errors);
    json_t *seen = json_object ();
    int rc = (sft_path && !sft_file) || (dpo_path && !dpo_file) || !seen ? -1 : 0;
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    long number = 0;
    while (rc == 0 && (length = getline (&line, &capacity, in)) > 0) {
        number++;
        if (line[strspn (line, " \t\r\n")] == '\0')
            continue;
        if (s_export_line (input, number, line, (size_t) length, min_margin, seen, sft_file,
                           dpo_file, counts, errors) != 0) {
            toa_errors_add (errors, "%s: write failed: %s",
                            sft_path ? sft_path : dpo_path, strerror (errno));
            rc = -1;
        }
    }
    if (rc == 0 && ferror (in)) {
        toa_errors_add (errors, "%s: read error: %s", input, strerror (errno));
        rc = -1;
    }
    free (line);
    json_decref (seen);
    fclose (in);
    rc = s_close_out (sft_file, sft_path, rc, errors);
    rc = s_close_out (dpo_file, dpo_path, rc, errors);
    return rc;
}
