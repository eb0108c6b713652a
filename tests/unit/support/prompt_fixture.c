/* prompt_fixture.c - fixtures of the unit tests around one prompt (see
 * prompt_fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "tests/unit/support/prompt_fixture.h"

toa_job_settings_t *
toa_test_settings (const char *text)
{
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_job_settings_t *settings = toa_job_settings_parse (text, NULL, &errors);
    for (size_t i = 0; i < errors.count; i++)
        print_error ("%s\n", errors.messages[i]);
    toa_errors_clear (&errors);
    assert_non_null (settings);
    return settings;
}

toa_prompt_t *
toa_test_prompt (const toa_job_settings_t *settings, const char *line)
{
    char err[256] = "";
    toa_prompt_t *prompt = toa_prompt_new (settings, 5, line, err, sizeof err);
    if (!prompt)
        print_error ("toa_prompt_new: %s\n", err);
    assert_non_null (prompt);
    return prompt;
}

char **
toa_test_record_texts (const toa_prompt_t *prompt, size_t *n)
{
    *n = toa_prompt_n_records (prompt);
    char **texts = calloc (*n + 1, sizeof *texts);
    assert_non_null (texts);
    for (size_t g = 0; g < *n; g++)
        texts[g] = toa_prompt_record_json (prompt, (int) g);
    return texts;
}

void
toa_test_texts_free (char **texts, size_t n)
{
    for (size_t g = 0; texts && g < n; g++)
        free (texts[g]);
    free (texts);
}

void
toa_test_replay (toa_prompt_t *copy, char **texts, size_t n, int allowance,
                 toa_prompt_work_t *work)
{
    char err[256] = "";
    int rc = toa_prompt_replay (copy, (const char *const *) texts, n, allowance, work, err,
                                sizeof err);
    if (rc != 0)
        print_error ("replay: %s\n", err);
    assert_int_equal (rc, 0);
}
