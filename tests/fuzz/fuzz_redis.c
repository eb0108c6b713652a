/* fuzz_redis.c - libFuzzer target: a prompt's state as the broker reads it
 * back from Redis after a restart: its input line and its generation
 * records (toa_gen_record_decode) replayed through the method's policy
 * (toa_prompt_new, toa_prompt_replay). Input: a method byte, then lines: the
 * input line first, each further line one record (record g on line g + 1).
 * Whatever Redis holds, the rebuild succeeds or fails with a reason; a
 * decoded record re-encodes and decodes to the same JSON. */
#include "broker/method/prompt.h"
#include "broker/method/record.h"
#include "broker/method/settings.h"
#include "common/errors.h"
#include "fuzz.h"

#define S_MAX_RECORDS 64

static toa_job_settings_t *s_settings[6];

static toa_job_settings_t *
s_method_settings (int which)
{
    static const char *const methods[] = {"toa", "best-of-n", "prs", "ensemble", "seq-refine",
                                          "moa"};
    if (!s_settings[which]) {
        char text[512];
        snprintf (text, sizeof text,
                  "{\"models\": [\"m-a\", \"m-b\", \"m-c\"], \"method\": {\"name\": \"%s\", "
                  "\"samples\": 3}, \"sampling\": {\"seed\": 7}, \"reward\": {\"backend\": "
                  "\"math-verify\", \"reference_field\": \"gold_answer\"}}",
                  methods[which]);
        toa_errors_t errors = TOA_ERRORS_INIT;
        s_settings[which] = toa_job_settings_parse (text, NULL, &errors);
        toa_errors_clear (&errors);
        fuzz_check (s_settings[which] != NULL, "fuzz_redis", "the fixed settings do not parse");
    }
    return s_settings[which];
}

static void
s_round_trip (const char *text, const toa_job_settings_t *settings)
{
    toa_gen_record_t record, again;
    memset (&record, 0, sizeof record);
    memset (&again, 0, sizeof again);
    char err[256];
    const char *const *models = (const char *const *) settings->models;
    if (toa_gen_record_decode (text, models, settings->n_models, &record, err, sizeof err) == 0) {
        char *first = toa_gen_record_encode (&record, models);
        fuzz_check (first != NULL, "fuzz_redis", "a decoded record does not encode");
        fuzz_check (toa_gen_record_decode (first, models, settings->n_models, &again, err,
                                           sizeof err) == 0,
                    "fuzz_redis", "an encoded record does not decode");
        char *second = toa_gen_record_encode (&again, models);
        fuzz_check (second && strcmp (first, second) == 0, "fuzz_redis",
                    "a record changes in a round trip");
        free (first);
        free (second);
    }
    toa_gen_record_clear (&record);
    toa_gen_record_clear (&again);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const toa_job_settings_t *settings = s_method_settings (data[0] % 6);
    char *text = fuzz_text (data + 1, size - 1);
    const char *lines[S_MAX_RECORDS + 1];
    size_t n = 0;
    for (char *at = text; n < S_MAX_RECORDS + 1;) {
        lines[n++] = at;
        char *end = strchr (at, '\n');
        if (!end)
            break;
        *end = 0;
        at = end + 1;
    }
    for (size_t g = 1; g < n; g++)
        s_round_trip (lines[g], settings);
    char err[256];
    toa_prompt_t *prompt = toa_prompt_new (settings, 0, lines[0], err, sizeof err);
    if (prompt) {
        toa_prompt_work_t work;
        memset (&work, 0, sizeof work);
        err[0] = 0;
        if (toa_prompt_replay (prompt, lines + 1, n - 1, 0, &work, err, sizeof err) != 0)
            fuzz_check (err[0] != 0, "fuzz_redis", "a failed replay without a reason");
        else {
            bool stuck;
            (void) toa_prompt_finished (prompt, &stuck);
            char *line = toa_prompt_result_line (prompt);
            free (line);
        }
        toa_prompt_work_clear (&work);
        toa_prompt_destroy (&prompt);
    }
    free (text);
    return 0;
}
