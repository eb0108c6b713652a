/* input.h - the broker's view of a prompt input line: validation of
 * submitted lines (the rules of common/prompts.h) and the prompt's question
 * and chat messages, as the broker needs them. */
#ifndef TOA_BROKER_INPUT_H
#define TOA_BROKER_INPUT_H

#include <stddef.h>
#include <jansson.h>

typedef struct toa_input_checker_s toa_input_checker_t;

/* A checker of one batch (remembers ids, to find duplicates), or NULL. */
toa_input_checker_t *toa_input_checker_new (void);

/* Frees it; nulls *SELF_P; safe on NULL. */
void toa_input_checker_destroy (toa_input_checker_t **self_p);

/* Checks submitted line LINE_NO (TEXT, LENGTH bytes) and its id against the
 * batch. Returns 1 with *PROMPT set (json_decref it), 0 for a blank line, or
 * -1 with REASON filled. */
int toa_input_check (toa_input_checker_t *self, const char *text, size_t length,
                     size_t line_no, json_t **prompt, char *reason, size_t size);

/* The question of PROMPT (instruction, or last user message), borrowed, or NULL. */
const char *toa_input_question (const json_t *prompt);

/* The prompt's own chat messages as a new JSON array of {role, content}
 * (an instruction becomes one user message), or NULL. */
json_t *toa_input_messages (const json_t *prompt);

/* The prompt's id as text into BUFFER (SIZE >= 257), or NULL. */
const char *toa_input_id (const json_t *prompt, char *buffer, size_t size);

#endif
