/* input.h - the prompt file a submit sends, read and checked with
 * common/prompts.h (every bad line reported as FILE:LINE: reason) and held
 * as (line number, text) pairs. */
#ifndef TOA_CLIENT_INPUT_H
#define TOA_CLIENT_INPUT_H

#include <stddef.h>

#include "common/errors.h"

typedef struct toa_input_s toa_input_t;

/* Reads and checks PATH. Returns the prompts when every line is valid, or
 * NULL with every problem in ERRORS ("PATH:LINE: reason"). */
toa_input_t *toa_input_read (const char *path, toa_errors_t *errors);

/* Frees it; nulls *SELF_P; safe on NULL. */
void toa_input_destroy (toa_input_t **self_p);

/* Number of prompts (non-blank lines). */
size_t toa_input_count (const toa_input_t *self);

/* 1-based line number of prompt INDEX in the file. */
size_t toa_input_line_no (const toa_input_t *self, size_t index);

/* The JSON text of prompt INDEX, without its newline; owned by SELF. */
const char *toa_input_text (const toa_input_t *self, size_t index);

#endif
