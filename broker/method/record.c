/* record.c - a generation record and its JSON form (see record.h). */
#include "broker/method/record.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"

static const char *const s_kind_names[] = {"answer", "refine", "aggregate"};

const char *
toa_gen_kind_name (toa_gen_kind_t kind)
{
    return kind >= 0 && kind <= TOA_GEN_AGGREGATE ? s_kind_names[kind] : "?";
}

void
toa_gen_record_clear (toa_gen_record_t *record)
{
    free (record->text);
    free (record->text_json);
    free (record->finish_reason);
    free (record->reason);
    memset (record, 0, sizeof *record);
    record->applied = -1;
}

bool
toa_gen_record_settled (const toa_gen_record_t *record)
{
    return record->scored || record->failed || record->score_failed;
}

char *
toa_gen_record_encode (const toa_gen_record_t *record, const char *const *models)
{
    /* Written directly (no jansson tree): this runs twice per generation on
     * the broker's hot path. Same keys, order and number format as before. */
    toa_json_writer_t w = TOA_JSON_WRITER_INIT;
    toa_json_writer_reserve (&w, 320 + (record->text_json ? record->text_json_length
                                        : record->text ? strlen (record->text) : 0));
    toa_json_lit (&w, "{\"kind\":");
    toa_json_string (&w, toa_gen_kind_name (record->kind));
    toa_json_lit (&w, ",\"model\":");
    toa_json_string (&w, models[record->model]);
    toa_json_lit (&w, ",\"depth\":");
    toa_json_int (&w, record->depth);
    toa_json_lit (&w, ",\"input\":");
    if (record->n_inputs > 0)
        toa_json_int (&w, record->inputs[0]);
    else
        toa_json_lit (&w, "null");
    toa_json_lit (&w, ",\"inputs\":[");
    for (int i = 0; i < record->n_inputs; i++) {
        if (i)
            toa_json_lit (&w, ",");
        toa_json_int (&w, record->inputs[i]);
    }
    toa_json_lit (&w, "],\"text\":");
    toa_gen_record_write_text (&w, record);
    toa_json_lit (&w, ",\"finish_reason\":");
    toa_json_string (&w, record->finish_reason);
    toa_json_lit (&w, ",\"prompt_tokens\":");
    toa_json_int (&w, record->prompt_tokens);
    toa_json_lit (&w, ",\"completion_tokens\":");
    toa_json_int (&w, record->completion_tokens);
    toa_json_lit (&w, ",\"failed\":");
    toa_json_bool (&w, record->failed);
    toa_json_lit (&w, ",\"reason\":");
    toa_json_string (&w, record->reason);
    toa_json_lit (&w, ",\"applied\":");
    toa_json_int (&w, record->applied);
    if (record->layer > 0) {
        toa_json_lit (&w, ",\"layer\":");
        toa_json_int (&w, record->layer);
        toa_json_lit (&w, ",\"parent_g\":");
        toa_json_int (&w, record->parent_g);
    }
    if (record->scored) {
        toa_json_lit (&w, ",\"raw\":");
        toa_json_real (&w, record->raw, 17);
    }
    if (record->score_failed)
        toa_json_lit (&w, ",\"score_failed\":true");
    if (record->tau > 0) {
        toa_json_lit (&w, ",\"tau\":");
        toa_json_real (&w, record->tau, 17);
    }
    toa_json_lit (&w, "}");
    return toa_json_writer_take (&w);
}

int
toa_gen_record_keep_text_json (toa_gen_record_t *record)
{
    if (!record->text || record->text_json)
        return 0;
    toa_json_writer_t w = TOA_JSON_WRITER_INIT;
    toa_json_string (&w, record->text);
    size_t length = w.length;
    char *text = toa_json_writer_take (&w);
    if (!text)
        return -1;
    record->text_json = text;
    record->text_json_length = length;
    return 0;
}

void
toa_gen_record_write_text (toa_json_writer_t *w, const toa_gen_record_t *record)
{
    if (record->text_json)
        toa_json_raw (w, record->text_json, record->text_json_length);
    else
        toa_json_string (w, record->text);
}

char *
toa_gen_record_encode_settle (const toa_gen_record_t *record)
{
    toa_json_writer_t w = TOA_JSON_WRITER_INIT;
    toa_json_lit (&w, "{\"applied\":");
    toa_json_int (&w, record->applied);
    if (record->scored) {
        toa_json_lit (&w, ",\"raw\":");
        toa_json_real (&w, record->raw, 17);
    }
    if (record->score_failed) {
        toa_json_lit (&w, ",\"score_failed\":true,\"reason\":");
        toa_json_string (&w, record->reason);
    }
    if (record->tau > 0) {
        toa_json_lit (&w, ",\"tau\":");
        toa_json_real (&w, record->tau, 17);
    }
    toa_json_lit (&w, "}");
    return toa_json_writer_take (&w);
}

