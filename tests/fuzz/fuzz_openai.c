/* fuzz_openai.c - libFuzzer target: an OpenAI-compatible server's 200 reply
 * (toa_openai_parse_reply) and error body (toa_openai_parse_error and its
 * description, quota and n checks), as common/openai.c reads them. A parsed
 * reply has a text or an error; reasons are terminated. The reply parser
 * (common/json.h's reader, no tree) agrees with the same reading done on a
 * jansson tree: accepted and refused alike, the same choices in the same
 * order, the same usage; except where jansson refuses numbers it cannot
 * hold or nesting beyond 2048, which the reader does not judge the same. */
#include <stdbool.h>
#include <jansson.h>

#include "common/openai.h"
#include "fuzz.h"

typedef struct {
    json_int_t index;
    size_t place;
    json_t *choice;
} s_ref_t;

static int
s_ref_compare (const void *a, const void *b)
{
    const s_ref_t *x = a, *y = b;
    if (x->index != y->index)
        return (x->index > y->index) - (x->index < y->index);
    return (x->place > y->place) - (x->place < y->place);
}

static int64_t
s_ref_usage (json_t *usage, const char *key)
{
    json_t *value = json_object_get (usage, key);
    return json_is_integer (value) && json_integer_value (value) >= 0
               ? (int64_t) json_integer_value (value) : -1;
}

/* The reply as a jansson tree reads it, checked against REPLY (RC: what
 * toa_openai_parse_reply returned). */
static void
s_compare_with_jansson (const char *body, size_t size, int rc, const toa_openai_reply_t *reply)
{
    json_error_t error;
    json_t *root = json_loadb (body, size, 0, &error);
    if (!root) {
        if (strstr (error.text, "too big") || strstr (error.text, "overflow")
            || strstr (error.text, "nesting"))
            return;                        /* jansson's own limits */
        fuzz_check (rc != 0, "fuzz_openai", "a reply jansson refuses was accepted");
        return;
    }
    json_t *choices = json_object_get (root, "choices");
    size_t n = json_array_size (choices);
    bool ok = json_is_object (root) && json_is_array (choices) && n > 0;
    s_ref_t *refs = ok ? calloc (n, sizeof *refs) : NULL;
    for (size_t i = 0; ok && i < n; i++)
        refs[i] = (s_ref_t) {json_integer_value (json_object_get (json_array_get (choices, i),
                                                                  "index")),
                             i, json_array_get (choices, i)};
    if (ok)
        qsort (refs, n, sizeof *refs, s_ref_compare);
    for (size_t i = 0; ok && i < n; i++)
        ok = json_is_string (json_object_get (json_object_get (refs[i].choice, "message"),
                                              "content"));
    fuzz_check (ok == (rc == 0), "fuzz_openai", "the reader and jansson disagree on a reply");
    for (size_t i = 0; ok && i < n; i++) {
        json_t *content = json_object_get (json_object_get (refs[i].choice, "message"),
                                           "content");
        json_t *finish = json_object_get (refs[i].choice, "finish_reason");
        const char *reason = json_is_string (finish) ? json_string_value (finish) : "";
        fuzz_check (reply->n_choices == n && strcmp (reply->choices[i].content,
                                                     json_string_value (content)) == 0
                        && strcmp (reply->choices[i].finish_reason, reason) == 0,
                    "fuzz_openai", "a choice reads differently than with jansson");
    }
    if (ok) {
        json_t *usage = json_object_get (root, "usage");
        int64_t prompt = s_ref_usage (usage, "prompt_tokens");
        int64_t completion = s_ref_usage (usage, "completion_tokens");
        int64_t total = s_ref_usage (usage, "total_tokens");
        prompt = prompt < 0 ? 0 : prompt;
        completion = completion < 0 ? 0 : completion;
        fuzz_check (reply->prompt_tokens == prompt && reply->completion_tokens == completion
                        && reply->total_tokens == (total < 0 ? prompt + completion : total),
                    "fuzz_openai", "usage reads differently than with jansson");
    }
    free (refs);
    json_decref (root);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *body = (const char *) data;
    toa_openai_reply_t reply;
    char why[256];
    why[0] = 0;
    int rc_reply = toa_openai_parse_reply (body, size, &reply, why, sizeof why);
    if (rc_reply != 0)
        fuzz_check (why[0] != 0 && fuzz_terminated (why, sizeof why - 1), "fuzz_openai",
                    "a failed parse without a terminated reason");
    s_compare_with_jansson (body, size, rc_reply, &reply);
    toa_openai_reply_clear (&reply);
    toa_openai_reply_clear (&reply);

    toa_openai_error_t error;
    int rc = toa_openai_parse_error (body, size, &error);
    if (rc != -2) {
        fuzz_check (error.message != NULL, "fuzz_openai", "an error without a message");
        char text[512];
        long status = size ? 400 + data[0] % 200 : 500;
        toa_openai_error_describe (status, &error, text, sizeof text);
        fuzz_check (fuzz_terminated (text, sizeof text - 1), "fuzz_openai",
                    "an unterminated description");
        (void) toa_openai_error_is_quota (&error);
        (void) toa_openai_error_rejects_n (status, &error);
    }
    toa_openai_error_clear (&error);
    toa_openai_error_clear (&error);
    return 0;
}
