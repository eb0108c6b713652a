/* settings.h - the settings JSON a submit carries (docs/jobs.md "Submit
 * settings"), built from the client's config after its command-line
 * overrides (--method, --samples and --set are config overrides, applied by
 * toa_config_load). Pure: no I/O. */
#ifndef TOA_CLIENT_SETTINGS_H
#define TOA_CLIENT_SETTINGS_H

#include <stdint.h>
#include <jansson.h>

#include "common/config.h"

/* The settings object: {"models": [names], "method": {...}, "sampling": {...},
 * "templates": {...}, "reward": {"backend", "reference_field"}}. Absent
 * optional values are null (the broker applies its defaults). Returns a new
 * reference, or NULL when out of memory. */
json_t *toa_settings_build (const toa_config_t *config);

/* As toa_settings_build, as compact JSON text (free()). */
char *toa_settings_text (const toa_config_t *config);

/* Generations per prompt the method spends: samples x models (0 if none). */
int64_t toa_settings_budget (const toa_config_t *config);

/* Config overrides for the submit flags: "method.name=M" when METHOD is not
 * NULL, "method.samples=N" when SAMPLES is not NULL, then each of SETS, in
 * that order, into OUT (at most 2 + N_SETS entries, strings malloc'd).
 * Returns the count, or -1 when out of memory (OUT's entries freed). */
int toa_settings_overrides (const char *method, const char *samples, const char *const *sets,
                            size_t n_sets, char **out);

#endif