static int
s_fail (char *err, size_t err_size, const char *reason, json_t *root)
{
    snprintf (err, err_size, "%s", reason);
    json_decref (root);
    return -1;
}

static char *
s_optional_string (json_t *object, const char *key)
{
    return toa_strdup (json_string_value (json_object_get (object, key)));
}

int
toa_gen_record_decode (const char *text, const char *const *models, size_t n_models,
                       toa_gen_record_t *record, char *err, size_t err_size)
{
    toa_gen_record_clear (record);
    json_t *root = json_loads (text, 0, NULL);
    if (!json_is_object (root))
        return s_fail (err, err_size, "not a JSON object", root);
    const char *kind = json_string_value (json_object_get (root, "kind"));
    const char *model = json_string_value (json_object_get (root, "model"));
    if (!kind || !model)
        return s_fail (err, err_size, "kind or model missing", root);
    record->kind = (toa_gen_kind_t) -1;
    for (int k = 0; k <= TOA_GEN_AGGREGATE; k++)
        if (strcmp (kind, s_kind_names[k]) == 0)
            record->kind = (toa_gen_kind_t) k;
    if ((int) record->kind < 0)
        return s_fail (err, err_size, "unknown kind", root);
    record->model = -1;
    for (size_t m = 0; m < n_models; m++)
        if (strcmp (models[m], model) == 0)
            record->model = (int) m;
    if (record->model < 0)
        return s_fail (err, err_size, "model is not one of the job's", root);
    record->depth = (int) json_integer_value (json_object_get (root, "depth"));
    json_t *inputs = json_object_get (root, "inputs");
    if (json_array_size (inputs) > TOA_POLICY_MAX_INPUTS)
        return s_fail (err, err_size, "too many inputs", root);
    for (size_t i = 0; i < json_array_size (inputs); i++)
        record->inputs[record->n_inputs++]
            = (int) json_integer_value (json_array_get (inputs, i));
    record->layer = (int) json_integer_value (json_object_get (root, "layer"));
    json_t *parent_g = json_object_get (root, "parent_g");
    record->parent_g = json_is_integer (parent_g) ? (int) json_integer_value (parent_g) : -1;
    record->text = s_optional_string (root, "text");
    record->finish_reason = s_optional_string (root, "finish_reason");
    record->reason = s_optional_string (root, "reason");
    record->prompt_tokens = json_integer_value (json_object_get (root, "prompt_tokens"));
    record->completion_tokens
        = json_integer_value (json_object_get (root, "completion_tokens"));
    json_t *raw = json_object_get (root, "raw");
    if (json_is_number (raw)) {
        record->scored = true;
        record->raw = json_number_value (raw);
    }
    record->failed = json_is_true (json_object_get (root, "failed"));
    record->score_failed = json_is_true (json_object_get (root, "score_failed"));
    json_t *applied = json_object_get (root, "applied");
    record->applied = json_is_integer (applied) ? (int) json_integer_value (applied) : -1;
    json_t *tau = json_object_get (root, "tau");
    record->tau = json_is_number (tau) && json_number_value (tau) > 0 ? json_number_value (tau)
                                                                       : 0;
    json_decref (root);
    if (!record->failed && !record->text) {
        toa_gen_record_clear (record);
        snprintf (err, err_size, "a generation that did not fail has no text");
        return -1;
    }
    return 0;
}

int
toa_gen_record_decode_settle (const char *text, toa_gen_record_t *record, char *err,
                              size_t err_size)
{
    json_t *root = json_loads (text, 0, NULL);
    if (!json_is_object (root))
        return s_fail (err, err_size, "settle part: not a JSON object", root);
    json_t *applied = json_object_get (root, "applied");
    json_t *raw = json_object_get (root, "raw");
    json_t *reason = json_object_get (root, "reason");
    json_t *tau = json_object_get (root, "tau");
    if (!json_is_integer (applied) || (raw && !json_is_number (raw))
        || (reason && !json_is_string (reason)) || (tau && !json_is_number (tau)))
        return s_fail (err, err_size, "settle part: a field of the wrong type", root);
    record->applied = (int) json_integer_value (applied);
    if (raw) {
        record->scored = true;
        record->raw = json_number_value (raw);
    }
    if (json_is_true (json_object_get (root, "score_failed"))) {
        record->score_failed = true;
        if (reason) {
            char *copy = strdup (json_string_value (reason));
            if (!copy)
                return s_fail (err, err_size, "out of memory", root);
            free (record->reason);
            record->reason = copy;
        }
    }
    if (tau && json_number_value (tau) > 0)
        record->tau = json_number_value (tau);
    json_decref (root);
    return 0;
}
