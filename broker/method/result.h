/* result.h - the result line of a finished prompt (docs/jobs.md, "Result
 * line"): every input field plus responses, actions, rewards, token lists,
 * failures, the best response and, for TOA, the tree. Pure: no I/O. */
#ifndef TOA_BROKER_RESULT_H
#define TOA_BROKER_RESULT_H

#include <stddef.h>
#include <jansson.h>

#include "broker/method/record.h"

/* Returns the result line (JSON object text without newline, malloc'd) for
 * the prompt whose input line is INPUT (a JSON object, not modified), with
 * its N RECORDS in generation order, METHOD name, MODELS names and TREE
 * (JSON text, copied as it is; NULL: no tree). NULL when out of memory.
 * Input fields whose names collide with result fields are replaced. */
char *toa_result_line (json_t *input, const char *method, const char *const *models,
                       const toa_gen_record_t *records, size_t n, const char *tree);

/* As toa_result_line, with the members of EXTRA (a JSON object, borrowed,
 * may be NULL) added last (e.g. the budget fields of an early stop). */
char *toa_result_line_with (json_t *input, const char *method, const char *const *models,
                            const toa_gen_record_t *records, size_t n, const char *tree,
                            json_t *extra);

#endif
