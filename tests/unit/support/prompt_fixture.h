/* prompt_fixture.h - fixtures of the unit tests around one prompt
 * (test_broker_prompt, test_broker_budget, test_policy_baselines): job
 * settings from JSON text, a prompt of one input line, a prompt's records
 * as JSON texts and a replay of them into another prompt. Each fails the
 * running test on an error. */
#ifndef TOA_TEST_PROMPT_FIXTURE_H
#define TOA_TEST_PROMPT_FIXTURE_H

#include <stddef.h>

#include "broker/method/prompt.h"
#include "broker/method/settings.h"

/* The job settings of TEXT (every error printed). */
toa_job_settings_t *toa_test_settings (const char *text);

/* A prompt of SETTINGS for input LINE (prompt index 5). */
toa_prompt_t *toa_test_prompt (const toa_job_settings_t *settings, const char *line);

/* The N records of PROMPT as JSON texts (toa_prompt_record_json), in a
 * NULL-terminated array; free with toa_test_texts_free. */
char **toa_test_record_texts (const toa_prompt_t *prompt, size_t *n);

void toa_test_texts_free (char **texts, size_t n);

/* Replays the N record TEXTS into COPY (a new prompt) with ALLOWANCE;
 * what it wants goes to WORK. */
void toa_test_replay (toa_prompt_t *copy, char **texts, size_t n, int allowance,
                      toa_prompt_work_t *work);

#endif
