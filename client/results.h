/* results.h - reads a results file (toa's output JSONL) one result at a
 * time, for export and report: blank lines are skipped, a line that is not
 * a JSON object is reported as "FILE:LINE: reason" and skipped, and a
 * prompt id seen before (ids compare as common/prompts.h says) is skipped,
 * so each prompt counts once. */
#ifndef TOA_CLIENT_RESULTS_H
#define TOA_CLIENT_RESULTS_H

#include <stddef.h>
#include <jansson.h>

#include "common/errors.h"

typedef struct {
    size_t objects;          /* lines that are JSON objects (duplicates included) */
    size_t duplicates;       /* of those, a prompt id seen before: skipped */
    size_t bad;              /* lines that are not JSON objects: skipped */
} toa_results_counts_t;

/* Called with each result (borrowed) and its LINE number; non-zero stops
 * the reading and is returned. */
typedef int (toa_results_fn) (void *arg, const json_t *result, long line);

/* Calls FN for each result of the file PATH. COUNTS (zeroed first) says
 * what was read. Returns 0, FN's non-zero value, or -1 when PATH cannot be
 * read (reported in ERRORS). */
int toa_results_each (const char *path, toa_results_fn *fn, void *arg,
                      toa_results_counts_t *counts, toa_errors_t *errors);

#endif
