/* fuzz_settings.c - libFuzzer target: a submission's job settings
 * (toa_job_settings_parse), as the broker reads them from a client and back
 * from Redis. The first byte picks the submit's method (none, or one of the
 * six); accepted settings answer the questions the broker asks of them. */
#include "broker/method/settings.h"
#include "common/errors.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const char *const methods[] = {NULL, "toa", "best-of-n", "prs", "ensemble",
                                          "seq-refine", "moa", "beam"};
    if (size < 1)
        return 0;
    const char *method = methods[data[0] % 8];
    char *text = fuzz_text (data + 1, size - 1);
    toa_errors_t errors = TOA_ERRORS_INIT;
    toa_job_settings_t *settings = toa_job_settings_parse (text, method, &errors);
    if (settings) {
        fuzz_check (settings->n_models > 0, "fuzz_settings", "settings without models");
        for (size_t i = 0; i < settings->n_models; i++)
            fuzz_check (toa_job_settings_model_index (settings, settings->models[i])
                            == (int) i, "fuzz_settings", "a model not found by its name");
        toa_policy_config_t config;
        toa_job_settings_policy_config (settings, &config);
    }
    else
        fuzz_check (errors.count > 0, "fuzz_settings",
                    "a refusal without a reason");
    toa_job_settings_destroy (&settings);
    toa_errors_clear (&errors);
    free (text);
    return 0;
}
