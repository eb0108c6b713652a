/* result.c - assembles a prompt's result line (see result.h). */
#include "broker/method/result.h"

#include <stdlib.h>

static json_t *
s_text_or_null (const char *text)
{
    return text ? json_string (text) : json_null ();
}

/* Index of the scored record with the largest raw reward (first on ties), or -1. */
static int
s_best (const toa_gen_record_t *records, size_t n)
{
    int best = -1;
    for (size_t i = 0; i < n; i++)
        if (records[i].scored && (best < 0 || records[i].raw > records[best].raw))
            best = (int) i;
    return best;
}

static json_t *
s_failures (const toa_gen_record_t *records, size_t n, const char *const *models)
{
    json_t *failures = json_array ();
    for (size_t i = 0; failures && i < n; i++) {
        if (!records[i].failed && !records[i].score_failed)
            continue;
        json_array_append_new (failures, json_pack (
            "{s:I, s:s, s:s, s:s}", "index", (json_int_t) i,
            "model", models[records[i].model],
            "stage", records[i].failed ? "generation" : "scoring",
            "reason", records[i].reason ? records[i].reason : "unknown"));
    }
    return failures;
}

char *
toa_result_line (json_t *input, const char *method, const char *const *models,
                 const toa_gen_record_t *records, size_t n, json_t *tree)
{
    json_t *line = json_deep_copy (input);
    json_t *responses = json_array (), *actions = json_array (), *rewards = json_array ();
    json_t *prompt_tokens = json_array (), *completion_tokens = json_array ();
    json_t *total_tokens = json_array ();
    char *text = NULL;
    if (!line || !responses || !actions || !rewards || !prompt_tokens || !completion_tokens
        || !total_tokens)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const toa_gen_record_t *record = &records[i];
        json_array_append_new (responses, s_text_or_null (record->text));
        json_array_append_new (actions, json_pack ("{s:s, s:i}", "model",
                                                   models[record->model], "depth",
                                                   record->depth));
        json_array_append_new (rewards, record->scored ? json_real (record->raw)
                                                       : json_null ());
        json_array_append_new (prompt_tokens, json_integer (record->prompt_tokens));
        json_array_append_new (completion_tokens, json_integer (record->completion_tokens));
        json_array_append_new (total_tokens, json_integer (record->prompt_tokens
                                                           + record->completion_tokens));
    }
    json_object_set (line, "responses", responses);
    json_object_set (line, "actions", actions);
    json_object_set (line, "rewards", rewards);
    json_object_set (line, "n_prompt_tokens", prompt_tokens);
    json_object_set (line, "n_completion_tokens", completion_tokens);
    json_object_set (line, "total_tokens", total_tokens);
    json_t *failures = s_failures (records, n, models);
    if (json_array_size (failures) > 0)
        json_object_set (line, "failures", failures);
    json_decref (failures);
    int best = s_best (records, n);
    json_object_set_new (line, "best_response",
                         best >= 0 ? json_string (records[best].text) : json_null ());
    json_object_set_new (line, "best_model",
                         best >= 0 ? json_string (models[records[best].model]) : json_null ());
    json_object_set_new (line, "best_reward",
                         best >= 0 ? json_real (records[best].raw) : json_null ());
    json_object_set_new (line, "method", json_string (method));
    if (tree)
        json_object_set (line, "tree", tree);
    /* 15 significant digits: readable (0.812, not 0.81200000000000006) and
     * more than any reward backend resolves. Records keep 17 for replay. */
    text = json_dumps (line, JSON_COMPACT | JSON_REAL_PRECISION (15));
done:
    json_decref (line);
    json_decref (responses);
    json_decref (actions);
    json_decref (rewards);
    json_decref (prompt_tokens);
    json_decref (completion_tokens);
    json_decref (total_tokens);
    return text;
}
