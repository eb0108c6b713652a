/* input.h - the prompt file a submit sends, read line by line so that no
 * batch is ever held whole: a check of every line first (common/prompts.h
 * rules, duplicate ids; each problem as FILE:LINE: reason), then the lines
 * again, to be sent in chunks. A line is at most TOA_PROMPTS_MAX_LINE bytes:
 * a longer one (e.g. --input /dev/zero) is an error at its line, found
 * without reading more than that. */
#ifndef TOA_CLIENT_INPUT_H
#define TOA_CLIENT_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errors.h"

#define TOA_INPUT_MAX_ERRORS 100   /* problems listed by toa_input_check */

typedef struct toa_input_s toa_input_t;

/* Opens PATH for reading. NULL with the reason in ERRORS. */
toa_input_t *toa_input_open (const char *path, toa_errors_t *errors);

/* Closes and frees it; nulls *SELF_P; safe on NULL. */
void toa_input_destroy (toa_input_t **self_p);

/* The next line: 1 with *TEXT (NUL-terminated, without its newline; valid
 * until the next call), its *LENGTH and 1-based *LINE_NO; 0 at the end of
 * the file; -1 with the reason in ERRORS (a line too long, a read error). */
int toa_input_next (toa_input_t *self, const char **text, size_t *length, size_t *line_no,
                    toa_errors_t *errors);

/* True when TEXT (LENGTH bytes) holds only spaces, tabs and CR. */
bool toa_input_blank (const char *text, size_t length);

/* Reads the whole of PATH once and checks every line. Returns the number of
 * prompts (non-blank lines) when all are valid and there is at least one;
 * else -1 with the problems in ERRORS (at most TOA_INPUT_MAX_ERRORS listed,
 * then how many more). LARGEST gets the longest line's length. */
long toa_input_check_file (const char *path, size_t *largest, toa_errors_t *errors);

#endif
