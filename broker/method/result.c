/* result.c - assembles a prompt's result line (see result.h). */
#include "broker/method/result.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

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

/* Writes ',"failures":[...]' when a record failed; returns whether it did. */
static bool
s_failures (toa_json_writer_t *w, const toa_gen_record_t *records, size_t n,
            const char *const *models)
{
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (!records[i].failed && !records[i].score_failed)
            continue;
        toa_json_lit (w, any ? ",{\"index\":" : ",\"failures\":[{\"index\":");
        any = true;
        toa_json_int (w, (int64_t) i);
        toa_json_lit (w, ",\"model\":");
        toa_json_string (w, models[records[i].model]);
        toa_json_lit (w, records[i].failed ? ",\"stage\":\"generation\",\"reason\":"
                                           : ",\"stage\":\"scoring\",\"reason\":");
        toa_json_string (w, records[i].reason ? records[i].reason : "unknown");
        toa_json_lit (w, "}");
    }
    if (any)
        toa_json_lit (w, "]");
    return any;
}

/* True when KEY of the input is replaced by a result field. */
static bool
s_replaced (const char *key, bool failures, bool tree, json_t *extra)
{
    if (extra && json_object_get (extra, key))
        return true;
    static const char *const fields[] = {
        "responses", "actions", "rewards", "n_prompt_tokens", "n_completion_tokens",
        "total_tokens", "best_response", "best_model", "best_reward", "method"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (strcmp (key, fields[i]) == 0)
            return true;
    return (failures && strcmp (key, "failures") == 0) || (tree && strcmp (key, "tree") == 0);
}

/* OPEN, then N values (record i written by WRITE), then "]". */
#define S_LIST(w, open, n, write)                   \
    do {                                            \
        toa_json_lit (w, open);                     \
        for (size_t i = 0; i < (n); i++) {          \
            if (i)                                  \
                toa_json_lit (w, ",");              \
            write;                                  \
        }                                           \
        toa_json_lit (w, "]");                      \
    } while (0)

char *
toa_result_line (json_t *input, const char *method, const char *const *models,
                 const toa_gen_record_t *records, size_t n, const char *tree)
{
    return toa_result_line_with (input, method, models, records, n, tree, NULL);
}

char *
toa_result_line_with (json_t *input, const char *method, const char *const *models,
                      const toa_gen_record_t *records, size_t n, const char *tree,
                      json_t *extra)
{
    /* Written directly rather than through a jansson tree: a prompt's
     * texts are copied once, escaped once. The input's own fields come
     * first, then the result fields ("responses" first), then the tree. */
    bool any_failure = false;
    size_t bytes = 512;
    for (size_t i = 0; i < n; i++) {
        any_failure |= records[i].failed || records[i].score_failed;
        bytes += 96 + (records[i].text_json ? records[i].text_json_length
                       : records[i].text ? strlen (records[i].text) : 0);
    }
    if (tree)
        bytes += strlen (tree);
    toa_json_writer_t w = TOA_JSON_WRITER_INIT;
    toa_json_writer_reserve (&w, bytes);
    toa_json_lit (&w, "{");
    const char *key;
    json_t *value;
    json_object_foreach (input, key, value) {
        if (s_replaced (key, any_failure, tree != NULL, extra))
            continue;
        toa_json_string (&w, key);
        toa_json_lit (&w, ":");
        toa_json_value (&w, value, JSON_REAL_PRECISION (15));
        toa_json_lit (&w, ",");
    }
    S_LIST (&w, "\"responses\":[", n, toa_gen_record_write_text (&w, &records[i]));
    S_LIST (&w, ",\"actions\":[", n, {
        toa_json_lit (&w, "{\"model\":");
        toa_json_string (&w, models[records[i].model]);
        toa_json_lit (&w, ",\"depth\":");
        toa_json_int (&w, records[i].depth);
        toa_json_lit (&w, "}");
    });
    /* 15 significant digits: readable (0.812, not 0.81200000000000006) and
     * more than any reward backend resolves. Records keep 17 for replay. */
    S_LIST (&w, ",\"rewards\":[", n, {
        if (records[i].scored)
            toa_json_real (&w, records[i].raw, 15);
        else
            toa_json_lit (&w, "null");
    });
    S_LIST (&w, ",\"n_prompt_tokens\":[", n, toa_json_int (&w, records[i].prompt_tokens));
    S_LIST (&w, ",\"n_completion_tokens\":[", n, toa_json_int (&w, records[i].completion_tokens));
    S_LIST (&w, ",\"total_tokens\":[", n,
            toa_json_int (&w, records[i].prompt_tokens + records[i].completion_tokens));
    s_failures (&w, records, n, models);
    int best = s_best (records, n);
    toa_json_lit (&w, ",\"best_response\":");
    if (best >= 0)
        toa_gen_record_write_text (&w, &records[best]);
    else
        toa_json_lit (&w, "null");
    toa_json_lit (&w, ",\"best_model\":");
    toa_json_string (&w, best >= 0 ? models[records[best].model] : NULL);
    toa_json_lit (&w, ",\"best_reward\":");
    if (best >= 0)
        toa_json_real (&w, records[best].raw, 15);
    else
        toa_json_lit (&w, "null");
    toa_json_lit (&w, ",\"method\":");
    toa_json_string (&w, method);
    if (tree) {
        toa_json_lit (&w, ",\"tree\":");
        toa_json_lit (&w, tree);
    }
    const char *extra_key;
    json_t *extra_value;
    json_object_foreach (extra, extra_key, extra_value) {
        char *text = json_dumps (extra_value, JSON_ENCODE_ANY | JSON_COMPACT);
        toa_json_lit (&w, ",");
        toa_json_string (&w, extra_key);
        toa_json_lit (&w, ":");
        toa_json_lit (&w, text ? text : "null");
        free (text);
    }
    toa_json_lit (&w, "}");
    return toa_json_writer_take (&w);
}
